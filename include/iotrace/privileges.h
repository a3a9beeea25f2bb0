/* Least privilege: once the fanotify group is set up, its marks placed, the process
 * events subscribed and the output open, iotrace gives up every capability it does not
 * need to go on reading events, with libc only (capset and prctl system calls). */
#ifndef IOTRACE_PRIVILEGES_H
#define IOTRACE_PRIVILEGES_H

#include <stdbool.h>
#include <stdint.h>

#define CAP_BIT(cap) (UINT64_C(1) << (cap))

/* The capabilities to keep (a mask of CAP_BIT()s):
 * - CAP_DAC_READ_SEARCH: open_by_handle_at(2), with which the file-handle (FID) mode
 *   turns a directory's handle into its path, checks it on every call;
 * - CAP_SYS_PTRACE: /proc/PID/exe (-e), /proc/PID/fd of file servers (to find the
 *   client of a Samba session) and, when /proc is mounted with hidepid=, anything of
 *   another user's process, are readable only with it.
 * Nothing else: the kernel opens event fds for the group without a permission check,
 * readlink of /proc/self/fd needs none, and the netlink subscriptions stay. */
uint64_t privileges_to_keep(void);

/* Keeps only `keep` (of what the process has) in the permitted and effective sets,
 * empties the inheritable and ambient sets, drops the rest from the bounding set when
 * it may (CAP_SETPCAP), and sets no_new_privs so that no exec can give any back.
 * Returns 0 or -errno. */
int privileges_drop(uint64_t keep);

#endif
