/* iotrace: parses the options, wires the stages together, and hands them to the loop. */
#include "iotrace/loop.h"
#include "iotrace/mounts.h"
#include "iotrace/options.h"
#include "iotrace/output.h"
#include "iotrace/paths.h"
#include "iotrace/pidns.h"
#include "iotrace/privileges.h"
#include "iotrace/procevents.h"
#include "iotrace/source.h"
#include "iotrace/tracer.h"

#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef IOTRACE_VERSION
#define IOTRACE_VERSION "unknown"
#endif

#define PROC_ENDED_KEPT 65536 /* ended processes kept for their queued events */
#define USER_CACHE_SIZE 1024
#define HANDLE_CACHE_SIZE 4096
#define CLIENT_CACHE_SIZE 1024

static void print_sudo_hint(int argc, char **argv)
{
    fputs("iotrace: watching file accesses needs root (CAP_SYS_ADMIN); run: sudo iotrace", stderr);
    for (int i = 1; i < argc; i++)
        fprintf(stderr, " %s", argv[i]);
    fputc('\n', stderr);
}

/* Marks one mount in every group; each group that cannot mark it gets one warning
 * saying what is missing there, and the others still watch it. The listing group goes
 * with the file group: directories' reads, opens and closes. */
struct watch_setup {
    struct source *files;
    struct source *listings;
    struct source *dirs;
    struct handle_resolver *handles;
    const char *mark_path; /* -c: "." (exactly the current mount); else the mount point */
};

static const char *why_unmarkable(int err)
{
    switch (err) {
    case EXDEV:
        return " (a btrfs subvolume, or an id-mapped mount: fanotify reports these events only for whole filesystems)";
    case ENODEV:
    case EOPNOTSUPP:
        return " (this filesystem cannot report file handles)";
    case EINVAL:
        return " (not supported by this kernel for this filesystem)";
    default:
        return "";
    }
}

static bool watch_mount(void *ctx, const struct mount_entry *m)
{
    struct watch_setup *w = ctx;
    const char *path = w->mark_path ? w->mark_path : m->mount_point;
    int file_err = w->listings->fan_fd >= 0 ? source_mark(w->listings, path) : 0;
    if (file_err == 0 && w->files->fan_fd >= 0 && (file_err = source_mark(w->files, path)) != 0 &&
        w->listings->fan_fd >= 0)
        source_unmark(w->listings, path, false); /* all of reads, writes, opens, closes or none */
    int dir_err = w->dirs->fan_fd >= 0 ? source_mark(w->dirs, path) : 0;
    if (w->dirs->fan_fd >= 0 && dir_err == 0)
        dir_err = handle_resolver_add(w->handles, path);
    bool files_ok = (w->files->fan_fd < 0 && w->listings->fan_fd < 0) || file_err == 0;
    bool dirs_ok = w->dirs->fan_fd < 0 || dir_err == 0;

    if (!files_ok && !dirs_ok) {
        fprintf(stderr, "iotrace: cannot watch %s (%s): %s%s; other mounts are still watched\n",
                m->mount_point, m->fstype, strerror(-file_err), why_unmarkable(-file_err));
        return false;
    }
    if (!files_ok)
        fprintf(stderr, "iotrace: %s (%s): reads, writes, opens and closes are not shown: %s%s\n",
                m->mount_point, m->fstype, strerror(-file_err), why_unmarkable(-file_err));
    if (!dirs_ok)
        fprintf(stderr, "iotrace: %s (%s): creates, deletes, moves and attribute changes are not shown: %s%s\n",
                m->mount_point, m->fstype, strerror(-dir_err), why_unmarkable(-dir_err));
    return true;
}

/* -c: the mount holding ".", found in mountinfo by its id for the messages. */
struct current_mount {
    int mount_id;
    struct watch_setup *w;
    bool watched;
};

static bool watch_if_current(void *ctx, const struct mount_entry *m)
{
    struct current_mount *c = ctx;
    if (m->mount_id != c->mount_id || c->watched)
        return false;
    c->watched = watch_mount(c->w, m);
    return c->watched;
}

static int watch_current_mount(struct watch_setup *w)
{
    struct statx stx;
    struct current_mount c = { .mount_id = -1, .w = w };
    w->mark_path = ".";
    if (statx(AT_FDCWD, ".", 0, STATX_MNT_ID, &stx) == 0 && (stx.stx_mask & STATX_MNT_ID))
        c.mount_id = (int)stx.stx_mnt_id;
    mounts_for_each_real("/proc/self/mountinfo", watch_if_current, &c);
    if (!c.watched && c.mount_id >= 0) {
        /* a pseudo filesystem, or not found: try anyway, and let the kernel say */
        char cwd[4096];
        struct mount_entry m = { .mount_point = getcwd(cwd, sizeof cwd) ? cwd : ".", .fstype = "?" };
        c.watched = watch_mount(w, &m);
    }
    return c.watched ? 1 : 0;
}

/* PATH...: the mounts that hold them and those below; -d: the directories alone. */
struct paths_setup {
    struct watch_setup *w;
    const struct filter *f;
};

static bool watch_if_below(void *ctx, const struct mount_entry *m)
{
    const struct paths_setup *p = ctx;
    for (size_t i = 0; i < p->f->n_subtrees; i++)
        if (strcmp(m->mount_point, p->f->subtrees[i]) != 0 &&
            path_is_under(m->mount_point, strlen(m->mount_point), p->f->subtrees[i]))
            return watch_mount(p->w, m);
    return false;
}

static int watch_paths(struct watch_setup *w, const struct filter *f)
{
    for (size_t i = 0; i < f->n_subtrees; i++) {
        struct mount_entry m = { .mount_point = f->subtrees[i], .fstype = "PATH argument" };
        if (!watch_mount(w, &m))
            return -1; /* the reason is printed */
    }
    struct paths_setup p = { w, f };
    int rc = f->n_subtrees ? mounts_for_each_real("/proc/self/mountinfo", watch_if_below, &p) : 0;
    if (rc < 0) {
        fprintf(stderr, "iotrace: cannot read /proc/self/mountinfo: %s\n", strerror(-rc));
        return -1;
    }
    for (size_t i = 0; i < f->n_dirs; i++) {
        int file_err = w->listings->fan_fd >= 0 ? source_mark_dir(w->listings, f->dirs[i]) : 0;
        if (file_err == 0 && w->files->fan_fd >= 0)
            file_err = source_mark_dir(w->files, f->dirs[i]); /* a failure stops iotrace */
        int dir_err = w->dirs->fan_fd >= 0 ? source_mark_dir(w->dirs, f->dirs[i]) : 0;
        if (w->dirs->fan_fd >= 0 && dir_err == 0)
            dir_err = handle_resolver_add(w->handles, f->dirs[i]);
        if (file_err || dir_err) {
            fprintf(stderr, "iotrace: cannot watch %s: %s\n", f->dirs[i], strerror(-(file_err ? file_err : dir_err)));
            return -1;
        }
    }
    return 0;
}

static void follow_fork(void *filter, pid_t parent, pid_t child)
{
    filter_note_fork(filter, parent, child);
}

int main(int argc, char **argv)
{
    /* static: on an early error return its strings are still reachable, not leaked */
    static struct config cfg;
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
    /* Before anything is set up: a stop or SIGHUP that comes early waits, blocked, for
     * the read loop instead of killing iotrace half-way (or, with -o, mid-rotation). */
    sigset_t run_mask;
    if (loop_setup_signals(&run_mask, cfg.output_path != NULL) != 0) {
        fprintf(stderr, "iotrace: cannot set up signals: %s\n", strerror(errno));
        return 1;
    }
    if (options_resolve_paths(&cfg, err, sizeof err) != 0) {
        fprintf(stderr, "iotrace: %s\n", err);
        return 2;
    }

    struct source files, listings = { .fan_fd = -1 }, dirs;
    /* Directory events also need directory opens (see tracer.c) */
    unsigned file_types = cfg.filter.types;
    if (file_types & (EV_CREATE | EV_DELETE | EV_MOVED_FROM | EV_MOVED_TO | EV_ATTRIB))
        file_types |= EV_OPEN;
    int rc = source_open(&files, file_types, cfg.unlimited_queue);
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
    /* Before Linux 6.0 the file group keeps directories, and the tracer tells them by
     * an fstat per open */
    bool listings_apart = files.fan_fd >= 0 &&
                          source_open_listings(&listings, file_types, cfg.unlimited_queue, &files, cfg.filter.types) == 0;
    rc = source_open_dirs(&dirs, cfg.filter.types, cfg.unlimited_queue);
    if (rc)
        fprintf(stderr, "iotrace: creates, deletes, moves and attribute changes are not shown: this kernel "
                        "cannot report file names (%s; needs Linux 5.9)\n", strerror(-rc));

    struct output out;
    const char *out_name = cfg.output_path ? cfg.output_path : "standard output";
    rc = cfg.append ? output_open_append(&out, cfg.output_path) : output_open(&out, cfg.output_path);
    if (rc) {
        fprintf(stderr, "iotrace: cannot create %s: %s%s\n", cfg.output_path, strerror(-rc),
                rc == -EEXIST ? " (iotrace never overwrites a file; choose a new name)" : "");
        return 1;
    }

    struct handle_resolver *handles = handle_resolver_new(HANDLE_CACHE_SIZE);
    struct watch_setup w = { .files = &files, .listings = &listings, .dirs = &dirs, .handles = handles };
    if (!handles) {
        fputs("iotrace: out of memory\n", stderr);
        return 1;
    }
    /* Process events are subscribed to before any mount is marked: a process that
     * makes an access we see has its fork and exec in the stream, or is in /proc when
     * the table is seeded below. Without them (not root in the initial network
     * namespace, or a kernel without the connector) the table falls back to reading
     * /proc per batch. */
    struct procevents pe = { .connector_fd = -1, .taskstats_fd = -1 };
    /* Outside the initial pid namespace the kernel takes the subscription and sends
     * nothing, and its pids would not be ours anyway. */
    bool tracked = pidns_is_initial() && procevents_open(&pe) == 0;

    if (cfg.current_mount) {
        if (watch_current_mount(&w) == 0)
            return 1; /* the reason is printed */
    } else if (cfg.filter.n_subtrees || cfg.filter.n_dirs) {
        if (watch_paths(&w, &cfg.filter) != 0)
            return 1;
    } else {
        rc = mounts_for_each_real("/proc/self/mountinfo", watch_mount, &w);
        if (rc < 0) {
            fprintf(stderr, "iotrace: cannot read /proc/self/mountinfo: %s\n", strerror(-rc));
            return 1;
        }
        if (rc == 0) {
            fputs("iotrace: no mount could be watched\n", stderr);
            return 1;
        }
    }

    if (cfg.output_path)
        loop_ignore_output_file(&files, &out);

    /* In a container with the host's /proc, /proc/PID is another process than fanotify's
     * PID: no name at all is better than a wrong one. */
    bool proc_is_ours = procfs_is_ours("/proc");
    if (!proc_is_ours)
        fputs("iotrace: /proc is not of this pid namespace, so processes are shown as unknown "
              "(mount a matching one, e.g. unshare --pid --fork --mount-proc)\n", stderr);

    struct tracer t = {
        .filter = &cfg.filter,
        .want_user = cfg.user || (cfg.have_template && cfg.template.needs_user_name),
        .want_ids = cfg.have_template && cfg.template.needs_ids,
        .want_inode = cfg.inode || (cfg.have_template && cfg.template.needs_inode),
        .self = getpid(),
        .fd_dir = paths_open_fd_dir(),
        .want_parents = cfg.parents,
        .listings_apart = listings_apart,
        .procs = proc_table_new(proc_is_ours ? "/proc" : NULL, PROC_ENDED_KEPT),
        .users = user_cache_new(USER_CACHE_SIZE, NULL),
        .handles = handles,
        .clients = client_table_new("/proc", CLIENT_CACHE_SIZE),
        .out = &out,
        .quiet = cfg.quiet,
    };
    struct timespec started;
    clock_gettime(CLOCK_REALTIME, &started);
    if (cfg.summary && !(t.summary = summary_new(SUMMARY_MAX_KEYS, &started))) {
        fputs("iotrace: out of memory\n", stderr);
        return 1;
    }
    formatter_init(&t.fmt, cfg.json, cfg.user, cfg.timestamp);
    if (cfg.have_template)
        t.fmt.template = &cfg.template;
    t.fmt.exe = cfg.exe;
    t.fmt.parents = cfg.parents;
    if (!t.procs || !t.users || !t.clients) {
        fputs("iotrace: out of memory\n", stderr);
        return 1;
    }

    proc_table_set_wants(t.procs, cfg.exe, cfg.parents);
    proc_table_set_tracked(t.procs, tracked);
    if (tracked)
        proc_table_seed(t.procs);
    if (cfg.filter.children) {
        proc_table_on_fork(t.procs, follow_fork, &cfg.filter);
        if (!tracked)
            fputs("iotrace: --children needs the kernel's process events, which are not available here: "
                  "only the processes given with --pid are shown\n", stderr);
    }

    /* Everything that needed privileges is set up: keep only what reading goes on
     * needing (see privileges.h and the man page, PRIVILEGES). */
    rc = privileges_drop(privileges_to_keep());
    if (rc) {
        fprintf(stderr, "iotrace: cannot drop the capabilities it no longer needs: %s\n", strerror(-rc));
        return 1;
    }

    struct source *groups[GROUPS] = { [GROUP_FILES] = &files, [GROUP_LISTINGS] = &listings, [GROUP_DIRS] = &dirs };
    int status = loop_run(groups, &pe, &t, &out, &cfg, out_name, &run_mask);
    procevents_close(&pe);
    if (status >= 0) {
        loop_report_exit(&t.stats, cfg.quiet);
    }
    else
        status = 0;

    source_close(&files);
    source_close(&listings);
    source_close(&dirs);
    handle_resolver_free(handles);
    output_close(&out);
    if (t.fd_dir >= 0)
        close(t.fd_dir);
    proc_table_free(t.procs);
    user_cache_free(t.users);
    client_table_free(t.clients);
    summary_free(t.summary);
    config_free(&cfg);
    return status;
}
