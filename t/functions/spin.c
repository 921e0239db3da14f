/*
 * spin: keeps a CPU busy for the wall-clock milliseconds in the query
 * ("ms=500") and answers how much CPU time it was given: "cpu 98 ms in
 * 500 ms".  Under a cgroup CPU quota the first number stays near the
 * quota's share of the second.
 */

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <faas.h>


static long
spin_ms(clockid_t clock)
{
    struct timespec  ts;

    clock_gettime(clock, &ts);

    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


int
handle(faas_request_t *req, faas_response_t *res)
{
    long         ms, start, cpu;
    const char  *p;

    p = strstr(faas_request_query(req), "ms=");
    ms = (p != NULL) ? strtol(p + 3, NULL, 10) : 100;

    start = spin_ms(CLOCK_MONOTONIC);
    cpu = spin_ms(CLOCK_PROCESS_CPUTIME_ID);

    while (spin_ms(CLOCK_MONOTONIC) - start < ms) {
        /* busy */
    }

    cpu = spin_ms(CLOCK_PROCESS_CPUTIME_ID) - cpu;

    return faas_response_printf(res, "cpu %ld ms in %ld ms\n", cpu, ms);
}
