
/*
 * ngx_faas HTTP trigger: the control connection of a worker process to the
 * supervisor.  On every connect it registers the function table (REGISTER,
 * answered by REGISTERED), then stays open and carries the functions'
 * output lines (LOG) to the error log; while it is down faas_pass answers
 * 503 and a timer reconnects.  Nothing here blocks.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_event_connect.h>
#include <ngx_http.h>

#include <jansson.h>

#include "ngx_http_faas_module.h"


#define NGX_HTTP_FAAS_RECONNECT      500     /* ms, docs/protocol.md */
#define NGX_HTTP_FAAS_REPLY_TIMEOUT  5000    /* ms to connect and register */

/*
 * A LOG line is cut to fit one error log entry (NGX_MAX_ERROR_STR, with
 * room for the time, level, pid and the names before it).
 */
#define NGX_HTTP_FAAS_LOG_NAME_MAX   256     /* bytes, escaped */
#define NGX_HTTP_FAAS_LOG_ID_MAX     128
#define NGX_HTTP_FAAS_CTL_OUT        4096
#define NGX_HTTP_FAAS_LOG_LINE_MAX   (NGX_MAX_ERROR_STR - 640)


typedef enum {
    ngx_http_faas_ctl_down = 0,
    ngx_http_faas_ctl_registering,
    ngx_http_faas_ctl_ready
} ngx_http_faas_ctl_state_e;


/* the last failure: one that repeats is logged at debug level only */

typedef enum {
    ngx_http_faas_ctl_ok = 0,
    ngx_http_faas_ctl_connect_failed,
    ngx_http_faas_ctl_closed,
    ngx_http_faas_ctl_timed_out,
    ngx_http_faas_ctl_invalid
} ngx_http_faas_ctl_failure_e;


typedef struct {
    ngx_http_faas_main_conf_t   *fmcf;
    ngx_peer_connection_t        peer;
    ngx_event_t                  reconnect;

    /* quiet (EMERG) during connects that repeat a failed one */
    ngx_log_t                    log;
    ngx_uint_t                   log_level;

    u_char                      *frame;         /* REGISTER, ready to send */
    size_t                       frame_len;
    size_t                       sent;

    u_char                       out[NGX_HTTP_FAAS_CTL_OUT];  /* ABANDON */
    size_t                       out_len;
    size_t                       out_sent;

    u_char                      *buf;           /* what the supervisor sent */
    u_char                      *pos;
    u_char                      *last;
    u_char                      *end;
    u_char                      *payload;
    faas_frame_parser_t          parser;

    ngx_http_faas_ctl_state_e    state;
    ngx_http_faas_ctl_failure_e  failure;
    unsigned                     connected:1;
} ngx_http_faas_control_t;


static void ngx_http_faas_control_connect(ngx_http_faas_control_t *ctl);
static void ngx_http_faas_control_send(ngx_http_faas_control_t *ctl);
static void ngx_http_faas_control_write_handler(ngx_event_t *wev);
static void ngx_http_faas_control_flush(ngx_http_faas_control_t *ctl);
static ngx_int_t ngx_http_faas_control_write(ngx_http_faas_control_t *ctl,
    u_char *buf, size_t len, size_t *sent);
static void ngx_http_faas_control_read_handler(ngx_event_t *rev);
static ngx_int_t ngx_http_faas_control_process(ngx_http_faas_control_t *ctl);
static ngx_int_t ngx_http_faas_control_registered(
    ngx_http_faas_control_t *ctl, u_char *p, size_t len);
static ngx_int_t ngx_http_faas_control_log(ngx_http_faas_control_t *ctl,
    u_char *p, size_t len);
static u_char *ngx_http_faas_control_escape(u_char *dst, size_t size,
    json_t *string);
static void ngx_http_faas_control_fail(ngx_http_faas_control_t *ctl,
    ngx_http_faas_ctl_failure_e failure, ngx_err_t err, const char *fmt, ...);
static void ngx_http_faas_control_close(ngx_http_faas_control_t *ctl,
    ngx_http_faas_ctl_failure_e failure);
static void ngx_http_faas_control_reconnect(ngx_event_t *ev);
static u_char *ngx_http_faas_control_log_error(ngx_log_t *log, u_char *buf,
    size_t len);


/* per process: each worker has its own control connection */
static ngx_http_faas_control_t  *ngx_http_faas_control;


ngx_int_t
ngx_http_faas_control_init(ngx_cycle_t *cycle,
    ngx_http_faas_main_conf_t *fmcf)
{
    u_char                   *p;
    size_t                    len;
    ngx_http_faas_control_t  *ctl;

    ctl = ngx_pcalloc(cycle->pool, sizeof(ngx_http_faas_control_t));
    if (ctl == NULL) {
        return NGX_ERROR;
    }

    ctl->fmcf = fmcf;

    ctl->log = *cycle->log;
    ctl->log.handler = ngx_http_faas_control_log_error;
    ctl->log.data = ctl;
    ctl->log.action = NULL;
    ctl->log_level = ctl->log.log_level;

    /*
     * The function table was encoded once at configuration time; only
     * the pid differs between workers.
     */

    len = sizeof("{\"generation\":\"\",\"pid\":,\"functions\":}") - 1
          + fmcf->generation.len + NGX_INT64_LEN + fmcf->functions_json.len;

    ctl->frame = ngx_pnalloc(cycle->pool, FAAS_FRAME_HEADER_SIZE + len);
    if (ctl->frame == NULL) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(ctl->frame + FAAS_FRAME_HEADER_SIZE,
                    "{\"generation\":\"%V\",\"pid\":%P,\"functions\":%V}",
                    &fmcf->generation, ngx_pid, &fmcf->functions_json);

    ctl->frame_len = p - ctl->frame;

    faas_frame_header_encode(ctl->frame, FAAS_FRAME_REGISTER,
                        (uint32_t) (ctl->frame_len - FAAS_FRAME_HEADER_SIZE));

    len = FAAS_FRAME_HEADER_SIZE + FAAS_JSON_MAX;

    ctl->buf = ngx_pnalloc(cycle->pool, len);
    if (ctl->buf == NULL) {
        return NGX_ERROR;
    }

    ctl->end = ctl->buf + len;

    ctl->reconnect.handler = ngx_http_faas_control_reconnect;
    ctl->reconnect.data = ctl;
    ctl->reconnect.log = cycle->log;
    ctl->reconnect.cancelable = 1;

    ngx_http_faas_control = ctl;

    ngx_http_faas_control_connect(ctl);

    return NGX_OK;
}


void
ngx_http_faas_control_done(ngx_cycle_t *cycle)
{
    ngx_http_faas_control_t  *ctl;

    ctl = ngx_http_faas_control;

    if (ctl == NULL) {
        return;
    }

    if (ctl->reconnect.timer_set) {
        ngx_del_timer(&ctl->reconnect);
    }

    if (ctl->peer.connection) {
        ngx_close_connection(ctl->peer.connection);
        ctl->peer.connection = NULL;
    }

    ngx_http_faas_direct_unmap(cycle);

    ctl->state = ngx_http_faas_ctl_down;
    ngx_http_faas_control = NULL;
}


/*
 * Calls may go out as soon as the whole REGISTER has been written: a
 * request that overtakes it on its own connection waits in the supervisor
 * for the registration to arrive (docs/protocol.md).
 */

ngx_uint_t
ngx_http_faas_control_ready(void)
{
    ngx_http_faas_control_t  *ctl;

    ctl = ngx_http_faas_control;

    if (ctl == NULL) {
        return 0;
    }

    return ctl->state == ngx_http_faas_ctl_ready
           || (ctl->state == ngx_http_faas_ctl_registering
               && ctl->connected && ctl->sent == ctl->frame_len);
}


static void
ngx_http_faas_control_connect(ngx_http_faas_control_t *ctl)
{
    ngx_int_t               rc;
    ngx_file_info_t         fi;
    ngx_connection_t       *c;
    struct sockaddr_un     *saun;
    ngx_peer_connection_t  *pc;

    ctl->log.action = "connecting to faas supervisor";

    /*
     * No socket yet is the usual state while the supervisor starts, not
     * the critical error that connect() would log for it.
     */

    saun = (struct sockaddr_un *) ctl->fmcf->addr->sockaddr;

    if (ngx_file_info(saun->sun_path, &fi) == NGX_FILE_ERROR
        && ngx_errno == NGX_ENOENT)
    {
        ngx_http_faas_control_fail(ctl, ngx_http_faas_ctl_connect_failed,
                                   NGX_ENOENT, "no supervisor socket");
        return;
    }

    pc = &ctl->peer;

    ngx_memzero(pc, sizeof(ngx_peer_connection_t));

    pc->sockaddr = ctl->fmcf->addr->sockaddr;
    pc->socklen = ctl->fmcf->addr->socklen;
    pc->name = &ctl->fmcf->supervisor;
    pc->get = ngx_event_get_peer;
    pc->log = &ctl->log;
    pc->log_error = NGX_ERROR_INFO;

    if (ctl->failure == ngx_http_faas_ctl_connect_failed) {
        ctl->log.log_level = NGX_LOG_EMERG;
    }

    rc = ngx_event_connect_peer(pc);

    ctl->log.log_level = ctl->log_level;

    if (rc == NGX_ERROR || rc == NGX_BUSY || rc == NGX_DECLINED) {
        ngx_http_faas_control_close(ctl, ngx_http_faas_ctl_connect_failed);
        return;
    }

    /* NGX_OK or NGX_AGAIN */

    c = pc->connection;

    c->data = ctl;
    c->read->handler = ngx_http_faas_control_read_handler;
    c->write->handler = ngx_http_faas_control_write_handler;

    /* a worker that shuts down must not wait for these timers */

    c->read->cancelable = 1;
    c->write->cancelable = 1;

    ctl->state = ngx_http_faas_ctl_registering;
    ctl->connected = (rc == NGX_OK);
    ctl->sent = 0;
    ctl->pos = ctl->buf;
    ctl->last = ctl->buf;
    ctl->payload = NULL;
    faas_frame_parser_init(&ctl->parser);

    ngx_add_timer(c->read, NGX_HTTP_FAAS_REPLY_TIMEOUT);

    if (rc == NGX_AGAIN) {
        return;
    }

    ngx_http_faas_control_send(ctl);
}


static void
ngx_http_faas_control_send(ngx_http_faas_control_t *ctl)
{
    ngx_connection_t  *c;

    c = ctl->peer.connection;

    ctl->log.action = "registering with faas supervisor";

    if (ngx_http_faas_control_write(ctl, ctl->frame, ctl->frame_len,
                                    &ctl->sent)
        != NGX_OK)
    {
        return;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_EVENT, c->log, 0,
                   "faas control: sent REGISTER, %uz bytes", ctl->frame_len);

    /* REGISTERED may have arrived already */

    ngx_http_faas_control_read_handler(c->read);
}


static void
ngx_http_faas_control_write_handler(ngx_event_t *wev)
{
    int                       err;
    socklen_t                 len;
    ngx_connection_t         *c;
    ngx_http_faas_control_t  *ctl;

    c = wev->data;
    ctl = c->data;

    if (ctl->state == ngx_http_faas_ctl_ready) {
        ngx_http_faas_control_flush(ctl);
        return;
    }

    if (ctl->state != ngx_http_faas_ctl_registering
        || ctl->sent == ctl->frame_len)
    {
        return;
    }

    if (!ctl->connected) {
        err = 0;
        len = sizeof(int);

        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, (void *) &err, &len)
            == -1)
        {
            err = ngx_socket_errno;
        }

        if (err) {
            ngx_http_faas_control_fail(ctl, ngx_http_faas_ctl_connect_failed,
                                       err, "connect() failed");
            return;
        }

        ctl->connected = 1;
    }

    ngx_http_faas_control_send(ctl);
}


/*
 * ABANDON: a direct call timed out (ngx_http_faas_direct.c), and only the
 * supervisor can stop the instance that runs it.  Frames are small and
 * rare; one that finds the buffer full is dropped, and the supervisor
 * notices the stuck instance by itself later.
 */

void
ngx_http_faas_control_abandon(ngx_http_faas_ctx_t *ctx, ngx_msec_t after)
{
    u_char                   *p;
    size_t                    len;
    ngx_http_faas_control_t  *ctl;

    ctl = ngx_http_faas_control;

    if (ctl == NULL || ctl->state != ngx_http_faas_ctl_ready) {
        return;
    }

    len = sizeof("{\"instance\":,\"slot\":,\"gen\":,\"request_id\":\"\","
                 "\"after_ms\":}") - 1
          + 3 * NGX_INT64_LEN + NGX_HTTP_FAAS_REQUEST_ID_LEN + NGX_INT_T_LEN;

    if (ctl->out_len + FAAS_FRAME_HEADER_SIZE + len > sizeof(ctl->out)) {
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "faas: function \"%V\" instance %uL: cannot tell the "
                      "supervisor of the timeout now", &ctx->name,
                      ctx->instance);
        return;
    }

    p = ngx_sprintf(ctl->out + ctl->out_len + FAAS_FRAME_HEADER_SIZE,
                    "{\"instance\":%uL,\"slot\":%uD,\"gen\":%uD,"
                    "\"request_id\":\"%*s\",\"after_ms\":%M}",
                    ctx->instance, ctx->slot, ctx->slot_gen,
                    (size_t) NGX_HTTP_FAAS_REQUEST_ID_LEN, ctx->request_id,
                    after);

    len = p - (ctl->out + ctl->out_len + FAAS_FRAME_HEADER_SIZE);

    faas_frame_header_encode(ctl->out + ctl->out_len, FAAS_FRAME_ABANDON,
                             (uint32_t) len);

    ctl->out_len += FAAS_FRAME_HEADER_SIZE + len;

    ngx_http_faas_control_flush(ctl);
}


static void
ngx_http_faas_control_flush(ngx_http_faas_control_t *ctl)
{
    if (ctl->peer.connection == NULL
        || ngx_http_faas_control_write(ctl, ctl->out, ctl->out_len,
                                       &ctl->out_sent)
           != NGX_OK)
    {
        return;
    }

    ctl->out_len = 0;
    ctl->out_sent = 0;
}


/*
 * buf from *sent on: NGX_OK once all of it is written, NGX_AGAIN (the
 * write handler goes on), NGX_ERROR (the connection is failed)
 */

static ngx_int_t
ngx_http_faas_control_write(ngx_http_faas_control_t *ctl, u_char *buf,
    size_t len, size_t *sent)
{
    ssize_t            n;
    ngx_connection_t  *c;

    c = ctl->peer.connection;

    while (*sent < len) {

        n = c->send(c, buf + *sent, len - *sent);

        if (n == NGX_ERROR) {
            ngx_http_faas_control_fail(ctl, ngx_http_faas_ctl_closed, 0,
                                       "the supervisor closed the control "
                                       "connection");
            return NGX_ERROR;
        }

        if (n == NGX_AGAIN) {
            if (ngx_handle_write_event(c->write, 0) != NGX_OK) {
                ngx_http_faas_control_fail(ctl, ngx_http_faas_ctl_closed, 0,
                                           "the control connection "
                                           "failed");
                return NGX_ERROR;
            }

            return NGX_AGAIN;
        }

        *sent += n;
    }

    return NGX_OK;
}


static void
ngx_http_faas_control_read_handler(ngx_event_t *rev)
{
    ssize_t                   n;
    ngx_connection_t         *c;
    ngx_http_faas_control_t  *ctl;

    c = rev->data;
    ctl = c->data;

    if (rev->timedout) {
        ngx_http_faas_control_fail(ctl, ngx_http_faas_ctl_timed_out,
                                   NGX_ETIMEDOUT,
                                   "the supervisor did not answer REGISTER "
                                   "in time");
        return;
    }

    if (ctl->state == ngx_http_faas_ctl_registering
        && ctl->sent < ctl->frame_len)
    {
        /* the write handler finds out why, if the connect failed */
        return;
    }

    if (ctl->state == ngx_http_faas_ctl_ready) {
        ctl->log.action = "reading from faas supervisor";
    }

    for ( ;; ) {

        if (ctl->last == ctl->end) {
            ngx_http_faas_control_fail(ctl, ngx_http_faas_ctl_invalid, 0,
                                       "the supervisor sent more than a "
                                       "frame can hold");
            return;
        }

        n = c->recv(c, ctl->last, ctl->end - ctl->last);

        if (n == NGX_AGAIN) {
            if (ngx_handle_read_event(rev, 0) != NGX_OK) {
                ngx_http_faas_control_fail(ctl, ngx_http_faas_ctl_closed, 0,
                                           "the control connection "
                                           "failed");
            }

            return;
        }

        if (n == 0 || n == NGX_ERROR) {
            ngx_http_faas_control_fail(ctl, ngx_http_faas_ctl_closed, 0,
                                       "the supervisor closed the control "
                                       "connection");
            return;
        }

        ctl->last += n;

        if (ngx_http_faas_control_process(ctl) != NGX_OK) {
            return;
        }
    }
}


/*
 * Frames from the supervisor: REGISTERED and LOG, any number in any order.
 * A payload is held whole in the buffer; the buffer is compacted only when
 * the next payload would not fit, so a burst of LOG lines is not moved
 * once per line.  On an error the connection is closed.
 */

static ngx_int_t
ngx_http_faas_control_process(ngx_http_faas_control_t *ctl)
{
    size_t            len, n;
    uint8_t           type;
    ngx_int_t         rc;
    const uint8_t    *pos, *data;
    faas_frame_rc_e   frc;

    pos = ctl->pos;

    for ( ;; ) {

        frc = faas_frame_parse(&ctl->parser, &pos, ctl->last, &data, &len);

        type = ctl->parser.frame.type;

        switch (frc) {

        case FAAS_FRAME_AGAIN:

            if (ctl->parser.state == FAAS_PARSE_HEADER) {
                /* every byte is consumed and no payload needs keeping */
                ctl->last = ctl->buf;
                pos = ctl->buf;
            }

            ctl->pos = (u_char *) pos;
            return NGX_OK;

        case FAAS_FRAME_OK:

            if (type != FAAS_FRAME_REGISTERED && type != FAAS_FRAME_LOG) {
                ngx_http_faas_control_fail(ctl, ngx_http_faas_ctl_invalid, 0,
                                           "the supervisor sent an "
                                           "unexpected %s frame",
                                           faas_frame_type_name(type));
                return NGX_ERROR;
            }

            /* both are at most FAAS_JSON_MAX, the size of the buffer */

            if (ctl->parser.frame.length
                > (size_t) (ctl->end - (u_char *) pos))
            {
                n = ctl->last - (u_char *) pos;
                ngx_memmove(ctl->buf, pos, n);
                ctl->last = ctl->buf + n;
                pos = ctl->buf;
            }

            ctl->payload = (u_char *) pos;
            continue;

        case FAAS_FRAME_DATA:
            continue;

        case FAAS_FRAME_COMPLETE:

            len = ctl->parser.frame.length;

            if (type == FAAS_FRAME_REGISTERED) {
                rc = ngx_http_faas_control_registered(ctl, ctl->payload, len);

            } else {
                rc = ngx_http_faas_control_log(ctl, ctl->payload, len);
            }

            if (rc != NGX_OK) {
                return NGX_ERROR;
            }

            continue;

        default:
            ngx_http_faas_control_fail(ctl, ngx_http_faas_ctl_invalid, 0,
                                       "the supervisor sent an invalid "
                                       "frame: %s", faas_frame_strerror(frc));
            return NGX_ERROR;
        }
    }
}


static ngx_int_t
ngx_http_faas_control_registered(ngx_http_faas_control_t *ctl, u_char *p,
    size_t len)
{
    json_t        *json, *generation, *functions, *slots, *nonce;
    json_int_t     n;
    json_error_t   err;

    json = json_loadb((char *) p, len, 0, &err);

    if (json == NULL) {
        ngx_http_faas_control_fail(ctl, ngx_http_faas_ctl_invalid, 0,
                                   "the supervisor sent invalid "
                                   "REGISTERED: %s", err.text);
        return NGX_ERROR;
    }

    generation = json_object_get(json, "generation");

    if (!json_is_string(generation)
        || json_string_length(generation) != ctl->fmcf->generation.len
        || ngx_strncmp(json_string_value(generation),
                       ctl->fmcf->generation.data,
                       ctl->fmcf->generation.len)
           != 0)
    {
        json_decref(json);
        ngx_http_faas_control_fail(ctl, ngx_http_faas_ctl_invalid, 0,
                                   "the supervisor did not register "
                                   "generation %V", &ctl->fmcf->generation);
        return NGX_ERROR;
    }

    functions = json_object_get(json, "functions");
    n = json_is_integer(functions) ? json_integer_value(functions)
                                   : (json_int_t) ctl->fmcf->functions.nelts;

    /* optional: a supervisor without it takes every call itself */

    slots = json_object_get(json, "slots");
    nonce = json_object_get(json, "slots_nonce");

    ngx_http_faas_direct_map(ngx_cycle->log,
                             json_is_string(slots)
                             ? json_string_value(slots) : NULL,
                             json_is_string(nonce)
                             ? json_string_value(nonce) : NULL);

    json_decref(json);

    ctl->state = ngx_http_faas_ctl_ready;
    ctl->failure = ngx_http_faas_ctl_ok;
    ctl->log.action = "reading from faas supervisor";

    if (ctl->peer.connection->read->timer_set) {
        ngx_del_timer(ctl->peer.connection->read);
    }

    ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                  "faas: registered %L functions with supervisor at %V, "
                  "generation %V",
                  (int64_t) n, &ctl->fmcf->supervisor,
                  &ctl->fmcf->generation);

    return NGX_OK;
}


/*
 * A line a function wrote to its stdout or stderr:
 *
 *     {"function": "hello", "instance": 3, "request_id": "5a1f...",
 *      "stream": "stdout", "line": "text"}
 *
 * logged as "faas: function "hello" instance 3 request 5a1f...: stdout:
 * text", stdout at notice and stderr at warn level.  The function controls
 * the text: control characters are escaped, so one line stays one line.
 */

static ngx_int_t
ngx_http_faas_control_log(ngx_http_faas_control_t *ctl, u_char *p,
    size_t len)
{
    u_char        *name_end, *id_end, *line_end;
    u_char         name[NGX_HTTP_FAAS_LOG_NAME_MAX];
    u_char         id[NGX_HTTP_FAAS_LOG_ID_MAX];
    u_char         line[NGX_HTTP_FAAS_LOG_LINE_MAX];
    json_t        *json, *function, *instance, *request_id, *stream, *text;
    ngx_uint_t     level;
    json_error_t   err;
    const char    *why, *s;

    /* a line may hold a NUL byte, "\u0000" in JSON: it is escaped below */

    json = json_loadb((char *) p, len, JSON_ALLOW_NUL, &err);

    if (json == NULL) {
        ngx_http_faas_control_fail(ctl, ngx_http_faas_ctl_invalid, 0,
                                   "the supervisor sent invalid LOG: %s",
                                   err.text);
        return NGX_ERROR;
    }

    why = NULL;
    level = NGX_LOG_NOTICE;

    function = json_object_get(json, "function");
    instance = json_object_get(json, "instance");
    request_id = json_object_get(json, "request_id");
    stream = json_object_get(json, "stream");
    text = json_object_get(json, "line");

    if (!json_is_object(json)) {
        why = "not an object";

    } else if (!json_is_string(function)) {
        why = "\"function\" is not a string";

    } else if (!json_is_integer(instance) || json_integer_value(instance) < 0)
    {
        why = "\"instance\" is not a non-negative integer";

    } else if (request_id != NULL && !json_is_string(request_id)) {
        why = "\"request_id\" is not a string";

    } else if (!json_is_string(stream)) {
        why = "\"stream\" is not a string";

    } else if (!json_is_string(text)) {
        why = "\"line\" is not a string";

    } else {
        /* the length too: a string may hold a NUL */

        s = json_string_value(stream);

        if (json_string_length(stream) != sizeof("stdout") - 1) {
            why = "\"stream\" is neither \"stdout\" nor \"stderr\"";

        } else if (ngx_strcmp(s, "stderr") == 0) {
            level = NGX_LOG_WARN;

        } else if (ngx_strcmp(s, "stdout") != 0) {
            why = "\"stream\" is neither \"stdout\" nor \"stderr\"";
        }
    }

    if (why != NULL) {
        json_decref(json);
        ngx_http_faas_control_fail(ctl, ngx_http_faas_ctl_invalid, 0,
                                   "the supervisor sent invalid LOG: %s",
                                   why);
        return NGX_ERROR;
    }

    if (ngx_cycle->log->log_level < level) {
        json_decref(json);
        return NGX_OK;
    }

    name_end = ngx_http_faas_control_escape(name, sizeof(name), function);
    line_end = ngx_http_faas_control_escape(line, sizeof(line), text);

    id_end = id;

    if (request_id != NULL) {
        id_end = ngx_http_faas_control_escape(id, sizeof(id), request_id);
    }

    if (id_end == id) {
        ngx_log_error(level, ngx_cycle->log, 0,
                      "faas: function \"%*s\" instance %L: %s: %*s",
                      name_end - name, name,
                      (int64_t) json_integer_value(instance),
                      json_string_value(stream), line_end - line, line);

    } else {
        ngx_log_error(level, ngx_cycle->log, 0,
                      "faas: function \"%*s\" instance %L request %*s: "
                      "%s: %*s",
                      name_end - name, name,
                      (int64_t) json_integer_value(instance),
                      id_end - id, id,
                      json_string_value(stream), line_end - line, line);
    }

    json_decref(json);

    return NGX_OK;
}


/*
 * Copies a JSON string to dst with control characters but tab as \xNN,
 * cut at a whole character so that the result fits in size bytes; a cut
 * ends in "...".  UTF-8 passes as is (the JSON parser has checked it).
 */

static u_char *
ngx_http_faas_control_escape(u_char *dst, size_t size, json_t *string)
{
    u_char        c, *p, *end;
    size_t        n;
    const u_char  *src, *last;

    src = (const u_char *) json_string_value(string);
    last = src + json_string_length(string);

    p = dst;
    end = dst + size - (sizeof("...") - 1);

    while (src < last) {
        c = *src;

        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            if (end - p < 4) {
                break;
            }

            *p++ = '\\';
            *p++ = 'x';
            *p++ = "0123456789abcdef"[c >> 4];
            *p++ = "0123456789abcdef"[c & 0xf];
            src++;
            continue;
        }

        /* the length of the UTF-8 sequence, from its first byte */

        n = (c < 0x80) ? 1 : (c < 0xe0) ? 2 : (c < 0xf0) ? 3 : 4;

        if ((size_t) (last - src) < n) {
            n = last - src;
        }

        if ((size_t) (end - p) < n) {
            break;
        }

        p = ngx_cpymem(p, src, n);
        src += n;
    }

    if (src < last) {
        p = ngx_cpymem(p, "...", sizeof("...") - 1);
    }

    return p;
}


/*
 * Logs why the connection failed ("faas: " fmt, and the log handler adds
 * the supervisor address), closes it and arms the reconnect.  A failure
 * that repeats the last one is logged at debug level: an outage takes a
 * line or two, not two a second.
 */

static void
ngx_http_faas_control_fail(ngx_http_faas_control_t *ctl,
    ngx_http_faas_ctl_failure_e failure, ngx_err_t err, const char *fmt, ...)
{
    u_char      *p, msg[NGX_MAX_ERROR_STR];
    va_list      args;
    ngx_uint_t   level;

    level = (failure == ctl->failure) ? NGX_LOG_DEBUG : NGX_LOG_ERR;

    if (ctl->log.log_level >= level) {
        va_start(args, fmt);
        p = ngx_vslprintf(msg, msg + sizeof(msg), fmt, args);
        va_end(args);

        ngx_log_error(level, &ctl->log, err, "faas: %*s", p - msg, msg);
    }

    ngx_http_faas_control_close(ctl, failure);
}


static void
ngx_http_faas_control_close(ngx_http_faas_control_t *ctl,
    ngx_http_faas_ctl_failure_e failure)
{
    if (ctl->peer.connection) {
        ngx_close_connection(ctl->peer.connection);
        ctl->peer.connection = NULL;
    }

    ngx_http_faas_direct_unmap((ngx_cycle_t *) ngx_cycle);
    ctl->out_len = 0;
    ctl->out_sent = 0;

    if (ctl->failure == ngx_http_faas_ctl_ok) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "faas: no registration with supervisor at %V, "
                      "faas_pass answers 503 until there is; retrying "
                      "every %d ms", &ctl->fmcf->supervisor,
                      NGX_HTTP_FAAS_RECONNECT);
    }

    ctl->failure = failure;
    ctl->state = ngx_http_faas_ctl_down;

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    ngx_add_timer(&ctl->reconnect, NGX_HTTP_FAAS_RECONNECT);
}


static void
ngx_http_faas_control_reconnect(ngx_event_t *ev)
{
    ngx_http_faas_control_t  *ctl;

    ctl = ev->data;

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    ngx_http_faas_control_connect(ctl);
}


static u_char *
ngx_http_faas_control_log_error(ngx_log_t *log, u_char *buf, size_t len)
{
    u_char                   *p;
    ngx_http_faas_control_t  *ctl;

    ctl = log->data;

    if (log->action) {
        p = ngx_snprintf(buf, len, " while %s", log->action);
        len -= p - buf;
        buf = p;
    }

    return ngx_snprintf(buf, len, ", supervisor: %V", &ctl->fmcf->supervisor);
}
