/* Integration test helpers: a private tmpfs, iotrace started on it, commands run in it,
 * and the output read back. Everything made here is removed in teardown, even when a
 * test fails. Needs root. */
#ifndef IOTRACE_TEST_HARNESS_H
#define IOTRACE_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct scene {
    char dir[64];       /* private temp dir, outside the watched mount */
    char mnt[96];       /* the tmpfs iotrace watches */
    char out_path[128]; /* iotrace's stdout */
    char err_path[128]; /* iotrace's stderr */
    pid_t tracer;       /* 0 when not running */
    int exit_status;    /* of the tracer, once stopped */
    char *out;          /* its stdout, once stopped */
    char *err;          /* its stderr, once stopped */
    bool mounted;
    /* for filesystems on loop images (scene_setup_fs): undone in reverse order */
    char extra_mounts[4][160];
    int n_extra_mounts;
    char loop_dev[32];
    char image[128];
    unsigned long nofile;  /* when set, iotrace's limit on open files (soft and hard) */
};

enum fs_kind { FS_TMPFS, FS_EXT4, FS_XFS, FS_BTRFS, FS_BTRFS_SUBVOLUME, FS_OVERLAY };
extern const char *const fs_kind_names[];

/* Like scene_setup, but s->mnt is a fresh filesystem of this kind (ext4, xfs and btrfs on
 * a loop image; a btrfs subvolume mounted on its own; overlayfs over a tmpfs). */
int scene_setup_fs(void **state, enum fs_kind kind);

int scene_setup(void **state);    /* cmocka setup: makes the tmpfs */
int scene_teardown(void **state); /* cmocka teardown: kills, unmounts, removes */

/* Path of a name inside the tmpfs (a static buffer per call slot: 0..7). */
const char *in_mnt(struct scene *s, const char *name, int slot);

/* Starts iotrace in the tmpfs with these arguments (NULL-terminated) and waits until its
 * marks are in place. */
void start_tracer(struct scene *s, const char *const *args);
/* Waits until the running tracer has at least n fanotify marks (start_tracer returns
 * after the first: enough for one mount, not for several). */
void wait_for_marks(struct scene *s, int n);
/* The same with a whole command line (argv[0] may be a wrapper such as valgrind or
 * unshare --fork, found in PATH). */
void start_tracer_argv(struct scene *s, const char *const *argv);
/* The pid of the iotrace process itself (s->tracer or a child of it), 0 when not found. */
pid_t tracer_pid(struct scene *s);
/* Waits until the file (NULL: iotrace's stdout) holds needle; false after limit_s. */
bool wait_for_text(struct scene *s, const char *path, const char *needle, int limit_s);
/* Runs body(arg) in a child in the tmpfs, named comm (prctl) when not NULL; returns its
 * pid once it has exited. Fails the test when it does not exit 0. */
pid_t run_child(struct scene *s, const char *comm, void (*body)(void *), void *arg);
/* A number from /proc/PID/status ("VmRSS:", "NoNewPrivs:"), -1 when absent. */
long proc_status_number(pid_t pid, const char *key);
/* Open fds of a process but for /proc files (read and closed at once), -1 when it
 * cannot be read. */
int count_fds(pid_t pid);
/* SIGINT, wait, read its output. */
void stop_tracer(struct scene *s);
/* Waits for it to exit by itself (at most `limit_s` seconds, generous: not a timing test). */
void wait_tracer(struct scene *s, int limit_s);

/* Runs a command in the tmpfs, waits for it; returns its pid. Fails the test when the
 * command does not exit 0. */
pid_t run_cmd(struct scene *s, const char *const *argv);

/* The union of the event letters on lines that start with `prefix` (e.g. "cat(12): ",
 * or just "smbd(")
 * and end with " path"; "" when there are none. The kernel merges events that are
 * still queued, so the same accesses can arrive as "RCO" or as "RO" then "C". */
const char *types_for(const char *output, const char *prefix, const char *path);

/* Runs a command line made from a printf format; returns system()'s status, quietly. */
int shell(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int count_lines(const char *text);
char *read_file(const char *path);

#define A(...) ((const char *const[]){ __VA_ARGS__, NULL })

#endif
