/*
 * The listening socket and first frames, see shim_listen.h.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "shim.h"


typedef struct {
    shim_ctx_t           *ctx;
    shim_queue_t          link;
    shim_event_t          ev;
    shim_timer_t          timer;
    shim_frame_reader_t   rd;
} shim_conn_t;


static int shim_listen_stale(shim_ctx_t *ctx, struct sockaddr_un *sa);
static void shim_listen_handler(shim_event_t *ev, uint32_t revents);
static void shim_listen_retry_handler(shim_timer_t *t);
static void shim_conn_read_handler(shim_event_t *ev, uint32_t revents);
static void shim_conn_timer_handler(shim_timer_t *t);
static void shim_conn_free(shim_conn_t *c, int close_fd);


int
shim_listen_open(shim_ctx_t *ctx)
{
    int                 fd;
    mode_t              umask_prev;
    const char         *path;
    struct sockaddr_un  sa;

    path = ctx->conf.listen_path;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        shim_log_error(&ctx->log, SHIM_LOG_ERROR, 0,
                       "socket path \"%s\" is too long", path);
        return -1;
    }

    memset(&sa, 0, sizeof(struct sockaddr_un));
    sa.sun_family = AF_UNIX;
    strcpy(sa.sun_path, path);

    if (shim_listen_stale(ctx, &sa) != 0) {
        return -1;
    }

    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        shim_log_error(&ctx->log, SHIM_LOG_ERROR, errno, "socket() failed");
        return -1;
    }

    /* nobody may connect before the mode and group are set */

    umask_prev = umask(0177);

    if (bind(fd, (struct sockaddr *) &sa, sizeof(struct sockaddr_un)) == -1) {
        shim_log_error(&ctx->log, SHIM_LOG_ERROR, errno,
                       "bind() to unix:%s failed", path);
        umask(umask_prev);
        close(fd);
        return -1;
    }

    umask(umask_prev);

    if (ctx->conf.socket_gid != (gid_t) -1
        && chown(path, (uid_t) -1, ctx->conf.socket_gid) == -1)
    {
        shim_log_error(&ctx->log, SHIM_LOG_ERROR, errno,
                       "chown() of \"%s\" failed", path);
        goto failed;
    }

    if (chmod(path, ctx->conf.socket_mode) == -1) {
        shim_log_error(&ctx->log, SHIM_LOG_ERROR, errno,
                       "chmod() of \"%s\" failed", path);
        goto failed;
    }

    if (listen(fd, 511) == -1) {
        shim_log_error(&ctx->log, SHIM_LOG_ERROR, errno,
                       "listen() on unix:%s failed", path);
        goto failed;
    }

    ctx->listen_fd = fd;
    shim_event_init(&ctx->listen_ev, fd, shim_listen_handler, ctx);
    ctx->listen_ev.deferred = 1;

    if (shim_timer_init(&ctx->loop.timers, &ctx->listen_timer,
                        shim_listen_retry_handler, ctx)
        != 0
        || shim_event_set(&ctx->loop, &ctx->listen_ev, EPOLLIN) != 0)
    {
        shim_log_error(&ctx->log, SHIM_LOG_ERROR, errno,
                       "cannot watch unix:%s", path);
        ctx->listen_fd = -1;
        goto failed;
    }

    return 0;

failed:

    close(fd);
    unlink(path);

    return -1;
}


/*
 * A socket left by a supervisor that died is removed; one that accepts
 * connections belongs to a live supervisor and is left alone.  Anything
 * that is not a socket is never removed.
 */
static int
shim_listen_stale(shim_ctx_t *ctx, struct sockaddr_un *sa)
{
    int          fd, rc;
    struct stat  st;

    if (lstat(sa->sun_path, &st) == -1) {
        if (errno == ENOENT) {
            return 0;
        }

        shim_log_error(&ctx->log, SHIM_LOG_ERROR, errno,
                       "stat() of \"%s\" failed", sa->sun_path);
        return -1;
    }

    if (!S_ISSOCK(st.st_mode)) {
        shim_log_error(&ctx->log, SHIM_LOG_ERROR, 0,
                       "\"%s\" exists and is not a socket", sa->sun_path);
        return -1;
    }

    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        shim_log_error(&ctx->log, SHIM_LOG_ERROR, errno, "socket() failed");
        return -1;
    }

    rc = connect(fd, (struct sockaddr *) sa, sizeof(struct sockaddr_un));

    close(fd);

    if (rc == 0) {
        shim_log_error(&ctx->log, SHIM_LOG_ERROR, 0,
                       "another supervisor is listening on unix:%s",
                       sa->sun_path);
        return -1;
    }

    if (errno != ECONNREFUSED) {
        shim_log_error(&ctx->log, SHIM_LOG_ERROR, errno,
                       "connect() to unix:%s failed", sa->sun_path);
        return -1;
    }

    shim_log_error(&ctx->log, SHIM_LOG_NOTICE, 0,
                   "removing stale socket \"%s\"", sa->sun_path);

    if (unlink(sa->sun_path) == -1) {
        shim_log_error(&ctx->log, SHIM_LOG_ERROR, errno,
                       "unlink() of \"%s\" failed", sa->sun_path);
        return -1;
    }

    return 0;
}


void
shim_listen_close(shim_ctx_t *ctx)
{
    shim_conn_t  *c;

    if (ctx->listen_fd != -1) {
        shim_event_del(&ctx->loop, &ctx->listen_ev);
        shim_timer_release(&ctx->loop.timers, &ctx->listen_timer);

        close(ctx->listen_fd);
        ctx->listen_fd = -1;

        if (unlink(ctx->conf.listen_path) == -1 && errno != ENOENT) {
            shim_log_error(&ctx->log, SHIM_LOG_ERROR, errno,
                           "unlink() of \"%s\" failed",
                           ctx->conf.listen_path);
        }
    }

    while (!shim_queue_empty(&ctx->conns)) {
        c = shim_queue_data(shim_queue_head(&ctx->conns), shim_conn_t, link);
        shim_conn_free(c, 1);
    }
}


/*
 * Accepts and serves what waits, but only until one connection has made
 * the supervisor start a process (a cold start's clone() is milliseconds
 * of its CPU) or a batch is done: the listening socket is level-triggered,
 * so the rest come at the next wake-up, after the READY, DONE and status
 * requests that arrived meanwhile.  A burst of cold calls otherwise holds
 * every answer until the last instance has been started.
 */
static void
shim_listen_handler(shim_event_t *ev, uint32_t revents)
{
    int           fd, n;
    uint64_t      spawned;
    shim_ctx_t   *ctx;
    shim_conn_t  *c;

    (void) revents;

    ctx = ev->data;
    spawned = ctx->spawned;

    for (n = 0; n < SHIM_ACCEPT_BATCH && ctx->spawned == spawned; n++) {
        fd = accept4(ctx->listen_fd, NULL, NULL,
                     SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd == -1) {
            if (errno == EAGAIN || errno == ECONNABORTED) {
                return;
            }

            if (errno == EINTR) {
                continue;
            }

            /* EMFILE and friends: pause rather than spin on the socket */

            shim_log_error(&ctx->log, SHIM_LOG_ERROR, errno,
                           "accept4() failed, pausing for %d ms",
                           SHIM_ACCEPT_RETRY);
            shim_event_del(&ctx->loop, &ctx->listen_ev);
            shim_timer_add(&ctx->loop, &ctx->listen_timer,
                           SHIM_ACCEPT_RETRY);
            return;
        }

        c = calloc(1, sizeof(shim_conn_t));

        if (c == NULL
            || shim_timer_init(&ctx->loop.timers, &c->timer,
                               shim_conn_timer_handler, c) != 0)
        {
            shim_log_error(&ctx->log, SHIM_LOG_ERROR, ENOMEM,
                           "dropping connection");
            free(c);
            close(fd);
            continue;
        }

        c->ctx = ctx;
        shim_frame_reader_init(&c->rd,
                               SHIM_FRAME_TYPE(FAAS_FRAME_REQUEST)
                               | SHIM_FRAME_TYPE(FAAS_FRAME_REGISTER)
                               | SHIM_FRAME_TYPE(FAAS_FRAME_STATUS));
        shim_event_init(&c->ev, fd, shim_conn_read_handler, c);
        c->ev.deferred = 1;
        shim_queue_insert_tail(&ctx->conns, &c->link);

        /*
         * nginx writes right after connecting: the frame is usually there,
         * and the connection is served without ever entering epoll (two
         * epoll_ctl() calls fewer per request)
         */
        shim_conn_read_handler(&c->ev, EPOLLIN);
    }
}


static void
shim_listen_retry_handler(shim_timer_t *t)
{
    shim_ctx_t  *ctx;

    ctx = t->data;

    if (shim_event_set(&ctx->loop, &ctx->listen_ev, EPOLLIN) != 0) {
        shim_log_error(&ctx->log, SHIM_LOG_ERROR, errno,
                       "cannot watch the listening socket");
        shim_timer_add(&ctx->loop, &ctx->listen_timer, SHIM_ACCEPT_RETRY);
    }
}


static void
shim_conn_read_handler(shim_event_t *ev, uint32_t revents)
{
    int                 fd, err;
    size_t              len;
    uint8_t            *payload, type;
    shim_ctx_t         *ctx;
    shim_conn_t        *c;
    const char         *reason;
    shim_frame_read_e   rc;

    (void) revents;

    c = ev->data;
    ctx = c->ctx;

    rc = shim_frame_read(c->ev.fd, &c->rd, &reason, &err);

    switch (rc) {

    case SHIM_FRAME_READ_AGAIN:
        if (c->ev.events != 0) {
            return;
        }

        /* the first read after accept() found nothing yet: wait for it */

        if (shim_event_set(&ctx->loop, &c->ev, EPOLLIN) != 0) {
            shim_log_error(&ctx->log, SHIM_LOG_ERROR, errno,
                           "dropping connection: epoll_ctl() failed");
            shim_conn_free(c, 1);
            return;
        }

        shim_timer_add(&ctx->loop, &c->timer, SHIM_FIRST_FRAME_TIMEOUT);
        return;

    case SHIM_FRAME_READ_EOF:
        shim_log_error(&ctx->log, SHIM_LOG_INFO, 0,
                       "connection closed before its first frame");
        shim_conn_free(c, 1);
        return;

    case SHIM_FRAME_READ_ERROR:
        if (c->rd.header_len == FAAS_FRAME_HEADER_SIZE
            && faas_frame_max_length(c->rd.header[1]) != 0)
        {
            shim_log_error(&ctx->log, SHIM_LOG_WARN, err,
                           "dropping connection: %s (%s frame first)",
                           reason, faas_frame_type_name(c->rd.header[1]));
        } else {
            shim_log_error(&ctx->log, SHIM_LOG_WARN, err,
                           "dropping connection: %s", reason);
        }

        shim_conn_free(c, 1);
        return;

    case SHIM_FRAME_READ_DONE:
        break;
    }

    fd = c->ev.fd;
    type = c->rd.frame.type;
    payload = shim_frame_reader_take(&c->rd, &len);

    shim_conn_free(c, 0);

    if (type == FAAS_FRAME_REGISTER) {
        shim_control_start(ctx, fd, payload, len);

    } else if (type == FAAS_FRAME_STATUS) {
        shim_status_start(ctx, fd, payload, len);

    } else {
        shim_request_start(ctx, fd, payload, len);
    }
}


static void
shim_conn_timer_handler(shim_timer_t *t)
{
    shim_conn_t  *c;

    c = t->data;

    shim_log_error(&c->ctx->log, SHIM_LOG_INFO, 0,
                   "dropping connection: no first frame in %d ms",
                   SHIM_FIRST_FRAME_TIMEOUT);

    shim_conn_free(c, 1);
}


static void
shim_conn_free(shim_conn_t *c, int close_fd)
{
    shim_ctx_t  *ctx;

    ctx = c->ctx;

    shim_event_del(&ctx->loop, &c->ev);
    shim_timer_release(&ctx->loop.timers, &c->timer);
    shim_queue_remove(&c->link);
    shim_frame_reader_free(&c->rd);

    if (close_fd) {
        close(c->ev.fd);
    }

    free(c);
}
