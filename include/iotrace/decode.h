/* Kernel records to struct record. Pure: bytes in, records out; touches no fd. */
#ifndef IOTRACE_DECODE_H
#define IOTRACE_DECODE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum record_kind {
    RECORD_EVENT,
    RECORD_OVERFLOW, /* the kernel's queue overflowed: events were lost here */
};

struct record {
    enum record_kind kind;
    uint64_t mask;   /* the kernel's bits, as read */
    unsigned types;  /* enum event_type bits */
    pid_t pid;
    int fd;          /* an open fd the reader must close, or -1 */
    int fd_error;    /* errno when the kernel could not open the file, else 0 */
};

struct decoder {
    const unsigned char *buf;
    size_t len;
    size_t off;
};

enum decode_status {
    DECODE_END = 0,      /* no more records in the buffer */
    DECODE_RECORD = 1,
    DECODE_BAD_VERSION = -1, /* a metadata version this build does not know */
    DECODE_TRUNCATED = -2,   /* a record runs past the end of what was read */
};

void decoder_init(struct decoder *d, const void *buf, size_t len);
enum decode_status decoder_next(struct decoder *d, struct record *out);
unsigned event_types_from_mask(uint64_t mask);

#endif
