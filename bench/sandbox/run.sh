#!/usr/bin/env bash
# Builds and runs bench-sandbox (sandbox.c), then bench-seccomp (seccomp.c:
# the runtimes' allowlists), against a build's libshim.a:
#   bench/sandbox/run.sh [BUILD] [SAMPLES]
# Needs root.  Writes nothing but $BUILD/bench-sandbox, bench-seccomp.

set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=$(cd "${1:-$TOP/build}" && pwd)
SHIM=$TOP/runtime-shim

make -s -C "$SHIM" BUILD="$BUILD" "$BUILD/obj/libshim.a"

cc -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE \
    -I"$SHIM/lib" -I"$SHIM/supervisor" -I"$SHIM/include" \
    $(pkg-config --cflags jansson) \
    -o "$BUILD/bench-sandbox" "$TOP/bench/sandbox/sandbox.c" \
    "$BUILD/obj/libshim.a" $(pkg-config --libs jansson libseccomp)

cc -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE \
    -I"$SHIM/lib" -I"$SHIM/supervisor" -I"$SHIM/include" \
    $(pkg-config --cflags jansson) \
    -o "$BUILD/bench-seccomp" "$TOP/bench/sandbox/seccomp.c" \
    "$BUILD/obj/libshim.a" $(pkg-config --libs jansson libseccomp)

"$BUILD/bench-sandbox" "${2:-200}"
echo
exec "$BUILD/bench-seccomp" "${2:-200}"
