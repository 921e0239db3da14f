/*
 * Instances, see shim_instance.h.
 *
 * The supervisor never waits on an instance: the channel is non-blocking,
 * every state has a deadline on the instance's one timer, and a process
 * that misbehaves is killed.  Deaths are learned from SIGCHLD only.
 */

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shim.h"


const char  *shim_layer_names[SHIM_LAYERS] = { "none", "sandbox", "runtime" };


static int shim_instance_launch(shim_instance_t *inst, int *err);
static int shim_instance_adopt(shim_instance_t *inst, shim_stem_t *stem);
static void shim_instance_take_child(shim_instance_t *inst,
    shim_child_t *child);
static int shim_instance_load(shim_instance_t *inst);
static char **shim_instance_environment(shim_instance_t *inst);
static void shim_instance_channel_handler(shim_event_t *ev,
    uint32_t revents);
static void shim_instance_read(shim_instance_t *inst, int all);
static int shim_instance_frame(shim_instance_t *inst,
    faas_frame_header_t *frame, const uint8_t *payload);
static void shim_instance_sched(shim_instance_t *inst);
static void shim_instance_ready(shim_instance_t *inst,
    const uint8_t *payload, size_t len);
static void shim_instance_done(shim_instance_t *inst,
    const uint8_t *payload, size_t len);
static void shim_instance_fail_calls(shim_instance_t *inst, int status,
    const char *reason);
static int shim_instance_accepts(shim_instance_t *inst);
static void shim_instance_quit(shim_instance_t *inst, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void shim_instance_send_quit(shim_instance_t *inst);
static void shim_instance_kill(shim_instance_t *inst, int status,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void shim_instance_timer_handler(shim_timer_t *t);
static void shim_instance_close_channel(shim_instance_t *inst);
static void shim_instance_died(shim_instance_t *inst, int status);
static void shim_instance_free(shim_instance_t *inst);
static char *shim_json_reason(const uint8_t *payload, size_t len);
static unsigned shim_function_pool(shim_function_t *fn);


shim_instance_t *
shim_instance_get_warm(shim_function_t *fn)
{
    shim_queue_t     *q;
    shim_instance_t  *inst;

    if (!shim_queue_empty(&fn->open)) {
        q = shim_queue_head(&fn->open);
        return shim_queue_data(q, shim_instance_t, avail);
    }

    /* an idle one, unless a worker is calling it directly */

    for (q = shim_queue_head(&fn->idle);
         q != shim_queue_sentinel(&fn->idle);
         q = shim_queue_next(q))
    {
        inst = shim_queue_data(q, shim_instance_t, avail);

        if (inst->direct
            && !faas_slot_take(shim_direct_slot(&inst->ctx->direct,
                                                inst->slot)))
        {
            continue;
        }

        shim_queue_remove(q);
        shim_timer_cancel(&inst->ctx->loop.timers, &inst->timer);
        inst->recalled = 0;

        return inst;
    }

    return NULL;
}


void
shim_instance_recall(shim_function_t *fn)
{
    shim_queue_t     *q;
    shim_instance_t  *inst;

    for (q = shim_queue_head(&fn->idle);
         q != shim_queue_sentinel(&fn->idle);
         q = shim_queue_next(q))
    {
        inst = shim_queue_data(q, shim_instance_t, avail);

        if (!inst->direct || inst->recalled) {
            continue;
        }

        /* closed: no direct call after the one in flight */

        if (faas_slot_close(shim_direct_slot(&inst->ctx->direct, inst->slot))
            == 0)
        {
            /* it ended meanwhile: the slot will open again when idle */
            inst->recalled = 1;
            shim_timer_add(&inst->ctx->loop, &inst->timer, 0);
            continue;
        }

        inst->recalled = 1;
        shim_timer_add(&inst->ctx->loop, &inst->timer, SHIM_DIRECT_POLL);
    }
}


void
shim_instance_count_direct(shim_instance_t *inst)
{
    uint64_t          calls;
    shim_function_t  *fn;

    if (!inst->direct) {
        return;
    }

    fn = inst->function;

    calls = __atomic_load_n(&shim_direct_slot(&inst->ctx->direct,
                                              inst->slot)->calls,
                            __ATOMIC_RELAXED);

    fn->stats.calls += calls - inst->direct_counted;
    fn->stats.direct_calls += calls - inst->direct_counted;
    inst->direct_counted = calls;
}


unsigned
shim_instance_direct_in_flight(shim_instance_t *inst)
{
    uint64_t  w;

    if (!inst->direct) {
        return 0;
    }

    w = __atomic_load_n(&shim_direct_slot(&inst->ctx->direct,
                                          inst->slot)->state,
                        __ATOMIC_ACQUIRE);

    return faas_slot_inflight(w);
}


int
shim_instance_direct_request_id(shim_instance_t *inst, char *buf)
{
    size_t  i;

    if (!inst->direct) {
        return -1;
    }

    memcpy(buf, shim_direct_slot(&inst->ctx->direct, inst->slot)->request_id,
           32);
    buf[32] = '\0';

    for (i = 0; isxdigit((unsigned char) buf[i]); i++) {
        /* void */
    }

    return (i > 0 && buf[i] == '\0') ? 0 : -1;
}


/* the direct calls in flight beside those that timed out */
static unsigned
shim_instance_direct_others(shim_instance_t *inst)
{
    unsigned  n;

    n = shim_instance_direct_in_flight(inst);

    return n > inst->abandoned ? n - inst->abandoned : 0;
}


shim_instance_t *
shim_instance_get_idle(shim_function_t *fn)
{
    shim_queue_t     *q;
    shim_instance_t  *inst;

    if (shim_queue_empty(&fn->idle)) {
        return NULL;
    }

    q = shim_queue_head(&fn->idle);
    inst = shim_queue_data(q, shim_instance_t, avail);

    shim_queue_remove(q);
    shim_timer_cancel(&inst->ctx->loop.timers, &inst->timer);

    return inst;
}


int
shim_instance_bind_spare(shim_function_t *fn, shim_request_t *r)
{
    shim_queue_t     *q;
    shim_instance_t  *inst;

    if (shim_queue_empty(&fn->spare)) {
        return 0;
    }

    q = shim_queue_head(&fn->spare);
    inst = shim_queue_data(q, shim_instance_t, avail);

    shim_queue_remove(q);
    shim_queue_insert_tail(&fn->pending, q);

    inst->request = r;
    r->instance = inst;

    return 1;
}


int
shim_instance_start(shim_ctx_t *ctx, shim_function_t *fn, shim_request_t *r,
    int *err)
{
    shim_stem_t      *stem;
    shim_instance_t  *inst;

    ctx->launch_error[0] = '\0';

    /* said at registration; every call that would start one fails */

    if (fn->user_error[0]) {
        snprintf(ctx->launch_error, sizeof(ctx->launch_error), "%s",
                 fn->user_error);
        *err = EPERM;
        return -1;
    }

    inst = calloc(1, sizeof(shim_instance_t));
    if (inst == NULL) {
        *err = ENOMEM;
        return -1;
    }

    inst->ctx = ctx;
    inst->function = fn;
    inst->code_generation = fn->code_generation;
    inst->output[0].ev.fd = -1;
    inst->output[1].ev.fd = -1;

    shim_queue_init(&inst->link);
    shim_queue_init(&inst->flink);
    shim_queue_init(&inst->avail);
    shim_queue_init(&inst->calls);

    if (shim_timer_init(&ctx->loop.timers, &inst->timer,
                        shim_instance_timer_handler, inst)
        != 0)
    {
        *err = ENOMEM;
        free(inst);
        return -1;
    }

    /* the deepest warm layer there is, else from nothing */

    stem = shim_pool_take(ctx, fn);

    /*
     * A pooled process that cannot take the function is of no use any
     * more (the pool refills); a new one then says why, or works.
     */

    if (stem != NULL && shim_instance_adopt(inst, stem) != 0) {
        stem = NULL;
    }

    if (stem == NULL && shim_instance_launch(inst, err) != 0) {
        shim_timer_release(&ctx->loop.timers, &inst->timer);
        free(inst);
        return -1;
    }

    inst->state = SHIM_INSTANCE_STARTING;

    shim_event_init(&inst->channel, inst->channel.fd,
                    shim_instance_channel_handler, inst);

    shim_queue_insert_tail(&ctx->instances, &inst->link);
    shim_queue_insert_tail(&fn->instances, &inst->flink);
    ctx->ninstances++;
    fn->ninstances++;

    if (r != NULL) {
        inst->request = r;
        r->instance = inst;
        shim_queue_insert_tail(&fn->pending, &inst->avail);

    } else {
        shim_queue_insert_tail(&fn->spare, &inst->avail);
    }

    /* the instance exists now: from here on failures end in its death */

    shim_timer_add(&ctx->loop, &inst->timer, fn->timeout);

    if (shim_event_set(&ctx->loop, &inst->channel, EPOLLIN) != 0
        || shim_output_watch(inst) != 0)
    {
        shim_instance_kill(inst, 502, "cannot watch instance %" PRIu64
                           ": %s", inst->id, strerror(errno));
        return 0;
    }

    if (shim_instance_load(inst) != 0) {
        /*
         * It died before reading LOAD, of a failed spawn or sandbox step:
         * its ERROR frame and its exit, read from the channel and SIGCHLD,
         * say why, and the timer stands behind them.
         */
        if (errno == EPIPE) {
            return 0;
        }

        shim_instance_kill(inst, 502, "cannot load instance %" PRIu64
                           ": %s", inst->id, strerror(errno));
        return 0;
    }

    shim_log_error(&ctx->log, SHIM_LOG_DEBUG, 0,
                   SHIM_INST_FMT "starting %s (pid %d, %s)",
                   SHIM_INST_ARGS(inst), fn->program, (int) inst->pid,
                   shim_layer_names[inst->layer]);

    /*
     * The pool it came from refills once this cold start is answered (see
     * shim_instance_done()): a clone() now would delay the READY we wait
     * for.  The timer stands in for a call that never ends.
     */

    if (inst->layer != SHIM_LAYER_NONE) {
        shim_timer_add(&ctx->loop, &ctx->pool_timer, SHIM_POOL_REFILL);
    }

    return 0;
}


const char *
shim_instance_start_error(shim_ctx_t *ctx, int err)
{
    return ctx->launch_error[0] ? ctx->launch_error : strerror(err);
}


/* a new process for inst, from nothing */
static int
shim_instance_launch(shim_instance_t *inst, int *err)
{
    char             **envp;
    const char        *programs[2], *bind;
    shim_ctx_t        *ctx;
    shim_child_t       child;
    shim_launch_t      l;
    shim_function_t   *fn;

    ctx = inst->ctx;
    fn = inst->function;

    inst->id = ++ctx->last_instance_id;

    envp = shim_instance_environment(inst);
    if (envp == NULL) {
        *err = ENOMEM;
        ctx->last_instance_id--;
        return -1;
    }

    memset(&l, 0, sizeof(shim_launch_t));

    l.id = inst->id;
    l.program = shim_launch_program(ctx, fn, &bind);
    programs[0] = bind;
    programs[1] = NULL;
    l.programs = programs;
    l.code = fn->code;
    l.envp = envp;
    l.uid = fn->uid;
    l.gid = fn->gid;
    l.memory = fn->memory;
    l.pids = fn->pids;
    l.cpu = fn->cpu;
    l.tmp_size = fn->tmp_size;
    l.network = fn->network;

    if (shim_launch(ctx, &l, &child, err) != 0) {
        free(envp);
        ctx->last_instance_id--;
        return -1;
    }

    free(envp);

    inst->layer = SHIM_LAYER_NONE;
    shim_instance_take_child(inst, &child);

    return 0;
}


/*
 * A pooled process becomes an instance of the function: its code is
 * attached, its limits set, and a bare sandbox execs the runtime.
 */
static int
shim_instance_adopt(shim_instance_t *inst, shim_stem_t *stem)
{
    int               err;
    size_t            len;
    uint8_t          *p;
    const char       *what, *program, *bind;
    shim_ctx_t       *ctx;
    shim_function_t  *fn;

    ctx = inst->ctx;
    fn = inst->function;

    inst->id = stem->id;

    if (ctx->conf.sandbox) {
        if (shim_slot_attach(&ctx->slots, stem->id, fn->code, &what) != 0
            || shim_cgroup_limit(&ctx->cgroup, stem->id, fn->memory,
                                 fn->pids, fn->cpu, &what)
               != 0)
        {
            goto failed;
        }
    }

    if (stem->pool->runtime == NULL) {
        what = "sending EXEC";
        program = shim_launch_program(ctx, fn, &bind);
        len = strlen(program);

        if (len > FAAS_EXEC_MAX - 8) {
            errno = ENAMETOOLONG;
            goto failed;
        }

        /* the function's credentials first, see shim_process_wait_exec() */

        p = ctx->out + FAAS_FRAME_HEADER_SIZE;
        p[0] = (uint8_t) ((uint32_t) fn->uid >> 24);
        p[1] = (uint8_t) ((uint32_t) fn->uid >> 16);
        p[2] = (uint8_t) ((uint32_t) fn->uid >> 8);
        p[3] = (uint8_t) fn->uid;
        p[4] = (uint8_t) ((uint32_t) fn->gid >> 24);
        p[5] = (uint8_t) ((uint32_t) fn->gid >> 16);
        p[6] = (uint8_t) ((uint32_t) fn->gid >> 8);
        p[7] = (uint8_t) fn->gid;

        faas_frame_header_encode(ctx->out, FAAS_FRAME_EXEC,
                                 (uint32_t) (8 + len));
        memcpy(p + 8, program, len);

        if (shim_frame_send(stem->child.channel, ctx->out,
                            FAAS_FRAME_HEADER_SIZE + 8 + len, &err)
            != 0)
        {
            errno = err;
            goto failed;
        }
    }

    inst->layer = stem->pool->runtime ? SHIM_LAYER_RUNTIME
                                      : SHIM_LAYER_SANDBOX;
    inst->prefiltered = stem->filtered;

    shim_instance_take_child(inst, &stem->child);

    /* a cold start counts from here, not from the pool's start */
    inst->started = shim_time_now();

    free(stem);

    return 0;

failed:

    shim_log_error(&ctx->log, SHIM_LOG_ERROR, errno, SHIM_INST_FMT
                   "from pool \"%s\": %s", SHIM_INST_ARGS(inst),
                   stem->pool->runtime ? stem->pool->runtime : "sandbox",
                   what);

    /* SIGCHLD finds no one: reaped as a stray */
    kill(stem->child.pid, SIGKILL);
    shim_launch_release(ctx, stem->id, &stem->child);
    free(stem);

    shim_timer_add(&ctx->loop, &ctx->pool_timer, SHIM_POOL_REFILL);

    return -1;
}


static void
shim_instance_take_child(shim_instance_t *inst, shim_child_t *child)
{
    inst->pid = child->pid;
    inst->started = child->started;
    inst->channel.fd = child->channel;

    shim_output_init(inst, child->output);

    child->channel = -1;
    child->output[0] = -1;
    child->output[1] = -1;
}


static int
shim_instance_load(shim_instance_t *inst)
{
    int                      rc, err;
    size_t                   n;
    json_t                  *load, *env;
    ssize_t                  sent;
    shim_ctx_t              *ctx;
    struct iovec             iov[2];
    struct msghdr            msg;
    shim_function_t         *fn;
    shim_seccomp_profile_t  *profile;

    ctx = inst->ctx;
    fn = inst->function;

    /* a pooled runtime learns here what a new process has in its envp */

    env = json_deep_copy(fn->env);

    if (env == NULL
        || json_array_append_new(env, json_pack("[s, s]", "FAAS_FUNCTION",
                                                fn->name)) != 0)
    {
        json_decref(env);
        errno = ENOMEM;
        return -1;
    }

    load = json_pack("{s:s, s:s, s:s, s:s, s:O, s:I, s:I, s:I, s:i, s:I,"
                     " s:I}",
                     "function", fn->name,
                     "version", fn->version,
                     "code", shim_launch_code_path(ctx, fn),
                     "handler", fn->handler,
                     "env", env,
                     "instance", (json_int_t) inst->id,
                     "timeout_ms", (json_int_t) fn->timeout,
                     "memory", (json_int_t) (ctx->conf.sandbox ? fn->memory
                                                                : 0),
                     "debug", fn->debug ? 1 : 0,
                     "concurrency", (json_int_t) fn->concurrency,
                     "threads", (json_int_t) fn->threads);
    json_decref(env);

    if (load == NULL) {
        errno = ENOMEM;
        return -1;
    }

    /*
     * Direct calls need no max_requests (only the supervisor counts
     * calls); the runtime says in READY whether it takes them at this
     * concurrency.
     */

    if (fn->max_requests == 0 && ctx->direct.base != NULL
        && json_object_set_new(load, "direct", json_true()) != 0)
    {
        json_decref(load);
        errno = ENOMEM;
        return -1;
    }

    if (fn->initializer != NULL
        && json_object_set_new(load, "initializer",
                               json_string(fn->initializer))
           != 0)
    {
        json_decref(load);
        errno = ENOMEM;
        return -1;
    }

    n = shim_frame_encode_json(ctx->out, FAAS_FRAME_LOAD, load);

    json_decref(load);

    if (n == 0) {
        errno = EMSGSIZE;
        return -1;
    }

    /*
     * The runtime's allowlist goes first, in the same packet: the runtime
     * loads it before the code, which cannot run without it.  An exec
     * program gets none: it cannot be trusted to load it (security.md).
     */

    profile = NULL;

    if (ctx->conf.sandbox && !fn->seccomp_base) {
        profile = shim_seccomp_profile(ctx->seccomp_profiles, fn->runtime);
    }

    /* a pooled runtime loaded it while it waited: READY still checks */

    if (profile != NULL && inst->prefiltered) {
        inst->filtered = 1;
        profile = NULL;
    }

    if (profile == NULL) {
        rc = shim_frame_send(inst->channel.fd, ctx->out, n, &err);
        errno = err;

        return rc;
    }

    inst->filtered = 1;

    iov[0].iov_base = profile->frame;
    iov[0].iov_len = profile->frame_len;
    iov[1].iov_base = ctx->out;
    iov[1].iov_len = n;

    memset(&msg, 0, sizeof(struct msghdr));
    msg.msg_iov = iov;
    msg.msg_iovlen = 2;

    do {
        sent = sendmsg(inst->channel.fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (sent == -1 && errno == EINTR);

    return (sent == -1) ? -1 : 0;
}


/* FAAS_FUNCTION, FAAS_INSTANCE and the function's env: nothing inherited */
static char **
shim_instance_environment(shim_instance_t *inst)
{
    char             **envp, *p;
    size_t             i, n, size;
    json_t            *pair;
    shim_function_t   *fn;

    fn = inst->function;
    n = json_array_size(fn->env);

    size = (n + 3) * sizeof(char *)
           + sizeof("FAAS_FUNCTION=") + strlen(fn->name)
           + sizeof("FAAS_INSTANCE=") + 20;

    json_array_foreach(fn->env, i, pair) {
        size += json_string_length(json_array_get(pair, 0))
                + json_string_length(json_array_get(pair, 1)) + 2;
    }

    /* one block: the caller frees envp only */

    envp = malloc(size);
    if (envp == NULL) {
        return NULL;
    }

    p = (char *) (envp + n + 3);

    json_array_foreach(fn->env, i, pair) {
        envp[i] = p;
        p += sprintf(p, "%s=%s", json_string_value(json_array_get(pair, 0)),
                     json_string_value(json_array_get(pair, 1))) + 1;
    }

    envp[n] = p;
    p += sprintf(p, "FAAS_FUNCTION=%s", fn->name) + 1;

    envp[n + 1] = p;
    sprintf(p, "FAAS_INSTANCE=%" PRIu64, inst->id);

    envp[n + 2] = NULL;

    return envp;
}


int
shim_instance_dispatch(shim_instance_t *inst, shim_request_t *r, int cold)
{
    int               n, err, prewarmed;
    size_t            len;
    json_t           *invoke;
    const char       *layer;
    uint8_t           header[FAAS_FRAME_HEADER_SIZE];
    uint64_t          now, waited, begin, queue_us, start_us;
    shim_ctx_t       *ctx;
    struct iovec      iov[3];
    struct msghdr     msg;
    struct cmsghdr   *cmsg;
    shim_function_t  *fn;

    union {
        struct cmsghdr  cm;
        char            space[CMSG_SPACE(sizeof(int))];
    } cmsgbuf;

    ctx = inst->ctx;
    fn = inst->function;

    /* bound while the instance started; bound again once dispatched */
    if (inst->request == r) {
        inst->request = NULL;
    }

    r->instance = NULL;

    shim_request_detach(r);

    now = shim_time_now();
    waited = now - r->arrived;

    /*
     * A cold start began when the instance was started for r, or when r
     * arrived if it took over a spare that was already starting.
     */

    if (cold) {
        begin = (inst->started > r->arrived) ? inst->started : r->arrived;
        begin = (begin < now) ? begin : now;
        queue_us = begin - r->arrived;
        start_us = now - begin;

    } else {
        queue_us = waited;
        start_us = 0;
    }

    /*
     * From the pool: ready before r arrived and never served, so r has a
     * fresh process without having waited for one to start.
     */

    prewarmed = (!cold && inst->served == 0 && inst->ready != 0
                 && inst->ready <= r->arrived);

    /* the warm layer it was served from */

    layer = cold ? shim_layer_names[inst->layer]
                 : (prewarmed ? "function" : "warm");

    n = snprintf((char *) ctx->out + FAAS_FRAME_HEADER_SIZE, FAAS_JSON_MAX,
                 "{\"instance\":%" PRIu64 ",\"cold\":%d,\"prewarmed\":%d,"
                 "\"pid\":%d,\"queue_us\":%" PRIu64 ",\"start_us\":%"
                 PRIu64 ",\"layer\":\"%s\"", inst->id, cold, prewarmed,
                 (int) inst->pid, queue_us, start_us, layer);

    /* the worker may keep the connection for direct calls to the slot */

    if (inst->direct) {
        n += snprintf((char *) ctx->out + FAAS_FRAME_HEADER_SIZE + n,
                      FAAS_JSON_MAX - n, ",\"slot\":%u,\"gen\":%u",
                      inst->slot, inst->slot_gen);
    }

    ((char *) ctx->out)[FAAS_FRAME_HEADER_SIZE + n++] = '}';

    faas_frame_header_encode(ctx->out, FAAS_FRAME_DISPATCH, (uint32_t) n);

    if (shim_frame_send(r->ev.fd, ctx->out, FAAS_FRAME_HEADER_SIZE + n,
                        &err)
        != 0)
    {
        shim_log_error(&ctx->log, SHIM_LOG_INFO, err,
                       "function \"%s\" request %s: nginx closed the "
                       "connection before dispatch", fn->name, r->id);
        shim_request_close(r);
        return 1;
    }

    invoke = json_pack("{s:s, s:I}", "request_id", r->id,
                       "timeout_ms", (json_int_t) fn->timeout);

    len = invoke ? shim_frame_encode_json(ctx->out, FAAS_FRAME_INVOKE,
                                          invoke)
                 : 0;

    json_decref(invoke);

    inst->state = SHIM_INSTANCE_BUSY;
    shim_queue_insert_tail(&inst->calls, &r->call);
    inst->active++;
    r->instance = inst;
    r->serving = 1;

    if (len == 0) {
        shim_instance_kill(inst, 502, "cannot build INVOKE for instance %"
                           PRIu64, inst->id);
        return -1;
    }

    /* INVOKE and the REQUEST nginx sent, in one packet with the fd */

    faas_frame_header_encode(header, FAAS_FRAME_REQUEST, (uint32_t) r->len);

    iov[0].iov_base = ctx->out;
    iov[0].iov_len = len;
    iov[1].iov_base = header;
    iov[1].iov_len = sizeof(header);
    iov[2].iov_base = r->payload;
    iov[2].iov_len = r->len;

    memset(&msg, 0, sizeof(struct msghdr));
    memset(&cmsgbuf, 0, sizeof(cmsgbuf));

    msg.msg_iov = iov;
    msg.msg_iovlen = 3;
    msg.msg_control = cmsgbuf.space;
    msg.msg_controllen = sizeof(cmsgbuf.space);

    cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cmsg), &r->ev.fd, sizeof(int));

    while (sendmsg(inst->channel.fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT)
           == -1)
    {
        if (errno == EINTR) {
            continue;
        }

        err = errno;

        shim_log_error(&ctx->log, SHIM_LOG_ERROR, err,
                       SHIM_INST_FMT "cannot pass request %s",
                       SHIM_INST_ARGS(inst), r->id);

        shim_instance_kill(inst, 502, "cannot pass the request to instance %"
                           PRIu64 ": %s", inst->id, strerror(err));
        return -1;
    }

    inst->served++;
    shim_function_count_call(fn, cold, start_us);

    if (cold) {
        fn->stats.cold_by_layer[inst->layer]++;
    }

    if (prewarmed) {
        fn->stats.prewarm_hits++;
    }

    shim_timer_add(&ctx->loop, &r->timer, fn->timeout);

    /* with room for more calls it is where the next one goes */

    shim_queue_remove(&inst->avail);

    if (inst->active < fn->concurrency && shim_instance_accepts(inst)) {
        shim_queue_insert_tail(&fn->open, &inst->avail);
    }

    shim_log_error(&ctx->log, SHIM_LOG_DEBUG, 0,
                   SHIM_INST_FMT "serving request %s%s, waited %" PRIu64
                   " us, %u call(s) in flight", SHIM_INST_ARGS(inst), r->id,
                   cold ? " (cold)" : (prewarmed ? " (prewarmed)" : ""),
                   waited, inst->active);

    return 0;
}


void
shim_instance_unbind(shim_request_t *r)
{
    shim_instance_t  *inst;

    inst = r->instance;

    if (inst == NULL) {
        return;
    }

    r->instance = NULL;
    inst->request = NULL;

    /* still loading: it becomes a spare that the next request may take */

    if (inst->state == SHIM_INSTANCE_STARTING) {
        shim_queue_remove(&inst->avail);
        shim_queue_insert_tail(&inst->function->spare, &inst->avail);
    }
}


static void
shim_instance_channel_handler(shim_event_t *ev, uint32_t revents)
{
    (void) revents;

    /* level-triggered: a packet more is another wake-up, not an EAGAIN */
    shim_instance_read(ev->data, 0);
}


static void
shim_instance_read(shim_instance_t *inst, int all)
{
    ssize_t               n;
    shim_ctx_t           *ctx;
    const char           *reason;
    struct iovec          iov;
    struct msghdr         msg;
    const uint8_t        *pos, *last, *payload;
    faas_frame_header_t   frame;

    ctx = inst->ctx;

    while (inst->channel.fd != -1) {

        /* no control buffer: fds an instance might send are discarded */

        iov.iov_base = ctx->packet;
        iov.iov_len = SHIM_PACKET_SIZE;

        memset(&msg, 0, sizeof(struct msghdr));
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;

        n = recvmsg(inst->channel.fd, &msg, MSG_DONTWAIT);

        if (n == -1) {
            if (errno == EINTR) {
                continue;
            }

            if (errno == EAGAIN) {
                return;
            }

            /*
             * It exited with our LOAD or QUIT unread.  The error comes
             * before the packets still queued (its last words, ERROR or
             * DONE), and reading it clears it: read on.
             */
            if (errno == ECONNRESET) {
                continue;
            }

            shim_log_error(&ctx->log, SHIM_LOG_ERROR, errno,
                           SHIM_INST_FMT "recvmsg() failed",
                           SHIM_INST_ARGS(inst));
            shim_instance_close_channel(inst);
            shim_instance_kill(inst, 502, "instance %" PRIu64 " failed",
                               inst->id);
            return;
        }

        if (n == 0) {
            /* it exited or closed fd 3; either way it is of no more use */
            shim_instance_close_channel(inst);

            if (!inst->exited) {
                kill(inst->pid, SIGKILL);
            }

            return;
        }

        if (msg.msg_flags & MSG_TRUNC) {
            shim_log_error(&ctx->log, SHIM_LOG_ERROR, 0,
                           SHIM_INST_FMT "sent a packet over %d bytes",
                           SHIM_INST_ARGS(inst), SHIM_PACKET_SIZE);
            shim_instance_kill(inst, 502, "instance %" PRIu64 " sent an "
                               "invalid packet", inst->id);
            return;
        }

        pos = ctx->packet;
        last = ctx->packet + n;

        while (pos < last) {
            if (shim_frame_next(&pos, last, &frame, &payload, &reason) != 0) {
                shim_log_error(&ctx->log, SHIM_LOG_ERROR, 0,
                               SHIM_INST_FMT "sent an invalid frame: %s",
                               SHIM_INST_ARGS(inst), reason);
                shim_instance_kill(inst, 502, "instance %" PRIu64 " sent an "
                                   "invalid frame: %s", inst->id, reason);
                return;
            }

            if (shim_instance_frame(inst, &frame, payload) != 0) {
                return;
            }
        }

        if (!all) {
            return;
        }
    }
}


static int
shim_instance_frame(shim_instance_t *inst, faas_frame_header_t *frame,
    const uint8_t *payload)
{
    int               n;
    shim_ctx_t       *ctx;
    shim_request_t   *r;
    shim_function_t  *fn;

    ctx = inst->ctx;
    fn = inst->function;

    if (inst->killed) {
        return 0;
    }

    switch (frame->type) {

    case FAAS_FRAME_READY:
        if (inst->state != SHIM_INSTANCE_STARTING) {
            break;
        }

        /*
         * A runtime that ignored its FILTER must not serve a call: the
         * kernel's count of its filters says whether it loaded one.
         */

        if (inst->filtered && ctx->seccomp_filters != 0) {
            n = shim_seccomp_filters(inst->pid);

            if (n != ctx->seccomp_filters) {
                shim_log_error(&ctx->log, SHIM_LOG_ERROR, 0,
                               SHIM_INST_FMT "refused: the %s runtime did "
                               "not load its seccomp allowlist "
                               "(Seccomp_filters %d, not %d)",
                               SHIM_INST_ARGS(inst), fn->runtime,
                               n, ctx->seccomp_filters);
                shim_instance_kill(inst, 502, "instance %" PRIu64 " refused: "
                                   "the %s runtime did not load its seccomp "
                                   "allowlist", inst->id, fn->runtime);
                return -1;
            }
        }

        shim_instance_ready(inst, payload, frame->length);
        return 0;

    case FAAS_FRAME_DONE:
        if (inst->state != SHIM_INSTANCE_BUSY) {
            break;
        }

        /* what it printed for this request is written before DONE */
        shim_output_drain(inst);
        shim_instance_done(inst, payload, frame->length);
        return 0;

    case FAAS_FRAME_ERROR:
        shim_output_drain(inst);
        free(inst->error);
        inst->error = shim_json_reason(payload, frame->length);

        if (inst->state == SHIM_INSTANCE_STARTING) {
            shim_log_error(&ctx->log, SHIM_LOG_ERROR, 0,
                           SHIM_INST_FMT "failed to start: %s",
                           SHIM_INST_ARGS(inst),
                           inst->error ? inst->error : "no reason given");
            shim_instance_kill(inst, 502, "failed to start: %s",
                               inst->error ? inst->error
                                           : "no reason given");
            return -1;
        }

        r = shim_queue_empty(&inst->calls)
            ? NULL
            : shim_queue_data(shim_queue_head(&inst->calls), shim_request_t,
                              call);

        shim_log_error(&ctx->log, SHIM_LOG_ERROR, 0,
                       SHIM_INST_FMT "failed%s%s: %s", SHIM_INST_ARGS(inst),
                       r ? " serving request " : "", r ? r->id : "",
                       inst->error ? inst->error : "no reason given");
        shim_instance_kill(inst, 502, "instance %" PRIu64 " failed: %s",
                           inst->id,
                           inst->error ? inst->error : "no reason given");
        return -1;

    default:
        break;
    }

    shim_log_error(&ctx->log, SHIM_LOG_ERROR, 0,
                   SHIM_INST_FMT "sent an unexpected %s frame",
                   SHIM_INST_ARGS(inst), faas_frame_type_name(frame->type));
    shim_instance_kill(inst, 502, "function \"%s\" instance %" PRIu64
                       " sent an unexpected %s frame", fn->name, inst->id,
                       faas_frame_type_name(frame->type));
    return -1;
}


static void
shim_instance_ready(shim_instance_t *inst, const uint8_t *payload,
    size_t len)
{
    int              direct;
    json_t          *json, *v;
    uint64_t         now;
    shim_ctx_t      *ctx;
    long long        init, initializer;
    shim_request_t  *r;

    ctx = inst->ctx;

    /* died right after READY: the death, being reaped, decides */

    if (inst->exited) {
        return;
    }

    init = -1;
    initializer = 0;
    direct = 0;

    if (len > 0) {
        json = json_loadb((const char *) payload, len, 0, NULL);

        /* the runtime keeps connections: LOAD asked, and it can */
        direct = json_is_true(json_object_get(json, "direct"));

        v = json_object_get(json, "init_us");

        if (json_is_integer(v)) {
            init = json_integer_value(v);
        }

        /* the function's own initializer, part of init */
        v = json_object_get(json, "initializer_us");

        if (json_is_integer(v)) {
            initializer = json_integer_value(v);
        }

        json_decref(json);
    }

    shim_timer_cancel(&ctx->loop.timers, &inst->timer);
    shim_queue_remove(&inst->avail);

    inst->function->reserve_paused = 0;

    if (direct && inst->function->max_requests == 0
        && shim_direct_alloc(&ctx->direct, inst->id,
                             inst->function->concurrency, &inst->slot,
                             &inst->slot_gen)
           == 0)
    {
        inst->direct = 1;

        if (!shim_timer_armed(&ctx->direct_timer)) {
            shim_timer_add(&ctx->loop, &ctx->direct_timer,
                           SHIM_DIRECT_WATCH);
        }
    }

    now = shim_time_now();
    r = inst->request;
    inst->ready = now;

    if (r == NULL) {
        shim_log_error(&ctx->log, SHIM_LOG_INFO, 0,
                       SHIM_INST_FMT "ready in %.2f ms, init %lld us, "
                       "initializer %lld us (pid %d)", SHIM_INST_ARGS(inst),
                       (double) (now - inst->started) / 1000, init,
                       initializer, (int) inst->pid);

        shim_instance_available(inst);
        shim_instance_sched(inst);
        return;
    }

    shim_log_error(&ctx->log, SHIM_LOG_INFO, 0,
                   SHIM_INST_FMT "cold start in %.2f ms (pid %d, "
                   "init %lld us, initializer %lld us)",
                   SHIM_INST_ARGS(inst), (double) (now - r->arrived) / 1000,
                   (int) inst->pid, init, initializer);

    /* and the calls that waited for its room (concurrency) */

    if (shim_instance_dispatch(inst, r, 1) != -1) {
        shim_instance_available(inst);
    }

    shim_instance_sched(inst);
}


/*
 * Once ready, and not before: a cold start under SCHED_BATCH waits for
 * the slices of whatever else runs, its p99 doubled here.  The call that
 * started it is dispatched first.  docs/operations.md, "Scheduling of
 * instances".
 */
static void
shim_instance_sched(shim_instance_t *inst)
{
    shim_ctx_t  *ctx;

    ctx = inst->ctx;

    if (!ctx->conf.sched_batch || inst->exited) {
        return;
    }

    if (shim_process_sched_batch(inst->pid) != 0) {
        shim_log_error(&ctx->log, SHIM_LOG_WARN, errno,
                       SHIM_INST_FMT "cannot make it SCHED_BATCH, it keeps "
                       "the normal policy (pid %d)", SHIM_INST_ARGS(inst),
                       (int) inst->pid);
    }
}


/*
 * DONE names its call: an instance may serve several (concurrency).  One
 * without a request_id (a runtime that serves one call at a time) is for
 * the only call there is.  An unknown id is a call already answered: it
 * timed out while others were still being served.
 */
static void
shim_instance_done(shim_instance_t *inst, const uint8_t *payload,
    size_t len)
{
    json_t           *json;
    shim_ctx_t       *ctx;
    const char       *id;
    shim_queue_t     *q;
    shim_request_t   *r;
    shim_function_t  *fn;

    ctx = inst->ctx;
    fn = inst->function;

    json = (len > 0) ? json_loadb((const char *) payload, len, 0, NULL)
                     : NULL;
    id = json_string_value(json_object_get(json, "request_id"));

    r = NULL;

    for (q = shim_queue_head(&inst->calls);
         q != shim_queue_sentinel(&inst->calls);
         q = shim_queue_next(q))
    {
        r = shim_queue_data(q, shim_request_t, call);

        if (id == NULL || strcmp(r->id, id) == 0) {
            break;
        }

        r = NULL;
    }

    if (id == NULL && inst->active > 1) {
        json_decref(json);
        shim_log_error(&ctx->log, SHIM_LOG_ERROR, 0,
                       SHIM_INST_FMT "sent DONE without a request_id while "
                       "serving %u calls", SHIM_INST_ARGS(inst),
                       inst->active);
        shim_instance_kill(inst, 502, "instance %" PRIu64 " sent DONE "
                           "without a request_id", inst->id);
        return;
    }

    if (r == NULL) {
        shim_log_error(&ctx->log, SHIM_LOG_DEBUG, 0,
                       SHIM_INST_FMT "DONE for request %s, answered "
                       "already", SHIM_INST_ARGS(inst), id ? id : "-");
        json_decref(json);
        return;
    }

    json_decref(json);

    shim_queue_remove(&r->call);
    inst->active--;
    r->serving = 0;
    r->instance = NULL;
    shim_request_close(r);

    /*
     * The pool a cold start came from refills once that call is answered:
     * a clone() with new namespaces, while the call runs, delays it by
     * milliseconds (kernel locks, two CPUs).
     */

    if (inst->layer != SHIM_LAYER_NONE && !inst->refilled) {
        inst->refilled = 1;
        shim_pool_fill(ctx);
    }

    if (inst->exited) {
        return;
    }

    if (inst->draining) {
        if (inst->active == 0 && shim_instance_direct_others(inst) > 0) {
            /* direct calls beside it: the timer waits for them */
            shim_timer_add(&ctx->loop, &inst->timer, SHIM_DIRECT_POLL);

        } else if (inst->active == 0) {
            /* the timed-out call still runs: nothing else stops it */
            shim_instance_kill(inst, 504, "function \"%s\" timed out",
                               fn->name);
        }

        return;
    }

    shim_instance_available(inst);
}


/* it may take another call now */
static int
shim_instance_accepts(shim_instance_t *inst)
{
    shim_function_t  *fn;

    fn = inst->function;

    return !inst->draining && !inst->killed && !inst->ctx->stopping
           && inst->state != SHIM_INSTANCE_QUITTING
           && inst->code_generation == fn->code_generation
           && (fn->max_requests == 0 || inst->served < fn->max_requests);
}


/*
 * The instance can serve.  First a queued request; then one waiting for
 * a cold start: this instance is warm now, and the starting one becomes a
 * spare.  A runtime reports DONE only after its response is out, so the
 * next request of a sequential client can arrive just before the DONE
 * that would have freed this instance for it.  Only then the idle list.
 */
void
shim_instance_available(shim_instance_t *inst)
{
    shim_ctx_t       *ctx;
    shim_request_t   *r;
    shim_instance_t  *starting;
    shim_function_t  *fn;

    ctx = inst->ctx;
    fn = inst->function;

    if (inst->killed || inst->state == SHIM_INSTANCE_QUITTING) {
        return;
    }

    /* loaded before a code update, or recycled: its calls finish, then it */

    if (!shim_instance_accepts(inst) && !ctx->stopping) {
        shim_queue_remove(&inst->avail);

        if (inst->active > 0 || inst->draining) {
            return;
        }

        if (inst->code_generation != fn->code_generation) {
            shim_instance_quit(inst, "code updated");
            shim_function_schedule(ctx, fn);
            return;
        }

        shim_log_error(&ctx->log, SHIM_LOG_INFO, 0,
                       SHIM_INST_FMT "recycled after %" PRIu64 " requests",
                       SHIM_INST_ARGS(inst), inst->served);
        shim_instance_quit(inst, "recycled after %" PRIu64 " requests",
                           inst->served);
        return;
    }

    while (inst->active < fn->concurrency && shim_instance_accepts(inst)) {
        r = shim_function_dequeue(fn);

        if (r != NULL) {
            shim_timer_cancel(&ctx->loop.timers, &r->timer);

        } else if (!shim_queue_empty(&fn->pending)) {
            starting = shim_queue_data(shim_queue_head(&fn->pending),
                                       shim_instance_t, avail);
            r = starting->request;
            shim_instance_unbind(r);

        } else {
            break;
        }

        if (shim_instance_dispatch(inst, r, 0) == -1) {
            return;
        }
    }

    if (inst->active > 0) {
        /* dispatch() put it on the open list if it has room */
        return;
    }

    if (!shim_instance_accepts(inst) && !ctx->stopping) {
        /* served its max_requests just now, and they were all dropped */
        shim_instance_available(inst);
        return;
    }

    if (ctx->stopping) {
        shim_instance_quit(inst, "supervisor is stopping");
        return;
    }

    inst->state = SHIM_INSTANCE_IDLE;
    inst->idle_since = ctx->loop.now;
    inst->reserved = 0;

    /* off the open list, where its last call left it */
    shim_queue_remove(&inst->avail);
    shim_queue_insert_head(&fn->idle, &inst->avail);

    /* idle: the workers may call it directly until the supervisor needs it */

    if (inst->direct) {
        faas_slot_open(shim_direct_slot(&ctx->direct, inst->slot));
    }

    if (fn->refs == 0) {
        shim_timer_add(&ctx->loop, &inst->timer,
                       ctx->conf.retire_grace);
        return;
    }

    /*
     * reserved instances are never reaped, nor those the prewarm pool
     * needs; see the timer handler too
     */

    if (shim_function_live(fn) <= fn->min_instances) {
        inst->reserved = 1;

    } else if (shim_function_pool(fn) <= fn->prewarm) {
        /* kept without a timer; those beyond the pool have one */

    } else if (fn->idle_timeout > 0) {
        shim_timer_add(&ctx->loop, &inst->timer, fn->idle_timeout);
    }
}


static void
shim_instance_quit(shim_instance_t *inst, const char *fmt, ...)
{
    va_list      args;
    shim_ctx_t  *ctx;

    ctx = inst->ctx;

    va_start(args, fmt);
    vsnprintf(inst->quit_reason, sizeof(inst->quit_reason), fmt, args);
    va_end(args);

    shim_queue_remove(&inst->avail);
    inst->state = SHIM_INSTANCE_QUITTING;

    /*
     * Closed, the slot takes no new direct call; one in flight may not
     * even have reached the runtime yet, which would read QUIT first.
     * QUIT waits for it (shim_instance_timer_handler()).
     */

    if (inst->direct
        && faas_slot_quit(shim_direct_slot(&ctx->direct, inst->slot)) > 0)
    {
        inst->quit_pending = 1;
        inst->quit_asked = ctx->loop.now;
        shim_timer_add(&ctx->loop, &inst->timer, SHIM_DIRECT_POLL);
        return;
    }

    shim_instance_send_quit(inst);
}


static void
shim_instance_send_quit(shim_instance_t *inst)
{
    int          err;
    uint8_t      frame[FAAS_FRAME_HEADER_SIZE];
    shim_ctx_t  *ctx;

    ctx = inst->ctx;
    inst->quit_pending = 0;

    faas_frame_header_encode(frame, FAAS_FRAME_QUIT, 0);

    if (inst->channel.fd == -1
        || shim_frame_send(inst->channel.fd, frame, sizeof(frame), &err)
           != 0)
    {
        kill(inst->pid, SIGKILL);
        inst->killed = 1;
        shim_timer_cancel(&ctx->loop.timers, &inst->timer);
        return;
    }

    shim_timer_add(&ctx->loop, &inst->timer, SHIM_QUIT_GRACE);
}


/*
 * Ends the instance now.  A request it holds is answered here with status
 * and the formatted reason, so the death that follows has nobody to tell.
 */
static void
shim_instance_kill(shim_instance_t *inst, int status, const char *fmt, ...)
{
    char             reason[512];
    va_list          args;
    shim_ctx_t      *ctx;
    shim_request_t  *r;

    ctx = inst->ctx;

    /* counted when it is reaped; a stop or a late QUIT is no failure */

    if (inst->failure == SHIM_FAIL_NONE && !ctx->stopping) {
        if (inst->state == SHIM_INSTANCE_STARTING) {
            inst->failure = SHIM_FAIL_START_FAILED;

        } else if (inst->state != SHIM_INSTANCE_QUITTING) {
            inst->failure = SHIM_FAIL_CRASH;
        }
    }

    if (inst->direct) {
        (void) faas_slot_quit(shim_direct_slot(&ctx->direct, inst->slot));
    }

    if (!inst->killed && !inst->exited) {
        kill(inst->pid, SIGKILL);
    }

    inst->killed = 1;
    inst->state = SHIM_INSTANCE_QUITTING;

    shim_queue_remove(&inst->avail);
    shim_timer_cancel(&ctx->loop.timers, &inst->timer);

    r = inst->request;

    if (r == NULL && inst->active == 0) {
        return;
    }

    va_start(args, fmt);
    vsnprintf(reason, sizeof(reason), fmt, args);
    va_end(args);

    if (r != NULL) {
        inst->request = NULL;
        r->instance = NULL;
        shim_request_fail(r, status, 0, "%s", reason);
    }

    shim_instance_fail_calls(inst, status, reason);
}


static void
shim_instance_fail_calls(shim_instance_t *inst, int status,
    const char *reason)
{
    shim_request_t  *r;

    while (!shim_queue_empty(&inst->calls)) {
        r = shim_queue_data(shim_queue_head(&inst->calls), shim_request_t,
                            call);

        shim_queue_remove(&r->call);
        inst->active--;
        r->serving = 0;
        r->instance = NULL;

        shim_request_fail(r, status, 0, "%s", reason);
    }
}


/*
 * One call, of those an instance serves, ran out of time.  Alone, the
 * instance is killed, as only that stops the call.  With others in flight
 * it answers this one 504, takes no more, and is killed once the others
 * are done: they are not failed for a neighbour's fault.
 */
void
shim_instance_call_timeout(shim_request_t *r)
{
    shim_ctx_t       *ctx;
    shim_instance_t  *inst;
    shim_function_t  *fn;

    inst = r->instance;
    ctx = inst->ctx;
    fn = inst->function;

    inst->failure = SHIM_FAIL_TIMEOUT;

    if (inst->active == 1) {
        shim_log_error(&ctx->log, SHIM_LOG_ERROR, 0,
                       SHIM_INST_FMT "timed out after %" PRIu64 " ms "
                       "serving request %s, killed", SHIM_INST_ARGS(inst),
                       fn->timeout, r->id);
        shim_instance_kill(inst, 504, "function \"%s\" timed out after %"
                           PRIu64 " ms", fn->name, fn->timeout);
        return;
    }

    shim_queue_remove(&r->call);
    inst->active--;
    r->serving = 0;
    r->instance = NULL;

    inst->draining = 1;
    shim_queue_remove(&inst->avail);

    shim_log_error(&ctx->log, SHIM_LOG_ERROR, 0,
                   SHIM_INST_FMT "timed out after %" PRIu64 " ms serving "
                   "request %s; killed once its %u other call(s) are done",
                   SHIM_INST_ARGS(inst), fn->timeout, r->id, inst->active);

    shim_request_fail(r, 504, 0, "function \"%s\" timed out after %"
                      PRIu64 " ms", fn->name, fn->timeout);
}


static void
shim_instance_timer_handler(shim_timer_t *t)
{
    uint64_t          idle, used;
    faas_slot_t      *slot;
    shim_ctx_t       *ctx;
    shim_instance_t  *inst;
    shim_function_t  *fn;

    inst = t->data;
    ctx = inst->ctx;
    fn = inst->function;

    /* a direct call timed out beside others: it goes once they are done */

    if (inst->draining && inst->state != SHIM_INSTANCE_STARTING) {
        if (inst->active > 0) {
            /* their DONE decides */
            return;
        }

        if (shim_instance_direct_others(inst) > 0) {
            shim_timer_add(&ctx->loop, &inst->timer, SHIM_DIRECT_POLL);
            return;
        }

        shim_instance_kill(inst, 504, "function \"%s\" timed out",
                           fn->name);
        return;
    }

    switch (inst->state) {

    case SHIM_INSTANCE_STARTING:
        shim_log_error(&ctx->log, SHIM_LOG_ERROR, 0,
                       SHIM_INST_FMT "not ready after %" PRIu64 " ms, "
                       "killed", SHIM_INST_ARGS(inst), fn->timeout);
        shim_instance_kill(inst, 504, "function \"%s\" timed out after %"
                           PRIu64 " ms while starting", fn->name,
                           fn->timeout);
        break;

    case SHIM_INSTANCE_BUSY:
        /* not armed: each call has its own timeout */
        break;

    case SHIM_INSTANCE_IDLE:
        if (fn->refs == 0) {
            shim_instance_quit(inst, "version no longer registered for %"
                               PRIu64 " ms", ctx->conf.retire_grace);
            break;
        }

        /* taken back for the queue: it serves it once its call ends */

        if (inst->recalled) {
            if (shim_instance_direct_in_flight(inst) > 0) {
                shim_timer_add(&ctx->loop, &inst->timer, SHIM_DIRECT_POLL);
                break;
            }

            inst->recalled = 0;
            shim_instance_available(inst);
            break;
        }

        /* idle for the supervisor, but nginx may have called it since */

        slot = NULL;

        if (inst->direct) {
            slot = shim_direct_slot(&ctx->direct, inst->slot);

            if (shim_instance_direct_in_flight(inst) > 0) {
                shim_timer_add(&ctx->loop, &inst->timer,
                               fn->idle_timeout > 0 ? fn->idle_timeout
                                                    : SHIM_QUIT_GRACE);
                break;
            }

            used = __atomic_load_n(&slot->last_used, __ATOMIC_RELAXED)
                   * 1000;

            if (used > inst->idle_since && used <= ctx->loop.now) {
                inst->idle_since = used;
            }
        }

        idle = (ctx->loop.now - inst->idle_since) / 1000;

        if (fn->idle_timeout > 0 && idle < fn->idle_timeout) {
            /* armed for the retire grace, then registered again */
            shim_timer_add(&ctx->loop, &inst->timer,
                           fn->idle_timeout - idle);
            break;
        }

        if (shim_function_live(fn) <= fn->min_instances) {
            shim_log_error(&ctx->log, SHIM_LOG_DEBUG, 0,
                           SHIM_INST_FMT "idle, kept as one of %u reserved",
                           SHIM_INST_ARGS(inst), fn->min_instances);
            inst->reserved = 1;
            break;
        }

        if (shim_function_pool(fn) <= fn->prewarm) {
            shim_log_error(&ctx->log, SHIM_LOG_DEBUG, 0,
                           SHIM_INST_FMT "idle, kept in the prewarm pool "
                           "of %u", SHIM_INST_ARGS(inst), fn->prewarm);
            break;
        }

        /* a direct call may have begun since: then it is not idle */

        if (slot != NULL && !faas_slot_take(slot)) {
            shim_timer_add(&ctx->loop, &inst->timer, fn->idle_timeout);
            break;
        }

        shim_log_error(&ctx->log, SHIM_LOG_DEBUG, 0,
                       SHIM_INST_FMT "idle for %" PRIu64 " ms, quitting",
                       SHIM_INST_ARGS(inst), fn->idle_timeout);
        shim_instance_quit(inst, "idle for %" PRIu64 " ms",
                           (ctx->loop.now - inst->idle_since) / 1000);
        break;

    case SHIM_INSTANCE_QUITTING:

        if (inst->quit_pending) {
            if (shim_instance_direct_in_flight(inst) == 0) {
                shim_instance_send_quit(inst);
                break;
            }

            if (ctx->loop.now - inst->quit_asked
                < (fn->timeout + SHIM_QUIT_GRACE) * 1000)
            {
                shim_timer_add(&ctx->loop, &inst->timer, SHIM_DIRECT_POLL);
                break;
            }

            /* a worker that died in a direct call never releases it */
        }

        shim_log_error(&ctx->log, SHIM_LOG_WARN, 0,
                       SHIM_INST_FMT "still running %d ms after QUIT, "
                       "killed", SHIM_INST_ARGS(inst), SHIM_QUIT_GRACE);
        shim_instance_kill(inst, 502, "instance %" PRIu64 " killed",
                           inst->id);
        break;
    }
}


static void
shim_instance_close_channel(shim_instance_t *inst)
{
    if (inst->channel.fd == -1) {
        return;
    }

    shim_event_del(&inst->ctx->loop, &inst->channel);
    close(inst->channel.fd);
    inst->channel.fd = -1;
}


void
shim_instance_reap(shim_ctx_t *ctx)
{
    int               status;
    pid_t             pid;
    shim_queue_t     *q;
    shim_instance_t  *inst;

    for ( ;; ) {
        pid = waitpid(-1, &status, WNOHANG);

        if (pid == 0) {
            return;
        }

        if (pid == -1) {
            if (errno == EINTR) {
                continue;
            }

            if (errno != ECHILD) {
                shim_log_error(&ctx->log, SHIM_LOG_ERROR, errno,
                               "waitpid() failed");
            }

            return;
        }

        inst = NULL;

        for (q = shim_queue_head(&ctx->instances);
             q != shim_queue_sentinel(&ctx->instances);
             q = shim_queue_next(q))
        {
            inst = shim_queue_data(q, shim_instance_t, link);

            if (inst->pid == pid) {
                break;
            }

            inst = NULL;
        }

        if (inst == NULL && shim_pool_reaped(ctx, pid, status)) {
            continue;
        }

        if (inst == NULL) {
            /* we are a subreaper: an instance's orphan, now gone */
            shim_log_error(&ctx->log, SHIM_LOG_INFO, 0,
                           "reaped process %d left behind by an instance",
                           (int) pid);
            continue;
        }

        shim_instance_died(inst, status);
    }
}


static void
shim_instance_died(shim_instance_t *inst, int status)
{
    char              how[64], reason[128], direct_id[33], *name;
    shim_ctx_t       *ctx;
    shim_request_t   *r;
    shim_function_t  *fn;

    ctx = inst->ctx;
    fn = inst->function;

    inst->exited = 1;

    /* its last lines, then what it said: DONE for the request, or ERROR */
    shim_output_drain(inst);
    shim_instance_read(inst, 1);
    shim_instance_close_channel(inst);

    shim_process_status(status, how, sizeof(how));

    /*
     * A seccomp kill names its call in the kernel's log; the OOM killer's
     * SIGKILL looks like any other, but the cgroup counted it.
     */

    if (ctx->conf.sandbox) {
        if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS) {
            name = shim_seccomp_killed_by(ctx->kmsg, inst->pid);

            if (name != NULL) {
                snprintf(how, sizeof(how), "killed by seccomp (SIGSYS) in "
                         "%s()", name);
                free(name);
            }
        }

        if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL
            && !inst->killed && shim_cgroup_oom(&ctx->cgroup, inst->id))
        {
            snprintf(how, sizeof(how), "out of memory (memory limit %"
                     PRIu64 " bytes)", fn->memory);
        }

        shim_cgroup_remove(&ctx->cgroup, inst->id, &ctx->log);
        shim_slot_remove(&ctx->slots, inst->id, &ctx->log);
    }

    r = inst->request;

    if (inst->failure != SHIM_FAIL_NONE) {
        fn->stats.failures[inst->failure]++;

    } else if (inst->quit_reason[0] == '\0' && !inst->killed) {
        fn->stats.failures[inst->state == SHIM_INSTANCE_STARTING
                           ? SHIM_FAIL_START_FAILED : SHIM_FAIL_CRASH]++;
    }

    if (inst->quit_reason[0] != '\0') {
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
            shim_log_error(&ctx->log, SHIM_LOG_INFO, 0,
                           SHIM_INST_FMT "terminated: %s",
                           SHIM_INST_ARGS(inst), inst->quit_reason);
        } else {
            shim_log_error(&ctx->log, SHIM_LOG_INFO, 0,
                           SHIM_INST_FMT "terminated: %s, %s",
                           SHIM_INST_ARGS(inst), inst->quit_reason, how);
        }

    } else if (inst->killed) {
        shim_log_error(&ctx->log, SHIM_LOG_INFO, 0, SHIM_INST_FMT "%s",
                       SHIM_INST_ARGS(inst), how);

    } else if (inst->state == SHIM_INSTANCE_STARTING) {
        /* no restart loop: the next registration tries the reserve again */
        fn->reserve_paused = 1;

        shim_log_error(&ctx->log, SHIM_LOG_ERROR, 0,
                       SHIM_INST_FMT "failed to start: %s (pid %d)",
                       SHIM_INST_ARGS(inst), inst->error ? inst->error : how,
                       (int) inst->pid);

        if (r != NULL) {
            inst->request = NULL;
            r->instance = NULL;
            shim_request_fail(r, 502, 0, "failed to start: %s",
                              inst->error ? inst->error : how);
        }

    } else if (inst->active > 0) {
        r = shim_queue_data(shim_queue_head(&inst->calls), shim_request_t,
                            call);

        shim_log_error(&ctx->log, SHIM_LOG_ERROR, 0,
                       SHIM_INST_FMT "died: %s while serving request %s%s",
                       SHIM_INST_ARGS(inst), how, r->id,
                       inst->active > 1 ? " and others" : "");

        snprintf(reason, sizeof(reason), "instance %" PRIu64 " died: %s",
                 inst->id, how);
        shim_instance_fail_calls(inst, 502, reason);

    } else if (shim_instance_direct_request_id(inst, direct_id) == 0) {
        /*
         * Idle as the supervisor sees it, but a worker may have had a
         * direct call in it: the worker answers that one 502, and its
         * log names the request.
         */
        shim_log_error(&ctx->log, SHIM_LOG_ERROR, 0,
                       SHIM_INST_FMT "died: %s, outside the supervisor's "
                       "calls (its latest direct call: request %s)",
                       SHIM_INST_ARGS(inst), how, direct_id);

    } else {
        shim_log_error(&ctx->log, SHIM_LOG_ERROR, 0,
                       SHIM_INST_FMT "died while idle: %s",
                       SHIM_INST_ARGS(inst), how);
    }

    /* asked to quit, it may still have had calls: none outlives it */

    if (inst->active > 0) {
        snprintf(reason, sizeof(reason), "instance %" PRIu64 " ended: %s",
                 inst->id, how);
        shim_instance_fail_calls(inst, 502, reason);
    }

    shim_instance_free(inst);

    shim_function_schedule(ctx, fn);
}


static void
shim_instance_free(shim_instance_t *inst)
{
    shim_ctx_t       *ctx;
    shim_function_t  *fn;

    ctx = inst->ctx;
    fn = inst->function;

    shim_instance_close_channel(inst);
    shim_output_close(inst);
    shim_timer_release(&ctx->loop.timers, &inst->timer);

    if (inst->direct) {
        shim_instance_count_direct(inst);
        shim_direct_free(&ctx->direct, inst->slot);
    }

    shim_queue_remove(&inst->avail);
    shim_queue_remove(&inst->flink);
    shim_queue_remove(&inst->link);

    ctx->ninstances--;
    fn->ninstances--;

    free(inst->error);
    free(inst);
}


unsigned
shim_function_starting_room(shim_function_t *fn)
{
    unsigned       n;
    shim_queue_t  *q;

    if (fn->concurrency < 2) {
        return 0;
    }

    n = 0;

    for (q = shim_queue_head(&fn->pending);
         q != shim_queue_sentinel(&fn->pending);
         q = shim_queue_next(q))
    {
        n += fn->concurrency - 1;
    }

    return n;
}


void
shim_function_schedule(shim_ctx_t *ctx, shim_function_t *fn)
{
    int              err;
    shim_request_t  *r;

    while (fn->ninstances < fn->max_instances) {
        r = shim_function_dequeue(fn);
        if (r == NULL) {
            break;
        }

        shim_timer_cancel(&ctx->loop.timers, &r->timer);

        if (shim_instance_start(ctx, fn, r, &err) != 0) {
            fn->stats.failures[SHIM_FAIL_START_FAILED]++;
            shim_log_error(&ctx->log, SHIM_LOG_ERROR, err,
                           "function \"%s\": cannot start an instance",
                           fn->name);
            shim_request_fail(r, 502, 0, "cannot start an instance: %s",
                              shim_instance_start_error(ctx, err));
        }
    }

    while (fn->refs > 0 && !ctx->stopping && !fn->reserve_paused
           && fn->ninstances < fn->max_instances
           && shim_function_live(fn) < fn->min_instances)
    {
        if (shim_instance_start(ctx, fn, NULL, &err) != 0) {
            fn->stats.failures[SHIM_FAIL_START_FAILED]++;
            shim_log_error(&ctx->log, SHIM_LOG_ERROR, err,
                           "function \"%s\": cannot start a reserved "
                           "instance", fn->name);
            fn->reserve_paused = 1;
            break;
        }

        shim_log_error(&ctx->log, SHIM_LOG_NOTICE, 0,
                       "function \"%s\": started reserved instance %" PRIu64
                       " (min_instances %u)", fn->name,
                       ctx->last_instance_id, fn->min_instances);
    }

    shim_function_prewarm(ctx, fn);

    if (fn->refs == 0 && fn->ninstances == 0 && fn->nwaiting == 0) {
        shim_log_error(&ctx->log, SHIM_LOG_INFO, 0,
                       "function \"%s\" version %s removed", fn->name,
                       fn->version);

        shim_watch_remove(ctx, fn);
        shim_function_remove(&ctx->functions, fn);
        shim_function_free(fn);
    }
}


void
shim_function_prewarm(shim_ctx_t *ctx, shim_function_t *fn)
{
    int  err;

    /* runs after every dispatch: no pool, no walk over the instances */

    while (fn->prewarm > 0 && fn->refs > 0 && !ctx->stopping
           && !fn->reserve_paused && fn->ninstances < fn->max_instances
           && shim_function_pool(fn) < fn->prewarm)
    {
        if (shim_instance_start(ctx, fn, NULL, &err) != 0) {
            fn->stats.failures[SHIM_FAIL_START_FAILED]++;
            shim_log_error(&ctx->log, SHIM_LOG_ERROR, err,
                           "function \"%s\": cannot start a prewarmed "
                           "instance", fn->name);
            fn->reserve_paused = 1;
            break;
        }

        shim_log_error(&ctx->log, SHIM_LOG_INFO, 0,
                       "function \"%s\": started prewarmed instance %"
                       PRIu64 " (prewarm %u)", fn->name,
                       ctx->last_instance_id, fn->prewarm);
    }

    /*
     * After a code update, as many instances of the new code as there
     * were of the old, started as the old ones leave: the calls after the
     * update find them ready, or wait for one already starting.
     */

    while (fn->replace > 0 && fn->refs > 0 && !ctx->stopping
           && !fn->reserve_paused && fn->ninstances < fn->max_instances)
    {
        fn->replace--;

        if (shim_instance_start(ctx, fn, NULL, &err) != 0) {
            fn->stats.failures[SHIM_FAIL_START_FAILED]++;
            shim_log_error(&ctx->log, SHIM_LOG_ERROR, err,
                           "function \"%s\": cannot start an instance of "
                           "the updated code", fn->name);
            fn->replace = 0;
            break;
        }

        shim_log_error(&ctx->log, SHIM_LOG_INFO, 0,
                       "function \"%s\": started instance %" PRIu64 " of "
                       "the updated code", fn->name, ctx->last_instance_id);
    }
}


/* the prewarm pool: idle instances and spares, starting for no request */

static unsigned
shim_function_pool(shim_function_t *fn)
{
    unsigned       n;
    shim_queue_t  *q;

    n = 0;

    for (q = shim_queue_head(&fn->idle);
         q != shim_queue_sentinel(&fn->idle);
         q = shim_queue_next(q))
    {
        n++;
    }

    for (q = shim_queue_head(&fn->spare);
         q != shim_queue_sentinel(&fn->spare);
         q = shim_queue_next(q))
    {
        n++;
    }

    return n;
}


unsigned
shim_function_live(shim_function_t *fn)
{
    unsigned          n;
    shim_queue_t     *q;
    shim_instance_t  *inst;

    n = 0;

    for (q = shim_queue_head(&fn->instances);
         q != shim_queue_sentinel(&fn->instances);
         q = shim_queue_next(q))
    {
        inst = shim_queue_data(q, shim_instance_t, flink);

        if (inst->state != SHIM_INSTANCE_QUITTING) {
            n++;
        }
    }

    return n;
}


void
shim_instance_retire(shim_ctx_t *ctx, shim_function_t *fn)
{
    shim_queue_t     *q;
    shim_instance_t  *inst;

    if (ctx->stopping) {
        while ((inst = shim_instance_get_idle(fn)) != NULL) {
            shim_instance_quit(inst, "supervisor is stopping");
        }

        shim_function_schedule(ctx, fn);
        return;
    }

    /* idle ones, reserved and prewarmed included, go after a grace */

    for (q = shim_queue_head(&fn->idle);
         q != shim_queue_sentinel(&fn->idle);
         q = shim_queue_next(q))
    {
        inst = shim_queue_data(q, shim_instance_t, avail);
        inst->reserved = 0;

        if (!shim_timer_armed(&inst->timer)
            || inst->timer.deadline > ctx->loop.now
                                      + ctx->conf.retire_grace * 1000)
        {
            shim_timer_add(&ctx->loop, &inst->timer,
                       ctx->conf.retire_grace);
        }
    }

    shim_function_schedule(ctx, fn);
}


void
shim_instance_code_changed(shim_ctx_t *ctx, shim_function_t *fn)
{
    unsigned          idle, busy;
    shim_queue_t     *q;
    shim_instance_t  *inst;

    fn->code_generation++;

    idle = 0;

    while ((inst = shim_instance_get_idle(fn)) != NULL) {
        shim_instance_quit(inst, "code updated");
        idle++;
    }

    /*
     * busy and starting ones quit when they next become available; busy
     * ones with room take no new call meanwhile
     */

    busy = 0;

    for (q = shim_queue_head(&fn->instances);
         q != shim_queue_sentinel(&fn->instances);
         q = shim_queue_next(q))
    {
        inst = shim_queue_data(q, shim_instance_t, flink);

        if (inst->state == SHIM_INSTANCE_BUSY) {
            shim_queue_remove(&inst->avail);
            busy++;

        } else if (inst->state == SHIM_INSTANCE_STARTING) {
            busy++;
        }
    }

    shim_log_error(&ctx->log, SHIM_LOG_NOTICE, 0,
                   "function \"%s\" version %s: code in \"%s\" updated: "
                   "%u idle instances quit, %u finish on the old code",
                   fn->name, fn->version, fn->code, idle, busy);

    /* as many come back with the new code, reserved and prewarmed too */

    fn->replace = idle + busy;

    if (fn->replace > fn->max_instances) {
        fn->replace = fn->max_instances;
    }

    shim_function_schedule(ctx, fn);
}


void
shim_instance_direct_watch(shim_timer_t *t)
{
    uint64_t          now, since;
    unsigned          direct;
    shim_ctx_t       *ctx;
    faas_slot_t      *slot;
    shim_queue_t     *q, *next;
    shim_instance_t  *inst;

    ctx = t->data;
    now = ctx->loop.now / 1000;
    direct = 0;

    for (q = shim_queue_head(&ctx->instances);
         q != shim_queue_sentinel(&ctx->instances);
         q = next)
    {
        next = shim_queue_next(q);
        inst = shim_queue_data(q, shim_instance_t, link);

        if (!inst->direct || inst->killed) {
            continue;
        }

        direct = 1;

        if (shim_instance_direct_in_flight(inst) == 0) {
            continue;
        }

        /* stamped by the worker when it claimed the slot */

        slot = shim_direct_slot(&ctx->direct, inst->slot);
        since = __atomic_load_n(&slot->last_used, __ATOMIC_RELAXED);

        if (since > now
            || now - since < inst->function->timeout + SHIM_QUIT_GRACE)
        {
            continue;
        }

        inst->failure = SHIM_FAIL_TIMEOUT;

        shim_log_error(&ctx->log, SHIM_LOG_ERROR, 0,
                       SHIM_INST_FMT "a direct call has been in flight for %"
                       PRIu64 " ms, past its timeout: its nginx worker is "
                       "gone; killed", SHIM_INST_ARGS(inst), now - since);

        shim_instance_kill(inst, 502, "instance %" PRIu64 " killed: a "
                           "direct call was lost", inst->id);
    }

    if (direct) {
        shim_timer_add(&ctx->loop, t, SHIM_DIRECT_WATCH);
    }
}


void
shim_instance_abandoned(shim_ctx_t *ctx, uint64_t id, uint32_t slot,
    uint32_t gen, const char *request_id, uint64_t after_ms)
{
    unsigned          others;
    shim_queue_t     *q;
    shim_instance_t  *inst;

    for (q = shim_queue_head(&ctx->instances);
         q != shim_queue_sentinel(&ctx->instances);
         q = shim_queue_next(q))
    {
        inst = shim_queue_data(q, shim_instance_t, link);

        if (inst->id != id) {
            continue;
        }

        /* a later generation of the slot: that instance is gone already */

        if (!inst->direct || inst->slot != slot || inst->slot_gen != gen
            || inst->killed)
        {
            return;
        }

        inst->failure = SHIM_FAIL_TIMEOUT;

        /* its worker keeps the claim: nobody calls it meanwhile */
        inst->abandoned++;

        others = inst->active + shim_instance_direct_others(inst);

        if (others == 0) {
            shim_log_error(&ctx->log, SHIM_LOG_ERROR, 0,
                           SHIM_INST_FMT "timed out after %" PRIu64 " ms "
                           "serving request %s (a direct call); killed",
                           SHIM_INST_ARGS(inst), after_ms,
                           request_id ? request_id : "-");

            shim_instance_kill(inst, 502, "instance %" PRIu64 " killed: a "
                               "direct call timed out", inst->id);
            return;
        }

        /*
         * Calls beside it (concurrency): they are not failed for a
         * neighbour's fault.  No new call; killed once they are done, as
         * shim_instance_call_timeout() does.
         */

        (void) faas_slot_quit(shim_direct_slot(&ctx->direct, inst->slot));

        if (!inst->draining) {
            inst->draining = 1;
            shim_queue_remove(&inst->avail);

            if (inst->active == 0) {
                shim_timer_add(&ctx->loop, &inst->timer, SHIM_DIRECT_POLL);
            }
        }

        shim_log_error(&ctx->log, SHIM_LOG_ERROR, 0,
                       SHIM_INST_FMT "timed out after %" PRIu64 " ms serving "
                       "request %s (a direct call); killed once its %u other "
                       "call(s) are done", SHIM_INST_ARGS(inst), after_ms,
                       request_id ? request_id : "-", others);
        return;
    }
}


void
shim_instance_kill_all(shim_ctx_t *ctx, const char *why)
{
    shim_queue_t     *q;
    shim_instance_t  *inst;

    for (q = shim_queue_head(&ctx->instances);
         q != shim_queue_sentinel(&ctx->instances);
         q = shim_queue_next(q))
    {
        inst = shim_queue_data(q, shim_instance_t, link);

        if (!inst->killed) {
            shim_log_error(&ctx->log, SHIM_LOG_WARN, 0,
                           SHIM_INST_FMT "killed: %s", SHIM_INST_ARGS(inst),
                           why);
            shim_instance_kill(inst, 502, "instance %" PRIu64 " killed: %s",
                               inst->id, why);
        }
    }
}


/* the "reason" of an ERROR frame, NULL if there is none */
static char *
shim_json_reason(const uint8_t *payload, size_t len)
{
    char    *reason;
    json_t  *json, *v;

    json = json_loadb((const char *) payload, len, 0, NULL);
    v = json_object_get(json, "reason");

    reason = json_is_string(v) ? strdup(json_string_value(v)) : NULL;

    json_decref(json);

    return reason;
}
