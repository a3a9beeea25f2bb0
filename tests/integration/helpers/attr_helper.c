/* Helper for the attribution tests: opens files in the current directory, with a
 * rename and a change of user in between, each step held until the test says go (a
 * byte on stdin), so that the test can wait until iotrace has read the step before.
 *   attr-helper   open "before"; wait; rename to "renamed"; open "after"; wait;
 *                 become nobody; open "asnobody"; exit at once
 *   attr-helper final   open "ready"; wait; open "final"; exit at once */
#include <fcntl.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#define NOBODY 65534

static int touch(const char *name)
{
    int fd = open(name, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
    return fd >= 0 && close(fd) == 0 ? 0 : 1;
}

static int wait_for_go(void)
{
    char c;
    return read(0, &c, 1) == 1 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "final") == 0)
        return touch("ready") || wait_for_go() || touch("final");
    if (touch("before") || wait_for_go())
        return 1;
    if (prctl(PR_SET_NAME, "renamed", 0, 0, 0) != 0 || touch("after") || wait_for_go())
        return 1;
    if (setresgid(NOBODY, NOBODY, NOBODY) != 0 || setresuid(NOBODY, NOBODY, NOBODY) != 0)
        return 1;
    return touch("asnobody");
}
