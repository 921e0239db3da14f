# The initializer runs once per instance, before the first call: inits
# stays 1 however many calls the instance serves.

import os

inits = 0
calls = 0
state = {}


def init(context):
    global inits
    inits += 1
    state["ready"] = "initialized by %s" % context.function_name


def handle(event, context):
    global calls
    calls += 1
    return "inits=%d calls=%d pid=%d %s\n" % (inits, calls, os.getpid(),
                                              state.get("ready", "no init"))
