/*
 * The event loop: epoll for file descriptors, the timer heap for time.
 */

#ifndef SHIM_EVENT_H
#define SHIM_EVENT_H

#include <stdint.h>
#include <sys/epoll.h>

#include "shim_timer.h"


#define SHIM_EVENT_BATCH  64


typedef struct shim_event_s  shim_event_t;

typedef void (*shim_event_handler_pt)(shim_event_t *ev, uint32_t revents);

struct shim_event_s {
    int                    fd;
    uint32_t               events;     /* registered interest, 0: none */
    shim_event_handler_pt  handler;
    void                  *data;
    unsigned               deferred:1; /* runs after the rest of a batch */
};


typedef struct {
    int                    epfd;
    uint64_t               now;        /* us, CLOCK_MONOTONIC */
    shim_timer_heap_t      timers;

    /* the batch being dispatched, see shim_event_del() */
    struct epoll_event     batch[SHIM_EVENT_BATCH];
    int                    nbatch;
    int                    current;
} shim_loop_t;


uint64_t shim_time_now(void);

int shim_loop_init(shim_loop_t *loop);
void shim_loop_free(shim_loop_t *loop);

/* waits for one batch of events and runs it, then the expired timers */
int shim_loop_run_once(shim_loop_t *loop);

void shim_event_init(shim_event_t *ev, int fd, shim_event_handler_pt handler,
    void *data);
int shim_event_set(shim_loop_t *loop, shim_event_t *ev, uint32_t events);
void shim_event_del(shim_loop_t *loop, shim_event_t *ev);

/* arms t to fire msec milliseconds from the loop's current time */
void shim_timer_add(shim_loop_t *loop, shim_timer_t *t, uint64_t msec);

#endif /* SHIM_EVENT_H */
