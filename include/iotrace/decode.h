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

/* A file handle the kernel reported (FID mode): which object, on which filesystem, and
 * for directory-entry events the entry's name. Points into the read buffer. */
enum fid_role {
    FID_OBJECT,   /* FAN_EVENT_INFO_TYPE_FID: the object itself */
    FID_DIR_NAME, /* FAN_EVENT_INFO_TYPE_DFID_NAME or _DFID: its directory, and name */
};

struct fid_ref {
    enum fid_role role;
    uint64_t fsid;
    const unsigned char *handle; /* a struct file_handle, possibly unaligned */
    size_t handle_len;           /* sizeof(struct file_handle) + handle_bytes */
    const char *name;            /* NUL-terminated, NULL when none */
};

#define RECORD_MAX_FIDS 4

struct record {
    enum record_kind kind;
    uint64_t mask;   /* the kernel's bits, as read */
    unsigned types;  /* enum event_type bits */
    pid_t pid;
    int fd;          /* an open fd the reader must close, or -1 */
    int fd_error;    /* errno when the kernel could not open the file, else 0 */
    size_t n_fids;
    struct fid_ref fids[RECORD_MAX_FIDS];
    int pidfd;       /* FAN_REPORT_PIDFD: an open pidfd the reader must close, or -1 */
    int process_gone; /* 1: the process had been reaped when the event was read (its pid
                       * may belong to another process now); 0: it had not; -1: unknown */
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
