# Results the runtime must refuse, one handler each.


def unknown_key(event, context):
    return {"stat": 200}


def bad_status(event, context):
    return {"statusCode": 99}


def bad_headers(event, context):
    return {"headers": [("X-A", "1")]}


def bad_type(event, context):
    return 42


def bad_header_value(event, context):
    return {"headers": {"X-A": "one\r\ntwo"}}
