#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "iotrace/options.h"

static enum options_result parse(struct config *cfg, char *err, int argc, char **argv)
{
    memset(cfg, 0, sizeof *cfg);
    err[0] = '\0';
    return options_parse(argc, argv, cfg, err, 256);
}

#define ARGV(...) (char *[]){ "iotrace", __VA_ARGS__, NULL }
#define ARGC(...) ((int)(sizeof((char *[]){ "iotrace", __VA_ARGS__ }) / sizeof(char *)))

static void test_defaults(void **state)
{
    (void)state;
    struct config cfg;
    char err[256];
    char *argv[] = { "iotrace", NULL };
    assert_int_equal(parse(&cfg, err, 1, argv), OPTIONS_RUN);
    assert_false(cfg.current_mount);
    assert_null(cfg.output_path);
    assert_int_equal(cfg.seconds, 0);
    assert_int_equal(cfg.timestamp, 0);
    assert_false(cfg.user);
    assert_false(cfg.json);
    assert_int_equal(cfg.filter.types, EV_ALL_TYPES);
    assert_false(cfg.summary);
    assert_int_equal(cfg.top, 10);
    config_free(&cfg);

    assert_int_equal(parse(&cfg, err, ARGC("--summary", "--interval=5", "--top", "3", "-q"),
                           ARGV("--summary", "--interval=5", "--top", "3", "-q")),
                     OPTIONS_RUN);
    assert_true(cfg.summary);
    assert_int_equal(cfg.interval, 5);
    assert_int_equal(cfg.top, 3);
    assert_true(cfg.quiet);
    config_free(&cfg);
}

static void test_all_short_options(void **state)
{
    (void)state;
    struct config cfg;
    char err[256];
    assert_int_equal(parse(&cfg, err, ARGC("-c", "-o", "log", "-s", "5", "-tt", "-u", "-p", "12", "-p", "13",
                                           "-f", "wo", "-C", "cat", "-j"),
                           ARGV("-c", "-o", "log", "-s", "5", "-tt", "-u", "-p", "12", "-p", "13", "-f", "wo",
                                "-C", "cat", "-j")),
                     OPTIONS_RUN);
    assert_true(cfg.current_mount);
    assert_string_equal(cfg.output_path, "log");
    assert_int_equal(cfg.seconds, 5);
    assert_int_equal(cfg.timestamp, 2);
    assert_true(cfg.user);
    assert_true(cfg.json);
    assert_int_equal(cfg.filter.n_ignore_pids, 2);
    assert_int_equal(cfg.filter.ignore_pids[1], 13);
    assert_int_equal(cfg.filter.types, EV_WRITE | EV_OPEN);
    assert_int_equal(cfg.filter.n_commands, 1);
    assert_string_equal(cfg.filter.commands[0], "cat");
    config_free(&cfg);
}

static void test_unlimited_queue(void **state)
{
    (void)state;
    struct config cfg;
    char err[256];
    assert_int_equal(parse(&cfg, err, 1, (char *[]){ "iotrace", NULL }), OPTIONS_RUN);
    assert_false(cfg.unlimited_queue);
    config_free(&cfg);
    assert_int_equal(parse(&cfg, err, ARGC("-c", "--unlimited-queue"), ARGV("-c", "--unlimited-queue")), OPTIONS_RUN);
    assert_true(cfg.unlimited_queue);
    assert_true(cfg.current_mount);
    config_free(&cfg);
    assert_int_equal(parse(&cfg, err, ARGC("--unlimited-queue=yes"), ARGV("--unlimited-queue=yes")), OPTIONS_ERROR);
    assert_string_equal(err, "option '--unlimited-queue' takes no value (or is unknown)");
    config_free(&cfg);
}

static void test_inode(void **state)
{
    (void)state;
    struct config cfg;
    char err[256];
    assert_int_equal(parse(&cfg, err, ARGC("-j"), ARGV("-j")), OPTIONS_RUN);
    assert_false(cfg.inode);
    config_free(&cfg);
    assert_int_equal(parse(&cfg, err, ARGC("-j", "--inode"), ARGV("-j", "--inode")), OPTIONS_RUN);
    assert_true(cfg.inode);
    config_free(&cfg);
}

static void test_long_options(void **state)
{
    (void)state;
    struct config cfg;
    char err[256];
    assert_int_equal(parse(&cfg, err, ARGC("--current-mount", "--output=x", "--seconds", "3", "--timestamp",
                                           "--user", "--ignore-pid=9", "--filter=+D<", "--command=sh", "--json"),
                           ARGV("--current-mount", "--output=x", "--seconds", "3", "--timestamp", "--user",
                                "--ignore-pid=9", "--filter=+D<", "--command=sh", "--json")),
                     OPTIONS_RUN);
    assert_true(cfg.current_mount);
    assert_string_equal(cfg.output_path, "x");
    assert_int_equal(cfg.seconds, 3);
    assert_int_equal(cfg.timestamp, 1);
    assert_int_equal(cfg.filter.types, EV_CREATE | EV_DELETE | EV_MOVED_FROM | EV_MOVED_TO);
    config_free(&cfg);
}

static void test_exe_and_parents(void **state)
{
    (void)state;
    struct config cfg;
    char err[256];
    assert_int_equal(parse(&cfg, err, ARGC("-e", "-P"), ARGV("-e", "-P")), OPTIONS_RUN);
    assert_true(cfg.exe);
    assert_true(cfg.parents);
    config_free(&cfg);
    assert_int_equal(parse(&cfg, err, ARGC("--parents"), ARGV("--parents")), OPTIONS_RUN);
    assert_false(cfg.exe);
    assert_true(cfg.parents);
    config_free(&cfg);
    assert_int_equal(parse(&cfg, err, ARGC("--exe"), ARGV("--exe")), OPTIONS_RUN);
    assert_true(cfg.exe);
    assert_false(cfg.parents);
    config_free(&cfg);
}

static void test_help_and_version(void **state)
{
    (void)state;
    struct config cfg;
    char err[256];
    assert_int_equal(parse(&cfg, err, ARGC("--help"), ARGV("--help")), OPTIONS_HELP);
    assert_int_equal(parse(&cfg, err, ARGC("-V"), ARGV("-V")), OPTIONS_VERSION);
    assert_non_null(strstr(options_usage, "--current-mount"));
    config_free(&cfg);
}

static void expect_error(const char *needle, int argc, char **argv)
{
    struct config cfg;
    char err[256];
    assert_int_equal(parse(&cfg, err, argc, argv), OPTIONS_ERROR);
    if (!strstr(err, needle))
        fail_msg("error '%s' does not mention '%s'", err, needle);
    config_free(&cfg);
}

static void test_bad_values(void **state)
{
    (void)state;
    expect_error("seconds", ARGC("-s", "0"), ARGV("-s", "0"));
    expect_error("seconds", ARGC("-s", "5x"), ARGV("-s", "5x"));
    expect_error("seconds", ARGC("-s", "-1"), ARGV("-s", "-1"));
    expect_error("seconds", ARGC("-s", "99999999999999999999"), ARGV("-s", "99999999999999999999"));
    expect_error("process id", ARGC("-p", "abc"), ARGV("-p", "abc"));
    expect_error("process id", ARGC("-p", "0"), ARGV("-p", "0"));
    expect_error("'x'", ARGC("-f", "Rx"), ARGV("-f", "Rx"));
    expect_error("at least one", ARGC("-f", ""), ARGV("-f", ""));
    expect_error("at most twice", ARGC("-ttt"), ARGV("-ttt"));
    expect_error("'-z'", ARGC("-z"), ARGV("-z"));
    expect_error("'--bogus'", ARGC("--bogus"), ARGV("--bogus"));
    expect_error("'--json' takes no value", ARGC("--json=1"), ARGV("--json=1"));
    expect_error("unknown option '-z'", ARGC("-cz"), ARGV("-cz"));
    expect_error("needs a value", ARGC("-o"), ARGV("-o"));
    expect_error("empty PATH", ARGC(""), ARGV(""));
    expect_error("unknown user 'no-such-user-here'", ARGC("-U", "no-such-user-here"),
                 ARGV("-U", "no-such-user-here"));
    expect_error("process id", ARGC("--pid", "x"), ARGV("--pid", "x"));
    expect_error("--children needs --pid", ARGC("--children"), ARGV("--children"));
    expect_error("cannot be combined", ARGC("-c", "/tmp"), ARGV("-c", "/tmp"));
    expect_error("cannot be combined", ARGC("-c", "-d", "/tmp"), ARGV("-c", "-d", "/tmp"));
    expect_error("process name", ARGC("--exclude-command="), ARGV("--exclude-command="));
    expect_error("--interval needs --summary", ARGC("--interval", "5"), ARGV("--interval", "5"));
    expect_error("--top needs --summary", ARGC("--top", "3"), ARGV("--top", "3"));
    expect_error("--quiet needs --summary", ARGC("-q"), ARGV("-q"));
    expect_error("--append needs --output", ARGC("--append"), ARGV("--append"));
    expect_error("--inode is for JSON output (-j)", ARGC("--inode"), ARGV("--inode"));
    expect_error("invalid --interval '0'", ARGC("--summary", "--interval", "0"), ARGV("--summary", "--interval", "0"));
    expect_error("invalid --top 'x'", ARGC("--summary", "--top", "x"), ARGV("--summary", "--top", "x"));
    expect_error("unknown directive '%x'", ARGC("--format", "%x"), ARGV("--format", "%x"));
    expect_error("cannot be combined with --json", ARGC("-j", "--format", "%f"), ARGV("-j", "--format", "%f"));
    expect_error("cannot be combined with --timestamp", ARGC("--format", "%f", "-t"), ARGV("--format", "%f", "-t"));
    expect_error("cannot be combined with --user", ARGC("--format", "%f", "-u"), ARGV("--format", "%f", "-u"));
    expect_error("process name", ARGC("-C", ""), ARGV("-C", ""));
}

static void test_filter_options(void **state)
{
    (void)state;
    struct config cfg;
    char err[256];
    assert_int_equal(parse(&cfg, err,
                           ARGC("-U", "root", "--only-user=4321", "--pid", "7", "--children", "--exclude-command",
                                "cron", "-d", "/tmp", "--exclude-path", "/no-such-dir/skip/", "/", "/tmp/"),
                           ARGV("-U", "root", "--only-user=4321", "--pid", "7", "--children", "--exclude-command",
                                "cron", "-d", "/tmp", "--exclude-path", "/no-such-dir/skip/", "/", "/tmp/")),
                     OPTIONS_RUN);
    assert_int_equal(cfg.filter.n_users, 2);
    assert_int_equal(cfg.filter.users[0], 0);
    assert_int_equal(cfg.filter.users[1], 4321);
    assert_int_equal(cfg.filter.n_pids, 1);
    assert_int_equal(cfg.filter.pids[0], 7);
    assert_true(cfg.filter.children);
    assert_string_equal(cfg.filter.exclude_commands[0], "cron");
    assert_int_equal(cfg.n_path_args, 2);
    assert_int_equal(cfg.n_dir_args, 1);

    assert_int_equal(options_resolve_paths(&cfg, err, sizeof err), 0);
    assert_int_equal(cfg.filter.n_subtrees, 2);
    assert_string_equal(cfg.filter.subtrees[0], "/");
    assert_string_equal(cfg.filter.subtrees[1], "/tmp");
    assert_string_equal(cfg.filter.dirs[0], "/tmp");
    /* does not exist yet: taken as given, without its trailing slash */
    assert_string_equal(cfg.filter.exclude_paths[0], "/no-such-dir/skip");
    config_free(&cfg);
}

static void expect_resolve_error(const char *needle, int argc, char **argv)
{
    struct config cfg;
    char err[256];
    assert_int_equal(parse(&cfg, err, argc, argv), OPTIONS_RUN);
    assert_int_equal(options_resolve_paths(&cfg, err, sizeof err), -1);
    if (!strstr(err, needle))
        fail_msg("error '%s' does not mention '%s'", err, needle);
    config_free(&cfg);
}

static void test_bad_paths(void **state)
{
    (void)state;
    expect_resolve_error("cannot watch /no/such/dir: No such file or directory", ARGC("/no/such/dir"),
                         ARGV("/no/such/dir"));
    expect_resolve_error("--dir /no/such/dir: No such file or directory", ARGC("-d", "/no/such/dir"),
                         ARGV("-d", "/no/such/dir"));
    expect_resolve_error("--dir /dev/null: Not a directory", ARGC("-d", "/dev/null"), ARGV("-d", "/dev/null"));
    expect_resolve_error("--exclude-path no-such-relative: No such file or directory",
                         ARGC("--exclude-path", "no-such-relative"), ARGV("--exclude-path", "no-such-relative"));
    expect_resolve_error("--exclude-path /no/such/../dir: No such file or directory (a path that does not exist",
                         ARGC("--exclude-path", "/no/such/../dir"), ARGV("--exclude-path", "/no/such/../dir"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_all_short_options),
        cmocka_unit_test(test_long_options),
        cmocka_unit_test(test_unlimited_queue),
        cmocka_unit_test(test_inode),
        cmocka_unit_test(test_exe_and_parents),
        cmocka_unit_test(test_help_and_version),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_filter_options),
        cmocka_unit_test(test_bad_paths),
    };
    return cmocka_run_group_tests_name("options", tests, NULL, NULL);
}
