/*
 * libFuzzer target: the REGISTER parser (shim_register_parse), which takes
 * what an nginx worker sent on the control connection.  Checks that a
 * parse either fails with a reason and leaves nothing allocated, or yields
 * definitions within the documented limits, with no two alike and no
 * borrowed hash links left behind.
 */

#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "shim.h"


int
LLVMFuzzerTestOneInput(const uint8_t *buf, size_t size)
{
    char              err[512];
    size_t            i, j;
    shim_function_t  *fn;
    shim_register_t   reg;

    err[0] = '\0';

    if (shim_register_parse(&reg, buf, size, "/rt", err, sizeof(err))
        != 0)
    {
        assert(err[0] != '\0');
        assert(reg.generation == NULL && reg.functions == NULL
               && reg.nfunctions == 0);
        return 0;
    }

    assert(reg.generation != NULL && reg.generation[0] != '\0');
    assert(strlen(reg.generation) <= SHIM_VERSION_MAX);
    assert(reg.pid >= 1 && reg.pid <= 0x7fffffff);
    assert(reg.nfunctions <= SHIM_FUNCTIONS_MAX);

    for (i = 0; i < reg.nfunctions; i++) {
        fn = reg.functions[i];

        assert(fn != NULL && fn->hash_next == NULL);
        assert(fn->name[0] != '\0' && strlen(fn->name) <= SHIM_NAME_MAX);
        assert(fn->version[0] != '\0'
               && strlen(fn->version) <= SHIM_VERSION_MAX);
        assert(fn->program != NULL);
        assert(fn->timeout >= 1 && fn->timeout <= SHIM_TIME_MAX);
        assert(fn->max_instances >= 1
               && fn->max_instances <= SHIM_INSTANCES_MAX);
        assert(fn->queue_size <= SHIM_QUEUE_MAX);

        for (j = 0; j < i; j++) {
            assert(strcmp(fn->name, reg.functions[j]->name) != 0
                   || strcmp(fn->version, reg.functions[j]->version) != 0);
        }
    }

    shim_register_free(&reg);

    return 0;
}
