/* storm: the soak's workload (bench/soak): many short-lived processes, users and files.
 *
 *   storm -s SECONDS [-u USERS] [-j JOBS] DIR
 *
 * JOBS loops (default 2) each fork one process after another until SECONDS have passed.
 * Process I takes uid and gid 100000 + I % USERS (default 3000: more than iotrace's user
 * cache holds; none has a name, so each is a name look-up that finds nothing), and in
 * DIR (mode 1777) makes a directory of its own, a file in it, writes, renames, reads
 * and deletes the file, and removes the directory: every process, directory and file
 * name is new. Prints "processes=N" when done. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define UID_BASE 100000

static void one_process(const char *dir, int job, long i, int users)
{
    char d[4096], a[4200], b[4200], buf[16];
    uid_t id = (uid_t)(UID_BASE + (i * 7 + job) % users);
    if (setgid(id) != 0 || setuid(id) != 0)
        _exit(1);
    snprintf(d, sizeof d, "%s/j%d-%ld", dir, job, i);
    snprintf(a, sizeof a, "%s/new", d);
    snprintf(b, sizeof b, "%s/done", d);
    if (mkdir(d, 0755) != 0)
        _exit(1);
    int fd = open(a, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    if (fd < 0 || write(fd, "storm\n", 6) != 6 || close(fd) != 0 || rename(a, b) != 0)
        _exit(1);
    fd = open(b, O_RDONLY);
    if (fd < 0 || read(fd, buf, sizeof buf) != 6 || close(fd) != 0 || unlink(b) != 0 || rmdir(d) != 0)
        _exit(1);
    _exit(0);
}

static long job_loop(const char *dir, int job, int users, time_t deadline)
{
    long i = 0;
    while (time(NULL) < deadline) {
        pid_t pid = fork();
        if (pid < 0)
            return -1;
        if (pid == 0)
            one_process(dir, job, i, users);
        int status;
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "storm: process %ld of job %d failed\n", i, job);
            return -1;
        }
        i++;
    }
    return i;
}

int main(int argc, char **argv)
{
    int seconds = 0, users = 3000, jobs = 2, c;
    while ((c = getopt(argc, argv, "s:u:j:")) != -1) {
        switch (c) {
        case 's':
            seconds = atoi(optarg);
            break;
        case 'u':
            users = atoi(optarg);
            break;
        case 'j':
            jobs = atoi(optarg);
            break;
        default:
            goto usage;
        }
    }
    if (optind != argc - 1 || seconds <= 0 || users <= 0 || jobs <= 0)
        goto usage;
    const char *dir = argv[optind];
    time_t deadline = time(NULL) + seconds;
    int report[2];
    if (pipe(report) != 0)
        return 1;
    for (int j = 0; j < jobs; j++) {
        if (fork() == 0) {
            long n = job_loop(dir, j, users, deadline);
            if (write(report[1], &n, sizeof n) != sizeof n)
                _exit(1);
            _exit(n < 0);
        }
    }
    close(report[1]);
    long total = 0, n;
    int failed = 0;
    while (read(report[0], &n, sizeof n) == sizeof n) {
        if (n < 0)
            failed = 1;
        else
            total += n;
    }
    while (wait(NULL) > 0)
        ;
    printf("processes=%ld\n", total);
    return failed;
usage:
    fputs("usage: storm -s SECONDS [-u USERS] [-j JOBS] DIR\n", stderr);
    return 2;
}
