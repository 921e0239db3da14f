/*
 * Code slots, see shim_slot.h.
 */

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shim.h"


#define SHIM_SLOT_PARENT  "/run"
#define SHIM_SLOT_PREFIX  "faas-slots."


static int shim_slot_hidden(const char *path);
static void shim_slot_reclaim(shim_log_t *log);


int
shim_slot_init(shim_slot_t *sl, shim_log_t *log)
{
    char  path[64];

    sl->root = NULL;

    shim_slot_reclaim(log);

    snprintf(path, sizeof(path), SHIM_SLOT_PARENT "/" SHIM_SLOT_PREFIX "%d",
             (int) getpid());

    if (mkdir(path, 0711) == -1 && errno != EEXIST) {
        shim_log_error(log, SHIM_LOG_ERROR, errno, "slots: mkdir \"%s\"",
                       path);
        return -1;
    }

    /* instances traverse it to their own slot, and list nothing */

    if (mount("faas-slots", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
              "size=64k,nr_inodes=65536,mode=0711")
        == -1)
    {
        shim_log_error(log, SHIM_LOG_ERROR, errno, "slots: mounting \"%s\"",
                       path);
        (void) rmdir(path);
        return -1;
    }

    /* shared: what is mounted on a slot reaches the sandbox's copy */

    if (mount(NULL, path, NULL, MS_SHARED, NULL) == -1) {
        shim_log_error(log, SHIM_LOG_ERROR, errno, "slots: making \"%s\" "
                       "shared", path);
        (void) umount2(path, MNT_DETACH);
        (void) rmdir(path);
        return -1;
    }

    sl->root = strdup(path);
    if (sl->root == NULL) {
        (void) umount2(path, MNT_DETACH);
        (void) rmdir(path);
        return -1;
    }

    return 0;
}


void
shim_slot_cleanup(shim_slot_t *sl, shim_log_t *log)
{
    if (sl->root == NULL) {
        return;
    }

    if (umount2(sl->root, MNT_DETACH) == -1 || rmdir(sl->root) == -1) {
        shim_log_error(log, SHIM_LOG_WARN, errno, "slots: removing \"%s\"",
                       sl->root);
    }

    free(sl->root);
    sl->root = NULL;
}


int
shim_slot_create(shim_slot_t *sl, uint64_t id, char *buf, size_t size)
{
    int  n;

    n = snprintf(buf, size, "%s/%" PRIu64, sl->root, id);

    if (n < 0 || (size_t) n >= size) {
        errno = ENAMETOOLONG;
        return -1;
    }

    if (mkdir(buf, 0755) == -1 && errno != EEXIST) {
        return -1;
    }

    return 0;
}


int
shim_slot_attach(shim_slot_t *sl, uint64_t id, const char *code,
    const char **what)
{
    char  path[4200];

    /* the host's /dev, /proc and /sys are no code to hand to a function */

    if (shim_slot_hidden(code)) {
        *what = "code dir below /dev, /proc or /sys";
        errno = EINVAL;
        return -1;
    }

    snprintf(path, sizeof(path), "%s/%" PRIu64, sl->root, id);

    *what = "attaching the code";

    if (mount(code, path, NULL, MS_BIND | MS_REC, NULL) == -1) {
        return -1;
    }

    /* a bind mount takes its flags only from a remount */

    if (mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID
              | MS_NODEV, NULL)
        == -1)
    {
        (void) umount2(path, MNT_DETACH);
        return -1;
    }

    return 0;
}


static int
shim_slot_hidden(const char *path)
{
    size_t        i, len;
    const char   *dirs[] = { "/dev", "/proc", "/sys" };

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


void
shim_slot_remove(shim_slot_t *sl, uint64_t id, shim_log_t *log)
{
    char  path[4200];

    if (sl->root == NULL) {
        return;
    }

    snprintf(path, sizeof(path), "%s/%" PRIu64, sl->root, id);

    /* EINVAL: no code was attached */

    if (umount2(path, MNT_DETACH) == -1 && errno != EINVAL
        && errno != ENOENT)
    {
        shim_log_error(log, SHIM_LOG_WARN, errno, "slots: unmounting \"%s\"",
                       path);
    }

    if (rmdir(path) == -1 && errno != ENOENT) {
        shim_log_error(log, SHIM_LOG_WARN, errno, "slots: removing \"%s\"",
                       path);
    }
}


/* the slots of supervisors that were killed before they could clean up */
static void
shim_slot_reclaim(shim_log_t *log)
{
    DIR            *dir;
    long            pid;
    char            path[300], *end;
    struct dirent  *de;

    dir = opendir(SHIM_SLOT_PARENT);
    if (dir == NULL) {
        return;
    }

    while ((de = readdir(dir)) != NULL) {
        if (strncmp(de->d_name, SHIM_SLOT_PREFIX,
                    sizeof(SHIM_SLOT_PREFIX) - 1) != 0)
        {
            continue;
        }

        pid = strtol(de->d_name + sizeof(SHIM_SLOT_PREFIX) - 1, &end, 10);

        if (*end != '\0' || pid <= 0 || pid == (long) getpid()
            || kill((pid_t) pid, 0) == 0 || errno != ESRCH)
        {
            continue;
        }

        snprintf(path, sizeof(path), SHIM_SLOT_PARENT "/%s", de->d_name);

        (void) umount2(path, MNT_DETACH);

        if (rmdir(path) == 0) {
            shim_log_error(log, SHIM_LOG_NOTICE, 0, "slots: reclaimed \"%s\" "
                           "of exited supervisor %ld", path, pid);
        }
    }

    closedir(dir);
}
