/* Who a pid is: name, users, executable and parent, kept in a process table.
 *
 * Two ways to keep it right. Tracked (the normal case as root): the kernel's process
 * events (procevents.c) tell of every fork, exec, uid/gid change, rename and exit, so an
 * entry is filled once and stays right after the process is gone, and events it left
 * in the fanotify queue still get its name. Untracked (no process events): an entry is
 * trusted for one read batch only, and a process gone before its events are read is
 * "unknown".
 *
 * A pid is reused once its process has been reaped, possibly while events of the old
 * process are still queued. So the table keeps incarnations: a fork of a pid that the
 * table knows ends the old incarnation (it must have been reaped) and starts a new one,
 * and an ended incarnation stays until a read that emptied the fanotify queue has been
 * printed (proc_table_read_drained). Which incarnation an event belongs to is told by
 * its liveness (FAN_REPORT_PIDFD, Linux 5.15+): a process gone when the event was read
 * is never answered from a newer incarnation or from /proc. */
#ifndef IOTRACE_PROC_H
#define IOTRACE_PROC_H

#include "iotrace/event.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct proc_table;

/* proc_root is "/proc" in use, a fixture directory in tests, or NULL when no /proc can
 * be trusted (one of another pid namespace): every process is then unknown. capacity
 * bounds the number of ended processes kept for their queued events (the oldest go
 * first when more end than that before the queue is seen empty). */
struct proc_table *proc_table_new(const char *proc_root, size_t capacity);
void proc_table_free(struct proc_table *t);

/* Whether process events keep the table right (see above). */
void proc_table_set_tracked(struct proc_table *t, bool tracked);
/* Also learn each process's executable (-e) and its parent's entry (-P); off by
 * default because each costs a /proc read per exec or first sight. */
void proc_table_set_wants(struct proc_table *t, bool exe, bool parents);
/* Reads every process in proc_root, so that processes that started before iotrace
 * are known even when they exit before their first event is read. Returns how many. */
size_t proc_table_seed(struct proc_table *t);
/* Start of a read batch: untracked entries expire. */
void proc_table_new_batch(struct proc_table *t);
/* Process events were lost: what the table says about running processes may be out of
 * date, so each is read again from /proc when next seen alive, and a stale entry of a
 * process gone since is not trusted. */
void proc_table_mark_stale(struct proc_table *t);

/* Bracket each read of the fanotify queue: the mark from read_begins, given to
 * read_drained once the read came back with the queue empty and its events were
 * handled, lets go of every process that had ended before the read began. */
unsigned long proc_table_read_begins(struct proc_table *t);
void proc_table_read_drained(struct proc_table *t, unsigned long mark);

enum proc_liveness {
    PROC_LIVENESS_UNKNOWN, /* no FAN_REPORT_PIDFD: trust the newest incarnation */
    PROC_ALIVE,            /* the process existed (maybe as a zombie) when read */
    PROC_GONE,             /* the process had been reaped when read: its pid may be reused */
};

/* The process as far as it can be learnt; never NULL. want_ids also reads the uid and
 * gid (from /proc/PID/status, which costs more than /proc/PID/comm). pidfd, when not
 * -1, is the event's pidfd: what is read from /proc is kept only if that process is
 * still the one with this pid after the read. The result stays valid until the next
 * call that changes the table. */
const struct proc_info *proc_lookup(struct proc_table *t, pid_t pid, bool want_ids,
                                    enum proc_liveness live, int pidfd);

/* The chain of parents of p, nearest first, up to max; returns how many. Needs
 * proc_table_set_wants(t, ..., true) to know parents of processes read from /proc. */
size_t proc_parents(const struct proc_info *p, const struct proc_info **out, size_t max);

/* Called for every fork the process events report (--children follows them). */
typedef void (*proc_fork_hook)(void *ctx, pid_t parent, pid_t child);
void proc_table_on_fork(struct proc_table *t, proc_fork_hook hook, void *ctx);

/* What process events tell; pids here are thread-group ids (processes). */
void proc_note_fork(struct proc_table *t, pid_t parent, pid_t child);
void proc_note_exec(struct proc_table *t, pid_t pid);
void proc_note_uid(struct proc_table *t, pid_t pid, uid_t euid);
void proc_note_gid(struct proc_table *t, pid_t pid, gid_t egid);
void proc_note_comm(struct proc_table *t, pid_t pid, const char *comm);
/* A process exited. comm, from a taskstats record, is its name then ("" when the
 * notice carries none, as the connector's): it fills in a name that could not be read.
 * from_taskstats tells the two sources apart: each sends one notice per exit, and each
 * notice goes to the oldest incarnation of pid that has not had one from that source,
 * since the two sockets are read one after the other. */
void proc_note_exit(struct proc_table *t, pid_t pid, const char *comm, bool from_taskstats);

/* Parses /proc/PID/status text: the name (unescaping the kernel's \n and \\), the
 * effective uid and gid, and the parent pid. Returns 0 when Uid and Gid were found. */
int proc_parse_status(const char *text, size_t len, struct proc_info *out);

#endif
