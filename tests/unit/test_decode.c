#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>
#include <fcntl.h>
#include <sys/fanotify.h>

#include "iotrace/decode.h"
#include "iotrace/event.h"

static size_t put_record(unsigned char *buf, uint64_t mask, int fd, int pid, size_t extra)
{
    struct fanotify_event_metadata m = {
        .event_len = (unsigned)(sizeof m + extra),
        .vers = FANOTIFY_METADATA_VERSION,
        .metadata_len = sizeof m,
        .mask = mask,
        .fd = fd,
        .pid = pid,
    };
    memcpy(buf, &m, sizeof m);
    memset(buf + sizeof m, 0xee, extra);
    return sizeof m + extra;
}

static void test_walks_records(void **state)
{
    (void)state;
    unsigned char buf[512];
    size_t len = put_record(buf, FAN_OPEN | FAN_CLOSE_WRITE, 5, 100, 0);
    len += put_record(buf + len, FAN_ACCESS, 6, 101, 16); /* an info record to skip */
    len += put_record(buf + len, FAN_Q_OVERFLOW, FAN_NOFD, 0, 0);

    struct decoder d;
    struct record r;
    decoder_init(&d, buf, len);
    assert_int_equal(decoder_next(&d, &r), DECODE_RECORD);
    assert_int_equal(r.kind, RECORD_EVENT);
    assert_int_equal(r.fd, 5);
    assert_int_equal(r.pid, 100);
    assert_int_equal(r.types, EV_OPEN | EV_CLOSE | EV_WRITE);
    assert_int_equal(decoder_next(&d, &r), DECODE_RECORD);
    assert_int_equal(r.fd, 6);
    assert_int_equal(r.types, EV_READ);
    assert_int_equal(decoder_next(&d, &r), DECODE_RECORD);
    assert_int_equal(r.kind, RECORD_OVERFLOW);
    assert_int_equal(r.fd, -1);
    assert_int_equal(r.fd_error, 0);
    assert_int_equal(decoder_next(&d, &r), DECODE_END);
}

static void test_fd_error(void **state)
{
    (void)state;
    unsigned char buf[64];
    size_t len = put_record(buf, FAN_OPEN, -24 /* -EMFILE */, 7, 0);
    struct decoder d;
    struct record r;
    decoder_init(&d, buf, len);
    assert_int_equal(decoder_next(&d, &r), DECODE_RECORD);
    assert_int_equal(r.fd, -1);
    assert_int_equal(r.fd_error, 24);
}

/* found by fuzzing: -INT_MIN is undefined; a value that is no errno reads as EIO */
static void test_fd_error_out_of_range(void **state)
{
    (void)state;
    unsigned char buf[64];
    size_t len = put_record(buf, FAN_OPEN, -2147483647 - 1, 7, 0);
    struct decoder d;
    struct record r;
    decoder_init(&d, buf, len);
    assert_int_equal(decoder_next(&d, &r), DECODE_RECORD);
    assert_int_equal(r.fd, -1);
    assert_int_equal(r.fd_error, EIO);
}

static void test_bad_version_and_truncation(void **state)
{
    (void)state;
    unsigned char buf[128];
    size_t len = put_record(buf, FAN_OPEN, 3, 1, 0);
    buf[4] = FANOTIFY_METADATA_VERSION + 1;
    struct decoder d;
    struct record r;
    decoder_init(&d, buf, len);
    assert_int_equal(decoder_next(&d, &r), DECODE_BAD_VERSION);

    len = put_record(buf, FAN_OPEN, 3, 1, 0);
    decoder_init(&d, buf, len - 1);
    assert_int_equal(decoder_next(&d, &r), DECODE_TRUNCATED);

    put_record(buf, FAN_OPEN, 3, 1, 100); /* claims more than was read */
    decoder_init(&d, buf, 64);
    assert_int_equal(decoder_next(&d, &r), DECODE_TRUNCATED);

    struct fanotify_event_metadata m = { .event_len = 8, .vers = FANOTIFY_METADATA_VERSION,
                                         .metadata_len = 8 };
    memcpy(buf, &m, sizeof m);
    decoder_init(&d, buf, sizeof m);
    assert_int_equal(decoder_next(&d, &r), DECODE_TRUNCATED); /* no endless loop on len 8 */
}

static void test_types_from_mask(void **state)
{
    (void)state;
    assert_int_equal(event_types_from_mask(FAN_CLOSE_NOWRITE), EV_CLOSE);
    assert_int_equal(event_types_from_mask(FAN_MODIFY), EV_WRITE);
    assert_int_equal(event_types_from_mask(FAN_CREATE | FAN_ONDIR), EV_CREATE);
    assert_int_equal(event_types_from_mask(FAN_DELETE), EV_DELETE);
    assert_int_equal(event_types_from_mask(FAN_MOVED_FROM | FAN_MOVED_TO), EV_MOVED_FROM | EV_MOVED_TO);
    assert_int_equal(event_types_from_mask(FAN_ATTRIB), EV_ATTRIB);
}

/* A FID-mode record: metadata, then a DFID_NAME info (fsid, handle, name) and a FID. */
static size_t put_fid_record(unsigned char *buf, uint64_t mask, const char *name)
{
    unsigned char info[256];
    size_t len = 0;
    struct fanotify_event_info_fid dfid = { .hdr = { .info_type = FAN_EVENT_INFO_TYPE_DFID_NAME } };
    dfid.fsid.val[0] = 0x11223344;
    dfid.fsid.val[1] = 0x55667788;
    struct file_handle fh = { .handle_bytes = 8, .handle_type = 1 };
    size_t name_len = strlen(name) + 1;
    size_t rec = (sizeof dfid + sizeof fh + 8 + name_len + 3) & ~(size_t)3;
    dfid.hdr.len = (uint16_t)rec;
    memset(info, 0, sizeof info);
    memcpy(info, &dfid, sizeof dfid);
    memcpy(info + sizeof dfid, &fh, sizeof fh);
    memcpy(info + sizeof dfid + sizeof fh, "HANDLE01", 8);
    memcpy(info + sizeof dfid + sizeof fh + 8, name, name_len);
    len = rec;
    struct fanotify_event_info_fid fid = { .hdr = { .info_type = FAN_EVENT_INFO_TYPE_FID,
                                                    .len = (uint16_t)(sizeof fid + sizeof fh + 8) } };
    memcpy(info + len, &fid, sizeof fid);
    memcpy(info + len + sizeof fid, &fh, sizeof fh);
    memcpy(info + len + sizeof fid + sizeof fh, "HANDLE02", 8);
    len += fid.hdr.len;

    size_t n = put_record(buf, mask, FAN_NOFD, 42, len);
    memcpy(buf + sizeof(struct fanotify_event_metadata), info, len);
    return n;
}

static void test_fid_records(void **state)
{
    (void)state;
    unsigned char buf[512];
    size_t len = put_fid_record(buf, FAN_CREATE | FAN_ONDIR, "report.txt");
    struct decoder d;
    struct record r;
    decoder_init(&d, buf, len);
    assert_int_equal(decoder_next(&d, &r), DECODE_RECORD);
    assert_int_equal(r.types, EV_CREATE);
    assert_int_equal(r.fd, -1);
    assert_int_equal(r.n_fids, 2);
    assert_int_equal(r.fids[0].role, FID_DIR_NAME);
    assert_string_equal(r.fids[0].name, "report.txt");
    assert_int_equal(r.fids[0].handle_len, sizeof(struct file_handle) + 8);
    assert_memory_equal(r.fids[0].handle + sizeof(struct file_handle), "HANDLE01", 8);
    assert_true(r.fids[0].fsid == (0x11223344ULL | (0x55667788ULL << 32)));
    assert_int_equal(r.fids[1].role, FID_OBJECT);
    assert_null(r.fids[1].name);
    assert_memory_equal(r.fids[1].handle + sizeof(struct file_handle), "HANDLE02", 8);
    assert_int_equal(decoder_next(&d, &r), DECODE_END);
}

static void test_fid_record_lies(void **state)
{
    (void)state;
    unsigned char buf[512];
    size_t len = put_fid_record(buf, FAN_DELETE, "x");
    /* a handle claiming more bytes than its info record holds is dropped, not read */
    struct file_handle fh = { .handle_bytes = 200, .handle_type = 1 };
    memcpy(buf + sizeof(struct fanotify_event_metadata) + sizeof(struct fanotify_event_info_fid), &fh,
           sizeof fh);
    struct decoder d;
    struct record r;
    decoder_init(&d, buf, len);
    assert_int_equal(decoder_next(&d, &r), DECODE_RECORD);
    assert_int_equal(r.types, EV_DELETE);
    assert_int_equal(r.n_fids, 1); /* the FID record after it is still fine */
    assert_int_equal(r.fids[0].role, FID_OBJECT);
}

/* FAN_REPORT_PIDFD: a pidfd to close, or FAN_NOPIDFD for a process already reaped */
static void test_pidfd_info(void **state)
{
    (void)state;
    unsigned char buf[256];
    size_t len = 0;
    const int32_t pidfds[] = { 9, -1 /* FAN_NOPIDFD */, -2 /* FAN_EPIDFD */ };
    for (int i = 0; i < 3; i++) {
        size_t at = len;
        len += put_record(buf + len, FAN_OPEN, 5, 100 + i, 8);
        struct fanotify_event_info_header h = { .info_type = 4 /* PIDFD */, .len = 8 };
        memcpy(buf + at + sizeof(struct fanotify_event_metadata), &h, sizeof h);
        memcpy(buf + at + sizeof(struct fanotify_event_metadata) + sizeof h, &pidfds[i], 4);
    }
    len += put_record(buf + len, FAN_OPEN, 5, 200, 0); /* a kernel without the flag */
    struct decoder d;
    struct record r;
    decoder_init(&d, buf, len);
    assert_int_equal(decoder_next(&d, &r), DECODE_RECORD);
    assert_int_equal(r.pidfd, 9);
    assert_int_equal(r.process_gone, 0);
    assert_int_equal(decoder_next(&d, &r), DECODE_RECORD);
    assert_int_equal(r.pidfd, -1);
    assert_int_equal(r.process_gone, 1);
    assert_int_equal(decoder_next(&d, &r), DECODE_RECORD);
    assert_int_equal(r.pidfd, -1);
    assert_int_equal(r.process_gone, -1); /* an error says nothing either way */
    assert_int_equal(decoder_next(&d, &r), DECODE_RECORD);
    assert_int_equal(r.pidfd, -1);
    assert_int_equal(r.process_gone, -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_walks_records),
        cmocka_unit_test(test_fd_error),
        cmocka_unit_test(test_fd_error_out_of_range),
        cmocka_unit_test(test_bad_version_and_truncation),
        cmocka_unit_test(test_types_from_mask),
        cmocka_unit_test(test_fid_records),
        cmocka_unit_test(test_fid_record_lies),
        cmocka_unit_test(test_pidfd_info),
    };
    return cmocka_run_group_tests_name("decode", tests, NULL, NULL);
}
