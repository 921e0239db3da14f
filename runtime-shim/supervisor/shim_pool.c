/*
 * The sandbox and runtime pools, see shim_pool.h.
 */

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim.h"


#define SHIM_RUNTIME_PREFIX  "faas-runtime-"


static int shim_pool_programs(shim_ctx_t *ctx);
static int shim_pool_start(shim_ctx_t *ctx, shim_pool_t *pool);
static char **shim_pool_environment(uint64_t id);
static shim_stem_t *shim_pool_match(shim_ctx_t *ctx, shim_pool_t *pool,
    shim_function_t *fn);
static void shim_pool_timer_handler(shim_timer_t *t);
static const char *shim_pool_name(shim_pool_t *pool);


int
shim_pool_option(shim_pool_conf_t *pools, unsigned *npools, const char *arg)
{
    char           *end;
    size_t          len;
    unsigned        i;
    unsigned long   n;
    const char     *eq, *p;

    eq = strchr(arg, '=');
    len = eq ? (size_t) (eq - arg) : 0;

    if (eq == NULL || len == 0 || len >= sizeof(pools[0].name)) {
        fprintf(stderr, "faas-supervisor: --pool takes NAME=N, NAME being "
                "\"sandbox\" or a runtime: \"%s\"\n", arg);
        return -1;
    }

    for (p = arg; p < eq; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')
              || *p == '_' || *p == '-'))
        {
            fprintf(stderr, "faas-supervisor: --pool: invalid name in "
                    "\"%s\"\n", arg);
            return -1;
        }
    }

    errno = 0;
    n = strtoul(eq + 1, &end, 10);

    if (eq[1] == '\0' || *end != '\0' || errno != 0
        || n > SHIM_POOL_SIZE_MAX)
    {
        fprintf(stderr, "faas-supervisor: --pool: the size in \"%s\" must "
                "be 0 to %d\n", arg, SHIM_POOL_SIZE_MAX);
        return -1;
    }

    /* a later option for the same pool wins */

    for (i = 0; i < *npools; i++) {
        if (strncmp(pools[i].name, arg, len) == 0
            && pools[i].name[len] == '\0')
        {
            pools[i].size = (unsigned) n;
            return 0;
        }
    }

    if (*npools == SHIM_POOLS_MAX) {
        fprintf(stderr, "faas-supervisor: at most %d --pool options\n",
                SHIM_POOLS_MAX);
        return -1;
    }

    memcpy(pools[*npools].name, arg, len);
    pools[*npools].name[len] = '\0';
    pools[*npools].size = (unsigned) n;
    (*npools)++;

    return 0;
}


int
shim_pool_init(shim_ctx_t *ctx)
{
    unsigned           i;
    shim_pool_t       *pool;
    shim_pool_conf_t  *pc;

    if (shim_timer_init(&ctx->loop.timers, &ctx->pool_timer,
                        shim_pool_timer_handler, ctx)
        != 0)
    {
        shim_log_error(&ctx->log, SHIM_LOG_ERROR, ENOMEM, "pools");
        return -1;
    }

    if (shim_pool_programs(ctx) != 0) {
        return -1;
    }

    for (i = 0; i < ctx->conf.npools; i++) {
        pc = &ctx->conf.pools[i];
        pool = &ctx->pools[ctx->npools];

        memset(pool, 0, sizeof(shim_pool_t));
        shim_queue_init(&pool->ready);
        shim_queue_init(&pool->evicted);
        pool->size = pc->size;
        pool->uid = ctx->conf.uid;
        pool->gid = ctx->conf.gid;

        if (strcmp(pc->name, "sandbox") != 0) {
            pool->runtime = strdup(pc->name);

            if (pool->runtime == NULL
                || asprintf(&pool->program, "%s/" SHIM_RUNTIME_PREFIX "%s",
                            ctx->conf.runtime_dir, pc->name) < 0)
            {
                free(pool->runtime);
                shim_log_error(&ctx->log, SHIM_LOG_ERROR, ENOMEM, "pools");
                return -1;
            }

            ctx->npools++;

            if (access(pool->program, X_OK) != 0) {
                shim_log_error(&ctx->log, SHIM_LOG_ERROR, errno,
                               "pool \"%s\": no runtime \"%s\"", pc->name,
                               pool->program);
                return -1;
            }

        } else {
            ctx->npools++;
        }

        shim_log_error(&ctx->log, SHIM_LOG_NOTICE, 0, "pool \"%s\": %u "
                       "%s kept ready", pc->name, pool->size,
                       pool->runtime ? "runtimes" : "sandboxes");
    }

    shim_pool_fill(ctx);

    return 0;
}


void
shim_pool_cleanup(shim_ctx_t *ctx)
{
    unsigned       i;
    shim_pool_t   *pool;
    shim_stem_t   *stem;

    shim_pool_drain(ctx);

    /* killed and reaped by now (shim_process_reap_strays()) */

    for (i = 0; i < ctx->npools; i++) {
        pool = &ctx->pools[i];

        while (!shim_queue_empty(&pool->ready)) {
            stem = shim_queue_data(shim_queue_head(&pool->ready),
                                   shim_stem_t, link);
            shim_queue_remove(&stem->link);
            shim_launch_release(ctx, stem->id, &stem->child);
            free(stem);
        }

        while (!shim_queue_empty(&pool->evicted)) {
            stem = shim_queue_data(shim_queue_head(&pool->evicted),
                                   shim_stem_t, link);
            shim_queue_remove(&stem->link);
            shim_launch_release(ctx, stem->id, &stem->child);
            free(stem);
        }

        free(pool->runtime);
        free(pool->program);
    }

    ctx->npools = 0;

    if (ctx->runtime_programs != NULL) {
        for (i = 0; ctx->runtime_programs[i] != NULL; i++) {
            free((char *) ctx->runtime_programs[i]);
        }

        free(ctx->runtime_programs);
        ctx->runtime_programs = NULL;
    }

    if (ctx->pool_timer.handler != NULL) {
        shim_timer_release(&ctx->loop.timers, &ctx->pool_timer);
    }
}


void
shim_pool_fill(shim_ctx_t *ctx)
{
    unsigned      i;
    uint64_t      now;
    shim_pool_t  *pool;

    if (ctx->stopping) {
        return;
    }

    now = shim_time_now();

    for (i = 0; i < ctx->npools; i++) {
        pool = &ctx->pools[i];

        while (pool->nready < pool->size) {
            if (pool->paused_until > now) {
                shim_timer_add(&ctx->loop, &ctx->pool_timer,
                               (pool->paused_until - now) / 1000 + 1);
                break;
            }

            if (shim_pool_start(ctx, pool) != 0) {
                /* the launch logged why; try again after the pause */
                pool->paused_until = now + SHIM_POOL_PAUSE * 1000;
                shim_timer_add(&ctx->loop, &ctx->pool_timer,
                               SHIM_POOL_PAUSE);
                break;
            }
        }
    }
}


shim_stem_t *
shim_pool_take(shim_ctx_t *ctx, shim_function_t *fn)
{
    unsigned             i;
    shim_pool_t         *pool, *runtime, *sandbox;
    shim_queue_t        *q;
    shim_stem_t         *stem;
    const char          *bind;
    const char *const   *prog;

    /* the runtime pools may hold none of fn's uid: see shim_pool_match() */

    /* a pooled sandbox has the defaults of what is fixed at clone() */

    if (ctx->conf.sandbox
        && (fn->network || fn->tmp_size != SHIM_POOL_TMP_SIZE))
    {
        return NULL;
    }

    runtime = NULL;
    sandbox = NULL;

    for (i = 0; i < ctx->npools; i++) {
        pool = &ctx->pools[i];

        if (pool->nready == 0) {
            continue;
        }

        if (pool->runtime == NULL) {
            sandbox = pool;

        } else if (strcmp(pool->runtime, fn->runtime) == 0
                   && strcmp(pool->program, fn->program) == 0
                   && !(ctx->conf.sandbox && fn->seccomp_base))
        {
            /* its runtimes run under their allowlist already */
            runtime = pool;
        }
    }

    stem = NULL;

    if (runtime != NULL) {
        stem = shim_pool_match(ctx, runtime, fn);
    }

    if (stem != NULL) {
        pool = runtime;
        goto taken;
    }

    pool = NULL;

    if (sandbox != NULL) {
        /* the program must be one that every pooled sandbox has bound */

        (void) shim_launch_program(ctx, fn, &bind);

        if (bind == NULL) {
            pool = sandbox;

        } else {
            for (prog = ctx->runtime_programs; *prog != NULL; prog++) {
                if (strcmp(*prog, bind) == 0) {
                    pool = sandbox;
                    break;
                }
            }
        }
    }

    if (pool == NULL) {
        return NULL;
    }

    q = shim_queue_head(&pool->ready);
    stem = shim_queue_data(q, shim_stem_t, link);

taken:

    shim_queue_remove(&stem->link);
    pool->nready--;
    pool->taken++;
    pool->failures = 0;

    return stem;
}


int
shim_pool_reaped(shim_ctx_t *ctx, pid_t pid, int status)
{
    char           how[64];
    unsigned       i;
    shim_pool_t   *pool;
    shim_queue_t  *q;
    shim_stem_t   *stem;

    for (i = 0; i < ctx->npools; i++) {
        pool = &ctx->pools[i];

        for (q = shim_queue_head(&pool->ready);
             q != shim_queue_sentinel(&pool->ready);
             q = shim_queue_next(q))
        {
            stem = shim_queue_data(q, shim_stem_t, link);

            if (stem->child.pid != pid) {
                continue;
            }

            shim_queue_remove(q);
            pool->nready--;

            if (!ctx->stopping) {
                pool->failures++;

                shim_log_error(&ctx->log, SHIM_LOG_ERROR, 0,
                               "pool \"%s\": instance %" PRIu64 " died "
                               "before use: %s", shim_pool_name(pool),
                               stem->id,
                               shim_process_status(status, how,
                                                   sizeof(how)));

                /* a runtime that cannot start must not start forever */

                if (pool->failures >= SHIM_POOL_FAILURES) {
                    shim_log_error(&ctx->log, SHIM_LOG_ERROR, 0,
                                   "pool \"%s\": %u deaths in a row, "
                                   "refilling paused for %d ms",
                                   shim_pool_name(pool), pool->failures,
                                   SHIM_POOL_PAUSE);
                    pool->failures = 0;
                    pool->paused_until = shim_time_now()
                                         + SHIM_POOL_PAUSE * 1000;
                    shim_timer_add(&ctx->loop, &ctx->pool_timer,
                                   SHIM_POOL_PAUSE);
                }
            }

            shim_launch_release(ctx, stem->id, &stem->child);
            free(stem);

            shim_pool_fill(ctx);

            return 1;
        }

        for (q = shim_queue_head(&pool->evicted);
             q != shim_queue_sentinel(&pool->evicted);
             q = shim_queue_next(q))
        {
            stem = shim_queue_data(q, shim_stem_t, link);

            if (stem->child.pid == pid) {
                shim_queue_remove(q);
                shim_launch_release(ctx, stem->id, &stem->child);
                free(stem);
                return 1;
            }
        }
    }

    return 0;
}


void
shim_pool_drain(shim_ctx_t *ctx)
{
    unsigned       i;
    shim_pool_t   *pool;
    shim_queue_t  *q;
    shim_stem_t   *stem;

    /* they run no function's code: nothing to finish, nothing to say */

    for (i = 0; i < ctx->npools; i++) {
        pool = &ctx->pools[i];

        for (q = shim_queue_head(&pool->ready);
             q != shim_queue_sentinel(&pool->ready);
             q = shim_queue_next(q))
        {
            stem = shim_queue_data(q, shim_stem_t, link);
            kill(stem->child.pid, SIGKILL);
        }
    }
}


static int
shim_pool_start(shim_ctx_t *ctx, shim_pool_t *pool)
{
    int                      err;
    char                   **envp;
    const char              *programs[2];
    shim_stem_t             *stem;
    shim_launch_t            l;
    shim_seccomp_profile_t  *profile;

    stem = calloc(1, sizeof(shim_stem_t));
    if (stem == NULL) {
        return -1;
    }

    stem->pool = pool;
    stem->id = ++ctx->last_instance_id;

    envp = shim_pool_environment(stem->id);
    if (envp == NULL) {
        free(stem);
        return -1;
    }

    memset(&l, 0, sizeof(shim_launch_t));

    l.id = stem->id;
    l.envp = envp;
    l.uid = pool->uid;
    l.gid = pool->gid;
    l.memory = SHIM_POOL_MEMORY;
    l.pids = SHIM_POOL_PIDS;
    l.tmp_size = SHIM_POOL_TMP_SIZE;
    l.network = 0;

    if (pool->runtime != NULL) {
        programs[0] = pool->program;
        programs[1] = NULL;
        l.program = pool->program;
        l.programs = programs;

    } else {
        l.program = NULL;
        l.programs = ctx->runtime_programs;
    }

    if (shim_launch(ctx, &l, &stem->child, &err) != 0) {
        free(envp);
        free(stem);
        return -1;
    }

    free(envp);

    /*
     * A pooled runtime loads its allowlist while it waits, not in the
     * cold start that takes it (0.3-0.5 ms of a filter's validation and
     * JIT here); it then serves no "seccomp base" function.  Should it
     * fail, its death tells the pool.
     */

    profile = ctx->conf.sandbox && pool->runtime != NULL
              ? shim_seccomp_profile(ctx->seccomp_profiles, pool->runtime)
              : NULL;

    if (profile != NULL
        && shim_frame_send(stem->child.channel, profile->frame,
                           profile->frame_len, &err)
           == 0)
    {
        stem->filtered = 1;
    }

    stem->uid = pool->uid;
    stem->gid = pool->gid;

    shim_queue_insert_tail(&pool->ready, &stem->link);
    pool->nready++;
    pool->started++;

    shim_log_error(&ctx->log, SHIM_LOG_DEBUG, 0, "pool \"%s\": instance %"
                   PRIu64 " started (pid %d)", shim_pool_name(pool),
                   stem->id, (int) stem->child.pid);

    return 0;
}


/*
 * The oldest pooled runtime that runs as fn's uid and gid, or NULL.  On a
 * miss the pool's oldest runtime goes and the pool refills with fn's uid:
 * the next cold start of fn (or of a function of its uid) finds one.  A
 * pool shared by functions of many uids then refills about once per cold
 * start, which is what a pool costs anyway.
 */
static shim_stem_t *
shim_pool_match(shim_ctx_t *ctx, shim_pool_t *pool, shim_function_t *fn)
{
    shim_queue_t  *q;
    shim_stem_t   *stem;

    for (q = shim_queue_head(&pool->ready);
         q != shim_queue_sentinel(&pool->ready);
         q = shim_queue_next(q))
    {
        stem = shim_queue_data(q, shim_stem_t, link);

        if (!ctx->conf.drop_privileges
            || (stem->uid == fn->uid && stem->gid == fn->gid))
        {
            return stem;
        }
    }

    pool->uid = fn->uid;
    pool->gid = fn->gid;

    /* the reap finds it in evicted: no "died before use" */

    q = shim_queue_head(&pool->ready);
    stem = shim_queue_data(q, shim_stem_t, link);

    shim_queue_remove(q);
    pool->nready--;
    pool->evictions++;
    shim_queue_insert_tail(&pool->evicted, &stem->link);

    kill(stem->child.pid, SIGKILL);

    /* the cold start served from elsewhere may end in no refill */
    shim_timer_add(&ctx->loop, &ctx->pool_timer, SHIM_POOL_REFILL);

    shim_log_error(&ctx->log, SHIM_LOG_INFO, 0, "pool \"%s\": instance %"
                   PRIu64 " (uid %u) evicted for function \"%s\" (uid %u)",
                   shim_pool_name(pool), stem->id, (unsigned) stem->uid,
                   fn->name, (unsigned) fn->uid);

    return NULL;
}


/* no function yet: its environment comes with LOAD */
static char **
shim_pool_environment(uint64_t id)
{
    char  **envp;

    envp = malloc(2 * sizeof(char *) + sizeof("FAAS_INSTANCE=") + 20);
    if (envp == NULL) {
        return NULL;
    }

    envp[0] = (char *) (envp + 2);
    envp[1] = NULL;

    sprintf(envp[0], "FAAS_INSTANCE=%" PRIu64, id);

    return envp;
}


/* every runtime in the runtime directory: a pooled sandbox may become any */
static int
shim_pool_programs(shim_ctx_t *ctx)
{
    DIR             *dir;
    size_t           n;
    const char     **list;
    struct dirent   *de;

    list = calloc(SHIM_POOLS_MAX + 1, sizeof(char *));
    if (list == NULL) {
        return -1;
    }

    ctx->runtime_programs = list;

    dir = opendir(ctx->conf.runtime_dir);
    if (dir == NULL) {
        shim_log_error(&ctx->log, SHIM_LOG_ERROR, errno, "opendir \"%s\"",
                       ctx->conf.runtime_dir);
        return -1;
    }

    n = 0;

    while ((de = readdir(dir)) != NULL && n < SHIM_POOLS_MAX) {
        if (strncmp(de->d_name, SHIM_RUNTIME_PREFIX,
                    sizeof(SHIM_RUNTIME_PREFIX) - 1) != 0
            || strchr(de->d_name, '.') != NULL)
        {
            continue;
        }

        if (asprintf((char **) &list[n], "%s/%s", ctx->conf.runtime_dir,
                     de->d_name) < 0)
        {
            closedir(dir);
            return -1;
        }

        if (access(list[n], X_OK) != 0) {
            free((char *) list[n]);
            list[n] = NULL;
            continue;
        }

        n++;
    }

    closedir(dir);

    return 0;
}


static void
shim_pool_timer_handler(shim_timer_t *t)
{
    shim_ctx_t  *ctx;

    ctx = t->data;

    shim_pool_fill(ctx);
}


static const char *
shim_pool_name(shim_pool_t *pool)
{
    return pool->runtime ? pool->runtime : "sandbox";
}
