/*
 * Unit tests: function definitions, the function table and the queue.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "shim.h"


#define DEF(extra)                                                            \
    "{\"name\":\"hello\",\"version\":\"v1\",\"runtime\":\"c\","               \
    "\"code\":\"/srv/hello\",\"handler\":\"handle\",\"timeout_ms\":3000"      \
    extra "}"


static shim_function_t *
parse(const char *text, char *err, size_t errlen)
{
    json_t           *json;
    shim_function_t  *fn;

    json = json_loads(text, 0, NULL);
    assert_non_null(json);

    fn = shim_function_parse(json, "/rt", err, errlen);

    json_decref(json);

    return fn;
}


static void
test_parse_full(void **state)
{
    char              err[256];
    size_t            n;
    shim_function_t  *fn;

    (void) state;

    fn = parse(DEF(",\"idle_timeout_ms\":0,\"max_instances\":2,"
                   "\"queue_size\":0,\"queue_timeout_ms\":250,"
                   "\"env\":[[\"GREETING\",\"hi\"],[\"EMPTY\",\"\"]],"
                   "\"unknown\":true"), err, sizeof(err));
    assert_non_null(fn);

    assert_string_equal(fn->name, "hello");
    assert_string_equal(fn->version, "v1");
    assert_string_equal(fn->code, "/srv/hello");
    assert_string_equal(fn->program, "/rt/faas-runtime-c");
    assert_int_equal(fn->timeout, 3000);
    assert_int_equal(fn->idle_timeout, 0);
    assert_int_equal(fn->max_instances, 2);
    assert_int_equal(fn->queue_size, 0);
    assert_int_equal(fn->queue_timeout, 250);

    n = json_array_size(fn->env);
    assert_int_equal(n, 2);

    shim_function_free(fn);
}


static void
test_parse_defaults(void **state)
{
    char              err[256];
    shim_function_t  *fn;

    (void) state;

    fn = parse(DEF(""), err, sizeof(err));
    assert_non_null(fn);

    assert_int_equal(fn->idle_timeout, 60000);
    assert_int_equal(fn->max_instances, 8);
    assert_int_equal(fn->queue_size, 64);
    assert_int_equal(fn->queue_timeout, 10000);
    assert_int_equal(fn->min_instances, 0);
    assert_int_equal(fn->prewarm, 0);
    assert_int_equal(fn->max_requests, 0);
    assert_int_equal(fn->concurrency, 1);
    assert_int_equal(fn->threads, 1);
    assert_int_equal(fn->overload_status, 503);
    assert_int_equal(json_array_size(fn->env), 0);

    shim_function_free(fn);
}


static void
test_parse_threads(void **state)
{
    char              err[256];
    shim_function_t  *fn;

    (void) state;

    fn = parse(DEF(",\"concurrency\":32,\"threads\":1"), err, sizeof(err));
    assert_non_null(fn);

    assert_int_equal(fn->concurrency, 32);
    assert_int_equal(fn->threads, 1);

    shim_function_free(fn);
}


static void
test_parse_capacity(void **state)
{
    char              err[256];
    shim_function_t  *fn;

    (void) state;

    fn = parse(DEF(",\"max_instances\":4,\"min_instances\":4,"
                   "\"prewarm\":4,\"max_requests\":3,"
                   "\"concurrency\":16,\"overload_status\":429"),
               err, sizeof(err));
    assert_non_null(fn);

    assert_int_equal(fn->min_instances, 4);
    assert_int_equal(fn->prewarm, 4);
    assert_int_equal(fn->max_requests, 3);
    assert_int_equal(fn->concurrency, 16);
    /* one thread per call unless told otherwise */
    assert_int_equal(fn->threads, 16);
    assert_int_equal(fn->overload_status, 429);

    shim_function_free(fn);
}


/* the ring of cold-start samples keeps the most recent ones */
static void
test_count_call(void **state)
{
    char              err[256];
    unsigned          i;
    shim_function_t  *fn;

    (void) state;

    fn = parse(DEF(""), err, sizeof(err));
    assert_non_null(fn);

    shim_function_count_call(fn, 0, 0);
    shim_function_count_call(fn, 1, 812);

    assert_int_equal(fn->stats.calls, 2);
    assert_int_equal(fn->stats.cold_starts, 1);
    assert_int_equal(fn->stats.ncold, 1);
    assert_int_equal(fn->stats.cold_us[0], 812);

    for (i = 0; i < SHIM_COLD_SAMPLES + 10; i++) {
        shim_function_count_call(fn, 1, 1000 + i);
    }

    assert_int_equal(fn->stats.cold_starts, SHIM_COLD_SAMPLES + 11);
    assert_int_equal(fn->stats.ncold, SHIM_COLD_SAMPLES);
    assert_int_equal(fn->stats.cold_next, 11);
    assert_int_equal(fn->stats.cold_us[10], 1000 + SHIM_COLD_SAMPLES + 9);

    /* more than 2^32 us is kept as the most a sample holds */
    shim_function_count_call(fn, 1, 1ULL << 40);
    assert_int_equal(fn->stats.cold_us[11], UINT32_MAX);

    shim_function_free(fn);
}


static void
test_parse_exec(void **state)
{
    char              err[256];
    shim_function_t  *fn;

    (void) state;

    fn = parse("{\"name\":\"x\",\"version\":\"1\",\"runtime\":\"exec\","
               "\"code\":\"/srv/x\",\"handler\":\"bin/run\","
               "\"timeout_ms\":1}", err, sizeof(err));
    assert_non_null(fn);
    assert_string_equal(fn->program, "/srv/x/bin/run");
    assert_string_equal(fn->program_in_code, SHIM_SLOT_CODE "/bin/run");
    shim_function_free(fn);

    fn = parse("{\"name\":\"x\",\"version\":\"1\",\"runtime\":\"exec\","
               "\"code\":\"/srv/x\",\"handler\":\"/usr/bin/run\","
               "\"timeout_ms\":1}", err, sizeof(err));
    assert_non_null(fn);
    assert_string_equal(fn->program, "/usr/bin/run");
    assert_null(fn->program_in_code);
    shim_function_free(fn);
}


/* the runtimes' members: initializer, debug, output */
static void
test_parse_runtime_members(void **state)
{
    char              err[256];
    shim_function_t  *fn;

    (void) state;

    fn = parse(DEF(""), err, sizeof(err));
    assert_non_null(fn);
    assert_null(fn->initializer);
    assert_int_equal(fn->debug, 0);
    assert_int_equal(fn->output, SHIM_OUTPUT_NGINX);
    assert_int_equal(fn->output_fd, -1);
    assert_int_equal(fn->cpu, 0);
    assert_string_equal(fn->program, "/rt/faas-runtime-c");
    shim_function_free(fn);

    fn = parse(DEF(",\"initializer\":\"init\",\"debug\":1,"
                   "\"output\":\"/var/log/faas/hello.log\""),
               err, sizeof(err));
    assert_non_null(fn);
    assert_string_equal(fn->initializer, "init");
    assert_int_equal(fn->debug, 1);
    assert_int_equal(fn->output, SHIM_OUTPUT_FILE);
    assert_string_equal(fn->output_path, "/var/log/faas/hello.log");
    shim_function_free(fn);

    fn = parse(DEF(",\"output\":\"supervisor\""), err, sizeof(err));
    assert_non_null(fn);
    assert_int_equal(fn->output, SHIM_OUTPUT_SUPERVISOR);
    shim_function_free(fn);

    fn = parse(DEF(",\"output\":\"off\""), err, sizeof(err));
    assert_non_null(fn);
    assert_int_equal(fn->output, SHIM_OUTPUT_OFF);
    shim_function_free(fn);

    /* the runtime's seccomp allowlist unless "base" */
    fn = parse(DEF(""), err, sizeof(err));
    assert_non_null(fn);
    assert_int_equal(fn->seccomp_base, 0);
    shim_function_free(fn);

    fn = parse(DEF(",\"seccomp\":\"runtime\""), err, sizeof(err));
    assert_non_null(fn);
    assert_int_equal(fn->seccomp_base, 0);
    shim_function_free(fn);

    fn = parse(DEF(",\"seccomp\":\"base\""), err, sizeof(err));
    assert_non_null(fn);
    assert_int_equal(fn->seccomp_base, 1);
    shim_function_free(fn);
}


static void
test_parse_invalid(void **state)
{
    size_t             i;
    char               err[256];
    shim_function_t   *fn;

    static const struct {
        const char  *json;
        const char  *error;
    } bad[] = {
        { "[]", "not an object" },
        { "{\"version\":\"v1\"}", "\"name\" must be a string" },
        { "{\"name\":\"\"}", "\"name\" must be 1 to" },
        { "{\"name\":\"a\\nb\"}", "printable" },
        { "{\"name\":\"x\",\"version\":1}", "\"version\" must be a string" },
        { DEF(",\"code\":1"), NULL },
        { "{\"name\":\"x\",\"version\":\"1\",\"runtime\":\"c\","
          "\"code\":\"relative\",\"handler\":\"h\",\"timeout_ms\":1}",
          "absolute path" },
        { "{\"name\":\"x\",\"version\":\"1\",\"runtime\":\"../c\","
          "\"code\":\"/c\",\"handler\":\"h\",\"timeout_ms\":1}",
          "invalid runtime" },
        { "{\"name\":\"x\",\"version\":\"1\",\"runtime\":\"c\","
          "\"code\":\"/c\",\"handler\":\"h\"}", "\"timeout_ms\" must be" },
        { "{\"name\":\"x\",\"version\":\"1\",\"runtime\":\"c\","
          "\"code\":\"/c\",\"handler\":\"h\",\"timeout_ms\":0}",
          "\"timeout_ms\" must be from 1" },
        { "{\"name\":\"x\",\"version\":\"1\",\"runtime\":\"c\","
          "\"code\":\"/c\",\"handler\":\"h\",\"timeout_ms\":1.5}",
          "must be an integer" },
        { DEF(",\"max_instances\":0"), "\"max_instances\" must be from 1" },
        { DEF(",\"max_instances\":10001"), "to 10000" },
        { DEF(",\"queue_size\":-1"), "\"queue_size\"" },
        { DEF(",\"queue_size\":1000001"), "\"queue_size\"" },
        { DEF(",\"idle_timeout_ms\":-1"), "\"idle_timeout_ms\"" },
        { DEF(",\"max_instances\":2,\"min_instances\":3"),
          "\"min_instances\" must be from 0 to 2" },
        { DEF(",\"min_instances\":-1"), "\"min_instances\"" },
        { DEF(",\"max_instances\":2,\"prewarm\":3"),
          "\"prewarm\" must be from 0 to 2" },
        { DEF(",\"prewarm\":-1"), "\"prewarm\"" },
        { DEF(",\"max_requests\":-1"), "\"max_requests\"" },
        { DEF(",\"concurrency\":0"), "\"concurrency\" must be from 1" },
        { DEF(",\"concurrency\":1001"), "to 1000" },
        { DEF(",\"concurrency\":2,\"threads\":3"),
          "\"threads\" must be from 1 to 2" },
        { DEF(",\"threads\":0"), "\"threads\"" },
        { DEF(",\"overload_status\":500"), "\"overload_status\"" },
        { DEF(",\"overload_status\":\"429\""), "\"overload_status\"" },
        { DEF(",\"env\":{}"), "\"env\" must be an array" },
        { DEF(",\"env\":[[\"A\"]]"), "pairs" },
        { DEF(",\"env\":[[\"A\",1]]"), "pairs" },
        { DEF(",\"env\":[[\"A=B\",\"c\"]]"), "invalid environment" },
        { DEF(",\"env\":[[\"\",\"c\"]]"), "invalid environment" },
        { DEF(",\"initializer\":1"), "\"initializer\" must be a string" },
        { DEF(",\"initializer\":\"\""), "\"initializer\" must be 1 to" },
        { DEF(",\"debug\":2"), "\"debug\" must be from 0 to 1" },
        { DEF(",\"cpu\":-1"), "\"cpu\" must be from 0 to 1024000" },
        { DEF(",\"cpu\":1024001"), "\"cpu\"" },
        { DEF(",\"output\":\"logs/x.log\""), "\"output\" must be" },
        { DEF(",\"output\":true"), "\"output\" must be a string" },
        { DEF(",\"seccomp\":\"off\""),
          "\"seccomp\" must be \"runtime\" or \"base\"" },
        { DEF(",\"seccomp\":0"), "\"seccomp\" must be" },
        { DEF(",\"uid\":0,\"gid\":5"),
          "function \"hello\": user uid 0 (root) refused" },
        { DEF(",\"uid\":5,\"gid\":0"),
          "function \"hello\": user gid 0 (root) refused" },
        { DEF(",\"uid\":5"), "\"gid\" must be" },
        { DEF(",\"uid\":-1,\"gid\":5"), "\"uid\" must be from 0" },
        { DEF(",\"uid\":4294967295,\"gid\":5"), "\"uid\"" },
    };

    (void) state;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        fn = parse(bad[i].json, err, sizeof(err));

        if (fn != NULL) {
            fail_msg("accepted %s", bad[i].json);
        }

        if (bad[i].error != NULL && strstr(err, bad[i].error) == NULL) {
            fail_msg("%s: error \"%s\" lacks \"%s\"", bad[i].json, err,
                     bad[i].error);
        }
    }

    /* a named function's errors name it */
    fn = parse(DEF(",\"max_instances\":0"), err, sizeof(err));
    assert_null(fn);
    assert_non_null(strstr(err, "function \"hello\": "));
}


static void
test_register(void **state)
{
    char             err[256];
    const char      *text;
    shim_register_t  reg;

    (void) state;

    text = "{\"generation\":\"g1\",\"pid\":42,\"functions\":["
           DEF("") ","
           "{\"name\":\"hello\",\"version\":\"v2\",\"runtime\":\"c\","
           "\"code\":\"/srv/hello\",\"handler\":\"handle\","
           "\"timeout_ms\":3000}]}";

    assert_int_equal(shim_register_parse(&reg, (const uint8_t *) text,
                                         strlen(text), "/rt", err,
                                         sizeof(err)), 0);

    assert_string_equal(reg.generation, "g1");
    assert_int_equal(reg.pid, 42);
    assert_int_equal(reg.nfunctions, 2);
    assert_string_equal(reg.functions[1]->version, "v2");
    assert_null(reg.functions[0]->hash_next);

    shim_register_free(&reg);

    text = "{\"generation\":\"g1\",\"pid\":42,\"functions\":[]}";

    assert_int_equal(shim_register_parse(&reg, (const uint8_t *) text,
                                         strlen(text), "/rt", err,
                                         sizeof(err)), 0);
    assert_int_equal(reg.nfunctions, 0);

    shim_register_free(&reg);
}


static void
test_register_invalid(void **state)
{
    size_t           i;
    char             err[256];
    shim_register_t  reg;

    static const struct {
        const char  *json;
        const char  *error;
    } bad[] = {
        { "{", "invalid JSON" },
        { "[]", "not a JSON object" },
        { "{\"pid\":1,\"functions\":[]}", "\"generation\"" },
        { "{\"generation\":\"g\",\"functions\":[]}", "\"pid\"" },
        { "{\"generation\":\"g\",\"pid\":0,\"functions\":[]}", "\"pid\"" },
        { "{\"generation\":\"g\",\"pid\":1}", "\"functions\"" },
        { "{\"generation\":\"g\",\"pid\":1,\"functions\":{}}",
          "\"functions\"" },
        { "{\"generation\":\"g\",\"pid\":1,\"functions\":[1]}",
          "not an object" },
        { "{\"generation\":\"g\",\"pid\":1,\"pid\":2,\"functions\":[]}",
          "duplicate" },
        { "{\"generation\":\"g\",\"pid\":1,\"functions\":["
          DEF("") "," DEF("") "]}", "defined twice" },
        { "{\"generation\":\"g\",\"pid\":1,\"functions\":["
          DEF("") "," DEF(",\"timeout_ms\":0") "]}", "timeout_ms" },
    };

    (void) state;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';

        if (shim_register_parse(&reg, (const uint8_t *) bad[i].json,
                                strlen(bad[i].json), "/rt", err, sizeof(err))
            == 0)
        {
            fail_msg("accepted %s", bad[i].json);
        }

        if (strstr(err, bad[i].error) == NULL) {
            fail_msg("%s: error \"%s\" lacks \"%s\"", bad[i].json, err,
                     bad[i].error);
        }

        assert_null(reg.functions);
        assert_null(reg.generation);
    }
}


static shim_function_t *
make(const char *name, const char *version)
{
    char              text[512], err[256];
    shim_function_t  *fn;

    snprintf(text, sizeof(text), "{\"name\":\"%s\",\"version\":\"%s\","
             "\"runtime\":\"c\",\"code\":\"/c\",\"handler\":\"h\","
             "\"timeout_ms\":1,\"queue_size\":3}", name, version);

    fn = parse(text, err, sizeof(err));
    assert_non_null(fn);

    return fn;
}


static void
test_table(void **state)
{
    char                    name[32];
    size_t                  i, n, bucket;
    shim_function_t        *fn, *a, *b, *fns[300];
    shim_function_table_t   t;

    (void) state;

    assert_int_equal(shim_function_table_init(&t), 0);

    a = make("hello", "v1");
    b = make("hello", "v2");

    assert_int_equal(shim_function_insert(&t, a), 0);
    assert_int_equal(shim_function_insert(&t, b), 0);

    assert_ptr_equal(shim_function_find(&t, "hello", "v1"), a);
    assert_ptr_equal(shim_function_find(&t, "hello", "v2"), b);
    assert_null(shim_function_find(&t, "hello", "v3"));
    assert_null(shim_function_find(&t, "hell", "ov1"));

    /* enough entries to make the table grow several times */
    for (i = 0; i < 300; i++) {
        snprintf(name, sizeof(name), "f%zu", i);
        fns[i] = make(name, "v");
        assert_int_equal(shim_function_insert(&t, fns[i]), 0);
    }

    assert_int_equal(t.count, 302);
    assert_true(t.nbuckets >= 302);

    for (i = 0; i < 300; i++) {
        snprintf(name, sizeof(name), "f%zu", i);
        assert_ptr_equal(shim_function_find(&t, name, "v"), fns[i]);
    }

    n = 0;
    bucket = 0;

    for (fn = shim_function_next(&t, &bucket, NULL); fn;
         fn = shim_function_next(&t, &bucket, fn))
    {
        n++;
    }

    assert_int_equal(n, 302);

    shim_function_remove(&t, a);
    assert_null(shim_function_find(&t, "hello", "v1"));
    assert_ptr_equal(shim_function_find(&t, "hello", "v2"), b);
    assert_int_equal(t.count, 301);

    /* removing what is not there changes nothing */
    shim_function_remove(&t, a);
    assert_int_equal(t.count, 301);

    shim_function_free(a);

    /* frees the 301 that are left */
    shim_function_table_free(&t);
}


static void
test_queue(void **state)
{
    size_t            i;
    shim_request_t    r[5];
    shim_function_t  *fn;

    (void) state;

    fn = make("q", "v");    /* queue_size 3 */

    memset(r, 0, sizeof(r));

    for (i = 0; i < 5; i++) {
        shim_queue_init(&r[i].queue);
    }

    assert_null(shim_function_dequeue(fn));

    assert_int_equal(shim_function_enqueue(fn, &r[0]), 0);
    assert_int_equal(shim_function_enqueue(fn, &r[1]), 0);
    assert_int_equal(shim_function_enqueue(fn, &r[2]), 0);
    assert_int_equal(fn->nwaiting, 3);

    /* bounded */
    assert_int_equal(shim_function_enqueue(fn, &r[3]), -1);
    assert_false(r[3].queued);
    assert_int_equal(fn->nwaiting, 3);

    /* FIFO */
    assert_ptr_equal(shim_function_dequeue(fn), &r[0]);
    assert_false(r[0].queued);
    assert_int_equal(fn->nwaiting, 2);

    assert_int_equal(shim_function_enqueue(fn, &r[3]), 0);

    /* removal from the middle keeps the order of the rest */
    shim_function_unqueue(fn, &r[2]);
    assert_false(r[2].queued);
    assert_int_equal(fn->nwaiting, 2);

    /* and twice is harmless */
    shim_function_unqueue(fn, &r[2]);
    assert_int_equal(fn->nwaiting, 2);

    assert_ptr_equal(shim_function_dequeue(fn), &r[1]);
    assert_ptr_equal(shim_function_dequeue(fn), &r[3]);
    assert_null(shim_function_dequeue(fn));
    assert_int_equal(fn->nwaiting, 0);

    /* a queue of size 0 takes nothing */
    fn->queue_size = 0;
    assert_int_equal(shim_function_enqueue(fn, &r[4]), -1);

    shim_function_free(fn);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_parse_full),
        cmocka_unit_test(test_parse_defaults),
        cmocka_unit_test(test_parse_capacity),
        cmocka_unit_test(test_parse_threads),
        cmocka_unit_test(test_count_call),
        cmocka_unit_test(test_parse_exec),
        cmocka_unit_test(test_parse_runtime_members),
        cmocka_unit_test(test_parse_invalid),
        cmocka_unit_test(test_register),
        cmocka_unit_test(test_register_invalid),
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_queue),
    };

    return cmocka_run_group_tests_name("function", tests, NULL, NULL);
}
