/* The reader's side of iotrace's output, for tests and fuzz targets: undo the text
 * escaping, and a small strict JSON reader for one flat event line. Written from the
 * man page, not from format.c, so that a round trip checks the documented contract. */
#ifndef IOTRACE_TEST_UNESCAPE_H
#define IOTRACE_TEST_UNESCAPE_H

#include <stdbool.h>
#include <stddef.h>

/* Undoes \\ \n \t \r \xHH; writes at most len bytes to out. Returns the length, or -1
 * when the text holds a raw control byte or an escape the man page does not define. */
long text_unescape(const char *in, size_t len, char *out);

/* Whether s[0..len) is valid UTF-8 (no overlongs, no surrogates, at most U+10FFFF). */
bool utf8_valid(const unsigned char *s, size_t len);

enum json_kind { JSON_NONE, JSON_STRING, JSON_NUMBER, JSON_BYTES, JSON_NULL, JSON_OBJECT };

struct json_value {
    enum json_kind kind;
    char *bytes;     /* STRING: the decoded UTF-8; BYTES: an array of numbers 0..255 */
    size_t len;
    double number;   /* NUMBER */
};

/* Parses `line` as one JSON object whose values are strings, numbers, null, arrays of
 * numbers or objects of numbers; fills *out with the value of `key` (kind JSON_NONE when
 * absent). Returns 0, or -1 when the line is not valid JSON (bad syntax, a raw control
 * character, invalid UTF-8, a lone surrogate) or has trailing text. */
int json_field(const char *line, size_t len, const char *key, struct json_value *out);

/* Decodes one JSON string starting at its opening quote; *used is set to the bytes
 * consumed. out needs len bytes at most. Returns the decoded length or -1. */
long json_string_decode(const char *in, size_t len, char *out, size_t *used);

void json_value_free(struct json_value *v);

#endif
