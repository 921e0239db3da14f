/*
 * overlap: sleeps for the milliseconds in the query ("ms=300"), then
 * answers "most N": the most calls its instance has run at once so far,
 * which tells how many threads serve them (t/053-concurrency.t, threads).
 */

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <faas.h>


static int  overlap_running;
static int  overlap_most;


int
handle(faas_request_t *req, faas_response_t *res)
{
    int              now, most;
    long             ms;
    const char      *q;
    struct timespec  ts;

    q = faas_request_query(req);
    q = (q != NULL) ? strstr(q, "ms=") : NULL;
    ms = (q != NULL) ? atol(q + 3) : 0;

    if (ms < 0) {
        ms = 0;
    }

    now = __atomic_add_fetch(&overlap_running, 1, __ATOMIC_SEQ_CST);
    most = __atomic_load_n(&overlap_most, __ATOMIC_SEQ_CST);

    while (now > most
           && !__atomic_compare_exchange_n(&overlap_most, &most, now, 0,
                                           __ATOMIC_SEQ_CST,
                                           __ATOMIC_SEQ_CST))
    {
        /* another call raised it meanwhile: most is reloaded */
    }

    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000;

    while (nanosleep(&ts, &ts) != 0) {
        /* interrupted: sleep the rest */
    }

    __atomic_sub_fetch(&overlap_running, 1, __ATOMIC_SEQ_CST);

    if (faas_response_header(res, "Content-Type", "text/plain") != 0) {
        return -1;
    }

    return faas_response_printf(res, "most %d\n",
                                __atomic_load_n(&overlap_most,
                                                __ATOMIC_SEQ_CST));
}
