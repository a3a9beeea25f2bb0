/* Which mounts hold real files: /proc/self/mountinfo, parsed. */
#ifndef IOTRACE_MOUNTS_H
#define IOTRACE_MOUNTS_H

#include <stdbool.h>

struct mount_entry {
    int mount_id;
    const char *mount_point; /* unescaped, points into the parsed line */
    const char *fstype;
    const char *source;
};

/* Parses one mountinfo line in place (it is modified). Returns 0, or -1 when the line
 * is not in the documented format (proc(5)). */
int mountinfo_parse_line(char *line, struct mount_entry *out);

/* Pseudo filesystems hold no files anyone reads from a disk or a share: watching
 * them costs and tells nothing. tmpfs is real enough: /tmp, /run, /dev/shm. */
bool fstype_is_pseudo(const char *fstype);

/* Calls fn for each mount of a real filesystem in mountinfo_path (normally
 * /proc/self/mountinfo). Returns how many fn accepted (returned true), or -errno when
 * the list cannot be read. */
typedef bool (*mount_fn)(void *ctx, const struct mount_entry *m);
int mounts_for_each_real(const char *mountinfo_path, mount_fn fn, void *ctx);

#endif
