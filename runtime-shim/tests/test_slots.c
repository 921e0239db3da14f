/*
 * Unit tests: the slots of direct calls (lib/faas_slots.h) and their
 * table in the supervisor (shim_direct.c): who may claim, when, and what
 * a stale generation can no longer do.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>
#include <sys/stat.h>

#include "shim.h"


static void
test_claim_release(void **state)
{
    faas_slot_t  s;
    uint32_t     gen;

    (void) state;

    memset(&s, 0, sizeof(s));
    s.state = ((uint64_t) 1 << 32) | FAAS_SLOT_CLOSED;

    gen = faas_slot_retire(&s, 1);
    assert_int_equal(gen, 2);

    /* closed: the supervisor has it */
    assert_false(faas_slot_claim(&s, gen));

    faas_slot_open(&s);
    assert_true(faas_slot_claim(&s, gen));
    assert_int_equal(s.calls, 1);

    /* one call at a time */
    assert_false(faas_slot_claim(&s, gen));
    assert_int_equal(faas_slot_inflight(s.state), 1);

    /* the supervisor cannot take it while the call runs */
    assert_false(faas_slot_take(&s));

    faas_slot_release(&s, gen, 1234);
    assert_int_equal(faas_slot_inflight(s.state), 0);
    assert_int_equal(s.last_used, 1234);

    /* a release too many changes nothing */
    faas_slot_release(&s, gen, 1235);
    assert_int_equal(faas_slot_inflight(s.state), 0);

    assert_true(faas_slot_take(&s));
    assert_true(faas_slot_closed(s.state));
    assert_false(faas_slot_claim(&s, gen));

    faas_slot_open(&s);
    assert_true(faas_slot_claim(&s, gen));
}


static void
test_close_in_flight(void **state)
{
    faas_slot_t  s;
    uint32_t     gen;

    (void) state;

    memset(&s, 0, sizeof(s));
    gen = faas_slot_retire(&s, 1);
    faas_slot_open(&s);

    assert_true(faas_slot_claim(&s, gen));

    /* closing reports the call in flight; it still ends normally */
    assert_int_equal(faas_slot_close(&s), 1);
    assert_false(faas_slot_claim(&s, gen));

    faas_slot_release(&s, gen, 1);
    assert_int_equal(faas_slot_close(&s), 0);
    assert_true(faas_slot_take(&s));
}


static void
test_quit(void **state)
{
    faas_slot_t  s;
    uint32_t     gen;

    (void) state;

    memset(&s, 0, sizeof(s));
    gen = faas_slot_retire(&s, 1);
    faas_slot_open(&s);

    assert_true(faas_slot_claim(&s, gen));
    assert_int_equal(faas_slot_quit(&s), 1);
    assert_true(faas_slot_quitting(s.state));

    /* the call in flight ends; nothing claims it after */
    faas_slot_release(&s, gen, 1);
    assert_int_equal(faas_slot_inflight(s.state), 0);
    assert_false(faas_slot_claim(&s, gen));

    /* a new instance in the slot is not quitting */
    gen = faas_slot_retire(&s, 1);
    assert_false(faas_slot_quitting(s.state));
}


static void
test_stale_generation(void **state)
{
    faas_slot_t  s;
    uint32_t     old, gen;

    (void) state;

    memset(&s, 0, sizeof(s));
    old = faas_slot_retire(&s, 1);
    faas_slot_open(&s);

    assert_true(faas_slot_claim(&s, old));

    /* the instance died in the call: the slot goes to another one */
    gen = faas_slot_retire(&s, 1);
    assert_int_not_equal(gen, old);
    faas_slot_open(&s);

    /* the old call's release must not free the new instance's claim */
    assert_true(faas_slot_claim(&s, gen));
    faas_slot_release(&s, old, 1);
    assert_int_equal(faas_slot_inflight(s.state), 1);

    assert_false(faas_slot_claim(&s, old));

    faas_slot_release(&s, gen, 2);
    assert_int_equal(faas_slot_inflight(s.state), 0);
    assert_false(faas_slot_claim(&s, old));
}


static void
test_limit(void **state)
{
    faas_slot_t  s;
    uint32_t     gen, i;

    (void) state;

    memset(&s, 0, sizeof(s));
    gen = faas_slot_retire(&s, 3);
    assert_int_equal(faas_slot_limit(s.state), 3);
    faas_slot_open(&s);

    /* concurrency 3: three direct calls at once, not a fourth */
    for (i = 0; i < 3; i++) {
        assert_true(faas_slot_claim(&s, gen));
    }

    assert_false(faas_slot_claim(&s, gen));
    assert_int_equal(faas_slot_inflight(s.state), 3);
    assert_int_equal(s.calls, 3);

    /* the supervisor waits for all of them */
    assert_int_equal(faas_slot_close(&s), 3);
    faas_slot_release(&s, gen, 1);
    faas_slot_release(&s, gen, 2);
    assert_false(faas_slot_take(&s));
    faas_slot_release(&s, gen, 3);
    assert_true(faas_slot_take(&s));
    assert_int_equal(faas_slot_limit(s.state), 3);

    /* the limit belongs to the instance: the next one may differ */
    gen = faas_slot_retire(&s, 1);
    faas_slot_open(&s);
    assert_true(faas_slot_claim(&s, gen));
    assert_false(faas_slot_claim(&s, gen));

    /* a slot never given a limit takes one call; a limit is bounded */
    gen = faas_slot_retire(&s, 0);
    assert_int_equal(faas_slot_limit(s.state), 1);
    gen = faas_slot_retire(&s, 100000);
    assert_int_equal(faas_slot_limit(s.state), FAAS_SLOT_LIMIT_MAX);
    assert_int_equal(faas_slot_gen(s.state), gen);
    assert_false(faas_slot_quitting(s.state));
}


static void
test_generation_wraps(void **state)
{
    faas_slot_t  s;

    (void) state;

    memset(&s, 0, sizeof(s));
    s.state = ((uint64_t) UINT32_MAX << 32) | FAAS_SLOT_CLOSED;

    /* 0 is never a generation: a zeroed slot names no instance */
    assert_int_equal(faas_slot_retire(&s, 1), 1);
}


static void
test_table(void **state)
{
    char                  dir[] = "/tmp/test_slots.XXXXXX";
    char                  sock[64];
    uint32_t              i, index, gen, seen;
    struct stat           st;
    shim_log_t            log;
    shim_direct_t         d;
    faas_slots_header_t  *h;

    (void) state;

    assert_non_null(mkdtemp(dir));
    snprintf(sock, sizeof(sock), "%s/faas.sock", dir);

    shim_log_init(&log, SHIM_LOG_ERROR);

    memset(&d, 0, sizeof(d));

    assert_int_equal(shim_direct_init(&d, &log, sock, 0660, (gid_t) -1), 0);

    assert_int_equal(stat(d.path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0660);
    assert_int_equal((size_t) st.st_size, d.size);

    h = d.base;
    assert_true(h->magic == FAAS_SLOTS_MAGIC);
    assert_int_equal(h->nslots, FAAS_SLOTS_MAX);
    assert_int_equal(h->slot_size, sizeof(faas_slot_t));

    /* every slot starts with generation 0, which no instance has */
    for (i = 0; i < FAAS_SLOTS_MAX; i++) {
        assert_int_equal(faas_slot_gen(shim_direct_slot(&d, i)->state), 0);
        assert_false(faas_slot_claim(shim_direct_slot(&d, i), 0));
    }

    assert_int_equal(shim_direct_alloc(&d, 7, 1, &index, &gen), 0);
    assert_true(shim_direct_slot(&d, index)->instance == 7);
    assert_true(faas_slot_closed(shim_direct_slot(&d, index)->state));

    /* freed and taken again: a new generation for the new instance */
    shim_direct_free(&d, index);
    assert_int_equal(shim_direct_alloc(&d, 8, 4, &i, &seen), 0);
    assert_int_equal(i, index);
    assert_int_not_equal(seen, gen);
    assert_int_equal(faas_slot_limit(shim_direct_slot(&d, i)->state), 4);

    /* all of them, then none */
    for (i = 1; i < FAAS_SLOTS_MAX; i++) {
        assert_int_equal(shim_direct_alloc(&d, 100 + i, 1, &index, &gen), 0);
    }

    assert_int_equal(shim_direct_alloc(&d, 1, 1, &index, &gen), -1);

    /* gone with the supervisor */

    shim_direct_cleanup(&d, &log);

    snprintf(sock, sizeof(sock), "%s/faas.sock.slots", dir);
    assert_int_equal(stat(sock, &st), -1);

    assert_int_equal(rmdir(dir), 0);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_claim_release),
        cmocka_unit_test(test_close_in_flight),
        cmocka_unit_test(test_quit),
        cmocka_unit_test(test_stale_generation),
        cmocka_unit_test(test_limit),
        cmocka_unit_test(test_generation_wraps),
        cmocka_unit_test(test_table),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
