/*
 * The function table: one entry per (name, version) registered by nginx
 * workers, each with its instances and its queue of waiting requests.
 */

#ifndef SHIM_FUNCTION_H
#define SHIM_FUNCTION_H


/* the limits of a definition; the nginx module enforces the same */
#define SHIM_NAME_MAX           255
#define SHIM_VERSION_MAX        64
#define SHIM_RUNTIME_MAX        32
#define SHIM_PATH_MAX           4095
#define SHIM_HANDLER_MAX        1023
#define SHIM_ENV_MAX            1024
#define SHIM_ENV_NAME_MAX       255
#define SHIM_ENV_VALUE_MAX      32767
/* ms: what nginx's msec parser accepts on 64-bit, and fits in us */
#define SHIM_TIME_MAX           9223372036854775LL
#define SHIM_INSTANCES_MAX      10000
#define SHIM_QUEUE_MAX          1000000
#define SHIM_REQUESTS_MAX       1000000000
#define SHIM_CONCURRENCY_MAX    1000
#define SHIM_FUNCTIONS_MAX      65536
/* the sandbox's limits, bytes */
#define SHIM_MEMORY_MIN         (1024 * 1024)
#define SHIM_MEMORY_MAX         (1LL << 50)
#define SHIM_TMP_SIZE_MIN       4096
#define SHIM_PIDS_MAX           4194304
#define SHIM_CPU_MAX            1024000   /* 1/1000 CPUs */


/* where an instance's stdout and stderr lines go */
typedef enum {
    SHIM_OUTPUT_NGINX = 0,                /* LOG frames to a worker */
    SHIM_OUTPUT_SUPERVISOR,               /* the supervisor's own log */
    SHIM_OUTPUT_FILE,
    SHIM_OUTPUT_OFF
} shim_output_e;


/* the failures faas_status counts, by kind */
typedef enum {
    SHIM_FAIL_NONE = 0,
    SHIM_FAIL_CRASH,                      /* died or misbehaved, not asked */
    SHIM_FAIL_TIMEOUT,                    /* a call ran past timeout */
    SHIM_FAIL_QUEUE_FULL,
    SHIM_FAIL_QUEUE_TIMEOUT,
    SHIM_FAIL_START_FAILED,               /* no READY: error, death, time */
    SHIM_FAIL_KINDS
} shim_fail_e;


/* recent cold-start times kept for the percentiles of faas_status */
#define SHIM_COLD_SAMPLES       256


typedef struct {
    uint64_t             calls;           /* dispatched to an instance,
                                             or made directly */
    uint64_t             direct_calls;    /* made by nginx directly */
    uint64_t             cold_starts;
    uint64_t             prewarm_hits;    /* first calls of instances
                                             that were ready before */
    uint64_t             cold_us_sum;
    uint64_t             cold_by_layer[3]; /* shim_layer_e: none, sandbox,
                                              runtime */
    uint64_t             failures[SHIM_FAIL_KINDS];
    uint32_t             cold_us[SHIM_COLD_SAMPLES];  /* a ring */
    unsigned             ncold;
    unsigned             cold_next;
} shim_function_stats_t;


struct shim_function_s {
    shim_function_t     *hash_next;

    char                *name;
    char                *version;
    char                *runtime;
    char                *code;
    char                *handler;
    char                *program;         /* what an instance executes */
    char                *program_in_code; /* exec: the program's path
                                             in a sandbox, /code/...;
                                             NULL when absolute */
    char                *initializer;     /* NULL: none */
    shim_output_e        output;
    char                *output_path;     /* SHIM_OUTPUT_FILE */
    int                  output_fd;       /* opened at the first line */
    unsigned             debug:1;         /* tracebacks in 502 bodies */
    json_t              *env;             /* [[name, value], ...] */

    uint64_t             timeout;         /* ms */
    uint64_t             idle_timeout;    /* ms, 0: instances stay */
    uint64_t             queue_timeout;   /* ms, 0: no limit */
    uint64_t             memory;          /* cgroup limit, bytes */
    uint64_t             tmp_size;        /* the instance's /tmp, bytes */
    unsigned             pids;            /* processes and threads */
    unsigned             cpu;             /* 1/1000 CPUs, 0: no quota */
    unsigned             network:1;       /* the host's network */
    unsigned             seccomp_base:1;  /* no runtime allowlist */
    unsigned             user:1;          /* uid and gid are the function's
                                             own "user" */
    uid_t                uid;             /* what its instances run as */
    gid_t                gid;
    char                 user_error[160]; /* why it may not: its calls
                                             fail; "" when it may */
    unsigned             max_instances;
    unsigned             min_instances;   /* reserved: never reaped */
    unsigned             prewarm;         /* ready and idle beyond the
                                             busy ones */
    unsigned             max_requests;    /* recycle after; 0: never */
    unsigned             concurrency;     /* calls one instance serves at
                                             once */
    unsigned             threads;         /* of those, run at once (c) */
    unsigned             queue_size;
    int                  overload_status; /* queue full or timed out */

    unsigned             refs;            /* control connections */
    unsigned             code_generation; /* bumped by a code update */
    unsigned             replace;         /* instances of updated code
                                             still to start */
    unsigned             reserve_paused:1; /* a reserved start failed */

    shim_queue_t         instances;
    unsigned             ninstances;
    shim_queue_t         idle;            /* LIFO: the warmest first */
    shim_queue_t         spare;           /* starting, for no request */
    shim_queue_t         pending;         /* starting for a request */
    shim_queue_t         open;            /* busy, with room for more */

    shim_queue_t         waiting;         /* FIFO */
    unsigned             nwaiting;

    shim_function_stats_t  stats;
};


typedef struct {
    shim_function_t    **buckets;
    size_t               nbuckets;
    size_t               count;
} shim_function_table_t;


/* a parsed REGISTER frame; functions[] are new, unlinked entries */
typedef struct {
    char                *generation;
    long long            pid;
    size_t               nfunctions;
    shim_function_t    **functions;
} shim_register_t;


int shim_register_parse(shim_register_t *reg, const uint8_t *payload,
    size_t len, const char *runtime_dir, char *err, size_t errlen);
void shim_register_free(shim_register_t *reg);

shim_function_t *shim_function_parse(json_t *def, const char *runtime_dir,
    char *err, size_t errlen);
void shim_function_free(shim_function_t *fn);

int shim_function_table_init(shim_function_table_t *t);
void shim_function_table_free(shim_function_table_t *t);
shim_function_t *shim_function_find(shim_function_table_t *t,
    const char *name, const char *version);
int shim_function_insert(shim_function_table_t *t, shim_function_t *fn);
void shim_function_remove(shim_function_table_t *t, shim_function_t *fn);
/* iteration: start with *bucket = 0 and fn = NULL */
shim_function_t *shim_function_next(shim_function_table_t *t,
    size_t *bucket, shim_function_t *fn);

/* a call dispatched; a cold one took start_us to start */
void shim_function_count_call(shim_function_t *fn, int cold,
    uint64_t start_us);

/* FIFO of requests waiting for an instance; enqueue fails when full */
int shim_function_enqueue(shim_function_t *fn, shim_request_t *r);
shim_request_t *shim_function_dequeue(shim_function_t *fn);
void shim_function_unqueue(shim_function_t *fn, shim_request_t *r);

#endif /* SHIM_FUNCTION_H */
