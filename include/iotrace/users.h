/* uid -> user name, cached: NSS look-ups (getpwuid) read files or ask daemons. */
#ifndef IOTRACE_USERS_H
#define IOTRACE_USERS_H

#include <stddef.h>
#include <sys/types.h>

/* Writes the name of uid into buf and returns 0, or returns -1 when it has none.
 * The default resolves with getpwuid_r; tests pass their own. */
typedef int (*user_resolver)(uid_t uid, char *buf, size_t size);

struct user_cache;

struct user_cache *user_cache_new(size_t capacity, user_resolver resolve);
void user_cache_free(struct user_cache *c);

/* The name, or NULL when uid has no name. `now` is a monotonic time in seconds:
 * a name is trusted for a minute, a missing name for two seconds (users created
 * while iotrace runs get their name quickly). */
const char *user_name(struct user_cache *c, uid_t uid, long now);

int user_resolve_passwd(uid_t uid, char *buf, size_t size);

#endif
