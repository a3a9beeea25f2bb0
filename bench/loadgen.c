/* loadgen: the benchmark's workload, and its stopwatch.
 *
 *   loadgen setup -n N -k K DIR     creates DIR/w0..w{N-1}, each with files f0..f{K-1}
 *   loadgen run -n N -k K [-w] [-t PID [-S]] [-p PIDFILE] DIR
 *
 * `run` forks N workers from one parent. They wait at a barrier (a pipe), then worker I
 * opens, reads and closes DIR/wI/f0..f{K-1} (with -w it also writes one byte to each),
 * so every (pid, file) pair is unique and a lost event shows as a missing pair. PIDFILE
 * gets one "PID I" line per worker, for `pairs`.
 *
 * With -t PID, the parent also measures that tracer while the load runs: its CPU time
 * from /proc/PID/schedstat (nanoseconds on the CPU; /proc/PID/stat's utime+stime count
 * 10 ms ticks) sampled every 100 ms, for the peak (over half-second windows) and
 * average CPU%; then, after the last worker exits, it waits until the tracer has drained
 * its queue (its CPU time stops growing) and reports the tracer's CPU for the whole load. Without -t only the wall time
 * is measured. With -S the tracer is stopped (SIGSTOP) while the load runs and continued
 * after it: its CPU is then only what draining the whole queued load costs, one event
 * after another in full reads, without the wake-ups (the tracer needs an unlimited
 * queue for this). One line of key=value pairs goes to stdout. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SAMPLE_NS 100000000LL   /* 100 ms, as htop's fastest refresh */
#define QUIET_SAMPLES 3         /* drained: no CPU growth over 3 samples in a row */
#define QUIET_CPU_NS 1000000LL  /* "no growth": under 1 ms of CPU in 100 ms */
#define DRAIN_LIMIT_S 300

struct params {
    int n, k;
    bool write;
    pid_t tracer;
    bool stopped; /* -S */
    const char *pidfile;
    const char *dir;
};

static void usage(void)
{
    fputs("usage: loadgen setup -n N -k K DIR\n"
          "       loadgen run -n N -k K [-w] [-t TRACER_PID [-S]] [-p PIDFILE] DIR\n", stderr);
    exit(2);
}

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The tracer's time on the CPU (user + system), in ns; -1 once it is gone. */
static long long tracer_cpu_ns(pid_t pid)
{
    char path[64], buf[128];
    snprintf(path, sizeof path, "/proc/%d/schedstat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    return strtoll(buf, NULL, 10);
}

static int setup(const struct params *p)
{
    char path[4096];
    static const char content[] = "0123456789abcdef0123456789abcdef\n";
    for (int i = 0; i < p->n; i++) {
        snprintf(path, sizeof path, "%s/w%d", p->dir, i);
        if (mkdir(path, 0755) != 0 && errno != EEXIST) {
            fprintf(stderr, "loadgen: cannot create %s: %s\n", path, strerror(errno));
            return 1;
        }
        int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0) {
            fprintf(stderr, "loadgen: cannot open %s: %s\n", path, strerror(errno));
            return 1;
        }
        for (int j = 0; j < p->k; j++) {
            char name[32];
            snprintf(name, sizeof name, "f%d", j);
            int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            if (fd < 0 || write(fd, content, sizeof content - 1) != (ssize_t)(sizeof content - 1)) {
                fprintf(stderr, "loadgen: cannot write %s/%s: %s\n", path, name, strerror(errno));
                return 1;
            }
            close(fd);
        }
        close(dfd);
    }
    return 0;
}

/* One worker: K files of its own, by full path as a program would name them. */
static int work(const struct params *p, int index)
{
    char path[4096], buf[256];
    int flags = (p->write ? O_RDWR : O_RDONLY) | O_CLOEXEC;
    for (int j = 0; j < p->k; j++) {
        snprintf(path, sizeof path, "%s/w%d/f%d", p->dir, index, j);
        int fd = open(path, flags);
        if (fd < 0)
            return 1;
        if (read(fd, buf, sizeof buf) <= 0 || (p->write && pwrite(fd, "y", 1, 0) != 1)) {
            close(fd);
            return 1;
        }
        close(fd);
    }
    return 0;
}

/* The peak is taken over PEAK_WINDOW samples (half a second): a running task's
 * schedstat is brought up to date only at scheduler events, so one 100 ms sample can
 * read a burst of several hundred percent that never happened. */
#define PEAK_WINDOW 5

struct sampler {
    pid_t pid;
    long long last_ns, last_cpu;
    long long window_ns[PEAK_WINDOW], window_cpu[PEAK_WINDOW];
    unsigned taken;
    double peak_pct;
};

static void sample(struct sampler *s)
{
    long long t = now_ns(), cpu = tracer_cpu_ns(s->pid);
    if (cpu < 0)
        return;
    if (t - s->last_ns < SAMPLE_NS / 2) /* a short interval (the load's end) would be noise */
        return;
    if (s->taken == 0) { /* the start */
        for (int i = 0; i < PEAK_WINDOW; i++) {
            s->window_ns[i] = s->last_ns;
            s->window_cpu[i] = s->last_cpu;
        }
    }
    unsigned oldest = s->taken % PEAK_WINDOW; /* PEAK_WINDOW samples ago, or the start */
    double pct = 100.0 * (double)(cpu - s->window_cpu[oldest]) / (double)(t - s->window_ns[oldest]);
    if (pct > s->peak_pct)
        s->peak_pct = pct;
    s->window_ns[oldest] = t;
    s->window_cpu[oldest] = cpu;
    s->taken++;
    s->last_ns = t;
    s->last_cpu = cpu;
}

static int run(const struct params *p)
{
    int barrier[2];
    pid_t *pids = calloc((size_t)p->n, sizeof *pids);
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    if (!pids || pipe2(barrier, O_CLOEXEC) != 0 || sigprocmask(SIG_BLOCK, &chld, NULL) != 0) {
        perror("loadgen");
        return 1;
    }
    for (int i = 0; i < p->n; i++) {
        pids[i] = fork();
        if (pids[i] < 0) {
            perror("loadgen: fork");
            return 1; /* the workers started so far die with us (PDEATHSIG) */
        }
        if (pids[i] == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            close(barrier[1]);
            char c;
            while (read(barrier[0], &c, 1) < 0 && errno == EINTR)
                ;
            _exit(work(p, i));
        }
    }
    close(barrier[0]);
    if (p->pidfile) {
        FILE *f = fopen(p->pidfile, "we");
        if (!f) {
            fprintf(stderr, "loadgen: cannot create %s: %s\n", p->pidfile, strerror(errno));
            return 1;
        }
        for (int i = 0; i < p->n; i++)
            fprintf(f, "%d %d\n", (int)pids[i], i);
        fclose(f);
    }

    struct sampler s = { .pid = p->tracer };
    long long start = now_ns();
    long long cpu_start = p->tracer ? tracer_cpu_ns(p->tracer) : 0;
    s.last_ns = start;
    s.last_cpu = cpu_start;
    if (p->stopped && kill(p->tracer, SIGSTOP) != 0) {
        perror("loadgen: cannot stop the tracer");
        return 1;
    }
    close(barrier[1]); /* go */

    int left = p->n, failed = 0;
    long long next_tick = start + SAMPLE_NS;
    while (left > 0) {
        long long wait = next_tick - now_ns();
        if (wait > 0) {
            struct timespec ts = { wait / 1000000000LL, wait % 1000000000LL };
            sigtimedwait(&chld, NULL, &ts);
        }
        int status;
        pid_t w;
        while (left > 0 && (w = waitpid(-1, &status, WNOHANG)) > 0) {
            left--;
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                failed++;
        }
        if (now_ns() >= next_tick) {
            if (p->tracer && !p->stopped)
                sample(&s);
            next_tick += SAMPLE_NS;
        }
    }
    long long end = now_ns();
    double wall = (double)(end - start) / 1e9;
    if (failed) {
        fprintf(stderr, "loadgen: %d of %d workers failed (files missing? run setup first)\n", failed, p->n);
        return 1;
    }
    if (!p->tracer) {
        printf("wall_s=%.3f\n", wall);
        return 0;
    }

    long long cpu_load_end = tracer_cpu_ns(p->tracer);
    if (p->stopped) {
        cpu_start = cpu_load_end; /* only the drain counts */
        kill(p->tracer, SIGCONT);
    } else if (end - s.last_ns >= SAMPLE_NS / 2) {
        sample(&s);
    }
    /* Drained when its CPU time stops growing: a tracer at rest sleeps in poll. */
    long long cpu = cpu_load_end, drain_start = now_ns();
    for (int quiet = 0; quiet < QUIET_SAMPLES;) {
        struct timespec ts = { 0, SAMPLE_NS };
        nanosleep(&ts, NULL);
        long long c = tracer_cpu_ns(p->tracer);
        if (c < 0)
            break; /* it died (fatrace 0.17 does on an overflow) */
        quiet = c - cpu < QUIET_CPU_NS ? quiet + 1 : 0;
        cpu = c;
        if (now_ns() - drain_start > DRAIN_LIMIT_S * 1000000000LL) {
            fputs("loadgen: the tracer never went quiet\n", stderr);
            break;
        }
    }
    if (cpu_start < 0 || cpu_load_end < 0) {
        printf("wall_s=%.3f tracer_died=1\n", wall);
        return 0;
    }
    printf("wall_s=%.3f cpu_s=%.4f load_cpu_s=%.4f peak_pct=%.1f avg_pct=%.1f\n", wall,
           (double)(cpu - cpu_start) / 1e9, (double)(cpu_load_end - cpu_start) / 1e9, s.peak_pct,
           100.0 * (double)(cpu_load_end - cpu_start) / (double)(end - start));
    return 0;
}

int main(int argc, char **argv)
{
    struct params p = { 0 };
    if (argc < 2)
        usage();
    const char *mode = argv[1];
    int c;
    optind = 2;
    while ((c = getopt(argc, argv, "n:k:wt:Sp:")) != -1) {
        switch (c) {
        case 'n':
            p.n = atoi(optarg);
            break;
        case 'k':
            p.k = atoi(optarg);
            break;
        case 'w':
            p.write = true;
            break;
        case 't':
            p.tracer = (pid_t)atoi(optarg);
            break;
        case 'S':
            p.stopped = true;
            break;
        case 'p':
            p.pidfile = optarg;
            break;
        default:
            usage();
        }
    }
    if (optind != argc - 1 || p.n <= 0 || p.k <= 0 || (p.stopped && !p.tracer))
        usage();
    p.dir = argv[optind];
    if (strcmp(mode, "setup") == 0)
        return setup(&p);
    if (strcmp(mode, "run") == 0)
        return run(&p);
    usage();
}
