#include "iotrace/decode.h"
#include "iotrace/event.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/fanotify.h>

void decoder_init(struct decoder *d, const void *buf, size_t len)
{
    d->buf = buf;
    d->len = len;
    d->off = 0;
}

unsigned event_types_from_mask(uint64_t mask)
{
    unsigned types = 0;
    if (mask & FAN_ACCESS)
        types |= EV_READ;
    if (mask & (FAN_MODIFY | FAN_CLOSE_WRITE))
        types |= EV_WRITE;
    if (mask & FAN_CLOSE)
        types |= EV_CLOSE;
    if (mask & (FAN_OPEN | FAN_OPEN_EXEC))
        types |= EV_OPEN;
    if (mask & FAN_CREATE)
        types |= EV_CREATE;
    if (mask & (FAN_DELETE | FAN_DELETE_SELF))
        types |= EV_DELETE;
    if (mask & FAN_MOVED_FROM)
        types |= EV_MOVED_FROM;
    if (mask & FAN_MOVED_TO)
        types |= EV_MOVED_TO;
    if (mask & FAN_ATTRIB)
        types |= EV_ATTRIB;
    return types;
}

#ifndef FAN_EVENT_INFO_TYPE_PIDFD
#define FAN_EVENT_INFO_TYPE_PIDFD 4
#endif
#ifndef FAN_NOPIDFD
#define FAN_NOPIDFD (-1)
#endif

/* A file handle record (FID mode): the object, or its directory and the entry's name. */
static void decode_fid(const unsigned char *p, size_t len, unsigned type, struct record *out)
{
    struct fanotify_event_info_fid info;
    struct file_handle fh;
    if (out->n_fids == RECORD_MAX_FIDS || len < sizeof info + sizeof fh)
        return;
    memcpy(&info, p, sizeof info);
    memcpy(&fh, p + sizeof info, sizeof fh);
    size_t handle_len = sizeof fh + fh.handle_bytes;
    if (sizeof info + handle_len > len)
        return; /* a handle longer than its record: not read */
    struct fid_ref *f = &out->fids[out->n_fids++];
    f->role = type == FAN_EVENT_INFO_TYPE_FID ? FID_OBJECT : FID_DIR_NAME;
    memcpy(&f->fsid, &info.fsid, sizeof f->fsid);
    f->handle = p + sizeof info;
    f->handle_len = handle_len;
    f->name = NULL;
    const char *name = (const char *)p + sizeof info + handle_len;
    size_t room = len - sizeof info - handle_len;
    if (type == FAN_EVENT_INFO_TYPE_DFID_NAME && room > 0 && memchr(name, '\0', room))
        f->name = name;
}

/* The info records after the metadata: file handles (FID mode) and the pidfd
 * (FAN_REPORT_PIDFD: FAN_NOPIDFD means the process had been reaped when the event was
 * read; FAN_EPIDFD, another error, says nothing either way). Unknown types are skipped;
 * a malformed record ends the walk, keeping what was read: the event is still reported. */
static void decode_info_records(const unsigned char *p, size_t len, struct record *out)
{
    while (len >= sizeof(struct fanotify_event_info_header)) {
        struct fanotify_event_info_header h;
        memcpy(&h, p, sizeof h);
        if (h.len < sizeof h || h.len > len)
            return;
        if (h.info_type == FAN_EVENT_INFO_TYPE_FID || h.info_type == FAN_EVENT_INFO_TYPE_DFID ||
            h.info_type == FAN_EVENT_INFO_TYPE_DFID_NAME) {
            decode_fid(p, h.len, h.info_type, out);
        } else if (h.info_type == FAN_EVENT_INFO_TYPE_PIDFD && h.len >= sizeof h + sizeof(int32_t)) {
            int32_t pidfd;
            memcpy(&pidfd, p + sizeof h, sizeof pidfd);
            if (pidfd >= 0) {
                out->pidfd = pidfd;
                out->process_gone = 0;
            } else if (pidfd == FAN_NOPIDFD) {
                out->process_gone = 1;
            }
        }
        p += h.len;
        len -= h.len;
    }
}

enum decode_status decoder_next(struct decoder *d, struct record *out)
{
    struct fanotify_event_metadata meta;
    size_t left = d->len - d->off;

    if (left == 0)
        return DECODE_END;
    if (left < sizeof meta)
        return DECODE_TRUNCATED;
    /* The buffer is not necessarily aligned for a direct cast when tests feed it. */
    memcpy(&meta, d->buf + d->off, sizeof meta);
    if (meta.vers != FANOTIFY_METADATA_VERSION)
        return DECODE_BAD_VERSION;
    if (meta.event_len < sizeof meta || meta.event_len > left ||
        meta.metadata_len < sizeof meta || meta.metadata_len > meta.event_len)
        return DECODE_TRUNCATED;
    const unsigned char *info = d->buf + d->off + meta.metadata_len;
    size_t info_len = meta.event_len - meta.metadata_len;
    d->off += meta.event_len;

    memset(out, 0, sizeof *out);
    out->pidfd = -1;
    out->process_gone = -1;
    decode_info_records(info, info_len, out);
    out->mask = meta.mask;
    out->pid = meta.pid;
    out->fd = -1;
    if (meta.fd >= 0)
        out->fd = meta.fd;
    else if (meta.fd != FAN_NOFD)
        /* FAN_REPORT_FD_ERROR: the open's -errno (anything else is no errno: EIO, and
         * no undefined -INT_MIN; found by fuzzing) */
        out->fd_error = meta.fd >= -4095 ? -meta.fd : EIO;
    out->kind = (meta.mask & FAN_Q_OVERFLOW) ? RECORD_OVERFLOW : RECORD_EVENT;
    out->types = event_types_from_mask(meta.mask);
    return DECODE_RECORD;
}
