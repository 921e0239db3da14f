# The python3 runtime (runtime-shim/runtime-python/bootstrap.py): what a
# function sees, what it may return, and how each kind of failure reaches
# the client and the error log.  The functions are t/functions/python/NAME.

use lib 't/lib';
use FaasTest;
use Test::Nginx::Socket 'no_plan';

our $HttpConfig = <<'_EOC_';
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function pyhello {
        runtime python3;
        code $TEST_NGINX_FAAS_SRC/python/hello;
        handler main.handle;
        env GREETING Hi;
    }

    faas_function pyecho {
        runtime python3;
        code $TEST_NGINX_FAAS_SRC/python/echo;
    }

    faas_function pybinary {
        runtime python3;
        code $TEST_NGINX_FAAS_SRC/python/binary;
    }

    faas_function pybase64 {
        runtime python3;
        code $TEST_NGINX_FAAS_SRC/python/binary;
        handler main.b64;
    }

    faas_function pystatus {
        runtime python3;
        code $TEST_NGINX_FAAS_SRC/python/status;
    }

    faas_function pytext {
        runtime python3;
        code $TEST_NGINX_FAAS_SRC/python/shapes;
        handler main.text;
    }

    faas_function pyraw {
        runtime python3;
        code $TEST_NGINX_FAAS_SRC/python/shapes;
        handler main.raw;
    }

    faas_function pynone {
        runtime python3;
        code $TEST_NGINX_FAAS_SRC/python/shapes;
        handler main.none;
    }

    faas_function pyalias {
        runtime python3;
        code $TEST_NGINX_FAAS_SRC/python/shapes;
        handler main.alias;
    }

    faas_function pyboom {
        runtime python3;
        code $TEST_NGINX_FAAS_SRC/python/boom;
    }

    faas_function pydebug {
        runtime python3;
        code $TEST_NGINX_FAAS_SRC/python/boom;
        debug on;
    }

    faas_function pysyntax {
        runtime python3;
        code $TEST_NGINX_FAAS_SRC/python/syntax;
    }

    faas_function pynomodule {
        runtime python3;
        code $TEST_NGINX_FAAS_SRC/python/hello;
        handler nosuch.handle;
    }

    faas_function pynoattr {
        runtime python3;
        code $TEST_NGINX_FAAS_SRC/python/hello;
        handler main.nosuch;
    }

    faas_function pyunknownkey {
        runtime python3;
        code $TEST_NGINX_FAAS_SRC/python/badresult;
        handler main.unknown_key;
    }

    faas_function pybadstatus {
        runtime python3;
        code $TEST_NGINX_FAAS_SRC/python/badresult;
        handler main.bad_status;
    }

    faas_function pybadheaders {
        runtime python3;
        code $TEST_NGINX_FAAS_SRC/python/badresult;
        handler main.bad_headers;
    }

    faas_function pybadtype {
        runtime python3;
        code $TEST_NGINX_FAAS_SRC/python/badresult;
        handler main.bad_type;
    }

    faas_function pybadvalue {
        runtime python3;
        code $TEST_NGINX_FAAS_SRC/python/badresult;
        handler main.bad_header_value;
    }

    faas_function pycounter {
        runtime python3;
        code $TEST_NGINX_FAAS_SRC/python/counter;
        initializer main.init;
        max_instances 1;
    }

    faas_function pyinitfail {
        runtime python3;
        code $TEST_NGINX_FAAS_SRC/python/initfail;
        initializer main.init;
    }

    faas_function pyout {
        runtime python3;
        code $TEST_NGINX_FAAS_SRC/python/output;
    }

    faas_function pyremaining {
        runtime python3;
        code $TEST_NGINX_FAAS_SRC/python/remaining;
        timeout 3s;
    }

    faas_function pysleep {
        runtime python3;
        code $TEST_NGINX_FAAS_SRC/python/sleep;
        timeout 1s;
    }

    faas_function pyexample {
        runtime python3;
        code $TEST_NGINX_FAAS_SRC/../../examples/python/hello;
        handler main.handle;
        env GREETING Howdy;
    }

    faas_function pyasync {
        runtime python3;
        code $TEST_NGINX_FAAS_SRC/python/async;
        initializer main.init;
    }
_EOC_

our $Config = <<'_EOC_';
    location / {
        add_header X-Instance $faas_instance always;
        add_header X-Cold $faas_cold_start always;
        faas_read_timeout 10s;
        faas_pass $arg_fn;
    }

    location /echo/ {
        faas_pass pyecho;
    }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;

    if (!defined $block->http_config) {
        $block->set_value('http_config', $HttpConfig);
    }
});

# blocks without --- config reuse the previous block's nginx
no_shuffle();
no_root_location();
run_tests();

__DATA__

=== TEST 1: hello, with env from faas_function
--- config eval: $main::Config
--- request
GET /?fn=pyhello
--- response_headers
Content-Type: text/plain
--- response_body
Hi, world!
--- no_error_log
[error]
[alert]



=== TEST 2: echo: method, path, query, decoded parameters, headers
--- config eval: $main::Config
--- more_headers
X-Foo: bar
X-Foo: baz
X-Empty:
--- request
GET /echo/sub?a=1&b=two%20x+y&a=3&c
--- response_headers
Content-Type: application/json
--- response_body_like eval
qr!\A\{ (?=.*"method":\ "GET")
        (?=.*"path":\ "/echo/sub")
        (?=.*"query":\ "a=1&b=two%20x\+y&a=3&c")
        (?=.*"queryParameters":\ \{"a":\ "1,3",\ "b":\ "two\ x\ y",
                                   \ "c":\ ""\})
        (?=.*"headers":\ \{[^}]*"x-foo":\ "bar,\ baz")
        (?=.*"rawHeaders":\ \[\[)
        (?=.*\["X-Foo",\ "bar"\],\ \["X-Foo",\ "baz"\])
        (?=.*"remoteAddr":\ "127\.0\.0\.1")
        (?=.*"requestId":\ "[0-9a-f]{16,}")
        (?=.*"body":\ "")
        (?=.*"bodyType":\ "bytes")
        (?=.*"function_name":\ "pyecho")
        (?=.*"instance_id":\ \d+)
        (?=.*"memory_limit_in_mb":\ \d+)
!xs
--- no_error_log
[error]



=== TEST 3: echo: a POST body arrives as bytes
--- config eval: $main::Config
--- more_headers
Content-Type: text/plain
--- request
POST /echo/post
hello, body
--- response_body_like eval
qr{(?=.*"method":\ "POST")(?=.*"body":\ "hello,\ body")
   (?=.*"bodyType":\ "bytes")(?=.*"content-type":\ "text/plain")}xs
--- no_error_log
[error]



=== TEST 4: binary body round-trip: every byte value, back as bytes
--- config eval: $main::Config
--- request eval
"POST /?fn=pybinary\n" . pack('C*', 0 .. 255)
--- response_headers
Content-Type: application/octet-stream
Content-Length: 256
--- response_body eval
pack('C*', 0 .. 255)
--- no_error_log
[error]



=== TEST 5: a 1 MiB binary body there and back, raw and as base64
--- init
my $body = pack('C*', map { ($_ * 7 + ($_ >> 8)) & 255 } 0 .. 1048575);
my ($s1, $h1, $b1) = FaasTest::faas_http(POST => '/?fn=pybinary',
                                         body => $body);
Test::More::is($s1, 200, "TEST 5: raw status");
Test::More::ok($b1 eq $body, "TEST 5: raw body is the same 1 MiB");
my ($s2, $h2, $b2) = FaasTest::faas_http(POST => '/?fn=pybase64',
                                         body => $body);
Test::More::is($s2, 200, "TEST 5: base64 status");
Test::More::is($h2->{'content-type'}, 'application/x-test',
               "TEST 5: the function's Content-Type");
Test::More::ok($b2 eq $body, "TEST 5: decoded base64 body is the same");
--- request
GET /?fn=pyhello
--- response_body
Hi, world!
--- no_error_log
[error]



=== TEST 6: status and headers from the function, a repeated Set-Cookie
--- config eval: $main::Config
--- request
GET /?fn=pystatus&code=201
--- error_code: 201
--- response_headers
X-Faas-Test: yes
X-Number: 42
Content-Type: text/plain; charset=utf-8
--- raw_response_headers_like eval
qr/\r\nSet-Cookie: a=1; Path=\/\r\n(?:.*\r\n)*?Set-Cookie: b=2; Path=\/\r\n/s
--- response_body
status 201
--- no_error_log
[error]



=== TEST 7: a plain str result is a 200 text/plain
--- config eval: $main::Config
--- request
GET /?fn=pytext
--- error_code: 200
--- response_headers
Content-Type: text/plain; charset=utf-8
--- response_body
plain text
--- no_error_log
[error]



=== TEST 8: a bytes result is a 200 application/octet-stream
--- config eval: $main::Config
--- request
GET /?fn=pyraw
--- response_headers
Content-Type: application/octet-stream
--- response_body eval
"\x00raw bytes\xff"
--- no_error_log
[error]



=== TEST 9: None is a 204 without a body
--- config eval: $main::Config
--- request
GET /?fn=pynone
--- error_code: 204
--- response_body
--- no_error_log
[error]



=== TEST 10: "status" is an alias of "statusCode"
--- config eval: $main::Config
--- request
GET /?fn=pyalias
--- error_code: 201
--- response_body
created
--- no_error_log
[error]



=== TEST 11: an exception is a 502, its traceback in the error log
--- config eval: $main::Config
--- request
GET /?fn=pyboom
--- error_code: 502
--- error_log eval
[qr{\[error\] .*faas: function "pyboom" failed: ZeroDivisionError: division by zero \(\S*/main\.py, line 2, in divide\)},
 'Traceback (most recent call last):',
 qr{File "\S*/main\.py", line 6, in handle},
 qr{stderr: ZeroDivisionError: division by zero}]
--- no_error_log
[alert]



=== TEST 12: debug on: the traceback is the body of the 502
--- config eval: $main::Config
--- request
GET /?fn=pydebug
--- error_code: 502
--- response_headers
Content-Type: text/plain; charset=utf-8
--- response_body_like eval
qr{\ATraceback\ \(most\ recent\ call\ last\):\n
   .*File\ "\S*/main\.py",\ line\ 6,\ in\ handle\n
   .*ZeroDivisionError:\ division\ by\ zero\n\z}xs
--- no_error_log
[alert]



=== TEST 13: a syntax error fails the load: 502, file and line in the log
--- config eval: $main::Config
--- request
GET /?fn=pysyntax
--- error_code: 502
--- error_log eval
qr{\[error\] .*faas: function "pysyntax" failed: .*SyntaxError: invalid syntax \(\S*/main\.py, line 3\)}
--- no_error_log
[alert]



=== TEST 14: a missing module fails the load, named
--- config eval: $main::Config
--- request
GET /?fn=pynomodule
--- error_code: 502
--- error_log eval
qr{\[error\] .*function "pynomodule" failed: .*handler "nosuch\.handle": module nosuch not found in /}
--- no_error_log
[alert]



=== TEST 15: a missing handler attribute fails the load, named
--- config eval: $main::Config
--- request
GET /?fn=pynoattr
--- error_code: 502
--- error_log eval
qr{\[error\] .*function "pynoattr" failed: .*handler "main\.nosuch": module main has no attribute nosuch}
--- no_error_log
[alert]



=== TEST 16: a bad result: unknown key
--- config eval: $main::Config
--- request
GET /?fn=pyunknownkey
--- error_code: 502
--- error_log eval
qr{function "pyunknownkey" failed: invalid result from "main\.unknown_key": unknown key "stat"}
--- no_error_log
[alert]



=== TEST 17: a bad result: status out of range
--- config eval: $main::Config
--- request
GET /?fn=pybadstatus
--- error_code: 502
--- error_log eval
qr{function "pybadstatus" failed: invalid result from "main\.bad_status": statusCode 99 is not in 200\.\.599}
--- no_error_log
[alert]



=== TEST 18: a bad result: headers not a dict
--- config eval: $main::Config
--- request
GET /?fn=pybadheaders
--- error_code: 502
--- error_log eval
qr{function "pybadheaders" failed: invalid result from "main\.bad_headers": headers must be a dict}
--- no_error_log
[alert]



=== TEST 19: a bad result: not a dict, str, bytes or None
--- config eval: $main::Config
--- request
GET /?fn=pybadtype
--- error_code: 502
--- error_log eval
qr{function "pybadtype" failed: invalid result from "main\.bad_type": the result is a int}
--- no_error_log
[alert]



=== TEST 20: a bad result: CR LF in a header value
--- config eval: $main::Config
--- request
GET /?fn=pybadvalue
--- error_code: 502
--- error_log eval
qr{function "pybadvalue" failed: invalid result from "main\.bad_header_value": header "X-A" has CR, LF or NUL}
--- no_error_log
[alert]



=== TEST 21: the initializer runs once per instance, before the first call
--- config eval: $main::Config
--- request eval
["GET /?fn=pycounter", "GET /?fn=pycounter", "GET /?fn=pycounter"]
--- response_headers eval
["X-Cold: 1", "X-Cold: 0", "X-Cold: 0"]
--- response_body_like eval
["^inits=1 calls=1 pid=\\d+ initialized by pycounter\n\\z",
 "^inits=1 calls=2 pid=\\d+ initialized by pycounter\n\\z",
 "^inits=1 calls=3 pid=\\d+ initialized by pycounter\n\\z"]
--- no_error_log
[error]



=== TEST 22: a failing initializer fails the load, with its traceback
--- config eval: $main::Config
--- request
GET /?fn=pyinitfail
--- error_code: 502
--- error_log eval
[qr{\[error\] .*function "pyinitfail" failed: .*initializer "main\.init" failed: ValueError: bad config \(\S*/main\.py, line 2, in init\)},
 qr{stderr: ValueError: bad config}]
--- no_error_log
[alert]



=== TEST 23: stdout and stderr lines reach the error log, with the function
--- config eval: $main::Config
--- request
GET /?fn=pyout
--- response_body
printed
--- error_log
function "pyout"
stdout: hello from stdout
stderr: hello from stderr
--- no_error_log
[alert]



=== TEST 24: the remaining time decreases during a call
--- config eval: $main::Config
--- request
GET /?fn=pyremaining
--- response_body_like: ^first=\d+ second=\d+$
--- no_error_log
[error]



=== TEST 25: the remaining time: below the timeout, 300 ms less later
--- init
my ($status, $h, $body) = FaasTest::faas_http(GET => '/?fn=pyremaining');
Test::More::is($status, 200, "TEST 25: status");
my ($first, $second) = $body =~ /^first=(\d+) second=(\d+)$/;
Test::More::ok(defined $first && $first <= 3000 && $first > 2000,
               "TEST 25: first $first within the 3 s timeout");
Test::More::ok(defined $second && $first - $second >= 290
               && $first - $second < 1000,
               "TEST 25: second $second about 300 ms after");
--- request
GET /?fn=pyhello
--- response_body
Hi, world!
--- no_error_log
[error]



=== TEST 26: a call past its timeout is a 504
--- config eval: $main::Config
--- request
GET /?fn=pysleep&s=3
--- error_code: 504
--- timeout: 5
--- error_log eval
qr/\[error\] .*faas: function "pysleep" .*timed out/
--- no_error_log
[alert]



=== TEST 27: an async def handler and initializer share one event loop
--- config eval: $main::Config
--- request eval
["GET /?fn=pyasync", "GET /?fn=pyasync"]
--- response_body eval
["async / same-loop=True\n", "async / same-loop=True\n"]
--- no_error_log
[error]



=== TEST 28: the example examples/python/hello
--- config eval: $main::Config
--- request eval
["GET /?fn=pyexample", "GET /?fn=pyexample&name=nginx"]
--- response_body eval
["Howdy, world!\n", "Howdy, nginx!\n"]
--- no_error_log
[error]
