#include "iotrace/tracer.h"
#include "iotrace/decode.h"
#include "iotrace/paths.h"

#include <string.h>
#include <sys/fanotify.h>
#include <unistd.h>

/* The fds of one batch (events' files and pidfds). The kernel gives each the lowest
 * free fd, in the order of the records, so they come in runs of consecutive numbers
 * (broken only where an fd iotrace holds lies in between), each closed with one
 * close_range() instead of a close() per event: make bench (300 x 2000, iotrace -c -u)
 * showed close() at 18% of iotrace's CPU, much of it entering the kernel once per
 * event. A run holds only numbers read from the records, and is closed once it is
 * broken or the batch is done: its records have been handled by then (a record held
 * back for a moment is a FID-mode one, without a file). */
struct fd_run {
    int first, last; /* first < 0: none yet */
};

static void close_run(const struct fd_run *run)
{
    if (run->first < 0)
        return;
    if (run->first == run->last || close_range((unsigned)run->first, (unsigned)run->last, 0) != 0)
        for (int fd = run->first; fd <= run->last; fd++) /* or no close_range before Linux 5.9 */
            close(fd);
}

static void note_fd(struct fd_run *run, int fd)
{
    if (fd < 0)
        return;
    if (run->first >= 0 && fd == run->last + 1) {
        run->last = fd;
        return;
    }
    close_run(run);
    run->first = run->last = fd;
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
    /* A directory made or moved here (and not moved away since: merged events) is
     * named by this path: the events in it can be named even once it is gone. */
    if ((r->mask & FAN_ONDIR) && (r->mask & (FAN_CREATE | FAN_MOVED_TO)) && !(r->mask & FAN_MOVED_FROM) &&
        ev->path && !ev->path_is_name_only)
        for (size_t i = 0; i < r->n_fids; i++)
            if (r->fids[i].role == FID_OBJECT)
                handle_resolver_remember(t->handles, &r->fids[i], ev->path);
}

/* Whether an event's file is a directory: known for the listing group's (all are) and,
 * when that group takes directories, for the file group's (none are); else an fstat. */
static bool is_directory(const struct tracer *t, struct event *ev, enum batch_source from)
{
    if (from == BATCH_LISTINGS)
        return true;
    if (t->listings_apart)
        return false;
    return inode_from_fd(ev) == 0 && ev->is_dir;
}

static void handle_event(struct tracer *t, const struct record *r, const struct timespec *now,
                         enum batch_source from)
{
    const struct filter *f = t->filter;
    if (r->pid == t->self)
        return;

    struct event ev = {
        .types = r->types,
        .pid = r->pid,
        .fd = r->fd,
        .time = *now,
    };
    /* A directory being opened teaches the resolver its handle, whatever the filters
     * keep: rm -r opens each directory before emptying it, and the deletes in it are
     * named from this when the directory is gone (opens are asked for this even under
     * -f D). fd-mode events do not carry FAN_ONDIR. */
    if (ev.fd >= 0 && (r->types & EV_OPEN) && handle_resolver_active(t->handles) && is_directory(t, &ev, from) &&
        path_from_fd(t->fd_dir, &ev, t->path, sizeof t->path) == 0)
        handle_resolver_learn(t->handles, ev.fd, ev.path, ev.path_len);
    if (!filter_keep_record(f, r->types, r->pid))
        return;
    /* Cheapest first: the process table is in memory (tracked) or one small /proc read
     * per process and batch; a path is a readlink per event; a user name is an NSS
     * look-up, done last and only for what is shown. */
    bool want_ids = t->want_user || t->want_ids || t->summary || filter_needs_ids(f);
    enum proc_liveness live = r->process_gone < 0 ? PROC_LIVENESS_UNKNOWN
                              : r->process_gone ? PROC_GONE : PROC_ALIVE;
    if (filter_needs_process(f)) {
        ev.proc = proc_lookup(t->procs, r->pid, want_ids, live, r->pidfd);
        if (!filter_keep_process(f, ev.proc))
            return;
    }
    if (ev.fd >= 0) {
        bool have_path = ev.path || path_from_fd(t->fd_dir, &ev, t->path, sizeof t->path) == 0;
        if ((!have_path || t->want_inode) && !ev.have_inode)
            inode_from_fd(&ev);
    } else if (r->n_fids > 0) {
        path_from_record_fids(t, r, &ev);
    }
    /* a name without its directory (path_is_name_only) cannot be shown to be under a
     * PATH: such an event is dropped by path filters */
    if (!filter_keep_path(f, ev.path, ev.path_len)) {
        if (ev.path_is_name_only)
            t->stats.unplaced++; /* said at exit: these may have been under a PATH */
        return;
    }
    if (t->output_error) { /* the output is broken: count what it cannot take, look up nothing more */
        t->stats.unwritten++;
        return;
    }
    if (!ev.proc)
        ev.proc = proc_lookup(t->procs, r->pid, want_ids, live, r->pidfd);
    if (t->want_parents) {
        ev.n_parents = proc_parents(ev.proc, t->parents, TRACER_MAX_PARENTS);
        ev.parents = t->parents;
    }
    if (!ev.path)
        t->stats.no_path++;
    if (ev.proc->have_ids) {
        ev.uid = client_acting_uid(ev.proc); /* for --format's %U, without a name look-up */
        /* an NFS server's: every output (-u, -j, --format, --summary) says `?` */
        ev.user_unknown = !client_user_known(ev.proc);
    }
    if (t->want_user && ev.proc->have_ids && !ev.user_unknown) {
        struct timespec mono;
        clock_gettime(CLOCK_MONOTONIC_COARSE, &mono);
        if (ev.proc->have_comm && client_kind_of(ev.proc->comm) == CLIENT_SESSION)
            ev.client = client_lookup(t->clients, ev.pid, ev.proc->serial);
        ev.user = user_name(t->users, ev.uid, (long)mono.tv_sec);
    }
    if (r->fd_error) {
        /* FAN_REPORT_FD_ERROR: the kernel could not open the file for us (EMFILE when
         * our fd table is full, ENFILE, or the file's own open failing): the event is
         * shown with its process, and counted, without a path */
        t->stats.no_file++;
        t->stats.last_fd_error = r->fd_error;
    }
    t->stats.counted++;
    if (t->summary)
        summary_add(t->summary, &ev);
    if (t->quiet)
        return;
    format_event(&t->fmt, &ev, &t->out->buf);
    t->stats.shown++;
}

/* The link-count change that comes with an unlink arrives as an attribute event that
 * has only the file's own handle; by the time it is read the file is gone and nothing
 * could name it. It comes just before the delete of the same file, or just after it
 * when the delete was merged into an earlier queued event (a create, "+D"). */
static bool is_bare_attrib(const struct record *r)
{
    return r->kind == RECORD_EVENT && r->fd < 0 && r->types == EV_ATTRIB && r->n_fids == 1 &&
           r->fids[0].role == FID_OBJECT;
}

/* Whether r (a create, delete or move, with FAN_REPORT_TARGET_FID) is about the same
 * file as the bare attribute event, from the same process. */
static bool same_file(const struct record *r, const struct record *bare)
{
    const struct fid_ref *b = &bare->fids[0];
    if (r->pid != bare->pid || r->kind != RECORD_EVENT)
        return false;
    for (size_t i = 0; i < r->n_fids; i++) {
        const struct fid_ref *f = &r->fids[i];
        if (f->role == FID_OBJECT && f->fsid == b->fsid && f->handle_len == b->handle_len &&
            memcmp(f->handle, b->handle, f->handle_len) == 0)
            return true;
    }
    return false;
}

/* Folds a bare attribute event into its neighbour about the same file: the line that
 * names the file gets the A, as the kernel would have merged it had it been able to. */
static bool fold_attrib(struct record *a, struct record *b)
{
    if (is_bare_attrib(b) && !is_bare_attrib(a) && same_file(a, b)) {
        a->types |= EV_ATTRIB;
        return true;
    }
    if (is_bare_attrib(a) && !is_bare_attrib(b) && same_file(b, a)) {
        b->types |= EV_ATTRIB;
        *a = *b;
        return true;
    }
    return false;
}

enum tracer_status tracer_handle_batch(struct tracer *t, const void *buf, size_t len,
                                       const struct timespec *now, enum batch_source from)
{
    struct decoder d;
    struct record r, held;
    bool holding = false;
    enum decode_status st;
    struct fd_run fds = { -1, -1 };

    proc_table_new_batch(t->procs);
    decoder_init(&d, buf, len);
    while ((st = decoder_next(&d, &r)) == DECODE_RECORD) {
        if (r.kind == RECORD_OVERFLOW) {
            t->stats.overflows++;
            format_overflow(&t->fmt, now, 1, &t->out->buf);
        } else if (r.n_fids > 0 && r.fd < 0) {
            /* directory events are held for one record, to fold a bare attribute event
             * into its neighbour; their handles point into buf, valid all batch */
            if (!(holding && fold_attrib(&held, &r))) {
                if (holding)
                    handle_event(t, &held, now, from);
                held = r;
                held.pidfd = -1; /* closed below with r; liveness stays in the record */
                holding = true;
            }
        } else {
            handle_event(t, &r, now, from);
        }
        note_fd(&fds, r.fd);
        note_fd(&fds, r.pidfd);
        /* bounded memory whatever the batch; after a failure the caller's flush
         * reports it, and the rest of the batch only has its fds closed */
        if (t->out->buf.len > OUTPUT_FLUSH_THRESHOLD && !t->output_error)
            t->output_error = output_flush(t->out);
    }
    if (holding)
        handle_event(t, &held, now, from);
    close_run(&fds);
    return st == DECODE_END ? TRACER_OK : TRACER_BAD_DATA;
}

void tracer_account_unwritten(struct tracer *t)
{
    struct strbuf *b = &t->out->buf;
    for (const char *p = b->data, *end = p + b->len; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            break;
        /* JSON "lost" records are not events (a name cannot fake one: quotes in a name
         * are escaped) */
        if (!memmem(p, (size_t)(nl - p), ",\"lost\":", 8) && t->stats.shown > 0) {
            t->stats.shown--;
            t->stats.unwritten++;
        }
        p = nl + 1;
    }
    strbuf_reset(b);
}

void tracer_note_read_error(struct tracer *t, int err)
{
    (void)err;
    t->stats.read_errors++;
}
