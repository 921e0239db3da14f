/*
 * Frame I/O for the supervisor's stream sockets, on top of the codec.
 */

#ifndef SHIM_FRAME_H
#define SHIM_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "faas_frame.h"


#define SHIM_FRAME_JSON_SIZE  (FAAS_FRAME_HEADER_SIZE + FAAS_JSON_MAX)


typedef enum {
    SHIM_FRAME_READ_DONE = 0,
    SHIM_FRAME_READ_AGAIN,
    SHIM_FRAME_READ_EOF,           /* closed between two frames */
    SHIM_FRAME_READ_ERROR
} shim_frame_read_e;


/*
 * Reads one frame, header first and then exactly its payload: it never
 * consumes a byte past the frame, because on a request connection the
 * bytes that follow belong to the instance.
 */
typedef struct {
    uint8_t               header[FAAS_FRAME_HEADER_SIZE];
    size_t                header_len;
    faas_frame_header_t   frame;
    uint8_t              *payload;
    size_t                got;
    size_t                alloc;
    uint64_t              accept;      /* bit (1 << type) per allowed type */
} shim_frame_reader_t;


#define SHIM_FRAME_TYPE(t)  ((uint64_t) 1 << (t))


void shim_frame_reader_init(shim_frame_reader_t *rd, uint64_t accept);
void shim_frame_reader_free(shim_frame_reader_t *rd);

/* *reason is set on READ_ERROR; *err is the errno, if any */
shim_frame_read_e shim_frame_read(int fd, shim_frame_reader_t *rd,
    const char **reason, int *err);

/* hands the payload of a complete frame to the caller, resets rd */
uint8_t *shim_frame_reader_take(shim_frame_reader_t *rd, size_t *len);

/*
 * Encodes type + compact JSON into buf (SHIM_FRAME_JSON_SIZE bytes);
 * returns the frame size, 0 when it does not fit.
 */
size_t shim_frame_encode_json(uint8_t *buf, faas_frame_type_e type,
    json_t *json);

/* sends all of buf without blocking and without SIGPIPE, -1 otherwise */
int shim_frame_send(int fd, const uint8_t *buf, size_t len, int *err);

/*
 * Sends what the socket takes of buf[*sent, len) without blocking,
 * advancing *sent; 0 when done or the socket is full (compare *sent with
 * len), -1 with *err on an error.  For replies that may be larger than a
 * socket buffer and are finished on EPOLLOUT.
 */
int shim_frame_send_some(int fd, const uint8_t *buf, size_t len,
    size_t *sent, int *err);

/* splits a packet into frames; -1 on a malformed one */
int shim_frame_next(const uint8_t **pos, const uint8_t *last,
    faas_frame_header_t *frame, const uint8_t **payload,
    const char **reason);

#endif /* SHIM_FRAME_H */
