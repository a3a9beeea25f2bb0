#include "iotrace/template.h"
#include "iotrace/format.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    char letter;
    enum template_field field;
} directives[] = {
    { 'T', FIELD_TIME }, { 't', FIELD_EPOCH }, { 'c', FIELD_COMM },   { 'p', FIELD_PID },
    { 'u', FIELD_USER }, { 'U', FIELD_UID },   { 'g', FIELD_GID },    { 'e', FIELD_TYPES },
    { 'f', FIELD_PATH }, { 'd', FIELD_DEVICE }, { 'i', FIELD_INODE },
};
#define N_DIRECTIVES (sizeof directives / sizeof directives[0])

static int add_piece(struct template *t, enum template_field field, size_t off, size_t len)
{
    /* merge adjacent literal text: "%%x" is one piece */
    if (field == FIELD_TEXT && t->n_pieces && t->pieces[t->n_pieces - 1].field == FIELD_TEXT) {
        t->pieces[t->n_pieces - 1].len += len;
        return 0;
    }
    struct template_piece *grown = realloc(t->pieces, (t->n_pieces + 1) * sizeof *grown);
    if (!grown)
        return -1;
    t->pieces = grown;
    t->pieces[t->n_pieces++] = (struct template_piece){ field, off, len };
    return 0;
}

/* Characters that a script is unlikely to split on, and that paths and names are
 * full of: written as they are even when FMT has them. */
static bool may_separate(unsigned char c)
{
    return c < 128 && (c == ' ' || ispunct(c)) && c != '/' && c != '.' && c != '_' && c != '-';
}

int template_parse(const char *fmt, struct template *t, char *err, size_t err_size)
{
    memset(t, 0, sizeof *t);
    size_t len = strlen(fmt);
    if (len == 0) {
        snprintf(err, err_size, "--format needs a format, e.g. --format '%%c %%p %%f'");
        return -1;
    }
    t->text = malloc(len + 1);
    if (!t->text)
        goto out_of_memory;
    size_t n = 0; /* bytes of literal text so far */
    for (const char *p = fmt; *p; p++) {
        char literal;
        if (*p == '%') {
            p++;
            if (*p == '%') {
                literal = '%';
            } else {
                size_t i = 0;
                while (i < N_DIRECTIVES && directives[i].letter != *p)
                    i++;
                if (i == N_DIRECTIVES) {
                    if (*p)
                        snprintf(err, err_size, "unknown directive '%%%c' in --format "
                                 "(use %%T %%t %%c %%p %%u %%U %%g %%e %%f %%d %%i %%%%)", *p);
                    else
                        snprintf(err, err_size, "--format ends with a lone '%%' (write %%%% for a percent sign)");
                    template_free(t);
                    return -1;
                }
                enum template_field field = directives[i].field;
                t->needs_ids |= field == FIELD_USER || field == FIELD_UID || field == FIELD_GID;
                t->needs_user_name |= field == FIELD_USER;
                t->needs_inode |= field == FIELD_DEVICE || field == FIELD_INODE;
                if (add_piece(t, field, 0, 0) != 0)
                    goto out_of_memory;
                continue;
            }
        } else if (*p == '\\') {
            p++;
            if (*p == 't')
                literal = '\t';
            else if (*p == 'n')
                literal = '\n';
            else if (*p == '\\')
                literal = '\\';
            else {
                if (*p)
                    snprintf(err, err_size, "unknown escape '\\%c' in --format (use \\t \\n \\\\)", *p);
                else
                    snprintf(err, err_size, "--format ends with a lone '\\' (write \\\\ for a backslash)");
                template_free(t);
                return -1;
            }
        } else {
            literal = *p;
        }
        if (may_separate((unsigned char)literal))
            t->separator[(unsigned char)literal] = true;
        t->text[n] = literal;
        if (add_piece(t, FIELD_TEXT, n, 1) != 0)
            goto out_of_memory;
        n++;
    }
    return 0;

out_of_memory:
    template_free(t);
    snprintf(err, err_size, "out of memory");
    return -1;
}

/* Text escaping, and the separators of FMT as \xHH, so that splitting a line on
 * them always gives the fields back. Separators are ASCII: splitting never cuts a
 * UTF-8 sequence. */
static void put_field(const struct template *t, const char *s, size_t len, struct strbuf *out)
{
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 128 && t->separator[c]) {
            escape_text(s + start, i - start, false, out);
            strbuf_printf(out, "\\x%02x", c);
            start = i + 1;
        }
    }
    escape_text(s + start, len - start, false, out);
}

void template_format(const struct template *t, struct formatter *f, const struct event *ev,
                     struct strbuf *out)
{
    bool ids = ev->proc && ev->proc->have_ids && !ev->user_unknown;
    char types[EVENT_TYPES_MAX_LETTERS + 1];
    for (size_t i = 0; i < t->n_pieces; i++) {
        const struct template_piece *p = &t->pieces[i];
        switch (p->field) {
        case FIELD_TEXT:
            strbuf_append(out, t->text + p->off, p->len);
            break;
        case FIELD_TIME:
            format_timestamp(f, 1, &ev->time, out);
            break;
        case FIELD_EPOCH:
            format_timestamp(f, 2, &ev->time, out);
            break;
        case FIELD_COMM: {
            const char *comm = ev->proc && ev->proc->have_comm ? ev->proc->comm : "unknown";
            put_field(t, comm, strlen(comm), out);
            break;
        }
        case FIELD_PID:
            strbuf_printf(out, "%d", (int)ev->pid);
            break;
        case FIELD_USER:
            if (ev->user)
                put_field(t, ev->user, strlen(ev->user), out);
            else if (ids)
                strbuf_printf(out, "%u", (unsigned)ev->uid);
            else
                strbuf_putc(out, '?');
            break;
        case FIELD_UID:
        case FIELD_GID:
            if (ids)
                strbuf_printf(out, "%u", p->field == FIELD_UID ? (unsigned)ev->uid : (unsigned)ev->proc->gid);
            else
                strbuf_putc(out, '?');
            break;
        case FIELD_TYPES:
            event_types_to_string(ev->types, types);
            put_field(t, types, strlen(types), out);
            break;
        case FIELD_PATH:
            if (ev->path && ev->path_is_name_only) {
                strbuf_append(out, "?/", 2); /* never a real path: those start with '/' */
                put_field(t, ev->path, ev->path_len, out);
            } else if (ev->path) {
                put_field(t, ev->path, ev->path_len, out);
            } else if (ev->have_inode) {
                char where[96];
                int n = snprintf(where, sizeof where, "device %u:%u inode %" PRIu64, ev->dev_major,
                                 ev->dev_minor, ev->inode);
                put_field(t, where, (size_t)n, out);
            } else {
                strbuf_putc(out, '?');
            }
            break;
        case FIELD_DEVICE:
            if (ev->have_inode) {
                char device[32];
                int n = snprintf(device, sizeof device, "%u:%u", ev->dev_major, ev->dev_minor);
                put_field(t, device, (size_t)n, out);
            } else
                strbuf_putc(out, '?');
            break;
        case FIELD_INODE:
            if (ev->have_inode)
                strbuf_printf(out, "%" PRIu64, ev->inode);
            else
                strbuf_putc(out, '?');
            break;
        }
    }
    strbuf_putc(out, '\n');
}

void template_free(struct template *t)
{
    free(t->pieces);
    free(t->text);
    memset(t, 0, sizeof *t);
}
