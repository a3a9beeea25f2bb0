/* An NFSv4 export served by nfs-ganesha on 127.0.0.1: every line for the export names
 * ganesha.nfsd, the full path and the event types, and no line claims a user or a
 * client (neither can be known: README, "NFS"). The test runs its own ganesha (private
 * config, free high port, state and recovery directories, export on a private tmpfs;
 * NFSv4 only, so no rpcbind is needed) and copies files in and out with libnfs's
 * nfs-cp, as root and as uid 65534. */
#include "harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOBODY 65534

static pid_t ganesha;
static int port;
static char state_dir[160];
static char conf[200];

/* A port nothing listens on now: the kernel's choice of a free one. */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    int p = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        p = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return p;
}

static void stop_ganesha(void)
{
    if (ganesha > 0) {
        kill(ganesha, SIGTERM);
        for (int i = 0; i < 300 && waitpid(ganesha, NULL, WNOHANG) == 0; i++)
            usleep(50000);
        kill(ganesha, SIGKILL);
        waitpid(ganesha, NULL, 0);
        ganesha = 0;
    }
    /* anything still running with this test's configuration: ours (this process is a
     * subreaper, so it is reaped here) */
    if (conf[0]) {
        shell("pkill -KILL -f -- '-f %s' 2>/dev/null", conf);
        for (int i = 0; i < 50; i++) {
            while (waitpid(-1, NULL, WNOHANG) > 0)
                ;
            if (shell("pgrep -f -- '-f %s' >/dev/null", conf) != 0)
                break;
            usleep(50000);
        }
    }
}

static int teardown(void **state)
{
    stop_ganesha();
    if (state_dir[0])
        shell("rm -rf %s", state_dir);
    return scene_teardown(state);
}

static void url(char *out, size_t size, const char *name, uid_t uid)
{
    int n = snprintf(out, size, "nfs://127.0.0.1/export%s%s?version=4&nfsport=%d", name[0] ? "/" : "", name, port);
    if (uid)
        snprintf(out + n, size - (size_t)n, "&uid=%u&gid=%u", (unsigned)uid, (unsigned)uid);
}

static int setup(void **state)
{
    if (scene_setup(state) != 0)
        return -1;
    struct scene *s = *state;
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    port = free_port();
    snprintf(state_dir, sizeof state_dir, "%s/nfs", s->dir);
    snprintf(conf, sizeof conf, "%s/ganesha.conf", state_dir);
    chmod(s->dir, 0755);
    chmod(s->mnt, 01777); /* uid 65534 creates files in the export */
    if (port < 0 || shell("mkdir -p %s/recovery", state_dir) != 0)
        goto fail;
    FILE *f = fopen(conf, "w");
    if (!f)
        goto fail;
    /* NFSv4 over TCP only: no NLM, rquota or UDP, so no rpcbind; the recovery database
     * (a directory per client) in the test's own directory, not /var/lib/nfs/ganesha */
    fprintf(f,
            "NFS_CORE_PARAM { Protocols = 4; NFS_Port = %d; Bind_addr = 127.0.0.1;\n"
            "  Enable_NLM = false; Enable_RQUOTA = false; Enable_UDP = false; }\n"
            "NFSv4 { Graceless = true; RecoveryBackend = fs; RecoveryRoot = %s/recovery; }\n"
            "NFS_KRB5 { Active_krb5 = false; }\n"
            "EXPORT { Export_Id = 1; Path = %s; Pseudo = /export; Access_Type = RW;\n"
            "  Squash = No_Root_Squash; Protocols = 4; Transports = TCP; SecType = sys;\n"
            "  FSAL { Name = VFS; } }\n",
            port, state_dir, s->mnt);
    fclose(f);
    char log[200], pidfile[200];
    snprintf(log, sizeof log, "%s/ganesha.log", state_dir);
    snprintf(pidfile, sizeof pidfile, "%s/ganesha.pid", state_dir);
    ganesha = fork();
    if (ganesha == 0) {
        int null = open("/dev/null", O_RDWR);
        dup2(null, 1);
        dup2(null, 2);
        execlp("ganesha.nfsd", "ganesha.nfsd", "-F", "-L", log, "-f", conf, "-p", pidfile, "-N", "NIV_EVENT",
               (char *)NULL);
        _exit(127);
    }
    if (ganesha < 0)
        goto fail;
    /* ready when the export can be listed */
    char root[256];
    url(root, sizeof root, "", 0);
    for (int i = 0; i < 200; i++) {
        if (waitpid(ganesha, NULL, WNOHANG) == ganesha) {
            ganesha = 0;
            fprintf(stderr, "ganesha.nfsd exited at start; its log:\n");
            shell("tail -20 %s >&2", log);
            goto fail;
        }
        if (shell("nfs-ls '%s' >/dev/null 2>&1", root) == 0)
            return 0;
        usleep(100000);
    }
    fprintf(stderr, "ganesha.nfsd did not serve on port %d\n", port);
fail:
    teardown(state);
    *state = NULL;
    return -1;
}

/* Uploads NAME as uid (0: root) and downloads it again; returns its path in the export. */
static const char *copy_in_and_out(struct scene *s, const char *name, uid_t uid, int slot)
{
    char local[256], back[256], remote[256];
    snprintf(local, sizeof local, "%s/%s.local", state_dir, name);
    snprintf(back, sizeof back, "%s/%s.back", state_dir, name);
    FILE *f = fopen(local, "w");
    assert_non_null(f);
    fprintf(f, "%s\n", name);
    fclose(f);
    url(remote, sizeof remote, name, uid);
    run_cmd(s, A("nfs-cp", local, remote));
    run_cmd(s, A("nfs-cp", remote, back));
    char *copy = read_file(back);
    assert_non_null(copy);
    char want[128];
    snprintf(want, sizeof want, "%s\n", name);
    assert_string_equal(copy, want);
    free(copy);
    /* the server acted as that user: the file is the user's */
    const char *path = in_mnt(s, name, slot);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_uid, uid);
    return path;
}

/* Every line from ganesha is `ganesha.nfsd(PID) [?]: TYPES PATH` with PATH in the export,
 * and the uploads and downloads of both users were all seen. */
static void test_text_lines(void **state)
{
    struct scene *s = *state;
    start_tracer(s, A("-c", "-u"));
    const char *as_root = copy_in_and_out(s, "root.txt", 0, 0);
    const char *as_nobody = copy_in_and_out(s, "nobody.txt", NOBODY, 1);
    stop_tracer(s);
    assert_int_equal(s->exit_status, 0);

    char prefix[64];
    snprintf(prefix, sizeof prefix, "ganesha.nfsd(%d) [?]: ", (int)ganesha);
    /* upload: created, opened, written, closed, mode set; download: read */
    const char *files[] = { as_root, as_nobody };
    for (size_t i = 0; i < 2; i++) {
        const char *types = types_for(s->out, prefix, files[i]);
        for (const char *want = "+OWCAR"; *want; want++)
            if (!strchr(types, *want))
                fail_msg("no '%c' for %s in:\n%s", *want, files[i], s->out);
    }
    char under[128];
    snprintf(under, sizeof under, " %s", s->mnt);
    int lines = 0;
    for (char *line = strtok(s->out, "\n"); line; line = strtok(NULL, "\n")) {
        if (!strstr(line, "ganesha"))
            continue;
        lines++;
        if (strncmp(line, prefix, strlen(prefix)) != 0)
            fail_msg("a line from ganesha claims a user or a client: %s", line);
        const char *path = strchr(line + strlen(prefix), ' ');
        if (!path || strncmp(path, under, strlen(under)) != 0 ||
            (path[strlen(under)] != '\0' && path[strlen(under)] != '/'))
            fail_msg("a line from ganesha without a full path in the export: %s", line);
    }
    /* per file, at least a line from each group (+ or A, and O W C R), which never merge */
    assert_true(lines >= 4);
}

/* JSON, --format and -U say the same: no uid, gid, user or client for ganesha. */
static void test_no_user_in_any_output(void **state)
{
    struct scene *s = *state;
    start_tracer(s, A("-c", "-j", "-u"));
    const char *path = copy_in_and_out(s, "json.txt", NOBODY, 0);
    stop_tracer(s);
    int lines = 0;
    for (char *line = strtok(s->out, "\n"); line; line = strtok(NULL, "\n")) {
        if (!strstr(line, "\"comm\":\"ganesha.nfsd\""))
            continue;
        lines++;
        if (strstr(line, "\"uid\"") || strstr(line, "\"gid\"") || strstr(line, "\"user\"") ||
            strstr(line, "\"client_addr\""))
            fail_msg("a JSON line from ganesha claims a user or a client: %s", line);
    }
    assert_true(lines >= 2); /* a line from each group, which never merge */

    start_tracer(s, A("-c", "--format", "%c(%p) %u %U %g: %e %f"));
    path = copy_in_and_out(s, "format.txt", NOBODY, 0);
    stop_tracer(s);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "ganesha.nfsd(%d) ? ? ?: ", (int)ganesha);
    const char *types = types_for(s->out, prefix, path);
    assert_non_null(strchr(types, '+'));
    assert_non_null(strchr(types, 'W'));
    assert_non_null(strchr(types, 'R'));
    for (char *line = strtok(s->out, "\n"); line; line = strtok(NULL, "\n"))
        if (strstr(line, "ganesha") && strncmp(line, prefix, strlen(prefix)) != 0)
            fail_msg("a --format line from ganesha claims a user: %s", line);

    /* neither root (the process) nor nobody (the client) is shown to have made them */
    start_tracer(s, A("-c", "-U", "root", "-U", "65534"));
    copy_in_and_out(s, "only-user.txt", NOBODY, 0);
    copy_in_and_out(s, "only-root.txt", 0, 1);
    stop_tracer(s);
    if (strstr(s->out, "ganesha"))
        fail_msg("-U matched an NFS server's access:\n%s", s->out);
}

int main(void)
{
    if (geteuid() != 0) {
        printf("nfs tests skipped: they need root\n");
        return 0;
    }
    if (system("command -v ganesha.nfsd >/dev/null && command -v nfs-cp >/dev/null && command -v nfs-ls >/dev/null"
               " && ls /usr/lib/*/ganesha/libfsalvfs.so >/dev/null 2>&1") != 0) {
        printf("nfs tests skipped: ganesha.nfsd (with its VFS backend) or nfs-cp is not installed "
               "(apt-get install nfs-ganesha nfs-ganesha-vfs libnfs-utils)\n");
        return 0;
    }
    /* another NFS server may be registered with rpcbind or D-Bus under the names this
     * test's ganesha would take */
    if (system("pgrep -x ganesha.nfsd >/dev/null || pgrep -x nfsd >/dev/null") == 0) {
        printf("nfs tests skipped: an NFS server is running on this machine\n");
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_text_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_user_in_any_output, setup, teardown),
    };
    return cmocka_run_group_tests_name("nfs export: the server's accesses, no user claimed", tests, NULL, NULL);
}
