/*
 * Code slots: how a function's code reaches a sandbox that was built
 * before anyone knew which function it would serve.
 *
 * The supervisor owns a small tmpfs, mounted shared, with one empty
 * directory per sandboxed instance.  Every sandbox binds its slot at
 * /code as a slave mount.  Attaching the code is one read-only bind
 * mount of the function's code directory onto the slot, made by the
 * supervisor in its own mount namespace: it propagates into the sandbox,
 * which cannot see the slots of other instances, nor make mounts itself.
 */

#ifndef SHIM_SLOT_H
#define SHIM_SLOT_H


/* where a sandboxed instance sees its code */
#define SHIM_SLOT_CODE  "/code"


typedef struct {
    char                *root;            /* NULL: slots are not in use */
} shim_slot_t;


/* mounts the slots tmpfs; reclaims what a killed supervisor left */
int shim_slot_init(shim_slot_t *sl, shim_log_t *log);
void shim_slot_cleanup(shim_slot_t *sl, shim_log_t *log);

/* the slot's host path into buf; creates the directory */
int shim_slot_create(shim_slot_t *sl, uint64_t id, char *buf, size_t size);

/* binds code read-only onto the slot; -1 with errno and *what failed */
int shim_slot_attach(shim_slot_t *sl, uint64_t id, const char *code,
    const char **what);

/* unmounts the code, if any, and removes the slot */
void shim_slot_remove(shim_slot_t *sl, uint64_t id, shim_log_t *log);

#endif /* SHIM_SLOT_H */
