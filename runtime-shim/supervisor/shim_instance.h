/*
 * Instances: runtime processes loaded with one function version, their
 * states, the hand-over of requests, and their deaths.
 */

#ifndef SHIM_INSTANCE_H
#define SHIM_INSTANCE_H


#define SHIM_QUIT_GRACE  1000            /* ms from QUIT to SIGKILL */

/* ms between looks at a slot whose direct call the supervisor waits for */
#define SHIM_DIRECT_POLL  1

/* ms between looks for direct calls whose worker is gone */
#define SHIM_DIRECT_WATCH  1000

/*
 * How long, by default, the idle instances of a version that no nginx
 * worker registers any more are kept (--retire-grace): an nginx restart,
 * or a reload whose old workers exit before the new ones register, then
 * finds its functions still warm.
 */
#define SHIM_RETIRE_GRACE  10000         /* ms */


typedef enum {
    SHIM_INSTANCE_STARTING = 0,          /* LOAD sent, waiting for READY */
    SHIM_INSTANCE_IDLE,
    SHIM_INSTANCE_BUSY,                  /* serving calls, each waiting for
                                            its DONE */
    SHIM_INSTANCE_QUITTING               /* QUIT sent or killed */
} shim_instance_state_e;


struct shim_instance_s {
    shim_ctx_t          *ctx;
    shim_queue_t         link;            /* ctx->instances */
    shim_queue_t         flink;           /* function->instances */
    shim_queue_t         avail;           /* function->idle, ->spare,
                                             ->pending or ->open */

    shim_function_t     *function;
    uint64_t             id;
    pid_t                pid;
    shim_instance_state_e  state;

    shim_event_t         channel;
    shim_timer_t         timer;           /* per state: start, idle, quit
                                             grace (calls have their own) */
    shim_request_t      *request;         /* the one it starts for */
    shim_queue_t         calls;           /* requests it serves */
    unsigned             active;          /* how many */

    uint64_t             started;         /* us */
    uint64_t             idle_since;      /* us */
    uint64_t             ready;           /* us, READY came */
    uint64_t             served;          /* requests dispatched to it */
    shim_fail_e          failure;         /* why it was killed, counted
                                             when it is reaped */

    char                *error;           /* reason of an ERROR frame */
    char                 quit_reason[64];
    shim_layer_e         layer;           /* where its process came from */
    unsigned             code_generation; /* of its function's code */
    shim_output_t        output[2];       /* stdout, stderr */
    uint64_t             output_window;   /* us: this second of output */
    unsigned             output_lines;    /* lines in it */
    unsigned             output_dropped;

    unsigned             killed:1;
    unsigned             reserved:1;      /* idle, kept by min_instances */
    unsigned             exited:1;
    unsigned             draining:1;      /* a call timed out: no more */
    unsigned             refilled:1;      /* its pool was refilled */
    unsigned             filtered:1;      /* sent its runtime's FILTER */
    unsigned             prefiltered:1;   /* got it in its pool */
    unsigned             direct:1;        /* has a slot: nginx workers may
                                             call it on connections they
                                             kept (shim_direct.h) */
    uint32_t             slot;            /* its slot, when direct */
    uint32_t             slot_gen;
    uint64_t             direct_counted;  /* of the slot's calls, those in
                                             the function's stats */
    uint64_t             quit_asked;      /* us: quit_pending since */
    unsigned             abandoned;       /* direct calls that timed out:
                                             their workers keep the claim */
    unsigned             quit_pending:1;  /* QUIT waits for a direct call */
    unsigned             recalled:1;      /* the queue waits for it */
};


extern const char  *shim_layer_names[SHIM_LAYERS];


/*
 * a warm instance for r, or NULL: one busy with room to spare first (the
 * point of concurrency is fewer instances), else an idle one
 */
shim_instance_t *shim_instance_get_warm(shim_function_t *fn);

/* an idle instance, off the idle list and its timer, or NULL */
shim_instance_t *shim_instance_get_idle(shim_function_t *fn);

/* a spare starting one is bound to r */
int shim_instance_bind_spare(shim_function_t *fn, shim_request_t *r);

/* cold start for r (r may be NULL: a spare) */
int shim_instance_start(shim_ctx_t *ctx, shim_function_t *fn,
    shim_request_t *r, int *err);

/* why shim_instance_start() failed, with err as it returned */
const char *shim_instance_start_error(shim_ctx_t *ctx, int err);

/* 0: dispatched, 1: r was dropped, inst is still usable, -1: inst failed */
int shim_instance_dispatch(shim_instance_t *inst, shim_request_t *r,
    int cold);

/*
 * requests wait in the queue: the idle instances in direct calls are
 * taken back, their slots closed, and serve the queue once those end
 */
void shim_instance_recall(shim_function_t *fn);

/* adds the direct calls made since the last count to the stats */
void shim_instance_count_direct(shim_instance_t *inst);

/* direct calls in flight: 0 or 1 */
unsigned shim_instance_direct_in_flight(shim_instance_t *inst);

/*
 * The id a worker left in the instance's slot with its latest direct
 * call, into buf (33 bytes): 0, or -1 when there is none.
 */
int shim_instance_direct_request_id(shim_instance_t *inst, char *buf);

/*
 * Once a second while instances take direct calls: a direct call in
 * flight for longer than its timeout has lost its worker (a worker
 * enforces the timeout itself), and its instance is killed
 */
void shim_instance_direct_watch(shim_timer_t *t);

/* a worker gave up a direct call (timeout): the instance is killed */
void shim_instance_abandoned(shim_ctx_t *ctx, uint64_t id, uint32_t slot,
    uint32_t gen, const char *request_id, uint64_t after_ms);

/* serves the next waiting requests while it has room, or goes idle */
void shim_instance_available(shim_instance_t *inst);

/* the timeout of a call r that an instance serves */
void shim_instance_call_timeout(shim_request_t *r);

/* r, bound to a starting instance, went away */
void shim_instance_unbind(shim_request_t *r);

/* SIGCHLD */
void shim_instance_reap(shim_ctx_t *ctx);

/* the version lost its last registrant: idle instances go */
void shim_instance_retire(shim_ctx_t *ctx, shim_function_t *fn);

/*
 * calls that the instances starting for a request can take beyond that
 * request, once ready (concurrency)
 */
unsigned shim_function_starting_room(shim_function_t *fn);

/* instances that are not quitting: the ones min_instances counts */
unsigned shim_function_live(shim_function_t *fn);

/*
 * starts instances for waiting requests and the reserved ones that
 * min_instances asks for; frees fn once it is unused
 */
void shim_function_schedule(shim_ctx_t *ctx, shim_function_t *fn);

/* starts spares until idle and starting ones are as many as prewarm asks */
void shim_function_prewarm(shim_ctx_t *ctx, shim_function_t *fn);

/* the code directory changed: new instances, the old ones drain */
void shim_instance_code_changed(shim_ctx_t *ctx, shim_function_t *fn);

void shim_instance_kill_all(shim_ctx_t *ctx, const char *why);

#endif /* SHIM_INSTANCE_H */
