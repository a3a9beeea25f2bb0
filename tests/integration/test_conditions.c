/* Hard conditions: processes gone before their events are read, pid namespaces, kernel
 * threads, fd exhaustion, a full disk, a slow reader, queue overflow, and the
 * capabilities iotrace keeps. Each must give a defined output and a counted, reported
 * loss, never a crash or a silent one. */
#include "harness.h"
#include "lines.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "iotrace/proc.h"

/* Whether every letter of want is in got (create, delete and attribute events may come
 * beside the reads and writes). */
static bool has_letters(const char *got, const char *want)
{
    for (; *want; want++)
        if (!strchr(got, *want))
            return false;
    return true;
}

static void make_files(void *arg)
{
    int n = *(int *)arg;
    for (int i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "f%d", i);
        int fd = open(name, O_CREAT | O_WRONLY, 0644);
        if (fd < 0)
            _exit(1);
        close(fd);
    }
}

/* ---- least privilege ---- */

static void test_capabilities_dropped(void **state)
{
    struct scene *s = *state;
    run_cmd(s, A("sh", "-c", "echo secret > private && chown nobody private && chmod 600 private"));
    start_tracer(s, A("-c", "-u"));
    pid_t pid = tracer_pid(s);
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    char *status = read_file(path);
    /* CAP_DAC_READ_SEARCH (2) and CAP_SYS_PTRACE (19) only */
    assert_non_null(strstr(status, "CapInh:\t0000000000000000\n"));
    assert_non_null(strstr(status, "CapPrm:\t0000000000080004\n"));
    assert_non_null(strstr(status, "CapEff:\t0000000000080004\n"));
    assert_non_null(strstr(status, "CapBnd:\t0000000000080004\n"));
    assert_non_null(strstr(status, "CapAmb:\t0000000000000000\n"));
    assert_non_null(strstr(status, "NoNewPrivs:\t1\n"));
    free(status);
    /* and it still sees another user's private file, by path, with the user */
    pid_t cat = run_cmd(s, A("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "cat", "private"));
    stop_tracer(s);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "cat(%d) [nobody]: ", (int)cat);
    assert_true(has_letters(types_for(s->out, prefix, in_mnt(s, "private", 0)), "RCO"));
}

/* ---- processes ---- */

/* Stopped while short-lived processes run and exit: their events are read after they
 * are gone, and still named, with their users. */
static void test_processes_gone_before_read(void **state)
{
    struct scene *s = *state;
    run_cmd(s, A("sh", "-c", "echo data > shared"));
    start_tracer(s, A("-c", "-u"));
    kill(tracer_pid(s), SIGSTOP);
    pid_t pids[10];
    for (int i = 0; i < 10; i++)
        pids[i] = i % 2 ? run_cmd(s, A("cat", "shared"))
                        : run_cmd(s, A("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "head",
                                       "-c1", "shared"));
    kill(tracer_pid(s), SIGCONT);
    stop_tracer(s);
    /* Named from the process table (the exit record carries the name); never a wrong
     * name, and when the name could not be learnt, "unknown" with the right user. */
    int named = 0;
    for (int i = 0; i < 10; i++) {
        char prefix[64], unknown[64];
        const char *user = i % 2 ? "root" : "nobody";
        snprintf(prefix, sizeof prefix, "%s(%d) [%s]: ", i % 2 ? "cat" : "head", (int)pids[i], user);
        snprintf(unknown, sizeof unknown, "unknown(%d) [%s]: ", (int)pids[i], user);
        bool is_named = has_letters(types_for(s->out, prefix, in_mnt(s, "shared", 0)), "RCO");
        named += is_named;
        if (!is_named && !has_letters(types_for(s->out, unknown, in_mnt(s, "shared", 0)), "RCO"))
            fail_msg("no '%sRCO' line for a process gone before its events were read:\n%s", prefix, s->out);
    }
    if (named < 10)
        print_message("note: %d of 10 exited processes named (taskstats exit records missed)\n", named);
}

/* Kernel threads, pid 0 (a process outside our pid namespace) and a pid that does not
 * exist, against the real /proc. */
static void test_kernel_threads_and_pid_zero(void **state)
{
    (void)state;
    struct proc_table *t = proc_table_new("/proc", 64);
    const struct proc_info *kthreadd = proc_lookup(t, 2, true, PROC_LIVENESS_UNKNOWN, -1);
    assert_true(kthreadd->have_comm && kthreadd->have_ids);
    assert_string_equal(kthreadd->comm, "kthreadd");
    assert_int_equal(kthreadd->uid, 0);
    const struct proc_info *zero = proc_lookup(t, 0, true, PROC_LIVENESS_UNKNOWN, -1);
    assert_false(zero->have_comm || zero->have_ids);
    char max[32] = "4194304";
    FILE *f = fopen("/proc/sys/kernel/pid_max", "r");
    if (f) {
        assert_non_null(fgets(max, sizeof max, f));
        fclose(f);
    }
    const struct proc_info *none = proc_lookup(t, (pid_t)(atol(max) - 1), true, PROC_LIVENESS_UNKNOWN, -1);
    assert_false(none->have_comm);
    proc_table_free(t);

    t = proc_table_new(NULL, 64); /* no /proc to trust */
    assert_false(proc_lookup(t, 1, true, PROC_LIVENESS_UNKNOWN, -1)->have_comm);
    proc_table_free(t);
}

/* A process in a child pid namespace, seen by iotrace on the host: its host pid. */
static void test_process_in_child_pid_namespace(void **state)
{
    struct scene *s = *state;
    run_cmd(s, A("sh", "-c", "echo data > inside"));
    start_tracer(s, A("-c"));
    run_cmd(s, A("unshare", "--pid", "--fork", "cat", "inside"));
    stop_tracer(s);
    const char *line = strstr(s->out, "cat(");
    assert_non_null(line);
    char prefix[32];
    snprintf(prefix, sizeof prefix, "cat(%d): ", atoi(line + 4));
    if (!has_letters(types_for(s->out, prefix, in_mnt(s, "inside", 0)), "RCO"))
        fail_msg("no cat(PID): RCO line in:\n%s", s->out);
    assert_null(strstr(s->out, "cat(1)")); /* never the pid inside the namespace */
}

/* iotrace in a child pid namespace with the host's /proc: host processes come with pid
 * 0, and /proc/PID would name someone else, so processes are unknown, said once. */
static void test_iotrace_in_child_pid_namespace(void **state)
{
    struct scene *s = *state;
    start_tracer_argv(s, A("unshare", "--pid", "--fork", "--kill-child", IOTRACE_BIN, "-c"));
    run_cmd(s, A("touch", "from-host"));
    assert_true(wait_for_text(s, NULL, "from-host", 30));
    kill(tracer_pid(s), SIGINT);
    wait_tracer(s, 30);
    assert_int_equal(s->exit_status, 0);
    assert_true(has_letters(types_for(s->out, "unknown(0): ", in_mnt(s, "from-host", 0)), "CWO"));
    assert_non_null(strstr(s->err, "iotrace: /proc is not of this pid namespace, so processes are shown as unknown"));
}

/* iotrace in a child pid namespace with its own /proc: processes in it are named (from
 * /proc, as the kernel's process events are not delivered there). */
static void test_iotrace_with_own_proc(void **state)
{
    struct scene *s = *state;
    start_tracer_argv(s, A("unshare", "--pid", "--fork", "--kill-child", "--mount-proc", IOTRACE_BIN, "-c"));
    char target[16];
    snprintf(target, sizeof target, "%d", (int)tracer_pid(s));
    /* the mount namespace too: iotrace marked its own copy of the tmpfs mount */
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        execlp("nsenter", "nsenter", "-t", target, "-m", "-p", "--wd=.", "sh", "-c",
               "cd \"$1\" && echo x > in-ns && cat in-ns", "sh", s->mnt, (char *)NULL);
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    assert_int_equal(status, 0);
    assert_true(wait_for_text(s, NULL, "cat(", 30));
    kill(tracer_pid(s), SIGINT);
    wait_tracer(s, 30);
    assert_int_equal(s->exit_status, 0);
    /* pids are the namespace's (small), and named */
    const char *line = strstr(s->out, "cat(");
    int ns_pid = atoi(line + 4);
    assert_true(ns_pid > 1 && ns_pid < 100);
    /* Filesystem marks (FID mode) also see the host's processes: pid 0, unknown. A
     * process of the namespace may be unknown too (without process events, one that
     * exited before its events were read, as the man page says), but never a host pid. */
    for (const char *u = s->out; (u = strstr(u, "unknown(")); u++) {
        int upid = atoi(u + 8);
        if (upid >= 100)
            fail_msg("a pid that is not the namespace's:\n%s", s->out);
    }
    assert_null(strstr(s->err, "not of this pid namespace"));
}

/* ---- fd exhaustion ---- */

/* A burst bigger than the fd limit: the kernel opens one fd per event of a read, so
 * iotrace must read fewer events at a time; nothing may come without its file. */
static void test_burst_larger_than_fd_limit(void **state)
{
    struct scene *s = *state;
    /* (the limit in iotrace only: without CAP_SYS_RESOURCE a hard limit never goes back up) */
    start_tracer_argv(s, A("prlimit", "--nofile=256:256", IOTRACE_BIN, "-c"));
    int n = 3000;
    kill(tracer_pid(s), SIGSTOP);
    pid_t maker = run_child(s, "maker", make_files, &n);
    kill(tracer_pid(s), SIGCONT);
    stop_tracer(s);
    for (int i = 0; i < n; i++) {
        char name[32], prefix[32];
        snprintf(name, sizeof name, "f%d", i);
        snprintf(prefix, sizeof prefix, "maker(%d): ", (int)maker);
        if (!has_letters(types_for(s->out, prefix, in_mnt(s, name, 0)), "CWO"))
            fail_msg("f%d is missing its CWO line; stderr: %s; output starts: %.300s", i, s->err, s->out);
    }
    assert_null(strstr(s->err, "without their file"));
    assert_non_null(strstr(s->err, "none lost"));
}

struct no_file_count {
    int lines;
};

static void count_no_path(const struct parsed_line *l, void *ctx)
{
    struct no_file_count *c = ctx;
    c->lines += l->no_file;
}

/* The fd limit lowered under iotrace's feet (prlimit): the kernel cannot open the
 * events' files. They are shown without a path, counted and reported, and iotrace goes
 * on once fds are available again. */
static void test_fd_limit_lowered_while_running(void **state)
{
    struct scene *s = *state;
    start_tracer(s, A("-c"));
    pid_t pid = tracer_pid(s);
    /* both limits: iotrace raises a lowered soft limit to the hard one before every read.
     * The hard one cannot go up again (that needs CAP_SYS_RESOURCE, which the test
     * machine lacks), so iotrace stays starved: it must go on showing events, counted. */
    int open_fds = 0; /* the lowest free fd: the kernel allocates the lowest below the limit */
    for (char fd_path[64];; open_fds++) {
        snprintf(fd_path, sizeof fd_path, "/proc/%d/fd/%d", (int)pid, open_fds);
        if (access(fd_path, F_OK) != 0)
            break;
    }
    struct rlimit tight = { (rlim_t)open_fds, (rlim_t)open_fds };
    if (prlimit(pid, RLIMIT_NOFILE, &tight, NULL) != 0)
        fail_msg("prlimit %d fds: %s", open_fds, strerror(errno));
    int n = 5;
    run_child(s, "starved", make_files, &n);
    if (!wait_for_text(s, s->err_path, "came without their file", 30)) {
        stop_tracer(s);
        fail_msg("no fd error with the limit at %d; stderr: %s\noutput: %s", open_fds, s->err, s->out);
    }
    pid_t after = run_cmd(s, A("touch", "after"));
    char after_prefix[32];
    snprintf(after_prefix, sizeof after_prefix, "(%d):", (int)after);
    assert_true(wait_for_text(s, NULL, after_prefix, 30)); /* still going */
    stop_tracer(s);
    assert_int_equal(s->exit_status, 0);

    struct no_file_count c = { 0 };
    for_each_line(s->out, false, count_no_path, &c);
    assert_true(c.lines >= 1); /* (an fd iotrace itself freed may serve an event) */
    char summary[160];
    snprintf(summary, sizeof summary, "events shown (%d without their file: Too many open files), none lost", c.lines);
    if (!strstr(s->err, summary))
        fail_msg("expected '%s' in: %s", summary, s->err);
    assert_non_null(strstr(s->err, "the kernel could not open it for iotrace (Too many open files)"));
}

/* ---- output failures ---- */

static int small_teardown(void **state)
{
    struct scene *s = *state;
    char small[160];
    snprintf(small, sizeof small, "%s/small", s->dir);
    if (s->tracer > 0) {
        kill(s->tracer, SIGKILL);
        waitpid(s->tracer, NULL, 0);
        s->tracer = 0;
    }
    umount2(small, MNT_DETACH);
    rmdir(small);
    return scene_teardown(state);
}

/* A full disk under --output: iotrace stops with status 1 and says how many events it
 * wrote and how many it could not; the file holds exactly the lines it says. */
static void test_output_disk_full(void **state)
{
    struct scene *s = *state;
    char small[160], log[192];
    snprintf(small, sizeof small, "%s/small", s->dir);
    snprintf(log, sizeof log, "%s/log", small);
    assert_int_equal(mkdir(small, 0755), 0);
    assert_int_equal(mount("iotrace-small", small, "tmpfs", 0, "size=64k"), 0);
    start_tracer(s, A("-c", "-o", log));
    int n = 3000;
    run_child(s, "filler", make_files, &n);
    wait_tracer(s, 60);
    assert_int_equal(s->exit_status, 1);
    char expect[400];
    snprintf(expect, sizeof expect, "iotrace: cannot write to %s: No space left on device;", log);
    if (!strstr(s->err, expect))
        fail_msg("expected '%s' in: %s", expect, s->err);
    char *written = read_file(log);
    unsigned long shown, unwritten;
    const char *summary = strstr(s->err, "iotrace: ");
    summary = strstr(summary + 1, "iotrace: ");
    assert_non_null(summary);
    if (sscanf(summary, "iotrace: %lu events shown; events were lost: %lu events could not be written",
               &shown, &unwritten) != 2)
        fail_msg("no summary with the count not written in: %s", s->err);
    assert_int_equal(shown, count_lines(written));
    assert_true(unwritten > 0);
    free(written);
}

/* A reader that stops reading: iotrace blocks on the pipe, the kernel's queue overflows
 * (counted), and iotrace's memory stays bounded; when the reader comes back, so does
 * iotrace. */
static void test_slow_reader(void **state)
{
    struct scene *s = *state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    if (pid == 0) {
        int err = open(s->err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (chdir(s->mnt) != 0 || err < 0)
            _exit(127);
        dup2(p[1], 1);
        dup2(err, 2);
        close(p[0]);
        close(p[1]);
        execl(IOTRACE_BIN, IOTRACE_BIN, "-c", (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    s->tracer = pid;
    for (int i = 0; i < 1000 && !tracer_pid(s); i++)
        usleep(10000);
    assert_true(tracer_pid(s) > 0);
    int n = 20000; /* more events than the kernel queues (16384) and than the pipe holds */
    run_child(s, "burst", make_files, &n);
    for (int i = 0; i < 2; i++)
        run_child(s, "burst", make_files, &n); /* the same files again */
    long peak = proc_status_number(pid, "VmHWM:");
    /* the reader comes back; events made while the queue was full were dropped, so keep
     * touching a marker until iotrace shows it */
    pid_t toucher = fork();
    if (toucher == 0) {
        if (chdir(s->mnt) != 0)
            _exit(1);
        for (int i = 0; i < 3000; i++) {
            close(open("after-burst", O_CREAT | O_WRONLY, 0644));
            usleep(100000);
        }
        _exit(0);
    }
    char *all = NULL;
    size_t all_len = 0;
    FILE *mem = open_memstream(&all, &all_len);
    char buf[65536];
    bool stopped = false;
    for (;;) {
        ssize_t r = read(p[0], buf, sizeof buf);
        if (r <= 0)
            break;
        fwrite(buf, 1, (size_t)r, mem);
        fflush(mem);
        if (!stopped && memmem(all, all_len, "/after-burst\n", 13)) {
            kill(toucher, SIGKILL);
            waitpid(toucher, NULL, 0);
            kill(pid, SIGINT);
            stopped = true;
        }
    }
    fclose(mem);
    close(p[0]);
    wait_tracer(s, 60);
    assert_int_equal(s->exit_status, 0);
    assert_true(stopped);
    /* 1 MiB read buffer, 256 KiB of output buffer, the process table: a few MiB */
    if (peak <= 0 || peak > 16 * 1024)
        fail_msg("iotrace's peak memory was %ld KiB with a stalled reader", peak);
    assert_non_null(strstr(s->err, "the kernel event queue overflowed"));
    free(all);
}

/* ---- queue overflow ---- */

struct lost_records {
    int lost;
    bool after;
};

static void note_lost(const struct parsed_line *l, void *ctx)
{
    struct lost_records *c = ctx;
    if (l->path_len > 0 && strstr(l->path, "/after-overflow"))
        c->after = true;
}

static void test_queue_overflow(void **state)
{
    struct scene *s = *state;
    start_tracer(s, A("-c", "-j", "-tt"));
    kill(tracer_pid(s), SIGSTOP);
    int n = 20000;
    run_child(s, "burst", make_files, &n);
    kill(tracer_pid(s), SIGCONT);
    run_cmd(s, A("touch", "after-overflow"));
    assert_true(wait_for_text(s, NULL, "after-overflow", 30));
    stop_tracer(s);
    assert_int_equal(s->exit_status, 0);
    struct lost_records c = { 0 };
    for_each_line(s->out, true, note_lost, &c); /* every line, "lost" records too, is valid JSON */
    assert_true(c.after);
    /* each of iotrace's fanotify groups (files; directories in FID mode) can overflow:
     * as many "lost" records as the summary counts overflows */
    int records = 0;
    for (const char *p = s->out; (p = strstr(p, ",\"lost\":1}\n")); p++)
        records++;
    const char *summary = strstr(s->err, "; events were lost: the kernel queue overflowed ");
    int counted = 0;
    if (!summary || sscanf(summary, "; events were lost: the kernel queue overflowed %d times", &counted) != 1 ||
        counted < 1 || counted != records || !strstr(s->err, "iotrace: the kernel event queue overflowed ("))
        fail_msg("%d lost records; stderr: %s", records, s->err);
}

int main(void)
{
    if (geteuid() != 0) {
        printf("integration tests skipped: they need root (they mount a private tmpfs)\n");
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_capabilities_dropped, scene_setup, scene_teardown),
        cmocka_unit_test_setup_teardown(test_processes_gone_before_read, scene_setup, scene_teardown),
        cmocka_unit_test_setup_teardown(test_kernel_threads_and_pid_zero, scene_setup, scene_teardown),
        cmocka_unit_test_setup_teardown(test_process_in_child_pid_namespace, scene_setup, scene_teardown),
        cmocka_unit_test_setup_teardown(test_iotrace_in_child_pid_namespace, scene_setup, scene_teardown),
        cmocka_unit_test_setup_teardown(test_iotrace_with_own_proc, scene_setup, scene_teardown),
        cmocka_unit_test_setup_teardown(test_burst_larger_than_fd_limit, scene_setup, scene_teardown),
        cmocka_unit_test_setup_teardown(test_fd_limit_lowered_while_running, scene_setup, scene_teardown),
        cmocka_unit_test_setup_teardown(test_output_disk_full, scene_setup, small_teardown),
        cmocka_unit_test_setup_teardown(test_slow_reader, scene_setup, scene_teardown),
        cmocka_unit_test_setup_teardown(test_queue_overflow, scene_setup, scene_teardown),
    };
    return cmocka_run_group_tests_name("hard conditions", tests, NULL, NULL);
}
