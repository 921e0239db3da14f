/*
 * exits: exit(0) for the path /exit, as a function that ends its process
 * properly would (atexit handlers and stdio run); "Hello, world!"
 * otherwise.
 */

#include <stdlib.h>
#include <string.h>

#include <faas.h>


int
handle(faas_request_t *req, faas_response_t *res)
{
    if (strcmp(faas_request_path(req), "/exit") == 0) {
        exit(0);
    }

    if (faas_response_header(res, "Content-Type", "text/plain") != 0) {
        return -1;
    }

    return faas_response_printf(res, "Hello, world!\n");
}
