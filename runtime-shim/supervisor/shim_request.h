/*
 * Request connections: the REQUEST frame nginx sent, the routing decision
 * (warm instance, cold start, queue or refusal), and the ERROR frames the
 * supervisor answers with itself.
 */

#ifndef SHIM_REQUEST_H
#define SHIM_REQUEST_H


/*
 * A worker's REGISTER and its first requests travel on different
 * connections, so a request may arrive first; it waits this long for the
 * registration before it is refused.
 */
#define SHIM_REGISTER_WAIT  1000              /* ms */


struct shim_request_s {
    shim_ctx_t          *ctx;
    shim_queue_t         queue;           /* the function's waiting list */
    unsigned             queued:1;

    shim_event_t         ev;              /* the nginx connection */
    shim_function_t     *function;
    shim_instance_t     *instance;        /* starting for it, or serving it */
    shim_queue_t         call;            /* instance->calls, serving */
    unsigned             serving:1;
    shim_timer_t         timer;           /* queue timeout, then the call's
                                             timeout */

    /* set while the request waits for its function to be registered */
    char                *want_name;
    char                *want_version;

    uint8_t             *payload;         /* the REQUEST JSON as sent */
    size_t               len;
    char                *id;              /* request_id */
    uint64_t             arrived;         /* us */
};


/* takes fd and the REQUEST payload from a new connection */
void shim_request_start(shim_ctx_t *ctx, int fd, uint8_t *payload,
    size_t len);

/* writes ERROR {status, reason, retry_after if > 0}, then closes r */
void shim_request_fail(shim_request_t *r, int status, int retry_after,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* the instance is done with r (DONE received, or r was dropped) */
void shim_request_close(shim_request_t *r);

/* a REGISTER arrived: route the requests that were waiting for it */
void shim_request_registered(shim_ctx_t *ctx);

/* stops watching for the peer closing: the fd goes to an instance */
void shim_request_detach(shim_request_t *r);

int shim_request_parse(const uint8_t *payload, size_t len, char **function,
    char **version, char **id, char *err, size_t errlen);

#endif /* SHIM_REQUEST_H */
