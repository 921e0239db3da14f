/*
 * Per-instance cgroups, see shim_cgroup.h and docs/security.md.
 *
 * The supervisor makes one directory of its own, faas-PID, in each
 * hierarchy it uses, and one sub-directory per instance, iID, with the
 * limits written before the child starts.  The child joins by writing "0"
 * to the cgroup.procs descriptors it inherits, as its very first step, so
 * that nothing it allocates escapes the limit.
 */

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shim.h"


#define SHIM_CGROUP_ROOT      "/sys/fs/cgroup"


static int shim_cgroup_v2_usable(const char *mount);
static int shim_cgroup_v1_usable(const char *hierarchy, char *buf,
    size_t size);
static int shim_cgroup_write(const char *dir, const char *file,
    const char *value);
static int shim_cgroup_read(const char *dir, const char *file, char *buf,
    size_t size);
static char *shim_cgroup_mkdir(const char *parent, shim_log_t *log);
static void shim_cgroup_reclaim(const char *parent, shim_log_t *log);


int
shim_cgroup_init(shim_cgroup_t *cg, shim_log_t *log)
{
    return shim_cgroup_init_at(cg, SHIM_CGROUP_ROOT, log);
}


int
shim_cgroup_init_at(shim_cgroup_t *cg, const char *root, shim_log_t *log)
{
    char         unified[4200], v1[3][4200], procs[4300];
    const char  *mount;

    cg->mode = SHIM_CGROUP_NONE;
    cg->memory = NULL;
    cg->pids = NULL;
    cg->cpu = NULL;

    snprintf(unified, sizeof(unified), "%s/unified", root);
    snprintf(v1[0], sizeof(v1[0]), "%s/memory", root);
    snprintf(v1[1], sizeof(v1[1]), "%s/pids", root);
    snprintf(v1[2], sizeof(v1[2]), "%s/cpu", root);

    mount = NULL;

    if (shim_cgroup_v2_usable(root)) {
        mount = root;

    } else if (shim_cgroup_v2_usable(unified)) {
        mount = unified;
    }

    if (mount != NULL) {
        /* both controllers must reach our directory and its children */

        if (shim_cgroup_write(mount, "cgroup.subtree_control",
                              "+memory +pids")
            == 0)
        {
            cg->memory = shim_cgroup_mkdir(mount, log);

            if (cg->memory != NULL
                && shim_cgroup_write(cg->memory, "cgroup.subtree_control",
                                     "+memory +pids")
                   == 0)
            {
                cg->pids = cg->memory;
                cg->mode = SHIM_CGROUP_V2;

                /* the cpu controller is a bonus: without it, no quota */

                if (shim_cgroup_write(mount, "cgroup.subtree_control",
                                      "+cpu") == 0
                    && shim_cgroup_write(cg->memory,
                                         "cgroup.subtree_control", "+cpu")
                       == 0)
                {
                    cg->cpu = cg->memory;
                }

                shim_log_error(log, SHIM_LOG_NOTICE, 0, "cgroup v2 in "
                               "effect: memory, pids%s limits in %s",
                               cg->cpu ? " and cpu" : " (no cpu)",
                               cg->memory);
                return 0;
            }

            if (cg->memory != NULL) {
                rmdir(cg->memory);
                free(cg->memory);
                cg->memory = NULL;
            }
        }

        shim_log_error(log, SHIM_LOG_WARN, errno, "cgroup v2 at %s has "
                       "memory and pids but they cannot be enabled", mount);
    }

    if (shim_cgroup_v1_usable(v1[0], procs, sizeof(procs))
        && shim_cgroup_v1_usable(v1[1], procs, sizeof(procs)))
    {
        cg->memory = shim_cgroup_mkdir(v1[0], log);
        cg->pids = shim_cgroup_mkdir(v1[1], log);

        if (cg->memory != NULL && cg->pids != NULL) {
            cg->mode = SHIM_CGROUP_V1;

            if (shim_cgroup_v1_usable(v1[2], procs, sizeof(procs))) {
                cg->cpu = shim_cgroup_mkdir(v1[2], log);
            }

            shim_log_error(log, SHIM_LOG_NOTICE, 0, "cgroup v1 in effect "
                           "(v2 lacks memory or pids): limits in %s, %s "
                           "and %s", cg->memory, cg->pids,
                           cg->cpu ? cg->cpu : "no cpu controller");
            return 0;
        }

        shim_cgroup_cleanup(cg, log);
    }

    shim_log_error(log, SHIM_LOG_WARN, 0, "no usable cgroup with memory "
                   "and pids controllers: instances have no memory and "
                   "process limits, only rlimits");

    return 0;
}


void
shim_cgroup_cleanup(shim_cgroup_t *cg, shim_log_t *log)
{
    DIR            *dir;
    char            path[4200];
    const char     *base[3];
    struct dirent  *de;
    unsigned        i;

    base[0] = cg->memory;
    base[1] = (cg->pids != cg->memory) ? cg->pids : NULL;
    base[2] = (cg->cpu != cg->memory) ? cg->cpu : NULL;

    for (i = 0; i < 3; i++) {
        if (base[i] == NULL) {
            continue;
        }

        /* instance directories left by a death not yet reaped */

        dir = opendir(base[i]);

        if (dir != NULL) {
            while ((de = readdir(dir)) != NULL) {
                if (de->d_name[0] == 'i' && de->d_type == DT_DIR) {
                    snprintf(path, sizeof(path), "%s/%s", base[i],
                             de->d_name);
                    (void) rmdir(path);
                }
            }

            closedir(dir);
        }

        if (rmdir(base[i]) == -1) {
            shim_log_error(log, SHIM_LOG_WARN, errno, "rmdir(\"%s\") "
                           "failed", base[i]);
        }
    }

    if (cg->pids != cg->memory) {
        free(cg->pids);
    }

    if (cg->cpu != cg->memory) {
        free(cg->cpu);
    }

    free(cg->memory);

    cg->memory = NULL;
    cg->pids = NULL;
    cg->cpu = NULL;
    cg->mode = SHIM_CGROUP_NONE;
}


int
shim_cgroup_limit(shim_cgroup_t *cg, uint64_t id, uint64_t memory,
    unsigned pids, unsigned cpu, const char **what)
{
    char  mdir[4200], pdir[4200], cdir[4200], value[48];

    if (cg->mode == SHIM_CGROUP_NONE) {
        return 0;
    }

    snprintf(mdir, sizeof(mdir), "%s/i%" PRIu64, cg->memory, id);
    snprintf(pdir, sizeof(pdir), "%s/i%" PRIu64, cg->pids, id);
    snprintf(value, sizeof(value), "%" PRIu64, memory);

    *what = "setting the memory limit";

    if (cg->mode == SHIM_CGROUP_V2) {
        if (shim_cgroup_write(mdir, "memory.max", value) != 0) {
            return -1;
        }

        /* a limit that swap would soften is no limit; absent without swap */
        (void) shim_cgroup_write(mdir, "memory.swap.max", "0");

    } else {
        /* v1 refuses a memsw limit below the memory limit: order matters */
        (void) shim_cgroup_write(mdir, "memory.memsw.limit_in_bytes", "-1");

        if (shim_cgroup_write(mdir, "memory.limit_in_bytes", value) != 0) {
            return -1;
        }

        (void) shim_cgroup_write(mdir, "memory.memsw.limit_in_bytes", value);
    }

    snprintf(value, sizeof(value), "%u", pids);

    *what = "setting the pids limit";

    if (shim_cgroup_write(pdir, "pids.max", value) != 0) {
        return -1;
    }

    if (cg->cpu == NULL) {
        return 0;
    }

    /* cpu 500 (0.5 CPUs): 50 ms of CPU time in every 100 ms */

    snprintf(cdir, sizeof(cdir), "%s/i%" PRIu64, cg->cpu, id);

    *what = "setting the cpu quota";

    if (cg->mode == SHIM_CGROUP_V2) {
        if (cpu == 0) {
            snprintf(value, sizeof(value), "max %d", SHIM_CGROUP_CPU_PERIOD);

        } else {
            snprintf(value, sizeof(value), "%llu %d",
                     (unsigned long long) cpu * SHIM_CGROUP_CPU_PERIOD / 1000,
                     SHIM_CGROUP_CPU_PERIOD);
        }

        return shim_cgroup_write(cdir, "cpu.max", value);
    }

    snprintf(value, sizeof(value), "%d", SHIM_CGROUP_CPU_PERIOD);

    if (shim_cgroup_write(cdir, "cpu.cfs_period_us", value) != 0) {
        return -1;
    }

    if (cpu == 0) {
        snprintf(value, sizeof(value), "-1");

    } else {
        snprintf(value, sizeof(value), "%llu",
                 (unsigned long long) cpu * SHIM_CGROUP_CPU_PERIOD / 1000);
    }

    return shim_cgroup_write(cdir, "cpu.cfs_quota_us", value);
}


int
shim_cgroup_create(shim_cgroup_t *cg, uint64_t id, uint64_t memory,
    unsigned pids, unsigned cpu, int procs[3], const char **what)
{
    int   err, v1cpu;
    char  mdir[4200], pdir[4200], cdir[4200], path[4300];

    procs[0] = -1;
    procs[1] = -1;
    procs[2] = -1;

    /* in v1 the cpu controller is a hierarchy of its own */
    v1cpu = (cg->mode == SHIM_CGROUP_V1 && cg->cpu != NULL);

    if (cg->mode == SHIM_CGROUP_NONE) {
        return 0;
    }

    snprintf(mdir, sizeof(mdir), "%s/i%" PRIu64, cg->memory, id);
    snprintf(pdir, sizeof(pdir), "%s/i%" PRIu64, cg->pids, id);

    *what = "creating the cgroup";

    if (mkdir(mdir, 0755) == -1 && errno != EEXIST) {
        return -1;
    }

    if (cg->mode == SHIM_CGROUP_V1
        && mkdir(pdir, 0755) == -1 && errno != EEXIST)
    {
        goto failed;
    }

    if (v1cpu) {
        snprintf(cdir, sizeof(cdir), "%s/i%" PRIu64, cg->cpu, id);

        if (mkdir(cdir, 0755) == -1 && errno != EEXIST) {
            goto failed;
        }
    }

    if (shim_cgroup_limit(cg, id, memory, pids, cpu, what) != 0) {
        goto failed;
    }

    *what = "opening cgroup.procs";

    snprintf(path, sizeof(path), "%s/cgroup.procs", mdir);

    procs[0] = open(path, O_WRONLY | O_CLOEXEC);
    if (procs[0] == -1) {
        goto failed;
    }

    if (cg->mode == SHIM_CGROUP_V1) {
        snprintf(path, sizeof(path), "%s/cgroup.procs", pdir);

        procs[1] = open(path, O_WRONLY | O_CLOEXEC);
        if (procs[1] == -1) {
            goto failed;
        }
    }

    if (v1cpu) {
        snprintf(path, sizeof(path), "%s/cgroup.procs", cdir);

        procs[2] = open(path, O_WRONLY | O_CLOEXEC);
        if (procs[2] == -1) {
            goto failed;
        }
    }

    return 0;

failed:

    err = errno;

    for (v1cpu = 0; v1cpu < 3; v1cpu++) {
        if (procs[v1cpu] != -1) {
            close(procs[v1cpu]);
            procs[v1cpu] = -1;
        }
    }

    shim_cgroup_remove(cg, id, NULL);

    errno = err;

    return -1;
}


int
shim_cgroup_join(const int procs[3])
{
    unsigned  i;

    for (i = 0; i < 3; i++) {
        if (procs[i] != -1 && write(procs[i], "0", 1) != 1) {
            return -1;
        }
    }

    return 0;
}


int
shim_cgroup_oom(shim_cgroup_t *cg, uint64_t id)
{
    char         dir[4200], buf[1024], *p;
    const char  *file;

    if (cg->mode == SHIM_CGROUP_NONE) {
        return 0;
    }

    snprintf(dir, sizeof(dir), "%s/i%" PRIu64, cg->memory, id);

    file = (cg->mode == SHIM_CGROUP_V2) ? "memory.events"
                                        : "memory.oom_control";

    if (shim_cgroup_read(dir, file, buf, sizeof(buf)) != 0) {
        return 0;
    }

    p = strstr(buf, "oom_kill ");

    return p != NULL && strtoull(p + sizeof("oom_kill ") - 1, NULL, 10) > 0;
}


void
shim_cgroup_remove(shim_cgroup_t *cg, uint64_t id, shim_log_t *log)
{
    char         dir[4200];
    unsigned     i;
    const char  *base[3];

    if (cg->mode == SHIM_CGROUP_NONE) {
        return;
    }

    base[0] = cg->memory;
    base[1] = (cg->pids != cg->memory) ? cg->pids : NULL;
    base[2] = (cg->cpu != cg->memory) ? cg->cpu : NULL;

    for (i = 0; i < 3; i++) {
        if (base[i] == NULL) {
            continue;
        }

        snprintf(dir, sizeof(dir), "%s/i%" PRIu64, base[i], id);

        /* log NULL: a half-made cgroup, whatever of it exists goes */

        if (rmdir(dir) == -1 && errno != ENOENT && log != NULL) {
            shim_log_error(log, SHIM_LOG_WARN, errno, "rmdir(\"%s\") "
                           "failed", dir);
        }
    }
}


static int
shim_cgroup_v2_usable(const char *mount)
{
    char  buf[512];

    if (shim_cgroup_read(mount, "cgroup.controllers", buf, sizeof(buf))
        != 0)
    {
        return 0;
    }

    return strstr(buf, "memory") != NULL && strstr(buf, "pids") != NULL;
}


/* a v1 hierarchy we may create cgroups in */
static int
shim_cgroup_v1_usable(const char *hierarchy, char *buf, size_t size)
{
    snprintf(buf, size, "%s/cgroup.procs", hierarchy);

    return access(buf, W_OK) == 0;
}


static char *
shim_cgroup_mkdir(const char *parent, shim_log_t *log)
{
    char  *dir;

    shim_cgroup_reclaim(parent, log);

    if (asprintf(&dir, "%s/faas-%d", parent, (int) getpid()) == -1) {
        return NULL;
    }

    if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
        shim_log_error(log, SHIM_LOG_WARN, errno, "mkdir(\"%s\") failed",
                       dir);
        free(dir);
        return NULL;
    }

    return dir;
}


static int
shim_cgroup_write(const char *dir, const char *file, const char *value)
{
    int      fd, err;
    char     path[4200];
    size_t   len;
    ssize_t  n;

    snprintf(path, sizeof(path), "%s/%s", dir, file);

    fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd == -1) {
        return -1;
    }

    len = strlen(value);
    n = write(fd, value, len);
    err = errno;

    close(fd);

    if (n != (ssize_t) len) {
        errno = (n == -1) ? err : EIO;
        return -1;
    }

    return 0;
}


static int
shim_cgroup_read(const char *dir, const char *file, char *buf, size_t size)
{
    int      fd;
    char     path[4200];
    ssize_t  n;

    snprintf(path, sizeof(path), "%s/%s", dir, file);

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        return -1;
    }

    n = read(fd, buf, size - 1);

    close(fd);

    if (n < 0) {
        return -1;
    }

    buf[n] = '\0';

    return 0;
}


/*
 * The cgroups of a supervisor that was killed (kill -9 leaves no time to
 * remove them): its instances died with it, so they are empty.
 */
static void
shim_cgroup_reclaim(const char *parent, shim_log_t *log)
{
    DIR            *dir, *sub;
    long            pid;
    char            path[4200], inner[4500], *end;
    struct dirent  *de, *ie;

    dir = opendir(parent);
    if (dir == NULL) {
        return;
    }

    while ((de = readdir(dir)) != NULL) {
        if (strncmp(de->d_name, "faas-", 5) != 0) {
            continue;
        }

        pid = strtol(de->d_name + 5, &end, 10);

        if (*end != '\0' || pid <= 0 || pid == (long) getpid()
            || kill((pid_t) pid, 0) == 0 || errno != ESRCH)
        {
            continue;
        }

        snprintf(path, sizeof(path), "%s/%s", parent, de->d_name);

        sub = opendir(path);

        while (sub != NULL && (ie = readdir(sub)) != NULL) {
            if (ie->d_name[0] == 'i') {
                snprintf(inner, sizeof(inner), "%s/%s", path, ie->d_name);
                (void) rmdir(inner);
            }
        }

        if (sub != NULL) {
            closedir(sub);
        }

        if (rmdir(path) == 0) {
            shim_log_error(log, SHIM_LOG_NOTICE, 0, "cgroup: reclaimed "
                           "\"%s\" of exited supervisor %ld", path, pid);

        } else {
            shim_log_error(log, SHIM_LOG_WARN, errno, "cgroup: cannot "
                           "reclaim \"%s\" of exited supervisor %ld", path,
                           pid);
        }
    }

    closedir(dir);
}
