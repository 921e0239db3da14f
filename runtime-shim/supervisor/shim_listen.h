/*
 * The supervisor's unix socket: accept, and read the first frame that
 * tells a control connection (REGISTER) from a request one (REQUEST).
 */

#ifndef SHIM_LISTEN_H
#define SHIM_LISTEN_H


#define SHIM_FIRST_FRAME_TIMEOUT  5000     /* ms */
#define SHIM_ACCEPT_RETRY         100      /* ms, after EMFILE and the like */
#define SHIM_ACCEPT_BATCH         64       /* connections per wake-up */


int shim_listen_open(shim_ctx_t *ctx);

/* closes and unlinks the socket, drops connections not yet identified */
void shim_listen_close(shim_ctx_t *ctx);

#endif /* SHIM_LISTEN_H */
