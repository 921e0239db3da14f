/*
 * Intrusive circular doubly-linked list, in the manner of ngx_queue_t.
 */

#ifndef SHIM_QUEUE_H
#define SHIM_QUEUE_H

#include <stddef.h>


typedef struct shim_queue_s  shim_queue_t;

struct shim_queue_s {
    shim_queue_t  *prev;
    shim_queue_t  *next;
};


#define shim_queue_init(q)                                                    \
    (q)->prev = q;                                                            \
    (q)->next = q

#define shim_queue_empty(h)                                                   \
    ((h) == (h)->prev)

#define shim_queue_insert_head(h, x)                                          \
    (x)->next = (h)->next;                                                    \
    (x)->next->prev = x;                                                      \
    (x)->prev = h;                                                            \
    (h)->next = x

#define shim_queue_insert_tail(h, x)                                          \
    (x)->prev = (h)->prev;                                                    \
    (x)->prev->next = x;                                                      \
    (x)->next = h;                                                            \
    (h)->prev = x

#define shim_queue_head(h)                                                    \
    (h)->next

#define shim_queue_last(h)                                                    \
    (h)->prev

#define shim_queue_sentinel(h)                                                \
    (h)

#define shim_queue_next(q)                                                    \
    (q)->next

/* a removed element points to itself, so removing it twice is harmless */
#define shim_queue_remove(x)                                                  \
    (x)->next->prev = (x)->prev;                                              \
    (x)->prev->next = (x)->next;                                              \
    (x)->prev = x;                                                            \
    (x)->next = x

#define shim_queue_linked(x)                                                  \
    ((x)->next != (x))

#define shim_queue_data(q, type, link)                                        \
    ((type *) ((unsigned char *) (q) - offsetof(type, link)))


#endif /* SHIM_QUEUE_H */
