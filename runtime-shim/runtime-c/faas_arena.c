/*
 * A per-thread arena for what a call allocates through jansson: the
 * REQUEST head, some thirty small allocations, each a malloc() and a
 * free() otherwise, for a document that lives exactly as long as the
 * call.  It is emptied when the call ends.
 *
 * jansson's allocator is one for the process, and a function may link
 * jansson too: the arena serves only between faas_rt_arena_begin() and
 * faas_rt_arena_end() in the thread that called them, and only while it
 * has room; every other allocation is malloc()'s.  A free() of a pointer
 * into the thread's arena does nothing; any other is free()'s.  A call's
 * document is freed in the thread that parsed it, before the reset.
 */

#include <stdlib.h>

#include "faas_runtime.h"


#define FAAS_RT_ARENA_SIZE   (16 * 1024)
#define FAAS_RT_ARENA_ALIGN  16


typedef struct {
    uint8_t   *base;
    size_t     used;
    unsigned   active;
} faas_rt_arena_t;


/* jansson's hooks take no context: the thread's arena is found here */
static __thread faas_rt_arena_t  faas_rt_arena;


static void *faas_rt_arena_malloc(size_t size);
static void faas_rt_arena_free(void *p);


void
faas_rt_arena_init(void)
{
    json_set_alloc_funcs(faas_rt_arena_malloc, faas_rt_arena_free);
}


/* -1 when the thread has no arena and cannot get one: malloc() serves */
int
faas_rt_arena_begin(void)
{
    faas_rt_arena_t  *a;

    a = &faas_rt_arena;

    if (a->base == NULL) {
        a->base = malloc(FAAS_RT_ARENA_SIZE);

        if (a->base == NULL) {
            return -1;
        }
    }

    a->active = 1;

    return 0;
}


void
faas_rt_arena_end(void)
{
    faas_rt_arena.active = 0;
}


/* what was taken from it is no longer used */
void
faas_rt_arena_reset(void)
{
    faas_rt_arena.used = 0;
}


static void *
faas_rt_arena_malloc(size_t size)
{
    size_t            n;
    uint8_t          *p;
    faas_rt_arena_t  *a;

    a = &faas_rt_arena;

    n = (size + FAAS_RT_ARENA_ALIGN - 1) & ~((size_t) FAAS_RT_ARENA_ALIGN - 1);

    if (a->active && n >= size && FAAS_RT_ARENA_SIZE - a->used >= n) {
        p = a->base + a->used;
        a->used += n;
        return p;
    }

    return malloc(size);
}


static void
faas_rt_arena_free(void *p)
{
    uint8_t          *u;
    faas_rt_arena_t  *a;

    a = &faas_rt_arena;
    u = p;

    if (a->base != NULL && u >= a->base && u < a->base + FAAS_RT_ARENA_SIZE) {
        return;
    }

    free(p);
}
