/* The path of an event's file, from the fd the kernel opened for us. */
#ifndef IOTRACE_PATHS_H
#define IOTRACE_PATHS_H

#include "iotrace/event.h"

#include <stddef.h>

/* Sets ev->path (pointing into buf) from /proc/self/fd/N; leaves it NULL when the
 * link cannot be read. Returns 0 or -errno. */
int path_from_fd(struct event *ev, char *buf, size_t size);

/* Sets ev's device and inode from fstat on the fd. Returns 0 or -errno. */
int inode_from_fd(struct event *ev);

#endif
