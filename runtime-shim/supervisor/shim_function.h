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
#define SHIM_FUNCTIONS_MAX      65536


struct shim_function_s {
    shim_function_t     *hash_next;

    char                *name;
    char                *version;
    char                *runtime;
    char                *code;
    char                *handler;
    char                *program;         /* what an instance executes */
    json_t              *env;             /* [[name, value], ...] */

    uint64_t             timeout;         /* ms */
    uint64_t             idle_timeout;    /* ms, 0: instances stay */
    uint64_t             queue_timeout;   /* ms, 0: no limit */
    unsigned             max_instances;
    unsigned             queue_size;

    unsigned             refs;            /* control connections */

    shim_queue_t         instances;
    unsigned             ninstances;
    shim_queue_t         idle;            /* LIFO: the warmest first */
    shim_queue_t         spare;           /* starting, for no request */
    shim_queue_t         pending;         /* starting for a request */

    shim_queue_t         waiting;         /* FIFO */
    unsigned             nwaiting;
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

/* FIFO of requests waiting for an instance; enqueue fails when full */
int shim_function_enqueue(shim_function_t *fn, shim_request_t *r);
shim_request_t *shim_function_dequeue(shim_function_t *fn);
void shim_function_unqueue(shim_function_t *fn, shim_request_t *r);

#endif /* SHIM_FUNCTION_H */
