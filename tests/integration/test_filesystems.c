/* Create, delete, rename and attribute events with full paths, on each common
 * filesystem, and the documented fallback where a filesystem refuses FID mode. */
#include "harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct ops {
    pid_t mkdir, touch, write, mv, chmod, rm, rmdir, mkdir2, mvdir;
};

/* The same operations on every filesystem, each from its own process. */
static struct ops run_ops(struct scene *s)
{
    struct ops o;
    o.mkdir = run_cmd(s, A("mkdir", "dir"));
    o.touch = run_cmd(s, A("touch", "dir/file"));
    o.write = run_cmd(s, A("sh", "-c", "echo hello > dir/file"));
    o.mv = run_cmd(s, A("mv", "dir/file", "dir/renamed"));
    o.chmod = run_cmd(s, A("chmod", "600", "dir/renamed"));
    o.rm = run_cmd(s, A("rm", "dir/renamed"));
    o.rmdir = run_cmd(s, A("rmdir", "dir"));
    o.mkdir2 = run_cmd(s, A("mkdir", "old"));
    o.mvdir = run_cmd(s, A("mv", "old", "new"));
    return o;
}

static char who_buf[128];

static const char *who(const char *comm, pid_t pid)
{
    snprintf(who_buf, sizeof who_buf, "%s(%d): ", comm, (int)pid);
    return who_buf;
}

static void expect(struct scene *s, const char *comm, pid_t pid, const char *name, const char *types)
{
    const char *got = types_for(s->out, who(comm, pid), in_mnt(s, name, 0));
    if (strcmp(got, types) != 0)
        fail_msg("%s: expected '%s%s %s', got '%s' in:\n%s", s->mnt, who(comm, pid), types,
                 in_mnt(s, name, 0), got, s->out);
}

static void full_paths_everywhere(void **state)
{
    struct scene *s = *state;
    start_tracer(s, A("-c"));
    struct ops o = run_ops(s);
    stop_tracer(s);

    assert_int_equal(s->exit_status, 0);
    expect(s, "mkdir", o.mkdir, "dir", "+");
    expect(s, "touch", o.touch, "dir/file", "CWO+A");
    expect(s, "sh", o.write, "dir/file", "CWO");
    expect(s, "mv", o.mv, "dir/file", "<");
    expect(s, "mv", o.mv, "dir/renamed", ">");
    expect(s, "chmod", o.chmod, "dir/renamed", "A");
    expect(s, "rm", o.rm, "dir/renamed", "DA"); /* A: the link count, on the delete's line */
    expect(s, "rmdir", o.rmdir, "dir", "D");
    expect(s, "mkdir", o.mkdir2, "old", "+");
    expect(s, "mv", o.mvdir, "old", "<");
    expect(s, "mv", o.mvdir, "new", ">");
    /* never a directory that could not be named */
    assert_null(strstr(s->out, " ?/"));
    assert_null(strstr(s->err, "not shown"));
}

/* Where FID mode is refused, reads and writes are still shown, and one warning says
 * what is missing on that mount. */
static void fallback_with_warning(void **state)
{
    struct scene *s = *state;
    start_tracer(s, A("-c"));
    struct ops o = run_ops(s);
    stop_tracer(s);

    assert_int_equal(s->exit_status, 0);
    expect(s, "touch", o.touch, "dir/file", "CWO");
    expect(s, "sh", o.write, "dir/file", "CWO");
    char warning[512];
    snprintf(warning, sizeof warning, "iotrace: %s (", s->mnt);
    assert_non_null(strstr(s->err, warning));
    assert_non_null(strstr(s->err, "creates, deletes, moves and attribute changes are not shown"));
    assert_null(strstr(s->out, ": + "));
    assert_null(strstr(s->out, ": D "));
}

/* A file deleted inside a directory removed right after (rm -r) still has its full path,
 * also under -f D, where only the listing group's directory opens teach the paths. */
static void rm_recursive(void **state)
{
    struct scene *s = *state;
    const char *const *runs[] = { A("-c"), A("-c", "-f", "D") };
    for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
        run_cmd(s, A("mkdir", "-p", "tree/a/b"));
        run_cmd(s, A("touch", "tree/a/b/leaf"));
        start_tracer(s, runs[r]);
        pid_t rm = run_cmd(s, A("rm", "-r", "tree"));
        stop_tracer(s);
        /* rm opens each directory before emptying it: iotrace learns their handles then,
         * and names the deletes in them though the directories are gone when read */
        const char *gone[] = { "tree/a/b/leaf", "tree/a/b", "tree/a", "tree" };
        for (size_t i = 0; i < sizeof gone / sizeof gone[0]; i++) {
            char line[512];
            snprintf(line, sizeof line, "\nrm(%d): %s %s\n", (int)rm, i == 0 && r == 0 ? "DA" : "D",
                     in_mnt(s, gone[i], 0));
            if (!strstr(s->out, line) && strncmp(s->out, line + 1, strlen(line + 1)) != 0)
                fail_msg("no line '%s' in:\n%s", line + 1, s->out);
        }
    }
}

/* A directory made, filled, emptied and removed before iotrace reads any of it (iotrace
 * is stopped meanwhile): its entries are named from the directory's create event. */
static void short_lived_directory(void **state)
{
    struct scene *s = *state;
    start_tracer(s, A("-c"));
    kill(tracer_pid(s), SIGSTOP);
    run_cmd(s, A("sh", "-c", "mkdir made && touch made/f && mv made/f made/g && rm made/g && rmdir made"));
    kill(tracer_pid(s), SIGCONT);
    stop_tracer(s);
    if (strstr(s->out, "?/"))
        fail_msg("an entry of a short-lived directory without its path:\n%s", s->out);
    const char *want[][2] = { { "made", "+" }, { "made/f", "+" }, { "made/g", "D" }, { "made", "D" } };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strchr(types_for(s->out, "", in_mnt(s, want[i][0], 0)), want[i][1][0]))
            fail_msg("no '%s' for %s in:\n%s", want[i][1], want[i][0], s->out);
}

#define ON(kind)                                                                                                 \
    static int setup_##kind(void **state)                                                                        \
    {                                                                                                            \
        return scene_setup_fs(state, kind);                                                                      \
    }
ON(FS_TMPFS)
ON(FS_EXT4)
ON(FS_XFS)
ON(FS_BTRFS)
ON(FS_BTRFS_SUBVOLUME)
ON(FS_OVERLAY)

int main(void)
{
    if (geteuid() != 0) {
        printf("filesystem tests skipped: they need root (they mount loop images)\n");
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate_setup_teardown(full_paths_everywhere, setup_FS_TMPFS, scene_teardown, NULL),
        cmocka_unit_test_setup_teardown(full_paths_everywhere, setup_FS_EXT4, scene_teardown),
        cmocka_unit_test_setup_teardown(full_paths_everywhere, setup_FS_XFS, scene_teardown),
        cmocka_unit_test_setup_teardown(full_paths_everywhere, setup_FS_BTRFS, scene_teardown),
        cmocka_unit_test_setup_teardown(fallback_with_warning, setup_FS_BTRFS_SUBVOLUME, scene_teardown),
        cmocka_unit_test_setup_teardown(fallback_with_warning, setup_FS_OVERLAY, scene_teardown),
        cmocka_unit_test_setup_teardown(rm_recursive, setup_FS_TMPFS, scene_teardown),
        cmocka_unit_test_setup_teardown(rm_recursive, setup_FS_EXT4, scene_teardown),
        cmocka_unit_test_setup_teardown(short_lived_directory, setup_FS_TMPFS, scene_teardown),
        cmocka_unit_test_setup_teardown(short_lived_directory, setup_FS_XFS, scene_teardown),
    };
    return cmocka_run_group_tests_name("create, delete, rename, attributes on each filesystem", tests, NULL, NULL);
}
