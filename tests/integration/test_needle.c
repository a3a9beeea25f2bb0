/* Finding the needle: filters, --format, --summary, --append and SIGHUP, run as a user
 * would on a private tmpfs, asserting exact lines. Most tests ask only for opens (-f O):
 * one open of one file by one process is one line, whatever the kernel merges. */
#include "harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char expected[8192];

/* Appends one formatted line to `expected`. */
static void expect_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void expect_line(const char *fmt, ...)
{
    size_t len = strlen(expected);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(expected + len, sizeof expected - len, fmt, ap);
    va_end(ap);
    strncat(expected, "\n", sizeof expected - strlen(expected) - 1);
}

static void assert_output(const char *got)
{
    static char want[sizeof expected];
    memcpy(want, expected, sizeof want);
    expected[0] = '\0'; /* the next test starts afresh, even after a failure here */
    if (strcmp(got, want) != 0)
        fail_msg("expected:\n%s\ngot:\n%s", want, got);
}

static void make_dirs(struct scene *s, const char *const *names)
{
    for (; *names; names++)
        assert_int_equal(mkdir(in_mnt(s, *names, 0), 0777), 0);
}

static void test_subtree(void **state)
{
    struct scene *s = *state;
    make_dirs(s, A("a", "a/sub", "ab", "a/m"));
    /* a mount below the PATH: the subtree goes on across it */
    assert_int_equal(mount("iotrace-test-inner", in_mnt(s, "a/m", 0), "tmpfs", 0, "size=1m,mode=0777"), 0);
    start_tracer(s, A("-f", "O", "a/"));
    wait_for_marks(s, 2);
    pid_t touch = run_cmd(s, A("touch", "a/x", "a/sub/y", "ab/z", "top", "a/m/w"));
    stop_tracer(s);
    umount2(in_mnt(s, "a/m", 0), MNT_DETACH);

    assert_int_equal(s->exit_status, 0);
    expect_line("touch(%d): O %s", (int)touch, in_mnt(s, "a/x", 0));
    expect_line("touch(%d): O %s", (int)touch, in_mnt(s, "a/sub/y", 0));
    expect_line("touch(%d): O %s", (int)touch, in_mnt(s, "a/m/w", 0));
    assert_output(s->out);
}

static void test_dir_not_recursive(void **state)
{
    struct scene *s = *state;
    make_dirs(s, A("d", "d/sub"));
    start_tracer(s, A("-f", "O", "-d", "d"));
    pid_t touch = run_cmd(s, A("touch", "d/x", "d/sub/y", "top"));
    run_cmd(s, A("ls", "d")); /* the directory itself is not in it */
    stop_tracer(s);

    expect_line("touch(%d): O %s", (int)touch, in_mnt(s, "d/x", 0));
    assert_output(s->out);
}

static void test_exclude_path(void **state)
{
    struct scene *s = *state;
    make_dirs(s, A("skip"));
    start_tracer(s, A("-c", "-f", "O", "--exclude-path", "skip"));
    pid_t touch = run_cmd(s, A("touch", "skip/x", "skipper", "keep"));
    stop_tracer(s);

    expect_line("touch(%d): O %s", (int)touch, in_mnt(s, "skipper", 0));
    expect_line("touch(%d): O %s", (int)touch, in_mnt(s, "keep", 0));
    assert_output(s->out);
}

static void test_only_user(void **state)
{
    struct scene *s = *state;
    start_tracer(s, A("-c", "-f", "O", "-U", "nobody", "--only-user=54321"));
    run_cmd(s, A("touch", "by-root"));
    pid_t nobody = run_cmd(s, A("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "touch", "by-nobody"));
    pid_t nameless = run_cmd(s, A("setpriv", "--reuid=54321", "--regid=54321", "--clear-groups", "touch", "by-54321"));
    stop_tracer(s);

    expect_line("touch(%d): O %s", (int)nobody, in_mnt(s, "by-nobody", 0));
    expect_line("touch(%d): O %s", (int)nameless, in_mnt(s, "by-54321", 0));
    assert_output(s->out);
}

static void test_exclude_command(void **state)
{
    struct scene *s = *state;
    start_tracer(s, A("-c", "-f", "O", "--exclude-command", "touch"));
    run_cmd(s, A("touch", "t"));
    pid_t sh = run_cmd(s, A("sh", "-c", "echo > e"));
    stop_tracer(s);

    expect_line("sh(%d): O %s", (int)sh, in_mnt(s, "e", 0));
    assert_output(s->out);
}

/* A shell that exists before iotrace starts (so its pid can be given) and waits for a
 * line on *go before running `script`. */
static pid_t waiting_shell(struct scene *s, const char *script, int *go)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char full[512];
        snprintf(full, sizeof full, "read go; %s", script);
        dup2(p[0], 0);
        close(p[0]);
        close(p[1]);
        if (chdir(s->mnt) != 0)
            _exit(127);
        execlp("sh", "sh", "-c", full, (char *)NULL);
        _exit(127);
    }
    close(p[0]);
    *go = p[1];
    return pid;
}

static void release_and_wait(int go, pid_t pid)
{
    assert_int_equal(write(go, "go\n", 3), 3);
    close(go);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(status, 0);
}

static void test_pid_alone(void **state)
{
    struct scene *s = *state;
    run_cmd(s, A("touch", "f"));
    int go;
    pid_t shell = waiting_shell(s, "echo > own; cat f", &go);
    char pid_arg[16];
    snprintf(pid_arg, sizeof pid_arg, "%d", (int)shell);
    start_tracer(s, A("-c", "-f", "O", "--pid", pid_arg));
    run_cmd(s, A("touch", "f"));
    release_and_wait(go, shell);
    stop_tracer(s);

    expect_line("sh(%d): O %s", (int)shell, in_mnt(s, "own", 0));
    assert_output(s->out);
}

static void test_pid_children(void **state)
{
    struct scene *s = *state;
    run_cmd(s, A("touch", "f", "g"));
    int go;
    /* a child, and a grandchild through a second shell */
    pid_t shell = waiting_shell(s, "echo > own; cat f; sh -c 'cat g; :'", &go);
    char pid_arg[16];
    snprintf(pid_arg, sizeof pid_arg, "%d", (int)shell);
    start_tracer(s, A("-c", "-f", "O", "--pid", pid_arg, "--children"));
    pid_t stranger = run_cmd(s, A("cat", "f"));
    release_and_wait(go, shell);
    stop_tracer(s);

    /* the shell's line, then its child's and grandchild's, whose pids are not known */
    char *lines[4] = { NULL };
    int n = 0;
    for (char *line = strtok(s->out, "\n"); line && n < 4; line = strtok(NULL, "\n"))
        lines[n++] = line;
    assert_int_equal(n, 3);
    char want[512];
    snprintf(want, sizeof want, "sh(%d): O %s", (int)shell, in_mnt(s, "own", 0));
    assert_string_equal(lines[0], want);
    int child, grandchild;
    char path[512];
    assert_int_equal(sscanf(lines[1], "cat(%d): O %511[^\n]", &child, path), 2);
    assert_string_equal(path, in_mnt(s, "f", 0));
    assert_int_equal(sscanf(lines[2], "cat(%d): O %511[^\n]", &grandchild, path), 2);
    assert_string_equal(path, in_mnt(s, "g", 0));
    assert_int_not_equal(child, stranger);
    assert_int_not_equal(grandchild, stranger);
    assert_int_not_equal(child, grandchild);
}

static void test_format_csv_and_tsv(void **state)
{
    struct scene *s = *state;
    start_tracer(s, A("-c", "-f", "O", "--format", "%c,%p,%u,%U,%e,%f"));
    pid_t touch = run_cmd(s, A("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "touch", "a,b c"));
    stop_tracer(s);
    struct passwd *nobody = getpwnam("nobody");
    assert_non_null(nobody);
    expect_line("touch,%d,nobody,%u,O,%s/a\\x2cb c", (int)touch, (unsigned)nobody->pw_uid, s->mnt);
    assert_output(s->out);

    start_tracer(s, A("-c", "-f", "O", "--format", "%p\\t%e\\t%f"));
    touch = run_cmd(s, A("touch", "tab\there"));
    stop_tracer(s);
    expect_line("%d\tO\t%s/tab\\there", (int)touch, s->mnt);
    assert_output(s->out);
}

static void test_filter_errors(void **state)
{
    struct scene *s = *state;
    pid_t pid = fork();
    if (pid == 0) {
        int err = open(s->err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(err, 2);
        execl(IOTRACE_BIN, IOTRACE_BIN, "/no/such/place", (char *)NULL);
        _exit(98);
    }
    int status;
    waitpid(pid, &status, 0);
    assert_int_equal(WEXITSTATUS(status), 2);
    free(s->err);
    s->err = read_file(s->err_path);
    assert_string_equal(s->err, "iotrace: cannot watch /no/such/place: No such file or directory\n");
}

int main(void)
{
    if (geteuid() != 0) {
        printf("integration tests skipped: they need root (they mount a private tmpfs)\n");
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_subtree, scene_setup, scene_teardown),
        cmocka_unit_test_setup_teardown(test_dir_not_recursive, scene_setup, scene_teardown),
        cmocka_unit_test_setup_teardown(test_exclude_path, scene_setup, scene_teardown),
        cmocka_unit_test_setup_teardown(test_only_user, scene_setup, scene_teardown),
        cmocka_unit_test_setup_teardown(test_exclude_command, scene_setup, scene_teardown),
        cmocka_unit_test_setup_teardown(test_pid_alone, scene_setup, scene_teardown),
        cmocka_unit_test_setup_teardown(test_pid_children, scene_setup, scene_teardown),
        cmocka_unit_test_setup_teardown(test_format_csv_and_tsv, scene_setup, scene_teardown),
        cmocka_unit_test_setup_teardown(test_filter_errors, scene_setup, scene_teardown),
    };
    return cmocka_run_group_tests_name("iotrace filters and output shaping", tests, NULL, NULL);
}
