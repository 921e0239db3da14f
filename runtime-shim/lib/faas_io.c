/*
 * The instance side's socket I/O, see faas_io.h.
 */

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "faas_io.h"


int
faas_io_sendv(int fd, struct iovec *iov, int iovcnt)
{
    ssize_t        n;
    struct msghdr  msg;
    struct pollfd  pfd;

    memset(&msg, 0, sizeof(struct msghdr));

    while (iovcnt > 0) {
        msg.msg_iov = iov;
        msg.msg_iovlen = (size_t) iovcnt;

        n = sendmsg(fd, &msg, MSG_NOSIGNAL);

        if (n == -1) {
            if (errno == EINTR) {
                continue;
            }

            if (errno != EAGAIN) {
                return errno;
            }

            pfd.fd = fd;
            pfd.events = POLLOUT;

            if (poll(&pfd, 1, -1) == -1 && errno != EINTR) {
                return errno;
            }

            continue;
        }

        /* skip what went out, possibly stopping inside an iovec */

        while (iovcnt > 0 && (size_t) n >= iov->iov_len) {
            n -= (ssize_t) iov->iov_len;
            iov++;
            iovcnt--;
        }

        if (iovcnt > 0) {
            iov->iov_base = (uint8_t *) iov->iov_base + n;
            iov->iov_len -= (size_t) n;
        }
    }

    return 0;
}


ssize_t
faas_io_recv_fd(int fd, void *buf, size_t size, int *passed, int *err)
{
    ssize_t          n;
    struct iovec     iov;
    struct msghdr    msg;
    struct cmsghdr  *cmsg;

    union {
        struct cmsghdr  cm;
        char            space[CMSG_SPACE(sizeof(int))];
    } cmsgbuf;

    *passed = -1;

    iov.iov_base = buf;
    iov.iov_len = size;

    memset(&msg, 0, sizeof(struct msghdr));
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cmsgbuf.space;
    msg.msg_controllen = sizeof(cmsgbuf.space);

    /* CLOEXEC: a child the function spawns must not keep the connection */

    do {
        n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
    } while (n == -1 && errno == EINTR);

    if (n == -1) {
        *err = errno;
        return -1;
    }

    for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
        if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS
            && cmsg->cmsg_len == CMSG_LEN(sizeof(int)))
        {
            memcpy(passed, CMSG_DATA(cmsg), sizeof(int));
        }
    }

    if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
        if (*passed != -1) {
            close(*passed);
            *passed = -1;
        }

        *err = EMSGSIZE;
        return -1;
    }

    return n;
}
