/*
 * Timers: a binary min-heap, see shim_timer.h.
 */

#include <stdlib.h>

#include "shim_timer.h"


static void shim_timer_sift_up(shim_timer_heap_t *h, size_t i);
static void shim_timer_sift_down(shim_timer_heap_t *h, size_t i);


void
shim_timer_heap_init(shim_timer_heap_t *h)
{
    h->heap = NULL;
    h->nelts = 0;
    h->nalloc = 0;
    h->ntimers = 0;
}


void
shim_timer_heap_free(shim_timer_heap_t *h)
{
    free(h->heap);
    shim_timer_heap_init(h);
}


int
shim_timer_init(shim_timer_heap_t *h, shim_timer_t *t,
    shim_timer_handler_pt handler, void *data)
{
    size_t          n;
    shim_timer_t  **heap;

    if (h->ntimers == h->nalloc) {
        n = h->nalloc ? h->nalloc * 2 : 64;

        heap = realloc(h->heap, n * sizeof(shim_timer_t *));
        if (heap == NULL) {
            return -1;
        }

        h->heap = heap;
        h->nalloc = n;
    }

    h->ntimers++;

    t->deadline = 0;
    t->index = SHIM_TIMER_UNARMED;
    t->handler = handler;
    t->data = data;

    return 0;
}


void
shim_timer_release(shim_timer_heap_t *h, shim_timer_t *t)
{
    shim_timer_cancel(h, t);
    h->ntimers--;
}


void
shim_timer_arm(shim_timer_heap_t *h, shim_timer_t *t, uint64_t deadline)
{
    uint64_t  old;

    if (shim_timer_armed(t)) {
        old = t->deadline;
        t->deadline = deadline;

        if (deadline < old) {
            shim_timer_sift_up(h, t->index);

        } else {
            shim_timer_sift_down(h, t->index);
        }

        return;
    }

    t->deadline = deadline;
    t->index = h->nelts;
    h->heap[h->nelts++] = t;

    shim_timer_sift_up(h, t->index);
}


void
shim_timer_cancel(shim_timer_heap_t *h, shim_timer_t *t)
{
    size_t         i;
    shim_timer_t  *last;

    if (!shim_timer_armed(t)) {
        return;
    }

    i = t->index;
    t->index = SHIM_TIMER_UNARMED;

    last = h->heap[--h->nelts];

    if (last == t) {
        return;
    }

    /* the last element fills the hole and moves whichever way it must */
    h->heap[i] = last;
    last->index = i;

    if (i > 0 && last->deadline < h->heap[(i - 1) / 2]->deadline) {
        shim_timer_sift_up(h, i);

    } else {
        shim_timer_sift_down(h, i);
    }
}


shim_timer_t *
shim_timer_first(shim_timer_heap_t *h)
{
    return h->nelts ? h->heap[0] : NULL;
}


shim_timer_t *
shim_timer_expired(shim_timer_heap_t *h, uint64_t now)
{
    shim_timer_t  *t;

    if (h->nelts == 0 || h->heap[0]->deadline > now) {
        return NULL;
    }

    t = h->heap[0];
    shim_timer_cancel(h, t);

    return t;
}


static void
shim_timer_sift_up(shim_timer_heap_t *h, size_t i)
{
    size_t         parent;
    shim_timer_t  *t;

    t = h->heap[i];

    while (i > 0) {
        parent = (i - 1) / 2;

        if (h->heap[parent]->deadline <= t->deadline) {
            break;
        }

        h->heap[i] = h->heap[parent];
        h->heap[i]->index = i;
        i = parent;
    }

    h->heap[i] = t;
    t->index = i;
}


static void
shim_timer_sift_down(shim_timer_heap_t *h, size_t i)
{
    size_t         child;
    shim_timer_t  *t;

    t = h->heap[i];

    for ( ;; ) {
        child = 2 * i + 1;

        if (child >= h->nelts) {
            break;
        }

        if (child + 1 < h->nelts
            && h->heap[child + 1]->deadline < h->heap[child]->deadline)
        {
            child++;
        }

        if (t->deadline <= h->heap[child]->deadline) {
            break;
        }

        h->heap[i] = h->heap[child];
        h->heap[i]->index = i;
        i = child;
    }

    h->heap[i] = t;
    t->index = i;
}
