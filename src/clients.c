#include "iotrace/clients.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TCP_ESTABLISHED 1
#define MAX_SOCKETS 256

struct client_entry {
    pid_t pid;
    unsigned long serial;
    struct client_info info;
};

struct client_table {
    char *root;
    size_t capacity;
    struct client_entry *entries;
};

enum client_kind client_kind_of(const char *comm)
{
    if (strcmp(comm, "smbd") == 0)
        return CLIENT_SESSION;
    if (strcmp(comm, "ganesha.nfsd") == 0 || strcmp(comm, "nfsd") == 0)
        return CLIENT_PER_REQUEST;
    return CLIENT_NONE;
}

uid_t client_acting_uid(const struct proc_info *p)
{
    if (p->have_comm && p->have_session_uid && client_kind_of(p->comm) == CLIENT_SESSION)
        return p->session_uid;
    return p->uid;
}

bool client_user_known(const struct proc_info *p)
{
    return !p->have_comm || client_kind_of(p->comm) != CLIENT_PER_REQUEST;
}

struct client_table *client_table_new(const char *proc_root, size_t capacity)
{
    struct client_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->root = strdup(proc_root);
    t->capacity = capacity ? capacity : 1;
    t->entries = calloc(t->capacity, sizeof *t->entries);
    if (!t->root || !t->entries) {
        client_table_free(t);
        return NULL;
    }
    return t;
}

void client_table_free(struct client_table *t)
{
    if (!t)
        return;
    free(t->root);
    free(t->entries);
    free(t);
}

/* The kernel prints addresses as the hex of their in-memory 32-bit words. */
static int parse_address(const char *hex, size_t len, struct client_info *out)
{
    unsigned char bytes[16];
    size_t n = len / 2;
    if ((n != 4 && n != 16) || len % 8)
        return -1;
    for (size_t word = 0; word < n / 4; word++) {
        unsigned v;
        char chunk[9];
        memcpy(chunk, hex + word * 8, 8);
        chunk[8] = '\0';
        if (sscanf(chunk, "%8x", &v) != 1)
            return -1;
        memcpy(bytes + word * 4, &v, 4); /* host order, as the kernel wrote it */
    }
    static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    if (n == 4)
        inet_ntop(AF_INET, bytes, out->addr, sizeof out->addr);
    else if (memcmp(bytes, mapped, 12) == 0)
        inet_ntop(AF_INET, bytes + 12, out->addr, sizeof out->addr);
    else
        inet_ntop(AF_INET6, bytes, out->addr, sizeof out->addr);
    return 0;
}

int tcp_line_parse(const char *line, struct tcp_socket *out)
{
    char local[64], rem[64];
    unsigned lport, rport, st;
    unsigned long ino;
    /* "  0: 0100007F:AE6F 0100007F:C0DE 01 00000000:00000000 00:00000000 00000000  1001 0 12345 ..." */
    if (sscanf(line, " %*u: %63[0-9A-Fa-f]:%x %63[0-9A-Fa-f]:%x %x %*s %*s %*s %*u %*d %lu", local, &lport, rem,
               &rport, &st, &ino) != 6)
        return -1;
    struct tcp_socket sock = { .inode = ino, .state = st, .local_port = lport,
                               .remote = { .known = true, .port = rport } };
    if (parse_address(rem, strlen(rem), &sock.remote) != 0)
        return -1;
    *out = sock;
    return 0;
}

static size_t socket_inodes(const char *root, pid_t pid, unsigned long *out, size_t max)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%d/fd", root, (int)pid);
    DIR *dir = opendir(path);
    if (!dir)
        return 0;
    size_t n = 0;
    for (struct dirent *d; n < max && (d = readdir(dir));) {
        char link[600], target[64];
        if (d->d_name[0] == '.')
            continue;
        snprintf(link, sizeof link, "%s/%s", path, d->d_name);
        ssize_t len = readlink(link, target, sizeof target - 1);
        if (len <= 0)
            continue;
        target[len] = '\0';
        unsigned long ino;
        if (sscanf(target, "socket:[%lu]", &ino) == 1)
            out[n++] = ino;
    }
    closedir(dir);
    return n;
}

static bool owned(unsigned long ino, const unsigned long *inodes, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (inodes[i] == ino)
            return true;
    return false;
}

/* The process's TCP sockets, from both tables. */
static size_t process_sockets(const char *root, pid_t pid, const unsigned long *inodes, size_t n_inodes,
                              struct tcp_socket *out, size_t max)
{
    size_t n = 0;
    static const char *const tables[] = { "tcp", "tcp6" };
    for (size_t t = 0; t < 2; t++) {
        char path[256];
        snprintf(path, sizeof path, "%s/%d/net/%s", root, (int)pid, tables[t]);
        FILE *f = fopen(path, "re");
        if (!f)
            continue;
        char line[512];
        struct tcp_socket sock;
        while (n < max && fgets(line, sizeof line, f))
            if (tcp_line_parse(line, &sock) == 0 && owned(sock.inode, inodes, n_inodes))
                out[n++] = sock;
        fclose(f);
    }
    return n;
}

/* The client: the peer of the first established connection. smbd's child serves one
 * connection, accepted by its parent, so it has no listening socket of its own. */
static void find_client(const char *root, pid_t pid, struct client_info *out)
{
    unsigned long inodes[MAX_SOCKETS];
    struct tcp_socket socks[MAX_SOCKETS];
    size_t n_inodes = socket_inodes(root, pid, inodes, MAX_SOCKETS);
    size_t n = n_inodes ? process_sockets(root, pid, inodes, n_inodes, socks, MAX_SOCKETS) : 0;
    for (size_t i = 0; i < n; i++) {
        if (socks[i].state == TCP_ESTABLISHED) {
            *out = socks[i].remote;
            return;
        }
    }
}

const struct client_info *client_lookup(struct client_table *t, pid_t pid, unsigned long serial)
{
    struct client_entry *e = &t->entries[(size_t)pid % t->capacity];
    if (e->pid == pid && e->serial == serial)
        return &e->info;
    memset(e, 0, sizeof *e);
    e->pid = pid;
    e->serial = serial;
    find_client(t->root, pid, &e->info);
    return &e->info;
}
