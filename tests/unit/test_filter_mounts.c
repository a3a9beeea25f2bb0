#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "iotrace/filter.h"
#include "iotrace/mounts.h"

static void test_record_filter(void **state)
{
    (void)state;
    struct filter f = { .types = EV_WRITE };
    assert_true(filter_keep_record(&f, EV_WRITE | EV_CLOSE, 10));
    assert_false(filter_keep_record(&f, EV_READ, 10));
    filter_add_ignore_pid(&f, 10);
    assert_false(filter_keep_record(&f, EV_WRITE, 10));
    assert_true(filter_keep_record(&f, EV_WRITE, 11));
    filter_free(&f);
}

static void test_command_filter(void **state)
{
    (void)state;
    struct filter f = { .types = EV_ALL_TYPES };
    struct proc_info cat = { .comm = "cat", .have_comm = true };
    struct proc_info journal = { .comm = "systemd-journal", .have_comm = true };
    struct proc_info gone = { 0 };
    assert_false(filter_needs_process(&f));
    assert_true(filter_keep_process(&f, &gone));
    filter_add_command(&f, "systemd-journald"); /* longer than the kernel keeps */
    assert_true(filter_needs_process(&f));
    assert_true(filter_keep_process(&f, &journal));
    assert_false(filter_keep_process(&f, &cat));
    assert_false(filter_keep_process(&f, &gone));
    filter_add_command(&f, "cat");
    assert_true(filter_keep_process(&f, &cat));
    filter_free(&f);
}

static void test_user_filter(void **state)
{
    (void)state;
    struct filter f = { .types = EV_ALL_TYPES };
    struct proc_info ann = { .comm = "cat", .uid = 1000, .have_comm = true, .have_ids = true };
    struct proc_info root = { .comm = "cat", .uid = 0, .have_comm = true, .have_ids = true };
    struct proc_info no_ids = { .comm = "cat", .have_comm = true };
    assert_false(filter_needs_ids(&f));
    filter_add_user(&f, 1000);
    assert_true(filter_needs_process(&f));
    assert_true(filter_needs_ids(&f));
    assert_true(filter_keep_process(&f, &ann));
    assert_false(filter_keep_process(&f, &root));
    assert_false(filter_keep_process(&f, &no_ids)); /* cannot be shown to match */
    filter_add_user(&f, 0);
    assert_true(filter_keep_process(&f, &root));
    /* an NFS server's process runs as root, but its accesses are not shown to be root's
     * (nor anyone's): its user is not known */
    struct proc_info ganesha = { .comm = "ganesha.nfsd", .uid = 0, .have_comm = true, .have_ids = true };
    struct proc_info nfsd = { .comm = "nfsd", .uid = 0, .have_comm = true, .have_ids = true };
    assert_false(filter_keep_process(&f, &ganesha));
    assert_false(filter_keep_process(&f, &nfsd));
    filter_free(&f);
}

static void test_exclude_command(void **state)
{
    (void)state;
    struct filter f = { .types = EV_ALL_TYPES };
    struct proc_info cat = { .comm = "cat", .have_comm = true };
    struct proc_info cron = { .comm = "cron", .have_comm = true };
    struct proc_info gone = { 0 };
    filter_add_exclude_command(&f, "cron");
    assert_true(filter_needs_process(&f));
    assert_false(filter_needs_ids(&f));
    assert_true(filter_keep_process(&f, &cat));
    assert_false(filter_keep_process(&f, &cron));
    assert_true(filter_keep_process(&f, &gone)); /* cannot be shown to be excluded */
    /* -C and --exclude-command together: both apply */
    filter_add_command(&f, "cron");
    filter_add_command(&f, "cat");
    assert_true(filter_keep_process(&f, &cat));
    assert_false(filter_keep_process(&f, &cron));
    assert_false(filter_keep_process(&f, &gone));
    filter_free(&f);
}

static void test_pid_filter_and_children(void **state)
{
    (void)state;
    struct filter f = { .types = EV_ALL_TYPES };
    assert_true(filter_keep_record(&f, EV_READ, 99)); /* no --pid: every process */
    filter_add_pid(&f, 100);
    assert_true(filter_keep_record(&f, EV_READ, 100));
    assert_false(filter_keep_record(&f, EV_READ, 101));

    /* without --children, forks change nothing */
    filter_note_fork(&f, 100, 101);
    assert_false(filter_keep_record(&f, EV_READ, 101));

    f.children = true;
    filter_note_fork(&f, 100, 101);    /* child */
    filter_note_fork(&f, 101, 4000);   /* grandchild, far away in the bitmap */
    filter_note_fork(&f, 1, 102);      /* someone else's child */
    assert_true(filter_keep_record(&f, EV_READ, 101));
    assert_true(filter_keep_record(&f, EV_READ, 4000));
    assert_false(filter_keep_record(&f, EV_READ, 102));
    assert_false(filter_keep_record(&f, EV_WRITE & 0, 101)); /* types still apply */

    /* pid 4000 exits and is reused by an unrelated process: its fork says so */
    filter_note_fork(&f, 1, 4000);
    assert_false(filter_keep_record(&f, EV_READ, 4000));
    /* the highest pid the kernel allows */
    filter_note_fork(&f, 100, 4194303);
    assert_true(filter_keep_record(&f, EV_READ, 4194303));
    filter_note_fork(&f, 100, 4194304); /* beyond any pid_max: ignored, no overflow */
    assert_false(filter_keep_record(&f, EV_READ, 4194304));
    /* ignore wins over follow */
    filter_add_ignore_pid(&f, 101);
    assert_false(filter_keep_record(&f, EV_READ, 101));
    filter_free(&f);
}

#define UNDER(path, dir) path_is_under(path, strlen(path), dir)
#define IN(path, dir) path_is_directly_in(path, strlen(path), dir)

static void test_path_components(void **state)
{
    (void)state;
    assert_true(UNDER("/srv/a", "/srv/a"));
    assert_true(UNDER("/srv/a/x", "/srv/a"));
    assert_true(UNDER("/srv/a/x/y", "/srv/a"));
    assert_false(UNDER("/srv/ab", "/srv/a"));
    assert_false(UNDER("/srv", "/srv/a"));
    assert_true(UNDER("/anything", "/"));
    assert_true(UNDER("/", "/"));

    assert_true(IN("/srv/a/x", "/srv/a"));
    assert_false(IN("/srv/a/x/y", "/srv/a"));
    assert_false(IN("/srv/a", "/srv/a"));
    assert_false(IN("/srv/a/", "/srv/a"));
    assert_false(IN("/srv/ab/x", "/srv/a"));
    assert_true(IN("/etc", "/"));
    assert_false(IN("/etc/passwd", "/"));
    assert_false(IN("/", "/"));
}

static void test_path_filter(void **state)
{
    (void)state;
    struct filter f = { .types = EV_ALL_TYPES };
    assert_false(filter_needs_path(&f));
    assert_true(filter_keep_path(&f, NULL, 0));

    filter_add_subtree(&f, "/srv/a/"); /* the trailing slash is dropped */
    assert_string_equal(f.subtrees[0], "/srv/a");
    filter_add_dir(&f, "/var/log");
    filter_add_exclude_path(&f, "/srv/a/cache");
    assert_true(filter_needs_path(&f));
#define KEEP(p) filter_keep_path(&f, p, strlen(p))
    assert_true(KEEP("/srv/a/data"));
    assert_true(KEEP("/srv/a/deep/er"));
    assert_false(KEEP("/srv/ab"));
    assert_true(KEEP("/var/log/syslog"));
    assert_false(KEEP("/var/log/apt/history.log"));
    assert_false(KEEP("/srv/a/cache"));
    assert_false(KEEP("/srv/a/cache/x"));
    assert_true(KEEP("/srv/a/cached"));
    assert_true(KEEP("/srv/a/gone (deleted)"));
    assert_false(filter_keep_path(&f, NULL, 0)); /* unknown path: cannot be shown to match */
    filter_free(&f);

    /* exclusion alone keeps everything else */
    struct filter g = { .types = EV_ALL_TYPES };
    filter_add_exclude_path(&g, "/proc");
    assert_true(filter_keep_path(&g, "/etc/x", 6));
    assert_false(filter_keep_path(&g, "/proc/1", 7));
    filter_free(&g);
#undef KEEP
}

static void test_parse_types(void **state)
{
    (void)state;
    unsigned types;
    char bad;
    assert_int_equal(event_types_parse("rcwo", &types, &bad), 0);
    assert_int_equal(types, EV_READ | EV_CLOSE | EV_WRITE | EV_OPEN);
    assert_int_equal(event_types_parse(">", &types, &bad), 0);
    assert_int_equal(types, EV_MOVED_FROM | EV_MOVED_TO);
    assert_int_equal(event_types_parse("a", &types, &bad), 0);
    assert_int_equal(types, EV_ATTRIB);
    assert_int_equal(event_types_parse("OQ", &types, &bad), -1);
    assert_int_equal(bad, 'Q');
}

static void test_mountinfo(void **state)
{
    (void)state;
    char line[] = "30 25 0:26 / /tmp/with\\040space rw,relatime shared:5 master:1 - tmpfs tmpfs rw\n";
    struct mount_entry m;
    assert_int_equal(mountinfo_parse_line(line, &m), 0);
    assert_int_equal(m.mount_id, 30);
    assert_string_equal(m.mount_point, "/tmp/with space");
    assert_string_equal(m.fstype, "tmpfs");
    assert_string_equal(m.source, "tmpfs");

    char no_optional[] = "25 1 254:0 / / rw,relatime - ext4 /dev/vda rw";
    assert_int_equal(mountinfo_parse_line(no_optional, &m), 0);
    assert_string_equal(m.mount_point, "/");
    assert_string_equal(m.fstype, "ext4");

    char garbage[] = "garbage line";
    assert_int_equal(mountinfo_parse_line(garbage, &m), -1);
    char no_dash[] = "1 2 3:4 / /x rw a b c";
    assert_int_equal(mountinfo_parse_line(no_dash, &m), -1);
}

static void test_pseudo_filesystems(void **state)
{
    (void)state;
    assert_true(fstype_is_pseudo("proc"));
    assert_true(fstype_is_pseudo("cgroup2"));
    assert_true(fstype_is_pseudo("tracefs"));
    assert_false(fstype_is_pseudo("tmpfs"));
    assert_false(fstype_is_pseudo("ext4"));
    assert_false(fstype_is_pseudo("btrfs"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_filter),
        cmocka_unit_test(test_command_filter),
        cmocka_unit_test(test_user_filter),
        cmocka_unit_test(test_exclude_command),
        cmocka_unit_test(test_pid_filter_and_children),
        cmocka_unit_test(test_path_components),
        cmocka_unit_test(test_path_filter),
        cmocka_unit_test(test_parse_types),
        cmocka_unit_test(test_mountinfo),
        cmocka_unit_test(test_pseudo_filesystems),
    };
    return cmocka_run_group_tests_name("filter and mounts", tests, NULL, NULL);
}
