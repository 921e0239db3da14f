/*
 * Unit tests: command line values and the wording of process deaths.
 */

#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>
#include <setjmp.h>
#include <cmocka.h>

#include "shim.h"
#include "shim_conf.h"


static void
test_time(void **state)
{
    size_t    i;
    uint64_t  ms;

    static const struct {
        const char  *s;
        uint64_t     ms;
    } good[] = {
        { "0", 0 },
        { "10", 10000 },
        { "10s", 10000 },
        { "500ms", 500 },
        { "1m", 60000 },
        { "1m30s", 90000 },
        { "2h", 7200000 },
        { "1d", 86400000 },
        { "1s500ms", 1500 },
    };

    static const char  *bad[] = {
        "", "s", "-1", "1x", "1 s", "10sec", "1.5s", "99999999999999999999",
        "400d",
    };

    (void) state;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        ms = 12345;
        assert_int_equal(shim_conf_parse_time(good[i].s, &ms), 0);
        assert_int_equal(ms, good[i].ms);
    }

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (shim_conf_parse_time(bad[i], &ms) == 0) {
            fail_msg("accepted \"%s\"", bad[i]);
        }
    }
}


static void
test_mode(void **state)
{
    mode_t  mode;

    (void) state;

    assert_int_equal(shim_conf_parse_mode("0660", &mode), 0);
    assert_int_equal(mode, 0660);
    assert_int_equal(shim_conf_parse_mode("666", &mode), 0);
    assert_int_equal(mode, 0666);
    assert_int_equal(shim_conf_parse_mode("0", &mode), 0);
    assert_int_equal(mode, 0);

    assert_int_equal(shim_conf_parse_mode("", &mode), -1);
    assert_int_equal(shim_conf_parse_mode("0668", &mode), -1);
    assert_int_equal(shim_conf_parse_mode("1777", &mode), -1);
    assert_int_equal(shim_conf_parse_mode("-1", &mode), -1);
    assert_int_equal(shim_conf_parse_mode("rw", &mode), -1);
}


static void
test_users(void **state)
{
    uid_t  uid;
    gid_t  gid;

    (void) state;

    assert_int_equal(shim_conf_user("root", &uid, &gid), 0);
    assert_int_equal(uid, 0);
    assert_int_equal(gid, 0);

    assert_int_equal(shim_conf_user("12345", &uid, &gid), 0);
    assert_int_equal(uid, 12345);

    assert_int_equal(shim_conf_group("0", &gid), 0);
    assert_int_equal(gid, 0);

    assert_int_equal(shim_conf_user("no such user", &uid, &gid), -1);
    assert_int_equal(shim_conf_group("no such group", &gid), -1);
}


static void
test_status(void **state)
{
    char  buf[64];

    (void) state;

    /* wait statuses as the kernel encodes them */

    assert_string_equal(shim_process_status(3 << 8, buf, sizeof(buf)),
                        "exited with status 3");
    assert_string_equal(shim_process_status(0, buf, sizeof(buf)),
                        "exited with status 0");
    assert_string_equal(shim_process_status(SIGSEGV, buf, sizeof(buf)),
                        "killed by signal 11 (SIGSEGV)");
    assert_string_equal(shim_process_status(SIGKILL, buf, sizeof(buf)),
                        "killed by signal 9 (SIGKILL)");
}


/* --pool NAME=N */
static void
test_pool_option(void **state)
{
    size_t             i;
    unsigned           n;
    shim_pool_conf_t   pools[SHIM_POOLS_MAX];

    static const char  *bad[] = {
        "sandbox", "=2", "sandbox=", "sandbox=x", "sandbox=-1",
        "sandbox=1001", "../c=1", "Py=1", "sandbox=1 ",
        "a-name-that-is-longer-than-31-bytes=1",
    };

    (void) state;

    n = 0;

    assert_int_equal(shim_pool_option(pools, &n, "sandbox=4"), 0);
    assert_int_equal(shim_pool_option(pools, &n, "python3=2"), 0);
    assert_int_equal(n, 2);
    assert_string_equal(pools[0].name, "sandbox");
    assert_int_equal(pools[0].size, 4);
    assert_string_equal(pools[1].name, "python3");
    assert_int_equal(pools[1].size, 2);

    /* a later option for the same pool wins */
    assert_int_equal(shim_pool_option(pools, &n, "sandbox=0"), 0);
    assert_int_equal(n, 2);
    assert_int_equal(pools[0].size, 0);

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (shim_pool_option(pools, &n, bad[i]) == 0) {
            fail_msg("accepted --pool %s", bad[i]);
        }
    }

    assert_int_equal(n, 2);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_time),
        cmocka_unit_test(test_mode),
        cmocka_unit_test(test_users),
        cmocka_unit_test(test_status),
        cmocka_unit_test(test_pool_option),
    };

    return cmocka_run_group_tests_name("conf", tests, NULL, NULL);
}
