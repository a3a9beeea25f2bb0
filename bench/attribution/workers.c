/* The "forked workers" load of the attribution benchmark: one parent forks N workers at
 * once; worker i names itself aw<i> (prctl) and, when i is odd, becomes nobody
 * (setresuid), then creates and writes FILES files named w<i>.<j> and exits. So the right
 * answer for an event on w07.00042 is "aw07" as nobody, and a stale name from a reused
 * pid shows up as a wrong worker number or user.
 *
 * usage: attribution-workers DIR N FILES */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOBODY 65534

static int work(const char *dir, int id, int files)
{
    char name[16];
    snprintf(name, sizeof name, "aw%02d", id);
    if (prctl(PR_SET_NAME, name, 0, 0, 0) != 0)
        return 1;
    if (id % 2 && (setresgid(NOBODY, NOBODY, NOBODY) != 0 || setresuid(NOBODY, NOBODY, NOBODY) != 0))
        return 1;
    char path[4096];
    for (int j = 0; j < files; j++) {
        snprintf(path, sizeof path, "%s/w%02d.%05d", dir, id, j);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || write(fd, "x\n", 2) != 2 || close(fd) != 0) {
            fprintf(stderr, "%s: %s\n", path, strerror(errno));
            return 1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fputs("usage: attribution-workers DIR N FILES\n", stderr);
        return 2;
    }
    int n = atoi(argv[2]), files = atoi(argv[3]);
    if (n < 1 || n > 99 || files < 1) {
        fputs("attribution-workers: N is 1..99, FILES at least 1\n", stderr);
        return 2;
    }
    prctl(PR_SET_NAME, "attrload", 0, 0, 0);
    for (int i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            return 1;
        }
        if (pid == 0)
            _exit(work(argv[1], i, files));
    }
    int status, failed = 0;
    while (wait(&status) > 0)
        failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    return failed;
}
