/*
 * Starting instance processes: fork, fd hygiene, limits, privileges, exec.
 */

#ifndef SHIM_PROCESS_H
#define SHIM_PROCESS_H

#include <sys/types.h>

#include <linux/filter.h>

#include "shim_sandbox.h"


/* the descriptor an instance finds its channel on */
#define SHIM_CHANNEL_FD  3


typedef struct {
    const char          *program;
    char *const         *argv;
    char *const         *envp;
    int                  channel;         /* the child's end */
    int                  devnull;
    int                  stdout_fd;       /* -1: the supervisor's */
    int                  stderr_fd;
    int                  drop_privileges;
    uid_t                uid;             /* a pooled sandbox: from EXEC */
    gid_t                gid;
    const char          *code_check;      /* must be readable by uid, or
                                             NULL */

    /* NULL: none of the sandbox, the process is only forked */
    const shim_sandbox_t     *sandbox;
    const struct sock_fprog  *seccomp;
    int                  cgroup_procs[3]; /* -1: none */
} shim_spawn_t;


/* returns the child's pid, or -1 with *err set when fork() failed */
pid_t shim_process_spawn(const shim_spawn_t *sp, int *err);

/* "exited with status 3", "killed by signal 11 (SIGSEGV)" */
const char *shim_process_status(int status, char *buf, size_t size);

/*
 * Puts every thread of a process under SCHED_BATCH: -1 with errno on the
 * first failure, the other threads still tried.
 */
int shim_process_sched_batch(pid_t pid);

/*
 * Kills and reaps every child still left: as a subreaper we adopt what
 * instances leave behind, and none of it may outlive the supervisor.
 */
void shim_process_reap_strays(shim_log_t *log);

#endif /* SHIM_PROCESS_H */
