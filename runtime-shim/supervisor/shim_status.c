/*
 * Status connections, see shim_status.h.
 *
 * The reply is rendered whole, framed as RESPONSE BODY* END, and written
 * without blocking; a reader that does not take it within
 * SHIM_STATUS_TIMEOUT is dropped.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shim.h"


typedef struct {
    char                *data;
    size_t               len;
    size_t               alloc;
    unsigned             failed:1;
} shim_text_t;


typedef struct {
    shim_ctx_t          *ctx;
    shim_queue_t         link;            /* ctx->statuses */
    shim_event_t         ev;
    shim_timer_t         timer;
    uint8_t             *out;
    size_t               len;
    size_t               sent;
} shim_status_t;


typedef struct {
    unsigned             starting;
    unsigned             idle;
    unsigned             busy;
    unsigned             reserved;
    unsigned             prewarmed;
    unsigned             in_flight;       /* calls being served */
    unsigned             nsamples;
    uint32_t             p50;
    uint32_t             p90;
    uint32_t             p99;
} shim_status_fn_t;


static const char  *shim_fail_names[SHIM_FAIL_KINDS] = {
    NULL, "crash", "timeout", "queue_full", "queue_timeout", "start_failed"
};

static const char  *shim_state_names[] = {
    "starting", "idle", "busy", "reserved", "prewarmed"
};


static int shim_status_format(const uint8_t *payload, size_t len,
    int *prometheus, char *err, size_t errlen);
static shim_function_t **shim_status_functions(shim_ctx_t *ctx, size_t *n);
static int shim_status_cmp(const void *one, const void *two);
static int shim_status_cmp_u32(const void *one, const void *two);
static void shim_status_collect(shim_function_t *fn, shim_status_fn_t *s);
static char *shim_status_json(shim_ctx_t *ctx, shim_function_t **fns,
    size_t n);
static json_t *shim_status_pools(shim_ctx_t *ctx);
static void shim_status_prometheus(shim_text_t *t, shim_ctx_t *ctx,
    shim_function_t **fns, size_t n);
static void shim_text_printf(shim_text_t *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void shim_text_labels(shim_text_t *t, shim_function_t *fn);
static int shim_status_frame(shim_status_t *st, const char *type,
    const char *body, size_t len);
static void shim_status_handler(shim_event_t *ev, uint32_t revents);
static void shim_status_timer_handler(shim_timer_t *t);
static int shim_status_flush(shim_status_t *st);
static void shim_status_free(shim_status_t *st);


void
shim_status_start(shim_ctx_t *ctx, int fd, uint8_t *payload, size_t len)
{
    int                 prometheus, rc, err;
    char                reason[256], *body;
    size_t              n, nfns;
    json_t             *json;
    shim_text_t         text;
    shim_status_t      *st;
    shim_function_t   **fns;

    rc = shim_status_format(payload, len, &prometheus, reason,
                            sizeof(reason));
    free(payload);

    if (rc != 0) {
        shim_log_error(&ctx->log, SHIM_LOG_WARN, 0, "invalid STATUS: %s",
                       reason);

        json = json_pack("{s:i, s:s}", "status", 400, "reason", reason);
        n = json ? shim_frame_encode_json(ctx->out, FAAS_FRAME_ERROR, json)
                 : 0;
        json_decref(json);

        if (n > 0) {
            (void) shim_frame_send(fd, ctx->out, n, &err);
        }

        close(fd);
        return;
    }

    st = calloc(1, sizeof(shim_status_t));
    if (st == NULL
        || shim_timer_init(&ctx->loop.timers, &st->timer,
                           shim_status_timer_handler, st) != 0)
    {
        shim_log_error(&ctx->log, SHIM_LOG_ERROR, ENOMEM,
                       "dropping status connection");
        free(st);
        close(fd);
        return;
    }

    st->ctx = ctx;
    shim_queue_insert_tail(&ctx->statuses, &st->link);
    shim_event_init(&st->ev, fd, shim_status_handler, st);

    fns = shim_status_functions(ctx, &nfns);

    if (prometheus) {
        memset(&text, 0, sizeof(shim_text_t));
        shim_status_prometheus(&text, ctx, fns, nfns);

        rc = text.failed ? -1
             : shim_status_frame(st, "text/plain; version=0.0.4; "
                                 "charset=utf-8", text.data, text.len);
        free(text.data);

    } else {
        body = shim_status_json(ctx, fns, nfns);

        rc = (body == NULL) ? -1
             : shim_status_frame(st, "application/json", body,
                                 strlen(body));
        free(body);
    }

    free(fns);

    if (rc != 0) {
        shim_log_error(&ctx->log, SHIM_LOG_ERROR, ENOMEM,
                       "dropping status connection");
        shim_status_free(st);
        return;
    }

    shim_log_error(&ctx->log, SHIM_LOG_DEBUG, 0,
                   "status: %zu functions, %zu bytes as %s", nfns, st->len,
                   prometheus ? "prometheus" : "json");

    if (shim_status_flush(st) != 0) {
        shim_status_free(st);
        return;
    }

    if (st->sent < st->len) {
        shim_timer_add(&ctx->loop, &st->timer, SHIM_STATUS_TIMEOUT);
        return;
    }

    shim_status_free(st);
}


/* {"format": "json" | "prometheus"}, the member being optional */
static int
shim_status_format(const uint8_t *payload, size_t len, int *prometheus,
    char *err, size_t errlen)
{
    json_t      *json, *v;
    const char  *s;

    *prometheus = 0;

    json = json_loadb((const char *) payload, len, 0, NULL);

    if (!json_is_object(json)) {
        json_decref(json);
        snprintf(err, errlen, "the payload is not a JSON object");
        return -1;
    }

    v = json_object_get(json, "format");

    if (v != NULL) {
        s = json_is_string(v) ? json_string_value(v) : "";

        if (strcmp(s, "prometheus") == 0) {
            *prometheus = 1;

        } else if (strcmp(s, "json") != 0) {
            json_decref(json);
            snprintf(err, errlen, "\"format\" must be \"json\" or "
                     "\"prometheus\"");
            return -1;
        }
    }

    json_decref(json);

    return 0;
}


/* every version in the table, by name and version: stable output */
static shim_function_t **
shim_status_functions(shim_ctx_t *ctx, size_t *n)
{
    size_t             bucket, i;
    shim_function_t  **fns, *fn;

    *n = 0;

    fns = calloc(ctx->functions.count + 1, sizeof(shim_function_t *));
    if (fns == NULL) {
        return NULL;
    }

    bucket = 0;
    i = 0;

    for (fn = shim_function_next(&ctx->functions, &bucket, NULL);
         fn != NULL && i < ctx->functions.count;
         fn = shim_function_next(&ctx->functions, &bucket, fn))
    {
        fns[i++] = fn;
    }

    qsort(fns, i, sizeof(shim_function_t *), shim_status_cmp);

    *n = i;

    return fns;
}


static int
shim_status_cmp(const void *one, const void *two)
{
    int                     rc;
    const shim_function_t  *a, *b;

    a = *(shim_function_t * const *) one;
    b = *(shim_function_t * const *) two;

    rc = strcmp(a->name, b->name);

    return rc ? rc : strcmp(a->version, b->version);
}


static int
shim_status_cmp_u32(const void *one, const void *two)
{
    uint32_t  a, b;

    a = *(const uint32_t *) one;
    b = *(const uint32_t *) two;

    return (a > b) - (a < b);
}


static void
shim_status_collect(shim_function_t *fn, shim_status_fn_t *s)
{
    unsigned          n, direct;
    uint32_t          sorted[SHIM_COLD_SAMPLES];
    shim_queue_t     *q;
    shim_instance_t  *inst;

    memset(s, 0, sizeof(shim_status_fn_t));

    for (q = shim_queue_head(&fn->instances);
         q != shim_queue_sentinel(&fn->instances);
         q = shim_queue_next(q))
    {
        inst = shim_queue_data(q, shim_instance_t, flink);

        switch (inst->state) {
        case SHIM_INSTANCE_STARTING:
            s->starting++;
            break;
        case SHIM_INSTANCE_IDLE:
            if (inst->reserved) {
                s->reserved++;

            } else if (inst->served == 0) {
                /* ready, waiting for its first call: the prewarm pool */
                s->prewarmed++;

            } else {
                s->idle++;
            }
            break;
        case SHIM_INSTANCE_BUSY:
            s->busy++;
            break;
        default:
            /* quitting: on its way out, no longer capacity */
            break;
        }

        /* idle for the supervisor, in a direct call for nginx */

        direct = shim_instance_direct_in_flight(inst);

        if (direct > 0 && inst->state == SHIM_INSTANCE_IDLE) {
            if (inst->reserved) {
                s->reserved--;

            } else if (inst->served == 0) {
                s->prewarmed--;

            } else {
                s->idle--;
            }

            s->busy++;
        }

        s->in_flight += inst->active + direct;
        shim_instance_count_direct(inst);
    }

    n = fn->stats.ncold;
    s->nsamples = n;

    if (n == 0) {
        return;
    }

    /* the ring holds the most recent samples; their order does not matter */

    memcpy(sorted, fn->stats.cold_us, n * sizeof(uint32_t));
    qsort(sorted, n, sizeof(uint32_t), shim_status_cmp_u32);

    /* nearest rank: the smallest sample with at least q of them below */

    s->p50 = sorted[(n * 50 + 99) / 100 - 1];
    s->p90 = sorted[(n * 90 + 99) / 100 - 1];
    s->p99 = sorted[(n * 99 + 99) / 100 - 1];
}


static char *
shim_status_json(shim_ctx_t *ctx, shim_function_t **fns, size_t n)
{
    int                k;
    char              *text;
    size_t             i;
    json_t            *root, *list, *f, *errors, *cold, *layers;
    shim_function_t   *fn;
    shim_status_fn_t   s;

    root = json_pack("{s:s, s:o*, s:[]}", "supervisor", SHIM_VERSION,
                     "pools", shim_status_pools(ctx), "functions");
    if (root == NULL || json_object_get(root, "pools") == NULL) {
        json_decref(root);
        return NULL;
    }

    list = json_object_get(root, "functions");

    for (i = 0; i < n; i++) {
        fn = fns[i];
        shim_status_collect(fn, &s);

        errors = json_object();

        for (k = SHIM_FAIL_NONE + 1; errors && k < SHIM_FAIL_KINDS; k++) {
            if (json_object_set_new(errors, shim_fail_names[k],
                    json_integer((json_int_t) fn->stats.failures[k]))
                != 0)
            {
                json_decref(errors);
                errors = NULL;
            }
        }

        if (s.nsamples > 0) {
            cold = json_pack("{s:I, s:I, s:I, s:I}",
                             "samples", (json_int_t) s.nsamples,
                             "p50", (json_int_t) s.p50,
                             "p90", (json_int_t) s.p90,
                             "p99", (json_int_t) s.p99);
        } else {
            cold = json_pack("{s:I, s:n, s:n, s:n}", "samples",
                             (json_int_t) 0, "p50", "p90", "p99");
        }

        /* which warm layer each cold start came from */

        layers = json_pack("{s:I, s:I, s:I, s:I}",
                           "function", (json_int_t) fn->stats.prewarm_hits,
                           "runtime", (json_int_t)
                               fn->stats.cold_by_layer[SHIM_LAYER_RUNTIME],
                           "sandbox", (json_int_t)
                               fn->stats.cold_by_layer[SHIM_LAYER_SANDBOX],
                           "none", (json_int_t)
                               fn->stats.cold_by_layer[SHIM_LAYER_NONE]);

        f = json_pack("{s:s, s:s, s:b, s:{s:I, s:I, s:I, s:I, s:I},"
                      " s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o*,"
                      " s:o*, s:o*}",
                      "name", fn->name,
                      "version", fn->version,
                      "registered", fn->refs > 0,
                      "instances",
                        "starting", (json_int_t) s.starting,
                        "idle", (json_int_t) s.idle,
                        "busy", (json_int_t) s.busy,
                        "reserved", (json_int_t) s.reserved,
                        "prewarmed", (json_int_t) s.prewarmed,
                      "concurrency", (json_int_t) fn->concurrency,
                      "threads", (json_int_t) fn->threads,
                      "in_flight", (json_int_t) s.in_flight,
                      "queue_length", (json_int_t) fn->nwaiting,
                      "calls", (json_int_t) fn->stats.calls,
                      "direct_calls", (json_int_t) fn->stats.direct_calls,
                      "cold_starts", (json_int_t) fn->stats.cold_starts,
                      "prewarm_hits", (json_int_t) fn->stats.prewarm_hits,
                      "errors", errors,
                      "cold_start_us", cold,
                      "start_layers", layers);

        /* "o*" skips a NULL and steals the references it takes */

        if (f == NULL || errors == NULL || cold == NULL || layers == NULL) {
            json_decref(f);
            json_decref(root);
            return NULL;
        }

        /* who its instances run as, or why they cannot start */

        if (json_object_set_new(f, "uid", json_integer(fn->uid)) != 0
            || json_object_set_new(f, "gid", json_integer(fn->gid)) != 0
            || (fn->user_error[0]
                && json_object_set_new(f, "user_error",
                                       json_string(fn->user_error)) != 0))
        {
            json_decref(f);
            json_decref(root);
            return NULL;
        }

        if (json_array_append_new(list, f) != 0) {
            json_decref(root);
            return NULL;
        }
    }

    text = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);

    json_decref(root);

    return text;
}


/* {"sandbox": {"size": 4, "ready": 4, "started": 9, "taken": 5}, ...} */
static json_t *
shim_status_pools(shim_ctx_t *ctx)
{
    unsigned      i;
    json_t       *pools, *p;
    shim_pool_t  *pool;

    pools = json_object();

    for (i = 0; pools != NULL && i < ctx->npools; i++) {
        pool = &ctx->pools[i];

        p = json_pack("{s:I, s:I, s:I, s:I}",
                      "size", (json_int_t) pool->size,
                      "ready", (json_int_t) pool->nready,
                      "started", (json_int_t) pool->started,
                      "taken", (json_int_t) pool->taken);

        if (p != NULL
            && json_object_set_new(p, "evicted",
                                   json_integer((json_int_t) pool->evictions))
               != 0)
        {
            json_decref(p);
            p = NULL;
        }

        if (json_object_set_new(pools, pool->runtime ? pool->runtime
                                                     : "sandbox", p)
            != 0)
        {
            json_decref(pools);
            return NULL;
        }
    }

    return pools;
}


static void
shim_status_prometheus(shim_text_t *t, shim_ctx_t *ctx,
    shim_function_t **fns, size_t n)
{
    int                k;
    size_t             i;
    unsigned           counts[5];
    const char        *name;
    shim_pool_t       *pool;
    shim_function_t   *fn;
    shim_status_fn_t   s;

    shim_text_printf(t, "# HELP faas_instances Function instances by "
                     "state.\n# TYPE faas_instances gauge\n");

    for (i = 0; i < n; i++) {
        shim_status_collect(fns[i], &s);

        counts[0] = s.starting;
        counts[1] = s.idle;
        counts[2] = s.busy;
        counts[3] = s.reserved;
        counts[4] = s.prewarmed;

        for (k = 0; k < 5; k++) {
            shim_text_printf(t, "faas_instances");
            shim_text_labels(t, fns[i]);
            shim_text_printf(t, ",state=\"%s\"} %u\n", shim_state_names[k],
                             counts[k]);
        }
    }

    shim_text_printf(t, "# HELP faas_calls_in_flight Calls being served."
                     "\n# TYPE faas_calls_in_flight gauge\n");

    for (i = 0; i < n; i++) {
        shim_status_collect(fns[i], &s);

        shim_text_printf(t, "faas_calls_in_flight");
        shim_text_labels(t, fns[i]);
        shim_text_printf(t, "} %u\n", s.in_flight);
    }

    shim_text_printf(t, "# HELP faas_queue_length Calls waiting for an "
                     "instance.\n# TYPE faas_queue_length gauge\n");

    for (i = 0; i < n; i++) {
        shim_text_printf(t, "faas_queue_length");
        shim_text_labels(t, fns[i]);
        shim_text_printf(t, "} %u\n", fns[i]->nwaiting);
    }

    shim_text_printf(t, "# HELP faas_calls_total Calls dispatched to an "
                     "instance, or made directly.\n"
                     "# TYPE faas_calls_total counter\n");

    for (i = 0; i < n; i++) {
        shim_text_printf(t, "faas_calls_total");
        shim_text_labels(t, fns[i]);
        shim_text_printf(t, "} %" PRIu64 "\n", fns[i]->stats.calls);
    }

    shim_text_printf(t, "# HELP faas_direct_calls_total Calls nginx made "
                     "to an idle instance without the supervisor.\n"
                     "# TYPE faas_direct_calls_total counter\n");

    for (i = 0; i < n; i++) {
        shim_text_printf(t, "faas_direct_calls_total");
        shim_text_labels(t, fns[i]);
        shim_text_printf(t, "} %" PRIu64 "\n", fns[i]->stats.direct_calls);
    }

    shim_text_printf(t, "# HELP faas_cold_starts_total Calls that started "
                     "their instance.\n"
                     "# TYPE faas_cold_starts_total counter\n");

    for (i = 0; i < n; i++) {
        shim_text_printf(t, "faas_cold_starts_total");
        shim_text_labels(t, fns[i]);
        shim_text_printf(t, "} %" PRIu64 "\n", fns[i]->stats.cold_starts);
    }

    shim_text_printf(t, "# HELP faas_cold_start_layer_total Cold starts "
                     "by the warm layer they came from.\n"
                     "# TYPE faas_cold_start_layer_total counter\n");

    for (i = 0; i < n; i++) {
        for (k = 0; k < SHIM_LAYERS; k++) {
            shim_text_printf(t, "faas_cold_start_layer_total");
            shim_text_labels(t, fns[i]);
            shim_text_printf(t, ",layer=\"%s\"} %" PRIu64 "\n",
                             shim_layer_names[k],
                             fns[i]->stats.cold_by_layer[k]);
        }
    }

    shim_text_printf(t, "# HELP faas_prewarm_hits_total Calls served by a "
                     "prewarmed instance.\n"
                     "# TYPE faas_prewarm_hits_total counter\n");

    for (i = 0; i < n; i++) {
        shim_text_printf(t, "faas_prewarm_hits_total");
        shim_text_labels(t, fns[i]);
        shim_text_printf(t, "} %" PRIu64 "\n", fns[i]->stats.prewarm_hits);
    }

    shim_text_printf(t, "# HELP faas_errors_total Failures by kind.\n"
                     "# TYPE faas_errors_total counter\n");

    for (i = 0; i < n; i++) {
        for (k = SHIM_FAIL_NONE + 1; k < SHIM_FAIL_KINDS; k++) {
            shim_text_printf(t, "faas_errors_total");
            shim_text_labels(t, fns[i]);
            shim_text_printf(t, ",kind=\"%s\"} %" PRIu64 "\n",
                             shim_fail_names[k], fns[i]->stats.failures[k]);
        }
    }

    shim_text_printf(t, "# HELP faas_cold_start_seconds Cold-start time of "
                     "the most recent %d cold starts.\n"
                     "# TYPE faas_cold_start_seconds summary\n",
                     SHIM_COLD_SAMPLES);

    for (i = 0; i < n; i++) {
        fn = fns[i];
        shim_status_collect(fn, &s);

        shim_text_printf(t, "faas_cold_start_seconds");
        shim_text_labels(t, fn);

        if (s.nsamples == 0) {
            shim_text_printf(t, ",quantile=\"0.5\"} NaN\n");
            shim_text_printf(t, "faas_cold_start_seconds");
            shim_text_labels(t, fn);
            shim_text_printf(t, ",quantile=\"0.9\"} NaN\n");
            shim_text_printf(t, "faas_cold_start_seconds");
            shim_text_labels(t, fn);
            shim_text_printf(t, ",quantile=\"0.99\"} NaN\n");

        } else {
            shim_text_printf(t, ",quantile=\"0.5\"} %.6f\n",
                             (double) s.p50 / 1e6);
            shim_text_printf(t, "faas_cold_start_seconds");
            shim_text_labels(t, fn);
            shim_text_printf(t, ",quantile=\"0.9\"} %.6f\n",
                             (double) s.p90 / 1e6);
            shim_text_printf(t, "faas_cold_start_seconds");
            shim_text_labels(t, fn);
            shim_text_printf(t, ",quantile=\"0.99\"} %.6f\n",
                             (double) s.p99 / 1e6);
        }

        shim_text_printf(t, "faas_cold_start_seconds_sum");
        shim_text_labels(t, fn);
        shim_text_printf(t, "} %.6f\n", (double) fn->stats.cold_us_sum / 1e6);

        shim_text_printf(t, "faas_cold_start_seconds_count");
        shim_text_labels(t, fn);
        shim_text_printf(t, "} %" PRIu64 "\n", fn->stats.cold_starts);
    }

    /* the pools, which belong to no function */

    shim_text_printf(t, "# HELP faas_pool_ready Pooled sandboxes and "
                     "runtimes ready for a cold start.\n"
                     "# TYPE faas_pool_ready gauge\n");

    for (i = 0; i < ctx->npools; i++) {
        pool = &ctx->pools[i];
        name = pool->runtime ? pool->runtime : "sandbox";
        shim_text_printf(t, "faas_pool_ready{pool=\"%s\"} %u\n", name,
                         pool->nready);
    }

    shim_text_printf(t, "# HELP faas_pool_taken_total Pooled processes "
                     "taken by a cold start.\n"
                     "# TYPE faas_pool_taken_total counter\n");

    for (i = 0; i < ctx->npools; i++) {
        pool = &ctx->pools[i];
        name = pool->runtime ? pool->runtime : "sandbox";
        shim_text_printf(t, "faas_pool_taken_total{pool=\"%s\"} %" PRIu64
                         "\n", name, pool->taken);
    }
}


static void
shim_text_printf(shim_text_t *t, const char *fmt, ...)
{
    int       n;
    char     *p;
    size_t    size;
    va_list   args;

    if (t->failed) {
        return;
    }

    for ( ;; ) {
        va_start(args, fmt);
        n = vsnprintf(t->data ? t->data + t->len : NULL,
                      t->data ? t->alloc - t->len : 0, fmt, args);
        va_end(args);

        if (n < 0) {
            t->failed = 1;
            return;
        }

        if (t->data != NULL && (size_t) n < t->alloc - t->len) {
            t->len += (size_t) n;
            return;
        }

        size = t->alloc ? t->alloc * 2 : 4096;

        while (size < t->len + (size_t) n + 1) {
            size *= 2;
        }

        p = realloc(t->data, size);
        if (p == NULL) {
            t->failed = 1;
            return;
        }

        t->data = p;
        t->alloc = size;
    }
}


/*
 * '{function="NAME",version="V"' without the closing brace; label values
 * escape backslash, double quote and line feed, as the format requires
 */
static void
shim_text_labels(shim_text_t *t, shim_function_t *fn)
{
    const char  *p;

    shim_text_printf(t, "{function=\"");

    for (p = fn->name; *p; p++) {
        if (*p == '\\' || *p == '"') {
            shim_text_printf(t, "\\%c", *p);

        } else if (*p == '\n') {
            shim_text_printf(t, "\\n");

        } else {
            shim_text_printf(t, "%c", *p);
        }
    }

    /* versions are hex digits from nginx, printable text at worst */

    shim_text_printf(t, "\",version=\"");

    for (p = fn->version; *p; p++) {
        if (*p == '\\' || *p == '"') {
            shim_text_printf(t, "\\%c", *p);

        } else {
            shim_text_printf(t, "%c", *p);
        }
    }

    shim_text_printf(t, "\"");
}


/* RESPONSE, the body in BODY frames of FAAS_BODY_CHUNK, END */
static int
shim_status_frame(shim_status_t *st, const char *type, const char *body,
    size_t len)
{
    size_t    n, chunk, off;
    json_t   *json;
    uint8_t  *p;

    json = json_pack("{s:i, s:[[s, s], [s, s]]}", "status", 200,
                     "headers", "Content-Type", type,
                     "Cache-Control", "no-store");

    n = json ? shim_frame_encode_json(st->ctx->out, FAAS_FRAME_RESPONSE,
                                      json)
             : 0;

    json_decref(json);

    if (n == 0) {
        return -1;
    }

    st->len = n + len
              + (len / FAAS_BODY_CHUNK + 2) * FAAS_FRAME_HEADER_SIZE;

    st->out = malloc(st->len);
    if (st->out == NULL) {
        return -1;
    }

    memcpy(st->out, st->ctx->out, n);
    p = st->out + n;

    for (off = 0; off < len; off += chunk) {
        chunk = len - off;
        chunk = (chunk < FAAS_BODY_CHUNK) ? chunk : FAAS_BODY_CHUNK;

        faas_frame_header_encode(p, FAAS_FRAME_BODY, (uint32_t) chunk);
        memcpy(p + FAAS_FRAME_HEADER_SIZE, body + off, chunk);
        p += FAAS_FRAME_HEADER_SIZE + chunk;
    }

    faas_frame_header_encode(p, FAAS_FRAME_END, 0);
    p += FAAS_FRAME_HEADER_SIZE;

    st->len = (size_t) (p - st->out);

    return 0;
}


static void
shim_status_handler(shim_event_t *ev, uint32_t revents)
{
    shim_status_t  *st;

    (void) revents;

    st = ev->data;

    if (shim_status_flush(st) != 0 || st->sent == st->len) {
        shim_status_free(st);
    }
}


static void
shim_status_timer_handler(shim_timer_t *t)
{
    shim_status_t  *st;

    st = t->data;

    shim_log_error(&st->ctx->log, SHIM_LOG_INFO, 0,
                   "dropping status connection: the reply was not read in "
                   "%d ms", SHIM_STATUS_TIMEOUT);

    shim_status_free(st);
}


static int
shim_status_flush(shim_status_t *st)
{
    int          err;
    shim_ctx_t  *ctx;

    ctx = st->ctx;

    if (shim_frame_send_some(st->ev.fd, st->out, st->len, &st->sent, &err)
        != 0)
    {
        shim_log_error(&ctx->log, SHIM_LOG_INFO, err,
                       "status connection: send() failed");
        return -1;
    }

    if (st->sent < st->len
        && shim_event_set(&ctx->loop, &st->ev, EPOLLOUT) != 0)
    {
        shim_log_error(&ctx->log, SHIM_LOG_ERROR, errno,
                       "status connection: epoll_ctl() failed");
        return -1;
    }

    return 0;
}


static void
shim_status_free(shim_status_t *st)
{
    shim_ctx_t  *ctx;

    ctx = st->ctx;

    shim_queue_remove(&st->link);
    shim_event_del(&ctx->loop, &st->ev);
    shim_timer_release(&ctx->loop.timers, &st->timer);
    close(st->ev.fd);

    free(st->out);
    free(st);
}


void
shim_status_close_all(shim_ctx_t *ctx)
{
    shim_status_t  *st;

    while (!shim_queue_empty(&ctx->statuses)) {
        st = shim_queue_data(shim_queue_head(&ctx->statuses), shim_status_t,
                             link);
        shim_status_free(st);
    }
}
