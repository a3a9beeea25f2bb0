/* --format FMT: an event as a script wants it, in the manner of inotifywait's and
 * fswatch's format strings. Parsed once into pieces; formatting is pure but for the
 * formatter's time-of-day cache. */
#ifndef IOTRACE_TEMPLATE_H
#define IOTRACE_TEMPLATE_H

#include "iotrace/event.h"
#include "iotrace/strbuf.h"

#include <stdbool.h>
#include <stddef.h>

struct formatter;

enum template_field {
    FIELD_TEXT,   /* literal text */
    FIELD_TIME,   /* %T HH:MM:SS.uuuuuu, local time */
    FIELD_EPOCH,  /* %t seconds since the epoch, with microseconds */
    FIELD_COMM,   /* %c */
    FIELD_PID,    /* %p */
    FIELD_USER,   /* %u name, else uid, else ? */
    FIELD_UID,    /* %U */
    FIELD_GID,    /* %g */
    FIELD_TYPES,  /* %e */
    FIELD_PATH,   /* %f */
    FIELD_DEVICE, /* %d MAJOR:MINOR */
    FIELD_INODE,  /* %i */
};

struct template_piece {
    enum template_field field;
    size_t off, len; /* FIELD_TEXT: the bytes in template.text */
};

struct template {
    struct template_piece *pieces;
    size_t n_pieces;
    char *text;
    /* ASCII punctuation and space written literally in FMT: the separators a script
     * will split on, so inside a field they are written \xHH */
    bool separator[128];
    bool needs_ids;       /* %u %U %g */
    bool needs_user_name; /* %u */
    bool needs_inode;     /* %d %i */
};

/* Parses FMT: directives %T %t %c %p %u %U %g %e %f %d %i %%, escapes \t \n \\.
 * Returns 0, or -1 with a one-line reason in err. */
int template_parse(const char *fmt, struct template *t, char *err, size_t err_size);

/* One event, ending with a newline. */
void template_format(const struct template *t, struct formatter *f, const struct event *ev,
                     struct strbuf *out);

void template_free(struct template *t);

#endif
