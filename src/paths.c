#include "iotrace/paths.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

int path_from_fd(struct event *ev, char *buf, size_t size)
{
    char link[32];
    snprintf(link, sizeof link, "/proc/self/fd/%d", ev->fd);
    ssize_t n = readlink(link, buf, size);
    if (n < 0)
        return -errno;
    if ((size_t)n >= size) /* readlink truncates silently; a cut path is a made-up path */
        return -ENAMETOOLONG;
    buf[n] = '\0';
    ev->path = buf;
    ev->path_len = (size_t)n;
    return 0;
}

int inode_from_fd(struct event *ev)
{
    struct stat st;
    if (fstat(ev->fd, &st) != 0)
        return -errno;
    ev->have_inode = true;
    ev->dev_major = major(st.st_dev);
    ev->dev_minor = minor(st.st_dev);
    ev->inode = (uint64_t)st.st_ino;
    return 0;
}
