"""hello: the smallest useful Python function for ngx_faas.

    faas_function hello_py {
        runtime python3;
        code /path/to/examples/python/hello;
        handler main.handle;        # module main (main.py), function handle
        env GREETING Hello;
    }

    location /hello { faas_pass hello_py; }

`curl 'http://localhost/hello?name=nginx'` answers "Hello, nginx!".
docs/runtimes.md describes the event, the context and the result.
"""

import os

# Module level code runs once per instance, when it starts: a place for
# what every call can share (configuration, clients, caches).
GREETING = os.environ.get("GREETING", "Hello")


def handle(event, context):
    name = event["queryParameters"].get("name", "world")

    return {
        "statusCode": 200,
        "headers": {"Content-Type": "text/plain; charset=utf-8"},
        "body": "%s, %s!\n" % (GREETING, name),
    }
