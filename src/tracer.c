#include "iotrace/tracer.h"
#include "iotrace/decode.h"
#include "iotrace/paths.h"

#include <string.h>
#include <sys/fanotify.h>
#include <unistd.h>

static void close_fd(int fd)
{
    if (fd >= 0)
        close(fd);
}

/* FID mode: the directory's handle and the entry's name give the full path. */
static void path_from_record_fids(struct tracer *t, const struct record *r, struct event *ev)
{
    const struct fid_ref *best = &r->fids[0];
    for (size_t i = 0; i < r->n_fids; i++)
        if (r->fids[i].role == FID_DIR_NAME)
            best = &r->fids[i];
    switch (path_from_fid(t->handles, best, t->path, sizeof t->path)) {
    case FID_PATH_FULL:
        ev->path = t->path;
        ev->path_len = strlen(t->path);
        break;
    case FID_PATH_DIR_UNKNOWN:
        ev->path = t->path;
        ev->path_len = strlen(t->path);
        ev->path_is_name_only = true;
        break;
    case FID_PATH_UNKNOWN:
        break;
    }
    /* A directory moved: paths remembered for directories below it are wrong now. */
    if ((r->mask & FAN_ONDIR) && (r->mask & (FAN_MOVED_FROM | FAN_MOVED_TO)))
        handle_resolver_forget_dirs(t->handles);
}

static void handle_event(struct tracer *t, const struct record *r, const struct timespec *now)
{
    if (t->output_error || r->pid == t->self || !filter_keep_record(t->filter, r->types, r->pid))
        return;

    struct event ev = {
        .types = r->types,
        .pid = r->pid,
        .fd = r->fd,
        .time = *now,
    };
    enum proc_liveness live = r->process_gone < 0 ? PROC_LIVENESS_UNKNOWN
                              : r->process_gone ? PROC_GONE : PROC_ALIVE;
    ev.proc = proc_lookup(t->procs, r->pid, t->want_user, live, r->pidfd);
    if (!filter_keep_process(t->filter, ev.proc))
        return;
    if (t->want_parents) {
        ev.n_parents = proc_parents(ev.proc, t->parents, TRACER_MAX_PARENTS);
        ev.parents = t->parents;
    }

    if (ev.fd >= 0) {
        if (path_from_fd(&ev, t->path, sizeof t->path) != 0 || t->want_inode)
            inode_from_fd(&ev);
        /* fd-mode events do not carry FAN_ONDIR, so a directory is told by fstat; only
         * opens are checked (a directory is opened before it is listed or emptied). */
        if ((ev.types & EV_OPEN) && ev.path && handle_resolver_active(t->handles) &&
            (ev.have_inode || inode_from_fd(&ev) == 0) && ev.is_dir)
            handle_resolver_learn(t->handles, ev.fd, ev.path, ev.path_len);
    } else if (r->n_fids > 0) {
        path_from_record_fids(t, r, &ev);
    }
    if (!ev.path)
        t->stats.no_path++;
    if (t->want_user && ev.proc->have_ids) {
        ev.uid = ev.proc->uid;
        if (ev.proc->have_comm && client_serving_process(ev.proc->comm) && t->clients) {
            ev.client = client_lookup(t->clients, ev.pid, ev.proc->serial);
            if (ev.proc->have_session_uid)
                ev.uid = ev.proc->session_uid;
        }
        struct timespec mono;
        clock_gettime(CLOCK_MONOTONIC_COARSE, &mono);
        ev.user = user_name(t->users, ev.uid, (long)mono.tv_sec);
    }
    format_event(&t->fmt, &ev, &t->out->buf);
    t->stats.shown++;
}

enum tracer_status tracer_handle_batch(struct tracer *t, const void *buf, size_t len,
                                       const struct timespec *now)
{
    struct decoder d;
    struct record r;
    enum decode_status st;

    proc_table_new_batch(t->procs);
    decoder_init(&d, buf, len);
    while ((st = decoder_next(&d, &r)) == DECODE_RECORD) {
        if (r.kind == RECORD_OVERFLOW) {
            t->stats.overflows++;
            format_overflow(&t->fmt, now, 1, &t->out->buf);
        } else {
            handle_event(t, &r, now);
        }
        close_fd(r.fd);
        close_fd(r.pidfd);
        /* bounded memory whatever the batch; after a failure the caller's flush
         * reports it, and the rest of the batch only has its fds closed */
        if (t->out->buf.len > OUTPUT_FLUSH_THRESHOLD && !t->output_error)
            t->output_error = output_flush(t->out);
    }
    return st == DECODE_END ? TRACER_OK : TRACER_BAD_DATA;
}

void tracer_note_read_error(struct tracer *t, int err)
{
    (void)err;
    t->stats.read_errors++;
}
