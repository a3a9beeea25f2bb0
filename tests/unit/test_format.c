#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iotrace/clients.h"
#include "iotrace/format.h"

static struct strbuf sb;

static const char *text_escaped(const char *s, size_t len, bool space_too)
{
    strbuf_reset(&sb);
    escape_text(s, len, space_too, &sb);
    return strbuf_cstr(&sb);
}

static const char *json_escaped(const char *s, size_t len, bool *valid)
{
    strbuf_reset(&sb);
    *valid = escape_json(s, len, &sb);
    return strbuf_cstr(&sb);
}

#define T(lit) text_escaped(lit, sizeof(lit) - 1, false)

static void test_types_to_string(void **state)
{
    (void)state;
    char out[EVENT_TYPES_MAX_LETTERS + 1];
    assert_int_equal(event_types_to_string(EV_OPEN | EV_READ | EV_CLOSE, out), 3);
    assert_string_equal(out, "RCO");
    event_types_to_string(EV_WRITE | EV_CLOSE, out);
    assert_string_equal(out, "CW");
    event_types_to_string(EV_ALL_TYPES, out);
    assert_string_equal(out, "RCWO+D<>A");
    event_types_to_string(0, out);
    assert_string_equal(out, "");
}

static void test_escape_text(void **state)
{
    (void)state;
    assert_string_equal(T("/srv/plain name.txt"), "/srv/plain name.txt");
    assert_string_equal(T("a\nb\tc\rd"), "a\\nb\\tc\\rd");
    assert_string_equal(T("back\\slash"), "back\\\\slash");
    assert_string_equal(T("\x1b[31mred"), "\\x1b[31mred");
    assert_string_equal(T("del\x7f"), "del\\x7f");
    assert_string_equal(T("caf\xc3\xa9"), "caf\xc3\xa9");             /* valid UTF-8 stays */
    assert_string_equal(T("bad\xff\xc3"), "bad\\xff\\xc3");            /* invalid bytes */
    assert_string_equal(T("\xc0\xaf"), "\\xc0\\xaf");                  /* overlong */
    assert_string_equal(T("\xed\xa0\x80"), "\\xed\\xa0\\x80");         /* surrogate */
    assert_string_equal(T("rtl\xe2\x80\xaemark"), "rtl\\xe2\\x80\\xaemark"); /* U+202E */
    assert_string_equal(T("c1\xc2\x9b"), "c1\\xc2\\x9b");              /* U+009B, a CSI */
    assert_string_equal(T("\xf0\x9f\x98\x80"), "\xf0\x9f\x98\x80");    /* emoji stays */
    assert_string_equal(text_escaped("a b", 3, true), "a\\x20b");
    assert_string_equal(text_escaped("nul\0x", 5, false), "nul\\x00x");
}

static void test_escape_json(void **state)
{
    (void)state;
    bool valid;
    assert_string_equal(json_escaped("q\"b\\", 4, &valid), "\"q\\\"b\\\\\"");
    assert_true(valid);
    assert_string_equal(json_escaped("a\nb\x01\x7f", 5, &valid), "\"a\\nb\\u0001\\u007f\"");
    assert_true(valid);
    assert_string_equal(json_escaped("\xe2\x80\xae", 3, &valid), "\"\\u202e\"");
    assert_true(valid);
    assert_string_equal(json_escaped("x\xffy", 3, &valid), "\"x\xef\xbf\xbdy\"");
    assert_false(valid);
}

static struct proc_info bash = { .comm = "bash", .uid = 1000, .gid = 100, .have_comm = true,
                                 .have_ids = true };

static struct event sample(void)
{
    struct event ev = {
        .types = EV_CLOSE | EV_WRITE,
        .pid = 4242,
        .fd = -1,
        .time = { .tv_sec = 1700000000, .tv_nsec = 123456789 },
        .proc = &bash,
        .user = "ann",
        .uid = 1000,
        .path = "/home/ann/notes.txt",
        .path_len = 19,
        .have_inode = true,
        .dev_major = 8,
        .dev_minor = 2,
        .inode = 1234,
    };
    return ev;
}

static const char *formatted(bool json, bool user, int timestamp, const struct event *ev)
{
    struct formatter f;
    formatter_init(&f, json, user, timestamp);
    strbuf_reset(&sb);
    format_event(&f, ev, &sb);
    return strbuf_cstr(&sb);
}

static void test_text_lines(void **state)
{
    (void)state;
    struct event ev = sample();
    assert_string_equal(formatted(false, false, 0, &ev), "bash(4242): CW /home/ann/notes.txt\n");
    assert_string_equal(formatted(false, true, 0, &ev), "bash(4242) [ann]: CW /home/ann/notes.txt\n");
    assert_string_equal(formatted(false, false, 1, &ev), "22:13:20.123456 bash(4242): CW /home/ann/notes.txt\n");
    assert_string_equal(formatted(false, false, 2, &ev),
                        "1700000000.123456 bash(4242): CW /home/ann/notes.txt\n");
    ev.user = NULL; /* a uid without a name shows the number */
    assert_string_equal(formatted(false, true, 0, &ev), "bash(4242) [1000]: CW /home/ann/notes.txt\n");
    ev.proc = NULL; /* the process was gone */
    assert_string_equal(formatted(false, true, 0, &ev), "unknown(4242) [?]: CW /home/ann/notes.txt\n");
    ev.path = NULL;
    assert_string_equal(formatted(false, false, 0, &ev), "unknown(4242): CW device 8:2 inode 1234\n");
    ev.have_inode = false;
    assert_string_equal(formatted(false, false, 0, &ev), "unknown(4242): CW ?\n");
}

static void test_share_client(void **state)
{
    (void)state;
    struct proc_info smbd = { .comm = "smbd", .uid = 0, .gid = 0, .have_comm = true, .have_ids = true };
    struct client_info client = { .known = true, .addr = "192.0.2.7", .port = 50123 };
    struct event ev = sample();
    ev.proc = &smbd;
    ev.user = "alice";
    ev.uid = 1001;
    ev.client = &client;
    ev.have_inode = false;
    assert_string_equal(formatted(false, true, 0, &ev), "smbd(4242) [alice@192.0.2.7]: CW /home/ann/notes.txt\n");
    assert_string_equal(formatted(true, true, 0, &ev),
                        "{\"comm\":\"smbd\",\"pid\":4242,\"uid\":1001,\"gid\":0,\"user\":\"alice\","
                        "\"client_addr\":\"192.0.2.7\",\"client_port\":50123,\"types\":\"CW\","
                        "\"path\":\"/home/ann/notes.txt\"}\n");
}

static void test_tcp_lines(void **state)
{
    (void)state;
    struct tcp_socket sock;
    const char v4[] = "   1: 0100007F:AE6F 0700000A:C3CB 01 00000000:00000000 02:000A7D2A 00000000     0        0 "
                      "4242 2 0000000000000000 20 4 30 10 -1";
    assert_int_equal(tcp_line_parse(v4, &sock), 0);
    assert_int_equal(sock.inode, 4242);
    assert_int_equal(sock.state, 1);
    assert_int_equal(sock.local_port, 0xAE6F);
    assert_string_equal(sock.remote.addr, "10.0.0.7");
    assert_int_equal(sock.remote.port, 0xC3CB);
    const char mapped[] = "   0: 0000000000000000FFFF00000100007F:AE6F 0000000000000000FFFF00000701A8C0:D431 0A "
                          "00000000:00000000 00:00000000 00000000     0        0 77 1 0000000000000000 20 4 1 10 -1";
    assert_int_equal(tcp_line_parse(mapped, &sock), 0);
    assert_int_equal(sock.state, 10);
    assert_string_equal(sock.remote.addr, "192.168.1.7");
    const char v6[] = "   0: 00000000000000000000000001000000:AE6F 00000000000000000000000001000000:D431 01 "
                      "00000000:00000000 00:00000000 00000000     0        0 78 1 0000000000000000 20 4 1 10 -1";
    assert_int_equal(tcp_line_parse(v6, &sock), 0);
    assert_string_equal(sock.remote.addr, "::1");
    assert_int_equal(tcp_line_parse("  sl  local_address rem_address   st tx_queue rx_queue", &sock), -1);
}

static void test_nfs_server_user_unknown(void **state)
{
    (void)state;
    struct proc_info ganesha = { .comm = "ganesha.nfsd", .have_comm = true, .have_ids = true };
    struct event ev = sample();
    ev.proc = &ganesha;
    ev.user = NULL;
    ev.user_unknown = true;
    ev.have_inode = false;
    assert_string_equal(formatted(false, true, 0, &ev), "ganesha.nfsd(4242) [?]: CW /home/ann/notes.txt\n");
    assert_string_equal(formatted(true, true, 0, &ev),
                        "{\"comm\":\"ganesha.nfsd\",\"pid\":4242,\"types\":\"CW\","
                        "\"path\":\"/home/ann/notes.txt\"}\n");
}

static void test_directory_unknown(void **state)
{
    (void)state;
    struct event ev = sample();
    ev.types = EV_DELETE;
    ev.have_inode = false;
    ev.path = "leaf\n";
    ev.path_len = 5;
    ev.path_is_name_only = true;
    assert_string_equal(formatted(false, false, 0, &ev), "bash(4242): D ?/leaf\\n\n");
    assert_string_equal(formatted(true, false, 0, &ev),
                        "{\"comm\":\"bash\",\"pid\":4242,\"types\":\"D\",\"name\":\"leaf\\n\"}\n");
}

static void test_text_hostile_names(void **state)
{
    (void)state;
    struct proc_info odd = { .comm = "ca)t\tW x", .have_comm = true };
    struct event ev = sample();
    ev.proc = &odd;
    ev.path = "/tmp/a\nb";
    ev.path_len = 8;
    assert_string_equal(formatted(false, false, 0, &ev), "ca)t\\tW\\x20x(4242): CW /tmp/a\\nb\n");
}

static void test_json_lines(void **state)
{
    (void)state;
    struct event ev = sample();
    assert_string_equal(formatted(true, false, 0, &ev),
                        "{\"comm\":\"bash\",\"pid\":4242,\"types\":\"CW\",\"device\":{\"major\":8,\"minor\":2},"
                        "\"inode\":1234,\"path\":\"/home/ann/notes.txt\"}\n");
    assert_string_equal(formatted(true, true, 2, &ev),
                        "{\"timestamp\":1700000000.123456,\"comm\":\"bash\",\"pid\":4242,\"uid\":1000,"
                        "\"gid\":100,\"user\":\"ann\",\"types\":\"CW\",\"device\":{\"major\":8,\"minor\":2},"
                        "\"inode\":1234,\"path\":\"/home/ann/notes.txt\"}\n");
    assert_string_equal(formatted(true, false, 1, &ev),
                        "{\"timestamp\":\"22:13:20.123456\",\"comm\":\"bash\",\"pid\":4242,\"types\":\"CW\","
                        "\"device\":{\"major\":8,\"minor\":2},\"inode\":1234,\"path\":\"/home/ann/notes.txt\"}\n");
    ev.user = NULL;
    ev.have_inode = false;
    ev.path = "/x\xff";
    ev.path_len = 3;
    assert_string_equal(formatted(true, true, 0, &ev),
                        "{\"comm\":\"bash\",\"pid\":4242,\"uid\":1000,\"gid\":100,\"user\":null,\"types\":\"CW\","
                        "\"path\":\"/x\xef\xbf\xbd\",\"path_raw\":[47,120,255]}\n");
}

static void test_numbers(void **state)
{
    (void)state;
    strbuf_reset(&sb);
    strbuf_put_uint(&sb, 0);
    strbuf_putc(&sb, ' ');
    strbuf_put_uint(&sb, UINT64_MAX);
    strbuf_putc(&sb, ' ');
    strbuf_put_int(&sb, -1);
    strbuf_putc(&sb, ' ');
    strbuf_put_int(&sb, INT64_MIN);
    strbuf_putc(&sb, ' ');
    strbuf_put_int(&sb, 4194304);
    assert_string_equal(strbuf_cstr(&sb), "0 18446744073709551615 -1 -9223372036854775808 4194304");
}

static void test_overflow_record(void **state)
{
    (void)state;
    struct formatter f;
    struct timespec t = { .tv_sec = 1700000000, .tv_nsec = 5000 };
    formatter_init(&f, true, false, 0);
    strbuf_reset(&sb);
    format_overflow(&f, &t, 1, &sb);
    assert_string_equal(strbuf_cstr(&sb), "{\"timestamp\":1700000000.000005,\"lost\":1}\n");
    formatter_init(&f, false, false, 0);
    strbuf_reset(&sb);
    format_overflow(&f, &t, 1, &sb);
    assert_int_equal(sb.len, 0); /* text mode reports overflows on stderr */
}

/* -e and -P, in fatrace's shapes: "PATH exe=EXE, parents=(pid=N comm=C exe=E),..." */
static void test_exe_and_parents(void **state)
{
    (void)state;
    struct proc_info init = { .comm = "systemd", .have_comm = true, .pid = 1, .exe = "/usr/lib/systemd/systemd" };
    struct proc_info login = { .comm = "my shell", .have_comm = true, .pid = 900, .parent = &init };
    struct proc_info cat = bash;
    cat.exe = "/usr/bin/cat";
    const struct proc_info *chain[] = { &login, &init };
    struct event ev = sample();
    ev.proc = &cat;
    ev.parents = chain;
    ev.n_parents = 2;
    struct formatter f;
    formatter_init(&f, false, false, 0);
    f.exe = true;
    strbuf_reset(&sb);
    format_event(&f, &ev, &sb);
    assert_string_equal(strbuf_cstr(&sb), "bash(4242): CW /home/ann/notes.txt exe=/usr/bin/cat\n");
    f.parents = true;
    strbuf_reset(&sb);
    format_event(&f, &ev, &sb);
    assert_string_equal(strbuf_cstr(&sb), "bash(4242): CW /home/ann/notes.txt exe=/usr/bin/cat, "
                                          "parents=(pid=900 comm=my\\x20shell exe=?),"
                                          "(pid=1 comm=systemd exe=/usr/lib/systemd/systemd)\n");
    f.exe = false;
    strbuf_reset(&sb);
    format_event(&f, &ev, &sb);
    assert_string_equal(strbuf_cstr(&sb), "bash(4242): CW /home/ann/notes.txt, "
                                          "parents=(pid=900 comm=my\\x20shell),(pid=1 comm=systemd)\n");

    formatter_init(&f, true, false, 0);
    f.exe = f.parents = true;
    strbuf_reset(&sb);
    format_event(&f, &ev, &sb);
    assert_string_equal(strbuf_cstr(&sb),
                        "{\"comm\":\"bash\",\"pid\":4242,\"types\":\"CW\",\"device\":{\"major\":8,\"minor\":2},"
                        "\"inode\":1234,\"path\":\"/home/ann/notes.txt\",\"exe\":\"/usr/bin/cat\",\"parents\":["
                        "{\"pid\":900,\"comm\":\"my shell\",\"exe\":null},"
                        "{\"pid\":1,\"comm\":\"systemd\",\"exe\":\"/usr/lib/systemd/systemd\"}]}\n");
    ev.n_parents = 0;
    cat.exe = NULL;
    f.exe = false;
    strbuf_reset(&sb);
    format_event(&f, &ev, &sb);
    assert_non_null(strstr(strbuf_cstr(&sb), "\"path\":\"/home/ann/notes.txt\",\"parents\":[]}\n"));
}

static int teardown(void **state)
{
    (void)state;
    strbuf_free(&sb);
    return 0;
}

int main(void)
{
    setenv("TZ", "UTC", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_types_to_string),
        cmocka_unit_test(test_escape_text),
        cmocka_unit_test(test_escape_json),
        cmocka_unit_test(test_text_lines),
        cmocka_unit_test(test_text_hostile_names),
        cmocka_unit_test(test_directory_unknown),
        cmocka_unit_test(test_share_client),
        cmocka_unit_test(test_tcp_lines),
        cmocka_unit_test(test_nfs_server_user_unknown),
        cmocka_unit_test(test_json_lines),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_overflow_record),
        cmocka_unit_test(test_exe_and_parents),
    };
    return cmocka_run_group_tests_name("format", tests, NULL, teardown);
}
