#!/usr/bin/env bash
# Runs every test stage against a build: C unit tests, a short fuzz run, the
# Test::Nginx suites, the suites again with an AddressSanitizer supervisor,
# and a subset with the supervisor under valgrind.
#
#   t/run-all.sh [BUILD]        (./build.sh test calls it after building)
#
# FAAS_FUZZ_SECONDS (default 5) sets the fuzz time per target;
# FAAS_VALGRIND_SUITES and FAAS_NGINX_VALGRIND_SUITES the suites run with
# the supervisor, and with nginx, under valgrind; FAAS_SHORTIO_SUITES the
# suites run with socket I/O
# made short by t/shortio/shortio.so, FAAS_SHORTIO_SEED its seed (printed,
# random by default); the servers run in $BUILD/t-servroot unless
# TEST_NGINX_SERVROOT says otherwise.

set -uo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$(cd "${1:-$TOP/build}" && pwd) || exit 1
SHIM=$TOP/runtime-shim

# the supervisor under memcheck: its output capture, code watch, pools and
# stop as well; nginx under memcheck: its LOG frames and the runtimes
VALGRIND_SUITES=${FAAS_VALGRIND_SUITES:-t/000-sanity.t t/003-failures.t
                 t/045-code-update.t t/046-graceful-stop.t t/047-output.t
                 t/050-python.t t/053-concurrency.t t/054-direct.t}
NGINX_VALGRIND_SUITES=${FAAS_NGINX_VALGRIND_SUITES:-t/000-sanity.t
                       t/003-failures.t t/047-output.t t/050-python.t
                       t/054-direct.t}
SHORTIO_SUITES=${FAAS_SHORTIO_SUITES:-t/000-sanity.t t/001-config.t
                t/002-body.t t/003-failures.t t/050-python.t t/051-nodejs.t
                t/052-exec.t t/053-concurrency.t t/054-direct.t}
VALGRIND="valgrind -q --error-exitcode=99 --leak-check=full"
VALGRIND="$VALGRIND --errors-for-leak-kinds=definite --track-fds=no"

passed=0
failed=0
failed_stages=()

export FAAS_BUILD=$BUILD
# a missing artifact is a failure here, not a skipped suite
export FAAS_REQUIRE_BUILD=1
# off t/servroot, so that a prove run by hand in the same tree does not
# trample on this one
export TEST_NGINX_SERVROOT=${TEST_NGINX_SERVROOT:-$BUILD/t-servroot}

cd "$TOP" || exit 1


stage() {
    local name=$1 start rc
    shift

    printf '\n==> %s\n' "$name"
    start=$(date +%s)

    "$@"
    rc=$?

    if [ $rc -eq 0 ]; then
        passed=$((passed + 1))
        printf '==> %s: ok (%ss)\n' "$name" $(($(date +%s) - start))
    else
        failed=$((failed + 1))
        failed_stages+=("$name")
        printf '==> %s: FAILED (exit %d)\n' "$name" $rc
    fi
}


has_target() {
    make -n -C "$SHIM" BUILD="$BUILD" "$1" > /dev/null 2>&1
}


run_fuzz() {
    if ! compgen -G "$SHIM/fuzz/*.c" > /dev/null || ! has_target fuzz; then
        echo "no fuzz targets yet (runtime-shim/fuzz/*.c, make fuzz):" \
             "skipped"
        return 0
    fi

    make -s -C "$SHIM" BUILD="$BUILD" FUZZ_SECONDS="${FAAS_FUZZ_SECONDS:-5}" \
        fuzz
}


run_prove() {
    prove -j1 -r t/
}


run_asan() {
    if ! has_target asan; then
        echo "no asan target in runtime-shim/Makefile: skipped"
        return 0
    fi

    # always: make is incremental, and a binary left from an older tree
    # would test old code
    make -s -C "$SHIM" BUILD="$BUILD" asan || return 1

    FAAS_SUPERVISOR=$BUILD/asan/faas-supervisor \
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
        prove -j1 -r t/
}


run_valgrind() {
    if ! command -v valgrind > /dev/null; then
        echo "valgrind is not installed"
        return 1
    fi

    # valgrind does not know seccomp(2), which libseccomp calls: the
    # supervisor runs unsandboxed here (the sandbox has its own suite)
    # shellcheck disable=SC2086
    FAAS_SUPERVISOR_WRAPPER=$VALGRIND FAAS_SUPERVISOR_ARGS="--sandbox off" \
        prove -j1 $VALGRIND_SUITES
}


# Every read and write on a stream socket of nginx, the supervisor and the
# runtimes (C, and the python3 and node interpreters of the others) moves
# one byte or fails with EAGAIN at random, so that every resume path runs.
# The sandbox's minimal root would hide shortio.so from the instances, so
# the supervisor runs unsandboxed here.
run_shortio() {
    local seed=${FAAS_SHORTIO_SEED:-$RANDOM}

    make -s -C "$SHIM" BUILD="$BUILD" shortio || return 1

    echo "FAAS_SHORTIO_SEED=$seed"

    # shellcheck disable=SC2086
    LD_PRELOAD=$BUILD/shortio.so FAAS_SHORTIO_SEED=$seed \
    FAAS_SHORTIO_PROGS=nginx:faas-supervisor:faas-runtime-c:python3:node \
    FAAS_SUPERVISOR_ARGS="--sandbox off" \
        prove -j1 $SHORTIO_SUITES
}


# nginx itself under memcheck, as Test::Nginx's TEST_NGINX_USE_VALGRIND
# does (t/compat implements it), with t/valgrind.suppress
run_nginx_valgrind() {
    if ! command -v valgrind > /dev/null; then
        echo "valgrind is not installed"
        return 1
    fi

    # shellcheck disable=SC2086
    TEST_NGINX_USE_VALGRIND=1 prove -j1 $NGINX_VALGRIND_SUITES
}


stage "unit tests" make -s -C "$SHIM" BUILD="$BUILD" unit
stage "runtimes, direct calls" python3 "$SHIM/tests/test_direct.py" "$BUILD"
stage "fuzz (${FAAS_FUZZ_SECONDS:-5}s per target)" run_fuzz
stage "Test::Nginx suites" run_prove
stage "suites, AddressSanitizer supervisor" run_asan
stage "suites, supervisor under valgrind" run_valgrind
stage "suites, short reads and writes" run_shortio
stage "suites, nginx under valgrind" run_nginx_valgrind

printf '\n%d passed, %d failed\n' "$passed" "$failed"

if [ $failed -ne 0 ]; then
    printf 'failed: %s\n' "${failed_stages[@]}"
    exit 1
fi
