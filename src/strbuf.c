#include "iotrace/strbuf.h"

#include <stdint.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int strbuf_reserve(struct strbuf *sb, size_t more)
{
    if (sb->cap - sb->len > more)
        return 0;
    size_t cap = sb->cap ? sb->cap : 4096;
    while (cap - sb->len <= more)
        cap *= 2;
    char *data = realloc(sb->data, cap);
    if (!data)
        return -1;
    sb->data = data;
    sb->cap = cap;
    return 0;
}

/* An allocation failure here cannot be reported per byte; iotrace cannot do anything
 * useful without memory for one line, so it stops, as xmalloc-style code does. */
static void reserve_or_die(struct strbuf *sb, size_t more)
{
    if (strbuf_reserve(sb, more) != 0) {
        fputs("iotrace: out of memory\n", stderr);
        abort();
    }
}

void strbuf_append(struct strbuf *sb, const char *bytes, size_t n)
{
    reserve_or_die(sb, n);
    memcpy(sb->data + sb->len, bytes, n);
    sb->len += n;
}

void strbuf_puts(struct strbuf *sb, const char *s)
{
    strbuf_append(sb, s, strlen(s));
}

void strbuf_putc(struct strbuf *sb, char c)
{
    reserve_or_die(sb, 1);
    sb->data[sb->len++] = c;
}

void strbuf_put_uint(struct strbuf *sb, uint64_t v)
{
    char digits[20];
    size_t n = 0;
    do {
        digits[sizeof digits - 1 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    strbuf_append(sb, digits + sizeof digits - n, n);
}

void strbuf_put_int(struct strbuf *sb, int64_t v)
{
    if (v < 0) {
        strbuf_putc(sb, '-');
        strbuf_put_uint(sb, (uint64_t)0 - (uint64_t)v);
    } else {
        strbuf_put_uint(sb, (uint64_t)v);
    }
}

void strbuf_printf(struct strbuf *sb, const char *fmt, ...)
{
    va_list ap;
    reserve_or_die(sb, 128);
    va_start(ap, fmt);
    int n = vsnprintf(sb->data + sb->len, sb->cap - sb->len, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sb->cap - sb->len) {
        reserve_or_die(sb, (size_t)n);
        va_start(ap, fmt);
        vsnprintf(sb->data + sb->len, sb->cap - sb->len, fmt, ap);
        va_end(ap);
    }
    sb->len += (size_t)n;
}

const char *strbuf_cstr(struct strbuf *sb)
{
    reserve_or_die(sb, 0);
    sb->data[sb->len] = '\0';
    return sb->data;
}

void strbuf_reset(struct strbuf *sb)
{
    sb->len = 0;
}

void strbuf_free(struct strbuf *sb)
{
    free(sb->data);
    sb->data = NULL;
    sb->len = sb->cap = 0;
}
