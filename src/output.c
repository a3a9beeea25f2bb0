#include "iotrace/output.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

int output_open(struct output *o, const char *path)
{
    o->buf = (struct strbuf){ 0 };
    if (!path) {
        o->fd = STDOUT_FILENO;
        o->owns_fd = false;
        return 0;
    }
    o->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (o->fd < 0)
        return -errno;
    o->owns_fd = true;
    return 0;
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
