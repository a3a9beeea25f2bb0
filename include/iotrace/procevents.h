/* The kernel's process events, from two netlink sockets (plain sockets, libc only):
 * - the process connector (CN_IDX_PROC): fork, exec, uid and gid changes, renames;
 * - taskstats exit records: the name of each process as it exits.
 * They keep the process table right without reading /proc per event, and let iotrace
 * name processes that are gone by the time their file events are read: a process that
 * execs and exits within microseconds cannot be read from /proc in time, but its exit
 * record still carries its name. Needs root in the initial network namespace. */
#ifndef IOTRACE_PROCEVENTS_H
#define IOTRACE_PROCEVENTS_H

#include "iotrace/proc.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum proc_change_kind {
    PROC_CHANGE_NONE,
    PROC_CHANGE_FORK,
    PROC_CHANGE_EXEC,
    PROC_CHANGE_UID,
    PROC_CHANGE_GID,
    PROC_CHANGE_COMM,
    PROC_CHANGE_EXIT,
};

struct proc_change {
    enum proc_change_kind kind;
    pid_t pid;     /* the process (thread group) */
    pid_t parent;  /* FORK: the parent process */
    unsigned id;   /* UID/GID: the effective id */
    char comm[33]; /* COMM, EXIT (from taskstats; "" from the connector) */
    bool from_taskstats; /* EXIT: which of the two sockets sent it */
};

/* Parses one netlink datagram of process events into at most max changes; returns how
 * many. Thread-level events (a new thread, a thread's rename or credentials) are left
 * out: fanotify reports processes, and /proc/PID/status shows the leader. Pure. */
size_t proc_changes_parse(const void *datagram, size_t len, struct proc_change *out, size_t max);

/* Parses one generic-netlink datagram of taskstats exit records; the same contract. */
size_t exit_changes_parse(const void *datagram, size_t len, struct proc_change *out, size_t max);

struct procevents {
    int connector_fd; /* -1 when unavailable */
    int taskstats_fd; /* -1 when unavailable: then exec-and-exit processes may be unknown */
};

/* Opens the subscriptions; returns 0 when at least the connector works, or -errno. */
int procevents_open(struct procevents *pe);

/* Applies every pending event to the table. Returns 0, or -ENOBUFS when the kernel
 * dropped events (the table's running processes are then read again from /proc, so
 * stale answers are not given). */
int procevents_drain(struct procevents *pe, struct proc_table *t);

void procevents_close(struct procevents *pe);

#endif
