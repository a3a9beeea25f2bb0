/* Who a pid is: name and users, kept in a process table.
 *
 * Two ways to keep it right. Tracked (the normal case as root): the kernel's process
 * events (procevents.c) tell of every fork, exec, uid/gid change, rename and exit, so an
 * entry is filled once and stays right after the process is gone, and events it left
 * in the fanotify queue still get its name. Untracked (no process events): an entry is
 * trusted for one read batch only, and a process gone before its events are read is
 * "unknown". */
#ifndef IOTRACE_PROC_H
#define IOTRACE_PROC_H

#include "iotrace/event.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct proc_table;

/* proc_root is "/proc" in use, a fixture directory in tests. capacity bounds memory. */
struct proc_table *proc_table_new(const char *proc_root, size_t capacity);
void proc_table_free(struct proc_table *t);

/* Whether process events keep the table right (see above). */
void proc_table_set_tracked(struct proc_table *t, bool tracked);
/* Start of a read batch: untracked entries expire. */
void proc_table_new_batch(struct proc_table *t);
/* Process events were lost: nothing in the table can be trusted any more. */
void proc_table_forget_all(struct proc_table *t);

/* The process as far as it can be learnt; never NULL. want_ids also reads the uid and
 * gid (from /proc/PID/status, which costs more than /proc/PID/comm). */
const struct proc_info *proc_lookup(struct proc_table *t, pid_t pid, bool want_ids);

/* Called for every fork the process events report (--children follows them). */
typedef void (*proc_fork_hook)(void *ctx, pid_t parent, pid_t child);
void proc_table_on_fork(struct proc_table *t, proc_fork_hook hook, void *ctx);

/* What process events tell; pids here are thread-group ids (processes). */
void proc_note_fork(struct proc_table *t, pid_t parent, pid_t child);
void proc_note_exec(struct proc_table *t, pid_t pid);
void proc_note_uid(struct proc_table *t, pid_t pid, uid_t euid);
void proc_note_gid(struct proc_table *t, pid_t pid, gid_t egid);
void proc_note_comm(struct proc_table *t, pid_t pid, const char *comm);
/* The name a process had when it exited: fills in a name that could not be read. */
void proc_note_exit(struct proc_table *t, pid_t pid, const char *comm);

/* Parses /proc/PID/status text: the name (unescaping the kernel's \n and \\) and the
 * effective uid and gid. Returns 0 when Uid and Gid were found. */
int proc_parse_status(const char *text, size_t len, struct proc_info *out);

#endif
