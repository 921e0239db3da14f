#!/usr/bin/env bash
# ngx_faas soak: resource hygiene after many calls.  Called by
# `./build.sh soak`; not part of `./build.sh test` (it takes minutes).
#
#   bench/soak.sh [BUILD]         BUILD defaults to ./build
#
# Starts a supervisor (pools: 2 sandboxes, 1 python3, 1 nodejs runtime) and
# an nginx with 2 workers on a free 127.0.0.1 port, with six functions:
# C hello, C echo (POST, 1 KiB body), Python hello, Node.js hello, "churn"
# (C hello with idle_timeout 200ms and max_requests 50: instances keep
# being started, recycled and reaped) and crash3 (a C function that dies of
# SIGSEGV on every third call, the designed 502s).  wrk (bench/soak.lua)
# drives SOAK_CALLS calls over them, in turns of 12 (hello 4, echo 2,
# pyhello 2, jshello 2, churn 1, crash3 1), in chunks of SOAK_CHUNK; after
# each chunk, with no client connected and the processes settled, it
# samples:
#
#   - the supervisor: open fds, VmRSS, child processes, all descendants;
#   - each nginx worker: open fds, VmRSS;
#   - zombies below the supervisor and below the nginx master.
#
# Meanwhile a watcher looks for zombies every 0.5 s.  The first chunk is
# the warm-up; the last sample is compared with the one after it:
#
#   supervisor fds        +SOAK_SUP_FDS       (default 0)
#   supervisor RSS        +SOAK_SUP_RSS_KB    (default 2048 KiB)
#   supervisor processes  +SOAK_PROCS         (default 0; children and
#                                              descendants)
#   worker fds            +SOAK_WORKER_FDS    (default 5, each worker:
#                                              connections kept for
#                                              direct calls)
#   worker RSS            +SOAK_WORKER_RSS_KB (default 5120 KiB, each)
#
# and it fails as well on: a zombie at a sample, a zombie that outlives 1 s
# at any time, an nginx worker replaced, any status but 200 (and 502 from
# crash3), a 200 without the expected body, a wrk socket error or timeout,
# an [alert], [crit] or [emerg] line in the logs.
#
# Writes BUILD/bench/soak.md (the table) and soak-*.tsv/log beside it.
# Everything listens on 127.0.0.1 or on unix sockets in a private
# directory; every process it starts is stopped on exit, failure and
# interrupt included.

set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_NAME=soak
# shellcheck source=bench/lib.sh
. "$TOP/bench/lib.sh"
BUILD=$(cd "${1:-$TOP/build}" && pwd)
OUT=$BUILD/bench
SNAP=$OUT/soak-snapshot

NGINX=${NGINX_BIN:-/usr/sbin/nginx}
CALLS=${SOAK_CALLS:-100000}
CHUNK=${SOAK_CHUNK:-10000}
THREADS=${SOAK_THREADS:-2}
CONNECTIONS=${SOAK_CONNECTIONS:-12}
WORKERS=2

MAX_SUP_FDS=${SOAK_SUP_FDS:-0}
MAX_SUP_RSS=${SOAK_SUP_RSS_KB:-2048}
MAX_PROCS=${SOAK_PROCS:-0}
# a worker keeps a connection per instance it calls directly: hello (2),
# echo (1) and crash3 (2) take direct calls, and crash3's come and go
MAX_WORKER_FDS=${SOAK_WORKER_FDS:-5}
MAX_WORKER_RSS=${SOAK_WORKER_RSS_KB:-5120}

PORT=
SUP_PID=
MASTER_PID=
VIOLATIONS=()

# per sample, in the order taken
S_CALLS=() S_SECS=() S_SFD=() S_SRSS=() S_KIDS=() S_DESC=() S_ZOMB=()
S_WFD=() S_WRSS=() S_WPIDS=()

violation() { VIOLATIONS+=("$*"); printf 'soak: VIOLATION: %s\n' "$*" >&2; }


# "pid ppid state comm" of every process; cat skips one that exits
# meanwhile (mawk would stop at it)
proc_table() {
    { cat /proc/[0-9]*/stat 2>/dev/null || true; } \
        | awk '{
            comm = $0; sub(/^[^(]*\(/, "", comm); sub(/\) [^)]*$/, "", comm)
            s = $0; sub(/^.*\) /, "", s); split(s, f, " ")
            gsub(/ /, "_", comm)
            print $1, f[2], f[1], comm
         }'
}


# below ROOT... < proc_table: the descendants of the ROOTs, "pid ppid state
# comm", the ROOTs left out
below() {
    awk -v roots="$*" '
        { ppid[$1] = $2; line[$1] = $0; kids[$2] = kids[$2] " " $1 }
        END {
            n = split(roots, todo, " ")
            for (i = 1; i <= n; i++) {
                m = split(kids[todo[i]], k, " ")
                for (j = 1; j <= m; j++) {
                    print line[k[j]]
                    todo[++n] = k[j]
                }
            }
        }'
}


fd_count() {
    find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l
}


# fd_types PID: "socket=12 pipe=2 anon_inode:[eventfd]=1 ..." (files by
# path), to tell which kind grows
fd_types() {
    find "/proc/$1/fd" -mindepth 1 -maxdepth 1 -printf '%l\n' 2>/dev/null \
        | sed -e 's/^\(socket\|pipe\):.*/\1/' -e 's/^anon_inode:/anon:/' \
        | sort | uniq -c | awk '{ printf "%s%s=%s", sep, $2, $1; sep = " " }'
}


rss_kb() {
    awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo -1
}


workers() {
    proc_table | awk -v m="$MASTER_PID" '$2 == m && $3 != "Z" { print $1 }' \
        | sort -n | tr '\n' ' ' | sed 's/ $//'
}


# Every 0.5 s, the zombies below the supervisor and the nginx master; one
# seen in three polls in a row (1 s) was not reaped: it goes to
# soak-zombies.log, once.  The most seen at once goes to soak-zombies.max.
zombie_watch() {
    local cur p1='' p2='' old reported='' max=0 n z

    # a subshell: the main shell's cleanup is not its to run
    trap - EXIT
    trap 'exit 0' TERM

    while :; do
        cur=$(proc_table | below "$SUP_PID" "$MASTER_PID" \
              | awk '$3 == "Z" { print $1 ":" $2 ":" $4 }' | sort)
        n=$(printf '%s' "$cur" | grep -c . || true)

        if [ "$n" -gt "$max" ]; then
            max=$n
            echo "$max" > "$OUT/soak-zombies.max"
        fi

        old=$(comm -12 <(printf '%s\n' "$cur") <(printf '%s\n' "$p1") \
              | comm -12 - <(printf '%s\n' "$p2") || true)

        for z in $old; do
            if ! grep -qxF "$z" <<< "$reported"; then
                echo "$(date +%T) zombie pid:ppid:comm $z for 1 s" \
                    >> "$OUT/soak-zombies.log"
                reported+=$'\n'$z
            fi
        done

        p2=$p1
        p1=$cur
        sleep 0.5
    done
}


setup() {
    local f

    for f in ngx_http_faas_module.so faas-supervisor faas-runtime-c \
             faas-runtime-python3 faas-runtime-nodejs \
             functions/hello/function.so functions/echo/function.so \
             functions/crash3/function.so
    do
        [ -e "$BUILD/$f" ] || die "$BUILD/$f is missing (run ./build.sh)"
    done

    # A private copy: a rebuild during the run must not change what is
    # measured.  Not below /tmp: instances get a private /tmp, so the
    # sandbox refuses code there.
    rm -rf "$SNAP"
    mkdir -p "$SNAP/functions"
    cp -r "$BUILD/ngx_http_faas_module.so" "$BUILD/faas-supervisor" \
        "$BUILD"/faas-runtime-* "$SNAP/"
    cp -r "$BUILD/functions/hello" "$BUILD/functions/echo" \
        "$BUILD/functions/crash3" "$SNAP/functions/"
    cp -r "$TOP/t/functions/python/hello" "$SNAP/functions/pyhello"
    cp -r "$TOP/t/functions/nodejs/hello" "$SNAP/functions/jshello"

    # sockets live here: short paths, and open to nginx's workers (nobody)
    RUN=$(mktemp -d /tmp/faas-soak.XXXXXX)
    chmod 0755 "$RUN"
    mkdir -p "$RUN/nginx"
    PORT=$(free_port)

    # Reserved instances (min_instances) keep the number of processes at
    # rest the same from sample to sample, so that the processes and fds
    # can be compared exactly; what is above them (all of churn, crash3's
    # second instance) is reaped before each sample.  max_requests on
    # pyhello and jshello recycles them now and then, which takes from the
    # runtime pools and refills them.
    cat > "$OUT/soak-nginx.conf" <<EOF
# generated by bench/soak.sh
load_module $SNAP/ngx_http_faas_module.so;
daemon off;
master_process on;
worker_processes $WORKERS;
pid $RUN/nginx/nginx.pid;
error_log $OUT/soak-nginx.error.log warn;

events {
    worker_connections 1024;
}

http {
    access_log off;
    default_type text/plain;

    client_body_temp_path $RUN/nginx/client_body;
    proxy_temp_path $RUN/nginx/proxy;
    fastcgi_temp_path $RUN/nginx/fastcgi;
    uwsgi_temp_path $RUN/nginx/uwsgi;
    scgi_temp_path $RUN/nginx/scgi;

    faas_supervisor unix:$RUN/faas.sock;

    faas_function hello {
        runtime c;
        code $SNAP/functions/hello;
        min_instances 2;
        max_instances 2;
    }

    faas_function echo {
        runtime c;
        code $SNAP/functions/echo;
        min_instances 1;
        max_instances 1;
    }

    faas_function pyhello {
        runtime python3;
        code $SNAP/functions/pyhello;
        min_instances 1;
        max_instances 1;
        max_requests 2000;
    }

    faas_function jshello {
        runtime nodejs;
        code $SNAP/functions/jshello;
        min_instances 1;
        max_instances 1;
        max_requests 2000;
    }

    faas_function churn {
        runtime c;
        code $SNAP/functions/hello;
        idle_timeout 200ms;
        max_requests 50;
        max_instances 2;
    }

    faas_function crash3 {
        runtime c;
        code $SNAP/functions/crash3;
        idle_timeout 500ms;
        min_instances 1;
        max_instances 2;
    }

    server {
        listen 127.0.0.1:$PORT;

        location / {
            faas_read_timeout 30s;
            faas_pass \$arg_fn;
            add_header X-Fn \$arg_fn always;
        }
    }
}
EOF

    : > "$OUT/soak-supervisor.log"
    start TERM "$SNAP/faas-supervisor" \
        --listen "$RUN/faas.sock" --socket-mode 0666 \
        --log-file "$OUT/soak-supervisor.log" --log-level info \
        --pool sandbox=2 --pool python3=1 --pool nodejs=1 \
        >> "$OUT/soak-supervisor.stderr" 2>&1
    SUP_PID=$START_PID

    for ((i = 0; i < 100; i++)); do
        [ -S "$RUN/faas.sock" ] && break
        sleep 0.1
    done
    [ -S "$RUN/faas.sock" ] || die "the supervisor did not listen (see \
$OUT/soak-supervisor.log)"

    : > "$OUT/soak-nginx.error.log"
    "$NGINX" -t -q -p "$RUN/nginx" -c "$OUT/soak-nginx.conf" \
        -e "$OUT/soak-nginx.error.log" \
        || die "nginx -t failed on $OUT/soak-nginx.conf"
    start TERM "$NGINX" -p "$RUN/nginx" -c "$OUT/soak-nginx.conf" \
        -e "$OUT/soak-nginx.error.log"
    MASTER_PID=$START_PID
}


wait_ready() {
    local fn i

    for fn in hello echo pyhello jshello churn crash3; do
        for ((i = 0; i < 150; i++)); do
            if curl -sf -m 5 -o /dev/null \
                "http://127.0.0.1:$PORT/?fn=$fn" 2>/dev/null
            then
                continue 2
            fi

            sleep 0.1
        done

        die "$fn does not answer 200 (see $OUT/soak-nginx.error.log)"
    done
}


# rest_state: what must stop moving before a sample is taken
rest_state() {
    local w

    printf '%s %s' "$(proc_table | below "$SUP_PID" | grep -vc ' Z ' \
                      || true)" \
        "$(fd_count "$SUP_PID")"

    for w in $(workers); do
        printf ' %s' "$(fd_count "$w")"
    done
}


# settle: wrk has closed its connections; churn's instances are reaped
# after 200 ms, reserved instances and pools refill.  Waits until nothing
# moves for 1 s (at most 30 s).
settle() {
    local i prev='' cur same=0

    sleep 0.5

    for ((i = 0; i < 60; i++)); do
        cur=$(rest_state)

        if [ "$cur" = "$prev" ]; then
            same=$((same + 1))
            [ "$same" -ge 2 ] && return 0
        else
            same=0
        fi

        prev=$cur
        sleep 0.5
    done

    violation "still moving 30 s after the load (processes below the \
supervisor, its fds, the workers' fds): $cur"
}


# sample CALLS LOAD_US: one row of the table (LOAD_US: time under load)
sample() {
    local table w wfd='' wrss='' z

    table=$(proc_table)

    [ -d "/proc/$SUP_PID" ] || violation "the supervisor is gone"
    [ -d "/proc/$MASTER_PID" ] || violation "the nginx master is gone"

    S_CALLS+=("$1")
    S_SECS+=("$2")
    S_SFD+=("$(fd_count "$SUP_PID")")
    S_SRSS+=("$(rss_kb "$SUP_PID")")
    S_KIDS+=("$(awk -v p="$SUP_PID" '$2 == p && $3 != "Z"' <<< "$table" \
               | wc -l)")
    S_DESC+=("$(below "$SUP_PID" <<< "$table" | grep -vc ' Z ' || true)")

    z=$(below "$SUP_PID" "$MASTER_PID" <<< "$table" | awk '$3 == "Z"')
    S_ZOMB+=("$(printf '%s' "$z" | grep -c . || true)")

    if [ -n "$z" ]; then
        violation "zombies at the sample after $1 calls: $(tr '\n' ';' \
<<< "$z")"
    fi

    S_WPIDS+=("$(workers)")

    for w in ${S_WPIDS[-1]}; do
        wfd+="${wfd:+/}$(fd_count "$w")"
        wrss+="${wrss:+/}$(rss_kb "$w")"
    done

    S_WFD+=("$wfd")
    S_WRSS+=("$wrss")

    # which kinds of fds, for the evidence when a count grows
    {
        printf 'after %s calls\n  supervisor %s: %s\n' "$1" "$SUP_PID" \
            "$(fd_types "$SUP_PID")"
        for w in ${S_WPIDS[-1]}; do
            printf '  worker %s: %s\n' "$w" "$(fd_types "$w")"
        done
        printf '  processes below the supervisor:\n'
        below "$SUP_PID" <<< "$table" | sed 's/^/    /'
    } >> "$OUT/soak-fds.log"

    printf '%s %s %s %s %s %s %s %s %s %s\n' "$1" "$2" "${S_SFD[-1]}" \
        "${S_SRSS[-1]}" "${S_KIDS[-1]}" "${S_DESC[-1]}" "${S_ZOMB[-1]}" \
        "$wfd" "$wrss" "${S_WPIDS[-1]// /,}" >> "$OUT/soak.tsv"

    log "after $1 calls: supervisor fds ${S_SFD[-1]} RSS ${S_SRSS[-1]} KiB" \
        "children ${S_KIDS[-1]} below ${S_DESC[-1]} zombies ${S_ZOMB[-1]};" \
        "workers fds $wfd RSS $wrss KiB"
}


declare -A COUNT=()
WRK_ERRORS=0
ELAPSED_US=0

# chunk N: N calls with wrk; adds the answers to COUNT, sets CHUNK_DONE
chunk() {
    local n=$1 per line rc=0 k key what v start

    per=$(( (n + THREADS - 1) / THREADS ))
    start=$(date +%s%N)
    rm -f "$RUN"/wrk-done.*

    wrk -t"$THREADS" -c"$CONNECTIONS" -d3600s --timeout 30s \
        -s "$TOP/bench/soak.lua" "http://127.0.0.1:$PORT/" \
        -- "$per" "$RUN/wrk-done" > "$RUN/wrk.out" 2>&1 &
    FG_PID=$!

    # a thread that has its calls stops, but wrk sleeps out -d: SIGINT
    # ends that sleep, and wrk reports
    while kill -0 "$FG_PID" 2>/dev/null; do
        if [ "$(find "$RUN" -name 'wrk-done.*' | wc -l)" -ge "$THREADS" ]
        then
            kill -INT "$FG_PID" 2>/dev/null || true
            break
        fi
        sleep 0.1
    done

    wait "$FG_PID" || rc=$?
    FG_PID=
    cat "$RUN/wrk.out" >> "$OUT/soak-wrk.out"

    ELAPSED_US=$(( ELAPSED_US + ($(date +%s%N) - start) / 1000 ))

    line=$(grep '^@soak ' "$RUN/wrk.out" || true)
    if [ "$rc" -ne 0 ] || [ -z "$line" ]; then
        die "wrk failed (rc $rc): $(tail -n 5 "$RUN/wrk.out")"
    fi

    for k in connect read write timeout; do
        v=$(sed -n "s/.* $k=\([0-9]*\).*/\1/p" <<< "$line")
        WRK_ERRORS=$((WRK_ERRORS + v))
    done

    CHUNK_DONE=0

    while read -r _ key what v; do
        COUNT["$key $what"]=$(( ${COUNT["$key $what"]:-0} + v ))
        [ "$what" != badbody ] && CHUNK_DONE=$((CHUNK_DONE + v))
    done < <(grep '^@count ' "$RUN/wrk.out")

    [ "$CHUNK_DONE" -gt 0 ] || die "wrk got no answer: $(tail -n 5 \
"$RUN/wrk.out")"
}


# check LABEL FIRST LAST BOUND: LAST may exceed FIRST by BOUND
check() {
    if [ "$3" -gt $(( $2 + $4 )) ]; then
        violation "$1: $2 after warm-up, $3 at the end (+$(( $3 - $2 )), \
bound +$4)"
        return 1
    fi
}


verdict() {
    local last=$((${#S_CALLS[@]} - 1)) i k fn what bad n
    local -a w1 f0 f1 r0 r1

    check "supervisor fds" "${S_SFD[1]}" "${S_SFD[last]}" "$MAX_SUP_FDS" \
        || true
    check "supervisor RSS (KiB)" "${S_SRSS[1]}" "${S_SRSS[last]}" \
        "$MAX_SUP_RSS" || true
    check "supervisor child processes" "${S_KIDS[1]}" "${S_KIDS[last]}" \
        "$MAX_PROCS" || true
    check "processes below the supervisor" "${S_DESC[1]}" \
        "${S_DESC[last]}" "$MAX_PROCS" || true

    read -ra w1 <<< "${S_WPIDS[last]}"

    if [ "${S_WPIDS[1]}" != "${S_WPIDS[last]}" ]; then
        violation "nginx workers changed: ${S_WPIDS[1]} after warm-up, \
${S_WPIDS[last]} at the end (a worker died?)"
    else
        IFS=/ read -ra f0 <<< "${S_WFD[1]}"
        IFS=/ read -ra f1 <<< "${S_WFD[last]}"
        IFS=/ read -ra r0 <<< "${S_WRSS[1]}"
        IFS=/ read -ra r1 <<< "${S_WRSS[last]}"

        for i in "${!w1[@]}"; do
            check "worker ${w1[i]} fds" "${f0[i]}" "${f1[i]}" \
                "$MAX_WORKER_FDS" || true
            check "worker ${w1[i]} RSS (KiB)" "${r0[i]}" "${r1[i]}" \
                "$MAX_WORKER_RSS" || true
        done
    fi

    if [ -s "$OUT/soak-zombies.log" ]; then
        violation "zombies not reaped within 1 s: $(head -n 5 \
"$OUT/soak-zombies.log" | tr '\n' ';')"
    fi

    for k in "${!COUNT[@]}"; do
        read -r fn what <<< "$k"
        n=${COUNT[$k]}

        if [ "$what" = badbody ]; then
            violation "$fn: $n answers 200 without the expected body"
        elif [ "$what" != 200 ] && ! [ "$fn $what" = "crash3 502" ]; then
            violation "$fn: $n answers $what"
        fi
    done

    if [ "$WRK_ERRORS" -gt 0 ]; then
        violation "wrk: $WRK_ERRORS socket errors or timeouts (see \
$OUT/soak-wrk.out)"
    fi

    for k in "$OUT/soak-nginx.error.log" "$OUT/soak-supervisor.log" \
             "$OUT/soak-supervisor.stderr"
    do
        bad=$(grep -cE '\[(crit|alert|emerg)\]|Sanitizer' "$k" || true)
        if [ "$bad" -gt 0 ]; then
            violation "$(basename "$k"): $bad lines at crit, alert or emerg \
level: $(grep -m 3 -E '\[(crit|alert|emerg)\]|Sanitizer' "$k" \
                | tr '\n' ';')"
        fi
    done
}


# delta FIRST LAST: "+N" or "-N"
delta() {
    # parenthesized: a bare > in a print list is a redirection
    awk -v a="$1" -v b="$2" \
        'BEGIN { d = b - a; printf "%s%d", (d >= 0 ? "+" : ""), d }'
}


# deltas A/B C/D: "+N/+M", worker by worker
deltas() {
    local -a a b
    local i out=

    IFS=/ read -ra a <<< "$1"
    IFS=/ read -ra b <<< "$2"

    for i in "${!b[@]}"; do
        out+="${out:+/}$(delta "${a[i]:-0}" "${b[i]}")"
    done

    echo "$out"
}


logged() {
    grep -cE "$1" "$OUT/soak-supervisor.log" || true
}


write_results() {
    local i last=$((${#S_CALLS[@]} - 1)) cpu k total=0 n200 n502 other
    local fn rate prev_calls=0 prev_secs=0

    cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)

    {
        printf '# ngx_faas soak, %s calls\n\n' "${S_CALLS[last]}"
        printf 'Run %s on %s x %s, Linux %s, %s.\n\n' \
            "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(nproc)" "$cpu" \
            "$(uname -r)" "$("$NGINX" -v 2>&1 | sed 's/^nginx version: //')"
        printf 'Load average at the start: %s. ' "$LOAD_START"
        printf 'bench/soak.sh: wrk -t%s -c%s, in turns of 12 calls: hello ' \
            "$THREADS" "$CONNECTIONS"
        printf '4, echo 2 (POST 1 KiB), pyhello 2, jshello 2, churn 1 '
        printf '(idle_timeout 200ms, max_requests 50), crash3 1 (SIGSEGV '
        printf 'every third call); nginx '
        printf 'with %s workers; supervisor with --pool sandbox=2 ' "$WORKERS"
        printf -- '--pool python3=1 --pool nodejs=1. Sampled after each chunk '
        printf 'of %s calls, with no client connected and the ' "$CHUNK"
        printf 'processes settled. Worker columns: one value per worker. '
        printf 'RSS in KiB.\n\n'

        printf '| calls | req/s | sup. fds | sup. RSS | sup. children '
        printf '| below sup. | zombies | worker fds | worker RSS |\n'
        printf '|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n'

        for i in "${!S_CALLS[@]}"; do
            if [ "$i" -eq 0 ]; then
                rate=-
            else
                rate=$(awk -v c=$((S_CALLS[i] - prev_calls)) \
                       -v s=$((S_SECS[i] - prev_secs)) \
                       'BEGIN { printf "%.0f", (s > 0 ? c / s * 1e6 : 0) }')
            fi
            prev_calls=${S_CALLS[i]}
            prev_secs=${S_SECS[i]}

            printf '| %s%s | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
                "${S_CALLS[i]}" "$([ "$i" -eq 1 ] && echo ' (base)')" \
                "$rate" "${S_SFD[i]}" "${S_SRSS[i]}" "${S_KIDS[i]}" \
                "${S_DESC[i]}" "${S_ZOMB[i]}" "${S_WFD[i]}" "${S_WRSS[i]}"
        done

        printf '\nRow 0 is before the load, the base row after the first '
        printf 'chunk, the warm-up. The bounds compare the last row with the '
        printf 'base row:\n\n'
        printf '| measure | base | end | change | bound |\n'
        printf '|---|--:|--:|--:|--:|\n'
        printf '| supervisor fds | %s | %s | %s | +%s |\n' "${S_SFD[1]}" \
            "${S_SFD[last]}" "$(delta "${S_SFD[1]}" "${S_SFD[last]}")" \
            "$MAX_SUP_FDS"
        printf '| supervisor RSS, KiB | %s | %s | %s | +%s |\n' \
            "${S_SRSS[1]}" "${S_SRSS[last]}" \
            "$(delta "${S_SRSS[1]}" "${S_SRSS[last]}")" "$MAX_SUP_RSS"
        printf '| supervisor children | %s | %s | %s | +%s |\n' \
            "${S_KIDS[1]}" "${S_KIDS[last]}" \
            "$(delta "${S_KIDS[1]}" "${S_KIDS[last]}")" "$MAX_PROCS"
        printf '| processes below the supervisor | %s | %s | %s | +%s |\n' \
            "${S_DESC[1]}" "${S_DESC[last]}" \
            "$(delta "${S_DESC[1]}" "${S_DESC[last]}")" "$MAX_PROCS"
        printf '| worker fds | %s | %s | %s | +%s each |\n' "${S_WFD[1]}" \
            "${S_WFD[last]}" "$(deltas "${S_WFD[1]}" "${S_WFD[last]}")" \
            "$MAX_WORKER_FDS"
        printf '| worker RSS, KiB | %s | %s | %s | +%s each |\n' \
            "${S_WRSS[1]}" "${S_WRSS[last]}" \
            "$(deltas "${S_WRSS[1]}" "${S_WRSS[last]}")" "$MAX_WORKER_RSS"
        printf '| zombies at a sample | | %s | | 0 |\n' \
            "$(printf '%s\n' "${S_ZOMB[@]}" | sort -n | tail -n 1)"
        printf '| zombies seen by the 0.5 s watcher, most at once | | %s | | '\
'none older than 1 s |\n' "$(cat "$OUT/soak-zombies.max" 2>/dev/null \
                             || echo 0)"

        printf '\nAnswers (%s wrk socket errors or timeouts):\n\n' \
            "$WRK_ERRORS"
        printf '| function | 200 | 502 | other |\n|---|--:|--:|--:|\n'

        for fn in hello echo pyhello jshello churn crash3; do
            n200=${COUNT["$fn 200"]:-0}
            n502=${COUNT["$fn 502"]:-0}
            other=0
            for k in "${!COUNT[@]}"; do
                case $k in
                    "$fn 200"|"$fn 502") ;;
                    "$fn "*) other=$((other + COUNT[$k])) ;;
                esac
            done
            total=$((total + n200 + n502 + other))
            printf '| %s | %s | %s | %s |\n' "$fn" "$n200" "$n502" "$other"
        done

        printf '\nTotal %s answers in %.1f s of load. ' "$total" \
            "$(awk -v u="$ELAPSED_US" 'BEGIN { print u / 1e6 }')"
        printf 'Supervisor log: %s instances started, %s died (crash3), ' \
            "$(logged 'cold start in|: ready in')" "$(logged ': died: ')"
        printf '%s recycled (max_requests), %s reaped when idle.\n' \
            "$(logged 'terminated: recycled')" "$(logged 'terminated: idle')"

        if [ ${#VIOLATIONS[@]} -eq 0 ]; then
            printf '\n**Result: within every bound.**\n'
        else
            printf '\n**Result: %s violation(s):**\n\n' "${#VIOLATIONS[@]}"
            printf -- '- %s\n' "${VIOLATIONS[@]}"
        fi

        printf '\nData: soak.tsv, soak-fds.log (fd kinds and processes at '
        printf 'each sample), soak-*.log in %s.\n' "$OUT"
    } > "$OUT/soak.md"
}


main() {
    local done=0 n

    for n in wrk curl ss awk find; do
        command -v "$n" > /dev/null || die "$n is not installed"
    done

    [ "$CALLS" -ge $((2 * CHUNK)) ] || die "SOAK_CALLS ($CALLS) must be at \
least twice SOAK_CHUNK ($CHUNK): the first chunk is the warm-up"

    mkdir -p "$OUT"
    rm -f "$OUT"/soak*.tsv "$OUT"/soak*.log "$OUT"/soak-zombies.* \
        "$OUT/soak.md" "$OUT/soak-wrk.out" "$OUT/soak-supervisor.stderr"
    printf '# calls load_us sup_fds sup_rss_kb sup_children sup_below '\
'zombies worker_fds worker_rss_kb worker_pids\n' > "$OUT/soak.tsv"

    LOAD_START=$(cut -d ' ' -f 1-3 /proc/loadavg)

    setup
    wait_ready
    start TERM zombie_watch

    log "soak: $CALLS calls in chunks of $CHUNK, wrk -t$THREADS \
-c$CONNECTIONS, on 127.0.0.1:$PORT"

    settle
    sample 0 0

    while [ "$done" -lt "$CALLS" ]; do
        n=$(( CALLS - done < CHUNK ? CALLS - done : CHUNK ))
        chunk "$n"
        done=$((done + CHUNK_DONE))
        settle
        sample "$done" "$ELAPSED_US"
    done

    verdict
    write_results

    cat "$OUT/soak.md"

    if [ ${#VIOLATIONS[@]} -gt 0 ]; then
        printf '\nsoak: FAILED, %s violation(s); see %s\n' \
            "${#VIOLATIONS[@]}" "$OUT/soak.md" >&2
        return 1
    fi

    log "soak passed: $OUT/soak.md"
}


main
