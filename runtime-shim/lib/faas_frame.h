/*
 * ngx_faas frame codec: the one implementation of docs/protocol.md.
 *
 * No I/O and no allocation: the encoder writes a header into caller memory,
 * the parser consumes whatever bytes the caller has and can be resumed at any
 * byte boundary.  Compiled into the nginx module, the supervisor, the
 * runtimes, the unit tests and the fuzzers.
 */

#ifndef FAAS_FRAME_H
#define FAAS_FRAME_H

#include <stddef.h>
#include <stdint.h>


#define FAAS_PROTO_VERSION        1
#define FAAS_FRAME_HEADER_SIZE    8

#define FAAS_JSON_MAX             (64 * 1024)
#define FAAS_BODY_MAX             (1024 * 1024)
#define FAAS_REGISTER_MAX         (16 * 1024 * 1024)

/* what senders put into one BODY frame */
#define FAAS_BODY_CHUNK           (64 * 1024)
#define FAAS_EXEC_MAX             4096      /* a path */
/* a seccomp program: BPF_MAXINSNS struct sock_filter of 8 bytes */
#define FAAS_FILTER_MAX           (4096 * 8)


typedef enum {
    FAAS_FRAME_REQUEST    = 0x01,
    FAAS_FRAME_BODY       = 0x02,
    FAAS_FRAME_END        = 0x03,
    FAAS_FRAME_RESPONSE   = 0x04,
    FAAS_FRAME_ERROR      = 0x05,
    FAAS_FRAME_DISPATCH   = 0x06,
    FAAS_FRAME_REGISTER   = 0x10,
    FAAS_FRAME_REGISTERED = 0x11,
    FAAS_FRAME_STATUS     = 0x12,
    FAAS_FRAME_LOG        = 0x13,
    FAAS_FRAME_ABANDON    = 0x14,
    FAAS_FRAME_LOAD       = 0x20,
    FAAS_FRAME_READY      = 0x21,
    FAAS_FRAME_INVOKE     = 0x22,
    FAAS_FRAME_DONE       = 0x23,
    FAAS_FRAME_QUIT       = 0x24,
    FAAS_FRAME_EXEC       = 0x25,
    FAAS_FRAME_FILTER     = 0x26
} faas_frame_type_e;


/* results of faas_frame_header_decode() and faas_frame_parse() */
typedef enum {
    FAAS_FRAME_OK        = 0,    /* a whole header was decoded */
    FAAS_FRAME_AGAIN     = 1,    /* all input consumed, need more */
    FAAS_FRAME_DATA      = 2,    /* a payload slice is returned */
    FAAS_FRAME_COMPLETE  = 3,    /* the current frame's payload is complete */
    FAAS_FRAME_EVERSION  = -1,
    FAAS_FRAME_EFLAGS    = -2,
    FAAS_FRAME_ETYPE     = -3,
    FAAS_FRAME_ETOOBIG   = -4,
    FAAS_FRAME_ELENGTH   = -5    /* END/QUIT with a payload */
} faas_frame_rc_e;


typedef struct {
    uint8_t    version;
    uint8_t    type;
    uint16_t   flags;
    uint32_t   length;
} faas_frame_header_t;


typedef enum {
    FAAS_PARSE_HEADER = 0,
    FAAS_PARSE_PAYLOAD
} faas_frame_parse_state_e;


/*
 * The parser: zero it (or call faas_frame_parser_init()) before the first
 * byte.  It keeps at most the 8 header bytes; payload is returned as slices
 * of the caller's buffer.
 */
typedef struct {
    faas_frame_parse_state_e  state;
    uint8_t                   header_buf[FAAS_FRAME_HEADER_SIZE];
    uint32_t                  header_len;
    uint32_t                  remaining;
    faas_frame_header_t       frame;
} faas_frame_parser_t;


/* Writes an 8-byte header into out. */
void faas_frame_header_encode(uint8_t *out, faas_frame_type_e type,
    uint32_t length);

/* Decodes and validates 8 bytes: version, flags, type and length bound. */
faas_frame_rc_e faas_frame_header_decode(const uint8_t *in,
    faas_frame_header_t *header);

/* The largest payload a frame of this type may carry, 0 for unknown types. */
uint32_t faas_frame_max_length(uint8_t type);

const char *faas_frame_type_name(uint8_t type);
const char *faas_frame_strerror(faas_frame_rc_e rc);

void faas_frame_parser_init(faas_frame_parser_t *p);

/*
 * Consumes input from *pos up to last and reports one event:
 *
 *   FAAS_FRAME_OK        a header is complete: p->frame is valid.  A frame
 *                        with an empty payload is also COMPLETE on the next
 *                        call, so every frame yields OK, DATA*, COMPLETE.
 *   FAAS_FRAME_DATA      *data and *len are a slice of the payload (len > 0)
 *   FAAS_FRAME_COMPLETE  the payload of p->frame has been fully returned
 *   FAAS_FRAME_AGAIN     every input byte was consumed mid-frame
 *   < 0                  malformed frame; the parser must not be used again
 *
 * *pos is advanced past what was consumed.  The parser never reads past the
 * end of the current frame in the call that returns COMPLETE.
 */
faas_frame_rc_e faas_frame_parse(faas_frame_parser_t *p, const uint8_t **pos,
    const uint8_t *last, const uint8_t **data, size_t *len);

/* Nonzero when the parser sits between two frames (a clean end of stream). */
int faas_frame_parser_idle(const faas_frame_parser_t *p);

#endif /* FAAS_FRAME_H */
