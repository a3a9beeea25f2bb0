/* Netlink datagrams of process events and taskstats exit records. */
#include "iotrace/procevents.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    void *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    struct proc_change out[8];
    size_t n = proc_changes_parse(buf, size, out, 8);
    for (size_t i = 0; i < n; i++)
        if (memchr(out[i].comm, '\0', sizeof out[i].comm) == NULL)
            abort();
    n = exit_changes_parse(buf, size, out, 8);
    for (size_t i = 0; i < n; i++)
        if (memchr(out[i].comm, '\0', sizeof out[i].comm) == NULL)
            abort();
    free(buf);
    return 0;
}
