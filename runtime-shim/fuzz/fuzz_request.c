/*
 * libFuzzer target: the supervisor's REQUEST JSON parser on arbitrary
 * bytes.  Checks what the callers rely on: on success every string asked
 * for is non-empty and NUL-terminated at its JSON length, on failure the
 * error text is set and nothing is returned to free.  The first byte picks
 * which of the three strings are asked for, since each is optional.
 */

#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shim.h"


int
LLVMFuzzerTestOneInput(const uint8_t *buf, size_t size)
{
    int       rc;
    char     *function, *version, *id, err[256];
    uint8_t   which;

    if (size == 0) {
        return 0;
    }

    which = buf[0];
    buf++;
    size--;

    function = NULL;
    version = NULL;
    id = NULL;
    err[0] = '\0';

    rc = shim_request_parse(buf, size, (which & 1) ? &function : NULL,
                            (which & 2) ? &version : NULL,
                            (which & 4) ? &id : NULL, err, sizeof(err));

    if (rc != 0) {
        assert(rc == -1);
        assert(err[0] != '\0' && memchr(err, '\0', sizeof(err)) != NULL);
        return 0;
    }

    if (which & 1) {
        assert(function != NULL && function[0] != '\0');
        free(function);
    }

    if (which & 2) {
        assert(version != NULL && version[0] != '\0');
        free(version);
    }

    if (which & 4) {
        assert(id != NULL && id[0] != '\0');
        free(id);
    }

    return 0;
}
