#include "iotrace/format.h"
#include "iotrace/clients.h"
#include "iotrace/template.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char hex[] = "0123456789abcdef";

size_t event_types_to_string(unsigned types, char *out)
{
    static const char letters[] = "RCWO+D<>A";
    size_t n = 0;
    for (unsigned i = 0; letters[i]; i++)
        if (types & (1u << i))
            out[n++] = letters[i];
    out[n] = '\0';
    return n;
}

void formatter_init(struct formatter *f, bool json, bool user, int timestamp)
{
    memset(f, 0, sizeof *f);
    f->json = json;
    f->user = user;
    f->timestamp = timestamp;
    f->tod_second = (time_t)-1;
}

size_t utf8_sequence_length(const unsigned char *s, size_t left, unsigned *codepoint)
{
    unsigned c = s[0];
    size_t n;
    unsigned cp, min;
    if (c < 0x80) {
        *codepoint = c;
        return 1;
    } else if (c >= 0xc2 && c <= 0xdf) {
        n = 2, cp = c & 0x1f, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3, cp = c & 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (left < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    *codepoint = cp;
    return n;
}

/* Code points that move the cursor, change direction or hide text on a terminal. */
static bool is_unsafe_codepoint(unsigned cp)
{
    return (cp >= 0x80 && cp <= 0x9f) || cp == 0x61c || cp == 0x200e || cp == 0x200f ||
           (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

static void put_hex_byte(struct strbuf *out, unsigned char b)
{
    char e[4] = { '\\', 'x', hex[b >> 4], hex[b & 15] };
    strbuf_append(out, e, 4);
}

void escape_text(const char *s, size_t len, bool space_too, struct strbuf *out)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    strbuf_reserve(out, len);
    while (p < end) {
        /* the common case: a run of plain printable ASCII */
        const unsigned char *run = p;
        while (p < end && *p > 0x20 && *p < 0x7f && *p != '\\')
            p++;
        if (p > run)
            strbuf_append(out, (const char *)run, (size_t)(p - run));
        if (p == end)
            break;
        unsigned char c = *p;
        unsigned cp;
        size_t n;
        if (c == ' ') {
            if (space_too)
                put_hex_byte(out, c);
            else
                strbuf_putc(out, ' ');
            p++;
        } else if (c == '\\') {
            strbuf_append(out, "\\\\", 2);
            p++;
        } else if (c == '\n') {
            strbuf_append(out, "\\n", 2);
            p++;
        } else if (c == '\t') {
            strbuf_append(out, "\\t", 2);
            p++;
        } else if (c == '\r') {
            strbuf_append(out, "\\r", 2);
            p++;
        } else if (c < 0x80) {
            put_hex_byte(out, c);
            p++;
        } else if ((n = utf8_sequence_length(p, (size_t)(end - p), &cp)) == 0) {
            put_hex_byte(out, c);
            p++;
        } else if (is_unsafe_codepoint(cp)) {
            for (size_t i = 0; i < n; i++)
                put_hex_byte(out, p[i]);
            p += n;
        } else {
            strbuf_append(out, (const char *)p, n);
            p += n;
        }
    }
}

bool escape_json(const char *s, size_t len, struct strbuf *out)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    bool valid = true;
    strbuf_reserve(out, len + 2);
    strbuf_putc(out, '"');
    while (p < end) {
        const unsigned char *run = p;
        while (p < end && *p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\')
            p++;
        if (p > run)
            strbuf_append(out, (const char *)run, (size_t)(p - run));
        if (p == end)
            break;
        unsigned char c = *p;
        unsigned cp;
        size_t n;
        if (c == '"' || c == '\\') {
            char e[2] = { '\\', (char)c };
            strbuf_append(out, e, 2);
            p++;
        } else if (c == '\n') {
            strbuf_append(out, "\\n", 2);
            p++;
        } else if (c == '\t') {
            strbuf_append(out, "\\t", 2);
            p++;
        } else if (c < 0x80) {
            strbuf_printf(out, "\\u%04x", c);
            p++;
        } else if ((n = utf8_sequence_length(p, (size_t)(end - p), &cp)) == 0) {
            strbuf_append(out, "\xef\xbf\xbd", 3); /* U+FFFD */
            valid = false;
            p++;
        } else if (is_unsafe_codepoint(cp)) {
            strbuf_printf(out, "\\u%04x", cp); /* all are in the BMP */
            p += n;
        } else {
            strbuf_append(out, (const char *)p, n);
            p += n;
        }
    }
    strbuf_putc(out, '"');
    return valid;
}

static void json_byte_array(const char *s, size_t len, struct strbuf *out)
{
    strbuf_putc(out, '[');
    for (size_t i = 0; i < len; i++)
        strbuf_printf(out, i ? ",%u" : "%u", (unsigned char)s[i]);
    strbuf_putc(out, ']');
}

void format_json_field(const char *key, const char *s, size_t len, struct strbuf *out)
{
    strbuf_putc(out, '"');
    strbuf_puts(out, key);
    strbuf_append(out, "\":", 2);
    if (!escape_json(s, len, out)) {
        strbuf_printf(out, ",\"%s_raw\":", key);
        json_byte_array(s, len, out);
    }
}

static void json_string_field(const char *key, const char *s, size_t len, struct strbuf *out)
{
    strbuf_putc(out, ',');
    format_json_field(key, s, len, out);
}

static void put_timestamp(struct formatter *f, const struct timespec *t, struct strbuf *out)
{
    long usec = t->tv_nsec / 1000;
    if (f->timestamp == 2) {
        strbuf_printf(out, "%lld.%06ld", (long long)t->tv_sec, usec);
        return;
    }
    if (t->tv_sec != f->tod_second) {
        struct tm tm;
        localtime_r(&t->tv_sec, &tm);
        strftime(f->tod_text, sizeof f->tod_text, "%H:%M:%S", &tm);
        f->tod_second = t->tv_sec;
    }
    strbuf_printf(out, "%s.%06ld", f->tod_text, usec);
}

void format_timestamp(struct formatter *f, int style, const struct timespec *t, struct strbuf *out)
{
    int saved = f->timestamp;
    f->timestamp = style;
    put_timestamp(f, t, out);
    f->timestamp = saved;
}

static const char *comm_of(const struct event *ev)
{
    return ev->proc && ev->proc->have_comm ? ev->proc->comm : "unknown";
}

static bool have_ids(const struct event *ev)
{
    return ev->proc && ev->proc->have_ids && !ev->user_unknown;
}

/* -e and -P values in text: escaped with spaces too, so each stays one word */
static void put_text_or_unknown(const char *s, struct strbuf *out)
{
    if (s)
        escape_text(s, strlen(s), true, out);
    else
        strbuf_putc(out, '?');
}

/* "key":"value", or "key":null when unknown */
static void json_string_or_null(const char *key, const char *s, struct strbuf *out)
{
    if (s)
        json_string_field(key, s, strlen(s), out);
    else
        strbuf_printf(out, ",\"%s\":null", key);
}

static void format_text(struct formatter *f, const struct event *ev, struct strbuf *out)
{
    char types[EVENT_TYPES_MAX_LETTERS + 1];
    const char *comm = comm_of(ev);

    if (f->timestamp) {
        put_timestamp(f, &ev->time, out);
        strbuf_putc(out, ' ');
    }
    escape_text(comm, strlen(comm), true, out);
    strbuf_putc(out, '(');
    strbuf_put_int(out, ev->pid);
    strbuf_putc(out, ')');
    if (f->user) {
        strbuf_puts(out, " [");
        if (ev->user)
            escape_text(ev->user, strlen(ev->user), true, out);
        else if (have_ids(ev))
            strbuf_put_uint(out, ev->uid);
        else
            strbuf_putc(out, '?');
        if (ev->client && ev->client->known)
            strbuf_printf(out, "@%s", ev->client->addr);
        strbuf_putc(out, ']');
    }
    event_types_to_string(ev->types, types);
    strbuf_append(out, ": ", 2);
    strbuf_puts(out, types);
    strbuf_putc(out, ' ');
    if (ev->path && ev->path_is_name_only) {
        strbuf_append(out, "?/", 2); /* never a real path: those start with '/' */
        escape_text(ev->path, ev->path_len, false, out);
    } else if (ev->path)
        escape_text(ev->path, ev->path_len, false, out);
    else if (ev->have_inode)
        strbuf_printf(out, "device %u:%u inode %" PRIu64, ev->dev_major, ev->dev_minor, ev->inode);
    else
        strbuf_putc(out, '?');
    if (f->exe) {
        strbuf_puts(out, " exe=");
        put_text_or_unknown(ev->proc ? ev->proc->exe : NULL, out);
    }
    if (f->parents && ev->n_parents) {
        strbuf_puts(out, ", parents=");
        for (size_t i = 0; i < ev->n_parents; i++) {
            const struct proc_info *p = ev->parents[i];
            strbuf_printf(out, "%s(pid=%d comm=", i ? "," : "", (int)p->pid);
            put_text_or_unknown(p->have_comm ? p->comm : NULL, out);
            if (f->exe) {
                strbuf_puts(out, " exe=");
                put_text_or_unknown(p->exe, out);
            }
            strbuf_putc(out, ')');
        }
    }
    strbuf_putc(out, '\n');
}

static void format_json(struct formatter *f, const struct event *ev, struct strbuf *out)
{
    char types[EVENT_TYPES_MAX_LETTERS + 1];
    const char *comm = comm_of(ev);

    strbuf_putc(out, '{');
    if (f->timestamp) {
        strbuf_puts(out, f->timestamp == 1 ? "\"timestamp\":\"" : "\"timestamp\":");
        put_timestamp(f, &ev->time, out);
        strbuf_puts(out, f->timestamp == 1 ? "\"," : ",");
    }
    strbuf_puts(out, "\"comm\":");
    if (!escape_json(comm, strlen(comm), out)) {
        strbuf_puts(out, ",\"comm_raw\":");
        json_byte_array(comm, strlen(comm), out);
    }
    strbuf_puts(out, ",\"pid\":");
    strbuf_put_int(out, ev->pid);
    if (f->user && have_ids(ev)) {
        strbuf_puts(out, ",\"uid\":");
        strbuf_put_uint(out, ev->uid);
        strbuf_puts(out, ",\"gid\":");
        strbuf_put_uint(out, ev->proc->gid);
        if (ev->user)
            json_string_field("user", ev->user, strlen(ev->user), out);
        else
            strbuf_puts(out, ",\"user\":null");
    }
    if (f->user && ev->client && ev->client->known) {
        strbuf_printf(out, ",\"client_addr\":\"%s\"", ev->client->addr);
        if (ev->client->port)
            strbuf_printf(out, ",\"client_port\":%u", ev->client->port);
    }
    event_types_to_string(ev->types, types);
    strbuf_puts(out, ",\"types\":\"");
    strbuf_puts(out, types);
    strbuf_putc(out, '"');
    if (ev->have_inode) {
        strbuf_puts(out, ",\"device\":{\"major\":");
        strbuf_put_uint(out, ev->dev_major);
        strbuf_puts(out, ",\"minor\":");
        strbuf_put_uint(out, ev->dev_minor);
        strbuf_puts(out, "},\"inode\":");
        strbuf_put_uint(out, ev->inode);
    }
    if (ev->path)
        json_string_field(ev->path_is_name_only ? "name" : "path", ev->path, ev->path_len, out);
    if (f->exe)
        json_string_or_null("exe", ev->proc ? ev->proc->exe : NULL, out);
    if (f->parents) {
        /* fatrace's shape: [{"pid":N,"comm":"..."}], with "exe" under -e */
        strbuf_puts(out, ",\"parents\":[");
        for (size_t i = 0; i < ev->n_parents; i++) {
            const struct proc_info *p = ev->parents[i];
            strbuf_printf(out, "%s{\"pid\":%d", i ? "," : "", (int)p->pid);
            json_string_or_null("comm", p->have_comm ? p->comm : NULL, out);
            if (f->exe)
                json_string_or_null("exe", p->exe, out);
            strbuf_putc(out, '}');
        }
        strbuf_putc(out, ']');
    }
    strbuf_puts(out, "}\n");
}

void format_event(struct formatter *f, const struct event *ev, struct strbuf *out)
{
    if (f->template)
        template_format(f->template, f, ev, out);
    else if (f->json)
        format_json(f, ev, out);
    else
        format_text(f, ev, out);
}

void format_overflow(struct formatter *f, const struct timespec *when, unsigned long overflows,
                     struct strbuf *out)
{
    if (!f->json)
        return;
    /* always timestamped: the time is what tells a consumer where the gap is */
    bool tod = f->timestamp == 1;
    strbuf_puts(out, tod ? "{\"timestamp\":\"" : "{\"timestamp\":");
    int style = f->timestamp;
    f->timestamp = tod ? 1 : 2;
    put_timestamp(f, when, out);
    f->timestamp = style;
    strbuf_printf(out, tod ? "\",\"lost\":%lu}\n" : ",\"lost\":%lu}\n", overflows);
}
