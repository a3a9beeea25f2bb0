#include "iotrace/options.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char options_usage[] =
    "Usage: iotrace [OPTION]...\n"
    "Show every file access on this machine, live: process, user, event types, path.\n"
    "\n"
    "  -c, --current-mount      only the mount that holds the current directory\n"
    "  -o, --output=FILE        write events to FILE (a new file) instead of stdout\n"
    "  -s, --seconds=N          stop after N seconds\n"
    "  -t, --timestamp          prefix each event with HH:MM:SS.uuuuuu;\n"
    "                           twice (-tt) for seconds since the epoch\n"
    "  -u, --user               show the user the access was made as\n"
    "                           (for Samba: user@client-address)\n"
    "  -p, --ignore-pid=PID     ignore this process (repeatable)\n"
    "  -f, --filter=TYPES       only these event types, e.g. -f W or -f OC\n"
    "  -C, --command=COMM       only processes with this name (repeatable)\n"
    "  -j, --json               one JSON object per line (JSON Lines)\n"
    "  -e, --exe                add the executable's path (exe=PATH)\n"
    "  -P, --parents            add the chain of parent processes, up to init:\n"
    "                           parents=(pid=N comm=NAME),...\n"
    "  -h, --help               show this help and exit\n"
    "  -V, --version            show the version and exit\n"
    "\n"
    "Event types: R read, W write, O open, C close, + create, D delete,\n"
    "< moved from, > moved to, A attributes changed.\n"
    "Text lines read  COMM(PID): TYPES PATH  or, with -u,  COMM(PID) [USER]: TYPES PATH.\n"
    "Needs root (CAP_SYS_ADMIN): sudo iotrace -c\n"
    "See iotrace(8) for the output formats, the JSON fields and what fanotify cannot see.\n";

static int parse_long(const char *text, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

enum options_result options_parse(int argc, char **argv, struct config *cfg,
                                  char *err, size_t err_size)
{
    static const struct option long_options[] = {
        { "current-mount", no_argument, NULL, 'c' },
        { "output", required_argument, NULL, 'o' },
        { "seconds", required_argument, NULL, 's' },
        { "timestamp", no_argument, NULL, 't' },
        { "user", no_argument, NULL, 'u' },
        { "ignore-pid", required_argument, NULL, 'p' },
        { "filter", required_argument, NULL, 'f' },
        { "command", required_argument, NULL, 'C' },
        { "json", no_argument, NULL, 'j' },
        { "exe", no_argument, NULL, 'e' },
        { "parents", no_argument, NULL, 'P' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    long value;
    char bad;

    cfg->filter.types = EV_ALL_TYPES;
    optind = 0; /* also resets getopt's internal state, so tests can parse twice */
    opterr = 0;
    for (;;) {
        int c = getopt_long(argc, argv, ":co:s:tup:f:C:jePhV", long_options, NULL);
        if (c == -1)
            break;
        switch (c) {
        case 'c':
            cfg->current_mount = true;
            break;
        case 'o':
            if (optarg[0] == '\0') {
                snprintf(err, err_size, "--output needs a file name");
                return OPTIONS_ERROR;
            }
            cfg->output_path = optarg;
            break;
        case 's':
            if (parse_long(optarg, 1, INT_MAX, &value) != 0) {
                snprintf(err, err_size, "invalid number of seconds '%s' (a whole number, 1 or more)", optarg);
                return OPTIONS_ERROR;
            }
            cfg->seconds = value;
            break;
        case 't':
            if (++cfg->timestamp > 2) {
                snprintf(err, err_size, "--timestamp can be given at most twice");
                return OPTIONS_ERROR;
            }
            break;
        case 'u':
            cfg->user = true;
            break;
        case 'p':
            if (parse_long(optarg, 1, INT_MAX, &value) != 0) {
                snprintf(err, err_size, "invalid process id '%s'", optarg);
                return OPTIONS_ERROR;
            }
            if (filter_add_ignore_pid(&cfg->filter, (pid_t)value) != 0) {
                snprintf(err, err_size, "out of memory");
                return OPTIONS_ERROR;
            }
            break;
        case 'f':
            if (event_types_parse(optarg, &cfg->filter.types, &bad) != 0) {
                if (bad)
                    snprintf(err, err_size, "unknown event type '%c' in --filter (use R W O C + D < > A)", bad);
                else
                    snprintf(err, err_size, "--filter needs at least one event type (R W O C + D < > A)");
                return OPTIONS_ERROR;
            }
            break;
        case 'C':
            if (optarg[0] == '\0' || filter_add_command(&cfg->filter, optarg) != 0) {
                snprintf(err, err_size, "--command needs a process name");
                return OPTIONS_ERROR;
            }
            break;
        case 'j':
            cfg->json = true;
            break;
        case 'e':
            cfg->exe = true;
            break;
        case 'P':
            cfg->parents = true;
            break;
        case 'h':
            return OPTIONS_HELP;
        case 'V':
            return OPTIONS_VERSION;
        case ':':
            snprintf(err, err_size, "option '%s' needs a value", argv[optind - 1]);
            return OPTIONS_ERROR;
        default:
            if (optopt)
                snprintf(err, err_size, "unknown option '-%c'", optopt);
            else
                snprintf(err, err_size, "unknown option '%s'", argv[optind - 1]);
            return OPTIONS_ERROR;
        }
    }
    if (optind < argc) {
        snprintf(err, err_size, "unexpected argument '%s'", argv[optind]);
        return OPTIONS_ERROR;
    }
    return OPTIONS_RUN;
}

void config_free(struct config *cfg)
{
    filter_free(&cfg->filter);
}
