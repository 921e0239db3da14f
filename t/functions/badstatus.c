/*
 * badstatus: answers with status 99, which nginx must turn into a 502.
 */

#include <faas.h>


int
handle(faas_request_t *req, faas_response_t *res)
{
    (void) req;

    if (faas_response_status(res, 99) != 0) {
        return -1;
    }

    return faas_response_printf(res, "bad status\n");
}
