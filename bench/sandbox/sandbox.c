/*
 * bench-sandbox: the cold-start cost of each sandbox step, measured from
 * the parent as clone()/fork() to waitpid() of a child that runs the steps
 * up to one point and exits.  Each row adds one step to the one before.
 *
 *   bench/sandbox/run.sh [BUILD] [N]
 *
 * Then the same steps timed from inside one child each (timestamps in
 * shared memory), which the load of a busy machine distorts less than a
 * whole process lifetime does.
 *
 * Needs root (namespaces, mounts, cgroups).  Prints p50 and p90 in us.
 */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shim.h"


enum {
    STEP_FORK = 0,
    STEP_NS,
    STEP_NS_NET,
    STEP_ROOT,
    STEP_CAPS,
    STEP_SECCOMP,
    STEP_EXEC,
    STEP_SPAWN_PLAIN,
    STEP_SPAWN_FULL,
    STEP_LAST
};


static const char  *step_names[] = {
    "fork + exit (no sandbox)",
    "clone: pid, mount, ipc, uts ns",
    "  + net ns",
    "  + root: binds, tmpfs, /proc, pivot_root",
    "  + bounding set, uid drop, capset",
    "  + no_new_privs, seccomp load",
    "  + exec /usr/bin/true",
    "shim_process_spawn, no sandbox, true",
    "shim_process_spawn, full sandbox, true"
};


#define NSTAMPS  6

static const char  *stamp_names[NSTAMPS - 1] = {
    "clone with net ns, until the child runs",
    "root: binds, tmpfs, /proc, pivot_root",
    "bounding set, uid drop, capset",
    "no_new_privs, seccomp load",
    "exit, until waitpid returns"
};

static shim_sandbox_t     sb;
static const char        *programs[] = { "/usr/bin/true", NULL };
static struct sock_fprog  prog;


static uint64_t
now_ns(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (uint64_t) ts.tv_sec * 1000000000 + (uint64_t) ts.tv_nsec;
}


static void
child(int step)
{
    const char  *what, *arg;
    char        *argv[] = { "true", NULL }, *envp[] = { NULL };

    if (step >= STEP_ROOT && shim_sandbox_root(&sb, &what, &arg) != 0) {
        fprintf(stderr, "%s: %s\n", what, strerror(errno));
        _exit(1);
    }

    if (step >= STEP_CAPS
        && (shim_sandbox_drop_bounding(&what) != 0
            || setgroups(0, NULL) != 0 || setgid(65534) != 0
            || setuid(65534) != 0 || shim_sandbox_drop_caps(&what) != 0))
    {
        _exit(2);
    }

    if (step >= STEP_SECCOMP
        && (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
            || shim_seccomp_load(&prog) != 0))
    {
        _exit(3);
    }

    if (step >= STEP_EXEC) {
        execve("/usr/bin/true", argv, envp);
        _exit(4);
    }

    _exit(0);
}


/* one child: the steps in order, a timestamp after each */
static void
stamped(uint64_t *ts)
{
    pid_t        pid;
    const char  *what, *arg;

    ts[0] = now_ns();

    pid = (pid_t) syscall(SYS_clone, SIGCHLD | CLONE_NEWPID | CLONE_NEWNS
                          | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET,
                          NULL, NULL, NULL, NULL);

    if (pid == 0) {
        ts[1] = now_ns();

        if (shim_sandbox_root(&sb, &what, &arg) != 0) {
            _exit(1);
        }

        ts[2] = now_ns();

        if (shim_sandbox_drop_bounding(&what) != 0
            || setgroups(0, NULL) != 0 || setgid(65534) != 0
            || setuid(65534) != 0 || shim_sandbox_drop_caps(&what) != 0)
        {
            _exit(2);
        }

        ts[3] = now_ns();

        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
            || shim_seccomp_load(&prog) != 0)
        {
            _exit(3);
        }

        ts[4] = now_ns();

        _exit(0);
    }

    if (pid != -1) {
        (void) waitpid(pid, NULL, 0);
    }

    ts[5] = now_ns();
}


static int
cmp(const void *a, const void *b)
{
    uint64_t  x = *(const uint64_t *) a, y = *(const uint64_t *) b;

    return x < y ? -1 : x > y;
}


int
main(int argc, char **argv)
{
    int           i, k, n, step, status, flags, err, sv[2], devnull;
    pid_t         pid;
    uint64_t     *t, t0, *shared;
    shim_log_t    log;
    shim_spawn_t  sp;
    char         *args[] = { "true", NULL }, *envp[] = { NULL };

    n = argc > 1 ? atoi(argv[1]) : 200;
    if (n < 1) {
        n = 200;
    }

    shim_log_init(&log, SHIM_LOG_ERROR);

    t0 = now_ns();
    if (shim_seccomp_compile(&prog, &log) != 0) {
        return 1;
    }

    printf("%-44s %8.1f us (once, at supervisor start)\n",
           "seccomp filter compile + export",
           (double) (now_ns() - t0) / 1000);

    /* any directory does as the code slot here: nothing is attached */
    sb.slot = "/usr/share";
    sb.programs = programs;
    sb.tmp_size = 16 * 1024 * 1024;
    sb.network = 0;

    t = calloc((size_t) n, sizeof(uint64_t));
    devnull = open("/dev/null", O_RDWR | O_CLOEXEC);

    if (t == NULL || devnull == -1) {
        return 1;
    }

    printf("%-44s %8s %8s\n", "step (cumulative)", "p50 us", "p90 us");

    for (step = 0; step < STEP_LAST; step++) {
        for (i = 0; i < n; i++) {
            t0 = now_ns();

            if (step >= STEP_SPAWN_PLAIN) {
                if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)
                    != 0)
                {
                    return 1;
                }

                memset(&sp, 0, sizeof(sp));
                sp.program = "/usr/bin/true";
                sp.argv = args;
                sp.envp = envp;
                sp.channel = sv[1];
                sp.devnull = devnull;
                sp.stdout_fd = -1;
                sp.stderr_fd = -1;
                sp.drop_privileges = 1;
                sp.uid = 65534;
                sp.gid = 65534;
                sp.cgroup_procs[0] = -1;
                sp.cgroup_procs[1] = -1;
                sp.cgroup_procs[2] = -1;

                if (step == STEP_SPAWN_FULL) {
                    sp.sandbox = &sb;
                    sp.seccomp = &prog;
                }

                pid = shim_process_spawn(&sp, &err);
                close(sv[1]);

            } else if (step == STEP_FORK) {
                pid = fork();

            } else {
                flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC
                        | CLONE_NEWUTS;
                if (step != STEP_NS) {
                    flags |= CLONE_NEWNET;
                }

                pid = (pid_t) syscall(SYS_clone, SIGCHLD | flags, NULL, NULL,
                                      NULL, NULL);
            }

            if (pid == 0) {
                child(step);
            }

            if (pid == -1 || waitpid(pid, &status, 0) != pid
                || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
            {
                fprintf(stderr, "step \"%s\" failed (status 0x%x)\n",
                        step_names[step], pid == -1 ? 0 : status);
                return 1;
            }

            t[i] = now_ns() - t0;

            if (step >= STEP_SPAWN_PLAIN) {
                close(sv[0]);
            }
        }

        qsort(t, (size_t) n, sizeof(uint64_t), cmp);

        printf("%-44s %8.1f %8.1f\n", step_names[step],
               (double) t[n / 2] / 1000, (double) t[n * 9 / 10] / 1000);
    }

    /* the child writes its timestamps where the parent can read them */

    shared = mmap(NULL, (size_t) n * NSTAMPS * sizeof(uint64_t),
                  PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED) {
        return 1;
    }

    for (i = 0; i < n; i++) {
        stamped(shared + i * NSTAMPS);
    }

    printf("\n%-44s %8s %8s\n", "step, timed inside the child", "p50 us",
           "p90 us");

    for (k = 0; k < NSTAMPS - 1; k++) {
        for (i = 0; i < n; i++) {
            t[i] = shared[i * NSTAMPS + k + 1] - shared[i * NSTAMPS + k];
        }

        qsort(t, (size_t) n, sizeof(uint64_t), cmp);

        printf("%-44s %8.1f %8.1f\n", stamp_names[k],
               (double) t[n / 2] / 1000, (double) t[n * 9 / 10] / 1000);
    }

    munmap(shared, (size_t) n * NSTAMPS * sizeof(uint64_t));

    shim_seccomp_free(&prog);
    free(t);

    return 0;
}
