#include "iotrace/proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define BUCKETS 8192 /* a power of two; chains hold the incarnations of a pid */
#define MAX_PARENT_DEPTH 64

struct proc_entry {
    struct proc_info info;     /* first: info pointers convert back to entries */
    struct proc_entry *next;   /* hash chain, newest incarnation first */
    struct proc_entry *older_dead, *newer_dead; /* the list of ended entries, oldest first */
    unsigned batch;            /* untracked: valid while equal to the table's batch */
    unsigned long ended_at;    /* the read mark current when it ended */
    unsigned refs;             /* entries whose info.parent is this one */
    bool ids_tried;            /* /proc/PID/status was read (or ids came from events) */
    bool ended;                /* exited, or its pid was seen reused */
    bool stale;                /* process events were lost while it ran */
    bool cn_exit, ts_exit;     /* exit notices applied, by source */
};

struct proc_table {
    char *root;
    size_t capacity;      /* ended entries kept at most */
    size_t n_ended;
    unsigned batch;
    unsigned long mark;
    unsigned long serial; /* numbers incarnations, for clients.c */
    bool tracked;
    bool want_exe, want_parents;
    struct proc_entry *buckets[BUCKETS];
    struct proc_entry *oldest_dead, *newest_dead;
    struct proc_info unknown;
    proc_fork_hook on_fork;
    void *on_fork_ctx;
};

struct proc_table *proc_table_new(const char *proc_root, size_t capacity)
{
    struct proc_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->root = proc_root ? strdup(proc_root) : NULL;
    t->capacity = capacity ? capacity : 1;
    t->batch = 1;
    t->mark = 1;
    if (proc_root && !t->root) {
        proc_table_free(t);
        return NULL;
    }
    return t;
}

static void set_effective_uid(struct proc_info *info, uid_t euid)
{
    info->uid = euid;
    if (euid != 0) {
        info->session_uid = euid;
        info->have_session_uid = true;
    }
}

static void entry_free(struct proc_entry *e)
{
    free((char *)e->info.exe);
    free(e);
}

void proc_table_free(struct proc_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < BUCKETS; i++) {
        for (struct proc_entry *e = t->buckets[i], *next; e; e = next) {
            next = e->next;
            entry_free(e);
        }
    }
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

void proc_table_set_wants(struct proc_table *t, bool exe, bool parents)
{
    t->want_exe = exe;
    t->want_parents = parents;
}

void proc_table_new_batch(struct proc_table *t)
{
    t->batch++;
}

static struct proc_entry **bucket_of(struct proc_table *t, pid_t pid)
{
    return &t->buckets[(unsigned)pid & (BUCKETS - 1)];
}

void proc_table_mark_stale(struct proc_table *t)
{
    for (size_t i = 0; i < BUCKETS; i++)
        for (struct proc_entry *e = t->buckets[i]; e; e = e->next)
            if (!e->ended)
                e->stale = true;
}

/* Reads a small /proc file whole; returns its length or -1. */
static ssize_t read_small_file(const char *root, pid_t pid, const char *name, char *buf, size_t size)
{
    char path[4096];
    if (!root)
        return -1;
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
    const char *pp = find_line(text, len, "PPid:\t");
    if (pp)
        out->ppid = (pid_t)strtol(pp, NULL, 10);
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

/* /proc/PID/exe, which a process that exited no longer has: hence read at exec. */
static void read_exe(const struct proc_table *t, struct proc_entry *e)
{
    char path[4096], target[PATH_MAX + 1];
    if (!t->root)
        return;
    snprintf(path, sizeof path, "%s/%d/exe", t->root, (int)e->info.pid);
    ssize_t n = readlink(path, target, sizeof target - 1);
    if (n <= 0)
        return;
    target[n] = '\0';
    free((char *)e->info.exe);
    e->info.exe = strdup(target);
}

static void set_parent(struct proc_entry *e, struct proc_entry *parent)
{
    if (e->info.parent)
        ((struct proc_entry *)e->info.parent)->refs--;
    e->info.parent = parent ? &parent->info : NULL;
    if (parent)
        parent->refs++;
}

static void unlink_dead(struct proc_table *t, struct proc_entry *e)
{
    if (e->older_dead)
        e->older_dead->newer_dead = e->newer_dead;
    else
        t->oldest_dead = e->newer_dead;
    if (e->newer_dead)
        e->newer_dead->older_dead = e->older_dead;
    else
        t->newest_dead = e->older_dead;
    t->n_ended--;
}

static void remove_entry(struct proc_table *t, struct proc_entry *e)
{
    for (struct proc_entry **p = bucket_of(t, e->info.pid); *p; p = &(*p)->next) {
        if (*p == e) {
            *p = e->next;
            break;
        }
    }
    if (e->ended)
        unlink_dead(t, e);
    set_parent(e, NULL);
    entry_free(e);
}

static void end_entry(struct proc_table *t, struct proc_entry *e)
{
    if (e->ended)
        return;
    e->ended = true;
    e->ended_at = t->mark;
    e->older_dead = t->newest_dead;
    e->newer_dead = NULL;
    if (t->newest_dead)
        t->newest_dead->newer_dead = e;
    else
        t->oldest_dead = e;
    t->newest_dead = e;
    t->n_ended++;
}

/* Frees ended entries (oldest first) that nothing names as parent and that satisfy
 * `done`; a freed entry may free its parent in turn. */
static void collect_ended(struct proc_table *t, unsigned long mark, size_t keep)
{
    bool again = true;
    while (again && t->n_ended > keep) {
        again = false;
        for (struct proc_entry *e = t->oldest_dead, *next; e && t->n_ended > keep; e = next) {
            next = e->newer_dead;
            if (e->refs || (mark && e->ended_at > mark))
                continue;
            struct proc_entry *parent = (struct proc_entry *)e->info.parent;
            remove_entry(t, e);
            if (parent && parent->ended && parent->refs == 0)
                again = true; /* it may come before `next` in the list */
        }
    }
}

unsigned long proc_table_read_begins(struct proc_table *t)
{
    return t->mark++;
}

void proc_table_read_drained(struct proc_table *t, unsigned long mark)
{
    /* every event of a process that ended before `mark` was queued before the read
     * that began at `mark`, which emptied the queue: all of them have been printed */
    collect_ended(t, mark, 0);
}

static struct proc_entry *newest(struct proc_table *t, pid_t pid)
{
    for (struct proc_entry *e = *bucket_of(t, pid); e; e = e->next)
        if (e->info.pid == pid)
            return e;
    return NULL;
}

/* The entry for pid if the table knows it now, else NULL. */
static struct proc_entry *known_entry(struct proc_table *t, pid_t pid)
{
    struct proc_entry *e = newest(t, pid);
    if (!e || (!t->tracked && e->batch != t->batch))
        return NULL;
    return e;
}

/* A new incarnation of pid; the one before it, if any, has ended. */
static struct proc_entry *new_entry(struct proc_table *t, pid_t pid)
{
    struct proc_entry *before = newest(t, pid);
    if (before)
        end_entry(t, before);
    if (t->n_ended >= t->capacity)
        collect_ended(t, 0, t->capacity - 1);
    struct proc_entry *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->info.pid = pid;
    e->info.serial = ++t->serial;
    e->batch = t->batch;
    struct proc_entry **b = bucket_of(t, pid);
    e->next = *b;
    *b = e;
    return e;
}

static struct proc_entry *entry_from_proc(struct proc_table *t, pid_t pid, bool want_ids, int depth);

/* Fills e from /proc: status or comm, and what -e and -P want. */
static void fill_from_proc(struct proc_table *t, struct proc_entry *e, bool want_ids, int depth)
{
    if (want_ids || t->want_parents) {
        read_status(t, e->info.pid, &e->info); /* status holds the name too: one file, not two */
        e->ids_tried = true;
    } else {
        read_comm(t, e->info.pid, &e->info);
    }
    if (t->want_exe && !e->info.exe)
        read_exe(t, e);
    if (t->want_parents && !e->info.parent && e->info.ppid > 0 && depth < MAX_PARENT_DEPTH) {
        struct proc_entry *p = known_entry(t, e->info.ppid);
        if (!p)
            p = entry_from_proc(t, e->info.ppid, true, depth + 1);
        if (p && p != e)
            set_parent(e, p);
    }
}

/* A first sight: a new entry read from /proc, or NULL when the process is gone. */
static struct proc_entry *entry_from_proc(struct proc_table *t, pid_t pid, bool want_ids, int depth)
{
    struct proc_entry *e = new_entry(t, pid);
    if (!e)
        return NULL;
    fill_from_proc(t, e, want_ids, depth);
    if (!e->info.have_comm && !e->info.have_ids) {
        /* Gone before we looked: remember nothing, so a later event from a process
         * that reuses this pid is not given this answer. */
        remove_entry(t, e);
        return NULL;
    }
    return e;
}

/* Whether the process behind pidfd still exists (a zombie counts: its pid is not free). */
static bool pidfd_alive(int pidfd)
{
    /* EPERM: alive, but another user's, and iotrace has dropped CAP_KILL */
    return syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) == 0 || errno == EPERM;
}

/* Liveness says the process was reaped: its answer is among the ended incarnations of
 * pid, never /proc or a newer process. Several that disagree: no answer rather than a
 * guess. */
static const struct proc_info *lookup_gone(struct proc_table *t, pid_t pid)
{
    struct proc_entry *found = NULL, *newest_live = NULL;
    for (struct proc_entry *e = *bucket_of(t, pid); e; e = e->next) {
        if (e->info.pid != pid)
            continue;
        if (!e->ended) {
            newest_live = e; /* its exit notice is not read yet */
            continue;
        }
        if (e->stale)
            return &t->unknown;
        if (found && (strcmp(found->info.comm, e->info.comm) != 0 || found->info.uid != e->info.uid ||
                      found->info.have_ids != e->info.have_ids))
            return &t->unknown;
        found = e;
    }
    if (!found && newest_live && !newest_live->stale && t->tracked)
        found = newest_live;
    return found ? &found->info : &t->unknown;
}

/* Whether an ended, not yet collected incarnation of e's pid exists besides e. */
static bool older_ended(struct proc_table *t, const struct proc_entry *e)
{
    for (struct proc_entry *i = *bucket_of(t, e->info.pid); i; i = i->next)
        if (i != e && i->info.pid == e->info.pid && i->ended)
            return true;
    return false;
}

const struct proc_info *proc_lookup(struct proc_table *t, pid_t pid, bool want_ids,
                                    enum proc_liveness live, int pidfd)
{
    if (pid <= 0)
        return &t->unknown;
    if (live == PROC_GONE)
        return lookup_gone(t, pid);
    struct proc_entry *e = known_entry(t, pid);
    if (live == PROC_LIVENESS_UNKNOWN && e && !e->ended && older_ended(t, e)) {
        /* The pid was reused while events of the process before may still be queued,
         * and without a pidfd this event cannot be told apart: say nothing rather
         * than a name that may be the other one's. */
        return &t->unknown;
    }
    if (e && e->stale) {
        /* events were lost while it ran: read it again, as a new sight */
        e->stale = false;
        e->info.have_comm = e->info.have_ids = false;
        fill_from_proc(t, e, true, 0);
        if (!e->info.have_comm && !e->info.have_ids)
            return &t->unknown;
    } else if (!e) {
        e = entry_from_proc(t, pid, want_ids, 0);
        if (!e)
            return &t->unknown;
        if (pidfd >= 0 && !pidfd_alive(pidfd)) {
            /* reaped before we read /proc: what we read may be another process's */
            remove_entry(t, e);
            return &t->unknown;
        }
    } else if (want_ids && !e->ids_tried) {
        read_status(t, pid, &e->info);
        e->ids_tried = true;
    }
    return &e->info;
}

size_t proc_parents(const struct proc_info *p, const struct proc_info **out, size_t max)
{
    size_t n = 0;
    for (const struct proc_info *q = p->parent; q && n < max; q = q->parent)
        out[n++] = q;
    return n;
}

size_t proc_table_seed(struct proc_table *t)
{
    DIR *d = t->root ? opendir(t->root) : NULL;
    if (!d)
        return 0;
    size_t n = 0;
    for (struct dirent *de; (de = readdir(d));) {
        char *end;
        long pid = strtol(de->d_name, &end, 10);
        if (*end || pid <= 0 || known_entry(t, (pid_t)pid))
            continue;
        n += entry_from_proc(t, (pid_t)pid, true, 0) != NULL;
    }
    closedir(d);
    return n;
}

void proc_note_fork(struct proc_table *t, pid_t parent, pid_t child)
{
    if (t->on_fork)
        t->on_fork(t->on_fork_ctx, parent, child);
    /* the child first: making it may let go of ended entries, never of a live one */
    struct proc_entry *c = new_entry(t, child);
    if (!c)
        return;
    struct proc_entry *p = known_entry(t, parent);
    if (!p) /* a parent from before iotrace started: read it while it surely lives */
        p = entry_from_proc(t, parent, true, 0);
    if (p) {
        free((char *)c->info.exe);
        unsigned long serial = c->info.serial;
        c->info = p->info; /* the child starts as a copy of its parent */
        c->info.serial = serial;
        c->info.pid = child;
        c->info.ppid = parent;
        c->info.exe = p->info.exe ? strdup(p->info.exe) : NULL;
        c->info.parent = NULL;
        c->ids_tried = p->ids_tried;
        c->stale = p->stale;
        set_parent(c, p);
    } else {
        c->info.ppid = parent;
    }
}

void proc_note_exec(struct proc_table *t, pid_t pid)
{
    struct proc_entry *e = known_entry(t, pid);
    struct proc_info before = e ? e->info : (struct proc_info){ 0 };
    if (!e && !(e = new_entry(t, pid)))
        return;
    e->info.have_comm = e->info.have_ids = false;
    e->stale = false;
    free((char *)e->info.exe);
    e->info.exe = NULL;
    read_status(t, pid, &e->info);
    e->ids_tried = true;
    if (t->want_exe)
        read_exe(t, e);
    if (!e->info.have_ids) {
        /* Reaped before we could read it: the name comes with its exit notice. The
         * users are those from before the exec, which is right unless the program is
         * set-uid or set-gid (the kernel sends no uid event for that): see the man
         * page's limits. */
        e->info.have_ids = before.have_ids;
        e->info.uid = before.uid;
        e->info.gid = before.gid;
        e->info.session_uid = before.session_uid;
        e->info.have_session_uid = before.have_session_uid;
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

void proc_note_exit(struct proc_table *t, pid_t pid, const char *comm, bool from_taskstats)
{
    struct proc_entry *e = NULL;
    for (struct proc_entry *i = *bucket_of(t, pid); i; i = i->next)
        if (i->info.pid == pid && !(from_taskstats ? i->ts_exit : i->cn_exit))
            e = i; /* the chain is newest first: this ends at the oldest */
    if (!e) {
        if (!comm[0] || newest(t, pid))
            return;
        /* a process from before iotrace that was never looked up: keep its name for
         * its queued events; its users are not known (taskstats has the real uid only) */
        if (!(e = new_entry(t, pid)))
            return;
        e->ids_tried = true;
    }
    if (from_taskstats)
        e->ts_exit = true;
    else
        e->cn_exit = true;
    if (comm[0] && !e->info.have_comm) {
        snprintf(e->info.comm, sizeof e->info.comm, "%s", comm);
        e->info.have_comm = true;
    }
    /* The taskstats record is sent early in exit, before the process's files are
     * closed; the connector's exit comes after those closes were queued. Only then may
     * the entry be let go once the queue has been read empty. */
    if (e->cn_exit)
        end_entry(t, e);
}
