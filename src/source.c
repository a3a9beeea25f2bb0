#include "iotrace/source.h"
#include "iotrace/event.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <unistd.h>

/* Linux 6.13+: an event whose file the kernel cannot open (EMFILE, a file gone on a
 * network server) arrives with fd = -errno instead of failing the read() and being
 * dropped; older kernels refuse the flag with EINVAL and we go without. */
/* FAN_REPORT_PIDFD (Linux 5.15+) would give each event a pidfd for its process, or
 * FAN_NOPIDFD once it was reaped, which tells an event of a dead process from one of a
 * newer process that reuses its pid. iotrace does not ask for it: the kernel makes a
 * file per event, and make bench measured -c -u at 1.37 x the floor's CPU with it
 * against 1.08 without at 100 x 2000 (1.28 against 1.03, with queue overflows, at
 * 300 x 2000). The process table tells the two apart without it unless a pid is reused
 * while events of its previous process are still queued; then the event is "unknown"
 * (proc.c). The decoder and the table still understand pidfds. */
#ifndef FAN_REPORT_FD_ERROR
#define FAN_REPORT_FD_ERROR 0x00002000
#endif
#ifndef FAN_MARK_IGNORE
#define FAN_MARK_IGNORE 0x00000400
#endif
#ifndef FAN_MARK_IGNORE_SURV
#define FAN_MARK_IGNORE_SURV (FAN_MARK_IGNORE | FAN_MARK_IGNORED_SURV_MODIFY)
#endif

/* The file group's mask for the types wanted. */
static uint64_t file_mask_for(unsigned types)
{
    uint64_t mask = 0;
    if (types & EV_READ)
        mask |= FAN_ACCESS;
    if (types & EV_WRITE)
        mask |= FAN_MODIFY | FAN_CLOSE_WRITE;
    if (types & EV_CLOSE)
        mask |= FAN_CLOSE;
    if (types & EV_OPEN)
        mask |= FAN_OPEN;
    /* directories too: a listing (ls) is a read of the directory */
    return mask ? mask | FAN_ONDIR : 0;
}

/* The directory group's mask for the types wanted. */
static uint64_t dir_mask_for(unsigned types)
{
    uint64_t mask = 0;
    if (types & EV_CREATE)
        mask |= FAN_CREATE;
    if (types & EV_DELETE)
        mask |= FAN_DELETE;
    if (types & (EV_MOVED_FROM | EV_MOVED_TO))
        mask |= FAN_MOVED_FROM | FAN_MOVED_TO;
    if (types & EV_ATTRIB)
        mask |= FAN_ATTRIB;
    /* mkdir, rmdir, mv and chmod of directories too */
    return mask ? mask | FAN_ONDIR : 0;
}

/* FAN_UNLIMITED_QUEUE (--unlimited-queue): the kernel keeps every event however far
 * behind iotrace falls, in kernel memory (roughly a hundred bytes an event, not
 * swappable), instead of dropping them past max_queued_events (16384 by default). */
static unsigned queue_flag(bool unlimited_queue)
{
    return unlimited_queue ? FAN_UNLIMITED_QUEUE : 0;
}

int source_open(struct source *s, unsigned types, bool unlimited_queue)
{
    const unsigned base = FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK | queue_flag(unlimited_queue);
    const unsigned event_flags = O_RDONLY | O_LARGEFILE | O_CLOEXEC | O_NOATIME;

    memset(s, 0, sizeof *s);
    s->fan_fd = -1;
    s->mask = file_mask_for(types);
    if (!s->mask)
        return 0;
    /* Each optional flag is refused with EINVAL by kernels that predate it: try the
     * richest set first. */
    const unsigned optional[] = { FAN_REPORT_FD_ERROR, 0 };
    for (size_t i = 0; i < sizeof optional / sizeof optional[0]; i++) {
        s->fan_fd = fanotify_init(base | optional[i], event_flags);
        if (s->fan_fd >= 0 || errno != EINVAL)
            break;
    }
    if (s->fan_fd < 0)
        return -errno;
    return 0;
}

/* The listing group: the file group's events on directories only. A mark asks for
 * everything with FAN_ONDIR, and an ignore mask made with FAN_MARK_IGNORE (Linux 6.0),
 * which honours FAN_ONDIR, takes the same events back for non-directories; a file
 * group without FAN_ONDIR then gets the rest. Every event of this group is a directory,
 * which the tracer needs to know (to learn directory paths from opens, see tracer.c),
 * and an fd-mode event does not say: the alternative, an fstat per open, was 26% of
 * iotrace's CPU in perf while draining a queue of 200000 events (make bench's
 * 100 x 2000 load). */
int source_open_listings(struct source *s, unsigned types, bool unlimited_queue, struct source *files,
                         unsigned file_types)
{
    int rc = source_open(s, types, unlimited_queue);
    if (rc)
        return rc;
    /* what can happen to a directory: no writes (-f W alone leaves the group unused) */
    s->mask &= FAN_OPEN | FAN_ACCESS | FAN_CLOSE_NOWRITE | FAN_ONDIR;
    if (s->fan_fd >= 0 && !(s->mask & ~(uint64_t)FAN_ONDIR))
        source_close(s);
    /* Kernels before 6.0 refuse the unknown flag (EINVAL) before looking at the object;
     * later ones go on to the missing one (EBADF). Nothing is marked either way. */
    errno = 0;
    if (s->fan_fd >= 0 &&
        (fanotify_mark(s->fan_fd, FAN_MARK_ADD | FAN_MARK_IGNORE_SURV, FAN_OPEN, -1, NULL) == 0 || errno == EINVAL)) {
        source_close(s);
        return -EINVAL;
    }
    s->listings = true;
    files->mask = file_mask_for(file_types) & ~(uint64_t)FAN_ONDIR;
    if (!files->mask) /* -f D, say: only directory opens were wanted, to learn from */
        source_close(files);
    return 0;
}

/* For the listing group, after each mark: the same events ignored on non-directories
 * (extra: FAN_EVENT_ON_CHILD for a directory's inode mark). */
static int ignore_non_dirs(struct source *s, unsigned how, uint64_t extra, const char *path)
{
    if (!s->listings)
        return 0;
    uint64_t events = s->mask & ~(uint64_t)FAN_ONDIR;
    if (fanotify_mark(s->fan_fd, how | FAN_MARK_IGNORE_SURV, events | extra, AT_FDCWD, path) == 0)
        return 0;
    int err = -errno;
    fanotify_mark(s->fan_fd, (how & ~(unsigned)FAN_MARK_ADD) | FAN_MARK_REMOVE, s->mask | extra, AT_FDCWD, path);
    return err;
}

int source_open_dirs(struct source *s, unsigned types, bool unlimited_queue)
{
    memset(s, 0, sizeof *s);
    s->fan_fd = -1;
    s->fid = true;
    s->mask = dir_mask_for(types);
    if (!s->mask)
        return 0;
    /* FAN_REPORT_TARGET_FID (Linux 5.17) adds the handle of the file a create, delete or
     * move is about, which lets the tracer tie an unlink's link-count change to its
     * delete; older kernels refuse it with EINVAL and go without. */
    const unsigned base = FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK | FAN_REPORT_DFID_NAME | FAN_REPORT_FID |
                          queue_flag(unlimited_queue);
    s->fan_fd = fanotify_init(base | FAN_REPORT_TARGET_FID, O_RDONLY | O_CLOEXEC);
    if (s->fan_fd < 0 && errno == EINVAL)
        s->fan_fd = fanotify_init(base, O_RDONLY | O_CLOEXEC);
    if (s->fan_fd < 0)
        return -errno;
    return 0;
}

int source_mark(struct source *s, const char *path)
{
    if (s->fan_fd < 0)
        return -EBADF;
    unsigned how = FAN_MARK_ADD | (s->fid ? FAN_MARK_FILESYSTEM : FAN_MARK_MOUNT);
    if (fanotify_mark(s->fan_fd, how, s->mask, AT_FDCWD, path) != 0)
        return -errno;
    int err = ignore_non_dirs(s, how, 0, path);
    if (err)
        return err;
    s->marked++;
    return 0;
}

void source_unmark(struct source *s, const char *path, bool dir)
{
    unsigned how = FAN_MARK_REMOVE | (dir ? FAN_MARK_ONLYDIR : s->fid ? FAN_MARK_FILESYSTEM : FAN_MARK_MOUNT);
    uint64_t extra = dir ? FAN_EVENT_ON_CHILD : 0;
    fanotify_mark(s->fan_fd, how, s->mask | extra, AT_FDCWD, path);
    if (s->listings) /* a mark goes when both its masks are empty */
        fanotify_mark(s->fan_fd, how | FAN_MARK_IGNORE, (s->mask & ~(uint64_t)FAN_ONDIR) | extra, AT_FDCWD, path);
    s->marked--;
}

int source_mark_dir(struct source *s, const char *dir)
{
    if (s->fan_fd < 0)
        return -EBADF;
    /* An inode mark: the kernel filters, so events elsewhere on the mount cost nothing.
     * FAN_ONDIR (in s->mask) also brings the directory's own events; the path filter
     * drops those, since the directory is not "in" itself. */
    unsigned how = FAN_MARK_ADD | FAN_MARK_ONLYDIR;
    if (fanotify_mark(s->fan_fd, how, s->mask | FAN_EVENT_ON_CHILD, AT_FDCWD, dir) != 0)
        return -errno;
    int err = ignore_non_dirs(s, how, FAN_EVENT_ON_CHILD, dir);
    if (err)
        return err;
    s->marked++;
    return 0;
}

int source_ignore_file(struct source *s, int fd)
{
    if (fanotify_mark(s->fan_fd, FAN_MARK_ADD | FAN_MARK_IGNORED_MASK | FAN_MARK_IGNORED_SURV_MODIFY,
                      FAN_ACCESS | FAN_MODIFY | FAN_OPEN | FAN_CLOSE, fd, NULL) != 0)
        return -errno;
    return 0;
}

ssize_t source_read(struct source *s, void *buf, size_t size)
{
    ssize_t n = read(s->fan_fd, buf, size);
    if (n >= 0)
        return n;
    if (errno == EAGAIN)
        return 0;
    return -errno;
}

void source_close(struct source *s)
{
    if (s->fan_fd >= 0)
        close(s->fan_fd);
    s->fan_fd = -1;
}
