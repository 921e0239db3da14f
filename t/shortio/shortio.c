/*
 * A short-I/O LD_PRELOAD shim for the reliability suite: on SOCK_STREAM
 * sockets, read, recv, recvmsg, readv, write, send, sendmsg and writev
 * move at most one byte at random, and on non-blocking sockets fail with
 * EAGAIN at random (never twice in a row on one fd, so that a caller that
 * retries always progresses).  Every resume path of a reader or a writer
 * is taken that way, as with openresty's mockeagain.
 *
 * A short transfer or a fake EAGAIN would hang an edge-triggered loop
 * such as nginx's (epoll is the only event method Debian's nginx has, and
 * it stops reading after a short read): no new edge comes for the bytes
 * already queued.  So the shim remembers what each fd was registered with
 * by epoll_ctl() and, after faking, re-arms it with EPOLL_CTL_MOD, which
 * queues an event if the fd is still ready, as a level-triggered poll
 * would.  The supervisor's epoll is level-triggered and the C runtime
 * polls; for them the re-arm changes nothing.
 * Datagram and seqpacket sockets (the instance channel, whose packets
 * carry SCM_RIGHTS) and messages with ancillary data are left alone, and
 * so are the ends of a socketpair() made in the process itself: that is
 * its own plumbing (asyncio's self-pipe, nginx's channel to its master),
 * where a fake EAGAIN loses a wake-up that a real one, on a full socket,
 * cannot lose.
 *
 * Environment:
 *   FAAS_SHORTIO_PROGS  ':'-separated program names the shim acts in
 *                       (default nginx:faas-supervisor:faas-runtime-c);
 *                       in any other process (perl, prove) it does nothing
 *   FAAS_SHORTIO_SEED   random seed (default: the pid)
 *   FAAS_SHORTIO_EAGAIN 0 to never fake EAGAIN (default 1)
 *
 * The supervisor starts instances with an environment of their own: the
 * shim's execve() adds LD_PRELOAD and FAAS_SHORTIO_* to it, so that the
 * runtimes run under the shim too.
 */

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>


#define SHORTIO_FDS  65536


typedef ssize_t (*shortio_read_pt)(int, void *, size_t);
typedef ssize_t (*shortio_write_pt)(int, const void *, size_t);
typedef ssize_t (*shortio_recv_pt)(int, void *, size_t, int);
typedef ssize_t (*shortio_send_pt)(int, const void *, size_t, int);
typedef ssize_t (*shortio_recvmsg_pt)(int, struct msghdr *, int);
typedef ssize_t (*shortio_sendmsg_pt)(int, const struct msghdr *, int);
typedef ssize_t (*shortio_readv_pt)(int, const struct iovec *, int);
typedef ssize_t (*shortio_writev_pt)(int, const struct iovec *, int);
typedef int (*shortio_execve_pt)(const char *, char *const [],
    char *const []);
typedef int (*shortio_epoll_ctl_pt)(int, int, int, struct epoll_event *);
typedef int (*shortio_close_pt)(int);
typedef int (*shortio_socketpair_pt)(int, int, int, int [2]);


typedef struct {
    int                     epfd;         /* 0: not registered */
    struct epoll_event      event;
} shortio_epoll_t;


static int                  shortio_active;
static int                  shortio_eagain = 1;
static uint64_t             shortio_state;
static unsigned char        shortio_faked[SHORTIO_FDS];
static unsigned char        shortio_paired[SHORTIO_FDS];
static shortio_epoll_t      shortio_epoll[SHORTIO_FDS];

/* what execve() passes on: LD_PRELOAD=..., FAAS_SHORTIO_*=... */
static char                *shortio_env[4];

static shortio_read_pt      shortio_read;
static shortio_write_pt     shortio_write;
static shortio_recv_pt      shortio_recv;
static shortio_send_pt      shortio_send;
static shortio_recvmsg_pt   shortio_recvmsg;
static shortio_sendmsg_pt   shortio_sendmsg;
static shortio_readv_pt     shortio_readv;
static shortio_writev_pt    shortio_writev;
static shortio_execve_pt    shortio_execve;
static shortio_epoll_ctl_pt shortio_epoll_ctl;
static shortio_close_pt     shortio_close;
static shortio_socketpair_pt  shortio_socketpair;


static int
shortio_wanted(const char *progs)
{
    size_t       len;
    const char  *p, *end, *me;

    me = program_invocation_short_name;
    len = strlen(me);

    for (p = progs; *p != '\0'; p = end + (*end == ':')) {
        end = strchrnul(p, ':');

        if ((size_t) (end - p) == len && strncmp(p, me, len) == 0) {
            return 1;
        }
    }

    return 0;
}


__attribute__((constructor))
static void
shortio_init(void)
{
    char    *v;
    size_t   n;

    shortio_read = (shortio_read_pt) dlsym(RTLD_NEXT, "read");
    shortio_write = (shortio_write_pt) dlsym(RTLD_NEXT, "write");
    shortio_recv = (shortio_recv_pt) dlsym(RTLD_NEXT, "recv");
    shortio_send = (shortio_send_pt) dlsym(RTLD_NEXT, "send");
    shortio_recvmsg = (shortio_recvmsg_pt) dlsym(RTLD_NEXT, "recvmsg");
    shortio_sendmsg = (shortio_sendmsg_pt) dlsym(RTLD_NEXT, "sendmsg");
    shortio_readv = (shortio_readv_pt) dlsym(RTLD_NEXT, "readv");
    shortio_writev = (shortio_writev_pt) dlsym(RTLD_NEXT, "writev");
    shortio_execve = (shortio_execve_pt) dlsym(RTLD_NEXT, "execve");
    shortio_epoll_ctl = (shortio_epoll_ctl_pt) dlsym(RTLD_NEXT,
                                                     "epoll_ctl");
    shortio_close = (shortio_close_pt) dlsym(RTLD_NEXT, "close");
    shortio_socketpair = (shortio_socketpair_pt) dlsym(RTLD_NEXT,
                                                       "socketpair");

    n = 0;

    if ((v = getenv("LD_PRELOAD")) != NULL) {
        shortio_env[n++] = v - sizeof("LD_PRELOAD");
    }

    if ((v = getenv("FAAS_SHORTIO_PROGS")) != NULL) {
        shortio_env[n++] = v - sizeof("FAAS_SHORTIO_PROGS");
    }

    if ((v = getenv("FAAS_SHORTIO_EAGAIN")) != NULL) {
        shortio_env[n++] = v - sizeof("FAAS_SHORTIO_EAGAIN");
        shortio_eagain = atoi(v) != 0;
    }

    v = getenv("FAAS_SHORTIO_PROGS");
    shortio_active = shortio_wanted(v ? v
                                      : "nginx:faas-supervisor:"
                                        "faas-runtime-c");

    v = getenv("FAAS_SHORTIO_SEED");
    shortio_state = v ? strtoull(v, NULL, 10) : (uint64_t) getpid();
    shortio_state = shortio_state * 2654435761u + 1;
}


static unsigned
shortio_random(void)
{
    /* xorshift64: a fork gets the same sequence, which does not matter */
    shortio_state ^= shortio_state << 13;
    shortio_state ^= shortio_state >> 7;
    shortio_state ^= shortio_state << 17;

    return (unsigned) (shortio_state >> 32);
}


static int
shortio_stream(int fd)
{
    int        type, saved;
    socklen_t  len;

    if (!shortio_active || fd < 0 || fd >= SHORTIO_FDS
        || shortio_paired[fd])
    {
        return 0;
    }

    saved = errno;
    len = sizeof(int);

    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0) {
        errno = saved;
        return 0;
    }

    errno = saved;

    return type == SOCK_STREAM;
}


/* after a fake: a new edge for what is still queued on fd */
static ssize_t
shortio_rearm(int fd, ssize_t rc)
{
    int                  saved;
    struct epoll_event   ev;

    if (fd < 0 || fd >= SHORTIO_FDS || shortio_epoll[fd].epfd == 0) {
        return rc;
    }

    saved = errno;
    ev = shortio_epoll[fd].event;
    (void) shortio_epoll_ctl(shortio_epoll[fd].epfd, EPOLL_CTL_MOD, fd, &ev);
    errno = saved;

    return rc;
}


/*
 * Returns -1 (errno EAGAIN) to fake a would-block, else the number of
 * bytes to move: 1 or all of them.  A send with MSG_DONTWAIT gets no fake
 * EAGAIN: the supervisor's frame writes use it, and by design treat a
 * write that would block as a stuck peer (shim_frame_send()).
 */
static ssize_t
shortio_decide(int fd, size_t size, int may_block)
{
    int       fl;
    unsigned  r;

    if (size == 0 || !shortio_stream(fd)) {
        return (ssize_t) size;
    }

    r = shortio_random();

    if (shortio_eagain && may_block && (r & 3) == 0 && !shortio_faked[fd]) {
        fl = fcntl(fd, F_GETFL);

        if (fl != -1 && (fl & O_NONBLOCK)) {
            shortio_faked[fd] = 1;
            errno = EAGAIN;
            return shortio_rearm(fd, -1);
        }
    }

    shortio_faked[fd] = 0;

    return (r & 4) ? 1 : (ssize_t) size;
}


static size_t
shortio_iov_size(const struct iovec *iov, int iovcnt)
{
    int     i;
    size_t  size;

    size = 0;

    for (i = 0; i < iovcnt; i++) {
        size += iov[i].iov_len;
    }

    return size;
}


/* the first non-empty iovec, cut to one byte */
static int
shortio_iov_one(const struct iovec *iov, int iovcnt, struct iovec *one)
{
    int  i;

    for (i = 0; i < iovcnt; i++) {
        if (iov[i].iov_len > 0) {
            one->iov_base = iov[i].iov_base;
            one->iov_len = 1;
            return 1;
        }
    }

    return 0;
}


ssize_t
read(int fd, void *buf, size_t count)
{
    ssize_t  n;

    n = shortio_decide(fd, count, 1);
    if (n == -1) {
        return -1;
    }

    if (n == 1) {
        return shortio_rearm(fd, shortio_read(fd, buf, (size_t) n));
    }

    return shortio_read(fd, buf, count);
}


ssize_t
write(int fd, const void *buf, size_t count)
{
    ssize_t  n;

    n = shortio_decide(fd, count, 1);
    if (n == -1) {
        return -1;
    }

    if (n == 1) {
        return shortio_rearm(fd, shortio_write(fd, buf, (size_t) n));
    }

    return shortio_write(fd, buf, count);
}


ssize_t
recv(int fd, void *buf, size_t len, int flags)
{
    ssize_t  n;

    n = shortio_decide(fd, len, !(flags & MSG_DONTWAIT));
    if (n == -1) {
        return -1;
    }

    if (n == 1) {
        return shortio_rearm(fd, shortio_recv(fd, buf, (size_t) n, flags));
    }

    return shortio_recv(fd, buf, len, flags);
}


ssize_t
send(int fd, const void *buf, size_t len, int flags)
{
    ssize_t  n;

    n = shortio_decide(fd, len, !(flags & MSG_DONTWAIT));
    if (n == -1) {
        return -1;
    }

    if (n == 1) {
        return shortio_rearm(fd, shortio_send(fd, buf, (size_t) n, flags));
    }

    return shortio_send(fd, buf, len, flags);
}


ssize_t
readv(int fd, const struct iovec *iov, int iovcnt)
{
    ssize_t       n;
    struct iovec  one;

    n = shortio_decide(fd, shortio_iov_size(iov, iovcnt), 1);
    if (n == -1) {
        return -1;
    }

    if (n == 1 && shortio_iov_one(iov, iovcnt, &one)) {
        return shortio_rearm(fd, shortio_readv(fd, &one, 1));
    }

    return shortio_readv(fd, iov, iovcnt);
}


ssize_t
writev(int fd, const struct iovec *iov, int iovcnt)
{
    ssize_t       n;
    struct iovec  one;

    n = shortio_decide(fd, shortio_iov_size(iov, iovcnt), 1);
    if (n == -1) {
        return -1;
    }

    if (n == 1 && shortio_iov_one(iov, iovcnt, &one)) {
        return shortio_rearm(fd, shortio_writev(fd, &one, 1));
    }

    return shortio_writev(fd, iov, iovcnt);
}


ssize_t
recvmsg(int fd, struct msghdr *msg, int flags)
{
    ssize_t        n;
    struct iovec  *iov, one;
    size_t         iovlen;

    /* a message that may carry descriptors is read as it is */
    if (msg->msg_controllen > 0) {
        return shortio_recvmsg(fd, msg, flags);
    }

    n = shortio_decide(fd, shortio_iov_size(msg->msg_iov,
                                            (int) msg->msg_iovlen),
                       !(flags & MSG_DONTWAIT));
    if (n == -1) {
        return -1;
    }

    if (n == 1 && shortio_iov_one(msg->msg_iov, (int) msg->msg_iovlen,
                                  &one))
    {
        iov = msg->msg_iov;
        iovlen = msg->msg_iovlen;
        msg->msg_iov = &one;
        msg->msg_iovlen = 1;

        n = shortio_recvmsg(fd, msg, flags);

        msg->msg_iov = iov;
        msg->msg_iovlen = iovlen;

        return shortio_rearm(fd, n);
    }

    return shortio_recvmsg(fd, msg, flags);
}


ssize_t
sendmsg(int fd, const struct msghdr *msg, int flags)
{
    ssize_t        n;
    struct iovec   one;
    struct msghdr  m;

    if (msg->msg_controllen > 0) {
        return shortio_sendmsg(fd, msg, flags);
    }

    n = shortio_decide(fd, shortio_iov_size(msg->msg_iov,
                                            (int) msg->msg_iovlen),
                       !(flags & MSG_DONTWAIT));
    if (n == -1) {
        return -1;
    }

    if (n == 1 && shortio_iov_one(msg->msg_iov, (int) msg->msg_iovlen,
                                  &one))
    {
        m = *msg;
        m.msg_iov = &one;
        m.msg_iovlen = 1;

        return shortio_rearm(fd, shortio_sendmsg(fd, &m, flags));
    }

    return shortio_sendmsg(fd, msg, flags);
}


/* passes the shim on to a program started with an environment of its own */
int
execve(const char *path, char *const argv[], char *const envp[])
{
    size_t  i, n, k, len;

    if (!shortio_active || shortio_env[0] == NULL || envp == NULL) {
        return shortio_execve(path, argv, envp);
    }

    for (n = 0; envp[n] != NULL; n++) {
        /* count */
    }

    {
        char  *env[n + 4];

        k = 0;

        for (i = 0; shortio_env[i] != NULL; i++) {
            len = strchr(shortio_env[i], '=') - shortio_env[i] + 1;

            for (n = 0; envp[n] != NULL; n++) {
                if (strncmp(envp[n], shortio_env[i], len) == 0) {
                    break;
                }
            }

            if (envp[n] == NULL) {
                env[k++] = shortio_env[i];
            }
        }

        for (n = 0; envp[n] != NULL; n++) {
            env[k++] = envp[n];
        }

        env[k] = NULL;

        return shortio_execve(path, argv, env);
    }
}


int
epoll_ctl(int epfd, int op, int fd, struct epoll_event *event)
{
    int  rc;

    rc = shortio_epoll_ctl(epfd, op, fd, event);

    if (rc == 0 && fd >= 0 && fd < SHORTIO_FDS) {
        if (op == EPOLL_CTL_DEL) {
            shortio_epoll[fd].epfd = 0;

        } else {
            shortio_epoll[fd].epfd = epfd;
            shortio_epoll[fd].event = *event;
        }
    }

    return rc;
}


int
close(int fd)
{
    if (fd >= 0 && fd < SHORTIO_FDS) {
        shortio_epoll[fd].epfd = 0;
        shortio_faked[fd] = 0;
        shortio_paired[fd] = 0;
    }

    return shortio_close(fd);
}


int
socketpair(int domain, int type, int protocol, int sv[2])
{
    int  rc, i;

    rc = shortio_socketpair(domain, type, protocol, sv);

    for (i = 0; rc == 0 && i < 2; i++) {
        if (sv[i] >= 0 && sv[i] < SHORTIO_FDS) {
            shortio_paired[sv[i]] = 1;
        }
    }

    return rc;
}
