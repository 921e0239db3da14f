/*
 * Unit tests: the C runtime's RESPONSE head, written without a JSON
 * document (runtime-c/faas_response.c), read back with jansson as nginx
 * reads it.
 */

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "faas_runtime.h"


typedef struct {
    int               rd;
    faas_rt_conn_t    conn;
    faas_response_t   res;
    uint8_t          *head;
    uint8_t          *buf;
} test_t;


/* faas_runtime.c, which has main(), is not linked in */
void
faas_rt_log(const char *fmt, ...)
{
    (void) fmt;
}


static int
setup(void **state)
{
    int      sv[2];
    test_t  *t;

    t = calloc(1, sizeof(test_t));
    if (t == NULL) {
        return -1;
    }

    /* room for a whole head in the socket: the writer must not block */

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
        return -1;
    }

    t->rd = sv[0];
    t->conn.fd = sv[1];
    t->head = malloc(FAAS_RT_HEAD_SIZE);
    t->buf = malloc(FAAS_BODY_CHUNK);

    if (t->head == NULL || t->buf == NULL) {
        return -1;
    }

    faas_rt_response_init(&t->res, &t->conn, t->head, t->buf);

    *state = t;

    return 0;
}


static int
teardown(void **state)
{
    test_t  *t;

    t = *state;

    close(t->rd);
    close(t->conn.fd);
    free(t->head);
    free(t->buf);
    free(t);

    return 0;
}


/*
 * Finishes the response and reads it back: the RESPONSE head as JSON,
 * the body bytes into body (size at least FAAS_BODY_CHUNK), and END.
 */
static json_t *
finish_and_read(test_t *t, char *body, size_t *body_len)
{
    size_t                n, got;
    ssize_t               r;
    uint8_t              *in;
    json_t               *json;
    json_error_t          err;
    faas_frame_header_t   h;

    assert_int_equal(faas_rt_response_finish(&t->res), 0);

    shutdown(t->conn.fd, SHUT_WR);

    in = malloc(2 * FAAS_RT_HEAD_SIZE + FAAS_BODY_CHUNK);
    assert_non_null(in);

    got = 0;

    while ((r = read(t->rd, in + got, 2 * FAAS_RT_HEAD_SIZE - got)) > 0) {
        got += r;
    }

    assert_true(got >= 3 * FAAS_FRAME_HEADER_SIZE);

    assert_int_equal(faas_frame_header_decode(in, &h), FAAS_FRAME_OK);
    assert_int_equal(h.type, FAAS_FRAME_RESPONSE);
    assert_true(h.length <= FAAS_JSON_MAX);

    json = json_loadb((char *) in + FAAS_FRAME_HEADER_SIZE, h.length,
                      JSON_REJECT_DUPLICATES, &err);
    if (json == NULL) {
        fail_msg("RESPONSE is not JSON: %s: %.*s", err.text, (int) h.length,
                 (char *) in + FAAS_FRAME_HEADER_SIZE);
    }

    n = FAAS_FRAME_HEADER_SIZE + h.length;
    *body_len = 0;

    assert_int_equal(faas_frame_header_decode(in + n, &h), FAAS_FRAME_OK);

    if (h.type == FAAS_FRAME_BODY) {
        memcpy(body, in + n + FAAS_FRAME_HEADER_SIZE, h.length);
        *body_len = h.length;
        n += FAAS_FRAME_HEADER_SIZE + h.length;
        assert_int_equal(faas_frame_header_decode(in + n, &h),
                         FAAS_FRAME_OK);
    }

    assert_int_equal(h.type, FAAS_FRAME_END);
    assert_int_equal(n + FAAS_FRAME_HEADER_SIZE, got);

    free(in);

    return json;
}


static const char *
header_at(json_t *json, size_t i, size_t k)
{
    return json_string_value(json_array_get(
               json_array_get(json_object_get(json, "headers"), i), k));
}


static void
test_head(void **state)
{
    char     body[FAAS_BODY_CHUNK];
    size_t   len;
    json_t  *json;
    test_t  *t;

    t = *state;

    assert_int_equal(faas_response_status(&t->res, 201), 0);
    assert_int_equal(faas_response_header(&t->res, "Content-Type",
                                          "text/plain"), 0);
    assert_int_equal(faas_response_header(&t->res, "Set-Cookie", "a=1"), 0);
    assert_int_equal(faas_response_header(&t->res, "Set-Cookie", "b=2"), 0);
    assert_int_equal(faas_response_write(&t->res, "hello\n", 6), 0);

    json = finish_and_read(t, body, &len);

    assert_int_equal(json_integer_value(json_object_get(json, "status")),
                     201);
    assert_int_equal(json_array_size(json_object_get(json, "headers")), 4);
    assert_string_equal(header_at(json, 0, 0), "Content-Type");
    assert_string_equal(header_at(json, 0, 1), "text/plain");
    assert_string_equal(header_at(json, 2, 1), "b=2");

    /* the whole body was known: its length comes with it */
    assert_string_equal(header_at(json, 3, 0), "Content-Length");
    assert_string_equal(header_at(json, 3, 1), "6");

    assert_null(json_object_get(json, "close"));
    assert_int_equal(len, 6);
    assert_memory_equal(body, "hello\n", 6);

    json_decref(json);
}


static void
test_no_headers(void **state)
{
    char     body[FAAS_BODY_CHUNK];
    size_t   len;
    json_t  *json;
    test_t  *t;

    t = *state;

    /* 204 has no body, so no Content-Length either: "headers" is [] */
    assert_int_equal(faas_response_status(&t->res, 204), 0);

    json = finish_and_read(t, body, &len);

    assert_int_equal(json_integer_value(json_object_get(json, "status")),
                     204);
    assert_true(json_is_array(json_object_get(json, "headers")));
    assert_int_equal(json_array_size(json_object_get(json, "headers")), 0);
    assert_int_equal(len, 0);

    json_decref(json);
}


static void
test_escaping(void **state)
{
    char         body[FAAS_BODY_CHUNK];
    size_t       len;
    json_t      *json;
    test_t      *t;
    const char  *value;

    /* quote, backslash, controls, DEL, and 2, 3 and 4 byte UTF-8 */
    value = "a\"b\\c\x01\x1f\t\n\x7f / \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";

    t = *state;

    assert_int_equal(faas_response_header(&t->res, "X-Odd", value), 0);

    json = finish_and_read(t, body, &len);

    assert_string_equal(header_at(json, 0, 0), "X-Odd");
    assert_string_equal(header_at(json, 0, 1), value);

    json_decref(json);
}


static void
test_not_utf8(void **state)
{
    char        body[FAAS_BODY_CHUNK];
    size_t      len, i;
    json_t     *json;
    test_t     *t;

    static const char  *bad[] = {
        "\xc3\x28",                 /* no continuation */
        "\xc0\xaf",                 /* overlong */
        "\xe0\x80\xaf",             /* overlong, 3 bytes */
        "\xed\xa0\x80",             /* a surrogate */
        "\xf4\x90\x80\x80",         /* above U+10FFFF */
        "\xf5\x80\x80\x80",
        "\xe2\x82",                 /* cut short */
        "\x80",                     /* a continuation alone */
        "ok\xff",
    };

    t = *state;

    assert_int_equal(faas_response_header(&t->res, "X-Before", "1"), 0);

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(faas_response_header(&t->res, "X-Bad", bad[i]), -1);
        assert_int_equal(faas_response_header(&t->res, bad[i], "v"), -1);
    }

    /* a refused header leaves nothing behind */
    assert_int_equal(faas_response_header(&t->res, "X-After", "2"), 0);

    json = finish_and_read(t, body, &len);

    assert_int_equal(json_array_size(json_object_get(json, "headers")), 3);
    assert_string_equal(header_at(json, 0, 0), "X-Before");
    assert_string_equal(header_at(json, 1, 0), "X-After");

    json_decref(json);
}


static void
test_close(void **state)
{
    char     body[FAAS_BODY_CHUNK];
    size_t   len;
    json_t  *json;
    test_t  *t;

    t = *state;

    t->res.close = 1;

    assert_int_equal(faas_response_header(&t->res, "X-A", "1"), 0);

    json = finish_and_read(t, body, &len);

    assert_true(json_is_true(json_object_get(json, "close")));
    assert_int_equal(json_integer_value(json_object_get(json, "status")),
                     200);

    json_decref(json);
}


/* any int is written as JSON: nginx, not the runtime, refuses it */
static void
test_status_any_int(void **state)
{
    char     body[FAAS_BODY_CHUNK];
    size_t   len;
    json_t  *json;
    test_t  *t;

    t = *state;

    assert_int_equal(faas_response_status(&t->res, INT_MIN), 0);

    json = finish_and_read(t, body, &len);

    assert_int_equal(json_integer_value(json_object_get(json, "status")),
                     INT_MIN);

    json_decref(json);
}


/* headers up to the limit: refused past it, and the head stays valid */
static void
test_too_large(void **state)
{
    int      rc;
    char     body[FAAS_BODY_CHUNK], *value;
    size_t   len, n;
    json_t  *json;
    test_t  *t;

    t = *state;

    t->res.close = 1;

    value = malloc(1000);
    assert_non_null(value);
    memset(value, 'v', 999);
    value[999] = '\0';

    for (n = 0; ; n++) {
        rc = faas_response_header(&t->res, "X-Big", value);
        if (rc != 0) {
            break;
        }
    }

    assert_true(n > 60 && n < 66);

    /* a short one may still fit */
    (void) faas_response_header(&t->res, "X", "1");

    json = finish_and_read(t, body, &len);

    assert_true(json_array_size(json_object_get(json, "headers")) >= n);
    assert_true(json_is_true(json_object_get(json, "close")));

    json_decref(json);
    free(value);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_head, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_escaping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_utf8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_any_int, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_too_large, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
