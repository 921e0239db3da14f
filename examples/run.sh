#!/usr/bin/env bash
# Runs the ngx_faas example in the foreground: faas-supervisor and nginx
# with examples/nginx.conf on a free port of 127.0.0.1, until Ctrl-C or
# SIGTERM, which stop both.
#
#   examples/run.sh [BUILD]      (./build.sh run builds first, then this)
#
# NGINX_BIN overrides /usr/sbin/nginx; PORT picks the port.

set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$(cd "${1:-$TOP/build}" && pwd)
RUN=$BUILD/run
NGINX_BIN=${NGINX_BIN:-/usr/sbin/nginx}
SOCKET=$RUN/supervisor.sock

die() { printf 'run.sh: %s\n' "$*" >&2; exit 1; }

for f in "$BUILD/faas-supervisor" "$BUILD/faas-runtime-c" \
         "$BUILD/faas-runtime-python3" "$BUILD/faas-runtime-nodejs" \
         "$BUILD/ngx_http_faas_module.so" \
         "$BUILD/functions/hello/function.so" \
         "$BUILD/functions/echo/function.so"
do
    [ -e "$f" ] || die "$f is missing: run ./build.sh first"
done

[ -x "$NGINX_BIN" ] || die "no nginx at $NGINX_BIN (set NGINX_BIN)"


# a port the kernel says is free now
free_port() {
    if command -v python3 > /dev/null; then
        python3 -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
    else
        perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(
            LocalAddr => "127.0.0.1", LocalPort => 0, Listen => 1
        )->sockport, "\n"'
    fi
}

PORT=${PORT:-$(free_port)}

mkdir -p "$RUN"
rm -f "$SOCKET"

sed -e "s|@BUILD@|$BUILD|g" -e "s|@TOP@|$TOP|g" -e "s|@RUN@|$RUN|g" \
    -e "s|@PORT@|$PORT|g" -e "s|@SOCKET@|$SOCKET|g" \
    "$TOP/examples/nginx.conf" > "$RUN/nginx.conf"

# Debian's nginx runs its workers as nobody: as root, the socket belongs
# to nobody's group so that they may connect, and nobody else may
supervisor_args=(--listen "$SOCKET" --log-level info
                 --pool python3=1 --pool nodejs=1)

if [ "$(id -u)" -eq 0 ]; then
    supervisor_args+=(--socket-group "$(id -gn nobody)")
fi

sup_pid=
nginx_pid=

stop() {
    trap - INT TERM EXIT

    # nginx first, gracefully, so that nothing new reaches the supervisor
    if [ -n "$nginx_pid" ] && kill -0 "$nginx_pid" 2> /dev/null; then
        kill -QUIT "$nginx_pid" 2> /dev/null || true
        wait "$nginx_pid" 2> /dev/null || true
    fi

    if [ -n "$sup_pid" ] && kill -0 "$sup_pid" 2> /dev/null; then
        kill -TERM "$sup_pid" 2> /dev/null || true
        wait "$sup_pid" 2> /dev/null || true
    fi

    rm -rf "$RUN/client_body" "$RUN/proxy" "$RUN/fastcgi" "$RUN/uwsgi" \
           "$RUN/scgi"
}

trap stop INT TERM EXIT

# own sessions: Ctrl-C reaches this script only, which stops both in order
setsid "$BUILD/faas-supervisor" "${supervisor_args[@]}" &
sup_pid=$!

for _ in $(seq 100); do
    [ -S "$SOCKET" ] && break
    kill -0 "$sup_pid" 2> /dev/null || die "faas-supervisor did not start"
    sleep 0.05
done

[ -S "$SOCKET" ] || die "faas-supervisor did not listen on $SOCKET"

"$NGINX_BIN" -e stderr -p "$RUN" -c "$RUN/nginx.conf" -t -q \
    || die "nginx -t failed for $RUN/nginx.conf"

setsid "$NGINX_BIN" -e stderr -p "$RUN" -c "$RUN/nginx.conf" &
nginx_pid=$!

cat <<BANNER

ngx_faas example listening on http://127.0.0.1:$PORT/ -- try:
    curl http://127.0.0.1:$PORT/hello
    curl -d 'some data' 'http://127.0.0.1:$PORT/echo/path?a=1'
    curl 'http://127.0.0.1:$PORT/py?name=you'
    curl http://127.0.0.1:$PORT/js
Ctrl-C stops nginx and the supervisor.

BANNER

# until one of them exits or a signal arrives; stop() does the rest
wait -n "$sup_pid" "$nginx_pid" || true
