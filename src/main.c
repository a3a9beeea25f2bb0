/* iotrace: wires the stages together and runs the read loop. */
#include "iotrace/options.h"
#include "iotrace/output.h"
#include "iotrace/procevents.h"
#include "iotrace/source.h"
#include "iotrace/tracer.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef IOTRACE_VERSION
#define IOTRACE_VERSION "unknown"
#endif

#define READ_BUFFER_SIZE (1024 * 1024)
#define PROC_CACHE_SIZE 4096
#define USER_CACHE_SIZE 1024

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void print_sudo_hint(int argc, char **argv)
{
    fputs("iotrace: watching file accesses needs root (CAP_SYS_ADMIN); run: sudo iotrace", stderr);
    for (int i = 1; i < argc; i++)
        fprintf(stderr, " %s", argv[i]);
    fputc('\n', stderr);
}

static void warn_unmarked_mount(void *ctx, const char *mount_point, const char *fstype, int err)
{
    (void)ctx;
    const char *why = "";
    if (err == ENODEV || err == EOPNOTSUPP)
        why = " (this filesystem does not support fanotify)";
    fprintf(stderr, "iotrace: cannot watch %s (%s): %s%s; other mounts are still watched\n",
            mount_point, fstype, strerror(err), why);
}

static int setup_signals(sigset_t *run_mask)
{
    struct sigaction sa = { .sa_handler = on_stop_signal };
    sigset_t blocked;

    sigemptyset(&sa.sa_mask);
    sigemptyset(&blocked);
    for (const int *s = (const int[]){ SIGINT, SIGTERM, SIGHUP, 0 }; *s; s++) {
        if (sigaction(*s, &sa, NULL) != 0)
            return -1;
        sigaddset(&blocked, *s);
    }
    /* a closed pipe shows up as EPIPE from write(), handled where it happens */
    signal(SIGPIPE, SIG_IGN);
    /* signals arrive only inside ppoll(), so a stop is never missed between checks */
    return sigprocmask(SIG_BLOCK, &blocked, run_mask);
}

static void print_summary(const struct tracer_stats *st)
{
    fprintf(stderr, "iotrace: %lu events shown", st->shown);
    if (st->overflows == 0 && st->read_errors == 0) {
        fputs(", none lost\n", stderr);
        return;
    }
    fputs("; events were lost:", stderr);
    if (st->overflows)
        fprintf(stderr, " the kernel queue overflowed %lu times", st->overflows);
    if (st->read_errors)
        fprintf(stderr, "%s %lu reads failed", st->overflows ? "," : "", st->read_errors);
    fputc('\n', stderr);
}

/* Stderr warnings for overflows: at most one a second, with the running count. */
static void warn_overflow(const struct tracer_stats *st, unsigned long *warned, time_t *last)
{
    time_t now = time(NULL);
    if (st->overflows == *warned || now == *last)
        return;
    fprintf(stderr, "iotrace: the kernel event queue overflowed (%lu times so far): events were lost\n",
            st->overflows);
    *warned = st->overflows;
    *last = now;
}

static int remaining_ms(const struct timespec *deadline)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long ms = (deadline->tv_sec - now.tv_sec) * 1000LL + (deadline->tv_nsec - now.tv_nsec) / 1000000;
    return ms < 0 ? 0 : (int)ms;
}

/* Returns the exit status. */
static int run(struct source *src, struct procevents *pe, struct tracer *t, struct output *out,
               const struct config *cfg, const char *out_name, const sigset_t *run_mask)
{
    void *buf = malloc(READ_BUFFER_SIZE);
    struct timespec deadline = { 0 };
    unsigned long overflows_warned = 0;
    time_t last_warning = 0;
    int status = 0;

    if (!buf) {
        fputs("iotrace: out of memory\n", stderr);
        return 1;
    }
    if (cfg->seconds) {
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += cfg->seconds;
    }
    while (!stop_requested) {
        struct pollfd pfd[3] = { { .fd = src->fan_fd, .events = POLLIN },
                                 { .fd = pe->connector_fd, .events = POLLIN },
                                 { .fd = pe->taskstats_fd, .events = POLLIN } };
        struct timespec timeout, *tp = NULL;
        if (cfg->seconds) {
            int ms = remaining_ms(&deadline);
            if (ms == 0)
                break;
            timeout.tv_sec = ms / 1000;
            timeout.tv_nsec = (ms % 1000) * 1000000L;
            tp = &timeout;
        }
        int ready = ppoll(pfd, 3, tp, run_mask); /* negative fds are skipped */
        if (ready < 0 && errno != EINTR) {
            fprintf(stderr, "iotrace: poll: %s\n", strerror(errno));
            status = 1;
            break;
        }
        if (ready <= 0)
            continue;
        /* An exec is best read at once: a short-lived process may be gone soon. */
        if ((pfd[1].revents | pfd[2].revents) & POLLIN)
            procevents_drain(pe, t->procs);
        if (!(pfd[0].revents & POLLIN))
            continue;

        ssize_t n = source_read(src, buf, READ_BUFFER_SIZE);
        if (n < 0) {
            if (n == -EINTR)
                continue;
            tracer_note_read_error(t, (int)-n);
            continue;
        }
        /* Every fork and exec that happened before this read is now in the process
         * events: apply them, so the batch's processes are known. */
        procevents_drain(pe, t->procs);
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        if (tracer_handle_batch(t, buf, (size_t)n, &now) != TRACER_OK) {
            fputs("iotrace: the kernel sent an event record this version cannot read\n", stderr);
            status = 1;
        }
        int err = t->output_error ? t->output_error : output_flush(out);
        if (err == -EPIPE) {
            free(buf);
            return -1; /* the reader went away: quietly */
        }
        if (err) {
            fprintf(stderr, "iotrace: cannot write to %s: %s; stopping so that no event is lost unseen\n",
                    out_name, strerror(-err));
            status = 1;
            break;
        }
        warn_overflow(&t->stats, &overflows_warned, &last_warning);
        if (status)
            break;
    }
    /* Events of accesses that finished before the stop are already queued: show them,
     * so that "run it, stop it" loses nothing. */
    for (int i = 0; i < 64 && status == 0; i++) { /* bounded: the machine may never be quiet */
        ssize_t n = source_read(src, buf, READ_BUFFER_SIZE);
        if (n <= 0)
            break;
        procevents_drain(pe, t->procs);
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        if (tracer_handle_batch(t, buf, (size_t)n, &now) != TRACER_OK || t->output_error)
            break;
    }
    free(buf);
    int err = t->output_error ? t->output_error : output_flush(out);
    if (err == -EPIPE)
        return -1;
    if (err && status == 0) {
        fprintf(stderr, "iotrace: cannot write to %s: %s\n", out_name, strerror(-err));
        status = 1;
    }
    return status;
}

int main(int argc, char **argv)
{
    struct config cfg = { 0 };
    char err[256];

    switch (options_parse(argc, argv, &cfg, err, sizeof err)) {
    case OPTIONS_HELP:
        fputs(options_usage, stdout);
        return 0;
    case OPTIONS_VERSION:
        puts("iotrace " IOTRACE_VERSION);
        return 0;
    case OPTIONS_ERROR:
        fprintf(stderr, "iotrace: %s\nTry 'iotrace --help' for more information.\n", err);
        return 2;
    case OPTIONS_RUN:
        break;
    }

    struct source src;
    int rc = source_open(&src, cfg.filter.types);
    if (rc == -EPERM) {
        print_sudo_hint(argc, argv);
        return 1;
    }
    if (rc == -ENOSYS) {
        fputs("iotrace: this kernel has no fanotify (it was built without CONFIG_FANOTIFY)\n", stderr);
        return 1;
    }
    if (rc) {
        fprintf(stderr, "iotrace: cannot start fanotify: %s\n", strerror(-rc));
        return 1;
    }

    struct output out;
    const char *out_name = cfg.output_path ? cfg.output_path : "standard output";
    rc = output_open(&out, cfg.output_path);
    if (rc) {
        fprintf(stderr, "iotrace: cannot create %s: %s%s\n", cfg.output_path, strerror(-rc),
                rc == -EEXIST ? " (iotrace never overwrites a file; choose a new name)" : "");
        return 1;
    }

    if (cfg.current_mount) {
        rc = source_mark_mount(&src, ".");
        if (rc) {
            char cwd[4096];
            fprintf(stderr, "iotrace: cannot watch the mount of %s: %s\n",
                    getcwd(cwd, sizeof cwd) ? cwd : ".", strerror(-rc));
            return 1;
        }
    } else {
        rc = source_mark_all_mounts(&src, "/proc/self/mountinfo", warn_unmarked_mount, NULL);
        if (rc < 0) {
            fprintf(stderr, "iotrace: cannot read /proc/self/mountinfo: %s\n", strerror(-rc));
            return 1;
        }
        if (rc == 0) {
            fputs("iotrace: no mount could be watched\n", stderr);
            return 1;
        }
    }

    struct stat st;
    if (cfg.output_path && fstat(out.fd, &st) == 0 && S_ISREG(st.st_mode))
        source_ignore_file(&src, out.fd); /* best effort: our own pid is filtered anyway */

    struct tracer t = {
        .filter = &cfg.filter,
        .want_user = cfg.user,
        .want_inode = cfg.json,
        .self = getpid(),
        .procs = proc_table_new("/proc", PROC_CACHE_SIZE),
        .users = user_cache_new(USER_CACHE_SIZE, NULL),
        .out = &out,
    };
    formatter_init(&t.fmt, cfg.json, cfg.user, cfg.timestamp);
    sigset_t run_mask;
    if (!t.procs || !t.users || setup_signals(&run_mask) != 0) {
        fputs("iotrace: cannot set up: out of memory or signals\n", stderr);
        return 1;
    }

    /* Without process events (not root in the initial network namespace, or a kernel
     * without the connector) the table falls back to reading /proc per batch. */
    struct procevents pe;
    proc_table_set_tracked(t.procs, procevents_open(&pe) == 0);

    int status = run(&src, &pe, &t, &out, &cfg, out_name, &run_mask);
    procevents_close(&pe);
    if (status >= 0)
        print_summary(&t.stats);
    else
        status = 0;

    source_close(&src);
    output_close(&out);
    proc_table_free(t.procs);
    user_cache_free(t.users);
    config_free(&cfg);
    return status;
}
