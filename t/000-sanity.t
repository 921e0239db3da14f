# The basic path: a function answers through nginx, sees the request as
# sent, its status and headers reach the client, and the faas variables say
# which instance served and whether the call was cold.

use lib 't/lib';
use FaasTest;
use Test::Nginx::Socket 'no_plan';

our $HttpConfig = <<'_EOC_';
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function hello {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/hello;
        handler handle;
        timeout 3s;
        idle_timeout 60s;
        max_instances 8;
        queue_size 64;
        queue_timeout 10s;
    }

    faas_function greet {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/hello;
        handler handle;
        env GREETING hi;
    }

    faas_function echo {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/echo;
        handler handle;
    }

    faas_function status {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/status;
        handler handle;
    }

    # only TEST 7 calls it, so that its first call is cold whatever ran
    # before in this file
    faas_function pid {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/pid;
        handler handle;
    }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;

    if (!defined $block->http_config) {
        $block->set_value('http_config', $HttpConfig);
    }
});

# TEST 8 talks to the nginx that TEST 7 started
no_shuffle();
run_tests();

__DATA__

=== TEST 1: hello answers through nginx
--- config
    location = /hello {
        faas_pass hello;
    }
--- request
GET /hello
--- response_body
Hello, world!
--- no_error_log
[error]
[alert]



=== TEST 2: env from faas_function reaches the function
--- config
    location = /greet {
        faas_pass greet;
    }
--- request
GET /greet
--- response_body
hi, world!
--- no_error_log
[error]



=== TEST 3: echo sees method, path, query and headers
--- config
    location /echo {
        faas_pass echo;
    }
--- more_headers
X-Foo: bar
X-Empty:
--- request
GET /echo/sub?a=1&b=two
--- response_body_like eval
qr{\A method:\ GET \n path:\ /echo/sub \n query:\ a=1&b=two \n
   (?:header:\ .*\n)*? header:\ X-Foo:\ bar \n (?:header:\ .*\n)*
   body-length:\ 0 \n\n \z}x
--- no_error_log
[error]



=== TEST 4: echo sees a POST body
--- config
    location /echo {
        faas_pass echo;
    }
--- more_headers
Content-Type: text/plain
--- request
POST /echo?x=y
hello, body
--- response_body_like eval
qr{\A method:\ POST \n path:\ /echo \n query:\ x=y \n
   (?:header:\ .*\n)*? header:\ Content-Type:\ text/plain \n
   (?:header:\ .*\n)* body-length:\ 11 \n\n hello,\ body \z}x
--- no_error_log
[error]



=== TEST 5: status code, custom headers and two Set-Cookie reach the client
--- config
    location = /status {
        faas_pass status;
    }
--- request
GET /status?code=201
--- error_code: 201
--- response_headers
X-Faas-Test: yes
--- raw_response_headers_like eval
qr/\r\nSet-Cookie: [^\r\n]+\r\n(?:.*\r\n)*?Set-Cookie: [^\r\n]+\r\n/s
--- no_error_log
[error]



=== TEST 6: a 404 from the function is passed on as is
--- config
    location = /status {
        faas_pass status;
    }
--- request
GET /status?code=404
--- error_code: 404
--- response_headers
X-Faas-Test: yes
--- no_error_log
[error]



=== TEST 7: first call cold, second warm on the same instance
--- config
    location = /pid {
        add_header X-Function $faas_function always;
        add_header X-Cold $faas_cold_start always;
        add_header X-Instance $faas_instance always;
        add_header X-Request-Id $faas_request_id always;
        faas_pass pid;
    }
--- request eval
["GET /pid", "GET /pid"]
--- response_headers_like eval
["X-Function: pid\nX-Cold: 1\nX-Instance: \\d+\nX-Request-Id: [0-9a-f]{16,}",
 "X-Function: pid\nX-Cold: 0\nX-Instance: \\d+\nX-Request-Id: [0-9a-f]{16,}"]
--- response_body_like eval
["^pid=\\d+ calls=1\n\\z", "^pid=\\d+ calls=2\n\\z"]
--- no_error_log
[error]



=== TEST 8: warm calls keep the instance id, request ids differ
--- init
my ($s1, $h1) = FaasTest::faas_http(GET => '/pid');
my ($s2, $h2) = FaasTest::faas_http(GET => '/pid');
Test::More::is("$s1 $s2", "200 200", "TEST 8: both calls succeed");
Test::More::is($h2->{'x-instance'}, $h1->{'x-instance'},
               "TEST 8: same instance id on warm calls");
Test::More::is("$h1->{'x-cold'}$h2->{'x-cold'}", "00",
               "TEST 8: both calls warm");
Test::More::isnt($h2->{'x-request-id'}, $h1->{'x-request-id'},
                 "TEST 8: request ids differ");
--- request
GET /pid
--- response_headers
X-Cold: 0
--- response_body_like: ^pid=\d+ calls=5$
--- no_error_log
[error]



=== TEST 9: faas_pass with a variable: a known name
--- config
    location = /fn {
        faas_pass $arg_fn;
    }
--- request
GET /fn?fn=hello
--- response_body
Hello, world!
--- no_error_log
[error]



=== TEST 10: faas_pass with a variable: an unknown name is a 404
--- config
    location = /fn {
        faas_pass $arg_fn;
    }
--- request
GET /fn?fn=nope
--- error_code: 404
--- no_error_log
[alert]
[crit]
