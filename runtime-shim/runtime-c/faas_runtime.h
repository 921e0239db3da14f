/*
 * faas-runtime-c internals: the loader, the request and response objects
 * behind include/faas.h, and their I/O on the nginx connection.
 */

#ifndef FAAS_RUNTIME_H
#define FAAS_RUNTIME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <jansson.h>

#include "faas.h"
#include "faas_frame.h"
#include "faas_io.h"


#define FAAS_RT_CHANNEL_FD   3
#define FAAS_RT_READ_SIZE    (64 * 1024)
/*
 * The RESPONSE head: its header pairs from FAAS_RT_HEAD_PREFIX on, with
 * room before them for the frame header and {"status":N,"headers":[,
 * and after them for the end of the object (faas_response.c)
 */
#define FAAS_RT_HEAD_PREFIX  64
#define FAAS_RT_HEAD_SIZE    (FAAS_RT_HEAD_PREFIX + FAAS_JSON_MAX + 16)
#define FAAS_RT_PACKET_SIZE  (2 * (FAAS_FRAME_HEADER_SIZE + FAAS_JSON_MAX))
#define FAAS_RT_HELD_MAX     64
/* the request headers a call keeps without allocating */
#define FAAS_RT_HEADERS      16


/*
 * The nginx connection.  It is kept apart from the request: with direct
 * calls one connection carries several requests one after another.
 */
typedef struct {
    int                   fd;
    faas_frame_parser_t   parser;
    uint8_t              *buf;             /* FAAS_RT_READ_SIZE */
    const uint8_t        *pos;
    const uint8_t        *last;
} faas_rt_conn_t;


/*
 * A connection kept for direct calls: idle, at a frame boundary and armed
 * in the epoll instance, or busy, in a call in the one thread that got its
 * event.  An entry is reserved (used, busy, not armed yet) for a call that
 * came through INVOKE, so that the connection has its place once the call
 * ends.  Its epoll data is its index and gen, so an event that comes after
 * it was closed, and the entry reused, is recognized.
 */
typedef struct {
    int                   fd;
    uint32_t              gen;             /* bumped at each use */
    unsigned              used:1;
    unsigned              busy:1;
    unsigned              armed:1;         /* in the epoll instance */
} faas_rt_held_t;


/*
 * With one thread, the whole responses of the direct calls served after
 * one epoll_wait() are written together, after the last of them, so that
 * a worker woken by the first finds them all (faas_runtime.c).
 */
#define FAAS_RT_BATCH_SIZE   (64 * 1024)
#define FAAS_RT_BATCH_OUT    64

typedef struct {
    int                   fd;
    size_t                start;
    size_t                len;
} faas_rt_out_t;

typedef struct {
    uint8_t              *buf;             /* FAAS_RT_BATCH_SIZE */
    size_t                len;
    faas_rt_out_t         out[FAAS_RT_BATCH_OUT];
    unsigned              nout;
} faas_rt_batch_t;


typedef struct {
    const char           *name;
    const char           *value;
} faas_rt_header_t;


struct faas_request_s {
    faas_rt_conn_t       *conn;
    json_t               *json;

    const char           *method;
    const char           *path;
    const char           *query;
    const char           *id;
    const char           *remote_addr;
    long long             content_length;

    faas_rt_header_t     *headers;
    size_t                nheaders;
    faas_rt_header_t      header_space[FAAS_RT_HEADERS];

    /* the body payload returned by the parser and not yet consumed */
    const uint8_t        *data;
    size_t                data_len;
    char                 *body;
    size_t                body_len;
    const char           *error;          /* why reading the body failed */

    unsigned              body_done:1;
    unsigned              body_error:1;
};


struct faas_response_s {
    faas_rt_conn_t       *conn;
    int                   status;
    uint8_t              *head;            /* FAAS_RT_HEAD_SIZE */
    uint8_t              *pairs;           /* in head, the JSON so far */
    size_t                pairs_len;
    faas_rt_batch_t      *batch;           /* NULL: written at once */
    uint8_t              *buf;             /* FAAS_BODY_CHUNK */
    size_t                len;

    unsigned              head_sent:1;
    unsigned              has_length:1;
    unsigned              failed:1;
    unsigned              close:1;         /* "close" in the head */
};


void faas_rt_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* jansson's allocations for a call, in the thread's arena (faas_arena.c) */
void faas_rt_arena_init(void);
int faas_rt_arena_begin(void);
void faas_rt_arena_end(void);
void faas_rt_arena_reset(void);

/* all of iov, waiting with poll() on EAGAIN; -1 on error */
int faas_rt_send(int fd, struct iovec *iov, int iovcnt);

/* into conn->buf, waiting with poll() on EAGAIN: the length, 0, -1 */
ssize_t faas_rt_conn_read(faas_rt_conn_t *conn);

int faas_rt_request_init(faas_request_t *req, faas_rt_conn_t *conn,
    const uint8_t *payload, size_t len);
/* reads and discards the rest of the body, up to END */
int faas_rt_request_drain(faas_request_t *req);
void faas_rt_request_free(faas_request_t *req);

void faas_rt_response_init(faas_response_t *res, faas_rt_conn_t *conn,
    uint8_t *head, uint8_t *buf);
/* the head if not sent, the buffered body, END */
int faas_rt_response_finish(faas_response_t *res);
/* writes what waits in b; a connection that fails is shut down */
void faas_rt_batch_flush(faas_rt_batch_t *b);

/* ERROR: an HTTP status before the head went out, an abort after it */
int faas_rt_response_error(faas_response_t *res, int status,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif /* FAAS_RUNTIME_H */
