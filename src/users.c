#include "iotrace/users.h"

#include <pwd.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define NAME_TTL 60
#define MISSING_TTL 2

struct user_entry {
    uid_t uid;
    bool used;
    bool has_name;
    long expires;
    char name[256];
};

struct user_cache {
    size_t capacity;
    user_resolver resolve;
    struct user_entry *entries;
};

struct user_cache *user_cache_new(size_t capacity, user_resolver resolve)
{
    struct user_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->capacity = capacity ? capacity : 1;
    c->resolve = resolve ? resolve : user_resolve_passwd;
    c->entries = calloc(c->capacity, sizeof *c->entries);
    if (!c->entries) {
        free(c);
        return NULL;
    }
    return c;
}

void user_cache_free(struct user_cache *c)
{
    if (!c)
        return;
    free(c->entries);
    free(c);
}

int user_resolve_passwd(uid_t uid, char *buf, size_t size)
{
    struct passwd pw, *result = NULL;
    char scratch[4096];
    if (getpwuid_r(uid, &pw, scratch, sizeof scratch, &result) != 0 || !result)
        return -1;
    size_t n = strlen(pw.pw_name);
    if (n == 0 || n >= size)
        return -1;
    memcpy(buf, pw.pw_name, n + 1);
    return 0;
}

const char *user_name(struct user_cache *c, uid_t uid, long now)
{
    struct user_entry *e = &c->entries[uid % c->capacity];
    if (!e->used || e->uid != uid || now >= e->expires) {
        e->used = true;
        e->uid = uid;
        e->has_name = c->resolve(uid, e->name, sizeof e->name) == 0;
        e->expires = now + (e->has_name ? NAME_TTL : MISSING_TTL);
    }
    return e->has_name ? e->name : NULL;
}
