#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_walks_records),
        cmocka_unit_test(test_fd_error),
        cmocka_unit_test(test_bad_version_and_truncation),
        cmocka_unit_test(test_types_from_mask),
    };
    return cmocka_run_group_tests_name("decode", tests, NULL, NULL);
}
