
/*
 * ngx_faas HTTP trigger: direct calls.
 *
 * A connection handed to an instance is kept once its call has ended,
 * much as the upstream keepalive module keeps connections: up to the
 * function's concurrency per instance, one per call it may run at once.
 * The next call to that function claims room in the instance in the
 * table the supervisor shares (runtime-shim/lib/faas_slots.h) and writes
 * its REQUEST straight to the instance, which answers without DISPATCH:
 * the supervisor is not on the warm path at all.  A call that finds no
 * instance to claim goes to the supervisor as before.  docs/architecture.md,
 * "Direct calls", has the why.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <sys/mman.h>

#include "ngx_http_faas_module.h"
#include "faas_slots.h"


/*
 * A call that finds every instance this worker keeps busy waits for one
 * of them, rather than go through the supervisor:
 *
 *   - if the worker keeps a connection for every call the function's
 *     instances may run at once (max_instances x concurrency), as in the
 *     function's
 *     queue (queue_size, queue_timeout, overload_status), counted in this
 *     worker: the supervisor could only queue it too, and would then hold
 *     the instance that serves its queue, so that the next calls find it
 *     busy as well;
 *   - else, if it can expect one soon: the calls ahead of it, spread over
 *     the instances, take NGX_HTTP_FAAS_DIRECT_EXPECT or less on average;
 *     after NGX_HTTP_FAAS_DIRECT_WAIT it goes to the supervisor, which may
 *     start another instance for it.  Calls beyond
 *     NGX_HTTP_FAAS_DIRECT_WAITERS per instance go at once.
 */
#define NGX_HTTP_FAAS_DIRECT_EXPECT     2000    /* us */
#define NGX_HTTP_FAAS_DIRECT_WAIT       10      /* ms */
#define NGX_HTTP_FAAS_DIRECT_WAITERS    8


typedef struct {
    ngx_queue_t                  queue;         /* function->direct, or free */
    ngx_connection_t            *connection;
    ngx_http_faas_function_t    *function;
    uint32_t                     slot;
    uint32_t                     gen;
    uint64_t                     instance;
    uint64_t                     pid;
    ngx_uint_t                   map;           /* the mapping it is for */
} ngx_http_faas_kept_t;


typedef struct {
    void                        *data;          /* round robin's */
    ngx_event_get_peer_pt        original_get;
    ngx_event_free_peer_pt       original_free;
    ngx_http_request_t          *request;
} ngx_http_faas_peer_t;


/* per worker: the table, and the connections kept for direct calls */

typedef struct {
    u_char                      *base;          /* NULL: no direct calls */
    size_t                       size;
    uint32_t                     nslots;
    ngx_uint_t                   map;           /* bumped at every change */
    ngx_queue_t                  free;          /* in cycle's pool */
    ngx_cycle_t                 *cycle;
    ngx_uint_t                   warned;
} ngx_http_faas_direct_t;


static ngx_int_t ngx_http_faas_direct_init_peer(ngx_http_request_t *r,
    ngx_http_upstream_srv_conf_t *us);
static ngx_int_t ngx_http_faas_direct_get_peer(ngx_peer_connection_t *pc,
    void *data);
static void ngx_http_faas_direct_free_peer(ngx_peer_connection_t *pc,
    void *data, ngx_uint_t state);
static ngx_http_faas_kept_t *ngx_http_faas_direct_claim(
    ngx_http_faas_function_t *fn);
static ngx_uint_t ngx_http_faas_direct_keep(ngx_http_request_t *r,
    ngx_http_faas_ctx_t *ctx, ngx_peer_connection_t *pc);
static void ngx_http_faas_direct_timeout(ngx_event_t *ev);
static void ngx_http_faas_direct_close_handler(ngx_event_t *ev);
static void ngx_http_faas_direct_dummy_handler(ngx_event_t *ev);
static void ngx_http_faas_direct_drop(ngx_http_faas_kept_t *k);
static ngx_msec_t ngx_http_faas_direct_should_wait(
    ngx_http_faas_function_t *fn);
static void ngx_http_faas_direct_wait_handler(ngx_event_t *ev);
static void ngx_http_faas_direct_refuse(ngx_http_request_t *r,
    ngx_http_faas_ctx_t *ctx, const char *fmt, ...);
static void ngx_http_faas_direct_poll_handler(ngx_event_t *ev);
static void ngx_http_faas_direct_unwait(ngx_http_faas_ctx_t *ctx);
static void ngx_http_faas_direct_wake(ngx_http_faas_function_t *fn,
    ngx_uint_t released);
static void ngx_http_faas_direct_flush(ngx_http_faas_function_t *fn);
static void ngx_http_faas_direct_cleanup(void *data);
static uint64_t ngx_http_faas_direct_now(void);
static ngx_uint_t ngx_http_faas_direct_per_instance(
    ngx_http_faas_function_t *fn);


/*
 * The connections a worker keeps per instance: one per call the instance
 * may run at once, but all workers together no more than an instance
 * holds (docs/protocol.md): past that it closes the one idle longest, and
 * a call this worker makes on it meanwhile fails.
 */
#define NGX_HTTP_FAAS_DIRECT_HELD       64

/* the calls this worker may have in the function's instances at once */
#define ngx_http_faas_direct_capacity(fn)                                     \
    ((ngx_uint_t) (fn)->max_instances * ngx_http_faas_direct_per_instance(fn))


static ngx_http_faas_direct_t  ngx_http_faas_direct;


ngx_int_t
ngx_http_faas_direct_init_upstream(ngx_conf_t *cf,
    ngx_http_upstream_srv_conf_t *us)
{
    if (ngx_http_upstream_init_round_robin(cf, us) != NGX_OK) {
        return NGX_ERROR;
    }

    us->peer.init = ngx_http_faas_direct_init_peer;

    return NGX_OK;
}


/* REGISTERED named the table: mapped, or direct calls stay off */

void
ngx_http_faas_direct_map(ngx_log_t *log, const char *path, const char *nonce)
{
    int                   fd;
    u_char                hex[17];
    struct stat           st;
    faas_slots_header_t  *h;

    ngx_http_faas_direct_unmap((ngx_cycle_t *) ngx_cycle);

    if (path == NULL || nonce == NULL) {
        return;
    }

    fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);

    if (fd == -1) {
        if (!ngx_http_faas_direct.warned) {
            ngx_log_error(NGX_LOG_WARN, log, ngx_errno,
                          "faas: direct calls off: open() \"%s\" failed, "
                          "every call goes through the supervisor", path);
            ngx_http_faas_direct.warned = 1;
        }

        return;
    }

    if (fstat(fd, &st) == -1
        || (size_t) st.st_size < sizeof(faas_slots_header_t))
    {
        ngx_log_error(NGX_LOG_WARN, log, ngx_errno,
                      "faas: direct calls off: \"%s\" is too small", path);
        close(fd);
        return;
    }

    h = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);

    if (h == MAP_FAILED) {
        ngx_log_error(NGX_LOG_WARN, log, ngx_errno,
                      "faas: direct calls off: mmap() \"%s\" failed", path);
        return;
    }

    ngx_snprintf(hex, sizeof(hex), "%016xL%Z", h->nonce);

    if (h->magic != FAAS_SLOTS_MAGIC
        || h->slot_size != sizeof(faas_slot_t)
        || sizeof(faas_slots_header_t)
           + (size_t) h->nslots * sizeof(faas_slot_t)
           > (size_t) st.st_size
        || ngx_strcmp(hex, nonce) != 0)
    {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "faas: direct calls off: \"%s\" is not the table of "
                      "this supervisor", path);
        munmap(h, st.st_size);
        return;
    }

    /* a reload without a master process: a new pool, a new free list */

    if (ngx_http_faas_direct.cycle != ngx_cycle) {
        ngx_queue_init(&ngx_http_faas_direct.free);
        ngx_http_faas_direct.cycle = (ngx_cycle_t *) ngx_cycle;
    }

    ngx_http_faas_direct.base = (u_char *) h;
    ngx_http_faas_direct.size = st.st_size;
    ngx_http_faas_direct.nslots = h->nslots;
    ngx_http_faas_direct.map++;
    ngx_http_faas_direct.warned = 0;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, log, 0,
                   "faas direct: mapped \"%s\"", path);
}


/* the supervisor went away: so did its instances and the table */

void
ngx_http_faas_direct_unmap(ngx_cycle_t *cycle)
{
    ngx_uint_t                   i;
    ngx_queue_t                 *q;
    ngx_http_faas_function_t   **fn;
    ngx_http_faas_main_conf_t   *fmcf;

    if (ngx_http_faas_direct.base == NULL) {
        return;
    }

    fmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_faas_module);

    if (fmcf != NULL) {
        fn = fmcf->functions.elts;

        for (i = 0; i < fmcf->functions.nelts; i++) {
            if (fn[i]->direct.next == NULL) {
                continue;
            }

            while (!ngx_queue_empty(&fn[i]->direct)) {
                q = ngx_queue_head(&fn[i]->direct);
                ngx_http_faas_direct_drop(
                    ngx_queue_data(q, ngx_http_faas_kept_t, queue));
            }
        }
    }

    munmap(ngx_http_faas_direct.base, ngx_http_faas_direct.size);

    ngx_http_faas_direct.base = NULL;
    ngx_http_faas_direct.map++;
}


/*
 * Once the request body is read (or, unbuffered, can be): an instance to
 * call directly, a wait for one, or the supervisor.
 */

void
ngx_http_faas_direct_start(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t        *cln;
    ngx_http_faas_ctx_t       *ctx;
    ngx_http_faas_function_t  *fn;
    ngx_http_faas_loc_conf_t  *flcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_faas_module);
    flcf = ngx_http_get_module_loc_conf(r, ngx_http_faas_module);
    fn = ctx->function;

    if (!flcf->direct || ngx_http_faas_direct.base == NULL || fn == NULL) {
        ngx_http_upstream_init(r);
        return;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    /* a claimed instance that the request never used is given back */

    cln->handler = ngx_http_faas_direct_cleanup;
    cln->data = r;

    ctx->kept = ngx_http_faas_direct_claim(fn);

    if (ctx->kept != NULL) {
        ngx_http_upstream_init(r);
        return;
    }

    /*
     * As many live instances kept by this worker as there may be: the
     * wait is the function's queue.  Those serving the supervisor
     * (closed) count; those quitting do not.
     */

    if (fn->nkept - fn->nquit >= ngx_http_faas_direct_capacity(fn)) {

        if (fn->nwaiters >= (ngx_uint_t) fn->queue_size) {
            ngx_http_faas_direct_refuse(r, ctx, "queue full (%ui waiting)",
                                        fn->nwaiters);
            return;
        }

        ctx->wait_queue = 1;
        ctx->wait_limit = fn->queue_timeout;

    } else if (r->request_body_no_buffering
               || (ctx->wait_limit = ngx_http_faas_direct_should_wait(fn))
                  == 0)
    {
        /* an unbuffered body is read as it is sent: no waiting for it */
        ngx_log_debug5(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "faas direct: start kept:%p nkept:%ui busy:%ui "
                       "waiters:%ui us:%uL", ctx->kept, fn->nkept,
                       fn->direct_busy, fn->nwaiters, fn->direct_us);

        ngx_http_upstream_init(r);
        return;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "faas direct: function \"%V\": waiting for an instance",
                   &ctx->name);

    ctx->wait.handler = ngx_http_faas_direct_wait_handler;
    ctx->wait.data = r;
    ctx->wait.log = r->connection->log;
    ctx->wait_start = ngx_current_msec;

    if (fn->waiters.next == NULL) {
        ngx_queue_init(&fn->waiters);
    }

    ngx_queue_insert_tail(&fn->waiters, &ctx->wait_link);
    fn->nwaiters++;
    ctx->waiting = 1;

    if (ctx->wait_limit > 0) {
        ngx_add_timer(&ctx->wait, ctx->wait_limit);
    }

    /*
     * Woken when a call of this worker ends; an instance that the other
     * workers or the supervisor free is polled for, once a millisecond
     * per function.
     */

    if (fn->direct_poll.handler == NULL) {
        fn->direct_poll.handler = ngx_http_faas_direct_poll_handler;
        fn->direct_poll.data = fn;
        fn->direct_poll.log = ngx_cycle->log;
        fn->direct_poll.cancelable = 1;
    }

    if (!fn->direct_poll.timer_set) {
        ngx_add_timer(&fn->direct_poll, 1);
    }
}


static void
ngx_http_faas_direct_poll_handler(ngx_event_t *ev)
{
    ngx_http_faas_function_t  *fn;

    fn = ev->data;

    ngx_http_faas_direct_wake(fn, 0);

    if (fn->nwaiters == 0) {
        return;
    }

    /*
     * Fewer live instances kept by this worker than max_instances (some
     * quit, after a code update say): the supervisor has the others, and
     * the waiters go to it.
     */

    if (fn->nkept - fn->nquit < ngx_http_faas_direct_capacity(fn)) {
        ngx_http_faas_direct_flush(fn);
        return;
    }

    ngx_add_timer(ev, 1);
}


/* how long a call may wait for an instance this worker keeps, or 0 */

static ngx_msec_t
ngx_http_faas_direct_should_wait(ngx_http_faas_function_t *fn)
{
    ngx_uint_t  kept;

    kept = fn->nkept;

    if (kept == 0 || fn->nwaiters >= kept * NGX_HTTP_FAAS_DIRECT_WAITERS) {
        return 0;
    }

    if (fn->direct_busy == 0) {
        return 0;
    }

    return fn->direct_us * (fn->nwaiters + 1) / fn->direct_busy
           <= NGX_HTTP_FAAS_DIRECT_EXPECT
           ? NGX_HTTP_FAAS_DIRECT_WAIT : 0;
}


/*
 * The function's overload answer, as the supervisor gives it for its own
 * queue: overload_status, Retry-After, and the status line as the body.
 */

static void
ngx_http_faas_direct_refuse(ngx_http_request_t *r, ngx_http_faas_ctx_t *ctx,
    const char *fmt, ...)
{
    u_char                    *p, reason[128];
    va_list                    args;
    ngx_int_t                  rc;
    ngx_buf_t                 *b;
    ngx_uint_t                 status;
    ngx_chain_t                out;
    ngx_table_elt_t           *h;
    ngx_http_faas_loc_conf_t  *flcf;

    va_start(args, fmt);
    p = ngx_vslprintf(reason, reason + sizeof(reason), fmt, args);
    va_end(args);

    status = ctx->function->overload_status;

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "faas: function \"%V\": %*s in this worker, refused "
                  "with %ui", &ctx->name, p - reason, reason, status);

    flcf = ngx_http_get_module_loc_conf(r, ngx_http_faas_module);

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Retry-After");
    ngx_str_set(&h->value, "1");

    /* with faas_intercept_errors, error_page may answer instead */

    if (flcf->upstream.intercept_errors) {
        ngx_http_finalize_request(r, status);
        return;
    }

    b = ngx_create_temp_buf(r->pool, NGX_INT_T_LEN + 64);
    if (b == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    b->last = ngx_snprintf(b->last, NGX_INT_T_LEN + 64, "%ui %s\n", status,
                           ngx_http_faas_status_text(status));
    b->last_buf = (r == r->main);
    b->last_in_chain = 1;

    r->headers_out.status = status;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type, "text/plain");
    r->headers_out.content_type_len = sizeof("text/plain") - 1;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        ngx_http_finalize_request(r, rc);
        return;
    }

    out.buf = b;
    out.next = NULL;

    ngx_http_finalize_request(r, ngx_http_output_filter(r, &out));
}


static void
ngx_http_faas_direct_wait_handler(ngx_event_t *ev)
{
    ngx_connection_t     *c;
    ngx_http_request_t   *r;
    ngx_http_faas_ctx_t  *ctx;

    r = ev->data;
    c = r->connection;
    ctx = ngx_http_get_module_ctx(r, ngx_http_faas_module);

    ngx_http_set_log_request(c->log, r);

    /* woken with an instance, or its time is up: a last try */

    if (ctx->kept == NULL) {
        ctx->kept = ngx_http_faas_direct_claim(ctx->function);
    }

    if (ctx->kept == NULL && ctx->wait_queue) {
        ngx_http_faas_direct_unwait(ctx);
        ngx_http_faas_direct_refuse(r, ctx, "queue timeout after %M ms",
                                    ctx->function->queue_timeout);
        ngx_http_run_posted_requests(c);
        return;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "faas direct: waited kept:%p %M ms", ctx->kept,
                   ngx_current_msec - ctx->wait_start);

    ngx_http_faas_direct_unwait(ctx);

    ctx->queue_us = (uint64_t) (ngx_current_msec - ctx->wait_start) * 1000;

    ngx_http_upstream_init(r);
    ngx_http_run_posted_requests(c);
}


static void
ngx_http_faas_direct_unwait(ngx_http_faas_ctx_t *ctx)
{
    if (!ctx->waiting) {
        return;
    }

    ngx_queue_remove(&ctx->wait_link);
    ctx->function->nwaiters--;
    ctx->waiting = 0;

    if (ctx->wait.timer_set) {
        ngx_del_timer(&ctx->wait);
    }
}


/*
 * An instance of fn may be free: the first waiter has it.  At the end of
 * a call (released 1) only while this worker has less than its share of
 * the instances: else a worker would hand every instance it frees to its
 * own waiters, and the other workers' waiters, which poll, would starve.
 */

static void
ngx_http_faas_direct_wake(ngx_http_faas_function_t *fn, ngx_uint_t released)
{
    ngx_uint_t             share;
    ngx_queue_t           *q;
    ngx_core_conf_t       *ccf;
    ngx_http_faas_ctx_t   *w;
    ngx_http_faas_kept_t  *k;

    if (released) {
        ccf = (ngx_core_conf_t *) ngx_get_conf(ngx_cycle->conf_ctx,
                                               ngx_core_module);

        share = (ngx_http_faas_direct_capacity(fn) + ccf->worker_processes
                 - 1) / ccf->worker_processes;

        if (fn->direct_busy >= share) {
            return;
        }
    }

    while (fn->nwaiters > 0) {
        k = ngx_http_faas_direct_claim(fn);

        if (k == NULL) {
            return;
        }

        q = ngx_queue_head(&fn->waiters);
        w = ngx_queue_data(q, ngx_http_faas_ctx_t, wait_link);

        w->kept = k;
        ngx_http_faas_direct_unwait(w);

        ngx_post_event(&w->wait, &ngx_posted_events);
    }
}


/* every waiter goes to the supervisor */

static void
ngx_http_faas_direct_flush(ngx_http_faas_function_t *fn)
{
    ngx_queue_t          *q;
    ngx_http_faas_ctx_t  *w;

    while (fn->nwaiters > 0) {
        q = ngx_queue_head(&fn->waiters);
        w = ngx_queue_data(q, ngx_http_faas_ctx_t, wait_link);

        w->wait_queue = 0;
        ngx_http_faas_direct_unwait(w);

        ngx_post_event(&w->wait, &ngx_posted_events);
    }
}


static void
ngx_http_faas_direct_cleanup(void *data)
{
    ngx_http_request_t  *r = data;

    ngx_http_faas_ctx_t   *ctx;
    ngx_http_faas_kept_t  *k;

    ctx = ngx_http_get_module_ctx(r, ngx_http_faas_module);

    if (ctx == NULL) {
        return;
    }

    ngx_http_faas_direct_unwait(ctx);

    if (ctx->wait.posted) {
        ngx_delete_posted_event(&ctx->wait);
    }

    if (ctx->deadline.timer_set) {
        ngx_del_timer(&ctx->deadline);
    }

    k = ctx->kept;

    if (k == NULL) {
        return;
    }

    ctx->kept = NULL;

    if (k->map == ngx_http_faas_direct.map
        && ngx_http_faas_direct.base != NULL)
    {
        faas_slot_release(faas_slots_get(ngx_http_faas_direct.base,
                                         k->slot),
                          k->gen, (uint64_t) ngx_current_msec);
    }

    /* back into the cache; the connection is still idle */

    k->connection->read->handler = ngx_http_faas_direct_close_handler;
    ngx_queue_insert_head(&k->function->direct, &k->queue);
    k->function->ndirect++;
}


static ngx_uint_t
ngx_http_faas_direct_per_instance(ngx_http_faas_function_t *fn)
{
    ngx_uint_t        n;
    ngx_core_conf_t  *ccf;

    ccf = (ngx_core_conf_t *) ngx_get_conf(ngx_cycle->conf_ctx,
                                           ngx_core_module);

    n = NGX_HTTP_FAAS_DIRECT_HELD / ccf->worker_processes;

    if (n == 0) {
        n = 1;
    }

    return ngx_min(n, (ngx_uint_t) fn->concurrency);
}


static uint64_t
ngx_http_faas_direct_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (uint64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}


static ngx_int_t
ngx_http_faas_direct_init_peer(ngx_http_request_t *r,
    ngx_http_upstream_srv_conf_t *us)
{
    ngx_http_faas_peer_t  *p;

    p = ngx_palloc(r->pool, sizeof(ngx_http_faas_peer_t));
    if (p == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_upstream_init_round_robin_peer(r, us) != NGX_OK) {
        return NGX_ERROR;
    }

    p->request = r;
    p->data = r->upstream->peer.data;
    p->original_get = r->upstream->peer.get;
    p->original_free = r->upstream->peer.free;

    r->upstream->peer.data = p;
    r->upstream->peer.get = ngx_http_faas_direct_get_peer;
    r->upstream->peer.free = ngx_http_faas_direct_free_peer;

    return NGX_OK;
}


static ngx_int_t
ngx_http_faas_direct_get_peer(ngx_peer_connection_t *pc, void *data)
{
    ngx_http_faas_peer_t  *p = data;

    ngx_int_t                  rc;
    faas_slot_t               *s;
    ngx_connection_t          *c;
    ngx_http_request_t        *r;
    ngx_http_faas_ctx_t       *ctx;
    ngx_http_faas_kept_t      *k;
    ngx_http_faas_loc_conf_t  *flcf;

    rc = p->original_get(pc, p->data);

    if (rc != NGX_OK) {
        return rc;
    }

    r = p->request;
    ctx = ngx_http_get_module_ctx(r, ngx_http_faas_module);
    flcf = ngx_http_get_module_loc_conf(r, ngx_http_faas_module);

    /* faas_status has no function; a retry never goes direct */

    if (ctx == NULL || ctx->function == NULL || !flcf->direct
        || ngx_http_faas_direct.base == NULL || r->upstream->request_sent)
    {
        return NGX_OK;
    }

    k = ctx->kept;
    ctx->kept = NULL;

    /* claimed while it waited, from a supervisor that has gone since */

    if (k != NULL && k->map != ngx_http_faas_direct.map) {
        ngx_destroy_pool(k->connection->pool);
        ngx_close_connection(k->connection);
        ngx_queue_insert_head(&ngx_http_faas_direct.free, &k->queue);
        ctx->function->nkept--;
        k = NULL;
    }

    if (k == NULL) {
        k = ngx_http_faas_direct_claim(ctx->function);
    }

    if (k == NULL) {
        return NGX_OK;
    }

    c = k->connection;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, pc->log, 0,
                   "faas direct: function \"%V\" instance %uL on "
                   "connection %p", &ctx->name, k->instance, c);

    c->idle = 0;
    c->sent = 0;
    c->data = NULL;
    c->log = pc->log;
    c->read->log = pc->log;
    c->write->log = pc->log;
    c->pool->log = pc->log;

    if (c->read->timer_set) {
        ngx_del_timer(c->read);
    }

    pc->connection = c;
    pc->cached = 1;

    /* the instance answers RESPONSE at once: DISPATCH is the supervisor's */

    ctx->direct = 1;
    ctx->slot_known = 1;
    ctx->map = k->map;
    ctx->slot = k->slot;
    ctx->slot_gen = k->gen;
    ctx->instance = k->instance;
    ctx->pid = k->pid;
    ctx->layer = NGX_HTTP_FAAS_LAYER_WARM;
    ctx->state = ngx_http_faas_st_response;
    ctx->dispatched = 1;
    ctx->dispatch_time = ngx_current_msec;

    /* for the supervisor: the call its output lines belong to */

    s = faas_slots_get(ngx_http_faas_direct.base, k->slot);
    ngx_memcpy(s->request_id, ctx->request_id, sizeof(s->request_id));
    __atomic_store_n(&s->last_used, (uint64_t) ngx_current_msec,
                     __ATOMIC_RELAXED);

    ctx->deadline.handler = ngx_http_faas_direct_timeout;
    ctx->deadline.data = r;
    ctx->deadline.log = r->connection->log;

    if (ctx->function->timeout) {
        ngx_add_timer(&ctx->deadline, ctx->function->timeout);
    }

    /* the entry stays with the call, and is kept again after it */
    ctx->using = k;

    ctx->function->direct_busy++;
    ctx->direct_start = ngx_http_faas_direct_now();

    return NGX_DONE;
}


/*
 * The most recently used kept connection whose instance has room: the
 * others stay idle, and the supervisor can scale them to zero.  At
 * concurrency above 1 that fills an instance before the next, so that
 * it finds several calls at each wake-up.
 */

static ngx_http_faas_kept_t *
ngx_http_faas_direct_claim(ngx_http_faas_function_t *fn)
{
    uint64_t               w;
    ngx_queue_t           *q, *next;
    faas_slot_t           *s;
    ngx_http_faas_kept_t  *k;

    /* counted on the way: the instances kept that are quitting */
    fn->nquit = 0;

    if (fn->direct.next == NULL || ngx_http_faas_direct.base == NULL) {
        return NULL;
    }

    for (q = ngx_queue_head(&fn->direct);
         q != ngx_queue_sentinel(&fn->direct);
         q = next)
    {
        next = ngx_queue_next(q);
        k = ngx_queue_data(q, ngx_http_faas_kept_t, queue);

        s = faas_slots_get(ngx_http_faas_direct.base, k->slot);

        if (k->map != ngx_http_faas_direct.map) {
            ngx_http_faas_direct_drop(k);
            continue;
        }

        w = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);

        if (faas_slot_gen(w) != k->gen) {
            /* that instance is gone */
            ngx_http_faas_direct_drop(k);
            continue;
        }

        /* closed for a while (the supervisor's), or for good */

        if (faas_slot_quitting(w)) {
            fn->nquit++;
        }

        if (faas_slot_claim(s, k->gen)) {
            ngx_queue_remove(q);
            fn->ndirect--;

            /* the caller owns it now; an EOF is for it to see */
            k->connection->read->handler =
                                        ngx_http_faas_direct_dummy_handler;
            return k;
        }
    }

    return NULL;
}


static void
ngx_http_faas_direct_free_peer(ngx_peer_connection_t *pc, void *data,
    ngx_uint_t state)
{
    ngx_http_faas_peer_t  *p = data;

    ngx_http_request_t        *r;
    ngx_http_faas_ctx_t       *ctx;
    ngx_http_faas_function_t  *fn;

    r = p->request;
    ctx = ngx_http_get_module_ctx(r, ngx_http_faas_module);

    if (ctx != NULL && ctx->function != NULL) {

        if (ctx->deadline.timer_set) {
            ngx_del_timer(&ctx->deadline);
        }

        /*
         * A direct call that timed out keeps its claim: the supervisor
         * kills the instance, and nobody may call it meanwhile.
         */

        if (ctx->direct && ctx->direct_start) {
            fn = ctx->function;
            fn->direct_busy--;
            fn->direct_us = (fn->direct_us * 7
                             + ngx_http_faas_direct_now() - ctx->direct_start)
                            / 8;
            ctx->direct_start = 0;
        }

        /*
         * nginx's own line says only that the upstream closed or failed;
         * the supervisor, which reaps the instance, logs how it died
         */

        if (ctx->direct && !ctx->timed_out && (state & NGX_PEER_FAILED)
            && pc->connection != NULL
            && (pc->connection->read->eof || pc->connection->read->error
                || pc->connection->write->error))
        {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "faas: function \"%V\": instance %uL (pid %uL) "
                          "ended a direct call without an answer, request "
                          "%*s: it crashed or was killed, the supervisor's "
                          "log says how", &ctx->name, ctx->instance,
                          ctx->pid, (size_t) NGX_HTTP_FAAS_REQUEST_ID_LEN,
                          ctx->request_id);
        }

        /* the same table: a new supervisor may reuse the generation */

        if (ctx->direct && !ctx->timed_out
            && ngx_http_faas_direct.base != NULL
            && ctx->map == ngx_http_faas_direct.map
            && ctx->slot < ngx_http_faas_direct.nslots)
        {
            faas_slot_release(faas_slots_get(ngx_http_faas_direct.base,
                                             ctx->slot),
                              ctx->slot_gen, (uint64_t) ngx_current_msec);
        }

        if (!(state & NGX_PEER_FAILED)
            && ngx_http_faas_direct_keep(r, ctx, pc))
        {
            pc->connection = NULL;
            ngx_http_faas_direct_wake(ctx->function, 1);

        } else if (ctx->using != NULL) {
            ngx_queue_insert_head(&ngx_http_faas_direct.free,
                                  &((ngx_http_faas_kept_t *)
                                    ctx->using)->queue);
            ctx->function->nkept--;
        }

        ctx->using = NULL;
    }

    p->original_free(pc, p->data, state);
}


/* 1 when pc->connection is kept for the next direct call */

static ngx_uint_t
ngx_http_faas_direct_keep(ngx_http_request_t *r, ngx_http_faas_ctx_t *ctx,
    ngx_peer_connection_t *pc)
{
    uint64_t                   w;
    ngx_uint_t                 n, per;
    ngx_queue_t               *q;
    ngx_connection_t          *c;
    ngx_http_upstream_t       *u;
    ngx_http_faas_kept_t      *k;
    ngx_http_faas_function_t  *fn;
    ngx_http_faas_loc_conf_t  *flcf;

    c = pc->connection;
    u = r->upstream;
    fn = ctx->function;
    flcf = ngx_http_get_module_loc_conf(r, ngx_http_faas_module);

    /* the stream must be at a frame boundary both ways, and quiet */

    if (c == NULL || !ctx->slot_known || !flcf->direct
        || (ctx->direct && ctx->map != ngx_http_faas_direct.map)
        || ctx->state != ngx_http_faas_st_done || ctx->trailing
        || ctx->close
        || ctx->timed_out || !u->request_body_sent
        || c->read->eof || c->read->error || c->read->timedout
        || c->write->error || c->write->timedout
        || ngx_http_faas_direct.base == NULL
        || ctx->slot >= ngx_http_faas_direct.nslots
        || ngx_terminate || ngx_exiting)
    {
        return 0;
    }

    w = __atomic_load_n(&faas_slots_get(ngx_http_faas_direct.base,
                                        ctx->slot)->state,
                        __ATOMIC_ACQUIRE);

    if (faas_slot_gen(w) != ctx->slot_gen) {
        return 0;
    }

    if (fn->direct.next == NULL) {
        ngx_queue_init(&fn->direct);
    }

    /*
     * One per call the instance may run at once, within the worker's
     * share; counted only when the function's idle ones could reach it.
     */

    per = ngx_http_faas_direct_per_instance(fn);

    if (fn->ndirect >= per) {
        n = 0;

        for (q = ngx_queue_head(&fn->direct);
             q != ngx_queue_sentinel(&fn->direct);
             q = ngx_queue_next(q))
        {
            k = ngx_queue_data(q, ngx_http_faas_kept_t, queue);

            if (k->slot == ctx->slot && k->gen == ctx->slot_gen
                && k->map == ngx_http_faas_direct.map && ++n >= per)
            {
                return 0;
            }
        }
    }

    if (ctx->using == NULL && fn->nkept >= ngx_http_faas_direct_capacity(fn))
    {
        return 0;
    }

    if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        return 0;
    }

    if (ctx->using != NULL) {
        k = ctx->using;

    } else if (!ngx_queue_empty(&ngx_http_faas_direct.free)) {
        q = ngx_queue_head(&ngx_http_faas_direct.free);
        ngx_queue_remove(q);
        k = ngx_queue_data(q, ngx_http_faas_kept_t, queue);
        fn->nkept++;

    } else {
        /* reused through the free list: as many as ever kept at once */

        k = ngx_palloc(ngx_cycle->pool, sizeof(ngx_http_faas_kept_t));
        if (k == NULL) {
            return 0;
        }

        fn->nkept++;
    }

    ctx->using = NULL;

    k->connection = c;
    k->function = fn;
    k->slot = ctx->slot;
    k->gen = ctx->slot_gen;
    k->instance = ctx->instance;
    k->pid = ctx->pid;
    k->map = ngx_http_faas_direct.map;

    ngx_queue_insert_head(&fn->direct, &k->queue);
    fn->ndirect++;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, pc->log, 0,
                   "faas direct: keeping connection %p to instance %uL",
                   c, ctx->instance);

    c->read->delayed = 0;

    if (c->read->timer_set) {
        ngx_del_timer(c->read);
    }

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    c->write->handler = ngx_http_faas_direct_dummy_handler;
    c->read->handler = ngx_http_faas_direct_close_handler;

    c->data = k;
    c->idle = 1;
    c->log = ngx_cycle->log;
    c->read->log = ngx_cycle->log;
    c->write->log = ngx_cycle->log;
    c->pool->log = ngx_cycle->log;

    if (c->read->ready) {
        /* checked here, so that the close handler may free k */
        pc->connection = NULL;
        ngx_http_faas_direct_close_handler(c->read);
    }

    return 1;
}


/*
 * The function's timeout, on a direct call: the supervisor, which times
 * the calls it dispatches, does not know of this one.  The call ends as
 * an upstream read timeout does (504), and the supervisor is asked to
 * kill the instance, which is still running it.
 */

static void
ngx_http_faas_direct_timeout(ngx_event_t *ev)
{
    ngx_connection_t     *c;
    ngx_http_request_t   *r;
    ngx_http_upstream_t  *u;
    ngx_http_faas_ctx_t  *ctx;

    r = ev->data;
    u = r->upstream;
    ctx = ngx_http_get_module_ctx(r, ngx_http_faas_module);

    if (u == NULL || u->peer.connection == NULL || ctx == NULL) {
        return;
    }

    c = u->peer.connection;

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "faas: function \"%V\" instance %uL: timed out after "
                  "%M ms (a direct call), the instance is killed",
                  &ctx->name, ctx->instance, ctx->function->timeout);

    ctx->timed_out = 1;

    ngx_http_faas_control_abandon(ctx, ctx->function->timeout);

    c->read->timedout = 1;
    c->read->handler(c->read);
}


void
ngx_http_faas_direct_finalize(ngx_http_request_t *r, ngx_http_faas_ctx_t *ctx)
{
    if (ctx->deadline.timer_set) {
        ngx_del_timer(&ctx->deadline);
    }
}


static void
ngx_http_faas_direct_dummy_handler(ngx_event_t *ev)
{
    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, ev->log, 0,
                   "faas direct: dummy handler");
}


/* a kept connection spoke: the instance went away, or broke protocol */

static void
ngx_http_faas_direct_close_handler(ngx_event_t *ev)
{
    int                n;
    char               buf[1];
    ngx_connection_t  *c;

    c = ev->data;

    if (c->close || c->read->timedout) {
        goto close;
    }

    n = recv(c->fd, buf, 1, MSG_PEEK);

    if (n == -1 && ngx_socket_errno == NGX_EAGAIN) {
        ev->ready = 0;

        if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
            goto close;
        }

        return;
    }

close:

    ngx_http_faas_direct_drop(c->data);
}


static void
ngx_http_faas_direct_drop(ngx_http_faas_kept_t *k)
{
    ngx_connection_t  *c;

    c = k->connection;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "faas direct: closing connection %p to instance %uL",
                   c, k->instance);

    ngx_queue_remove(&k->queue);
    k->function->ndirect--;
    k->function->nkept--;

    ngx_queue_insert_head(&ngx_http_faas_direct.free, &k->queue);

    ngx_destroy_pool(c->pool);
    ngx_close_connection(c);
}
