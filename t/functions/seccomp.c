/*
 * seccomp: calls that the C runtime's allowlist leaves out, for
 * t/022-seccomp-runtime.t.  Under "seccomp base" each answers with what
 * happened; under the allowlist the in-process ones never answer (the
 * test sees the 502) and a child that calls execve() dies of SIGSYS.
 */

#define _GNU_SOURCE

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <faas.h>


static int
seccomp_reply(faas_response_t *res, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));


/* "true: exit 0" under the base filter, "true: signal 31" under the list */
int
run_true(faas_request_t *req, faas_response_t *res)
{
    int          status;
    pid_t        pid;
    char *const  argv[] = { "true", NULL };
    char *const  envp[] = { NULL };

    (void) req;

    pid = fork();

    if (pid == 0) {
        execve("/usr/bin/true", argv, envp);
        _exit(127);
    }

    if (pid == -1 || waitpid(pid, &status, 0) != pid) {
        return seccomp_reply(res, "true: %s\n", strerror(errno));
    }

    if (WIFSIGNALED(status)) {
        return seccomp_reply(res, "true: signal %d\n", WTERMSIG(status));
    }

    return seccomp_reply(res, "true: exit %d\n", WEXITSTATUS(status));
}


/* the same after 300 ms: two calls at once need two instances */
int
slow_true(faas_request_t *req, faas_response_t *res)
{
    usleep(300 * 1000);

    return run_true(req, res);
}


/* the instance itself: ENOENT under the base filter, a kill under the list */
int
exec_self(faas_request_t *req, faas_response_t *res)
{
    char *const  argv[] = { "none", NULL };
    char *const  envp[] = { NULL };

    (void) req;

    execve("/nonexistent/none", argv, envp);

    return seccomp_reply(res, "execve: %s\n", strerrorname_np(errno));
}


int
uring(faas_request_t *req, faas_response_t *res)
{
    long  rc;
    char  params[120];

    (void) req;

    memset(params, 0, sizeof(params));

    rc = syscall(SYS_io_uring_setup, 1, params);

    if (rc >= 0) {
        close((int) rc);
        return seccomp_reply(res, "io_uring_setup: ok\n");
    }

    return seccomp_reply(res, "io_uring_setup: %s\n", strerrorname_np(errno));
}


static int
seccomp_reply(faas_response_t *res, const char *fmt, ...)
{
    char     buf[256];
    va_list  args;

    va_start(args, fmt);
    vsnprintf(buf, sizeof(buf), fmt, args);
    va_end(args);

    if (faas_response_header(res, "Content-Type", "text/plain") != 0) {
        return -1;
    }

    return faas_response_printf(res, "%s", buf);
}
