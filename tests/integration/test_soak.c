/* A bounded soak: for SOAK_SECONDS, workers fork short-lived processes that each create
 * and write a file, rename it, read it and delete it. iotrace's open fds and memory must
 * stay flat, and every storm file must appear in its output (under either name, or as
 * deleted: the path is read when iotrace handles the event). */
#include "harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WORKERS 2
#define MAX_FILES 2000000

static void storm_file(int worker, long i)
{
    char tmp[64], done[64], buf[16];
    snprintf(tmp, sizeof tmp, "s%d-%ld.tmp", worker, i);
    snprintf(done, sizeof done, "s%d-%ld.done", worker, i);
    int fd = open(tmp, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    if (fd < 0 || write(fd, "storm\n", 6) != 6 || close(fd) != 0 || rename(tmp, done) != 0)
        _exit(1);
    fd = open(done, O_RDONLY);
    if (fd < 0 || read(fd, buf, sizeof buf) != 6 || close(fd) != 0 || unlink(done) != 0)
        _exit(1);
    _exit(0);
}

/* Forks one process per file until the deadline; writes how many it made to `count`. */
static void worker(struct scene *s, int w, time_t deadline, int count_fd)
{
    if (chdir(s->mnt) != 0)
        _exit(1);
    long i = 0;
    while (time(NULL) < deadline && i < MAX_FILES / WORKERS) {
        pid_t pid = fork();
        if (pid == 0)
            storm_file(w, i);
        int status;
        if (pid < 0 || waitpid(pid, &status, 0) != pid || status != 0)
            _exit(1);
        i++;
    }
    long report[2] = { w, i }; /* workers finish in any order */
    if (write(count_fd, report, sizeof report) != sizeof report)
        _exit(1);
    _exit(0);
}

static void mark_seen(const char *output, long counts[WORKERS], unsigned char *seen[WORKERS])
{
    for (const char *p = output; (p = strstr(p, "/s"));) {
        int w;
        long i;
        p += 2;
        if (sscanf(p, "%d-%ld.", &w, &i) == 2 && w >= 0 && w < WORKERS && i >= 0 && i < counts[w])
            seen[w][i] = 1;
    }
}

static void test_soak(void **state)
{
    struct scene *s = *state;
    const char *env = getenv("SOAK_SECONDS");
    int seconds = env ? atoi(env) : 15;
    if (seconds < 4)
        seconds = 4;

    start_tracer(s, A("-c"));
    pid_t pid = tracer_pid(s);
    int fds_at_start = count_fds(pid);

    int counts_pipe[2];
    assert_int_equal(pipe(counts_pipe), 0);
    time_t deadline = time(NULL) + seconds;
    pid_t workers[WORKERS];
    for (int w = 0; w < WORKERS; w++) {
        workers[w] = fork();
        if (workers[w] == 0)
            worker(s, w, deadline, counts_pipe[1]);
    }
    close(counts_pipe[1]);
    /* memory once warmed up (a quarter in), and at the end */
    sleep((unsigned)(seconds / 4));
    long rss_warm = proc_status_number(pid, "VmRSS:");
    long counts[WORKERS] = { 0 };
    for (int w = 0; w < WORKERS; w++) {
        int status;
        waitpid(workers[w], &status, 0);
        assert_int_equal(status, 0);
    }
    long total = 0;
    for (int k = 0; k < WORKERS; k++) {
        long report[2];
        assert_int_equal(read(counts_pipe[0], report, sizeof report), sizeof report);
        assert_true(report[0] >= 0 && report[0] < WORKERS);
        counts[report[0]] = report[1];
        total += report[1];
    }
    close(counts_pipe[0]);
    /* quiet: once the marker is out, every earlier event has been handled and its fd
     * closed (a batch is written only after it is handled whole) */
    run_cmd(s, A("touch", "soak-end"));
    assert_true(wait_for_text(s, NULL, "/soak-end", 120));
    long rss_end = proc_status_number(pid, "VmRSS:");
    int fds_at_end = count_fds(pid);
    stop_tracer(s);
    assert_int_equal(s->exit_status, 0);

    /* the two workers' counts are not known in advance: which storm files did it see? */
    unsigned char *seen[WORKERS];
    for (int w = 0; w < WORKERS; w++)
        seen[w] = calloc((size_t)counts[w] + 1, 1);
    mark_seen(s->out, counts, seen);
    long missing = 0, first_missing = -1;
    for (int w = 0; w < WORKERS; w++)
        for (long i = 0; i < counts[w]; i++)
            if (!seen[w][i] && missing++ < 5) {
                first_missing = i;
                print_message("missing: s%d-%ld\n", w, i);
            }
    for (int w = 0; w < WORKERS; w++)
        free(seen[w]);
    int lines = count_lines(s->out);
    print_message("soak: %d s, %ld short-lived processes, %d lines; RSS %ld KiB warm, %ld KiB at the end; "
                  "fds %d at start, %d at the end\n",
                  seconds, total, lines, rss_warm, rss_end, fds_at_start, fds_at_end);
    if (missing) {
        /* show a few lines that name no storm file */
        int shown = 0;
        for (const char *line = s->out; *line && shown < 10;) {
            const char *nl = strchr(line, '\n');
            if (!nl)
                break;
            if (!memmem(line, (size_t)(nl - line), "/s0-", 4) && !memmem(line, (size_t)(nl - line), "/s1-", 4)) {
                print_message("%.*s\n", (int)(nl - line), line);
                shown++;
            }
            line = nl + 1;
        }
    }
    if (missing && getenv("SOAK_KEEP")) {
        FILE *f = fopen(getenv("SOAK_KEEP"), "w");
        fputs(s->out, f);
        fclose(f);
    }
    if (missing)
        fail_msg("%ld of %ld storm files are missing (the first: #%ld); stderr: %s", missing, total, first_missing,
                 s->err);
    assert_true(total > 100);
    assert_int_equal(fds_at_end, fds_at_start);
    /* flat: pages of the read buffer and the process table may still be touched for the
     * first time after warm-up, but nothing that grows with the event count */
    if (rss_end - rss_warm > 2048)
        fail_msg("iotrace's memory grew from %ld KiB to %ld KiB over %ld processes", rss_warm, rss_end, total);
    assert_non_null(strstr(s->err, "none lost"));
}

int main(void)
{
    if (geteuid() != 0) {
        printf("integration tests skipped: they need root (they mount a private tmpfs)\n");
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_soak, scene_setup, scene_teardown),
    };
    return cmocka_run_group_tests_name("soak", tests, NULL, NULL);
}
