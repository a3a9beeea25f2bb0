/* The process table fed by process events: forks, execs, renames, user changes, exits,
 * pid reuse and the liveness that FAN_REPORT_PIDFD gives, on a /proc made by the test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iotrace/proc.h"

static char root[64];

/* Writes root/PID/status as the kernel would for a process, and exe as a symlink. */
static void fake_process(pid_t pid, const char *name, unsigned uid, pid_t ppid, const char *exe)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%d", root, (int)pid);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/%d/status", root, (int)pid);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "Name:\t%s\nPPid:\t%d\nUid:\t%u\t%u\t%u\t%u\nGid:\t%u\t%u\t%u\t%u\n", name, (int)ppid, uid, uid,
            uid, uid, uid, uid, uid, uid);
    fclose(f);
    snprintf(path, sizeof path, "%s/%d/exe", root, (int)pid);
    unlink(path);
    if (exe)
        assert_int_equal(symlink(exe, path), 0);
}

static void gone_process(pid_t pid)
{
    char path[256];
    snprintf(path, sizeof path, "rm -rf %s/%d", root, (int)pid);
    assert_int_equal(system(path), 0);
}

static int setup(void **state)
{
    snprintf(root, sizeof root, "/tmp/iotrace-proc.XXXXXX");
    if (!mkdtemp(root))
        return -1;
    struct proc_table *t = proc_table_new(root, 64);
    proc_table_set_tracked(t, true);
    fake_process(1, "init", 0, 0, "/sbin/init");
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    proc_table_free(*state);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    return system(cmd) == 0 ? 0 : -1;
}

static const struct proc_info *alive(struct proc_table *t, pid_t pid)
{
    return proc_lookup(t, pid, true, PROC_ALIVE, -1);
}

static const struct proc_info *gone(struct proc_table *t, pid_t pid)
{
    return proc_lookup(t, pid, true, PROC_GONE, -1);
}

static void test_fork_exec_rename_setuid(void **state)
{
    struct proc_table *t = *state;
    proc_table_set_wants(t, true, true);
    fake_process(100, "bash", 1000, 1, "/usr/bin/bash");
    proc_note_fork(t, 100, 101); /* the child starts as its parent */
    gone_process(100);
    const struct proc_info *p = alive(t, 101);
    assert_string_equal(p->comm, "bash");
    assert_int_equal(p->uid, 1000);
    assert_string_equal(p->exe, "/usr/bin/bash");

    fake_process(101, "cat", 1000, 100, "/usr/bin/cat");
    proc_note_exec(t, 101);
    gone_process(101); /* not read again: the table answers */
    assert_string_equal(alive(t, 101)->comm, "cat");
    assert_string_equal(alive(t, 101)->exe, "/usr/bin/cat");

    proc_note_comm(t, 101, "worker");
    proc_note_uid(t, 101, 65534);
    p = alive(t, 101);
    assert_string_equal(p->comm, "worker");
    assert_int_equal(p->uid, 65534);

    const struct proc_info *chain[8];
    assert_int_equal(proc_parents(p, chain, 8), 2); /* bash(100), then init(1) */
    assert_int_equal(chain[0]->pid, 100);
    assert_string_equal(chain[0]->comm, "bash");
    assert_int_equal(chain[1]->pid, 1);
    assert_string_equal(chain[1]->exe, "/sbin/init");
}

static void test_exec_then_gone_named_at_exit(void **state)
{
    struct proc_table *t = *state;
    fake_process(200, "sh", 65534, 1, NULL);
    proc_note_fork(t, 200, 201);
    proc_note_exec(t, 201); /* reaped before its exec was read: no name yet */
    proc_note_exit(t, 201, "", false);
    proc_note_exit(t, 201, "cat", true); /* the taskstats record has it */
    const struct proc_info *p = gone(t, 201);
    assert_string_equal(p->comm, "cat");
    assert_int_equal(p->uid, 65534); /* the users from before the exec */
}

static void test_reused_pid(void **state)
{
    struct proc_table *t = *state;
    fake_process(300, "cat", 0, 1, NULL);
    assert_string_equal(alive(t, 300)->comm, "cat");
    proc_note_exit(t, 300, "", false);
    gone_process(300);
    fake_process(299, "nobodysh", 65534, 1, NULL);
    proc_note_fork(t, 299, 300); /* the pid is reused while cat's events are queued */

    /* an event read after cat was reaped is cat's; one of a live process is the new one's */
    assert_string_equal(gone(t, 300)->comm, "cat");
    assert_int_equal(gone(t, 300)->uid, 0);
    assert_string_equal(alive(t, 300)->comm, "nobodysh");
    /* without a pidfd the event could be either's: neither name is given */
    assert_false(proc_lookup(t, 300, true, PROC_LIVENESS_UNKNOWN, -1)->have_comm);

    /* once a read that emptied the queue was handled, cat is forgotten */
    unsigned long mark = proc_table_read_begins(t);
    proc_table_read_drained(t, mark);
    assert_string_equal(alive(t, 300)->comm, "nobodysh");
    assert_string_equal(proc_lookup(t, 300, true, PROC_LIVENESS_UNKNOWN, -1)->comm, "nobodysh");
}

static void test_gone_never_reads_proc(void **state)
{
    struct proc_table *t = *state;
    fake_process(400, "newcomer", 0, 1, NULL); /* /proc has a process with this pid now */
    assert_false(gone(t, 400)->have_comm);
    assert_string_equal(alive(t, 400)->comm, "newcomer");
}

static void test_two_ended_incarnations_that_disagree(void **state)
{
    struct proc_table *t = *state;
    fake_process(500, "first", 0, 1, NULL);
    proc_note_fork(t, 1, 501);
    proc_note_comm(t, 501, "first");
    proc_note_exit(t, 501, "", false);
    proc_note_fork(t, 1, 501);
    proc_note_comm(t, 501, "second");
    proc_note_exit(t, 501, "", false);
    assert_false(gone(t, 501)->have_comm); /* no guess between the two */
}

static void test_exit_notices_go_to_the_oldest(void **state)
{
    struct proc_table *t = *state;
    proc_note_fork(t, 1, 600);
    proc_note_exec(t, 600); /* its exec could not be read: no name */
    proc_note_fork(t, 1, 600); /* reused before the taskstats socket was read */
    proc_note_exit(t, 600, "old", true);
    assert_string_equal(gone(t, 600)->comm, "old");
    assert_string_equal(alive(t, 600)->comm, "init"); /* the new one is untouched */
}

static void test_stale_after_lost_events(void **state)
{
    struct proc_table *t = *state;
    fake_process(700, "before", 0, 1, NULL);
    assert_string_equal(alive(t, 700)->comm, "before");
    proc_table_mark_stale(t); /* an exec may have been lost */
    assert_false(gone(t, 700)->have_comm);
    fake_process(700, "after", 0, 1, NULL);
    assert_string_equal(alive(t, 700)->comm, "after");
}

static void test_seed_and_capacity(void **state)
{
    struct proc_table *t = *state;
    fake_process(800, "daemon", 0, 1, NULL);
    fake_process(801, "other", 0, 1, NULL);
    assert_int_equal(proc_table_seed(t), 3); /* init too */
    gone_process(800);
    assert_string_equal(gone(t, 800)->comm, "daemon"); /* it started before iotrace */

    /* ended entries beyond the capacity go, oldest first */
    for (pid_t pid = 1000; pid < 1100; pid++) {
        proc_note_fork(t, 1, pid);
        proc_note_exit(t, pid, "", false);
    }
    assert_false(gone(t, 1000)->have_comm);
    assert_true(gone(t, 1099)->have_comm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fork_exec_rename_setuid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exec_then_gone_named_at_exit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reused_pid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gone_never_reads_proc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_ended_incarnations_that_disagree, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exit_notices_go_to_the_oldest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_after_lost_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seed_and_capacity, setup, teardown),
    };
    return cmocka_run_group_tests_name("process table", tests, NULL, NULL);
}
