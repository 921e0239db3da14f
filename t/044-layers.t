# Layered warm-up: with --pool, a cold start takes the deepest layer that
# is ready (a pooled runtime of the function's kind, else a pooled
# sandbox, else nothing), $faas_layer and faas_status say which, and the
# pools refill.  The pooled processes hold no function's code until taken,
# and the code they get is their function's only.

use lib 't/lib';
use FaasTest '--pool', 'sandbox=1', '--pool', 'c=1', '--pool', 'python3=1',
             '--pool', 'nodejs=1';
use Test::Nginx::Socket;

our $HttpConfig = <<'_EOC_';
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function chello {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/hello;
        handler handle;
    }

    faas_function pyhello {
        runtime python3;
        code $TEST_NGINX_FAAS_SRC/python/hello;
        handler main.handle;
    }

    faas_function jshello {
        runtime nodejs;
        code $TEST_NGINX_FAAS_SRC/nodejs/hello;
        handler index.handler;
    }

    # no pool for exec: a pooled sandbox becomes this program
    faas_function exechello {
        runtime exec;
        code $TEST_NGINX_FAAS_SRC/../../examples/exec/hello;
        handler handler;
    }

    # a network of its own is fixed at clone(): never from a pool
    faas_function netted {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/hello;
        handler handle;
        network on;
    }

    faas_function prewarmed {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/hello;
        handler handle;
        prewarm 1;
    }

    # refused whatever the layer: a pooled runtime is not given it either
    faas_function badcode {
        runtime c;
        code /proc/sys;
        handler handle;
    }

    faas_function escape {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/escape;
        handler read_code;
        env OTHER_CODE $TEST_NGINX_FUNCTIONS/hello;
    }
_EOC_

our $Config = <<'_EOC_';
    location / {
        add_header X-Layer $faas_layer always;
        add_header X-Cold $faas_cold_start always;
        faas_pass $arg_fn;
    }

    location = /status {
        faas_status;
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

# every pool full again
sub pools_ready {
    return FaasTest::faas_wait_for(sub {
        my $s = FaasTest::faas_status() or return 0;
        my $p = $s->{pools};
        $p->{sandbox}{ready} == 1 && $p->{c}{ready} == 1
            && $p->{python3}{ready} == 1 && $p->{nodejs}{ready} == 1
    }, 10, 0.05);
}

# the escape check (TEST 7) is the sandbox's; the pools work without it
FaasTest::faas_require_sandbox();
plan('no_plan');

no_shuffle();
no_root_location();
run_tests();

__DATA__

=== TEST 1: a C function starts from the pooled C runtime
--- init
Test::More::ok(main::pools_ready(), "TEST 1: the pools are full at start");
--- request
GET /?fn=chello
--- response_body
Hello, world!
--- response_headers
X-Layer: runtime
X-Cold: 1
--- no_error_log
[error]



=== TEST 2: then it is warm
--- request
GET /?fn=chello
--- response_body
Hello, world!
--- response_headers
X-Layer: warm
X-Cold: 0
--- no_error_log
[error]



=== TEST 3: a Python function starts from the pooled Python runtime
--- init
Test::More::ok(main::pools_ready(), "TEST 3: the pools refilled");
--- request
GET /?fn=pyhello
--- response_body_like: ^Hello
--- response_headers
X-Layer: runtime
X-Cold: 1
--- no_error_log
[error]



=== TEST 4: a Node.js function starts from the pooled Node.js runtime
--- init
Test::More::ok(main::pools_ready(), "TEST 4: the pools refilled");
--- request
GET /?fn=jshello
--- response_body_like: ^Hello
--- response_headers
X-Layer: runtime
X-Cold: 1
--- no_error_log
[error]



=== TEST 5: a runtime without a pool starts in a pooled sandbox
--- init
Test::More::ok(main::pools_ready(), "TEST 5: the pools refilled");
--- request
GET /?fn=exechello
--- response_body_like: ^Hello
--- response_headers
X-Layer: sandbox
X-Cold: 1
--- no_error_log
[error]



=== TEST 6: network on is never served from a pool
--- request
GET /?fn=netted
--- response_body
Hello, world!
--- response_headers
X-Layer: none
X-Cold: 1
--- no_error_log
[error]



=== TEST 7: the function's own prewarm pool is the top layer
--- init
FaasTest::faas_wait_for(sub {
    my $s = FaasTest::faas_status() or return 0;
    my ($f) = grep { $_->{name} eq 'prewarmed' } @{ $s->{functions} };
    $f && $f->{instances}{prewarmed} == 1
}, 10, 0.05);
--- request
GET /?fn=prewarmed
--- response_body
Hello, world!
--- response_headers
X-Layer: function
X-Cold: 0
--- no_error_log
[error]



=== TEST 8: code attached to a pooled runtime is the function's own only
--- init
Test::More::ok(main::pools_ready(), "TEST 8: the pools refilled");
--- request
GET /?fn=escape
--- response_body
own: ok other: ENOENT
--- response_headers
X-Layer: runtime
--- no_error_log
[error]



=== TEST 9: code below /proc is refused, from a pool too
--- init
Test::More::ok(main::pools_ready(), "TEST 9: the pools refilled");
--- request
GET /?fn=badcode
--- error_code: 502
--- error_log
sandbox: code dir below /dev, /proc or /sys /proc/sys: EINVAL



=== TEST 10: faas_status counts the layers and the pools refill
--- init
Test::More::ok(main::pools_ready(), "TEST 10: every pool is full again");
my $s = FaasTest::faas_status();
my %f = map { $_->{name} => $_ } @{ $s->{functions} };
Test::More::is($f{chello}{start_layers}{runtime}, 1, "TEST 10: chello: runtime");
Test::More::is($f{pyhello}{start_layers}{runtime}, 1, "TEST 10: pyhello: runtime");
Test::More::is($f{jshello}{start_layers}{runtime}, 1, "TEST 10: jshello: runtime");
Test::More::is($f{exechello}{start_layers}{sandbox}, 1, "TEST 10: exechello: sandbox");
Test::More::is($f{netted}{start_layers}{none}, 1, "TEST 10: netted: none");
Test::More::is($f{prewarmed}{start_layers}{function}, 1, "TEST 10: prewarmed: function");
Test::More::ok($s->{pools}{c}{taken} >= 3, "TEST 10: the C pool was taken three times");
Test::More::is($s->{pools}{sandbox}{taken}, 1, "TEST 10: the sandbox pool once");
--- request
GET /status?format=prometheus
--- response_body_like eval
qr/\nfaas_pool_ready\{pool="python3"\} 1\n.*\nfaas_pool_taken_total\{pool="sandbox"\} 1\n/s
--- no_error_log
[error]
