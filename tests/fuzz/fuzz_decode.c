/* The record decoder over arbitrary bytes: it must stop (end or an error), never read
 * outside the buffer, and every record it returns must lie inside it. */
#include "iotrace/decode.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* an exact-size copy, so that ASan sees a read one byte past the end */
    unsigned char *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    struct decoder d;
    struct record r;
    decoder_init(&d, buf, size);
    size_t records = 0;
    while (decoder_next(&d, &r) == DECODE_RECORD) {
        if (d.off > size || ++records > size)
            abort(); /* past the end, or not advancing */
        (void)event_types_from_mask(r.mask);
    }
    free(buf);
    return 0;
}
