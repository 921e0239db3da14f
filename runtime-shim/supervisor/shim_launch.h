/*
 * Launching an instance process: the channel, the output pipes, the
 * cgroup, the code slot and the sandbox around shim_process_spawn().  The
 * same for an instance started for a function and for a pooled one that
 * gets its function later.
 */

#ifndef SHIM_LAUNCH_H
#define SHIM_LAUNCH_H


typedef struct {
    uint64_t             id;              /* the instance id it will have */
    const char          *program;         /* NULL: a pooled sandbox that
                                             waits for EXEC */
    const char *const   *programs;        /* bound in the sandbox */
    const char          *code;            /* attached before the start;
                                             NULL: later, or no sandbox */
    char *const         *envp;
    uid_t                uid;             /* a pooled sandbox gets its */
    gid_t                gid;             /* own with EXEC */
    uint64_t             memory;          /* bytes */
    unsigned             pids;
    unsigned             cpu;             /* 1/1000 CPUs, 0: no quota */
    uint64_t             tmp_size;        /* bytes */
    int                  network;
} shim_launch_t;


/* what the supervisor holds of a launched process */
typedef struct {
    pid_t                pid;
    int                  channel;         /* non-blocking */
    int                  output[2];       /* stdout, stderr; non-blocking */
    uint64_t             started;         /* us */
} shim_child_t;


/* 0, or -1 with *err and the reason logged; c is then untouched */
int shim_launch(shim_ctx_t *ctx, const shim_launch_t *l, shim_child_t *c,
    int *err);

/* what a child leaves once dead or never used: fds, cgroup, slot */
void shim_launch_release(shim_ctx_t *ctx, uint64_t id, shim_child_t *c);

/* LOAD's "code": where the instance sees its function's code */
const char *shim_launch_code_path(shim_ctx_t *ctx, shim_function_t *fn);

/*
 * Where an instance of fn execs its runtime: an exec function's own
 * executable is inside /code in a sandbox.  *bind is set to what the
 * sandbox must bind for it, or NULL.
 */
const char *shim_launch_program(shim_ctx_t *ctx, shim_function_t *fn,
    const char **bind);

#endif /* SHIM_LAUNCH_H */
