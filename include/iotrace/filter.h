/* Which events to keep. Pure: the checks are ordered by what they need, so the
 * caller can drop an event before paying for a look-up it does not need. */
#ifndef IOTRACE_FILTER_H
#define IOTRACE_FILTER_H

#include "iotrace/event.h"

#include <stdbool.h>
#include <sys/types.h>

struct filter {
    unsigned types;          /* event types to show; EV_ALL_TYPES when -f is not given */
    pid_t *ignore_pids;      /* -p */
    size_t n_ignore_pids;
    char **commands;         /* -C, compared with the kernel's 15-byte comm */
    size_t n_commands;
};

/* Needs only the kernel's record: types and pid. */
bool filter_keep_record(const struct filter *f, unsigned types, pid_t pid);
/* Whether the process name is needed at all to decide. */
bool filter_needs_process(const struct filter *f);
/* Needs the process name; proc->have_comm false means the process was not found. */
bool filter_keep_process(const struct filter *f, const struct proc_info *proc);

int filter_add_ignore_pid(struct filter *f, pid_t pid);
int filter_add_command(struct filter *f, const char *comm);
void filter_free(struct filter *f);

#endif
