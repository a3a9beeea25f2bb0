#include "iotrace/pidns.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* The kernel gives the initial pid namespace this fixed inode number (PROC_PID_INIT_INO
 * in include/linux/proc_ns.h, since Linux 3.8); every other namespace gets another. */
#define PID_NS_INIT_INODE 0xEFFFFFFCu

bool pidns_is_initial(void)
{
    struct stat st;
    return stat("/proc/self/ns/pid", &st) == 0 && st.st_ino == PID_NS_INIT_INODE;
}

bool procfs_is_ours(const char *proc_root)
{
    char link[4096], target[32];
    snprintf(link, sizeof link, "%s/self", proc_root);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n <= 0)
        return false;
    target[n] = '\0';
    char *end;
    long pid = strtol(target, &end, 10);
    return *end == '\0' && pid == (long)getpid();
}
