/*
 * Instance credentials, see shim_user.h.
 */

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim.h"


#define SHIM_USER_BUCKETS  4096

#define SHIM_FNV_BASIS     0xcbf29ce484222325ULL
#define SHIM_FNV_PRIME     0x100000001b3ULL


struct shim_user_entry_s {
    shim_user_entry_t   *next;
    uint32_t             uid;
    char                *name;             /* the function's */
};


static int shim_user_number(const char *s, uint32_t *n);
static int shim_user_in(const shim_id_range_t *r, unsigned n, uint32_t id);
static shim_user_entry_t *shim_user_find(shim_users_t *u, uint32_t uid);
static int shim_user_from_range(shim_ctx_t *ctx, shim_function_t *fn,
    int fresh);
static int shim_user_registered(shim_ctx_t *ctx, const char *name);
static int shim_user_cmp(const void *one, const void *two);
static void shim_user_error(shim_function_t *fn, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));


int
shim_user_parse_range(const char *s, shim_id_range_t *r, char *err,
    size_t errlen)
{
    char        first[16];
    size_t      len;
    const char  *dash;

    dash = strchr(s, '-');
    len = dash ? (size_t) (dash - s) : strlen(s);

    if (len == 0 || len >= sizeof(first)) {
        goto invalid;
    }

    memcpy(first, s, len);
    first[len] = '\0';

    if (shim_user_number(first, &r->first) != 0) {
        goto invalid;
    }

    r->last = r->first;

    if (dash != NULL && shim_user_number(dash + 1, &r->last) != 0) {
        goto invalid;
    }

    if (r->first > r->last) {
        snprintf(err, errlen, "\"%s\" is inverted: %u is above %u", s,
                 r->first, r->last);
        return -1;
    }

    if (r->first == 0) {
        snprintf(err, errlen, "\"%s\" contains 0, which is root", s);
        return -1;
    }

    if (r->last == (uint32_t) -1) {
        snprintf(err, errlen, "\"%s\" contains %u, which means \"no "
                 "change\" to setuid()", s, (uint32_t) -1);
        return -1;
    }

    return 0;

invalid:

    snprintf(err, errlen, "\"%s\" is not FIRST-LAST, e.g. 200000-265535", s);

    return -1;
}


int
shim_user_allow(shim_users_t *u, int group, const char *s, char *err,
    size_t errlen)
{
    unsigned         *n;
    struct group     *gr;
    struct passwd    *pw;
    shim_id_range_t  *list, r;

    list = group ? u->allow_gid : u->allow_uid;
    n = group ? &u->nallow_gid : &u->nallow_uid;

    if (*n == SHIM_USER_ALLOW_MAX) {
        snprintf(err, errlen, "at most %d --allow-%s options",
                 SHIM_USER_ALLOW_MAX, group ? "group" : "user");
        return -1;
    }

    if (s[0] >= '0' && s[0] <= '9') {
        if (shim_user_parse_range(s, &r, err, errlen) != 0) {
            return -1;
        }

    } else if (group) {
        gr = getgrnam(s);
        if (gr == NULL || gr->gr_gid == 0) {
            snprintf(err, errlen, "%s group \"%s\"",
                     gr ? "refusing the root" : "unknown", s);
            return -1;
        }

        r.first = r.last = gr->gr_gid;

    } else {
        pw = getpwnam(s);
        if (pw == NULL || pw->pw_uid == 0) {
            snprintf(err, errlen, "%s user \"%s\"",
                     pw ? "refusing the root" : "unknown", s);
            return -1;
        }

        r.first = r.last = pw->pw_uid;
    }

    list[(*n)++] = r;

    return 0;
}


uint32_t
shim_user_home(const shim_id_range_t *r, const char *name)
{
    uint64_t  hash, size;

    hash = SHIM_FNV_BASIS;

    while (*name) {
        hash ^= (unsigned char) *name++;
        hash *= SHIM_FNV_PRIME;
    }

    size = (uint64_t) r->last - r->first + 1;

    return r->first + (uint32_t) (hash % size);
}


/*
 * In name order, so that the functions of one configuration get the same
 * uids whatever order they are defined in and after every restart: on a
 * collision, the name that sorts first keeps its home uid.
 */
int
shim_user_assign_all(shim_ctx_t *ctx, shim_function_t **fns, size_t n)
{
    int                fresh;
    size_t             i;
    shim_function_t  **sorted;

    if (n == 0) {
        return 0;
    }

    sorted = malloc(n * sizeof(shim_function_t *));
    if (sorted == NULL) {
        return -1;
    }

    memcpy(sorted, fns, n * sizeof(shim_function_t *));
    qsort(sorted, n, sizeof(shim_function_t *), shim_user_cmp);

    ctx->users.pending = sorted;
    ctx->users.npending = n;

    for (i = 0; i < n; i++) {
        /* another worker's REGISTER of the same version: said already */
        fresh = shim_function_find(&ctx->functions, sorted[i]->name,
                                   sorted[i]->version) == NULL;

        if (shim_user_assign(ctx, sorted[i], fresh) != 0) {
            break;
        }
    }

    ctx->users.pending = NULL;
    ctx->users.npending = 0;

    free(sorted);

    if (i < n) {
        return -1;
    }

    return 0;
}


int
shim_user_assign(shim_ctx_t *ctx, shim_function_t *fn, int fresh)
{
    shim_users_t   *u;
    struct passwd  *pw;

    u = &ctx->users;
    fn->user_error[0] = '\0';

    if (!ctx->conf.drop_privileges) {
        fn->uid = getuid();
        fn->gid = getgid();

        if (fn->user) {
            shim_user_error(fn, "\"user\" needs a supervisor running as "
                            "root");
        }

    } else if (fn->user) {
        /* uid 0 and gid 0 never get here: shim_function_parse() */

        if (u->range.first != 0 && fn->uid >= u->range.first
            && fn->uid <= u->range.last)
        {
            shim_user_error(fn, "user uid %u is inside --uid-range %u-%u, "
                            "where it may be another function's",
                            (unsigned) fn->uid, u->range.first,
                            u->range.last);

        } else if (!shim_user_in(u->allow_uid, u->nallow_uid, fn->uid)) {
            shim_user_error(fn, "user uid %u is not allowed by the "
                            "supervisor's --allow-user", (unsigned) fn->uid);

        } else if (!shim_user_in(u->allow_gid, u->nallow_gid, fn->gid)
                   && ((pw = getpwuid(fn->uid)) == NULL
                       || pw->pw_gid != fn->gid))
        {
            shim_user_error(fn, "group gid %u is neither uid %u's own nor "
                            "allowed by the supervisor's --allow-group",
                            (unsigned) fn->gid, (unsigned) fn->uid);
        }

    } else if (u->range.first != 0) {
        return shim_user_from_range(ctx, fn, fresh);

    } else {
        fn->uid = ctx->conf.uid;
        fn->gid = ctx->conf.gid;
    }

    if (fresh && fn->user_error[0]) {
        shim_log_error(&ctx->log, SHIM_LOG_ERROR, 0, "function \"%s\": %s: "
                       "its calls fail", fn->name, fn->user_error);
    }

    return 0;
}


static int
shim_user_from_range(shim_ctx_t *ctx, shim_function_t *fn, int fresh)
{
    size_t              bucket;
    uint32_t            uid, home;
    uint64_t            i, size;
    shim_users_t       *u;
    shim_user_entry_t  *e, *stale;

    u = &ctx->users;

    if (u->buckets == NULL) {
        u->buckets = calloc(SHIM_USER_BUCKETS, sizeof(shim_user_entry_t *));
        if (u->buckets == NULL) {
            return -1;
        }

        u->nbuckets = SHIM_USER_BUCKETS;
    }

    size = (uint64_t) u->range.last - u->range.first + 1;
    home = shim_user_home(&u->range, fn->name);
    uid = home;
    stale = NULL;

    /*
     * Entries are never removed, only renamed, so the probe sequence of
     * a name never meets a hole that was not there when it was assigned:
     * the walk ends at the name itself or at the first free uid.
     */

    for (i = 0; i < size; i++) {
        e = shim_user_find(u, uid);

        if (e == NULL) {
            break;
        }

        if (strcmp(e->name, fn->name) == 0) {
            fn->uid = e->uid;
            fn->gid = e->uid;
            return 0;
        }

        uid = (uid == u->range.last) ? u->range.first : uid + 1;
    }

    if (i == size) {
        /*
         * Full: take over a uid whose name nothing registers any more,
         * and not one that this REGISTER, not inserted yet, asked for.
         */

        for (i = 0; i < size && stale == NULL; i++) {
            e = shim_user_find(u, uid);

            if (!shim_user_registered(ctx, e->name)) {
                stale = e;
            }

            uid = (uid == u->range.last) ? u->range.first : uid + 1;
        }

        if (stale == NULL) {
            shim_user_error(fn, "--uid-range %u-%u is full", u->range.first,
                            u->range.last);

            if (fresh) {
                shim_log_error(&ctx->log, SHIM_LOG_ERROR, 0, "function "
                               "\"%s\": %s: its calls fail", fn->name,
                               fn->user_error);
            }

            return 0;
        }

        free(stale->name);
        stale->name = strdup(fn->name);
        if (stale->name == NULL) {
            stale->name = strdup("");
            return -1;
        }

        e = stale;

    } else {
        e = calloc(1, sizeof(shim_user_entry_t));
        if (e == NULL) {
            return -1;
        }

        e->name = strdup(fn->name);
        if (e->name == NULL) {
            free(e);
            return -1;
        }

        e->uid = uid;
        bucket = uid % u->nbuckets;
        e->next = u->buckets[bucket];
        u->buckets[bucket] = e;
        u->count++;
    }

    fn->uid = e->uid;
    fn->gid = e->uid;

    shim_log_error(&ctx->log, SHIM_LOG_NOTICE, 0, "function \"%s\" runs as "
                   "uid %u gid %u (--uid-range%s)", fn->name, e->uid, e->uid,
                   e->uid == home ? "" : ", its home uid was taken");

    return 0;
}


void
shim_user_cleanup(shim_users_t *u)
{
    size_t              i;
    shim_user_entry_t  *e, *next;

    if (u->buckets == NULL) {
        return;
    }

    for (i = 0; i < u->nbuckets; i++) {
        for (e = u->buckets[i]; e != NULL; e = next) {
            next = e->next;
            free(e->name);
            free(e);
        }
    }

    free(u->buckets);
    u->buckets = NULL;
    u->count = 0;
}


static int
shim_user_number(const char *s, uint32_t *n)
{
    char                *end;
    unsigned long long   v;

    if (*s < '0' || *s > '9') {
        return -1;
    }

    errno = 0;
    v = strtoull(s, &end, 10);

    if (errno != 0 || *end != '\0' || v > 0xffffffffULL) {
        return -1;
    }

    *n = (uint32_t) v;

    return 0;
}


static int
shim_user_in(const shim_id_range_t *r, unsigned n, uint32_t id)
{
    unsigned  i;

    for (i = 0; i < n; i++) {
        if (id >= r[i].first && id <= r[i].last) {
            return 1;
        }
    }

    return 0;
}


static shim_user_entry_t *
shim_user_find(shim_users_t *u, uint32_t uid)
{
    shim_user_entry_t  *e;

    for (e = u->buckets[uid % u->nbuckets]; e != NULL; e = e->next) {
        if (e->uid == uid) {
            return e;
        }
    }

    return NULL;
}


/* only when the range is full: a walk over every function */
static int
shim_user_registered(shim_ctx_t *ctx, const char *name)
{
    size_t            bucket, i;
    shim_function_t  *fn;

    /* the REGISTER being assigned is not in the table yet */

    for (i = 0; i < ctx->users.npending; i++) {
        if (strcmp(ctx->users.pending[i]->name, name) == 0) {
            return 1;
        }
    }

    bucket = 0;

    for (fn = shim_function_next(&ctx->functions, &bucket, NULL);
         fn != NULL;
         fn = shim_function_next(&ctx->functions, &bucket, fn))
    {
        if (strcmp(fn->name, name) == 0) {
            return 1;
        }
    }

    return 0;
}


static int
shim_user_cmp(const void *one, const void *two)
{
    const shim_function_t  *a, *b;

    a = *(shim_function_t *const *) one;
    b = *(shim_function_t *const *) two;

    return strcmp(a->name, b->name);
}


static void
shim_user_error(shim_function_t *fn, const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    vsnprintf(fn->user_error, sizeof(fn->user_error), fmt, args);
    va_end(args);
}
