/*
 * faas-runtime-c: loads one C function (a shared object) and serves the
 * requests the supervisor hands over on fd 3.
 *
 *   LOAD -> dlopen, dlsym, faas_init() -> READY | ERROR and exit
 *   INVOKE+REQUEST with the nginx connection's fd -> handler -> DONE
 *   QUIT or end of fd 3 -> exit
 *
 * With "concurrency" N in LOAD, N threads serve the calls ("threads" T,
 * when given, T of them: the others wait their turn in their sockets),
 * which share nothing but the handler (it must then be thread-safe when
 * there are several threads): a SOCK_SEQPACKET
 * recvmsg() hands a whole packet, with its fd, to exactly one of them, and
 * each DONE is one packet too.  Without "direct" each thread just blocks
 * in recvmsg() on fd 3.
 *
 * With "direct" in LOAD (any concurrency), a connection whose call ended
 * cleanly is held after DONE, and the next REQUEST BODY* END that nginx
 * writes on it is served without the supervisor, and without DONE.  Fd 3
 * and every held connection are then in one epoll instance, each with
 * EPOLLONESHOT, and the N threads wait in epoll_wait() for one event each:
 * whichever gets it owns that fd, disarmed, until it re-arms (fd 3: as
 * soon as its packet is received, before the call; a held connection:
 * after its call) or closes it.  So N calls run at once, on fd 3 or any
 * held connections, and a thread that ends a call takes the next ready
 * one without sleeping.  A call read past the previous one's END is
 * served at once by the same thread: epoll would not report it.
 *
 * With one thread nothing is shared, so nothing needs EPOLLONESHOT: the
 * fds stay armed (level-triggered), and one epoll_wait() returns every
 * call that is ready, as an event loop's does.  Under load that is two
 * system calls per call, a read and a write, instead of four.  The whole
 * responses of those calls are then written together after the last one
 * (faas_rt_batch_t): written one by one, each would wake an nginx worker
 * that had answered the one before and gone back to sleep.
 *
 * At most FAAS_RT_HELD_MAX connections are held, idle or in a call.  A
 * call that comes through INVOKE takes a place for its connection before
 * it runs; when there is none, its RESPONSE says "close", so that nginx
 * does not keep a connection that is closed after the call.  A held
 * connection is never closed to make room: nginx, which may be about to
 * write a call on it, would get EPIPE.
 */

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/filter.h>
#include <linux/seccomp.h>

#include "faas_runtime.h"


/* the epoll data of fd 3; a held connection's is its gen and index + 1 */
#define FAAS_RT_EVENT_CHANNEL  0


/* what the threads share */
typedef struct {
    faas_handler_pt       handler;
    unsigned              concurrency;
    unsigned              threads;
    unsigned              direct;
    unsigned              oneshot;         /* more than one thread */

    int                   epfd;

    /* one thread's direct calls: their responses, written together */
    faas_rt_batch_t       batch;

    /* the held connections and their count */
    pthread_mutex_t       mutex;
    faas_rt_held_t        held[FAAS_RT_HELD_MAX];
    unsigned              nheld;
} faas_rt_t;


#define FAAS_RT_EVENTS  (FAAS_RT_HELD_MAX + 1)


/* one thread's buffers, and the events of its last epoll_wait() */
typedef struct {
    faas_rt_t            *rt;
    uint8_t              *packet;
    uint8_t              *head;
    uint8_t              *body;
    uint8_t              *read_buf;
    struct epoll_event    events[FAAS_RT_EVENTS];
    int                   nevents;
    int                   next_event;
} faas_rt_worker_t;


static int faas_rt_buffers(faas_rt_worker_t *w);
static void faas_rt_threads(faas_rt_t *rt);
static void *faas_rt_thread(void *data);
static void faas_rt_loop(faas_rt_worker_t *w);
static int faas_rt_wait(faas_rt_worker_t *w);
static void faas_rt_arm_channel(faas_rt_t *rt);
static void faas_rt_load(faas_rt_worker_t *w);
static int faas_rt_epoll(faas_rt_t *rt);
static int faas_rt_seccomp(const uint8_t *filter, size_t len, char *err,
    size_t errlen);
static int faas_rt_load_code(faas_rt_t *rt, json_t *load,
    uint64_t *initializer_us, char *err, size_t errlen);
static void faas_rt_load_failed(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
static ssize_t faas_rt_recv(faas_rt_worker_t *w, int *fd);
static int faas_rt_frame(const uint8_t **pos, const uint8_t *last,
    faas_frame_header_t *frame, const uint8_t **payload);
static void faas_rt_conn_init(faas_rt_worker_t *w, faas_rt_conn_t *conn,
    int fd);
static int faas_rt_serve(faas_rt_worker_t *w, faas_rt_conn_t *conn,
    const uint8_t *payload, size_t len, unsigned invoke, unsigned keep);
static void faas_rt_direct(faas_rt_worker_t *w, uint64_t data);
static int faas_rt_direct_call(faas_rt_worker_t *w, faas_rt_conn_t *conn);
static void faas_rt_keep(faas_rt_worker_t *w, faas_rt_conn_t *conn,
    faas_rt_held_t *h);
static faas_rt_held_t *faas_rt_take(faas_rt_t *rt, uint64_t data);
static faas_rt_held_t *faas_rt_reserve(faas_rt_t *rt);
static void faas_rt_hold(faas_rt_t *rt, int fd, faas_rt_held_t *h);
static void faas_rt_release(faas_rt_t *rt, faas_rt_held_t *h, int fd);
static int faas_rt_channel_send(faas_frame_type_e type, json_t *json);
static void faas_rt_batch_atexit(void);
static uint64_t faas_rt_now(void);


/* set once LOAD is parsed, for faas_rt_log() */
static char       faas_rt_log_function[256] = "?";
static long long  faas_rt_log_instance;

/* static: the other threads use it until exit() */
static faas_rt_t  faas_rt;


int
main(void)
{
    faas_rt_worker_t  w;

    /* before anything is allocated through jansson */
    faas_rt_arena_init();

    faas_rt.epfd = -1;

    if (pthread_mutex_init(&faas_rt.mutex, NULL) != 0) {
        faas_rt_load_failed("pthread_mutex_init() failed");
    }

    memset(&w, 0, sizeof(faas_rt_worker_t));
    w.rt = &faas_rt;

    if (faas_rt_buffers(&w) != 0) {
        faas_rt_load_failed("out of memory");
    }

    faas_rt_load(&w);

    faas_rt_threads(&faas_rt);
    faas_rt_loop(&w);

    return 0;
}


static int
faas_rt_buffers(faas_rt_worker_t *w)
{
    w->packet = malloc(FAAS_RT_PACKET_SIZE);
    w->head = malloc(FAAS_RT_HEAD_SIZE);
    w->body = malloc(FAAS_BODY_CHUNK);
    w->read_buf = malloc(FAAS_RT_READ_SIZE);

    return (w->packet == NULL || w->head == NULL || w->body == NULL
            || w->read_buf == NULL) ? -1 : 0;
}


/* the calls beyond the first are served by threads of their own */
static void
faas_rt_threads(faas_rt_t *rt)
{
    int                rc;
    unsigned           i;
    pthread_t          tid;
    pthread_attr_t     attr;
    faas_rt_worker_t  *w;

    if (rt->threads < 2) {
        return;
    }

    if (pthread_attr_init(&attr) != 0) {
        faas_rt_log("pthread_attr_init() failed");
        exit(1);
    }

    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);

    for (i = 1; i < rt->threads; i++) {
        w = calloc(1, sizeof(faas_rt_worker_t));

        if (w == NULL || faas_rt_buffers(w) != 0) {
            faas_rt_log("out of memory for thread %u", i);
            exit(1);
        }

        w->rt = rt;

        rc = pthread_create(&tid, &attr, faas_rt_thread, w);

        if (rc != 0) {
            faas_rt_log("cannot start thread %u of %u: %s", i,
                        rt->threads, strerror(rc));
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
faas_rt_loop(faas_rt_worker_t *w)
{
    int                   fd;
    ssize_t               n;
    faas_rt_t            *rt;
    faas_rt_conn_t        conn;
    faas_rt_held_t       *h;
    const uint8_t        *pos, *last, *invoke, *request;
    faas_frame_header_t   f1, f2;

    rt = w->rt;

    for ( ;; ) {
        if (rt->direct && faas_rt_wait(w) == 0) {
            continue;
        }

        n = faas_rt_recv(w, &fd);

        if (n == 0) {
            exit(0);
        }

        if (n < 0) {
            exit(1);
        }

        /* the next packet is another thread's while this one is served */

        if (rt->direct) {
            faas_rt_arm_channel(rt);
        }

        pos = w->packet;
        last = w->packet + n;

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

        /* a place for the connection after the call, if it may have one */

        h = rt->direct ? faas_rt_reserve(rt) : NULL;

        faas_rt_conn_init(w, &conn, fd);

        if (faas_rt_serve(w, &conn, request, f2.length, 1, h != NULL)) {
            faas_rt_keep(w, &conn, h);

        } else if (h != NULL) {
            /* serve() closed the connection */
            faas_rt_release(rt, h, -1);
        }
    }
}


/*
 * With direct calls, one event: 1 when it is fd 3's, whose packet the
 * caller receives; 0 when it was a held connection's, dealt with.  Shared
 * by several threads, the epoll instance hands each one event at a time;
 * else one wait returns as many as are ready.
 */
static int
faas_rt_wait(faas_rt_worker_t *w)
{
    uint64_t  data;

    if (w->next_event == w->nevents) {
        faas_rt_batch_flush(&w->rt->batch);

        w->next_event = 0;
        w->nevents = epoll_wait(w->rt->epfd, w->events,
                                w->rt->oneshot ? 1 : FAAS_RT_EVENTS, -1);

        if (w->nevents == -1) {
            w->nevents = 0;

            if (errno == EINTR) {
                return 0;
            }

            faas_rt_log("epoll_wait() failed: %s", strerror(errno));
            exit(1);
        }

        if (w->nevents == 0) {
            return 0;
        }
    }

    data = w->events[w->next_event++].data.u64;

    if (data == FAAS_RT_EVENT_CHANNEL) {
        /* before QUIT, which exits, or an INVOKE */
        faas_rt_batch_flush(&w->rt->batch);
        return 1;
    }

    faas_rt_direct(w, data);

    return 0;
}


static void
faas_rt_arm_channel(faas_rt_t *rt)
{
    struct epoll_event  ev;

    if (!rt->oneshot) {
        return;
    }

    ev.events = EPOLLIN | EPOLLONESHOT;
    ev.data.u64 = FAAS_RT_EVENT_CHANNEL;

    if (epoll_ctl(rt->epfd, EPOLL_CTL_MOD, FAAS_RT_CHANNEL_FD, &ev) == -1) {
        faas_rt_log("epoll_ctl(fd 3) failed: %s", strerror(errno));
        exit(1);
    }
}


static void
faas_rt_load(faas_rt_worker_t *w)
{
    int                   fd, rc;
    char                  err[1024];
    json_t               *load, *v;
    faas_rt_t            *rt;
    size_t                filter_len;
    ssize_t               n;
    uint64_t              start, initializer_us;
    const uint8_t        *pos, *last, *payload, *filter;
    faas_frame_header_t   frame;

    rt = w->rt;

    filter = NULL;
    filter_len = 0;

    for ( ;; ) {
        n = faas_rt_recv(w, &fd);

        if (n <= 0) {
            exit(n == 0 ? 0 : 1);
        }

        if (fd != -1) {
            close(fd);
        }

        pos = w->packet;
        last = w->packet + n;

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

    /* one thread can serve many calls in flight, one after the other */
    v = json_object_get(load, "threads");
    rt->threads = json_is_integer(v) && json_integer_value(v) >= 1
                  && json_integer_value(v) <= rt->concurrency
                  ? (unsigned) json_integer_value(v) : rt->concurrency;

    rt->direct = json_is_true(json_object_get(load, "direct"));
    rt->oneshot = (rt->threads > 1);

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

    /* without epoll, calls come through the supervisor only */

    if (rt->direct && faas_rt_epoll(rt) != 0) {
        rt->direct = 0;
    }

    /* one thread: responses wait for the end of their epoll_wait()'s */

    if (rt->direct && !rt->oneshot) {
        rt->batch.buf = malloc(FAAS_RT_BATCH_SIZE);

        if (rt->batch.buf != NULL && atexit(faas_rt_batch_atexit) != 0) {
            free(rt->batch.buf);
            rt->batch.buf = NULL;
        }
    }

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


/* fd 3 in a new epoll instance: before READY, which says if it worked */
static int
faas_rt_epoll(faas_rt_t *rt)
{
    struct epoll_event  ev;

    rt->epfd = epoll_create1(EPOLL_CLOEXEC);

    if (rt->epfd == -1) {
        faas_rt_log("epoll_create1() failed: %s, no direct calls",
                    strerror(errno));
        return -1;
    }

    ev.events = rt->oneshot ? EPOLLIN | EPOLLONESHOT : EPOLLIN;
    ev.data.u64 = FAAS_RT_EVENT_CHANNEL;

    if (epoll_ctl(rt->epfd, EPOLL_CTL_ADD, FAAS_RT_CHANNEL_FD, &ev) == -1) {
        faas_rt_log("epoll_ctl(fd 3) failed: %s, no direct calls",
                    strerror(errno));
        close(rt->epfd);
        rt->epfd = -1;
        return -1;
    }

    return 0;
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
faas_rt_recv(faas_rt_worker_t *w, int *fd)
{
    int      err;
    ssize_t  n;

    n = faas_io_recv_fd(FAAS_RT_CHANNEL_FD, w->packet, FAAS_RT_PACKET_SIZE,
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
faas_rt_conn_init(faas_rt_worker_t *w, faas_rt_conn_t *conn, int fd)
{
    conn->fd = fd;
    conn->buf = w->read_buf;
    conn->pos = w->read_buf;
    conn->last = w->read_buf;
    faas_frame_parser_init(&conn->parser);
}


/*
 * One call on conn, whose buffer may hold the start of the body already.
 * invoke: it came in an INVOKE packet and gets a DONE, before which conn
 * is closed unless it is to be held; else it is a direct call, which the
 * supervisor knows nothing about, and the caller holds or closes conn.
 * keep: conn has a place among the held ones, else with direct calls the
 * RESPONSE says "close".  1: the call ended cleanly and conn is open for
 * another one.
 */
static int
faas_rt_serve(faas_rt_worker_t *w, faas_rt_conn_t *conn,
    const uint8_t *payload, size_t len, unsigned invoke, unsigned keep)
{
    int               rc, status, clean;
    json_t           *done;
    faas_request_t    req;
    faas_response_t   res;

    clean = 0;

    faas_rt_response_init(&res, conn, w->head, w->body);

    res.close = (w->rt->direct && !keep);

    if (!invoke && w->rt->batch.buf != NULL) {
        res.batch = &w->rt->batch;
    }

    if (faas_rt_request_init(&req, conn, payload, len) != 0) {
        faas_rt_log("invalid REQUEST");
        faas_rt_response_error(&res, 502, "invalid REQUEST");
        status = 502;
        goto done;
    }

    rc = w->rt->handler(&req, &res);

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

    clean = clean && faas_frame_parser_idle(&conn->parser);

    if (!invoke) {
        faas_rt_request_free(&req);
        return clean;
    }

    clean = clean && keep;

    if (!clean) {
        close(conn->fd);
    }

    /* the id names the call among those in flight (concurrency) */
    done = (req.id != NULL)
           ? json_pack("{s:i, s:s}", "status", status, "request_id", req.id)
           : json_pack("{s:i}", "status", status);

    faas_rt_request_free(&req);

    if (done == NULL || faas_rt_channel_send(FAAS_FRAME_DONE, done) != 0) {
        exit(1);
    }

    json_decref(done);

    return clean;
}


/*
 * The event of a held connection: the next call's REQUEST frame, then the
 * call itself; or end of file, which is nginx dropping it.
 */
static void
faas_rt_direct(faas_rt_worker_t *w, uint64_t data)
{
    ssize_t           n;
    faas_rt_t        *rt;
    faas_rt_conn_t    conn;
    faas_rt_held_t   *h;

    rt = w->rt;

    h = faas_rt_take(rt, data);
    if (h == NULL) {
        return;
    }

    faas_rt_conn_init(w, &conn, h->fd);

    do {
        n = read(conn.fd, conn.buf, FAAS_RT_READ_SIZE);
    } while (n == -1 && errno == EINTR);

    if (n == -1 && errno == EAGAIN) {
        faas_rt_hold(rt, conn.fd, h);
        return;
    }

    /* nginx closed it with bytes unread: dropped all the same */

    if (n == 0 || (n == -1 && errno == ECONNRESET)) {
        faas_rt_release(rt, h, conn.fd);
        return;
    }

    if (n == -1) {
        faas_rt_log("held connection: read() failed: %s", strerror(errno));
        faas_rt_release(rt, h, conn.fd);
        return;
    }

    conn.last = conn.buf + n;

    if (faas_rt_direct_call(w, &conn) != 0) {
        faas_rt_release(rt, h, conn.fd);
        return;
    }

    faas_rt_keep(w, &conn, h);
}


/*
 * A direct call whose first bytes are in conn's buffer: 0 when it ended
 * cleanly, -1 when conn is to be closed (logged).
 */
static int
faas_rt_direct_call(faas_rt_worker_t *w, faas_rt_conn_t *conn)
{
    size_t            len, got;
    ssize_t           n;
    const uint8_t    *data;
    faas_frame_rc_e   rc;

    /* once it has begun, the REQUEST frame is waited for whole */

    got = 0;

    for ( ;; ) {
        rc = faas_frame_parse(&conn->parser, &conn->pos, conn->last, &data,
                              &len);

        switch (rc) {

        case FAAS_FRAME_OK:
            if (conn->parser.frame.type != FAAS_FRAME_REQUEST) {
                faas_rt_log("held connection: unexpected %s frame",
                            faas_frame_type_name(conn->parser.frame.type));
                return -1;
            }

            continue;

        case FAAS_FRAME_DATA:
            /* at most FAAS_JSON_MAX: the header was checked */
            memcpy(w->packet + got, data, len);
            got += len;
            continue;

        case FAAS_FRAME_COMPLETE:
            return faas_rt_serve(w, conn, w->packet, got, 0, 1) ? 0 : -1;

        case FAAS_FRAME_AGAIN:
            n = faas_rt_conn_read(conn);

            if (n > 0) {
                continue;
            }

            if (n == 0) {
                faas_rt_log("held connection: closed inside a frame");

            } else {
                faas_rt_log("held connection: read() failed: %s",
                            strerror(errno));
            }

            return -1;

        default:
            faas_rt_log("held connection: %s", faas_frame_strerror(rc));
            return -1;
        }
    }
}


/*
 * conn's call ended cleanly; h is its place, held or reserved.  A call
 * already read past its END is served now, as epoll would not report it;
 * then conn waits in epoll for the next one.
 */
static void
faas_rt_keep(faas_rt_worker_t *w, faas_rt_conn_t *conn, faas_rt_held_t *h)
{
    while (conn->pos != conn->last) {
        if (faas_rt_direct_call(w, conn) != 0) {
            faas_rt_release(w->rt, h, conn->fd);
            return;
        }
    }

    faas_rt_hold(w->rt, conn->fd, h);
}


/*
 * The entry of a held connection's event, now owned by this thread; NULL
 * when it was closed since, and perhaps reused.
 */
static faas_rt_held_t *
faas_rt_take(faas_rt_t *rt, uint64_t data)
{
    uint32_t         i;
    faas_rt_held_t  *h;

    i = (uint32_t) (data & 0xffffffff) - 1;

    if (i >= FAAS_RT_HELD_MAX) {
        return NULL;
    }

    h = &rt->held[i];

    pthread_mutex_lock(&rt->mutex);

    if (!h->used || h->busy || h->gen != (uint32_t) (data >> 32)) {
        pthread_mutex_unlock(&rt->mutex);
        return NULL;
    }

    h->busy = 1;

    pthread_mutex_unlock(&rt->mutex);

    return h;
}


/* a place for a connection in a call, or NULL when all are taken */
static faas_rt_held_t *
faas_rt_reserve(faas_rt_t *rt)
{
    unsigned         i;
    faas_rt_held_t  *h;

    h = NULL;

    pthread_mutex_lock(&rt->mutex);

    if (rt->nheld < FAAS_RT_HELD_MAX) {
        for (i = 0; rt->held[i].used; i++) { /* void */ }

        h = &rt->held[i];
        h->fd = -1;
        h->gen++;
        h->used = 1;
        h->busy = 1;
        h->armed = 0;
        rt->nheld++;
    }

    pthread_mutex_unlock(&rt->mutex);

    return h;
}


/* fd, on its place h, waits in epoll for its next call, nothing read yet */
static void
faas_rt_hold(faas_rt_t *rt, int fd, faas_rt_held_t *h)
{
    int                 op;
    struct epoll_event  ev;

    /* level-triggered, it stayed armed */

    if (h->armed && !rt->oneshot) {
        pthread_mutex_lock(&rt->mutex);
        h->busy = 0;
        pthread_mutex_unlock(&rt->mutex);
        return;
    }

    op = h->armed ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;

    h->fd = fd;

    ev.events = rt->oneshot ? EPOLLIN | EPOLLONESHOT : EPOLLIN;
    ev.data.u64 = ((uint64_t) h->gen << 32) | (uint64_t) (h - rt->held + 1);

    /*
     * Not busy before it is armed: another thread that gets its event
     * then owns it.
     */

    pthread_mutex_lock(&rt->mutex);
    h->busy = 0;
    h->armed = 1;
    pthread_mutex_unlock(&rt->mutex);

    if (epoll_ctl(rt->epfd, op, fd, &ev) == -1) {
        faas_rt_log("held connection: epoll_ctl() failed: %s",
                    strerror(errno));

        pthread_mutex_lock(&rt->mutex);
        h->busy = 1;
        pthread_mutex_unlock(&rt->mutex);

        faas_rt_release(rt, h, fd);
    }
}


/*
 * Closes fd, a held connection's (on h, owned by this thread) or not; with
 * h, the place is free again.  fd -1: closed already.
 */
static void
faas_rt_release(faas_rt_t *rt, faas_rt_held_t *h, int fd)
{
    /* what waits for fd goes first: an answer, then the close */

    if (fd != -1) {
        faas_rt_batch_flush(&rt->batch);
    }

    if (h != NULL) {
        if (h->armed) {
            /* else the supervisor's duplicate, if any, keeps it armed */
            (void) epoll_ctl(rt->epfd, EPOLL_CTL_DEL, fd, NULL);
        }

        pthread_mutex_lock(&rt->mutex);
        h->used = 0;
        h->busy = 0;
        h->armed = 0;
        rt->nheld--;
        pthread_mutex_unlock(&rt->mutex);
    }

    if (fd != -1) {
        close(fd);
    }
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


/* a function that calls exit() ends the process: the answers go first */
static void
faas_rt_batch_atexit(void)
{
    faas_rt_batch_flush(&faas_rt.batch);
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
