/*
 * Warm layers below the function: processes started ahead of demand, so
 * that a cold start skips what they have already done.
 *
 *   the sandbox pool     generic sandboxes: namespaces, root, cgroup,
 *                        credentials and seccomp done, waiting for EXEC
 *                        to become any runtime (cheap: one small process)
 *   a runtime pool       a runtime started in such a sandbox, its
 *                        interpreter up and its bootstrap loaded, waiting
 *                        for LOAD (one per runtime, sized per runtime)
 *
 * A cold start takes the deepest layer that is ready: a runtime of the
 * function's kind and uid, else a sandbox, else it starts from nothing.
 *
 * A sandbox takes on any function's uid with EXEC.  A runtime has run
 * already, as the uid of its pool (--user at first), and no process can
 * change another's uid: a function of another uid that finds none of its
 * own evicts the oldest and points the pool at its uid, so that the pool
 * follows the functions that are called.  The code
 * reaches a pooled sandbox through its slot (shim_slot.h), its limits are
 * set on its cgroup when it is taken, and the pool refills behind it.
 */

#ifndef SHIM_POOL_H
#define SHIM_POOL_H


/* pooled processes start with these; a function sets its own on taking */
#define SHIM_POOL_MEMORY    (256 * 1024 * 1024)
#define SHIM_POOL_PIDS      64
#define SHIM_POOL_TMP_SIZE  (16 * 1024 * 1024)

/* deaths before use, in a row, that pause a pool's refill */
#define SHIM_POOL_FAILURES  3
#define SHIM_POOL_PAUSE     10000            /* ms */

/* ms: a pool refills after the cold start it served, at the latest */
#define SHIM_POOL_REFILL    100

#define SHIM_POOLS_MAX      16
#define SHIM_POOL_SIZE_MAX  1000


/* which layer an instance came from */
typedef enum {
    SHIM_LAYER_NONE = 0,                 /* started from nothing */
    SHIM_LAYER_SANDBOX,
    SHIM_LAYER_RUNTIME,
    SHIM_LAYERS
} shim_layer_e;


typedef struct shim_pool_s  shim_pool_t;

typedef struct {
    shim_queue_t         link;            /* pool->ready */
    shim_pool_t         *pool;
    uint64_t             id;              /* the instance id to be */
    uid_t                uid;             /* a runtime runs as */
    gid_t                gid;
    shim_child_t         child;
    unsigned             filtered:1;      /* runs under its allowlist */
} shim_stem_t;


struct shim_pool_s {
    char                *runtime;         /* NULL: the sandbox pool */
    char                *program;         /* the runtime's program */
    unsigned             size;            /* kept ready */
    unsigned             nready;
    unsigned             failures;        /* died unused, in a row */
    uint64_t             taken;           /* for the status */
    uint64_t             started;
    uint64_t             paused_until;    /* us */
    uint64_t             evictions;       /* for the status */
    uid_t                uid;             /* what it refills with */
    gid_t                gid;
    shim_queue_t         ready;           /* FIFO: the oldest first */
    shim_queue_t         evicted;         /* killed, not reaped yet */
};


typedef struct {
    char                 name[32];        /* "sandbox" or a runtime */
    unsigned             size;
} shim_pool_conf_t;


/* "--pool NAME=N": 0, or -1 with a message on stderr */
int shim_pool_option(shim_pool_conf_t *pools, unsigned *npools,
    const char *arg);

/* resolves the runtimes' programs and fills the pools */
int shim_pool_init(shim_ctx_t *ctx);
void shim_pool_cleanup(shim_ctx_t *ctx);

/* starts what the pools lack */
void shim_pool_fill(shim_ctx_t *ctx);

/* the deepest ready layer for fn, taken out of its pool, or NULL */
shim_stem_t *shim_pool_take(shim_ctx_t *ctx, shim_function_t *fn);

/* SIGCHLD: 1 when pid was a pooled process, now reaped */
int shim_pool_reaped(shim_ctx_t *ctx, pid_t pid, int status);

/* stopping: every pooled process is killed */
void shim_pool_drain(shim_ctx_t *ctx);

#endif /* SHIM_POOL_H */
