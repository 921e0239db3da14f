/*
 * bench-coldstart: the cold-start and warm-latency probe of ngx_faas.
 *
 * Sends N sequential HTTP/1.1 requests to one nginx URL and times each from
 * the first byte written to the last byte of the response read.  A request
 * is classified by the X-Cold response header (add_header X-Cold
 * $faas_cold_start in the location).
 *
 * cold mode: before every sample the function is brought back to zero
 *   instances, by running the -x command when one is given (a supervisor
 *   interface that stops the instances), otherwise by sleeping -w ms, which
 *   must exceed the function's idle_timeout.  Each sample uses a new
 *   connection, opened before the clock starts.
 *
 * warm mode: one unrecorded request warms the instance, then N requests
 *   follow back to back on one keepalive connection.
 *
 * With -l the supervisor's log file is read too: "cold start in X ms"
 * lines written during the run give the supervisor-side cold-start time,
 * and their "init Y us" the part the runtime spent loading the code.
 *
 * Summary lines on stdout have a fixed shape for scripts:
 *   <set> n=N p50=F p90=F p99=F max=F mean=F ms
 */

#define _GNU_SOURCE

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>


#define BENCH_RESPONSE_MAX   (1024 * 1024)


typedef struct {
    char        *host;
    char        *port;
    char        *path;
    int          cold_mode;
    int          samples;
    int          wait_ms;
    int          timeout_ms;
    char        *command;
    char        *raw_file;
    char        *log_file;
    char        *log_grep;
    char        *log_out;
} bench_opts_t;


typedef struct {
    double       ms;
    int          cold;          /* X-Cold: 1, 0, or -1 when absent */
    int          status;
} bench_sample_t;


typedef struct {
    char        *buf;
    size_t       len;
    size_t       size;
} bench_buf_t;


typedef struct {
    int          status;
    int          cold;
    int          close;
} bench_response_t;


/* what the supervisor logged of each cold start, -1 when it did not say */
typedef struct {
    double      *start;
    double      *init;
    int          n;
    int          size;
} bench_log_t;


static void bench_usage(void);
static int bench_parse_url(char *url, bench_opts_t *o);
static int bench_connect(bench_opts_t *o);
static int bench_request(int fd, bench_opts_t *o, bench_buf_t *b,
    bench_sample_t *s, int *close_after);
static int bench_read_response(int fd, int timeout_ms, bench_buf_t *b,
    bench_response_t *rs);
static int bench_response_end(bench_buf_t *b, bench_response_t *rs);
static int bench_chunked_end(const char *p, const char *last);
static int bench_header(const char *p, const char *eol, const char *name,
    const char **value);
static double bench_now_ms(void);
static void bench_sleep_ms(int ms);
static int bench_cmp_double(const void *a, const void *b);
static void bench_report(const char *name, double *v, int n);
static int bench_read_log(bench_opts_t *o, off_t from, bench_log_t *lg);
static int bench_log_time(const char *line, const char *key, double *ms);


int
main(int argc, char **argv)
{
    int               opt, fd, i, n, ncold, nwarm, nother, nerr, rc;
    int               close_after;
    off_t             log_from;
    double           *cold, *warm;
    FILE             *f;
    struct stat       st;
    bench_buf_t       b;
    bench_log_t       lg;
    bench_opts_t      o;
    bench_sample_t   *samples, *s;

    memset(&o, 0, sizeof(o));
    o.cold_mode = 1;
    o.samples = 100;
    o.wait_ms = 200;
    o.timeout_ms = 10000;

    while ((opt = getopt(argc, argv, "n:m:w:x:t:o:l:g:L:h")) != -1) {
        switch (opt) {
        case 'n':
            o.samples = atoi(optarg);
            break;
        case 'm':
            if (strcmp(optarg, "cold") == 0) {
                o.cold_mode = 1;

            } else if (strcmp(optarg, "warm") == 0) {
                o.cold_mode = 0;

            } else {
                bench_usage();
                return 2;
            }

            break;
        case 'w':
            o.wait_ms = atoi(optarg);
            break;
        case 'x':
            o.command = optarg;
            break;
        case 't':
            o.timeout_ms = atoi(optarg);
            break;
        case 'o':
            o.raw_file = optarg;
            break;
        case 'l':
            o.log_file = optarg;
            break;
        case 'g':
            o.log_grep = optarg;
            break;
        case 'L':
            o.log_out = optarg;
            break;
        default:
            bench_usage();
            return opt == 'h' ? 0 : 2;
        }
    }

    if (optind != argc - 1 || o.samples <= 0 || o.wait_ms < 0
        || o.timeout_ms <= 0)
    {
        bench_usage();
        return 2;
    }

    if (bench_parse_url(argv[optind], &o) != 0) {
        fprintf(stderr, "bench-coldstart: only http://HOST:PORT/PATH URLs "
                "are supported: %s\n", argv[optind]);
        return 2;
    }

    log_from = 0;

    if (o.log_file && stat(o.log_file, &st) == 0) {
        log_from = st.st_size;
    }

    samples = calloc(o.samples, sizeof(bench_sample_t));
    cold = calloc(o.samples, sizeof(double));
    warm = calloc(o.samples, sizeof(double));
    b.size = 16384;
    b.len = 0;
    b.buf = malloc(b.size);

    if (samples == NULL || cold == NULL || warm == NULL || b.buf == NULL) {
        fprintf(stderr, "bench-coldstart: out of memory\n");
        return 1;
    }

    fd = -1;
    nerr = 0;
    close_after = 0;

    if (!o.cold_mode) {
        fd = bench_connect(&o);
        if (fd == -1) {
            return 1;
        }

        /* warms the instance up; not recorded */
        if (bench_request(fd, &o, &b, &samples[0], &close_after) != 0) {
            return 1;
        }

        if (samples[0].status < 200 || samples[0].status > 299) {
            fprintf(stderr, "bench-coldstart: the warm-up request got "
                    "status %d\n", samples[0].status);
            return 1;
        }

        if (close_after) {
            close(fd);
            fd = -1;
        }
    }

    for (i = 0; i < o.samples; i++) {
        s = &samples[i];

        if (o.cold_mode) {
            if (o.command) {
                rc = system(o.command);

                if (rc != 0) {
                    fprintf(stderr, "bench-coldstart: \"%s\" failed (%d)\n",
                            o.command, rc);
                    return 1;
                }

            } else {
                bench_sleep_ms(o.wait_ms);
            }
        }

        if (fd == -1) {
            fd = bench_connect(&o);
            if (fd == -1) {
                return 1;
            }
        }

        if (bench_request(fd, &o, &b, s, &close_after) != 0) {
            s->status = 0;
            nerr++;
            close_after = 1;
        }

        if (o.cold_mode || close_after) {
            close(fd);
            fd = -1;
        }
    }

    if (fd != -1) {
        close(fd);
    }

    ncold = 0;
    nwarm = 0;
    nother = 0;

    for (i = 0; i < o.samples; i++) {
        s = &samples[i];

        if (s->status < 200 || s->status > 299) {
            nother++;
            continue;
        }

        /* without the header the mode decides, and the summary says so */
        if (s->cold == 1 || (s->cold == -1 && o.cold_mode)) {
            cold[ncold++] = s->ms;

        } else {
            warm[nwarm++] = s->ms;
        }
    }

    if (o.raw_file) {
        f = fopen(o.raw_file, "w");
        if (f == NULL) {
            perror(o.raw_file);
            return 1;
        }

        fprintf(f, "# seq latency_ms cold status  (%s mode, %s)\n",
                o.cold_mode ? "cold" : "warm", argv[optind]);

        for (i = 0; i < o.samples; i++) {
            s = &samples[i];
            fprintf(f, "%d %.3f %d %d\n", i + 1, s->ms, s->cold, s->status);
        }

        fclose(f);
    }

    printf("samples %d: cold %d, warm %d, failed or non-2xx %d (%d errors)\n",
           o.samples, ncold, nwarm, nother, nerr);

    for (i = 0; i < o.samples; i++) {
        if (samples[i].status && samples[i].cold == -1) {
            printf("note: no X-Cold header in the responses, samples are "
                   "classified by the mode\n");
            break;
        }
    }

    bench_report("client-cold", cold, ncold);
    bench_report("client-warm", warm, nwarm);

    if (o.log_file) {
        memset(&lg, 0, sizeof(bench_log_t));

        if (bench_read_log(&o, log_from, &lg) != 0) {
            return 1;
        }

        if (lg.n == 0) {
            printf("note: no \"cold start in\" lines in %s\n", o.log_file);
        }

        if (o.log_out) {
            f = fopen(o.log_out, "w");
            if (f == NULL) {
                perror(o.log_out);
                return 1;
            }

            fprintf(f, "# seq cold_start_ms init_ms  (%s, -1: not logged)\n",
                    o.log_file);

            for (i = 0; i < lg.n; i++) {
                fprintf(f, "%d %.3f %.3f\n", i + 1, lg.start[i], lg.init[i]);
            }

            fclose(f);
        }

        bench_report("supervisor-cold", lg.start, lg.n);

        /* the runtime's own part: loading the function's code */
        for (i = 0, n = 0; i < lg.n; i++) {
            if (lg.init[i] >= 0) {
                lg.init[n++] = lg.init[i];
            }
        }

        bench_report("runtime-init", lg.init, n);

        free(lg.start);
        free(lg.init);
    }

    if (o.cold_mode && ncold < o.samples) {
        fprintf(stderr, "bench-coldstart: %d of %d samples were not cold "
                "starts: is -w longer than the idle_timeout?\n",
                o.samples - ncold, o.samples);
    }

    free(samples);
    free(cold);
    free(warm);
    free(b.buf);
    free(o.host);
    free(o.port);
    free(o.path);

    return nother ? 1 : 0;
}


static void
bench_usage(void)
{
    fprintf(stderr,
        "usage: bench-coldstart [options] http://HOST:PORT/PATH\n"
        "  -m cold|warm  cold: every sample from zero instances (default)\n"
        "                warm: back to back on one keepalive connection\n"
        "  -n N          samples (default 100)\n"
        "  -w MS         cold mode: sleep before each sample, longer than\n"
        "                the function's idle_timeout (default 200)\n"
        "  -x COMMAND    cold mode: run COMMAND instead of sleeping; it must\n"
        "                return once the function has no instance left\n"
        "  -t MS         timeout of one request (default 10000)\n"
        "  -o FILE       raw samples: seq latency_ms cold status\n"
        "  -l FILE       supervisor log: report its \"cold start in X ms\"\n"
        "                and \"init Y us\"\n"
        "  -g TEXT       only the log lines that contain TEXT\n"
        "  -L FILE       raw supervisor-side samples from -l\n");
}


static int
bench_parse_url(char *url, bench_opts_t *o)
{
    char  *p, *colon, *slash;

    if (strncmp(url, "http://", 7) != 0) {
        return -1;
    }

    p = url + 7;
    slash = strchr(p, '/');
    colon = memchr(p, ':', slash ? (size_t) (slash - p) : strlen(p));

    if (colon == NULL || colon == p) {
        return -1;
    }

    o->host = strndup(p, colon - p);
    o->port = slash ? strndup(colon + 1, slash - colon - 1)
                    : strdup(colon + 1);
    o->path = strdup(slash ? slash : "/");

    if (o->host == NULL || o->port == NULL || o->path == NULL
        || o->port[0] == '\0')
    {
        return -1;
    }

    return 0;
}


static int
bench_connect(bench_opts_t *o)
{
    int               fd, rc, one;
    struct addrinfo   hints, *res, *ai;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;

    rc = getaddrinfo(o->host, o->port, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, "bench-coldstart: %s:%s: %s\n", o->host, o->port,
                gai_strerror(rc));
        return -1;
    }

    fd = -1;

    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
                    ai->ai_protocol);
        if (fd == -1) {
            continue;
        }

        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            break;
        }

        close(fd);
        fd = -1;
    }

    freeaddrinfo(res);

    if (fd == -1) {
        fprintf(stderr, "bench-coldstart: connect to %s:%s: %s\n", o->host,
                o->port, strerror(errno));
        return -1;
    }

    /* the request is one small write: do not let Nagle hold it */
    one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

    return fd;
}


static int
bench_request(int fd, bench_opts_t *o, bench_buf_t *b, bench_sample_t *s,
    int *close_after)
{
    int                n, len;
    char               req[1024];
    double             start;
    bench_response_t   rs;

    len = snprintf(req, sizeof(req),
                   "GET %s HTTP/1.1\r\nHost: %s:%s\r\n"
                   "User-Agent: bench-coldstart\r\n\r\n",
                   o->path, o->host, o->port);

    if (len < 0 || (size_t) len >= sizeof(req)) {
        fprintf(stderr, "bench-coldstart: URL too long\n");
        return -1;
    }

    b->len = 0;
    start = bench_now_ms();

    n = write(fd, req, len);
    if (n != len) {
        fprintf(stderr, "bench-coldstart: write: %s\n",
                n == -1 ? strerror(errno) : "short write");
        return -1;
    }

    if (bench_read_response(fd, o->timeout_ms, b, &rs) != 0) {
        return -1;
    }

    s->ms = bench_now_ms() - start;
    s->status = rs.status;
    s->cold = rs.cold;
    *close_after = rs.close;

    return 0;
}


static int
bench_read_response(int fd, int timeout_ms, bench_buf_t *b,
    bench_response_t *rs)
{
    int             rc;
    char           *p;
    ssize_t         n;
    struct pollfd   pfd;

    pfd.fd = fd;
    pfd.events = POLLIN;

    for ( ;; ) {
        if (b->len == b->size) {
            if (b->size >= BENCH_RESPONSE_MAX) {
                fprintf(stderr, "bench-coldstart: response too large\n");
                return -1;
            }

            p = realloc(b->buf, b->size * 2);
            if (p == NULL) {
                fprintf(stderr, "bench-coldstart: out of memory\n");
                return -1;
            }

            b->buf = p;
            b->size *= 2;
        }

        rc = poll(&pfd, 1, timeout_ms);

        if (rc == 0) {
            fprintf(stderr, "bench-coldstart: no response in %d ms\n",
                    timeout_ms);
            return -1;
        }

        if (rc == -1) {
            if (errno == EINTR) {
                continue;
            }

            perror("poll");
            return -1;
        }

        n = read(fd, b->buf + b->len, b->size - b->len);

        if (n == -1) {
            if (errno == EINTR) {
                continue;
            }

            perror("read");
            return -1;
        }

        if (n == 0) {
            /* a response delimited by the close of the connection */
            if (bench_response_end(b, rs) == 0) {
                rs->close = 1;
                return 0;
            }

            fprintf(stderr, "bench-coldstart: connection closed inside "
                    "a response\n");
            return -1;
        }

        b->len += n;

        rc = bench_response_end(b, rs);

        if (rc == 1) {
            /* sequential requests: nothing may follow the response */
            return 0;
        }

        if (rc == -1) {
            return -1;
        }
    }
}


/*
 * Looks for the end of the response in the buffer.  Returns 1 when it is
 * complete, 0 when the body runs until the connection closes, -2 when more
 * is needed, -1 for a malformed response.  Responses are small: it simply
 * starts over after every read.
 */

static int
bench_response_end(bench_buf_t *b, bench_response_t *rs)
{
    int          chunked, has_length;
    char        *p, *last, *eol, *hend;
    size_t       length;
    const char  *value;

    p = b->buf;
    last = b->buf + b->len;

    hend = memmem(p, b->len, "\r\n\r\n", 4);
    if (hend == NULL) {
        return -2;
    }

    if (b->len < 12 || memcmp(p, "HTTP/1.", 7) != 0) {
        fprintf(stderr, "bench-coldstart: not an HTTP/1.x response\n");
        return -1;
    }

    rs->status = atoi(p + 9);
    rs->cold = -1;
    rs->close = 0;
    chunked = 0;
    has_length = 0;
    length = 0;

    for (p = memmem(p, hend + 2 - p, "\r\n", 2) + 2;
         p < hend + 2;
         p = eol + 2)
    {
        eol = memmem(p, hend + 2 - p, "\r\n", 2);

        if (bench_header(p, eol, "Content-Length", &value)) {
            has_length = 1;
            length = strtoul(value, NULL, 10);

        } else if (bench_header(p, eol, "Transfer-Encoding", &value)) {
            chunked = (strncasecmp(value, "chunked", 7) == 0);

        } else if (bench_header(p, eol, "Connection", &value)) {
            rs->close = (strncasecmp(value, "close", 5) == 0);

        } else if (bench_header(p, eol, "X-Cold", &value)) {
            if (*value == '1') {
                rs->cold = 1;

            } else if (*value == '0') {
                rs->cold = 0;
            }
        }
    }

    p = hend + 4;

    if (rs->status == 204 || rs->status == 304) {
        return 1;
    }

    if (chunked) {
        return bench_chunked_end(p, last) == 0 ? 1 : -2;
    }

    if (has_length) {
        return (size_t) (last - p) < length ? -2 : 1;
    }

    rs->close = 1;

    return 0;
}


static int
bench_chunked_end(const char *p, const char *last)
{
    size_t       size;
    const char  *eol;

    for ( ;; ) {
        eol = memmem(p, last - p, "\r\n", 2);
        if (eol == NULL) {
            return -1;
        }

        size = strtoul(p, NULL, 16);

        if (size == 0) {
            /* the last chunk; no trailers are expected here */
            if ((size_t) (last - eol) < 4 || memcmp(eol, "\r\n\r\n", 4)) {
                return -1;
            }

            return 0;
        }

        p = eol + 2;

        if ((size_t) (last - p) < size + 2) {
            return -1;
        }

        p += size + 2;
    }
}


static int
bench_header(const char *p, const char *eol, const char *name,
    const char **value)
{
    size_t  n;

    n = strlen(name);

    if ((size_t) (eol - p) <= n || p[n] != ':'
        || strncasecmp(p, name, n) != 0)
    {
        return 0;
    }

    for (p += n + 1; *p == ' ' || *p == '\t'; p++) {
        /* void */
    }

    *value = p;

    return 1;
}


static double
bench_now_ms(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1000000.0;
}


static void
bench_sleep_ms(int ms)
{
    struct timespec  ts;

    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;

    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
        /* void */
    }
}


static int
bench_cmp_double(const void *a, const void *b)
{
    double  x, y;

    x = *(const double *) a;
    y = *(const double *) b;

    return (x > y) - (x < y);
}


/* nearest-rank percentiles */

static void
bench_report(const char *name, double *v, int n)
{
    int     i;
    double  sum;

    if (n == 0) {
        return;
    }

    qsort(v, n, sizeof(double), bench_cmp_double);

    sum = 0;

    for (i = 0; i < n; i++) {
        sum += v[i];
    }

#define bench_pct(p)  v[(int) ((p) * n / 100.0 + 0.999999) - 1]

    printf("%-16s n=%d p50=%.3f p90=%.3f p99=%.3f max=%.3f mean=%.3f ms\n",
           name, n, bench_pct(50), bench_pct(90), bench_pct(99), v[n - 1],
           sum / n);

#undef bench_pct
}


/*
 * Collects "cold start in X ms" and the runtime's "init Y us" from the lines
 * the supervisor appended to its log since the run started.
 */

static int
bench_read_log(bench_opts_t *o, off_t from, bench_log_t *lg)
{
    char     line[4096];
    FILE    *f;
    double   start, init, *a;

    f = fopen(o->log_file, "r");
    if (f == NULL) {
        perror(o->log_file);
        return -1;
    }

    if (fseeko(f, from, SEEK_SET) == -1) {
        perror(o->log_file);
        fclose(f);
        return -1;
    }

    while (fgets(line, sizeof(line), f)) {
        if (o->log_grep && strstr(line, o->log_grep) == NULL) {
            continue;
        }

        if (bench_log_time(line, "cold start in ", &start) != 0) {
            continue;
        }

        if (bench_log_time(line, "init ", &init) != 0) {
            init = -1;
        }

        if (lg->n == lg->size) {
            lg->size = lg->size ? lg->size * 2 : 256;

            a = realloc(lg->start, lg->size * sizeof(double));
            if (a == NULL) {
                goto nomem;
            }

            lg->start = a;

            a = realloc(lg->init, lg->size * sizeof(double));
            if (a == NULL) {
                goto nomem;
            }

            lg->init = a;
        }

        lg->start[lg->n] = start;
        lg->init[lg->n] = init;
        lg->n++;
    }

    fclose(f);

    return 0;

nomem:

    fprintf(stderr, "bench-coldstart: out of memory\n");
    fclose(f);

    return -1;
}


/* "KEY 1.5 ms" or "KEY 230 us" anywhere in the line, in ms */

static int
bench_log_time(const char *line, const char *key, double *ms)
{
    char        *unit;
    const char  *p;

    p = strstr(line, key);
    if (p == NULL) {
        return -1;
    }

    p += strlen(key);

    *ms = strtod(p, &unit);
    if (unit == p) {
        return -1;
    }

    while (*unit == ' ') {
        unit++;
    }

    if (strncmp(unit, "us", 2) == 0) {
        *ms /= 1000.0;
        return 0;
    }

    return strncmp(unit, "ms", 2) == 0 ? 0 : -1;
}
