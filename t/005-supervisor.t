# nginx and the supervisor are separate processes: with the supervisor gone
# calls fail at once with a 503, and they work again soon after it is back.

use lib 't/lib';
use FaasTest;
use Test::Nginx::Socket 'no_plan';

our $HttpConfig = <<'_EOC_';
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function hello {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/hello;
        handler handle;
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
run_tests();

__DATA__

=== TEST 1: calls work while the supervisor runs
--- config
    location = /hello {
        faas_connect_timeout 1s;
        faas_pass hello;
    }
--- request
GET /hello
--- response_body
Hello, world!
--- no_error_log
[error]



=== TEST 2: supervisor stopped: 503 at once, never a hang
--- init
FaasTest::faas_stop_supervisor();
my $t0 = Time::HiRes::time();
my ($status) = FaasTest::faas_http(GET => '/hello', timeout => 5);
my $took = Time::HiRes::time() - $t0;
Test::More::is($status, 503, "TEST 2: 503 without the supervisor");
Test::More::cmp_ok($took, '<', 1, "TEST 2: answered within the connect "
                   . "timeout");
--- request
GET /hello
--- error_code: 503
--- timeout: 2
--- no_error_log
[alert]
[crit]



=== TEST 3: supervisor started again: calls succeed within 2 s
--- init
FaasTest::faas_start_supervisor();
my $t0 = Time::HiRes::time();
my $ok = FaasTest::faas_wait_for(sub {
    my ($status) = FaasTest::faas_http(GET => '/hello', timeout => 2);
    return $status == 200;
}, 2, 0.05);
my $took = Time::HiRes::time() - $t0;
Test::More::ok($ok, "TEST 3: calls succeed again within 2 s");
Test::More::diag(sprintf "TEST 3: back after %.2f s", $took)
    if $ENV{TEST_NGINX_VERBOSE};
--- request
GET /hello
--- response_body
Hello, world!
--- no_error_log
[alert]
[crit]



=== TEST 4: a restart of nginx registers again with the running supervisor
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



=== TEST 5: calls that arrive while a new worker registers are not refused
--- config
    location = /hello {
        faas_pass hello;
    }
--- init
# right after nginx starts, the worker's REGISTER may still be on its way:
# its control connection is up, so the calls must be served, not refused
my @res = FaasTest::faas_http_parallel(20, '/hello', timeout => 10);
my @bad = grep { $_->[0] != 200 } @res;
Test::More::is(scalar @bad, 0, "TEST 5: 20 calls at startup all answered 200")
    or Test::More::diag(join "\n", map { $_->[0] } @bad);
--- request
GET /hello
--- response_body
Hello, world!
--- no_error_log
[error]
