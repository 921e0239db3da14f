/*
 * The event loop.
 */

#include <errno.h>
#include <stddef.h>
#include <time.h>
#include <unistd.h>

#include "shim_event.h"


uint64_t
shim_time_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}


int
shim_loop_init(shim_loop_t *loop)
{
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (loop->epfd == -1) {
        return -1;
    }

    loop->now = shim_time_now();
    loop->nbatch = 0;
    loop->current = 0;

    shim_timer_heap_init(&loop->timers);

    return 0;
}


void
shim_loop_free(shim_loop_t *loop)
{
    if (loop->epfd != -1) {
        close(loop->epfd);
        loop->epfd = -1;
    }

    shim_timer_heap_free(&loop->timers);
}


void
shim_event_init(shim_event_t *ev, int fd, shim_event_handler_pt handler,
    void *data)
{
    ev->fd = fd;
    ev->events = 0;
    ev->handler = handler;
    ev->data = data;
    ev->deferred = 0;
}


/* level-triggered interest in events; 0 removes the fd from epoll */
int
shim_event_set(shim_loop_t *loop, shim_event_t *ev, uint32_t events)
{
    int                 op;
    struct epoll_event  ee;

    if (events == ev->events) {
        return 0;
    }

    if (events == 0) {
        shim_event_del(loop, ev);
        return 0;
    }

    op = ev->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;

    ee.events = events;
    ee.data.ptr = ev;

    if (epoll_ctl(loop->epfd, op, ev->fd, &ee) == -1) {
        return -1;
    }

    ev->events = events;

    return 0;
}


/*
 * Must be called before the fd is closed or handed to another process:
 * an epoll registration belongs to the open file description, and a copy
 * of the fd elsewhere would keep it reporting events for a closed fd.
 *
 * The owner of ev may be freed right after this, so events for it still
 * waiting in the current batch, in either pass, are forgotten.
 */
void
shim_event_del(shim_loop_t *loop, shim_event_t *ev)
{
    int  i;

    if (ev->events != 0) {
        (void) epoll_ctl(loop->epfd, EPOLL_CTL_DEL, ev->fd, NULL);
        ev->events = 0;
    }

    for (i = 0; i < loop->nbatch; i++) {
        if (loop->batch[i].data.ptr == ev) {
            loop->batch[i].data.ptr = NULL;
        }
    }
}


void
shim_timer_add(shim_loop_t *loop, shim_timer_t *t, uint64_t msec)
{
    shim_timer_arm(&loop->timers, t, loop->now + msec * 1000);
}


int
shim_loop_run_once(shim_loop_t *loop)
{
    int            n, timeout;
    unsigned       pass;
    uint64_t       delta;
    shim_event_t  *ev;
    shim_timer_t  *t;

    t = shim_timer_first(&loop->timers);

    if (t == NULL) {
        timeout = -1;

    } else if (t->deadline <= loop->now) {
        timeout = 0;

    } else {
        /* rounded up: a timer never fires early */
        delta = (t->deadline - loop->now + 999) / 1000;
        timeout = delta > 86400000 ? 86400000 : (int) delta;
    }

    n = epoll_wait(loop->epfd, loop->batch, SHIM_EVENT_BATCH, timeout);

    loop->now = shim_time_now();

    if (n == -1) {
        return (errno == EINTR) ? 0 : -1;
    }

    loop->nbatch = n;

    /*
     * Two passes: new work (deferred events) comes after what finishes
     * old work, so that a DONE that arrived with a new request frees its
     * instance for that request instead of provoking a cold start.
     */

    for (pass = 0; pass < 2; pass++) {
        for (loop->current = 0; loop->current < n; loop->current++) {
            ev = loop->batch[loop->current].data.ptr;

            if (ev != NULL && ev->deferred == pass) {
                ev->handler(ev, loop->batch[loop->current].events);
            }
        }
    }

    loop->nbatch = 0;
    loop->current = 0;

    while ((t = shim_timer_expired(&loop->timers, loop->now)) != NULL) {
        t->handler(t);
    }

    return 0;
}
