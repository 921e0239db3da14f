/*
 * pid: "pid=N calls=M": which process served, and how many requests it
 * served so far; shows warm reuse and cold starts.
 */

#include <unistd.h>

#include <faas.h>


static unsigned long  calls;


int
handle(faas_request_t *req, faas_response_t *res)
{
    (void) req;

    calls++;

    if (faas_response_header(res, "Content-Type", "text/plain") != 0) {
        return -1;
    }

    return faas_response_printf(res, "pid=%d calls=%lu\n", (int) getpid(),
                                calls);
}
