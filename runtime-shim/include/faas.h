/*
 * ngx_faas C function API.
 *
 * A function is a shared object with one handler:
 *
 *     #include <faas.h>
 *
 *     int
 *     handle(faas_request_t *req, faas_response_t *res)
 *     {
 *         faas_response_header(res, "Content-Type", "text/plain");
 *         return faas_response_printf(res, "Hello, %s!\n",
 *                                     faas_request_path(req));
 *     }
 *
 * built with "cc -shared -fPIC -I runtime-shim/include -o function.so x.c"
 * and loaded by faas-runtime-c, which provides the functions below.
 *
 * An instance serves one request at a time, in one thread; a handler may
 * keep state in globals between requests.  Strings returned by the API are
 * NUL-terminated and valid until the handler returns.  Functions returning
 * int give 0 on success and -1 on failure.
 *
 * Full guide: docs/writing-functions.md.
 */

#ifndef FAAS_H
#define FAAS_H

#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif


#define FAAS_API_VERSION  1


typedef struct faas_request_s   faas_request_t;
typedef struct faas_response_s  faas_response_t;

/*
 * The handler, "handle" unless the function's handler says otherwise.
 * Return 0 when the response is complete.  Anything else fails the
 * request: with a 502 if nothing was sent yet, otherwise by aborting the
 * response, which the client sees cut short.
 */
typedef int (*faas_handler_pt)(faas_request_t *req, faas_response_t *res);

/*
 * Optional: "int faas_init(void)" in the function (or the symbol that the
 * "initializer" directive names) is called once after loading, before the
 * first request; non-zero fails the load (the request that started the
 * instance gets a 502).
 */
typedef int (*faas_init_pt)(void);


/* the request line: "GET", the path without the query, the query or "" */
const char *faas_request_method(faas_request_t *req);
const char *faas_request_path(faas_request_t *req);
const char *faas_request_query(faas_request_t *req);

/* nginx's request id and the client address */
const char *faas_request_id(faas_request_t *req);
const char *faas_request_remote_addr(faas_request_t *req);

/* first header with that name, case-insensitive; NULL if absent */
const char *faas_request_header(faas_request_t *req, const char *name);

/* all headers in arrival order, repeated ones repeated */
size_t faas_request_header_count(faas_request_t *req);
int faas_request_header_at(faas_request_t *req, size_t i,
    const char **name, const char **value);

/* the body length, -1 when unknown (chunked) */
long long faas_request_content_length(faas_request_t *req);

/*
 * Streams the body: returns up to size bytes (> 0), 0 at its end, -1 on
 * error.  Nothing is buffered beyond one frame, whatever the body size.
 */
ssize_t faas_request_read(faas_request_t *req, void *buf, size_t size);

/*
 * The rest of the body (what faas_request_read() has not returned) read
 * into memory on the first call; NULL on error.  The memory belongs to the
 * runtime.  It is NUL-terminated for convenience, *len excludes the NUL.
 */
const void *faas_request_body(faas_request_t *req, size_t *len);


/* 200 unless set; only before the response head went out */
int faas_response_status(faas_response_t *res, int status);

/* adds a header; repeat for repeated headers (Set-Cookie) */
int faas_response_header(faas_response_t *res, const char *name,
    const char *value);

/*
 * Appends to the body.  Output is buffered: the status and headers leave
 * with the first flush, which happens when 64 KiB are buffered, on
 * faas_response_flush(), or when the handler returns.  A response that
 * fits the buffer gets a Content-Length; a longer one is streamed.
 */
int faas_response_write(faas_response_t *res, const void *data, size_t len);
int faas_response_printf(faas_response_t *res, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* sends the head and what is buffered now, e.g. for server-sent events */
int faas_response_flush(faas_response_t *res);


#ifdef __cplusplus
}
#endif

#endif /* FAAS_H */
