/*
 * Frame I/O for the supervisor, see shim_frame.h.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shim_frame.h"


/* payload buffers grow with the data that arrives, not with the claim */
#define SHIM_FRAME_ALLOC_MIN  4096


void
shim_frame_reader_init(shim_frame_reader_t *rd, uint64_t accept)
{
    rd->accept = accept;
    rd->header_len = 0;
    rd->payload = NULL;
    rd->got = 0;
    rd->alloc = 0;
}


void
shim_frame_reader_free(shim_frame_reader_t *rd)
{
    free(rd->payload);
    shim_frame_reader_init(rd, rd->accept);
}


shim_frame_read_e
shim_frame_read(int fd, shim_frame_reader_t *rd, const char **reason,
    int *err)
{
    size_t           want, size;
    ssize_t          n;
    uint8_t         *p;
    faas_frame_rc_e  rc;

    *err = 0;

    while (rd->header_len < FAAS_FRAME_HEADER_SIZE) {
        n = read(fd, rd->header + rd->header_len,
                 FAAS_FRAME_HEADER_SIZE - rd->header_len);

        if (n > 0) {
            rd->header_len += (size_t) n;
            continue;
        }

        if (n == 0) {
            if (rd->header_len == 0) {
                return SHIM_FRAME_READ_EOF;
            }

            *reason = "connection closed inside a frame header";
            return SHIM_FRAME_READ_ERROR;
        }

        if (errno == EINTR) {
            continue;
        }

        if (errno == EAGAIN) {
            return SHIM_FRAME_READ_AGAIN;
        }

        *err = errno;
        *reason = "read() failed";
        return SHIM_FRAME_READ_ERROR;
    }

    if (rd->got == 0 && rd->alloc == 0) {
        rc = faas_frame_header_decode(rd->header, &rd->frame);

        if (rc != FAAS_FRAME_OK) {
            *reason = faas_frame_strerror(rc);
            return SHIM_FRAME_READ_ERROR;
        }

        /* refused before its payload is read, however long it claims */
        if (!(rd->accept & SHIM_FRAME_TYPE(rd->frame.type))) {
            *reason = "unexpected frame type";
            return SHIM_FRAME_READ_ERROR;
        }
    }

    while (rd->got < rd->frame.length) {

        if (rd->got == rd->alloc) {
            size = rd->alloc ? rd->alloc * 2 : SHIM_FRAME_ALLOC_MIN;
            if (size > rd->frame.length) {
                size = rd->frame.length;
            }

            p = realloc(rd->payload, size);
            if (p == NULL) {
                *err = ENOMEM;
                *reason = "cannot allocate a frame buffer";
                return SHIM_FRAME_READ_ERROR;
            }

            rd->payload = p;
            rd->alloc = size;
        }

        want = rd->alloc - rd->got;

        n = read(fd, rd->payload + rd->got, want);

        if (n > 0) {
            rd->got += (size_t) n;
            continue;
        }

        if (n == 0) {
            *reason = "connection closed inside a frame";
            return SHIM_FRAME_READ_ERROR;
        }

        if (errno == EINTR) {
            continue;
        }

        if (errno == EAGAIN) {
            return SHIM_FRAME_READ_AGAIN;
        }

        *err = errno;
        *reason = "read() failed";
        return SHIM_FRAME_READ_ERROR;
    }

    return SHIM_FRAME_READ_DONE;
}


uint8_t *
shim_frame_reader_take(shim_frame_reader_t *rd, size_t *len)
{
    uint8_t  *p;

    p = rd->payload;
    *len = rd->got;

    shim_frame_reader_init(rd, rd->accept);

    return p;
}


size_t
shim_frame_encode_json(uint8_t *buf, faas_frame_type_e type, json_t *json)
{
    size_t  n;

    n = json_dumpb(json, (char *) buf + FAAS_FRAME_HEADER_SIZE,
                   FAAS_JSON_MAX, JSON_COMPACT);

    if (n == 0 || n > FAAS_JSON_MAX) {
        return 0;
    }

    faas_frame_header_encode(buf, type, (uint32_t) n);

    return FAAS_FRAME_HEADER_SIZE + n;
}


/*
 * The frames the supervisor writes on a connection are small and go into
 * a socket whose buffer is nearly empty, so a write that would block means
 * the peer is gone or stuck; it is reported as a failure rather than
 * buffered.  A short write alone is not that: the rest is tried at once,
 * and only EAGAIN on it fails (t/shortio found short writes failing).
 */
int
shim_frame_send(int fd, const uint8_t *buf, size_t len, int *err)
{
    ssize_t  n;

    while (len > 0) {
        n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);

        if (n == -1) {
            if (errno == EINTR) {
                continue;
            }

            *err = errno;
            return -1;
        }

        len -= (size_t) n;
        buf += n;
    }

    *err = 0;

    return 0;
}


int
shim_frame_send_some(int fd, const uint8_t *buf, size_t len, size_t *sent,
    int *err)
{
    ssize_t  n;

    while (*sent < len) {
        n = send(fd, buf + *sent, len - *sent, MSG_NOSIGNAL | MSG_DONTWAIT);

        if (n == -1) {
            if (errno == EINTR) {
                continue;
            }

            if (errno == EAGAIN) {
                break;
            }

            *err = errno;
            return -1;
        }

        *sent += (size_t) n;
    }

    *err = 0;

    return 0;
}


int
shim_frame_next(const uint8_t **pos, const uint8_t *last,
    faas_frame_header_t *frame, const uint8_t **payload,
    const char **reason)
{
    faas_frame_rc_e  rc;

    if ((size_t) (last - *pos) < FAAS_FRAME_HEADER_SIZE) {
        *reason = "truncated frame header";
        return -1;
    }

    rc = faas_frame_header_decode(*pos, frame);
    if (rc != FAAS_FRAME_OK) {
        *reason = faas_frame_strerror(rc);
        return -1;
    }

    *pos += FAAS_FRAME_HEADER_SIZE;

    if ((size_t) (last - *pos) < frame->length) {
        *reason = "frame longer than its packet";
        return -1;
    }

    *payload = *pos;
    *pos += frame->length;

    return 0;
}
