/* One scenario with iotrace under valgrind: hostile names, other users, text and JSON.
 * No invalid access, no leak, no event fd left open while it runs, and at exit only the
 * three standard fds it was given. */
#include "harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void run_scenario(struct scene *s)
{
    run_cmd(s, A("sh", "-c", "echo data > plain && printf x > \"$(printf 'new\\nline\\033[31m\\377')\""));
    run_cmd(s, A("cat", "plain"));
    run_cmd(s, A("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "cat", "plain"));
    run_cmd(s, A("sh", "-c", "for i in 1 2 3 4 5 6 7 8; do echo $i > f$i; cat f$i; rm f$i; done"));
    run_cmd(s, A("ls", "-la"));
}

/* The fd count once it is steady: iotrace holds event fds only while it handles a batch,
 * and under valgrind a batch can take a while. */
static int steady_fd_count(pid_t pid)
{
    int before = count_fds(pid);
    for (int i = 0; i < 100; i++) {
        usleep(100000);
        int now = count_fds(pid);
        if (now == before)
            return now;
        before = now;
    }
    return before;
}

static void check_under_valgrind(struct scene *s, const char *mode)
{
    start_tracer_argv(s, A("valgrind", "--leak-check=full", "--show-leak-kinds=all", "--errors-for-leak-kinds=all",
                           "--error-exitcode=99", "--track-fds=yes", "--log-fd=2", IOTRACE_BIN, "-c", "-u", mode));
    pid_t pid = tracer_pid(s);
    int fds_at_start = steady_fd_count(pid);
    run_scenario(s);
    run_cmd(s, A("touch", "last"));
    assert_true(wait_for_text(s, NULL, "/last", 120));
    int fds_at_end = steady_fd_count(pid);
    stop_tracer(s);
    const char *report = s->err; /* valgrind writes to iotrace's stderr */
    if (s->exit_status != 0 || !strstr(report, "ERROR SUMMARY: 0 errors from 0 contexts") ||
        !strstr(report, "All heap blocks were freed -- no leaks are possible") ||
        !strstr(report, "FILE DESCRIPTORS: 3 open (3 std) at exit."))
        fail_msg("iotrace %s under valgrind (status %d):\n%s", mode, s->exit_status, report);
    assert_int_equal(fds_at_end, fds_at_start);
    assert_true(count_lines(s->out) >= 10);
}

static void test_text_under_valgrind(void **state)
{
    check_under_valgrind(*state, "-t");
}

static void test_json_under_valgrind(void **state)
{
    check_under_valgrind(*state, "-j");
}

int main(void)
{
    if (geteuid() != 0) {
        printf("integration tests skipped: they need root (they mount a private tmpfs)\n");
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_text_under_valgrind, scene_setup, scene_teardown),
        cmocka_unit_test_setup_teardown(test_json_under_valgrind, scene_setup, scene_teardown),
    };
    return cmocka_run_group_tests_name("iotrace under valgrind", tests, NULL, NULL);
}
