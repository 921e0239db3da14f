/*
 * bench-seccomp: what the runtimes' allowlists cost (docs/security.md).
 *
 *   bench/sandbox/run.sh [BUILD] [N]     (runs it after bench-sandbox)
 *
 * 1. compiling the base filter and the three allowlists, as the supervisor
 *    does once at start;
 * 2. loading one allowlist on top of the base filter, as a runtime does
 *    once per instance (seccomp() with TSYNC), timed inside a child;
 * 3. what every system call pays then: getppid() under no filter, the base
 *    filter, and the base filter plus each allowlist.
 *
 * Needs no root (no_new_privs is enough).  Prints p50 and p90.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/seccomp.h>

#include "shim.h"


#define CALLS  20000


static struct sock_fprog        base;
static shim_seccomp_profile_t   profiles[SHIM_SECCOMP_PROFILES];


static uint64_t
now_ns(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (uint64_t) ts.tv_sec * 1000000000 + (uint64_t) ts.tv_nsec;
}


static int
cmp(const void *one, const void *two)
{
    uint64_t  a = *(const uint64_t *) one, b = *(const uint64_t *) two;

    return a < b ? -1 : a > b;
}


static void
report(const char *what, uint64_t *t, int n, double unit, const char *name)
{
    qsort(t, (size_t) n, sizeof(uint64_t), cmp);

    printf("%-44s %8.2f %8.2f %s\n", what, (double) t[n / 2] / unit,
           (double) t[n * 9 / 10] / unit, name);
}


/*
 * In a child: the base filter (filters > 0), an allowlist (filters > 1),
 * then *load is the allowlist's load time and *call a getppid()'s, in ns.
 */
static int
measure(int filters, shim_seccomp_profile_t *p, uint64_t *shared)
{
    int       i, status;
    pid_t     pid;
    uint64_t  t0;

    pid = fork();

    if (pid == 0) {
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
            _exit(1);
        }

        if (filters > 0 && shim_seccomp_load(&base) != 0) {
            _exit(2);
        }

        shared[0] = 0;

        if (filters > 1) {
            t0 = now_ns();

            if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
                        SECCOMP_FILTER_FLAG_TSYNC, &p->prog) != 0)
            {
                _exit(3);
            }

            shared[0] = now_ns() - t0;
        }

        t0 = now_ns();

        for (i = 0; i < CALLS; i++) {
            (void) syscall(SYS_getppid);
        }

        shared[1] = (now_ns() - t0) * 100 / CALLS;

        _exit(0);
    }

    if (pid == -1 || waitpid(pid, &status, 0) != pid
        || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    {
        fprintf(stderr, "child failed\n");
        return -1;
    }

    return 0;
}


int
main(int argc, char **argv)
{
    int          i, k, n;
    char         what[64];
    uint64_t    *t, *c, t0, *shared;
    shim_log_t   log;

    n = argc > 1 ? atoi(argv[1]) : 200;
    if (n < 1) {
        n = 200;
    }

    shim_log_init(&log, SHIM_LOG_ERROR);

    t = calloc((size_t) n, sizeof(uint64_t));
    c = calloc((size_t) n, sizeof(uint64_t));
    shared = mmap(NULL, 2 * sizeof(uint64_t), PROT_READ | PROT_WRITE,
                  MAP_SHARED | MAP_ANONYMOUS, -1, 0);

    if (t == NULL || c == NULL || shared == MAP_FAILED) {
        return 1;
    }

    printf("%-44s %8s %8s\n", "seccomp allowlists", "p50", "p90");

    for (i = 0; i < n; i++) {
        t0 = now_ns();

        if (shim_seccomp_compile(&base, &log) != 0
            || shim_seccomp_compile_profiles(profiles, &log) != 0)
        {
            return 1;
        }

        t[i] = now_ns() - t0;

        if (i < n - 1) {
            shim_seccomp_free(&base);
            shim_seccomp_free_profiles(profiles);
        }
    }

    report("compile base + 3 allowlists (once), ms", t, n, 1e6, "");

    for (k = 0; k < SHIM_SECCOMP_PROFILES; k++) {
        printf("  %s: %u instructions\n", profiles[k].runtime,
               (unsigned) profiles[k].prog.len);
    }

    for (k = -2; k < SHIM_SECCOMP_PROFILES; k++) {
        for (i = 0; i < n; i++) {
            if (measure(k + 2 > 1 ? 2 : k + 2, k >= 0 ? &profiles[k] : NULL,
                        shared) != 0)
            {
                return 1;
            }

            t[i] = shared[0];
            c[i] = shared[1];
        }

        if (k >= 0) {
            snprintf(what, sizeof(what), "load the %s allowlist, us",
                     profiles[k].runtime);
            report(what, t, n, 1e3, "");
        }

        snprintf(what, sizeof(what), "getppid(), %s, ns",
                 k == -2 ? "no filter" : k == -1 ? "base filter"
                                                 : "base + allowlist");
        report(what, c, n, 100, k >= 0 ? profiles[k].runtime : "");
    }

    shim_seccomp_free(&base);
    shim_seccomp_free_profiles(profiles);
    free(t);
    free(c);

    return 0;
}
