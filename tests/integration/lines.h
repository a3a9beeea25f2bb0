/* Reading iotrace's output back the way a script would: text lines split into their
 * fields and un-escaped, JSON lines parsed strictly. Every line is checked, so a single
 * malformed line fails the test. */
#ifndef IOTRACE_TEST_LINES_H
#define IOTRACE_TEST_LINES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct parsed_line {
    char comm[256];
    size_t comm_len;
    long pid;
    char types[16];
    char path[16384];  /* the exact bytes; path_len -1 when the line has no path */
    long path_len;
    unsigned long long inode; /* text "device M:N inode I" or JSON "inode", else 0 */
    bool has_inode;
    bool no_file;  /* text "?": the kernel could not open the file */
};

/* Calls fn for every line of iotrace's output; fails the test on a line that does not
 * parse (text: a raw control byte, a bad escape, a wrong shape; JSON: invalid JSON). */
void for_each_line(const char *output, bool json, void (*fn)(const struct parsed_line *, void *), void *ctx);

#endif
