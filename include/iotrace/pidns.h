/* Which pid namespace iotrace runs in, and whether /proc is of the same one. fanotify
 * reports pids as seen from the reader's namespace (0 for a process outside it), the
 * kernel's process events exist only in the initial namespace, and /proc/PID names the
 * process of the namespace /proc was mounted for: when they disagree a pid would be
 * given another process's name. */
#ifndef IOTRACE_PIDNS_H
#define IOTRACE_PIDNS_H

#include <stdbool.h>

/* Whether this process is in the initial pid namespace (where the process events
 * connector and taskstats deliver; elsewhere they accept a subscription and send
 * nothing). */
bool pidns_is_initial(void);

/* Whether proc_root (normally "/proc") was mounted for this process's pid namespace:
 * its "self" link names our own pid. */
bool procfs_is_ours(const char *proc_root);

#endif
