/*
 * escape: each handler tries one thing the sandbox forbids and answers
 * with what happened ("open /etc/shadow: ENOENT"), for t/020-sandbox.t.
 * The handlers killed by seccomp never answer: the test sees the 502.
 */

#define _GNU_SOURCE

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <faas.h>


static const char *
escape_errno(int err)
{
    const char  *name;

    name = strerrorname_np(err);

    return name ? name : "?";
}


static int
escape_reply(faas_response_t *res, const char *fmt, const char *what,
    int rc, int err)
{
    if (faas_response_header(res, "Content-Type", "text/plain") != 0) {
        return -1;
    }

    return faas_response_printf(res, fmt, what,
                                rc == -1 ? escape_errno(err) : "ok");
}


/* "own: ok other: ENOENT": the code of another function is not there */
int
read_code(faas_request_t *req, faas_response_t *res)
{
    int          own, other, err;
    char         path[4200];
    const char  *dir;

    (void) req;

    own = open("function.so", O_RDONLY | O_CLOEXEC);

    dir = getenv("OTHER_CODE");
    snprintf(path, sizeof(path), "%s/function.so", dir ? dir : "/none");

    other = open(path, O_RDONLY | O_CLOEXEC);
    err = errno;

    if (faas_response_header(res, "Content-Type", "text/plain") != 0) {
        return -1;
    }

    if (faas_response_printf(res, "own: %s other: %s\n",
                             own == -1 ? "failed" : "ok",
                             other == -1 ? escape_errno(err) : "ok")
        != 0)
    {
        return -1;
    }

    if (own != -1) {
        close(own);
    }

    if (other != -1) {
        close(other);
    }

    return 0;
}


int
shadow(faas_request_t *req, faas_response_t *res)
{
    int  fd;

    (void) req;

    fd = open("/etc/shadow", O_RDONLY | O_CLOEXEC);

    return escape_reply(res, "%s: %s\n", "open /etc/shadow", fd, errno);
}


/* "/: EROFS code: EROFS /tmp: ok, noexec" */
int
write_files(faas_request_t *req, faas_response_t *res)
{
    int             i, fd, err[3];
    const char     *paths[3] = { "/escape", "escape", "/tmp/escape" };
    struct statvfs  st;

    (void) req;

    for (i = 0; i < 3; i++) {
        fd = open(paths[i], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        err[i] = (fd == -1) ? errno : 0;

        if (fd != -1) {
            close(fd);
            unlink(paths[i]);
        }
    }

    if (faas_response_header(res, "Content-Type", "text/plain") != 0) {
        return -1;
    }

    if (statvfs("/tmp", &st) == -1) {
        st.f_flag = 0;
    }

    return faas_response_printf(res, "/: %s code: %s /tmp: %s, %s\n",
                                err[0] ? escape_errno(err[0]) : "ok",
                                err[1] ? escape_errno(err[1]) : "ok",
                                err[2] ? escape_errno(err[2]) : "ok",
                                (st.f_flag & ST_NOEXEC) ? "noexec" : "exec");
}


/* connects to nginx's own port, given as ?port=N */
int
net(faas_request_t *req, faas_response_t *res)
{
    int                 fd, rc, err;
    const char         *q, *p;
    struct sockaddr_in  sin;

    q = faas_request_query(req);
    p = q ? strstr(q, "port=") : NULL;

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(p ? (uint16_t) atoi(p + 5) : 1);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        return escape_reply(res, "%s: %s\n", "socket", -1, errno);
    }

    rc = connect(fd, (struct sockaddr *) &sin, sizeof(sin));
    err = errno;

    close(fd);

    return escape_reply(res, "%s: %s\n", "connect 127.0.0.1", rc, err);
}


/* the calls below are killed by the seccomp filter: no answer */

int
trace(faas_request_t *req, faas_response_t *res)
{
    long  rc;

    (void) req;

    /* pid 1 is ourselves here: the supervisor is not even visible */
    rc = ptrace(PTRACE_ATTACH, 1, NULL, NULL);

    return escape_reply(res, "%s: %s\n", "ptrace", (int) rc, errno);
}


int
do_mount(faas_request_t *req, faas_response_t *res)
{
    int  rc;

    (void) req;

    rc = mount("none", "/tmp", "tmpfs", 0, NULL);

    return escape_reply(res, "%s: %s\n", "mount", rc, errno);
}


int
do_unshare(faas_request_t *req, faas_response_t *res)
{
    int  rc;

    (void) req;

    rc = unshare(CLONE_NEWUSER);

    return escape_reply(res, "%s: %s\n", "unshare", rc, errno);
}


int
load_module(faas_request_t *req, faas_response_t *res)
{
    long  rc;

    (void) req;

    rc = syscall(SYS_init_module, "", 0UL, "");

    return escape_reply(res, "%s: %s\n", "init_module", (int) rc, errno);
}


/* "forked N: EAGAIN": up to 100 children, then all are killed */
int
fork_bomb(faas_request_t *req, faas_response_t *res)
{
    int    n, err;
    pid_t  pid;

    (void) req;

    err = 0;

    for (n = 0; n < 100; n++) {
        pid = fork();

        if (pid == 0) {
            pause();
            _exit(0);
        }

        if (pid == -1) {
            err = errno;
            break;
        }
    }

    /* as pid 1 of the namespace, -1 is every child and nothing else */
    kill(-1, SIGKILL);

    while (wait(NULL) > 0 || errno == EINTR) {
        /* reaped */
    }

    if (faas_response_header(res, "Content-Type", "text/plain") != 0) {
        return -1;
    }

    return faas_response_printf(res, "forked %d: %s\n", n,
                                err ? escape_errno(err) : "ok");
}


/* ?mb=N: touches N MB */
int
alloc(faas_request_t *req, faas_response_t *res)
{
    int          mb;
    char        *p;
    const char  *q, *v;

    q = faas_request_query(req);
    v = q ? strstr(q, "mb=") : NULL;
    mb = v ? atoi(v + 3) : 1;

    p = mmap(NULL, (size_t) mb << 20, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        return escape_reply(res, "%s: %s\n", "mmap", -1, errno);
    }

    memset(p, 1, (size_t) mb << 20);
    munmap(p, (size_t) mb << 20);

    if (faas_response_header(res, "Content-Type", "text/plain") != 0) {
        return -1;
    }

    return faas_response_printf(res, "allocated %d MB\n", mb);
}


/* "wrote N MB: ENOSPC", at most 32 MB */
int
fill_tmp(faas_request_t *req, faas_response_t *res)
{
    int      fd, mb, err;
    char     buf[65536];
    size_t   i;
    ssize_t  n;

    (void) req;

    memset(buf, 'x', sizeof(buf));
    err = 0;
    mb = 0;

    fd = open("/tmp/fill", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd == -1) {
        return escape_reply(res, "%s: %s\n", "open /tmp/fill", -1, errno);
    }

    for (mb = 0; mb < 32 && err == 0; mb++) {
        for (i = 0; i < 16; i++) {
            n = write(fd, buf, sizeof(buf));

            if (n != (ssize_t) sizeof(buf)) {
                err = (n == -1) ? errno : ENOSPC;
                break;
            }
        }
    }

    if (err != 0) {
        mb--;
    }

    close(fd);
    unlink("/tmp/fill");

    if (faas_response_header(res, "Content-Type", "text/plain") != 0) {
        return -1;
    }

    return faas_response_printf(res, "wrote %d MB: %s\n", mb,
                                err ? escape_errno(err) : "ok");
}


int
kill_all(faas_request_t *req, faas_response_t *res)
{
    int  rc;

    (void) req;

    rc = kill(-1, SIGKILL);

    return escape_reply(res, "%s: %s\n", "kill(-1, SIGKILL)", rc, errno);
}


/* "pid 1 sees: 1": every process in /proc */
int
proc(faas_request_t *req, faas_response_t *res)
{
    DIR            *dir;
    struct dirent  *de;

    (void) req;

    if (faas_response_header(res, "Content-Type", "text/plain") != 0) {
        return -1;
    }

    dir = opendir("/proc");
    if (dir == NULL) {
        return escape_reply(res, "%s: %s\n", "opendir /proc", -1, errno);
    }

    if (faas_response_printf(res, "pid %d sees:", (int) getpid()) != 0) {
        closedir(dir);
        return -1;
    }

    while ((de = readdir(dir)) != NULL) {
        if (de->d_name[0] >= '1' && de->d_name[0] <= '9'
            && faas_response_printf(res, " %s", de->d_name) != 0)
        {
            closedir(dir);
            return -1;
        }
    }

    closedir(dir);

    return faas_response_printf(res, "\n");
}
