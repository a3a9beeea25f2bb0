/* iotrace behind a burst: more events queued than fds free, more than the kernel's queue
 * holds. Stopping the tracer (SIGSTOP) while files are touched makes the backlog
 * deterministic, so these are tests of counts, not of speed. */
#include "harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Creates files f0..f{n-1} in the tmpfs from this process: one queued event each. */
static void touch_files(struct scene *s, int n)
{
    for (int i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "f%d", i);
        int fd = open(in_mnt(s, name, 0), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        close(fd);
    }
}

/* How many of f0..f{n-1} appear with their path on some line of the output. */
static int files_named(struct scene *s, int n)
{
    int named = 0;
    for (int i = 0; i < n; i++) {
        char line_end[160];
        snprintf(line_end, sizeof line_end, " %s/f%d\n", s->mnt, i);
        named += strstr(s->out, line_end) != NULL;
    }
    return named;
}

static long max_queued_events(void)
{
    char *text = read_file("/proc/sys/fs/fanotify/max_queued_events");
    long n = atol(text);
    free(text);
    return n;
}

/* Each event of a read comes with an open fd: under a low limit on open files a big
 * read used to get events without their file. */
static void test_backlog_beyond_fd_limit(void **state)
{
    struct scene *s = *state;
    s->nofile = 512; /* soft and hard: iotrace cannot raise it; a read of 600 events
                      * (and their pidfds) would need twice that */
    start_tracer(s, A("-c"));

    kill(s->tracer, SIGSTOP);
    touch_files(s, 600);
    kill(s->tracer, SIGCONT);
    stop_tracer(s);

    assert_int_equal(s->exit_status, 0);
    assert_int_equal(files_named(s, 600), 600);
    assert_null(strstr(s->out, " ?\n")); /* no event without its file */
    assert_non_null(strstr(s->err, "none lost"));
}

/* More events than the kernel queues: lost and said so by default, all kept with
 * --unlimited-queue. */
static void run_burst(struct scene *s, const char *const *args, int files)
{
    start_tracer(s, args);
    kill(s->tracer, SIGSTOP);
    touch_files(s, files);
    kill(s->tracer, SIGCONT);
    stop_tracer(s);
    assert_int_equal(s->exit_status, 0);
}

static void test_burst_overflows_by_default(void **state)
{
    struct scene *s = *state;
    long queue = max_queued_events();
    if (queue <= 0 || queue > 100000)
        skip();
    run_burst(s, A("-c"), (int)queue + 600);
    /* the summary says it whether the overflow was read before or after the stop */
    assert_non_null(strstr(s->err, "events were lost: the kernel queue overflowed"));
    assert_true(files_named(s, (int)queue + 600) < queue + 600);
}

static void test_burst_kept_with_unlimited_queue(void **state)
{
    struct scene *s = *state;
    long queue = max_queued_events();
    if (queue <= 0 || queue > 100000)
        skip();
    run_burst(s, A("-c", "--unlimited-queue"), (int)queue + 600);
    assert_int_equal(files_named(s, (int)queue + 600), queue + 600);
    assert_non_null(strstr(s->err, "none lost"));
}

int main(void)
{
    if (geteuid() != 0) {
        printf("integration tests skipped: they need root (they mount a private tmpfs)\n");
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_backlog_beyond_fd_limit, scene_setup, scene_teardown),
        cmocka_unit_test_setup_teardown(test_burst_overflows_by_default, scene_setup, scene_teardown),
        cmocka_unit_test_setup_teardown(test_burst_kept_with_unlimited_queue, scene_setup, scene_teardown),
    };
    return cmocka_run_group_tests_name("iotrace behind a burst", tests, NULL, NULL);
}
