/*
 * Per-instance cgroups: a memory and a pids limit, and a CPU quota where
 * the cpu controller is there too.  cgroup v2 where it has memory and
 * pids, else the v1 hierarchies, else none (and rlimits alone).
 */

#ifndef SHIM_CGROUP_H
#define SHIM_CGROUP_H


typedef enum {
    SHIM_CGROUP_NONE = 0,
    SHIM_CGROUP_V2,
    SHIM_CGROUP_V1
} shim_cgroup_mode_e;


typedef struct {
    shim_cgroup_mode_e   mode;
    char                *memory;          /* our directory: faas-PID */
    char                *pids;            /* the same as memory in v2 */
    char                *cpu;             /* NULL: no CPU quota here */
} shim_cgroup_t;


#define SHIM_CGROUP_CPU_PERIOD  100000    /* us */


/* detects what is usable and logs it; fails only when out of memory */
int shim_cgroup_init(shim_cgroup_t *cg, shim_log_t *log);

/* the same below another root than /sys/fs/cgroup: for the unit tests */
int shim_cgroup_init_at(shim_cgroup_t *cg, const char *root,
    shim_log_t *log);
void shim_cgroup_cleanup(shim_cgroup_t *cg, shim_log_t *log);

/*
 * Creates the instance's cgroup(s) with their limits (cpu in 1/1000 CPUs,
 * 0: none) and opens their cgroup.procs for the child to join: procs[]
 * get -1 where none is used.
 * Returns 0, or -1 with errno and *what saying which step failed.
 */
int shim_cgroup_create(shim_cgroup_t *cg, uint64_t id, uint64_t memory,
    unsigned pids, unsigned cpu, int procs[3], const char **what);

/* sets the limits of an existing instance cgroup (a pooled sandbox's) */
int shim_cgroup_limit(shim_cgroup_t *cg, uint64_t id, uint64_t memory,
    unsigned pids, unsigned cpu, const char **what);

/* in the child: joins the cgroups opened by shim_cgroup_create() */
int shim_cgroup_join(const int procs[3]);

/* 1 when the instance's memory cgroup saw an OOM kill */
int shim_cgroup_oom(shim_cgroup_t *cg, uint64_t id);
void shim_cgroup_remove(shim_cgroup_t *cg, uint64_t id, shim_log_t *log);

#endif /* SHIM_CGROUP_H */
