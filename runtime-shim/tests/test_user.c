/*
 * Unit tests: --uid-range and --allow-user parsing, and the uids that
 * functions get from a range: stable, distinct, probing on collisions.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "shim.h"


static void
test_parse_range(void **state)
{
    size_t           i;
    char             err[256];
    shim_id_range_t  r;

    static const struct {
        const char  *text;
        const char  *error;
    } bad[] = {
        { "", "not FIRST-LAST" },
        { "-", "not FIRST-LAST" },
        { "100-", "not FIRST-LAST" },
        { "-100", "not FIRST-LAST" },
        { "a-b", "not FIRST-LAST" },
        { "1-2x", "not FIRST-LAST" },
        { "200-100", "inverted" },
        { "0-100", "contains 0" },
        { "0", "contains 0" },
        { "4294967290-4294967295", "no change" },
        { "1-99999999999", "not FIRST-LAST" },
    };

    (void) state;

    assert_int_equal(shim_user_parse_range("200000-265535", &r, err,
                                           sizeof(err)), 0);
    assert_int_equal(r.first, 200000);
    assert_int_equal(r.last, 265535);

    assert_int_equal(shim_user_parse_range("5000", &r, err, sizeof(err)), 0);
    assert_int_equal(r.first, 5000);
    assert_int_equal(r.last, 5000);

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';

        if (shim_user_parse_range(bad[i].text, &r, err, sizeof(err)) == 0) {
            fail_msg("accepted \"%s\"", bad[i].text);
        }

        if (strstr(err, bad[i].error) == NULL) {
            fail_msg("\"%s\": error \"%s\" lacks \"%s\"", bad[i].text, err,
                     bad[i].error);
        }
    }
}


static void
test_allow(void **state)
{
    char          err[256];
    shim_users_t  u;

    (void) state;

    memset(&u, 0, sizeof(shim_users_t));

    assert_int_equal(shim_user_allow(&u, 0, "1000-1999", err, sizeof(err)),
                     0);
    assert_int_equal(shim_user_allow(&u, 0, "daemon", err, sizeof(err)), 0);
    assert_int_equal(u.nallow_uid, 2);
    assert_int_equal(u.allow_uid[1].first, 1);

    assert_int_equal(shim_user_allow(&u, 0, "root", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "root"));
    assert_int_equal(shim_user_allow(&u, 0, "0", err, sizeof(err)), -1);
    assert_int_equal(shim_user_allow(&u, 1, "root", err, sizeof(err)), -1);
    assert_int_equal(shim_user_allow(&u, 0, "no-such-user-here", err,
                                     sizeof(err)), -1);
    assert_non_null(strstr(err, "unknown user"));
    assert_int_equal(u.nallow_uid, 2);
    assert_int_equal(u.nallow_gid, 0);
}


static shim_function_t *
function(shim_ctx_t *ctx, const char *name)
{
    shim_function_t  *fn;

    fn = calloc(1, sizeof(shim_function_t));
    assert_non_null(fn);

    fn->name = strdup(name);
    fn->version = strdup("v1");
    assert_non_null(fn->name);

    (void) ctx;

    return fn;
}


static void
release(shim_function_t *fn)
{
    free(fn->name);
    free(fn->version);
    free(fn);
}


static void
test_assign(void **state)
{
    char               err[256];
    uint32_t           home;
    shim_ctx_t         ctx;
    shim_function_t   *a, *b, *c, *fns[3];

    (void) state;

    memset(&ctx, 0, sizeof(shim_ctx_t));
    shim_log_init(&ctx.log, SHIM_LOG_ERROR);
    assert_int_equal(shim_function_table_init(&ctx.functions), 0);

    ctx.conf.drop_privileges = 1;
    ctx.conf.uid = 65534;
    ctx.conf.gid = 65534;

    /* a range of two uids: the third name cannot have one */

    assert_int_equal(shim_user_parse_range("300000-300001", &ctx.users.range,
                                           err, sizeof(err)), 0);

    a = function(&ctx, "alpha");
    b = function(&ctx, "beta");
    c = function(&ctx, "gamma");

    /* given in reverse: the name order decides who keeps the home uid */

    fns[0] = c;
    fns[1] = b;
    fns[2] = a;

    assert_int_equal(shim_user_assign_all(&ctx, fns, 2), 0);
    assert_true(b->uid >= 300000 && b->uid <= 300001);
    assert_true(c->uid >= 300000 && c->uid <= 300001);
    assert_int_not_equal(b->uid, c->uid);
    assert_int_equal(b->gid, b->uid);
    assert_string_equal(b->user_error, "");

    home = shim_user_home(&ctx.users.range, "beta");
    assert_int_equal(b->uid, home);

    /* full, and both names registered by this REGISTER: none for alpha */

    assert_int_equal(shim_user_assign_all(&ctx, fns, 3), 0);
    assert_non_null(strstr(a->user_error, "is full"));

    /* the same names keep their uids */

    b->uid = 0;
    assert_int_equal(shim_user_assign(&ctx, b, 0), 0);
    assert_int_equal(b->uid, home);

    /* nothing registers gamma (the table is empty): alpha may take it */

    assert_int_equal(shim_user_assign(&ctx, a, 0), 0);
    assert_string_equal(a->user_error, "");
    assert_true(a->uid >= 300000 && a->uid <= 300001);

    /* a function's own user: refused inside the range, or not allowed */

    c->user = 1;
    c->uid = 300000;
    c->gid = 300000;
    assert_int_equal(shim_user_assign(&ctx, c, 0), 0);
    assert_non_null(strstr(c->user_error, "inside --uid-range"));

    c->uid = 1;
    c->gid = 1;
    assert_int_equal(shim_user_assign(&ctx, c, 0), 0);
    assert_non_null(strstr(c->user_error, "--allow-user"));

    assert_int_equal(shim_user_allow(&ctx.users, 0, "1", err, sizeof(err)),
                     0);
    assert_int_equal(shim_user_assign(&ctx, c, 0), 0);
    assert_string_equal(c->user_error, "");

    c->gid = 12345;
    assert_int_equal(shim_user_assign(&ctx, c, 0), 0);
    assert_non_null(strstr(c->user_error, "--allow-group"));

    release(a);
    release(b);
    release(c);

    shim_user_cleanup(&ctx.users);
    shim_function_table_free(&ctx.functions);
}


static void
test_home_spread(void **state)
{
    char             name[32];
    unsigned         i, same;
    uint32_t         uid, prev;
    shim_id_range_t  r;

    (void) state;

    r.first = 200000;
    r.last = 265535;

    /* stable: a pure function of the name */

    assert_int_equal(shim_user_home(&r, "hello"), shim_user_home(&r, "hello"));

    /* and spread: neighbouring names rarely share a home */

    same = 0;
    prev = 0;

    for (i = 0; i < 1000; i++) {
        snprintf(name, sizeof(name), "fn%u", i);
        uid = shim_user_home(&r, name);
        assert_true(uid >= r.first && uid <= r.last);
        same += (uid == prev);
        prev = uid;
    }

    assert_true(same < 5);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_parse_range),
        cmocka_unit_test(test_allow),
        cmocka_unit_test(test_assign),
        cmocka_unit_test(test_home_spread),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
