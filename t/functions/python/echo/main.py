# Answers with what it was given, as JSON (the body as latin-1 text, so
# that every byte shows), and the context's attributes.

import json


def handle(event, context):
    seen = dict(event)
    seen["body"] = event["body"].decode("latin-1")
    seen["bodyType"] = type(event["body"]).__name__
    seen["context"] = {
        "function_name": context.function_name,
        "function_version": context.function_version,
        "instance_id": context.instance_id,
        "request_id": context.request_id,
        "memory_limit_in_mb": context.memory_limit_in_mb,
    }

    return {
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(seen, sort_keys=True),
    }
