import asyncio

opened = []


async def init(context):
    # the initializer and the calls share the instance's event loop
    opened.append(asyncio.get_running_loop())


async def handle(event, context):
    await asyncio.sleep(0.01)
    same = opened and opened[0] is asyncio.get_running_loop()
    return {"body": "async %s same-loop=%s\n" % (event["path"], bool(same))}
