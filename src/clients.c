#include "iotrace/clients.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TCP_ESTABLISHED 1
#define MAX_SOCKETS 64

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

bool client_serving_process(const char *comm)
{
    /* smbd: one process per client connection, switched to the client's user */
    return strcmp(comm, "smbd") == 0;
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

int tcp_line_parse(const char *line, unsigned long *inode, unsigned *state, struct client_info *remote)
{
    char local[64], rem[64];
    unsigned port, st;
    unsigned long ino;
    /* "  0: 0100007F:AE6F 0100007F:C0DE 01 00000000:00000000 00:00000000 00000000  1001 0 12345 ..." */
    if (sscanf(line, " %*u: %63[0-9A-Fa-f]:%*x %63[0-9A-Fa-f]:%x %x %*s %*s %*s %*u %*d %lu", local, rem, &port,
               &st, &ino) != 5)
        return -1;
    struct client_info c = { .known = true, .port = port };
    if (parse_address(rem, strlen(rem), &c) != 0)
        return -1;
    *inode = ino;
    *state = st;
    *remote = c;
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

static bool find_peer(const char *root, pid_t pid, const char *table, const unsigned long *inodes, size_t n,
                      struct client_info *out)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%d/net/%s", root, (int)pid, table);
    FILE *f = fopen(path, "re");
    if (!f)
        return false;
    char line[512];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) {
        unsigned long ino;
        unsigned state;
        struct client_info c;
        if (tcp_line_parse(line, &ino, &state, &c) != 0 || state != TCP_ESTABLISHED)
            continue;
        for (size_t i = 0; i < n && !found; i++)
            if (inodes[i] == ino) {
                *out = c;
                found = true;
            }
    }
    fclose(f);
    return found;
}

const struct client_info *client_lookup(struct client_table *t, pid_t pid, unsigned long serial)
{
    struct client_entry *e = &t->entries[(size_t)pid % t->capacity];
    if (e->pid == pid && e->serial == serial)
        return &e->info;
    memset(e, 0, sizeof *e);
    e->pid = pid;
    e->serial = serial;
    unsigned long inodes[MAX_SOCKETS];
    size_t n = socket_inodes(t->root, pid, inodes, MAX_SOCKETS);
    if (n > 0 && !find_peer(t->root, pid, "tcp", inodes, n, &e->info))
        find_peer(t->root, pid, "tcp6", inodes, n, &e->info);
    return &e->info;
}
