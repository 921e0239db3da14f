def init(context):
    raise ValueError("bad config")


def handle(event, context):
    return "never\n"
