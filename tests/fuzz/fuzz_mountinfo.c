/* One /proc/self/mountinfo line (mount points are chosen by whoever mounts). */
#include "iotrace/mounts.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line = malloc(size + 1);
    memcpy(line, data, size);
    line[size] = '\0';
    struct mount_entry m;
    if (mountinfo_parse_line(line, &m) == 0) {
        /* every field points into the line */
        const char *fields[] = { m.mount_point, m.fstype, m.source };
        for (size_t i = 0; i < 3; i++)
            if (!fields[i] || fields[i] < line || fields[i] > line + size)
                abort();
        (void)fstype_is_pseudo(m.fstype);
    }
    free(line);
    return 0;
}
