/* Which machine a file-server process works for: on a Samba server each client
 * connection has its own smbd process, so the peer of that process's TCP connection is
 * the client. Read from /proc (the process's socket inodes in /proc/PID/fd, matched in
 * its network namespace's /proc/PID/net/tcp and tcp6), once per process. */
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

/* Whether events of this process name are attributed to a network client. */
bool client_serving_process(const char *comm);

struct client_table;

struct client_table *client_table_new(const char *proc_root, size_t capacity);
void client_table_free(struct client_table *t);

/* The client of this process incarnation (serial from the process table); never NULL. */
const struct client_info *client_lookup(struct client_table *t, pid_t pid, unsigned long serial);

/* Parses one line of /proc/net/tcp or tcp6. Returns 0 and fills the fields for a
 * well-formed connection line, -1 for the header or anything else. */
int tcp_line_parse(const char *line, unsigned long *inode, unsigned *state, struct client_info *remote);

#endif
