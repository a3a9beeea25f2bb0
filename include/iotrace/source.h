/* A fanotify group: set up, marked on mounts, read in batches.
 *
 * iotrace uses three groups. The file group (fd mode) reports reads, writes, opens and
 * closes with an open fd for each file: cheap, and the path is a readlink away. The
 * listing group is the same for directories (ls, rm -r opening each directory), kept
 * apart so that the tracer knows them without an fstat. The directory group (FID mode,
 * FAN_REPORT_DFID_NAME) reports creates, deletes, moves and attribute changes as a
 * directory file handle plus a name: the only way to name a file that no longer exists.
 * Directory-entry events need FAN_MARK_FILESYSTEM (mount marks refuse them), so that
 * group marks whole filesystems. */
#ifndef IOTRACE_SOURCE_H
#define IOTRACE_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct source {
    int fan_fd;         /* -1 when the group is not in use */
    bool fid;           /* the directory group */
    bool listings;      /* the listing group: directories only */
    uint64_t mask;      /* what every mark asks for */
    size_t marked;      /* marks made so far */
};

/* Creates the file group for the event types wanted (enum event_type bits); a group
 * with none of its types wanted is left unused (fan_fd -1). unlimited_queue lifts the
 * kernel's bound on queued events (--unlimited-queue). Returns 0 or -errno: -EPERM
 * without CAP_SYS_ADMIN, -ENOSYS without fanotify in the kernel. */
int source_open(struct source *s, unsigned types, bool unlimited_queue);

/* Creates the listing group for types, when the kernel can (Linux 6.0:
 * FAN_MARK_IGNORE), and leaves the file group (already open) only file_types, on files
 * (a group with none is closed). Else returns -EINVAL, the listing group unused and the
 * file group as it was, directories included. Before any mark is made. */
int source_open_listings(struct source *s, unsigned types, bool unlimited_queue, struct source *files,
                         unsigned file_types);

/* Creates the directory group. Returns 0 or -errno (-EINVAL: the kernel cannot report
 * names, before Linux 5.9). */
int source_open_dirs(struct source *s, unsigned types, bool unlimited_queue);

/* Marks the mount holding path (file group) or its whole filesystem (directory group).
 * Returns 0 or -errno: -EXDEV on a btrfs subvolume, -ENODEV/-EOPNOTSUPP on
 * filesystems that cannot encode file handles. */
int source_mark(struct source *s, const char *path);

/* For -d: marks the directory itself, with events on its children (FAN_EVENT_ON_CHILD),
 * so the kernel reports only what happens directly in it, in either group (an inode
 * mark takes directory-entry events too). Returns 0 or -errno. */
int source_mark_dir(struct source *s, const char *dir);

/* Undoes a successful source_mark() (dir false) or source_mark_dir() (dir true). */
void source_unmark(struct source *s, const char *path, bool dir);

/* Tells the kernel not to report events on this file at all (iotrace's own output):
 * cheaper than filtering them after the fact, and no feedback loop. */
int source_ignore_file(struct source *s, int fd);

/* One read of as many events as fit. Returns bytes read, 0 when none are pending,
 * or -errno. */
ssize_t source_read(struct source *s, void *buf, size_t size);

void source_close(struct source *s);

#endif
