/*
 * exit: the process ends with _exit(3) in the middle of a request.
 */

#include <unistd.h>

#include <faas.h>


int
handle(faas_request_t *req, faas_response_t *res)
{
    (void) req;

    faas_response_header(res, "Content-Type", "text/plain");

    _exit(3);

    return faas_response_printf(res, "unreachable\n");
}
