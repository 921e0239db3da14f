def handle(event, context):
    return {
        "statusCode": int(event["queryParameters"].get("code", "200")),
        "headers": {
            "X-Faas-Test": "yes",
            "X-Number": 42,
            "Set-Cookie": ["a=1; Path=/", "b=2; Path=/"],
        },
        "body": "status %s\n" % event["queryParameters"].get("code", "200"),
    }
