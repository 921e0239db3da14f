/*
 * The instance table that the supervisor shares with nginx workers, so
 * that a worker can call a warm instance on a connection it kept, without
 * the supervisor (docs/architecture.md, "Direct calls").
 *
 * The supervisor creates the file and owns the slots; workers map it read
 * and write and only claim and release.  Instances never see it.
 *
 * One 64-bit word per slot carries its state, so that a claim is one
 * compare-and-swap:
 *
 *   bits 63-32  generation: bumped when the slot's instance goes away,
 *               so that a worker holding an old generation can neither
 *               claim nor release
 *   bit  31     closed: the supervisor has the instance (dispatching to
 *               it, quitting it, or taking it back), no direct claims
 *   bit  30     quitting: closed for good, the instance is on its way out
 *   bits 29-16  limit: the direct calls the instance takes at once, its
 *               concurrency (0 counts as 1)
 *   bits 15-0   direct calls in flight
 */

#ifndef FAAS_SLOTS_H
#define FAAS_SLOTS_H

#include <stdint.h>


#define FAAS_SLOTS_MAGIC    0x3174736c73616166ULL   /* "faasslt1" */
#define FAAS_SLOTS_MAX      16384

#define FAAS_SLOT_CLOSED    0x80000000ULL
#define FAAS_SLOT_QUITTING  0x40000000ULL
#define FAAS_SLOT_LIMIT     0x3fff0000ULL
#define FAAS_SLOT_INFLIGHT  0x0000ffffULL
#define FAAS_SLOT_LIMIT_MAX 0x3fff

#define faas_slot_gen(w)       ((uint32_t) ((w) >> 32))
#define faas_slot_inflight(w)  ((uint32_t) ((w) & FAAS_SLOT_INFLIGHT))
#define faas_slot_closed(w)    (((w) & FAAS_SLOT_CLOSED) != 0)
#define faas_slot_quitting(w)  (((w) & FAAS_SLOT_QUITTING) != 0)


typedef struct {
    uint64_t    magic;
    uint64_t    nonce;          /* per supervisor start, in REGISTERED */
    uint32_t    nslots;
    uint32_t    slot_size;
    uint8_t     reserved[40];
} faas_slots_header_t;


typedef struct {
    uint64_t    state;          /* the word above */
    uint64_t    instance;       /* instance id, for logs and checks */
    uint64_t    last_used;      /* ms, CLOCK_MONOTONIC: a direct call ended */
    uint64_t    calls;          /* direct calls made */
    char        request_id[32]; /* the direct call in flight, for logs */
} faas_slot_t;


static inline uint32_t
faas_slot_limit(uint64_t w)
{
    uint32_t  limit;

    limit = (uint32_t) ((w & FAAS_SLOT_LIMIT) >> 16);

    return limit ? limit : 1;
}


static inline faas_slot_t *
faas_slots_get(void *base, uint32_t index)
{
    return (faas_slot_t *) ((char *) base + sizeof(faas_slots_header_t))
           + index;
}


/*
 * a worker: 1 when it now has room in the instance for one call;
 * generation 0 is a slot never given to an instance
 */
static inline int
faas_slot_claim(faas_slot_t *s, uint32_t gen)
{
    uint64_t  w;

    w = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);

    if (gen == 0 || faas_slot_gen(w) != gen || w & FAAS_SLOT_CLOSED
        || faas_slot_inflight(w) >= faas_slot_limit(w))
    {
        return 0;
    }

    /* lost to another worker: the next kept connection is tried instead */

    if (!__atomic_compare_exchange_n(&s->state, &w, w + 1, 0,
                                     __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
    {
        return 0;
    }

    __atomic_add_fetch(&s->calls, 1, __ATOMIC_RELAXED);

    return 1;
}


/* a worker: the call ended; nothing if the instance went away meanwhile */
static inline void
faas_slot_release(faas_slot_t *s, uint32_t gen, uint64_t now_ms)
{
    uint64_t  w;

    __atomic_store_n(&s->last_used, now_ms, __ATOMIC_RELAXED);

    w = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);

    do {
        if (faas_slot_gen(w) != gen || faas_slot_inflight(w) == 0) {
            return;
        }

    } while (!__atomic_compare_exchange_n(&s->state, &w, w - 1, 0,
                                          __ATOMIC_ACQ_REL,
                                          __ATOMIC_ACQUIRE));
}


/*
 * the supervisor: closed for good, the instance quits or is killed;
 * returns the direct calls still in flight
 */
static inline uint32_t
faas_slot_quit(faas_slot_t *s)
{
    uint64_t  w;

    w = __atomic_or_fetch(&s->state, FAAS_SLOT_CLOSED | FAAS_SLOT_QUITTING,
                          __ATOMIC_ACQ_REL);

    return faas_slot_inflight(w);
}


/* the supervisor: open for direct calls (it has the instance, idle) */
static inline void
faas_slot_open(faas_slot_t *s)
{
    __atomic_and_fetch(&s->state, ~FAAS_SLOT_CLOSED, __ATOMIC_RELEASE);
}


/*
 * the supervisor: closes the slot; returns the direct calls still in
 * flight (0: the instance is the supervisor's now)
 */
static inline uint32_t
faas_slot_close(faas_slot_t *s)
{
    uint64_t  w;

    w = __atomic_or_fetch(&s->state, FAAS_SLOT_CLOSED, __ATOMIC_ACQ_REL);

    return faas_slot_inflight(w);
}


/* the supervisor: 1 when closed only if no direct call is in flight */
static inline int
faas_slot_take(faas_slot_t *s)
{
    uint64_t  w;

    w = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);

    do {
        if (faas_slot_inflight(w) != 0) {
            return 0;
        }

    } while (!__atomic_compare_exchange_n(&s->state, &w,
                                          w | FAAS_SLOT_CLOSED, 0,
                                          __ATOMIC_ACQ_REL,
                                          __ATOMIC_ACQUIRE));

    return 1;
}


/*
 * the supervisor: the instance is gone, or a new one comes with limit
 * direct calls at once; a new generation, closed
 */
static inline uint32_t
faas_slot_retire(faas_slot_t *s, uint32_t limit)
{
    uint64_t  w, gen;

    w = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
    gen = (uint64_t) (faas_slot_gen(w) + 1);

    if (gen == 0) {
        gen = 1;
    }

    if (limit > FAAS_SLOT_LIMIT_MAX) {
        limit = FAAS_SLOT_LIMIT_MAX;
    }

    __atomic_store_n(&s->state,
                     (gen << 32) | FAAS_SLOT_CLOSED | ((uint64_t) limit << 16),
                     __ATOMIC_RELEASE);

    return (uint32_t) gen;
}


#endif /* FAAS_SLOTS_H */
