/*
 * Control connections: nginx workers register their function table.
 */

#ifndef SHIM_CONTROL_H
#define SHIM_CONTROL_H


struct shim_control_s {
    shim_ctx_t           *ctx;
    shim_queue_t          link;
    shim_event_t          ev;
    shim_frame_reader_t   rd;

    char                 *generation;
    long long             pid;
    shim_function_t     **functions;      /* the versions it holds */
    size_t                nfunctions;

    uint8_t              *out;            /* REGISTERED not yet sent */
    size_t                out_len;
    size_t                out_sent;
};


/* takes fd and the payload of its first frame, a REGISTER */
void shim_control_start(shim_ctx_t *ctx, int fd, uint8_t *payload,
    size_t len);

void shim_control_close_all(shim_ctx_t *ctx);

/*
 * Queues a LOG frame to one worker: what nginx has not read stays below
 * SHIM_CONTROL_OUT_MAX, beyond it lines are dropped.
 */
#define SHIM_CONTROL_OUT_MAX   (1024 * 1024)

typedef enum {
    SHIM_CONTROL_LOG_SENT = 0,
    SHIM_CONTROL_LOG_FULL,
    SHIM_CONTROL_LOG_NONE                 /* no worker, or no memory */
} shim_control_log_e;

shim_control_log_e shim_control_log(shim_ctx_t *ctx, json_t *json);

#endif /* SHIM_CONTROL_H */
