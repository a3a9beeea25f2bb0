#include "iotrace/privileges.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

uint64_t privileges_to_keep(void)
{
    return CAP_BIT(CAP_DAC_READ_SEARCH) | CAP_BIT(CAP_SYS_PTRACE);
}

int privileges_drop(uint64_t keep)
{
    struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3 };
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

    if (syscall(SYS_capget, &header, data) != 0)
        return -errno;
    uint64_t permitted = data[0].permitted | (uint64_t)data[1].permitted << 32;
    keep &= permitted;

    /* iotrace never execs; this makes sure nothing it could be tricked into running
     * gains privileges from set-uid bits or file capabilities */
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return -errno;
    /* the bounding set needs CAP_SETPCAP, so it goes before capset drops that */
    if (permitted & CAP_BIT(CAP_SETPCAP)) {
        for (int cap = 0; cap < 64 && prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++) {
            if (!(keep & CAP_BIT(cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0)
                return -errno;
        }
    }
    /* EINVAL: a kernel before 4.3, which has no ambient set */
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
        return -errno;

    memset(data, 0, sizeof data);
    for (int i = 0; i < 2; i++) {
        data[i].permitted = (uint32_t)(keep >> (32 * i));
        data[i].effective = data[i].permitted;
    }
    if (syscall(SYS_capset, &header, data) != 0)
        return -errno;
    return 0;
}
