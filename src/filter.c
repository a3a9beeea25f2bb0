#include "iotrace/filter.h"

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

bool filter_keep_record(const struct filter *f, unsigned types, pid_t pid)
{
    if (!(types & f->types))
        return false;
    for (size_t i = 0; i < f->n_ignore_pids; i++)
        if (f->ignore_pids[i] == pid)
            return false;
    return true;
}

bool filter_needs_process(const struct filter *f)
{
    return f->n_commands > 0;
}

bool filter_keep_process(const struct filter *f, const struct proc_info *proc)
{
    if (f->n_commands == 0)
        return true;
    if (!proc || !proc->have_comm)
        return false;
    for (size_t i = 0; i < f->n_commands; i++)
        if (strncmp(f->commands[i], proc->comm, COMM_MAX) == 0)
            return true;
    return false;
}

int filter_add_ignore_pid(struct filter *f, pid_t pid)
{
    pid_t *grown = realloc(f->ignore_pids, (f->n_ignore_pids + 1) * sizeof *grown);
    if (!grown)
        return -1;
    f->ignore_pids = grown;
    f->ignore_pids[f->n_ignore_pids++] = pid;
    return 0;
}

int filter_add_command(struct filter *f, const char *comm)
{
    char **grown = realloc(f->commands, (f->n_commands + 1) * sizeof *grown);
    if (!grown)
        return -1;
    f->commands = grown;
    f->commands[f->n_commands] = strdup(comm);
    if (!f->commands[f->n_commands])
        return -1;
    f->n_commands++;
    return 0;
}

void filter_free(struct filter *f)
{
    for (size_t i = 0; i < f->n_commands; i++)
        free(f->commands[i]);
    free(f->commands);
    free(f->ignore_pids);
    f->commands = NULL;
    f->ignore_pids = NULL;
    f->n_commands = f->n_ignore_pids = 0;
}
