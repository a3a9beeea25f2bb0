/* Hostile names: file names and process names that try to break lines, drive the
 * terminal, fake fields or reorder text. For each, the exact bytes must come back from
 * the text output (by un-escaping, as the man page says) and from the JSON output. */
#include "harness.h"
#include "lines.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct name {
    const char *what;
    const char *bytes;
};

static const struct name file_names[] = {
    { "newline", "new\nline" },
    { "newline at the end", "ends\n" },
    { "tab", "tab\there" },
    { "carriage return", "cr\rhidden" },
    { "escape sequence (colour)", "\x1b[31mred\x1b[0m" },
    { "escape sequence (title, clear)", "\x1b]0;owned\x07\x1b[2J" },
    { "DEL and other control bytes", "del\x7f\x01\x02\x1f" },
    { "invalid UTF-8 (lone bytes)", "bad\xff\xfe" },
    { "invalid UTF-8 (truncated sequence)", "cut\xe2\x82" },
    { "invalid UTF-8 (overlong slash)", "over\xc0\xaflong" },
    { "invalid UTF-8 (surrogate)", "sur\xed\xa0\x80" },
    { "leading spaces", "  leading" },
    { "trailing spaces", "trailing  " },
    { "only spaces", "   " },
    { "quotes and backslashes", "q\"uo'te\\back\\\\slash" },
    { "a text that looks like an escape", "\\x41\\n\\t" },
    { "JSON in a name", "\",\"pid\":1,\"x\":\"" },
    { "right-to-left override", "\xe2\x80\xaegnp.exe" },
    { "right-to-left mark and isolates", "a\xe2\x80\x8f" "b\xe2\x81\xa6" "c\xe2\x81\xa9" },
    { "arabic letter mark and line separator", "d\xd8\x9c" "e\xe2\x80\xa8" "f" },
    { "C1 control (CSI)", "c1\xc2\x9b" "31m" },
    { "valid UTF-8 beyond ASCII", "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80" },
    { "fake fields", "x): W \\n?" },
};
#define N_FILE_NAMES (sizeof file_names / sizeof file_names[0])

struct seen {
    pid_t pid;
    struct scene *s;
    bool found[N_FILE_NAMES];
    int lines;
};

static void open_every_name(void *arg)
{
    (void)arg;
    for (size_t i = 0; i < N_FILE_NAMES; i++) {
        int fd = open(file_names[i].bytes, O_CREAT | O_RDWR, 0644);
        if (fd < 0 || write(fd, "x", 1) != 1)
            _exit(1);
        close(fd);
    }
}

static void note_file(const struct parsed_line *l, void *ctx)
{
    struct seen *seen = ctx;
    if (l->pid != seen->pid)
        return;
    seen->lines++;
    for (size_t i = 0; i < N_FILE_NAMES; i++) {
        const char *want = in_mnt(seen->s, file_names[i].bytes, 0);
        if (l->path_len == (long)strlen(want) && memcmp(l->path, want, strlen(want)) == 0)
            seen->found[i] = true;
    }
}

static void check_file_names(struct scene *s, bool json)
{
    start_tracer(s, json ? A("-c", "-j") : A("-c"));
    struct seen seen = { .s = s };
    seen.pid = run_child(s, "namer", open_every_name, NULL);
    stop_tracer(s);
    assert_int_equal(s->exit_status, 0);
    for_each_line(s->out, json, note_file, &seen);
    for (size_t i = 0; i < N_FILE_NAMES; i++)
        if (!seen.found[i])
            fail_msg("%s: the name '%s' (%s) did not come back exactly from:\n%s", json ? "JSON" : "text",
                     file_names[i].bytes, file_names[i].what, s->out);
}

static void test_file_names_text(void **state)
{
    check_file_names(*state, false);
}

static void test_file_names_json(void **state)
{
    check_file_names(*state, true);
}

/* Process names (comm, at most 15 bytes), set by prctl(PR_SET_NAME) or by exec of a
 * program with that name. */
static const struct name comm_names[] = {
    { "paren and tab", "ca)t\tW" },
    { "newline", "x\ny" },
    { "escape sequence", "\x1b[2J\x1b[H" },
    { "invalid UTF-8", "bad\xff\xfe" },
    { "spaces", " a b " },
    { "quotes and backslashes", "q\"\\'\\\\" },
    { "right-to-left override", "\xe2\x80\xaeRTL" },
    { "fake pid", "sh(1): W /x" },
};
#define N_COMMS (sizeof comm_names / sizeof comm_names[0])

struct comm_seen {
    pid_t pids[N_COMMS];
    const char *expected[N_COMMS];
    bool found[N_COMMS];
};

static void open_a_file(void *arg)
{
    int fd = open((const char *)arg, O_CREAT | O_WRONLY, 0644);
    if (fd < 0)
        _exit(1);
    close(fd);
}

static void note_comm(const struct parsed_line *l, void *ctx)
{
    struct comm_seen *seen = ctx;
    for (size_t i = 0; i < N_COMMS; i++) {
        if (l->pid != seen->pids[i])
            continue;
        size_t n = strlen(seen->expected[i]);
        if (l->comm_len != n || memcmp(l->comm, seen->expected[i], n) != 0)
            fail_msg("pid %ld: expected the name '%s', got '%.*s'", l->pid, seen->expected[i],
                     (int)l->comm_len, l->comm);
        seen->found[i] = true;
    }
}

/* An exec'd program takes its file's name: a copy of cat called `ca)t<TAB>W\n`. */
static pid_t exec_renamed_cat(struct scene *s, const char *name)
{
    char program[256];
    snprintf(program, sizeof program, "%s/%s", s->dir, name);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "cp /bin/cat '%s'", program);
    assert_int_equal(system(cmd), 0);
    pid_t pid = fork();
    if (pid == 0) {
        if (chdir(s->mnt) != 0)
            _exit(127);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        execl(program, name, "catme", (char *)NULL);
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    assert_int_equal(status, 0);
    unlink(program);
    return pid;
}

static void check_comms(struct scene *s, const char *const *args, bool json)
{
    run_cmd(s, A("touch", "catme"));
    start_tracer(s, args);
    struct comm_seen seen;
    memset(&seen, 0, sizeof seen);
    char files[N_COMMS][16];
    for (size_t i = 0; i < N_COMMS; i++) {
        snprintf(files[i], sizeof files[i], "comm-%zu", i);
        seen.expected[i] = comm_names[i].bytes;
        seen.pids[i] = run_child(s, comm_names[i].bytes, open_a_file, files[i]);
    }
    pid_t cat = exec_renamed_cat(s, "ca)t\tW\n");
    stop_tracer(s);
    assert_int_equal(s->exit_status, 0);

    for_each_line(s->out, json, note_comm, &seen);
    for (size_t i = 0; i < N_COMMS; i++)
        if (!seen.found[i])
            fail_msg("no line from the process named '%s' (%s) in:\n%s", comm_names[i].bytes,
                     comm_names[i].what, s->out);
    struct comm_seen exec_seen;
    memset(&exec_seen, 0, sizeof exec_seen);
    exec_seen.pids[0] = cat;
    for (size_t i = 0; i < N_COMMS; i++)
        exec_seen.expected[i] = "ca)t\tW\n";
    for_each_line(s->out, json, note_comm, &exec_seen);
    if (!exec_seen.found[0])
        fail_msg("no line from the program named 'ca)t\\tW\\n' in:\n%s", s->out);
}

static void test_comm_text(void **state)
{
    check_comms(*state, A("-c"), false);
}

/* -u reads /proc/PID/status, where the kernel escapes \n and \\ in the name */
static void test_comm_text_user(void **state)
{
    check_comms(*state, A("-c", "-u"), false);
}

static void test_comm_json(void **state)
{
    check_comms(*state, A("-c", "-j", "-u"), true);
}

/* Paths near and past PATH_MAX, reached by chdir one level at a time (an open of the
 * whole path would fail with ENAMETOOLONG). The kernel can give a path of at most
 * PATH_MAX - 1 bytes; past that iotrace shows the file as device and inode. */
struct deep {
    char relative[8192]; /* the path below the tmpfs */
    size_t total;        /* of the whole absolute path */
};

static void make_deep(struct scene *s, struct deep *d, size_t total)
{
    size_t left = total - strlen(s->mnt);
    char *p = d->relative;
    char dir[201];
    memset(dir, 'd', 200);
    dir[200] = '\0';
    while (left - 1 > 255) {
        p += sprintf(p, "%s%s", p == d->relative ? "" : "/", dir);
        left -= 201;
    }
    *p++ = '/';
    memset(p, 'f', left - 1);
    p[left - 1] = '\0';
    d->total = total;
    assert_int_equal(strlen(s->mnt) + strlen(d->relative) + 1, total);
}

/* chdir down the directories of arg (creating them), then open the file */
static void walk_and_open(void *arg)
{
    char *path = strdup(arg);
    for (char *slash; (slash = strchr(path, '/'));) {
        *slash = '\0';
        mkdir(path, 0755);
        if (chdir(path) != 0)
            _exit(1);
        memmove(path, slash + 1, strlen(slash + 1) + 1);
    }
    int fd = open(path, O_CREAT | O_RDWR, 0644);
    _exit(fd < 0 || write(fd, "x", 1) != 1);
}

static unsigned long long inode_of_deep(struct scene *s, const char *relative)
{
    int dir = open(s->mnt, O_RDONLY | O_DIRECTORY);
    char *path = strdup(relative);
    for (char *slash; (slash = strchr(path, '/'));) {
        *slash = '\0';
        int next = openat(dir, path, O_RDONLY | O_DIRECTORY);
        assert_true(next >= 0);
        close(dir);
        dir = next;
        memmove(path, slash + 1, strlen(slash + 1) + 1);
    }
    struct stat st;
    assert_int_equal(fstatat(dir, path, &st, 0), 0);
    close(dir);
    free(path);
    return (unsigned long long)st.st_ino;
}

struct deep_seen {
    pid_t pid;
    const char *exact; /* the longest path the kernel can give */
    unsigned long long too_long_inode;
    bool exact_found, too_long_found, too_long_had_path;
};

static void note_deep(const struct parsed_line *l, void *ctx)
{
    struct deep_seen *seen = ctx;
    if (l->pid != seen->pid)
        return;
    if (l->path_len == (long)strlen(seen->exact) && memcmp(l->path, seen->exact, (size_t)l->path_len) == 0)
        seen->exact_found = true;
    if (l->has_inode && l->inode == seen->too_long_inode) {
        seen->too_long_found = true;
        seen->too_long_had_path |= l->path_len >= 0;
    }
}

static void check_long_paths(struct scene *s, bool json)
{
    static struct deep exact, too_long;
    make_deep(s, &exact, PATH_MAX - 1);
    make_deep(s, &too_long, PATH_MAX + 1500);
    static char exact_abs[sizeof s->mnt + sizeof exact.relative + 1];
    snprintf(exact_abs, sizeof exact_abs, "%s/%s", s->mnt, exact.relative);

    start_tracer(s, json ? A("-c", "-j") : A("-c"));
    struct deep_seen seen = { .exact = exact_abs };
    pid_t a = run_child(s, "deep", walk_and_open, exact.relative);
    pid_t b = run_child(s, "deep", walk_and_open, too_long.relative);
    stop_tracer(s);
    assert_int_equal(s->exit_status, 0);
    seen.too_long_inode = inode_of_deep(s, too_long.relative);

    seen.pid = a;
    for_each_line(s->out, json, note_deep, &seen);
    if (!seen.exact_found)
        fail_msg("the %zu-byte path did not come back whole", exact.total);
    seen.pid = b;
    for_each_line(s->out, json, note_deep, &seen);
    if (!seen.too_long_found || seen.too_long_had_path)
        fail_msg("a path longer than PATH_MAX is shown by device and inode %llu, without a path:\n%s",
                 seen.too_long_inode, s->out);
}

static void test_long_paths_text(void **state)
{
    check_long_paths(*state, false);
}

static void test_long_paths_json(void **state)
{
    check_long_paths(*state, true);
}

int main(void)
{
    if (geteuid() != 0) {
        printf("integration tests skipped: they need root (they mount a private tmpfs)\n");
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_file_names_text, scene_setup, scene_teardown),
        cmocka_unit_test_setup_teardown(test_file_names_json, scene_setup, scene_teardown),
        cmocka_unit_test_setup_teardown(test_comm_text, scene_setup, scene_teardown),
        cmocka_unit_test_setup_teardown(test_comm_text_user, scene_setup, scene_teardown),
        cmocka_unit_test_setup_teardown(test_comm_json, scene_setup, scene_teardown),
        cmocka_unit_test_setup_teardown(test_long_paths_text, scene_setup, scene_teardown),
        cmocka_unit_test_setup_teardown(test_long_paths_json, scene_setup, scene_teardown),
    };
    return cmocka_run_group_tests_name("hostile names", tests, NULL, NULL);
}
