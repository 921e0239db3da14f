/*
 * Status connections: nginx's faas_status asks for the counters of every
 * function (STATUS), the supervisor answers RESPONSE BODY* END with them
 * as JSON or in the Prometheus text exposition format.
 */

#ifndef SHIM_STATUS_H
#define SHIM_STATUS_H


/* how long a status reply may take to be read before it is dropped */
#define SHIM_STATUS_TIMEOUT  10000           /* ms */


/* takes fd and the payload of its first frame, a STATUS */
void shim_status_start(shim_ctx_t *ctx, int fd, uint8_t *payload,
    size_t len);

/* drops the replies still being sent: the supervisor is stopping */
void shim_status_close_all(shim_ctx_t *ctx);

#endif /* SHIM_STATUS_H */
