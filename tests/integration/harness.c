#include "harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int scene_setup(void **state)
{
    struct scene *s = calloc(1, sizeof *s);
    snprintf(s->dir, sizeof s->dir, "/tmp/iotrace-test.XXXXXX");
    if (!mkdtemp(s->dir))
        return -1;
    snprintf(s->mnt, sizeof s->mnt, "%s/mnt", s->dir);
    snprintf(s->out_path, sizeof s->out_path, "%s/out", s->dir);
    snprintf(s->err_path, sizeof s->err_path, "%s/err", s->dir);
    if (mkdir(s->mnt, 0755) != 0 || mount("iotrace-test", s->mnt, "tmpfs", 0, "size=16m,mode=0777") != 0) {
        fprintf(stderr, "cannot mount a tmpfs on %s: %s\n", s->mnt, strerror(errno));
        rmdir(s->mnt);
        rmdir(s->dir);
        free(s);
        return -1;
    }
    s->mounted = true;
    *state = s;
    return 0;
}

const char *const fs_kind_names[] = { "tmpfs", "ext4", "xfs", "btrfs", "btrfs subvolume", "overlayfs" };

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    if (rc != 0)
        fprintf(stderr, "failed (%d): %s\n", rc, cmd);
    return rc;
}

/* For commands whose failure is an answer (pgrep, a readiness probe): quiet, unlike sh. */
int shell(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return system(cmd);
}

static int mount_extra(struct scene *s, const char *src, const char *target, const char *type, const char *opts)
{
    if (mkdir(target, 0755) != 0 && errno != EEXIST)
        return -1;
    if (mount(src, target, type, 0, opts) != 0) {
        fprintf(stderr, "cannot mount %s (%s) on %s: %s\n", src, type, target, strerror(errno));
        return -1;
    }
    snprintf(s->extra_mounts[s->n_extra_mounts++], sizeof s->extra_mounts[0], "%s", target);
    return 0;
}

static int make_loop_fs(struct scene *s, const char *mkfs, const char *type)
{
    snprintf(s->image, sizeof s->image, "%s/image", s->dir);
    char cmd[512];
    /* xfs wants at least 300 MiB; the file is sparse, so this costs little disk */
    if (sh("truncate -s 320M %s", s->image) != 0)
        return -1;
    snprintf(cmd, sizeof cmd, "losetup -f --show %s", s->image);
    FILE *p = popen(cmd, "r");
    if (!p || !fgets(s->loop_dev, sizeof s->loop_dev, p)) {
        if (p)
            pclose(p);
        s->loop_dev[0] = '\0';
        return -1;
    }
    pclose(p);
    s->loop_dev[strcspn(s->loop_dev, "\n")] = '\0';
    if (sh("%s %s >/dev/null 2>&1", mkfs, s->loop_dev) != 0)
        return -1;
    char target[160];
    snprintf(target, sizeof target, "%s/fs", s->dir);
    return mount_extra(s, s->loop_dev, target, type, NULL);
}

int scene_setup_fs(void **state, enum fs_kind kind)
{
    if (kind == FS_TMPFS)
        return scene_setup(state);
    struct scene *s = calloc(1, sizeof *s);
    snprintf(s->dir, sizeof s->dir, "/tmp/iotrace-test.XXXXXX");
    if (!mkdtemp(s->dir)) {
        free(s);
        return -1;
    }
    snprintf(s->out_path, sizeof s->out_path, "%s/out", s->dir);
    snprintf(s->err_path, sizeof s->err_path, "%s/err", s->dir);
    *state = s;
    int rc = 0;
    char path[160], opts[600];
    switch (kind) {
    case FS_EXT4:
        rc = make_loop_fs(s, "mkfs.ext4 -q -F", "ext4");
        snprintf(s->mnt, sizeof s->mnt, "%s/fs", s->dir);
        break;
    case FS_XFS:
        rc = make_loop_fs(s, "mkfs.xfs -q -f", "xfs");
        snprintf(s->mnt, sizeof s->mnt, "%s/fs", s->dir);
        break;
    case FS_BTRFS:
        rc = make_loop_fs(s, "mkfs.btrfs -q -f", "btrfs");
        snprintf(s->mnt, sizeof s->mnt, "%s/fs", s->dir);
        break;
    case FS_BTRFS_SUBVOLUME:
        rc = make_loop_fs(s, "mkfs.btrfs -q -f", "btrfs");
        if (rc == 0)
            rc = sh("btrfs -q subvolume create %s/fs/sub >/dev/null", s->dir);
        snprintf(s->mnt, sizeof s->mnt, "%s/subvol", s->dir);
        if (rc == 0)
            rc = mount_extra(s, s->loop_dev, s->mnt, "btrfs", "subvol=sub");
        break;
    case FS_OVERLAY:
        snprintf(path, sizeof path, "%s/layers", s->dir);
        rc = mount_extra(s, "iotrace-test", path, "tmpfs", "size=16m");
        if (rc == 0)
            rc = sh("mkdir %s/lower %s/upper %s/work", path, path, path);
        snprintf(opts, sizeof opts, "lowerdir=%s/lower,upperdir=%s/upper,workdir=%s/work", path, path, path);
        snprintf(s->mnt, sizeof s->mnt, "%s/overlay", s->dir);
        if (rc == 0)
            rc = mount_extra(s, "overlay", s->mnt, "overlay", opts);
        break;
    case FS_TMPFS:
        break;
    }
    if (rc == 0)
        chmod(s->mnt, 0777);
    if (rc != 0) { /* cmocka skips teardown when setup fails: clean up here */
        scene_teardown(state);
        *state = NULL;
        return -1;
    }
    return 0;
}

int scene_teardown(void **state)
{
    struct scene *s = *state;
    if (!s)
        return 0;
    if (s->tracer > 0) {
        kill(s->tracer, SIGKILL);
        waitpid(s->tracer, NULL, 0);
    }
    if (s->mounted && umount2(s->mnt, MNT_DETACH) != 0)
        fprintf(stderr, "cannot unmount %s: %s\n", s->mnt, strerror(errno));
    for (int i = s->n_extra_mounts - 1; i >= 0; i--) {
        if (umount2(s->extra_mounts[i], 0) != 0 && umount2(s->extra_mounts[i], MNT_DETACH) != 0)
            fprintf(stderr, "cannot unmount %s: %s\n", s->extra_mounts[i], strerror(errno));
        rmdir(s->extra_mounts[i]);
    }
    if (s->loop_dev[0])
        sh("losetup -d %s", s->loop_dev);
    if (s->image[0])
        unlink(s->image);
    rmdir(s->mnt);
    unlink(s->out_path);
    unlink(s->err_path);
    rmdir(s->dir);
    free(s->out);
    free(s->err);
    free(s);
    return 0;
}

const char *in_mnt(struct scene *s, const char *name, int slot)
{
    static char buf[8][4096];
    snprintf(buf[slot], sizeof buf[slot], "%s/%s", s->mnt, name);
    return buf[slot];
}

char *read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return strdup("");
    char *data = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&data, &len);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        fwrite(chunk, 1, n, mem);
    fclose(mem);
    fclose(f);
    return data;
}

/* iotrace's marks are listed in the fdinfo of its fanotify fd once they are in place,
 * one line each. */
static int count_marks(pid_t pid)
{
    char dir_path[64];
    snprintf(dir_path, sizeof dir_path, "/proc/%d/fdinfo", (int)pid);
    DIR *dir = opendir(dir_path);
    if (!dir)
        return 0;
    int marks = 0;
    for (struct dirent *d; (d = readdir(dir));) {
        char path[400];
        snprintf(path, sizeof path, "%s/%s", dir_path, d->d_name);
        char *text = d->d_name[0] == '.' ? NULL : read_file(path);
        for (const char *p = text; p && (p = strstr(p, "fanotify ")); p++)
            marks += strncmp(p, "fanotify mnt_id", 15) == 0 || strncmp(p, "fanotify sdev", 13) == 0 ||
                     strncmp(p, "fanotify ino", 12) == 0;
        free(text);
    }
    closedir(dir);
    return marks;
}

void wait_for_marks(struct scene *s, int n)
{
    for (int i = 0; i < 1000; i++) { /* up to 10 s on a loaded machine */
        if (count_marks(s->tracer) >= n)
            return;
        usleep(10000);
    }
    fail_msg("iotrace did not set up %d marks", n);
}

static bool has_marks(pid_t pid)
{
    return count_marks(pid) > 0;
}

/* Ready: its marks are listed in the fdinfo of its fanotify fd, and it has dropped its
 * capabilities (no_new_privs), the last step of its set-up, after its signal handlers and
 * process events: a signal or an fd count before that would race with the set-up.
 * The process started may be a wrapper (unshare --fork): then iotrace is a child. */
static bool is_ready(pid_t pid)
{
    return has_marks(pid) && proc_status_number(pid, "NoNewPrivs:") == 1;
}

pid_t tracer_pid(struct scene *s)
{
    if (s->tracer <= 0)
        return 0;
    if (is_ready(s->tracer))
        return s->tracer;
    char path[96];
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)s->tracer, (int)s->tracer);
    char *children = read_file(path);
    pid_t found = 0;
    for (char *p = children; !found && *p;) {
        char *end;
        long child = strtol(p, &end, 10);
        if (end == p)
            break;
        if (is_ready((pid_t)child))
            found = (pid_t)child;
        p = end;
    }
    free(children);
    return found;
}

void start_tracer(struct scene *s, const char *const *args)
{
    const char *argv[32] = { IOTRACE_BIN };
    size_t n = 1;
    for (; args && args[n - 1] && n < 31; n++)
        argv[n] = args[n - 1];
    argv[n] = NULL;
    start_tracer_argv(s, argv);
}

void start_tracer_argv(struct scene *s, const char *const *argv)
{
    unlink(s->out_path);
    unlink(s->err_path);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int out = open(s->out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int err = open(s->err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (out < 0 || err < 0 || chdir(s->mnt) != 0)
            _exit(127);
        dup2(out, 1);
        dup2(err, 2);
        struct rlimit limit = { s->nofile, s->nofile };
        if (s->nofile && setrlimit(RLIMIT_NOFILE, &limit) != 0)
            _exit(127);
        /* only stdin, stdout and stderr: fd counts and valgrind's fd report stay exact */
        close_range(3, ~0u, 0);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    s->tracer = pid;
    for (int i = 0; i < 3000; i++) { /* up to 30 s on a loaded machine (valgrind is slow) */
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            s->tracer = 0;
            char *err = read_file(s->err_path);
            fail_msg("iotrace exited at start (status %d): %s", status, err);
        }
        if (tracer_pid(s))
            return;
        usleep(10000);
    }
    fail_msg("iotrace did not set up its marks");
}

bool wait_for_text(struct scene *s, const char *path, const char *needle, int limit_s)
{
    for (int i = 0; i < limit_s * 100; i++) {
        char *text = read_file(path ? path : s->out_path);
        bool found = strstr(text, needle) != NULL;
        free(text);
        if (found)
            return true;
        usleep(10000);
    }
    return false;
}

pid_t run_child(struct scene *s, const char *comm, void (*body)(void *), void *arg)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (chdir(s->mnt) != 0)
            _exit(127);
        if (comm)
            prctl(PR_SET_NAME, comm, 0, 0, 0);
        body(arg);
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("child %s failed (status %d)", comm ? comm : "?", status);
    return pid;
}

long proc_status_number(pid_t pid, const char *key)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    char *text = read_file(path);
    char *p = strstr(text, key);
    long v = -1;
    if (p)
        v = strtol(p + strlen(key), NULL, 10);
    free(text);
    return v;
}

int count_fds(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    DIR *dir = opendir(path);
    if (!dir)
        return -1;
    int n = 0;
    for (struct dirent *d; (d = readdir(dir));) {
        if (d->d_name[0] == '.')
            continue;
        char link[400], target[256];
        snprintf(link, sizeof link, "%s/%s", path, d->d_name);
        ssize_t len = readlink(link, target, sizeof target - 1);
        /* iotrace reads /proc/PID/status for processes anywhere on the machine, at any
         * time: such an fd is open for microseconds and not a leak */
        n += !(len > 6 && memcmp(target, "/proc/", 6) == 0);
    }
    closedir(dir);
    return n;
}

static void collect(struct scene *s, int status)
{
    s->tracer = 0;
    s->exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    free(s->out);
    free(s->err);
    s->out = read_file(s->out_path);
    s->err = read_file(s->err_path);
}

void wait_tracer(struct scene *s, int limit_s)
{
    int status;
    for (int i = 0; i < limit_s * 100; i++) {
        if (waitpid(s->tracer, &status, WNOHANG) == s->tracer) {
            collect(s, status);
            return;
        }
        usleep(10000);
    }
    fail_msg("iotrace did not exit within %d s", limit_s);
}

void stop_tracer(struct scene *s)
{
    assert_true(s->tracer > 0);
    kill(s->tracer, SIGINT);
    wait_tracer(s, 30);
}

pid_t run_cmd(struct scene *s, const char *const *argv)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (chdir(s->mnt) != 0)
            _exit(127);
        int null = open("/dev/null", O_RDWR);
        dup2(null, 1);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("command %s failed (status %d)", argv[0], status);
    return pid;
}

const char *types_for(const char *output, const char *prefix, const char *path)
{
    static char result[16];
    const char *order = "RCWO+D<>A";
    bool seen[256] = { false };
    size_t plen = strlen(prefix), pathlen = strlen(path);
    for (const char *line = output; *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        if (len > plen + pathlen + 1 && strncmp(line, prefix, plen) == 0 &&
            strncmp(line + len - pathlen - 1, " ", 1) == 0 &&
            strncmp(line + len - pathlen, path, pathlen) == 0) {
            /* the letters follow the first ": " at the end of the prefix or after it (a
             * prefix may stop before the pid or the user) */
            const char *colon = strstr(line + (plen >= 2 ? plen - 2 : 0), ": ");
            for (const char *c = colon ? colon + 2 : line + len; c < line + len && *c != ' '; c++)
                seen[(unsigned char)*c] = true;
        }
        line += len + (nl ? 1 : 0);
    }
    size_t n = 0;
    for (const char *c = order; *c; c++)
        if (seen[(unsigned char)*c])
            result[n++] = *c;
    result[n] = '\0';
    return result;
}

int count_lines(const char *text)
{
    int n = 0;
    for (; *text; text++)
        n += *text == '\n';
    return n;
}
