#include "iotrace/options.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char options_usage[] =
    "Usage: iotrace [OPTION]... [PATH]...\n"
    "Show every file access on this machine, live: process, user, event types, path.\n"
    "With PATH arguments, only accesses under these directories (recursively).\n"
    "\n"
    "  -c, --current-mount      only the mount that holds the current directory\n"
    "  -o, --output=FILE        write events to FILE (a new file) instead of stdout;\n"
    "                           SIGHUP reopens FILE (for logrotate)\n"
    "      --append             with -o, add to FILE when it exists\n"
    "  -s, --seconds=N          stop after N seconds\n"
    "  -t, --timestamp          prefix each event with HH:MM:SS.uuuuuu;\n"
    "                           twice (-tt) for seconds since the epoch\n"
    "  -u, --user               show the user the access was made as\n"
    "                           (for Samba: user@client-address; NFS servers: ?)\n"
    "  -p, --ignore-pid=PID     ignore this process (repeatable)\n"
    "  -f, --filter=TYPES       only these event types, e.g. -f W or -f OC\n"
    "  -C, --command=COMM       only processes with this name (repeatable)\n"
    "      --exclude-command=COMM  not processes with this name (repeatable)\n"
    "  -U, --only-user=USER     only accesses made as USER, a name or uid (repeatable)\n"
    "      --pid=PID            only this process (repeatable)\n"
    "      --children           with --pid, also the processes it starts from now on\n"
    "  -d, --dir=DIR            only files directly in DIR, not below (repeatable)\n"
    "      --exclude-path=PATH  not PATH nor anything under it (repeatable)\n"
    "  -j, --json               one JSON object per line (JSON Lines)\n"
    "      --inode              with -j, every file's device and inode too (as\n"
    "                           fatrace -j); costs one fstat per event\n"
    "      --unlimited-queue    never drop events when iotrace falls behind; the\n"
    "                           kernel's memory grows with the backlog instead\n"
    "      --format=FMT         each event as FMT: %T time, %t epoch time, %c command,\n"
    "                           %p pid, %u user, %U uid, %g gid, %e event types,\n"
    "                           %f path, %d device, %i inode, %% a percent sign;\n"
    "                           \\t tab, \\n newline. E.g. --format '%t,%c,%p,%e,%f'\n"
    "      --summary            at the end, the busiest files, processes and users,\n"
    "                           with counts per event type (on stderr; JSON with -j)\n"
    "      --interval=N         with --summary, also every N seconds\n"
    "      --top=N              rows per summary table (default 10)\n"
    "  -q, --quiet              no per-event lines: with --summary, a top-like view\n"
    "  -e, --exe                add the executable's path (exe=PATH)\n"
    "  -P, --parents            add the chain of parent processes, up to init:\n"
    "                           parents=(pid=N comm=NAME),...\n"
    "  -h, --help               show this help and exit\n"
    "  -V, --version            show the version and exit\n"
    "\n"
    "Event types: R read, W write, O open, C close, + create, D delete,\n"
    "< moved from, > moved to, A attributes changed.\n"
    "Text lines read  COMM(PID): TYPES PATH  or, with -u,  COMM(PID) [USER]: TYPES PATH.\n"
    "Needs root (CAP_SYS_ADMIN) to start; then keeps only CAP_DAC_READ_SEARCH.\n"
    "Example: sudo iotrace -c\n"
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

/* Long options without a short form. */
enum {
    OPT_PID = 256,
    OPT_CHILDREN,
    OPT_EXCLUDE_COMMAND,
    OPT_EXCLUDE_PATH,
    OPT_FORMAT,
    OPT_SUMMARY,
    OPT_INTERVAL,
    OPT_TOP,
    OPT_APPEND,
    OPT_UNLIMITED_QUEUE,
    OPT_INODE,
};

static int add_arg(const char ***list, size_t *n, const char *arg)
{
    const char **grown = realloc(*list, (*n + 1) * sizeof *grown);
    if (!grown)
        return -1;
    grown[(*n)++] = arg;
    *list = grown;
    return 0;
}

/* A user name, or a uid as a number (which need not have a name). */
static int parse_user(const char *text, uid_t *uid)
{
    long value;
    if (parse_long(text, 0, (long)UINT32_MAX - 1, &value) == 0) {
        *uid = (uid_t)value;
        return 0;
    }
    struct passwd pw, *found = NULL;
    char scratch[4096];
    if (getpwnam_r(text, &pw, scratch, sizeof scratch, &found) != 0 || !found)
        return -1;
    *uid = found->pw_uid;
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
        { "only-user", required_argument, NULL, 'U' },
        { "pid", required_argument, NULL, OPT_PID },
        { "children", no_argument, NULL, OPT_CHILDREN },
        { "exclude-command", required_argument, NULL, OPT_EXCLUDE_COMMAND },
        { "dir", required_argument, NULL, 'd' },
        { "exclude-path", required_argument, NULL, OPT_EXCLUDE_PATH },
        { "format", required_argument, NULL, OPT_FORMAT },
        { "summary", no_argument, NULL, OPT_SUMMARY },
        { "interval", required_argument, NULL, OPT_INTERVAL },
        { "top", required_argument, NULL, OPT_TOP },
        { "quiet", no_argument, NULL, 'q' },
        { "append", no_argument, NULL, OPT_APPEND },
        { "unlimited-queue", no_argument, NULL, OPT_UNLIMITED_QUEUE },
        { "inode", no_argument, NULL, OPT_INODE },
        { "exe", no_argument, NULL, 'e' },
        { "parents", no_argument, NULL, 'P' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    long value;
    char bad;

    cfg->filter.types = EV_ALL_TYPES;
    cfg->top = 10;
    optind = 0; /* also resets getopt's internal state, so tests can parse twice */
    opterr = 0;
    for (;;) {
        int c = getopt_long(argc, argv, ":co:s:tup:f:C:jU:d:qePhV", long_options, NULL);
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
        case 'U': {
            uid_t uid;
            if (parse_user(optarg, &uid) != 0) {
                snprintf(err, err_size, "unknown user '%s' (give a user name or a numeric uid)", optarg);
                return OPTIONS_ERROR;
            }
            if (filter_add_user(&cfg->filter, uid) != 0)
                goto out_of_memory;
            break;
        }
        case OPT_PID:
            if (parse_long(optarg, 1, INT_MAX, &value) != 0) {
                snprintf(err, err_size, "invalid process id '%s'", optarg);
                return OPTIONS_ERROR;
            }
            if (filter_add_pid(&cfg->filter, (pid_t)value) != 0)
                goto out_of_memory;
            break;
        case OPT_CHILDREN:
            cfg->filter.children = true;
            break;
        case OPT_EXCLUDE_COMMAND:
            if (optarg[0] == '\0') {
                snprintf(err, err_size, "--exclude-command needs a process name");
                return OPTIONS_ERROR;
            }
            if (filter_add_exclude_command(&cfg->filter, optarg) != 0)
                goto out_of_memory;
            break;
        case 'd':
            if (optarg[0] == '\0') {
                snprintf(err, err_size, "--dir needs a directory");
                return OPTIONS_ERROR;
            }
            if (add_arg(&cfg->dir_args, &cfg->n_dir_args, optarg) != 0)
                goto out_of_memory;
            break;
        case OPT_EXCLUDE_PATH:
            if (optarg[0] == '\0') {
                snprintf(err, err_size, "--exclude-path needs a path");
                return OPTIONS_ERROR;
            }
            if (add_arg(&cfg->exclude_path_args, &cfg->n_exclude_path_args, optarg) != 0)
                goto out_of_memory;
            break;
        case OPT_FORMAT:
            if (cfg->have_template)
                template_free(&cfg->template);
            if (template_parse(optarg, &cfg->template, err, err_size) != 0)
                return OPTIONS_ERROR;
            cfg->have_template = true;
            break;
        case OPT_SUMMARY:
            cfg->summary = true;
            break;
        case OPT_INTERVAL:
            if (parse_long(optarg, 1, INT_MAX, &value) != 0) {
                snprintf(err, err_size, "invalid --interval '%s' (a whole number of seconds, 1 or more)", optarg);
                return OPTIONS_ERROR;
            }
            cfg->interval = value;
            break;
        case OPT_TOP:
            if (parse_long(optarg, 1, 1000000, &value) != 0) {
                snprintf(err, err_size, "invalid --top '%s' (a whole number, 1 or more)", optarg);
                return OPTIONS_ERROR;
            }
            cfg->top = value;
            break;
        case 'q':
            cfg->quiet = true;
            break;
        case OPT_APPEND:
            cfg->append = true;
        break;
        case OPT_UNLIMITED_QUEUE:
            cfg->unlimited_queue = true;
            break;
        case OPT_INODE:
            cfg->inode = true;
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
        default: {
            const char *arg = argv[optind - 1];
            const char *eq = strchr(arg, '=');
            /* getopt sets optopt to a long option's letter, or 0: the word itself is the
             * clearer thing to name */
            if (strncmp(arg, "--", 2) == 0 && eq)
                snprintf(err, err_size, "option '%.*s' takes no value (or is unknown)", (int)(eq - arg), arg);
            else if (strncmp(arg, "--", 2) == 0)
                snprintf(err, err_size, "unknown option '%s'", arg);
            else
                snprintf(err, err_size, "unknown option '-%c'", optopt);
            return OPTIONS_ERROR;
        }
        }
    }
    for (; optind < argc; optind++) {
        if (argv[optind][0] == '\0') {
            snprintf(err, err_size, "an empty PATH argument");
            return OPTIONS_ERROR;
        }
        if (add_arg(&cfg->path_args, &cfg->n_path_args, argv[optind]) != 0)
            goto out_of_memory;
    }
    if (cfg->filter.children && cfg->filter.n_pids == 0) {
        snprintf(err, err_size, "--children needs --pid (whose children to follow?)");
        return OPTIONS_ERROR;
    }
    if ((cfg->interval || cfg->top != 10) && !cfg->summary) {
        snprintf(err, err_size, "%s needs --summary", cfg->interval ? "--interval" : "--top");
        return OPTIONS_ERROR;
    }
    if (cfg->inode && !cfg->json) {
        snprintf(err, err_size, "--inode is for JSON output (-j); with --format, use %%d and %%i");
        return OPTIONS_ERROR;
    }
    if (cfg->append && !cfg->output_path) {
        snprintf(err, err_size, "--append needs --output FILE");
        return OPTIONS_ERROR;
    }
    if (cfg->quiet && !cfg->summary) {
        snprintf(err, err_size, "--quiet needs --summary (otherwise nothing would be shown)");
        return OPTIONS_ERROR;
    }
    if (cfg->have_template && (cfg->json || cfg->timestamp || cfg->user)) {
        snprintf(err, err_size, "--format says what each line holds: it cannot be combined with %s "
                 "(use %%T or %%t for the time, %%u for the user)",
                 cfg->json ? "--json" : cfg->timestamp ? "--timestamp" : "--user");
        return OPTIONS_ERROR;
    }
    if (cfg->current_mount && (cfg->n_path_args || cfg->n_dir_args)) {
        snprintf(err, err_size, "--current-mount cannot be combined with PATH arguments or --dir");
        return OPTIONS_ERROR;
    }
    return OPTIONS_RUN;

out_of_memory:
    snprintf(err, err_size, "out of memory");
    return OPTIONS_ERROR;
}

static bool has_dot_component(const char *path)
{
    for (const char *p = path; (p = strchr(p, '/')) != NULL; p++) {
        size_t n = strcspn(p + 1, "/");
        if ((n == 1 && p[1] == '.') || (n == 2 && p[1] == '.' && p[2] == '.'))
            return true;
    }
    return false;
}

/* The canonical form of arg, in a malloc'd string, or NULL with errno set. */
static char *canonical_path(const char *arg, bool must_exist)
{
    char *path = realpath(arg, NULL);
    if (path || must_exist || errno != ENOENT)
        return path;
    /* A path that does not exist yet cannot be resolved: it is compared as given, so
     * it must already be in the kernel's form. */
    if (arg[0] != '/' || has_dot_component(arg)) {
        errno = ENOENT;
        return NULL;
    }
    return strdup(arg);
}

static int resolve_list(const char *const *args, size_t n, bool must_exist, bool must_be_dir,
                        int (*add)(struct filter *, const char *), struct filter *f,
                        const char *what, char *err, size_t err_size)
{
    for (size_t i = 0; i < n; i++) {
        char *path = canonical_path(args[i], must_exist);
        if (!path) {
            snprintf(err, err_size, "%s %s: %s%s", what, args[i], strerror(errno),
                     must_exist ? "" : " (a path that does not exist yet must be absolute, without . or ..)");
            return -1;
        }
        struct stat st;
        if (must_be_dir && (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))) {
            snprintf(err, err_size, "%s %s: Not a directory", what, args[i]);
            free(path);
            return -1;
        }
        int rc = add(f, path);
        free(path);
        if (rc != 0) {
            snprintf(err, err_size, "out of memory");
            return -1;
        }
    }
    return 0;
}

int options_resolve_paths(struct config *cfg, char *err, size_t err_size)
{
    if (resolve_list(cfg->path_args, cfg->n_path_args, true, false, filter_add_subtree, &cfg->filter,
                     "cannot watch", err, err_size) != 0 ||
        resolve_list(cfg->dir_args, cfg->n_dir_args, true, true, filter_add_dir, &cfg->filter,
                     "--dir", err, err_size) != 0 ||
        resolve_list(cfg->exclude_path_args, cfg->n_exclude_path_args, false, false,
                     filter_add_exclude_path, &cfg->filter, "--exclude-path", err, err_size) != 0)
        return -1;
    return 0;
}

void config_free(struct config *cfg)
{
    filter_free(&cfg->filter);
    if (cfg->have_template)
        template_free(&cfg->template);
    cfg->have_template = false;
    free(cfg->path_args);
    free(cfg->dir_args);
    free(cfg->exclude_path_args);
    cfg->path_args = cfg->dir_args = cfg->exclude_path_args = NULL;
    cfg->n_path_args = cfg->n_dir_args = cfg->n_exclude_path_args = 0;
}
