/* Which machine a file-server process works for. Read from /proc: the process's socket
 * inodes in /proc/PID/fd, matched in its network namespace's /proc/PID/net/tcp and tcp6;
 * a client connection is an established socket on a port the process listens on.
 *
 * - Samba: each client connection has its own smbd process, switched to the client's
 *   user: the peer of its connection is the client, the session user its user.
 * - NFS servers (nfs-ganesha, the kernel's nfsd threads) serve every client from one
 *   process: neither the user nor the client of an access can be known (README, "NFS").
 *   ganesha sets credentials per request and per thread, and does most of a request's
 *   I/O as root anyway (opens, reads, closes: measured with strace on 4.3), so no
 *   credential history, per thread or not, names the client's user. The connections
 *   open when an event is read are not those open when it happened (a libnfs client is
 *   gone within milliseconds), and some accesses belong to no connection at all (the
 *   closes when a vanished client's lease expires, ganesha's fd cache, UDP clients):
 *   "the only client connected" was seen to be the wrong one. */
#ifndef IOTRACE_CLIENTS_H
#define IOTRACE_CLIENTS_H

#include "iotrace/event.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct client_info {
    bool known;
    char addr[48]; /* numeric IPv4 or IPv6; an IPv4-mapped IPv6 address is shown as IPv4 */
    unsigned port;
};

enum client_kind {
    CLIENT_NONE,        /* an ordinary process */
    CLIENT_SESSION,     /* one process per client, switched to its user (smbd) */
    CLIENT_PER_REQUEST, /* one process for all clients, credentials per request (NFS) */
};

enum client_kind client_kind_of(const char *comm);

/* The uid a process's accesses are attributed to: its effective uid, or for a session
 * server (smbd) the last non-root one, the client's. Pure. */
uid_t client_acting_uid(const struct proc_info *p);

/* Whether a process's accesses can be attributed to any user: not a per-request server's.
 * Such accesses show `?`, and no --only-user matches them. Pure. */
bool client_user_known(const struct proc_info *p);

struct client_table;

struct client_table *client_table_new(const char *proc_root, size_t capacity);
void client_table_free(struct client_table *t);

/* The client of a session server's process incarnation (serial from the process table),
 * looked up once: a session lives as long as its connection. Never NULL. */
const struct client_info *client_lookup(struct client_table *t, pid_t pid, unsigned long serial);

struct tcp_socket {
    unsigned long inode;
    unsigned state; /* 1 established, 10 listening */
    unsigned local_port;
    struct client_info remote;
};

/* Parses one line of /proc/net/tcp or tcp6. Returns 0 for a well-formed socket line,
 * -1 for the header or anything else. */
int tcp_line_parse(const char *line, struct tcp_socket *out);

#endif
