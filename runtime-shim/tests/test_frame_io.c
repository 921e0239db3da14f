/*
 * Unit tests: the supervisor's frame reader over a socket pair, above all
 * that it never reads past the frame it was asked for.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "shim.h"


typedef struct {
    int  rd;
    int  wr;
} test_pair_t;


static int
setup(void **state)
{
    int                 sv[2];
    static test_pair_t  pair;

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) != 0) {
        return -1;
    }

    pair.rd = sv[0];
    pair.wr = sv[1];
    *state = &pair;

    return 0;
}


static int
teardown(void **state)
{
    test_pair_t  *pair;

    pair = *state;

    close(pair->rd);
    if (pair->wr != -1) {
        close(pair->wr);
    }

    return 0;
}


static void
put(test_pair_t *pair, const void *data, size_t len)
{
    assert_int_equal(write(pair->wr, data, len), (ssize_t) len);
}


static void
put_frame(test_pair_t *pair, faas_frame_type_e type, const char *payload)
{
    uint8_t  header[FAAS_FRAME_HEADER_SIZE];

    faas_frame_header_encode(header, type, (uint32_t) strlen(payload));
    put(pair, header, sizeof(header));
    put(pair, payload, strlen(payload));
}


static void
test_exact(void **state)
{
    int                   err;
    char                  rest[64];
    size_t                len;
    uint8_t              *payload;
    const char           *reason;
    test_pair_t          *pair;
    shim_frame_reader_t   rd;

    pair = *state;

    put_frame(pair, FAAS_FRAME_REQUEST, "{\"function\":\"f\"}");
    put_frame(pair, FAAS_FRAME_BODY, "body bytes");

    shim_frame_reader_init(&rd, SHIM_FRAME_TYPE(FAAS_FRAME_REQUEST));

    assert_int_equal(shim_frame_read(pair->rd, &rd, &reason, &err),
                     SHIM_FRAME_READ_DONE);
    assert_int_equal(rd.frame.type, FAAS_FRAME_REQUEST);

    payload = shim_frame_reader_take(&rd, &len);
    assert_int_equal(len, 16);
    assert_memory_equal(payload, "{\"function\":\"f\"}", 16);
    free(payload);

    /* the BODY frame is still in the socket, whole */
    assert_int_equal(read(pair->rd, rest, sizeof(rest)),
                     FAAS_FRAME_HEADER_SIZE + 10);
    assert_int_equal(rest[1], FAAS_FRAME_BODY);
}


static void
test_resumes(void **state)
{
    int                   err;
    size_t                i, len;
    uint8_t               frame[FAAS_FRAME_HEADER_SIZE + 5], *payload;
    const char           *reason;
    test_pair_t          *pair;
    shim_frame_reader_t   rd;

    pair = *state;

    faas_frame_header_encode(frame, FAAS_FRAME_REGISTER, 5);
    memcpy(frame + FAAS_FRAME_HEADER_SIZE, "hello", 5);

    shim_frame_reader_init(&rd, SHIM_FRAME_TYPE(FAAS_FRAME_REGISTER));

    /* one byte at a time: AGAIN until the last one */
    for (i = 0; i < sizeof(frame) - 1; i++) {
        put(pair, frame + i, 1);
        assert_int_equal(shim_frame_read(pair->rd, &rd, &reason, &err),
                         SHIM_FRAME_READ_AGAIN);
    }

    put(pair, frame + i, 1);
    assert_int_equal(shim_frame_read(pair->rd, &rd, &reason, &err),
                     SHIM_FRAME_READ_DONE);

    payload = shim_frame_reader_take(&rd, &len);
    assert_int_equal(len, 5);
    assert_memory_equal(payload, "hello", 5);
    free(payload);

    /* closed between frames: a clean EOF */
    close(pair->wr);
    pair->wr = -1;

    assert_int_equal(shim_frame_read(pair->rd, &rd, &reason, &err),
                     SHIM_FRAME_READ_EOF);
}


static void
test_errors(void **state)
{
    int                   err;
    uint8_t               header[FAAS_FRAME_HEADER_SIZE];
    const char           *reason;
    test_pair_t          *pair;
    shim_frame_reader_t   rd;

    pair = *state;

    shim_frame_reader_init(&rd, SHIM_FRAME_TYPE(FAAS_FRAME_REQUEST));

    /* a type not accepted here fails before any payload is read */
    faas_frame_header_encode(header, FAAS_FRAME_BODY, 100);
    put(pair, header, sizeof(header));

    assert_int_equal(shim_frame_read(pair->rd, &rd, &reason, &err),
                     SHIM_FRAME_READ_ERROR);
    assert_string_equal(reason, "unexpected frame type");
    shim_frame_reader_free(&rd);

    /* a length over the type's limit */
    faas_frame_header_encode(header, FAAS_FRAME_REQUEST,
                             FAAS_JSON_MAX + 1);
    put(pair, header, sizeof(header));

    shim_frame_reader_init(&rd, SHIM_FRAME_TYPE(FAAS_FRAME_REQUEST));
    assert_int_equal(shim_frame_read(pair->rd, &rd, &reason, &err),
                     SHIM_FRAME_READ_ERROR);
    assert_string_equal(reason, faas_frame_strerror(FAAS_FRAME_ETOOBIG));
    shim_frame_reader_free(&rd);

    /* the stream ending inside a frame */
    faas_frame_header_encode(header, FAAS_FRAME_REQUEST, 10);
    put(pair, header, sizeof(header));
    put(pair, "abc", 3);
    close(pair->wr);
    pair->wr = -1;

    shim_frame_reader_init(&rd, SHIM_FRAME_TYPE(FAAS_FRAME_REQUEST));
    assert_int_equal(shim_frame_read(pair->rd, &rd, &reason, &err),
                     SHIM_FRAME_READ_ERROR);
    assert_string_equal(reason, "connection closed inside a frame");
    shim_frame_reader_free(&rd);
}


static void
test_packet(void **state)
{
    uint8_t               packet[64];
    const char           *reason;
    const uint8_t        *pos, *payload;
    faas_frame_header_t   frame;

    (void) state;

    faas_frame_header_encode(packet, FAAS_FRAME_READY, 2);
    memcpy(packet + 8, "{}", 2);
    faas_frame_header_encode(packet + 10, FAAS_FRAME_DONE, 0);

    pos = packet;

    assert_int_equal(shim_frame_next(&pos, packet + 18, &frame, &payload,
                                     &reason), 0);
    assert_int_equal(frame.type, FAAS_FRAME_READY);
    assert_memory_equal(payload, "{}", 2);

    assert_int_equal(shim_frame_next(&pos, packet + 18, &frame, &payload,
                                     &reason), 0);
    assert_int_equal(frame.type, FAAS_FRAME_DONE);
    assert_ptr_equal(pos, packet + 18);

    /* a frame that claims more than the packet holds */
    pos = packet;
    assert_int_equal(shim_frame_next(&pos, packet + 9, &frame, &payload,
                                     &reason), -1);

    pos = packet;
    assert_int_equal(shim_frame_next(&pos, packet + 4, &frame, &payload,
                                     &reason), -1);
}


static void
test_encode_json(void **state)
{
    size_t               n;
    json_t              *json;
    uint8_t              buf[SHIM_FRAME_JSON_SIZE];
    faas_frame_header_t  frame;

    (void) state;

    json = json_pack("{s:i, s:s}", "status", 503, "reason", "a \"b\"");
    assert_non_null(json);

    n = shim_frame_encode_json(buf, FAAS_FRAME_ERROR, json);
    json_decref(json);

    assert_int_equal(faas_frame_header_decode(buf, &frame), FAAS_FRAME_OK);
    assert_int_equal(frame.type, FAAS_FRAME_ERROR);
    assert_int_equal(n, FAAS_FRAME_HEADER_SIZE + frame.length);
    assert_memory_equal(buf + FAAS_FRAME_HEADER_SIZE,
                        "{\"status\":503,\"reason\":\"a \\\"b\\\"\"}",
                        frame.length);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test_setup_teardown(test_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resumes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test(test_packet),
        cmocka_unit_test(test_encode_json),
    };

    return cmocka_run_group_tests_name("frame_io", tests, NULL, NULL);
}
