/*
 * The request side of the function API: the REQUEST head and the body,
 * read as BODY* END frames straight from the nginx connection.
 */

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "faas_runtime.h"


static const char *faas_rt_string(json_t *root, const char *key);
static int faas_rt_body_next(faas_request_t *req);


int
faas_rt_request_init(faas_request_t *req, faas_rt_conn_t *conn,
    const uint8_t *payload, size_t len)
{
    int      arena;
    size_t   i, n;
    json_t  *headers, *pair, *name, *value, *cl;

    memset(req, 0, sizeof(faas_request_t));

    req->conn = conn;

    /* without an arena, jansson allocates as usual */

    arena = (faas_rt_arena_begin() == 0);

    req->json = json_loadb((const char *) payload, len, 0, NULL);

    if (arena) {
        faas_rt_arena_end();
    }

    if (!json_is_object(req->json)) {
        return -1;
    }

    req->method = faas_rt_string(req->json, "method");
    req->path = faas_rt_string(req->json, "uri");
    req->query = faas_rt_string(req->json, "args");
    req->id = faas_rt_string(req->json, "request_id");
    req->remote_addr = faas_rt_string(req->json, "remote_addr");

    cl = json_object_get(req->json, "content_length");
    req->content_length = json_is_integer(cl) ? json_integer_value(cl) : -1;

    headers = json_object_get(req->json, "headers");
    n = json_array_size(headers);

    if (n == 0) {
        return 0;
    }

    if (n <= FAAS_RT_HEADERS) {
        req->headers = req->header_space;

    } else {
        req->headers = calloc(n, sizeof(faas_rt_header_t));
        if (req->headers == NULL) {
            return -1;
        }
    }

    json_array_foreach(headers, i, pair) {
        name = json_array_get(pair, 0);
        value = json_array_get(pair, 1);

        if (!json_is_string(name) || !json_is_string(value)) {
            continue;
        }

        req->headers[req->nheaders].name = json_string_value(name);
        req->headers[req->nheaders].value = json_string_value(value);
        req->nheaders++;
    }

    return 0;
}


static const char *
faas_rt_string(json_t *root, const char *key)
{
    json_t  *v;

    v = json_object_get(root, key);

    return json_is_string(v) ? json_string_value(v) : "";
}


void
faas_rt_request_free(faas_request_t *req)
{
    if (req->headers != req->header_space) {
        free(req->headers);
    }

    free(req->body);
    json_decref(req->json);

    /* the thread serves one call at a time: nothing else is in it */
    faas_rt_arena_reset();
}


const char *
faas_request_method(faas_request_t *req)
{
    return req->method;
}


const char *
faas_request_path(faas_request_t *req)
{
    return req->path;
}


const char *
faas_request_query(faas_request_t *req)
{
    return req->query;
}


const char *
faas_request_id(faas_request_t *req)
{
    return req->id;
}


const char *
faas_request_remote_addr(faas_request_t *req)
{
    return req->remote_addr;
}


const char *
faas_request_header(faas_request_t *req, const char *name)
{
    size_t  i;

    for (i = 0; i < req->nheaders; i++) {
        if (strcasecmp(req->headers[i].name, name) == 0) {
            return req->headers[i].value;
        }
    }

    return NULL;
}


size_t
faas_request_header_count(faas_request_t *req)
{
    return req->nheaders;
}


int
faas_request_header_at(faas_request_t *req, size_t i, const char **name,
    const char **value)
{
    if (i >= req->nheaders) {
        return -1;
    }

    *name = req->headers[i].name;
    *value = req->headers[i].value;

    return 0;
}


long long
faas_request_content_length(faas_request_t *req)
{
    return req->content_length;
}


ssize_t
faas_request_read(faas_request_t *req, void *buf, size_t size)
{
    int     rc;
    size_t  n;

    if (size == 0) {
        return 0;
    }

    while (req->data_len == 0) {
        rc = faas_rt_body_next(req);

        if (rc <= 0) {
            return rc;
        }
    }

    n = req->data_len < size ? req->data_len : size;

    memcpy(buf, req->data, n);

    req->data += n;
    req->data_len -= n;

    return (ssize_t) n;
}


const void *
faas_request_body(faas_request_t *req, size_t *len)
{
    int     rc;
    char   *p;
    size_t  size;

    if (req->body != NULL) {
        *len = req->body_len;
        return req->body;
    }

    size = 0;

    for ( ;; ) {
        if (req->data_len > 0) {
            if (req->body_len + req->data_len + 1 > size) {
                size = size ? size * 2 : 4096;

                while (size < req->body_len + req->data_len + 1) {
                    size *= 2;
                }

                p = realloc(req->body, size);
                if (p == NULL) {
                    return NULL;
                }

                req->body = p;
            }

            memcpy(req->body + req->body_len, req->data, req->data_len);
            req->body_len += req->data_len;
            req->data_len = 0;
        }

        rc = faas_rt_body_next(req);

        if (rc == -1) {
            return NULL;
        }

        if (rc == 0) {
            break;
        }
    }

    if (req->body == NULL) {
        req->body = malloc(1);
        if (req->body == NULL) {
            return NULL;
        }
    }

    req->body[req->body_len] = '\0';
    *len = req->body_len;

    return req->body;
}


int
faas_rt_request_drain(faas_request_t *req)
{
    int  rc;

    do {
        req->data_len = 0;
        rc = faas_rt_body_next(req);
    } while (rc == 1);

    return rc;
}


/*
 * Advances to the next slice of body payload: 1 with req->data set, 0 at
 * END, -1 on a read error or a malformed frame.
 */
static int
faas_rt_body_next(faas_request_t *req)
{
    size_t            len;
    ssize_t           n;
    const uint8_t    *data;
    faas_rt_conn_t   *conn;
    faas_frame_rc_e   rc;

    if (req->body_done) {
        return 0;
    }

    if (req->body_error) {
        return -1;
    }

    conn = req->conn;

    for ( ;; ) {
        rc = faas_frame_parse(&conn->parser, &conn->pos, conn->last, &data,
                              &len);

        switch (rc) {

        case FAAS_FRAME_OK:
            if (conn->parser.frame.type != FAAS_FRAME_BODY
                && conn->parser.frame.type != FAAS_FRAME_END)
            {
                req->error = "unexpected frame in the request body";
                goto failed;
            }

            continue;

        case FAAS_FRAME_DATA:
            req->data = data;
            req->data_len = len;
            return 1;

        case FAAS_FRAME_COMPLETE:
            if (conn->parser.frame.type == FAAS_FRAME_END) {
                req->body_done = 1;
                return 0;
            }

            continue;

        case FAAS_FRAME_AGAIN:
            n = faas_rt_conn_read(conn);

            if (n > 0) {
                continue;
            }

            req->error = (n == 0) ? "connection closed inside the body"
                                  : "read error on the connection";
            goto failed;

        default:
            req->error = faas_frame_strerror(rc);
            goto failed;
        }
    }

failed:

    req->body_error = 1;

    return -1;
}


/* the fd is non-blocking: its O_NONBLOCK is shared with the supervisor */
ssize_t
faas_rt_conn_read(faas_rt_conn_t *conn)
{
    ssize_t        n;
    struct pollfd  pfd;

    for ( ;; ) {
        n = read(conn->fd, conn->buf, FAAS_RT_READ_SIZE);

        if (n >= 0) {
            conn->pos = conn->buf;
            conn->last = conn->buf + n;
            return n;
        }

        if (errno == EINTR) {
            continue;
        }

        if (errno != EAGAIN) {
            return -1;
        }

        pfd.fd = conn->fd;
        pfd.events = POLLIN;

        if (poll(&pfd, 1, -1) == -1 && errno != EINTR) {
            return -1;
        }
    }
}
