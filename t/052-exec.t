# runtime exec: the handler is a program that speaks the instance protocol
# itself.  examples/exec/hello/handler is written from docs/protocol.md
# alone, without any code of ngx_faas.

use lib 't/lib';
use FaasTest;
use Test::Nginx::Socket 'no_plan';

our $HttpConfig = <<'_EOC_';
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function exechello {
        runtime exec;
        code $TEST_NGINX_FAAS_SRC/../../examples/exec/hello;
        handler handler;
    }

    # exits at once, before READY
    faas_function exectrue {
        runtime exec;
        code $TEST_NGINX_FAAS_SRC/../../examples/exec/hello;
        handler /bin/true;
    }
_EOC_

our $Config = <<'_EOC_';
    location / {
        add_header X-Cold $faas_cold_start always;
        faas_pass $arg_fn;
    }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;

    if (!defined $block->http_config) {
        $block->set_value('http_config', $HttpConfig);
    }
});

no_shuffle();
no_root_location();
run_tests();

__DATA__

=== TEST 1: hello from a program of its own, cold then warm
--- config eval: $main::Config
--- request eval
["GET /?fn=exechello", "GET /?fn=exechello"]
--- response_headers eval
["Content-Type: text/plain\nX-Cold: 1", "Content-Type: text/plain\nX-Cold: 0"]
--- response_body eval
["Hello from exec, world! GET /, 0 body bytes\n",
 "Hello from exec, world! GET /, 0 body bytes\n"]
--- no_error_log
[error]
[alert]



=== TEST 2: the program reads the request body
--- config eval: $main::Config
--- request
POST /?fn=exechello
hello, exec
--- response_body
Hello from exec, world! POST /, 11 body bytes
--- no_error_log
[error]



=== TEST 3: a program that exits at once is a 502
--- config eval: $main::Config
--- request
GET /?fn=exectrue
--- error_code: 502
--- error_log eval
qr/\[error\] .*faas: function "exectrue" failed/
--- no_error_log
[alert]
