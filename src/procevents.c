#include "iotrace/procevents.h"

#include <errno.h>
#include <stdio.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/genetlink.h>
#include <linux/taskstats.h>
#include <linux/netlink.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

size_t proc_changes_parse(const void *datagram, size_t len, struct proc_change *out, size_t max)
{
    size_t n = 0;
    /* netlink messages are aligned; copy each piece out rather than cast into the buffer */
    const unsigned char *p = datagram, *end = p + len;
    while (n < max && (size_t)(end - p) >= sizeof(struct nlmsghdr)) {
        struct nlmsghdr nh;
        memcpy(&nh, p, sizeof nh);
        if (nh.nlmsg_len < sizeof nh || nh.nlmsg_len > (size_t)(end - p))
            break;
        const unsigned char *payload = p + NLMSG_HDRLEN;
        size_t payload_len = nh.nlmsg_len - NLMSG_HDRLEN;
        /* the last message may lack its padding: never step past the end (found by fuzzing) */
        p += NLMSG_ALIGN(nh.nlmsg_len) <= (size_t)(end - p) ? NLMSG_ALIGN(nh.nlmsg_len) : (size_t)(end - p);
        if (nh.nlmsg_type != NLMSG_DONE || payload_len < sizeof(struct cn_msg) + sizeof(struct proc_event))
            continue;
        struct cn_msg cn;
        struct proc_event ev;
        memcpy(&cn, payload, sizeof cn);
        if (cn.id.idx != CN_IDX_PROC || cn.id.val != CN_VAL_PROC)
            continue;
        memcpy(&ev, payload + sizeof cn, sizeof ev);

        struct proc_change c = { .kind = PROC_CHANGE_NONE };
        switch (ev.what) {
        case PROC_EVENT_FORK:
            if (ev.event_data.fork.child_pid != ev.event_data.fork.child_tgid)
                break; /* a new thread, not a process */
            c.kind = PROC_CHANGE_FORK;
            c.pid = ev.event_data.fork.child_tgid;
            c.parent = ev.event_data.fork.parent_tgid;
            break;
        case PROC_EVENT_EXEC:
            c.kind = PROC_CHANGE_EXEC;
            c.pid = ev.event_data.exec.process_tgid;
            break;
        case PROC_EVENT_UID:
            /* Only the leader's credentials are the process's (/proc/PID/status shows
             * them). Servers set credentials per thread: nfs-ganesha's workers switch to
             * each request's user and back with raw setresuid calls, several times per
             * request; taking those for the process's made its user flicker. glibc's
             * setresuid() changes every thread, the leader included, so nothing is lost. */
            if (ev.event_data.id.process_pid != ev.event_data.id.process_tgid)
                break;
            c.kind = PROC_CHANGE_UID;
            c.pid = ev.event_data.id.process_tgid;
            c.id = ev.event_data.id.e.euid;
            break;
        case PROC_EVENT_GID:
            if (ev.event_data.id.process_pid != ev.event_data.id.process_tgid)
                break; /* as for UID */
            c.kind = PROC_CHANGE_GID;
            c.pid = ev.event_data.id.process_tgid;
            c.id = ev.event_data.id.e.egid;
            break;
        case PROC_EVENT_EXIT:
            /* the leader's exit; the process's other threads may outlive it, which
             * only makes the table read /proc for them again */
            if (ev.event_data.exit.process_pid != ev.event_data.exit.process_tgid)
                break;
            c.kind = PROC_CHANGE_EXIT;
            c.pid = ev.event_data.exit.process_tgid;
            break;
        case PROC_EVENT_COMM:
            /* /proc/PID/comm is the leader's name; another thread's rename is not it */
            if (ev.event_data.comm.process_pid != ev.event_data.comm.process_tgid)
                break;
            c.kind = PROC_CHANGE_COMM;
            c.pid = ev.event_data.comm.process_tgid;
            memcpy(c.comm, ev.event_data.comm.comm, 16);
            c.comm[16] = '\0';
            break;
        default:
            break;
        }
        if (c.kind != PROC_CHANGE_NONE)
            out[n++] = c;
    }
    return n;
}

/* Netlink attributes: walk [nla_len, nla_type, payload] records. */
static const unsigned char *find_attr(const unsigned char *p, size_t len, unsigned type, size_t *out_len)
{
    while (len >= NLA_HDRLEN) {
        struct nlattr a;
        memcpy(&a, p, sizeof a);
        if (a.nla_len < NLA_HDRLEN || a.nla_len > len)
            return NULL;
        if ((a.nla_type & NLA_TYPE_MASK) == type) {
            *out_len = a.nla_len - NLA_HDRLEN;
            return p + NLA_HDRLEN;
        }
        size_t step = NLA_ALIGN(a.nla_len);
        if (step >= len)
            return NULL;
        p += step;
        len -= step;
    }
    return NULL;
}

size_t exit_changes_parse(const void *datagram, size_t len, struct proc_change *out, size_t max)
{
    size_t n = 0;
    const unsigned char *p = datagram, *end = p + len;
    while (n < max && (size_t)(end - p) >= NLMSG_HDRLEN) {
        struct nlmsghdr nh;
        memcpy(&nh, p, sizeof nh);
        if (nh.nlmsg_len < NLMSG_HDRLEN || nh.nlmsg_len > (size_t)(end - p))
            break;
        const unsigned char *msg = p + NLMSG_HDRLEN;
        size_t msg_len = nh.nlmsg_len - NLMSG_HDRLEN;
        p += NLMSG_ALIGN(nh.nlmsg_len) <= (size_t)(end - p) ? NLMSG_ALIGN(nh.nlmsg_len) : (size_t)(end - p);
        if (msg_len < GENL_HDRLEN)
            continue;
        size_t aggr_len, pid_len = 0, stats_len = 0;
        /* per-thread records (AGGR_PID) carry the name; the group record does not */
        const unsigned char *aggr = find_attr(msg + GENL_HDRLEN, msg_len - GENL_HDRLEN,
                                              TASKSTATS_TYPE_AGGR_PID, &aggr_len);
        if (!aggr)
            continue;
        const unsigned char *pidp = find_attr(aggr, aggr_len, TASKSTATS_TYPE_PID, &pid_len);
        const unsigned char *stats = find_attr(aggr, aggr_len, TASKSTATS_TYPE_STATS, &stats_len);
        if (!pidp || pid_len < 4 || !stats || stats_len < offsetof(struct taskstats, ac_tgid) + 4)
            continue;
        struct taskstats ts = { 0 };
        memcpy(&ts, stats, stats_len < sizeof ts ? stats_len : sizeof ts);
        uint32_t pid;
        memcpy(&pid, pidp, 4);
        if (pid != ts.ac_tgid)
            continue; /* a thread other than the leader: /proc/PID/comm is not its name */
        struct proc_change c = { .kind = PROC_CHANGE_EXIT, .pid = (pid_t)pid, .from_taskstats = true };
        memcpy(c.comm, ts.ac_comm, sizeof c.comm - 1 < TS_COMM_LEN ? sizeof c.comm - 1 : TS_COMM_LEN);
        c.comm[sizeof c.comm - 1] = '\0';
        out[n++] = c;
    }
    return n;
}

static int open_connector(void)
{
    int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_CONNECTOR);
    if (fd < 0)
        return -errno;
    struct sockaddr_nl addr = { .nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC };
    /* a large receive buffer: bursts of forks must not overflow it */
    int size = 8 * 1024 * 1024;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        int err = errno;
        close(fd);
        return -err;
    }
    struct {
        struct nlmsghdr nh;
        struct cn_msg cn;
        enum proc_cn_mcast_op op;
    } __attribute__((packed)) req;
    memset(&req, 0, sizeof req);
    req.nh.nlmsg_len = sizeof req;
    req.nh.nlmsg_type = NLMSG_DONE;
    req.cn.id.idx = CN_IDX_PROC;
    req.cn.id.val = CN_VAL_PROC;
    req.cn.len = sizeof req.op;
    req.op = PROC_CN_MCAST_LISTEN;
    if (send(fd, &req, sizeof req, 0) != (ssize_t)sizeof req) {
        int err = errno;
        close(fd);
        return -err;
    }
    return fd;
}

struct genl_request {
    struct nlmsghdr nh;
    struct genlmsghdr g;
    unsigned char attrs[256];
};

static int genl_send(int fd, uint16_t family, uint8_t cmd, uint16_t attr, const void *data, size_t len)
{
    struct genl_request req;
    memset(&req, 0, sizeof req);
    struct nlattr a = { .nla_len = (uint16_t)(NLA_HDRLEN + len), .nla_type = attr };
    memcpy(req.attrs, &a, sizeof a);
    memcpy(req.attrs + NLA_HDRLEN, data, len);
    req.nh.nlmsg_len = (uint32_t)(NLMSG_HDRLEN + GENL_HDRLEN + NLA_ALIGN(a.nla_len));
    req.nh.nlmsg_type = family;
    req.nh.nlmsg_flags = NLM_F_REQUEST;
    req.g.cmd = cmd;
    req.g.version = 1;
    return send(fd, &req, req.nh.nlmsg_len, 0) < 0 ? -errno : 0;
}

static int taskstats_family(int fd)
{
    if (genl_send(fd, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, CTRL_ATTR_FAMILY_NAME, TASKSTATS_GENL_NAME,
                  sizeof TASKSTATS_GENL_NAME) != 0)
        return -1;
    unsigned char buf[4096] __attribute__((aligned(8)));
    for (int tries = 0; tries < 100; tries++) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            usleep(1000);
            continue;
        }
        if (n < (ssize_t)(NLMSG_HDRLEN + GENL_HDRLEN))
            return -1;
        struct nlmsghdr nh;
        memcpy(&nh, buf, sizeof nh);
        if (nh.nlmsg_type == NLMSG_ERROR || nh.nlmsg_len > (size_t)n)
            return -1;
        size_t id_len;
        const unsigned char *id = find_attr(buf + NLMSG_HDRLEN + GENL_HDRLEN,
                                            nh.nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN, CTRL_ATTR_FAMILY_ID,
                                            &id_len);
        if (!id || id_len < 2)
            return -1;
        uint16_t family;
        memcpy(&family, id, 2);
        return family;
    }
    return -1;
}

static int open_taskstats(void)
{
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_GENERIC);
    if (fd < 0)
        return -1;
    struct sockaddr_nl addr = { .nl_family = AF_NETLINK };
    int size = 8 * 1024 * 1024;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    int family = bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0 ? taskstats_family(fd) : -1;
    char cpus[32];
    long ncpu = sysconf(_SC_NPROCESSORS_CONF);
    snprintf(cpus, sizeof cpus, "0-%ld", ncpu > 0 ? ncpu - 1 : 0);
    if (family < 0 || genl_send(fd, (uint16_t)family, TASKSTATS_CMD_GET, TASKSTATS_CMD_ATTR_REGISTER_CPUMASK,
                                cpus, strlen(cpus) + 1) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int procevents_open(struct procevents *pe)
{
    pe->taskstats_fd = -1;
    pe->connector_fd = open_connector();
    if (pe->connector_fd < 0)
        return pe->connector_fd;
    pe->taskstats_fd = open_taskstats();
    return 0;
}

static void apply(struct proc_table *t, const struct proc_change *c)
{
    switch (c->kind) {
    case PROC_CHANGE_FORK:
        proc_note_fork(t, c->parent, c->pid);
        break;
    case PROC_CHANGE_EXEC:
        proc_note_exec(t, c->pid);
        break;
    case PROC_CHANGE_UID:
        proc_note_uid(t, c->pid, (uid_t)c->id);
        break;
    case PROC_CHANGE_GID:
        proc_note_gid(t, c->pid, (gid_t)c->id);
        break;
    case PROC_CHANGE_COMM:
        proc_note_comm(t, c->pid, c->comm);
        break;
    case PROC_CHANGE_EXIT:
        proc_note_exit(t, c->pid, c->comm, c->from_taskstats);
        break;
    case PROC_CHANGE_NONE:
        break;
    }
}

typedef size_t (*change_parser)(const void *, size_t, struct proc_change *, size_t);

static int drain_socket(int fd, change_parser parse, struct proc_table *t)
{
    unsigned char buf[64 * 1024] __attribute__((aligned(8)));
    struct proc_change changes[512];
    int result = 0;
    for (;;) {
        ssize_t len = recv(fd, buf, sizeof buf, 0);
        if (len < 0) {
            if (errno == EINTR)
                continue;
            if (errno == ENOBUFS) {
                proc_table_mark_stale(t);
                result = -ENOBUFS;
                continue;
            }
            return result; /* EAGAIN: drained */
        }
        size_t n = parse(buf, (size_t)len, changes, sizeof changes / sizeof changes[0]);
        for (size_t i = 0; i < n; i++)
            apply(t, &changes[i]);
    }
}

int procevents_drain(struct procevents *pe, struct proc_table *t)
{
    if (pe->connector_fd < 0)
        return 0;
    /* connector first: a process's exec is always queued before its exit record */
    int rc = drain_socket(pe->connector_fd, proc_changes_parse, t);
    if (pe->taskstats_fd >= 0) {
        int rc2 = drain_socket(pe->taskstats_fd, exit_changes_parse, t);
        if (rc == 0)
            rc = rc2;
    }
    return rc;
}

void procevents_close(struct procevents *pe)
{
    if (pe->connector_fd >= 0)
        close(pe->connector_fd);
    if (pe->taskstats_fd >= 0)
        close(pe->taskstats_fd);
    pe->connector_fd = pe->taskstats_fd = -1;
}
