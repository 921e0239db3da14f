/*
 * Unit tests of the frame codec (runtime-shim/lib/faas_frame.c): encoding,
 * every split point of a frame stream, and every malformed case.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>
#include <cmocka.h>

#include "faas_frame.h"


#define MAX_EVENTS  64


typedef struct {
    uint8_t   type;
    uint32_t  length;
    uint8_t   payload[256];
    size_t    got;
    int       complete;
} frame_seen_t;


typedef struct {
    frame_seen_t  frames[MAX_EVENTS];
    size_t        nframes;
    int           error;
} parse_result_t;


static size_t
put_frame(uint8_t *out, faas_frame_type_e type, const void *payload,
    uint32_t len)
{
    faas_frame_header_encode(out, type, len);
    if (len) {
        memcpy(out + FAAS_FRAME_HEADER_SIZE, payload, len);
    }

    return FAAS_FRAME_HEADER_SIZE + len;
}


/* Feeds buf to a parser in chunks whose sizes come from cuts[]. */
static void
parse_chunks(const uint8_t *buf, size_t size, const size_t *cuts,
    size_t ncuts, parse_result_t *res)
{
    size_t               i, start, end, len;
    const uint8_t       *pos, *last, *data;
    frame_seen_t        *f;
    faas_frame_rc_e      rc;
    faas_frame_parser_t  p;

    memset(res, 0, sizeof(parse_result_t));
    faas_frame_parser_init(&p);

    f = NULL;
    start = 0;

    for (i = 0; i <= ncuts; i++) {
        end = (i < ncuts) ? cuts[i] : size;
        pos = buf + start;
        last = buf + end;

        for ( ;; ) {
            rc = faas_frame_parse(&p, &pos, last, &data, &len);

            if (rc == FAAS_FRAME_AGAIN) {
                break;
            }

            if (rc < 0) {
                res->error = rc;
                return;
            }

            if (rc == FAAS_FRAME_OK) {
                assert_true(res->nframes < MAX_EVENTS);
                f = &res->frames[res->nframes++];
                f->type = p.frame.type;
                f->length = p.frame.length;
                continue;
            }

            assert_non_null(f);

            if (rc == FAAS_FRAME_DATA) {
                assert_true(len > 0);
                assert_true(f->got + len <= sizeof(f->payload));
                memcpy(f->payload + f->got, data, len);
                f->got += len;
                continue;
            }

            assert_int_equal(rc, FAAS_FRAME_COMPLETE);
            f->complete = 1;

            if (pos == last) {
                /* an empty frame at the end of a chunk is complete too */
                rc = faas_frame_parse(&p, &pos, last, &data, &len);
                assert_int_equal(rc, FAAS_FRAME_AGAIN);
                break;
            }
        }

        assert_ptr_equal(pos, last);
        start = end;
    }

    res->error = faas_frame_parser_idle(&p) ? 0 : FAAS_FRAME_AGAIN;
}


static size_t
sample_stream(uint8_t *buf)
{
    size_t  n;

    n = 0;
    n += put_frame(buf + n, FAAS_FRAME_REQUEST, "{\"function\":\"f\"}", 16);
    n += put_frame(buf + n, FAAS_FRAME_BODY, "\0\1\2binary\xff", 10);
    n += put_frame(buf + n, FAAS_FRAME_BODY, "", 0);
    n += put_frame(buf + n, FAAS_FRAME_END, NULL, 0);
    n += put_frame(buf + n, FAAS_FRAME_QUIT, NULL, 0);

    return n;
}


static void
check_sample(const parse_result_t *res)
{
    assert_int_equal(res->error, 0);
    assert_int_equal(res->nframes, 5);

    assert_int_equal(res->frames[0].type, FAAS_FRAME_REQUEST);
    assert_int_equal(res->frames[0].length, 16);
    assert_int_equal(res->frames[0].got, 16);
    assert_memory_equal(res->frames[0].payload, "{\"function\":\"f\"}", 16);

    assert_int_equal(res->frames[1].type, FAAS_FRAME_BODY);
    assert_int_equal(res->frames[1].got, 10);
    assert_memory_equal(res->frames[1].payload, "\0\1\2binary\xff", 10);

    assert_int_equal(res->frames[2].type, FAAS_FRAME_BODY);
    assert_int_equal(res->frames[2].got, 0);
    assert_int_equal(res->frames[3].type, FAAS_FRAME_END);
    assert_int_equal(res->frames[4].type, FAAS_FRAME_QUIT);

    for (size_t i = 0; i < res->nframes; i++) {
        assert_true(res->frames[i].complete);
    }
}


static void
test_header_encode(void **state)
{
    uint8_t              h[FAAS_FRAME_HEADER_SIZE];
    faas_frame_header_t  hdr;

    (void) state;

    faas_frame_header_encode(h, FAAS_FRAME_BODY, 0x00010203);

    assert_int_equal(h[0], 1);
    assert_int_equal(h[1], FAAS_FRAME_BODY);
    assert_int_equal(h[2], 0);
    assert_int_equal(h[3], 0);
    assert_int_equal(h[4], 0x00);
    assert_int_equal(h[5], 0x01);
    assert_int_equal(h[6], 0x02);
    assert_int_equal(h[7], 0x03);

    assert_int_equal(faas_frame_header_decode(h, &hdr), FAAS_FRAME_OK);
    assert_int_equal(hdr.version, 1);
    assert_int_equal(hdr.type, FAAS_FRAME_BODY);
    assert_int_equal(hdr.flags, 0);
    assert_int_equal(hdr.length, 0x00010203);
}


static void
test_whole_stream(void **state)
{
    uint8_t         buf[512];
    size_t          n;
    parse_result_t  res;

    (void) state;

    n = sample_stream(buf);
    parse_chunks(buf, n, NULL, 0, &res);
    check_sample(&res);
}


/* Every single split point of the stream, then every pair of them. */
static void
test_every_split_point(void **state)
{
    uint8_t         buf[512];
    size_t          n, i, j, cuts[2];
    parse_result_t  res;

    (void) state;

    n = sample_stream(buf);

    for (i = 0; i <= n; i++) {
        cuts[0] = i;
        parse_chunks(buf, n, cuts, 1, &res);
        check_sample(&res);
    }

    for (i = 0; i <= n; i++) {
        for (j = i; j <= n; j++) {
            cuts[0] = i;
            cuts[1] = j;
            parse_chunks(buf, n, cuts, 2, &res);
            check_sample(&res);
        }
    }
}


static void
test_byte_by_byte(void **state)
{
    uint8_t         buf[512];
    size_t          n, i, cuts[512];
    parse_result_t  res;

    (void) state;

    n = sample_stream(buf);

    for (i = 0; i < n; i++) {
        cuts[i] = i + 1;
    }

    parse_chunks(buf, n, cuts, n, &res);
    check_sample(&res);
}


static faas_frame_rc_e
decode_bytes(uint8_t v, uint8_t type, uint8_t f0, uint8_t f1, uint32_t len)
{
    uint8_t              h[FAAS_FRAME_HEADER_SIZE];
    faas_frame_header_t  hdr;

    h[0] = v;
    h[1] = type;
    h[2] = f0;
    h[3] = f1;
    h[4] = (uint8_t) (len >> 24);
    h[5] = (uint8_t) (len >> 16);
    h[6] = (uint8_t) (len >> 8);
    h[7] = (uint8_t) len;

    return faas_frame_header_decode(h, &hdr);
}


static void
test_bad_version(void **state)
{
    (void) state;

    assert_int_equal(decode_bytes(0, FAAS_FRAME_BODY, 0, 0, 1),
                     FAAS_FRAME_EVERSION);
    assert_int_equal(decode_bytes(2, FAAS_FRAME_BODY, 0, 0, 1),
                     FAAS_FRAME_EVERSION);
    assert_int_equal(decode_bytes(0xff, FAAS_FRAME_BODY, 0, 0, 1),
                     FAAS_FRAME_EVERSION);
    /* "GET " is not a frame: a stray HTTP client is refused at once */
    assert_int_equal(decode_bytes('G', 'E', 'T', ' ', 0),
                     FAAS_FRAME_EVERSION);
}


static void
test_bad_flags(void **state)
{
    (void) state;

    assert_int_equal(decode_bytes(1, FAAS_FRAME_BODY, 0, 1, 1),
                     FAAS_FRAME_EFLAGS);
    assert_int_equal(decode_bytes(1, FAAS_FRAME_BODY, 0x80, 0, 1),
                     FAAS_FRAME_EFLAGS);
}


static void
test_unknown_type(void **state)
{
    int  t;

    (void) state;

    for (t = 0; t < 256; t++) {
        faas_frame_rc_e rc = decode_bytes(1, (uint8_t) t, 0, 0, 0);

        if (strcmp(faas_frame_type_name((uint8_t) t), "unknown") == 0) {
            assert_int_equal(rc, FAAS_FRAME_ETYPE);

        } else {
            assert_int_equal(rc, FAAS_FRAME_OK);
        }
    }

    assert_int_equal(decode_bytes(1, 0, 0, 0, 0), FAAS_FRAME_ETYPE);
    assert_int_equal(decode_bytes(1, 0x07, 0, 0, 0), FAAS_FRAME_ETYPE);
    assert_int_equal(decode_bytes(1, 0xff, 0, 0, 0), FAAS_FRAME_ETYPE);
}


static void
test_oversized_length(void **state)
{
    (void) state;

    assert_int_equal(decode_bytes(1, FAAS_FRAME_BODY, 0, 0, FAAS_BODY_MAX),
                     FAAS_FRAME_OK);
    assert_int_equal(decode_bytes(1, FAAS_FRAME_BODY, 0, 0,
                                  FAAS_BODY_MAX + 1),
                     FAAS_FRAME_ETOOBIG);
    assert_int_equal(decode_bytes(1, FAAS_FRAME_REQUEST, 0, 0,
                                  FAAS_JSON_MAX),
                     FAAS_FRAME_OK);
    assert_int_equal(decode_bytes(1, FAAS_FRAME_REQUEST, 0, 0,
                                  FAAS_JSON_MAX + 1),
                     FAAS_FRAME_ETOOBIG);
    assert_int_equal(decode_bytes(1, FAAS_FRAME_RESPONSE, 0, 0, 0xffffffff),
                     FAAS_FRAME_ETOOBIG);
    assert_int_equal(decode_bytes(1, FAAS_FRAME_REGISTER, 0, 0,
                                  FAAS_REGISTER_MAX),
                     FAAS_FRAME_OK);
    assert_int_equal(decode_bytes(1, FAAS_FRAME_REGISTER, 0, 0,
                                  FAAS_REGISTER_MAX + 1),
                     FAAS_FRAME_ETOOBIG);
}


static void
test_empty_types_with_payload(void **state)
{
    (void) state;

    assert_int_equal(decode_bytes(1, FAAS_FRAME_END, 0, 0, 1),
                     FAAS_FRAME_ELENGTH);
    assert_int_equal(decode_bytes(1, FAAS_FRAME_QUIT, 0, 0, 5),
                     FAAS_FRAME_ELENGTH);
}


/* The parser reports the error on the header, before any payload. */
static void
test_parser_rejects_before_payload(void **state)
{
    uint8_t              buf[16];
    size_t               len;
    const uint8_t       *pos, *data;
    faas_frame_parser_t  p;

    (void) state;

    faas_frame_header_encode(buf, FAAS_FRAME_BODY, FAAS_BODY_MAX + 1);
    memset(buf + 8, 'x', 8);

    faas_frame_parser_init(&p);
    pos = buf;

    assert_int_equal(faas_frame_parse(&p, &pos, buf + 4, &data, &len),
                     FAAS_FRAME_AGAIN);
    assert_int_equal(faas_frame_parse(&p, &pos, buf + 16, &data, &len),
                     FAAS_FRAME_ETOOBIG);
    assert_ptr_equal(pos, buf + 8);
}


static void
test_truncated(void **state)
{
    uint8_t         buf[512];
    size_t          n, i;
    parse_result_t  res;

    (void) state;

    n = 0;
    n += put_frame(buf + n, FAAS_FRAME_RESPONSE, "{\"status\":200}", 14);
    n += put_frame(buf + n, FAAS_FRAME_END, NULL, 0);

    /* every prefix that ends inside a frame leaves the parser busy */
    for (i = 1; i < n; i++) {
        parse_chunks(buf, i, NULL, 0, &res);

        if (i == FAAS_FRAME_HEADER_SIZE + 14) {
            assert_int_equal(res.error, 0);

        } else {
            assert_int_equal(res.error, FAAS_FRAME_AGAIN);
        }
    }

    parse_chunks(buf, 0, NULL, 0, &res);
    assert_int_equal(res.error, 0);
    assert_int_equal(res.nframes, 0);
}


/* A COMPLETE never consumes bytes of the next frame. */
static void
test_stops_at_frame_end(void **state)
{
    uint8_t              buf[64];
    size_t               n, len;
    const uint8_t       *pos, *data;
    faas_frame_parser_t  p;

    (void) state;

    n = 0;
    n += put_frame(buf + n, FAAS_FRAME_REQUEST, "{}", 2);
    n += put_frame(buf + n, FAAS_FRAME_BODY, "abc", 3);

    faas_frame_parser_init(&p);
    pos = buf;

    assert_int_equal(faas_frame_parse(&p, &pos, buf + n, &data, &len),
                     FAAS_FRAME_OK);
    assert_int_equal(faas_frame_parse(&p, &pos, buf + n, &data, &len),
                     FAAS_FRAME_DATA);
    assert_int_equal(len, 2);
    assert_int_equal(faas_frame_parse(&p, &pos, buf + n, &data, &len),
                     FAAS_FRAME_COMPLETE);
    assert_ptr_equal(pos, buf + FAAS_FRAME_HEADER_SIZE + 2);
    assert_true(faas_frame_parser_idle(&p));
}


static void
test_names(void **state)
{
    (void) state;

    assert_string_equal(faas_frame_type_name(FAAS_FRAME_REQUEST), "REQUEST");
    assert_string_equal(faas_frame_type_name(FAAS_FRAME_STATUS), "STATUS");
    assert_int_equal(faas_frame_max_length(FAAS_FRAME_STATUS), FAAS_JSON_MAX);
    assert_string_equal(faas_frame_type_name(FAAS_FRAME_LOG), "LOG");
    assert_int_equal(faas_frame_max_length(FAAS_FRAME_LOG), FAAS_JSON_MAX);
    assert_string_equal(faas_frame_type_name(FAAS_FRAME_FILTER), "FILTER");
    assert_int_equal(faas_frame_max_length(FAAS_FRAME_FILTER),
                     FAAS_FILTER_MAX);
    assert_string_equal(faas_frame_type_name(0x99), "unknown");
    assert_string_equal(faas_frame_strerror(FAAS_FRAME_ETOOBIG),
                        "frame length over the limit");
    assert_int_equal(faas_frame_max_length(FAAS_FRAME_END), 0);
    assert_int_equal(faas_frame_max_length(0x99), 0);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_encode),
        cmocka_unit_test(test_whole_stream),
        cmocka_unit_test(test_every_split_point),
        cmocka_unit_test(test_byte_by_byte),
        cmocka_unit_test(test_bad_version),
        cmocka_unit_test(test_bad_flags),
        cmocka_unit_test(test_unknown_type),
        cmocka_unit_test(test_oversized_length),
        cmocka_unit_test(test_empty_types_with_payload),
        cmocka_unit_test(test_parser_rejects_before_payload),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_stops_at_frame_end),
        cmocka_unit_test(test_names),
    };

    return cmocka_run_group_tests_name("frame codec", tests, NULL, NULL);
}
