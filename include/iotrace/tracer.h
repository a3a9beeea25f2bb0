/* One read batch through the pipeline: decode, filter, enrich, format. */
#ifndef IOTRACE_TRACER_H
#define IOTRACE_TRACER_H

#include "iotrace/clients.h"
#include "iotrace/filter.h"
#include "iotrace/format.h"
#include "iotrace/output.h"
#include "iotrace/paths.h"
#include "iotrace/proc.h"
#include "iotrace/summary.h"
#include "iotrace/users.h"

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#define TRACER_MAX_PARENTS 64 /* -P: deeper chains are cut (fork bombs, not real trees) */

struct tracer_stats {
    unsigned long shown;        /* lines written */
    unsigned long counted;      /* events that passed the filters (-q: not written) */
    unsigned long overflows;    /* times the kernel's queue overflowed (each lost >= 1 event) */
    unsigned long read_errors;  /* read() failures: each lost at least one event */
    unsigned long no_path;      /* shown, but the kernel could not give us the file */
    unsigned long unplaced;     /* dropped by a path filter: only a name, its directory unknown */
    unsigned long no_file;      /* shown without their file: the kernel could not open it */
    int last_fd_error;          /* why, for the report (an errno: EMFILE, ENFILE...) */
    unsigned long unwritten;    /* read after the output failed: counted, not shown */
};

struct tracer {
    const struct filter *filter;
    bool want_user;             /* the user name (and so the uid) */
    bool want_ids;              /* the uid and gid, without the name */
    bool want_inode;            /* --inode, or --format with %d or %i: every file's device and inode */
    bool want_parents;          /* -P */
    bool listings_apart;        /* directories come from the listing group alone */
    pid_t self;
    int fd_dir;                 /* /proc/self/fd (paths_open_fd_dir), or -1 */
    struct proc_table *procs;
    struct user_cache *users;
    struct client_table *clients;    /* file servers' network clients (with -u) */
    struct handle_resolver *handles; /* FID-mode records: directory handle -> path */
    struct formatter fmt;
    struct output *out;
    struct summary *summary;    /* --summary, else NULL */
    bool quiet;                 /* -q: count, do not write */
    struct tracer_stats stats;
    int output_error;           /* -errno of a failed flush inside a batch, else 0 */
    char path[PATH_MAX + 1];
    const struct proc_info *parents[TRACER_MAX_PARENTS];
};

enum tracer_status {
    TRACER_OK = 0,
    TRACER_BAD_DATA = -1, /* the kernel sent something this build cannot read */
};

/* Which group a batch was read from, when it matters. */
enum batch_source {
    BATCH_EVENTS,   /* the file or the directory group */
    BATCH_LISTINGS, /* the listing group: every event is on a directory */
};

/* Handles every record of one read. Closes every event fd. Output errors are left in
 * the output buffer for the caller's flush to report. */
enum tracer_status tracer_handle_batch(struct tracer *t, const void *buf, size_t len,
                                       const struct timespec *now, enum batch_source from);

/* After an output failure: the lines still buffered are events that were not written.
 * Moves them from `shown` to `unwritten` and empties the buffer. */
void tracer_account_unwritten(struct tracer *t);

/* A read() that failed: the kernel dropped at least one event. */
void tracer_note_read_error(struct tracer *t, int err);

#endif
