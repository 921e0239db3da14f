/*
 * The base seccomp filter, see docs/security.md.
 *
 * Default allow, and a kill of the whole process for the calls no function
 * needs: a function that tries one is broken or hostile, and a death by
 * SIGSYS is unambiguous in the supervisor's log, where an EPERM would be
 * lost in the function's own error handling.  clone3() is the exception:
 * its flags live in memory a filter cannot read, so it fails with ENOSYS
 * and libc falls back to clone(), whose flags the filter does check.
 *
 * libseccomp compiles the rules once, in the supervisor, and the BPF is
 * kept in memory; a child only hands it to prctl(), so a cold start does
 * not pay for the compilation (crun does the same).
 */

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/seccomp.h>
#include <seccomp.h>

#include "shim.h"


static const char  *shim_seccomp_denied[] = {
    "ptrace", "mount", "umount2", "pivot_root", "unshare", "setns", "bpf",
    "perf_event_open", "kexec_load", "kexec_file_load", "init_module",
    "finit_module", "delete_module", "keyctl", "add_key", "request_key",
    "userfaultfd", "reboot", "swapon", "swapoff", "process_vm_readv",
    "process_vm_writev", "open_by_handle_at", "name_to_handle_at", "acct",
    "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "iopl",
    "ioperm", "syslog", "chroot", "fsopen", "fsmount", "move_mount",
    "open_tree", "lookup_dcookie", "quotactl", "vhangup", "nfsservctl",
    NULL
};


static const scmp_datum_t  shim_seccomp_ns_flags[] = {
    CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID,
    CLONE_NEWNET, CLONE_NEWCGROUP
};


int
shim_seccomp_compile(struct sock_fprog *prog, shim_log_t *log)
{
    int             fd, nr, rc, err;
    off_t           size;
    size_t          i;
    const char    **name;
    scmp_filter_ctx sc;

    prog->len = 0;
    prog->filter = NULL;

    fd = -1;
    rc = -1;

    sc = seccomp_init(SCMP_ACT_ALLOW);
    if (sc == NULL) {
        shim_log_error(log, SHIM_LOG_ERROR, 0, "seccomp_init() failed");
        return -1;
    }

    for (name = shim_seccomp_denied; *name != NULL; name++) {
        nr = seccomp_syscall_resolve_name(*name);

        /* a call this architecture does not have needs no rule */
        if (nr == __NR_SCMP_ERROR) {
            continue;
        }

        err = seccomp_rule_add(sc, SCMP_ACT_KILL_PROCESS, nr, 0);

        if (err != 0) {
            shim_log_error(log, SHIM_LOG_ERROR, -err, "seccomp: cannot deny "
                           "%s()", *name);
            goto done;
        }
    }

    for (i = 0; i < sizeof(shim_seccomp_ns_flags) / sizeof(scmp_datum_t);
         i++)
    {
        if (seccomp_rule_add(sc, SCMP_ACT_KILL_PROCESS, SCMP_SYS(clone), 1,
                             SCMP_A0(SCMP_CMP_MASKED_EQ,
                                     shim_seccomp_ns_flags[i],
                                     shim_seccomp_ns_flags[i]))
            != 0)
        {
            shim_log_error(log, SHIM_LOG_ERROR, 0, "seccomp: cannot deny "
                           "clone() with namespace flags");
            goto done;
        }
    }

    if (seccomp_rule_add(sc, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0)
        != 0)
    {
        shim_log_error(log, SHIM_LOG_ERROR, 0, "seccomp: cannot deny "
                       "clone3()");
        goto done;
    }

    /* libseccomp 2.5 exports to a descriptor only: one in memory */

    fd = memfd_create("faas-seccomp", MFD_CLOEXEC);
    if (fd == -1) {
        shim_log_error(log, SHIM_LOG_ERROR, errno, "memfd_create() failed");
        goto done;
    }

    if (seccomp_export_bpf(sc, fd) != 0) {
        shim_log_error(log, SHIM_LOG_ERROR, 0, "seccomp_export_bpf() failed");
        goto done;
    }

    size = lseek(fd, 0, SEEK_END);

    if (size <= 0 || size % sizeof(struct sock_filter) != 0
        || size / sizeof(struct sock_filter) > BPF_MAXINSNS)
    {
        shim_log_error(log, SHIM_LOG_ERROR, 0, "seccomp: invalid program "
                       "of %lld bytes", (long long) size);
        goto done;
    }

    prog->filter = malloc((size_t) size);
    if (prog->filter == NULL) {
        shim_log_error(log, SHIM_LOG_ERROR, 0, "out of memory");
        goto done;
    }

    if (pread(fd, prog->filter, (size_t) size, 0) != size) {
        shim_log_error(log, SHIM_LOG_ERROR, errno, "seccomp: short read");
        shim_seccomp_free(prog);
        goto done;
    }

    prog->len = (unsigned short) (size / sizeof(struct sock_filter));
    rc = 0;

done:

    if (fd != -1) {
        close(fd);
    }

    seccomp_release(sc);

    return rc;
}


void
shim_seccomp_free(struct sock_fprog *prog)
{
    free(prog->filter);
    prog->filter = NULL;
    prog->len = 0;
}


int
shim_seccomp_load(const struct sock_fprog *prog)
{
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, prog, 0, 0);
}


int
shim_seccomp_kmsg_open(shim_log_t *log)
{
    int  fd;

    fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

    if (fd == -1 || lseek(fd, 0, SEEK_END) == -1) {
        shim_log_error(log, SHIM_LOG_INFO, errno, "cannot read /dev/kmsg: "
                       "seccomp kills will not name the call");
        if (fd != -1) {
            close(fd);
        }

        return -1;
    }

    return fd;
}


char *
shim_seccomp_killed_by(int kmsg, pid_t pid)
{
    int      nr, n;
    char     record[2048];
    ssize_t  len;

    if (kmsg == -1) {
        return NULL;
    }

    nr = -1;

    /* one record a read(); the kill was logged before the death we saw */

    for ( ;; ) {
        len = read(kmsg, record, sizeof(record) - 1);

        if (len == -1) {
            /* EPIPE: records were overwritten, the position moved on */
            if (errno == EINTR || errno == EPIPE) {
                continue;
            }

            break;
        }

        if (len == 0) {
            break;
        }

        record[len] = '\0';

        n = shim_seccomp_audit_syscall(record, pid);
        if (n != -1) {
            nr = n;
        }
    }

    if (nr == -1) {
        return NULL;
    }

    return seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
}


/* "audit: type=1326 ... pid=4586 ... sig=31 arch=... syscall=101 ..." */
int
shim_seccomp_audit_syscall(const char *record, pid_t pid)
{
    long         n;
    char        *end;
    const char  *p;

    if (strstr(record, "type=1326 ") == NULL
        || strstr(record, " sig=31 ") == NULL)
    {
        return -1;
    }

    p = strstr(record, " pid=");
    if (p == NULL || strtol(p + 5, &end, 10) != pid || *end != ' ') {
        return -1;
    }

    p = strstr(record, " syscall=");
    if (p == NULL) {
        return -1;
    }

    n = strtol(p + 9, &end, 10);

    if (end == p + 9 || n < 0 || n > 4095) {
        return -1;
    }

    return (int) n;
}
