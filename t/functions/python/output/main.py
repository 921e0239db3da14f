import sys


def handle(event, context):
    print("hello from stdout")
    print("hello from stderr", file=sys.stderr)
    return "printed\n"
