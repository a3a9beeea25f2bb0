/* latency: how long an event takes to reach the tracer's output on a quiet machine.
 *
 *   latency [-n PROBES] DIR TRACER [ARGS...]
 *
 * Starts TRACER (e.g. `iotrace -c`) in DIR, in a session of its own, with its standard
 * output on a pipe; once a first probe file shows up in that output (the tracer is
 * watching), it makes PROBES more, 20 ms apart: each is a file created and closed in
 * DIR, timed from just before the open() until the output line naming it has been read
 * from the pipe. Prints one line of key=value pairs: the median, 90th percentile and
 * largest delay in microseconds, and how many probes never showed (after 1 s each). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROBE_GAP_NS 20000000LL /* 20 ms between probes: a quiet machine */
#define PROBE_TIMEOUT_MS 1000

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Output lines read so far, searched for each probe's name. */
static char text[1 << 20];
static size_t text_len;

/* Whether the text holds name not followed by a digit (probe 1 is not probe 10). */
static int has_name(const char *name)
{
    size_t len = strlen(name);
    for (const char *p = text; (p = strstr(p, name)); p++)
        if (p[len] < '0' || p[len] > '9')
            return 1;
    return 0;
}

/* Reads the tracer's output until `name` appears in it; false after timeout_ms. */
static int wait_for(int fd, const char *name, int timeout_ms)
{
    long long deadline = now_ns() + timeout_ms * 1000000LL;
    for (;;) {
        text[text_len] = '\0';
        if (has_name(name)) {
            text_len = 0; /* a probe's later lines (its close) cannot match the next name */
            return 1;
        }
        int left = (int)((deadline - now_ns()) / 1000000);
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (left <= 0 || poll(&p, 1, left) <= 0)
            return 0;
        if (text_len > sizeof text / 2)
            text_len = 0; /* only lines of other files: drop them */
        ssize_t n = read(fd, text + text_len, sizeof text - 1 - text_len);
        if (n <= 0)
            return 0;
        text_len += (size_t)n;
    }
}

static int probe(const char *dir, int i)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/latency-probe-%d", dir, i);
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    if (fd < 0) {
        fprintf(stderr, "latency: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    close(fd);
    unlink(path);
    return 0;
}

static int compare(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int probes = 200, c;
    while ((c = getopt(argc, argv, "+n:")) != -1) {
        if (c != 'n' || (probes = atoi(optarg)) <= 0)
            goto usage;
    }
    if (argc - optind < 2)
        goto usage;
    const char *dir = argv[optind];
    char program[4096]; /* a relative program path, made absolute: the tracer starts in DIR */
    if (strchr(argv[optind + 1], '/') && realpath(argv[optind + 1], program))
        argv[optind + 1] = program;
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) != 0)
        return 1;
    pid_t tracer = fork();
    if (tracer == 0) {
        if (dup2(pipefd[1], 1) < 0 || chdir(dir) != 0 || setsid() < 0)
            _exit(127);
        execvp(argv[optind + 1], argv + optind + 1);
        _exit(127);
    }
    close(pipefd[1]);

    /* ready: a probe shows up (the tracer has marked the mount) */
    int ready = 0;
    for (int i = 0; i < 100 && !ready; i++) {
        char name[64];
        snprintf(name, sizeof name, "latency-probe-%d", -1 - i);
        probe(dir, -1 - i);
        ready = wait_for(pipefd[0], name, 100);
    }
    long long *delay = calloc((size_t)probes, sizeof *delay);
    int shown = 0, missing = 0;
    for (int i = 0; ready && delay && i < probes; i++) {
        char name[64];
        struct timespec ts = { 0, PROBE_GAP_NS };
        nanosleep(&ts, NULL); /* quiet: let the tracer go back to sleep */
        snprintf(name, sizeof name, "latency-probe-%d", i);
        long long start = now_ns();
        probe(dir, i);
        if (wait_for(pipefd[0], name, PROBE_TIMEOUT_MS))
            delay[shown++] = now_ns() - start;
        else
            missing++;
    }
    kill(tracer, SIGINT);
    close(pipefd[0]);
    waitpid(tracer, NULL, 0);
    if (!ready) {
        fputs("latency: the tracer never showed a probe\n", stderr);
        return 1;
    }
    qsort(delay, (size_t)shown, sizeof *delay, compare);
    printf("probes=%d missing=%d", shown, missing);
    if (shown)
        printf(" median_us=%.0f p90_us=%.0f max_us=%.0f", delay[shown / 2] / 1e3, delay[shown * 9 / 10] / 1e3,
               delay[shown - 1] / 1e3);
    putchar('\n');
    free(delay);
    return 0;
usage:
    fputs("usage: latency [-n PROBES] DIR TRACER [ARGS...]\n", stderr);
    return 2;
}
