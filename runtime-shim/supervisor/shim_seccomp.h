/*
 * The seccomp filter every instance runs under: compiled once, at start,
 * loaded by each child as its last step before exec.
 */

#ifndef SHIM_SECCOMP_H
#define SHIM_SECCOMP_H

#include <linux/filter.h>


/* compiles the base filter into *prog; 0, or -1 with a log line */
int shim_seccomp_compile(struct sock_fprog *prog, shim_log_t *log);
void shim_seccomp_free(struct sock_fprog *prog);

/* in the child: no_new_privs must be set; 0 or -1 with errno */
int shim_seccomp_load(const struct sock_fprog *prog);

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
