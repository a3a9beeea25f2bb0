/* /proc parsing from fixture files, the per-batch process cache and the uid cache. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "iotrace/proc.h"
#include "iotrace/users.h"

static void test_parse_status(void **state)
{
    (void)state;
    const char text[] = "Name:\tsmbd\\\\x\\n\nUmask:\t0022\nUid:\t0\t1001\t0\t1001\nGid:\t0\t100\t0\t100\n";
    struct proc_info info = { 0 };
    assert_int_equal(proc_parse_status(text, sizeof text - 1, &info), 0);
    assert_string_equal(info.comm, "smbd\\x\n");
    assert_int_equal(info.uid, 1001); /* effective, not real */
    assert_int_equal(info.gid, 100);

    struct proc_info none = { 0 };
    assert_int_equal(proc_parse_status("Name:\tx\n", 8, &none), -1);
    assert_false(none.have_ids);
    assert_int_equal(proc_parse_status("Uid:\t1\n", 7, &none), -1);
    assert_int_equal(proc_parse_status("Uid:\tz z\nGid:\t1 1\n", 18, &none), -1);
}

static void test_lookup_from_fixtures(void **state)
{
    (void)state;
    struct proc_table *t = proc_table_new(FIXTURES "/proc", 16);
    const struct proc_info *p = proc_lookup(t, 4242, false, PROC_LIVENESS_UNKNOWN, -1);
    assert_true(p->have_comm);
    assert_string_equal(p->comm, "ca)t\tW"); /* from comm: the trailing newline is not the name */
    assert_false(p->have_ids);
    p = proc_lookup(t, 4242, true, PROC_LIVENESS_UNKNOWN, -1); /* the same batch: only status is read now */
    assert_true(p->have_ids);
    assert_int_equal(p->uid, 1001);
    assert_int_equal(p->gid, 2001);

    p = proc_lookup(t, 77, true, PROC_LIVENESS_UNKNOWN, -1);
    assert_string_equal(p->comm, "bash");
    assert_int_equal(p->uid, 0);

    p = proc_lookup(t, 5555, true, PROC_LIVENESS_UNKNOWN, -1); /* gone */
    assert_false(p->have_comm);
    assert_false(p->have_ids);
    p = proc_lookup(t, 0, true, PROC_LIVENESS_UNKNOWN, -1);
    assert_false(p->have_comm);
    proc_table_free(t);
}

static int resolver_calls;

static int fake_resolver(uid_t uid, char *buf, size_t size)
{
    resolver_calls++;
    if (uid == 1000) {
        snprintf(buf, size, "ann");
        return 0;
    }
    return -1;
}

static void test_user_cache(void **state)
{
    (void)state;
    struct user_cache *c = user_cache_new(8, fake_resolver);
    resolver_calls = 0;
    assert_string_equal(user_name(c, 1000, 100), "ann");
    assert_string_equal(user_name(c, 1000, 101), "ann");
    assert_int_equal(resolver_calls, 1); /* cached */
    assert_null(user_name(c, 4000, 100));
    assert_null(user_name(c, 4000, 101));
    assert_int_equal(resolver_calls, 2);
    assert_null(user_name(c, 4000, 103)); /* a missing name is asked again soon */
    assert_int_equal(resolver_calls, 3);
    assert_string_equal(user_name(c, 1000, 200), "ann"); /* and a name after a minute */
    assert_int_equal(resolver_calls, 4);
    assert_string_equal(user_name(c, 1008, 200) ? "x" : "none", "none"); /* same slot as 1000 */
    assert_string_equal(user_name(c, 1000, 200), "ann");
    user_cache_free(c);
}

static void test_passwd_resolver(void **state)
{
    (void)state;
    char buf[64];
    assert_int_equal(user_resolve_passwd(0, buf, sizeof buf), 0);
    assert_string_equal(buf, "root");
    assert_int_equal(user_resolve_passwd(4123456789u, buf, sizeof buf), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_status),
        cmocka_unit_test(test_lookup_from_fixtures),
        cmocka_unit_test(test_user_cache),
        cmocka_unit_test(test_passwd_resolver),
    };
    return cmocka_run_group_tests_name("proc and users", tests, NULL, NULL);
}
