def handle(event, context):
    return "never"
def broken(:
    pass
