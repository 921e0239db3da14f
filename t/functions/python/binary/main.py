# The request body back as is, as bytes (handle) or base64 (b64).

import base64


def handle(event, context):
    return event["body"]


def b64(event, context):
    return {
        "headers": {"Content-Type": "application/x-test"},
        "body": base64.b64encode(event["body"]).decode("ascii"),
        "isBase64Encoded": True,
    }
