#include "iotrace/summary.h"
#include "iotrace/format.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum table_kind { FILES, PROCESSES, USERS, N_TABLES };

struct counts {
    unsigned long events;
    unsigned long by_type[SUMMARY_TYPES];
};

struct entry {
    char *key;      /* FILES: path bytes; PROCESSES: name; USERS: unused */
    size_t key_len;
    long id;        /* PROCESSES: pid; USERS: uid, or -1 when unknown */
    struct counts c;
};

/* Open addressing, grown by doubling up to twice the key limit. */
struct table {
    struct entry *slots;
    size_t n_slots;
    size_t n_keys;
    struct counts untracked; /* events of keys beyond the limit */
};

struct summary {
    size_t max_keys;
    struct timespec start;
    struct counts total;
    struct table tables[N_TABLES];
};

static const char *const table_title[N_TABLES] = { "FILE", "PROCESS", "USER" };
static const char *const table_plural[N_TABLES] = { "files", "processes", "users" };

struct summary *summary_new(size_t max_keys, const struct timespec *start)
{
    struct summary *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->max_keys = max_keys ? max_keys : 1;
    s->start = *start;
    return s;
}

static void table_clear(struct table *t)
{
    for (size_t i = 0; i < t->n_slots; i++)
        free(t->slots[i].key);
    free(t->slots);
    memset(t, 0, sizeof *t);
}

void summary_free(struct summary *s)
{
    if (!s)
        return;
    for (int k = 0; k < N_TABLES; k++)
        table_clear(&s->tables[k]);
    free(s);
}

void summary_reset(struct summary *s, const struct timespec *start)
{
    for (int k = 0; k < N_TABLES; k++)
        table_clear(&s->tables[k]);
    memset(&s->total, 0, sizeof s->total);
    s->start = *start;
}

unsigned long summary_events(const struct summary *s)
{
    return s->total.events;
}

static uint64_t hash_of(const char *key, size_t len, long id)
{
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)id; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)key[i]) * 1099511628211ULL;
    return h;
}

static struct entry *probe(struct entry *slots, size_t n_slots, const char *key, size_t len, long id)
{
    size_t i = hash_of(key, len, id) & (n_slots - 1);
    while (slots[i].key && !(slots[i].id == id && slots[i].key_len == len && memcmp(slots[i].key, key, len) == 0))
        i = (i + 1) & (n_slots - 1);
    return &slots[i];
}

static int grow(struct table *t)
{
    size_t n = t->n_slots ? t->n_slots * 2 : 64;
    struct entry *slots = calloc(n, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < t->n_slots; i++)
        if (t->slots[i].key)
            *probe(slots, n, t->slots[i].key, t->slots[i].key_len, t->slots[i].id) = t->slots[i];
    free(t->slots);
    t->slots = slots;
    t->n_slots = n;
    return 0;
}

static void count(struct counts *c, unsigned types)
{
    c->events++;
    for (unsigned i = 0; i < SUMMARY_TYPES; i++)
        if (types & (1u << i))
            c->by_type[i]++;
}

static void add(struct summary *s, enum table_kind kind, const char *key, size_t len, long id, unsigned types)
{
    struct table *t = &s->tables[kind];
    /* keep the load at most one half: probes stay short */
    if ((t->n_keys + 1) * 2 > t->n_slots && t->n_keys < s->max_keys && grow(t) != 0) {
        count(&t->untracked, types); /* out of memory: counted, not told apart */
        return;
    }
    struct entry *e = probe(t->slots, t->n_slots, key, len, id);
    if (!e->key) {
        char *copy = t->n_keys < s->max_keys ? malloc(len + 1) : NULL;
        if (!copy) {
            count(&t->untracked, types);
            return;
        }
        memcpy(copy, key, len);
        copy[len] = '\0';
        *e = (struct entry){ .key = copy, .key_len = len, .id = id };
        t->n_keys++;
    }
    count(&e->c, types);
}

void summary_add(struct summary *s, const struct event *ev)
{
    count(&s->total, ev->types);
    char fallback[96];
    if (ev->path) {
        add(s, FILES, ev->path, ev->path_len, 0, ev->types);
    } else {
        int n = ev->have_inode ? snprintf(fallback, sizeof fallback, "device %u:%u inode %" PRIu64,
                                          ev->dev_major, ev->dev_minor, ev->inode)
                               : snprintf(fallback, sizeof fallback, "?");
        add(s, FILES, fallback, (size_t)n, 0, ev->types);
    }
    const char *comm = ev->proc && ev->proc->have_comm ? ev->proc->comm : "unknown";
    add(s, PROCESSES, comm, strlen(comm), (long)ev->pid, ev->types);
    bool ids = ev->proc && ev->proc->have_ids && !ev->user_unknown;
    add(s, USERS, "", 0, ids ? (long)ev->uid : -1, ev->types);
}

static int compare_entries(const void *a, const void *b)
{
    const struct entry *x = *(const struct entry *const *)a, *y = *(const struct entry *const *)b;
    if (x->c.events != y->c.events)
        return x->c.events > y->c.events ? -1 : 1;
    if (x->id != y->id)
        return x->id < y->id ? -1 : 1;
    size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int cmp = memcmp(x->key, y->key, n);
    return cmp ? cmp : (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

/* The table's entries, sorted; the caller frees the array (not the entries). */
static const struct entry **sorted(const struct table *t)
{
    const struct entry **rows = malloc((t->n_keys ? t->n_keys : 1) * sizeof *rows);
    if (!rows)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < t->n_slots; i++)
        if (t->slots[i].key)
            rows[n++] = &t->slots[i];
    qsort(rows, n, sizeof *rows, compare_entries);
    return rows;
}

static void add_counts(struct counts *sum, const struct counts *c)
{
    sum->events += c->events;
    for (int i = 0; i < SUMMARY_TYPES; i++)
        sum->by_type[i] += c->by_type[i];
}

/* What the rows beyond the top hold, with the untracked events. */
static struct counts rest_of(const struct table *t, const struct entry **rows, size_t shown)
{
    struct counts rest = t->untracked;
    for (size_t i = shown; i < t->n_keys; i++)
        add_counts(&rest, &rows[i]->c);
    return rest;
}

static const char letters[] = "RCWO+D<>A";

static void put_time_of_day(const struct timespec *t, struct strbuf *out)
{
    struct tm tm;
    char text[16];
    localtime_r(&t->tv_sec, &tm);
    strftime(text, sizeof text, "%H:%M:%S", &tm);
    strbuf_puts(out, text);
}

static void put_counts_text(const struct counts *c, const bool *columns, struct strbuf *out)
{
    strbuf_printf(out, "%8lu", c->events);
    for (int i = 0; i < SUMMARY_TYPES; i++)
        if (columns[i])
            strbuf_printf(out, "%8lu", c->by_type[i]);
    strbuf_puts(out, "  ");
}

static void put_key_text(enum table_kind kind, const struct entry *e, summary_user_name_fn user_name,
                         void *ctx, struct strbuf *out)
{
    if (kind == FILES) {
        escape_text(e->key, e->key_len, false, out);
    } else if (kind == PROCESSES) {
        escape_text(e->key, e->key_len, true, out);
        strbuf_printf(out, "(%ld)", e->id);
    } else if (e->id < 0) {
        strbuf_putc(out, '?');
    } else {
        const char *name = user_name ? user_name(ctx, (uid_t)e->id) : NULL;
        if (name)
            escape_text(name, strlen(name), true, out);
        else
            strbuf_printf(out, "%ld", e->id);
    }
}

void summary_report_text(const struct summary *s, size_t top, const struct timespec *end,
                         summary_user_name_fn user_name, void *ctx, struct strbuf *out)
{
    strbuf_puts(out, "iotrace summary, ");
    put_time_of_day(&s->start, out);
    strbuf_puts(out, " to ");
    put_time_of_day(end, out);
    if (s->total.events == 0) {
        strbuf_puts(out, ": no events\n");
        return;
    }
    strbuf_printf(out, ": %lu event%s\n", s->total.events, s->total.events == 1 ? "" : "s");
    bool columns[SUMMARY_TYPES];
    for (int i = 0; i < SUMMARY_TYPES; i++)
        columns[i] = s->total.by_type[i] > 0;

    for (int k = 0; k < N_TABLES; k++) {
        const struct table *t = &s->tables[k];
        const struct entry **rows = sorted(t);
        if (!rows)
            return;
        strbuf_printf(out, "%8s", "EVENTS");
        for (int i = 0; i < SUMMARY_TYPES; i++)
            if (columns[i])
                strbuf_printf(out, "%8c", letters[i]);
        strbuf_printf(out, "  %s\n", table_title[k]);
        size_t shown = t->n_keys < top ? t->n_keys : top;
        for (size_t i = 0; i < shown; i++) {
            put_counts_text(&rows[i]->c, columns, out);
            put_key_text((enum table_kind)k, rows[i], user_name, ctx, out);
            strbuf_putc(out, '\n');
        }
        struct counts rest = rest_of(t, rows, shown);
        if (rest.events) {
            put_counts_text(&rest, columns, out);
            strbuf_printf(out, "(%zu more %s", t->n_keys - shown, table_plural[k]);
            if (t->untracked.events)
                strbuf_printf(out, ", and more not told apart: at most %zu are tracked", s->max_keys);
            strbuf_puts(out, ")\n");
        }
        free(rows);
    }
}

static void put_counts_json(const struct counts *c, struct strbuf *out)
{
    strbuf_printf(out, "\"events\":%lu,\"types\":{", c->events);
    bool first = true;
    for (int i = 0; i < SUMMARY_TYPES; i++) {
        if (!c->by_type[i])
            continue;
        strbuf_printf(out, "%s\"%c\":%lu", first ? "" : ",", letters[i], c->by_type[i]);
        first = false;
    }
    strbuf_putc(out, '}');
}

static void put_key_json(enum table_kind kind, const struct entry *e, summary_user_name_fn user_name,
                         void *ctx, struct strbuf *out)
{
    if (kind == FILES) {
        format_json_field("path", e->key, e->key_len, out);
    } else if (kind == PROCESSES) {
        format_json_field("comm", e->key, e->key_len, out);
        strbuf_printf(out, ",\"pid\":%ld", e->id);
    } else if (e->id < 0) {
        strbuf_puts(out, "\"user\":null,\"uid\":null");
    } else {
        const char *name = user_name ? user_name(ctx, (uid_t)e->id) : NULL;
        if (name)
            format_json_field("user", name, strlen(name), out);
        else
            strbuf_puts(out, "\"user\":null");
        strbuf_printf(out, ",\"uid\":%ld", e->id);
    }
}

static void put_epoch(const struct timespec *t, struct strbuf *out)
{
    strbuf_printf(out, "%lld.%06ld", (long long)t->tv_sec, t->tv_nsec / 1000);
}

void summary_report_json(const struct summary *s, size_t top, const struct timespec *end,
                         summary_user_name_fn user_name, void *ctx, struct strbuf *out)
{
    strbuf_puts(out, "{\"summary\":{\"start\":");
    put_epoch(&s->start, out);
    strbuf_puts(out, ",\"end\":");
    put_epoch(end, out);
    strbuf_putc(out, ',');
    put_counts_json(&s->total, out);
    strbuf_printf(out, ",\"limit\":%zu", s->max_keys);
    for (int k = 0; k < N_TABLES; k++) {
        const struct table *t = &s->tables[k];
        const struct entry **rows = sorted(t);
        if (!rows)
            break;
        strbuf_printf(out, ",\"%s\":[", table_plural[k]);
        size_t shown = t->n_keys < top ? t->n_keys : top;
        for (size_t i = 0; i < shown; i++) {
            strbuf_puts(out, i ? ",{" : "{");
            put_key_json((enum table_kind)k, rows[i], user_name, ctx, out);
            strbuf_putc(out, ',');
            put_counts_json(&rows[i]->c, out);
            strbuf_putc(out, '}');
        }
        strbuf_putc(out, ']');
        struct counts rest = rest_of(t, rows, shown);
        if (rest.events) {
            strbuf_printf(out, ",\"%s_rest\":{\"count\":%zu,\"untracked\":%s,", table_plural[k],
                          t->n_keys - shown, t->untracked.events ? "true" : "false");
            put_counts_json(&rest, out);
            strbuf_putc(out, '}');
        }
        free(rows);
    }
    strbuf_puts(out, "}}\n");
}
