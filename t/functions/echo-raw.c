/*
 * echo-raw: answers with exactly the request body, streamed through a
 * small buffer: a 10 MiB body never sits in memory whole.
 */

#include <faas.h>


int
handle(faas_request_t *req, faas_response_t *res)
{
    char     buf[16384];
    ssize_t  n;

    if (faas_response_header(res, "Content-Type",
                             "application/octet-stream") != 0)
    {
        return -1;
    }

    while ((n = faas_request_read(req, buf, sizeof(buf))) > 0) {
        if (faas_response_write(res, buf, (size_t) n) != 0) {
            return -1;
        }
    }

    return (n == 0) ? 0 : -1;
}
