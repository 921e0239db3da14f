/*
 * bench-upstream: the plain HTTP/1.1 server that nginx proxy_pass is
 * measured against.
 *
 * One thread, one epoll loop, one unix socket.  Every request gets the same
 * "Hello, world!\n" text/plain answer with a Content-Length, so the numbers
 * measure the transport (nginx -> unix socket -> process -> nginx), not the
 * work.  Keepalive follows HTTP/1.x rules: 1.1 keeps the connection unless
 * the client sends "Connection: close", 1.0 closes it unless the client asks
 * for keep-alive.  Request bodies with a Content-Length are read and
 * discarded; chunked bodies are refused with 501.
 *
 *     bench-upstream [-m mode] /path/to/socket
 *
 * SIGINT or SIGTERM stops it and removes the socket.
 */

#define _GNU_SOURCE

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>


#define BENCH_IN_SIZE      8192
#define BENCH_OUT_SIZE     4096
#define BENCH_EVENTS       256

#define BENCH_BODY         "Hello, world!\n"


typedef struct {
    int         fd;
    unsigned    writing:1;
    unsigned    closing:1;
    size_t      in_len;
    size_t      skip;           /* request body bytes still to discard */
    size_t      out_pos;
    size_t      out_len;
    char        in[BENCH_IN_SIZE];
    char        out[BENCH_OUT_SIZE];
} bench_conn_t;


typedef struct {
    unsigned    keepalive:1;
    unsigned    head:1;
    unsigned    http10:1;
    int         status;
    size_t      content_length;
} bench_request_t;


static void bench_usage(void);
static int bench_listen(const char *path, mode_t mode);
static void bench_accept(int ep, int ls);
static void bench_conn_handler(int ep, bench_conn_t *c, uint32_t events);
static int bench_conn_process(bench_conn_t *c);
static int bench_parse_request(char *p, char *end, bench_request_t *rq);
static int bench_header_is(const char *p, size_t len, const char *name,
    char **value);
static size_t bench_response(char *buf, size_t size, bench_request_t *rq);
static void bench_conn_close(bench_conn_t *c);
static void bench_on_signal(int signo);


static volatile sig_atomic_t  bench_quit;


int
main(int argc, char **argv)
{
    int                  ep, ls, n, i, opt;
    char                *path;
    mode_t               mode;
    struct sigaction     sa;
    struct epoll_event   ee, events[BENCH_EVENTS];

    mode = 0666;

    while ((opt = getopt(argc, argv, "m:h")) != -1) {
        switch (opt) {
        case 'm':
            mode = (mode_t) strtoul(optarg, NULL, 8);
            break;
        default:
            bench_usage();
            return opt == 'h' ? 0 : 2;
        }
    }

    if (optind != argc - 1) {
        bench_usage();
        return 2;
    }

    path = argv[optind];

    /* no SA_RESTART: a signal must interrupt epoll_wait() */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = bench_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    ls = bench_listen(path, mode);
    if (ls == -1) {
        return 1;
    }

    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep == -1) {
        perror("epoll_create1");
        unlink(path);
        return 1;
    }

    ee.events = EPOLLIN;
    ee.data.ptr = NULL;

    if (epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ee) == -1) {
        perror("epoll_ctl");
        unlink(path);
        return 1;
    }

    while (!bench_quit) {
        n = epoll_wait(ep, events, BENCH_EVENTS, -1);

        if (n == -1) {
            if (errno == EINTR) {
                continue;
            }

            perror("epoll_wait");
            break;
        }

        for (i = 0; i < n; i++) {
            if (events[i].data.ptr == NULL) {
                bench_accept(ep, ls);
                continue;
            }

            bench_conn_handler(ep, events[i].data.ptr, events[i].events);
        }
    }

    unlink(path);

    return bench_quit ? 0 : 1;
}


static void
bench_usage(void)
{
    fprintf(stderr, "usage: bench-upstream [-m mode] /path/to/socket\n");
}


static int
bench_listen(const char *path, mode_t mode)
{
    int                 fd;
    struct sockaddr_un  sun;

    if (strlen(path) >= sizeof(sun.sun_path)) {
        fprintf(stderr, "bench-upstream: socket path too long: %s\n", path);
        return -1;
    }

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    strcpy(sun.sun_path, path);

    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        perror("socket");
        return -1;
    }

    /* a stale socket from a killed run would make bind() fail */
    if (unlink(path) == -1 && errno != ENOENT) {
        perror(path);
        close(fd);
        return -1;
    }

    if (bind(fd, (struct sockaddr *) &sun, sizeof(sun)) == -1) {
        perror(path);
        close(fd);
        return -1;
    }

    /* nginx workers usually run as another user than this process */
    if (chmod(path, mode) == -1 || listen(fd, 4096) == -1) {
        perror(path);
        close(fd);
        unlink(path);
        return -1;
    }

    return fd;
}


static void
bench_accept(int ep, int ls)
{
    int                  fd;
    bench_conn_t        *c;
    struct epoll_event   ee;

    for ( ;; ) {
        fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd == -1) {
            if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
                perror("accept4");
            }

            return;
        }

        c = malloc(sizeof(bench_conn_t));
        if (c == NULL) {
            close(fd);
            continue;
        }

        c->fd = fd;
        c->writing = 0;
        c->closing = 0;
        c->in_len = 0;
        c->skip = 0;
        c->out_pos = 0;
        c->out_len = 0;

        ee.events = EPOLLIN;
        ee.data.ptr = c;

        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ee) == -1) {
            perror("epoll_ctl");
            bench_conn_close(c);
        }
    }
}


/*
 * One read per readiness event, then answer everything complete in the
 * buffer with one write.  The connection waits for EPOLLOUT only when the
 * socket buffer is full, and stops reading meanwhile, which bounds what a
 * pipelining client can make it hold.
 */

static void
bench_conn_handler(int ep, bench_conn_t *c, uint32_t events)
{
    int                  more;
    ssize_t              n;
    struct epoll_event   ee;

    if (!c->writing) {
        if (events & (EPOLLERR | EPOLLHUP) && !(events & EPOLLIN)) {
            bench_conn_close(c);
            return;
        }

        n = read(c->fd, c->in + c->in_len, BENCH_IN_SIZE - c->in_len);

        if (n == 0) {
            bench_conn_close(c);
            return;
        }

        if (n == -1) {
            if (errno != EAGAIN && errno != EINTR) {
                bench_conn_close(c);
            }

            return;
        }

        c->in_len += n;
    }

    for ( ;; ) {
        more = bench_conn_process(c);

        while (c->out_pos < c->out_len) {
            n = write(c->fd, c->out + c->out_pos, c->out_len - c->out_pos);

            if (n == -1) {
                if (errno == EINTR) {
                    continue;
                }

                if (errno != EAGAIN) {
                    bench_conn_close(c);
                    return;
                }

                if (!c->writing) {
                    ee.events = EPOLLOUT;
                    ee.data.ptr = c;

                    if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ee) == -1) {
                        bench_conn_close(c);
                        return;
                    }

                    c->writing = 1;
                }

                return;
            }

            c->out_pos += n;
        }

        c->out_pos = 0;
        c->out_len = 0;

        if (c->closing) {
            bench_conn_close(c);
            return;
        }

        if (!c->writing) {
            if (more) {
                continue;
            }

            return;
        }

        /*
         * The output drained: requests left in the input buffer are answered
         * before reading again.
         */

        ee.events = EPOLLIN;
        ee.data.ptr = c;

        if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ee) == -1) {
            bench_conn_close(c);
            return;
        }

        c->writing = 0;
    }
}


/*
 * Answers the complete requests in the input buffer.  Returns 1 when it
 * stopped because the output buffer is full and requests may be left.
 */

static int
bench_conn_process(bench_conn_t *c)
{
    int               rc, more;
    char             *p, *end, *hend;
    size_t            len, n;
    bench_request_t   rq;

    more = 0;
    p = c->in;
    end = c->in + c->in_len;

    while (p < end && !c->closing) {

        if (c->skip) {
            n = (size_t) (end - p) < c->skip ? (size_t) (end - p) : c->skip;
            p += n;
            c->skip -= n;
            continue;
        }

        /* room for one more response, else wait until the output drains */
        if (BENCH_OUT_SIZE - c->out_len < 256) {
            more = 1;
            break;
        }

        hend = memmem(p, end - p, "\r\n\r\n", 4);

        if (hend == NULL) {
            if (p == c->in && c->in_len == BENCH_IN_SIZE) {
                rq.status = 431;
                rq.keepalive = 0;
                rq.head = 0;
                rq.http10 = 0;
                c->out_len += bench_response(c->out + c->out_len,
                                             BENCH_OUT_SIZE - c->out_len,
                                             &rq);
                c->closing = 1;
            }

            break;
        }

        rc = bench_parse_request(p, hend + 2, &rq);

        c->out_len += bench_response(c->out + c->out_len,
                                     BENCH_OUT_SIZE - c->out_len, &rq);

        if (rc != 0 || !rq.keepalive) {
            c->closing = 1;
        }

        c->skip = rq.content_length;
        p = hend + 4;
    }

    len = end - p;

    if (len && p != c->in) {
        memmove(c->in, p, len);
    }

    c->in_len = c->closing ? 0 : len;

    return more;
}


/*
 * Parses the request line and the headers in [p, end), the last header
 * line's CRLF included.  Returns 0 for a request answered with 200, -1 for
 * one answered with an error and a close.
 */

static int
bench_parse_request(char *p, char *end, bench_request_t *rq)
{
    char    *eol, *sp, *value;
    size_t   len;

    rq->status = 200;
    rq->keepalive = 1;
    rq->head = 0;
    rq->http10 = 0;
    rq->content_length = 0;

    eol = memmem(p, end - p, "\r\n", 2);

    /* "METHOD SP target SP HTTP/1.x" */
    sp = memchr(p, ' ', eol - p);
    if (sp == NULL || sp == p) {
        goto bad;
    }

    rq->head = (sp - p == 4 && memcmp(p, "HEAD", 4) == 0);

    if (eol - p < 10 || memcmp(eol - 9, " HTTP/1.", 8) != 0) {
        goto bad;
    }

    switch (eol[-1]) {
    case '0':
        rq->http10 = 1;
        rq->keepalive = 0;
        break;
    case '1':
        break;
    default:
        goto bad;
    }

    for (p = eol + 2; p < end; p = eol + 2) {
        eol = memmem(p, end - p, "\r\n", 2);
        len = eol - p;

        if (bench_header_is(p, len, "connection", &value)) {
            if (strncasecmp(value, "close", 5) == 0) {
                rq->keepalive = 0;

            } else if (strncasecmp(value, "keep-alive", 10) == 0) {
                rq->keepalive = 1;
            }

        } else if (bench_header_is(p, len, "content-length", &value)) {
            if (*value < '0' || *value > '9') {
                goto bad;
            }

            rq->content_length = strtoul(value, NULL, 10);

        } else if (bench_header_is(p, len, "transfer-encoding", &value)) {
            rq->status = 501;
            rq->keepalive = 0;
            return -1;
        }
    }

    return 0;

bad:

    rq->status = 400;
    rq->keepalive = 0;
    rq->head = 0;

    return -1;
}


static int
bench_header_is(const char *p, size_t len, const char *name, char **value)
{
    size_t  n;

    n = strlen(name);

    if (len <= n || p[n] != ':' || strncasecmp(p, name, n) != 0) {
        return 0;
    }

    for (p += n + 1; *p == ' ' || *p == '\t'; p++) {
        /* void */
    }

    *value = (char *) p;

    return 1;
}


static size_t
bench_response(char *buf, size_t size, bench_request_t *rq)
{
    int          n;
    const char  *reason, *conn;

    switch (rq->status) {
    case 200:
        reason = "OK";
        break;
    case 400:
        reason = "Bad Request";
        break;
    case 431:
        reason = "Request Header Fields Too Large";
        break;
    default:
        reason = "Not Implemented";
        break;
    }

    if (!rq->keepalive) {
        conn = "Connection: close\r\n";

    } else if (rq->http10) {
        conn = "Connection: keep-alive\r\n";

    } else {
        conn = "";
    }

    if (rq->status != 200) {
        n = snprintf(buf, size, "HTTP/1.1 %d %s\r\n"
                     "Content-Length: 0\r\n%s\r\n",
                     rq->status, reason, conn);

    } else {
        n = snprintf(buf, size, "HTTP/1.1 200 OK\r\n"
                     "Content-Type: text/plain\r\n"
                     "Content-Length: %zu\r\n%s\r\n%s",
                     sizeof(BENCH_BODY) - 1, conn,
                     rq->head ? "" : BENCH_BODY);
    }

    return (n > 0 && (size_t) n < size) ? (size_t) n : 0;
}


static void
bench_conn_close(bench_conn_t *c)
{
    /* close() removes the fd from the epoll set */
    close(c->fd);
    free(c);
}


static void
bench_on_signal(int signo)
{
    bench_quit = signo;
}
