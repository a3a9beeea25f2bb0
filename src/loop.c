#include "iotrace/loop.h"
#include "iotrace/summary.h"
#include "iotrace/users.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Reads of the file and listing groups are small: every event of a read holds an fd
 * until the batch is done, and with 1 MiB reads (up to 43000 events and fds) iotrace
 * spent a quarter more per event than with 16 KiB ones (680), in readlink's lookup of
 * the fd and in fstat, from working on that many files at once: draining a queue of
 * 200000 events took 5.0 us an event (7.2 with -j) against 3.8 (5.8). A read is one
 * syscall per 680 events. The directory group opens no files: its reads stay large. */
#define FD_READ_SIZE (16 * 1024)
#define FID_READ_SIZE (1024 * 1024)
#define READ_SLACK 4096 /* more than one event record, info records included */

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t reopen_requested;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void on_reopen_signal(int sig)
{
    (void)sig;
    reopen_requested = 1;
}

/* hup_reopens: with -o, SIGHUP reopens the file (logrotate) instead of stopping. */
int loop_setup_signals(sigset_t *run_mask, bool hup_reopens)
{
    struct sigaction sa = { .sa_handler = on_stop_signal };
    sigset_t blocked;

    sigemptyset(&sa.sa_mask);
    sigemptyset(&blocked);
    for (const int *s = (const int[]){ SIGINT, SIGTERM, SIGHUP, 0 }; *s; s++) {
        sa.sa_handler = *s == SIGHUP && hup_reopens ? on_reopen_signal : on_stop_signal;
        if (sigaction(*s, &sa, NULL) != 0)
            return -1;
        sigaddset(&blocked, *s);
    }
    /* a closed pipe shows up as EPIPE from write(), handled where it happens */
    signal(SIGPIPE, SIG_IGN);
    /* signals arrive only inside ppoll(), so a stop is never missed between checks */
    return sigprocmask(SIG_BLOCK, &blocked, run_mask);
}

static const char *plural(unsigned long n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

static void print_summary(const struct tracer_stats *st, bool quiet)
{
    if (quiet)
        fprintf(stderr, "iotrace: %lu %s counted", st->counted, plural(st->counted, "event", "events"));
    else
        fprintf(stderr, "iotrace: %lu %s shown", st->shown, plural(st->shown, "event", "events"));
    if (st->no_file)
        fprintf(stderr, " (%lu without their file: %s)", st->no_file, strerror(st->last_fd_error));
    if (st->overflows == 0 && st->read_errors == 0 && st->unwritten == 0) {
        fputs(", none lost\n", stderr);
        return;
    }
    const char *sep = " ";
    fputs("; events were lost:", stderr);
    if (st->overflows) {
        fprintf(stderr, "%sthe kernel queue overflowed %lu %s", sep, st->overflows, plural(st->overflows, "time", "times"));
        sep = ", ";
    }
    if (st->read_errors) {
        fprintf(stderr, "%s%lu %s failed", sep, st->read_errors, plural(st->read_errors, "read", "reads"));
        sep = ", ";
    }
    if (st->unwritten)
        fprintf(stderr, "%s%lu %s could not be written", sep, st->unwritten, plural(st->unwritten, "event", "events"));
    fputc('\n', stderr);
}

/* Events a path filter could not place: their directory was gone and unknown. */
static void print_unplaced(const struct tracer_stats *st)
{
    if (st->unplaced)
        fprintf(stderr, "iotrace: %lu %s not shown: only the file's name was known (its directory was removed "
                        "before the event was read), so it could not be placed under the PATHs given\n",
                st->unplaced, plural(st->unplaced, "event", "events"));
}

/* Losses as they happen, on stderr: at most one warning a second, with running counts. */
struct loss_warnings {
    unsigned long overflows;
    unsigned long no_file;
    time_t last;
};

static void warn_losses(const struct tracer_stats *st, struct loss_warnings *w)
{
    time_t now = time(NULL);
    if ((st->overflows == w->overflows && st->no_file == w->no_file) || now == w->last)
        return;
    if (st->overflows != w->overflows)
        fprintf(stderr, "iotrace: the kernel event queue overflowed (%lu %s so far): events were lost\n",
                st->overflows, plural(st->overflows, "time", "times"));
    if (st->no_file != w->no_file)
        fprintf(stderr, "iotrace: %lu %s so far came without their file: the kernel could not open it "
                        "for iotrace (%s)\n", st->no_file, plural(st->no_file, "event", "events"),
                strerror(st->last_fd_error));
    w->overflows = st->overflows;
    w->no_file = st->no_file;
    w->last = now;
}

static int remaining_ms(const struct timespec *deadline)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long ms = (deadline->tv_sec - now.tv_sec) * 1000LL + (deadline->tv_nsec - now.tv_nsec) / 1000000;
    return ms < 0 ? 0 : (int)ms;
}

/* One batch through the pipeline to the output. Returns 0, 1 on an error that stops
 * iotrace (printed), or -1 when the reader of the output went away. */
static int handle_batch(struct procevents *pe, struct tracer *t, struct output *out, const char *out_name,
                        const void *buf, size_t len, enum batch_source from)
{
    /* Every fork and exec that happened before the read is now in the process events:
     * apply them, so the batch's processes are known. */
    procevents_drain(pe, t->procs);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int status = 0;
    if (tracer_handle_batch(t, buf, len, &now, from) != TRACER_OK) {
        fputs("iotrace: the kernel sent an event record this version cannot read\n", stderr);
        status = 1;
    }
    int err = t->output_error ? t->output_error : output_flush(out);
    if (err == -EPIPE)
        return -1;
    if (err) {
        /* reported by run() once what is still queued has been counted */
        (void)out_name;
        t->output_error = err;
        return 1;
    }
    return status;
}

/* The kernel opens the file of every event a read returns, all at once: a read of more events than free descriptors gets the
 * rest without a file (path "?"). So raise the soft limit to the hard one and read no
 * more events at a time than the descriptors left allow. */
static size_t read_size_for_fds(const struct source *src)
{
    struct rlimit rl;
    if (src->fid) /* FID mode opens no file */
        return FID_READ_SIZE;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return FD_READ_SIZE;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    const size_t smallest_event = 24; /* the metadata alone */
    if (rl.rlim_cur == RLIM_INFINITY)
        return FD_READ_SIZE;
    if (rl.rlim_cur <= 256)
        return 4096;
    size_t bytes = (size_t)(rl.rlim_cur - 128) * smallest_event; /* 128 for us */
    return bytes < FD_READ_SIZE ? bytes : FD_READ_SIZE;
}

/* Reads one batch from a group into buf; returns its length, 0 when none is pending.
 * *emptied tells whether the read left the group's queue empty. */
static size_t read_group(struct source *src, struct tracer *t, void *buf, bool *emptied)
{
    *emptied = true;
    if (src->fan_fd < 0)
        return 0;
    size_t size = read_size_for_fds(src);
    ssize_t n = source_read(src, buf, size);
    *emptied = n >= 0 && (size_t)n + READ_SLACK < size;
    if (n < 0 && n != -EINTR)
        tracer_note_read_error(t, (int)-n);
    return n > 0 ? (size_t)n : 0;
}

/* Before reading queues that just woke iotrace up: a millisecond's wait. A file
 * opened, read and closed within it becomes one event instead of three (the kernel
 * merges a process's events on the same file while they are queued), and batches get
 * bigger. make bench (300 x 2000 and 1000 x 600): iotrace -c -u at 0.51 and 0.59 x the
 * bare floor reader's CPU with it, against 0.92 and 1.05 (with overflows) without; a
 * floor reader that waits as well is at 0.26 and 0.42. The traced workload ran faster.
 * There is no wait while a queue is behind (a read left it not empty). The price:
 * events reach the output a millisecond later, and what is learnt when an event is
 * read (a path, the process's name and user) is a millisecond staler (see KEEPING UP
 * in the man page). */
#define GATHER_NS 1000000L

static void gather(void)
{
    struct timespec wait = { 0, GATHER_NS };
    while (nanosleep(&wait, &wait) != 0 && errno == EINTR)
        ; /* stop signals are blocked here: only a stopped-and-continued iotrace */
}

/* The most read from one group before the others get their turn: the machine may
 * never be quiet. */
#define ROUND_BYTES (64 * 1024 * 1024)

/* Reads a file-mode group (file or listing) and handles its batches, until its queue
 * is empty or ROUND_BYTES were read. */
static int read_fd_group(struct source *src, enum batch_source from, struct procevents *pe, struct tracer *t,
                         struct output *out, const char *out_name, void *buf, bool *emptied, bool *got_events)
{
    int status = 0;
    for (size_t total = 0; total < ROUND_BYTES && status == 0;) {
        size_t n = read_group(src, t, buf, emptied);
        if (n == 0)
            break;
        *got_events = true;
        total += n;
        status = handle_batch(pe, t, out, out_name, buf, n, from);
        if (*emptied)
            break;
    }
    return status;
}

/* One round: every group is read (an empty one costs one read that finds nothing).
 * The directory group's events are handled after every file and listing event queued
 * before them: a directory opened (rm -r opens each one) and then emptied is learnt
 * from the listing event, so the deletes in it are named even when it is gone by then.
 * *behind: a queue was left not empty. */
static int read_and_handle(struct source *groups[GROUPS], struct procevents *pe, struct tracer *t,
                           struct output *out, const char *out_name, void *bufs[2], bool *got_events,
                           bool *behind)
{
    unsigned long mark = proc_table_read_begins(t->procs);
    bool emptied[GROUPS] = { true, true, true };
    size_t dir_len = read_group(groups[GROUP_DIRS], t, bufs[1], &emptied[GROUP_DIRS]);
    *got_events = dir_len > 0;
    int status = read_fd_group(groups[GROUP_LISTINGS], BATCH_LISTINGS, pe, t, out, out_name, bufs[0],
                               &emptied[GROUP_LISTINGS], got_events);
    if (status == 0)
        status = read_fd_group(groups[GROUP_FILES], BATCH_EVENTS, pe, t, out, out_name, bufs[0],
                               &emptied[GROUP_FILES], got_events);
    if (status == 0 && dir_len > 0)
        status = handle_batch(pe, t, out, out_name, bufs[1], dir_len, BATCH_EVENTS);
    *behind = !(emptied[GROUP_FILES] && emptied[GROUP_LISTINGS] && emptied[GROUP_DIRS]);
    /* Every queue was read empty: processes that ended before the reads began have no
     * events left to name. */
    if (status == 0 && !*behind)
        proc_table_read_drained(t->procs, mark);
    return status;
}

void loop_ignore_output_file(struct source *files, const struct output *out)
{
    struct stat st;
    if (files->fan_fd >= 0 && fstat(out->fd, &st) == 0 && S_ISREG(st.st_mode))
        source_ignore_file(files, out->fd); /* best effort: our own pid is filtered anyway */
}

static const char *summary_user_name(void *users, uid_t uid)
{
    struct timespec mono;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &mono);
    return user_name(users, uid, (long)mono.tv_sec);
}

/* --summary: JSON goes with the events; a text table goes to stderr, so that grep
 * pipelines see only event lines, unless -q left the output to it alone. Then counting
 * starts afresh. Returns like handle_batch. */
static int write_summary(struct tracer *t, const struct config *cfg, struct output *out, const char *out_name)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    if (cfg->json) {
        summary_report_json(t->summary, (size_t)cfg->top, &now, summary_user_name, t->users, &out->buf);
    } else if (cfg->quiet) {
        if (cfg->interval && isatty(out->fd))
            strbuf_puts(&out->buf, "\033[H\033[2J"); /* a top-like view: redraw in place */
        summary_report_text(t->summary, (size_t)cfg->top, &now, summary_user_name, t->users, &out->buf);
    } else {
        struct strbuf text = { 0 };
        summary_report_text(t->summary, (size_t)cfg->top, &now, summary_user_name, t->users, &text);
        fwrite(text.data, 1, text.len, stderr);
        strbuf_free(&text);
    }
    summary_reset(t->summary, &now);
    int err = output_flush(out);
    if (err == -EPIPE)
        return -1;
    if (err) {
        fprintf(stderr, "iotrace: cannot write to %s: %s\n", out_name, strerror(-err));
        return 1;
    }
    return 0;
}

int loop_run(struct source *groups[GROUPS], struct procevents *pe, struct tracer *t, struct output *out,
               const struct config *cfg, const char *out_name, const sigset_t *run_mask)
{
    void *bufs[2] = { malloc(FD_READ_SIZE), malloc(FID_READ_SIZE) };
    struct timespec deadline = { 0 };
    struct loss_warnings warned = { 0 };
    int status = 0;
    bool got, behind = false;

    if (!bufs[0] || !bufs[1]) {
        fputs("iotrace: out of memory\n", stderr);
        free(bufs[0]);
        free(bufs[1]);
        return 1;
    }
    if (cfg->seconds) {
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += cfg->seconds;
    }
    struct timespec next_report;
    clock_gettime(CLOCK_MONOTONIC, &next_report);
    next_report.tv_sec += cfg->interval;
    while (!stop_requested && status == 0) {
        if (reopen_requested) {
            /* Between batches the buffer is empty and every line read so far is in the
             * old file: nothing is lost or written twice across the rotation. */
            reopen_requested = 0;
            int err = output_reopen(out, cfg->output_path);
            if (err)
                fprintf(stderr, "iotrace: cannot reopen %s: %s; still writing to the file it was\n",
                        cfg->output_path, strerror(-err));
            else
                loop_ignore_output_file(groups[GROUP_FILES], out);
        }
        if (cfg->interval && remaining_ms(&next_report) == 0) {
            next_report.tv_sec += cfg->interval;
            if ((status = write_summary(t, cfg, out, out_name)) != 0)
                break;
        }
        /* the output too, for no event: a pipe whose reader went away reports POLLERR,
         * so `iotrace | head -3` ends at once even when no more events come */
        struct pollfd pfd[GROUPS + 3] = { [GROUP_FILES] = { .fd = groups[GROUP_FILES]->fan_fd, .events = POLLIN },
                                          [GROUP_LISTINGS] = { .fd = groups[GROUP_LISTINGS]->fan_fd, .events = POLLIN },
                                          [GROUP_DIRS] = { .fd = groups[GROUP_DIRS]->fan_fd, .events = POLLIN },
                                          [GROUPS] = { .fd = pe->connector_fd, .events = POLLIN },
                                          [GROUPS + 1] = { .fd = pe->taskstats_fd, .events = POLLIN },
                                          [GROUPS + 2] = { .fd = out->fd, .events = 0 } };
        struct timespec timeout, *tp = NULL;
        int ms = -1;
        if (cfg->seconds) {
            ms = remaining_ms(&deadline);
            if (ms == 0)
                break;
        }
        if (cfg->interval) {
            int to_report = remaining_ms(&next_report);
            ms = ms < 0 || to_report < ms ? to_report : ms;
        }
        if (ms >= 0) {
            timeout.tv_sec = ms / 1000;
            timeout.tv_nsec = (ms % 1000) * 1000000L;
            tp = &timeout;
        }
        int ready = ppoll(pfd, GROUPS + 3, tp, run_mask); /* negative fds are skipped */
        if (ready < 0 && errno != EINTR) {
            fprintf(stderr, "iotrace: poll: %s\n", strerror(errno));
            status = 1;
            break;
        }
        if (ready <= 0)
            continue;
        if (pfd[GROUPS + 2].revents & POLLERR) {
            status = -1; /* the reader went away: quietly, as for EPIPE */
            break;
        }
        /* An exec is best read at once: a short-lived process may be gone soon. */
        if ((pfd[GROUPS].revents | pfd[GROUPS + 1].revents) & POLLIN)
            procevents_drain(pe, t->procs);
        bool any = false;
        for (int g = 0; g < GROUPS; g++)
            any |= pfd[g].revents & POLLIN;
        if (any) {
            /* Without the kernel's process events a process must still be alive when
             * its events are read to be named (from /proc): no wait then. */
            if (!behind && pe->connector_fd >= 0)
                gather();
            status = read_and_handle(groups, pe, t, out, out_name, bufs, &got, &behind);
        }
        warn_losses(&t->stats, &warned);
    }
    /* Events of accesses that finished before the stop are already queued: show them,
     * so that "run it, stop it" loses nothing. Bounded: the machine may never be quiet. */
    for (int i = 0; i < 64 && status == 0; i++) /* status -1: nobody reads any more */
        if ((status = read_and_handle(groups, pe, t, out, out_name, bufs, &got, &behind)) != 0 || !got)
            break;
    if (t->summary && status == 0)
        status = write_summary(t, cfg, out, out_name);
    if (t->output_error && t->output_error != -EPIPE) {
        /* The output is broken: what is still queued is read only to be counted (each
         * batch is counted, then not written), so the summary says what was lost. */
        for (int i = 0; i < 64; i++) {
            read_and_handle(groups, pe, t, out, out_name, bufs, &got, &behind);
            if (!got)
                break;
        }
        tracer_account_unwritten(t);
        fprintf(stderr, "iotrace: cannot write to %s: %s; stopped, and counted the events not written\n",
                out_name, strerror(-t->output_error));
        status = 1;
    }
    free(bufs[0]);
    free(bufs[1]);
    return status;
}

void loop_report_exit(const struct tracer_stats *st, bool quiet)
{
    print_unplaced(st);
    print_summary(st, quiet);
}
