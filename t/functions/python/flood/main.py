import sys


def handle(event, context):
    """Writes ?lines=N lines to stdout, each ?size=S bytes long."""

    lines = int(event["queryParameters"].get("lines", "10"))
    size = int(event["queryParameters"].get("size", "20"))
    line = "x" * size

    for i in range(lines):
        sys.stdout.write("%d %s\n" % (i, line))

    return "wrote %d\n" % lines
