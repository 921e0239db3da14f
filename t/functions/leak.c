/*
 * leak: loses 1 MiB (touched, so it counts in RSS) on every call and says
 * how much it has lost; left alone, the instance grows until a memory
 * limit or the OOM killer ends it.
 */

#include <stdlib.h>
#include <string.h>

#include <faas.h>


#define LEAK_SIZE  (1024 * 1024)


/*
 * Every block stays reachable from here.  A block nothing points to, and
 * that nothing reads, gcc -O2 dropped with its malloc() and memset(): the
 * function leaked nothing.  volatile, since a static that is only written
 * may go the same way.
 */
static void *volatile  blocks;
static unsigned long   leaked;


int
handle(faas_request_t *req, faas_response_t *res)
{
    char  *p;

    (void) req;

    p = malloc(LEAK_SIZE);
    if (p == NULL) {
        return -1;
    }

    memset(p, 0x5a, LEAK_SIZE);

    *(void **) p = blocks;
    blocks = p;
    leaked += LEAK_SIZE;

    return faas_response_printf(res, "leaked %lu\n", leaked);
}
