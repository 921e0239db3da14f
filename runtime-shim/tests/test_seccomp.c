/*
 * Unit tests: the base seccomp filter, compiled as the supervisor does it
 * and loaded in a forked child as an instance does.  An allowed call works,
 * a denied one kills the child with SIGSYS, clone3() fails with ENOSYS.
 */

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <setjmp.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "shim.h"


typedef int (*test_call_pt)(void);


static struct sock_fprog  prog;


/* the child's status after it loads the filter and makes the call */
static int
test_run(test_call_pt call)
{
    int    status;
    pid_t  pid;

    pid = fork();
    assert_true(pid != -1);

    if (pid == 0) {
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
            || shim_seccomp_load(&prog) != 0)
        {
            _exit(100);
        }

        _exit(call());
    }

    assert_int_equal(waitpid(pid, &status, 0), pid);

    return status;
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

    return shim_seccomp_compile(&prog, &log);
}


static int
test_teardown(void **state)
{
    (void) state;

    shim_seccomp_free(&prog);

    return 0;
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_allowed),
        cmocka_unit_test(test_clone3_enosys),
        cmocka_unit_test(test_denied),
        cmocka_unit_test(test_audit_record),
    };

    return cmocka_run_group_tests(tests, test_setup, test_teardown);
}
