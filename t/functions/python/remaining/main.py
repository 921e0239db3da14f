import time


def handle(event, context):
    first = context.get_remaining_time_in_millis()
    time.sleep(0.3)
    second = context.get_remaining_time_in_millis()
    return "first=%d second=%d\n" % (first, second)
