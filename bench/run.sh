#!/usr/bin/env bash
# ngx_faas benchmarks: ngx_faas against nginx's own ways of reaching a
# backend, on this machine, in one run.  Called by `./build.sh bench`.
#
#   bench/run.sh [BUILD]          BUILD defaults to ./build
#
# Scenarios, each its own nginx on a free 127.0.0.1 port, all answering
# "Hello, world!\n" as text/plain:
#
#   return    nginx `return 200`: the ceiling
#   proxy     proxy_pass to bench/upstream.c on a unix socket, no keepalive
#   proxy-ka  the same with `keepalive 32` and HTTP/1.1 to the upstream
#   faas      faas_pass to the hello C function, warm
#   faas-sup  the same with faas_direct_calls off: every call through the
#             supervisor, as before direct calls
#   faas-mt   the same function in MT_INSTANCES instance(s) of concurrency
#             MT_CONCURRENCY and MT_THREADS thread(s): an event loop, as
#             the upstream is
#   faas-py   the same with the Python hello (t/functions/python/hello)
#   faas-node the same with the Node.js hello (t/functions/nodejs/hello)
#   fastcgi   fastcgi_pass to php-fpm on a unix socket (needs php-fpm)
#
# Each ngx_faas scenario has a supervisor of its own, so that its CPU time
# is its own, and the C one's also serves the cold start.
#
# Throughput: BENCH_ROUNDS rounds (the scenarios interleaved in each round)
# of wrk -tBENCH_THREADS -cBENCH_CONNECTIONS -dBENCH_DURATION; the median
# round counts.  Latency: one wrk connection per scenario for
# BENCH_LATENCY_DURATION.  Cold start: bench-coldstart, BENCH_COLD_SAMPLES
# samples from zero instances, then BENCH_WARM_SAMPLES warm ones.
#
# Then, unless BENCH_LAYERS=0, the cold start by warm layer
# (bench/coldstart-layers.sh), whose table is appended to results.md.
#
# Writes build/bench/results.md and the data files beside it, and the plots
# into docs/bench/.  Installs nothing; every process it starts is stopped
# on exit, failure and interrupt included.

set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_NAME=bench
# shellcheck source=bench/lib.sh
. "$TOP/bench/lib.sh"
BUILD=$(cd "${1:-$TOP/build}" && pwd)
OUT=$BUILD/bench
PLOTS=${BENCH_PLOTS:-$TOP/docs/bench}
PLOT_FORMAT=${BENCH_PLOT_FORMAT:-svg}

NGINX=${NGINX_BIN:-/usr/sbin/nginx}
PHP_FPM=${PHP_FPM_BIN:-}
ROUNDS=${BENCH_ROUNDS:-3}
DURATION=${BENCH_DURATION:-10s}
THREADS=${BENCH_THREADS:-2}
CONNECTIONS=${BENCH_CONNECTIONS:-50}
LATENCY_DURATION=${BENCH_LATENCY_DURATION:-5s}
COLD_SAMPLES=${BENCH_COLD_SAMPLES:-200}
# per series of bench/coldstart-layers.sh: 12 series and 3 anchors
LAYERS_SAMPLES=${BENCH_COLD_SAMPLES:-100}
WARM_SAMPLES=${BENCH_WARM_SAMPLES:-2000}

# the cold-start function is torn down after COLD_IDLE_MS idle; a sample
# waits COLD_WAIT_MS so that the instance has exited
COLD_IDLE_MS=50
COLD_WAIT_MS=150

# the same pool size for the process-pool backends
POOL=8

# faas-mt: one process with room for 64 calls, served by one thread
# (docs/directives.md, threads): the shape of bench-upstream, which takes
# every connection.  With 32, wrk's 50 clients would queue for it in the
# workers.  64 is what an instance holds; each worker keeps its share
MT_INSTANCES=${BENCH_MT_INSTANCES:-1}
MT_CONCURRENCY=${BENCH_MT_CONCURRENCY:-64}
MT_THREADS=${BENCH_MT_THREADS:-1}

# the supervisor's --instance-sched (batch, its default, or normal), and
# the policy of bench-upstream (normal, as users run a server, or batch)
INSTANCE_SCHED=${BENCH_INSTANCE_SCHED:-batch}
UPSTREAM_SCHED=${BENCH_UPSTREAM_SCHED:-normal}

# the warm functions outlive the run: a round of seven scenarios is longer
# than the default 60 s, after which they would start cold in each round
WARM_IDLE=10m

HZ=$(getconf CLK_TCK)

BODY='Hello, world!'

SCENARIOS=(return proxy proxy-ka faas faas-mt faas-sup faas-py faas-node
           fastcgi)
# BENCH_SCENARIOS="proxy-ka faas": only those are measured
SELECTED=${BENCH_SCENARIOS:-${SCENARIOS[*]}}
declare -A LABEL=(
    [return]='nginx return 200'
    [proxy]='proxy_pass'
    [proxy-ka]='proxy_pass keepalive'
    [faas]='ngx_faas C (warm)'
    [faas-mt]="ngx_faas C, $MT_INSTANCES x concurrency $MT_CONCURRENCY, \
threads $MT_THREADS"
    [faas-sup]='ngx_faas C via supervisor'
    [faas-py]='ngx_faas Python (warm)'
    [faas-node]='ngx_faas Node.js (warm)'
    [fastcgi]='FastCGI php-fpm'
)
# the ngx_faas scenarios: runtime, code (below TOP), handler; the others
# are the baselines they are compared with
FAAS=(faas faas-mt faas-sup faas-py faas-node)
declare -A RUNTIME=(
    [faas]=c
    [faas-mt]=c
    [faas-sup]=c
    [faas-py]=python3
    [faas-node]=nodejs
)
declare -A CODE=(
    [faas-py]=t/functions/python/hello
    [faas-node]=t/functions/nodejs/hello
)
declare -A HANDLER=(
    [faas]=handle
    [faas-mt]=handle
    [faas-sup]=handle
    [faas-py]=main.handle
    [faas-node]=index.handler
)
# whose CPU time is the scenario's backend: a process started here, and
# what its children are
declare -A BACKEND=(
    [proxy]=upstream
    [proxy-ka]=upstream
    [faas]=supervisor
    [faas-mt]=supervisor-mt
    [faas-sup]=supervisor-sup
    [faas-py]=supervisor-py
    [faas-node]=supervisor-node
    [fastcgi]=php-fpm
)
declare -A CHILDREN=(
    [faas]=instances
    [faas-mt]=instances
    [faas-sup]=instances
    [faas-py]=instances
    [faas-node]=instances
    [fastcgi]=pool
)
declare -A PORT=() SKIP=() PID_OF=() MEDIAN_RPS=()

LOG_CHECK=()
FAILED=0


# start SIGNAL LOGNAME COMMAND...: runs COMMAND in the background, stopped
# with SIGNAL by cleanup()
start() {
    local sig=$1 name=$2

    shift 2
    "$@" >> "$OUT/$name.out" 2>&1 &
    PIDS+=("$!:$sig")
    PID_OF[$name]=$!
}


# free_port NAME: PORT[NAME] becomes a port nothing listens on and no other
# scenario was given; below the ephemeral range, where no client socket
# takes it
free_port() {
    local p

    for p in $(shuf -i 20000-32000 -n 100); do
        if [[ " ${PORT[*]} " != *" $p "* ]] \
            && [ -z "$(ss -Htln "sport = :$p")" ]
        then
            PORT[$1]=$p
            return 0
        fi
    done

    die "no free port found on 127.0.0.1"
}


# waits until URL answers 200 with the benchmark's body
wait_ready() {
    local url=$1 i body

    for ((i = 0; i < 100; i++)); do
        if body=$(curl -sf -m 2 "$url" 2>/dev/null) && [ "$body" = "$BODY" ]
        then
            return 0
        fi

        sleep 0.1
    done

    return 1
}


median() {
    sort -g | awk '{ v[NR] = $1 }
                   END { if (NR == 0) exit;
                         if (NR % 2) print v[(NR + 1) / 2];
                         else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}


# field KEY LINE: the value of KEY=value in an "@bench" line
field() {
    sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<< "$2"
}


us_to_ms() {
    awk -v v="$1" 'BEGIN { printf "%.3f", v / 1000 }'
}


# nginx_conf NAME MAIN HTTP LOCATION: one nginx per scenario, so that no
# scenario pays for another's configuration
nginx_conf() {
    local name=$1 main=$2 http=$3 location=$4 dir=$RUN/nginx-$1

    mkdir -p "$dir"
    free_port "$name"

    cat > "$OUT/nginx-$name.conf" <<EOF
# generated by bench/run.sh
$main
daemon off;
worker_processes $(nproc);
pid $dir/nginx.pid;
error_log $OUT/nginx-$name.error.log warn;

events {
    worker_connections 4096;
}

http {
    access_log off;
    default_type text/plain;

    client_body_temp_path $dir/client_body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
$http
    server {
        listen 127.0.0.1:${PORT[$name]};

$location
    }
}
EOF
}


start_nginx() {
    local name=$1

    : > "$OUT/nginx-$name.error.log"
    start TERM "nginx-$name" "$NGINX" -p "$RUN/nginx-$name" \
        -c "$OUT/nginx-$name.conf" -e "$OUT/nginx-$name.error.log"
}


# scenario_failed NAME REASON: the scenario is left out of the run and the
# script ends with status 1
scenario_failed() {
    SKIP[$1]=$2
    FAILED=1
    warn "$1: $2"
}


setup_return() {
    nginx_conf return "" "" '        location / {
            return 200 "Hello, world!\n";
        }'
}


setup_proxy() {
    nginx_conf proxy "" "" "        location / {
            proxy_pass http://unix:$RUN/upstream.sock:/;
        }"

    nginx_conf proxy-ka "" "
    upstream hello {
        server unix:$RUN/upstream.sock;
        keepalive 32;
    }
" '        location / {
            proxy_pass http://hello;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }'
}


# faas_snapshot: a private copy of the build and of the functions measured,
# in OUT/snapshot; fails every ngx_faas scenario when the build lacks a part
# they all need
faas_snapshot() {
    local f s snap=$OUT/snapshot

    for f in ngx_http_faas_module.so faas-supervisor; do
        if [ ! -e "$BUILD/$f" ]; then
            for s in "${FAAS[@]}"; do
                scenario_failed "$s" "$BUILD/$f is missing (run ./build.sh)"
            done
            return 1
        fi
    done

    # A private copy: a rebuild during the run must not change what is
    # measured, nor crash it (cp over a loaded .so rewrites mapped pages).
    # The supervisor finds the runtimes beside itself.  Not below /tmp:
    # instances get a private /tmp, so the sandbox refuses code there.
    rm -rf "$snap"
    mkdir -p "$snap/functions"
    # -r: faas-runtime-nodejs.d (the addon) and faas-runtime-python3.d are
    # directories
    cp -r "$BUILD/ngx_http_faas_module.so" "$BUILD/faas-supervisor" \
        "$BUILD"/faas-runtime-* "$snap/"
}


# setup_faas NAME: the ngx_faas scenario NAME, with a supervisor of its
# own, started as the C one always was (sandbox on, no pool); the C
# scenario also has hello-cold, for the cold-start samples
setup_faas() {
    local name=$1 snap=$OUT/snapshot code sup cold='' cold_loc='' f
    local rt=${RUNTIME[$1]} direct='' pool="max_instances $POOL;"

    if [ "$name" = faas ] || [ "$name" = faas-sup ] || [ "$name" = faas-mt ]
    then
        code=$BUILD/functions/hello
        sup=supervisor${name#faas}
    else
        code=$TOP/${CODE[$name]}
        sup=supervisor-${name#faas-}
    fi

    for f in "$BUILD/faas-runtime-$rt" "$code"; do
        if [ ! -e "$f" ]; then
            scenario_failed "$name" "$f is missing (run ./build.sh)"
            return
        fi
    done

    if [ "$rt" = c ] && [ ! -e "$code/function.so" ]; then
        scenario_failed "$name" "$code/function.so is missing (run \
./build.sh)"
        return
    fi

    cp -r "$code" "$snap/functions/$name"

    if [ "$name" = faas-sup ]; then
        direct='
            faas_direct_calls off;'
    fi

    if [ "$name" = faas-mt ]; then
        pool="max_instances $MT_INSTANCES;
        concurrency $MT_CONCURRENCY;
        threads $MT_THREADS;"
    fi

    : > "$OUT/$sup.log"
    start TERM "$sup" "$snap/faas-supervisor" \
        --listen "$RUN/$name.sock" --socket-mode 0666 \
        --log-file "$OUT/$sup.log" --log-level info \
        --instance-sched "$INSTANCE_SCHED"

    # hello-cold serves the cold-start samples: same code, no pool; /warm
    # the warm ones, with X-Cold to tell them apart, which / leaves out,
    # so that wrk gets the same response from every scenario
    if [ "$name" = faas ]; then
        cold="
    faas_function hello-cold {
        runtime c;
        code $snap/functions/$name;
        idle_timeout ${COLD_IDLE_MS}ms;
        max_instances 1;
    }
"
        # shellcheck disable=SC2016 # an nginx variable
        cold_loc='
        location = /cold {
            faas_pass hello-cold;
            add_header X-Cold $faas_cold_start;
        }

        location = /warm {
            faas_pass hello;
            add_header X-Cold $faas_cold_start;
        }'
    fi

    nginx_conf "$name" "load_module $snap/ngx_http_faas_module.so;" "
    faas_supervisor unix:$RUN/$name.sock;

    faas_function hello {
        runtime $rt;
        code $snap/functions/$name;
        handler ${HANDLER[$name]};
        idle_timeout $WARM_IDLE;
        $pool
    }
$cold" '        location / {'"$direct"'
            faas_pass hello;
        }'"
$cold_loc"
}


# Debian installs php-fpm as php-fpmX.Y
php_fpm_binary() {
    local f

    if [ -n "$PHP_FPM" ]; then
        [ -x "$PHP_FPM" ] && echo "$PHP_FPM"
        return
    fi

    for f in php-fpm /usr/sbin/php-fpm[0-9]*; do
        if command -v "$f" > /dev/null 2>&1; then
            command -v "$f"
            return 0
        fi
    done

    return 1
}


setup_fastcgi() {
    local fpm

    if ! fpm=$(php_fpm_binary); then
        SKIP[fastcgi]="${PHP_FPM:-php-fpm} is not installed (Debian package \
php-fpm)"
        warn "fastcgi: skipped: ${SKIP[fastcgi]}"
        return
    fi

    PHP_FPM_VERSION=$("$fpm" -v | sed -n '1s/^PHP \([^ ]*\).*/\1/p')

    printf '<?php\nheader("Content-Type: text/plain");\necho "%s\\n";\n' \
        "$BODY" > "$RUN/hello.php"

    # a static pool: no process is forked while it is measured
    cat > "$OUT/php-fpm.conf" <<EOF
; generated by bench/run.sh
[global]
pid = $RUN/php-fpm.pid
error_log = $OUT/php-fpm.log
daemonize = no

[bench]
user = nobody
group = nogroup
listen = $RUN/php-fpm.sock
listen.mode = 0666
pm = static
pm.max_children = $POOL
EOF

    start QUIT php-fpm "$fpm" --nodaemonize --fpm-config "$OUT/php-fpm.conf"

    nginx_conf fastcgi "" "" "        location / {
            fastcgi_pass unix:$RUN/php-fpm.sock;
            fastcgi_param SCRIPT_FILENAME $RUN/hello.php;
            fastcgi_param SCRIPT_NAME /hello.php;
            fastcgi_param REQUEST_METHOD \$request_method;
            fastcgi_param REQUEST_URI \$request_uri;
            fastcgi_param QUERY_STRING \$query_string;
            fastcgi_param CONTENT_TYPE \$content_type;
            fastcgi_param CONTENT_LENGTH \$content_length;
            fastcgi_param SERVER_PROTOCOL \$server_protocol;
            fastcgi_param GATEWAY_INTERFACE CGI/1.1;
            fastcgi_param REMOTE_ADDR \$remote_addr;
            fastcgi_param SERVER_NAME \$server_name;
            fastcgi_param SERVER_PORT \$server_port;
        }"
}


# ticks PID...: CPU time (user + system) of the processes, in clock ticks;
# the fields are counted after the command name, which may hold spaces
ticks() {
    local p files=()

    for p in "$@"; do
        [ -r "/proc/$p/stat" ] && files+=("/proc/$p/stat")
    done

    if [ ${#files[@]} -eq 0 ]; then
        echo 0
        return
    fi

    awk '{ sub(/^.*\) /, ""); t += $12 + $13 } END { print t + 0 }' \
        "${files[@]}" 2>/dev/null || echo 0
}


# cpu_sample NAME: ticks of the scenario's processes, "nginx_workers
# backend backend_children" (the upstream, php-fpm's master and pool, or the
# supervisor and its instances), then the machine's "busy idle total"
cpu_sample() {
    local name=$1 master backend

    master=${PID_OF[nginx-$name]}
    backend=${BACKEND[$name]:-}

    printf '%s ' "$(ticks $(pgrep -P "$master"))"

    if [ -n "$backend" ]; then
        printf '%s %s ' "$(ticks "${PID_OF[$backend]}")" \
            "$(ticks $(pgrep -P "${PID_OF[$backend]}"))"
    else
        printf '0 0 '
    fi

    # user nice system idle iowait irq softirq steal
    awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6,
                              $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' \
        /proc/stat
}


# wrk_run NAME CONNECTIONS THREADS DURATION [SPECTRUM_FILE]: sets WRK to
# the "@bench" line of the run, empty when wrk failed, and WRK_TICKS to the
# CPU time wrk used
wrk_run() {
    local name=$1 c=$2 t=$3 d=$4 spectrum=${5:-} out TIMEFORMAT='%U %S'

    out=$OUT/wrk-$name.out
    printf '\n$ wrk -t%s -c%s -d%s\n' "$t" "$c" "$d" >> "$out"

    BENCH_SPECTRUM=$spectrum wrk -t"$t" -c"$c" -d"$d" --latency \
        -s "$TOP/bench/report.lua" "http://127.0.0.1:${PORT[$name]}/" \
        >> "$out" 2>&1 &
    FG_PID=$!

    # `time` counts the CPU of the child that `wait` reaps
    { time wait "$FG_PID"; } 2> "$RUN/wrk.time" || true
    FG_PID=

    WRK=$(tail -n 20 "$out" | grep '^@bench ' | tail -n 1 || true)
    WRK_TICKS=$(awk -v hz="$HZ" '{ printf "%.0f", ($1 + $2) * hz }' \
                "$RUN/wrk.time")
}


# the scenarios still in the run
active() {
    local s

    for s in "${SCENARIOS[@]}"; do
        [ -z "${SKIP[$s]:-}" ] && echo "$s"
    done
    return 0
}


# measure_throughput: wrk rounds into throughput.tsv, and the CPU time
# used meanwhile into cpu.tsv: by the scenario's processes, by wrk, and by
# the whole machine, which tells how much the other tenants took
measure_throughput() {
    local r s line before after

    printf '# scenario round rps p50_us p99_us errors non2xx\n' \
        > "$OUT/throughput.tsv"
    {
        printf '# scenario round wall_us requests nginx_workers backend '
        printf 'backend_children wrk machine_busy machine_idle machine_total '
        printf '(ticks, %s a second)\n' "$HZ"
    } > "$OUT/cpu.tsv"

    for ((r = 1; r <= ROUNDS; r++)); do
        for s in $(active); do
            log "round $r/$ROUNDS: $s"
            before=$(cpu_sample "$s")
            wrk_run "$s" "$CONNECTIONS" "$THREADS" "$DURATION"
            after=$(cpu_sample "$s")
            line=$WRK

            if [ -z "$line" ]; then
                scenario_failed "$s" "wrk gave no result (see $OUT/wrk-$s.out)"
                continue
            fi

            printf '%s %d %s %s %s %s %s\n' "$s" "$r" \
                "$(field rps "$line")" "$(field p50_us "$line")" \
                "$(field p99_us "$line")" "$(field errors "$line")" \
                "$(field non2xx "$line")" >> "$OUT/throughput.tsv"

            printf '%s %d %s %s %s %s %s\n' "$s" "$r" \
                "$(field duration_us "$line")" "$(field requests "$line")" \
                "$WRK_TICKS" "$before" "$after" \
                | awk 'function d(a, b) { return a > b ? a - b : 0 }
                       { print $1, $2, $3, $4, d($12, $6), d($13, $7),
                               d($14, $8), $5, d($15, $9), d($16, $10),
                               d($17, $11) }' \
                >> "$OUT/cpu.tsv"
        done
    done
}


measure_latency() {
    local s line

    printf '# scenario rps p50_us p90_us p99_us p999_us max_us errors\n' \
        > "$OUT/latency.tsv"

    for s in $(active); do
        log "latency, one connection: $s"
        wrk_run "$s" 1 1 "$LATENCY_DURATION" "$OUT/latency-$s.dat"
        line=$WRK

        if [ -z "$line" ]; then
            scenario_failed "$s" "wrk gave no result (see $OUT/wrk-$s.out)"
            continue
        fi

        printf '%s %s %s %s %s %s %s %s\n' "$s" "$(field rps "$line")" \
            "$(field p50_us "$line")" "$(field p90_us "$line")" \
            "$(field p99_us "$line")" "$(field p999_us "$line")" \
            "$(field max_us "$line")" \
            "$(( $(field errors "$line") + $(field non2xx "$line") ))" \
            >> "$OUT/latency.tsv"
    done
}


# cdf IN COLUMN FILTER OUT: "value fraction" of a column, for the CDF plot
cdf() {
    [ -f "$1" ] || return 0

    awk "!/^#/ && ($3) { print \$$2 }" "$1" | sort -g \
        | awk '{ v[NR] = $1 } END { for (i = 1; i <= NR; i++)
                                        print v[i], i / NR }' > "$4"
}


measure_coldstart() {
    local url=http://127.0.0.1:${PORT[faas]}

    log "cold start: $COLD_SAMPLES samples, ${COLD_WAIT_MS} ms apart"
    run "$OUT/bench-coldstart" -m cold -n "$COLD_SAMPLES" -w "$COLD_WAIT_MS" \
        -o "$OUT/coldstart-cold.dat" -l "$OUT/supervisor.log" \
        -g 'function "hello-cold"' -L "$OUT/coldstart-supervisor.dat" \
        "$url/cold" \
        > "$OUT/coldstart-cold.out" || FAILED=1
    cat "$OUT/coldstart-cold.out"

    log "warm latency: $WARM_SAMPLES sequential samples"
    run "$OUT/bench-coldstart" -m warm -n "$WARM_SAMPLES" \
        -o "$OUT/coldstart-warm.dat" "$url/warm" \
        > "$OUT/coldstart-warm.out" || FAILED=1
    cat "$OUT/coldstart-warm.out"

    cdf "$OUT/coldstart-cold.dat" 2 '$3 == 1 && $4 == 200' \
        "$OUT/coldstart-cold.cdf"
    cdf "$OUT/coldstart-warm.dat" 2 '$3 == 0 && $4 == 200' \
        "$OUT/coldstart-warm.cdf"

    cdf "$OUT/coldstart-supervisor.dat" 2 1 "$OUT/coldstart-supervisor.cdf"
}


# check_logs: counts the lines of each log at error level or worse; an
# alert (a worker crash, say) fails the run
check_logs() {
    local f n bad

    LOG_CHECK=()

    for f in "$OUT"/nginx-*.error.log "$OUT"/supervisor*.log; do
        [ -f "$f" ] || continue

        n=$(grep -c '\[error\]' "$f" || true)
        bad=$(grep -cE '\[(crit|alert|emerg)\]' "$f" || true)

        if [ "$n" -gt 0 ] || [ "$bad" -gt 0 ]; then
            LOG_CHECK+=("$(basename "$f"): $n error, $bad crit/alert/emerg")
        fi

        if [ "$bad" -gt 0 ]; then
            warn "$f: $bad lines at crit, alert or emerg level"
            FAILED=1
        fi
    done
}


# stat_row LABEL SET FILE: a cold-start table row from a summary line
stat_row() {
    local line

    line=$(grep "^$2 " "$3" 2>/dev/null) || {
        printf '| %s | 0 | | | | | |\n' "$1"
        return
    }

    printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$1" \
        "$(field n "$line")" "$(field p50 "$line")" "$(field p90 "$line")" \
        "$(field p99 "$line")" "$(field max "$line")" \
        "$(field mean "$line")"
}


# cpu_row NAME: the scenario's CPU use over its rounds, in % of one core
cpu_row() {
    local name=$1

    awk -v s="$name" -v label="${LABEL[$name]}" -v ncpu="$(nproc)" \
        -v hz="$HZ" -v b="${BACKEND[$name]:-}" -v c="${CHILDREN[$name]:-}" '
        $1 == s { req += $4; n += $5; p += $6; k += $7; w += $8;
                  busy += $9; idle += $10; total += $11 }
        function pct(t) { return sprintf("%.0f%%", 100 * t * ncpu / total) }
        function us(t) { return sprintf("%.0f", t / hz * 1e6 / req) }
        END {
            if (total == 0 || req == 0) exit
            be = "-"
            if (b != "") be = b " " pct(p)
            if (c != "") be = be " + " c " " pct(k)
            other = busy - n - p - k - w
            printf "| %s | %s | %s | %s | %s | %s | %s |\n", label, pct(n),
                   be, pct(w), pct(other > 0 ? other : 0), pct(idle),
                   us(n + p + k)
        }' "$OUT/cpu.tsv"
}


# ratio A B: A / B with two decimals
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b;
                                     else printf "-" }'
}


# ratio_table ARRAY: each ngx_faas scenario's value in the associative
# array named ARRAY over each scenario's, a row per ngx_faas scenario
ratio_table() {
    local -n val=$1
    local f s

    printf '| ngx_faas |'
    for s in $(active); do
        printf ' %s |' "${LABEL[$s]}"
    done
    printf '\n|---|'
    for s in $(active); do
        printf -- '--:|'
    done
    printf '\n'

    for f in "${FAAS[@]}"; do
        [ -n "${val[$f]:-}" ] || continue
        printf '| %s |' "${LABEL[$f]}"
        for s in $(active); do
            printf ' %s |' "$(ratio "${val[$f]}" "${val[$s]:-0}")"
        done
        printf '\n'
    done
}


write_results() {
    local s rps rounds p50 p90 p99 p999 max errs line cpu versions
    local -A lat_p50=()

    cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
    versions=$("$NGINX" -v 2>&1 | sed 's/^nginx version: //')
    versions+=${PHP_FPM_VERSION:+, php-fpm $PHP_FPM_VERSION}

    printf '# scenario median_rps\n' > "$OUT/throughput-median.tsv"

    for s in $(active); do
        rps=$(awk -v s="$s" '$1 == s { print $3 }' "$OUT/throughput.tsv" \
              | median)
        MEDIAN_RPS[$s]=$rps
        printf '"%s" %s\n' "${LABEL[$s]}" "$rps" \
            >> "$OUT/throughput-median.tsv"
    done

    # shellcheck disable=SC2034 # lat_p50 is read by ratio_table, by name
    while read -r s rps p50 _; do
        [[ $s == \#* ]] || lat_p50[$s]=$p50
    done < "$OUT/latency.tsv"

    {
        printf '# ngx_faas benchmark results\n\n'
        printf 'Run %s on %s x %s, Linux %s, %s.\n\n' \
            "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(nproc)" "$cpu" \
            "$(uname -r)" "$versions"
        printf 'nginx: worker_processes %s, access_log off; ' "$(nproc)"
        printf 'each ngx_faas function and php-fpm: a pool of %d ' "$POOL"
        printf 'processes; instances scheduled %s ' "$INSTANCE_SCHED"
        printf '(faas-supervisor --instance-sched), bench-upstream %s.\n' \
            "$UPSTREAM_SCHED"
        printf 'The machine is shared: compare ratios rather than absolute '
        printf 'numbers.\n\n'

        printf '## Throughput\n\n'
        printf 'wrk -t%s -c%s -d%s, %s rounds; req/s is the median round, ' \
            "$THREADS" "$CONNECTIONS" "$DURATION" "$ROUNDS"
        printf 'latencies the median over the rounds, in ms.\n\n'
        printf '| scenario | req/s | req/s of each round | p50 | p99 '
        printf '| errors |\n'
        printf '|---|--:|---|--:|--:|--:|\n'

        for s in $(active); do
            rounds=$(awk -v s="$s" '$1 == s { printf "%s%.0f", sep, $3;
                                              sep = ", " }' \
                     "$OUT/throughput.tsv")
            p50=$(awk -v s="$s" '$1 == s { print $4 }' "$OUT/throughput.tsv" \
                  | median)
            p99=$(awk -v s="$s" '$1 == s { print $5 }' "$OUT/throughput.tsv" \
                  | median)
            errs=$(awk -v s="$s" '$1 == s { n += $6 + $7 }
                                  END { print n + 0 }' "$OUT/throughput.tsv")

            printf '| %s | %.0f | %s | %s | %s | %s |\n' \
                "${LABEL[$s]}" "${MEDIAN_RPS[$s]}" "$rounds" \
                "$(us_to_ms "$p50")" "$(us_to_ms "$p99")" "$errs"
        done

        printf '\nreq/s of each ngx_faas scenario over those of each '
        printf 'scenario (above 1: ngx_faas is faster):\n\n'
        ratio_table MEDIAN_RPS

        printf '\nCPU time meanwhile, in %% of one core (%s cores: %s%%). ' \
            "$(nproc)" "$(( $(nproc) * 100 ))"
        printf '"other" is the rest of the machine: other processes, '
        printf 'interrupts not charged to a process, steal. CPU per request: '
        printf 'nginx workers and backend, wrk left out:\n\n'
        printf '| scenario | nginx workers | backend | wrk | other | idle '
        printf '| CPU us per request |\n'
        printf '|---|--:|---|--:|--:|--:|--:|\n'

        for s in $(active); do
            cpu_row "$s"
        done

        printf '\n## Latency, one connection\n\n'
        printf 'wrk -t1 -c1 -d%s: one request at a time, in ms.\n\n' \
            "$LATENCY_DURATION"
        printf '| scenario | req/s | p50 | p90 | p99 | p99.9 | max '
        printf '| errors |\n'
        printf '|---|--:|--:|--:|--:|--:|--:|--:|\n'

        while read -r s rps p50 p90 p99 p999 max errs; do
            [[ $s == \#* ]] && continue
            printf '| %s | %.0f | %s | %s | %s | %s | %s | %s |\n' \
                "${LABEL[$s]}" "$rps" "$(us_to_ms "$p50")" \
                "$(us_to_ms "$p90")" "$(us_to_ms "$p99")" \
                "$(us_to_ms "$p999")" "$(us_to_ms "$max")" "$errs"
        done < "$OUT/latency.tsv"

        printf '\np50 of each ngx_faas scenario over that of each scenario '
        printf '(above 1: ngx_faas is slower):\n\n'
        ratio_table lat_p50

        if [ -z "${SKIP[faas]:-}" ]; then
            printf '\n## Cold start\n\n'
            printf 'bench-coldstart: %s sequential requests, each %s ms ' \
                "$COLD_SAMPLES" "$COLD_WAIT_MS"
            printf 'after the last, to a function with idle_timeout %sms, ' \
                "$COLD_IDLE_MS"
            printf 'so that each starts an instance; then %s warm ' \
                "$WARM_SAMPLES"
            printf 'requests back to back on one keepalive connection. '
            printf 'Client: request written to response read. Supervisor: '
            printf 'request arrival to instance ready ("cold start in" in '
            printf 'its log), of which runtime init is the loading of the '
            printf 'code ("init"). In ms.\n\n'
            printf '| measure | n | p50 | p90 | p99 | max | mean |\n'
            printf '|---|--:|--:|--:|--:|--:|--:|\n'
            stat_row 'client, cold' client-cold "$OUT/coldstart-cold.out"
            stat_row 'supervisor, cold' supervisor-cold \
                "$OUT/coldstart-cold.out"
            stat_row 'runtime init, cold' runtime-init \
                "$OUT/coldstart-cold.out"
            stat_row 'client, warm' client-warm "$OUT/coldstart-warm.out"
            line=$(grep '^samples' "$OUT/coldstart-cold.out" || true)
            printf '\nCold run: %s.\n' "${line:-no result}"
        fi

        printf '\n## Logs\n\n'

        if [ ${#LOG_CHECK[@]} -eq 0 ]; then
            printf 'No line at error level or worse in the nginx and '
            printf 'supervisor logs.\n'
        else
            printf -- '- %s\n' "${LOG_CHECK[@]}"
        fi

        if [ ${#SKIP[@]} -gt 0 ]; then
            printf '\n## Left out\n\n'
            for s in "${!SKIP[@]}"; do
                printf -- '- %s: %s\n' "${LABEL[$s]}" "${SKIP[$s]}"
            done
        fi

        printf '\nData: throughput.tsv, cpu.tsv, latency.tsv, latency-*.dat, '
        printf 'coldstart-*.dat in %s; plots in %s.\n' "$OUT" "$PLOTS"
    } > "$OUT/results.md"
}


plot() {
    local s names= labels=

    if ! command -v gnuplot > /dev/null; then
        warn "gnuplot is not installed (Debian gnuplot-nox): no plots"
        return
    fi

    for s in $(active); do
        names+=" $s"
        labels+=" \"${LABEL[$s]}\""
    done

    mkdir -p "$PLOTS"

    gnuplot -e "dir='$OUT'; out='$PLOTS'; fmt='$PLOT_FORMAT'" \
            -e "names='$names'; labels='$labels'" \
            -e "faas=$([ -z "${SKIP[faas]:-}" ] && echo 1 || echo 0)" \
            "$TOP/bench/plots.gp" || warn "gnuplot failed"
}


# Cold start by warm layer (bench/coldstart-layers.sh): supervisors and
# nginx of its own, one series at a time, so the scenarios above are
# stopped first, not to run idle beside it.  Its table is appended to
# results.md.
measure_layers() {
    log "cold start by warm layer (BENCH_LAYERS=0 skips it)"
    set +e
    stop_all
    set -e

    if ! run env BENCH_PLOTS="$PLOTS" BENCH_PLOT_FORMAT="$PLOT_FORMAT" \
        NGINX_BIN="$NGINX" BENCH_COLD_SAMPLES="$LAYERS_SAMPLES" \
        "$TOP/bench/coldstart-layers.sh" "$BUILD"
    then
        warn "cold start by warm layer failed (see above)"
        FAILED=1
    fi

    if [ -f "$OUT/coldstart-layers.md" ]; then
        printf '\n' >> "$OUT/results.md"
        sed '1s/^# ngx_faas cold start/## Cold start/' \
            "$OUT/coldstart-layers.md" >> "$OUT/results.md"
    fi
}


main() {
    local s

    for s in wrk curl ss pgrep gcc; do
        command -v "$s" > /dev/null || die "$s is not installed"
    done

    case $PLOT_FORMAT in
        svg|png) ;;
        *) die "BENCH_PLOT_FORMAT must be svg or png" ;;
    esac

    mkdir -p "$OUT"
    rm -f "$OUT"/*.out "$OUT"/*.dat "$OUT"/*.cdf "$OUT"/*.tsv \
        "$OUT/results.md"

    log "building bench-upstream and bench-coldstart"
    gcc -O2 -Wall -Wextra -Werror -o "$OUT/bench-upstream" \
        "$TOP/bench/upstream.c"
    gcc -O2 -Wall -Wextra -Werror -o "$OUT/bench-coldstart" \
        "$TOP/bench/coldstart.c"

    # sockets live here: short paths, and open to nginx's workers (nobody)
    RUN=$(mktemp -d /tmp/faas-bench.XXXXXX)
    chmod 0755 "$RUN"

    if [ "$UPSTREAM_SCHED" = batch ]; then
        # chrt execs it: the pid stays the one that start records
        start TERM upstream chrt -b 0 "$OUT/bench-upstream" \
            "$RUN/upstream.sock"
    else
        start TERM upstream "$OUT/bench-upstream" "$RUN/upstream.sock"
    fi

    setup_return
    setup_proxy
    setup_fastcgi

    if faas_snapshot; then
        for s in "${FAAS[@]}"; do
            setup_faas "$s"
        done
    fi

    for s in "${SCENARIOS[@]}"; do
        case " $SELECTED " in
        *" $s "*) ;;
        *) SKIP[$s]="not in BENCH_SCENARIOS" ;;
        esac
    done

    for s in $(active); do
        start_nginx "$s"
    done

    for s in $(active); do
        if ! wait_ready "http://127.0.0.1:${PORT[$s]}/"; then
            scenario_failed "$s" "no \"$BODY\" from it (see \
$OUT/nginx-$s.error.log)"
            continue
        fi

        # fills pools and caches before anything is measured
        run wrk -t"$THREADS" -c"$CONNECTIONS" -d2s \
            "http://127.0.0.1:${PORT[$s]}/" > /dev/null 2>&1 || true
    done

    measure_throughput
    measure_latency

    if [ -z "${SKIP[faas]:-}" ]; then
        measure_coldstart
    fi

    check_logs
    write_results
    plot

    if [ "${BENCH_LAYERS:-1}" != 0 ]; then
        measure_layers
    fi

    log "results: $OUT/results.md, plots: $PLOTS"
    cat "$OUT/results.md"

    return $FAILED
}


main
