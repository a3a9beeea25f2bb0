/* Which events to keep. Pure: the checks are ordered by what they need, so the
 * caller can drop an event before paying for a look-up it does not need:
 *   filter_keep_record   the kernel's record only (types, pid)
 *   filter_keep_process  the process table's entry (name; uid when filter_needs_ids)
 *   filter_keep_path     the path (a readlink), never the user name */
#ifndef IOTRACE_FILTER_H
#define IOTRACE_FILTER_H

#include "iotrace/event.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct filter {
    unsigned types;          /* event types to show; EV_ALL_TYPES when -f is not given */
    pid_t *ignore_pids;      /* -p */
    size_t n_ignore_pids;
    char **commands;         /* -C, compared with the kernel's 15-byte comm */
    size_t n_commands;
    char **exclude_commands; /* --exclude-command */
    size_t n_exclude_commands;
    uid_t *users;            /* -U: only accesses made as one of these (effective) uids */
    size_t n_users;
    pid_t *pids;             /* --pid: only these processes */
    size_t n_pids;
    bool children;           /* --children: and the processes they start (filter_note_fork) */
    /* one bit per pid followed through forks: at most PID_MAX_LIMIT / 8 = 512 KiB */
    uint64_t *followed;
    size_t n_followed_words;
    char **subtrees;         /* PATH...: canonical, without a trailing slash ("/" stays) */
    size_t n_subtrees;
    char **dirs;             /* -d: files directly in these directories */
    size_t n_dirs;
    char **exclude_paths;    /* --exclude-path: these and everything under them */
    size_t n_exclude_paths;
};

/* Needs only the kernel's record: types and pid. */
bool filter_keep_record(const struct filter *f, unsigned types, pid_t pid);
/* Whether the process table's entry is needed at all to decide, and its ids. */
bool filter_needs_process(const struct filter *f);
bool filter_needs_ids(const struct filter *f);
/* Needs the process name (and the uid for -U); proc->have_comm false means the process
 * was not found. */
bool filter_keep_process(const struct filter *f, const struct proc_info *proc);
/* Whether any check needs the path. */
bool filter_needs_path(const struct filter *f);
/* path NULL: the kernel could not give it; kept only when no check needs it. */
bool filter_keep_path(const struct filter *f, const char *path, size_t len);

/* A fork seen in the kernel's process events: with --children, the child is followed
 * when its parent is. A pid reused by an unrelated process stops being followed,
 * because its reuse is itself a fork. */
void filter_note_fork(struct filter *f, pid_t parent, pid_t child);

/* Whole path components: "/srv/a" holds "/srv/a" and "/srv/a/x", not "/srv/ab". */
bool path_is_under(const char *path, size_t len, const char *dir);
/* "/srv/a/x" is directly in "/srv/a"; "/srv/a/b/x" and "/srv/a" are not. */
bool path_is_directly_in(const char *path, size_t len, const char *dir);

/* The add functions return 0, or -1 when memory is exhausted. Paths must be absolute
 * and canonical (see options_resolve_paths); a trailing slash is dropped. */
int filter_add_ignore_pid(struct filter *f, pid_t pid);
int filter_add_command(struct filter *f, const char *comm);
int filter_add_exclude_command(struct filter *f, const char *comm);
int filter_add_user(struct filter *f, uid_t uid);
int filter_add_pid(struct filter *f, pid_t pid);
int filter_add_subtree(struct filter *f, const char *dir);
int filter_add_dir(struct filter *f, const char *dir);
int filter_add_exclude_path(struct filter *f, const char *prefix);
void filter_free(struct filter *f);

#endif
