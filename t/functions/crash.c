/*
 * crash: dereferences NULL; the instance dies of SIGSEGV mid-request.
 */

#include <faas.h>


int
handle(faas_request_t *req, faas_response_t *res)
{
    volatile int  *p;

    (void) req;
    (void) res;

    p = NULL;
    *p = 1;

    return 0;
}
