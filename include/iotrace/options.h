/* The command line, parsed into one struct config. */
#ifndef IOTRACE_OPTIONS_H
#define IOTRACE_OPTIONS_H

#include "iotrace/filter.h"

#include <stdbool.h>
#include <stddef.h>

struct config {
    bool current_mount;      /* -c */
    const char *output_path; /* -o, NULL for stdout */
    long seconds;            /* -s, 0 to run until stopped */
    int timestamp;           /* -t: 0 none, 1 time of day, 2 seconds since the epoch */
    bool user;               /* -u */
    bool json;               /* -j */
    bool exe;                /* -e */
    bool parents;            /* -P */
    struct filter filter;    /* -p, -f, -C */
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
void config_free(struct config *cfg);

extern const char options_usage[];

#endif
