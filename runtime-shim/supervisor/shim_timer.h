/*
 * Timers: a binary min-heap ordered by deadline (CLOCK_MONOTONIC, us).
 *
 * A timer reserves its heap slot when it is initialized, so arming never
 * allocates and never fails: the paths that arm timers are the error and
 * timeout paths, which must not have failure modes of their own.
 */

#ifndef SHIM_TIMER_H
#define SHIM_TIMER_H

#include <stddef.h>
#include <stdint.h>


#define SHIM_TIMER_UNARMED  ((size_t) -1)


typedef struct shim_timer_s  shim_timer_t;

typedef void (*shim_timer_handler_pt)(shim_timer_t *timer);

struct shim_timer_s {
    uint64_t               deadline;
    size_t                 index;      /* heap position or UNARMED */
    shim_timer_handler_pt  handler;
    void                  *data;
};


typedef struct {
    shim_timer_t         **heap;
    size_t                 nelts;      /* armed timers */
    size_t                 nalloc;
    size_t                 ntimers;    /* initialized timers */
} shim_timer_heap_t;


#define shim_timer_armed(t)  ((t)->index != SHIM_TIMER_UNARMED)


void shim_timer_heap_init(shim_timer_heap_t *h);
void shim_timer_heap_free(shim_timer_heap_t *h);

int shim_timer_init(shim_timer_heap_t *h, shim_timer_t *t,
    shim_timer_handler_pt handler, void *data);
void shim_timer_release(shim_timer_heap_t *h, shim_timer_t *t);

/* (re)arms t; an armed timer moves to its new deadline */
void shim_timer_arm(shim_timer_heap_t *h, shim_timer_t *t,
    uint64_t deadline);
void shim_timer_cancel(shim_timer_heap_t *h, shim_timer_t *t);

shim_timer_t *shim_timer_first(shim_timer_heap_t *h);

/* removes and returns the earliest timer due at now, NULL if none */
shim_timer_t *shim_timer_expired(shim_timer_heap_t *h, uint64_t now);

#endif /* SHIM_TIMER_H */
