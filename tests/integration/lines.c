#include "lines.h"
#include "unescape.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* COMM(PID)[ [USER]]: TYPES PATH, where COMM and USER have no raw space and PATH is
 * absolute, "?", "?/NAME" or "device M:N inode I". */
static void parse_text(const char *line, size_t len, struct parsed_line *out)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
            fail_msg("raw control byte 0x%02x in line: %.*s", (unsigned char)line[i], (int)len, line);
    const char *sp = memchr(line, ' ', len);
    if (!sp || sp == line)
        fail_msg("no fields in: %.*s", (int)len, line);
    const char *who_end, *colon;
    if (sp[-1] == ':') {
        who_end = colon = sp - 1;
    } else {
        colon = memmem(sp, (size_t)(line + len - sp), "]: ", 3);
        if (sp[1] != '[' || !colon)
            fail_msg("no [USER] in: %.*s", (int)len, line);
        who_end = sp;
        colon++;
    }
    const char *paren = NULL;
    for (const char *p = line; p < who_end; p++)
        if (*p == '(')
            paren = p;
    if (!paren || who_end[-1] != ')')
        fail_msg("no COMM(PID) in: %.*s", (int)len, line);
    long n = text_unescape(line, (size_t)(paren - line), out->comm);
    if (n < 0)
        fail_msg("bad escape in the process name of: %.*s", (int)len, line);
    out->comm_len = (size_t)n;
    out->pid = strtol(paren + 1, NULL, 10);
    const char *types = colon + 2;
    const char *types_end = memchr(types, ' ', (size_t)(line + len - types));
    assert_non_null(types_end);
    snprintf(out->types, sizeof out->types, "%.*s", (int)(types_end - types), types);
    const char *path = types_end + 1;
    size_t plen = (size_t)(line + len - path);
    out->path_len = -1;
    out->has_inode = false;
    if (plen > 0 && path[0] == '/') {
        out->path_len = text_unescape(path, plen, out->path);
        if (out->path_len < 0)
            fail_msg("bad escape in the path of: %.*s", (int)len, line);
    } else if (plen > 7 && memcmp(path, "device ", 7) == 0) {
        unsigned ma, mi;
        if (sscanf(path, "device %u:%u inode %llu", &ma, &mi, &out->inode) != 3)
            fail_msg("bad device line: %.*s", (int)len, line);
        out->has_inode = true;
    } else if (plen > 2 && path[0] == '?' && path[1] == '/') {
        /* FID mode: a name whose directory could not be named (?/NAME) */
        if (text_unescape(path + 2, plen - 2, out->path) < 0)
            fail_msg("bad escape in the name of: %.*s", (int)len, line);
    } else if (plen == 1 && path[0] == '?') {
        out->no_file = true;
    } else {
        fail_msg("a path that is not absolute: %.*s", (int)len, line);
    }
}

/* The exact bytes of a string field: its _raw array when there is one. */
static long json_bytes(const char *line, size_t len, const char *key, char *out, size_t size)
{
    char raw_key[64];
    snprintf(raw_key, sizeof raw_key, "%s_raw", key);
    struct json_value v, raw;
    if (json_field(line, len, key, &v) != 0 || json_field(line, len, raw_key, &raw) != 0)
        fail_msg("invalid JSON: %.*s", (int)len, line);
    long n = -1;
    if (raw.kind == JSON_BYTES) {
        assert_int_equal(v.kind, JSON_STRING); /* the display string stays beside it */
        n = (long)raw.len;
        memcpy(out, raw.bytes, raw.len < size ? raw.len : size);
    } else if (v.kind == JSON_STRING) {
        n = (long)v.len;
        memcpy(out, v.bytes, v.len < size ? v.len : size);
    }
    json_value_free(&v);
    json_value_free(&raw);
    return n;
}

static void parse_json(const char *line, size_t len, struct parsed_line *out)
{
    struct json_value v;
    if (json_field(line, len, "pid", &v) != 0)
        fail_msg("invalid JSON: %.*s", (int)len, line);
    if (v.kind != JSON_NUMBER) { /* a "lost" record */
        out->pid = -1;
        return;
    }
    out->pid = (long)v.number;
    long n = json_bytes(line, len, "comm", out->comm, sizeof out->comm);
    assert_true(n >= 0);
    out->comm_len = (size_t)n;
    out->path_len = json_bytes(line, len, "path", out->path, sizeof out->path);
    json_field(line, len, "types", &v);
    assert_int_equal(v.kind, JSON_STRING);
    snprintf(out->types, sizeof out->types, "%.*s", (int)v.len, v.bytes);
    json_value_free(&v);
    json_field(line, len, "inode", &v);
    out->has_inode = v.kind == JSON_NUMBER;
    out->inode = out->has_inode ? (unsigned long long)v.number : 0;
}

void for_each_line(const char *output, bool json, void (*fn)(const struct parsed_line *, void *), void *ctx)
{
    struct parsed_line *pl = malloc(sizeof *pl);
    for (const char *line = output; *line;) {
        const char *nl = strchr(line, '\n');
        if (!nl)
            fail_msg("the output ends without a newline: %s", line);
        memset(pl, 0, sizeof *pl);
        if (json)
            parse_json(line, (size_t)(nl - line), pl);
        else
            parse_text(line, (size_t)(nl - line), pl);
        if (pl->pid >= 0)
            fn(pl, ctx);
        line = nl + 1;
    }
    free(pl);
}
