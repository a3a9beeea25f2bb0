/* /proc/PID/status text (what a process's name can put there is attacker-chosen). */
#include "iotrace/proc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    struct proc_info info;
    memset(&info, 0, sizeof info);
    proc_parse_status(text, size, &info);
    if (info.have_comm && strlen(info.comm) >= sizeof info.comm)
        abort();
    free(text);
    return 0;
}
