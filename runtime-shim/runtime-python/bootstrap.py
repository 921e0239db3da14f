#!/usr/bin/python3 -I
"""faas-runtime-python3: serves one Python function for ngx_faas.

The supervisor starts this with the instance channel on fd 3 (an AF_UNIX
SOCK_SEQPACKET socket, docs/protocol.md section 3) and fd 1/2 captured:

    LOAD -> import the handler, run the initializer -> READY | ERROR, exit 1
    INVOKE+REQUEST with the nginx connection's fd -> read BODY* END,
        call the handler, write RESPONSE BODY* END (or ERROR) -> DONE
    QUIT or the end of fd 3 -> exit 0

With "direct" in LOAD (concurrency 1 only) a connection whose call ended
cleanly is held after DONE: nginx writes the next REQUEST BODY* END on it,
served the same way but without DONE.

The user's side of it is documented in docs/runtimes.md.
"""

# A runtime may wait in the supervisor's pool long before it gets code, so
# every generic import happens here, before the first packet; what only a
# failure or an async function needs (traceback, asyncio) is imported then.
# _socket, not socket: the C module has all we need, and socket.py costs
# ~3 ms at every start building its enums.

import _socket
import binascii
import ctypes
import json
import os
import select
import sys
import time


CHANNEL_FD = 3

FRAME_REQUEST = 0x01
FRAME_BODY = 0x02
FRAME_END = 0x03
FRAME_RESPONSE = 0x04
FRAME_ERROR = 0x05
FRAME_LOAD = 0x20
FRAME_READY = 0x21
FRAME_INVOKE = 0x22
FRAME_DONE = 0x23
FRAME_QUIT = 0x24
FRAME_FILTER = 0x26

# seccomp(2) has no libc wrapper; prctl() could not sync the threads
SECCOMP_SYSCALL = {"x86_64": 317, "aarch64": 277}
SECCOMP_SET_MODE_FILTER = 1
SECCOMP_FILTER_FLAG_TSYNC = 1

KNOWN_TYPES = frozenset((0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x10, 0x11,
                         0x12, 0x20, 0x21, 0x22, 0x23, 0x24))

HEADER_SIZE = 8
JSON_MAX = 64 * 1024
BODY_MAX = 1024 * 1024          # what a receiver accepts in one BODY
BODY_CHUNK = 64 * 1024          # what a sender puts in one BODY
PACKET_SIZE = 2 * (HEADER_SIZE + JSON_MAX)
READ_SIZE = 64 * 1024 + HEADER_SIZE
HELD_MAX = 64                   # connections held between direct calls

# The supervisor kills a call at its deadline; this only keeps a peer that
# stops reading or writing from parking a socket call for ever.
IO_TIMEOUT = 24 * 3600.0

END_FRAME = bytes((1, FRAME_END, 0, 0, 0, 0, 0, 0))

TOKEN_CHARS = ("!#$%&'*+-.^_`|~0123456789"
               "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")

RESULT_KEYS = frozenset(("statusCode", "status", "headers", "body",
                         "isBase64Encoded"))

REASON_MAX = 900                # the message part of a one-line reason

ME = os.path.realpath(__file__)


class Context:
    """What a call knows about itself: the second argument of handle()."""

    __slots__ = ("function_name", "function_version", "instance_id",
                 "request_id", "memory_limit_in_mb", "_deadline")

    def __init__(self, fn, request_id, timeout_ms, now):
        self.function_name = fn.name
        self.function_version = fn.version
        self.instance_id = fn.instance
        self.request_id = request_id
        self.memory_limit_in_mb = fn.memory_mb
        self._deadline = now + timeout_ms / 1000.0

    def get_remaining_time_in_millis(self):
        ms = int((self._deadline - time.monotonic()) * 1000.0)
        return ms if ms > 0 else 0

    def __repr__(self):
        return ("<Context function_name=%r request_id=%r remaining=%d ms>"
                % (self.function_name, self.request_id,
                   self.get_remaining_time_in_millis()))


class Function:
    """The loaded function and what LOAD said about it."""

    def __init__(self):
        self.name = "?"
        self.version = ""
        self.instance = 0
        self.code = ""
        self.handler_name = ""
        self.handler = None
        self.timeout_ms = 0
        self.memory_mb = 0
        self.debug = False
        self.loop = None
        self.concurrency = 1
        self.loop_thread = None
        self.lock = None
        self.direct = False
        self.held = []          # [conn, bytes read past END], oldest first
        self.poller = None


class LoadError(Exception):
    pass


class ResultError(Exception):
    pass


def log(fn, msg):
    sys.stderr.write("faas-runtime-python3[%d]: function \"%s\" instance "
                     "%s: %s\n" % (os.getpid(), fn.name, fn.instance, msg))
    sys.stderr.flush()


def flush_output():
    for f in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            f.flush()
        except Exception:
            pass


def frame(ftype, payload):
    return bytes((1, ftype, 0, 0)) + len(payload).to_bytes(4, "big") + payload


ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def dump(obj):
    return ENCODER.encode(obj).encode("utf-8")


def one_line(text, limit=REASON_MAX):
    text = text.replace("\r", " ").replace("\n", " ")
    return text if len(text) <= limit else text[:limit] + "..."


# -- the instance channel ---------------------------------------------------

class Channel:

    def __init__(self):
        self.sock = _socket.socket(fileno=CHANNEL_FD)
        self.buf = bytearray(PACKET_SIZE)
        self.cmsg_space = _socket.CMSG_SPACE(4)

        # a process the function starts must not hold the channel open
        os.set_inheritable(CHANNEL_FD, False)

    def recv(self, fn, buf=None):
        """One packet: (memoryview of it, the fd it carries or -1), in buf
        (each thread has its own) or the channel's."""

        if buf is None:
            buf = self.buf

        n, ancdata, flags, _ = self.sock.recvmsg_into(
            [buf], self.cmsg_space, _socket.MSG_CMSG_CLOEXEC)

        fd = -1

        for level, ctype, data in ancdata:
            if level == _socket.SOL_SOCKET and ctype == _socket.SCM_RIGHTS:
                for i in range(0, len(data) - len(data) % 4, 4):
                    got = int.from_bytes(data[i:i + 4], sys.byteorder,
                                         signed=True)
                    if fd == -1:
                        fd = got
                    else:
                        os.close(got)

        if flags & (_socket.MSG_TRUNC | _socket.MSG_CTRUNC):
            log(fn, "truncated packet from the supervisor")
            os._exit(1)

        return memoryview(buf)[:n], fd

    def send(self, ftype, obj):
        self.sock.sendall(frame(ftype, dump(obj)))


def packet_frames(packet):
    """The frames of a packet as [(type, payload)], None if malformed."""

    frames = []
    pos = 0

    while pos < len(packet):
        if len(packet) - pos < HEADER_SIZE or packet[pos] != 1 \
                or packet[pos + 2] or packet[pos + 3]:
            return None

        ftype = packet[pos + 1]
        length = int.from_bytes(packet[pos + 4:pos + 8], "big")
        pos += HEADER_SIZE

        if len(packet) - pos < length:
            return None

        frames.append((ftype, packet[pos:pos + length]))
        pos += length

    return frames


# -- LOAD ---------------------------------------------------------------------

def load(chan, fn):
    while True:
        packet, fd = chan.recv(fn)

        if len(packet) == 0:
            os._exit(0)

        if fd != -1:
            os.close(fd)

        frames = packet_frames(packet)

        # FILTER alone: a pooled runtime loads it while it waits for LOAD
        if not frames or len(frames) != 1 or frames[0][0] != FRAME_FILTER:
            break

        try:
            load_filter(frames[0][1])
        except LoadError as e:
            load_failed(chan, fn, str(e))

    # in a sandbox, the runtime's seccomp allowlist comes first
    program = None

    if frames and len(frames) > 1 and frames[0][0] == FRAME_FILTER:
        program = frames.pop(0)[1]

    if not frames or frames[0][0] != FRAME_LOAD:
        load_failed(chan, fn, "the first packet is not LOAD")

    try:
        conf = json.loads(bytes(frames[0][1]))
        if not isinstance(conf, dict):
            raise ValueError("not an object")
    except ValueError:
        load_failed(chan, fn, "LOAD is not a JSON object")

    fn.name = str(conf.get("function", "?"))
    fn.version = str(conf.get("version", ""))
    fn.instance = as_int(conf.get("instance"))
    fn.timeout_ms = as_int(conf.get("timeout_ms"))
    fn.memory_mb = as_int(conf.get("memory")) // (1024 * 1024)
    fn.debug = bool(conf.get("debug"))

    # before the import of the handler: a module's top level is user code
    if program is not None:
        try:
            load_filter(program)
        except LoadError as e:
            load_failed(chan, fn, str(e))

    start = time.perf_counter()
    initializer_us = 0

    try:
        setup(fn, conf)
        fn.handler = resolve(fn, fn.handler_name, "handler")

        init_name = conf.get("initializer")

        if init_name:
            init = resolve(fn, str(init_name), "initializer")
            t = time.perf_counter()
            run_initializer(fn, init, str(init_name))
            initializer_us = int((time.perf_counter() - t) * 1e6)

    except LoadError as e:
        load_failed(chan, fn, str(e))

    init_us = int((time.perf_counter() - start) * 1e6)

    flush_output()

    ready = {"init_us": init_us, "initializer_us": initializer_us}

    if fn.direct:
        ready["direct"] = True

    chan.send(FRAME_READY, ready)


def load_filter(program):
    """Loads the BPF program of FILTER for every thread of the process."""

    code = bytes(program)
    machine = os.uname().machine
    nr = SECCOMP_SYSCALL.get(machine)

    if nr is None:
        raise LoadError("seccomp: no system call number known on " + machine)

    if not code or len(code) % 8 or len(code) // 8 > 4096:
        raise LoadError("seccomp: invalid FILTER of %d bytes" % len(code))

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    buf = ctypes.create_string_buffer(code, len(code))
    prog = SockFprog(len(code) // 8, ctypes.addressof(buf))
    libc = ctypes.CDLL(None, use_errno=True)

    rc = libc.syscall(ctypes.c_long(nr),
                      ctypes.c_long(SECCOMP_SET_MODE_FILTER),
                      ctypes.c_long(SECCOMP_FILTER_FLAG_TSYNC),
                      ctypes.byref(prog))

    if rc == -1:
        raise LoadError("seccomp: " + os.strerror(ctypes.get_errno()))

    if rc != 0:
        raise LoadError("seccomp: thread %d cannot take the filter" % rc)


def as_int(v):
    return v if isinstance(v, int) and not isinstance(v, bool) else 0


def load_failed(chan, fn, reason):
    flush_output()

    try:
        chan.send(FRAME_ERROR, {"reason": one_line(reason, 4 * REASON_MAX)})
    except OSError:
        log(fn, "cannot load: " + reason)

    os._exit(1)


def setup(fn, conf):
    for pair in conf.get("env") or ():
        try:
            os.environ[pair[0]] = pair[1]
        except (TypeError, ValueError, IndexError, KeyError):
            raise LoadError("invalid env entry %r" % (pair,))

    code = conf.get("code")

    if not isinstance(code, str) or not code:
        raise LoadError("LOAD has no \"code\"")

    fn.code = code.rstrip("/") or "/"
    fn.handler_name = str(conf.get("handler") or "main.handle")

    n = conf.get("concurrency")
    fn.concurrency = n if isinstance(n, int) and 1 <= n <= 1000 else 1

    # several calls at once would need a held connection per thread
    fn.direct = conf.get("direct") is True and fn.concurrency == 1

    try:
        os.chdir(code)
    except OSError as e:
        raise LoadError("chdir: %s: %s" % (code, e.strerror))

    # the function's own modules first; never this script's directory
    here = os.path.dirname(ME)
    sys.path[:] = [code] + [p for p in sys.path if p not in ("", here)]

    # the code directory is read-only: never try to write __pycache__ there
    sys.dont_write_bytecode = True


def resolve(fn, spec, what):
    """"pkg.mod.func" -> import pkg.mod (from the code directory), func."""

    modname, _, attr = spec.rpartition(".")

    if not modname or not attr:
        raise LoadError("%s \"%s\": expected MODULE.FUNCTION, e.g. "
                        "main.handle" % (what, spec))

    prefix = "%s \"%s\": " % (what, spec)

    try:
        __import__(modname)
        module = sys.modules[modname]

    except SyntaxError as e:
        print_exception(fn, e)
        raise LoadError(exception_reason(fn, e))

    except ModuleNotFoundError as e:
        if e.name is not None and (modname == e.name
                                   or modname.startswith(e.name + ".")):
            raise LoadError(prefix + "module %s not found in %s"
                            % (modname, fn.code))

        print_exception(fn, e)
        raise LoadError(prefix + "import of %s failed: %s"
                        % (modname, exception_reason(fn, e)))

    except Exception as e:
        print_exception(fn, e)
        raise LoadError(prefix + "import of %s failed: %s"
                        % (modname, exception_reason(fn, e)))

    obj = getattr(module, attr, None)

    if obj is None:
        where = getattr(module, "__file__", None) or "built in"
        mine = os.path.join(fn.code, *modname.split("."))

        if not where.startswith(fn.code + "/") \
                and (os.path.exists(mine + ".py") or os.path.isdir(mine)):
            # the runtime had imported a module of that name already (the
            # standard library's json, say): the function's is never read
            raise LoadError(prefix + "module %s is %s, not the one in %s: "
                            "rename it" % (modname, where, fn.code))

        raise LoadError(prefix + "module %s has no attribute %s"
                        % (modname, attr))

    if not callable(obj):
        raise LoadError(prefix + "%s.%s is not callable (%s)"
                        % (modname, attr, type(obj).__name__))

    if is_coroutine_function(obj):
        # an async function: get asyncio's import over with now
        event_loop(fn)

    return obj


def run_initializer(fn, init, name):
    ctx = Context(fn, "", fn.timeout_ms, time.monotonic())

    try:
        result = init(ctx)

        if is_awaitable(result):
            event_loop(fn).run_until_complete(result)

    except Exception as e:
        print_exception(fn, e)
        raise LoadError("initializer \"%s\" failed: %s"
                        % (name, exception_reason(fn, e)))


# -- async functions ------------------------------------------------------

def is_coroutine_function(f):
    code = getattr(f, "__code__", None)
    return code is not None and code.co_flags & 0x80  # CO_COROUTINE


def is_awaitable(v):
    return hasattr(type(v), "__await__")


def event_loop(fn):
    """One loop for the instance's life: what an initializer creates on it
    (a client session, say) stays usable by the calls."""

    if fn.loop is None:
        import asyncio

        fn.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(fn.loop)

    return fn.loop


def run_awaitable(fn, aw):
    """The result of a call's coroutine.  With concurrency the loop runs
    in a thread of its own and the calling threads wait for theirs."""

    if fn.concurrency == 1:
        return event_loop(fn).run_until_complete(aw)

    import asyncio

    with fn.lock:
        if fn.loop_thread is None:
            start_loop_thread(fn)

    async def wrap():
        return await aw

    return asyncio.run_coroutine_threadsafe(wrap(), fn.loop).result()


# -- exceptions -----------------------------------------------------------

def exception_reason(fn, e):
    """`ValueError: bad (/srv/fn/x/main.py, line 7, in init)`: the message
    and the innermost frame in the function's code (or, failing that, the
    innermost frame at all)."""

    cls = type(e)
    name = cls.__qualname__

    if cls.__module__ not in ("builtins", "__main__"):
        name = cls.__module__ + "." + name

    try:
        msg = e.msg if isinstance(e, SyntaxError) else str(e)
    except Exception:
        msg = "<str() failed>"

    text = one_line("%s: %s" % (name, msg) if msg else name)

    if isinstance(e, SyntaxError) and e.filename:
        return "%s (%s, line %s)" % (text, e.filename, e.lineno)

    # the innermost frame of the function's own code, else the innermost
    # one that is not the runtime's or importlib's
    mine = other = None
    tb = e.__traceback__

    while tb is not None:
        f = tb.tb_frame.f_code.co_filename

        if f.startswith(fn.code + "/"):
            mine = tb
        elif f != ME and not f.startswith("<frozen "):
            other = tb

        tb = tb.tb_next

    where = mine or other

    if where is None:
        return text

    return "%s (%s, line %d, in %s)" % (text,
                                        where.tb_frame.f_code.co_filename,
                                        where.tb_lineno,
                                        where.tb_frame.f_code.co_name)


def format_exception(e):
    """The traceback as Python prints it, minus the runtime's own frames
    and importlib's."""

    import traceback

    te = traceback.TracebackException.from_exception(e)
    todo = [te]
    seen = set()

    while todo:
        t = todo.pop()

        if t is None or id(t) in seen:
            continue

        seen.add(id(t))
        t.stack[:] = [f for f in t.stack
                      if f.filename != ME
                      and not f.filename.startswith("<frozen importlib")]
        todo.append(t.__cause__)
        todo.append(t.__context__)

    return "".join(te.format())


def print_exception(fn, e):
    try:
        text = format_exception(e)
    except Exception:
        text = "%s: %r\n" % (type(e).__name__, e)

    sys.stderr.write(text)
    sys.stderr.flush()

    return text


# -- a call ---------------------------------------------------------------

def serve(chan, fn, frames, fd):
    now = time.monotonic()

    # family and type given: Python need not ask the kernel for them
    conn = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM, 0, fd)

    status = run_call(fn, conn, frames[0][1], frames[1][1], b"", now)

    flush_output()

    # the id names the call among those in flight (concurrency)
    try:
        rid = json.loads(bytes(frames[0][1])).get("request_id")
    except (ValueError, AttributeError):
        rid = None

    done = {"status": status}

    if isinstance(rid, str):
        done["request_id"] = rid

    chan.sock.sendall(frame(FRAME_DONE, dump(done)))


def run_call(fn, conn, invoke, request, rest, now):
    """One call on conn: the status.  rest is what was read of the body
    already.  conn is held for the next direct call when the call ended
    cleanly, closed otherwise."""

    kept = None

    # at HELD_MAX, an INVOKE call's connection is not held and its RESPONSE
    # says "close"; a direct call's keeps its place (serve_held() lifted it
    # for the call only)
    close = fn.direct and invoke is not None and len(fn.held) >= HELD_MAX

    # SystemExit (sys.exit() in the function) is let through: the instance
    # ends, and the supervisor tells nginx so
    try:
        status, kept = serve_call(fn, conn, invoke, request, rest, now,
                                  close)

    except OSError:
        # the client went away, or nginx did: nothing more to say to it
        status = 502

    except Exception as e:
        # a bug here, not in the function
        log(fn, "runtime error: " + format_exception(e))
        status = 502

        try:
            send_error(conn, "runtime error: " + exception_reason(fn, e))
        except OSError:
            pass

    if fn.direct and kept is not None and not close:
        hold(fn, conn, kept)
    else:
        conn.close()

    return status


def serve_call(fn, conn, invoke, request, rest, now, close):
    """(status, what was read past END when the call ended cleanly, both
    ways at a frame boundary, else None).  invoke is None for a direct
    call; close puts "close" in the RESPONSE."""

    try:
        invoke = json.loads(bytes(invoke)) if invoke is not None else {}
        req = json.loads(bytes(request))
        if not isinstance(invoke, dict) or not isinstance(req, dict):
            raise ValueError
    except ValueError:
        log(fn, "invalid INVOKE or REQUEST")
        send_error(conn, "invalid REQUEST")
        return 502, None

    body, err, rest = read_body(conn, rest)

    if err is not None:
        log(fn, "request %s: %s" % (req.get("request_id"), err))
        send_error(conn, "invalid request body: " + err)
        return 502, None

    status, responded = call(fn, conn, invoke, req, body, now, close)

    return status, (rest if responded else None)


def read_body(conn, buf):
    """The whole request body from BODY* END, buf the bytes of it read
    already: (bytes, None, what was read past END) or (None, why it is
    invalid, None)."""

    parts = []
    pos = 0

    try:
        while True:
            if len(buf) - pos < HEADER_SIZE:
                chunk = conn_recv(conn, READ_SIZE)

                if not chunk:
                    return None, "connection closed inside the body", None

                buf = buf[pos:] + chunk
                pos = 0
                continue

            ftype = buf[pos + 1]
            length = int.from_bytes(buf[pos + 4:pos + 8], "big")

            err = frame_error(buf, pos, (FRAME_BODY, FRAME_END),
                              "unexpected frame in the request body")

            if err is not None:
                return None, err, None

            pos += HEADER_SIZE

            if ftype == FRAME_END:
                return b"".join(parts), None, bytes(buf[pos:])

            have = len(buf) - pos

            if have >= length:
                if length:
                    parts.append(buf[pos:pos + length])
                pos += length
                continue

            # a large frame: the rest of it straight into its own buffer
            payload = bytearray(length)
            payload[:have] = buf[pos:]
            view = memoryview(payload)

            while have < length:
                n = conn_recv_into(conn, view[have:])

                if n == 0:
                    return None, "connection closed inside the body", None

                have += n

            parts.append(payload)
            buf = b""
            pos = 0

    except OSError as e:
        return None, "read error on the connection: %s" % (e.strerror or e), \
            None


def frame_error(buf, pos, allowed, unexpected):
    """What is wrong with the frame header at buf[pos:], or None; a valid
    frame of a type not in allowed is unexpected."""

    ftype = buf[pos + 1]
    length = int.from_bytes(buf[pos + 4:pos + 8], "big")

    if buf[pos] != 1:
        return "unsupported protocol version"
    if buf[pos + 2] or buf[pos + 3]:
        return "non-zero frame flags"
    if ftype not in KNOWN_TYPES:
        return "unknown frame type"
    if ftype not in allowed:
        return unexpected
    if ftype == FRAME_END and length:
        return "payload on an empty frame type"
    if length > (BODY_MAX if ftype == FRAME_BODY else JSON_MAX):
        return "frame length over the limit"

    return None


def call(fn, conn, invoke, req, body, now, close):
    """(status, whether a whole RESPONSE went out rather than ERROR)"""

    request_id = invoke.get("request_id") or req.get("request_id") or ""
    timeout_ms = invoke.get("timeout_ms")

    if not isinstance(timeout_ms, int):
        timeout_ms = fn.timeout_ms

    ctx = Context(fn, str(request_id), timeout_ms, now)
    event = make_event(req, body, ctx.request_id)

    try:
        result = fn.handler(event, ctx)

        if is_awaitable(result):
            result = run_awaitable(fn, result)

    except Exception as e:
        text = print_exception(fn, e)
        return fail(fn, conn, exception_reason(fn, e), text, close)

    try:
        status, headers, data = convert(result)

        # the whole body is known: nginx need not chunk it
        if status != 204 and status != 304 \
                and not any(h[0].lower() == "content-length"
                            for h in headers):
            headers.append(["Content-Length", str(len(data))])

        head = response_head(status, headers, close)

        if len(head) > JSON_MAX:
            raise ResultError("headers are larger than 64 KiB")

    except ResultError as e:
        reason = "invalid result from \"%s\": %s" % (fn.handler_name, e)

        if fn.debug:
            sys.stderr.write(reason + "\n")

        return fail(fn, conn, reason, reason + "\n", close)

    send_response(conn, head, data)

    return status, True


def fail(fn, conn, reason, text, close):
    """A failed call: ERROR 502 with the one-line reason for nginx's error
    log or, in debug mode, a 502 response with the whole text for the
    client."""

    if not fn.debug:
        send_error(conn, reason)
        return 502, False

    data = text.encode("utf-8", "replace")
    head = response_head(502, [
        ["Content-Type", "text/plain; charset=utf-8"],
        ["Content-Length", str(len(data))]], close)

    send_response(conn, head, data)

    return 502, True


def response_head(status, headers, close):
    """The RESPONSE payload; "close" only when true: nginx must not keep
    the connection."""

    head = {"status": status, "headers": headers}

    if close:
        head["close"] = True

    return dump(head)


def make_event(req, body, request_id):
    raw = req.get("headers")
    raw = raw if isinstance(raw, list) else []
    headers = {}

    for pair in raw:
        try:
            name, value = pair
            name = name.lower()
        except (TypeError, ValueError, AttributeError):
            continue

        if name in headers:
            headers[name] = headers[name] + ", " + value
        else:
            headers[name] = value

    query = req.get("args") or ""

    return {
        "method": req.get("method") or "",
        "path": req.get("uri") or "",
        "query": query,
        "queryParameters": parse_query(query),
        "headers": headers,
        "rawHeaders": raw,
        "body": body,
        "remoteAddr": req.get("remote_addr") or "",
        "requestId": request_id,
    }


def parse_query(query):
    """"a=1&b=x%20y&a=2" -> {"a": "1,2", "b": "x y"}: what
    urllib.parse.parse_qsl would give, blanks kept, repeated names joined
    with "," (AWS's convention), without urllib's import cost."""

    params = {}

    for field in query.split("&"):
        if not field:
            continue

        name, _, value = field.partition("=")
        name = unquote(name)
        value = unquote(value)

        if name in params:
            params[name] = params[name] + "," + value
        else:
            params[name] = value

    return params


HEX = frozenset("0123456789abcdefABCDEF")


def unquote(s):
    if "+" in s:
        s = s.replace("+", " ")

    if "%" not in s:
        return s

    # bytes, so that %C3%A9 is one UTF-8 character; a bad escape stays as is
    parts = s.split("%")
    out = bytearray(parts[0].encode("utf-8", "surrogateescape"))

    for part in parts[1:]:
        if len(part) >= 2 and part[0] in HEX and part[1] in HEX:
            out.append(int(part[:2], 16))
            out += part[2:].encode("utf-8", "surrogateescape")
        else:
            out += b"%" + part.encode("utf-8", "surrogateescape")

    return out.decode("utf-8", "replace")


# -- the result -----------------------------------------------------------

def convert(result):
    """The handler's result as (status, [[name, value], ...], body bytes);
    ResultError says what is wrong with it."""

    if result is None:
        return 204, [], b""

    if isinstance(result, str):
        return 200, [["Content-Type", "text/plain; charset=utf-8"]], \
            encode_body(result)

    if isinstance(result, (bytes, bytearray)):
        return 200, [["Content-Type", "application/octet-stream"]], \
            bytes(result)

    if not isinstance(result, dict):
        raise ResultError("the result is a %s: return a dict, str, bytes "
                          "or None" % type(result).__name__)

    for key in result:
        if key not in RESULT_KEYS:
            raise ResultError("unknown key %s" % quote_key(key))

    if "statusCode" in result and "status" in result:
        raise ResultError("both statusCode and status")

    status = result.get("statusCode", result.get("status", 200))

    if not isinstance(status, int) or isinstance(status, bool):
        raise ResultError("statusCode must be an int, not %s"
                          % type(status).__name__)

    if not 200 <= status <= 599:
        raise ResultError("statusCode %d is not in 200..599" % status)

    headers = convert_headers(result.get("headers"))
    body = result.get("body")
    b64 = result.get("isBase64Encoded", False)

    if not isinstance(b64, bool):
        raise ResultError("isBase64Encoded must be a bool")

    if body is None:
        data, ctype = b"", None

    elif b64:
        if not isinstance(body, (str, bytes, bytearray)):
            raise ResultError("a base64 body must be a str")

        try:
            data = b64decode(body)
        except (binascii.Error, ValueError):
            raise ResultError("body is not valid base64")

        ctype = "application/octet-stream"

    elif isinstance(body, str):
        data, ctype = encode_body(body), "text/plain; charset=utf-8"

    elif isinstance(body, (bytes, bytearray)):
        data, ctype = bytes(body), "application/octet-stream"

    else:
        raise ResultError("body must be a str or bytes, not %s"
                          % type(body).__name__)

    if ctype is not None and not any(h[0].lower() == "content-type"
                                     for h in headers):
        headers.append(["Content-Type", ctype])

    return status, headers, data


def b64decode(s):
    try:
        return binascii.a2b_base64(s, strict_mode=True)
    except TypeError:
        # before Python 3.11: no strict mode, invalid characters are skipped
        return binascii.a2b_base64(s)


def quote_key(key):
    return ("\"%s\"" % one_line(key, 100)) if isinstance(key, str) \
        else repr(key)


def encode_body(s):
    try:
        return s.encode("utf-8")
    except UnicodeEncodeError:
        raise ResultError("body is not valid Unicode (a lone surrogate)")


def convert_headers(headers):
    out = []

    if headers is None:
        return out

    if not isinstance(headers, dict):
        raise ResultError("headers must be a dict")

    for name, value in headers.items():
        if not isinstance(name, str) or not name \
                or name.strip(TOKEN_CHARS):
            raise ResultError("header name %s is not an HTTP token"
                              % quote_key(name))

        values = value if isinstance(value, (list, tuple)) else (value,)

        for v in values:
            if isinstance(v, (int, float)):
                v = str(v)

            elif not isinstance(v, str):
                raise ResultError("header \"%s\" must be a str or a list "
                                  "of str, not %s"
                                  % (name, type(v).__name__))

            if "\r" in v or "\n" in v or "\0" in v:
                raise ResultError("header \"%s\" has CR, LF or NUL in its "
                                  "value" % name)

            try:
                v.encode("utf-8")
            except UnicodeEncodeError:
                raise ResultError("header \"%s\" is not valid Unicode"
                                  % name)

            out.append([name, v])

    return out


# -- the request connection ---------------------------------------------------
#
# Its O_NONBLOCK flag is shared with the supervisor's copy and must stay set.
# Python's socket calls on it raise BlockingIOError on EAGAIN; the first one
# that does gives the socket a timeout, from then on Python waits with poll()
# before each call (a timeout only ever sets O_NONBLOCK).  Until then a call
# is one system call, as in the C runtime.

def conn_wait(conn):
    if conn.gettimeout() is None:
        conn.settimeout(IO_TIMEOUT)
    else:
        raise OSError("connection stalled")


def conn_recv(conn, size):
    while True:
        try:
            return conn.recv(size)
        except BlockingIOError:
            conn_wait(conn)


def conn_recv_into(conn, view):
    while True:
        try:
            return conn.recv_into(view)
        except BlockingIOError:
            conn_wait(conn)


def conn_send(conn, data):
    view = memoryview(data)

    while view:
        try:
            view = view[conn.send(view):]
        except BlockingIOError:
            conn_wait(conn)


def send_error(conn, reason):
    conn_send(conn, frame(FRAME_ERROR, dump({"status": 502,
                                            "reason": one_line(reason)})))


def send_response(conn, head, data):
    n = len(data)

    # a small response leaves in one write
    if n <= BODY_CHUNK:
        out = frame(FRAME_RESPONSE, head)

        if n:
            out += frame(FRAME_BODY, data)

        conn_send(conn, out + END_FRAME)
        return

    conn_send(conn, frame(FRAME_RESPONSE, head))
    view = memoryview(data)

    for i in range(0, n, BODY_CHUNK):
        out = frame(FRAME_BODY, view[i:i + BODY_CHUNK])

        if i + BODY_CHUNK >= n:
            out += END_FRAME

        conn_send(conn, out)


# -- main -------------------------------------------------------------------

def main():
    # the supervisor logs fd 1 line by line: a line must leave when written
    try:
        sys.stdout.reconfigure(line_buffering=True)
    except (AttributeError, ValueError):
        pass

    # A fresh interpreter's first compile() costs ~1 ms that later ones do
    # not: pay it before LOAD, where a pooled runtime waits anyway, not in
    # the import of the function's module.
    compile("pass", "<warm-up>", "exec")

    fn = Function()
    chan = Channel()

    load(chan, fn)

    if fn.concurrency > 1:
        start_threads(chan, fn)

    serve_loop(chan, fn, chan.buf)


def start_threads(chan, fn):
    """concurrency N: N threads, this one included, each taking whole
    packets (and their fds) from the channel; coroutines of async
    handlers run on one loop, in a thread of its own."""

    import threading

    fn.lock = threading.Lock()

    if fn.loop is not None or is_coroutine_function(fn.handler):
        start_loop_thread(fn)

    for i in range(1, fn.concurrency):
        threading.Thread(target=serve_loop,
                         args=(chan, fn, bytearray(PACKET_SIZE)),
                         name="faas-call-%d" % i, daemon=True).start()


def start_loop_thread(fn):
    import threading

    loop = event_loop(fn)
    fn.loop_thread = threading.Thread(target=loop.run_forever,
                                      name="faas-loop", daemon=True)
    fn.loop_thread.start()


def serve_loop(chan, fn, buf):
    """Calls until QUIT or the end of fd 3, which end the process, from
    whichever thread; so does sys.exit() in the function."""

    code = 0

    try:
        while True:
            if fn.direct and not wait_held(fn):
                continue

            packet, fd = chan.recv(fn, buf)

            if len(packet) == 0:
                break

            frames = packet_frames(packet)

            if frames and frames[0][0] == FRAME_QUIT:
                if fd != -1:
                    os.close(fd)
                break

            if not frames or len(frames) < 2 \
                    or frames[0][0] != FRAME_INVOKE \
                    or frames[1][0] != FRAME_REQUEST or fd == -1:
                log(fn, "unexpected packet from the supervisor")
                code = 1
                break

            serve(chan, fn, frames, fd)

    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1

    flush_output()
    os._exit(code)


# -- direct calls -----------------------------------------------------------
#
# With "direct", between calls the one thread polls fd 3 and the held
# connections at once; a held connection that becomes readable carries the
# next call, REQUEST BODY* END, served like an INVOKE's but without DONE.

def wait_held(fn):
    """True when fd 3 has a packet; False when a held connection was
    served or dropped instead."""

    # what was read past an END already: poll() would not report it
    for i, (conn, rest) in enumerate(fn.held):
        if rest:
            serve_held(fn, i)
            return False

    ready = {fd for fd, _ in poller(fn).poll()}

    # the supervisor's packets first: QUIT, INVOKE
    if CHANNEL_FD in ready:
        return True

    for i, (conn, rest) in enumerate(fn.held):
        if conn.fileno() in ready:
            serve_held(fn, i)
            break

    return False


def hold(fn, conn, rest):
    """conn's call ended cleanly: it waits for the next one.  Never more
    than HELD_MAX: run_call() said "close" instead of holding another, as
    nginx may keep any connection it was not told to drop."""

    poller(fn).register(conn.fileno(), select.POLLIN)
    fn.held.append([conn, rest])


def poller(fn):
    """fd 3 and the held connections, registered as they come and go."""

    if fn.poller is None:
        fn.poller = select.poll()
        fn.poller.register(CHANNEL_FD, select.POLLIN)

    return fn.poller


def unhold(fn, i):
    conn, _ = fn.held.pop(i)
    fn.poller.unregister(conn.fileno())
    return conn


def serve_held(fn, i):
    rest = fn.held[i][1]
    conn = unhold(fn, i)

    try:
        if not rest:
            # one read(): poll() said readable, and that must not block
            try:
                rest = os.read(conn.fileno(), READ_SIZE)
            except BlockingIOError:
                hold(fn, conn, b"")
                return
            except ConnectionResetError:
                # nginx closed it with bytes unread: dropped all the same
                rest = b""

            if not rest:
                # nginx dropped it
                conn.close()
                return

        request, rest, err = read_request(conn, rest)

    except OSError as e:
        request, err = None, "read error: %s" % (e.strerror or e)

    if err is not None:
        log(fn, "held connection: " + err)
        conn.close()
        return

    run_call(fn, conn, None, request, rest, time.monotonic())
    flush_output()


def read_request(conn, buf):
    """The REQUEST frame that buf begins: (payload, what follows it, None)
    or (None, None, why not).  Once begun it is waited for whole."""

    while len(buf) < HEADER_SIZE:
        chunk = conn_recv(conn, READ_SIZE)

        if not chunk:
            return None, None, "closed inside a frame"

        buf += chunk

    err = frame_error(buf, 0, (FRAME_REQUEST,),
                      "unexpected frame type 0x%02x" % buf[1])

    if err is not None:
        return None, None, err

    end = HEADER_SIZE + int.from_bytes(buf[4:8], "big")

    while len(buf) < end:
        chunk = conn_recv(conn, READ_SIZE)

        if not chunk:
            return None, None, "closed inside a frame"

        buf += chunk

    return buf[HEADER_SIZE:end], buf[end:], None


if __name__ == "__main__":
    main()
