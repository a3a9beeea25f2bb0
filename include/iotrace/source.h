/* The fanotify group: set up, marked on mounts, read in batches. */
#ifndef IOTRACE_SOURCE_H
#define IOTRACE_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct source {
    int fan_fd;
    uint64_t mask;      /* what every mark asks for */
    size_t marked;      /* mounts marked so far */
};

/* Called once for each mount that could not be marked; err is an errno. */
typedef void (*mark_failure_fn)(void *ctx, const char *mount_point, const char *fstype, int err);

/* Creates the group for the event types wanted (enum event_type bits). Returns 0 or
 * -errno: -EPERM without CAP_SYS_ADMIN, -ENOSYS without fanotify in the kernel. */
int source_open(struct source *s, unsigned types);

/* Marks the mount holding path. Returns 0 or -errno. */
int source_mark_mount(struct source *s, const char *path);

/* Marks every mount of a real filesystem listed in mountinfo_path (normally
 * /proc/self/mountinfo). Returns the number of mounts marked, or -errno when the
 * list cannot be read. */
int source_mark_all_mounts(struct source *s, const char *mountinfo_path,
                           mark_failure_fn on_failure, void *ctx);

/* Tells the kernel not to report events on this file at all (iotrace's own output):
 * cheaper than filtering them after the fact, and no feedback loop. */
int source_ignore_file(struct source *s, int fd);

/* One read of as many events as fit. Returns bytes read, 0 when none are pending,
 * or -errno. */
ssize_t source_read(struct source *s, void *buf, size_t size);

void source_close(struct source *s);

#endif
