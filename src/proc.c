#include "iotrace/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct proc_entry {
    pid_t pid;            /* 0: free */
    unsigned batch;       /* untracked: valid while equal to the table's batch */
    bool ids_tried;       /* /proc/PID/status was read (or ids came from events) */
    struct proc_info info;
};

struct proc_table {
    char *root;
    size_t capacity;
    unsigned batch;
    bool tracked;
    unsigned long serial;
    struct proc_entry *entries;
    struct proc_info unknown;
    proc_fork_hook on_fork;
    void *on_fork_ctx;
};

static void set_effective_uid(struct proc_info *info, uid_t euid)
{
    info->uid = euid;
    if (euid != 0) {
        info->session_uid = euid;
        info->have_session_uid = true;
    }
}

struct proc_table *proc_table_new(const char *proc_root, size_t capacity)
{
    struct proc_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->root = strdup(proc_root);
    t->capacity = capacity ? capacity : 1;
    t->entries = calloc(t->capacity, sizeof *t->entries);
    t->batch = 1;
    if (!t->root || !t->entries) {
        proc_table_free(t);
        return NULL;
    }
    return t;
}

void proc_table_free(struct proc_table *t)
{
    if (!t)
        return;
    free(t->entries);
    free(t->root);
    free(t);
}

void proc_table_set_tracked(struct proc_table *t, bool tracked)
{
    t->tracked = tracked;
}

void proc_table_on_fork(struct proc_table *t, proc_fork_hook hook, void *ctx)
{
    t->on_fork = hook;
    t->on_fork_ctx = ctx;
}

void proc_table_new_batch(struct proc_table *t)
{
    t->batch++;
}

void proc_table_forget_all(struct proc_table *t)
{
    memset(t->entries, 0, t->capacity * sizeof *t->entries);
}

/* Reads a small /proc file whole; returns its length or -1. */
static ssize_t read_small_file(const char *root, pid_t pid, const char *name, char *buf, size_t size)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%d/%s", root, (int)pid, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, size - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
        if (len == size - 1)
            break;
    }
    close(fd);
    buf[len] = '\0';
    return (ssize_t)len;
}

static const char *find_line(const char *text, size_t len, const char *key)
{
    size_t klen = strlen(key);
    const char *p = text, *end = text + len;
    while (p < end) {
        if ((size_t)(end - p) > klen && memcmp(p, key, klen) == 0)
            return p + klen;
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            break;
        p = nl + 1;
    }
    return NULL;
}

/* "Uid:\treal\teffective\tsaved\tfs": returns the effective (second) number. */
static int parse_second_id(const char *p, unsigned long *out)
{
    char *end;
    errno = 0;
    strtoul(p, &end, 10);
    if (end == p || errno)
        return -1;
    p = end;
    unsigned long v = strtoul(p, &end, 10);
    if (end == p || errno)
        return -1;
    *out = v;
    return 0;
}

int proc_parse_status(const char *text, size_t len, struct proc_info *out)
{
    const char *name = find_line(text, len, "Name:\t");
    if (name) {
        size_t n = 0;
        const char *end = text + len;
        while (name < end && *name != '\n' && n < sizeof out->comm - 1) {
            char c = *name++;
            if (c == '\\' && name < end) {
                char e = *name++;
                c = e == 'n' ? '\n' : e;
            }
            out->comm[n++] = c;
        }
        out->comm[n] = '\0';
        out->have_comm = true;
    }
    unsigned long uid, gid;
    const char *u = find_line(text, len, "Uid:");
    const char *g = find_line(text, len, "Gid:");
    if (!u || !g || parse_second_id(u, &uid) != 0 || parse_second_id(g, &gid) != 0)
        return -1;
    set_effective_uid(out, (uid_t)uid);
    out->gid = (gid_t)gid;
    out->have_ids = true;
    return 0;
}

static void read_comm(const struct proc_table *t, pid_t pid, struct proc_info *info)
{
    char buf[sizeof info->comm];
    ssize_t n = read_small_file(t->root, pid, "comm", buf, sizeof buf);
    if (n <= 0)
        return;
    if (buf[n - 1] == '\n') /* the kernel's terminator, not part of the name */
        buf[--n] = '\0';
    memcpy(info->comm, buf, (size_t)n + 1);
    info->have_comm = true;
}

static void read_status(const struct proc_table *t, pid_t pid, struct proc_info *info)
{
    char buf[4096];
    ssize_t n = read_small_file(t->root, pid, "status", buf, sizeof buf);
    if (n > 0)
        proc_parse_status(buf, (size_t)n, info);
}

static struct proc_entry *slot_of(struct proc_table *t, pid_t pid)
{
    return &t->entries[(size_t)pid % t->capacity];
}

/* The entry for pid if the table knows it now, else NULL. */
static struct proc_entry *known_entry(struct proc_table *t, pid_t pid)
{
    struct proc_entry *e = slot_of(t, pid);
    if (e->pid != pid || (!t->tracked && e->batch != t->batch))
        return NULL;
    return e;
}

static struct proc_entry *fresh_entry(struct proc_table *t, pid_t pid)
{
    struct proc_entry *e = slot_of(t, pid);
    memset(e, 0, sizeof *e);
    e->pid = pid;
    e->batch = t->batch;
    e->info.serial = ++t->serial;
    return e;
}


const struct proc_info *proc_lookup(struct proc_table *t, pid_t pid, bool want_ids)
{
    if (pid <= 0)
        return &t->unknown;
    struct proc_entry *e = known_entry(t, pid);
    if (!e) {
        e = fresh_entry(t, pid);
        if (want_ids) {
            /* status holds the name too: one file instead of two */
            read_status(t, pid, &e->info);
            e->ids_tried = true;
        } else {
            read_comm(t, pid, &e->info);
        }
        if (!e->info.have_comm && !e->info.have_ids) {
            /* Gone before we looked: remember nothing, so a later event from a
             * process that reuses this pid is not given this answer. */
            e->pid = 0;
            return &t->unknown;
        }
    } else if (want_ids && !e->ids_tried) {
        read_status(t, pid, &e->info);
        e->ids_tried = true;
    }
    return &e->info;
}

void proc_note_fork(struct proc_table *t, pid_t parent, pid_t child)
{
    if (t->on_fork)
        t->on_fork(t->on_fork_ctx, parent, child);
    struct proc_entry *p = known_entry(t, parent);
    struct proc_info inherited = { 0 };
    bool ids_tried = false;
    if (p) {
        inherited = p->info;
        ids_tried = p->ids_tried;
    } else {
        /* a parent from before iotrace started: read it while it surely lives */
        const struct proc_info *info = proc_lookup(t, parent, true);
        inherited = *info;
        ids_tried = true;
    }
    struct proc_entry *c = fresh_entry(t, child);
    unsigned long serial = c->info.serial;
    c->info = inherited;
    c->info.serial = serial;
    c->ids_tried = ids_tried;
    if (!c->info.have_comm && !c->info.have_ids)
        c->pid = 0;
}

void proc_note_exec(struct proc_table *t, pid_t pid)
{
    struct proc_entry *e = slot_of(t, pid);
    struct proc_info before = e->pid == pid ? e->info : (struct proc_info){ 0 };
    e = fresh_entry(t, pid);
    read_status(t, pid, &e->info);
    e->ids_tried = true;
    if (!e->info.have_comm) {
        /* Exited before we could read its new name. The old name would be wrong for
         * what it did after exec; its users did not change (a set-uid exec is reported
         * by its own uid event, which comes after this one). */
        e->info.have_ids = before.have_ids;
        e->info.uid = before.uid;
        e->info.gid = before.gid;
        if (!e->info.have_ids)
            e->pid = 0;
    }
}

void proc_note_uid(struct proc_table *t, pid_t pid, uid_t euid)
{
    struct proc_entry *e = known_entry(t, pid);
    if (e && e->info.have_ids)
        set_effective_uid(&e->info, euid);
    else if (e)
        e->ids_tried = false; /* read both from status when needed */
}

void proc_note_gid(struct proc_table *t, pid_t pid, gid_t egid)
{
    struct proc_entry *e = known_entry(t, pid);
    if (e && e->info.have_ids)
        e->info.gid = egid;
    else if (e)
        e->ids_tried = false;
}

void proc_note_comm(struct proc_table *t, pid_t pid, const char *comm)
{
    struct proc_entry *e = known_entry(t, pid);
    if (!e)
        return;
    snprintf(e->info.comm, sizeof e->info.comm, "%s", comm);
    e->info.have_comm = true;
}

void proc_note_exit(struct proc_table *t, pid_t pid, const char *comm)
{
    struct proc_entry *e = known_entry(t, pid);
    if (!e) {
        e = fresh_entry(t, pid);
        e->ids_tried = true; /* /proc has nothing left to tell */
    }
    if (!e->info.have_comm) {
        snprintf(e->info.comm, sizeof e->info.comm, "%s", comm);
        e->info.have_comm = true;
    }
}
