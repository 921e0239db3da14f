/*
 * crash3: answers "ok N" for the Nth call an instance serves, and dies of
 * SIGSEGV on every third; the supervisor replaces the instance, so calls
 * keep succeeding around the crashes.
 */

#include <faas.h>


static unsigned  calls;


int
handle(faas_request_t *req, faas_response_t *res)
{
    volatile int  *p;

    (void) req;

    if (++calls % 3 == 0) {
        p = NULL;
        *p = 1;
    }

    return faas_response_printf(res, "ok %u\n", calls);
}
