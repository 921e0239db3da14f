/*
 * Unit tests: the base seccomp filter, compiled as the supervisor does it
 * and loaded in a forked child as an instance does.  An allowed call works,
 * a denied one kills the child with SIGSYS, clone3() fails with ENOSYS.
 * Then each runtime's allowlist on top of it, loaded as the runtimes do
 * (seccomp() with TSYNC): what a runtime needs works, execve(),
 * io_uring_setup() and the like kill the child.
 */

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <setjmp.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <linux/seccomp.h>

#include "shim.h"


typedef int (*test_call_pt)(void);


static struct sock_fprog        prog;
static shim_seccomp_profile_t   profiles[SHIM_SECCOMP_PROFILES];


/*
 * The child's status after it loads the base filter, then the allowlist
 * of a runtime (NULL: none) as the runtime does, and makes the call.
 */
static int
test_run_profile(const char *runtime, test_call_pt call)
{
    int                      status;
    pid_t                    pid;
    shim_seccomp_profile_t  *p;

    p = NULL;

    if (runtime != NULL) {
        p = shim_seccomp_profile(profiles, runtime);
        assert_non_null(p);
    }

    pid = fork();
    assert_true(pid != -1);

    if (pid == 0) {
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
            || shim_seccomp_load(&prog) != 0)
        {
            _exit(100);
        }

        if (p != NULL
            && syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
                       SECCOMP_FILTER_FLAG_TSYNC, &p->prog) != 0)
        {
            _exit(101);
        }

        _exit(call());
    }

    assert_int_equal(waitpid(pid, &status, 0), pid);

    return status;
}


static int
test_run(test_call_pt call)
{
    return test_run_profile(NULL, call);
}


static int
call_getpid(void)
{
    return getpid() > 0 ? 0 : 1;
}


static int
call_fork(void)
{
    int    status;
    pid_t  pid;

    /* a plain clone(), without namespace flags, is allowed */

    pid = fork();

    if (pid == 0) {
        _exit(7);
    }

    if (pid == -1 || waitpid(pid, &status, 0) != pid) {
        return 1;
    }

    return WIFEXITED(status) && WEXITSTATUS(status) == 7 ? 0 : 1;
}


static int
call_clone3(void)
{
    long  rc;

    rc = syscall(SYS_clone3, NULL, 0);

    return rc == -1 && errno == ENOSYS ? 0 : 1;
}


static int
call_ptrace(void)
{
    (void) ptrace(PTRACE_TRACEME, 0, NULL, NULL);
    return 0;
}


static int
call_mount(void)
{
    (void) mount("none", "/", "tmpfs", 0, NULL);
    return 0;
}


static int
call_unshare(void)
{
    (void) unshare(CLONE_NEWNS);
    return 0;
}


static int
call_clone_newuser(void)
{
    (void) syscall(SYS_clone, SIGCHLD | CLONE_NEWUSER, NULL, NULL, NULL,
                   NULL);
    return 0;
}


static int
call_init_module(void)
{
    (void) syscall(SYS_init_module, "", 0UL, "");
    return 0;
}


static void *
thread_main(void *arg)
{
    return arg;
}


/* what every runtime does: files, memory, a thread, a pipe, a socket */
static int
call_runtime_basics(void)
{
    int        fd, sv[2], p[2];
    char       buf[16];
    void      *mem, *ret;
    pthread_t  t;

    fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd == -1 || read(fd, buf, sizeof(buf)) != 0 || close(fd) != 0) {
        return 1;
    }

    mem = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED || munmap(mem, 1 << 20) != 0) {
        return 2;
    }

    /* glibc tries clone3() first, gets ENOSYS and falls back to clone() */
    if (pthread_create(&t, NULL, thread_main, buf) != 0
        || pthread_join(t, &ret) != 0 || ret != buf)
    {
        return 3;
    }

    if (pipe2(p, O_CLOEXEC) != 0 || write(p[1], "x", 1) != 1
        || read(p[0], buf, 1) != 1)
    {
        return 4;
    }

    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0
        || send(sv[0], "y", 1, 0) != 1 || recv(sv[1], buf, 1, 0) != 1)
    {
        return 5;
    }

    if (getrandom(buf, sizeof(buf), 0) != (ssize_t) sizeof(buf)) {
        return 6;
    }

    /* prctl() is allowed but for a further filter (tested below) */
    if (prctl(PR_SET_NAME, "faas-test", 0, 0, 0) != 0) {
        return 7;
    }

    return 0;
}


static int
call_execve(void)
{
    char *const  argv[] = { "true", NULL };
    char *const  envp[] = { NULL };

    (void) execve("/usr/bin/true", argv, envp);
    return 0;
}


static int
call_io_uring_setup(void)
{
    char  params[120];

    memset(params, 0, sizeof(params));
    (void) syscall(SYS_io_uring_setup, 1, params);
    return 0;
}


static int
call_setuid(void)
{
    (void) setuid(getuid());
    return 0;
}


static int
call_set_seccomp(void)
{
    (void) prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0);
    return 0;
}


static void
test_allowed(void **state)
{
    int  status;

    (void) state;

    status = test_run(call_getpid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);

    status = test_run(call_fork);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}


static void
test_clone3_enosys(void **state)
{
    int  status;

    (void) state;

    status = test_run(call_clone3);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}


static void
test_denied(void **state)
{
    int           status;
    size_t        i;
    test_call_pt  calls[] = {
        call_ptrace, call_mount, call_unshare, call_clone_newuser,
        call_init_module
    };

    (void) state;

    for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
        status = test_run(calls[i]);
        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), SIGSYS);
    }
}


static void
test_profiles(void **state)
{
    int            status;
    size_t         i, j;
    const char    *runtimes[] = { "c", "python3", "nodejs" };
    test_call_pt   allowed[] = {
        call_getpid, call_fork, call_clone3, call_runtime_basics
    };
    test_call_pt   denied[] = {
        call_execve, call_io_uring_setup, call_setuid, call_set_seccomp,
        call_ptrace, call_mount, call_clone_newuser
    };

    (void) state;

    assert_null(shim_seccomp_profile(profiles, "exec"));

    for (i = 0; i < sizeof(runtimes) / sizeof(runtimes[0]); i++) {
        print_message("runtime %s\n", runtimes[i]);

        for (j = 0; j < sizeof(allowed) / sizeof(allowed[0]); j++) {
            status = test_run_profile(runtimes[i], allowed[j]);
            assert_true(WIFEXITED(status));
            assert_int_equal(WEXITSTATUS(status), 0);
        }

        for (j = 0; j < sizeof(denied) / sizeof(denied[0]); j++) {
            status = test_run_profile(runtimes[i], denied[j]);
            assert_true(WIFSIGNALED(status));
            assert_int_equal(WTERMSIG(status), SIGSYS);
        }
    }

    /* the count the supervisor checks at READY: base + the allowlist */
    assert_true(shim_seccomp_filters(0) >= 0);
}


static void
test_audit_record(void **state)
{
    const char  *rec;

    (void) state;

    rec = "5,478,4830901131,-;audit: type=1326 audit(1795705659.503:478): "
          "auid=4294967295 uid=65534 gid=65534 ses=4294967295 pid=4617 "
          "comm=\"faas-runtime-c\" exe=\"/b/faas-runtime-c\" sig=31 "
          "arch=c000003e syscall=101 compat=0 ip=0x7f043a2d2557 "
          "code=0x80000000\n";

    assert_int_equal(shim_seccomp_audit_syscall(rec, 4617), 101);

    /* another process, or no seccomp kill at all */
    assert_int_equal(shim_seccomp_audit_syscall(rec, 461), -1);
    assert_int_equal(shim_seccomp_audit_syscall(rec, 46170), -1);
    assert_int_equal(shim_seccomp_audit_syscall("6,1,2,-;eth0: link up\n",
                                                4617), -1);
}


static int
test_setup(void **state)
{
    shim_log_t  log;

    (void) state;

    shim_log_init(&log, SHIM_LOG_ERROR);

    if (shim_seccomp_compile(&prog, &log) != 0) {
        return -1;
    }

    return shim_seccomp_compile_profiles(profiles, &log);
}


static int
test_teardown(void **state)
{
    (void) state;

    shim_seccomp_free(&prog);
    shim_seccomp_free_profiles(profiles);

    return 0;
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_allowed),
        cmocka_unit_test(test_clone3_enosys),
        cmocka_unit_test(test_denied),
        cmocka_unit_test(test_profiles),
        cmocka_unit_test(test_audit_record),
    };

    return cmocka_run_group_tests(tests, test_setup, test_teardown);
}
