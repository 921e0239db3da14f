/*
 * Direct calls: the shared instance table (shim_direct.h).
 */

#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>


int
shim_direct_init(shim_direct_t *d, shim_log_t *log, const char *socket,
    mode_t mode, gid_t gid)
{
    int                   fd;
    size_t                len;
    uint32_t              i;
    faas_slots_header_t  *h;

    len = strlen(socket);

    d->path = malloc(len + sizeof(".slots"));
    d->free = malloc(FAAS_SLOTS_MAX * sizeof(uint32_t));

    if (d->path == NULL || d->free == NULL) {
        shim_log_error(log, SHIM_LOG_ERROR, ENOMEM, "direct calls: init "
                       "failed");
        return -1;
    }

    memcpy(d->path, socket, len);
    memcpy(d->path + len, ".slots", sizeof(".slots"));

    d->size = sizeof(faas_slots_header_t)
              + (size_t) FAAS_SLOTS_MAX * sizeof(faas_slot_t);

    /* a new file each time: workers of a dead supervisor keep the old one */

    if (unlink(d->path) == -1 && errno != ENOENT) {
        shim_log_error(log, SHIM_LOG_ERROR, errno, "unlink() of \"%s\" "
                       "failed", d->path);
        return -1;
    }

    fd = open(d->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
              0600);
    if (fd == -1) {
        shim_log_error(log, SHIM_LOG_ERROR, errno, "open() of \"%s\" "
                       "failed", d->path);
        return -1;
    }

    /* whoever may connect to the socket may map the table */

    if ((gid != (gid_t) -1 && fchown(fd, (uid_t) -1, gid) == -1)
        || fchmod(fd, mode & 0666) == -1
        || ftruncate(fd, (off_t) d->size) == -1)
    {
        shim_log_error(log, SHIM_LOG_ERROR, errno, "cannot set up \"%s\"",
                       d->path);
        close(fd);
        return -1;
    }

    d->base = mmap(NULL, d->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);

    if (d->base == MAP_FAILED) {
        d->base = NULL;
        shim_log_error(log, SHIM_LOG_ERROR, errno, "mmap() of \"%s\" "
                       "failed", d->path);
        return -1;
    }

    if (getrandom(&d->nonce, sizeof(d->nonce), 0) != sizeof(d->nonce)) {
        d->nonce = (uint64_t) getpid() << 32 ^ (uint64_t) time(NULL);
    }

    h = d->base;
    h->nonce = d->nonce;
    h->nslots = FAAS_SLOTS_MAX;
    h->slot_size = sizeof(faas_slot_t);

    /*
     * The slots stay zero, untouched until used: generation 0 is never
     * given to an instance, so no worker can claim one before that.
     */

    for (i = 0; i < FAAS_SLOTS_MAX; i++) {
        d->free[i] = FAAS_SLOTS_MAX - 1 - i;
    }

    d->nfree = FAAS_SLOTS_MAX;

    __atomic_store_n(&h->magic, FAAS_SLOTS_MAGIC, __ATOMIC_RELEASE);

    return 0;
}


void
shim_direct_cleanup(shim_direct_t *d, shim_log_t *log)
{
    if (d->base != NULL) {
        munmap(d->base, d->size);
        d->base = NULL;

        if (unlink(d->path) == -1 && errno != ENOENT) {
            shim_log_error(log, SHIM_LOG_WARN, errno, "unlink() of \"%s\" "
                           "failed", d->path);
        }
    }

    free(d->path);
    free(d->free);
    d->path = NULL;
    d->free = NULL;
}


int
shim_direct_alloc(shim_direct_t *d, uint64_t instance, uint32_t limit,
    uint32_t *index, uint32_t *gen)
{
    faas_slot_t  *s;

    if (d->base == NULL || d->nfree == 0) {
        return -1;
    }

    *index = d->free[--d->nfree];

    s = shim_direct_slot(d, *index);

    s->instance = instance;
    s->last_used = 0;
    s->calls = 0;
    s->request_id[0] = '\0';

    *gen = faas_slot_retire(s, limit);

    return 0;
}


void
shim_direct_free(shim_direct_t *d, uint32_t index)
{
    (void) faas_slot_retire(shim_direct_slot(d, index), 0);

    d->free[d->nfree++] = index;
}
