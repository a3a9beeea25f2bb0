/* Which machine a file-server process works for. Read from /proc: the process's socket
 * inodes in /proc/PID/fd, matched in its network namespace's /proc/PID/net/tcp and tcp6;
 * a client connection is an established socket on a port the process listens on.
 *
 * - Samba: each client connection has its own smbd process, switched to the client's
 *   user: the peer of its connection is the client, the session user its user.
 * - NFS servers (nfs-ganesha, the kernel's nfsd threads) serve every client from one
 *   process and set credentials per request and per thread: the process's user says
 *   nothing about the client's, so it is shown as unknown; the client address is known
 *   only while exactly one client is connected. */
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

struct client_table;

struct client_table *client_table_new(const char *proc_root, size_t capacity);
void client_table_free(struct client_table *t);

/* The client of this process incarnation (serial from the process table); never NULL.
 * A session's client is looked up once; a per-request server's again after a second,
 * as its clients come and go. now: monotonic seconds. */
const struct client_info *client_lookup(struct client_table *t, pid_t pid, unsigned long serial,
                                        enum client_kind kind, long now);

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
