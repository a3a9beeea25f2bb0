#include "iotrace/output.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* Every file is written with O_APPEND: after logrotate's copytruncate the next line
 * goes to the start of the emptied file, not to a hole at the old offset. */
static int open_file(struct output *o, const char *path, int extra_flags)
{
    o->buf = (struct strbuf){ 0 };
    o->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | extra_flags, 0644);
    if (o->fd < 0)
        return -errno;
    o->owns_fd = true;
    return 0;
}

int output_open_append(struct output *o, const char *path)
{
    return open_file(o, path, 0);
}

int output_reopen(struct output *o, const char *path)
{
    int err = output_flush(o);
    if (err)
        return err;
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    if (o->owns_fd)
        close(o->fd);
    o->fd = fd;
    o->owns_fd = true;
    return 0;
}

int output_open(struct output *o, const char *path)
{
    o->buf = (struct strbuf){ 0 };
    if (!path) {
        o->fd = STDOUT_FILENO;
        o->owns_fd = false;
        return 0;
    }
    return open_file(o, path, O_EXCL);
}

int output_flush(struct output *o)
{
    size_t done = 0;
    while (done < o->buf.len) {
        ssize_t n = write(o->fd, o->buf.data + done, o->buf.len - done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int err = errno;
            /* keep what was not written, so a caller that retries loses nothing */
            o->buf.len -= done;
            memmove(o->buf.data, o->buf.data + done, o->buf.len);
            return -err;
        }
        done += (size_t)n;
    }
    o->buf.len = 0;
    return 0;
}

void output_close(struct output *o)
{
    if (o->owns_fd && o->fd >= 0)
        close(o->fd);
    o->fd = -1;
    strbuf_free(&o->buf);
}
