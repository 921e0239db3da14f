/*
 * The instance sandbox: namespaces, a minimal root, capabilities.
 *
 * shim_process.c runs the steps in this order, each failing with the name
 * of the step and errno on the instance's channel:
 *
 *   clone() into new pid, mount, ipc, uts (and net) namespaces
 *   join the cgroups                  first: everything after is charged
 *   build the root, pivot_root()      needs CAP_SYS_ADMIN, so before the
 *                                     uid drop
 *   rlimits
 *   empty the bounding set            needs CAP_SETPCAP, so still as root
 *   setgroups, setgid, setuid
 *   capset() to nothing               no effective caps remain anyway,
 *                                     this makes it explicit
 *   PR_SET_PDEATHSIG                  setuid() clears it
 *   no_new_privs                      required to load seccomp unprivileged
 *   seccomp                           last, so that the filter need not
 *                                     allow any of the calls above
 *   execve()
 *
 * Nothing here may allocate after clone() beyond the stack: the child only
 * makes system calls and formats into local buffers.
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/capability.h>

#include "shim.h"


/* where the host's root stays visible while the new root is built */
#define SHIM_SANDBOX_OLD  "/.old"


static int shim_sandbox_mkdirs(char *path, mode_t mode);
static int shim_sandbox_bind(const char *path, int dir, int rdonly,
    const char **step);
static int shim_sandbox_link(const char *path);
static int shim_sandbox_program(const char *program, const char **step);
static int shim_sandbox_hidden(const char *path);


int
shim_sandbox_clone_flags(const shim_sandbox_t *sb)
{
    int  flags;

    flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS;

    if (!sb->network) {
        flags |= CLONE_NEWNET;
    }

    return flags;
}


int
shim_sandbox_root(const shim_sandbox_t *sb, const char **step,
    const char **arg)
{
    char                path[PATH_MAX + sizeof(SHIM_SANDBOX_OLD)], opts[64];
    size_t              i;
    const char         *libs[] = { "/lib", "/lib64", "/lib32" };
    const char *const  *prog;

    /* the instance's own /dev and /proc would hide them */

    *step = "runtime below /dev or /proc";

    for (prog = sb->programs; *prog != NULL; prog++) {
        if (shim_sandbox_hidden(*prog)) {
            *arg = *prog;
            errno = EINVAL;
            return -1;
        }
    }

    *arg = NULL;

    /*
     * Nothing mounted here may propagate back to the host.  Slaves, not
     * private: the code slot must still receive the supervisor's mount;
     * every other mount is made private as it is bound.
     */

    *step = "making mounts slaves";
    if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) == -1) {
        return -1;
    }

    /*
     * The new root is a tmpfs mounted on /tmp and pivoted into at once:
     * the host's root then stays reachable under /.old, /tmp included,
     * since the tmpfs left its mount point, until it is detached below.
     */

    *step = "mounting the root tmpfs";
    if (mount("faas", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV,
              "size=64k,nr_inodes=256,mode=0755")
        == -1)
    {
        return -1;
    }

    *step = "creating " SHIM_SANDBOX_OLD;
    if (mkdir("/tmp" SHIM_SANDBOX_OLD, 0700) == -1) {
        return -1;
    }

    *step = "pivot_root";
    if (syscall(SYS_pivot_root, "/tmp", "/tmp" SHIM_SANDBOX_OLD) == -1
        || chdir("/") == -1)
    {
        return -1;
    }

    /* shared libraries: /usr, and /lib* as symlinks or directories */

    *arg = "/usr";

    if (shim_sandbox_bind("/usr", 1, 1, step) != 0) {
        *step = "mounting";
        return -1;
    }

    *step = "mounting";

    for (i = 0; i < sizeof(libs) / sizeof(libs[0]); i++) {
        *arg = libs[i];

        if (shim_sandbox_link(libs[i]) != 0) {
            return -1;
        }
    }

    *arg = NULL;

    /*
     * The private /tmp comes before the runtimes, so that they may live
     * below the host's /tmp: their bind mounts then sit on top of it,
     * read-only and with their own flags.
     */

    *step = "mounting /tmp";
    snprintf(opts, sizeof(opts), "size=%llu,mode=1777",
             (unsigned long long) sb->tmp_size);

    /* noexec: what a function writes it cannot run or map executable */

    if (mkdir("/tmp", 0755) == -1
        || mount("tmp", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                 opts)
           == -1)
    {
        return -1;
    }

    /* the code: the slot, empty until the supervisor attaches the code */

    *arg = sb->slot;
    snprintf(path, sizeof(path), SHIM_SANDBOX_OLD "%s", sb->slot);

    *step = "mounting the code slot";
    if (mkdir(SHIM_SLOT_CODE, 0755) == -1
        || mount(path, SHIM_SLOT_CODE, NULL, MS_BIND | MS_REC, NULL) == -1
        || mount(NULL, SHIM_SLOT_CODE, NULL, MS_BIND | MS_REMOUNT
                 | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL)
           == -1)
    {
        return -1;
    }

    /*
     * The runtimes at their own paths, each with its own files in
     * PROGRAM.d beside it (the Node.js addon), not the whole directory.
     */

    for (prog = sb->programs; *prog != NULL; prog++) {
        *arg = *prog;

        if (shim_sandbox_program(*prog, step) != 0) {
            return -1;
        }

        snprintf(path, sizeof(path), SHIM_SANDBOX_OLD "%s.d", *prog);

        if (access(path, F_OK) == 0) {
            snprintf(path, sizeof(path), "%s.d", *prog);
            *arg = path;

            *step = "creating runtime dir";
            if (shim_sandbox_mkdirs(path, 0755) != 0) {
                return -1;
            }

            if (shim_sandbox_bind(path, 1, 1, step) != 0) {
                *step = "mounting runtime files";
                return -1;
            }
        }
    }

    *arg = NULL;

    /* the devices a program expects, bound from the host's */

    *step = "creating /dev";
    if (mkdir("/dev", 0755) == -1) {
        return -1;
    }

    if (shim_sandbox_bind("/dev/null", 0, 0, step) != 0
        || shim_sandbox_bind("/dev/zero", 0, 0, step) != 0
        || shim_sandbox_bind("/dev/urandom", 0, 0, step) != 0)
    {
        *arg = "/dev";
        return -1;
    }

    /* we are pid 1 of the new pid namespace: this /proc shows only it */

    *step = "mounting /proc";
    if (mkdir("/proc", 0555) == -1
        || mount("proc", "/proc", "proc",
                 MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL)
           == -1)
    {
        return -1;
    }

    *step = "detaching the host root";
    if (umount2(SHIM_SANDBOX_OLD, MNT_DETACH) == -1
        || rmdir(SHIM_SANDBOX_OLD) == -1)
    {
        return -1;
    }

    /* write only /tmp: the root itself becomes read-only */

    *step = "remounting the root read-only";
    if (mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV,
              NULL)
        == -1)
    {
        return -1;
    }

    *step = "setting the host name";
    if (sethostname("faas", 4) == -1) {
        return -1;
    }

    return 0;
}


int
shim_sandbox_drop_bounding(const char **step)
{
    int  cap;

    *step = "dropping the bounding set";

    for (cap = 0; cap <= 63; cap++) {
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == -1) {
            /* past the last capability this kernel knows */
            if (errno == EINVAL) {
                break;
            }

            return -1;
        }
    }

    *step = "clearing the ambient set";

    return prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1
           ? -1 : 0;
}


int
shim_sandbox_drop_caps(const char **step)
{
    struct __user_cap_header_struct  hdr;
    struct __user_cap_data_struct    data[2];

    *step = "capset";

    memset(&hdr, 0, sizeof(hdr));
    memset(data, 0, sizeof(data));

    hdr.version = _LINUX_CAPABILITY_VERSION_3;
    hdr.pid = 0;

    return syscall(SYS_capset, &hdr, data) == -1 ? -1 : 0;
}


int
shim_sandbox_available(void)
{
    int    status;
    pid_t  pid;

    if (geteuid() != 0) {
        return 0;
    }

    /* a container may forbid them even to root: try once */

    pid = (pid_t) syscall(SYS_clone, SIGCHLD | CLONE_NEWPID | CLONE_NEWNS
                          | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET,
                          NULL, NULL, NULL, NULL);

    if (pid == 0) {
        _exit(0);
    }

    if (pid == -1) {
        return 0;
    }

    while (waitpid(pid, &status, 0) == -1) {
        if (errno != EINTR) {
            return 0;
        }
    }

    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}


/* a program file at its own path, and the directories down to it */
static int
shim_sandbox_program(const char *program, const char **step)
{
    char   path[PATH_MAX];
    char  *slash;

    if (access(program, F_OK) == 0) {
        return 0;
    }

    snprintf(path, sizeof(path), "%s", program);
    slash = strrchr(path, '/');

    if (slash != NULL && slash != path) {
        *slash = '\0';

        *step = "creating runtime dir";
        if (shim_sandbox_mkdirs(path, 0755) != 0) {
            return -1;
        }
    }

    if (shim_sandbox_bind(program, 0, 1, step) != 0) {
        *step = "mounting runtime";
        return -1;
    }

    return 0;
}


/* the new root's copy of PATH ("/usr"), bound from the host's /.old/usr */
static int
shim_sandbox_bind(const char *path, int dir, int rdonly, const char **step)
{
    int            fd;
    char           src[PATH_MAX + sizeof(SHIM_SANDBOX_OLD)];
    unsigned long  flags;

    snprintf(src, sizeof(src), SHIM_SANDBOX_OLD "%s", path);

    *step = "creating a mount point";

    if (dir) {
        if (mkdir(path, 0755) == -1 && errno != EEXIST) {
            return -1;
        }

    } else {
        fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        if (fd == -1) {
            return -1;
        }

        close(fd);
    }

    *step = "bind mount";

    if (mount(src, path, NULL, MS_BIND | MS_REC, NULL) == -1) {
        return -1;
    }

    /* a slave of the host's would receive what the host mounts below */

    *step = "making a mount private";

    if (mount(NULL, path, NULL, MS_REC | MS_PRIVATE, NULL) == -1) {
        return -1;
    }

    /* a bind mount takes its flags only from a remount */

    flags = MS_BIND | MS_REMOUNT | MS_NOSUID | (dir ? MS_NODEV : 0)
            | (rdonly ? MS_RDONLY : 0);

    *step = "read-only remount";

    return mount(NULL, path, NULL, flags, NULL) == -1 ? -1 : 0;
}


/* /lib and friends: a symlink is copied, a directory bound read-only */
static int
shim_sandbox_link(const char *path)
{
    char         src[PATH_MAX], target[PATH_MAX];
    ssize_t      n;
    const char  *step;
    struct stat  st;

    snprintf(src, sizeof(src), SHIM_SANDBOX_OLD "%s", path);

    if (lstat(src, &st) == -1) {
        return errno == ENOENT ? 0 : -1;
    }

    if (S_ISDIR(st.st_mode)) {
        return shim_sandbox_bind(path, 1, 1, &step);
    }

    if (!S_ISLNK(st.st_mode)) {
        return 0;
    }

    n = readlink(src, target, sizeof(target) - 1);
    if (n == -1) {
        return -1;
    }

    target[n] = '\0';

    return symlink(target, path);
}


static int
shim_sandbox_hidden(const char *path)
{
    size_t        i, len;
    const char   *dirs[] = { "/dev", "/proc" };

    for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        len = strlen(dirs[i]);

        if (strncmp(path, dirs[i], len) == 0
            && (path[len] == '/' || path[len] == '\0'))
        {
            return 1;
        }
    }

    return 0;
}


/* mkdir -p in the new root; PATH is modified and restored */
static int
shim_sandbox_mkdirs(char *path, mode_t mode)
{
    char  *p;

    for (p = path + 1; *p != '\0'; p++) {
        if (*p != '/') {
            continue;
        }

        *p = '\0';

        if (mkdir(path, mode) == -1 && errno != EEXIST) {
            *p = '/';
            return -1;
        }

        *p = '/';
    }

    if (mkdir(path, mode) == -1 && errno != EEXIST) {
        return -1;
    }

    return 0;
}
