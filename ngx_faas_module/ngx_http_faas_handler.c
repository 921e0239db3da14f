
/*
 * ngx_faas HTTP trigger: the content handler and the upstream protocol.
 *
 * nginx writes REQUEST BODY* END on a new connection to the supervisor and
 * reads back DISPATCH, then RESPONSE BODY* END or ERROR (docs/protocol.md).
 * The response body is relayed unbuffered, straight out of u->buffer.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>

#include "ngx_http_faas_module.h"


/* ERROR reasons come from untrusted code: this much of one is logged */
#define NGX_HTTP_FAAS_REASON_MAX  1024


typedef struct {
    u_char                    *pos;    /* NULL while measuring */
    size_t                     len;
} ngx_http_faas_json_t;


static void ngx_http_faas_request_id(u_char *id);
static void ngx_http_faas_request_json(ngx_http_request_t *r,
    ngx_http_faas_ctx_t *ctx, ngx_http_faas_json_t *j, off_t length);
static void ngx_http_faas_json_raw(ngx_http_faas_json_t *j, char *s,
    size_t len);
static void ngx_http_faas_json_string(ngx_http_faas_json_t *j, u_char *p,
    size_t len);

static ngx_int_t ngx_http_faas_upstream_create(ngx_http_request_t *r,
    ngx_http_faas_loc_conf_t *flcf, ngx_http_faas_ctx_t *ctx,
    ngx_int_t (*create_request)(ngx_http_request_t *r));
static ngx_int_t ngx_http_faas_create_request(ngx_http_request_t *r);
static ngx_int_t ngx_http_faas_status_create_request(ngx_http_request_t *r);
static ngx_int_t ngx_http_faas_reinit_request(ngx_http_request_t *r);
static ngx_int_t ngx_http_faas_body_output_filter(void *data,
    ngx_chain_t *in);
static ngx_chain_t *ngx_http_faas_get_buf(ngx_http_request_t *r,
    ngx_http_faas_ctx_t *ctx);
static ngx_int_t ngx_http_faas_process_header(ngx_http_request_t *r);
static json_t *ngx_http_faas_json_load(ngx_http_request_t *r,
    ngx_http_faas_ctx_t *ctx, u_char *p, size_t len);
static ngx_int_t ngx_http_faas_json_uint(json_t *obj, const char *key,
    uint64_t *value);
static ngx_int_t ngx_http_faas_process_dispatch(ngx_http_request_t *r,
    ngx_http_faas_ctx_t *ctx, json_t *json);
static ngx_int_t ngx_http_faas_process_response(ngx_http_request_t *r,
    ngx_http_faas_ctx_t *ctx, json_t *json);
static ngx_int_t ngx_http_faas_process_error(ngx_http_request_t *r,
    ngx_http_faas_ctx_t *ctx, json_t *json);
static ngx_int_t ngx_http_faas_log_error_frame(ngx_http_request_t *r,
    ngx_http_faas_ctx_t *ctx, json_t *json, char *when, ngx_uint_t *status);
static ngx_int_t ngx_http_faas_add_header(ngx_http_request_t *r,
    u_char *name, size_t name_len, u_char *value, size_t value_len);
static ngx_int_t ngx_http_faas_input_filter_init(void *data);
static ngx_int_t ngx_http_faas_input_filter(void *data, ssize_t bytes);
static void ngx_http_faas_abort_request(ngx_http_request_t *r);
static void ngx_http_faas_finalize_request(ngx_http_request_t *r,
    ngx_int_t rc);


ngx_int_t
ngx_http_faas_handler(ngx_http_request_t *r)
{
    u_char                     *p, *last;
    size_t                      len;
    uintptr_t                   n;
    ngx_int_t                   rc;
    ngx_str_t                   name;
    ngx_http_faas_ctx_t        *ctx;
    ngx_http_faas_json_t        json;
    ngx_http_faas_loc_conf_t   *flcf;
    ngx_http_faas_main_conf_t  *fmcf;

    flcf = ngx_http_get_module_loc_conf(r, ngx_http_faas_module);
    fmcf = ngx_http_get_module_main_conf(r, ngx_http_faas_module);

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_faas_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->request = r;
    faas_frame_parser_init(&ctx->parser);

    ngx_http_set_ctx(r, ctx, ngx_http_faas_module);

    if (flcf->function) {
        ctx->function = flcf->function;
        ctx->name = flcf->function->name;

    } else {
        if (ngx_http_complex_value(r, flcf->function_name, &name) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ctx->name = name;
        ctx->function = ngx_http_faas_find_function(fmcf, &name);

        if (ctx->function == NULL) {

            /* the name may come from the client: log it escaped */

            len = ngx_min(name.len, NGX_HTTP_FAAS_NAME_MAX * 4);
            n = ngx_escape_uri(NULL, name.data, len, NGX_ESCAPE_URI_COMPONENT);

            p = ngx_pnalloc(r->pool, len + 2 * n);
            if (p == NULL) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            last = (u_char *) ngx_escape_uri(p, name.data, len,
                                             NGX_ESCAPE_URI_COMPONENT);

            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "faas: unknown function \"%*s\"", last - p, p);
            return NGX_HTTP_NOT_FOUND;
        }
    }

    if (!ngx_http_faas_control_ready()) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "faas: function \"%V\": supervisor at %V is not "
                      "connected", &ctx->name, &fmcf->supervisor);
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    ngx_http_faas_request_id(ctx->request_id);

    /* the REQUEST payload does not depend on the body but for its length */

    json.pos = NULL;
    json.len = 0;

    ngx_http_faas_request_json(r, ctx, &json, 0);

    if (json.len > FAAS_JSON_MAX) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "faas: function \"%V\": request header is too large "
                      "for a REQUEST frame: %uz bytes of JSON, at most %d",
                      &ctx->name, json.len, FAAS_JSON_MAX);
        return NGX_HTTP_REQUEST_HEADER_TOO_LARGE;
    }

    ctx->request_size = json.len;

    if (ngx_http_faas_upstream_create(r, flcf, ctx,
                                      ngx_http_faas_create_request)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (!flcf->upstream.request_buffering) {
        r->request_body_no_buffering = 1;
    }

    rc = ngx_http_read_client_request_body(r, ngx_http_faas_direct_start);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


/*
 * Both faas_pass and faas_status talk to the supervisor through one
 * upstream setup; only the first frame they send differs.
 */

static ngx_int_t
ngx_http_faas_upstream_create(ngx_http_request_t *r,
    ngx_http_faas_loc_conf_t *flcf, ngx_http_faas_ctx_t *ctx,
    ngx_int_t (*create_request)(ngx_http_request_t *r))
{
    ngx_http_upstream_t  *u;

    if (ngx_http_upstream_create(r) != NGX_OK) {
        return NGX_ERROR;
    }

    u = r->upstream;

    /* error lines name the function: upstream: "faas://unix:...:NAME" */

    ngx_str_set(&u->schema, "faas://");
    u->uri = ctx->name;
    u->output.tag = (ngx_buf_tag_t) &ngx_http_faas_module;

    u->conf = &flcf->upstream;

    u->create_request = create_request;
    u->reinit_request = ngx_http_faas_reinit_request;
    u->process_header = ngx_http_faas_process_header;
    u->abort_request = ngx_http_faas_abort_request;
    u->finalize_request = ngx_http_faas_finalize_request;

    u->buffering = 0;

    u->input_filter_init = ngx_http_faas_input_filter_init;
    u->input_filter = ngx_http_faas_input_filter;
    u->input_filter_ctx = r;

    return NGX_OK;
}


/*
 * faas_status: the same upstream, with a STATUS frame for a request.  The
 * supervisor answers RESPONSE BODY* END (or ERROR), which the callbacks
 * of faas_pass relay as they are.
 */

ngx_int_t
ngx_http_faas_status_handler(ngx_http_request_t *r)
{
    ngx_int_t                  rc;
    ngx_str_t                  format;
    ngx_http_faas_ctx_t       *ctx;
    ngx_http_faas_loc_conf_t  *flcf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return rc;
    }

    flcf = ngx_http_get_module_loc_conf(r, ngx_http_faas_module);

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_faas_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_arg(r, (u_char *) "format", sizeof("format") - 1, &format)
        == NGX_OK)
    {
        if (format.len == sizeof("prometheus") - 1
            && ngx_strncmp(format.data, "prometheus", format.len) == 0)
        {
            ctx->prometheus = 1;

        } else if (format.len != sizeof("json") - 1
                   || ngx_strncmp(format.data, "json", format.len) != 0)
        {
            /* a client error: logged at "info", as nginx does */
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "faas_status: unknown format \"%*s\", "
                          "\"json\" or \"prometheus\" expected",
                          ngx_min(format.len, 64), format.data);
            return NGX_HTTP_BAD_REQUEST;
        }
    }

    ctx->request = r;
    ngx_str_set(&ctx->name, "faas_status");
    faas_frame_parser_init(&ctx->parser);

    /* no DISPATCH comes: RESPONSE or ERROR is the first frame */

    ctx->state = ngx_http_faas_st_response;

    ngx_http_set_ctx(r, ctx, ngx_http_faas_module);

    if (ngx_http_faas_upstream_create(r, flcf, ctx,
                                      ngx_http_faas_status_create_request)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->main->count++;

    ngx_http_upstream_init(r);

    return NGX_DONE;
}


static ngx_int_t
ngx_http_faas_status_create_request(ngx_http_request_t *r)
{
    size_t                len;
    ngx_buf_t            *b;
    ngx_chain_t          *cl;
    ngx_http_faas_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_faas_module);

    len = ctx->prometheus ? sizeof("{\"format\":\"prometheus\"}") - 1
                          : sizeof("{\"format\":\"json\"}") - 1;

    b = ngx_create_temp_buf(r->pool, FAAS_FRAME_HEADER_SIZE + len);
    if (b == NULL) {
        return NGX_ERROR;
    }

    faas_frame_header_encode(b->last, FAAS_FRAME_STATUS, (uint32_t) len);
    b->last += FAAS_FRAME_HEADER_SIZE;

    b->last = ngx_cpymem(b->last, ctx->prometheus
                                  ? "{\"format\":\"prometheus\"}"
                                  : "{\"format\":\"json\"}", len);
    b->last_buf = 1;

    cl = ngx_alloc_chain_link(r->pool);
    if (cl == NULL) {
        return NGX_ERROR;
    }

    cl->buf = b;
    cl->next = NULL;

    r->upstream->request_bufs = cl;

    return NGX_OK;
}


/*
 * 128 bits in hex, unique per worker and random across workers: two
 * splitmix64 sequences from seeds drawn once per worker process.  Drawing
 * 16 random bytes per request, as $request_id does, costs OpenSSL a
 * getpid() and a DRBG call each time, measured at 5% of a worker's CPU on
 * warm calls.  The ids name calls in logs; they are no secret.
 */

static void
ngx_http_faas_request_id(u_char *id)
{
    uint64_t          h[2];
    ngx_uint_t        i;

    static ngx_pid_t  pid;
    static uint64_t   seed[2], count;

    if (pid != ngx_pid) {
#if (NGX_OPENSSL)
        if (RAND_bytes((u_char *) seed, sizeof(seed)) != 1) {
            ERR_clear_error();
            seed[0] = (uint64_t) ngx_random() << 32 ^ (uint64_t) ngx_random();
            seed[1] = (uint64_t) ngx_random() << 32 ^ (uint64_t) ngx_random();
        }
#else
        seed[0] = (uint64_t) ngx_random() << 32 ^ (uint64_t) ngx_random();
        seed[1] = (uint64_t) ngx_random() << 32 ^ (uint64_t) ngx_random();
#endif
        pid = ngx_pid;
    }

    count++;

    /* splitmix64: a bijection, so no repeat before 2^64 calls */

    for (i = 0; i < 2; i++) {
        h[i] = seed[i] + count * 0x9e3779b97f4a7c15ULL;
        h[i] = (h[i] ^ (h[i] >> 30)) * 0xbf58476d1ce4e5b9ULL;
        h[i] = (h[i] ^ (h[i] >> 27)) * 0x94d049bb133111ebULL;
        h[i] ^= h[i] >> 31;
    }

    ngx_sprintf(id, "%016xL%016xL", h[0], h[1]);
}


/*
 * The REQUEST payload, measured (j->pos == NULL, with room for any body
 * length) or written.
 */

static void
ngx_http_faas_request_json(ngx_http_request_t *r, ngx_http_faas_ctx_t *ctx,
    ngx_http_faas_json_t *j, off_t length)
{
    u_char           *last;
    ngx_uint_t        i, n;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *header;

    ngx_http_faas_json_raw(j, "{\"function\":", sizeof("{\"function\":") - 1);
    ngx_http_faas_json_string(j, ctx->name.data, ctx->name.len);

    ngx_http_faas_json_raw(j, ",\"version\":", sizeof(",\"version\":") - 1);
    ngx_http_faas_json_string(j, ctx->function->version.data,
                              ctx->function->version.len);

    ngx_http_faas_json_raw(j, ",\"method\":", sizeof(",\"method\":") - 1);
    ngx_http_faas_json_string(j, r->method_name.data, r->method_name.len);

    ngx_http_faas_json_raw(j, ",\"uri\":", sizeof(",\"uri\":") - 1);
    ngx_http_faas_json_string(j, r->uri.data, r->uri.len);

    ngx_http_faas_json_raw(j, ",\"args\":", sizeof(",\"args\":") - 1);
    ngx_http_faas_json_string(j, r->args.data, r->args.len);

    ngx_http_faas_json_raw(j, ",\"headers\":[", sizeof(",\"headers\":[") - 1);

    n = 0;
    part = &r->headers_in.headers.part;
    header = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            header = part->elts;
            i = 0;
        }

        if (n++) {
            ngx_http_faas_json_raw(j, ",", 1);
        }

        ngx_http_faas_json_raw(j, "[", 1);
        ngx_http_faas_json_string(j, header[i].key.data, header[i].key.len);
        ngx_http_faas_json_raw(j, ",", 1);
        ngx_http_faas_json_string(j, header[i].value.data,
                                  header[i].value.len);
        ngx_http_faas_json_raw(j, "]", 1);
    }

    ngx_http_faas_json_raw(j, "],\"remote_addr\":",
                           sizeof("],\"remote_addr\":") - 1);
    ngx_http_faas_json_string(j, r->connection->addr_text.data,
                              r->connection->addr_text.len);

    ngx_http_faas_json_raw(j, ",\"request_id\":",
                           sizeof(",\"request_id\":") - 1);
    ngx_http_faas_json_string(j, ctx->request_id, NGX_HTTP_FAAS_REQUEST_ID_LEN);

    ngx_http_faas_json_raw(j, ",\"content_length\":",
                           sizeof(",\"content_length\":") - 1);

    if (j->pos) {
        last = ngx_sprintf(j->pos, "%O", length);
        j->len += last - j->pos;
        j->pos = last;

    } else {
        j->len += NGX_OFF_T_LEN;
    }

    ngx_http_faas_json_raw(j, "}", 1);
}


static void
ngx_http_faas_json_raw(ngx_http_faas_json_t *j, char *s, size_t len)
{
    if (j->pos) {
        j->pos = ngx_cpymem(j->pos, s, len);
    }

    j->len += len;
}


/*
 * A JSON string of arbitrary bytes.  Valid UTF-8 passes through; a byte
 * that is not part of valid UTF-8 becomes \u00XX, the code point of its
 * value, because a JSON text must be UTF-8 (RFC 8259, docs/protocol.md)
 * and jansson rejects one that is not.
 */

static void
ngx_http_faas_json_string(ngx_http_faas_json_t *j, u_char *p, size_t len)
{
    u_char         c, *last;
    size_t         n;
    static u_char  hex[] = "0123456789abcdef";

    ngx_http_faas_json_raw(j, "\"", 1);

    if (len == 0) {
        ngx_http_faas_json_raw(j, "\"", 1);
        return;
    }

    last = p + len;

    while (p < last) {
        c = *p;

        if (c >= 0x80) {
            n = ngx_http_faas_utf8_len(p, last);

            if (n) {
                if (j->pos) {
                    j->pos = ngx_cpymem(j->pos, p, n);
                }

                j->len += n;
                p += n;
                continue;
            }

        } else if (c >= 0x20 && c != '"' && c != '\\') {
            if (j->pos) {
                *j->pos++ = c;
            }

            j->len++;
            p++;
            continue;
        }

        if (c == '"' || c == '\\') {
            if (j->pos) {
                *j->pos++ = '\\';
                *j->pos++ = c;
            }

            j->len += 2;

        } else {
            if (j->pos) {
                *j->pos++ = '\\';
                *j->pos++ = 'u';
                *j->pos++ = '0';
                *j->pos++ = '0';
                *j->pos++ = hex[c >> 4];
                *j->pos++ = hex[c & 0xf];
            }

            j->len += 6;
        }

        p++;
    }

    ngx_http_faas_json_raw(j, "\"", 1);
}


/* the length of the valid UTF-8 sequence at p (RFC 3629), or 0 */

size_t
ngx_http_faas_utf8_len(u_char *p, u_char *last)
{
    u_char    c;
    size_t    n, i;
    uint32_t  u, min;

    c = *p;

    if (c < 0x80) {
        return 1;
    }

    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        u = c & 0x1f;
        min = 0x80;

    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        u = c & 0x0f;
        min = 0x800;

    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        u = c & 0x07;
        min = 0x10000;

    } else {
        return 0;
    }

    if ((size_t) (last - p) < n) {
        return 0;
    }

    for (i = 1; i < n; i++) {
        c = p[i];

        if ((c & 0xc0) != 0x80) {
            return 0;
        }

        u = (u << 6) | (c & 0x3f);
    }

    if (u < min || u > 0x10ffff || (u >= 0xd800 && u <= 0xdfff)) {
        return 0;
    }

    return n;
}


static ngx_int_t
ngx_http_faas_create_request(ngx_http_request_t *r)
{
    off_t                  length;
    ngx_buf_t             *b;
    ngx_uint_t             last;
    ngx_chain_t           *cl, *body, **ll;
    ngx_http_upstream_t   *u;
    ngx_http_faas_ctx_t   *ctx;
    ngx_http_faas_json_t   json;

    u = r->upstream;
    ctx = ngx_http_get_module_ctx(r, ngx_http_faas_module);

    if (r->request_body_no_buffering) {
        length = r->headers_in.chunked ? -1
                 : ngx_max(r->headers_in.content_length_n, 0);

    } else {
        length = 0;

        for (cl = u->request_bufs; cl; cl = cl->next) {
            length += ngx_buf_size(cl->buf);
        }
    }

    b = ngx_create_temp_buf(r->pool,
                            FAAS_FRAME_HEADER_SIZE + ctx->request_size);
    if (b == NULL) {
        return NGX_ERROR;
    }

    json.pos = b->last + FAAS_FRAME_HEADER_SIZE;
    json.len = 0;

    ngx_http_faas_request_json(r, ctx, &json, length);

    faas_frame_header_encode(b->last, FAAS_FRAME_REQUEST, (uint32_t) json.len);

    b->last = json.pos;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "faas request: \"%*s\", body: %O",
                   json.len, b->pos + FAAS_FRAME_HEADER_SIZE, length);

    cl = ngx_alloc_chain_link(r->pool);
    if (cl == NULL) {
        return NGX_ERROR;
    }

    cl->buf = b;
    ll = &cl->next;

    body = u->request_bufs;
    u->request_bufs = cl;

    /*
     * An unbuffered body is passed to the output filter as it arrives,
     * ending with last_buf.  A buffered one is all here; it may be in a
     * file, whose buffer has no last_buf, so a marker ends it.
     */

    if (!r->request_body_no_buffering) {
        last = 0;

        for ( /* void */ ; body; body = body->next) {
            cl = ngx_alloc_chain_link(r->pool);
            if (cl == NULL) {
                return NGX_ERROR;
            }

            cl->buf = body->buf;
            *ll = cl;
            ll = &cl->next;

            if (body->buf->last_buf) {
                last = 1;
            }
        }

        if (!last) {
            b = ngx_calloc_buf(r->pool);
            if (b == NULL) {
                return NGX_ERROR;
            }

            b->last_buf = 1;

            cl = ngx_alloc_chain_link(r->pool);
            if (cl == NULL) {
                return NGX_ERROR;
            }

            cl->buf = b;
            *ll = cl;
            ll = &cl->next;
        }
    }

    *ll = NULL;

    u->output.output_filter = ngx_http_faas_body_output_filter;
    u->output.filter_ctx = r;

    return NGX_OK;
}


static ngx_int_t
ngx_http_faas_reinit_request(ngx_http_request_t *r)
{
    ngx_http_faas_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_faas_module);

    if (ctx == NULL) {
        return NGX_OK;
    }

    ctx->state = ngx_http_faas_st_dispatch;
    faas_frame_parser_init(&ctx->parser);

    ctx->payload = NULL;
    ctx->payload_len = 0;
    ngx_str_null(&ctx->error_body);
    ctx->body_length = 0;

    ctx->instance = 0;
    ctx->pid = 0;
    ctx->queue_us = 0;
    ctx->start_us = 0;
    ctx->dispatched = 0;
    ctx->cold = 0;
    ctx->prewarmed = 0;
    ctx->ended = 0;

    ctx->busy = NULL;
    ctx->request_sent = 0;
    ctx->body_sent = 0;

    return NGX_OK;
}


/*
 * Frames the request body: after the REQUEST frame, which passes as is,
 * every body buffer goes out as BODY frames of at most FAAS_BODY_CHUNK
 * bytes, each a header buffer and a shadow of a slice of the input, and
 * last_buf becomes END.  An input buffer is marked consumed once its last
 * slice is sent, so that the request body reader can reuse it.
 */

static ngx_int_t
ngx_http_faas_body_output_filter(void *data, ngx_chain_t *in)
{
    ngx_http_request_t  *r = data;

    off_t                 size, n, file_pos;
    u_char               *pos, *start, *end;
    ngx_buf_t            *b;
    ngx_int_t             rc;
    ngx_uint_t            last, memory;
    ngx_chain_t          *cl, *out, **ll;
    ngx_http_faas_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_faas_module);

    out = NULL;
    ll = &out;

    if (in && !ctx->request_sent) {
        ctx->request_sent = 1;

        cl = ngx_alloc_chain_link(r->pool);
        if (cl == NULL) {
            return NGX_ERROR;
        }

        cl->buf = in->buf;
        *ll = cl;
        ll = &cl->next;

        in = in->next;
    }

    last = 0;

    for ( /* void */ ; in; in = in->next) {

        if (in->buf->last_buf) {
            last = 1;
        }

        if (ngx_buf_special(in->buf)) {
            continue;
        }

        size = ngx_buf_size(in->buf);
        memory = ngx_buf_in_memory(in->buf);
        pos = in->buf->pos;
        file_pos = in->buf->file_pos;

        while (size > 0) {
            n = ngx_min(size, FAAS_BODY_CHUNK);

            cl = ngx_http_faas_get_buf(r, ctx);
            if (cl == NULL) {
                return NGX_ERROR;
            }

            faas_frame_header_encode(cl->buf->pos, FAAS_FRAME_BODY,
                                     (uint32_t) n);
            cl->buf->last += FAAS_FRAME_HEADER_SIZE;

            *ll = cl;
            ll = &cl->next;

            cl = ngx_http_faas_get_buf(r, ctx);
            if (cl == NULL) {
                return NGX_ERROR;
            }

            b = cl->buf;

            /* keep the header memory of the buffer for its reuse */

            start = b->start;
            end = b->end;

            ngx_memcpy(b, in->buf, sizeof(ngx_buf_t));

            b->start = start;
            b->end = end;

            if (memory) {
                b->in_file = 0;
                b->pos = pos;
                b->last = pos + n;
                pos += n;

            } else {
                b->file_pos = file_pos;
                b->file_last = file_pos + n;
                file_pos += n;
            }

            size -= n;

            b->tag = (ngx_buf_tag_t) &ngx_http_faas_body_output_filter;
            b->shadow = in->buf;
            b->last_shadow = (size == 0);
            b->recycled = 0;
            b->flush = 0;
            b->sync = 0;
            b->last_buf = 0;
            b->last_in_chain = 0;

            *ll = cl;
            ll = &cl->next;
        }
    }

    if (last && !ctx->body_sent) {
        ctx->body_sent = 1;

        cl = ngx_http_faas_get_buf(r, ctx);
        if (cl == NULL) {
            return NGX_ERROR;
        }

        faas_frame_header_encode(cl->buf->pos, FAAS_FRAME_END, 0);
        cl->buf->last += FAAS_FRAME_HEADER_SIZE;

        *ll = cl;
        ll = &cl->next;
    }

    *ll = NULL;

    rc = ngx_chain_writer(&r->upstream->writer, out);

    ngx_chain_update_chains(r->pool, &ctx->free, &ctx->busy, &out,
                            (ngx_buf_tag_t) &ngx_http_faas_body_output_filter);

    for (cl = ctx->free; cl; cl = cl->next) {
        b = cl->buf;

        if (b->shadow) {
            if (b->last_shadow) {
                b->shadow->pos = b->shadow->last;
                b->shadow->file_pos = b->shadow->file_last;
            }

            b->shadow = NULL;
        }
    }

    return rc;
}


static ngx_chain_t *
ngx_http_faas_get_buf(ngx_http_request_t *r, ngx_http_faas_ctx_t *ctx)
{
    u_char       *start;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    cl = ngx_chain_get_free_buf(r->pool, &ctx->free);
    if (cl == NULL) {
        return NULL;
    }

    b = cl->buf;
    start = b->start;

    if (start == NULL) {
        start = ngx_palloc(r->pool, FAAS_FRAME_HEADER_SIZE);
        if (start == NULL) {
            return NULL;
        }
    }

    ngx_memzero(b, sizeof(ngx_buf_t));

    b->start = start;
    b->end = start + FAAS_FRAME_HEADER_SIZE;
    b->pos = start;
    b->last = start;
    b->temporary = 1;
    b->tag = (ngx_buf_tag_t) &ngx_http_faas_body_output_filter;

    return cl;
}


/*
 * DISPATCH (optional) and RESPONSE or ERROR.  u->buffer is never moved
 * while headers are read, so a payload stays where its frame header left
 * it, whole, once its last byte has arrived.
 */

static ngx_int_t
ngx_http_faas_process_header(ngx_http_request_t *r)
{
    size_t                 len;
    json_t                *json;
    uint8_t                type;
    ngx_int_t              rc;
    const uint8_t         *pos, *last, *data;
    faas_frame_rc_e        frc;
    ngx_http_upstream_t   *u;
    ngx_http_faas_ctx_t   *ctx;

    u = r->upstream;
    ctx = ngx_http_get_module_ctx(r, ngx_http_faas_module);

    pos = u->buffer.pos;
    last = u->buffer.last;

    for ( ;; ) {

        frc = faas_frame_parse(&ctx->parser, &pos, last, &data, &len);

        type = ctx->parser.frame.type;

        switch (frc) {

        case FAAS_FRAME_AGAIN:
            u->buffer.pos = (u_char *) pos;
            return NGX_AGAIN;

        case FAAS_FRAME_OK:

            if ((type == FAAS_FRAME_DISPATCH
                 && ctx->state == ngx_http_faas_st_dispatch)
                || type == FAAS_FRAME_RESPONSE
                || type == FAAS_FRAME_ERROR)
            {
                if (ctx->parser.frame.length
                    > (size_t) (u->buffer.end - (u_char *) pos))
                {
                    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                                  "faas: function \"%V\" sent too big "
                                  "response header: a %s frame of %uD bytes "
                                  "does not fit in faas_buffer_size %uz",
                                  &ctx->name, faas_frame_type_name(type),
                                  ctx->parser.frame.length,
                                  u->conf->buffer_size);
                    return NGX_HTTP_UPSTREAM_INVALID_HEADER;
                }

                ctx->payload = (u_char *) pos;
                continue;
            }

            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "faas: function \"%V\" sent invalid response: "
                          "unexpected %s frame",
                          &ctx->name, faas_frame_type_name(type));
            return NGX_HTTP_UPSTREAM_INVALID_HEADER;

        case FAAS_FRAME_DATA:
            continue;

        case FAAS_FRAME_COMPLETE:
            break;

        default:
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "faas: function \"%V\" sent invalid response: %s",
                          &ctx->name, faas_frame_strerror(frc));
            return NGX_HTTP_UPSTREAM_INVALID_HEADER;
        }

        json = ngx_http_faas_json_load(r, ctx, ctx->payload,
                                       ctx->parser.frame.length);
        if (json == NULL) {
            return NGX_HTTP_UPSTREAM_INVALID_HEADER;
        }

        switch (type) {

        case FAAS_FRAME_DISPATCH:
            rc = ngx_http_faas_process_dispatch(r, ctx, json);
            ctx->state = ngx_http_faas_st_response;
            break;

        case FAAS_FRAME_RESPONSE:
            rc = ngx_http_faas_process_response(r, ctx, json);
            ctx->state = ngx_http_faas_st_body;
            break;

        default: /* FAAS_FRAME_ERROR */
            rc = ngx_http_faas_process_error(r, ctx, json);
            ctx->state = ngx_http_faas_st_error;
            break;
        }

        json_decref(json);

        if (rc != NGX_OK) {
            return rc;
        }

        if (type != FAAS_FRAME_DISPATCH) {
            u->buffer.pos = (u_char *) pos;
            return NGX_OK;
        }
    }
}


static json_t *
ngx_http_faas_json_load(ngx_http_request_t *r, ngx_http_faas_ctx_t *ctx,
    u_char *p, size_t len)
{
    json_t        *json;
    json_error_t   err;

    json = json_loadb((char *) p, len, JSON_REJECT_DUPLICATES, &err);

    if (json == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "faas: function \"%V\" sent invalid response: "
                      "%s frame with invalid JSON: %s",
                      &ctx->name,
                      faas_frame_type_name(ctx->parser.frame.type), err.text);
        return NULL;
    }

    if (!json_is_object(json)) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "faas: function \"%V\" sent invalid response: "
                      "%s frame is not a JSON object",
                      &ctx->name,
                      faas_frame_type_name(ctx->parser.frame.type));
        json_decref(json);
        return NULL;
    }

    return json;
}


/* NGX_OK, NGX_DECLINED when absent, NGX_ERROR when not an integer >= 0 */

static ngx_int_t
ngx_http_faas_json_uint(json_t *obj, const char *key, uint64_t *value)
{
    json_t  *v;

    v = json_object_get(obj, key);

    if (v == NULL) {
        return NGX_DECLINED;
    }

    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        return NGX_ERROR;
    }

    *value = (uint64_t) json_integer_value(v);

    return NGX_OK;
}


static ngx_int_t
ngx_http_faas_process_dispatch(ngx_http_request_t *r,
    ngx_http_faas_ctx_t *ctx, json_t *json)
{
    char        *invalid;
    json_t      *cold, *layer;
    uint64_t     prewarmed, slot, gen;
    ngx_int_t    rc;
    ngx_uint_t   i;

    if (ngx_http_faas_json_uint(json, "instance", &ctx->instance) != NGX_OK) {
        invalid = "instance";
        goto failed;
    }

    cold = json_object_get(json, "cold");

    if (cold == NULL || json_is_false(cold)) {
        ctx->cold = 0;

    } else if (json_is_true(cold)) {
        ctx->cold = 1;

    } else if (json_is_integer(cold)
               && (json_integer_value(cold) == 0
                   || json_integer_value(cold) == 1))
    {
        ctx->cold = (json_integer_value(cold) == 1);

    } else {
        invalid = "cold";
        goto failed;
    }

    /* optional: set when an instance of the prewarm pool served */

    prewarmed = 0;

    if (ngx_http_faas_json_uint(json, "prewarmed", &prewarmed)
        == NGX_ERROR
        || prewarmed > 1)
    {
        invalid = "prewarmed";
        goto failed;
    }

    ctx->prewarmed = (prewarmed == 1);

    /* optional: a supervisor that does not say is one without pools */

    layer = json_object_get(json, "layer");

    if (layer == NULL) {
        ctx->layer = ctx->cold ? NGX_HTTP_FAAS_LAYER_NONE
                               : (ctx->prewarmed
                                  ? NGX_HTTP_FAAS_LAYER_FUNCTION
                                  : NGX_HTTP_FAAS_LAYER_WARM);

    } else {
        for (i = 0; ngx_http_faas_layers[i].len; i++) {
            if (json_is_string(layer)
                && json_string_length(layer) == ngx_http_faas_layers[i].len
                && ngx_strncmp(json_string_value(layer),
                               ngx_http_faas_layers[i].data,
                               ngx_http_faas_layers[i].len)
                   == 0)
            {
                break;
            }
        }

        if (ngx_http_faas_layers[i].len == 0) {
            invalid = "layer";
            goto failed;
        }

        ctx->layer = i;
    }

    /* optional: the instance's slot, when it takes direct calls */

    slot = 0;
    gen = 0;

    if (ngx_http_faas_json_uint(json, "slot", &slot) == NGX_ERROR
        || slot > UINT32_MAX)
    {
        invalid = "slot";
        goto failed;
    }

    rc = ngx_http_faas_json_uint(json, "gen", &gen);

    if (rc == NGX_ERROR || gen > UINT32_MAX) {
        invalid = "gen";
        goto failed;
    }

    if (rc == NGX_OK) {
        ctx->slot = (uint32_t) slot;
        ctx->slot_gen = (uint32_t) gen;
        ctx->slot_known = 1;
    }

    if (ngx_http_faas_json_uint(json, "pid", &ctx->pid) == NGX_ERROR) {
        invalid = "pid";
        goto failed;
    }

    if (ngx_http_faas_json_uint(json, "queue_us", &ctx->queue_us)
        == NGX_ERROR)
    {
        invalid = "queue_us";
        goto failed;
    }

    if (ngx_http_faas_json_uint(json, "start_us", &ctx->start_us)
        == NGX_ERROR)
    {
        invalid = "start_us";
        goto failed;
    }

    ctx->dispatched = 1;
    ctx->dispatch_time = ngx_current_msec;

    ngx_log_debug6(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "faas dispatch: function \"%V\" instance:%uL cold:%ui "
                   "pid:%uL queue:%uLus start:%uLus",
                   &ctx->name, ctx->instance, (ngx_uint_t) ctx->cold,
                   ctx->pid, ctx->queue_us, ctx->start_us);

    return NGX_OK;

failed:

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "faas: function \"%V\" sent invalid response: "
                  "invalid \"%s\" in DISPATCH", &ctx->name, invalid);

    return NGX_HTTP_UPSTREAM_INVALID_HEADER;
}


static ngx_int_t
ngx_http_faas_process_response(ngx_http_request_t *r,
    ngx_http_faas_ctx_t *ctx, json_t *json)
{
    off_t                 length;
    size_t                i, j, name_len, value_len;
    u_char               *name, *value, c;
    json_t               *status, *headers, *pair, *jname, *jvalue, *jclose;
    ngx_int_t             n;
    ngx_uint_t            content_length;
    ngx_http_upstream_t  *u;

    u = r->upstream;

    status = json_object_get(json, "status");

    if (!json_is_integer(status)
        || json_integer_value(status) < 200
        || json_integer_value(status) > 599)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "faas: function \"%V\" sent invalid response: "
                      "invalid status", &ctx->name);
        return NGX_HTTP_UPSTREAM_INVALID_HEADER;
    }

    n = (ngx_int_t) json_integer_value(status);

    /* the instance takes no other call on this connection */

    jclose = json_object_get(json, "close");

    if (jclose != NULL && !json_is_boolean(jclose)) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "faas: function \"%V\" sent invalid response: "
                      "\"close\" is not a boolean", &ctx->name);
        return NGX_HTTP_UPSTREAM_INVALID_HEADER;
    }

    ctx->close = json_is_true(jclose);

    headers = json_object_get(json, "headers");

    if (headers != NULL && !json_is_array(headers)) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "faas: function \"%V\" sent invalid response: "
                      "\"headers\" is not an array", &ctx->name);
        return NGX_HTTP_UPSTREAM_INVALID_HEADER;
    }

    content_length = 0;

    json_array_foreach(headers, i, pair) {

        jname = json_array_get(pair, 0);
        jvalue = json_array_get(pair, 1);

        if (!json_is_array(pair) || json_array_size(pair) != 2
            || !json_is_string(jname) || !json_is_string(jvalue))
        {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "faas: function \"%V\" sent invalid response: "
                          "header %uz is not a [name, value] pair of strings",
                          &ctx->name, i);
            return NGX_HTTP_UPSTREAM_INVALID_HEADER;
        }

        name = (u_char *) json_string_value(jname);
        name_len = json_string_length(jname);
        value = (u_char *) json_string_value(jvalue);
        value_len = json_string_length(jvalue);

        for (j = 0; j < name_len; j++) {
            c = name[j];

            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                || (c >= '0' && c <= '9')
                || (c != '\0' && ngx_strchr("!#$%&'*+-.^_`|~", c) != NULL))
            {
                continue;
            }

            break;
        }

        if (name_len == 0 || j != name_len) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "faas: function \"%V\" sent invalid response: "
                          "invalid header name \"%*s\"",
                          &ctx->name, ngx_min(name_len, 256), name);
            return NGX_HTTP_UPSTREAM_INVALID_HEADER;
        }

        for (j = 0; j < value_len; j++) {
            c = value[j];

            if (c == CR || c == LF || c == '\0') {
                ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                              "faas: function \"%V\" sent invalid response: "
                              "header \"%*s\" has CR, LF or NUL in its value",
                              &ctx->name, name_len, name);
                return NGX_HTTP_UPSTREAM_INVALID_HEADER;
            }
        }

        if (name_len == sizeof("Content-Length") - 1
            && ngx_strncasecmp(name, (u_char *) "Content-Length", name_len)
               == 0)
        {
            length = NGX_ERROR;

            if (value_len && value_len <= NGX_OFF_T_LEN) {
                length = ngx_atoof(value, value_len);
            }

            if (length == NGX_ERROR || content_length++) {
                ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                              "faas: function \"%V\" sent invalid response: "
                              "invalid or duplicate Content-Length",
                              &ctx->name);
                return NGX_HTTP_UPSTREAM_INVALID_HEADER;
            }
        }

        if (ngx_http_faas_add_header(r, name, name_len, value, value_len)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    u->headers_in.status_n = n;

    if (u->state && u->state->status == 0) {
        u->state->status = n;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "faas response: status %i, content length %O",
                   n, u->headers_in.content_length_n);

    return NGX_OK;
}


/*
 * An ERROR before RESPONSE: the client gets its status with a plain body
 * and, unless faas_intercept_errors and an error_page take over, nginx
 * relays it as a regular upstream response.
 */

static ngx_int_t
ngx_http_faas_process_error(ngx_http_request_t *r, ngx_http_faas_ctx_t *ctx,
    json_t *json)
{
    u_char               *p, buf[NGX_INT_T_LEN];
    char                 *text;
    uint64_t              retry_after;
    ngx_int_t             rc;
    ngx_uint_t            status;
    ngx_http_upstream_t  *u;

    u = r->upstream;

    rc = ngx_http_faas_log_error_frame(r, ctx, json, "", &status);
    if (rc != NGX_OK) {
        return rc;
    }

    u->headers_in.status_n = status;

    if (u->state && u->state->status == 0) {
        u->state->status = status;
    }

    if (ngx_http_faas_add_header(r, (u_char *) "Content-Type",
                                 sizeof("Content-Type") - 1,
                                 (u_char *) "text/plain",
                                 sizeof("text/plain") - 1)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    rc = ngx_http_faas_json_uint(json, "retry_after", &retry_after);

    if (rc == NGX_OK) {
        p = ngx_sprintf(buf, "%uL", retry_after);

        if (ngx_http_faas_add_header(r, (u_char *) "Retry-After",
                                     sizeof("Retry-After") - 1,
                                     buf, p - buf)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

    } else if (rc == NGX_ERROR) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "faas: function \"%V\": invalid \"retry_after\" "
                      "in ERROR ignored", &ctx->name);
    }

    text = ngx_http_faas_status_text(status);

    p = ngx_pnalloc(r->pool, NGX_INT_T_LEN + 2 + ngx_strlen(text));
    if (p == NULL) {
        return NGX_ERROR;
    }

    ctx->error_body.data = p;
    ctx->error_body.len = ngx_sprintf(p, "%ui %s\n", status, text) - p;

    u->headers_in.content_length_n = ctx->error_body.len;

    return NGX_OK;
}


/*
 * Logs an ERROR frame: 'when' is "" or " after response started".
 * The reason is untrusted text: it is cut and its control bytes are
 * replaced, so that it cannot forge log lines.
 */

static ngx_int_t
ngx_http_faas_log_error_frame(ngx_http_request_t *r, ngx_http_faas_ctx_t *ctx,
    json_t *json, char *when, ngx_uint_t *status)
{
    u_char      *p, reason[NGX_HTTP_FAAS_REASON_MAX];
    size_t       len, i;
    json_t      *jstatus, *jreason;
    json_int_t   n;

    jstatus = json_object_get(json, "status");
    n = json_is_integer(jstatus) ? json_integer_value(jstatus) : 0;

    if (n < 400 || n > 599) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "faas: function \"%V\" sent invalid response: "
                      "invalid status in ERROR%s", &ctx->name, when);
        return NGX_HTTP_UPSTREAM_INVALID_HEADER;
    }

    *status = (ngx_uint_t) n;

    jreason = json_object_get(json, "reason");

    if (json_is_string(jreason)) {
        p = (u_char *) json_string_value(jreason);
        len = ngx_min(json_string_length(jreason), sizeof(reason));

    } else {
        p = (u_char *) "no reason given";
        len = sizeof("no reason given") - 1;
    }

    for (i = 0; i < len; i++) {
        reason[i] = (p[i] < 0x20 || p[i] == 0x7f) ? ' ' : p[i];
    }

    if (ctx->dispatched) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "faas: function \"%V\" failed%s: %*s "
                      "(status %ui, instance %uL)",
                      &ctx->name, when, len, reason, *status, ctx->instance);

    } else {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "faas: function \"%V\" failed%s: %*s (status %ui)",
                      &ctx->name, when, len, reason, *status);
    }

    return NGX_OK;
}


/* as an upstream header line, so nginx treats it as it does proxied ones */

static ngx_int_t
ngx_http_faas_add_header(ngx_http_request_t *r, u_char *name,
    size_t name_len, u_char *value, size_t value_len)
{
    u_char                         *p;
    ngx_table_elt_t                *h;
    ngx_http_upstream_header_t     *hh;
    ngx_http_upstream_main_conf_t  *umcf;

    umcf = ngx_http_get_module_main_conf(r, ngx_http_upstream_module);

    h = ngx_list_push(&r->upstream->headers_in.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    /* NUL-terminated: nginx's header copy handlers rely on it */

    p = ngx_pnalloc(r->pool, name_len + 1 + value_len + 1 + name_len);
    if (p == NULL) {
        h->hash = 0;
        return NGX_ERROR;
    }

    h->key.len = name_len;
    h->key.data = p;
    p = ngx_cpymem(p, name, name_len);
    *p++ = '\0';

    h->value.len = value_len;
    h->value.data = p;
    p = ngx_cpymem(p, value, value_len);
    *p++ = '\0';

    h->lowcase_key = p;
    h->hash = ngx_hash_strlow(h->lowcase_key, h->key.data, h->key.len);

    hh = ngx_hash_find(&umcf->headers_in_hash, h->hash,
                       h->lowcase_key, h->key.len);

    if (hh && hh->handler(r, h, hh->offset) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "faas header: \"%V: %V\"", &h->key, &h->value);

    return NGX_OK;
}


char *
ngx_http_faas_status_text(ngx_uint_t status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Time-out";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Request Entity Too Large";
    case 414: return "Request-URI Too Large";
    case 415: return "Unsupported Media Type";
    case 416: return "Requested Range Not Satisfiable";
    case 421: return "Misdirected Request";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Temporarily Unavailable";
    case 504: return "Gateway Time-out";
    case 505: return "HTTP Version Not Supported";
    case 507: return "Insufficient Storage";
    default:  return status < 500 ? "Client Error" : "Server Error";
    }
}


static ngx_int_t
ngx_http_faas_input_filter_init(void *data)
{
    ngx_http_request_t  *r = data;

    ngx_buf_t            *b;
    ngx_chain_t          *cl, **ll;
    ngx_http_upstream_t  *u;
    ngx_http_faas_ctx_t  *ctx;

    u = r->upstream;
    ctx = ngx_http_get_module_ctx(r, ngx_http_faas_module);

    if (ctx->state != ngx_http_faas_st_error) {

        /* not 0 and not -1: an end of stream before END is an error */

        u->length = 1;
        return NGX_OK;
    }

    for (cl = u->out_bufs, ll = &u->out_bufs; cl; cl = cl->next) {
        ll = &cl->next;
    }

    cl = ngx_chain_get_free_buf(r->pool, &u->free_bufs);
    if (cl == NULL) {
        return NGX_ERROR;
    }

    b = cl->buf;

    b->memory = 1;
    b->flush = 1;
    b->pos = ctx->error_body.data;
    b->last = ctx->error_body.data + ctx->error_body.len;
    b->tag = u->output.tag;

    *ll = cl;

    u->length = 0;

    return NGX_OK;
}


/*
 * BODY* END, relayed as it arrives: the payload of each BODY frame is
 * passed on in place, from u->buffer, and frame headers are skipped.
 */

static ngx_int_t
ngx_http_faas_input_filter(void *data, ssize_t bytes)
{
    ngx_http_request_t  *r = data;

    size_t                len;
    json_t               *json;
    uint8_t               type;
    ngx_buf_t            *b;
    ngx_uint_t            status;
    ngx_chain_t          *cl, **ll;
    const uint8_t        *pos, *last, *p;
    faas_frame_rc_e       frc;
    ngx_http_upstream_t  *u;
    ngx_http_faas_ctx_t  *ctx;

    u = r->upstream;
    ctx = ngx_http_get_module_ctx(r, ngx_http_faas_module);

    pos = u->buffer.last;
    last = u->buffer.last + bytes;
    u->buffer.last += bytes;

    if (ctx->state == ngx_http_faas_st_error) {
        return NGX_OK;
    }

    if (ctx->state == ngx_http_faas_st_done) {
        ctx->trailing = 1;

        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "faas: function \"%V\" sent %z bytes after END, "
                      "ignored", &ctx->name, bytes);
        return NGX_OK;
    }

    for (cl = u->out_bufs, ll = &u->out_bufs; cl; cl = cl->next) {
        ll = &cl->next;
    }

    for ( ;; ) {

        frc = faas_frame_parse(&ctx->parser, &pos, last, &p, &len);

        type = ctx->parser.frame.type;

        switch (frc) {

        case FAAS_FRAME_AGAIN:
            return NGX_OK;

        case FAAS_FRAME_OK:

            if (type == FAAS_FRAME_BODY || type == FAAS_FRAME_END) {
                continue;
            }

            if (type == FAAS_FRAME_ERROR) {

                /* u->buffer is reused between reads: keep the payload */

                ctx->payload = ngx_pnalloc(r->pool,
                                           ctx->parser.frame.length + 1);
                if (ctx->payload == NULL) {
                    return NGX_ERROR;
                }

                ctx->payload_len = 0;
                continue;
            }

            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "faas: function \"%V\" sent invalid response: "
                          "unexpected %s frame in the body",
                          &ctx->name, faas_frame_type_name(type));
            return NGX_ERROR;

        case FAAS_FRAME_DATA:

            if (type == FAAS_FRAME_ERROR) {
                ngx_memcpy(ctx->payload + ctx->payload_len, p, len);
                ctx->payload_len += len;
                continue;
            }

            if (u->headers_in.content_length_n >= 0
                && ctx->body_length + (off_t) len
                   > u->headers_in.content_length_n)
            {
                ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                              "faas: function \"%V\" sent more than its "
                              "Content-Length of %O bytes",
                              &ctx->name, u->headers_in.content_length_n);
                return NGX_ERROR;
            }

            ctx->body_length += len;

            cl = ngx_chain_get_free_buf(r->pool, &u->free_bufs);
            if (cl == NULL) {
                return NGX_ERROR;
            }

            b = cl->buf;

            b->flush = 1;
            b->memory = 1;
            b->pos = (u_char *) p;
            b->last = (u_char *) p + len;
            b->tag = u->output.tag;

            *ll = cl;
            ll = &cl->next;

            continue;

        case FAAS_FRAME_COMPLETE:

            if (type == FAAS_FRAME_BODY) {
                continue;
            }

            if (type == FAAS_FRAME_END) {

                if (u->headers_in.content_length_n >= 0
                    && ctx->body_length != u->headers_in.content_length_n)
                {
                    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                                  "faas: function \"%V\" sent %O bytes of "
                                  "body, but its Content-Length is %O",
                                  &ctx->name, ctx->body_length,
                                  u->headers_in.content_length_n);
                    return NGX_ERROR;
                }

                u->length = 0;
                ctx->state = ngx_http_faas_st_done;

                ctx->end_time = ngx_current_msec;
                ctx->ended = 1;

                if (pos != last) {
                    ctx->trailing = 1;

                    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                                  "faas: function \"%V\" sent %z bytes "
                                  "after END, ignored",
                                  &ctx->name, (ssize_t) (last - pos));
                }

                return NGX_OK;
            }

            /*
             * ERROR after RESPONSE: the response is cut short, and nginx
             * closes the client connection when the filter fails
             */

            json = ngx_http_faas_json_load(r, ctx, ctx->payload,
                                           ctx->payload_len);
            if (json != NULL) {
                (void) ngx_http_faas_log_error_frame(r, ctx, json,
                                                 " after response started",
                                                 &status);
                json_decref(json);
            }

            return NGX_ERROR;

        default:
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "faas: function \"%V\" sent invalid response "
                          "body: %s", &ctx->name, faas_frame_strerror(frc));
            return NGX_ERROR;
        }
    }
}


static void
ngx_http_faas_abort_request(ngx_http_request_t *r)
{
    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "abort http faas request");
}


static void
ngx_http_faas_finalize_request(ngx_http_request_t *r, ngx_int_t rc)
{
    ngx_http_faas_ctx_t  *ctx;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "finalize http faas request: %i", rc);

    /* an error or an abort ends the call too, for $faas_exec_time */

    ctx = ngx_http_get_module_ctx(r, ngx_http_faas_module);

    if (ctx != NULL) {
        ngx_http_faas_direct_finalize(r, ctx);
    }

    if (ctx != NULL && ctx->dispatched && !ctx->ended) {
        ctx->end_time = ngx_current_msec;
        ctx->ended = 1;
    }
}
