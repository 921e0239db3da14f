/*
 * Starting instance processes, see shim_process.h.
 *
 * The child runs an ordered list of steps and any failure ends it the same
 * way: an ERROR frame on the channel naming the step and errno, then
 * _exit(127), so that the supervisor logs the real cause and not just
 * "exited with status 127".
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shim.h"


#define SHIM_CHILD_NOFILE  1024


static void shim_process_child(const shim_spawn_t *sp, pid_t parent)
    __attribute__((noreturn));
static void shim_process_fail(int channel, const char *step,
    const char *arg, int err) __attribute__((noreturn));
static void shim_process_report(int channel, const char *stage,
    const char *step, const char *arg, int err) __attribute__((noreturn));
static const char *shim_process_wait_exec(int chan, char *buf,
    size_t size, uid_t *uid, gid_t *gid);


pid_t
shim_process_spawn(const shim_spawn_t *sp, int *err)
{
    pid_t  pid, parent;

    parent = getpid();

    /*
     * clone() without a stack is fork() into new namespaces; the child
     * never returns through glibc's fork bookkeeping, it only execs.
     */

    if (sp->sandbox != NULL) {
        pid = (pid_t) syscall(SYS_clone,
                              SIGCHLD | shim_sandbox_clone_flags(sp->sandbox),
                              NULL, NULL, NULL, NULL);

    } else {
        pid = fork();
    }

    if (pid == -1) {
        *err = errno;
        return -1;
    }

    if (pid == 0) {
        shim_process_child(sp, parent);
    }

    *err = 0;

    return pid;
}


static void
shim_process_child(const shim_spawn_t *sp, pid_t parent)
{
    int            chan;
    char           exec[FAAS_FRAME_HEADER_SIZE + FAAS_EXEC_MAX + 1];
    char           id[16];
    char          *argv[2];
    char *const   *args;
    uid_t          uid;
    gid_t          gid;
    rlim_t         nofile, max;
    sigset_t       set;
    const char    *step, *arg, *program;
    struct pollfd  pfd;
    struct rlimit  rl;

    chan = sp->channel;
    uid = sp->uid;
    gid = sp->gid;
    program = sp->program;
    args = sp->argv;

    /* first, so that all the child allocates is charged to its limits */

    if (shim_cgroup_join(sp->cgroup_procs) != 0) {
        shim_process_report(chan, "sandbox", "joining the cgroup", NULL,
                            errno);
    }

    /*
     * The supervisor blocks the signals it reads from its signalfd and
     * ignores SIGPIPE; both would survive execve().
     */

    sigemptyset(&set);

    if (sigprocmask(SIG_SETMASK, &set, NULL) == -1) {
        shim_process_fail(chan, "sigprocmask", NULL, errno);
    }

    if (signal(SIGPIPE, SIG_DFL) == SIG_ERR) {
        shim_process_fail(chan, "signal", NULL, errno);
    }

    /* 0, 1 and 2 first: the sources are all above 2 */

    if (dup2(sp->devnull, STDIN_FILENO) == -1) {
        shim_process_fail(chan, "dup2(stdin)", NULL, errno);
    }

    if (sp->stdout_fd != -1 && dup2(sp->stdout_fd, STDOUT_FILENO) == -1) {
        shim_process_fail(chan, "dup2(stdout)", NULL, errno);
    }

    if (sp->stderr_fd != -1 && dup2(sp->stderr_fd, STDERR_FILENO) == -1) {
        shim_process_fail(chan, "dup2(stderr)", NULL, errno);
    }

    if (chan == SHIM_CHANNEL_FD) {
        if (fcntl(chan, F_SETFD, 0) == -1) {
            shim_process_fail(chan, "fcntl(F_SETFD)", NULL, errno);
        }

    } else {
        if (dup2(chan, SHIM_CHANNEL_FD) == -1) {
            shim_process_fail(chan, "dup2(channel)", NULL, errno);
        }

        chan = SHIM_CHANNEL_FD;
    }

    /* nothing of the supervisor's leaks: sockets, log, other channels */

    if (close_range(SHIM_CHANNEL_FD + 1, ~0U, 0) == -1) {
        shim_process_fail(chan, "close_range", NULL, errno);
    }

    if (sp->sandbox != NULL
        && shim_sandbox_root(sp->sandbox, &step, &arg) != 0)
    {
        shim_process_report(chan, "sandbox", step, arg, errno);
    }

    rl.rlim_cur = 0;
    rl.rlim_max = 0;

    if (setrlimit(RLIMIT_CORE, &rl) == -1) {
        shim_process_fail(chan, "setrlimit(RLIMIT_CORE)", NULL, errno);
    }

    /* without CAP_SYS_RESOURCE a limit can only go down */

    if (getrlimit(RLIMIT_NOFILE, &rl) == -1) {
        shim_process_fail(chan, "getrlimit(RLIMIT_NOFILE)", NULL, errno);
    }

    nofile = SHIM_CHILD_NOFILE;

    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < nofile) {
        nofile = rl.rlim_max;
    }

    rl.rlim_cur = nofile;
    max = rl.rlim_max;
    rl.rlim_max = nofile;

    /*
     * Where the hard limit may not change at all (under valgrind, which
     * keeps descriptors of its own above it), the soft one still goes down.
     */

    if (setrlimit(RLIMIT_NOFILE, &rl) == -1) {
        rl.rlim_max = max;

        if (errno != EPERM || setrlimit(RLIMIT_NOFILE, &rl) == -1) {
            shim_process_fail(chan, "setrlimit(RLIMIT_NOFILE)", NULL, errno);
        }
    }

    /* a file may fill /tmp, no more: past it, SIGXFSZ */

    if (sp->sandbox != NULL) {
        rl.rlim_cur = sp->sandbox->tmp_size + 1024 * 1024;
        rl.rlim_max = rl.rlim_cur;

        if (setrlimit(RLIMIT_FSIZE, &rl) == -1) {
            shim_process_fail(chan, "setrlimit(RLIMIT_FSIZE)", NULL, errno);
        }

        if (shim_sandbox_drop_bounding(&step) != 0) {
            shim_process_report(chan, "sandbox", step, NULL, errno);
        }
    }

    /*
     * A pooled sandbox waits here, still root, for the function that takes
     * it: EXEC names the runtime and the uid and gid to run it as.  Only
     * the supervisor's code has run so far, and nothing of the function's
     * runs before the drop below.
     */

    if (program == NULL) {
        program = shim_process_wait_exec(chan, exec, sizeof(exec), &uid,
                                         &gid);
        argv[0] = (char *) program;
        argv[1] = NULL;
        args = argv;
    }

    /* groups first: after setuid() there is no right to change them */

    if (sp->drop_privileges) {
        if (uid == 0 || gid == 0) {
            shim_process_fail(chan, "setuid", "refusing root", EPERM);
        }

        if (setgroups(0, NULL) == -1) {
            shim_process_fail(chan, "setgroups", NULL, errno);
        }

        if (setgid(gid) == -1) {
            shim_process_fail(chan, "setgid", NULL, errno);
        }

        if (setuid(uid) == -1) {
            shim_process_fail(chan, "setuid", NULL, errno);
        }
    }

    /* with the instance's own credentials: the runtime's error is vaguer */

    if (sp->code_check != NULL
        && access(sp->code_check, R_OK | X_OK) == -1)
    {
        snprintf(id, sizeof(id), "%u", (unsigned) getuid());
        shim_process_report(chan, sp->sandbox ? "sandbox" : "spawn",
                            "code dir not readable by uid", id, errno);
    }

    if (sp->sandbox != NULL && shim_sandbox_drop_caps(&step) != 0) {
        shim_process_report(chan, "sandbox", step, NULL, errno);
    }

    /*
     * An instance must not outlive the supervisor.  This comes after
     * setuid(), which clears the setting, and the parent may have died
     * before it took effect, hence the check.
     */

    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1) {
        shim_process_fail(chan, "prctl(PR_SET_PDEATHSIG)", NULL, errno);
    }

    if (sp->sandbox == NULL) {
        if (getppid() != parent) {
            _exit(127);
        }

    } else {
        /*
         * As pid 1 of its namespace the child sees no parent at all, but
         * the supervisor's end of the channel hangs up when it dies.
         */

        pfd.fd = chan;
        pfd.events = 0;

        if (poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLHUP)) {
            _exit(127);
        }
    }

    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
        shim_process_fail(chan, "prctl(PR_SET_NO_NEW_PRIVS)", NULL, errno);
    }

    /* last: the filter need allow none of the steps above */

    if (sp->seccomp != NULL && shim_seccomp_load(sp->seccomp) != 0) {
        shim_process_report(chan, "sandbox", "loading the seccomp filter",
                            NULL, errno);
    }

    execve(program, args, sp->envp);

    shim_process_fail(chan, "execve", program, errno);
}


/*
 * A pooled sandbox: everything is set up but the credentials and the
 * program, which the supervisor sends in an EXEC packet once it knows the
 * function: uid and gid (32 bits each, big-endian), then the path.  The
 * LOAD that follows stays queued for the runtime.
 */
static const char *
shim_process_wait_exec(int chan, char *buf, size_t size, uid_t *uid,
    gid_t *gid)
{
    ssize_t              n;
    const uint8_t       *p;
    faas_frame_header_t  frame;

    do {
        n = recv(chan, buf, size - 1, 0);
    } while (n == -1 && errno == EINTR);

    /* the pool is being emptied */

    if (n <= 0) {
        _exit(0);
    }

    if ((size_t) n < FAAS_FRAME_HEADER_SIZE
        || faas_frame_header_decode((uint8_t *) buf, &frame) != FAAS_FRAME_OK
        || frame.type != FAAS_FRAME_EXEC
        || frame.length != (size_t) n - FAAS_FRAME_HEADER_SIZE
        || frame.length <= 8)
    {
        shim_process_fail(chan, "waiting for EXEC", "invalid packet", EINVAL);
    }

    buf[n] = '\0';

    p = (const uint8_t *) buf + FAAS_FRAME_HEADER_SIZE;

    *uid = (uid_t) (((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16)
                    | ((uint32_t) p[2] << 8) | p[3]);
    *gid = (gid_t) (((uint32_t) p[4] << 24) | ((uint32_t) p[5] << 16)
                    | ((uint32_t) p[6] << 8) | p[7]);

    return buf + FAAS_FRAME_HEADER_SIZE + 8;
}


/*
 * Runs in the child between fork() and exec: the supervisor is
 * single-threaded, so snprintf() is safe here.
 */
static void
shim_process_fail(int channel, const char *step, const char *arg, int err)
{
    shim_process_report(channel, "spawn", step, arg, err);
}


/* "sandbox: mounting code dir /srv/f: EACCES (Permission denied)" */
static void
shim_process_report(int channel, const char *stage, const char *step,
    const char *arg, int err)
{
    int          n;
    char         reason[512], json[1200], *p, *last;
    uint8_t      frame[FAAS_FRAME_HEADER_SIZE + sizeof(json)];
    const char  *s, *name;

    if (strcmp(stage, "sandbox") == 0) {
        name = strerrorname_np(err);

        snprintf(reason, sizeof(reason), "sandbox: %s%s%s: %s (%s)", step,
                 arg ? " " : "", arg ? arg : "", name ? name : "?",
                 strerror(err));

    } else if (arg != NULL) {
        snprintf(reason, sizeof(reason), "%s: %s %s: %s", stage, step, arg,
                 strerror(err));

    } else {
        snprintf(reason, sizeof(reason), "%s: %s: %s", stage, step,
                 strerror(err));
    }

    p = json;
    last = json + sizeof(json) - 3;

    p += snprintf(p, (size_t) (last - p), "{\"reason\":\"");

    for (s = reason; *s && p < last - 6; s++) {
        if (*s == '"' || *s == '\\') {
            *p++ = '\\';
            *p++ = *s;

        } else if ((unsigned char) *s < 0x20) {
            p += snprintf(p, 7, "\\u%04x", (unsigned char) *s);

        } else {
            *p++ = *s;
        }
    }

    *p++ = '"';
    *p++ = '}';

    n = (int) (p - json);

    faas_frame_header_encode(frame, FAAS_FRAME_ERROR, (uint32_t) n);
    memcpy(frame + FAAS_FRAME_HEADER_SIZE, json, (size_t) n);

    (void) send(channel, frame, FAAS_FRAME_HEADER_SIZE + (size_t) n,
                MSG_NOSIGNAL);

    _exit(127);
}


const char *
shim_process_status(int status, char *buf, size_t size)
{
    int          sig;
    const char  *abbrev;

    if (WIFEXITED(status)) {
        snprintf(buf, size, "exited with status %d", WEXITSTATUS(status));

    } else if (WIFSIGNALED(status)) {
        sig = WTERMSIG(status);
        abbrev = sigabbrev_np(sig);

        /* only the kernel sends it: the seccomp filter killed the call */

        if (sig == SIGSYS) {
            snprintf(buf, size, "killed by seccomp (SIGSYS)");
            return buf;
        }

        snprintf(buf, size, "killed by signal %d (SIG%s)", sig,
                 abbrev ? abbrev : "?");

    } else {
        snprintf(buf, size, "changed state 0x%x", status);
    }

    return buf;
}


/*
 * Every thread there is: a thread started later inherits the policy of
 * the one that starts it, and every one of them has it by now.
 */
int
shim_process_sched_batch(pid_t pid)
{
    int                 rc, err;
    DIR                *dir;
    char                path[64];
    pid_t               tid;
    struct dirent      *de;
    struct sched_param  param;

    snprintf(path, sizeof(path), "/proc/%d/task", (int) pid);

    /* a process that has just exited has nothing left to set */

    dir = opendir(path);
    if (dir == NULL) {
        return (errno == ENOENT) ? 0 : -1;
    }

    memset(&param, 0, sizeof(struct sched_param));

    rc = 0;
    err = 0;

    while ((de = readdir(dir)) != NULL) {
        tid = (pid_t) strtol(de->d_name, NULL, 10);
        if (tid <= 0) {
            continue;
        }

        /* nor has a thread that has just exited */
        if (sched_setscheduler(tid, SCHED_BATCH, &param) == -1
            && errno != ESRCH && rc == 0)
        {
            rc = -1;
            err = errno;
        }
    }

    closedir(dir);

    errno = err;

    return rc;
}


void
shim_process_reap_strays(shim_log_t *log)
{
    int             status, killed;
    DIR            *dir;
    FILE           *f;
    char            path[64], state;
    pid_t           pid, ppid, self;
    struct dirent  *de;

    self = getpid();
    killed = 0;

    dir = opendir("/proc");
    if (dir == NULL) {
        shim_log_error(log, SHIM_LOG_WARN, errno, "opendir(\"/proc\") failed");

    } else {
        while ((de = readdir(dir)) != NULL) {
            pid = (pid_t) strtol(de->d_name, NULL, 10);
            if (pid <= 0) {
                continue;
            }

            snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);

            f = fopen(path, "re");
            if (f == NULL) {
                continue;
            }

            /* "pid (comm) state ppid": comm may hold spaces, not ")" + " " */
            ppid = 0;
            if (fscanf(f, "%*d (%*[^)]) %c %d", &state, &ppid) != 2) {
                ppid = 0;
            }

            fclose(f);

            if (ppid == self && kill(pid, SIGKILL) == 0) {
                killed++;
            }
        }

        closedir(dir);
    }

    while ((pid = waitpid(-1, &status, 0)) > 0 || errno == EINTR) {
        /* reaped */
    }

    if (killed) {
        shim_log_error(log, SHIM_LOG_NOTICE, 0,
                       "killed %d process(es) left behind by instances",
                       killed);
    }
}
