/*
 * The instance side's socket I/O, shared by the runtimes written in C
 * (faas-runtime-c, the Node.js addon): blocking calls over descriptors
 * that may be non-blocking (the request connection's O_NONBLOCK belongs
 * to the supervisor too, so it is waited on with poll(), never cleared).
 */

#ifndef FAAS_IO_H
#define FAAS_IO_H

#include <sys/types.h>
#include <sys/uio.h>


/*
 * Sends all of iov (which it consumes) with MSG_NOSIGNAL, waiting on
 * EAGAIN: 0, or the errno of the failure (EPIPE: the peer went away).
 */
int faas_io_sendv(int fd, struct iovec *iov, int iovcnt);

/*
 * Receives one packet into buf, and the one descriptor it may carry
 * (close-on-exec) into *passed, else -1: the length, 0 at the end, or -1
 * with *err (EMSGSIZE for a packet larger than size).
 */
ssize_t faas_io_recv_fd(int fd, void *buf, size_t size, int *passed,
    int *err);

#endif /* FAAS_IO_H */
