/*
 * The seccomp filters, see docs/security.md: the base filter and the
 * runtimes' allowlists.
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
 *
 * On top of it, each runtime's allowlist: default kill, and allow only
 * what the runtime and ordinary function code need.  The runtime loads it
 * itself, from a FILTER frame, after its own start-up and before any of
 * the function's code runs, so the list need not hold what only starting
 * an interpreter takes (execve above all).  Left out on purpose: execve
 * and execveat (a function cannot start programs), io_uring (a large
 * kernel surface that bypasses this filter's view of the calls made),
 * SysV IPC and message queues, seccomp() and everything the base filter
 * denies.  The lists were found with strace over the test suites, plus a
 * margin for ordinary code (docs/security.md).
 */

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
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


/* every runtime: libc, and what native or interpreted function code uses */
static const char  *shim_seccomp_common[] = {
    /* memory */
    "brk", "mmap", "munmap", "mprotect", "mremap", "madvise", "msync",
    "mincore",

    /* files and descriptors */
    "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv",
    "pwritev", "preadv2", "pwritev2", "open", "openat", "openat2", "close",
    "close_range", "creat", "stat", "fstat", "lstat", "newfstatat", "statx",
    "statfs", "fstatfs", "lseek", "access", "faccessat", "faccessat2",
    "readlink", "readlinkat", "getdents", "getdents64", "getcwd", "chdir",
    "fchdir", "rename", "renameat", "renameat2", "mkdir", "mkdirat", "rmdir",
    "unlink", "unlinkat", "link", "linkat", "symlink", "symlinkat", "chmod",
    "fchmod", "fchmodat", "chown", "fchown", "lchown", "fchownat",
    "truncate", "ftruncate", "fallocate", "fadvise64", "readahead", "fsync",
    "fdatasync", "sync_file_range", "utime", "utimes", "utimensat",
    "futimesat", "umask", "dup", "dup2", "dup3", "fcntl", "flock", "ioctl",
    "sendfile", "copy_file_range", "splice", "tee", "memfd_create",
    "getxattr", "lgetxattr", "fgetxattr", "listxattr", "llistxattr",
    "flistxattr", "setxattr", "lsetxattr", "fsetxattr", "removexattr",
    "lremovexattr", "fremovexattr", "inotify_init", "inotify_init1",
    "inotify_add_watch", "inotify_rm_watch",

    /* time */
    "clock_gettime", "clock_getres", "clock_nanosleep", "gettimeofday",
    "time", "nanosleep", "times", "getitimer", "setitimer", "alarm",
    "timer_create", "timer_settime", "timer_gettime", "timer_getoverrun",
    "timer_delete", "timerfd_create", "timerfd_settime", "timerfd_gettime",

    /* signals */
    "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigpending",
    "rt_sigsuspend", "rt_sigtimedwait", "rt_sigqueueinfo",
    "rt_tgsigqueueinfo", "sigaltstack", "kill", "tgkill", "tkill",
    "signalfd", "signalfd4", "pause",

    /* processes and threads (clone's namespace flags: the base filter) */
    "clone", "fork", "vfork", "exit", "exit_group", "wait4", "waitid",
    "pidfd_open", "pidfd_send_signal", "set_tid_address", "set_robust_list",
    "get_robust_list", "futex", "futex_waitv", "rseq", "restart_syscall",
    "gettid", "getpid", "getppid", "getpgid", "getpgrp", "getsid", "setsid",
    "setpgid", "sched_yield", "sched_getaffinity", "sched_setaffinity",
    "sched_getparam", "sched_getscheduler", "sched_get_priority_max",
    "sched_get_priority_min", "getpriority", "setpriority", "getcpu",
    "arch_prctl", "getrlimit", "setrlimit", "prlimit64", "getrusage",
    "sysinfo", "uname", "getuid", "geteuid", "getgid", "getegid",
    "getgroups", "getresuid", "getresgid",

    /* pipes, polling */
    "pipe", "pipe2", "poll", "ppoll", "select", "pselect6", "epoll_create",
    "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait",
    "epoll_pwait2", "eventfd", "eventfd2",

    /* sockets: reach nothing unless the function has "network on" */
    "socket", "socketpair", "connect", "accept", "accept4", "bind",
    "listen", "sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg",
    "recvmmsg", "shutdown", "getsockname", "getpeername", "setsockopt",
    "getsockopt",

    "getrandom",
    NULL
};


/*
 * What a runtime needs beyond the common list.  C functions are native
 * code, and Python's os module wraps nothing the common list lacks; node
 * itself checks its capabilities, and V8 guards its code space with
 * memory protection keys where the CPU has them.
 */

static const char  *shim_seccomp_none[] = { NULL };

static const char  *shim_seccomp_nodejs[] = {
    "capget", "pkey_alloc", "pkey_free", "pkey_mprotect",
    NULL
};


static const struct {
    const char    *runtime;
    const char   **allowed;
} shim_seccomp_runtimes[SHIM_SECCOMP_PROFILES] = {
    { "c", shim_seccomp_none },
    { "python3", shim_seccomp_none },
    { "nodejs", shim_seccomp_nodejs },
};


static int shim_seccomp_allow(scmp_filter_ctx sc, const char **names,
    shim_log_t *log);
static int shim_seccomp_export(scmp_filter_ctx sc, struct sock_fprog *prog,
    shim_log_t *log);


int
shim_seccomp_compile(struct sock_fprog *prog, shim_log_t *log)
{
    int             nr, rc, err;
    size_t          i;
    const char    **name;
    scmp_filter_ctx sc;

    prog->len = 0;
    prog->filter = NULL;

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

    rc = shim_seccomp_export(sc, prog, log);

done:

    seccomp_release(sc);

    return rc;
}


/* the runtime's allowlist; see the comment at the top */
int
shim_seccomp_compile_profile(const char *runtime, struct sock_fprog *prog,
    shim_log_t *log)
{
    int              rc;
    size_t           i;
    scmp_filter_ctx  sc;

    prog->len = 0;
    prog->filter = NULL;

    for (i = 0; i < SHIM_SECCOMP_PROFILES; i++) {
        if (strcmp(shim_seccomp_runtimes[i].runtime, runtime) == 0) {
            break;
        }
    }

    if (i == SHIM_SECCOMP_PROFILES) {
        shim_log_error(log, SHIM_LOG_ERROR, 0, "seccomp: no profile for "
                       "runtime \"%s\"", runtime);
        return -1;
    }

    sc = seccomp_init(SCMP_ACT_KILL_PROCESS);
    if (sc == NULL) {
        shim_log_error(log, SHIM_LOG_ERROR, 0, "seccomp_init() failed");
        return -1;
    }

    rc = -1;

    /* about 200 rules: a binary search, not a linear one, per call */

    if (seccomp_attr_set(sc, SCMP_FLTATR_CTL_OPTIMIZE, 2) != 0) {
        shim_log_error(log, SHIM_LOG_INFO, 0, "seccomp: no binary tree "
                       "optimization, the filter is a linear one");
    }

    if (shim_seccomp_allow(sc, shim_seccomp_common, log) != 0
        || shim_seccomp_allow(sc, shim_seccomp_runtimes[i].allowed, log)
           != 0)
    {
        goto done;
    }

    /*
     * As in the base filter (the stricter action of the two would win: a
     * kill here would override its ENOSYS, and libc would not fall back).
     */

    if (seccomp_rule_add(sc, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0)
        != 0)
    {
        shim_log_error(log, SHIM_LOG_ERROR, 0, "seccomp: cannot deny "
                       "clone3()");
        goto done;
    }

    /*
     * prctl() but PR_SET_SECCOMP: a further filter would only restrict
     * the function more, but it would break the count of filters that the
     * supervisor checks at READY.
     */

    if (seccomp_rule_add(sc, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
                         SCMP_A0(SCMP_CMP_NE, PR_SET_SECCOMP))
        != 0)
    {
        shim_log_error(log, SHIM_LOG_ERROR, 0, "seccomp: cannot allow "
                       "prctl()");
        goto done;
    }

    rc = shim_seccomp_export(sc, prog, log);

done:

    seccomp_release(sc);

    return rc;
}


int
shim_seccomp_compile_profiles(shim_seccomp_profile_t *profiles,
    shim_log_t *log)
{
    size_t                   i, len;
    shim_seccomp_profile_t  *p;

    memset(profiles, 0, SHIM_SECCOMP_PROFILES * sizeof(*profiles));

    for (i = 0; i < SHIM_SECCOMP_PROFILES; i++) {
        p = &profiles[i];
        p->runtime = shim_seccomp_runtimes[i].runtime;

        if (shim_seccomp_compile_profile(p->runtime, &p->prog, log) != 0) {
            goto failed;
        }

        /* the frame is built once too: an instance's LOAD only sends it */

        len = p->prog.len * sizeof(struct sock_filter);

        p->frame = malloc(FAAS_FRAME_HEADER_SIZE + len);
        if (p->frame == NULL) {
            shim_log_error(log, SHIM_LOG_ERROR, 0, "out of memory");
            goto failed;
        }

        faas_frame_header_encode(p->frame, FAAS_FRAME_FILTER, (uint32_t) len);
        memcpy(p->frame + FAAS_FRAME_HEADER_SIZE, p->prog.filter, len);
        p->frame_len = FAAS_FRAME_HEADER_SIZE + len;
    }

    return 0;

failed:

    shim_seccomp_free_profiles(profiles);

    return -1;
}


void
shim_seccomp_free_profiles(shim_seccomp_profile_t *profiles)
{
    size_t  i;

    for (i = 0; i < SHIM_SECCOMP_PROFILES; i++) {
        shim_seccomp_free(&profiles[i].prog);
        free(profiles[i].frame);
        profiles[i].frame = NULL;
        profiles[i].frame_len = 0;
    }
}


shim_seccomp_profile_t *
shim_seccomp_profile(shim_seccomp_profile_t *profiles, const char *runtime)
{
    size_t  i;

    for (i = 0; i < SHIM_SECCOMP_PROFILES; i++) {
        if (profiles[i].frame != NULL
            && strcmp(profiles[i].runtime, runtime) == 0)
        {
            return &profiles[i];
        }
    }

    return NULL;
}


static int
shim_seccomp_allow(scmp_filter_ctx sc, const char **names, shim_log_t *log)
{
    int           nr, err;
    const char  **name;

    for (name = names; *name != NULL; name++) {
        nr = seccomp_syscall_resolve_name(*name);

        /* "open", say, on an architecture that has only openat */
        if (nr == __NR_SCMP_ERROR) {
            continue;
        }

        err = seccomp_rule_add(sc, SCMP_ACT_ALLOW, nr, 0);

        if (err != 0) {
            shim_log_error(log, SHIM_LOG_ERROR, -err, "seccomp: cannot allow "
                           "%s()", *name);
            return -1;
        }
    }

    return 0;
}


static int
shim_seccomp_export(scmp_filter_ctx sc, struct sock_fprog *prog,
    shim_log_t *log)
{
    int    fd, rc;
    off_t  size;

    rc = -1;

    /* libseccomp 2.5 exports to a descriptor only: one in memory */

    fd = memfd_create("faas-seccomp", MFD_CLOEXEC);
    if (fd == -1) {
        shim_log_error(log, SHIM_LOG_ERROR, errno, "memfd_create() failed");
        return -1;
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

    close(fd);

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


/*
 * "Seccomp_filters:" of /proc/PID/status (Linux 5.9): how many filters the
 * process runs under, or -1 where the kernel does not say.
 */
int
shim_seccomp_filters(pid_t pid)
{
    int      fd, n;
    char     path[64], buf[4096], *p;
    ssize_t  len;

    if (pid == 0) {
        snprintf(path, sizeof(path), "/proc/self/status");

    } else {
        snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);
    }

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        return -1;
    }

    len = read(fd, buf, sizeof(buf) - 1);

    close(fd);

    if (len <= 0) {
        return -1;
    }

    buf[len] = '\0';

    p = strstr(buf, "\nSeccomp_filters:");
    if (p == NULL) {
        return -1;
    }

    n = (int) strtol(p + sizeof("\nSeccomp_filters:") - 1, NULL, 10);

    return n >= 0 ? n : -1;
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
