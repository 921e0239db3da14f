import time


def handle(event, context):
    time.sleep(float(event["queryParameters"].get("s", "3")))
    return "slept\n"
