# Instances come and go: scale to zero after idle_timeout, cold again after
# that, and max_instances holds under load while the queue absorbs the rest.
#
# The process checks run in "--- init" (Perl run after nginx has started,
# before the block's requests), which the real Test::Nginx has as well.

use lib 't/lib';
use FaasTest;
use Test::Nginx::Socket 'no_plan';

our $HttpConfig = <<'_EOC_';
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function idle {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/hello;
        handler handle;
        idle_timeout 1s;
    }

    faas_function slow {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/slow;
        handler handle;
        timeout 5s;
        idle_timeout 60s;
        max_instances 2;
        queue_size 100;
        queue_timeout 30s;
    }
_EOC_

our $Config = <<'_EOC_';
    location / {
        add_header X-Cold $faas_cold_start always;
        add_header X-Instance $faas_instance always;
        faas_read_timeout 30s;
        faas_pass $arg_fn;
    }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;

    if (!defined $block->http_config) {
        $block->set_value('http_config', $HttpConfig);
    }
});

# 50 clients and their 50 connections to the supervisor
worker_connections(1024);

# blocks without --- config reuse the previous block's nginx
no_shuffle();
no_root_location();
run_tests();

__DATA__

=== TEST 1: the first call starts an instance
--- config eval: $main::Config
--- request
GET /?fn=idle
--- response_headers
X-Cold: 1
--- response_body
Hello, world!
--- no_error_log
[error]



=== TEST 2: the instance stays while calls keep coming
--- init
my @pids = FaasTest::faas_instances('idle');
Test::More::is(scalar @pids, 1, "TEST 2: one live instance after a call");
--- request
GET /?fn=idle
--- response_headers
X-Cold: 0
--- no_error_log
[error]



=== TEST 3: idle for idle_timeout, the instance goes away; the next call is cold
--- init
my $t0 = Time::HiRes::time();
my @before = FaasTest::faas_instances('idle');
my $pid = $before[0] // 0;
# gone means exited and reaped: a zombie still answers kill 0
my $gone = FaasTest::faas_wait_for(sub {
    !FaasTest::faas_instances('idle') && !kill(0, $pid)
}, 3);
my $took = Time::HiRes::time() - $t0;
Test::More::is(scalar @before, 1, "TEST 3: an instance right after the call");
Test::More::ok($gone, "TEST 3: the instance has exited within 3 s");
Test::More::cmp_ok($took, '>=', 0.5, "TEST 3: not before idle_timeout");
--- request
GET /?fn=idle
--- response_headers
X-Cold: 1
--- response_body
Hello, world!
--- no_error_log
[error]
[alert]



=== TEST 4: 50 parallel calls, max_instances 2: all served, at most 2 at once
--- config eval: $main::Config
--- init
# one call first, so that the load below starts once this freshly started
# nginx has registered its functions (see 000-sanity.t for that race)
FaasTest::faas_wait_for(sub {
    (FaasTest::faas_http(GET => '/?fn=slow'))[0] == 200
}, 3, 0.05);
my $max = 0;
my @res = FaasTest::faas_http_parallel(50, '/?fn=slow', timeout => 60,
    on_tick => sub {
        my $n = () = FaasTest::faas_instances('slow');
        $max = $n if $n > $max;
    });
my @bad = grep { $_->[0] != 200 } @res;
Test::More::is(scalar @bad, 0, "TEST 4: all 50 calls answered 200")
    or Test::More::diag(join "\n", map { "$_->[0] $_->[2]" } @bad[0 .. 4]);
Test::More::cmp_ok($max, '<=', 2, "TEST 4: never more than 2 instances");
Test::More::cmp_ok($max, '>=', 1, "TEST 4: instances were seen");
my %inst = map { $_->[1]{'x-instance'} => 1 }
           grep { defined $_->[1]{'x-instance'} } @res;
Test::More::cmp_ok(scalar keys %inst, '<=', 2,
                   "TEST 4: at most 2 instance ids served the calls");
--- request
GET /?fn=slow
--- response_headers
X-Cold: 0
--- no_error_log
[error]
[alert]
