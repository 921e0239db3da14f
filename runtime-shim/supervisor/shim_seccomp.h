/*
 * The seccomp filters, all compiled once, at start: the base filter every
 * instance runs under, loaded by each child as its last step before exec,
 * and the runtimes' allowlists, sent in FILTER and loaded by the runtime
 * before the function's code runs.
 */

#ifndef SHIM_SECCOMP_H
#define SHIM_SECCOMP_H

#include <stdint.h>
#include <sys/types.h>
#include <linux/filter.h>


/* the runtimes with an allowlist: c, python3, nodejs */
#define SHIM_SECCOMP_PROFILES  3


/* one runtime's allowlist, sent to its instances in a FILTER frame */
typedef struct {
    const char          *runtime;
    struct sock_fprog    prog;
    uint8_t             *frame;       /* FILTER: header and program */
    size_t               frame_len;
} shim_seccomp_profile_t;


/* compiles the base filter into *prog; 0, or -1 with a log line */
int shim_seccomp_compile(struct sock_fprog *prog, shim_log_t *log);
/* compiles the allowlist of runtime ("c" ...) into *prog; likewise */
int shim_seccomp_compile_profile(const char *runtime,
    struct sock_fprog *prog, shim_log_t *log);
/* every runtime's profile, with its FILTER frame; likewise */
int shim_seccomp_compile_profiles(shim_seccomp_profile_t *profiles,
    shim_log_t *log);
void shim_seccomp_free_profiles(shim_seccomp_profile_t *profiles);
/* the profile of runtime, or NULL (exec) */
shim_seccomp_profile_t *shim_seccomp_profile(shim_seccomp_profile_t *profiles,
    const char *runtime);
void shim_seccomp_free(struct sock_fprog *prog);

/* in the child: no_new_privs must be set; 0 or -1 with errno */
int shim_seccomp_load(const struct sock_fprog *prog);

/* the filters PID runs under (0: the caller), -1 where unknown */
int shim_seccomp_filters(pid_t pid);

/*
 * Which call a seccomp kill was for, from the kernel's audit record in
 * /dev/kmsg; best effort (printk is rate-limited).  The descriptor is
 * opened at start, positioned at the end; -1 where there is none.
 */
int shim_seccomp_kmsg_open(shim_log_t *log);
/* the name of the call that killed PID, malloc()ed, or NULL */
char *shim_seccomp_killed_by(int kmsg, pid_t pid);
/* the syscall number in an audit record of PID's seccomp kill, or -1 */
int shim_seccomp_audit_syscall(const char *record, pid_t pid);

#endif /* SHIM_SECCOMP_H */
