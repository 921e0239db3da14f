# The sandbox layer for every runtime: with only --pool sandbox, a cold
# start of a C, Python or Node.js function execs its runtime in a pooled
# sandbox ($faas_layer "sandbox").  044-layers.t has the runtime layer and
# the start from nothing.

use lib 't/lib';
use FaasTest '--pool', 'sandbox=3';
use JSON::PP ();
use Test::Nginx::Socket;

our $HttpConfig = <<'_EOC_';
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function c {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/hello;
        handler handle;
    }

    faas_function py {
        runtime python3;
        code $TEST_NGINX_FAAS_SRC/python/hello;
        handler main.handle;
    }

    faas_function js {
        runtime nodejs;
        code $TEST_NGINX_FAAS_SRC/nodejs/hello;
        handler index.handler;
    }
_EOC_

our $Config = <<'_EOC_';
    location / {
        add_header X-Layer $faas_layer always;
        faas_pass $arg_fn;
    }

    location = /status {
        faas_status;
    }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value('http_config', $HttpConfig)
        if !defined $block->http_config;
    $block->set_value('config', $Config) if !defined $block->config;
});

sub sandboxes_ready {
    return FaasTest::faas_wait_for(sub {
        my ($st, $h, $body) = FaasTest::faas_http(GET => '/status');
        my $s = eval { JSON::PP::decode_json($body) } or return 0;
        $s->{pools}{sandbox}{ready} == 3
    }, 10, 0.05);
}

FaasTest::faas_require_sandbox();
plan('no_plan');

no_shuffle();
no_root_location();
run_tests();

__DATA__

=== TEST 1: C, Python and Node.js each start in a pooled sandbox
--- init
Test::More::ok(main::sandboxes_ready(), 'TEST 1: three sandboxes ready');
for my $fn (qw(c py js)) {
    my ($st, $h, $body) = FaasTest::faas_http(GET => "/?fn=$fn");
    Test::More::is($st, 200, "TEST 1: $fn answers");
    Test::More::like($body, qr/^Hello/, "TEST 1: $fn says hello");
    Test::More::is($h->{'x-layer'}, 'sandbox', "TEST 1: $fn from a sandbox");
}
--- request
GET /?fn=c
--- response_headers
X-Layer: warm
--- no_error_log
[error]
