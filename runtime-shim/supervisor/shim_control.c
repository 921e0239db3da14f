/*
 * Control connections, see shim_control.h.
 *
 * Every control connection holds one reference on each function version
 * it registered.  A version whose last reference goes is retired: its idle
 * instances quit, busy ones finish, and the entry is freed when unused.
 * A reload that keeps a definition keeps its version, so warm instances
 * survive it.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shim.h"


static int shim_control_register(shim_control_t *c, uint8_t *payload,
    size_t len);
static void shim_control_abandon(shim_control_t *c, uint8_t *payload,
    size_t len);
static void shim_control_release(shim_control_t *c, shim_function_t **list,
    size_t n);
static int shim_control_reply(shim_control_t *c, size_t nfunctions);
static void shim_control_handler(shim_event_t *ev, uint32_t revents);
static int shim_control_flush(shim_control_t *c);
static void shim_control_close(shim_control_t *c);


void
shim_control_start(shim_ctx_t *ctx, int fd, uint8_t *payload, size_t len)
{
    shim_control_t  *c;

    c = calloc(1, sizeof(shim_control_t));
    if (c == NULL) {
        shim_log_error(&ctx->log, SHIM_LOG_ERROR, ENOMEM,
                       "dropping control connection");
        free(payload);
        close(fd);
        return;
    }

    c->ctx = ctx;
    shim_frame_reader_init(&c->rd, SHIM_FRAME_TYPE(FAAS_FRAME_REGISTER)
                                   | SHIM_FRAME_TYPE(FAAS_FRAME_ABANDON));
    shim_event_init(&c->ev, fd, shim_control_handler, c);
    shim_queue_insert_tail(&ctx->controls, &c->link);

    if (shim_control_register(c, payload, len) != 0) {
        free(payload);
        shim_control_close(c);
        return;
    }

    free(payload);

    if (shim_control_flush(c) != 0) {
        shim_control_close(c);
    }
}


static int
shim_control_register(shim_control_t *c, uint8_t *payload, size_t len)
{
    char               err[512];
    size_t             i, fresh;
    shim_ctx_t        *ctx;
    shim_function_t  **list, *fn;
    shim_register_t    reg;

    ctx = c->ctx;

    if (shim_register_parse(&reg, payload, len, ctx->conf.runtime_dir, err,
                            sizeof(err))
        != 0)
    {
        shim_log_error(&ctx->log, SHIM_LOG_WARN, 0,
                       "dropping control connection: invalid REGISTER: %s",
                       err);
        return -1;
    }

    list = calloc(reg.nfunctions ? reg.nfunctions : 1,
                  sizeof(shim_function_t *));
    if (list == NULL) {
        shim_log_error(&ctx->log, SHIM_LOG_ERROR, ENOMEM,
                       "dropping control connection");
        shim_register_free(&reg);
        return -1;
    }

    /* before the insertion below: it tells fresh functions apart */

    if (shim_user_assign_all(ctx, reg.functions, reg.nfunctions) != 0) {
        shim_log_error(&ctx->log, SHIM_LOG_ERROR, ENOMEM,
                       "dropping control connection");
        free(list);
        shim_register_free(&reg);
        return -1;
    }

    fresh = 0;

    for (i = 0; i < reg.nfunctions; i++) {
        fn = shim_function_find(&ctx->functions, reg.functions[i]->name,
                                reg.functions[i]->version);

        if (fn == NULL) {
            fn = reg.functions[i];

            if (shim_function_insert(&ctx->functions, fn) != 0) {
                shim_log_error(&ctx->log, SHIM_LOG_ERROR, ENOMEM,
                               "dropping control connection");
                shim_control_release(c, list, i);
                shim_register_free(&reg);
                return -1;
            }

            reg.functions[i] = NULL;
            fresh++;

            shim_watch_add(ctx, fn);
        }

        fn->refs++;
        list[i] = fn;
    }

    /* the new references are taken before the old ones go: no drain */

    shim_control_release(c, c->functions, c->nfunctions);

    c->functions = list;
    c->nfunctions = reg.nfunctions;
    c->pid = reg.pid;

    free(c->generation);
    c->generation = reg.generation;
    reg.generation = NULL;

    shim_register_free(&reg);

    shim_log_error(&ctx->log, SHIM_LOG_NOTICE, 0,
                   "registered generation %s from pid %lld: %zu functions "
                   "(%zu new)", c->generation, c->pid, c->nfunctions, fresh);

    if (shim_control_reply(c, c->nfunctions) != 0) {
        return -1;
    }

    shim_request_registered(ctx);

    /* reserved instances (min_instances) start as soon as registered */

    for (i = 0; i < c->nfunctions; i++) {
        c->functions[i]->reserve_paused = 0;
        shim_function_schedule(ctx, c->functions[i]);
    }

    return 0;
}


/*
 * ABANDON: a worker gave up a direct call, which the supervisor never saw
 * (timeout).  Only killing the instance stops the call.
 */
static void
shim_control_abandon(shim_control_t *c, uint8_t *payload, size_t len)
{
    json_t      *json;
    json_int_t   instance, slot, gen, after;
    const char  *rid;

    json = json_loadb((const char *) payload, len, 0, NULL);

    rid = NULL;
    after = 0;

    if (json == NULL
        || json_unpack(json, "{s:I, s:I, s:I, s?s, s?I}",
                       "instance", &instance, "slot", &slot, "gen", &gen,
                       "request_id", &rid, "after_ms", &after)
           != 0
        || instance < 0 || slot < 0 || slot >= FAAS_SLOTS_MAX || gen < 0
        || gen > UINT32_MAX || after < 0)
    {
        shim_log_error(&c->ctx->log, SHIM_LOG_WARN, 0,
                       "control connection of pid %lld: invalid ABANDON, "
                       "ignored", c->pid);
        json_decref(json);
        return;
    }

    shim_instance_abandoned(c->ctx, (uint64_t) instance, (uint32_t) slot,
                            (uint32_t) gen, rid, (uint64_t) after);

    json_decref(json);
}


static void
shim_control_release(shim_control_t *c, shim_function_t **list, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (--list[i]->refs == 0) {
            shim_log_error(&c->ctx->log, SHIM_LOG_INFO, 0,
                           "function \"%s\" version %s is no longer "
                           "registered", list[i]->name, list[i]->version);
            shim_instance_retire(c->ctx, list[i]);
        }
    }

    free(list);
}


static int
shim_control_reply(shim_control_t *c, size_t nfunctions)
{
    char         nonce[17];
    size_t       n;
    json_t      *json;
    uint8_t     *out;
    shim_ctx_t  *ctx;

    ctx = c->ctx;

    json = json_pack("{s:s, s:I}", "generation", c->generation,
                     "functions", (json_int_t) nfunctions);

    /* where the worker maps the table of direct calls, and which one */

    if (json != NULL && ctx->direct.base != NULL) {
        snprintf(nonce, sizeof(nonce), "%016" PRIx64, ctx->direct.nonce);

        if (json_object_set_new(json, "slots",
                                json_string(ctx->direct.path)) != 0
            || json_object_set_new(json, "slots_nonce", json_string(nonce))
               != 0)
        {
            json_decref(json);
            json = NULL;
        }
    }

    n = json ? shim_frame_encode_json(ctx->out, FAAS_FRAME_REGISTERED, json)
             : 0;

    json_decref(json);

    if (n == 0) {
        shim_log_error(&ctx->log, SHIM_LOG_ERROR, 0,
                       "cannot encode REGISTERED");
        return -1;
    }

    out = realloc(c->out, c->out_len + n);
    if (out == NULL) {
        shim_log_error(&ctx->log, SHIM_LOG_ERROR, ENOMEM,
                       "dropping control connection");
        return -1;
    }

    memcpy(out + c->out_len, ctx->out, n);

    c->out = out;
    c->out_len += n;

    return 0;
}


static void
shim_control_handler(shim_event_t *ev, uint32_t revents)
{
    int                 err;
    size_t              len;
    uint8_t            *payload;
    shim_ctx_t         *ctx;
    const char         *reason;
    shim_control_t     *c;
    shim_frame_read_e   rc;

    c = ev->data;
    ctx = c->ctx;

    if ((revents & EPOLLOUT) && shim_control_flush(c) != 0) {
        shim_control_close(c);
        return;
    }

    if (!(revents & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
        return;
    }

    for ( ;; ) {
        rc = shim_frame_read(c->ev.fd, &c->rd, &reason, &err);

        switch (rc) {

        case SHIM_FRAME_READ_AGAIN:
            return;

        case SHIM_FRAME_READ_EOF:
            shim_log_error(&ctx->log, SHIM_LOG_INFO, 0,
                           "control connection of pid %lld closed", c->pid);
            shim_control_close(c);
            return;

        case SHIM_FRAME_READ_ERROR:
            shim_log_error(&ctx->log, SHIM_LOG_WARN, err,
                           "dropping control connection of pid %lld: %s",
                           c->pid, reason);
            shim_control_close(c);
            return;

        case SHIM_FRAME_READ_DONE:
            break;
        }

        payload = shim_frame_reader_take(&c->rd, &len);

        if (c->rd.frame.type == FAAS_FRAME_ABANDON) {
            shim_control_abandon(c, payload, len);
            free(payload);
            continue;
        }

        /* a worker may register again on the same connection */

        if (shim_control_register(c, payload, len) != 0) {
            free(payload);
            shim_control_close(c);
            return;
        }

        free(payload);

        if (shim_control_flush(c) != 0) {
            shim_control_close(c);
            return;
        }
    }
}


static int
shim_control_flush(shim_control_t *c)
{
    int          err;
    uint32_t     events;
    shim_ctx_t  *ctx;

    ctx = c->ctx;

    if (shim_frame_send_some(c->ev.fd, c->out, c->out_len, &c->out_sent,
                             &err)
        != 0)
    {
        shim_log_error(&ctx->log, SHIM_LOG_INFO, err,
                       "control connection of pid %lld: send() failed",
                       c->pid);
        return -1;
    }

    if (c->out_sent == c->out_len) {
        free(c->out);
        c->out = NULL;
        c->out_len = 0;
        c->out_sent = 0;
        events = EPOLLIN;

    } else {
        events = EPOLLIN | EPOLLOUT;
    }

    if (shim_event_set(&ctx->loop, &c->ev, events) != 0) {
        shim_log_error(&ctx->log, SHIM_LOG_ERROR, errno,
                       "control connection of pid %lld: epoll_ctl() failed",
                       c->pid);
        return -1;
    }

    return 0;
}


static void
shim_control_close(shim_control_t *c)
{
    shim_ctx_t  *ctx;

    ctx = c->ctx;

    shim_event_del(&ctx->loop, &c->ev);
    close(c->ev.fd);

    shim_queue_remove(&c->link);

    shim_control_release(c, c->functions, c->nfunctions);

    shim_frame_reader_free(&c->rd);
    free(c->generation);
    free(c->out);
    free(c);
}


shim_control_log_e
shim_control_log(shim_ctx_t *ctx, json_t *json)
{
    size_t           n, pending;
    uint8_t         *out;
    shim_control_t  *c;

    if (shim_queue_empty(&ctx->controls)) {
        return SHIM_CONTROL_LOG_NONE;
    }

    /* any worker will do: they share nginx's error log */

    c = shim_queue_data(shim_queue_head(&ctx->controls), shim_control_t,
                        link);

    n = shim_frame_encode_json(ctx->out, FAAS_FRAME_LOG, json);
    if (n == 0) {
        return SHIM_CONTROL_LOG_NONE;
    }

    pending = c->out_len - c->out_sent;

    if (pending + n > SHIM_CONTROL_OUT_MAX) {
        return SHIM_CONTROL_LOG_FULL;
    }

    if (c->out_sent > 0) {
        memmove(c->out, c->out + c->out_sent, pending);
        c->out_len = pending;
        c->out_sent = 0;
    }

    out = realloc(c->out, c->out_len + n);
    if (out == NULL) {
        return SHIM_CONTROL_LOG_NONE;
    }

    memcpy(out + c->out_len, ctx->out, n);

    c->out = out;
    c->out_len += n;

    /* a failed send closes the connection from its own handler */

    (void) shim_control_flush(c);

    return SHIM_CONTROL_LOG_SENT;
}


void
shim_control_close_all(shim_ctx_t *ctx)
{
    shim_control_t  *c;

    while (!shim_queue_empty(&ctx->controls)) {
        c = shim_queue_data(shim_queue_head(&ctx->controls), shim_control_t,
                            link);
        shim_control_close(c);
    }
}
