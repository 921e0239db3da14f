def divide(a, b):
    return a / b


def handle(event, context):
    return divide(1, 0)
