#!/usr/bin/env bash
# ngx_faas at scale: many functions, many warm instances, one burst.
# Called by `./build.sh scale`; not part of `./build.sh test`.
#
#   bench/scale.sh [BUILD]        BUILD defaults to ./build
#
# 1. Registration: an nginx (2 workers) with SCALE_FUNCTIONS (1000) C
#    functions, f0000 to f0999, each the hello function of examples/ in a
#    code directory of its own, and one location, `faas_pass $arg_fn`.
#    Measures `nginx -t`, the time until nginx answers, until faas_status
#    lists every function as registered, the supervisor's RSS, PSS and fds
#    with the functions registered and no instance, and the latency of
#    faas_status, JSON and Prometheus (SCALE_STATUS_SAMPLES each); then
#    a call to the last one (its instance stays, beside the warm ones).
# 2. Warm instances: f0000 to f0199 (SCALE_WARM) called once each, all at
#    once (bench/burst.pl), then, once faas_status shows them idle, the
#    RSS, PSS, private memory and cgroup memory of every instance, the
#    supervisor's RSS and fds, faas_status again, and a round of warm
#    calls to all of them at once.
# 3. Burst: a supervisor and nginx of their own, with only the burst
#    functions (t/functions/sleep.c, 50 ms a call; queue_size 1000,
#    queue_timeout 30s), none of them with an instance: SCALE_BURST (500)
#    calls at once to one of them, on 500 connections opened before the
#    first request is written, while faas_status is read every 20 ms.
#    Three configurations, SCALE_ROUNDS (3) rounds each, each round a
#    function of its own so that every burst starts from zero:
#      c1      concurrency 1, max_instances 16
#      c8      concurrency 8, max_instances 16
#      c8-m2   concurrency 8, max_instances 2 (16 calls at once, as c1)
#
# The supervisor runs as the tests and the other benchmarks run it: with
# the sandbox (on by default as root), no warm pool; SCALE_SUP_NOFILE
# sets its soft fd limit (default: the script's, raised to 16384 where
# the hard limit allows).  Writes
# BUILD/bench/scale.md and the data beside it (scale-*), and the plot of
# the queue over the burst to docs/bench/ (SCALE_PLOTS).  Everything
# listens on 127.0.0.1 or on unix sockets in a private directory; every
# process it starts is stopped on exit, failure and interrupt included.

set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_NAME=scale
# shellcheck source=bench/lib.sh
. "$TOP/bench/lib.sh"
BUILD=$(cd "${1:-$TOP/build}" && pwd)
OUT=$BUILD/bench
SNAP=$OUT/scale-snapshot
PLOTS=${SCALE_PLOTS:-$TOP/docs/bench}
PLOT_FORMAT=${SCALE_PLOT_FORMAT:-svg}

NGINX=${NGINX_BIN:-/usr/sbin/nginx}
FUNCTIONS=${SCALE_FUNCTIONS:-1000}
WARM=${SCALE_WARM:-200}
BURST=${SCALE_BURST:-500}
ROUNDS=${SCALE_ROUNDS:-3}
STATUS_SAMPLES=${SCALE_STATUS_SAMPLES:-100}
SLEEP_MS=50
WORKERS=2

# clients and nginx: the burst's connections twice over (client to nginx,
# nginx to the supervisor), the warm instances, headroom
NOFILE=16384

PORT=
SUP_PID=
MASTER_PID=
FAILED=0
NOTES=()

BURSTS=(c1 c8 c8-m2)
declare -A CONCURRENCY=([c1]=1 [c8]=8 [c8-m2]=8)
declare -A MAXINST=([c1]=16 [c8]=16 [c8-m2]=2)

# results, by key
declare -A R=()

note() { NOTES+=("$*"); warn "$*"; }
fail() { FAILED=1; note "FAILED: $*"; }


now_us() {
    echo $(( $(date +%s%N) / 1000 ))
}


us_to_ms() {
    awk -v v="$1" 'BEGIN { printf "%.1f", v / 1000 }'
}


fd_count() {
    find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l
}


# fd_types PID: "socket=12 pipe=2 ..." (files by path)
fd_types() {
    find "/proc/$1/fd" -mindepth 1 -maxdepth 1 -printf '%l\n' 2>/dev/null \
        | sed -e 's/^\(socket\|pipe\):.*/\1/' -e 's/^anon_inode:/anon:/' \
              -e 's|^/.*/||' \
        | sort | uniq -c | awk '{ printf "%s%s=%s", sep, $2, $1; sep = " " }'
}


# mem PID: "rss pss private" in KiB, from smaps_rollup (private: clean +
# dirty pages mapped by this process only)
mem() {
    awk '/^Rss:/ { r = $2 } /^Pss:/ { p = $2 }
         /^Private_(Clean|Dirty):/ { v += $2 }
         END { print r + 0, p + 0, v + 0 }' "/proc/$1/smaps_rollup" \
        2>/dev/null || echo "0 0 0"
}


# cgroup_mem PID: the memory charged to PID's memory cgroup, in KiB (v1
# memory.usage_in_bytes or v2 memory.current; kernel memory included),
# "-" when none is readable
cgroup_mem() {
    local path f

    path=$(awk -F: '$2 == "memory" || ($1 == "0" && $2 == "") { print $3;
                                                                 exit }' \
           "/proc/$1/cgroup" 2>/dev/null)

    for f in "/sys/fs/cgroup/memory$path/memory.usage_in_bytes" \
             "/sys/fs/cgroup/unified$path/memory.current" \
             "/sys/fs/cgroup$path/memory.current"
    do
        if [ -n "$path" ] && [ "$path" != / ] && [ -r "$f" ]; then
            echo $(( $(cat "$f") / 1024 ))
            return
        fi
    done

    echo -
}


children() {
    local p

    for p in $(pgrep -P "$1" || true); do
        [ "$(awk '{ sub(/^.*\) /, ""); print $1 }' "/proc/$p/stat" \
             2>/dev/null)" = Z ] || echo "$p"
    done
}


HZ=$(getconf CLK_TCK)

# cpu_ms PID: the CPU time (user + system) PID has used, in ms
cpu_ms() {
    awk -v hz="$HZ" '{ sub(/^.*\) /, "");
                       printf "%d\n", ($12 + $13) * 1000 / hz }' \
        "/proc/$1/stat" 2>/dev/null || echo 0
}


# percentiles FILE: "n p50 p90 p99 max mean" of the numbers in FILE
# (nearest rank)
percentiles() {
    sort -g "$1" | awk '{ v[NR] = $1; s += $1 }
        function p(q,  k) { k = int(q / 100 * NR + 0.999999); if (k < 1) k = 1;
                            return v[k] }
        END { if (NR == 0) { print "0 - - - - -"; exit }
              printf "%d %.3f %.3f %.3f %.3f %.3f\n", NR, p(50), p(90),
                     p(99), v[NR], s / NR }'
}


status_json() {
    curl -sf -m 30 "http://127.0.0.1:$PORT/status"
}


# field KEY LINE: the value of KEY=value in a "@burst" or "@status" line
field() {
    sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<< "$2"
}


raise_nofile() {
    local soft hard

    soft=$(ulimit -Sn)
    hard=$(ulimit -Hn)

    if [ "$hard" != unlimited ] && [ "$hard" -lt "$NOFILE" ]; then
        note "ulimit -Hn is $hard, below $NOFILE: using $hard"
        NOFILE=$hard
    fi

    if [ "$soft" = unlimited ] || [ "$soft" -lt "$NOFILE" ]; then
        ulimit -Sn "$NOFILE"
    fi

    [ "$(ulimit -Sn)" -ge $((2 * BURST + 100)) ] \
        || die "ulimit -n is $(ulimit -Sn): too few for $BURST connections"

    R[nofile]=$(ulimit -Sn)
}


snapshot() {
    local f i

    for f in ngx_http_faas_module.so faas-supervisor faas-runtime-c \
             functions/hello/function.so functions/sleep/function.so
    do
        [ -e "$BUILD/$f" ] || die "$BUILD/$f is missing (run ./build.sh)"
    done

    # A private copy, as soak.sh makes: a rebuild during the run must not
    # change what is measured.  Not below /tmp: instances get a private
    # /tmp, so the sandbox refuses code there.  One code directory per
    # function, as distinct functions have: each instance maps its own
    # function.so, and the supervisor watches each directory.
    rm -rf "$SNAP"
    mkdir -p "$SNAP/functions"
    cp -r "$BUILD/ngx_http_faas_module.so" "$BUILD/faas-supervisor" \
        "$BUILD/faas-runtime-c" "$SNAP/"

    for ((i = 0; i < FUNCTIONS; i++)); do
        mkdir "$SNAP/functions/$(printf 'f%04d' "$i")"
    done
    # shellcheck disable=SC2016 # for the inner shell
    printf '%s\n' "$SNAP"/functions/f* \
        | xargs -n 200 -P 1 sh -c 'for d; do
              cp "$0/function.so" "$d/"; done' "$BUILD/functions/hello"
    cp -r "$BUILD/functions/sleep" "$SNAP/functions/sleep"
}


# nginx_conf NAME FUNCTIONS_TEXT: BUILD/bench/scale-NAME-nginx.conf
nginx_conf() {
    local name=$1 dir=$RUN/nginx-$1

    mkdir -p "$dir"

    cat > "$OUT/scale-$name-nginx.conf" <<EOF
# generated by bench/scale.sh
load_module $SNAP/ngx_http_faas_module.so;
daemon off;
master_process on;
worker_processes $WORKERS;
worker_rlimit_nofile $NOFILE;
pid $dir/nginx.pid;
error_log $OUT/scale-$name-nginx.error.log warn;

events {
    worker_connections $((NOFILE / 2));
}

http {
    access_log off;
    default_type text/plain;

    client_body_temp_path $dir/client_body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;

    faas_supervisor unix:$RUN/$name.sock;

$2
    server {
        listen 127.0.0.1:$PORT backlog=4096;

        location / {
            faas_read_timeout 60s;
            faas_pass \$arg_fn;
            add_header X-Cold \$faas_cold_start always;
        }

        location = /status {
            faas_status;
        }

        location = /ping {
            return 200 "pong\n";
        }
    }
}
EOF
}


# start_supervisor NAME: with the soft fd limit SCALE_SUP_NOFILE when set
# (to see what a supervisor started with the common default of 1024 does)
start_supervisor() {
    : > "$OUT/scale-$1-supervisor.log"
    # shellcheck disable=SC2016 # for the inner shell
    start TERM sh -c 'ulimit -Sn "$0" && exec "$@"' \
        "${SCALE_SUP_NOFILE:-$(ulimit -Sn)}" "$SNAP/faas-supervisor" \
        --listen "$RUN/$1.sock" --socket-mode 0666 \
        --log-file "$OUT/scale-$1-supervisor.log" --log-level info \
        >> "$OUT/scale-$1-supervisor.stderr" 2>&1
    SUP_PID=$START_PID

    for ((i = 0; i < 100; i++)); do
        [ -S "$RUN/$1.sock" ] && return 0
        sleep 0.1
    done

    die "the supervisor did not listen (see $OUT/scale-$1-supervisor.log)"
}


# start_nginx NAME: sets R[NAME-start_us], the time until it answers
start_nginx() {
    local t0 i

    : > "$OUT/scale-$1-nginx.error.log"
    t0=$(now_us)
    start TERM "$NGINX" -p "$RUN/nginx-$1" -c "$OUT/scale-$1-nginx.conf" \
        -e "$OUT/scale-$1-nginx.error.log"
    MASTER_PID=$START_PID
    START_T0=$t0

    for ((i = 0; i < 3000; i++)); do
        if curl -sf -m 1 -o /dev/null "http://127.0.0.1:$PORT/ping" \
            2>/dev/null
        then
            R[$1-start_us]=$(( $(now_us) - t0 ))
            return 0
        fi
        sleep 0.01
    done

    die "nginx did not answer (see $OUT/scale-$1-nginx.error.log)"
}


# status_latency LABEL: STATUS_SAMPLES requests to faas_status in each
# format, one at a time (curl's time_total); R[LABEL-json] and
# R[LABEL-prom] get "n p50 p90 p99 max mean" in ms, R[LABEL-*-bytes] the
# document's size
status_latency() {
    local label=$1 fmt q i c0

    for fmt in json prom; do
        q=
        [ "$fmt" = prom ] && q='?format=prometheus'
        : > "$OUT/scale-status-$label-$fmt.dat"
        c0=$(cpu_ms "$SUP_PID")

        for ((i = 0; i < STATUS_SAMPLES; i++)); do
            curl -s -m 30 -o /dev/null \
                -w '%{time_total} %{size_download} %{http_code}\n' \
                "http://127.0.0.1:$PORT/status$q"
        done | awk -v out="$OUT/scale-status-$label-$fmt.dat" \
                   -v bytes="$RUN/bytes" '
            $3 != 200 { bad++ }
            { printf "%.3f\n", $1 * 1000 > out; b = $2 }
            END { print b > bytes; exit (bad > 0) }' \
            || fail "faas_status ($fmt, $label) did not always answer 200"

        R[$label-$fmt-cpu]=$(awk -v c=$(( $(cpu_ms "$SUP_PID") - c0 )) \
            -v n="$STATUS_SAMPLES" 'BEGIN { printf "%.1f", c / n }')
        R[$label-$fmt]=$(percentiles "$OUT/scale-status-$label-$fmt.dat")
        R[$label-$fmt-bytes]=$(cat "$RUN/bytes")
    done
}


sup_sample() {
    local label=$1

    R[$label-sup-rss]=$(awk '/^VmRSS:/ { print $2 }' \
                        "/proc/$SUP_PID/status")
    R[$label-sup-mem]=$(mem "$SUP_PID")
    R[$label-sup-fds]=$(fd_count "$SUP_PID")
    R[$label-sup-fdtypes]=$(fd_types "$SUP_PID")
    R[$label-workers-rss]=$(for w in $(children "$MASTER_PID"); do
                                awk '/^VmRSS:/ { print $2 }' \
                                    "/proc/$w/status"
                            done | paste -sd /)
}


phase_registration() {
    local i t0 blocks n=0 json

    log "1. $FUNCTIONS functions: nginx -t, start, registration"

    blocks=$(for ((i = 0; i < FUNCTIONS; i++)); do
        printf '    faas_function f%04d {\n' "$i"
        printf '        runtime c;\n'
        printf '        code %s/functions/f%04d;\n' "$SNAP" "$i"
        printf '        idle_timeout 10m;\n'
        printf '        max_instances 1;\n'
        printf '    }\n\n'
    done)

    nginx_conf reg "$blocks"
    start_supervisor reg
    R[reg-sup0-rss]=$(awk '/^VmRSS:/ { print $2 }' "/proc/$SUP_PID/status")
    R[reg-sup0-fds]=$(fd_count "$SUP_PID")

    t0=$(now_us)
    "$NGINX" -t -q -p "$RUN/nginx-reg" -c "$OUT/scale-reg-nginx.conf" \
        -e "$OUT/scale-reg-nginx.error.log" \
        || die "nginx -t failed on $OUT/scale-reg-nginx.conf"
    R[reg-t_us]=$(( $(now_us) - t0 ))

    start_nginx reg

    # until faas_status lists every function as registered
    for ((i = 0; i < 600; i++)); do
        n=$(status_json 2>/dev/null \
            | jq '[.functions[] | select(.registered)] | length' \
              2>/dev/null || echo 0)
        [ "$n" -ge "$FUNCTIONS" ] && break
        sleep 0.05
    done

    R[reg-registered]=$n
    R[reg-register_us]=$(( $(now_us) - START_T0 ))
    R[reg-cpu]=$(cpu_ms "$SUP_PID")
    [ "$n" -ge "$FUNCTIONS" ] \
        || fail "faas_status lists $n registered functions, not $FUNCTIONS"

    # the supervisor with the table and no instance, a second later for
    # the registrations of both workers
    sleep 1
    sup_sample reg
    R[reg-instances]=$(children "$SUP_PID" | wc -l)
    [ "${R[reg-instances]}" = 0 ] \
        || note "${R[reg-instances]} instances before any call"

    status_latency reg

    # a call to the last function: the table works end to end (its
    # instance is counted with the warm ones below)
    json=$(curl -s -m 10 "http://127.0.0.1:$PORT/?fn=$(printf 'f%04d' \
           $((FUNCTIONS - 1)))" || true)
    [ "$json" = 'Hello, world!' ] \
        || fail "the last function did not answer (\"$json\")"
}


# idle_instances: the sum of idle instances over all functions
idle_instances() {
    status_json 2>/dev/null \
        | jq '[.functions[] | .instances.idle] | add' 2>/dev/null || echo 0
}


phase_warm() {
    local i n line p rss pss priv cg kids c0

    log "2. $WARM warm instances: f0000 to f$(printf '%04d' $((WARM - 1))), \
one call each, all at once"
    c0=$(cpu_ms "$SUP_PID")

    run perl "$TOP/bench/burst.pl" -n "$WARM" -t 120 \
        -o "$OUT/scale-warm-cold.dat" "127.0.0.1:$PORT" '/?fn=f%04d' \
        > "$OUT/scale-warm-cold.out" || true
    line=$(cat "$OUT/scale-warm-cold.out")
    R[warm-cold]=$line
    R[warm-cold-cpu]=$(( $(cpu_ms "$SUP_PID") - c0 ))
    [ "$(field ok "$line")" = "$WARM" ] \
        || fail "$WARM cold calls at once: $line"

    # f0999's instance from phase 1 is there too
    for ((i = 0; i < 600; i++)); do
        n=$(idle_instances)
        [ "$n" -ge $((WARM + 1)) ] && break
        sleep 0.1
    done

    R[warm-idle]=$n
    [ "$n" -ge $((WARM + 1)) ] \
        || fail "faas_status shows $n idle instances, not $((WARM + 1))"
    sleep 1

    # every instance: pid rss pss private cgroup (KiB)
    kids=$(children "$SUP_PID")
    : > "$OUT/scale-instances.tsv"
    echo '# pid comm vmrss_kb rss_kb pss_kb private_kb cgroup_kb threads' \
        > "$OUT/scale-instances.tsv"

    for p in $kids; do
        read -r rss pss priv <<< "$(mem "$p")"
        cg=$(cgroup_mem "$p")
        printf '%s %s %s %s %s %s %s %s\n' "$p" "$(cat "/proc/$p/comm")" \
            "$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status")" \
            "$rss" "$pss" "$priv" "$cg" \
            "$(awk '/^Threads:/ { print $2 }' "/proc/$p/status")"
    done >> "$OUT/scale-instances.tsv"

    R[warm-instances]=$(grep -vc '^#' "$OUT/scale-instances.tsv" || true)
    R[warm-mem]=$(awk '!/^#/ { n++; v += $3; r += $4; p += $5; q += $6;
                              if ($7 != "-") { c += $7; cn++ } }
        END { printf "%d %d %d %d %d %s %d", n, v, r, p, q,
                     (cn ? c : "-"), cn }' "$OUT/scale-instances.tsv")

    sup_sample warm
    status_latency warm

    log "2. a warm round: $WARM calls at once, one to each"
    c0=$(cpu_ms "$SUP_PID")
    run perl "$TOP/bench/burst.pl" -n "$WARM" -t 60 \
        -o "$OUT/scale-warm-round.dat" "127.0.0.1:$PORT" '/?fn=f%04d' \
        > "$OUT/scale-warm-round.out" || true
    line=$(cat "$OUT/scale-warm-round.out")
    R[warm-round]=$line
    R[warm-round-cpu]=$(( $(cpu_ms "$SUP_PID") - c0 ))
    [ "$(field ok "$line")" = "$WARM" ] \
        || fail "the warm round: $line"
    [ "$(field cold "$line")" = 0 ] \
        || note "the warm round had $(field cold "$line") cold starts"
    R[warm-after-instances]=$(children "$SUP_PID" | wc -l)
}


phase_burst() {
    local blocks='' b r name line i n c0

    log "3. bursts of $BURST calls to a cold function"

    for b in "${BURSTS[@]}"; do
        for ((r = 1; r <= ROUNDS; r++)); do
            blocks+="    faas_function burst-$b-$r {
        runtime c;
        code $SNAP/functions/sleep;
        timeout 10s;
        idle_timeout 5s;
        concurrency ${CONCURRENCY[$b]};
        max_instances ${MAXINST[$b]};
        queue_size 1000;
        queue_timeout 30s;
    }

"
        done
    done

    nginx_conf burst "$blocks"
    start_supervisor burst
    start_nginx burst

    for ((i = 0; i < 100; i++)); do
        n=$(status_json 2>/dev/null \
            | jq '[.functions[] | select(.registered)] | length' \
              2>/dev/null || echo 0)
        [ "$n" -ge $(( ${#BURSTS[@]} * ROUNDS )) ] && break
        sleep 0.1
    done

    for ((r = 1; r <= ROUNDS; r++)); do
        for b in "${BURSTS[@]}"; do
            name=burst-$b-$r

            # from zero: the previous burst's instances reaped
            for ((i = 0; i < 200; i++)); do
                [ -z "$(children "$SUP_PID")" ] && break
                sleep 0.1
            done
            [ -z "$(children "$SUP_PID")" ] \
                || note "$name: instances of the previous burst remain"

            log "3. $name: $BURST calls at once (concurrency \
${CONCURRENCY[$b]}, max_instances ${MAXINST[$b]})"
            c0=$(cpu_ms "$SUP_PID")
            run perl "$TOP/bench/burst.pl" -n "$BURST" -t 90 \
                -s /status -f "$name" -i 20 \
                -S "$OUT/scale-$name-status.dat" -o "$OUT/scale-$name.dat" \
                "127.0.0.1:$PORT" "/?fn=$name&ms=$SLEEP_MS" \
                > "$OUT/scale-$name.out" || true
            line=$(cat "$OUT/scale-$name.out")
            R[$name]=$line
            R[$name-cpu]=$(( $(cpu_ms "$SUP_PID") - c0 ))
            R[$name-threads]=$(for p in $(children "$SUP_PID"); do
                                   awk '/^Threads:/ { print $2 }' \
                                       "/proc/$p/status"
                               done | sort -n | uniq -c \
                               | awk '{ printf "%s%s x %s", s, $1, $2;
                                        s = ", " }')
            [ "$(field ok "$line")" = "$BURST" ] \
                || fail "$name: $(head -n 1 <<< "$line")"
            [ "$(field lost "$line")" = 0 ] \
                || fail "$name: $(field lost "$line") calls lost"
        done
    done
}


check_logs() {
    local f bad

    for f in "$OUT"/scale-*-nginx.error.log "$OUT"/scale-*-supervisor.log \
             "$OUT"/scale-*-supervisor.stderr
    do
        [ -f "$f" ] || continue
        bad=$(grep -cE '\[(crit|alert|emerg|error)\]|Sanitizer' "$f" || true)
        if [ "$bad" -gt 0 ]; then
            note "$(basename "$f"): $bad lines at error level or worse, \
e.g. $(grep -m 2 -E '\[(crit|alert|emerg|error)\]|Sanitizer' "$f" \
                | tr '\n' ';')"
        fi
    done
}


# cold_stats FUNCTION LOG: "p50 / max" of the cold starts of FUNCTION
# in BUILD/bench/scale-LOG-supervisor.log, in ms
cold_stats() {
    local re="function \"$1\" instance [0-9]*: cold start in \([0-9.]*\) ms"

    sed -n "s/.*$re.*/\1/p" "$OUT/scale-$2-supervisor.log" \
        > "$RUN/cold.dat" 2>/dev/null || true
    percentiles "$RUN/cold.dat" \
        | awk '{ printf "%.1f / %.1f", $2, $5 }'
}


# pct_row LABEL "n p50 p90 p99 max mean" BYTES CPU
pct_row() {
    local n p50 p90 p99 max mean

    read -r n p50 p90 p99 max mean <<< "$2"
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$1" "$3" \
        "$n" "$p50" "$p90" "$p99" "$max" "$mean" "$4"
}


kib_mib() {
    awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'
}


write_results() {
    local cpu n v r p q c cn b rr name line s label

    cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)

    {
        printf '# ngx_faas at scale\n\n'
        printf 'Run %s on %s x %s, %s GiB, Linux %s, %s; ' \
            "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(nproc)" "$cpu" \
            "$(awk '/^MemTotal:/ { printf "%.0f", $2 / 1048576 }' \
               /proc/meminfo)" "$(uname -r)" \
            "$("$NGINX" -v 2>&1 | sed 's/^nginx version: //')"
        printf 'load average at the start %s, at the end %s. ' \
            "$LOAD_START" "$(cut -d ' ' -f 1-3 /proc/loadavg)"
        printf 'nginx with %s workers, worker_rlimit_nofile %s; ' \
            "$WORKERS" "$NOFILE"
        printf 'supervisor with the sandbox (%s), no pool; ulimit -n %s.\n\n' \
            "$([ "$(id -u)" = 0 ] && echo 'root: on' || echo 'not root')" \
            "${R[nofile]}"

        printf '## %s functions registered\n\n' "$FUNCTIONS"
        printf '| measure | value |\n|---|--:|\n'
        printf '| nginx -t, ms | %s |\n' "$(us_to_ms "${R[reg-t_us]}")"
        printf '| nginx start until it answers, ms | %s |\n' \
            "$(us_to_ms "${R[reg-start_us]}")"
        printf '| nginx start until faas_status lists all %s ' "$FUNCTIONS"
        printf 'registered, ms | %s |\n' "$(us_to_ms "${R[reg-register_us]}")"
        printf '| supervisor CPU time from its start to then, ms | %s |\n' \
            "${R[reg-cpu]}"
        printf '| supervisor RSS before nginx, KiB | %s |\n' \
            "${R[reg-sup0-rss]}"
        printf '| supervisor fds before nginx | %s |\n' "${R[reg-sup0-fds]}"
        read -r r p q <<< "${R[reg-sup-mem]}"
        printf '| supervisor RSS / PSS / private, %s functions, ' "$FUNCTIONS"
        printf 'no instance, KiB | %s / %s / %s |\n' "$r" "$p" "$q"
        printf '| supervisor fds, %s functions, no instance | %s (%s) |\n' \
            "$FUNCTIONS" "${R[reg-sup-fds]}" "${R[reg-sup-fdtypes]}"
        printf '| nginx workers RSS, KiB | %s |\n\n' "${R[reg-workers-rss]}"

        printf 'faas_status, %s requests one at a time (curl time_total), ' \
            "$STATUS_SAMPLES"
        printf 'ms, and the supervisor CPU time per request, ms:\n\n'
        printf '| functions, instances | format | bytes | n | p50 | p90 '
        printf '| p99 | max | mean | supervisor CPU |\n'
        printf '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|\n'
        for s in reg warm; do
            if [ "$s" = reg ]; then
                label="$FUNCTIONS, 0"
            else
                label="$FUNCTIONS, $((WARM + 1))"
            fi
            pct_row "$label | JSON" "${R[$s-json]:-0 - - - - -}" \
                "${R[$s-json-bytes]:--}" "${R[$s-json-cpu]:--}"
            pct_row "$label | Prometheus" "${R[$s-prom]:-0 - - - - -}" \
                "${R[$s-prom-bytes]:--}" "${R[$s-prom-cpu]:--}"
        done

        printf '\n## %s warm instances\n\n' "$WARM"
        printf '%s functions called once each, all at once (%s); ' \
            "$WARM" "burst.pl"
        printf 'with the instance of f%04d from above, %s idle ' \
            $((FUNCTIONS - 1)) "${R[warm-idle]}"
        printf 'instances.\n\n'
        # shellcheck disable=SC2016 # a Markdown code fence
        printf '```\n%s\n%s\n```\n\n' \
            "cold, one call each: ${R[warm-cold]}" \
            "warm, one call each: ${R[warm-round]}"
        printf 'Their cold starts in the supervisor (request arrival to '
        printf 'instance ready), p50 / max: %s ms. ' \
            "$(cold_stats 'f[0-9]*' reg)"
        printf 'Supervisor CPU time: %s ms for the %s cold calls, ' \
            "${R[warm-cold-cpu]}" "$WARM"
        printf '%s ms for the %s warm ones.\n\n' "${R[warm-round-cpu]}" \
            "$WARM"

        read -r n v r p q c cn <<< "${R[warm-mem]}"
        printf '| per instance (%s processes below the supervisor) | ' "$n"
        printf 'total, MiB | mean, KiB |\n|---|--:|--:|\n'
        printf '| VmRSS | %s | %s |\n' "$(kib_mib "$v")" $((v / n))
        printf '| PSS (smaps_rollup) | %s | %s |\n' "$(kib_mib "$p")" \
            $((p / n))
        printf '| private (clean + dirty) | %s | %s |\n' "$(kib_mib "$q")" \
            $((q / n))
        if [ "$c" != - ]; then
            printf '| memory cgroup (%s of them) | %s | %s |\n' "$cn" \
                "$(kib_mib "$c")" $((c / cn))
        fi

        read -r r p q <<< "${R[warm-sup-mem]}"
        printf '\n| supervisor | %s functions, no instance ' "$FUNCTIONS"
        printf '| %s functions, %s instances |\n' "$FUNCTIONS" "$n"
        printf '|---|--:|--:|\n'
        printf '| RSS, KiB | %s | %s |\n' "$(cut -d ' ' -f 1 \
            <<< "${R[reg-sup-mem]}")" "$r"
        printf '| PSS, KiB | %s | %s |\n' "$(cut -d ' ' -f 2 \
            <<< "${R[reg-sup-mem]}")" "$p"
        printf '| fds | %s | %s |\n' "${R[reg-sup-fds]}" "${R[warm-sup-fds]}"
        printf '| fd kinds | %s | %s |\n' "${R[reg-sup-fdtypes]}" \
            "${R[warm-sup-fdtypes]}"
        printf '| nginx workers RSS, KiB | %s | %s |\n' \
            "${R[reg-workers-rss]}" "${R[warm-workers-rss]}"

        printf '\n## Bursts of %s calls to a cold function\n\n' "$BURST"
        printf 'A function of t/functions/sleep.c (%s ms a call), ' \
            "$SLEEP_MS"
        printf 'queue_size 1000, queue_timeout 30s, no instance at the '
        printf 'start; %s connections opened, then a request on each; ' \
            "$BURST"
        printf 'faas_status read every 20 ms meanwhile. Times in ms, from '
        printf 'the last request written.\n\n'
        printf '| burst | concurrency | max_instances | round | ok | lost '
        printf '| statuses | connect | all answered | p50 | p90 | p99 '
        printf '| max |\n'
        printf '|---|--:|--:|--:|--:|--:|---|--:|--:|--:|--:|--:|--:|\n'
        for ((rr = 1; rr <= ROUNDS; rr++)); do
            for b in "${BURSTS[@]}"; do
                line=$(grep '^@burst' <<< "${R[burst-$b-$rr]:-}" || true)
                printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s ' \
                    "$b" "${CONCURRENCY[$b]}" "${MAXINST[$b]}" "$rr" \
                    "$(field ok "$line")" "$(field lost "$line")" \
                    "$(field statuses "$line")" \
                    "$(field connect_ms "$line")" \
                    "$(field total_ms "$line")"
                printf '| %s | %s | %s | %s |\n' "$(field p50 "$line")" \
                    "$(field p90 "$line")" "$(field p99 "$line")" \
                    "$(field max "$line")"
            done
        done

        printf '\nWhat faas_status showed during the burst (the most at one '
        printf 'sample), the cold starts as the supervisor logged them '
        printf '(request arrival to instance ready, ms), when the first '
        printf 'status sample came back and the longest faas_status took '
        printf 'to answer (ms), the supervisor CPU time over the burst '
        printf '(ms), and the threads of each instance after the '
        printf 'burst:\n\n'
        printf '| burst | round | queue_length | in_flight | instances '
        printf '| cold starts | cold start p50 / max | samples '
        printf '| first sample | status answer max | supervisor CPU '
        printf '| threads |\n'
        printf '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|\n'
        for ((rr = 1; rr <= ROUNDS; rr++)); do
            for b in "${BURSTS[@]}"; do
                name=burst-$b-$rr
                s=$(grep '^@status' <<< "${R[$name]:-}" || true)
                printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s ' \
                    "$b" "$rr" "$(field queue_max "$s")" \
                    "$(field in_flight_max "$s")" \
                    "$(field instances_max "$s")" \
                    "$(field cold_starts "$s")" \
                    "$(cold_stats "$name" burst)" "$(field samples "$s")" \
                    "$(field first_ms "$s")"
                printf '| %s | %s | %s |\n' "$(field answer_max_ms "$s")" \
                    "${R[$name-cpu]:--}" "${R[$name-threads]:--}"
            done
        done

        printf '\n## Notes\n\n'
        if [ ${#NOTES[@]} -eq 0 ]; then
            printf 'Every call answered 200; no line at error level or '
            printf 'worse in the nginx and supervisor logs.\n'
        else
            printf -- '- %s\n' "${NOTES[@]}"
        fi

        printf '\nData: scale-*.dat, scale-*.out, scale-instances.tsv, the '
        printf 'configurations and logs in %s.\n' "$OUT"
    } > "$OUT/scale.md"
}


plot() {
    if ! command -v gnuplot > /dev/null; then
        warn "gnuplot is not installed (Debian gnuplot-nox): no plot"
        return
    fi

    mkdir -p "$PLOTS"
    gnuplot -e "dir='$OUT'; out='$PLOTS'; fmt='$PLOT_FORMAT'" \
            -e "burst=$BURST; sleep_ms=$SLEEP_MS" \
            "$TOP/bench/scale.gp" || warn "gnuplot failed"
}


main() {
    local n

    for n in curl ss jq perl pgrep awk; do
        command -v "$n" > /dev/null || die "$n is not installed"
    done

    mkdir -p "$OUT"
    rm -f "$OUT"/scale-*.dat "$OUT"/scale-*.out "$OUT"/scale-*.log \
        "$OUT"/scale-*.stderr "$OUT"/scale-*.conf "$OUT/scale.md" \
        "$OUT/scale-instances.tsv"

    LOAD_START=$(cut -d ' ' -f 1-3 /proc/loadavg)
    raise_nofile

    # sockets live here: short paths, and open to nginx's workers (nobody)
    RUN=$(mktemp -d /tmp/faas-scale.XXXXXX)
    chmod 0755 "$RUN"
    PORT=$(free_port)

    log "copying the build and $FUNCTIONS code directories to $SNAP"
    snapshot

    phase_registration
    phase_warm

    log "stopping the first nginx and supervisor"
    set +e
    stop_all
    set -e

    PORT=$(free_port)
    phase_burst

    set +e
    stop_all
    set -e

    check_logs
    write_results
    plot

    cat "$OUT/scale.md"

    if [ "$FAILED" -ne 0 ]; then
        warn "FAILED: see $OUT/scale.md"
        return 1
    fi

    log "results: $OUT/scale.md"
}


main
