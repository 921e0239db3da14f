/*
 * libFuzzer target: the frame parser on arbitrary bytes, cut into chunks at
 * points chosen by the input itself.  Checks the parser's invariants: it
 * never reads outside the input, never returns more payload than the header
 * announced, reports every frame as OK, DATA*, COMPLETE, and stops for good
 * at the first malformed header.
 */

#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "faas_frame.h"


int
LLVMFuzzerTestOneInput(const uint8_t *buf, size_t size)
{
    size_t               step, len, got, off;
    uint32_t             expect;
    const uint8_t       *pos, *last, *end, *data;
    faas_frame_rc_e      rc;
    faas_frame_parser_t  p;

    if (size == 0) {
        return 0;
    }

    /* the first byte picks the chunk size: 1..256 */
    step = (size_t) buf[0] + 1;
    buf++;
    size--;

    faas_frame_parser_init(&p);

    got = 0;
    expect = 0;
    end = buf + size;

    for (off = 0; off < size; off += step) {
        pos = buf + off;
        last = pos + step;
        if (last > end) {
            last = end;
        }

        for ( ;; ) {
            rc = faas_frame_parse(&p, &pos, last, &data, &len);

            if (rc == FAAS_FRAME_AGAIN) {
                assert(pos == last);
                break;
            }

            if (rc < 0) {
                assert(faas_frame_strerror(rc)[0] != '\0');
                return 0;
            }

            if (rc == FAAS_FRAME_OK) {
                assert(p.frame.version == FAAS_PROTO_VERSION);
                assert(p.frame.length <= faas_frame_max_length(p.frame.type));
                expect = p.frame.length;
                got = 0;
                continue;
            }

            if (rc == FAAS_FRAME_DATA) {
                assert(len > 0 && data >= buf && data + len <= last);
                got += len;
                assert(got <= expect);
                continue;
            }

            assert(rc == FAAS_FRAME_COMPLETE);
            assert(got == expect);

            if (pos == last) {
                break;
            }
        }
    }

    return 0;
}
