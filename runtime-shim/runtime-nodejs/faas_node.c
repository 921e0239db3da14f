/*
 * faas_node.node: the system calls the Node.js runtime cannot make itself.
 *
 * Node has no way to receive a file descriptor over SCM_RIGHTS, and its
 * streams cannot share an fd whose O_NONBLOCK belongs to the supervisor
 * too.  So bootstrap.js does the protocol and this addon only the I/O,
 * blocking: an instance serves one request at a time, and between two
 * requests it has nothing else to do (like a frozen Lambda).  With
 * concurrency, the channel is watched from the event loop instead, so
 * that calls awaiting something let others in.
 *
 *   recv(fd)              -> {packet: Buffer, fd: number|-1} | null at EOF
 *                            | undefined when fd is non-blocking and empty
 *   watch(fd, callback)   makes fd non-blocking, calls back when readable
 *   send(fd, buf)         one packet on the instance channel
 *   readBody(fd, rest)    -> {body: Buffer, rest: Buffer|null}: the BODY*
 *                            END frames of a request, rest (or null) the
 *                            bytes of them read already, then those read
 *                            past END
 *   readRequest(fd, rest) -> {request: Buffer, rest: Buffer|null}: the
 *                            REQUEST frame of a direct call on a held
 *                            connection, its payload and what followed it;
 *                            null at EOF before any byte, undefined when
 *                            nothing can be read yet
 *   wait(fds)             -> the index of the first readable fd, -1 on
 *                            EINTR; blocks, as recv(), in poll()
 *   writeAll(fd, [buf])   all of the buffers, in order
 *   close(fd)
 *   cloexec(fd)           so that a child the function spawns has no fd 3
 *   seccomp(buf)          loads the BPF program in buf for every thread
 *
 * Errors are thrown as Error objects with the errno name as their code.
 * Only N-API is used: the addon does not depend on the node version.
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/filter.h>
#include <linux/seccomp.h>

#include <node_api.h>
#include <uv.h>

#include "faas_frame.h"
#include "faas_io.h"


/* INVOKE + REQUEST, the largest packet on the instance channel */
#define FAAS_NODE_PACKET_SIZE  (2 * (FAAS_FRAME_HEADER_SIZE + FAAS_JSON_MAX))
#define FAAS_NODE_READ_SIZE    (64 * 1024)
#define FAAS_NODE_IOV_MAX      64
/* fd 3 and the connections held between direct calls, 64 at most */
#define FAAS_NODE_WAIT_MAX     (1 + 64)


typedef struct {
    uint8_t  *data;
    size_t    len;
    size_t    size;
} faas_node_buf_t;


typedef struct {
    uv_poll_t              poll;
    napi_env               env;
    napi_ref               callback;
    napi_async_context     async;
} faas_node_watch_t;


static napi_value faas_node_recv(napi_env env, napi_callback_info info);
static napi_value faas_node_send(napi_env env, napi_callback_info info);
static napi_value faas_node_watch(napi_env env, napi_callback_info info);
static void faas_node_readable(uv_poll_t *poll, int status, int events);
static napi_value faas_node_read_body(napi_env env, napi_callback_info info);
static const char *faas_node_body(int fd, const uint8_t **pos,
    const uint8_t **last, faas_node_buf_t *body, int *err);
static napi_value faas_node_read_request(napi_env env,
    napi_callback_info info);
static const char *faas_node_request(int fd, const uint8_t **pos,
    const uint8_t **last, faas_node_buf_t *request, int *err);
static ssize_t faas_node_read(int fd, int *err);
static napi_value faas_node_wait(napi_env env, napi_callback_info info);
static int faas_node_rest(napi_env env, napi_value arg, const uint8_t **pos,
    const uint8_t **last);
static napi_value faas_node_result(napi_env env, const char *name,
    faas_node_buf_t *data, const uint8_t *pos, const uint8_t *last);
static int faas_node_append(faas_node_buf_t *body, const uint8_t *data,
    size_t len);
static napi_value faas_node_write_all(napi_env env, napi_callback_info info);
static napi_value faas_node_close(napi_env env, napi_callback_info info);
static napi_value faas_node_cloexec(napi_env env, napi_callback_info info);
static napi_value faas_node_seccomp(napi_env env, napi_callback_info info);
static int faas_node_fd_arg(napi_env env, napi_callback_info info,
    size_t *argc, napi_value *argv, int *fd);
static napi_value faas_node_throw(napi_env env, const char *what, int err);


/* a request is served at a time: one buffer of each kind is enough */
static uint8_t  faas_node_packet[FAAS_NODE_PACKET_SIZE];
static uint8_t  faas_node_read_buf[FAAS_NODE_READ_SIZE];


NAPI_MODULE_INIT()
{
    size_t                    i;
    napi_value                fn;

    static const struct {
        const char           *name;
        napi_callback         cb;
    } methods[] = {
        { "recv", faas_node_recv },
        { "send", faas_node_send },
        { "watch", faas_node_watch },
        { "readBody", faas_node_read_body },
        { "readRequest", faas_node_read_request },
        { "wait", faas_node_wait },
        { "writeAll", faas_node_write_all },
        { "close", faas_node_close },
        { "cloexec", faas_node_cloexec },
        { "seccomp", faas_node_seccomp },
    };

    for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        if (napi_create_function(env, methods[i].name, NAPI_AUTO_LENGTH,
                                 methods[i].cb, NULL, &fn)
            != napi_ok
            || napi_set_named_property(env, exports, methods[i].name, fn)
               != napi_ok)
        {
            return NULL;
        }
    }

    return exports;
}


/* one packet, and the fd it carries; blocks: the instance is idle */
static napi_value
faas_node_recv(napi_env env, napi_callback_info info)
{
    int              fd, passed, err;
    size_t           argc;
    ssize_t          n;
    napi_value       argv[1], result, packet, value;

    argc = 1;

    if (faas_node_fd_arg(env, info, &argc, argv, &fd) != 0) {
        return NULL;
    }

    n = faas_io_recv_fd(fd, faas_node_packet, sizeof(faas_node_packet),
                        &passed, &err);

    if (n == -1) {
        if (err == EMSGSIZE) {
            napi_throw_error(env, NULL, "truncated packet on the channel");
            return NULL;
        }

        if (err == EAGAIN) {
            napi_get_undefined(env, &result);
            return result;
        }

        return faas_node_throw(env, "recvmsg", err);
    }

    if (n == 0) {
        if (passed != -1) {
            close(passed);
        }

        napi_get_null(env, &result);
        return result;
    }

    if (napi_create_object(env, &result) != napi_ok
        || napi_create_buffer_copy(env, (size_t) n, faas_node_packet, NULL,
                                   &packet)
           != napi_ok
        || napi_set_named_property(env, result, "packet", packet) != napi_ok
        || napi_create_int32(env, passed, &value) != napi_ok
        || napi_set_named_property(env, result, "fd", value) != napi_ok)
    {
        if (passed != -1) {
            close(passed);
        }

        return NULL;
    }

    return result;
}


static napi_value
faas_node_send(napi_env env, napi_callback_info info)
{
    int             fd;
    void           *data;
    size_t          argc, len;
    ssize_t         n;
    napi_value      argv[2];
    struct pollfd   pfd;

    argc = 2;

    if (faas_node_fd_arg(env, info, &argc, argv, &fd) != 0) {
        return NULL;
    }

    if (napi_get_buffer_info(env, argv[1], &data, &len) != napi_ok) {
        napi_throw_type_error(env, NULL, "send(fd, buffer)");
        return NULL;
    }

    /*
     * A packet goes whole or not at all on a SOCK_SEQPACKET socket; a
     * watched channel is non-blocking, and the supervisor reads it at once.
     */

    for ( ;; ) {
        n = send(fd, data, len, MSG_NOSIGNAL);

        if (n != -1 || errno == EINTR) {
            if (n != -1) {
                break;
            }

            continue;
        }

        if (errno == EAGAIN) {
            pfd.fd = fd;
            pfd.events = POLLOUT;

            if (poll(&pfd, 1, -1) != -1 || errno == EINTR) {
                continue;
            }
        }

        return faas_node_throw(env, "send", errno);
    }

    return NULL;
}


/* for as long as the process lives: it ends with QUIT or the channel */
static napi_value
faas_node_watch(napi_env env, napi_callback_info info)
{
    int                 fd, flags, rc;
    size_t              argc;
    uv_loop_t          *loop;
    napi_value          argv[2], name;
    napi_valuetype      type;
    faas_node_watch_t  *w;

    argc = 2;

    if (faas_node_fd_arg(env, info, &argc, argv, &fd) != 0) {
        return NULL;
    }

    if (argc < 2 || napi_typeof(env, argv[1], &type) != napi_ok
        || type != napi_function)
    {
        napi_throw_type_error(env, NULL, "watch(fd, callback)");
        return NULL;
    }

    flags = fcntl(fd, F_GETFL);

    if (flags == -1 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1) {
        return faas_node_throw(env, "fcntl", errno);
    }

    w = calloc(1, sizeof(faas_node_watch_t));
    if (w == NULL) {
        return faas_node_throw(env, "calloc", ENOMEM);
    }

    w->env = env;
    w->poll.data = w;

    if (napi_get_uv_event_loop(env, &loop) != napi_ok
        || napi_create_reference(env, argv[1], 1, &w->callback) != napi_ok
        || napi_create_string_utf8(env, "faas.watch", NAPI_AUTO_LENGTH,
                                   &name)
           != napi_ok
        || napi_async_init(env, NULL, name, &w->async) != napi_ok)
    {
        free(w);
        napi_throw_error(env, NULL, "watch: N-API failed");
        return NULL;
    }

    rc = uv_poll_init(loop, &w->poll, fd);

    if (rc == 0) {
        rc = uv_poll_start(&w->poll, UV_READABLE, faas_node_readable);
    }

    if (rc != 0) {
        napi_throw_error(env, NULL, uv_strerror(rc));
        return NULL;
    }

    return NULL;
}


/* the callback runs as a macrotask: its promises settle after it */
static void
faas_node_readable(uv_poll_t *poll, int status, int events)
{
    napi_env             env;
    napi_value           cb, recv, result, err;
    napi_handle_scope    scope;
    faas_node_watch_t   *w;

    (void) status;
    (void) events;

    w = poll->data;
    env = w->env;

    if (napi_open_handle_scope(env, &scope) != napi_ok) {
        return;
    }

    if (napi_get_reference_value(env, w->callback, &cb) == napi_ok
        && napi_get_global(env, &recv) == napi_ok
        && napi_make_callback(env, w->async, recv, cb, 0, NULL, &result)
           == napi_pending_exception
        && napi_get_and_clear_last_exception(env, &err) == napi_ok)
    {
        /* as if thrown at top level: the process ends, logged */
        napi_fatal_exception(env, err);
    }

    napi_close_handle_scope(env, scope);
}


static napi_value
faas_node_read_body(napi_env env, napi_callback_info info)
{
    int               fd, err;
    size_t            argc;
    napi_value        argv[2], result;
    const char       *error;
    const uint8_t    *pos, *last;
    faas_node_buf_t   body;

    argc = 2;

    if (faas_node_fd_arg(env, info, &argc, argv, &fd) != 0
        || faas_node_rest(env, argv[1], &pos, &last) != 0)
    {
        return NULL;
    }

    memset(&body, 0, sizeof(faas_node_buf_t));

    error = faas_node_body(fd, &pos, &last, &body, &err);

    if (error != NULL) {
        free(body.data);

        /* with the errno name as the code, as for every system call */

        if (err != 0) {
            return faas_node_throw(env, error, err);
        }

        napi_throw_error(env, NULL, error);
        return NULL;
    }

    result = faas_node_result(env, "body", &body, pos, last);

    free(body.data);

    return result;
}


/*
 * NULL when the body is whole, or what is wrong with the stream.  The
 * input starts at *pos (in faas_node_read_buf); what follows END is left
 * between *pos and *last.
 */
static const char *
faas_node_body(int fd, const uint8_t **pos, const uint8_t **last,
    faas_node_buf_t *body, int *err)
{
    size_t                len;
    ssize_t               n;
    const uint8_t        *data;
    faas_frame_rc_e       rc;
    faas_frame_parser_t   parser;

    *err = 0;

    faas_frame_parser_init(&parser);

    for ( ;; ) {
        rc = faas_frame_parse(&parser, pos, *last, &data, &len);

        switch (rc) {

        case FAAS_FRAME_OK:
            if (parser.frame.type != FAAS_FRAME_BODY
                && parser.frame.type != FAAS_FRAME_END)
            {
                return "unexpected frame in the request body";
            }

            continue;

        case FAAS_FRAME_DATA:
            if (faas_node_append(body, data, len) != 0) {
                return "out of memory";
            }

            continue;

        case FAAS_FRAME_COMPLETE:
            if (parser.frame.type == FAAS_FRAME_END) {
                return NULL;
            }

            continue;

        case FAAS_FRAME_AGAIN:
            break;

        default:
            return faas_frame_strerror(rc);
        }

        n = faas_node_read(fd, err);

        if (n > 0) {
            *pos = faas_node_read_buf;
            *last = faas_node_read_buf + n;
            continue;
        }

        return (n == 0) ? "connection closed inside the body"
                        : "read error on the connection";
    }
}


static napi_value
faas_node_read_request(napi_env env, napi_callback_info info)
{
    int               fd, err;
    size_t            argc;
    ssize_t           n;
    napi_value        argv[2], result;
    const char       *error;
    const uint8_t    *pos, *last;
    faas_node_buf_t   request;

    argc = 2;

    if (faas_node_fd_arg(env, info, &argc, argv, &fd) != 0
        || faas_node_rest(env, argv[1], &pos, &last) != 0)
    {
        return NULL;
    }

    /* one read(): the fd was readable, and that must not block */

    if (pos == last) {
        do {
            n = read(fd, faas_node_read_buf, sizeof(faas_node_read_buf));
        } while (n == -1 && errno == EINTR);

        if (n == 0) {
            napi_get_null(env, &result);
            return result;
        }

        if (n == -1) {
            if (errno == EAGAIN) {
                napi_get_undefined(env, &result);
                return result;
            }

            return faas_node_throw(env, "read error", errno);
        }

        pos = faas_node_read_buf;
        last = faas_node_read_buf + n;
    }

    memset(&request, 0, sizeof(faas_node_buf_t));

    error = faas_node_request(fd, &pos, &last, &request, &err);

    if (error != NULL) {
        free(request.data);

        /* with the errno name as the code, as for every system call */

        if (err != 0) {
            return faas_node_throw(env, error, err);
        }

        napi_throw_error(env, NULL, error);
        return NULL;
    }

    result = faas_node_result(env, "request", &request, pos, last);

    free(request.data);

    return result;
}


/* as faas_node_body(), for the one REQUEST frame; once begun, waited for */
static const char *
faas_node_request(int fd, const uint8_t **pos, const uint8_t **last,
    faas_node_buf_t *request, int *err)
{
    size_t                len;
    ssize_t               n;
    const uint8_t        *data;
    faas_frame_rc_e       rc;
    faas_frame_parser_t   parser;

    static char           unexpected[64];

    *err = 0;

    faas_frame_parser_init(&parser);

    for ( ;; ) {
        rc = faas_frame_parse(&parser, pos, *last, &data, &len);

        switch (rc) {

        case FAAS_FRAME_OK:
            if (parser.frame.type != FAAS_FRAME_REQUEST) {
                snprintf(unexpected, sizeof(unexpected),
                         "unexpected %s frame",
                         faas_frame_type_name(parser.frame.type));
                return unexpected;
            }

            continue;

        case FAAS_FRAME_DATA:
            if (faas_node_append(request, data, len) != 0) {
                return "out of memory";
            }

            continue;

        case FAAS_FRAME_COMPLETE:
            return NULL;

        case FAAS_FRAME_AGAIN:
            break;

        default:
            return faas_frame_strerror(rc);
        }

        n = faas_node_read(fd, err);

        if (n > 0) {
            *pos = faas_node_read_buf;
            *last = faas_node_read_buf + n;
            continue;
        }

        return (n == 0) ? "closed inside a frame" : "read error";
    }
}


/* into faas_node_read_buf; the fd is non-blocking: its O_NONBLOCK is shared */
static ssize_t
faas_node_read(int fd, int *err)
{
    ssize_t        n;
    struct pollfd  pfd;

    for ( ;; ) {
        n = read(fd, faas_node_read_buf, sizeof(faas_node_read_buf));

        if (n >= 0) {
            return n;
        }

        if (errno == EINTR) {
            continue;
        }

        if (errno != EAGAIN) {
            *err = errno;
            return -1;
        }

        pfd.fd = fd;
        pfd.events = POLLIN;

        if (poll(&pfd, 1, -1) == -1 && errno != EINTR) {
            *err = errno;
            return -1;
        }
    }
}


/*
 * wait([fd, ...]): between direct calls, the channel and the held
 * connections at once.  It blocks like recv(): the event loop stays
 * frozen between calls as without direct calls.
 */
static napi_value
faas_node_wait(napi_env env, napi_callback_info info)
{
    int             rc;
    bool            is_array;
    size_t          argc;
    int32_t         fd;
    uint32_t        i, n;
    napi_value      argv[1], item, result;
    struct pollfd   pfd[FAAS_NODE_WAIT_MAX];

    argc = 1;

    if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok
        || argc != 1
        || napi_is_array(env, argv[0], &is_array) != napi_ok || !is_array
        || napi_get_array_length(env, argv[0], &n) != napi_ok
        || n == 0 || n > FAAS_NODE_WAIT_MAX)
    {
        napi_throw_type_error(env, NULL, "wait([fd, ...])");
        return NULL;
    }

    for (i = 0; i < n; i++) {
        if (napi_get_element(env, argv[0], i, &item) != napi_ok
            || napi_get_value_int32(env, item, &fd) != napi_ok || fd < 0)
        {
            napi_throw_type_error(env, NULL, "wait([fd, ...])");
            return NULL;
        }

        pfd[i].fd = fd;
        pfd[i].events = POLLIN;
        pfd[i].revents = 0;
    }

    rc = poll(pfd, n, -1);

    if (rc == -1 && errno != EINTR) {
        return faas_node_throw(env, "poll", errno);
    }

    for (i = 0; rc > 0 && i < n; i++) {
        if (pfd[i].revents != 0) {
            break;
        }
    }

    napi_create_int32(env, (rc > 0 && i < n) ? (int32_t) i : -1, &result);

    return result;
}


/* a Buffer of bytes read already, or null: copied to faas_node_read_buf */
static int
faas_node_rest(napi_env env, napi_value arg, const uint8_t **pos,
    const uint8_t **last)
{
    void            *data;
    size_t           len;
    napi_valuetype   type;

    *pos = faas_node_read_buf;
    *last = faas_node_read_buf;

    if (napi_typeof(env, arg, &type) != napi_ok) {
        return -1;
    }

    if (type == napi_null || type == napi_undefined) {
        return 0;
    }

    /* it came out of faas_node_read_buf: it fits */

    if (napi_get_buffer_info(env, arg, &data, &len) != napi_ok
        || len > sizeof(faas_node_read_buf))
    {
        napi_throw_type_error(env, NULL, "rest: a Buffer or null");
        return -1;
    }

    memcpy(faas_node_read_buf, data, len);
    *last = faas_node_read_buf + len;

    return 0;
}


/* {NAME: Buffer of data, rest: Buffer of pos..last or null} */
static napi_value
faas_node_result(napi_env env, const char *name, faas_node_buf_t *data,
    const uint8_t *pos, const uint8_t *last)
{
    napi_value  result, buf, rest;

    if (napi_create_object(env, &result) != napi_ok
        || napi_create_buffer_copy(env, data->len, data->data, NULL, &buf)
           != napi_ok
        || napi_set_named_property(env, result, name, buf) != napi_ok)
    {
        return NULL;
    }

    if (pos < last) {
        if (napi_create_buffer_copy(env, (size_t) (last - pos), pos, NULL,
                                    &rest)
            != napi_ok)
        {
            return NULL;
        }

    } else if (napi_get_null(env, &rest) != napi_ok) {
        return NULL;
    }

    if (napi_set_named_property(env, result, "rest", rest) != napi_ok) {
        return NULL;
    }

    return result;
}


static int
faas_node_append(faas_node_buf_t *body, const uint8_t *data, size_t len)
{
    size_t    size;
    uint8_t  *p;

    if (body->len + len > body->size) {
        size = body->size ? body->size : 16384;

        while (size < body->len + len) {
            size *= 2;
        }

        p = realloc(body->data, size);
        if (p == NULL) {
            return -1;
        }

        body->data = p;
        body->size = size;
    }

    memcpy(body->data + body->len, data, len);
    body->len += len;

    return 0;
}


/* writeAll(fd, buffers): a response in one sendmsg() when it fits */
static napi_value
faas_node_write_all(napi_env env, napi_callback_info info)
{
    int           fd, rc;
    void         *data;
    bool          is_array;
    size_t        argc, len;
    uint32_t      i, n, batch;
    napi_value    argv[2], item;
    struct iovec  iov[FAAS_NODE_IOV_MAX];

    argc = 2;

    if (faas_node_fd_arg(env, info, &argc, argv, &fd) != 0) {
        return NULL;
    }

    if (napi_is_array(env, argv[1], &is_array) != napi_ok || !is_array
        || napi_get_array_length(env, argv[1], &n) != napi_ok)
    {
        napi_throw_type_error(env, NULL, "writeAll(fd, [buffer, ...])");
        return NULL;
    }

    batch = 0;

    for (i = 0; i < n; i++) {
        if (napi_get_element(env, argv[1], i, &item) != napi_ok
            || napi_get_buffer_info(env, item, &data, &len) != napi_ok)
        {
            napi_throw_type_error(env, NULL, "writeAll(fd, [buffer, ...])");
            return NULL;
        }

        if (len == 0) {
            continue;
        }

        iov[batch].iov_base = data;
        iov[batch].iov_len = len;
        batch++;

        if (batch == FAAS_NODE_IOV_MAX) {
            rc = faas_io_sendv(fd, iov, (int) batch);

            if (rc != 0) {
                return faas_node_throw(env, "sendmsg", rc);
            }

            batch = 0;
        }
    }

    if (batch > 0) {
        rc = faas_io_sendv(fd, iov, (int) batch);

        if (rc != 0) {
            return faas_node_throw(env, "sendmsg", rc);
        }
    }

    return NULL;
}




static napi_value
faas_node_close(napi_env env, napi_callback_info info)
{
    int         fd;
    size_t      argc;
    napi_value  argv[1];

    argc = 1;

    if (faas_node_fd_arg(env, info, &argc, argv, &fd) != 0) {
        return NULL;
    }

    /* after close() the fd is gone even on EINTR: never retry */
    (void) close(fd);

    return NULL;
}


static napi_value
faas_node_cloexec(napi_env env, napi_callback_info info)
{
    int         fd, flags;
    size_t      argc;
    napi_value  argv[1];

    argc = 1;

    if (faas_node_fd_arg(env, info, &argc, argv, &fd) != 0) {
        return NULL;
    }

    flags = fcntl(fd, F_GETFD);

    if (flags == -1 || fcntl(fd, F_SETFD, flags | FD_CLOEXEC) == -1) {
        return faas_node_throw(env, "fcntl", errno);
    }

    return NULL;
}


/* the arguments, the first of them an fd */
/*
 * The runtime's allowlist, from FILTER.  Node has threads of its own
 * before any function code runs (V8's platform workers, libuv's pool):
 * TSYNC gives the filter to all of them, or fails and loads nothing.
 */
static napi_value
faas_node_seccomp(napi_env env, napi_callback_info info)
{
    long               rc;
    void              *data;
    size_t             argc, len;
    napi_value         argv[1];
    struct sock_fprog  prog;

    argc = 1;

    if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok
        || argc != 1
        || napi_get_buffer_info(env, argv[0], &data, &len) != napi_ok)
    {
        return faas_node_throw(env, "seccomp", EINVAL);
    }

    if (len == 0 || len % sizeof(struct sock_filter) != 0
        || len / sizeof(struct sock_filter) > BPF_MAXINSNS)
    {
        return faas_node_throw(env, "seccomp", EINVAL);
    }

    prog.len = (unsigned short) (len / sizeof(struct sock_filter));
    prog.filter = data;

    rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
                 SECCOMP_FILTER_FLAG_TSYNC, &prog);

    if (rc == -1) {
        return faas_node_throw(env, "seccomp", errno);
    }

    /* the id of a thread that could not take it (another filter) */
    if (rc != 0) {
        return faas_node_throw(env, "seccomp (thread sync)", ESRCH);
    }

    return NULL;
}


static int
faas_node_fd_arg(napi_env env, napi_callback_info info, size_t *argc,
    napi_value *argv, int *fd)
{
    size_t   want;
    int32_t  n;

    want = *argc;

    if (napi_get_cb_info(env, info, argc, argv, NULL, NULL) != napi_ok) {
        return -1;
    }

    if (*argc < want || napi_get_value_int32(env, argv[0], &n) != napi_ok
        || n < 0)
    {
        napi_throw_type_error(env, NULL, "expected a file descriptor");
        return -1;
    }

    *fd = n;

    return 0;
}


static napi_value
faas_node_throw(napi_env env, const char *what, int err)
{
    char  msg[256];

    snprintf(msg, sizeof(msg), "%s: %s", what, strerror(err));

    napi_throw_error(env, strerrorname_np(err), msg);

    return NULL;
}
