/*
 * faas-runtime-c: loads one C function (a shared object) and serves the
 * requests the supervisor hands over on fd 3.
 *
 *   LOAD -> dlopen, dlsym, faas_init() -> READY | ERROR and exit
 *   INVOKE+REQUEST with the nginx connection's fd -> handler -> DONE
 *   QUIT or end of fd 3 -> exit
 *
 * With "concurrency" N in LOAD, N threads each run that loop on fd 3: a
 * SOCK_SEQPACKET recvmsg() hands a whole packet, with its fd, to exactly
 * one of them, and each DONE is one packet too, so they share nothing but
 * the handler, which must then be thread-safe.
 *
 * With "direct" in LOAD (concurrency 1 only), a connection whose call
 * ended cleanly is held after DONE, and the next REQUEST BODY* END that
 * nginx writes on it is served without the supervisor, and without DONE.
 * Between calls the runtime polls fd 3 and the held connections at once.
 */

#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/filter.h>
#include <linux/seccomp.h>

#include "faas_runtime.h"


typedef struct {
    faas_handler_pt       handler;
    unsigned              concurrency;
    unsigned              direct;

    faas_rt_held_t        held[FAAS_RT_HELD_MAX];   /* oldest first */
    unsigned              nheld;

    uint8_t              *packet;
    uint8_t              *head;
    uint8_t              *body;
    uint8_t              *read_buf;
} faas_rt_t;


static int faas_rt_buffers(faas_rt_t *rt);
static void faas_rt_threads(faas_rt_t *rt);
static void *faas_rt_thread(void *data);
static void faas_rt_loop(faas_rt_t *rt);
static void faas_rt_load(faas_rt_t *rt);
static int faas_rt_seccomp(const uint8_t *filter, size_t len, char *err,
    size_t errlen);
static int faas_rt_load_code(faas_rt_t *rt, json_t *load,
    uint64_t *initializer_us, char *err, size_t errlen);
static void faas_rt_load_failed(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
static ssize_t faas_rt_recv(faas_rt_t *rt, int *fd);
static int faas_rt_frame(const uint8_t **pos, const uint8_t *last,
    faas_frame_header_t *frame, const uint8_t **payload);
static void faas_rt_conn_init(faas_rt_t *rt, faas_rt_conn_t *conn, int fd);
static void faas_rt_serve(faas_rt_t *rt, faas_rt_conn_t *conn,
    const uint8_t *payload, size_t len, unsigned invoke);
static int faas_rt_wait(faas_rt_t *rt);
static void faas_rt_direct(faas_rt_t *rt, unsigned i);
static void faas_rt_hold(faas_rt_t *rt, faas_rt_conn_t *conn);
static void faas_rt_unhold(faas_rt_t *rt, unsigned i);
static int faas_rt_channel_send(faas_frame_type_e type, json_t *json);
static uint64_t faas_rt_now(void);


/* set once LOAD is parsed, for faas_rt_log() */
static char       faas_rt_log_function[256] = "?";
static long long  faas_rt_log_instance;


int
main(void)
{
    faas_rt_t  rt;

    memset(&rt, 0, sizeof(faas_rt_t));

    if (faas_rt_buffers(&rt) != 0) {
        faas_rt_load_failed("out of memory");
    }

    faas_rt_load(&rt);

    faas_rt_threads(&rt);
    faas_rt_loop(&rt);

    return 0;
}


static int
faas_rt_buffers(faas_rt_t *rt)
{
    rt->packet = malloc(FAAS_RT_PACKET_SIZE);
    rt->head = malloc(FAAS_RT_HEAD_SIZE);
    rt->body = malloc(FAAS_BODY_CHUNK);
    rt->read_buf = malloc(FAAS_RT_READ_SIZE);

    return (rt->packet == NULL || rt->head == NULL || rt->body == NULL
            || rt->read_buf == NULL) ? -1 : 0;
}


/* the calls beyond the first are served by threads of their own */
static void
faas_rt_threads(faas_rt_t *rt)
{
    int             rc;
    unsigned        i;
    faas_rt_t      *t;
    pthread_t       tid;
    pthread_attr_t  attr;

    if (rt->concurrency < 2) {
        return;
    }

    if (pthread_attr_init(&attr) != 0) {
        faas_rt_log("pthread_attr_init() failed");
        exit(1);
    }

    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);

    for (i = 1; i < rt->concurrency; i++) {
        t = calloc(1, sizeof(faas_rt_t));

        if (t == NULL || faas_rt_buffers(t) != 0) {
            faas_rt_log("out of memory for thread %u", i);
            exit(1);
        }

        t->handler = rt->handler;
        t->concurrency = rt->concurrency;

        rc = pthread_create(&tid, &attr, faas_rt_thread, t);

        if (rc != 0) {
            faas_rt_log("cannot start thread %u of %u: %s", i,
                        rt->concurrency, strerror(rc));
            exit(1);
        }
    }

    pthread_attr_destroy(&attr);
}


static void *
faas_rt_thread(void *data)
{
    faas_rt_loop(data);

    return NULL;
}


/* until QUIT or the end of fd 3, in whichever thread: then the process */
static void
faas_rt_loop(faas_rt_t *rt)
{
    int                   fd;
    ssize_t               n;
    faas_rt_conn_t        conn;
    const uint8_t        *pos, *last, *invoke, *request;
    faas_frame_header_t   f1, f2;

    for ( ;; ) {
        if (rt->direct && faas_rt_wait(rt) == 0) {
            continue;
        }

        n = faas_rt_recv(rt, &fd);

        if (n == 0) {
            exit(0);
        }

        if (n < 0) {
            exit(1);
        }

        pos = rt->packet;
        last = rt->packet + n;

        if (faas_rt_frame(&pos, last, &f1, &invoke) != 0) {
            faas_rt_log("invalid packet from the supervisor");
            exit(1);
        }

        if (f1.type == FAAS_FRAME_QUIT) {
            /* sent only when no call is in flight */
            exit(0);
        }

        if (f1.type != FAAS_FRAME_INVOKE || fd == -1
            || faas_rt_frame(&pos, last, &f2, &request) != 0
            || f2.type != FAAS_FRAME_REQUEST)
        {
            faas_rt_log("unexpected %s packet from the supervisor",
                        faas_frame_type_name(f1.type));
            exit(1);
        }

        faas_rt_conn_init(rt, &conn, fd);
        faas_rt_serve(rt, &conn, request, f2.length, 1);
    }
}


static void
faas_rt_load(faas_rt_t *rt)
{
    int                   fd, rc;
    char                  err[1024];
    json_t               *load, *v;
    size_t                filter_len;
    ssize_t               n;
    uint64_t              start, initializer_us;
    const uint8_t        *pos, *last, *payload, *filter;
    faas_frame_header_t   frame;

    filter = NULL;
    filter_len = 0;

    for ( ;; ) {
        n = faas_rt_recv(rt, &fd);

        if (n <= 0) {
            exit(n == 0 ? 0 : 1);
        }

        if (fd != -1) {
            close(fd);
        }

        pos = rt->packet;
        last = rt->packet + n;

        rc = faas_rt_frame(&pos, last, &frame, &payload);

        /* in a sandbox, the runtime's seccomp allowlist comes first */

        if (rc != 0 || frame.type != FAAS_FRAME_FILTER) {
            break;
        }

        if (pos < last) {
            filter = payload;
            filter_len = frame.length;
            rc = faas_rt_frame(&pos, last, &frame, &payload);
            break;
        }

        /* alone: a pooled runtime, to load it while it waits for LOAD */

        if (faas_rt_seccomp(payload, frame.length, err, sizeof(err)) != 0) {
            faas_rt_load_failed("%s", err);
        }
    }

    if (rc != 0 || frame.type != FAAS_FRAME_LOAD) {
        faas_rt_load_failed("the first packet is not LOAD");
    }

    load = json_loadb((const char *) payload, frame.length, 0, NULL);
    if (!json_is_object(load)) {
        faas_rt_load_failed("LOAD is not a JSON object");
    }

    v = json_object_get(load, "function");
    if (json_is_string(v)) {
        snprintf(faas_rt_log_function, sizeof(faas_rt_log_function), "%s",
                 json_string_value(v));
    }

    v = json_object_get(load, "instance");
    if (json_is_integer(v)) {
        faas_rt_log_instance = json_integer_value(v);
    }

    v = json_object_get(load, "concurrency");
    rt->concurrency = json_is_integer(v) && json_integer_value(v) > 1
                      && json_integer_value(v) <= 1000
                      ? (unsigned) json_integer_value(v) : 1;

    /* several calls at once would need a held connection per thread */
    rt->direct = json_is_true(json_object_get(load, "direct"))
                 && rt->concurrency == 1;

    /* before dlopen(): the function's constructors are its code too */

    if (filter != NULL && faas_rt_seccomp(filter, filter_len, err,
                                          sizeof(err)) != 0)
    {
        faas_rt_load_failed("%s", err);
    }

    start = faas_rt_now();

    initializer_us = 0;

    if (faas_rt_load_code(rt, load, &initializer_us, err, sizeof(err)) != 0) {
        faas_rt_load_failed("%s", err);
    }

    json_decref(load);

    v = json_pack("{s:I, s:I}", "init_us",
                  (json_int_t) (faas_rt_now() - start), "initializer_us",
                  (json_int_t) initializer_us);

    if (v != NULL && rt->direct
        && json_object_set_new(v, "direct", json_true()) != 0)
    {
        exit(1);
    }

    if (v == NULL || faas_rt_channel_send(FAAS_FRAME_READY, v) != 0) {
        exit(1);
    }

    json_decref(v);
}


/*
 * Every thread gets the filter (TSYNC): a function's threads are not the
 * only ones a library may have started.  no_new_privs is already set by
 * the sandbox, and the base filter allows seccomp() itself.
 */
static int
faas_rt_seccomp(const uint8_t *filter, size_t len, char *err,
    size_t errlen)
{
    long               rc;
    struct sock_fprog  prog;

    if (len == 0 || len % sizeof(struct sock_filter) != 0
        || len / sizeof(struct sock_filter) > BPF_MAXINSNS)
    {
        snprintf(err, errlen, "seccomp: invalid FILTER of %zu bytes", len);
        return -1;
    }

    prog.len = (unsigned short) (len / sizeof(struct sock_filter));
    prog.filter = (struct sock_filter *) (uintptr_t) filter;

    rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
                 SECCOMP_FILTER_FLAG_TSYNC, &prog);

    if (rc == -1) {
        snprintf(err, errlen, "seccomp: %s", strerror(errno));
        return -1;
    }

    if (rc != 0) {
        snprintf(err, errlen, "seccomp: thread %ld cannot take the filter",
                 rc);
        return -1;
    }

    return 0;
}


static int
faas_rt_load_code(faas_rt_t *rt, json_t *load, uint64_t *initializer_us,
    char *err, size_t errlen)
{
    int           rc;
    size_t        i;
    void         *dl;
    json_t       *env, *pair, *v;
    uint64_t      start;
    const char   *code, *handler, *symbol, *colon, *name;
    char         *path;
    faas_init_pt  init;

    env = json_object_get(load, "env");

    json_array_foreach(env, i, pair) {
        if (setenv(json_string_value(json_array_get(pair, 0)),
                   json_string_value(json_array_get(pair, 1)), 1)
            != 0)
        {
            snprintf(err, errlen, "setenv: %s", strerror(errno));
            return -1;
        }
    }

    v = json_object_get(load, "code");
    code = json_is_string(v) ? json_string_value(v) : NULL;

    v = json_object_get(load, "handler");
    handler = json_is_string(v) ? json_string_value(v) : "handle";

    if (code == NULL) {
        snprintf(err, errlen, "LOAD has no \"code\"");
        return -1;
    }

    /* relative paths in the function are relative to its code */

    if (chdir(code) != 0) {
        snprintf(err, errlen, "chdir: %s: %s", code, strerror(errno));
        return -1;
    }

    /* "[FILE.so:]SYMBOL", FILE relative to the code directory */

    colon = strchr(handler, ':');

    if (colon != NULL) {
        symbol = colon + 1;
        rc = asprintf(&path, "%s/%.*s", code, (int) (colon - handler),
                      handler);
    } else {
        symbol = handler;
        rc = asprintf(&path, "%s/function.so", code);
    }

    if (rc < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    if (*symbol == '\0') {
        snprintf(err, errlen, "no symbol in handler \"%s\"", handler);
        free(path);
        return -1;
    }

    dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);

    free(path);

    if (dl == NULL) {
        snprintf(err, errlen, "dlopen: %s", dlerror());
        return -1;
    }

    dlerror();

    *(void **) &rt->handler = dlsym(dl, symbol);

    if (rt->handler == NULL) {
        snprintf(err, errlen, "dlsym: %s", dlerror());
        return -1;
    }

    /* the named initializer must exist; faas_init() is one by default */

    v = json_object_get(load, "initializer");
    name = json_is_string(v) ? json_string_value(v) : NULL;

    *(void **) &init = dlsym(dl, name ? name : "faas_init");

    if (init == NULL && name != NULL) {
        snprintf(err, errlen, "initializer \"%s\": dlsym: %s", name,
                 dlerror());
        return -1;
    }

    if (init != NULL) {
        start = faas_rt_now();
        rc = init();
        *initializer_us = faas_rt_now() - start;

        if (rc != 0) {
            snprintf(err, errlen, "initializer \"%s\" failed: it returned "
                     "%d", name ? name : "faas_init", rc);
            return -1;
        }
    }

    return 0;
}


static void
faas_rt_load_failed(const char *fmt, ...)
{
    char     reason[1024];
    json_t  *json;
    va_list  args;

    va_start(args, fmt);
    vsnprintf(reason, sizeof(reason), fmt, args);
    va_end(args);

    json = json_pack("{s:s}", "reason", reason);

    if (json == NULL || faas_rt_channel_send(FAAS_FRAME_ERROR, json) != 0) {
        faas_rt_log("cannot load: %s", reason);
    }

    json_decref(json);

    exit(1);
}


/* one packet from fd 3, with the fd it carries or -1 */
static ssize_t
faas_rt_recv(faas_rt_t *rt, int *fd)
{
    int      err;
    ssize_t  n;

    n = faas_io_recv_fd(FAAS_RT_CHANNEL_FD, rt->packet, FAAS_RT_PACKET_SIZE,
                        fd, &err);

    if (n == -1) {
        faas_rt_log("recvmsg() failed: %s", err == EMSGSIZE
                    ? "truncated packet from the supervisor" : strerror(err));
    }

    return n;
}


static int
faas_rt_frame(const uint8_t **pos, const uint8_t *last,
    faas_frame_header_t *frame, const uint8_t **payload)
{
    if ((size_t) (last - *pos) < FAAS_FRAME_HEADER_SIZE
        || faas_frame_header_decode(*pos, frame) != FAAS_FRAME_OK)
    {
        return -1;
    }

    *pos += FAAS_FRAME_HEADER_SIZE;

    if ((size_t) (last - *pos) < frame->length) {
        return -1;
    }

    *payload = *pos;
    *pos += frame->length;

    return 0;
}


static void
faas_rt_conn_init(faas_rt_t *rt, faas_rt_conn_t *conn, int fd)
{
    conn->fd = fd;
    conn->buf = rt->read_buf;
    conn->pos = rt->read_buf;
    conn->last = rt->read_buf;
    faas_frame_parser_init(&conn->parser);
}


/*
 * One call on conn, whose buffer may hold the start of the body already.
 * invoke: it came in an INVOKE packet and gets a DONE; else it is a
 * direct call, which the supervisor knows nothing about.
 */
static void
faas_rt_serve(faas_rt_t *rt, faas_rt_conn_t *conn, const uint8_t *payload,
    size_t len, unsigned invoke)
{
    int               rc, status, clean;
    json_t           *done;
    faas_request_t    req;
    faas_response_t   res;

    clean = 0;

    faas_rt_response_init(&res, conn, rt->head, rt->body);

    if (faas_rt_request_init(&req, conn, payload, len) != 0) {
        faas_rt_log("invalid REQUEST");
        faas_rt_response_error(&res, 502, "invalid REQUEST");
        status = 502;
        goto done;
    }

    rc = rt->handler(&req, &res);

    if (req.body_error) {
        faas_rt_log("request %s: %s", req.id, req.error);
        faas_rt_response_error(&res, 502, "invalid request body: %s",
                               req.error);

    } else if (rc != 0) {
        faas_rt_response_error(&res, 502, "handler returned %d", rc);

    } else if (faas_rt_response_finish(&res) == 0) {
        /* what the handler left unread, so the stream ends cleanly */
        clean = (faas_rt_request_drain(&req) == 0);
    }

    status = res.failed ? 502 : res.status;

done:

    /* both ways at a frame boundary: the connection can carry another */

    if (rt->direct && clean) {
        faas_rt_hold(rt, conn);

    } else {
        close(conn->fd);
    }

    if (!invoke) {
        faas_rt_request_free(&req);
        faas_rt_response_free(&res);
        return;
    }

    /* the id names the call among those in flight (concurrency) */
    done = (req.id != NULL)
           ? json_pack("{s:i, s:s}", "status", status, "request_id", req.id)
           : json_pack("{s:i}", "status", status);

    faas_rt_request_free(&req);
    faas_rt_response_free(&res);

    if (done == NULL || faas_rt_channel_send(FAAS_FRAME_DONE, done) != 0) {
        exit(1);
    }

    json_decref(done);
}


/*
 * Between calls, with direct calls: fd 3 and every held connection at
 * once.  1: fd 3 is readable; 0: a held connection was dealt with.
 */
static int
faas_rt_wait(faas_rt_t *rt)
{
    unsigned       i;
    struct pollfd  pfd[1 + FAAS_RT_HELD_MAX];

    /* what was read past an END already: poll() would not report it */

    for (i = 0; i < rt->nheld; i++) {
        if (rt->held[i].rest_len > 0) {
            faas_rt_direct(rt, i);
            return 0;
        }
    }

    pfd[0].fd = FAAS_RT_CHANNEL_FD;
    pfd[0].events = POLLIN;
    pfd[0].revents = 0;

    for (i = 0; i < rt->nheld; i++) {
        pfd[i + 1].fd = rt->held[i].fd;
        pfd[i + 1].events = POLLIN;
        pfd[i + 1].revents = 0;
    }

    if (poll(pfd, rt->nheld + 1, -1) == -1) {
        if (errno == EINTR) {
            return 0;
        }

        faas_rt_log("poll() failed: %s", strerror(errno));
        exit(1);
    }

    /* the supervisor's packets first: QUIT, INVOKE */

    if (pfd[0].revents != 0) {
        return 1;
    }

    for (i = 0; i < rt->nheld; i++) {
        if (pfd[i + 1].revents != 0) {
            faas_rt_direct(rt, i);
            break;
        }
    }

    return 0;
}


/*
 * The held connection i is readable: the next call's REQUEST frame, then
 * the call itself; or end of file, which is nginx dropping it.
 */
static void
faas_rt_direct(faas_rt_t *rt, unsigned i)
{
    size_t            len, got;
    ssize_t           n;
    const uint8_t    *data;
    faas_rt_conn_t    conn;
    faas_frame_rc_e   rc;

    faas_rt_conn_init(rt, &conn, rt->held[i].fd);

    /* the rest came from a read buffer of the same size */

    if (rt->held[i].rest_len > 0) {
        memcpy(conn.buf, rt->held[i].rest, rt->held[i].rest_len);
        conn.last = conn.buf + rt->held[i].rest_len;
    }

    faas_rt_unhold(rt, i);

    if (conn.pos == conn.last) {
        do {
            n = read(conn.fd, conn.buf, FAAS_RT_READ_SIZE);
        } while (n == -1 && errno == EINTR);

        if (n == 0) {
            close(conn.fd);
            return;
        }

        if (n == -1) {
            if (errno == EAGAIN) {
                faas_rt_hold(rt, &conn);
                return;
            }

            /* nginx closed it with bytes unread: dropped all the same */

            if (errno == ECONNRESET) {
                close(conn.fd);
                return;
            }

            faas_rt_log("held connection: read() failed: %s",
                        strerror(errno));
            goto failed;
        }

        conn.last = conn.buf + n;
    }

    /* once it has begun, the REQUEST frame is waited for whole */

    got = 0;

    for ( ;; ) {
        rc = faas_frame_parse(&conn.parser, &conn.pos, conn.last, &data,
                              &len);

        switch (rc) {

        case FAAS_FRAME_OK:
            if (conn.parser.frame.type != FAAS_FRAME_REQUEST) {
                faas_rt_log("held connection: unexpected %s frame",
                            faas_frame_type_name(conn.parser.frame.type));
                goto failed;
            }

            continue;

        case FAAS_FRAME_DATA:
            /* at most FAAS_JSON_MAX: the header was checked */
            memcpy(rt->packet + got, data, len);
            got += len;
            continue;

        case FAAS_FRAME_COMPLETE:
            faas_rt_serve(rt, &conn, rt->packet, got, 0);
            return;

        case FAAS_FRAME_AGAIN:
            n = faas_rt_conn_read(&conn);

            if (n > 0) {
                continue;
            }

            if (n == 0) {
                faas_rt_log("held connection: closed inside a frame");

            } else {
                faas_rt_log("held connection: read() failed: %s",
                            strerror(errno));
            }

            goto failed;

        default:
            faas_rt_log("held connection: %s", faas_frame_strerror(rc));
            goto failed;
        }
    }

failed:

    close(conn.fd);
}


/* conn's call ended cleanly: it waits, with what was read past END */
static void
faas_rt_hold(faas_rt_t *rt, faas_rt_conn_t *conn)
{
    size_t           len;
    uint8_t         *rest;
    faas_rt_held_t  *h;

    len = (size_t) (conn->last - conn->pos);
    rest = NULL;

    if (!faas_frame_parser_idle(&conn->parser)) {
        close(conn->fd);
        return;
    }

    if (len > 0) {
        rest = malloc(len);
        if (rest == NULL) {
            close(conn->fd);
            return;
        }

        memcpy(rest, conn->pos, len);
    }

    /* the one unused the longest makes room */

    if (rt->nheld == FAAS_RT_HELD_MAX) {
        close(rt->held[0].fd);
        faas_rt_unhold(rt, 0);
    }

    h = &rt->held[rt->nheld++];

    h->fd = conn->fd;
    h->rest = rest;
    h->rest_len = len;
}


/* forgets the held connection i, which the caller closes or serves */
static void
faas_rt_unhold(faas_rt_t *rt, unsigned i)
{
    free(rt->held[i].rest);

    rt->nheld--;

    memmove(&rt->held[i], &rt->held[i + 1],
            (rt->nheld - i) * sizeof(faas_rt_held_t));
}


static int
faas_rt_channel_send(faas_frame_type_e type, json_t *json)
{
    char     buf[FAAS_FRAME_HEADER_SIZE + 1024];
    size_t   len;
    ssize_t  n;

    len = json_dumpb(json, buf + FAAS_FRAME_HEADER_SIZE,
                     sizeof(buf) - FAAS_FRAME_HEADER_SIZE, JSON_COMPACT);

    if (len == 0 || len > sizeof(buf) - FAAS_FRAME_HEADER_SIZE) {
        return -1;
    }

    faas_frame_header_encode((uint8_t *) buf, type, (uint32_t) len);

    do {
        n = send(FAAS_RT_CHANNEL_FD, buf, FAAS_FRAME_HEADER_SIZE + len,
                 MSG_NOSIGNAL);
    } while (n == -1 && errno == EINTR);

    return (n == -1) ? -1 : 0;
}


void
faas_rt_log(const char *fmt, ...)
{
    char     buf[1024];
    va_list  args;

    va_start(args, fmt);
    vsnprintf(buf, sizeof(buf), fmt, args);
    va_end(args);

    fprintf(stderr, "faas-runtime-c[%d]: function \"%s\" instance %lld: %s\n",
            (int) getpid(), faas_rt_log_function, faas_rt_log_instance, buf);
}


static uint64_t
faas_rt_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}
