#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/procfs.h>
#include <unistd.h>

#include "iotrace/privileges.h"
#include "iotrace/procevents.h"

static void test_what_is_kept(void **state)
{
    (void)state;
    assert_int_equal(privileges_to_keep(), CAP_BIT(CAP_DAC_READ_SEARCH) | CAP_BIT(CAP_SYS_PTRACE));
}

/* found by fuzzing: a last message shorter than its alignment padding */
static void test_netlink_unpadded_end(void **state)
{
    (void)state;
    unsigned char *buf = malloc(21); /* one 21-byte message: aligned, it would be 24 */
    memset(buf, 0, 21);
    uint32_t len = 21;
    memcpy(buf, &len, 4);
    struct proc_change out[4];
    assert_int_equal(proc_changes_parse(buf, 21, out, 4), 0);
    assert_int_equal(exit_changes_parse(buf, 21, out, 4), 0);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_what_is_kept),
        cmocka_unit_test(test_netlink_unpadded_end),
    };
    return cmocka_run_group_tests_name("privileges", tests, NULL, NULL);
}
