/* The escapers, by their contract: text output has no control byte (and no space when
 * asked) and un-escapes to the exact input; JSON output is one valid JSON string that
 * decodes to the input when it is valid UTF-8. */
#include "iotrace/format.h"
#include "unescape.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    struct strbuf out = { 0 };
    char *back = malloc(size * 4 + 8);

    for (int space_too = 0; space_too < 2; space_too++) {
        strbuf_reset(&out);
        escape_text(in, size, space_too, &out);
        for (size_t i = 0; i < out.len; i++) {
            unsigned char c = (unsigned char)out.data[i];
            if (c < 0x20 || c == 0x7f || (space_too && c == ' '))
                abort();
        }
        long n = text_unescape(out.data, out.len, back);
        if (n != (long)size || memcmp(back, in, size) != 0)
            abort();
    }

    strbuf_reset(&out);
    bool valid = escape_json(in, size, &out);
    if (valid != utf8_valid(data, size))
        abort();
    size_t used;
    long n = json_string_decode(out.data, out.len, back, &used);
    if (n < 0 || used != out.len)
        abort(); /* not one valid JSON string */
    if (valid && (n != (long)size || memcmp(back, in, size) != 0))
        abort();

    free(back);
    strbuf_free(&out);
    return 0;
}
