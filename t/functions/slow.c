/*
 * slow: takes 300 ms per request, to keep instances busy in the
 * max_instances and queue tests.
 */

#include <time.h>
#include <unistd.h>

#include <faas.h>


int
handle(faas_request_t *req, faas_response_t *res)
{
    struct timespec  ts;

    (void) req;

    ts.tv_sec = 0;
    ts.tv_nsec = 300 * 1000000;

    while (nanosleep(&ts, &ts) != 0) {
        /* interrupted: sleep the rest */
    }

    if (faas_response_header(res, "Content-Type", "text/plain") != 0) {
        return -1;
    }

    return faas_response_printf(res, "slow pid=%d\n", (int) getpid());
}
