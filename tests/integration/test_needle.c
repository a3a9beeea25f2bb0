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
    pid_t ls = run_cmd(s, A("ls", "d/sub")); /* a directory in it is */
    stop_tracer(s);

    expect_line("touch(%d): O %s", (int)touch, in_mnt(s, "d/x", 0));
    expect_line("ls(%d): O %s", (int)ls, in_mnt(s, "d/sub", 0));
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

/* The text after the first line (which holds local times). */
static const char *after_first_line(const char *text)
{
    const char *nl = strchr(text, '\n');
    return nl ? nl + 1 : "";
}

static void test_summary_text(void **state)
{
    struct scene *s = *state;
    start_tracer(s, A("-c", "-f", "O", "--summary", "-q", "--top", "2"));
    pid_t many = run_cmd(s, A("touch", "f1", "f2", "f3"));
    pid_t one = run_cmd(s, A("touch", "f1"));
    stop_tracer(s);

    assert_int_equal(s->exit_status, 0);
    assert_non_null(strstr(s->out, ": 4 events\n"));
    expect_line("  EVENTS       O  FILE");
    expect_line("       2       2  %s", in_mnt(s, "f1", 0));
    expect_line("       1       1  %s", in_mnt(s, "f2", 0));
    expect_line("       1       1  (1 more files)");
    expect_line("  EVENTS       O  PROCESS");
    expect_line("       3       3  touch(%d)", (int)many);
    expect_line("       1       1  touch(%d)", (int)one);
    expect_line("  EVENTS       O  USER");
    expect_line("       4       4  root");
    assert_output(after_first_line(s->out));
    assert_string_equal(s->err, "iotrace: 4 events counted, none lost\n");

    /* without -q: event lines on stdout, the table on stderr */
    start_tracer(s, A("-c", "-f", "O", "--summary"));
    pid_t touch = run_cmd(s, A("touch", "f4"));
    stop_tracer(s);
    expect_line("touch(%d): O %s", (int)touch, in_mnt(s, "f4", 0));
    assert_output(s->out);
    expect_line("  EVENTS       O  FILE");
    expect_line("       1       1  %s", in_mnt(s, "f4", 0));
    expect_line("  EVENTS       O  PROCESS");
    expect_line("       1       1  touch(%d)", (int)touch);
    expect_line("  EVENTS       O  USER");
    expect_line("       1       1  root");
    expect_line("iotrace: 1 event shown, none lost");
    assert_output(after_first_line(s->err));
}

static void test_summary_json(void **state)
{
    struct scene *s = *state;
    start_tracer(s, A("-c", "-f", "O", "-j", "--summary", "-q"));
    pid_t touch = run_cmd(s, A("touch", "j1", "j2"));
    stop_tracer(s);

    double start, end;
    int consumed = 0;
    assert_int_equal(sscanf(s->out, "{\"summary\":{\"start\":%lf,\"end\":%lf,%n", &start, &end, &consumed), 2);
    assert_true(end >= start);
    char want[2048];
    snprintf(want, sizeof want,
             "\"events\":2,\"types\":{\"O\":2},\"limit\":10000,"
             "\"files\":[{\"path\":\"%s\",\"events\":1,\"types\":{\"O\":1}},"
             "{\"path\":\"%s\",\"events\":1,\"types\":{\"O\":1}}],"
             "\"processes\":[{\"comm\":\"touch\",\"pid\":%d,\"events\":2,\"types\":{\"O\":2}}],"
             "\"users\":[{\"user\":\"root\",\"uid\":0,\"events\":2,\"types\":{\"O\":2}}]}}\n",
             in_mnt(s, "j1", 0), in_mnt(s, "j2", 1), (int)touch);
    assert_string_equal(s->out + consumed, want);
}

/* Waits (generously: not a timing test) until the tracer's output holds `needle`. */
static char *wait_for_output(const char *path, const char *needle)
{
    for (int i = 0; i < 3000; i++) {
        char *text = read_file(path);
        if (strstr(text, needle))
            return text;
        free(text);
        usleep(10000);
    }
    fail_msg("'%s' never appeared in %s", needle, path);
    return NULL;
}

static void test_summary_interval(void **state)
{
    struct scene *s = *state;
    start_tracer(s, A("-c", "-f", "O", "--summary", "--interval", "1", "-q"));
    run_cmd(s, A("touch", "first"));
    char first_row[256], second_row[256];
    snprintf(first_row, sizeof first_row, "       1       1  %s\n", in_mnt(s, "first", 0));
    snprintf(second_row, sizeof second_row, "       1       1  %s\n", in_mnt(s, "second", 0));
    free(wait_for_output(s->out_path, first_row));
    run_cmd(s, A("touch", "second"));
    free(wait_for_output(s->out_path, second_row));
    stop_tracer(s);

    /* each report counts its own interval: the one with "second" has not "first" */
    const char *report = strstr(s->out, second_row);
    assert_non_null(report);
    while (report > s->out && strncmp(report, "iotrace summary", 15) != 0)
        report--;
    const char *next = strstr(report + 1, "iotrace summary");
    const char *found = strstr(report, first_row);
    assert_true(found == NULL || (next && found > next));
    assert_string_equal(s->err, "iotrace: 2 events counted, none lost\n");
}

static void test_append(void **state)
{
    struct scene *s = *state;
    const char *log = in_mnt(s, "log", 7);
    FILE *f = fopen(log, "w");
    fputs("an earlier line\n", f);
    fclose(f);
    start_tracer(s, A("-c", "-f", "O", "-o", "log", "--append"));
    pid_t touch = run_cmd(s, A("touch", "a"));
    stop_tracer(s);

    assert_int_equal(s->exit_status, 0);
    char *text = read_file(log);
    expect_line("an earlier line");
    expect_line("touch(%d): O %s", (int)touch, in_mnt(s, "a", 0));
    assert_output(text);
    free(text);
}

/* logrotate's way: move the file away, SIGHUP, and iotrace writes to a new file. */
static void test_sighup_reopens(void **state)
{
    struct scene *s = *state;
    char log[512], rotated[512];
    snprintf(log, sizeof log, "%s", in_mnt(s, "log", 0));
    snprintf(rotated, sizeof rotated, "%s", in_mnt(s, "log.1", 0));
    start_tracer(s, A("-c", "-f", "O", "-o", "log"));
    pid_t before = run_cmd(s, A("touch", "before"));
    char row[512];
    snprintf(row, sizeof row, "%s\n", in_mnt(s, "before", 0));
    free(wait_for_output(log, row));
    assert_int_equal(rename(log, rotated), 0);
    kill(s->tracer, SIGHUP);
    struct stat st;
    for (int i = 0; i < 3000 && stat(log, &st) != 0; i++) /* until it has reopened */
        usleep(10000);
    assert_int_equal(stat(log, &st), 0);
    pid_t after = run_cmd(s, A("touch", "after"));
    stop_tracer(s);

    assert_int_equal(s->exit_status, 0);
    assert_string_equal(s->err, "iotrace: 2 events shown, none lost\n");
    char *old = read_file(rotated), *new = read_file(log);
    expect_line("touch(%d): O %s", (int)before, in_mnt(s, "before", 0));
    assert_output(old);
    expect_line("touch(%d): O %s", (int)after, in_mnt(s, "after", 0));
    assert_output(new);
    free(old);
    free(new);

    /* without -o, SIGHUP still means stop */
    start_tracer(s, A("-c"));
    kill(s->tracer, SIGHUP);
    wait_tracer(s, 30);
    assert_int_equal(s->exit_status, 0);
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
        cmocka_unit_test_setup_teardown(test_summary_text, scene_setup, scene_teardown),
        cmocka_unit_test_setup_teardown(test_summary_json, scene_setup, scene_teardown),
        cmocka_unit_test_setup_teardown(test_summary_interval, scene_setup, scene_teardown),
        cmocka_unit_test_setup_teardown(test_append, scene_setup, scene_teardown),
        cmocka_unit_test_setup_teardown(test_sighup_reopens, scene_setup, scene_teardown),
        cmocka_unit_test_setup_teardown(test_filter_errors, scene_setup, scene_teardown),
    };
    return cmocka_run_group_tests_name("iotrace filters and output shaping", tests, NULL, NULL);
}
