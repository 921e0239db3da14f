#!/usr/bin/env bash
# ngx_faas developer build: installs what is missing (Debian), builds the
# nginx module, the supervisor, the runtimes and the example functions into
# build/, runs the example, runs the tests.
#
#   ./build.sh            build everything
#   ./build.sh run        build, then run nginx + supervisor with examples/
#   ./build.sh test       build, then run every test (unit, fuzz, Test::Nginx)
#   ./build.sh unit       C unit tests only
#   ./build.sh fuzz [S]   fuzz targets for S seconds each (default 10)
#   ./build.sh bench      benchmarks (see bench/README.md; installs php-fpm
#                         for the FastCGI baseline)
#   ./build.sh soak       resource-hygiene soak, SOAK_CALLS (100000) calls
#                         (bench/soak.sh; minutes: not part of test)
#   ./build.sh scale      1,000 functions, 200 warm instances, bursts of 500
#                         calls (bench/scale.sh; minutes: not part of test)
#   ./build.sh deps       install missing Debian packages only
#   ./build.sh clean      remove build/
#
# NGINX_SRC=/path/to/nginx-source builds the module against another nginx
# source tree instead of the one nginx-dev ships.

set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD=${BUILD:-$TOP/build}
NGINX_SRC=${NGINX_SRC:-}
NGINX_BIN=${NGINX_BIN:-/usr/sbin/nginx}
JOBS=$(nproc 2>/dev/null || echo 2)

DEB_PACKAGES=(
    build-essential pkg-config clang libclang-rt-dev python3 nodejs
    nginx nginx-dev
    libjansson-dev libseccomp-dev libcmocka-dev
    libtest-base-perl libtext-diff-perl liblist-moreutils-perl
    libtest-longstring-perl libhttp-message-perl liburi-perl libwww-perl
    libipc-run-perl libjson-pp-perl
    valgrind curl wrk gnuplot-nox
)

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'build.sh: %s\n' "$*" >&2; exit 1; }


# deps [EXTRA...]: the packages every command needs, plus EXTRA
deps() {
    local missing=() p
    for p in "${DEB_PACKAGES[@]}" "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null \
            | grep -q 'install ok installed' || missing+=("$p")
    done

    # the Node.js runtime's addon needs node_api.h: Debian's nodejs has it
    # in libnode-dev, nodesource's nodejs ships it (and conflicts with it)
    [ -f /usr/include/node/node_api.h ] || missing+=(libnode-dev)
    [ ${#missing[@]} -eq 0 ] && return 0

    log "installing: ${missing[*]}"
    [ "$(id -u)" -eq 0 ] || die "need root to apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
    # Debian starts nginx from the package on systems with an init; the tests
    # and the example run their own instances.
}


build_shim() {
    log "building the supervisor, runtimes and functions"
    make -s -C "$TOP/runtime-shim" -j"$JOBS" BUILD="$BUILD" all
}


# The module is built from a copy of the nginx source tree that nginx-dev
# ships (headers and auto/ scripts), configured with Debian's own flags so
# that its binary signature matches /usr/sbin/nginx (see docs/architecture.md).
build_module() {
    local src cfgdir flags stamp
    cfgdir=$BUILD/nginx
    stamp=$cfgdir/.configured

    if [ -n "$NGINX_SRC" ]; then
        src=$(cd "$NGINX_SRC" && pwd)
    else
        src=$BUILD/nginx-src
        if [ ! -d "$src" ] || [ /usr/share/nginx/src -nt "$src" ]; then
            rm -rf "$src"
            cp -a /usr/share/nginx/src "$src"
        fi
    fi

    # reconfigure only when the config script or the source changed
    if [ ! -f "$stamp" ] || [ "$TOP/config" -nt "$stamp" ] \
        || [ "$(cat "$stamp")" != "$src" ]
    then
        log "configuring nginx module build against $src"
        mkdir -p "$cfgdir"
        (
            cd "$src"
            local cc_opt ld_opt
            if [ -f conf_flags ]; then
                # shellcheck disable=SC1091
                . ./conf_flags
                flags=("${NGX_CONF_FLAGS[@]}")
            else
                flags=(--with-compat)
            fi
            cc_opt="$(dpkg-buildflags --get CFLAGS) -fPIC"
            cc_opt="$cc_opt $(dpkg-buildflags --get CPPFLAGS)"
            ld_opt="$(dpkg-buildflags --get LDFLAGS) -fPIC"
            ./configure --with-cc-opt="$cc_opt" --with-ld-opt="$ld_opt" \
                "${flags[@]}" --add-dynamic-module="$TOP" \
                --builddir="$cfgdir" > "$cfgdir/configure.log" 2>&1 \
                || { tail -n 30 "$cfgdir/configure.log"; exit 1; }
        )
        echo "$src" > "$stamp"
    fi

    log "building ngx_http_faas_module.so"
    make -s -f "$cfgdir/Makefile" -C "$src" -j"$JOBS" modules \
        > "$cfgdir/make.log" 2>&1 || { cat "$cfgdir/make.log"; exit 1; }
    # a running nginx maps the old file: replace it, never overwrite it
    cp "$cfgdir/ngx_http_faas_module.so" "$BUILD/.ngx_http_faas_module.so.new"
    mv -f "$BUILD/.ngx_http_faas_module.so.new" \
        "$BUILD/ngx_http_faas_module.so"
}


build_all() {
    deps
    mkdir -p "$BUILD"
    build_shim
    build_module
}


case "${1:-build}" in
    build|all)  build_all ;;
    deps)       deps ;;
    module)     build_module ;;
    shim)       build_shim ;;
    clean)      rm -rf "$BUILD" ;;
    run)        build_all; exec "$TOP/examples/run.sh" "$BUILD" ;;
    unit)       build_all; make -s -C "$TOP/runtime-shim" BUILD="$BUILD" unit ;;
    fuzz)       build_all
                make -s -C "$TOP/runtime-shim" BUILD="$BUILD" \
                    FUZZ_SECONDS="${2:-10}" fuzz ;;
    test)       build_all; exec "$TOP/t/run-all.sh" "$BUILD" ;;
    bench)      build_all; deps php-fpm
                exec "$TOP/bench/run.sh" "$BUILD" ;;
    soak)       build_all; exec "$TOP/bench/soak.sh" "$BUILD" ;;
    scale)      build_all; exec "$TOP/bench/scale.sh" "$BUILD" ;;
    -h|--help|help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//' ;;
    *)          die "unknown command '$1' (try ./build.sh help)" ;;
esac
