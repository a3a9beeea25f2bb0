/* Who made an access: processes that exit at once, renames, user changes, -e and -P,
 * on a private tmpfs. To make "already exited" certain rather than likely, the tracer
 * is stopped (SIGSTOP) while the processes run and exit, and continued after. */
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
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static char prefix_buf[4][128];

static const char *who(int slot, const char *comm, pid_t pid, const char *user)
{
    snprintf(prefix_buf[slot], sizeof prefix_buf[slot], "%s(%d) [%s]: ", comm, (int)pid, user);
    return prefix_buf[slot];
}

static void assert_some_types(struct scene *s, const char *prefix, const char *path)
{
    if (types_for(s->out, prefix, path)[0] == '\0')
        fail_msg("no line '%s... %s' in:\n%s", prefix, path, s->out);
}

/* Waits until the tracer has printed a line about `name` (it flushes after each read):
 * a synchronisation point, generous so that only a missing line fails. */
static void wait_output(struct scene *s, const char *name)
{
    char needle[256], with_more[256]; /* the path ends the line, or -e/-P follow it */
    snprintf(needle, sizeof needle, "%s\n", in_mnt(s, name, 7));
    snprintf(with_more, sizeof with_more, "%s ", in_mnt(s, name, 7));
    for (int i = 0; i < 3000; i++) {
        char *out = read_file(s->out_path);
        bool found = strstr(out, needle) || strstr(out, with_more);
        free(out);
        if (found)
            return;
        usleep(10000);
    }
    fail_msg("iotrace never showed %s", needle);
}

static void test_exited_at_once_named_with_user(void **state)
{
    struct scene *s = *state;
    run_cmd(s, A("sh", "-c", "echo data > shared"));
    start_tracer(s, A("-c", "-u"));
    kill(s->tracer, SIGSTOP); /* every process below is reaped before its events are read */
    pid_t sh = run_cmd(s, A("sh", "-c", "echo x > byroot"));
    pid_t cat = run_cmd(s, A("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "cat", "shared"));
    pid_t nobody_sh = run_cmd(s, A("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "sh", "-c",
                                   "echo y > bynobody"));
    kill(s->tracer, SIGCONT);
    stop_tracer(s);

    assert_some_types(s, who(0, "sh", sh, "root"), in_mnt(s, "byroot", 0));
    assert_some_types(s, who(0, "cat", cat, "nobody"), in_mnt(s, "shared", 0));
    assert_some_types(s, who(0, "sh", nobody_sh, "nobody"), in_mnt(s, "bynobody", 0));
    assert_null(strstr(s->out, "unknown("));
    assert_null(strstr(s->out, " [?]: "));
}

static pid_t spawn_helper(struct scene *s, int *go, const char *mode)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(p[0], 0);
        close(p[1]);
        if (chdir(s->mnt) != 0)
            _exit(127);
        execl(ATTR_HELPER, ATTR_HELPER, mode, (char *)NULL);
        _exit(127);
    }
    close(p[0]);
    *go = p[1];
    return pid;
}

static void go_on(int go)
{
    assert_int_equal(write(go, "g", 1), 1);
}

static void assert_exited_ok(pid_t pid)
{
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* A rename and a change of user show for the accesses made after them, and only
 * those: each step waits until the tracer has shown the one before. */
static void test_rename_and_setuid(void **state)
{
    struct scene *s = *state;
    start_tracer(s, A("-c", "-u"));
    int go;
    pid_t helper = spawn_helper(s, &go, "steps");
    wait_output(s, "before");
    go_on(go);
    wait_output(s, "after");
    kill(s->tracer, SIGSTOP); /* the last step is read only once the helper is gone */
    go_on(go);
    close(go);
    assert_exited_ok(helper);
    kill(s->tracer, SIGCONT);
    stop_tracer(s);

    assert_some_types(s, who(0, "attr-helper", helper, "root"), in_mnt(s, "before", 0));
    assert_some_types(s, who(0, "renamed", helper, "root"), in_mnt(s, "after", 0));
    assert_some_types(s, who(0, "renamed", helper, "nobody"), in_mnt(s, "asnobody", 0));
    /* and never the old name or user for a later access */
    assert_string_equal(types_for(s->out, who(0, "attr-helper", helper, "root"), in_mnt(s, "after", 0)), "");
    assert_string_equal(types_for(s->out, who(0, "renamed", helper, "root"), in_mnt(s, "asnobody", 0)), "");
}

/* -e and -P for a process that has exited, and whose parent has exited, by the time
 * its event is read. */
static void test_exe_and_parents_of_exited(void **state)
{
    struct scene *s = *state;
    start_tracer(s, A("-c", "-e", "-P"));
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t parent = fork();
    assert_true(parent >= 0);
    if (parent == 0) { /* a parent with a name of its own, which forks the helper */
        close(p[1]);
        prctl(PR_SET_NAME, "attr-parent", 0, 0, 0);
        pid_t child = fork();
        if (child == 0) {
            dup2(p[0], 0);
            if (chdir(s->mnt) != 0)
                _exit(127);
            execl(ATTR_HELPER, ATTR_HELPER, "final", (char *)NULL);
            _exit(127);
        }
        int status;
        _exit(child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) ? WEXITSTATUS(status) : 1);
    }
    close(p[0]);
    wait_output(s, "ready"); /* the helper's exec has been read */
    kill(s->tracer, SIGSTOP);
    go_on(p[1]);
    close(p[1]);
    assert_exited_ok(parent);
    kill(s->tracer, SIGCONT);
    stop_tracer(s);

    char self_exe[4096];
    ssize_t n = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
    assert_true(n > 0);
    self_exe[n] = '\0';
    char expected[8192];
    snprintf(expected, sizeof expected, " %s exe=%s, parents=(pid=%d comm=attr-parent exe=%s),(pid=%d comm=",
             in_mnt(s, "final", 0), ATTR_HELPER, (int)parent, self_exe, (int)getpid());
    const char *line = strstr(s->out, expected);
    if (!line)
        fail_msg("no line with '%s' in:\n%s", expected, s->out);
    const char *eol = strchr(line, '\n');
    const char *init = strstr(line, ",(pid=1 comm=");
    assert_true(init && init < eol); /* the chain goes up to init */
}

int main(void)
{
    if (geteuid() != 0) {
        printf("attribution tests skipped: they need root (they mount a private tmpfs)\n");
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_exited_at_once_named_with_user, scene_setup, scene_teardown),
        cmocka_unit_test_setup_teardown(test_rename_and_setuid, scene_setup, scene_teardown),
        cmocka_unit_test_setup_teardown(test_exe_and_parents_of_exited, scene_setup, scene_teardown),
    };
    return cmocka_run_group_tests_name("iotrace names processes", tests, NULL, NULL);
}
