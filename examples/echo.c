/*
 * echo: describes the request it got, one item a line, then the body:
 *
 *     method: POST
 *     path: /echo/x
 *     query: a=1
 *     header: Host: localhost
 *     header: Content-Length: 5
 *     body-length: 5
 *
 *     hello
 *
 * The format is documented in docs/writing-functions.md; tests rely on it.
 */

#include <faas.h>


int
handle(faas_request_t *req, faas_response_t *res)
{
    size_t       i, len;
    const char  *name, *value;
    const void  *body;

    body = faas_request_body(req, &len);
    if (body == NULL) {
        return -1;
    }

    if (faas_response_header(res, "Content-Type", "text/plain") != 0
        || faas_response_printf(res, "method: %s\npath: %s\nquery: %s\n",
                                faas_request_method(req),
                                faas_request_path(req),
                                faas_request_query(req)) != 0)
    {
        return -1;
    }

    for (i = 0; i < faas_request_header_count(req); i++) {
        faas_request_header_at(req, i, &name, &value);

        if (faas_response_printf(res, "header: %s: %s\n", name, value) != 0) {
            return -1;
        }
    }

    if (faas_response_printf(res, "body-length: %zu\n\n", len) != 0) {
        return -1;
    }

    return faas_response_write(res, body, len);
}
