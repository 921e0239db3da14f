#!/usr/bin/env python3
"""Direct calls on the instance side (docs/protocol.md, "Direct calls"),
for the c, python3 and nodejs runtimes of a build.

    python3 runtime-shim/tests/test_direct.py BUILD_DIR

This script plays the supervisor without a sandbox, as faas-supervisor
--sandbox off starts a runtime (shim_launch.c, shim_process.c): the
program alone in argv, fd 0 on /dev/null, fds 1 and 2 on the output (a
file here), the SOCK_SEQPACKET channel on fd 3 and no other descriptor,
an environment of FAAS_FUNCTION and FAAS_INSTANCE only, and no FILTER.
It plays nginx too, on SOCK_STREAM socket pairs.  One line per check;
the exit status is 1 when one failed.  Standard library only.
"""

import fcntl
import json
import os
import select
import socket
import struct
import sys
import tempfile
import time


REQUEST, BODY, END, RESPONSE, ERROR = 0x01, 0x02, 0x03, 0x04, 0x05
REGISTER = 0x10
LOAD, READY, INVOKE, DONE, QUIT = 0x20, 0x21, 0x22, 0x23, 0x24

HELD_MAX = 64
TIMEOUT = 10.0

PY_FUNCTION = '''\
def handle(event, context):
    if event["path"] == "/boom":
        raise ValueError("boom")
    return "path=%s rid=%s body=%s" % (event["path"], event["requestId"],
                                       event["body"].decode())
'''

JS_FUNCTION = '''\
exports.handler = async (event) => {
    if (event.path === '/boom') {
        throw new Error('boom');
    }
    return `path=${event.path} rid=${event.requestId} body=${event.body}`;
};
'''

failures = 0
checks = 0


def check(ok, what, detail=""):
    global failures, checks

    checks += 1

    if ok:
        print("ok %d - %s" % (checks, what))
    else:
        failures += 1
        print("not ok %d - %s%s" % (checks, what,
                                     (": " + detail) if detail else ""))

    sys.stdout.flush()
    return ok


def frame(ftype, payload=b""):
    if isinstance(payload, (dict, list)):
        payload = json.dumps(payload).encode()

    return struct.pack(">BBHI", 1, ftype, 0, len(payload)) + payload


def request(uri, rid, length=0):
    return frame(REQUEST, {"function": "t", "version": "0" * 16,
                           "method": "POST", "uri": uri, "args": "",
                           "headers": [["Host", "localhost"]],
                           "remote_addr": "127.0.0.1", "request_id": rid,
                           "content_length": length})


def body(*parts):
    return b"".join(frame(BODY, p) for p in parts) + frame(END)


class Nginx:
    """The nginx end of a request connection, and the runtime's end until
    the supervisor would close its duplicate (after DONE)."""

    def __init__(self):
        self.sock, self.peer = socket.socketpair(socket.AF_UNIX,
                                                 socket.SOCK_STREAM)
        self.peer.setblocking(False)        # as nginx's, shared O_NONBLOCK
        self.sock.settimeout(TIMEOUT)
        self.buf = b""
        self.head = None        # the last RESPONSE's or ERROR's payload

    def drop_peer(self):
        if self.peer is not None:
            self.peer.close()
            self.peer = None

    def close(self):
        self.drop_peer()
        self.sock.close()

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)

            if not chunk:
                raise EOFError("end of file after %d bytes" % len(self.buf))

            self.buf += chunk

        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def response(self):
        """(status, body) of RESPONSE BODY* END, (-status, reason) of an
        ERROR."""

        version, ftype, flags, length = struct.unpack(">BBHI", self._read(8))
        head = json.loads(self._read(length))
        self.head = head

        if ftype == ERROR:
            return -head["status"], head.get("reason", "")

        if ftype != RESPONSE:
            raise ValueError("frame 0x%02x instead of RESPONSE" % ftype)

        data = b""

        while True:
            version, ftype, flags, length = struct.unpack(">BBHI",
                                                          self._read(8))
            if ftype == END:
                return head["status"], data.decode("utf-8", "replace")

            data += self._read(length)

    def eof(self, wait):
        """True at end of file within wait seconds (nothing else read)."""

        self.sock.settimeout(wait)

        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True
        finally:
            self.sock.settimeout(TIMEOUT)

        self.buf += chunk
        return chunk == b""


class Instance:

    instances = 0

    def __init__(self, build, runtime, code, handler, direct,
                 concurrency=1, threads=None):
        Instance.instances += 1

        self.id = Instance.instances
        self.runtime = runtime
        self.log = tempfile.NamedTemporaryFile(prefix="test_direct.",
                                               suffix=".log")

        chan, child = socket.socketpair(socket.AF_UNIX,
                                        socket.SOCK_SEQPACKET)
        self.chan = chan
        self.chan.settimeout(TIMEOUT)

        # never 3 itself: dup2(3, 3) would leave close-on-exec set
        high = fcntl.fcntl(child.fileno(), fcntl.F_DUPFD_CLOEXEC, 10)

        program = os.path.join(build, "faas-runtime-" + runtime)
        env = {"FAAS_FUNCTION": "t", "FAAS_INSTANCE": str(self.id)}

        actions = [
            (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
            (os.POSIX_SPAWN_DUP2, self.log.fileno(), 1),
            (os.POSIX_SPAWN_DUP2, self.log.fileno(), 2),
            (os.POSIX_SPAWN_DUP2, high, 3),
        ]

        # Python's own descriptors are close-on-exec, not those this
        # script inherited: the runtime gets 0 to 3 only
        for fd in map(int, os.listdir("/proc/self/fd")):
            try:
                if fd > 3 and os.get_inheritable(fd):
                    actions.append((os.POSIX_SPAWN_CLOSE, fd))
            except OSError:
                pass

        self.pid = os.posix_spawn(program, [program], env,
                                  file_actions=actions)

        os.close(high)
        child.close()
        self.status = None

        load = {"function": "t", "version": "0" * 16, "code": code,
                "handler": handler, "env": [["FAAS_FUNCTION", "t"]],
                "instance": self.id, "timeout_ms": 3000, "memory": 0,
                "debug": 0, "concurrency": concurrency}

        if direct:
            load["direct"] = True

        if threads is not None:
            load["threads"] = threads

        self.chan.send(frame(LOAD, load))

    def packet(self, wait=TIMEOUT):
        """The frames of the next packet, [] at the end, None on a time
        out."""

        self.chan.settimeout(wait)

        try:
            data = self.chan.recv(1 << 18)
        except socket.timeout:
            return None
        finally:
            self.chan.settimeout(TIMEOUT)

        frames = []

        while data:
            version, ftype, flags, length = struct.unpack(">BBHI", data[:8])
            frames.append((ftype, data[8:8 + length]))
            data = data[8 + length:]

        return frames

    def invoke(self, ng, uri, rid):
        msg = frame(INVOKE, {"request_id": rid, "timeout_ms": 3000}) \
            + request(uri, rid)
        self.chan.sendmsg([msg], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                   struct.pack("i", ng.peer.fileno()))])

    def done(self, wait=TIMEOUT):
        """The DONE payload of the next packet, or None."""

        frames = self.packet(wait)

        if not frames or frames[0][0] != DONE:
            return None

        return json.loads(frames[0][1] or b"{}")

    def fds(self):
        try:
            return len(os.listdir("/proc/%d/fd" % self.pid))
        except OSError:
            return -1

    def wait_fds(self, want, wait=3.0):
        deadline = time.monotonic() + wait

        while self.fds() != want and time.monotonic() < deadline:
            time.sleep(0.02)

        return self.fds()

    def wait_exit(self, wait=TIMEOUT):
        deadline = time.monotonic() + wait

        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)

            if pid != 0:
                self.status = os.waitstatus_to_exitcode(status)
                return self.status

            time.sleep(0.02)

        return None

    def kill(self):
        if self.status is None:
            try:
                os.kill(self.pid, 9)
                os.waitpid(self.pid, 0)
            except OSError:
                pass

        self.chan.close()

    def output(self):
        with open(self.log.name, errors="replace") as f:
            return f.read()


def invoke_call(inst, ng, uri, rid, data=b""):
    """A call through the supervisor: (status, body, DONE)."""

    inst.invoke(ng, uri, rid)
    ng.sock.sendall(body(data) if data else frame(END))
    status, text = ng.response()
    done = inst.done()
    ng.drop_peer()

    return status, text, done


def direct_call(ng, uri, rid, data=b""):
    ng.sock.sendall(request(uri, rid, len(data))
                    + (body(data) if data else frame(END)))
    return ng.response()


def says(runtime, text, uri, data):
    """Whether a response body is the test function's for uri and data."""

    if runtime == "c":
        return ("path: %s\n" % uri) in text \
            and text.endswith("body-length: %d\n\n%s" % (len(data),
                                                          data.decode()))

    return text.startswith("path=%s " % uri) \
        and text.endswith("body=" + data.decode())


def ready_direct(inst, name, direct):
    """The instance's READY, checked for "direct" (or its absence)."""

    frames = inst.packet()
    ready = json.loads(frames[0][1]) if frames else {}

    said = ready.get("direct") is True if direct else "direct" not in ready

    return check(frames and frames[0][0] == READY and said,
                 "%s: READY %s direct" % (name, "with" if direct
                                          else "without"), repr(frames))


def no_fd_leaked(inst, name, base):
    n = inst.wait_fds(base)
    check(n == base, "%s: no descriptor leaked (%d fds, %d before)"
          % (name, n, base))


def quit_cleanly(inst, name):
    inst.chan.send(frame(QUIT))
    check(inst.wait_exit() == 0, "%s: QUIT: exit 0" % name,
          repr(inst.status))


def test_direct(build, runtime, code, handler, concurrency=1):
    name = runtime

    if concurrency > 1:
        name += " concurrency %d" % concurrency

    inst = Instance(build, runtime, code, handler, direct=True,
                    concurrency=concurrency)
    conns = []

    try:
        if not ready_direct(inst, name, True):
            return

        base = inst.fds()

        # 1: through the supervisor; the connection is held after DONE
        ng = Nginx()
        conns.append(ng)
        status, text, done = invoke_call(inst, ng, "/one", "r1")
        check(status == 200 and says(runtime, text, "/one", b""),
              "%s: INVOKE call answered" % name, "%s %r" % (status, text))
        check(done is not None and done.get("status") == 200
              and done.get("request_id") == "r1",
              "%s: DONE for the INVOKE call" % name, repr(done))
        check(not ng.eof(0.3), "%s: connection held after DONE" % name)

        # 2: the next call straight on the connection, no DONE
        status, text = direct_call(ng, "/two", "r2")
        check(status == 200 and says(runtime, text, "/two", b"")
              and (runtime == "c" or "rid=r2" in text),
              "%s: direct call answered" % name, "%s %r" % (status, text))
        check(inst.packet(0.3) is None, "%s: no DONE for a direct call"
              % name)

        # 3: with a body, the REQUEST frame arriving in pieces
        msg = request("/three", "r3", 11) + body(b"hello ", b"world")
        ng.sock.sendall(msg[:3])
        time.sleep(0.1)
        ng.sock.sendall(msg[3:20])
        time.sleep(0.1)
        ng.sock.sendall(msg[20:])
        status, text = ng.response()
        check(status == 200 and says(runtime, text, "/three",
                                     b"hello world"),
              "%s: direct call with a body, REQUEST in pieces" % name,
              "%s %r" % (status, text))

        # 4: two calls in one write: the second is read with the first
        ng.sock.sendall(request("/four", "r4", 3) + body(b"abc")
                        + request("/five", "r5") + frame(END))
        s4, t4 = ng.response()
        s5, t5 = ng.response()
        check(s4 == 200 and says(runtime, t4, "/four", b"abc")
              and s5 == 200 and says(runtime, t5, "/five", b""),
              "%s: bytes read past END carried to the next call" % name,
              "%r %r" % (t4, t5))
        check(inst.packet(0.2) is None, "%s: still no DONE" % name)

        # 5: a bad body in a direct call: ERROR, then the connection closes
        ng.sock.sendall(request("/six", "r6") + frame(REGISTER, b"{}"))
        status, reason = ng.response()
        check(status == -502 and "request body" in reason,
              "%s: bad body in a direct call: ERROR 502" % name,
              "%s %r" % (status, reason))
        check(ng.eof(TIMEOUT), "%s: ... and the connection closed" % name)

        # 6: an invalid frame on a held connection: logged, closed
        ng = Nginx()
        conns.append(ng)
        status, text, done = invoke_call(inst, ng, "/seven", "r7")
        ng.sock.sendall(b"\x07" * 8)
        check(ng.eof(TIMEOUT) and "held connection" in inst.output(),
              "%s: invalid frame on a held connection: logged, closed"
              % name, inst.output()[-300:])

        # 7: another frame type than REQUEST first
        ng = Nginx()
        conns.append(ng)
        invoke_call(inst, ng, "/eight", "r8")
        ng.sock.sendall(frame(END))
        check(ng.eof(TIMEOUT) and "unexpected" in inst.output(),
              "%s: END instead of REQUEST: logged, closed" % name,
              inst.output()[-300:])

        # 8: a handler that fails: ERROR, connection closed
        if runtime != "c":
            ng = Nginx()
            conns.append(ng)
            invoke_call(inst, ng, "/nine", "r9")
            status, reason = direct_call(ng, "/boom", "r10")
            check(status == -502 and "boom" in reason and ng.eof(TIMEOUT),
                  "%s: handler error in a direct call: ERROR, closed"
                  % name, "%s %r" % (status, reason))

        # 9: nginx drops a held connection; INVOKEs still served
        ng = Nginx()
        conns.append(ng)
        invoke_call(inst, ng, "/ten", "r11")
        ng.close()
        ng = Nginx()
        conns.append(ng)
        status, text, done = invoke_call(inst, ng, "/eleven", "r12")
        check(status == 200 and done is not None
              and done.get("request_id") == "r12",
              "%s: INVOKE served after a held connection was dropped"
              % name, "%s %r" % (status, done))

        for c in conns:
            c.close()

        conns = []
        n = inst.wait_fds(base)
        check(n == base, "%s: dropped connections closed (%d fds, %d "
              "before)" % (name, n, base))

        # 10: at most 64 held; at the limit an INVOKE call's RESPONSE says
        # "close" and its connection is closed, none of the held ones
        held = [Nginx() for _ in range(HELD_MAX + 3)]
        conns = held
        results = [invoke_call(inst, ng, "/h", "h%d" % i) + (ng.head,)
                   for i, ng in enumerate(held[:HELD_MAX])]
        check(all(r[0] == 200 and r[2] is not None
                  and r[2].get("request_id") == "h%d" % i
                  and "close" not in r[3] for i, r in enumerate(results)),
              "%s: %d INVOKE calls, no \"close\" in their RESPONSE"
              % (name, HELD_MAX),
              repr([r for r in results if "close" in r[3]][:3]))
        n = inst.wait_fds(base + HELD_MAX)
        check(n == base + HELD_MAX, "%s: %d connections held"
              % (name, HELD_MAX), "%d fds, %d before" % (n, base))

        def over_the_limit(ng, rid, what):
            status, text, done = invoke_call(inst, ng, "/h", rid)
            check(status == 200 and says(runtime, text, "/h", b"")
                  and done is not None and done.get("status") == 200
                  and done.get("request_id") == rid
                  and ng.head.get("close") is True,
                  "%s: %s: answered, \"close\" in its RESPONSE"
                  % (name, what), "%s %r %r %r" % (status, text, done,
                                                   ng.head))
            check(ng.eof(TIMEOUT), "%s: ... and its connection closed"
                  % name)

            # DONE came after the runtime closed or held the connection
            closed = select.select([h.sock for h in held[:HELD_MAX]], [],
                                   [], 0.2)[0]
            n = inst.wait_fds(base + HELD_MAX)
            check(not closed and n == base + HELD_MAX,
                  "%s: ... none of the %d held closed" % (name, HELD_MAX),
                  "%d readable, %d fds, %d before" % (len(closed), n, base))

        over_the_limit(held[HELD_MAX], "h64", "a 65th INVOKE call")

        results = [direct_call(ng, "/d", "d%d" % i) + (ng.head,)
                   for i, ng in enumerate(held[:HELD_MAX])]
        n = inst.wait_fds(base + HELD_MAX)
        check(all(r[0] == 200 and says(runtime, r[1], "/d", b"")
                  and "close" not in r[2] for r in results)
              and n == base + HELD_MAX,
              "%s: a direct call on each held connection, no \"close\""
              % name, "%r, %d fds, %d before"
              % ([r for r in results if r[0] != 200 or "close" in r[2]][:3],
                 n, base))

        over_the_limit(held[HELD_MAX + 1], "h65",
                       "another after direct calls")

        # one dropped by nginx makes room for the next
        held[0].close()
        n = inst.wait_fds(base + HELD_MAX - 1)
        status, text, done = invoke_call(inst, held[HELD_MAX + 2], "/h",
                                         "h66")
        head = held[HELD_MAX + 2].head
        check(n == base + HELD_MAX - 1 and status == 200
              and "close" not in head and not held[HELD_MAX + 2].eof(0.2)
              and inst.wait_fds(base + HELD_MAX) == base + HELD_MAX,
              "%s: one dropped, the next INVOKE call held, no \"close\""
              % name, "%s %r, %d fds, %d before" % (status, head, n, base))

        for c in conns:
            c.close()

        conns = []
        no_fd_leaked(inst, name, base)

        quit_cleanly(inst, name)

    except (OSError, EOFError, ValueError) as e:
        check(False, "%s: %s: %s" % (name, type(e).__name__, e),
              inst.output()[-500:])

    finally:
        for c in conns:
            c.close()

        inst.kill()


def test_no_direct(build, runtime, code, handler):
    name = runtime + " without direct"
    inst = Instance(build, runtime, code, handler, direct=False)

    try:
        ready_direct(inst, name, False)

        ng = Nginx()
        status, text, done = invoke_call(inst, ng, "/one", "r1", b"xy")
        check(status == 200 and says(runtime, text, "/one", b"xy")
              and done is not None and done.get("request_id") == "r1",
              "%s: INVOKE call, DONE" % name, "%s %r" % (status, text))
        check(ng.eof(TIMEOUT), "%s: connection closed after the call"
              % name)
        ng.close()

        quit_cleanly(inst, name)

    except (OSError, EOFError, ValueError) as e:
        check(False, "%s: %s: %s" % (name, type(e).__name__, e),
              inst.output()[-500:])

    finally:
        inst.kill()


def test_concurrency(build, runtime, code, handler):
    """python3, nodejs: direct calls at concurrency 1 only."""

    name = runtime + " concurrency 2"
    inst = Instance(build, runtime, code, handler, direct=True,
                    concurrency=2)

    try:
        ready_direct(inst, name, False)

        ng = Nginx()
        invoke_call(inst, ng, "/one", "r1")
        check(ng.eof(TIMEOUT), "%s: connection closed after the call"
              % name)
        ng.close()

        quit_cleanly(inst, name)

    except (OSError, EOFError, ValueError) as e:
        check(False, "%s: %s: %s" % (name, type(e).__name__, e),
              inst.output()[-500:])

    finally:
        inst.kill()


def start_slow(ng, uri, rid):
    """A direct call whose handler (echo reads the whole body) waits in
    the runtime until finish_slow() sends the rest of the body."""

    ng.sock.sendall(request(uri, rid, 5) + frame(BODY, b"ab"))


def finish_slow(ng):
    ng.sock.sendall(frame(BODY, b"cde") + frame(END))


def test_parallel(build):
    """c, concurrency 4: calls on fd 3 and on held connections run at once.
    A call is kept in its handler, without timing, by holding back the end
    of its body: while it waits, others must still be answered."""

    name = "c concurrency 4 (calls at once)"
    inst = Instance(build, "c", os.path.join(build, "functions", "echo"),
                    "handle", direct=True, concurrency=4)
    conns = []

    try:
        if not ready_direct(inst, name, True):
            return

        base = inst.fds()

        # four calls through the supervisor, each connection held
        held = [Nginx() for _ in range(4)]
        conns += held
        results = [invoke_call(inst, ng, "/i%d" % i, "i%d" % i)
                   for i, ng in enumerate(held)]
        check(all(r[0] == 200 and says("c", r[1], "/i%d" % i, b"")
                  and r[2] is not None and r[2].get("request_id") == "i%d" % i
                  for i, r in enumerate(results)),
              "%s: INVOKE calls answered, a DONE each" % name,
              repr(results))
        check(not any(ng.eof(0.1) for ng in held)
              and inst.wait_fds(base + 4) == base + 4,
              "%s: the four connections held" % name,
              "%d fds, %d before" % (inst.fds(), base))

        # a call on each, all written before any answer is read
        for i, ng in enumerate(held):
            ng.sock.sendall(request("/d%d" % i, "d%d" % i, 2)
                            + body(b"x%d" % i))

        results = [ng.response() for ng in held]
        check(all(r[0] == 200 and says("c", r[1], "/d%d" % i, b"x%d" % i)
                  for i, r in enumerate(results)),
              "%s: direct calls on four held connections answered" % name,
              repr(results))
        check(inst.packet(0.2) is None, "%s: no DONE for them" % name)

        # three handlers wait for the end of their bodies, two direct
        # calls and one through fd 3 ...
        a, b, c, d = held

        for i, ng in enumerate((a, b)):
            start_slow(ng, "/slow", "s%d" % i)

        k = Nginx()
        conns.append(k)
        inst.invoke(k, "/slow", "k1")
        k.sock.sendall(frame(BODY, b"ab"))

        # ... while the fourth thread serves fd 3 and the held connections
        g = Nginx()
        conns.append(g)
        status, text, done = invoke_call(inst, g, "/g", "g1")
        check(status == 200 and says("c", text, "/g", b"")
              and done is not None and done.get("request_id") == "g1",
              "%s: three calls in their handlers, an INVOKE call answered"
              % name, "%s %r %r" % (status, text, done))

        status, text = direct_call(d, "/d", "d9", b"dd")
        check(status == 200 and says("c", text, "/d", b"dd"),
              "%s: ... a direct call on a fourth held connection" % name,
              "%s %r" % (status, text))

        status, text = direct_call(g, "/g2", "g2")
        check(status == 200 and says("c", text, "/g2", b""),
              "%s: ... and one on the connection the INVOKE call left"
              % name, "%s %r" % (status, text))

        # a second call written with the first, or right after it
        d.sock.sendall(request("/p1", "p1") + frame(END)
                       + request("/p2", "p2", 2) + body(b"p2"))
        r1, r2 = d.response(), d.response()
        d.sock.sendall(request("/p3", "p3") + frame(END))
        d.sock.sendall(request("/p4", "p4", 2) + body(b"p4"))
        r3, r4 = d.response(), d.response()
        check(all(r[0] == 200 and says("c", r[1], "/p%d" % (i + 1),
                                       b"" if i % 2 == 0
                                       else b"p%d" % (i + 1))
                  for i, r in enumerate((r1, r2, r3, r4))),
              "%s: pipelined calls on a held connection answered" % name,
              repr((r1, r2, r3, r4)))

        # end of file on one held connection, a reset on another (an
        # answer left unread), while the three calls still run
        n = inst.fds()
        g.close()
        d.sock.sendall(request("/r", "r1") + frame(END))
        select.select([d.sock], [], [], TIMEOUT)
        time.sleep(0.05)
        d.close()
        check(inst.wait_fds(n - 2) == n - 2,
              "%s: EOF and ECONNRESET on held connections while calls "
              "run: closed" % name, "%d fds, %d before" % (inst.fds(), n))

        for ng in (a, b, k):
            finish_slow(ng)

        results = [ng.response() for ng in (a, b, k)]
        done = inst.done()
        k.drop_peer()
        check(all(r[0] == 200 and says("c", r[1], "/slow", b"abcde")
                  for r in results)
              and done is not None and done.get("request_id") == "k1",
              "%s: the three waiting calls answered" % name,
              "%r %r" % (results, done))

        results = [direct_call(ng, "/again", "a%d" % i)
                   for i, ng in enumerate((a, b, k))]
        check(all(r[0] == 200 for r in results),
              "%s: ... and their connections held again" % name,
              repr(results))

        # four handlers waiting: a fifth call runs once one of them ends
        e = Nginx()
        conns.append(e)
        invoke_call(inst, e, "/e", "e1")

        for i, ng in enumerate((a, b, c, e)):
            start_slow(ng, "/slow", "t%d" % i)

        h = Nginx()
        conns.append(h)
        inst.invoke(h, "/h", "h1")
        h.sock.sendall(frame(END))
        finish_slow(a)
        ra = a.response()
        rh = h.response()
        done = inst.done()
        h.drop_peer()
        check(ra[0] == 200 and rh[0] == 200 and says("c", rh[1], "/h", b"")
              and done is not None and done.get("request_id") == "h1",
              "%s: four calls in handlers, a fifth served when one ends"
              % name, "%r %r %r" % (ra, rh, done))

        for ng in (b, c, e):
            finish_slow(ng)

        results = [ng.response() for ng in (b, c, e)]
        check(all(r[0] == 200 and says("c", r[1], "/slow", b"abcde")
                  for r in results),
              "%s: ... and the other three" % name, repr(results))

        for ng in conns:
            ng.close()

        conns = []
        no_fd_leaked(inst, name, base)
        check(inst.output() == "", "%s: nothing logged" % name,
              inst.output()[-500:])

        quit_cleanly(inst, name)

    except (OSError, EOFError, ValueError) as e:
        check(False, "%s: %s: %s" % (name, type(e).__name__, e),
              inst.output()[-500:])

    finally:
        for c in conns:
            c.close()

        inst.kill()


def test_drain(build):
    """c: a handler that reads no body; the runtime drains it."""

    name = "c (body left unread)"
    inst = Instance(build, "c", os.path.join(build, "functions", "hello"),
                    "handle", direct=True)

    try:
        frames = inst.packet()
        check(frames and frames[0][0] == READY, "%s: READY" % name)

        ng = Nginx()
        status, text, done = invoke_call(inst, ng, "/", "r1", b"x" * 5000)
        check(status == 200 and "world" in text and done is not None,
              "%s: INVOKE call" % name, "%s %r" % (status, text))

        status, text = direct_call(ng, "/", "r2", b"y" * 100000)
        check(status == 200 and "world" in text,
              "%s: direct call" % name, "%s %r" % (status, text))

        status, text = direct_call(ng, "/", "r3")
        check(status == 200 and "world" in text,
              "%s: direct call after it" % name, "%s %r" % (status, text))
        ng.close()

        quit_cleanly(inst, name)

    except (OSError, EOFError, ValueError) as e:
        check(False, "%s: %s: %s" % (name, type(e).__name__, e),
              inst.output()[-500:])

    finally:
        inst.kill()


def test_batch(build):
    """c, concurrency 8, threads 1: the answers of the calls one
    epoll_wait() returned are written together after the last of them;
    each still reaches its own connection, in order, and none is lost
    when a call after them exits the process."""

    name = "c threads 1 (answers written together)"
    inst = Instance(build, "c", os.path.join(build, "functions", "exits"),
                    "handle", direct=True, concurrency=8, threads=1)
    conns = []

    try:
        if not ready_direct(inst, name, True):
            return

        held = [Nginx() for _ in range(4)]
        conns += held

        results = [invoke_call(inst, ng, "/i%d" % i, "i%d" % i)
                   for i, ng in enumerate(held)]
        check(all(r[0] == 200 and r[1] == "Hello, world!\n"
                  and r[2] is not None for r in results),
              "%s: INVOKE calls answered" % name, repr(results))

        # a call on each, all written before any answer is read; twice
        for n in range(2):
            for i, ng in enumerate(held):
                ng.sock.sendall(request("/d%d" % i, "d%d%d" % (n, i))
                                + frame(END))

            results = [ng.response() for ng in held]
            check(all(r == (200, "Hello, world!\n") for r in results),
                  "%s: four direct calls at once, round %d: answered"
                  % (name, n + 1), repr(results))

        # a call, then one that exits, in one write: the first's answer
        # still goes out, before the end of file
        a = held[0]
        a.sock.sendall(request("/b", "b1") + frame(END)
                       + request("/exit", "x1") + frame(END))
        check(a.response() == (200, "Hello, world!\n"),
              "%s: the call before exit() answered" % name)
        check(a.eof(TIMEOUT) and inst.wait_exit() == 0,
              "%s: then the process ended, status 0" % name,
              repr(inst.status))

    except (OSError, EOFError, ValueError) as e:
        check(False, "%s: %s: %s" % (name, type(e).__name__, e),
              inst.output()[-500:])

    finally:
        for c in conns:
            c.close()

        inst.kill()


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: test_direct.py BUILD_DIR\n")
        return 2

    build = os.path.abspath(sys.argv[1])
    tmp = tempfile.TemporaryDirectory(prefix="test_direct.")

    py = os.path.join(tmp.name, "py")
    js = os.path.join(tmp.name, "js")
    os.mkdir(py)
    os.mkdir(js)

    with open(os.path.join(py, "main.py"), "w") as f:
        f.write(PY_FUNCTION)

    with open(os.path.join(js, "index.js"), "w") as f:
        f.write(JS_FUNCTION)

    runtimes = [
        ("c", os.path.join(build, "functions", "echo"), "handle"),
        ("python3", py, "main.handle"),
        ("nodejs", js, "index.handler"),
    ]

    for runtime, code, handler in runtimes:
        test_direct(build, runtime, code, handler)
        test_no_direct(build, runtime, code, handler)

        if runtime != "c":
            test_concurrency(build, runtime, code, handler)

    # c: direct calls at any concurrency
    test_direct(build, "c", runtimes[0][1], "handle", concurrency=4)
    test_parallel(build)
    test_drain(build)
    test_batch(build)

    tmp.cleanup()

    print("%d checks, %d failed" % (checks, failures))

    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
