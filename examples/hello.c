/*
 * hello: "Hello, world!", or "$GREETING, world!" when the function's
 * environment sets GREETING (faas_function ... { env GREETING=Hi; }).
 */

#include <stdlib.h>

#include <faas.h>


int
handle(faas_request_t *req, faas_response_t *res)
{
    const char  *greeting;

    (void) req;

    greeting = getenv("GREETING");

    if (greeting == NULL || greeting[0] == '\0') {
        greeting = "Hello";
    }

    if (faas_response_header(res, "Content-Type", "text/plain") != 0) {
        return -1;
    }

    return faas_response_printf(res, "%s, world!\n", greeting);
}
