# An initializer that takes a second, so that a test can look at an
# instance while it starts.

import time


def init(context):
    time.sleep(1)


def handle(event, context):
    return "ready\n"
