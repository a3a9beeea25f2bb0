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
        cmocka_unit_test(test_parse_types),
        cmocka_unit_test(test_mountinfo),
        cmocka_unit_test(test_pseudo_filesystems),
    };
    return cmocka_run_group_tests_name("filter and mounts", tests, NULL, NULL);
}
