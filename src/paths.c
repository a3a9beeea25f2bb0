#include "iotrace/paths.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/statfs.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

int paths_open_fd_dir(void)
{
    return open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* Decimal digits of a non-negative fd, NUL-terminated; snprintf showed up in the
 * profile for this one number per event. */
static void fd_to_name(int fd, char out[12])
{
    char digits[12];
    size_t n = 0;
    unsigned v = (unsigned)fd;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = digits[n - 1 - i];
    out[n] = '\0';
}

int path_from_fd(int fd_dir, struct event *ev, char *buf, size_t size)
{
    /* readlinkat on an open /proc/self/fd walks one name instead of four (proc, self,
     * fd, N): at 100 x 2000 (make bench) readlink("/proc/self/fd/N") was 37% of
     * iotrace's CPU in perf, most of it looking up those names. */
    char name[32] = "/proc/self/fd/";
    const size_t prefix = sizeof "/proc/self/fd/" - 1;
    char *digits = fd_dir >= 0 ? name : name + prefix;
    fd_to_name(ev->fd, digits);
    ssize_t n = readlinkat(fd_dir >= 0 ? fd_dir : AT_FDCWD, name, buf, size);
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
    ev->is_dir = S_ISDIR(st.st_mode);
    ev->dev_major = major(st.st_dev);
    ev->dev_minor = minor(st.st_dev);
    ev->inode = (uint64_t)st.st_ino;
    return 0;
}

struct fsid_mount {
    uint64_t fsid;
    int fd;
};

struct dir_entry {
    uint64_t fsid;
    size_t handle_len;
    unsigned char handle[MAX_HANDLE_SZ + sizeof(struct file_handle)];
    char *path;
};

struct handle_resolver {
    struct fsid_mount *mounts;
    size_t n_mounts;
    struct dir_entry *dirs;
    size_t capacity;
};

struct handle_resolver *handle_resolver_new(size_t cache_capacity)
{
    struct handle_resolver *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->capacity = cache_capacity ? cache_capacity : 1;
    r->dirs = calloc(r->capacity, sizeof *r->dirs);
    if (!r->dirs) {
        free(r);
        return NULL;
    }
    return r;
}

void handle_resolver_forget_dirs(struct handle_resolver *r)
{
    for (size_t i = 0; i < r->capacity; i++) {
        free(r->dirs[i].path);
        r->dirs[i].path = NULL;
    }
}

void handle_resolver_free(struct handle_resolver *r)
{
    if (!r)
        return;
    handle_resolver_forget_dirs(r);
    for (size_t i = 0; i < r->n_mounts; i++)
        close(r->mounts[i].fd);
    free(r->mounts);
    free(r->dirs);
    free(r);
}

int handle_resolver_add(struct handle_resolver *r, const char *mount_path)
{
    /* open_by_handle_at() refuses an O_PATH fd here (EBADF) */
    int fd = open(mount_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct statfs sfs;
    if (fstatfs(fd, &sfs) != 0) {
        int err = errno;
        close(fd);
        return -err;
    }
    uint64_t fsid;
    memcpy(&fsid, &sfs.f_fsid, sizeof fsid);
    for (size_t i = 0; i < r->n_mounts; i++) {
        if (r->mounts[i].fsid == fsid) { /* the same filesystem, mounted twice */
            close(fd);
            return 0;
        }
    }
    struct fsid_mount *grown = realloc(r->mounts, (r->n_mounts + 1) * sizeof *grown);
    if (!grown) {
        close(fd);
        return -ENOMEM;
    }
    r->mounts = grown;
    r->mounts[r->n_mounts++] = (struct fsid_mount){ .fsid = fsid, .fd = fd };
    return 0;
}

static int mount_fd_for(const struct handle_resolver *r, uint64_t fsid)
{
    for (size_t i = 0; i < r->n_mounts; i++)
        if (r->mounts[i].fsid == fsid)
            return r->mounts[i].fd;
    return -1;
}

static struct dir_entry *dir_slot(struct handle_resolver *r, const struct fid_ref *f)
{
    uint64_t h = 1469598103934665603ULL ^ f->fsid; /* FNV-1a */
    for (size_t i = 0; i < f->handle_len; i++)
        h = (h ^ f->handle[i]) * 1099511628211ULL;
    return &r->dirs[h % r->capacity];
}

static bool dir_matches(const struct dir_entry *e, const struct fid_ref *f)
{
    return e->path && e->fsid == f->fsid && e->handle_len == f->handle_len &&
           memcmp(e->handle, f->handle, f->handle_len) == 0;
}

static void remember_dir(struct handle_resolver *r, const struct fid_ref *f, const char *path)
{
    if (f->handle_len > sizeof r->dirs[0].handle)
        return;
    struct dir_entry *e = dir_slot(r, f);
    char *copy = strdup(path);
    if (!copy)
        return;
    free(e->path);
    e->fsid = f->fsid;
    e->handle_len = f->handle_len;
    memcpy(e->handle, f->handle, f->handle_len);
    e->path = copy;
}

/* The object's path now, by its handle; -1 when it cannot be opened (ESTALE: it was
 * removed) or, unless deleted_ok, when it is an unlinked one ("/path (deleted)"). */
static int open_dir_path(const struct handle_resolver *r, const struct fid_ref *f, char *buf, size_t size,
                         bool deleted_ok)
{
    int mount_fd = mount_fd_for(r, f->fsid);
    if (mount_fd < 0 || f->handle_len > MAX_HANDLE_SZ + sizeof(struct file_handle))
        return -1;
    union {
        struct file_handle fh;
        unsigned char bytes[MAX_HANDLE_SZ + sizeof(struct file_handle)];
    } h;
    memcpy(h.bytes, f->handle, f->handle_len);
    int fd = open_by_handle_at(mount_fd, &h.fh, O_PATH | O_CLOEXEC);
    if (fd < 0)
        return -1;
    char link[32];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, buf, size);
    close(fd);
    if (n <= 0 || (size_t)n >= size || buf[0] != '/')
        return -1;
    buf[n] = '\0';
    /* an unlinked directory still in memory reads as "/path (deleted)": not a real path */
    static const char deleted[] = " (deleted)";
    if (!deleted_ok && (size_t)n > sizeof deleted - 1 && strcmp(buf + n - (sizeof deleted - 1), deleted) == 0)
        return -1;
    return 0;
}

enum fid_path path_from_fid(struct handle_resolver *r, const struct fid_ref *f, char *buf, size_t size)
{
    if (f->role == FID_OBJECT) {
        /* No directory and name (an attribute change of a file being unlinked, say):
         * the object's own path, with the kernel's " (deleted)" when it is gone. */
        return open_dir_path(r, f, buf, size, true) == 0 ? FID_PATH_FULL : FID_PATH_UNKNOWN;
    }
    const char *name = f->name && strcmp(f->name, ".") != 0 ? f->name : NULL;
    struct dir_entry *cached = dir_slot(r, f);
    bool known = open_dir_path(r, f, buf, size, false) == 0;
    if (known)
        remember_dir(r, f, buf);
    else if (dir_matches(cached, f) && strlen(cached->path) < size)
        strcpy(buf, cached->path), known = true;

    if (!known) {
        if (!name || strlen(name) >= size)
            return FID_PATH_UNKNOWN;
        strcpy(buf, name);
        return FID_PATH_DIR_UNKNOWN;
    }
    if (name) {
        size_t len = strlen(buf);
        int n = snprintf(buf + len, size - len, "%s%s", len > 1 ? "/" : "", name);
        if (n < 0 || (size_t)n >= size - len)
            return FID_PATH_UNKNOWN;
    }
    return FID_PATH_FULL;
}

void handle_resolver_remember(struct handle_resolver *r, const struct fid_ref *dir, const char *path)
{
    if (mount_fd_for(r, dir->fsid) < 0)
        return; /* not a filesystem the directory group watches */
    struct dir_entry *e = dir_slot(r, dir);
    if (!dir_matches(e, dir) || strcmp(e->path, path) != 0)
        remember_dir(r, dir, path);
}

void handle_resolver_learn(struct handle_resolver *r, int dir_fd, const char *path, size_t len)
{
    static const char deleted[] = " (deleted)";
    char clean[PATH_MAX];
    if (r->n_mounts == 0 || len >= sizeof clean)
        return;
    if (len > sizeof deleted - 1 && memcmp(path + len - (sizeof deleted - 1), deleted, sizeof deleted - 1) == 0)
        len -= sizeof deleted - 1;
    memcpy(clean, path, len);
    clean[len] = '\0';
    path = clean;
    union {
        struct file_handle fh;
        unsigned char bytes[MAX_HANDLE_SZ + sizeof(struct file_handle)];
    } h;
    int mount_id;
    struct statfs sfs;
    h.fh.handle_bytes = MAX_HANDLE_SZ;
    if (name_to_handle_at(dir_fd, "", &h.fh, &mount_id, AT_EMPTY_PATH) != 0 || fstatfs(dir_fd, &sfs) != 0)
        return;
    struct fid_ref f = { .role = FID_DIR_NAME, .handle = h.bytes,
                         .handle_len = sizeof h.fh + h.fh.handle_bytes };
    memcpy(&f.fsid, &sfs.f_fsid, sizeof f.fsid);
    handle_resolver_remember(r, &f, path);
}

bool handle_resolver_active(const struct handle_resolver *r)
{
    return r && r->n_mounts > 0;
}
