/*
 * Unit tests: the timer heap.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <setjmp.h>
#include <cmocka.h>

#include "shim_timer.h"


#define NTIMERS  1000


static void
test_handler(shim_timer_t *t)
{
    (void) t;
}


static void
test_order(void **state)
{
    size_t             i;
    uint64_t           deadlines[] = { 50, 10, 40, 30, 20, 60, 5 };
    uint64_t           expect[] = { 5, 10, 20, 30, 40, 50, 60 };
    shim_timer_t       timers[7], *t;
    shim_timer_heap_t  h;

    (void) state;

    shim_timer_heap_init(&h);

    for (i = 0; i < 7; i++) {
        assert_int_equal(shim_timer_init(&h, &timers[i], test_handler, NULL),
                         0);
        assert_false(shim_timer_armed(&timers[i]));
        shim_timer_arm(&h, &timers[i], deadlines[i]);
        assert_true(shim_timer_armed(&timers[i]));
    }

    assert_int_equal(shim_timer_first(&h)->deadline, 5);

    /* nothing is due before the first deadline */
    assert_null(shim_timer_expired(&h, 4));

    for (i = 0; i < 7; i++) {
        t = shim_timer_expired(&h, 1000);
        assert_non_null(t);
        assert_int_equal(t->deadline, expect[i]);
        assert_false(shim_timer_armed(t));
    }

    assert_null(shim_timer_expired(&h, 1000));
    assert_null(shim_timer_first(&h));

    for (i = 0; i < 7; i++) {
        shim_timer_release(&h, &timers[i]);
    }

    assert_int_equal(h.ntimers, 0);

    shim_timer_heap_free(&h);
}


static void
test_expired_stops_at_now(void **state)
{
    shim_timer_t       a, b, c;
    shim_timer_heap_t  h;

    (void) state;

    shim_timer_heap_init(&h);

    shim_timer_init(&h, &a, test_handler, NULL);
    shim_timer_init(&h, &b, test_handler, NULL);
    shim_timer_init(&h, &c, test_handler, NULL);

    shim_timer_arm(&h, &a, 100);
    shim_timer_arm(&h, &b, 200);
    shim_timer_arm(&h, &c, 300);

    assert_ptr_equal(shim_timer_expired(&h, 200), &a);
    assert_ptr_equal(shim_timer_expired(&h, 200), &b);
    assert_null(shim_timer_expired(&h, 200));
    assert_ptr_equal(shim_timer_first(&h), &c);

    shim_timer_release(&h, &a);
    shim_timer_release(&h, &b);
    shim_timer_release(&h, &c);
    shim_timer_heap_free(&h);
}


static void
test_cancel(void **state)
{
    shim_timer_t       a, b, c, d;
    shim_timer_heap_t  h;

    (void) state;

    shim_timer_heap_init(&h);

    shim_timer_init(&h, &a, test_handler, NULL);
    shim_timer_init(&h, &b, test_handler, NULL);
    shim_timer_init(&h, &c, test_handler, NULL);
    shim_timer_init(&h, &d, test_handler, NULL);

    shim_timer_arm(&h, &a, 10);
    shim_timer_arm(&h, &b, 20);
    shim_timer_arm(&h, &c, 30);
    shim_timer_arm(&h, &d, 40);

    /* the root, a middle element, and the last one */
    shim_timer_cancel(&h, &a);
    shim_timer_cancel(&h, &c);
    shim_timer_cancel(&h, &d);

    assert_false(shim_timer_armed(&a));
    assert_int_equal(h.nelts, 1);
    assert_ptr_equal(shim_timer_first(&h), &b);

    /* cancelling an unarmed timer does nothing */
    shim_timer_cancel(&h, &a);
    assert_int_equal(h.nelts, 1);

    assert_ptr_equal(shim_timer_expired(&h, 1000), &b);
    assert_null(shim_timer_expired(&h, 1000));

    /* release cancels an armed timer */
    shim_timer_arm(&h, &c, 5);
    shim_timer_release(&h, &c);
    assert_null(shim_timer_first(&h));

    shim_timer_release(&h, &a);
    shim_timer_release(&h, &b);
    shim_timer_release(&h, &d);
    shim_timer_heap_free(&h);
}


static void
test_rearm(void **state)
{
    shim_timer_t       a, b, c;
    shim_timer_heap_t  h;

    (void) state;

    shim_timer_heap_init(&h);

    shim_timer_init(&h, &a, test_handler, NULL);
    shim_timer_init(&h, &b, test_handler, NULL);
    shim_timer_init(&h, &c, test_handler, NULL);

    shim_timer_arm(&h, &a, 10);
    shim_timer_arm(&h, &b, 20);
    shim_timer_arm(&h, &c, 30);

    /* later: a moves behind the others, and stays armed once */
    shim_timer_arm(&h, &a, 40);
    assert_int_equal(h.nelts, 3);
    assert_ptr_equal(shim_timer_first(&h), &b);

    /* earlier: c moves to the front */
    shim_timer_arm(&h, &c, 1);
    assert_ptr_equal(shim_timer_first(&h), &c);

    assert_ptr_equal(shim_timer_expired(&h, 100), &c);
    assert_ptr_equal(shim_timer_expired(&h, 100), &b);
    assert_ptr_equal(shim_timer_expired(&h, 100), &a);

    shim_timer_release(&h, &a);
    shim_timer_release(&h, &b);
    shim_timer_release(&h, &c);
    shim_timer_heap_free(&h);
}


static void
test_many(void **state)
{
    size_t             i, n;
    uint64_t           last;
    shim_timer_t      *timers, *t;
    shim_timer_heap_t  h;

    (void) state;

    timers = calloc(NTIMERS, sizeof(shim_timer_t));
    assert_non_null(timers);

    shim_timer_heap_init(&h);
    srand(42);

    for (i = 0; i < NTIMERS; i++) {
        assert_int_equal(shim_timer_init(&h, &timers[i], test_handler,
                                         &timers[i]), 0);
        shim_timer_arm(&h, &timers[i], (uint64_t) (rand() % 10000));
    }

    /* cancel every third, re-arm every fifth at a new random time */
    for (i = 0; i < NTIMERS; i++) {
        if (i % 3 == 0) {
            shim_timer_cancel(&h, &timers[i]);

        } else if (i % 5 == 0) {
            shim_timer_arm(&h, &timers[i], (uint64_t) (rand() % 10000));
        }
    }

    n = 0;
    last = 0;

    while ((t = shim_timer_expired(&h, UINT64_MAX)) != NULL) {
        assert_true(t->deadline >= last);
        assert_ptr_equal(t->data, t);
        last = t->deadline;
        n++;
    }

    assert_int_equal(n, NTIMERS - (NTIMERS + 2) / 3);

    for (i = 0; i < NTIMERS; i++) {
        shim_timer_release(&h, &timers[i]);
    }

    assert_int_equal(h.ntimers, 0);

    shim_timer_heap_free(&h);
    free(timers);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_order),
        cmocka_unit_test(test_expired_stops_at_now),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_rearm),
        cmocka_unit_test(test_many),
    };

    return cmocka_run_group_tests_name("timer", tests, NULL, NULL);
}
