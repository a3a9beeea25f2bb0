/* iotrace as a user runs it: on a private tmpfs, with known commands, asserting lines. */
#include "harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <unistd.h>

#include "iotrace/event.h"
#include "iotrace/mounts.h"
#include "iotrace/source.h"

static char prefix_buf[8][128];

/* "comm(pid): " or, with a user, "comm(pid) [user]: " */
static const char *who(int slot, const char *comm, pid_t pid, const char *user)
{
    if (user)
        snprintf(prefix_buf[slot], sizeof prefix_buf[slot], "%s(%d) [%s]: ", comm, (int)pid, user);
    else
        snprintf(prefix_buf[slot], sizeof prefix_buf[slot], "%s(%d): ", comm, (int)pid);
    return prefix_buf[slot];
}

static void assert_types(struct scene *s, const char *prefix, const char *path, const char *expected)
{
    const char *got = types_for(s->out, prefix, path);
    if (strcmp(got, expected) != 0)
        fail_msg("expected '%s%s %s', got types '%s' in:\n%s", prefix, expected, path, got, s->out);
}

static void test_text_lines(void **state)
{
    struct scene *s = *state;
    start_tracer(s, A("-c"));
    pid_t sh = run_cmd(s, A("sh", "-c", "echo hello > notes.txt"));
    pid_t cat = run_cmd(s, A("cat", "notes.txt"));
    pid_t touch = run_cmd(s, A("touch", "empty"));
    pid_t ls = run_cmd(s, A("ls", "."));
    stop_tracer(s);

    assert_int_equal(s->exit_status, 0);
    assert_types(s, who(0, "sh", sh, NULL), in_mnt(s, "notes.txt", 0), "CWO+");
    assert_types(s, who(0, "cat", cat, NULL), in_mnt(s, "notes.txt", 0), "RCO");
    assert_types(s, who(0, "touch", touch, NULL), in_mnt(s, "empty", 0), "CWO+A");
    assert_types(s, who(0, "ls", ls, NULL), s->mnt, "RCO"); /* a listing reads the directory */
    char summary[64];
    int n = count_lines(s->out);
    snprintf(summary, sizeof summary, "iotrace: %d %s shown, none lost\n", n, n == 1 ? "event" : "events");
    assert_string_equal(s->err, summary);
}

static void test_users_by_name(void **state)
{
    struct scene *s = *state;
    run_cmd(s, A("sh", "-c", "echo data > shared"));
    start_tracer(s, A("-c", "-u"));
    pid_t root_cat = run_cmd(s, A("cat", "shared"));
    pid_t nobody_cat = run_cmd(s, A("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                                    "cat", "shared"));
    pid_t nameless = run_cmd(s, A("setpriv", "--reuid=54321", "--regid=54321", "--clear-groups",
                                  "cat", "shared"));
    stop_tracer(s);

    const char *path = in_mnt(s, "shared", 0);
    assert_types(s, who(0, "cat", root_cat, "root"), path, "RCO");
    assert_types(s, who(0, "cat", nobody_cat, "nobody"), path, "RCO");
    assert_types(s, who(0, "cat", nameless, "54321"), path, "RCO");
}

/* The JSON line without its "types" value, which depends on how the kernel merged. */
/* The cat lines of a -c -u -j run equal `expected` but for their types (*). */
static void expect_json_cat_lines(struct scene *s, const char *expected)
{
    int matched = 0;
    for (char *line = strtok(s->out, "\n"); line; line = strtok(NULL, "\n")) {
        char *types = strstr(line, "\"types\":\"");
        assert_non_null(types);
        char *end = strchr(types + 9, '"');
        char normalized[1024];
        snprintf(normalized, sizeof normalized, "%.*s*%s", (int)(types + 9 - line), line, end);
        if (strstr(line, "\"comm\":\"cat\"")) {
            assert_string_equal(normalized, expected);
            matched++;
        }
    }
    assert_true(matched >= 1);
}

/* JSON: device and inode only with --inode (the path says which file it is). */
static void test_json_lines(void **state)
{
    struct scene *s = *state;
    run_cmd(s, A("sh", "-c", "echo data > j.txt"));
    struct stat st;
    assert_int_equal(stat(in_mnt(s, "j.txt", 0), &st), 0);
    struct passwd *nobody = getpwnam("nobody");
    assert_non_null(nobody);
    unsigned nogroup = (unsigned)getgrnam("nogroup")->gr_gid;

    start_tracer(s, A("-c", "-u", "-j"));
    pid_t cat = run_cmd(s, A("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "cat", "j.txt"));
    stop_tracer(s);
    char expected[1024];
    snprintf(expected, sizeof expected,
             "{\"comm\":\"cat\",\"pid\":%d,\"uid\":%u,\"gid\":%u,\"user\":\"nobody\",\"types\":\"*\","
             "\"path\":\"%s\"}",
             (int)cat, (unsigned)nobody->pw_uid, nogroup, in_mnt(s, "j.txt", 0));
    expect_json_cat_lines(s, expected);

    start_tracer(s, A("-c", "-u", "-j", "--inode"));
    cat = run_cmd(s, A("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "cat", "j.txt"));
    stop_tracer(s);
    snprintf(expected, sizeof expected,
             "{\"comm\":\"cat\",\"pid\":%d,\"uid\":%u,\"gid\":%u,\"user\":\"nobody\",\"types\":\"*\","
             "\"device\":{\"major\":%u,\"minor\":%u},\"inode\":%llu,\"path\":\"%s\"}",
             (int)cat, (unsigned)nobody->pw_uid, nogroup, major(st.st_dev), minor(st.st_dev),
             (unsigned long long)st.st_ino, in_mnt(s, "j.txt", 0));
    expect_json_cat_lines(s, expected);
}

/* A directory's listing comes from the listing group alone: one open, never twice
 * (the file group takes no directories), and no directory line from the file group. */
static void test_directory_listed_once(void **state)
{
    struct scene *s = *state;
    run_cmd(s, A("mkdir", "lsd"));
    run_cmd(s, A("touch", "lsd/f"));
    start_tracer(s, A("-c"));
    pid_t ls = run_cmd(s, A("ls", "lsd"));
    stop_tracer(s);
    char line_start[64];
    snprintf(line_start, sizeof line_start, "ls(%d): ", (int)ls);
    const char *dir = in_mnt(s, "lsd", 0);
    assert_string_equal(types_for(s->out, line_start, dir), "RCO");
    int opens = 0;
    for (char *line = strtok(s->out, "\n"); line; line = strtok(NULL, "\n")) {
        size_t len = strlen(line), dlen = strlen(dir);
        if (strncmp(line, line_start, strlen(line_start)) == 0 && len > dlen && strcmp(line + len - dlen, dir) == 0 &&
            line[len - dlen - 1] == ' ')
            opens += strchr(line + strlen(line_start), 'O') != NULL;
    }
    assert_int_equal(opens, 1);
}

static void test_filters(void **state)
{
    struct scene *s = *state;
    run_cmd(s, A("sh", "-c", "echo data > f"));
    start_tracer(s, A("-c", "-f", "O", "-C", "cat"));
    pid_t cat = run_cmd(s, A("cat", "f"));
    run_cmd(s, A("touch", "f"));
    run_cmd(s, A("head", "-c1", "f"));
    stop_tracer(s);

    /* the kernel is asked for opens only, so nothing else is merged in */
    assert_types(s, who(0, "cat", cat, NULL), in_mnt(s, "f", 0), "O");
    for (char *line = strtok(s->out, "\n"); line; line = strtok(NULL, "\n")) {
        if (strncmp(line, "cat(", 4) != 0)
            fail_msg("-C cat let through: %s", line);
        if (!strchr(strchr(line, ':'), 'O'))
            fail_msg("-f O let through: %s", line);
    }
}

static void test_ignore_pid(void **state)
{
    struct scene *s = *state;
    int go[2];
    assert_int_equal(pipe(go), 0);
    pid_t ignored = fork();
    if (ignored == 0) { /* waits for the tracer, then reads */
        char c;
        close(go[1]);
        if (read(go[0], &c, 1) != 1 || chdir(s->mnt) != 0)
            _exit(1);
        int fd = open("p", O_CREAT | O_WRONLY, 0644);
        _exit(fd < 0);
    }
    close(go[0]);
    char pid_arg[16];
    snprintf(pid_arg, sizeof pid_arg, "%d", (int)ignored);
    start_tracer(s, A("-c", "-p", pid_arg));
    assert_int_equal(write(go[1], "x", 1), 1);
    close(go[1]);
    int status;
    waitpid(ignored, &status, 0);
    assert_int_equal(status, 0);
    pid_t seen = run_cmd(s, A("cat", "p"));
    stop_tracer(s);

    assert_types(s, who(0, "cat", seen, NULL), in_mnt(s, "p", 0), "CO");
    char needle[32];
    snprintf(needle, sizeof needle, "(%d)", (int)ignored);
    assert_null(strstr(s->out, needle));
}

static void test_output_file_on_watched_mount(void **state)
{
    struct scene *s = *state;
    start_tracer(s, A("-c", "-o", "log"));
    pid_t touch = run_cmd(s, A("touch", "x"));
    stop_tracer(s);
    free(s->out);
    s->out = read_file(in_mnt(s, "log", 0));
    assert_types(s, who(0, "touch", touch, NULL), in_mnt(s, "x", 0), "CWO+A");
    assert_null(strstr(s->out, "/log")); /* iotrace never reports its own writes */

    /* an existing file is never overwritten */
    pid_t pid = fork();
    if (pid == 0) {
        if (chdir(s->mnt) != 0)
            _exit(99);
        int err = open(s->err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(err, 2);
        execl(IOTRACE_BIN, IOTRACE_BIN, "-c", "-o", "log", (char *)NULL);
        _exit(98);
    }
    int status;
    waitpid(pid, &status, 0);
    assert_int_equal(WEXITSTATUS(status), 1);
    char *err = read_file(s->err_path);
    assert_non_null(strstr(err, "cannot create log: File exists"));
    free(err);
}

static void test_seconds_and_timestamps(void **state)
{
    struct scene *s = *state;
    start_tracer(s, A("-c", "-s", "1", "-t"));
    pid_t touch = run_cmd(s, A("touch", "t"));
    wait_tracer(s, 30);
    assert_int_equal(s->exit_status, 0);
    int h, m, sec, usec, pid;
    char sep[3];
    assert_int_equal(sscanf(s->out, "%2d:%2d:%2d.%6d touch(%d)%2c", &h, &m, &sec, &usec, &pid, sep), 6);
    assert_int_equal(pid, touch);
    assert_memory_equal(s->out + 15, " touch(", 7); /* HH:MM:SS.uuuuuu is 15 characters */

    start_tracer(s, A("-c", "-tt"));
    run_cmd(s, A("touch", "t2"));
    stop_tracer(s);
    long long epoch;
    int micro;
    assert_int_equal(sscanf(s->out, "%lld.%6d touch(", &epoch, &micro), 2);
    assert_true(epoch > 1600000000LL);
}

static void test_closed_pipe(void **state)
{
    struct scene *s = *state;
    int p[2], errp[2];
    assert_int_equal(pipe(p), 0);
    assert_int_equal(pipe(errp), 0);
    pid_t pid = fork();
    if (pid == 0) {
        if (chdir(s->mnt) != 0)
            _exit(99);
        dup2(p[1], 1);
        dup2(errp[1], 2);
        close(p[0]);
        close(errp[0]);
        execl(IOTRACE_BIN, IOTRACE_BIN, "-c", (char *)NULL);
        _exit(98);
    }
    close(p[1]);
    close(errp[1]);
    s->tracer = pid;
    /* readiness: the first event through the pipe */
    char c;
    for (int i = 0; i < 100; i++) {
        run_cmd(s, A("touch", "first"));
        struct timeval tv = { 0, 100000 };
        fd_set rd;
        FD_ZERO(&rd);
        FD_SET(p[0], &rd);
        if (select(p[0] + 1, &rd, NULL, NULL, &tv) == 1)
            break;
    }
    assert_int_equal(read(p[0], &c, 1), 1);
    close(p[0]); /* like `iotrace | head -1` */
    for (int i = 0; i < 20; i++)
        run_cmd(s, A("touch", "more"));
    wait_tracer(s, 30);
    assert_int_equal(s->exit_status, 0);
    char errbuf[256];
    ssize_t n = read(errp[0], errbuf, sizeof errbuf);
    close(errp[0]);
    assert_int_equal(n, 0); /* quietly */
}

static int run_unprivileged(struct scene *s, const char *const *args)
{
    pid_t pid = fork();
    if (pid == 0) {
        int err = open(s->err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(err, 2);
        const char *argv[16] = { "setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                                 "--inh-caps=-all", IOTRACE_BIN };
        size_t n = 6;
        for (; args[n - 6]; n++)
            argv[n] = args[n - 6];
        argv[n] = NULL;
        execvp("setpriv", (char *const *)argv);
        _exit(98);
    }
    int status;
    waitpid(pid, &status, 0);
    free(s->err);
    s->err = read_file(s->err_path);
    return WEXITSTATUS(status);
}

static void test_errors(void **state)
{
    struct scene *s = *state;
    assert_int_equal(run_unprivileged(s, A("-c", "-u")), 1);
    assert_string_equal(s->err,
                        "iotrace: watching file accesses needs root (CAP_SYS_ADMIN); run: sudo iotrace -c -u\n");
    assert_int_equal(run_unprivileged(s, A("--bogus")), 2);
    assert_non_null(strstr(s->err, "unknown option '--bogus'"));
    assert_int_equal(run_unprivileged(s, A("-s", "soon")), 2);
    assert_non_null(strstr(s->err, "invalid number of seconds 'soon'"));
}

static void test_hostile_name(void **state)
{
    struct scene *s = *state;
    start_tracer(s, A("-c"));
    pid_t touch = run_cmd(s, A("touch", "new\nline\x1b[31m"));
    stop_tracer(s);
    assert_types(s, who(0, "touch", touch, NULL), in_mnt(s, "new\\nline\\x1b[31m", 0), "CWO+A");
    assert_null(strchr(s->out, '\x1b'));
}

/* Default mode marks every real mount it finds: checked on a mount list that names
 * only this test's tmpfs, a pseudo filesystem and a mount that does not exist, so the
 * test does not watch the machine. */
struct marking {
    struct source src;
    int failures;
    char failed_mount[256];
};

static bool mark_one(void *ctx, const struct mount_entry *m)
{
    struct marking *mk = ctx;
    if (source_mark(&mk->src, m->mount_point) == 0)
        return true;
    mk->failures++;
    snprintf(mk->failed_mount, sizeof mk->failed_mount, "%s", m->mount_point);
    return false;
}

static void test_mark_all_mounts(void **state)
{
    struct scene *s = *state;
    char list[512];
    snprintf(list, sizeof list, "%s/mountinfo", s->dir);
    FILE *f = fopen(list, "w");
    fprintf(f, "22 1 0:21 / /proc rw - proc proc rw\n"
               "90 25 0:90 / %s rw shared:5 - tmpfs iotrace-test rw\n"
               "91 25 0:91 / %s/missing rw - ext4 /dev/nothing rw\n",
            s->mnt, s->mnt);
    fclose(f);

    struct marking mk = { .failures = 0 };
    assert_int_equal(source_open(&mk.src, EV_ALL_TYPES, false), 0);
    assert_int_equal(mounts_for_each_real(list, mark_one, &mk), 1);
    assert_int_equal(mk.failures, 1);
    assert_non_null(strstr(mk.failed_mount, "/missing"));
    source_close(&mk.src);
    unlink(list);
}

int main(void)
{
    if (geteuid() != 0) {
        printf("integration tests skipped: they need root (they mount a private tmpfs)\n");
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_text_lines, scene_setup, scene_teardown),
        cmocka_unit_test_setup_teardown(test_users_by_name, scene_setup, scene_teardown),
        cmocka_unit_test_setup_teardown(test_json_lines, scene_setup, scene_teardown),
        cmocka_unit_test_setup_teardown(test_directory_listed_once, scene_setup, scene_teardown),
        cmocka_unit_test_setup_teardown(test_filters, scene_setup, scene_teardown),
        cmocka_unit_test_setup_teardown(test_ignore_pid, scene_setup, scene_teardown),
        cmocka_unit_test_setup_teardown(test_output_file_on_watched_mount, scene_setup, scene_teardown),
        cmocka_unit_test_setup_teardown(test_seconds_and_timestamps, scene_setup, scene_teardown),
        cmocka_unit_test_setup_teardown(test_closed_pipe, scene_setup, scene_teardown),
        cmocka_unit_test_setup_teardown(test_errors, scene_setup, scene_teardown),
        cmocka_unit_test_setup_teardown(test_hostile_name, scene_setup, scene_teardown),
        cmocka_unit_test_setup_teardown(test_mark_all_mounts, scene_setup, scene_teardown),
    };
    return cmocka_run_group_tests_name("iotrace on a private tmpfs", tests, NULL, NULL);
}
