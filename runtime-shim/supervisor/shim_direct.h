/*
 * Direct calls: the instance table shared with nginx workers
 * (lib/faas_slots.h), so that a worker calls an idle warm instance on a
 * connection it kept from an earlier call, and the supervisor is out of
 * the warm path.  The supervisor owns every slot: it opens one while its
 * instance is idle, closes it to dispatch, quit or kill, and retires it
 * when the instance is gone.
 */

#ifndef SHIM_DIRECT_H
#define SHIM_DIRECT_H

#include "faas_slots.h"


typedef struct {
    void                *base;            /* NULL: no direct calls */
    size_t               size;
    char                *path;            /* the socket's path + ".slots" */
    uint64_t             nonce;           /* tells workers it is this one */
    uint32_t            *free;            /* free slot indexes, a stack */
    uint32_t             nfree;
} shim_direct_t;


/* creates and maps the table next to the socket, with the socket's mode */
int shim_direct_init(shim_direct_t *d, shim_log_t *log, const char *socket,
    mode_t mode, gid_t gid);
void shim_direct_cleanup(shim_direct_t *d, shim_log_t *log);

/*
 * a slot for an instance that takes limit direct calls at once, closed,
 * with a new generation; -1 if full
 */
int shim_direct_alloc(shim_direct_t *d, uint64_t instance, uint32_t limit,
    uint32_t *index, uint32_t *gen);

/* the instance is gone: its slot's generation ends */
void shim_direct_free(shim_direct_t *d, uint32_t index);

static inline faas_slot_t *
shim_direct_slot(shim_direct_t *d, uint32_t index)
{
    return faas_slots_get(d->base, index);
}

#endif /* SHIM_DIRECT_H */
