# bench/lib.sh: the process bookkeeping of the bench scripts (run.sh,
# coldstart-layers.sh, soak.sh, scale.sh), sourced after the script sets
# BENCH_NAME.  run.sh and coldstart-layers.sh, which label what they start,
# define start() and free_port() of their own after sourcing it.
#
# A script records what it starts in PIDS ("pid:signal", oldest first),
# runs a foreground command with run() (FG_PID), and keeps its temporary
# files under RUN; on exit, failure or interrupt cleanup() stops all of it,
# newest first (nginx before the supervisor it talks to), and removes RUN.

PIDS=()
FG_PID=
RUN=

log() { printf '==> %s\n' "$*" >&2; }
warn() { printf '%s: %s\n' "$BENCH_NAME" "$*" >&2; }
die() { warn "$*"; exit 1; }


# stop PID SIGNAL: a polite signal, SIGKILL if the child is still there
# 10 s later, then it is reaped
stop() {
    local pid=$1 sig=$2 i state

    kill -"$sig" "$pid" 2>/dev/null || true

    for ((i = 0; i < 100; i++)); do
        # a child that exited is a zombie until it is waited for (bash may
        # have reaped it already: no /proc entry)
        state=$(awk '{ sub(/^.*\) /, ""); print $1 }' "/proc/$pid/stat" \
                2>/dev/null || true)

        if [ -z "$state" ] || [ "$state" = Z ]; then
            break
        fi

        sleep 0.1
    done

    if [ "$i" -eq 100 ]; then
        warn "pid $pid ignored SIG$sig for 10 s, killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi

    wait "$pid" 2>/dev/null || true
}


# descendants PID: the process ids below PID, children first
descendants() {
    local c

    for c in $(pgrep -P "$1" || true); do
        echo "$c"
        descendants "$c"
    done
}


# stops what was started so far, newest first; the foreground command's
# own children (bench-coldstart's settle command) after it
stop_all() {
    local i p below

    if [ -n "$FG_PID" ]; then
        below=$(descendants "$FG_PID")
        stop "$FG_PID" TERM

        for p in $below; do
            kill -TERM "$p" 2>/dev/null || true
        done

        FG_PID=
    fi

    for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
        stop "${PIDS[i]%%:*}" "${PIDS[i]#*:}"
    done

    PIDS=()
}


cleanup() {
    trap - EXIT INT TERM
    set +e

    stop_all

    if [ -n "$RUN" ]; then
        rm -rf "$RUN"
    fi
}

trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM


# run COMMAND... in the background and wait for it, so that a signal to
# the script is handled at once and the command stopped with the rest
run() {
    local rc=0

    "$@" &
    FG_PID=$!
    wait "$FG_PID" || rc=$?
    FG_PID=

    return $rc
}


# start SIGNAL COMMAND...: runs COMMAND in the background, stopped with
# SIGNAL by cleanup(); its pid is in START_PID
start() {
    local sig=$1

    shift
    "$@" &
    START_PID=$!
    PIDS+=("$START_PID:$sig")
}


# a port nothing listens on, below the ephemeral range, where no client
# socket takes it
free_port() {
    local p

    for p in $(shuf -i 20000-32000 -n 100); do
        if [ -z "$(ss -Htln "sport = :$p")" ]; then
            echo "$p"
            return 0
        fi
    done

    die "no free port found on 127.0.0.1"
}
