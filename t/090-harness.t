# The test scaffold itself, against plain nginx (no faas module): the
# request and check sections the faas suites rely on.  Under the real
# Test::Nginx this file passes unchanged as well.

use lib 't/lib';
use FaasTest 'nginx_only';
use Test::Nginx::Socket;

plan tests => 49;

no_shuffle();
run_tests();

__DATA__

=== TEST 1: status, body, headers, no errors
--- config
    location = /t {
        add_header X-Arg $arg_a;
        return 200 "hello $arg_a\n";
    }
--- request
GET /t?a=1
--- response_headers
X-Arg: 1
!X-None
--- response_body
hello 1
--- no_error_log
[error]
[alert]



=== TEST 2: more_headers reach nginx, Host and Connection are added
--- config
    location = /t {
        return 200 "$http_x_foo|$host|$http_connection\n";
    }
--- more_headers
X-Foo: bar
--- request
GET /t
--- response_body
bar|localhost|close
--- no_error_log
[error]



=== TEST 3: a POST body gets a Content-Length of its trimmed size
--- config
    location = /t {
        return 200 "$http_content_length\n";
    }
--- request
POST /t
hello world
--- response_body
11
--- no_error_log
[error]



=== TEST 4: several requests in one block, checks as arrays
--- config
    location = /t {
        return 200 "a=$arg_a\n";
    }
--- request eval
["GET /t?a=1", "GET /t?a=2"]
--- response_body eval
["a=1\n", "a=2\n"]
--- error_code eval
[200, 200]
--- no_error_log
[error]



=== TEST 5: pipelined requests on one connection
--- config
    location = /t {
        return 200 "a=$arg_a\n";
    }
--- pipelined_requests eval
["GET /t?a=1", "GET /t?a=2"]
--- response_body eval
["a=1\n", "a=2\n"]
--- no_error_log
[error]



=== TEST 6: a chunked response is decoded
--- config
    location = /t {
        ssi on;
        alias $TEST_NGINX_SERVER_ROOT/html/index.html;
        default_type text/html;
    }
--- request
GET /t
--- response_headers
Transfer-Encoding: chunked
--- response_body_like: It works!
--- no_error_log
[error]



=== TEST 7: a chunked request body
--- config
    location = /t {
        return 200 "$http_transfer_encoding\n";
    }
--- more_headers
Transfer-Encoding: chunked
--- request eval
"POST /t
5\r
hello\r
0\r
\r
"
--- response_body
chunked
--- no_error_log
[error]



=== TEST 8: error_log and error_code
--- config
--- request
GET /missing.html
--- error_code: 404
--- error_log eval
qr/\[error\] .*open\(\) ".*missing\.html" failed/
--- no_error_log
[alert]



=== TEST 9: raw_request
--- config
    location = /t {
        return 200 "$request_method $uri\n";
    }
--- raw_request eval
"PUT /t HTTP/1.0\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n"
--- response_body
PUT /t
--- no_error_log
[error]



=== TEST 10: a block without config talks to the previous block's nginx
--- request
GET /t
--- response_body
GET /t
--- no_error_log
[error]



=== TEST 11: response_headers_like and error_code_like
--- config
    location = /t {
        return 418;
    }
--- request
GET /t
--- error_code_like: ^4\d\d$
--- response_headers_like
Server: nginx.*
--- no_error_log
[error]



=== TEST 12: must_die sees nginx's [emerg] line
--- config
    location = /t {
        no_such_directive;
    }
--- must_die
--- error_log
[emerg]
unknown directive "no_such_directive"



=== TEST 13: response_body_filters and TEST_NGINX_ variables
--- main_config
env TEST_NGINX_SERVER_PORT;
--- config
    location = /t {
        return 200 "port $TEST_NGINX_SERVER_PORT";
    }
--- request
GET /t
--- response_body_filters
uc
--- response_body_like: ^PORT \d+$
--- no_error_log
[error]
