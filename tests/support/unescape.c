#include "unescape.h"

#include <stdlib.h>
#include <string.h>

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

long text_unescape(const char *in, size_t len, char *out)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c < 0x20 || c == 0x7f)
            return -1;
        if (c != '\\') {
            out[n++] = (char)c;
            continue;
        }
        if (++i >= len)
            return -1;
        switch (in[i]) {
        case '\\': out[n++] = '\\'; break;
        case 'n': out[n++] = '\n'; break;
        case 't': out[n++] = '\t'; break;
        case 'r': out[n++] = '\r'; break;
        case 'x': {
            if (i + 2 >= len)
                return -1;
            int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            out[n++] = (char)(hi * 16 + lo);
            i += 2;
            break;
        }
        default:
            return -1;
        }
    }
    return (long)n;
}

bool utf8_valid(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i], cp, need;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            cp = c & 0x1f, need = 1;
        } else if ((c & 0xf0) == 0xe0) {
            cp = c & 0x0f, need = 2;
        } else if ((c & 0xf8) == 0xf0) {
            cp = c & 0x07, need = 3;
        } else {
            return false;
        }
        if (i + need >= len)
            return false;
        for (unsigned k = 1; k <= need; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        static const unsigned min[] = { 0, 0x80, 0x800, 0x10000 };
        if (cp < min[need] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += need + 1;
    }
    return true;
}

static size_t put_utf8(unsigned cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | cp >> 12);
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | cp >> 18);
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

static int read_u4(const char *p, size_t left, unsigned *out)
{
    if (left < 4)
        return -1;
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        int h = hex_value(p[k]);
        if (h < 0)
            return -1;
        v = v * 16 + (unsigned)h;
    }
    *out = v;
    return 0;
}

long json_string_decode(const char *in, size_t len, char *out, size_t *used)
{
    if (len == 0 || in[0] != '"')
        return -1;
    size_t i = 1, n = 0;
    /* the raw bytes of the string must be valid UTF-8: find its end first */
    size_t start = 1;
    while (i < len) {
        unsigned char c = (unsigned char)in[i];
        if (c == '"')
            break;
        if (c < 0x20)
            return -1;
        if (c == '\\')
            i++;
        i++;
    }
    if (i >= len || !utf8_valid((const unsigned char *)in + start, i - start))
        return -1;
    size_t end = i;
    for (i = start; i < end; i++) {
        char c = in[i];
        if (c != '\\') {
            out[n++] = c;
            continue;
        }
        char e = in[++i];
        switch (e) {
        case '"': case '\\': case '/': out[n++] = e; break;
        case 'b': out[n++] = '\b'; break;
        case 'f': out[n++] = '\f'; break;
        case 'n': out[n++] = '\n'; break;
        case 'r': out[n++] = '\r'; break;
        case 't': out[n++] = '\t'; break;
        case 'u': {
            unsigned cp;
            if (read_u4(in + i + 1, end - i - 1, &cp) != 0)
                return -1;
            i += 4;
            if (cp >= 0xdc00 && cp <= 0xdfff)
                return -1; /* a lone low surrogate */
            if (cp >= 0xd800 && cp <= 0xdbff) {
                unsigned lo;
                if (end - i < 7 || in[i + 1] != '\\' || in[i + 2] != 'u' ||
                    read_u4(in + i + 3, end - i - 3, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff)
                    return -1;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                i += 6;
            }
            n += put_utf8(cp, out + n);
            break;
        }
        default:
            return -1;
        }
    }
    *used = end + 1;
    return (long)n;
}

static size_t skip_space(const char *s, size_t i, size_t len)
{
    while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i;
}

static long parse_number(const char *s, size_t i, size_t len, double *out)
{
    size_t start = i;
    if (i < len && s[i] == '-')
        i++;
    if (i >= len || s[i] < '0' || s[i] > '9')
        return -1;
    if (s[i] == '0')
        i++;
    else
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
    if (i < len && s[i] == '.') {
        i++;
        if (i >= len || s[i] < '0' || s[i] > '9')
            return -1;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    char tmp[64];
    size_t n = i - start < sizeof tmp - 1 ? i - start : sizeof tmp - 1;
    memcpy(tmp, s + start, n);
    tmp[n] = '\0';
    *out = strtod(tmp, NULL);
    return (long)i;
}

/* Parses a value at s[i]; fills v when not NULL. Returns the index after it, or -1. */
static long parse_value(const char *s, size_t i, size_t len, struct json_value *v, int depth)
{
    i = skip_space(s, i, len);
    if (i >= len || depth > 2)
        return -1;
    if (s[i] == '"') {
        char *buf = malloc(len - i + 1);
        size_t used;
        long n = json_string_decode(s + i, len - i, buf, &used);
        if (n < 0) {
            free(buf);
            return -1;
        }
        if (v) {
            v->kind = JSON_STRING, v->bytes = buf, v->len = (size_t)n;
        } else {
            free(buf);
        }
        return (long)(i + used);
    }
    if (len - i >= 4 && memcmp(s + i, "null", 4) == 0) {
        if (v)
            v->kind = JSON_NULL;
        return (long)(i + 4);
    }
    if (s[i] == '[') {
        char *bytes = malloc(len - i + 1);
        size_t n = 0;
        i = skip_space(s, i + 1, len);
        if (i < len && s[i] == ']') {
            i++;
        } else {
            for (;;) {
                double d;
                long next = parse_number(s, skip_space(s, i, len), len, &d);
                if (next < 0 || d < 0 || d > 255 || d != (double)(int)d) {
                    free(bytes);
                    return -1;
                }
                bytes[n++] = (char)(int)d;
                i = skip_space(s, (size_t)next, len);
                if (i < len && s[i] == ',') {
                    i++;
                    continue;
                }
                if (i < len && s[i] == ']') {
                    i++;
                    break;
                }
                free(bytes);
                return -1;
            }
        }
        if (v) {
            v->kind = JSON_BYTES, v->bytes = bytes, v->len = n;
        } else {
            free(bytes);
        }
        return (long)i;
    }
    if (s[i] == '{') {
        i = skip_space(s, i + 1, len);
        if (i < len && s[i] == '}')
            return (long)(i + 1);
        for (;;) {
            size_t used;
            char *key = malloc(len - i + 1);
            long kn = json_string_decode(s + i, len - i, key, &used);
            free(key);
            if (kn < 0)
                return -1;
            i = skip_space(s, i + used, len);
            if (i >= len || s[i] != ':')
                return -1;
            long next = parse_value(s, i + 1, len, NULL, depth + 1);
            if (next < 0)
                return -1;
            i = skip_space(s, (size_t)next, len);
            if (i < len && s[i] == ',') {
                i = skip_space(s, i + 1, len);
                continue;
            }
            if (i < len && s[i] == '}')
                break;
            return -1;
        }
        if (v)
            v->kind = JSON_OBJECT;
        return (long)(i + 1);
    }
    double d;
    long next = parse_number(s, i, len, &d);
    if (next >= 0 && v)
        v->kind = JSON_NUMBER, v->number = d;
    return next;
}

int json_field(const char *line, size_t len, const char *key, struct json_value *out)
{
    memset(out, 0, sizeof *out);
    size_t i = skip_space(line, 0, len);
    if (i >= len || line[i] != '{')
        return -1;
    i = skip_space(line, i + 1, len);
    if (i < len && line[i] == '}') {
        i++;
    } else {
        for (;;) {
            size_t used;
            char *k = malloc(len - i + 1);
            long kn = json_string_decode(line + i, len - i, k, &used);
            if (kn < 0) {
                free(k);
                json_value_free(out);
                return -1;
            }
            bool wanted = (size_t)kn == strlen(key) && memcmp(k, key, (size_t)kn) == 0;
            free(k);
            i = skip_space(line, i + used, len);
            if (i >= len || line[i] != ':') {
                json_value_free(out);
                return -1;
            }
            struct json_value v = { 0 };
            long next = parse_value(line, i + 1, len, &v, 1);
            if (next < 0) {
                json_value_free(out);
                return -1;
            }
            if (wanted && out->kind == JSON_NONE)
                *out = v;
            else
                json_value_free(&v);
            i = skip_space(line, (size_t)next, len);
            if (i < len && line[i] == ',') {
                i = skip_space(line, i + 1, len);
                continue;
            }
            if (i < len && line[i] == '}') {
                i++;
                break;
            }
            json_value_free(out);
            return -1;
        }
    }
    if (skip_space(line, i, len) != len) {
        json_value_free(out);
        return -1;
    }
    return 0;
}

void json_value_free(struct json_value *v)
{
    if (v->kind == JSON_STRING || v->kind == JSON_BYTES)
        free(v->bytes);
    memset(v, 0, sizeof *v);
}
