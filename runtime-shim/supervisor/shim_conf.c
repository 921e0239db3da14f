/*
 * Command line values, see shim_conf.h.
 */

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "shim_conf.h"


int
shim_conf_parse_time(const char *s, uint64_t *msec)
{
    char      *end;
    uint64_t   total, unit;
    unsigned long long  n;

    if (*s == '\0') {
        return -1;
    }

    total = 0;

    while (*s != '\0') {
        if (*s < '0' || *s > '9') {
            return -1;
        }

        errno = 0;
        n = strtoull(s, &end, 10);
        if (errno != 0) {
            return -1;
        }

        s = end;

        if (strncmp(s, "ms", 2) == 0) {
            unit = 1;
            s += 2;

        } else if (*s == 's' || *s == '\0') {
            unit = 1000;
            s += (*s == 's');

        } else if (*s == 'm') {
            unit = 60 * 1000;
            s++;

        } else if (*s == 'h') {
            unit = 60 * 60 * 1000;
            s++;

        } else if (*s == 'd') {
            unit = 24 * 60 * 60 * 1000;
            s++;

        } else {
            return -1;
        }

        /* a year is plenty and keeps every sum far from overflow */
        if (n > 365ULL * 24 * 60 * 60 * 1000 / unit) {
            return -1;
        }

        total += n * unit;

        if (total > 365ULL * 24 * 60 * 60 * 1000) {
            return -1;
        }
    }

    *msec = total;

    return 0;
}


int
shim_conf_parse_mode(const char *s, mode_t *mode)
{
    char  *end;
    long   n;

    if (*s < '0' || *s > '7') {
        return -1;
    }

    errno = 0;
    n = strtol(s, &end, 8);

    if (errno != 0 || *end != '\0' || n < 0 || n > 0777) {
        return -1;
    }

    *mode = (mode_t) n;

    return 0;
}


static int
shim_conf_number(const char *s, unsigned long *n)
{
    char  *end;

    if (*s < '0' || *s > '9') {
        return -1;
    }

    errno = 0;
    *n = strtoul(s, &end, 10);

    return (errno != 0 || *end != '\0' || *n >= 0xffffffffUL) ? -1 : 0;
}


int
shim_conf_user(const char *name, uid_t *uid, gid_t *gid)
{
    unsigned long   n;
    struct passwd  *pw;

    pw = getpwnam(name);

    if (pw == NULL) {
        if (shim_conf_number(name, &n) != 0) {
            return -1;
        }

        pw = getpwuid((uid_t) n);

        *uid = (uid_t) n;
        *gid = pw ? pw->pw_gid : (gid_t) n;
        return 0;
    }

    *uid = pw->pw_uid;
    *gid = pw->pw_gid;

    return 0;
}


int
shim_conf_group(const char *name, gid_t *gid)
{
    unsigned long   n;
    struct group   *gr;

    gr = getgrnam(name);

    if (gr == NULL) {
        if (shim_conf_number(name, &n) != 0) {
            return -1;
        }

        *gid = (gid_t) n;
        return 0;
    }

    *gid = gr->gr_gid;

    return 0;
}
