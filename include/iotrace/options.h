/* The command line, parsed into one struct config. */
#ifndef IOTRACE_OPTIONS_H
#define IOTRACE_OPTIONS_H

#include "iotrace/filter.h"
#include "iotrace/template.h"

#include <stdbool.h>
#include <stddef.h>

struct config {
    bool current_mount;      /* -c */
    const char *output_path; /* -o, NULL for stdout */
    bool append;             /* --append: -o may name an existing file */
    long seconds;            /* -s, 0 to run until stopped */
    int timestamp;           /* -t: 0 none, 1 time of day, 2 seconds since the epoch */
    bool user;               /* -u */
    bool json;               /* -j */
    bool unlimited_queue;    /* --unlimited-queue */
    bool inode;              /* --inode: JSON carries every file's device and inode */
    bool summary;            /* --summary */
    long interval;           /* --interval: seconds between summaries, 0 for only at the end */
    long top;                /* --top: rows per summary table */
    bool quiet;              /* -q: no per-event lines */
    bool have_template;      /* --format */
    struct template template;
    bool exe;                /* -e */
    bool parents;            /* -P */
    struct filter filter;    /* -p, -f, -C, -U, --pid, --exclude-*; paths once resolved */
    /* as given on the command line, until options_resolve_paths() */
    const char **path_args;  /* PATH... */
    size_t n_path_args;
    const char **dir_args;   /* -d */
    size_t n_dir_args;
    const char **exclude_path_args; /* --exclude-path */
    size_t n_exclude_path_args;
};

enum options_result {
    OPTIONS_RUN,
    OPTIONS_HELP,
    OPTIONS_VERSION,
    OPTIONS_ERROR, /* err holds a one-line reason */
};

/* Parses argv into cfg (which the caller zeroes). Does not print or exit. */
enum options_result options_parse(int argc, char **argv, struct config *cfg,
                                  char *err, size_t err_size);
/* Makes PATH..., -d and --exclude-path absolute and canonical (symlinks resolved, as
 * the kernel reports paths) and puts them in cfg->filter. PATH and -d must exist; an
 * --exclude-path that does not exist yet is taken as given when absolute. Returns 0, or
 * -1 with a one-line reason in err. */
int options_resolve_paths(struct config *cfg, char *err, size_t err_size);
void config_free(struct config *cfg);

extern const char options_usage[];

#endif
