/* Where lines go: stdout or --output FILE, written once per batch. */
#ifndef IOTRACE_OUTPUT_H
#define IOTRACE_OUTPUT_H

#include "iotrace/strbuf.h"

#include <stdbool.h>

struct output {
    int fd;
    bool owns_fd;
    struct strbuf buf; /* formatters append here; output_flush drains it */
};

/* path NULL means stdout. A file must not exist yet (as in fatrace), so that an old
 * log is never overwritten by mistake. Returns 0 or -errno. */
int output_open(struct output *o, const char *path);

/* --append: FILE may exist; lines are added at its end. Returns 0 or -errno. */
int output_open_append(struct output *o, const char *path);

/* SIGHUP (logrotate): writes what is buffered to the old file, then opens path again,
 * creating it when it was moved away. On failure the old file stays in use, so no line
 * is lost, and -errno is returned. */
int output_reopen(struct output *o, const char *path);

/* Writes everything buffered. Returns 0 or -errno (EPIPE: the reader went away;
 * ENOSPC, EIO...: the output is broken and lines would be lost). */
int output_flush(struct output *o);

/* Flush when the buffer has grown past this, so memory stays bounded whatever the
 * batch size. */
#define OUTPUT_FLUSH_THRESHOLD (256 * 1024)

void output_close(struct output *o);

#endif
