#include "iotrace/mounts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* mountinfo escapes space, tab, newline and backslash as \ooo; undo it in place. */
static void unescape_octal(char *s)
{
    char *out = s;
    while (*s) {
        if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
            s[3] >= '0' && s[3] <= '7') {
            *out++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
            s += 4;
        } else {
            *out++ = *s++;
        }
    }
    *out = '\0';
}

int mountinfo_parse_line(char *line, struct mount_entry *out)
{
    char *fields[64];
    size_t n = 0;
    char *save = NULL;
    line[strcspn(line, "\n")] = '\0';
    for (char *tok = strtok_r(line, " ", &save); tok && n < 64; tok = strtok_r(NULL, " ", &save))
        fields[n++] = tok;
    /* id parent major:minor root mount-point options [optional...] - fstype source super */
    size_t dash = 6;
    while (dash < n && strcmp(fields[dash], "-") != 0)
        dash++;
    if (n < 7 || dash + 2 >= n)
        return -1;
    char *end;
    long id = strtol(fields[0], &end, 10);
    if (*end != '\0')
        return -1;
    out->mount_id = (int)id;
    unescape_octal(fields[4]);
    unescape_octal(fields[dash + 2]);
    out->mount_point = fields[4];
    out->fstype = fields[dash + 1];
    out->source = fields[dash + 2];
    return 0;
}

bool fstype_is_pseudo(const char *fstype)
{
    static const char *const pseudo[] = {
        "proc", "sysfs", "cgroup", "cgroup2", "devpts", "debugfs", "tracefs", "securityfs",
        "bpf", "mqueue", "pstore", "configfs", "fusectl", "binfmt_misc", "autofs", "devtmpfs",
        "hugetlbfs", "nsfs", "rpc_pipefs", "efivarfs", "selinuxfs", "nfsd",
        NULL,
    };
    for (size_t i = 0; pseudo[i]; i++)
        if (strcmp(fstype, pseudo[i]) == 0)
            return true;
    return false;
}

int mounts_for_each_real(const char *mountinfo_path, mount_fn fn, void *ctx)
{
    FILE *f = fopen(mountinfo_path, "re");
    if (!f)
        return -errno;
    char *line = NULL;
    size_t cap = 0;
    int accepted = 0;
    while (getline(&line, &cap, f) > 0) {
        struct mount_entry m;
        if (mountinfo_parse_line(line, &m) == 0 && !fstype_is_pseudo(m.fstype) && fn(ctx, &m))
            accepted++;
    }
    free(line);
    fclose(f);
    return accepted;
}
