#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "iotrace/summary.h"

static struct proc_info cat = { .comm = "cat", .uid = 1000, .have_comm = true, .have_ids = true };
static struct proc_info sh = { .comm = "sh", .uid = 0, .have_comm = true, .have_ids = true };
static struct proc_info gone = { 0 };
static const struct timespec start = { 1764250000, 0 }, end = { 1764250005, 500000000 };

static void add(struct summary *s, const struct proc_info *proc, pid_t pid, unsigned types, const char *path)
{
    struct event ev = { .types = types, .pid = pid, .fd = -1, .proc = proc, .uid = proc->uid, .path = path,
                        .path_len = path ? strlen(path) : 0 };
    summary_add(s, &ev);
}

static const char *user_names(void *ctx, uid_t uid)
{
    (void)ctx;
    return uid == 1000 ? "ann" : uid == 0 ? "root" : NULL;
}

/* The report without its first line, which holds local times. */
static const char *tables(struct strbuf *sb)
{
    const char *text = strbuf_cstr(sb);
    return strchr(text, '\n') + 1;
}

static struct summary *sample(size_t limit)
{
    struct summary *s = summary_new(limit, &start);
    add(s, &cat, 20, EV_OPEN | EV_READ | EV_CLOSE, "/srv/a");
    add(s, &cat, 20, EV_READ, "/srv/a");
    add(s, &cat, 21, EV_OPEN, "/srv/b");
    add(s, &sh, 7, EV_WRITE, "/srv/c d");
    add(s, &gone, 99, EV_WRITE | EV_CLOSE, NULL);
    return s;
}

static void test_text_report(void **state)
{
    (void)state;
    struct summary *s = sample(100);
    assert_int_equal(summary_events(s), 5);
    struct strbuf sb = { 0 };
    summary_report_text(s, 10, &end, user_names, NULL, &sb);
    assert_non_null(strstr(strbuf_cstr(&sb), ": 5 events\n"));
    assert_string_equal(tables(&sb),
                        "  EVENTS       R       C       W       O  FILE\n"
                        "       2       2       1       0       1  /srv/a\n"
                        "       1       0       0       0       1  /srv/b\n"
                        "       1       0       0       1       0  /srv/c d\n"
                        "       1       0       1       1       0  ?\n" /* ties: by bytes */
                        "  EVENTS       R       C       W       O  PROCESS\n"
                        "       2       2       1       0       1  cat(20)\n"
                        "       1       0       0       1       0  sh(7)\n"
                        "       1       0       0       0       1  cat(21)\n"
                        "       1       0       1       1       0  unknown(99)\n"
                        "  EVENTS       R       C       W       O  USER\n"
                        "       3       2       1       0       2  ann\n"
                        "       1       0       1       1       0  ?\n"
                        "       1       0       0       1       0  root\n");
    strbuf_free(&sb);
    summary_free(s);
}

/* An NFS server's accesses are counted under `?`, not under its process's uid (root). */
static void test_unknown_user(void **state)
{
    (void)state;
    static struct proc_info ganesha = { .comm = "ganesha.nfsd", .uid = 0, .have_comm = true, .have_ids = true };
    struct summary *s = summary_new(100, &start);
    struct event ev = { .types = EV_WRITE, .pid = 30, .fd = -1, .proc = &ganesha, .uid = 0,
                        .user_unknown = true, .path = "/srv/n", .path_len = 6 };
    summary_add(s, &ev);
    add(s, &sh, 7, EV_WRITE, "/srv/n");
    struct strbuf sb = { 0 };
    summary_report_text(s, 10, &end, user_names, NULL, &sb);
    const char *users = strstr(tables(&sb), "USER\n");
    assert_non_null(users);
    assert_string_equal(users, "USER\n"
                               "       1       1  ?\n"
                               "       1       1  root\n");
    strbuf_free(&sb);
    summary_free(s);
}

static void test_top_and_rest(void **state)
{
    (void)state;
    struct summary *s = sample(100);
    struct strbuf sb = { 0 };
    summary_report_text(s, 1, &end, NULL, NULL, &sb);
    assert_string_equal(tables(&sb),
                        "  EVENTS       R       C       W       O  FILE\n"
                        "       2       2       1       0       1  /srv/a\n"
                        "       3       0       1       2       1  (3 more files)\n"
                        "  EVENTS       R       C       W       O  PROCESS\n"
                        "       2       2       1       0       1  cat(20)\n"
                        "       3       0       1       2       1  (3 more processes)\n"
                        "  EVENTS       R       C       W       O  USER\n"
                        "       3       2       1       0       2  1000\n" /* no names: the uid */
                        "       2       0       1       2       0  (2 more users)\n");
    strbuf_free(&sb);
    summary_free(s);
}

static void test_bounded(void **state)
{
    (void)state;
    struct summary *s = sample(2); /* two keys per table at most */
    struct strbuf sb = { 0 };
    summary_report_text(s, 10, &end, user_names, NULL, &sb);
    assert_string_equal(tables(&sb),
                        "  EVENTS       R       C       W       O  FILE\n"
                        "       2       2       1       0       1  /srv/a\n"
                        "       1       0       0       0       1  /srv/b\n"
                        "       2       0       1       2       0  (0 more files, and more not told apart: at most 2 are tracked)\n"
                        "  EVENTS       R       C       W       O  PROCESS\n"
                        "       2       2       1       0       1  cat(20)\n"
                        "       1       0       0       0       1  cat(21)\n"
                        "       2       0       1       2       0  (0 more processes, and more not told apart: at most 2 are tracked)\n"
                        "  EVENTS       R       C       W       O  USER\n"
                        "       3       2       1       0       2  ann\n"
                        "       1       0       0       1       0  root\n"
                        "       1       0       1       1       0  (0 more users, and more not told apart: at most 2 are tracked)\n");
    strbuf_free(&sb);
    summary_free(s);
}

static void test_json_report_and_reset(void **state)
{
    (void)state;
    struct summary *s = summary_new(100, &start);
    add(s, &cat, 20, EV_OPEN, "/srv/\xff");
    add(s, &gone, 99, EV_OPEN, "/srv/x");
    struct strbuf sb = { 0 };
    summary_report_json(s, 10, &end, user_names, NULL, &sb);
    assert_string_equal(strbuf_cstr(&sb),
                        "{\"summary\":{\"start\":1764250000.000000,\"end\":1764250005.500000,"
                        "\"events\":2,\"types\":{\"O\":2},\"limit\":100,"
                        "\"files\":[{\"path\":\"/srv/x\",\"events\":1,\"types\":{\"O\":1}},"
                        "{\"path\":\"/srv/\xef\xbf\xbd\",\"path_raw\":[47,115,114,118,47,255],"
                        "\"events\":1,\"types\":{\"O\":1}}],"
                        "\"processes\":[{\"comm\":\"cat\",\"pid\":20,\"events\":1,\"types\":{\"O\":1}},"
                        "{\"comm\":\"unknown\",\"pid\":99,\"events\":1,\"types\":{\"O\":1}}],"
                        "\"users\":[{\"user\":null,\"uid\":null,\"events\":1,\"types\":{\"O\":1}},"
                        "{\"user\":\"ann\",\"uid\":1000,\"events\":1,\"types\":{\"O\":1}}]}}\n");

    summary_reset(s, &end);
    assert_int_equal(summary_events(s), 0);
    strbuf_reset(&sb);
    summary_report_text(s, 10, &end, user_names, NULL, &sb);
    assert_non_null(strstr(strbuf_cstr(&sb), ": no events\n"));
    strbuf_free(&sb);
    summary_free(s);
}

static void test_many_keys(void **state)
{
    (void)state;
    /* growth of the table keeps every count */
    struct summary *s = summary_new(SUMMARY_MAX_KEYS, &start);
    char path[32];
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < 5000; i++) {
            snprintf(path, sizeof path, "/f%d", i);
            add(s, &cat, 20 + i % 7, EV_READ, path);
        }
    add(s, &cat, 20, EV_READ, "/f4999");
    struct strbuf sb = { 0 };
    summary_report_text(s, 2, &end, user_names, NULL, &sb);
    assert_string_equal(tables(&sb),
                        "  EVENTS       R  FILE\n"
                        "       4       4  /f4999\n"
                        "       3       3  /f0\n"
                        "   14994   14994  (4998 more files)\n"
                        "  EVENTS       R  PROCESS\n"
                        "    2146    2146  cat(20)\n" /* 5000 = 7 * 714 + 2, three rounds, one more */
                        "    2145    2145  cat(21)\n"
                        "   10710   10710  (5 more processes)\n"
                        "  EVENTS       R  USER\n"
                        "   15001   15001  ann\n");
    strbuf_free(&sb);
    summary_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_report),
        cmocka_unit_test(test_unknown_user),
        cmocka_unit_test(test_top_and_rest),
        cmocka_unit_test(test_bounded),
        cmocka_unit_test(test_json_report_and_reset),
        cmocka_unit_test(test_many_keys),
    };
    return cmocka_run_group_tests_name("--summary", tests, NULL, NULL);
}
