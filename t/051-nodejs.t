# The nodejs runtime: functions in t/functions/nodejs/NAME/index.js see the
# request as an event, answer with any valid result shape, and every way
# they can fail is a clear status with the file and line in the error log.

use lib 't/lib';
use FaasTest;
use Test::Nginx::Socket 'no_plan';

our $HttpConfig = <<'_EOC_';
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function jshello {
        runtime nodejs;
        code $TEST_NGINX_FAAS_SRC/nodejs/hello;
    }

    faas_function jsgreet {
        runtime nodejs;
        code $TEST_NGINX_FAAS_SRC/nodejs/hello;
        handler index.handler;
        env GREETING hi;
    }

    # the example of docs/runtimes.md
    faas_function jsexample {
        runtime nodejs;
        code $TEST_NGINX_FAAS_SRC/../../examples/nodejs/hello;
        handler index.handler;
        env GREETING Hello;
    }

    faas_function jsecho {
        runtime nodejs;
        code $TEST_NGINX_FAAS_SRC/nodejs/echo;
    }

    faas_function jsbinary {
        runtime nodejs;
        code $TEST_NGINX_FAAS_SRC/nodejs/binary;
    }

    faas_function jsstatus {
        runtime nodejs;
        code $TEST_NGINX_FAAS_SRC/nodejs/status;
    }

    faas_function jsresult {
        runtime nodejs;
        code $TEST_NGINX_FAAS_SRC/nodejs/result;
    }

    faas_function jsthrow {
        runtime nodejs;
        code $TEST_NGINX_FAAS_SRC/nodejs/throw;
    }

    faas_function jsreject {
        runtime nodejs;
        code $TEST_NGINX_FAAS_SRC/nodejs/reject;
    }

    faas_function jsdebug {
        runtime nodejs;
        code $TEST_NGINX_FAAS_SRC/nodejs/throw;
        debug on;
    }

    faas_function jssyntax {
        runtime nodejs;
        code $TEST_NGINX_FAAS_SRC/nodejs/syntax;
    }

    faas_function jsnoexport {
        runtime nodejs;
        code $TEST_NGINX_FAAS_SRC/nodejs/hello;
        handler index.nope;
    }

    faas_function jsbad {
        runtime nodejs;
        code $TEST_NGINX_FAAS_SRC/nodejs/badresult;
    }

    # one instance: both calls reach the same one
    faas_function jsinit {
        runtime nodejs;
        code $TEST_NGINX_FAAS_SRC/nodejs/init;
        initializer index.init;
        max_instances 1;
    }

    faas_function jsout {
        runtime nodejs;
        code $TEST_NGINX_FAAS_SRC/nodejs/output;
    }

    faas_function jsremaining {
        runtime nodejs;
        code $TEST_NGINX_FAAS_SRC/nodejs/remaining;
        timeout 3s;
    }

    faas_function jssleep {
        runtime nodejs;
        code $TEST_NGINX_FAAS_SRC/nodejs/sleep;
        timeout 1s;
    }
_EOC_

our $Config = <<'_EOC_';
    location /echo {
        faas_pass jsecho;
    }

    location / {
        add_header X-Cold $faas_cold_start always;
        faas_read_timeout 10s;
        faas_pass $arg_fn;
    }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;

    if (!defined $block->http_config) {
        $block->set_value('http_config', $HttpConfig);
    }

    if (!defined $block->config) {
        $block->set_value('config', $Config);
    }
});

# 256 bytes, every value once; and 200 kB: several BODY frames each way
our $Bytes = join '', map { chr } 0 .. 255;
our $Big = join '', map { chr(($_ * 7 + 3) % 256) } 0 .. 199_999;

no_shuffle();
no_long_string();
no_root_location();
run_tests();

__DATA__

=== TEST 1: hello answers through nginx
--- request
GET /?fn=jshello
--- response_headers
Content-Type: text/plain
Content-Length: 14
--- response_body
Hello, world!
--- no_error_log
[error]
[alert]



=== TEST 2: env from faas_function reaches process.env
--- request
GET /?fn=jsgreet
--- response_body
Hello, hi!
--- no_error_log
[error]



=== TEST 3: the example function greets and logs
--- request
GET /?fn=jsexample&name=nginx
--- response_headers
Content-Type: text/plain; charset=utf-8
--- response_body
Hello, nginx!
--- error_log eval
[qr/function "jsexample"/,
 qr/stdout: greeting nginx in request [0-9a-f]{16,}/]
--- no_error_log
[error]



=== TEST 4: the event: method, path, query, parameters, headers
--- more_headers
X-Foo: bar
X-Multi: 1
X-Multi: 2
--- request
GET /echo/sub?a=1&b=two+words&a=3&c=%41%2B&d
--- response_body_like eval
qr{\A method:\ GET \n
   path:\ /echo/sub \n
   query:\ a=1&b=two\+words&a=3&c=%41%2B&d \n
   param\ a:\ 1,3 \n
   param\ b:\ two\ words \n
   param\ c:\ A\+ \n
   param\ d:\ \n
   (?:header\ .*\n)*? header\ x-foo:\ bar \n
   (?:header\ .*\n)*? header\ x-multi:\ 1,\ 2 \n
   (?:header\ .*\n)*
   (?:raw\ .*\n)*? raw\ X-Foo:\ bar \n
   raw\ X-Multi:\ 1 \n
   raw\ X-Multi:\ 2 \n
   (?:raw\ .*\n)*
   remote:\ 127\.0\.0\.1 \n
   request\ id:\ same\ [0-9a-f]{16,} \n
   body\ is\ a\ Buffer:\ true \n
   body-length:\ 0 \n
   body:\ \n \z}x
--- no_error_log
[error]



=== TEST 5: the event: a POST body is a Buffer
--- more_headers
Content-Type: text/plain
--- request
POST /echo?x=y
hello, body
--- response_body_like eval
qr{\A method:\ POST \n path:\ /echo \n query:\ x=y \n param\ x:\ y \n
   (?:header\ .*\n)*? header\ content-type:\ text/plain \n (?:.*\n)*
   body\ is\ a\ Buffer:\ true \n body-length:\ 11 \n body:\ hello,\ body \n
   \z}x
--- no_error_log
[error]



=== TEST 6: a binary body comes back byte for byte
--- request eval
"POST /?fn=jsbinary\n$main::Bytes"
--- response_headers
Content-Type: application/octet-stream
X-Length: 256
--- response_body eval
$main::Bytes
--- no_error_log
[error]



=== TEST 7: 200 kB each way: several BODY frames in and out
--- request eval
"POST /?fn=jsbinary\n$main::Big"
--- response_headers
X-Length: 200000
Content-Length: 200000
--- response_body eval
$main::Big
--- no_error_log
[error]



=== TEST 8: status code, custom headers, a repeated one, a number value
--- request
GET /?fn=jsstatus&code=201
--- error_code: 201
--- response_headers
X-Faas-Test: yes
X-Number: 42
Content-Type: text/plain; charset=utf-8
--- raw_response_headers_like eval
qr/\r\nSet-Cookie: a=1\r\n(?:.*\r\n)*?Set-Cookie: b=2\r\n/s
--- response_body
created
--- no_error_log
[error]



=== TEST 9: a plain string and a Buffer are 200 with a default type
--- request eval
["GET /?fn=jsresult&r=string", "GET /?fn=jsresult&r=buffer"]
--- response_headers eval
["Content-Type: text/plain; charset=utf-8",
 "Content-Type: application/octet-stream"]
--- response_body eval
["plain string\n", "bytes\n"]
--- no_error_log
[error]



=== TEST 10: undefined and null are 204 with no body
--- request eval
["GET /?fn=jsresult&r=undefined", "GET /?fn=jsresult&r=null"]
--- error_code eval
[204, 204]
--- response_body eval
["", ""]
--- no_error_log
[error]



=== TEST 11: base64 body, the status alias, the function's own type
--- request eval
["GET /?fn=jsresult&r=base64", "GET /?fn=jsresult&r=alias",
 "GET /?fn=jsresult&r=typed"]
--- error_code eval
[200, 202, 200]
--- response_headers eval
["Content-Type: application/octet-stream",
 "Content-Type: text/plain; charset=utf-8",
 "Content-Type: application/json"]
--- response_body eval
["decoded\n", "accepted\n", "{\"ok\":true}\n"]
--- no_error_log
[error]



=== TEST 12: a throw is a 502, with where in the log and the stack
--- request
GET /?fn=jsthrow
--- error_code: 502
--- error_log eval
[qr/\[error\] .*faas: function "jsthrow" failed: Error: boom \(\S*index\.js:4\)/,
 qr/function "jsthrow"/,
 qr/stderr:\s+at exports\.handler \(\S*index\.js:4:\d+\)/]
--- no_error_log
[alert]



=== TEST 13: a rejected promise is a 502 too
--- request
GET /?fn=jsreject
--- error_code: 502
--- error_log eval
[qr/\[error\] .*faas: function "jsreject" failed: RangeError: rejected after 10 ms \(\S*index\.js:4\)/,
 qr/stderr: RangeError: rejected after 10 ms/]
--- no_error_log
[alert]



=== TEST 14: debug on: the stack is the body of the 502
--- request
GET /?fn=jsdebug
--- error_code: 502
--- response_headers
Content-Type: text/plain; charset=utf-8
--- response_body_like eval
qr/\AError: boom\n\s+at exports\.handler \(\S*index\.js:4:\d+\)\n/
--- no_error_log
[alert]



=== TEST 15: a syntax error is a 502 naming the file and the line
--- request
GET /?fn=jssyntax
--- error_code: 502
--- error_log eval
qr/\[error\] .*function "jssyntax" .*SyntaxError: Unexpected token '\}' \(\S*index\.js:3\)/
--- no_error_log
[alert]



=== TEST 16: a handler the file does not export is a 502 that says so
--- request
GET /?fn=jsnoexport
--- error_code: 502
--- error_log eval
qr/\[error\] .*function "jsnoexport" .*handler "index\.nope": module index has no export nope/
--- no_error_log
[alert]



=== TEST 17: a bad result: an unknown key is a 502 that says so
--- request
GET /?fn=jsbad&bad=key
--- error_code: 502
--- error_log eval
qr/\[error\] .*function "jsbad" failed: invalid result from "index\.handler": unknown key "stat"/
--- no_error_log
[alert]



=== TEST 18: a bad result: a status out of range is a 502 that says so
--- request
GET /?fn=jsbad&bad=status
--- error_code: 502
--- error_log eval
qr/\[error\] .*function "jsbad" failed: invalid result from "index\.handler": statusCode 99 is not in 200\.\.599/
--- no_error_log
[alert]



=== TEST 19: a bad result: headers that are not an object is a 502 that says so
--- request
GET /?fn=jsbad&bad=headers
--- error_code: 502
--- error_log eval
qr/\[error\] .*function "jsbad" failed: invalid result from "index\.handler": headers must be an object, not a string/
--- no_error_log
[alert]



=== TEST 20: a bad result: a header name that is not a token is a 502 that says so
--- request
GET /?fn=jsbad&bad=name
--- error_code: 502
--- error_log eval
qr/\[error\] .*function "jsbad" failed: invalid result from "index\.handler": header name "Bad Name" is not an HTTP token/
--- no_error_log
[alert]



=== TEST 21: a bad result: a header value with CR LF is a 502 that says so
--- request
GET /?fn=jsbad&bad=crlf
--- error_code: 502
--- error_log eval
qr/\[error\] .*function "jsbad" failed: invalid result from "index\.handler": header "X-A" contains CR, LF or NUL/
--- no_error_log
[alert]



=== TEST 22: a bad result: a body of the wrong type is a 502 that says so
--- request
GET /?fn=jsbad&bad=body
--- error_code: 502
--- error_log eval
qr/\[error\] .*function "jsbad" failed: invalid result from "index\.handler": body must be a string or a Buffer, not a number/
--- no_error_log
[alert]



=== TEST 23: a bad result: a number as the result is a 502 that says so
--- request
GET /?fn=jsbad&bad=type
--- error_code: 502
--- error_log eval
qr/\[error\] .*function "jsbad" failed: invalid result from "index\.handler": a number is not a valid result/
--- no_error_log
[alert]



=== TEST 24: a bad result: a wrong Content-Length is a 502 that says so
--- request
GET /?fn=jsbad&bad=length
--- error_code: 502
--- error_log eval
qr/\[error\] .*function "jsbad" failed: invalid result from "index\.handler": Content-Length "5" does not match the body \(3 bytes\)/
--- no_error_log
[alert]



=== TEST 25: the initializer runs once per instance, with a context
--- request eval
["GET /?fn=jsinit", "GET /?fn=jsinit"]
--- response_headers eval
["X-Cold: 1", "X-Cold: 0"]
--- response_body eval
["inits=1 calls=1 init saw jsinit \"\" true\n",
 "inits=1 calls=2 init saw jsinit \"\" true\n"]
--- no_error_log
[error]



=== TEST 26: console.log and console.error lines reach the error log
--- request
GET /?fn=jsout
--- response_body
printed
--- error_log
function "jsout"
stdout: hello from stdout
stderr: hello from stderr
stdout: two
stdout: lines
--- no_error_log
[error]



=== TEST 27: the context: remaining time decreases, names and limits
--- request
GET /?fn=jsremaining
--- response_body_like eval
qr/\Afirst=(?:2[89]\d\d|3000) second=\d+ decreasing=true\nfunction=jsremaining instance=\d+ memory=\d+ version=true\n\z/
--- no_error_log
[error]



=== TEST 28: a function waiting past its timeout is a 504 at the timeout
--- request
GET /?fn=jssleep&ms=3000
--- error_code: 504
--- timeout: 5
--- error_log eval
qr/\[error\] .*function "jssleep" .*timed out/
--- no_error_log
[alert]



=== TEST 29: the timed-out instance was killed: the next call is cold
--- request
GET /?fn=jssleep&ms=10
--- response_headers
X-Cold: 1
--- response_body
slept 10
--- no_error_log
[error]
