# Bad input from clients: nginx's own limits answer it before a function
# is called, and what does reach a function is a whole, well-formed request
# however the client sent it (pipelined, half-closed, slowly).
#
# "Called" is read off nginx's debug log (Test::Nginx's default level):
# the module logs every REQUEST frame it builds for the supervisor, so a
# request that never reached a function has no such line.

use lib 't/lib';
use FaasTest;
use Test::Nginx::Socket 'no_plan';

our $HttpConfig = <<'_EOC_';
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function echo {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/echo;
        handler handle;
    }
_EOC_

our $Config = <<'_EOC_';
    large_client_header_buffers 4 1k;

    location /echo {
        client_max_body_size 1k;
        faas_pass echo;
    }
_EOC_

our $Called = qr/faas request: "\{"function":"echo"/;

add_block_preprocessor(sub {
    my $block = shift;

    if (!defined $block->http_config) {
        $block->set_value('http_config', $HttpConfig);
    }

    if (!defined $block->config) {
        $block->set_value('config', $Config);
    }
});

no_shuffle();
no_root_location();
run_tests();

__DATA__

=== TEST 1: a well-formed call reaches the function (the log check works)
--- request
POST /echo/ok?a=1
hello
--- response_body_like eval
qr{^method: POST\npath: /echo/ok\nquery: a=1\n(?:header: [^\n]+\n)+}
 . qr{body-length: 5\n\nhello\z}
--- error_code: 200
--- error_log eval
$main::Called
--- no_error_log
[error]



=== TEST 2: a header line over large_client_header_buffers: 400, no call
--- request
GET /echo/big
--- more_headers eval
"X-Big: " . ("a" x 2000)
--- error_code: 400
--- response_body_like: Request Header Or Cookie Too Large
--- no_error_log eval
[$main::Called, qr/\[(?:error|alert|crit)\]/]



=== TEST 3: a request line over large_client_header_buffers: 414, no call
--- request eval
"GET /echo/" . ("x" x 2000)
--- error_code: 414
--- no_error_log eval
[$main::Called, qr/\[(?:error|alert|crit)\]/]



=== TEST 4: a Content-Length over client_max_body_size: 413, no call
--- request eval
"POST /echo/body\n" . ("b" x 2048)
--- error_code: 413
--- error_log
client intended to send too large body
--- no_error_log eval
[$main::Called, qr/\[(?:alert|crit)\]/]



=== TEST 5: a chunked body over client_max_body_size: 413, no call
--- raw_request eval
"POST /echo/chunked HTTP/1.1\r
Host: localhost\r
Transfer-Encoding: chunked\r
Connection: close\r
\r
800\r
" . ("c" x 2048) . "\r
0\r
\r
"
--- error_code: 413
--- error_log
client intended to send too large chunked body
--- no_error_log eval
[$main::Called, qr/\[(?:alert|crit)\]/]



=== TEST 6: an invalid method: 400, no call
--- raw_request eval
"G\@T /echo/m HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
--- error_code: 400
--- no_error_log eval
[$main::Called, qr/\[(?:error|alert|crit)\]/]



=== TEST 7: a malformed header line: 400, no call
--- raw_request eval
"GET /echo/h HTTP/1.1\r\nHost: localhost\r\nBad\x01Header: x\r\n"
. "Connection: close\r\n\r\n"
--- error_code: 400
--- no_error_log eval
[$main::Called, qr/\[(?:alert|crit)\]/]



=== TEST 8: pipelined requests on one connection are all answered, in order
--- pipelined_requests eval
["GET /echo/1", "POST /echo/2\nsecond", "GET /echo/3?x=y"]
--- response_body_like eval
[qr{^method: GET\npath: /echo/1\n.*body-length: 0\n\n$}s,
 qr{^method: POST\npath: /echo/2\n.*body-length: 6\n\nsecond$}s,
 qr{^method: GET\npath: /echo/3\nquery: x=y\n.*body-length: 0\n\n$}s]
--- error_code eval
[200, 200, 200]
--- no_error_log
[error]



=== TEST 9: faas_ignore_client_abort on: a half-closed client is answered
--- config
    location /echo {
        faas_ignore_client_abort on;
        faas_pass echo;
    }
--- raw_request eval
"POST /echo/half HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4\r\n"
. "Connection: close\r\n\r\nhalf"
--- shutdown: 1
--- response_body_like eval
qr{^method: POST\npath: /echo/half\n.*body-length: 4\n\nhalf\z}s
--- error_code: 200
--- no_error_log
[error]



=== TEST 10: by default a half-close is a client abort (499), as in proxy
--- raw_request eval
"POST /echo/half HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4\r\n"
. "Connection: close\r\n\r\nhalf"
--- shutdown: 1
--- ignore_response
--- error_log
client prematurely closed connection
--- no_error_log
[error]



=== TEST 11: a slow client, head and body in pieces, gets the whole body through
--- raw_request eval
["POST /echo/slow HTTP/1.1\r\nHo", "st: localhost\r\nContent-Len",
 "gth: 16\r\nConnection: close\r\n\r\n", "slow", "ly ", "sent", " body"]
--- raw_request_middle_delay: 0.15
--- response_body_like eval
qr{^method: POST\npath: /echo/slow\n.*body-length: 16\n\nslowly sent body\z}s
--- error_code: 200
--- no_error_log
[error]



=== TEST 12: a slow chunked body, a chunk at a time
--- raw_request eval
["POST /echo/slowchunks HTTP/1.1\r\nHost: localhost\r\n"
 . "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
 "3\r\nabc\r\n", "4\r\n", "defg\r\n", "0\r\n\r\n"]
--- raw_request_middle_delay: 0.15
--- response_body_like eval
qr{^method: POST\npath: /echo/slowchunks\n.*body-length: 7\n\nabcdefg\z}s
--- error_code: 200
--- no_error_log
[error]



=== TEST 13: a client that sends less body than announced and closes: no call
--- raw_request eval
"POST /echo/short HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n"
. "Connection: close\r\n\r\nonly this"
--- shutdown: 1
--- ignore_response
--- error_log
client prematurely closed connection
--- no_error_log eval
[$main::Called, qr/\[(?:alert|crit)\]/]
