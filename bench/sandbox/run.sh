#!/usr/bin/env bash
# Builds and runs bench-sandbox (sandbox.c) against a build's libshim.a:
#   bench/sandbox/run.sh [BUILD] [SAMPLES]
# Needs root.  Writes nothing but $BUILD/bench-sandbox.

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

exec "$BUILD/bench-sandbox" "${2:-200}"
