/*
 * Unit tests: which cgroup setup the supervisor picks, run against fake
 * cgroup trees in a temporary directory: pure v2 with memory, pids and
 * cpu; hybrid like the CI machine (v2 with hugetlb only, v1 with the
 * rest); hybrid with a usable v2; v1 only; none.
 *
 * A fake tree is plain files: a mkdir() there does not make the control
 * files a cgroupfs would, so the test makes faas-PID/cgroup.subtree_control
 * itself beforehand (the supervisor accepts an existing directory), and a
 * write that the kernel would refuse (+cpu without the cpu controller)
 * succeeds: the v2 "no cpu" case cannot be faked this way.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "shim.h"


static char        root[256];
static char        path[512];
static shim_log_t  test_log;


static void
put(const char *rel, const char *text)
{
    FILE  *f;
    char  *p;

    snprintf(path, sizeof(path), "%s/%s", root, rel);

    /* the directories on the way */

    for (p = path + strlen(root) + 1; (p = strchr(p, '/')) != NULL; p++) {
        *p = '\0';
        (void) mkdir(path, 0755);
        *p = '/';
    }

    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}


static const char *
at(const char *fmt, ...)
{
    int      n;
    va_list  args;

    n = snprintf(path, sizeof(path), "%s/", root);

    va_start(args, fmt);
    vsnprintf(path + n, sizeof(path) - (size_t) n, fmt, args);
    va_end(args);

    return path;
}


static int
setup(void **state)
{
    (void) state;

    snprintf(root, sizeof(root), "%s/faas-cgroup-test.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");

    return mkdtemp(root) != NULL ? 0 : -1;
}


static int
teardown(void **state)
{
    char  cmd[300];

    (void) state;

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);

    return system(cmd) == 0 ? 0 : -1;
}


static void
init(shim_cgroup_t *cg)
{
    shim_log_init(&test_log, SHIM_LOG_ERROR);

    assert_int_equal(shim_cgroup_init_at(cg, root, &test_log), 0);
}


static void
test_pure_v2(void **state)
{
    char           mine[64];
    shim_cgroup_t  cg;

    (void) state;

    snprintf(mine, sizeof(mine), "faas-%d", (int) getpid());

    put("cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma\n");
    put("cgroup.subtree_control", "");
    put("cgroup.procs", "");
    put(at("%s/cgroup.subtree_control", mine) + strlen(root) + 1, "");

    init(&cg);

    assert_int_equal(cg.mode, SHIM_CGROUP_V2);
    assert_string_equal(cg.memory, at("%s", mine));
    assert_ptr_equal(cg.pids, cg.memory);
    assert_ptr_equal(cg.cpu, cg.memory);

    free(cg.memory);
}


static void
test_hybrid_like_here(void **state)
{
    shim_cgroup_t  cg;

    (void) state;

    /* v2 at unified/ with hugetlb only; v1 memory, pids and cpu */

    put("unified/cgroup.controllers", "hugetlb\n");
    put("unified/cgroup.subtree_control", "");
    put("memory/cgroup.procs", "");
    put("pids/cgroup.procs", "");
    put("cpu/cgroup.procs", "");

    init(&cg);

    assert_int_equal(cg.mode, SHIM_CGROUP_V1);
    assert_string_equal(cg.memory, at("memory/faas-%d", (int) getpid()));
    assert_string_equal(cg.pids, at("pids/faas-%d", (int) getpid()));
    assert_string_equal(cg.cpu, at("cpu/faas-%d", (int) getpid()));

    shim_cgroup_cleanup(&cg, &test_log);
    assert_null(cg.memory);
    assert_int_equal(cg.mode, SHIM_CGROUP_NONE);
}


static void
test_hybrid_v2_usable(void **state)
{
    char           mine[64];
    shim_cgroup_t  cg;

    (void) state;

    /* v2 at unified/ has both controllers: it wins over v1 */

    snprintf(mine, sizeof(mine), "unified/faas-%d", (int) getpid());

    put("unified/cgroup.controllers", "memory pids\n");
    put("unified/cgroup.subtree_control", "");
    put(at("%s/cgroup.subtree_control", mine) + strlen(root) + 1, "");
    put("memory/cgroup.procs", "");
    put("pids/cgroup.procs", "");

    init(&cg);

    assert_int_equal(cg.mode, SHIM_CGROUP_V2);
    assert_string_equal(cg.memory, at("%s", mine));
    assert_ptr_equal(cg.pids, cg.memory);

    free(cg.memory);
}


static void
test_v1_only(void **state)
{
    shim_cgroup_t  cg;

    (void) state;

    put("memory/cgroup.procs", "");
    put("pids/cgroup.procs", "");

    init(&cg);

    assert_int_equal(cg.mode, SHIM_CGROUP_V1);
    assert_string_equal(cg.memory, at("memory/faas-%d", (int) getpid()));
    assert_string_equal(cg.pids, at("pids/faas-%d", (int) getpid()));
    assert_null(cg.cpu);

    shim_cgroup_cleanup(&cg, &test_log);
}


static void
test_v1_without_pids(void **state)
{
    shim_cgroup_t  cg;

    (void) state;

    /* memory alone is not enough: both limits or none */

    put("memory/cgroup.procs", "");
    put("cpu/cgroup.procs", "");

    init(&cg);

    assert_int_equal(cg.mode, SHIM_CGROUP_NONE);
    assert_null(cg.memory);
}


static void
test_none(void **state)
{
    shim_cgroup_t  cg;

    (void) state;

    init(&cg);

    assert_int_equal(cg.mode, SHIM_CGROUP_NONE);
    assert_null(cg.memory);
    assert_null(cg.pids);
    assert_null(cg.cpu);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test_setup_teardown(test_pure_v2, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hybrid_like_here, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_hybrid_v2_usable, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_v1_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_v1_without_pids, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_none, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
