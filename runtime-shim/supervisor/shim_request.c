/*
 * Request connections, see shim_request.h.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim.h"


static void shim_request_route(shim_request_t *r);
static int shim_request_watch(shim_request_t *r);
static void shim_request_peer_handler(shim_event_t *ev, uint32_t revents);
static void shim_request_timer_handler(shim_timer_t *t);
static char *shim_request_string(json_t *root, const char *key,
    int required, char *err, size_t errlen);


void
shim_request_start(shim_ctx_t *ctx, int fd, uint8_t *payload, size_t len)
{
    char             *name, *version, err[256];
    shim_request_t   *r;
    shim_function_t  *fn;

    r = calloc(1, sizeof(shim_request_t));
    if (r == NULL) {
        shim_log_error(&ctx->log, SHIM_LOG_ERROR, ENOMEM,
                       "dropping connection: cannot allocate a request");
        close(fd);
        free(payload);
        return;
    }

    if (shim_request_parse(payload, len, &name, &version, &r->id, err,
                           sizeof(err))
        != 0)
    {
        shim_log_error(&ctx->log, SHIM_LOG_WARN, 0,
                       "dropping connection: invalid REQUEST: %s", err);
        free(r);
        close(fd);
        free(payload);
        return;
    }

    if (shim_timer_init(&ctx->loop.timers, &r->timer,
                        shim_request_timer_handler, r)
        != 0)
    {
        shim_log_error(&ctx->log, SHIM_LOG_ERROR, ENOMEM,
                       "dropping connection: cannot allocate a request");
        free(r->id);
        free(r);
        free(name);
        free(version);
        close(fd);
        free(payload);
        return;
    }

    r->ctx = ctx;
    r->payload = payload;
    r->len = len;
    r->arrived = shim_time_now();

    shim_queue_init(&r->queue);
    shim_queue_init(&r->call);
    shim_event_init(&r->ev, fd, shim_request_peer_handler, r);

    fn = shim_function_find(&ctx->functions, name, version);

    /* a retired version lingers while its instances drain, unusable */

    if (fn == NULL || fn->refs == 0) {
        r->want_name = name;
        r->want_version = version;

        if (shim_request_watch(r) != 0) {
            shim_request_fail(r, 502, 0, "cannot watch the connection");
            return;
        }

        shim_queue_insert_tail(&ctx->unregistered, &r->queue);
        shim_timer_add(&ctx->loop, &r->timer, SHIM_REGISTER_WAIT);

        shim_log_error(&ctx->log, SHIM_LOG_DEBUG, 0,
                       "function \"%s\" version %s is not registered, "
                       "request %s waits for it", name, version, r->id);
        return;
    }

    free(name);
    free(version);

    r->function = fn;

    shim_request_route(r);
}


/*
 * Each of the three strings is parsed only when asked for; a missing
 * request_id becomes "-" so that log lines stay readable.
 */
int
shim_request_parse(const uint8_t *payload, size_t len, char **function,
    char **version, char **id, char *err, size_t errlen)
{
    json_t        *root;
    json_error_t   jerr;

    root = json_loadb((const char *) payload, len, 0, &jerr);
    if (root == NULL) {
        snprintf(err, errlen, "%s at offset %d", jerr.text, jerr.position);
        return -1;
    }

    if (!json_is_object(root)) {
        snprintf(err, errlen, "not a JSON object");
        json_decref(root);
        return -1;
    }

    if (function != NULL) {
        *function = shim_request_string(root, "function", 1, err, errlen);
        if (*function == NULL) {
            goto failed;
        }
    }

    if (version != NULL) {
        *version = shim_request_string(root, "version", 1, err, errlen);
        if (*version == NULL) {
            if (function != NULL) {
                free(*function);
            }

            goto failed;
        }
    }

    if (id != NULL) {
        *id = shim_request_string(root, "request_id", 0, err, errlen);
        if (*id == NULL) {
            if (function != NULL) {
                free(*function);
            }

            if (version != NULL) {
                free(*version);
            }

            goto failed;
        }
    }

    json_decref(root);

    return 0;

failed:

    json_decref(root);

    return -1;
}


static char *
shim_request_string(json_t *root, const char *key, int required, char *err,
    size_t errlen)
{
    char    *s;
    json_t  *v;

    v = json_object_get(root, key);

    if (v == NULL && !required) {
        s = strdup("-");

    } else if (!json_is_string(v) || json_string_length(v) == 0
               || strlen(json_string_value(v)) != json_string_length(v))
    {
        snprintf(err, errlen, "\"%s\" must be a non-empty string", key);
        return NULL;

    } else {
        s = strdup(json_string_value(v));
    }

    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
    }

    return s;
}


/* a warm instance, a spare one starting, a cold start, the queue, or 503 */
static void
shim_request_route(shim_request_t *r)
{
    int                err;
    shim_ctx_t        *ctx;
    shim_instance_t   *inst;
    shim_function_t   *fn;

    ctx = r->ctx;
    fn = r->function;

    inst = shim_instance_get_warm(fn);

    if (inst != NULL) {
        if (shim_instance_dispatch(inst, r, 0) == 1) {
            /* r is gone before it was served, the instance is not */
            shim_instance_available(inst);
        }

        /* the pool lost an instance: start its replacement */
        shim_function_prewarm(ctx, fn);

        return;
    }

    if (shim_instance_bind_spare(fn, r)) {
        if (shim_request_watch(r) != 0) {
            shim_instance_unbind(r);
            shim_request_fail(r, 502, 0, "cannot watch the connection");
        }

        shim_function_prewarm(ctx, fn);

        return;
    }

    /*
     * With concurrency, an instance already starting for a request takes
     * more once it is ready: waiting for it beats starting another.
     */

    if (shim_function_starting_room(fn) > fn->nwaiting) {
        if (shim_request_watch(r) != 0) {
            shim_request_fail(r, 502, 0, "cannot watch the connection");
            return;
        }

        shim_queue_insert_tail(&fn->waiting, &r->queue);
        r->queued = 1;
        fn->nwaiting++;

        if (fn->queue_timeout > 0) {
            shim_timer_add(&ctx->loop, &r->timer, fn->queue_timeout);
        }

        return;
    }

    if (fn->ninstances < fn->max_instances) {
        if (shim_request_watch(r) != 0) {
            shim_request_fail(r, 502, 0, "cannot watch the connection");
            return;
        }

        if (shim_instance_start(ctx, fn, r, &err) != 0) {
            fn->stats.failures[SHIM_FAIL_START_FAILED]++;
            shim_log_error(&ctx->log, SHIM_LOG_ERROR, err,
                           "function \"%s\": cannot start an instance for "
                           "request %s", fn->name, r->id);
            shim_request_fail(r, 502, 0, "cannot start an instance: %s",
                              shim_instance_start_error(ctx, err));
        }

        return;
    }

    if (shim_function_enqueue(fn, r) != 0) {
        fn->stats.failures[SHIM_FAIL_QUEUE_FULL]++;
        shim_log_error(&ctx->log, SHIM_LOG_WARN, 0,
                       "function \"%s\": queue full (%u waiting), request %s "
                       "refused", fn->name, fn->nwaiting, r->id);
        shim_request_fail(r, fn->overload_status, 1,
                          "queue full (%u waiting)", fn->nwaiting);
        return;
    }

    if (shim_request_watch(r) != 0) {
        shim_request_fail(r, 502, 0, "cannot watch the connection");
        return;
    }

    if (fn->queue_timeout > 0) {
        shim_timer_add(&ctx->loop, &r->timer, fn->queue_timeout);
    }

    /* the queue is served by DONE, which direct calls never send */
    shim_instance_recall(fn);

    shim_log_error(&ctx->log, SHIM_LOG_DEBUG, 0,
                   "function \"%s\": request %s queued (%u waiting)",
                   fn->name, r->id, fn->nwaiting);
}


void
shim_request_registered(shim_ctx_t *ctx)
{
    shim_queue_t     *q, *next;
    shim_request_t   *r;
    shim_function_t  *fn;

    for (q = shim_queue_head(&ctx->unregistered);
         q != shim_queue_sentinel(&ctx->unregistered);
         q = next)
    {
        next = shim_queue_next(q);
        r = shim_queue_data(q, shim_request_t, queue);

        fn = shim_function_find(&ctx->functions, r->want_name,
                                r->want_version);
        if (fn == NULL || fn->refs == 0) {
            continue;
        }

        shim_queue_remove(&r->queue);
        shim_timer_cancel(&ctx->loop.timers, &r->timer);
        shim_request_detach(r);

        free(r->want_name);
        free(r->want_version);
        r->want_name = NULL;
        r->want_version = NULL;

        r->function = fn;
        shim_request_route(r);
    }
}


/*
 * While a request waits, only the peer closing matters: body bytes that
 * nginx streams meanwhile are the instance's to read, so no EPOLLIN.
 */
static int
shim_request_watch(shim_request_t *r)
{
    return shim_event_set(&r->ctx->loop, &r->ev, EPOLLRDHUP);
}


void
shim_request_detach(shim_request_t *r)
{
    shim_event_del(&r->ctx->loop, &r->ev);
}


static void
shim_request_peer_handler(shim_event_t *ev, uint32_t revents)
{
    shim_ctx_t      *ctx;
    shim_request_t  *r;

    (void) revents;

    r = ev->data;
    ctx = r->ctx;

    shim_log_error(&ctx->log, SHIM_LOG_INFO, 0,
                   "function \"%s\": request %s: nginx closed the connection "
                   "while it was waiting for %s",
                   r->function ? r->function->name : r->want_name, r->id,
                   r->function ? "an instance" : "its registration");

    shim_instance_unbind(r);
    shim_request_close(r);
}


static void
shim_request_timer_handler(shim_timer_t *t)
{
    shim_ctx_t      *ctx;
    shim_request_t  *r;

    r = t->data;
    ctx = r->ctx;

    if (r->serving) {
        shim_instance_call_timeout(r);
        return;
    }

    if (r->function == NULL) {
        shim_log_error(&ctx->log, SHIM_LOG_WARN, 0,
                       "function \"%s\" version %s is not registered, "
                       "request %s refused", r->want_name, r->want_version,
                       r->id);
        shim_request_fail(r, 503, 1, "function \"%s\" version %s is not "
                          "registered", r->want_name, r->want_version);
        return;
    }

    r->function->stats.failures[SHIM_FAIL_QUEUE_TIMEOUT]++;

    shim_log_error(&ctx->log, SHIM_LOG_WARN, 0,
                   "function \"%s\": request %s: queue timeout after %"
                   PRIu64 " ms", r->function->name, r->id,
                   r->function->queue_timeout);

    shim_request_fail(r, r->function->overload_status, 1,
                      "queue timeout after %" PRIu64 " ms",
                      r->function->queue_timeout);
}


void
shim_request_fail(shim_request_t *r, int status, int retry_after,
    const char *fmt, ...)
{
    int          err;
    char         reason[1024];
    size_t       n;
    json_t      *json;
    va_list      args;
    shim_ctx_t  *ctx;

    ctx = r->ctx;

    va_start(args, fmt);
    vsnprintf(reason, sizeof(reason), fmt, args);
    va_end(args);

    if (retry_after > 0) {
        json = json_pack("{s:i, s:s, s:i}", "status", status,
                         "reason", reason, "retry_after", retry_after);
    } else {
        json = json_pack("{s:i, s:s}", "status", status, "reason", reason);
    }

    n = json ? shim_frame_encode_json(ctx->out, FAAS_FRAME_ERROR, json) : 0;

    json_decref(json);

    if (n == 0) {
        shim_log_error(&ctx->log, SHIM_LOG_ERROR, 0,
                       "request %s: cannot encode ERROR \"%s\"", r->id,
                       reason);

    } else if (shim_frame_send(r->ev.fd, ctx->out, n, &err) != 0) {
        shim_log_error(&ctx->log, SHIM_LOG_INFO, err,
                       "request %s: cannot send ERROR %d \"%s\"", r->id,
                       status, reason);
    }

    shim_request_close(r);
}


void
shim_request_close(shim_request_t *r)
{
    shim_ctx_t  *ctx;

    ctx = r->ctx;

    if (r->function != NULL) {
        shim_function_unqueue(r->function, r);

    } else {
        /* waiting for a registration */
        shim_queue_remove(&r->queue);
    }

    shim_timer_release(&ctx->loop.timers, &r->timer);
    shim_event_del(&ctx->loop, &r->ev);

    close(r->ev.fd);

    free(r->want_name);
    free(r->want_version);
    free(r->payload);
    free(r->id);
    free(r);
}
