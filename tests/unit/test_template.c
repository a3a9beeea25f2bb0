#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "iotrace/format.h"
#include "iotrace/template.h"

static struct proc_info bash = { .comm = "bash", .uid = 1000, .gid = 100, .have_comm = true, .have_ids = true };

static struct event sample(void)
{
    struct event ev = {
        .types = EV_OPEN | EV_READ | EV_CLOSE,
        .pid = 4242,
        .fd = -1,
        .time = { .tv_sec = 1764250000, .tv_nsec = 123456789 },
        .proc = &bash,
        .uid = 1000,
        .user = "ann",
        .path = "/home/ann/notes.txt",
        .path_len = 19,
        .have_inode = true,
        .dev_major = 8,
        .dev_minor = 1,
        .inode = 1234,
    };
    return ev;
}

static struct strbuf out;

static const char *render(const char *fmt, const struct event *ev)
{
    struct template t;
    struct formatter f;
    char err[256];
    if (template_parse(fmt, &t, err, sizeof err) != 0)
        fail_msg("'%s' did not parse: %s", fmt, err);
    formatter_init(&f, false, false, 0);
    f.template = &t;
    strbuf_reset(&out);
    format_event(&f, ev, &out);
    template_free(&t);
    return strbuf_cstr(&out);
}

static void test_directives(void **state)
{
    (void)state;
    struct event ev = sample();
    assert_string_equal(render("%c %p %u %U %g %e %f %d %i %%", &ev),
                        "bash 4242 ann 1000 100 RCO /home/ann/notes.txt 8:1 1234 %\n");
    assert_string_equal(render("%t", &ev), "1764250000.123456\n");
    /* %T is local time: only its shape is fixed */
    const char *tod = render("%T|", &ev);
    assert_int_equal(strlen(tod), 17);
    assert_memory_equal(tod + 8, ".123456|\n", 9);
}

static void test_csv_and_tabs(void **state)
{
    (void)state;
    struct event ev = sample();
    ev.path = "/srv/a,b c\td";
    ev.path_len = strlen(ev.path);
    /* the comma is a separator here: escaped inside fields; the space is not */
    assert_string_equal(render("%c,%p,%e,%f", &ev), "bash,4242,RCO,/srv/a\\x2cb c\\td\n");
    /* tab-separated: a tab is always escaped, the comma is kept */
    assert_string_equal(render("%c\\t%p\\t%f", &ev), "bash\t4242\t/srv/a,b c\\td\n");
    /* space-separated: the path's space is escaped, so awk's $3 is the whole path */
    assert_string_equal(render("%p %e %f", &ev), "4242 RCO /srv/a,b\\x20c\\td\n");
    /* '/', '.', '_' and '-' are never treated as separators: paths are full of them */
    assert_string_equal(render("%p/%f", &ev), "4242//srv/a,b c\\td\n");
    /* the device field holds a ':' of its own */
    assert_string_equal(render("%d:%i", &ev), "8\\x3a1:1234\n");
}

static void test_hostile_names(void **state)
{
    (void)state;
    struct event ev = sample();
    struct proc_info evil = { .comm = "a\nb\x1b[0m", .have_comm = true };
    ev.proc = &evil;
    ev.user = NULL;
    ev.path = "/tmp/x\n\xff";
    ev.path_len = strlen(ev.path);
    assert_string_equal(render("%c %u %U %f", &ev), "a\\nb\\x1b[0m ? ? /tmp/x\\n\\xff\n");
}

static void test_unknowns(void **state)
{
    (void)state;
    struct event ev = sample();
    ev.proc = NULL;
    ev.user = NULL;
    ev.path = NULL;
    /* the fallback for a path is one field too */
    assert_string_equal(render("%c %u %U %g %f", &ev), "unknown ? ? ? device\\x208:1\\x20inode\\x201234\n");
    assert_string_equal(render("%f", &ev), "device 8:1 inode 1234\n");
    ev.have_inode = false;
    assert_string_equal(render("%f %d %i", &ev), "? ? ?\n");
    ev.path = "gone";
    ev.path_len = 4;
    ev.path_is_name_only = true; /* a name whose directory is not known */
    assert_string_equal(render("%f", &ev), "?/gone\n");
    ev.path = NULL;
    struct proc_info ids_only = { .uid = 54321, .gid = 7, .have_ids = true };
    ev.proc = &ids_only;
    ev.uid = 54321;
    assert_string_equal(render("%u", &ev), "54321\n"); /* a uid without a name */
    /* an NFS server: its process's ids are not the client's */
    struct proc_info ganesha = { .comm = "ganesha.nfsd", .have_comm = true, .have_ids = true };
    ev.proc = &ganesha;
    ev.uid = 0;
    ev.user_unknown = true;
    assert_string_equal(render("%c %u %U %g", &ev), "ganesha.nfsd ? ? ?\n");
}

static void test_needs(void **state)
{
    (void)state;
    struct template t;
    char err[256];
    assert_int_equal(template_parse("%c %f", &t, err, sizeof err), 0);
    assert_false(t.needs_ids);
    assert_false(t.needs_inode);
    template_free(&t);
    assert_int_equal(template_parse("%U %i", &t, err, sizeof err), 0);
    assert_true(t.needs_ids);
    assert_false(t.needs_user_name);
    assert_true(t.needs_inode);
    template_free(&t);
    assert_int_equal(template_parse("%u", &t, err, sizeof err), 0);
    assert_true(t.needs_user_name);
    template_free(&t);
}

static void expect_error(const char *fmt, const char *needle)
{
    struct template t;
    char err[256] = "";
    assert_int_equal(template_parse(fmt, &t, err, sizeof err), -1);
    if (!strstr(err, needle))
        fail_msg("error '%s' does not mention '%s'", err, needle);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("%c %q", "unknown directive '%q'");
    expect_error("%f %", "lone '%'");
    expect_error("%f\\x", "unknown escape '\\x'");
    expect_error("%f\\", "lone '\\'");
    expect_error("", "needs a format");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_directives),
        cmocka_unit_test(test_csv_and_tabs),
        cmocka_unit_test(test_hostile_names),
        cmocka_unit_test(test_unknowns),
        cmocka_unit_test(test_needs),
        cmocka_unit_test(test_errors),
    };
    int rc = cmocka_run_group_tests_name("--format", tests, NULL, NULL);
    strbuf_free(&out);
    return rc;
}
