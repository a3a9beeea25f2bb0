/* Parsing the process connector's datagrams, from hand-built netlink messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <string.h>

#include "iotrace/procevents.h"

struct datagram {
    unsigned char bytes[1024] __attribute__((aligned(8)));
    size_t len;
};

/* One netlink message holding one connector message holding ev. */
static void add_event(struct datagram *d, const struct proc_event *ev)
{
    struct nlmsghdr nh = { .nlmsg_type = NLMSG_DONE };
    struct cn_msg cn = { .id = { .idx = CN_IDX_PROC, .val = CN_VAL_PROC }, .len = sizeof *ev };
    nh.nlmsg_len = (unsigned)(NLMSG_HDRLEN + sizeof cn + sizeof *ev);
    unsigned char *p = d->bytes + d->len;
    memcpy(p, &nh, sizeof nh);
    memcpy(p + NLMSG_HDRLEN, &cn, sizeof cn);
    memcpy(p + NLMSG_HDRLEN + sizeof cn, ev, sizeof *ev);
    d->len += NLMSG_ALIGN(nh.nlmsg_len);
    assert_true(d->len <= sizeof d->bytes);
}

static struct proc_event id_event(unsigned what, pid_t tid, pid_t tgid, unsigned id)
{
    struct proc_event ev;
    memset(&ev, 0, sizeof ev);
    ev.what = what;
    ev.event_data.id.process_pid = tid;
    ev.event_data.id.process_tgid = tgid;
    ev.event_data.id.r.ruid = 0;
    ev.event_data.id.e.euid = id;
    return ev;
}

/* A server's worker thread switching to a client's user is not the process changing
 * user: as recorded from nfs-ganesha serving uid 65534 (threads 27236, 27233 of 27051). */
static void test_thread_credentials_are_not_the_process(void **state)
{
    (void)state;
    struct datagram d = { .len = 0 };
    struct proc_event ev = id_event(PROC_EVENT_GID, 27236, 27051, 65534);
    add_event(&d, &ev);
    ev = id_event(PROC_EVENT_UID, 27236, 27051, 65534);
    add_event(&d, &ev);
    ev = id_event(PROC_EVENT_UID, 27233, 27051, 0);
    add_event(&d, &ev);
    ev = id_event(PROC_EVENT_UID, 27051, 27051, 1001); /* the leader: the process */
    add_event(&d, &ev);
    ev = id_event(PROC_EVENT_GID, 27051, 27051, 100);
    add_event(&d, &ev);

    struct proc_change out[8];
    size_t n = proc_changes_parse(d.bytes, d.len, out, 8);
    assert_int_equal(n, 2);
    assert_int_equal(out[0].kind, PROC_CHANGE_UID);
    assert_int_equal(out[0].pid, 27051);
    assert_int_equal(out[0].id, 1001);
    assert_int_equal(out[1].kind, PROC_CHANGE_GID);
    assert_int_equal(out[1].pid, 27051);
    assert_int_equal(out[1].id, 100);
}

static void test_processes_and_threads(void **state)
{
    (void)state;
    struct datagram d = { .len = 0 };
    struct proc_event ev;
    memset(&ev, 0, sizeof ev);
    ev.what = PROC_EVENT_FORK;
    ev.event_data.fork.parent_pid = ev.event_data.fork.parent_tgid = 100;
    ev.event_data.fork.child_pid = ev.event_data.fork.child_tgid = 200;
    add_event(&d, &ev);
    ev.event_data.fork.child_pid = 201; /* a thread of 100 */
    ev.event_data.fork.child_tgid = 100;
    add_event(&d, &ev);
    memset(&ev, 0, sizeof ev);
    ev.what = PROC_EVENT_EXEC;
    ev.event_data.exec.process_pid = ev.event_data.exec.process_tgid = 200;
    add_event(&d, &ev);

    struct proc_change out[8];
    size_t n = proc_changes_parse(d.bytes, d.len, out, 8);
    assert_int_equal(n, 2);
    assert_int_equal(out[0].kind, PROC_CHANGE_FORK);
    assert_int_equal(out[0].pid, 200);
    assert_int_equal(out[0].parent, 100);
    assert_int_equal(out[1].kind, PROC_CHANGE_EXEC);
    assert_int_equal(out[1].pid, 200);
    /* a cut datagram yields what is whole and no more */
    assert_int_equal(proc_changes_parse(d.bytes, 10, out, 8), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thread_credentials_are_not_the_process),
        cmocka_unit_test(test_processes_and_threads),
    };
    return cmocka_run_group_tests_name("procevents", tests, NULL, NULL);
}
