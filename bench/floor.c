/* floor: the least a fanotify consumer can do, as the benchmark's reference.
 *
 * It asks the kernel for what iotrace asks for, on the mount of the current directory
 * (as `iotrace -c`), with the same group flags and 1 MiB reads (iotrace reads 16 KiB at
 * a time; the floor costs the same either way: 2.1-2.8 us an event against 2.5 when
 * draining a queue of 200000), and then only
 * closes each event's fd and counts. What it costs is what fanotify itself costs: the
 * kernel queues each event and opens the file for the reader. A tracer's CPU per file
 * operation divided by this one's is the price of the tracer's own work.
 *
 * On SIGINT or SIGTERM it prints "events=N overflows=M" on stderr and exits. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/fanotify.h>
#include <unistd.h>

#define READ_BUFFER_SIZE (1024 * 1024)

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

int main(int argc, char **argv)
{
    /* --unlimited-queue, as iotrace's: for measuring the cost of draining a backlog.
     * --gather: wait a millisecond after each wake-up before reading, as iotrace does
     * (loop.c), to show what that wait saves a reader that does nothing else. */
    unsigned unlimited = 0;
    int gather = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--unlimited-queue") == 0)
            unlimited = FAN_UNLIMITED_QUEUE;
        else if (strcmp(argv[i], "--gather") == 0)
            gather = 1;
        else {
            fprintf(stderr, "usage: floor [--unlimited-queue] [--gather]\n");
            return 2;
        }
    }
    int fan = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK | unlimited,
                            O_RDONLY | O_LARGEFILE | O_CLOEXEC | O_NOATIME);
    if (fan < 0) {
        fprintf(stderr, "floor: fanotify_init: %s\n", strerror(errno));
        return 1;
    }
    /* iotrace's mask for all event types (source.c) */
    uint64_t mask = FAN_ACCESS | FAN_MODIFY | FAN_CLOSE_WRITE | FAN_CLOSE | FAN_OPEN | FAN_ONDIR;
    if (fanotify_mark(fan, FAN_MARK_ADD | FAN_MARK_MOUNT, mask, AT_FDCWD, ".") != 0) {
        fprintf(stderr, "floor: fanotify_mark: %s\n", strerror(errno));
        return 1;
    }
    struct sigaction sa = { .sa_handler = on_signal };
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    void *buf = malloc(READ_BUFFER_SIZE);
    unsigned long events = 0, overflows = 0;
    if (!buf)
        return 1;
    while (!stop) {
        struct pollfd pfd = { .fd = fan, .events = POLLIN };
        if (poll(&pfd, 1, -1) <= 0)
            continue;
        if (gather)
            nanosleep(&(struct timespec){ 0, 1000000L }, NULL);
        ssize_t len = read(fan, buf, READ_BUFFER_SIZE);
        if (len <= 0)
            continue;
        struct fanotify_event_metadata *m = buf;
        for (; FAN_EVENT_OK(m, len); m = FAN_EVENT_NEXT(m, len)) {
            if (m->mask & FAN_Q_OVERFLOW)
                overflows++;
            else
                events++;
            if (m->fd >= 0)
                close(m->fd);
        }
    }
    fprintf(stderr, "events=%lu overflows=%lu\n", events, overflows);
    return 0;
}
