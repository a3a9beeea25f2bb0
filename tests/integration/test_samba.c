/* A Samba share on 127.0.0.1: every line for the share names the client's user and
 * address. The test runs its own smbd (private config, port, state and share on a
 * private tmpfs), with two users it creates and removes. */
#include "harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const users[] = { "iotrace-sa", "iotrace-sb" };
static pid_t smbd;
static int port;
static char state_dir[160];

static void stop_smbd(void)
{
    if (smbd > 0) {
        kill(-smbd, SIGTERM);
        for (int i = 0; i < 100 && waitpid(smbd, NULL, WNOHANG) == 0; i++)
            usleep(50000);
        kill(-smbd, SIGKILL);
        smbd = 0;
    }
    /* smbd's children may have left its process group: end every process that runs
     * with this test's configuration or as its users. This process is a subreaper, so
     * the orphans are ours to reap. */
    shell("pkill -KILL -f -- '-s %s/smb.conf' 2>/dev/null", state_dir);
    for (size_t i = 0; i < 2; i++)
        shell("pkill -KILL -u %s 2>/dev/null", users[i]);
    for (int i = 0; i < 50; i++) {
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
        if (shell("pgrep -f -- '-s %s/smb.conf' >/dev/null", state_dir) != 0)
            break;
        usleep(50000);
    }
}

static void remove_users(void)
{
    for (size_t i = 0; i < 2; i++)
        for (int tries = 0; tries < 20 && shell("id %s >/dev/null 2>&1", users[i]) == 0; tries++) {
            if (shell("userdel %s 2>/dev/null", users[i]) != 0)
                usleep(100000); /* a process of the user is still being reaped */
        }
}

static int teardown(void **state)
{
    stop_smbd();
    remove_users();
    if (state_dir[0])
        shell("rm -rf %s", state_dir);
    struct scene *s = *state;
    if (s) /* the test's own files, so that the scene's directory can be removed */
        shell("rm -f %s/upload.txt %s/a.back %s/b.back", s->dir, s->dir, s->dir);
    return scene_teardown(state);
}

static int setup(void **state)
{
    if (scene_setup(state) != 0)
        return -1;
    struct scene *s = *state;
    port = 40000 + (int)(getpid() % 20000);
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    snprintf(state_dir, sizeof state_dir, "%s/samba", s->dir);
    chmod(s->dir, 0755); /* smbd, as the user, must reach the share */
    chmod(s->mnt, 01777);
    if (shell("mkdir -p %s/lock %s/state %s/cache %s/private %s/pid %s/log", state_dir, state_dir, state_dir,
              state_dir, state_dir, state_dir) != 0)
        goto fail;
    char conf[256];
    snprintf(conf, sizeof conf, "%s/smb.conf", state_dir);
    FILE *f = fopen(conf, "w");
    if (!f)
        goto fail;
    fprintf(f,
            "[global]\n workgroup = IOTRACE\n server role = standalone server\n interfaces = lo\n"
            " bind interfaces only = yes\n smb ports = %d\n disable netbios = yes\n"
            " lock directory = %s/lock\n state directory = %s/state\n cache directory = %s/cache\n"
            " private dir = %s/private\n pid directory = %s/pid\n ncalrpc dir = %s/state/ncalrpc\n"
            " log file = %s/log/log.%%m\n passdb backend = tdbsam:%s/private/passdb.tdb\n"
            " load printers = no\n printing = bsd\n printcap name = /dev/null\n disable spoolss = yes\n"
            " server min protocol = SMB2\n"
            "[share]\n path = %s\n read only = no\n",
            port, state_dir, state_dir, state_dir, state_dir, state_dir, state_dir, state_dir, state_dir, s->mnt);
    fclose(f);
    remove_users(); /* left by a run that was killed */
    for (size_t i = 0; i < 2; i++) {
        if (shell("useradd -M -s /usr/sbin/nologin %s", users[i]) != 0 ||
            shell("printf 'Secret-123\\nSecret-123\\n' | smbpasswd -c %s -s -a %s >/dev/null", conf, users[i]) != 0)
            goto fail;
    }
    smbd = fork();
    if (smbd == 0) {
        setpgid(0, 0); /* so that teardown ends smbd and every child it forked */
        int null = open("/dev/null", O_RDWR);
        dup2(null, 1);
        dup2(null, 2);
        execlp("smbd", "smbd", "--foreground", "--no-process-group", "-s", conf, "--debuglevel=0", (char *)NULL);
        _exit(127);
    }
    setpgid(smbd, smbd);
    /* ready when it answers */
    for (int i = 0; i < 100; i++) {
        /* both users can log in and list the share: smbd is ready */
        if (shell("smbclient //127.0.0.1/share -p %d -U %s%%Secret-123 -c ls >/dev/null 2>&1", port, users[0]) == 0 &&
            shell("smbclient //127.0.0.1/share -p %d -U %s%%Secret-123 -c ls >/dev/null 2>&1", port, users[1]) == 0)
            return 0;
        usleep(100000);
    }
    fprintf(stderr, "smbd did not start on port %d\n", port);
fail:
    teardown(state);
    *state = NULL;
    return -1;
}

static void smbclient_as(struct scene *s, const char *user, const char *commands)
{
    char ua[64];
    snprintf(ua, sizeof ua, "%s%%Secret-123", user);
    char p[16];
    snprintf(p, sizeof p, "%d", port);
    char svc[64];
    snprintf(svc, sizeof svc, "//127.0.0.1/share");
    run_cmd(s, A("smbclient", svc, "-p", p, "-U", ua, "-c", commands));
}

static void test_share_users_and_clients(void **state)
{
    struct scene *s = *state;
    char local[256];
    snprintf(local, sizeof local, "%s/upload.txt", s->dir);
    FILE *f = fopen(local, "w");
    fputs("report\n", f);
    fclose(f);

    start_tracer(s, A("-c", "-u"));
    char cmds[1024];
    snprintf(cmds, sizeof cmds, "put %s a.txt; get a.txt %s/a.back; rename a.txt a2.txt; del a2.txt", local, s->dir);
    smbclient_as(s, users[0], cmds);
    snprintf(cmds, sizeof cmds, "put %s b.txt; get b.txt %s/b.back", local, s->dir);
    smbclient_as(s, users[1], cmds);
    stop_tracer(s);

    char want_a[128], want_b[128];
    snprintf(want_a, sizeof want_a, " [%s@127.0.0.1]: ", users[0]);
    snprintf(want_b, sizeof want_b, " [%s@127.0.0.1]: ", users[1]);

    /* What each user did, by the letters on their files' lines. The kernel merges
     * events still queued (a create and the rename away of the same name can arrive as
     * one "+<" line), so letters are checked, not lines. Directory events carry the
     * name at the time; reads and writes are named when read, so alice's a.txt may show
     * as a2.txt by then. */
    static const struct {
        int user;
        const char *file, *letters;
    } expected[] = {
        { 0, "a.txt", "+<" },  /* uploaded, then renamed away */
        { 0, "a2.txt", ">D" }, /* renamed here, then deleted */
        { 1, "b.txt", "+WR" }, /* uploaded and downloaded */
    };
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
        char prefix[160], path[256];
        snprintf(prefix, sizeof prefix, "smbd(");
        snprintf(path, sizeof path, "%s/%s", s->mnt, expected[i].file);
        const char *got = types_for(s->out, prefix, path);
        for (const char *c = expected[i].letters; *c; c++)
            if (!strchr(got, *c))
                fail_msg("no '%c' for %s (got '%s') in:\n%s", *c, path, got, s->out);
    }

    /* every smbd line for the share names its user and 127.0.0.1, and never the other */
    char *whole = strdup(s->out); /* for messages: strtok cuts s->out */
    int lines[2] = { 0, 0 };
    for (char *line = strtok(s->out, "\n"); line; line = strtok(NULL, "\n")) {
        if (!strstr(line, s->mnt) || strncmp(line, "smbd(", 5) != 0)
            continue;
        bool is_a = strstr(line, want_a) != NULL, is_b = strstr(line, want_b) != NULL;
        if (!is_a && !is_b)
            fail_msg("a line for the share without a client user: %s\nin:\n%s", line, whole);
        if ((strstr(line, "/a.txt") || strstr(line, "/a2.txt")) && !is_a)
            fail_msg("%s's file attributed to someone else: %s", users[0], line);
        if (strstr(line, "/b.txt") && !is_b)
            fail_msg("%s's file attributed to someone else: %s", users[1], line);
        lines[is_a ? 0 : 1]++;
    }
    free(whole);
    assert_true(lines[0] > 0 && lines[1] > 0);
}

int main(void)
{
    if (geteuid() != 0) {
        printf("samba tests skipped: they need root\n");
        return 0;
    }
    if (system("command -v smbd >/dev/null && command -v smbclient >/dev/null") != 0) {
        printf("samba tests skipped: smbd and smbclient are not installed (apt-get install samba smbclient)\n");
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_share_users_and_clients, setup, teardown),
    };
    return cmocka_run_group_tests_name("samba share: users and client addresses", tests, NULL, NULL);
}
