/*
 * ngx_faas frame codec, see faas_frame.h and docs/protocol.md.
 */

#include <string.h>

#include "faas_frame.h"


void
faas_frame_header_encode(uint8_t *out, faas_frame_type_e type,
    uint32_t length)
{
    out[0] = FAAS_PROTO_VERSION;
    out[1] = (uint8_t) type;
    out[2] = 0;
    out[3] = 0;
    out[4] = (uint8_t) (length >> 24);
    out[5] = (uint8_t) (length >> 16);
    out[6] = (uint8_t) (length >> 8);
    out[7] = (uint8_t) length;
}


uint32_t
faas_frame_max_length(uint8_t type)
{
    switch (type) {

    case FAAS_FRAME_BODY:
        return FAAS_BODY_MAX;

    case FAAS_FRAME_END:
    case FAAS_FRAME_QUIT:
        return 0;

    case FAAS_FRAME_REGISTER:
        return FAAS_REGISTER_MAX;

    case FAAS_FRAME_EXEC:
        return FAAS_EXEC_MAX;

    case FAAS_FRAME_FILTER:
        return FAAS_FILTER_MAX;

    case FAAS_FRAME_REQUEST:
    case FAAS_FRAME_RESPONSE:
    case FAAS_FRAME_ERROR:
    case FAAS_FRAME_DISPATCH:
    case FAAS_FRAME_REGISTERED:
    case FAAS_FRAME_STATUS:
    case FAAS_FRAME_LOG:
    case FAAS_FRAME_ABANDON:
    case FAAS_FRAME_LOAD:
    case FAAS_FRAME_READY:
    case FAAS_FRAME_INVOKE:
    case FAAS_FRAME_DONE:
        return FAAS_JSON_MAX;

    default:
        return 0;
    }
}


const char *
faas_frame_type_name(uint8_t type)
{
    switch (type) {
    case FAAS_FRAME_REQUEST:    return "REQUEST";
    case FAAS_FRAME_BODY:       return "BODY";
    case FAAS_FRAME_END:        return "END";
    case FAAS_FRAME_RESPONSE:   return "RESPONSE";
    case FAAS_FRAME_ERROR:      return "ERROR";
    case FAAS_FRAME_DISPATCH:   return "DISPATCH";
    case FAAS_FRAME_REGISTER:   return "REGISTER";
    case FAAS_FRAME_REGISTERED: return "REGISTERED";
    case FAAS_FRAME_STATUS:     return "STATUS";
    case FAAS_FRAME_LOG:        return "LOG";
    case FAAS_FRAME_ABANDON:    return "ABANDON";
    case FAAS_FRAME_LOAD:       return "LOAD";
    case FAAS_FRAME_READY:      return "READY";
    case FAAS_FRAME_INVOKE:     return "INVOKE";
    case FAAS_FRAME_DONE:       return "DONE";
    case FAAS_FRAME_QUIT:       return "QUIT";
    case FAAS_FRAME_EXEC:       return "EXEC";
    case FAAS_FRAME_FILTER:     return "FILTER";
    default:                    return "unknown";
    }
}


const char *
faas_frame_strerror(faas_frame_rc_e rc)
{
    switch (rc) {
    case FAAS_FRAME_OK:       return "ok";
    case FAAS_FRAME_AGAIN:    return "incomplete frame";
    case FAAS_FRAME_DATA:     return "payload data";
    case FAAS_FRAME_COMPLETE: return "frame complete";
    case FAAS_FRAME_EVERSION: return "unsupported protocol version";
    case FAAS_FRAME_EFLAGS:   return "non-zero frame flags";
    case FAAS_FRAME_ETYPE:    return "unknown frame type";
    case FAAS_FRAME_ETOOBIG:  return "frame length over the limit";
    case FAAS_FRAME_ELENGTH:  return "payload on an empty frame type";
    default:                  return "unknown error";
    }
}


static int
faas_frame_type_known(uint8_t type)
{
    return faas_frame_type_name(type)[0] != 'u';
}


faas_frame_rc_e
faas_frame_header_decode(const uint8_t *in, faas_frame_header_t *header)
{
    uint32_t  max;

    header->version = in[0];
    header->type = in[1];
    header->flags = (uint16_t) ((in[2] << 8) | in[3]);
    header->length = ((uint32_t) in[4] << 24) | ((uint32_t) in[5] << 16)
                     | ((uint32_t) in[6] << 8) | (uint32_t) in[7];

    if (header->version != FAAS_PROTO_VERSION) {
        return FAAS_FRAME_EVERSION;
    }

    if (header->flags != 0) {
        return FAAS_FRAME_EFLAGS;
    }

    if (!faas_frame_type_known(header->type)) {
        return FAAS_FRAME_ETYPE;
    }

    max = faas_frame_max_length(header->type);

    if (header->length > max) {
        return max == 0 ? FAAS_FRAME_ELENGTH : FAAS_FRAME_ETOOBIG;
    }

    return FAAS_FRAME_OK;
}


void
faas_frame_parser_init(faas_frame_parser_t *p)
{
    memset(p, 0, sizeof(faas_frame_parser_t));
    p->state = FAAS_PARSE_HEADER;
}


faas_frame_rc_e
faas_frame_parse(faas_frame_parser_t *p, const uint8_t **pos,
    const uint8_t *last, const uint8_t **data, size_t *len)
{
    size_t           n, avail;
    faas_frame_rc_e  rc;

    if (p->state == FAAS_PARSE_PAYLOAD) {

        if (p->remaining == 0) {
            p->state = FAAS_PARSE_HEADER;
            p->header_len = 0;
            return FAAS_FRAME_COMPLETE;
        }

        avail = (size_t) (last - *pos);

        if (avail == 0) {
            return FAAS_FRAME_AGAIN;
        }

        n = avail < p->remaining ? avail : p->remaining;

        *data = *pos;
        *len = n;
        *pos += n;
        p->remaining -= (uint32_t) n;

        return FAAS_FRAME_DATA;
    }

    /* FAAS_PARSE_HEADER: the header may arrive split at any byte */

    avail = (size_t) (last - *pos);
    n = FAAS_FRAME_HEADER_SIZE - p->header_len;

    if (avail < n) {
        memcpy(p->header_buf + p->header_len, *pos, avail);
        p->header_len += (uint32_t) avail;
        *pos += avail;
        return FAAS_FRAME_AGAIN;
    }

    memcpy(p->header_buf + p->header_len, *pos, n);
    *pos += n;
    p->header_len = FAAS_FRAME_HEADER_SIZE;

    rc = faas_frame_header_decode(p->header_buf, &p->frame);
    if (rc != FAAS_FRAME_OK) {
        return rc;
    }

    p->remaining = p->frame.length;
    p->state = FAAS_PARSE_PAYLOAD;

    return FAAS_FRAME_OK;
}


int
faas_frame_parser_idle(const faas_frame_parser_t *p)
{
    return p->state == FAAS_PARSE_HEADER && p->header_len == 0;
}
