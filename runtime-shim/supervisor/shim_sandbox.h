/*
 * The namespaces, mounts and capabilities of an instance, see
 * docs/security.md.  Everything here but shim_sandbox_clone_flags() runs
 * in the child between clone() and exec.
 */

#ifndef SHIM_SANDBOX_H
#define SHIM_SANDBOX_H

#include <stdint.h>


typedef struct {
    const char          *slot;            /* host path, bound at /code */
    const char *const   *programs;        /* NULL-terminated: the runtimes,
                                             each at its own path with its
                                             PROGRAM.d, read-only */
    uint64_t             tmp_size;        /* bytes */
    int                  network;         /* 1: the host's network */
} shim_sandbox_t;


/* the namespaces an instance is cloned into */
int shim_sandbox_clone_flags(const shim_sandbox_t *sb);

/*
 * Builds the root and pivots into it.  0, or -1 with errno and *step
 * naming what failed ("mounting code dir") and *arg the path, if any.
 */
int shim_sandbox_root(const shim_sandbox_t *sb, const char **step,
    const char **arg);

/* before the uid changes: empties the bounding and ambient sets */
int shim_sandbox_drop_bounding(const char **step);

/* after it: no capability left in any set */
int shim_sandbox_drop_caps(const char **step);

/* 1 when namespaces can be made here (root, and the kernel lets us) */
int shim_sandbox_available(void);

#endif /* SHIM_SANDBOX_H */
