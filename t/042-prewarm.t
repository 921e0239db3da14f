# prewarm N: the supervisor keeps N instances ready and idle beyond the
# busy ones, from registration on; a first call served by one of them is
# no cold start ($faas_prewarmed 1, $faas_cold_start 0) and the pool
# refills behind it.
#
# Process checks run in "--- init", after nginx has started and before the
# block's requests, as in 040-capacity.t.

use lib 't/lib';
use FaasTest;
use Test::Nginx::Socket 'no_plan';

our $HttpConfig = <<'_EOC_';
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function pool {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/hello;
        handler handle;
        idle_timeout 300ms;
        max_instances 4;
        prewarm 1;
    }

    faas_function counted {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/hello;
        handler handle;
        prewarm 1;
    }

    faas_function cold {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/hello;
        handler handle;
    }
_EOC_

our $Config = <<'_EOC_';
    location / {
        add_header X-Cold $faas_cold_start always;
        add_header X-Prewarmed $faas_prewarmed always;
        add_header X-Instance $faas_instance always;
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
});

# waits until the pool of fn holds n ready instances and none starts
sub pool_ready {
    my ($fn, $n) = @_;

    FaasTest::faas_wait_for(sub {
        my $s = FaasTest::faas_function_status($fn);
        $s && $s->{instances}{prewarmed} == $n
           && $s->{instances}{starting} == 0
    }, 5, 0.05);
}

no_shuffle();
no_root_location();
run_tests();

__DATA__

=== TEST 1: prewarm 1: an instance before any call, served from the pool, refilled
--- config eval: $main::Config
--- init
my $one = FaasTest::faas_wait_for(sub {
    FaasTest::faas_instances('pool') == 1
}, 5);
Test::More::ok($one, "TEST 1: one instance right after start, no call");
Test::More::ok(main::pool_ready('pool', 1), "TEST 1: it is ready");
my @pool = FaasTest::faas_instances('pool');
my ($st, $h, $body) = FaasTest::faas_http(GET => '/?fn=pool');
Test::More::is($st, 200, "TEST 1: the first call succeeds");
Test::More::is($h->{'x-prewarmed'}, 1, "TEST 1: served from the pool");
Test::More::is($h->{'x-cold'}, 0, "TEST 1: it did not wait for a process");
my $two = FaasTest::faas_wait_for(sub {
    my @now = FaasTest::faas_instances('pool');
    @now == 2 && (grep { $_ == $pool[0] } @now)
}, 5);
Test::More::ok($two, "TEST 1: the pool refills: the served one and a new one");
Test::More::ok(main::pool_ready('pool', 1), "TEST 1: the new one is ready");
my $s = FaasTest::faas_function_status('pool') // {};
Test::More::is($s->{instances}{idle}, 1, "TEST 1: the served one is idle");
# the served instance is beyond the pool: idle_timeout reaps it
my $reaped = FaasTest::faas_wait_for(sub {
    my @now = FaasTest::faas_instances('pool');
    @now == 1 && $now[0] != $pool[0]
}, 5, 0.05);
Test::More::ok($reaped, "TEST 1: the served one is reaped, the pool stays");
Time::HiRes::sleep(0.6);
Test::More::is(scalar FaasTest::faas_instances('pool'), 1,
               "TEST 1: the pool instance outlives idle_timeout");
--- request
GET /?fn=pool
--- response_headers
X-Prewarmed: 1
X-Cold: 0
--- response_body
Hello, world!
--- no_error_log
[error]



=== TEST 2: a killed pool instance is replaced
--- config eval: $main::Config
--- init
Test::More::ok(main::pool_ready('counted', 1), "TEST 2: the pool is ready");
# the instances of TEST 1's nginx, which unregistered, may still be exiting
Test::More::ok(FaasTest::faas_wait_for(sub {
    FaasTest::faas_instances('counted') == 1
}, 5), "TEST 2: one instance");
my @before = FaasTest::faas_instances('counted');
kill 'KILL', $before[0];
my $back = FaasTest::faas_wait_for(sub {
    my @now = FaasTest::faas_instances('counted');
    @now == 1 && $now[0] != $before[0]
}, 5);
Test::More::ok($back, "TEST 2: a new instance replaces it");
Test::More::ok(main::pool_ready('counted', 1), "TEST 2: and it is ready");
--- request
GET /?fn=counted
--- response_headers
X-Prewarmed: 1
X-Cold: 0
--- response_body
Hello, world!
--- no_error_log
[error]



=== TEST 3: faas_status counts the pool and the call served from it
--- config eval: $main::Config
--- init
Test::More::ok(main::pool_ready('counted', 1), "TEST 3: the pool is ready");
# the supervisor still holds TEST 2's counters (same versions): deltas
my $s0 = FaasTest::faas_function_status('counted') // {};
my ($st, $h) = FaasTest::faas_http(GET => '/?fn=counted');
Test::More::is($h->{'x-prewarmed'}, 1, "TEST 3: served from the pool");
# instances served in TEST 2 outlive that nginx (the retire grace) and,
# idle and loaded, count toward the pool: ready is prewarmed or idle
Test::More::ok(FaasTest::faas_wait_for(sub {
    my $s = FaasTest::faas_function_status('counted');
    $s && $s->{instances}{prewarmed} + $s->{instances}{idle} >= 1
       && $s->{instances}{starting} == 0
}, 5, 0.05), "TEST 3: the pool is full again");
my $s1 = FaasTest::faas_function_status('counted') // {};
Test::More::is($s1->{prewarm_hits} - $s0->{prewarm_hits}, 1,
               "TEST 3: one more prewarm hit");
Test::More::is($s1->{calls} - $s0->{calls}, 1, "TEST 3: one more call");
Test::More::is($s1->{cold_starts} - $s0->{cold_starts}, 0,
               "TEST 3: a call from the pool is no cold start");
Test::More::cmp_ok($s1->{instances}{idle}, '>=', 1,
                   "TEST 3: served ones are plain idle");
Test::More::is($s1->{instances}{busy}, 0, "TEST 3: none busy");
--- request
GET /status?format=prometheus
--- response_body_like eval
qr/^(?=.*# TYPE faas_prewarm_hits_total counter\n)(?=.*\nfaas_prewarm_hits_total\{function="counted",version="[^"]+"\} [1-9]\d*\n)(?=.*\nfaas_instances\{function="counted",version="[^"]+",state="prewarmed"\} \d+\n)/s
--- no_error_log
[error]



=== TEST 4: without prewarm the first call is a cold start
--- config eval: $main::Config
--- request
GET /?fn=cold
--- response_headers
X-Prewarmed: 0
X-Cold: 1
--- response_body
Hello, world!
--- no_error_log
[error]



=== TEST 5: prewarm above max_instances fails at nginx -t
--- http_config
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function big {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/hello;
        max_instances 2;
        prewarm 3;
    }
--- config
    location / {
        faas_pass big;
    }
--- must_die
--- error_log eval
["[emerg]", qr/"prewarm" 3 is greater than "max_instances" 2 in \S+nginx\.conf:\d+/]
