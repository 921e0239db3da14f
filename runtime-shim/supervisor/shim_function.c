/*
 * The function table, see shim_function.h.  Pure data: no I/O here but
 * closing a function's output file, so the unit tests exercise it as is.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim.h"


static int shim_function_string(json_t *def, const char *key, size_t max,
    int path, char **out, char *err, size_t errlen);
static int shim_function_integer(json_t *def, const char *key,
    long long min, long long max, int required, long long dflt,
    long long *out, char *err, size_t errlen);
static int shim_function_output(json_t *def, shim_function_t *fn,
    char *err, size_t errlen);
static int shim_function_seccomp(json_t *def, shim_function_t *fn,
    char *err, size_t errlen);
static int shim_function_env(json_t *def, shim_function_t *fn, char *err,
    size_t errlen);
static int shim_function_program(shim_function_t *fn,
    const char *runtime_dir, char *err, size_t errlen);
static int shim_text_valid(const char *s, size_t len);
static int shim_error(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static size_t shim_function_hash(const char *name, const char *version);
static int shim_function_table_grow(shim_function_table_t *t);


int
shim_register_parse(shim_register_t *reg, const uint8_t *payload,
    size_t len, const char *runtime_dir, char *err, size_t errlen)
{
    int                     rc;
    size_t                  i;
    json_t                 *root, *v, *list;
    json_error_t            jerr;
    shim_function_t        *fn;
    shim_function_table_t   seen;

    reg->generation = NULL;
    reg->pid = 0;
    reg->nfunctions = 0;
    reg->functions = NULL;

    root = json_loadb((const char *) payload, len, JSON_REJECT_DUPLICATES,
                      &jerr);
    if (root == NULL) {
        return shim_error(err, errlen, "invalid JSON: %s at offset %d",
                          jerr.text, jerr.position);
    }

    seen.buckets = NULL;
    rc = -1;

    if (!json_is_object(root)) {
        shim_error(err, errlen, "not a JSON object");
        goto done;
    }

    v = json_object_get(root, "generation");
    if (!json_is_string(v) || json_string_length(v) == 0
        || json_string_length(v) > SHIM_VERSION_MAX
        || !shim_text_valid(json_string_value(v), json_string_length(v)))
    {
        shim_error(err, errlen, "\"generation\" must be a string of 1 to %d "
                   "printable characters", SHIM_VERSION_MAX);
        goto done;
    }

    reg->generation = strdup(json_string_value(v));
    if (reg->generation == NULL) {
        shim_error(err, errlen, "out of memory");
        goto done;
    }

    if (shim_function_integer(root, "pid", 1, 0x7fffffff, 1, 0, &reg->pid,
                              err, errlen)
        != 0)
    {
        goto done;
    }

    list = json_object_get(root, "functions");
    if (!json_is_array(list) || json_array_size(list) > SHIM_FUNCTIONS_MAX) {
        shim_error(err, errlen, "\"functions\" must be an array of at most "
                   "%d definitions", SHIM_FUNCTIONS_MAX);
        goto done;
    }

    if (shim_function_table_init(&seen) != 0) {
        shim_error(err, errlen, "out of memory");
        goto done;
    }

    if (json_array_size(list) > 0) {
        reg->functions = calloc(json_array_size(list),
                                sizeof(shim_function_t *));
        if (reg->functions == NULL) {
            shim_error(err, errlen, "out of memory");
            goto done;
        }
    }

    json_array_foreach(list, i, v) {
        fn = shim_function_parse(v, runtime_dir, err, errlen);
        if (fn == NULL) {
            goto done;
        }

        reg->functions[reg->nfunctions++] = fn;

        if (shim_function_find(&seen, fn->name, fn->version) != NULL) {
            shim_error(err, errlen, "function \"%s\" version %s is "
                       "defined twice", fn->name, fn->version);
            goto done;
        }

        if (shim_function_insert(&seen, fn) != 0) {
            shim_error(err, errlen, "out of memory");
            goto done;
        }
    }

    rc = 0;

done:

    /* the entries only borrowed their links for the duplicate check */
    for (i = 0; i < reg->nfunctions; i++) {
        reg->functions[i]->hash_next = NULL;
    }

    free(seen.buckets);
    json_decref(root);

    if (rc != 0) {
        shim_register_free(reg);
    }

    return rc;
}


void
shim_register_free(shim_register_t *reg)
{
    size_t  i;

    for (i = 0; i < reg->nfunctions; i++) {
        if (reg->functions[i] != NULL) {
            shim_function_free(reg->functions[i]);
        }
    }

    free(reg->functions);
    free(reg->generation);

    reg->functions = NULL;
    reg->nfunctions = 0;
    reg->generation = NULL;
}


shim_function_t *
shim_function_parse(json_t *def, const char *runtime_dir, char *err,
    size_t errlen)
{
    long long         n;
    shim_function_t  *fn;

    if (!json_is_object(def)) {
        shim_error(err, errlen, "a function definition is not an object");
        return NULL;
    }

    fn = calloc(1, sizeof(shim_function_t));
    if (fn == NULL) {
        shim_error(err, errlen, "out of memory");
        return NULL;
    }

    shim_queue_init(&fn->instances);
    shim_queue_init(&fn->idle);
    shim_queue_init(&fn->spare);
    shim_queue_init(&fn->pending);
    shim_queue_init(&fn->open);
    shim_queue_init(&fn->waiting);
    fn->output_fd = -1;

    if (shim_function_string(def, "name", SHIM_NAME_MAX, 0, &fn->name,
                             err, errlen) != 0)
    {
        goto failed;
    }

    /* from here on, errors name the function */

    if (shim_function_string(def, "version", SHIM_VERSION_MAX, 0,
                             &fn->version, err, errlen) != 0
        || shim_function_string(def, "runtime", SHIM_RUNTIME_MAX, 0,
                                &fn->runtime, err, errlen) != 0
        || shim_function_string(def, "code", SHIM_PATH_MAX, 1, &fn->code,
                                err, errlen) != 0
        || shim_function_string(def, "handler", SHIM_HANDLER_MAX, 0,
                                &fn->handler, err, errlen) != 0)
    {
        goto named_failed;
    }

    if (shim_function_integer(def, "timeout_ms", 1, SHIM_TIME_MAX, 1, 0,
                              &n, err, errlen) != 0)
    {
        goto named_failed;
    }

    fn->timeout = (uint64_t) n;

    /* the sandbox: see docs/security.md */

    if (shim_function_integer(def, "memory", SHIM_MEMORY_MIN,
                              SHIM_MEMORY_MAX, 0, 256 * 1024 * 1024, &n, err,
                              errlen) != 0)
    {
        goto named_failed;
    }

    fn->memory = (uint64_t) n;

    if (shim_function_integer(def, "pids", 1, SHIM_PIDS_MAX, 0, 64, &n, err,
                              errlen) != 0)
    {
        goto named_failed;
    }

    fn->pids = (unsigned) n;

    if (shim_function_integer(def, "cpu", 0, SHIM_CPU_MAX, 0, 0, &n, err,
                              errlen) != 0)
    {
        goto named_failed;
    }

    fn->cpu = (unsigned) n;

    if (shim_function_integer(def, "network", 0, 1, 0, 0, &n, err, errlen)
        != 0)
    {
        goto named_failed;
    }

    fn->network = (unsigned) n;

    /*
     * The supervisor runs as root and the socket may be reached by a
     * compromised worker: root is refused here, whatever nginx -t said.
     */

    if (json_object_get(def, "uid") != NULL) {
        if (shim_function_integer(def, "uid", 0, 0xfffffffeLL, 1, 0, &n,
                                  err, errlen) != 0)
        {
            goto named_failed;
        }

        fn->uid = (uid_t) n;

        if (shim_function_integer(def, "gid", 0, 0xfffffffeLL, 1, 0, &n,
                                  err, errlen) != 0)
        {
            goto named_failed;
        }

        fn->gid = (gid_t) n;
        fn->user = 1;

        if (fn->uid == 0 || fn->gid == 0) {
            shim_error(err, errlen, "user %s 0 (root) refused",
                       fn->uid == 0 ? "uid" : "gid");
            goto named_failed;
        }
    }

    if (shim_function_integer(def, "tmp_size", SHIM_TMP_SIZE_MIN,
                              SHIM_MEMORY_MAX, 0, 16 * 1024 * 1024, &n, err,
                              errlen) != 0)
    {
        goto named_failed;
    }

    fn->tmp_size = (uint64_t) n;

    if (shim_function_integer(def, "idle_timeout_ms", 0, SHIM_TIME_MAX, 0,
                              60000, &n, err, errlen) != 0)
    {
        goto named_failed;
    }

    fn->idle_timeout = (uint64_t) n;

    if (shim_function_integer(def, "max_instances", 1, SHIM_INSTANCES_MAX,
                              0, 8, &n, err, errlen) != 0)
    {
        goto named_failed;
    }

    fn->max_instances = (unsigned) n;

    if (shim_function_integer(def, "queue_size", 0, SHIM_QUEUE_MAX, 0, 64,
                              &n, err, errlen) != 0)
    {
        goto named_failed;
    }

    fn->queue_size = (unsigned) n;

    if (shim_function_integer(def, "queue_timeout_ms", 0, SHIM_TIME_MAX, 0,
                              10000, &n, err, errlen) != 0)
    {
        goto named_failed;
    }

    fn->queue_timeout = (uint64_t) n;

    if (shim_function_integer(def, "min_instances", 0, fn->max_instances, 0,
                              0, &n, err, errlen) != 0)
    {
        goto named_failed;
    }

    fn->min_instances = (unsigned) n;

    if (shim_function_integer(def, "prewarm", 0, fn->max_instances, 0,
                              0, &n, err, errlen) != 0)
    {
        goto named_failed;
    }

    fn->prewarm = (unsigned) n;

    if (shim_function_integer(def, "max_requests", 0, SHIM_REQUESTS_MAX, 0,
                              0, &n, err, errlen) != 0)
    {
        goto named_failed;
    }

    fn->max_requests = (unsigned) n;

    if (shim_function_integer(def, "concurrency", 1, SHIM_CONCURRENCY_MAX, 0,
                              1, &n, err, errlen) != 0)
    {
        goto named_failed;
    }

    fn->concurrency = (unsigned) n;

    /* the others wait their turn inside the instance */

    if (shim_function_integer(def, "threads", 1, fn->concurrency, 0,
                              fn->concurrency, &n, err, errlen) != 0)
    {
        goto named_failed;
    }

    fn->threads = (unsigned) n;

    if (shim_function_integer(def, "overload_status", 429, 503, 0, 503, &n,
                              err, errlen) != 0)
    {
        goto named_failed;
    }

    if (n != 429 && n != 503) {
        shim_error(err, errlen, "\"overload_status\" must be 429 or 503");
        goto named_failed;
    }

    fn->overload_status = (int) n;

    /* the runtime checks the initializer as it checks the handler */

    if (json_object_get(def, "initializer") != NULL
        && shim_function_string(def, "initializer", SHIM_HANDLER_MAX, 0,
                                &fn->initializer, err, errlen) != 0)
    {
        goto named_failed;
    }

    if (shim_function_integer(def, "debug", 0, 1, 0, 0, &n, err, errlen)
        != 0)
    {
        goto named_failed;
    }

    fn->debug = (unsigned) n;

    if (shim_function_output(def, fn, err, errlen) != 0
        || shim_function_seccomp(def, fn, err, errlen) != 0
        || shim_function_env(def, fn, err, errlen) != 0
        || shim_function_program(fn, runtime_dir, err, errlen) != 0)
    {
        goto named_failed;
    }

    return fn;

named_failed:

    {
        char  *reason;

        reason = strdup(err);
        if (reason != NULL) {
            shim_error(err, errlen, "function \"%s\": %s", fn->name, reason);
            free(reason);
        }
    }

failed:

    shim_function_free(fn);

    return NULL;
}


void
shim_function_free(shim_function_t *fn)
{
    free(fn->name);
    free(fn->version);
    free(fn->runtime);
    free(fn->code);
    free(fn->handler);
    free(fn->initializer);
    free(fn->output_path);
    free(fn->program);
    free(fn->program_in_code);

    if (fn->output_fd != -1) {
        close(fn->output_fd);
    }

    if (fn->env != NULL) {
        json_decref(fn->env);
    }

    free(fn);
}


static int
shim_function_string(json_t *def, const char *key, size_t max, int path,
    char **out, char *err, size_t errlen)
{
    json_t      *v;
    size_t       len;
    const char  *s;

    v = json_object_get(def, key);

    if (!json_is_string(v)) {
        return shim_error(err, errlen, "\"%s\" must be a string", key);
    }

    s = json_string_value(v);
    len = json_string_length(v);

    if (len == 0 || len > max || !shim_text_valid(s, len)) {
        return shim_error(err, errlen, "\"%s\" must be 1 to %zu printable "
                          "characters", key, max);
    }

    if (path && s[0] != '/') {
        return shim_error(err, errlen, "\"%s\" must be an absolute path",
                          key);
    }

    *out = strdup(s);
    if (*out == NULL) {
        return shim_error(err, errlen, "out of memory");
    }

    return 0;
}


static int
shim_function_integer(json_t *def, const char *key, long long min,
    long long max, int required, long long dflt, long long *out, char *err,
    size_t errlen)
{
    json_t     *v;
    long long   n;

    v = json_object_get(def, key);

    if (v == NULL && !required) {
        *out = dflt;
        return 0;
    }

    if (!json_is_integer(v)) {
        return shim_error(err, errlen, "\"%s\" must be an integer", key);
    }

    n = json_integer_value(v);

    if (n < min || n > max) {
        return shim_error(err, errlen, "\"%s\" must be from %lld to %lld",
                          key, min, max);
    }

    *out = n;

    return 0;
}


/* "runtime" (the default): the runtime's allowlist too; "base": not */
static int
shim_function_seccomp(json_t *def, shim_function_t *fn, char *err,
    size_t errlen)
{
    json_t      *v;
    const char  *s;

    v = json_object_get(def, "seccomp");

    if (v == NULL) {
        return 0;
    }

    s = json_string_value(v);

    if (s != NULL && strcmp(s, "base") == 0) {
        fn->seccomp_base = 1;
        return 0;
    }

    if (s == NULL || strcmp(s, "runtime") != 0) {
        return shim_error(err, errlen, "\"seccomp\" must be \"runtime\" or "
                          "\"base\"");
    }

    return 0;
}


/* "nginx" (the default), "supervisor", "off" or an absolute file path */
static int
shim_function_output(json_t *def, shim_function_t *fn, char *err,
    size_t errlen)
{
    char  *s;

    fn->output = SHIM_OUTPUT_NGINX;

    if (json_object_get(def, "output") == NULL) {
        return 0;
    }

    if (shim_function_string(def, "output", SHIM_PATH_MAX, 0, &s, err,
                             errlen) != 0)
    {
        return -1;
    }

    if (strcmp(s, "nginx") == 0) {
        fn->output = SHIM_OUTPUT_NGINX;

    } else if (strcmp(s, "supervisor") == 0) {
        fn->output = SHIM_OUTPUT_SUPERVISOR;

    } else if (strcmp(s, "off") == 0) {
        fn->output = SHIM_OUTPUT_OFF;

    } else if (s[0] == '/') {
        fn->output = SHIM_OUTPUT_FILE;
        fn->output_path = s;
        return 0;

    } else {
        free(s);
        return shim_error(err, errlen, "\"output\" must be \"nginx\", "
                          "\"supervisor\", \"off\" or an absolute path");
    }

    free(s);

    return 0;
}


static int
shim_function_env(json_t *def, shim_function_t *fn, char *err, size_t errlen)
{
    size_t       i;
    json_t      *env, *pair, *name, *value;
    const char  *s;

    env = json_object_get(def, "env");

    if (env == NULL) {
        fn->env = json_array();
        return fn->env ? 0 : shim_error(err, errlen, "out of memory");
    }

    if (!json_is_array(env) || json_array_size(env) > SHIM_ENV_MAX) {
        return shim_error(err, errlen, "\"env\" must be an array of at most "
                          "%d pairs", SHIM_ENV_MAX);
    }

    json_array_foreach(env, i, pair) {
        name = json_array_get(pair, 0);
        value = json_array_get(pair, 1);

        if (!json_is_array(pair) || json_array_size(pair) != 2
            || !json_is_string(name) || !json_is_string(value))
        {
            return shim_error(err, errlen, "\"env\" entries must be "
                              "[name, value] string pairs");
        }

        s = json_string_value(name);

        if (json_string_length(name) == 0
            || json_string_length(name) > SHIM_ENV_NAME_MAX
            || strlen(s) != json_string_length(name)
            || strchr(s, '=') != NULL)
        {
            return shim_error(err, errlen, "invalid environment variable "
                              "name \"%s\"", s);
        }

        if (json_string_length(value) > SHIM_ENV_VALUE_MAX
            || strlen(json_string_value(value)) != json_string_length(value))
        {
            return shim_error(err, errlen, "invalid value of environment "
                              "variable \"%s\"", s);
        }
    }

    fn->env = json_incref(env);

    return 0;
}


/*
 * The "c" runtime and any later one are runtime_dir/faas-runtime-NAME;
 * an "exec" function is its own runtime: the handler is the executable,
 * relative to the code directory unless absolute.
 */
static int
shim_function_program(shim_function_t *fn, const char *runtime_dir,
    char *err, size_t errlen)
{
    int          n;
    size_t       size;
    const char  *p;

    for (p = fn->runtime; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')
              || *p == '_' || *p == '-'))
        {
            return shim_error(err, errlen, "invalid runtime \"%s\"",
                              fn->runtime);
        }
    }

    size = strlen(runtime_dir) + strlen(fn->code) + strlen(fn->runtime)
           + strlen(fn->handler) + sizeof("/faas-runtime-");

    fn->program = malloc(size);
    if (fn->program == NULL) {
        return shim_error(err, errlen, "out of memory");
    }

    if (strcmp(fn->runtime, "exec") != 0) {
        n = snprintf(fn->program, size, "%s/faas-runtime-%s", runtime_dir,
                     fn->runtime);


    } else if (fn->handler[0] == '/') {
        n = snprintf(fn->program, size, "%s", fn->handler);

    } else {
        n = snprintf(fn->program, size, "%s/%s", fn->code, fn->handler);

        /* in a sandbox, the code directory is SHIM_SLOT_CODE */

        if (n >= 0 && asprintf(&fn->program_in_code, SHIM_SLOT_CODE "/%s",
                               fn->handler) < 0)
        {
            fn->program_in_code = NULL;
            return shim_error(err, errlen, "out of memory");
        }
    }

    return (n < 0) ? shim_error(err, errlen, "snprintf() failed") : 0;
}


/* no control characters: the strings end up in logs and in argv */
static int
shim_text_valid(const char *s, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if ((unsigned char) s[i] < 0x20 || s[i] == 0x7f) {
            return 0;
        }
    }

    return 1;
}


static int
shim_error(char *err, size_t errlen, const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    vsnprintf(err, errlen, fmt, args);
    va_end(args);

    return -1;
}


int
shim_function_table_init(shim_function_table_t *t)
{
    t->nbuckets = 64;
    t->count = 0;

    t->buckets = calloc(t->nbuckets, sizeof(shim_function_t *));

    return t->buckets ? 0 : -1;
}


/* frees the table and every function still in it */
void
shim_function_table_free(shim_function_table_t *t)
{
    size_t            i;
    shim_function_t  *fn, *next;

    for (i = 0; i < t->nbuckets; i++) {
        for (fn = t->buckets[i]; fn; fn = next) {
            next = fn->hash_next;
            shim_function_free(fn);
        }
    }

    free(t->buckets);
    t->buckets = NULL;
    t->nbuckets = 0;
    t->count = 0;
}


/* FNV-1a over "name\0version" */
static size_t
shim_function_hash(const char *name, const char *version)
{
    uint64_t              h;
    const unsigned char  *p;

    h = 14695981039346656037ULL;

    for (p = (const unsigned char *) name; *p; p++) {
        h = (h ^ *p) * 1099511628211ULL;
    }

    h *= 1099511628211ULL;

    for (p = (const unsigned char *) version; *p; p++) {
        h = (h ^ *p) * 1099511628211ULL;
    }

    return (size_t) h;
}


shim_function_t *
shim_function_find(shim_function_table_t *t, const char *name,
    const char *version)
{
    shim_function_t  *fn;

    fn = t->buckets[shim_function_hash(name, version) & (t->nbuckets - 1)];

    for ( /* void */ ; fn; fn = fn->hash_next) {
        if (strcmp(fn->name, name) == 0 && strcmp(fn->version, version) == 0)
        {
            return fn;
        }
    }

    return NULL;
}


int
shim_function_insert(shim_function_table_t *t, shim_function_t *fn)
{
    size_t  i;

    if (t->count >= t->nbuckets && shim_function_table_grow(t) != 0) {
        return -1;
    }

    i = shim_function_hash(fn->name, fn->version) & (t->nbuckets - 1);

    fn->hash_next = t->buckets[i];
    t->buckets[i] = fn;
    t->count++;

    return 0;
}


void
shim_function_remove(shim_function_table_t *t, shim_function_t *fn)
{
    size_t             i;
    shim_function_t  **p;

    i = shim_function_hash(fn->name, fn->version) & (t->nbuckets - 1);

    for (p = &t->buckets[i]; *p; p = &(*p)->hash_next) {
        if (*p == fn) {
            *p = fn->hash_next;
            fn->hash_next = NULL;
            t->count--;
            return;
        }
    }
}


shim_function_t *
shim_function_next(shim_function_table_t *t, size_t *bucket,
    shim_function_t *fn)
{
    if (fn != NULL && fn->hash_next != NULL) {
        return fn->hash_next;
    }

    if (fn != NULL) {
        (*bucket)++;
    }

    for ( /* void */ ; *bucket < t->nbuckets; (*bucket)++) {
        if (t->buckets[*bucket] != NULL) {
            return t->buckets[*bucket];
        }
    }

    return NULL;
}


static int
shim_function_table_grow(shim_function_table_t *t)
{
    size_t             i, n, j;
    shim_function_t  **buckets, *fn, *next;

    n = t->nbuckets * 2;

    buckets = calloc(n, sizeof(shim_function_t *));
    if (buckets == NULL) {
        return -1;
    }

    for (i = 0; i < t->nbuckets; i++) {
        for (fn = t->buckets[i]; fn; fn = next) {
            next = fn->hash_next;
            j = shim_function_hash(fn->name, fn->version) & (n - 1);
            fn->hash_next = buckets[j];
            buckets[j] = fn;
        }
    }

    free(t->buckets);
    t->buckets = buckets;
    t->nbuckets = n;

    return 0;
}


int
shim_function_enqueue(shim_function_t *fn, shim_request_t *r)
{
    if (fn->nwaiting >= fn->queue_size) {
        return -1;
    }

    shim_queue_insert_tail(&fn->waiting, &r->queue);
    r->queued = 1;
    fn->nwaiting++;

    return 0;
}


shim_request_t *
shim_function_dequeue(shim_function_t *fn)
{
    shim_request_t  *r;

    if (shim_queue_empty(&fn->waiting)) {
        return NULL;
    }

    r = shim_queue_data(shim_queue_head(&fn->waiting), shim_request_t,
                        queue);

    shim_function_unqueue(fn, r);

    return r;
}


void
shim_function_unqueue(shim_function_t *fn, shim_request_t *r)
{
    if (!r->queued) {
        return;
    }

    shim_queue_remove(&r->queue);
    r->queued = 0;
    fn->nwaiting--;
}


void
shim_function_count_call(shim_function_t *fn, int cold, uint64_t start_us)
{
    shim_function_stats_t  *st;

    st = &fn->stats;
    st->calls++;

    if (!cold) {
        return;
    }

    start_us = (start_us < UINT32_MAX) ? start_us : UINT32_MAX;

    st->cold_starts++;
    st->cold_us_sum += start_us;
    st->cold_us[st->cold_next] = (uint32_t) start_us;
    st->cold_next = (st->cold_next + 1) % SHIM_COLD_SAMPLES;

    if (st->ncold < SHIM_COLD_SAMPLES) {
        st->ncold++;
    }
}
