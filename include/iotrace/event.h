/* One file access, from the kernel's record to the enriched form that is printed. */
#ifndef IOTRACE_EVENT_H
#define IOTRACE_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/* Event types, independent of fanotify's bits so that filters and formats do not
 * depend on the kernel headers. The order here is the order of the letters. */
enum event_type {
    EV_READ = 1u << 0,       /* R */
    EV_CLOSE = 1u << 1,      /* C */
    EV_WRITE = 1u << 2,      /* W */
    EV_OPEN = 1u << 3,       /* O */
    EV_CREATE = 1u << 4,     /* + */
    EV_DELETE = 1u << 5,     /* D */
    EV_MOVED_FROM = 1u << 6, /* < */
    EV_MOVED_TO = 1u << 7,   /* > */
    EV_ATTRIB = 1u << 8,     /* A */
};
#define EV_ALL_TYPES ((1u << 9) - 1)
#define EVENT_TYPES_MAX_LETTERS 9

/* Writes the letters of `types` into `out` (at least EVENT_TYPES_MAX_LETTERS + 1 bytes),
 * NUL-terminated; returns the number of letters. */
size_t event_types_to_string(unsigned types, char *out);

/* Parses a -f argument ("OC", "+D<"); returns 0 and sets *types, or -1 naming the
 * offending character in *bad. Letters are case-insensitive; '<' and '>' both mean
 * "moved", in both directions, as in fatrace. */
int event_types_parse(const char *letters, unsigned *types, char *bad);

/* Who made an access, as far as it could be learnt. */
struct proc_info {
    char comm[64];  /* escaped on output, never trusted */
    uid_t uid;      /* effective uid: the identity the access was made as */
    gid_t gid;      /* effective gid */
    bool have_comm;
    bool have_ids;
    /* The last non-root effective uid. A file server such as smbd switches between root
     * and the client's user many times a second; its accesses are the client's, and by
     * the time an event is read the current uid may already be root again. */
    uid_t session_uid;
    bool have_session_uid;
    unsigned long serial;   /* tells one incarnation of a pid from the next */
    pid_t pid;
    pid_t ppid;     /* 0 when unknown */
    const char *exe;                 /* the executable's path (-e), NULL when unknown */
    const struct proc_info *parent;  /* the process that forked it (-P), NULL when unknown */
};

struct client_info;

struct event {
    unsigned types;
    pid_t pid;
    int fd;                  /* the kernel's fd for the file, -1 when none */
    struct timespec time;    /* when iotrace read the event (fanotify has no timestamps) */

    /* filled in by the enrich stage, as far as the filters need them */
    const struct proc_info *proc;
    const struct proc_info *const *parents; /* -P: nearest first */
    size_t n_parents;
    const char *user;        /* user name, NULL when the uid has none */
    const char *path;        /* NULL when unknown */
    size_t path_len;
    bool path_is_name_only;  /* the directory is gone and unknown: path is the entry name */
    uid_t uid;               /* the user shown: proc->uid, or the session's for file servers */
    bool user_unknown;       /* a server acting for clients per request: no user can be named */
    const struct client_info *client; /* the network client a file server works for, or NULL */
    bool have_inode;
    bool is_dir;
    unsigned dev_major, dev_minor;
    uint64_t inode;
};

#endif
