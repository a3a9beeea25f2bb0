/* The read loop: wait for events and signals, read each fanotify group, run the
 * batches through the tracer, write them out, and report losses as they happen and at
 * exit. */
#ifndef IOTRACE_LOOP_H
#define IOTRACE_LOOP_H

#include "iotrace/options.h"
#include "iotrace/output.h"
#include "iotrace/procevents.h"
#include "iotrace/source.h"
#include "iotrace/tracer.h"

#include <signal.h>
#include <stdbool.h>

/* Blocks SIGINT, SIGTERM and SIGHUP (delivered only inside the loop's ppoll, with
 * run_mask) and ignores SIGPIPE. hup_reopens: with -o, SIGHUP reopens the file. */
int loop_setup_signals(sigset_t *run_mask, bool hup_reopens);

/* Keeps iotrace's own output file out of the file group's queue (an ignore mark). */
void loop_ignore_output_file(struct source *files, const struct output *out);

/* The fanotify groups (loop_run() reads the directory group first: see loop.c). */
enum { GROUP_FILES, GROUP_LISTINGS, GROUP_DIRS, GROUPS };

/* Runs until a stop signal, -s, or an error. Returns the exit status, or -1 to exit
 * quietly with 0 (the reader of the output went away). */
int loop_run(struct source *groups[GROUPS], struct procevents *pe, struct tracer *t, struct output *out,
             const struct config *cfg, const char *out_name, const sigset_t *run_mask);

/* The exit lines on stderr: what was shown, and what was lost or left out. */
void loop_report_exit(const struct tracer_stats *st, bool quiet);

#endif
