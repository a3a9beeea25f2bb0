/* --summary: counts of events per file, process and user, per event type, and the
 * busiest of them as a table (text) or one JSON object. Pure: events in, text out.
 *
 * Memory is bounded: each table tracks at most max_keys keys (SUMMARY_MAX_KEYS in use);
 * events of further keys are counted together, and the report says so. */
#ifndef IOTRACE_SUMMARY_H
#define IOTRACE_SUMMARY_H

#include "iotrace/event.h"
#include "iotrace/strbuf.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#define SUMMARY_MAX_KEYS 10000
#define SUMMARY_TYPES 9 /* one counter per event letter, in the order RCWO+D<>A */

struct summary;

struct summary *summary_new(size_t max_keys, const struct timespec *start);
void summary_free(struct summary *s);

/* Counts one event: its path (or the text fallback), its process (name and pid) and
 * its user (ev->uid, the user shown; ev->proc->have_ids false counts as unknown). */
void summary_add(struct summary *s, const struct event *ev);

/* Forgets every count: the next report covers [start, its end]. */
void summary_reset(struct summary *s, const struct timespec *start);

/* uid -> name at report time (NULL when the uid has no name): names are looked up for
 * the rows shown only, not per event. */
typedef const char *(*summary_user_name_fn)(void *ctx, uid_t uid);

/* The top rows of each table, sorted by events, most first (ties: by path, pid, uid). */
void summary_report_text(const struct summary *s, size_t top, const struct timespec *end,
                         summary_user_name_fn user_name, void *ctx, struct strbuf *out);
void summary_report_json(const struct summary *s, size_t top, const struct timespec *end,
                         summary_user_name_fn user_name, void *ctx, struct strbuf *out);

unsigned long summary_events(const struct summary *s);

#endif
