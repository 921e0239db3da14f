# Calls that the python3 runtime's allowlist leaves out, and ordinary code
# that it must not stop, for t/022-seccomp-runtime.t.
import datetime
import hashlib
import json
import os
import subprocess
import tempfile
import threading
import time


def text(body):
    return {"statusCode": 200, "headers": {"Content-Type": "text/plain"},
            "body": body}


def run_true(event, context):
    # "exit 0" under the base filter; the child's execve() is killed
    # (SIGSYS, 31) under the allowlist
    rc = subprocess.run(["/usr/bin/true"]).returncode
    return text("true: %s\n" % ("exit 0" if rc == 0 else "returncode %d" % rc))


def exec_self(event, context):
    try:
        os.execv("/nonexistent/none", ["none"])
    except OSError as e:
        return text("execve: %s\n" % type(e).__name__)


def ordinary(event, context):
    out = []
    out.append(hashlib.sha256(b"abc").hexdigest()[:8])
    out.append(json.dumps({"a": [1, 2]}, sort_keys=True))
    out.append(str(datetime.datetime(2026, 11, 26).date()))
    out.append(str(datetime.datetime.now().year > 2000))
    out.append(str(sorted(os.listdir("/code"))[:1]))

    with tempfile.TemporaryDirectory() as d:
        with tempfile.NamedTemporaryFile("w", dir=d, delete=False) as f:
            f.write("x" * 1000)
        with open(f.name) as f2:
            out.append(str(len(f2.read())))
        os.rename(f.name, os.path.join(d, "y"))
        out.append(str(os.listdir(d)))

    t = threading.Thread(target=time.sleep, args=(0.01,))
    t.start()
    t.join()
    out.append(str(len(os.urandom(16))))
    out.append(str(os.cpu_count() is not None))
    return text(" ".join(out) + "\n")
