/* The path of an event's file: from the fd the kernel opened for us (fd mode), or from
 * a directory file handle and a name (FID mode: create, delete, rename, attributes). */
#ifndef IOTRACE_PATHS_H
#define IOTRACE_PATHS_H

#include "iotrace/decode.h"
#include "iotrace/event.h"

#include <stdbool.h>
#include <stddef.h>

/* An fd of /proc/self/fd, for path_from_fd; -1 when /proc is not there. */
int paths_open_fd_dir(void);

/* Sets ev->path (pointing into buf) from the link /proc/self/fd/N, read through fd_dir
 * (from paths_open_fd_dir; -1 reads it by its full name); leaves it NULL when the link
 * cannot be read. Returns 0 or -errno. */
int path_from_fd(int fd_dir, struct event *ev, char *buf, size_t size);

/* Sets ev's device and inode from fstat on the fd. Returns 0 or -errno. */
int inode_from_fd(struct event *ev);

/* Resolves FID-mode file handles to paths: open_by_handle_at() against an fd on the
 * same filesystem, then readlink. Remembers the paths of directories it resolved, so a
 * file deleted in a directory that is itself gone by the time the event is read (rm -r)
 * still gets its full path. */
struct handle_resolver;

struct handle_resolver *handle_resolver_new(size_t cache_capacity);
void handle_resolver_free(struct handle_resolver *r);

/* Registers the filesystem holding mount_path. Returns 0 or -errno. */
int handle_resolver_add(struct handle_resolver *r, const char *mount_path);

/* The file group saw a directory (an open or a listing, with its fd and path): remember
 * its handle, so that entries deleted in it later are named even if the directory is
 * gone by the time the delete is read (rm -r of a tree that existed before iotrace).
 * A path the kernel marked " (deleted)" is remembered without the mark: it is the path
 * the entries in it had. */
void handle_resolver_learn(struct handle_resolver *r, int dir_fd, const char *path, size_t len);

/* A directory was made, or moved, at path (dir: its own handle, from
 * FAN_REPORT_TARGET_FID): remember it, so that what is made in it is named even when
 * the directory is gone by the time those events are read (made and removed within a
 * millisecond, as by a short-lived process). */
void handle_resolver_remember(struct handle_resolver *r, const struct fid_ref *dir, const char *path);

/* Whether any filesystem is registered (the directory group watches something). */
bool handle_resolver_active(const struct handle_resolver *r);

/* A directory was renamed: cached paths below it may be wrong now. */
void handle_resolver_forget_dirs(struct handle_resolver *r);

enum fid_path {
    FID_PATH_FULL,        /* buf holds the full path */
    FID_PATH_DIR_UNKNOWN, /* the directory is gone and unknown: buf holds the name only */
    FID_PATH_UNKNOWN,     /* nothing could be learnt */
};

/* The full path for a directory handle and entry name (name NULL or "." for the
 * directory itself). */
enum fid_path path_from_fid(struct handle_resolver *r, const struct fid_ref *f, char *buf, size_t size);

#endif
