#include "iotrace/filter.h"
#include "iotrace/clients.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* The kernel keeps TASK_COMM_LEN - 1 = 15 bytes of a process name. */
#define COMM_MAX 15

static const struct {
    char letter;
    unsigned types;
} type_letters[] = {
    { 'R', EV_READ },   { 'C', EV_CLOSE },  { 'W', EV_WRITE },
    { 'O', EV_OPEN },   { '+', EV_CREATE }, { 'D', EV_DELETE },
    { '<', EV_MOVED_FROM | EV_MOVED_TO },   { '>', EV_MOVED_FROM | EV_MOVED_TO },
    { 'A', EV_ATTRIB },
};

int event_types_parse(const char *letters, unsigned *types, char *bad)
{
    unsigned result = 0;
    for (const char *p = letters; *p; p++) {
        char c = (char)toupper((unsigned char)*p);
        size_t i;
        for (i = 0; i < sizeof type_letters / sizeof type_letters[0]; i++)
            if (type_letters[i].letter == c)
                break;
        if (i == sizeof type_letters / sizeof type_letters[0]) {
            *bad = *p;
            return -1;
        }
        result |= type_letters[i].types;
    }
    if (result == 0) {
        *bad = '\0';
        return -1;
    }
    *types = result;
    return 0;
}

/* The kernel's pid_max cannot exceed this (PID_MAX_LIMIT on 64-bit). */
#define PID_LIMIT (4 * 1024 * 1024)

static bool pid_listed(const pid_t *pids, size_t n, pid_t pid)
{
    for (size_t i = 0; i < n; i++)
        if (pids[i] == pid)
            return true;
    return false;
}

static bool followed(const struct filter *f, pid_t pid)
{
    size_t word = (size_t)pid / 64;
    return pid > 0 && word < f->n_followed_words && (f->followed[word] >> (pid % 64)) & 1;
}

bool filter_keep_record(const struct filter *f, unsigned types, pid_t pid)
{
    if (!(types & f->types))
        return false;
    if (pid_listed(f->ignore_pids, f->n_ignore_pids, pid))
        return false;
    if (f->n_pids && !pid_listed(f->pids, f->n_pids, pid) && !followed(f, pid))
        return false;
    return true;
}

void filter_note_fork(struct filter *f, pid_t parent, pid_t child)
{
    if (!f->children || child <= 0 || child >= PID_LIMIT)
        return;
    bool follow = pid_listed(f->pids, f->n_pids, parent) || followed(f, parent);
    size_t word = (size_t)child / 64;
    uint64_t bit = (uint64_t)1 << (child % 64);
    if (word >= f->n_followed_words) {
        if (!follow)
            return;
        /* grow to the highest pid seen, not to PID_LIMIT: most machines stay far below */
        size_t n = word + 1 + word / 2;
        if (n > PID_LIMIT / 64)
            n = PID_LIMIT / 64;
        uint64_t *grown = realloc(f->followed, n * sizeof *grown);
        if (!grown)
            return; /* the child is then not followed: fewer lines, never wrong ones */
        memset(grown + f->n_followed_words, 0, (n - f->n_followed_words) * sizeof *grown);
        f->followed = grown;
        f->n_followed_words = n;
    }
    if (follow)
        f->followed[word] |= bit;
    else
        f->followed[word] &= ~bit;
}

bool filter_needs_process(const struct filter *f)
{
    return f->n_commands > 0 || f->n_exclude_commands > 0 || f->n_users > 0;
}

bool filter_needs_ids(const struct filter *f)
{
    return f->n_users > 0;
}

static bool comm_listed(char *const *list, size_t n, const char *comm)
{
    for (size_t i = 0; i < n; i++)
        if (strncmp(list[i], comm, COMM_MAX) == 0)
            return true;
    return false;
}

bool filter_keep_process(const struct filter *f, const struct proc_info *proc)
{
    bool have_comm = proc && proc->have_comm;
    if (f->n_commands && (!have_comm || !comm_listed(f->commands, f->n_commands, proc->comm)))
        return false;
    /* an unknown process cannot be shown to be excluded: it stays */
    if (f->n_exclude_commands && have_comm && comm_listed(f->exclude_commands, f->n_exclude_commands, proc->comm))
        return false;
    if (f->n_users) {
        if (!proc || !proc->have_ids || !client_user_known(proc))
            return false; /* not shown to be USER's: an NFS server's user is not known */
        uid_t uid = client_acting_uid(proc); /* smbd: the client's user, as -u shows */
        size_t i = 0;
        while (i < f->n_users && f->users[i] != uid)
            i++;
        if (i == f->n_users)
            return false;
    }
    return true;
}

bool path_is_under(const char *path, size_t len, const char *dir)
{
    size_t dlen = strlen(dir);
    if (dlen == 1 && dir[0] == '/')
        return len > 0 && path[0] == '/';
    return len >= dlen && memcmp(path, dir, dlen) == 0 && (len == dlen || path[dlen] == '/');
}

bool path_is_directly_in(const char *path, size_t len, const char *dir)
{
    size_t dlen = strlen(dir);
    if (dlen == 1 && dir[0] == '/')
        dlen = 0; /* "/x" is in "/": the separator is the root itself */
    else if (len <= dlen || memcmp(path, dir, dlen) != 0 || path[dlen] != '/')
        return false;
    const char *name = path + dlen + 1;
    size_t name_len = len - dlen - 1;
    return len > dlen + 1 && path[dlen] == '/' && memchr(name, '/', name_len) == NULL;
}

bool filter_needs_path(const struct filter *f)
{
    return f->n_subtrees || f->n_dirs || f->n_exclude_paths;
}

bool filter_keep_path(const struct filter *f, const char *path, size_t len)
{
    if (!filter_needs_path(f))
        return true;
    if (!path)
        return false; /* where it is cannot be told, so it cannot be shown to match */
    if (f->n_subtrees || f->n_dirs) {
        bool inside = false;
        for (size_t i = 0; !inside && i < f->n_subtrees; i++)
            inside = path_is_under(path, len, f->subtrees[i]);
        for (size_t i = 0; !inside && i < f->n_dirs; i++)
            inside = path_is_directly_in(path, len, f->dirs[i]);
        if (!inside)
            return false;
    }
    for (size_t i = 0; i < f->n_exclude_paths; i++)
        if (path_is_under(path, len, f->exclude_paths[i]))
            return false;
    return true;
}

static int append_item(void **array, size_t *n, size_t size, const void *item)
{
    char *grown = realloc(*array, (*n + 1) * size);
    if (!grown)
        return -1;
    memcpy(grown + *n * size, item, size);
    *array = grown;
    (*n)++;
    return 0;
}

static int append_string(char ***list, size_t *n, const char *s, size_t len)
{
    char *copy = strndup(s, len);
    if (!copy || append_item((void **)list, n, sizeof copy, &copy) != 0) {
        free(copy);
        return -1;
    }
    return 0;
}

/* "/srv/a/" and "/srv/a" are the same directory; "/" stays "/". */
static int append_path(char ***list, size_t *n, const char *path)
{
    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/')
        len--;
    return append_string(list, n, path, len);
}

int filter_add_ignore_pid(struct filter *f, pid_t pid)
{
    return append_item((void **)&f->ignore_pids, &f->n_ignore_pids, sizeof pid, &pid);
}

int filter_add_command(struct filter *f, const char *comm)
{
    return append_string(&f->commands, &f->n_commands, comm, strlen(comm));
}

int filter_add_exclude_command(struct filter *f, const char *comm)
{
    return append_string(&f->exclude_commands, &f->n_exclude_commands, comm, strlen(comm));
}

int filter_add_user(struct filter *f, uid_t uid)
{
    return append_item((void **)&f->users, &f->n_users, sizeof uid, &uid);
}

int filter_add_pid(struct filter *f, pid_t pid)
{
    return append_item((void **)&f->pids, &f->n_pids, sizeof pid, &pid);
}

int filter_add_subtree(struct filter *f, const char *dir)
{
    return append_path(&f->subtrees, &f->n_subtrees, dir);
}

int filter_add_dir(struct filter *f, const char *dir)
{
    return append_path(&f->dirs, &f->n_dirs, dir);
}

int filter_add_exclude_path(struct filter *f, const char *prefix)
{
    return append_path(&f->exclude_paths, &f->n_exclude_paths, prefix);
}

static void free_strings(char ***list, size_t *n)
{
    for (size_t i = 0; i < *n; i++)
        free((*list)[i]);
    free(*list);
    *list = NULL;
    *n = 0;
}

void filter_free(struct filter *f)
{
    free_strings(&f->commands, &f->n_commands);
    free_strings(&f->exclude_commands, &f->n_exclude_commands);
    free_strings(&f->subtrees, &f->n_subtrees);
    free_strings(&f->dirs, &f->n_dirs);
    free_strings(&f->exclude_paths, &f->n_exclude_paths);
    free(f->ignore_pids);
    free(f->users);
    free(f->pids);
    free(f->followed);
    f->ignore_pids = f->pids = NULL;
    f->users = NULL;
    f->followed = NULL;
    f->n_ignore_pids = f->n_users = f->n_pids = f->n_followed_words = 0;
}
