import os


def handle(event, context):
    greeting = os.environ.get("GREETING", "Hello")
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "text/plain"},
        "body": "%s, world!\n" % greeting,
    }
