/*
 * initfail: faas_init() fails, so no instance ever becomes ready and every
 * request gets a 502 "failed to start".
 */

#include <faas.h>


int
faas_init(void)
{
    return 1;
}


int
handle(faas_request_t *req, faas_response_t *res)
{
    (void) req;

    return faas_response_printf(res, "unreachable\n");
}
