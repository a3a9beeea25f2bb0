/* pairs: which of the workload's (process, file) pairs a tracer reported.
 *
 *   pairs PIDFILE DIR N K < tracer-output
 *
 * PIDFILE is loadgen's "PID I" list; worker I touched DIR/wI/f0..f{K-1}. Reads the
 * tracer's output (text lines "COMM(PID)...: TYPES PATH", as iotrace and fatrace print
 * them, or iotrace's JSON lines) and prints
 *   seen=S expected=N*K unnamed=U lines=L
 * where S counts the distinct expected pairs found on some line, U the lines about the
 * workload whose process was not named ("unknown"), L all lines read. */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long parse_number(const char **p)
{
    const char *s = *p;
    if (*s < '0' || *s > '9')
        return -1;
    long v = 0;
    while (*s >= '0' && *s <= '9' && v < 100000000)
        v = v * 10 + (*s++ - '0');
    *p = s;
    return v;
}

/* pid and process-unknown flag of a text or JSON line; -1 when none */
static long line_pid(const char *line, bool *unknown)
{
    if (line[0] == '{') {
        const char *p = strstr(line, "\"pid\":");
        *unknown = strstr(line, "\"comm\":\"unknown\"") != NULL;
        if (!p)
            return -1;
        p += 6;
        return parse_number(&p);
    }
    const char *space = strchr(line, ' ');
    if (!space)
        return -1;
    const char *open = memrchr(line, '(', (size_t)(space - line));
    if (!open)
        return -1;
    *unknown = (size_t)(open - line) == 7 && memcmp(line, "unknown", 7) == 0;
    const char *p = open + 1;
    return parse_number(&p);
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fputs("usage: pairs PIDFILE DIR N K < tracer-output\n", stderr);
        return 2;
    }
    long n = atol(argv[3]), k = atol(argv[4]);
    FILE *pf = fopen(argv[1], "r");
    if (!pf || n <= 0 || k <= 0) {
        perror("pairs");
        return 2;
    }
    /* pid -> worker index + 1; pids are below 2^22 (the kernel's PID_MAX_LIMIT) */
    const long pid_limit = 1L << 22;
    int *worker = calloc((size_t)pid_limit, sizeof *worker);
    unsigned char *seen = calloc((size_t)(n * k), 1);
    if (!worker || !seen)
        return 2;
    int pid, index;
    while (fscanf(pf, "%d %d", &pid, &index) == 2)
        if (pid > 0 && pid < pid_limit && index >= 0 && index < n)
            worker[pid] = index + 1;
    fclose(pf);

    char prefix[4200];
    snprintf(prefix, sizeof prefix, "%s/w", argv[2]);
    size_t prefix_len = strlen(prefix);
    char *line = NULL;
    size_t cap = 0;
    long lines = 0, distinct = 0, unnamed = 0;
    while (getline(&line, &cap, stdin) > 0) {
        lines++;
        const char *path = strstr(line, prefix);
        if (!path)
            continue;
        bool unknown = false;
        long p = line_pid(line, &unknown);
        if (p <= 0 || p >= pid_limit || !worker[p])
            continue;
        if (unknown)
            unnamed++;
        const char *s = path + prefix_len;
        long i = parse_number(&s);
        if (i != worker[p] - 1 || strncmp(s, "/f", 2) != 0)
            continue; /* another worker's file: not a pair the workload made */
        s += 2;
        long j = parse_number(&s);
        if (j < 0 || j >= k || (*s != '\n' && *s != '"' && *s != '\0'))
            continue;
        if (!seen[i * k + j]) {
            seen[i * k + j] = 1;
            distinct++;
        }
    }
    free(line);
    printf("seen=%ld expected=%ld unnamed=%ld lines=%ld\n", distinct, n * k, unnamed, lines);
    return 0;
}
