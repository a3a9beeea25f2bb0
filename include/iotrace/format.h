/* struct event -> one line of text or JSON. Pure but for the time-of-day cache. */
#ifndef IOTRACE_FORMAT_H
#define IOTRACE_FORMAT_H

#include "iotrace/event.h"
#include "iotrace/strbuf.h"

#include <stdbool.h>
#include <time.h>

struct template;

struct formatter {
    const struct template *template; /* --format: replaces the text line when set */
    bool json;
    bool user;
    int timestamp;      /* 0 none, 1 HH:MM:SS.uuuuuu (local), 2 seconds since the epoch */
    bool exe;           /* -e: exe=PATH after the path; "exe" in JSON */
    bool parents;       /* -P: ", parents=(pid=N comm=C),..." after it; "parents" in JSON */
    /* -t: localtime_r once a second, not once an event */
    time_t tod_second;
    char tod_text[16];
};

void formatter_init(struct formatter *f, bool json, bool user, int timestamp);

void format_event(struct formatter *f, const struct event *ev, struct strbuf *out);
/* A time as -t (style 1, local HH:MM:SS.uuuuuu) or -tt (style 2, epoch) print it. */
void format_timestamp(struct formatter *f, int style, const struct timespec *t, struct strbuf *out);

/* A gap in the stream: the kernel's queue overflowed. JSON only; text mode reports
 * overflows on stderr so that grep pipelines see only event lines. */
void format_overflow(struct formatter *f, const struct timespec *when, unsigned long overflows,
                     struct strbuf *out);

/* Text escaping: C-style \\ \n \t \r and \xHH for every other control byte, each byte
 * of an invalid UTF-8 sequence, and each byte of a Unicode control or bidirectional
 * formatting character. `space_too` also escapes ' ' (for fields before the path). */
void escape_text(const char *s, size_t len, bool space_too, struct strbuf *out);
/* A JSON string (with quotes) for valid UTF-8; invalid bytes become U+FFFD.
 * Returns false when some byte was invalid, so the caller adds a _raw array. */
bool escape_json(const char *s, size_t len, struct strbuf *out);

/* "key":"value" and, when value is not valid UTF-8, ,"key_raw":[bytes] too. */
void format_json_field(const char *key, const char *s, size_t len, struct strbuf *out);

/* Length of the valid UTF-8 sequence at s (1-4), or 0 when s starts an invalid one. */
size_t utf8_sequence_length(const unsigned char *s, size_t left, unsigned *codepoint);

#endif
