# The short result forms: one handler each.


def text(event, context):
    return "plain text\n"


def raw(event, context):
    return b"\x00raw bytes\xff"


def none(event, context):
    return None


def alias(event, context):
    return {"status": 201, "body": "created\n"}
