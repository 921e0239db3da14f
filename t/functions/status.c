/*
 * status: answers with the status in the query ("code=404"; 200 without
 * it) and fixed headers, Set-Cookie twice, to test header passing.
 */

#include <stdlib.h>
#include <string.h>

#include <faas.h>


int
handle(faas_request_t *req, faas_response_t *res)
{
    int          code;
    const char  *p;

    code = 200;

    for (p = faas_request_query(req); p != NULL && *p; p = strchr(p, '&')) {
        if (*p == '&') {
            p++;
        }

        if (strncmp(p, "code=", 5) == 0) {
            code = atoi(p + 5);
            break;
        }
    }

    if (faas_response_status(res, code) != 0
        || faas_response_header(res, "Content-Type", "text/plain") != 0
        || faas_response_header(res, "X-Faas-Test", "yes") != 0
        || faas_response_header(res, "Set-Cookie", "a=1") != 0
        || faas_response_header(res, "Set-Cookie", "b=2") != 0)
    {
        return -1;
    }

    return faas_response_printf(res, "status %d\n", code);
}
