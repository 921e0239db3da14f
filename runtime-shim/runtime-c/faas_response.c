/*
 * The response side of the function API: RESPONSE, BODY* and END frames
 * written straight to the nginx connection.
 *
 * Body bytes collect in a 64 KiB buffer, so a small response leaves in one
 * write with its head and END, and carries a Content-Length.  A larger one
 * goes out in 64 KiB BODY frames; a write of more than that skips the
 * buffer and is sent from the caller's memory.
 *
 * The head is written as the headers come, without a JSON document: each
 * [name, value] pair is appended, escaped, at FAAS_RT_HEAD_PREFIX in the
 * head buffer, and the frame header and {"status":N,"headers":[ are put
 * right before the pairs when the head leaves.  jansson would build and
 * free a document per call for what is one fixed shape (measured: the
 * larger part of its share of an instance's CPU).
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "faas_runtime.h"


static int faas_rt_response_send(faas_response_t *res, const void *data,
    size_t len, int last);
static uint8_t *faas_rt_response_head(faas_response_t *res, size_t *len);
static int faas_rt_response_defer(faas_response_t *res, struct iovec *iov,
    int n);
static uint8_t *faas_rt_json_string(uint8_t *p, uint8_t *end,
    const char *s);
static char *faas_rt_decimal(char *p, long long v);


void
faas_rt_response_init(faas_response_t *res, faas_rt_conn_t *conn,
    uint8_t *head, uint8_t *buf)
{
    memset(res, 0, sizeof(faas_response_t));

    res->conn = conn;
    res->status = 200;
    res->head = head;
    res->buf = buf;
    res->pairs = head + FAAS_RT_HEAD_PREFIX;
}


int
faas_response_status(faas_response_t *res, int status)
{
    if (res->head_sent || res->failed) {
        return -1;
    }

    res->status = status;

    return 0;
}


int
faas_response_header(faas_response_t *res, const char *name,
    const char *value)
{
    uint8_t  *p, *end;

    if (res->head_sent || res->failed || name == NULL || value == NULL) {
        return -1;
    }

    p = res->pairs + res->pairs_len;
    end = res->pairs + FAAS_JSON_MAX;

    if (end - p < 4) {
        return -1;
    }

    if (res->pairs_len) {
        *p++ = ',';
    }

    *p++ = '[';

    /* NULL for strings that are not UTF-8, or no room */

    p = faas_rt_json_string(p, end, name);

    if (p == NULL || p == end) {
        return -1;
    }

    *p++ = ',';

    p = faas_rt_json_string(p, end, value);

    if (p == NULL || p == end) {
        return -1;
    }

    *p++ = ']';

    res->pairs_len = p - res->pairs;

    if (strcasecmp(name, "Content-Length") == 0) {
        res->has_length = 1;
    }

    return 0;
}


int
faas_response_write(faas_response_t *res, const void *data, size_t len)
{
    size_t         n;
    const uint8_t  *p;

    if (res->failed) {
        return -1;
    }

    p = data;

    while (len > 0) {

        if (res->len == FAAS_BODY_CHUNK) {
            if (faas_rt_response_send(res, res->buf, res->len, 0) != 0) {
                return -1;
            }

            res->len = 0;
        }

        if (res->len == 0 && len > FAAS_BODY_CHUNK) {
            if (faas_rt_response_send(res, p, FAAS_BODY_CHUNK, 0) != 0) {
                return -1;
            }

            p += FAAS_BODY_CHUNK;
            len -= FAAS_BODY_CHUNK;
            continue;
        }

        n = FAAS_BODY_CHUNK - res->len;
        if (n > len) {
            n = len;
        }

        memcpy(res->buf + res->len, p, n);
        res->len += n;
        p += n;
        len -= n;
    }

    return 0;
}


int
faas_response_printf(faas_response_t *res, const char *fmt, ...)
{
    int      n, rc;
    char     buf[1024], *p;
    va_list  args;

    va_start(args, fmt);
    n = vsnprintf(buf, sizeof(buf), fmt, args);
    va_end(args);

    if (n < 0) {
        return -1;
    }

    if ((size_t) n < sizeof(buf)) {
        return faas_response_write(res, buf, (size_t) n);
    }

    p = malloc((size_t) n + 1);
    if (p == NULL) {
        return -1;
    }

    va_start(args, fmt);
    vsnprintf(p, (size_t) n + 1, fmt, args);
    va_end(args);

    rc = faas_response_write(res, p, (size_t) n);

    free(p);

    return rc;
}


int
faas_response_flush(faas_response_t *res)
{
    if (res->failed) {
        return -1;
    }

    if (res->head_sent && res->len == 0) {
        return 0;
    }

    if (faas_rt_response_send(res, res->buf, res->len, 0) != 0) {
        return -1;
    }

    res->len = 0;

    return 0;
}


int
faas_rt_response_finish(faas_response_t *res)
{
    char  length[32];

    if (res->failed) {
        return -1;
    }

    /* the whole body is known: nginx need not chunk it */

    if (!res->head_sent && !res->has_length && res->status >= 200
        && res->status != 204 && res->status != 304)
    {
        *faas_rt_decimal(length, (long long) res->len) = '\0';

        if (faas_response_header(res, "Content-Length", length) != 0) {
            res->failed = 1;
            return -1;
        }
    }

    if (faas_rt_response_send(res, res->buf, res->len, 1) != 0) {
        return -1;
    }

    res->len = 0;

    return 0;
}


int
faas_rt_response_error(faas_response_t *res, int status, const char *fmt,
    ...)
{
    int           n;
    char          reason[1024];
    size_t        len;
    json_t       *json;
    va_list       args;
    struct iovec  iov;

    va_start(args, fmt);
    vsnprintf(reason, sizeof(reason), fmt, args);
    va_end(args);

    res->failed = 1;
    res->len = 0;

    json = json_pack("{s:i, s:s}", "status", status, "reason", reason);
    if (json == NULL) {
        return -1;
    }

    len = json_dumpb(json, (char *) res->head + FAAS_FRAME_HEADER_SIZE,
                     FAAS_JSON_MAX, JSON_COMPACT);

    json_decref(json);

    if (len == 0 || len > FAAS_JSON_MAX) {
        return -1;
    }

    faas_frame_header_encode(res->head, FAAS_FRAME_ERROR, (uint32_t) len);

    iov.iov_base = res->head;
    iov.iov_len = FAAS_FRAME_HEADER_SIZE + len;

    /* after what waits, which may be this connection's earlier answer */

    if (res->batch != NULL) {
        faas_rt_batch_flush(res->batch);
    }

    n = faas_rt_send(res->conn->fd, &iov, 1);

    return n;
}


/* the head if not sent yet, a BODY frame for data if any, END if last */
static int
faas_rt_response_send(faas_response_t *res, const void *data, size_t len,
    int last)
{
    int           n;
    size_t        head_len;
    uint8_t      *head;
    uint8_t       body[FAAS_FRAME_HEADER_SIZE], end[FAAS_FRAME_HEADER_SIZE];
    struct iovec  iov[4];

    n = 0;

    if (!res->head_sent) {
        head = faas_rt_response_head(res, &head_len);
        if (head == NULL) {
            res->failed = 1;
            return -1;
        }

        iov[n].iov_base = head;
        iov[n].iov_len = head_len;
        n++;
    }

    if (len > 0) {
        faas_frame_header_encode(body, FAAS_FRAME_BODY, (uint32_t) len);

        iov[n].iov_base = body;
        iov[n].iov_len = sizeof(body);
        n++;

        iov[n].iov_base = (void *) data;
        iov[n].iov_len = len;
        n++;
    }

    if (last) {
        faas_frame_header_encode(end, FAAS_FRAME_END, 0);

        iov[n].iov_base = end;
        iov[n].iov_len = sizeof(end);
        n++;
    }

    if (!res->head_sent && last && res->batch != NULL
        && faas_rt_response_defer(res, iov, n) == 0)
    {
        res->head_sent = 1;
        return 0;
    }

    res->head_sent = 1;

    if (res->batch != NULL) {
        faas_rt_batch_flush(res->batch);
    }

    if (n > 0 && faas_rt_send(res->conn->fd, iov, n) != 0) {
        res->failed = 1;
        return -1;
    }

    return 0;
}


/* a whole response into the batch: -1 when it has no room for it */
static int
faas_rt_response_defer(faas_response_t *res, struct iovec *iov, int n)
{
    int               i;
    size_t            len;
    uint8_t          *p;
    faas_rt_out_t    *out;
    faas_rt_batch_t  *b;

    b = res->batch;

    len = 0;

    for (i = 0; i < n; i++) {
        len += iov[i].iov_len;
    }

    if (b->nout == FAAS_RT_BATCH_OUT || FAAS_RT_BATCH_SIZE - b->len < len) {
        return -1;
    }

    out = &b->out[b->nout++];
    out->fd = res->conn->fd;
    out->start = b->len;
    out->len = len;

    p = b->buf + b->len;

    for (i = 0; i < n; i++) {
        memcpy(p, iov[i].iov_base, iov[i].iov_len);
        p += iov[i].iov_len;
    }

    b->len += len;

    return 0;
}


void
faas_rt_batch_flush(faas_rt_batch_t *b)
{
    unsigned        i;
    struct iovec    iov;
    faas_rt_out_t  *out;

    for (i = 0; i < b->nout; i++) {
        out = &b->out[i];

        iov.iov_base = b->buf + out->start;
        iov.iov_len = out->len;

        /*
         * nginx gets its 502 as for any write that fails, and the held
         * connection reads its end of file: it is closed then
         */

        if (faas_rt_send(out->fd, &iov, 1) != 0) {
            (void) shutdown(out->fd, SHUT_RDWR);
        }
    }

    b->nout = 0;
    b->len = 0;
}


/*
 * The RESPONSE frame, finished around the pairs: its start and length, or
 * NULL when it does not fit (the pairs leave room for the end).
 */
static uint8_t *
faas_rt_response_head(faas_response_t *res, size_t *len)
{
    char      prefix[FAAS_RT_HEAD_PREFIX], *last;
    size_t    n, json;
    uint8_t  *start, *p;

    /* an int takes 11 characters at most: it fits before the pairs */

    last = stpcpy(prefix, "{\"status\":");
    last = faas_rt_decimal(last, res->status);
    last = stpcpy(last, ",\"headers\":[");

    n = last - prefix;

    start = res->pairs - n - FAAS_FRAME_HEADER_SIZE;
    memcpy(start + FAAS_FRAME_HEADER_SIZE, prefix, n);

    p = res->pairs + res->pairs_len;
    *p++ = ']';

    if (res->close) {
        p = (uint8_t *) stpcpy((char *) p, ",\"close\":true");
    }

    *p++ = '}';

    json = p - start - FAAS_FRAME_HEADER_SIZE;

    if (json > FAAS_JSON_MAX) {
        return NULL;
    }

    faas_frame_header_encode(start, FAAS_FRAME_RESPONSE, (uint32_t) json);

    *len = p - start;

    return start;
}


/* v in decimal at p, without snprintf()'s cost: the end */
static char *
faas_rt_decimal(char *p, long long v)
{
    char                 digits[24], *d;
    unsigned long long   u;

    if (v < 0) {
        *p++ = '-';
        u = 0 - (unsigned long long) v;

    } else {
        u = (unsigned long long) v;
    }

    d = digits + sizeof(digits);

    do {
        *--d = (char) ('0' + u % 10);
        u /= 10;
    } while (u != 0);

    while (d < digits + sizeof(digits)) {
        *p++ = *d++;
    }

    return p;
}


/*
 * s as a JSON string at p: its end, or NULL when s is not UTF-8 or does
 * not fit before end.  UTF-8 is checked as RFC 3629 has it (no overlong
 * forms, no surrogates, nothing above U+10FFFF) and copied as is.
 */
static uint8_t *
faas_rt_json_string(uint8_t *p, uint8_t *end, const char *s)
{
    size_t          n, i;
    const uint8_t  *c;

    static const char  hex[] = "0123456789abcdef";

    if (p == end) {
        return NULL;
    }

    *p++ = '"';

    for (c = (const uint8_t *) s; *c; c += n) {

        if (end - p < 6) {
            return NULL;
        }

        n = 1;

        if (*c == '"' || *c == '\\') {
            *p++ = '\\';
            *p++ = *c;
            continue;
        }

        if (*c < 0x20) {
            p = (uint8_t *) stpcpy((char *) p, "\\u00");
            *p++ = hex[*c >> 4];
            *p++ = hex[*c & 0xf];
            continue;
        }

        if (*c < 0x80) {
            *p++ = *c;
            continue;
        }

        if (*c >= 0xc2 && *c <= 0xdf) {
            n = 2;

        } else if (*c >= 0xe0 && *c <= 0xef) {
            n = 3;

            if ((*c == 0xe0 && c[1] < 0xa0) || (*c == 0xed && c[1] > 0x9f)) {
                return NULL;
            }

        } else if (*c >= 0xf0 && *c <= 0xf4) {
            n = 4;

            if ((*c == 0xf0 && c[1] < 0x90) || (*c == 0xf4 && c[1] > 0x8f)) {
                return NULL;
            }

        } else {
            return NULL;
        }

        /* a NUL among them ends the check too: it is no continuation */

        for (i = 1; i < n; i++) {
            if ((c[i] & 0xc0) != 0x80) {
                return NULL;
            }
        }

        memcpy(p, c, n);
        p += n;
    }

    if (p == end) {
        return NULL;
    }

    *p++ = '"';

    return p;
}


int
faas_rt_send(int fd, struct iovec *iov, int iovcnt)
{
    int  err;

    err = faas_io_sendv(fd, iov, iovcnt);

    if (err != 0) {
        errno = err;
        return -1;
    }

    return 0;
}
