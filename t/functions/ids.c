/*
 * ids: "uid=R/E/S/F gid=R/E/S/F groups=..." as the kernel reports them in
 * /proc/self/status, then "tmp=ok" when the instance's /tmp takes a file
 * and "code=ok" when its own code directory lists: what a function needs
 * to work under a uid of its own (t/021-users.t).
 */

#define _GNU_SOURCE

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <faas.h>


static int
ids_line(faas_response_t *res, const char *line, const char *key,
    const char *name)
{
    char   *p, buf[256];
    size_t  n;

    n = strlen(key);

    if (strncmp(line, key, n) != 0) {
        return 0;
    }

    /* "Uid:\t0\t0\t0\t0\n" -> "uid=0/0/0/0 " */

    snprintf(buf, sizeof(buf), "%s", line + n);
    buf[strcspn(buf, "\n")] = '\0';

    /* "Groups:\t \n" without groups */

    n = strlen(buf);

    while (n > 0 && (buf[n - 1] == ' ' || buf[n - 1] == '\t')) {
        buf[--n] = '\0';
    }

    for (p = buf; *p; p++) {
        if (*p == '\t') {
            *p = (p == buf) ? ' ' : '/';
        }
    }

    return faas_response_printf(res, "%s=%s ", name,
                                buf[0] == ' ' ? buf + 1 : buf) < 0 ? -1 : 0;
}


int
handle(faas_request_t *req, faas_response_t *res)
{
    int      rc;
    DIR     *dir;
    FILE    *f;
    char     line[512], code[4096];
    Dl_info  info;

    (void) req;

    if (faas_response_header(res, "Content-Type", "text/plain") != 0) {
        return -1;
    }

    f = fopen("/proc/self/status", "re");
    if (f == NULL) {
        return faas_response_printf(res, "status: %s\n", strerror(errno));
    }

    rc = 0;

    while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
        rc = ids_line(res, line, "Uid:", "uid");
        if (rc == 0) {
            rc = ids_line(res, line, "Gid:", "gid");
        }

        if (rc == 0) {
            rc = ids_line(res, line, "Groups:", "groups");
        }
    }

    fclose(f);

    if (rc != 0) {
        return -1;
    }

    f = fopen("/tmp/ids", "we");
    rc = (f != NULL && fputs("x", f) >= 0);
    if (f != NULL && fclose(f) != 0) {
        rc = 0;
    }

    if (faas_response_printf(res, "tmp=%s ", rc ? "ok" : strerror(errno))
        < 0)
    {
        return -1;
    }

    /* the directory function.so was loaded from: /code in a sandbox */

    if (dladdr((void *) handle, &info) == 0 || info.dli_fname == NULL) {
        return faas_response_printf(res, "code=unknown\n");
    }

    snprintf(code, sizeof(code), "%s", info.dli_fname);

    dir = opendir(dirname(code));
    rc = (dir != NULL);
    if (dir != NULL) {
        closedir(dir);
    }

    return faas_response_printf(res, "code=%s\n",
                                rc ? "ok" : strerror(errno));
}
