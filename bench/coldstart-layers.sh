#!/usr/bin/env bash
# Cold start by warm layer: for each runtime (c, python3, nodejs) the cold
# start from scale-to-zero with no pool, with a pooled sandbox, with a
# pooled runtime, and a warm call for scale.  Called by bench/run.sh (skip
# it there with BENCH_LAYERS=0) or on its own:
#
#   bench/coldstart-layers.sh [BUILD]     BUILD defaults to ./build
#
# Series (runtime x layer), each with a supervisor and an nginx of its own
# that run only while it is measured:
#
#   none      faas-supervisor without --pool
#   sandbox   --pool sandbox=2
#   runtime   --pool sandbox=2 --pool RUNTIME=2
#   warm      bench-coldstart -m warm: back to back on one connection
#
# A cold sample starts once the previous sample's instance has exited
# (idle_timeout 50ms) and every pool is full again: bench-coldstart runs a
# settle command before each sample that waits for both.  Each sample is
# timed at the client (request written to last byte read) and in the
# supervisor ("cold start in X ms" in its log), and checked against the
# layer nginx says served it ($faas_layer, in an access log of its own).
#
# Anchors, measured in the same run: `python3 -c pass`, `node -e 0` (the
# interpreters the runtimes use) and fork+exec of /usr/bin/true.
#
# Writes BUILD/bench/coldstart-layers.md (the table), coldstart-layers.tsv
# and anchors.tsv (the same as numbers), per series layers-RUNTIME-LAYER.*
# (.dat client samples, .supervisor.dat, .exec.dat, .access.log, .cdf,
# the configurations and logs) and anchor-NAME.dat beside them; the plot
# goes to docs/bench/coldstart-layers.svg (bench/coldstart-layers.gp).
# Installs nothing; every process it starts is stopped on exit, failure
# and interrupt included.
#
# Environment: BENCH_COLD_SAMPLES (100) samples per series and anchor runs,
# BENCH_LAYERS_ROUNDS (4) rounds the samples are spread over,
# BENCH_LAYERS_SETTLE_MS (20) quiet time before each cold sample,
# BENCH_LAYERS_RUNTIMES ("c python3 nodejs") and BENCH_LAYERS_LAYERS
# ("none sandbox runtime warm") to measure a subset,
# BENCH_PLOTS, BENCH_PLOT_FORMAT, NGINX_BIN as for run.sh.

set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_NAME=coldstart-layers
# shellcheck source=bench/lib.sh
. "$TOP/bench/lib.sh"
BUILD=$(cd "${1:-$TOP/build}" && pwd)
OUT=$BUILD/bench
PLOTS=${BENCH_PLOTS:-$TOP/docs/bench}
PLOT_FORMAT=${BENCH_PLOT_FORMAT:-svg}

NGINX=${NGINX_BIN:-/usr/sbin/nginx}
SAMPLES=${BENCH_COLD_SAMPLES:-100}
SETTLE_MS=${BENCH_LAYERS_SETTLE_MS:-20}
ROUNDS=${BENCH_LAYERS_ROUNDS:-4}

# the instance of a cold series is torn down this long after its call
IDLE_MS=50
POOL=2

# the interpreters the runtimes start (their #! lines)
PYTHON=/usr/bin/python3
NODE=/usr/bin/node

# a subset for a quick look, e.g. BENCH_LAYERS_RUNTIMES=c
read -r -a RUNTIMES <<< "${BENCH_LAYERS_RUNTIMES:-c python3 nodejs}"
read -r -a LAYERS <<< "${BENCH_LAYERS_LAYERS:-none sandbox runtime warm}"

declare -A HANDLER=(
    [c]=handle
    [python3]=main.handle
    [nodejs]=index.handler
)

FAILED=0
SERIES_NGINX=
SERIES_SUPERVISOR=
declare -A PORT_USED=() MISMATCHES=()


# start SIGNAL LOGFILE COMMAND...: runs COMMAND in the background, stopped
# with SIGNAL by stop_all(); STARTED is its pid
start() {
    local sig=$1 logfile=$2

    shift 2
    "$@" >> "$logfile" 2>&1 &
    STARTED=$!
    PIDS+=("$STARTED:$sig")
}


# free_port: PORT becomes a port nothing listens on, below the ephemeral
# range, where no client socket takes it
free_port() {
    local p

    for p in $(shuf -i 20000-32000 -n 100); do
        if [ -z "${PORT_USED[$p]:-}" ] \
            && [ -z "$(ss -Htln "sport = :$p")" ]
        then
            PORT=$p
            PORT_USED[$p]=1
            return 0
        fi
    done

    die "no free port found on 127.0.0.1"
}


# cdf IN COLUMN FILTER OUT: "value fraction" of a column, for the plot
cdf() {
    [ -f "$1" ] || return 0

    awk "!/^#/ && ($3) { print \$$2 }" "$1" | sort -g \
        | awk '{ v[NR] = $1 } END { for (i = 1; i <= NR; i++)
                                        print v[i], i / NR }' > "$4"
}


# pct FILE: "n p50 p90 p99" of the numbers in FILE, nearest rank as
# bench-coldstart computes them
pct() {
    sort -g "$1" | awk '{ v[NR] = $1 }
        function p(q,  i) { i = int(q * NR / 100 + 0.999999); return v[i] }
        END { if (NR == 0) { print 0, "-", "-", "-"; exit }
              printf "%d %.3f %.3f %.3f\n", NR, p(50), p(90), p(99) }'
}


# A private copy of what is measured: a rebuild during the run must not
# change it, nor crash it.  The supervisor finds the runtimes beside
# itself.
snapshot() {
    local f snap=$OUT/layers-snapshot

    for f in ngx_http_faas_module.so faas-supervisor faas-runtime-c \
             faas-runtime-python3 faas-runtime-nodejs \
             faas-runtime-nodejs.d functions/hello/function.so
    do
        [ -e "$BUILD/$f" ] || die "$BUILD/$f is missing (run ./build.sh)"
    done

    rm -rf "$snap"
    mkdir -p "$snap/code"
    cp -r "$BUILD/ngx_http_faas_module.so" "$BUILD/faas-supervisor" \
        "$BUILD"/faas-runtime-* "$snap/"
    cp -r "$BUILD/functions/hello" "$snap/code/c"
    cp -r "$TOP/t/functions/python/hello" "$snap/code/python3"
    cp -r "$TOP/t/functions/nodejs/hello" "$snap/code/nodejs"
    # instances run as nobody
    chmod -R a+rX "$snap"

    SNAP=$snap
}


# The settle command bench-coldstart runs before each cold sample: returns
# once the supervisor has only its pooled processes as children (the last
# instance has exited and been reaped) and faas_status shows every pool
# full and no instance, then leaves SETTLE_MS of quiet.
write_settle() {
    cat > "$RUN/settle.sh" <<'EOF'
#!/usr/bin/env bash
# settle.sh STATUS_URL SUPERVISOR_PID POOLED SETTLE_MS
url=$1 sup=$2 pooled=$3 settle=$4

for ((i = 0; i < 3000; i++)); do
    # the supervisor is gone: nothing to wait for
    kill -0 "$sup" 2>/dev/null || exit 1

    if [ "$(pgrep -c -P "$sup")" -eq "$pooled" ] \
        && st=$(curl -sf -m 2 "$url")
    then
        # faas_status JSON, whitespace dropped: every pool's ready equals
        # its size, and the function has no instance in any state
        st=$(tr -d ' \n' <<< "$st")

        if grep -o '"size":[0-9]*,"ready":[0-9]*' <<< "$st" \
                | awk -F'[:,]' '$2 != $4 { bad = 1 } END { exit bad }' \
            && grep -q '"registered":true' <<< "$st" \
            && ! grep -o '"instances":{[^}]*}' <<< "$st" | grep -q '[1-9]'
        then
            sleep "$(awk -v ms="$settle" 'BEGIN { print ms / 1000 }')"
            exit 0
        fi
    fi

    sleep 0.01
done

echo "settle: the function did not go back to zero in 30 s" >&2
exit 1
EOF
    chmod 0755 "$RUN/settle.sh"
}


# series_start RUNTIME LAYER: a supervisor with the layer's pools and an
# nginx with one function, RUNTIME-LAYER; sets URL, STATUS_URL, SUP_LOG,
# ACCESS_LOG and POOLED (the pooled processes the supervisor keeps)
series_start() {
    local rt=$1 layer=$2 s=$1-$2 dir=$RUN/$1-$2 idle pools=()

    mkdir -p "$dir"
    chmod 0755 "$dir"

    case $layer in
        none|warm) POOLED=0 ;;
        sandbox)   pools=(--pool "sandbox=$POOL"); POOLED=$POOL ;;
        runtime)   pools=(--pool "sandbox=$POOL" --pool "$rt=$POOL")
                   POOLED=$((2 * POOL)) ;;
    esac

    if [ "$layer" = warm ]; then
        idle=60s
    else
        idle=${IDLE_MS}ms
    fi

    # appended to from round to round
    SUP_LOG=$OUT/layers-$s.supervisor.log
    ACCESS_LOG=$OUT/layers-$s.access.log
    touch "$ACCESS_LOG"

    start TERM "$OUT/layers-$s.supervisor.out" "$SNAP/faas-supervisor" \
        --listen "$dir/faas.sock" --socket-mode 0666 \
        --log-file "$SUP_LOG" --log-level info "${pools[@]}"
    SERIES_SUPERVISOR=$STARTED

    free_port

    # one worker: samples are sequential, and one registration
    cat > "$OUT/layers-$s.nginx.conf" <<EOF
# generated by bench/coldstart-layers.sh
load_module $SNAP/ngx_http_faas_module.so;
daemon off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $OUT/layers-$s.nginx.log notice;

events {
    worker_connections 1024;
}

http {
    access_log off;
    default_type text/plain;

    client_body_temp_path $dir/client_body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;

    # the layer check reads the first field; the times (s, ms
    # resolution) split the client's time between nginx's steps
    log_format layers '\$faas_layer \$faas_cold_start \$status '
                      '\$request_time \$faas_queue_time \$faas_init_time '
                      '\$faas_exec_time';

    faas_supervisor unix:$dir/faas.sock;

    faas_function $s {
        runtime $rt;
        code $SNAP/code/$rt;
        handler ${HANDLER[$rt]};
        idle_timeout $idle;
        max_instances 1;
    }

    server {
        listen 127.0.0.1:$PORT;

        location = /f {
            faas_pass $s;
            add_header X-Layer \$faas_layer always;
            add_header X-Cold \$faas_cold_start always;
            access_log $ACCESS_LOG layers;
        }

        location = /status {
            faas_status;
        }
    }
}
EOF

    start TERM "$OUT/layers-$s.nginx.log" "$NGINX" -p "$dir" \
        -c "$OUT/layers-$s.nginx.conf" -e "$OUT/layers-$s.nginx.log"
    SERIES_NGINX=$STARTED

    URL=http://127.0.0.1:$PORT/f
    STATUS_URL=http://127.0.0.1:$PORT/status

    # registered, pools full, nothing else running
    run "$RUN/settle.sh" "$STATUS_URL" "$SERIES_SUPERVISOR" "$POOLED" 0
}


# the series' nginx, then its supervisor, which reaps its instances and
# pooled processes before it exits
series_stop() {
    stop "$SERIES_NGINX" TERM
    stop "$SERIES_SUPERVISOR" TERM
    PIDS=()
}


# measure RUNTIME LAYER N: N more samples of a series, from a supervisor
# and an nginx started for them; the raw samples are appended to the
# series' files:
#   layers-S.dat              client: seq ms cold status
#   layers-S.supervisor.dat   supervisor: seq cold_start_ms init_ms
#   layers-S.access.log       nginx: $faas_layer and times, per request
# and the mismatches are added up in MISMATCHES[S]
measure() {
    local rt=$1 layer=$2 n=$3 s=$1-$2 before skip mism

    log "$s: $n samples"

    if ! series_start "$rt" "$layer"; then
        warn "$s: not ready (see $OUT/layers-$s.nginx.log and" \
             "$OUT/layers-$s.supervisor.log)"
        series_stop
        FAILED=1
        MISMATCHES[$s]=$((${MISMATCHES[$s]:-0} + n))
        return
    fi

    before=$(wc -l < "$ACCESS_LOG")

    if [ "$layer" = warm ]; then
        # bench-coldstart's own unrecorded first request starts the
        # instance: it is left out of the layer check
        skip=$((before + 1))
        run "$OUT/bench-coldstart" -m warm -n "$n" -o "$RUN/client.dat" \
            "$URL" > "$RUN/out" || FAILED=1
        : > "$RUN/supervisor.dat"
    else
        skip=$before
        run "$OUT/bench-coldstart" -m cold -n "$n" \
            -x "$RUN/settle.sh $STATUS_URL $SERIES_SUPERVISOR $POOLED \
$SETTLE_MS" \
            -o "$RUN/client.dat" -l "$SUP_LOG" -g "function \"$s\"" \
            -L "$RUN/supervisor.dat" "$URL" > "$RUN/out" || FAILED=1
    fi

    series_stop
    tee -a "$OUT/layers-$s.out" < "$RUN/out"

    if ! grep -q 'sandbox on' "$SUP_LOG"; then
        warn "$s: the supervisor ran without the sandbox"
        SANDBOX_OFF=1
    fi

    # appended, numbered on from what the earlier rounds left
    append "$RUN/client.dat" "$OUT/layers-$s.dat" \
        '# seq latency_ms cold status (client)'
    append "$RUN/supervisor.dat" "$OUT/layers-$s.supervisor.dat" \
        '# seq cold_start_ms init_ms (supervisor log, -1: not logged)'

    # every sample must come from the intended layer; a warm call in a
    # cold series, or a cold start from a shallower layer, is a mismatch,
    # and so is a sample that nginx did not log
    mism=$(awk -v k="$skip" -v e="$layer" -v n="$n" '
               NR > k { lines++; if ($1 != e) bad++ }
               END { print bad + (n > lines ? n - lines : 0) }' \
           "$ACCESS_LOG")
    MISMATCHES[$s]=$((${MISMATCHES[$s]:-0} + mism))

    # nginx's $faas_exec_time of the samples, in ms
    awk -v k="$skip" 'NR > k && $7 != "-" { print $7 * 1000 }' \
        "$ACCESS_LOG" >> "$OUT/layers-$s.exec.dat"

    if [ "$mism" -gt 0 ]; then
        warn "$s: $mism of $n samples not from layer $layer:" \
             "$(awk -v k="$skip" 'NR > k { print $1 }' "$ACCESS_LOG" \
                | sort | uniq -c | tr -s ' \n' ' ')"
    fi
}


# append FROM TO HEADER: the data lines of FROM at the end of TO, their
# sequence numbers following TO's last
append() {
    local base

    [ -f "$2" ] || printf '%s\n' "$3" > "$2"
    [ -f "$1" ] || return 0

    base=$(grep -vc '^#' "$2" || true)
    awk -v base="$base" '!/^#/ { $1 = base + (++i); print }' "$1" >> "$2"
}


# summarise RUNTIME LAYER: the series' row in coldstart-layers.tsv, and
# the CDFs of its samples for the plot:
#   runtime layer requested client_n p50 p90 p99 supervisor_n p50 p90 p99
#   init_p50 exec_p50 mismatches
summarise() {
    local rt=$1 layer=$2 s=$1-$2 c client sup init exec

    if [ "$layer" = warm ]; then
        c='$3 == 0 && $4 >= 200 && $4 < 300'
    else
        c='$3 == 1 && $4 >= 200 && $4 < 300'
    fi

    cdf "$OUT/layers-$s.dat" 2 "$c" "$OUT/layers-$s.cdf"
    cdf "$OUT/layers-$s.supervisor.dat" 2 1 "$OUT/layers-$s.supervisor.cdf"

    touch "$OUT/layers-$s.cdf" "$OUT/layers-$s.exec.dat"
    client=$(awk '{ print $1 }' "$OUT/layers-$s.cdf" > "$RUN/v"; pct "$RUN/v")

    if [ "$layer" = warm ]; then
        sup='0 - - -'
        init=-
    else
        awk '!/^#/ { print $2 }' "$OUT/layers-$s.supervisor.dat" \
            > "$RUN/v" 2>/dev/null || : > "$RUN/v"
        sup=$(pct "$RUN/v")
        awk '!/^#/ && $3 >= 0 { print $3 }' \
            "$OUT/layers-$s.supervisor.dat" > "$RUN/v" 2>/dev/null \
            || : > "$RUN/v"
        init=$(pct "$RUN/v" | awk '{ print $2 }')
    fi

    exec=$(pct "$OUT/layers-$s.exec.dat" \
           | awk '{ print $2 == "-" ? "-" : sprintf("%.0f", $2) }')

    printf '%s %s %s %s %s %s %s %s\n' "$rt" "$layer" "$SAMPLES" "$client" \
        "$sup" "$init" "$exec" "${MISMATCHES[$s]:-0}" \
        >> "$OUT/coldstart-layers.tsv"
}


# anchor NAME N COMMAND...: COMMAND run N times, each timed with bash's
# EPOCHREALTIME (no fork for the clock); the times in ms are appended to
# anchor-NAME.dat.  The command
# gets an empty environment, as a runtime does: NODE_EXTRA_CA_CERTS, say,
# would make node read a CA bundle at start.
anchor() {
    local name=$1 n=$2 i t0 t1

    shift 2
    log "anchor: $* ($n runs)"

    # one unrecorded run: page cache
    (exec -c "$@") > /dev/null 2>&1 || true

    for ((i = 0; i < n; i++)); do
        t0=$EPOCHREALTIME
        (exec -c "$@") > /dev/null 2>&1
        t1=$EPOCHREALTIME
        awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", (b - a) * 1000 }' \
            >> "$OUT/anchor-$name.dat"
    done
}


ANCHORS=(true python3 node)

# the anchors' "NAME n p50 p90 p99" lines in anchors.tsv
anchors_summary() {
    local name

    printf '# anchor n p50 p90 p99 (ms)\n' > "$OUT/anchors.tsv"

    for name in "${ANCHORS[@]}"; do
        touch "$OUT/anchor-$name.dat"
        printf '%s %s\n' "$name" "$(pct "$OUT/anchor-$name.dat")" \
            >> "$OUT/anchors.tsv"
    done
}


# cpu_ticks: "busy total" clock ticks of the machine so far
cpu_ticks() {
    awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9,
                             $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' \
        /proc/stat
}


machine_note() {
    local cpu

    cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
    printf '%s x %s, Linux %s, %s, Python %s, Node.js %s' "$(nproc)" \
        "$cpu" "$(uname -r)" \
        "$("$NGINX" -v 2>&1 | sed 's/^nginx version: //')" \
        "$("$PYTHON" -c 'import platform; print(platform.python_version())')" \
        "$("$NODE" -v | sed 's/^v//')"
}


write_results() {
    local rt layer req cn cp50 cp90 cp99 sp50 sp90 sp99 init exec mism
    local name p50 p90 p99

    {
        printf '# ngx_faas cold start by warm layer\n\n'
        printf 'Run %s to %s on %s. Load average %s at the start, %s at ' \
            "$STARTED_AT" "$(date -u '+%H:%M UTC')" "$MACHINE" \
            "$LOAD_START" "$(cut -d' ' -f1-3 /proc/loadavg)"
        printf 'the end; the CPUs were %s busy over the run, this ' \
            "$(awk -v a="$CPU_START" -v b="$CPU_END" 'BEGIN {
                   split(a, x, " "); split(b, y, " ");
                   if (y[2] > x[2])
                       printf "%.0f%%", 100 * (y[1] - x[1]) / (y[2] - x[2])
               }')"
        printf 'benchmark included. Sandbox %s.\n\n' \
            "$([ -n "${SANDBOX_OFF:-}" ] && echo OFF || echo on)"
        printf '`bench/coldstart-layers.sh`: %s samples per series, ' \
            "$SAMPLES"
        printf 'spread over %s rounds (each round runs every series with ' \
            "$ROUNDS"
        printf 'a supervisor and an nginx of its own). '

        printf 'Cold: idle_timeout %sms, each sample once the last ' \
            "$IDLE_MS"
        printf 'instance has exited and the pools (%s each) are full, %s ' \
            "$POOL" "$SETTLE_MS"
        printf 'ms later. Warm: back to back on one keepalive connection. '
        printf 'Client: request written to last byte read; supervisor: '
        printf 'request arrival to instance ready ("cold start in"); code '
        printf 'load: the runtime loading the function ("init"); nginx '
        printf 'exec: $faas_exec_time, DISPATCH to the end of the '
        printf 'response as nginx saw it (1 ms resolution). '
        printf 'Mismatches: samples that $faas_layer says came from another '
        printf 'layer (or were not cold). In ms.\n\n'
        printf '| runtime | layer | client p50 | p90 | p99 '
        printf '| supervisor p50 | p90 | p99 | code load p50 '
        printf '| nginx exec p50 | samples | mismatches |\n'
        printf '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n'

        while read -r rt layer req cn cp50 cp90 cp99 _ sp50 sp90 sp99 \
                      init exec mism
        do
            [[ $rt == \#* ]] && continue
            printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s ' \
                "$rt" "$layer" "$cp50" "$cp90" "$cp99" "$sp50" "$sp90" \
                "$sp99" "$init" "$exec"
            printf '| %s/%s | %s |\n' "$cn" "$req" "$mism"
        done < "$OUT/coldstart-layers.tsv"

        printf '\nAnchors, same run (in the same rounds), %s runs each, ' \
            "$SAMPLES"
        printf 'fork+exec+wait timed '
        printf 'by bash ($EPOCHREALTIME), empty environment, no sandbox, '
        printf 'in ms:\n\n'
        printf '| anchor | p50 | p90 | p99 |\n'
        printf '|---|--:|--:|--:|\n'

        while read -r name _ p50 p90 p99; do
            [[ $name == \#* ]] && continue
            case $name in
                python3) name="\`$PYTHON -c pass\`" ;;
                node)    name="\`$NODE -e 0\`" ;;
                true)    name='`/usr/bin/true`' ;;
            esac
            printf '| %s | %s | %s | %s |\n' "$name" "$p50" "$p90" "$p99"
        done < "$OUT/anchors.tsv"

        printf '\nData: coldstart-layers.tsv, layers-*.dat (client: seq ms '
        printf 'cold status), layers-*.supervisor.dat (seq cold_start_ms '
        printf 'init_ms), layers-*.access.log ($faas_layer per request), '
        printf 'anchor-*.dat in %s.\n' "$OUT"
    } > "$OUT/coldstart-layers.md"
}


plot() {
    if ! command -v gnuplot > /dev/null; then
        warn "gnuplot is not installed (Debian gnuplot-nox): no plot"
        return
    fi

    mkdir -p "$PLOTS"
    gnuplot -e "dir='$OUT'; out='$PLOTS'; fmt='$PLOT_FORMAT'" \
            -e "runtimes='${RUNTIMES[*]}'" \
            "$TOP/bench/coldstart-layers.gp" || warn "gnuplot failed"
}


main() {
    local rt layer s r n

    for s in curl ss pgrep gcc "$NGINX" "$PYTHON" "$NODE"; do
        command -v "$s" > /dev/null || die "$s is not installed"
    done

    case $PLOT_FORMAT in
        svg|png) ;;
        *) die "BENCH_PLOT_FORMAT must be svg or png" ;;
    esac

    [ "$SAMPLES" -gt 0 ] 2>/dev/null \
        || die "BENCH_COLD_SAMPLES must be a positive number"

    STARTED_AT=$(date -u '+%Y-%m-%d %H:%M UTC')
    CPU_START=$(cpu_ticks)
    LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
    MACHINE=$(machine_note)

    mkdir -p "$OUT"
    rm -f "$OUT"/layers-*.* "$OUT"/anchor-*.dat "$OUT/anchors.tsv" \
        "$OUT/coldstart-layers.md"

    # as bench/run.sh builds it; rebuilt when the source is newer
    if [ ! -x "$OUT/bench-coldstart" ] \
        || [ "$TOP/bench/coldstart.c" -nt "$OUT/bench-coldstart" ]
    then
        log "building bench-coldstart"
        gcc -O2 -Wall -Wextra -Werror -o "$OUT/bench-coldstart" \
            "$TOP/bench/coldstart.c"
    fi

    snapshot

    # sockets live here: short paths, and open to nginx's worker (nobody)
    RUN=$(mktemp -d /tmp/faas-layers.XXXXXX)
    chmod 0755 "$RUN"
    write_settle

    {
        printf '# runtime layer requested client_n p50 p90 p99 '
        printf 'supervisor_n p50 p90 p99 init_p50 exec_p50 mismatches '
        printf '(ms)\n'
    } > "$OUT/coldstart-layers.tsv"
    # Rounds: every series gets its share of the samples in each round, so
    # that a busy minute on the machine hurts all of them, not one.
    for ((r = 0; r < ROUNDS; r++)); do
        n=$((SAMPLES / ROUNDS + (r < SAMPLES % ROUNDS ? 1 : 0)))
        [ "$n" -gt 0 ] || continue
        log "round $((r + 1))/$ROUNDS"

        anchor true "$n" /usr/bin/true
        anchor python3 "$n" "$PYTHON" -c pass
        anchor node "$n" "$NODE" -e 0

        for rt in "${RUNTIMES[@]}"; do
            for layer in "${LAYERS[@]}"; do
                measure "$rt" "$layer" "$n"
            done
        done
    done

    for rt in "${RUNTIMES[@]}"; do
        for layer in "${LAYERS[@]}"; do
            summarise "$rt" "$layer"
        done
    done

    anchors_summary
    CPU_END=$(cpu_ticks)

    write_results
    plot

    log "results: $OUT/coldstart-layers.md, plot: $PLOTS"
    cat "$OUT/coldstart-layers.md"

    return $FAILED
}


main
