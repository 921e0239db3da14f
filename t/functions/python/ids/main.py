# ids: the real and effective uid and gid the function runs as, and
# whether its /tmp and its own code directory work under them
# (t/021-users.t).

import os


def handle(event, context):
    try:
        with open("/tmp/ids", "w") as f:
            f.write("x")
        tmp = "ok"
    except OSError as e:
        tmp = e.strerror

    try:
        os.listdir(os.path.dirname(os.path.abspath(__file__)))
        code = "ok"
    except OSError as e:
        code = e.strerror

    uid = os.getresuid()
    gid = os.getresgid()

    return {
        "statusCode": 200,
        "body": "uid=%d/%d/%d gid=%d/%d/%d tmp=%s code=%s\n"
                % (uid + gid + (tmp, code)),
    }
