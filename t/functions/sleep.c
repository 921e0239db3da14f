/*
 * sleep: sleeps for the milliseconds in the query ("ms=1500"), then
 * answers "slept 1500".
 */

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <faas.h>


int
handle(faas_request_t *req, faas_response_t *res)
{
    long             ms;
    const char      *p;
    struct timespec  ts;

    ms = 0;

    for (p = faas_request_query(req); p != NULL && *p; p = strchr(p, '&')) {
        if (*p == '&') {
            p++;
        }

        if (strncmp(p, "ms=", 3) == 0) {
            ms = atol(p + 3);
            break;
        }
    }

    if (ms < 0) {
        ms = 0;
    }

    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000;

    while (nanosleep(&ts, &ts) != 0) {
        /* interrupted: sleep the rest */
    }

    if (faas_response_header(res, "Content-Type", "text/plain") != 0) {
        return -1;
    }

    return faas_response_printf(res, "slept %ld\n", ms);
}
