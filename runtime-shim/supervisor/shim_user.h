/*
 * Which uid and gid an instance runs as.  In order of precedence: the
 * function's own `user` (checked against --allow-user and --allow-group,
 * since the socket is not trusted to choose), a uid of its own from
 * --uid-range, else the supervisor's --user.
 *
 * A uid from the range is derived from the function's name (FNV-1a, so
 * the same name gets the same uid after a restart or a reload), probing
 * to the next free uid on a collision: two names never share one.  A name
 * keeps its uid for the supervisor's lifetime, so a function dropped and
 * registered again gets it back; a name with nothing registered gives its
 * uid up only when the range is full.
 */

#ifndef SHIM_USER_H
#define SHIM_USER_H


#define SHIM_USER_ALLOW_MAX  32


typedef struct {
    uint32_t             first;
    uint32_t             last;
} shim_id_range_t;


typedef struct shim_user_entry_s  shim_user_entry_t;

typedef struct {
    shim_id_range_t      range;            /* --uid-range; first 0: none */
    shim_id_range_t      allow_uid[SHIM_USER_ALLOW_MAX];
    unsigned             nallow_uid;
    shim_id_range_t      allow_gid[SHIM_USER_ALLOW_MAX];
    unsigned             nallow_gid;

    shim_user_entry_t  **buckets;          /* assigned uids, by uid */
    size_t               nbuckets;
    size_t               count;
    shim_function_t    **pending;          /* the REGISTER being assigned */
    size_t               npending;
} shim_users_t;


/*
 * "FIRST-LAST" or a single id; 0, or -1 with a message in err.  0 and
 * (uid_t) -1 are refused: one is root, the other means "unchanged".
 */
int shim_user_parse_range(const char *s, shim_id_range_t *r, char *err,
    size_t errlen);

/* --allow-user / --allow-group: a name, an id or FIRST-LAST; 0 or -1 */
int shim_user_allow(shim_users_t *u, int group, const char *s, char *err,
    size_t errlen);

/* the home uid of a name in the range, before any collision */
uint32_t shim_user_home(const shim_id_range_t *r, const char *name);

/*
 * Sets fn->uid and fn->gid, and fn->user_error when the function may not
 * run as what it asks for; logs what a fresh function gets.  -1 only when
 * out of memory.
 */
int shim_user_assign(shim_ctx_t *ctx, shim_function_t *fn, int fresh);

/* the functions of one REGISTER, fresh or not, in name order */
int shim_user_assign_all(shim_ctx_t *ctx, shim_function_t **fns, size_t n);

void shim_user_cleanup(shim_users_t *u);

#endif /* SHIM_USER_H */
