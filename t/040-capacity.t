# Capacity settings of a function: reserved instances (min_instances),
# recycling (max_requests) and the status of an overload (overload_status).
#
# Process checks run in "--- init", after nginx has started and before the
# block's requests, as in 004-lifecycle.t.

use lib 't/lib';
use FaasTest;
use Test::Nginx::Socket 'no_plan';

our $HttpConfig = <<'_EOC_';
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function reserved {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/hello;
        handler handle;
        idle_timeout 500ms;
        min_instances 2;
    }

    faas_function recycled {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/hello;
        handler handle;
        max_requests 3;
        max_instances 1;
    }

    faas_function slow {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/slow;
        handler handle;
        timeout 5s;
        max_instances 1;
        queue_size 2;
        queue_timeout 10s;
    }

    faas_function slow429 {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/slow;
        handler handle;
        timeout 5s;
        max_instances 1;
        queue_size 2;
        queue_timeout 100ms;
        overload_status 429;
    }

    faas_function timed {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/slow;
        handler handle;
        timeout 5s;
        max_instances 1;
        queue_size 4;
        queue_timeout 10s;
    }

    log_format faas_times 'fn=$faas_function cold=$faas_cold_start '
                          'queue=$faas_queue_time init=$faas_init_time '
                          'exec=$faas_exec_time';

    faas_function slow503 {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/slow;
        handler handle;
        timeout 5s;
        max_instances 1;
        queue_size 2;
        queue_timeout 100ms;
    }
_EOC_

our $Config = <<'_EOC_';
    location / {
        add_header X-Cold $faas_cold_start always;
        add_header X-Instance $faas_instance always;
        faas_read_timeout 30s;
        faas_pass $arg_fn;
    }

    location = /status {
        faas_status;
    }
_EOC_

our $TimeConfig = <<'_EOC_';
    location / {
        add_header X-Cold $faas_cold_start always;
        add_header X-Queue $faas_queue_time always;
        add_header X-Init $faas_init_time always;
        add_header X-Exec $faas_exec_time always;
        access_log logs/faas_times.log faas_times;
        faas_read_timeout 30s;
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

# waits for the function table to be registered by this nginx, and for
# the instance that call started to be idle
sub registered {
    my $fn = shift;

    FaasTest::faas_wait_for(sub {
        (FaasTest::faas_http(GET => "/?fn=$fn"))[0] == 200
    }, 3, 0.05);

    idle($fn);
}

# The client has its answer before the supervisor has read the instance's
# DONE: until then the instance is busy, and a call waits for it in the
# queue.  The status is answered after DONE is read.
sub idle {
    my $fn = shift;

    FaasTest::faas_wait_for(sub {
        my $f = FaasTest::faas_function_status($fn) or return 0;
        $f->{instances}{idle} == 1 && $f->{instances}{busy} == 0
    }, 3, 0.01);
}

no_shuffle();
no_root_location();
run_tests();

__DATA__

=== TEST 1: min_instances 2: two instances at start, after idle_timeout, and after a kill
--- config eval: $main::Config
--- init
my $two = FaasTest::faas_wait_for(sub {
    FaasTest::faas_instances('reserved') == 2
}, 5);
Test::More::ok($two, "TEST 1: two reserved instances right after start");
my @before = FaasTest::faas_instances('reserved');
Time::HiRes::sleep(1.5);
my @after = FaasTest::faas_instances('reserved');
Test::More::is("@after", "@before",
               "TEST 1: the same two instances after idle_timeout");
kill 'KILL', $before[0];
my $back = FaasTest::faas_wait_for(sub {
    my @now = FaasTest::faas_instances('reserved');
    @now == 2 && !grep { $_ == $before[0] } @now
}, 5);
Test::More::ok($back, "TEST 1: a killed reserved instance is replaced");
--- request
GET /?fn=reserved
--- response_headers
X-Cold: 0
--- response_body
Hello, world!
--- no_error_log
[error]



=== TEST 2: min_instances above max_instances fails at nginx -t
--- http_config
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function reserved {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/hello;
        min_instances 3;
        max_instances 2;
    }
--- config
    location = /r {
        faas_pass reserved;
    }
--- must_die
--- error_log eval
["[emerg]", qr/"min_instances" 3 is greater than "max_instances" 2 in \S+nginx\.conf:\d+/]



=== TEST 3: max_requests 3: three calls on one instance, the fourth on a new one, cold
--- config eval: $main::Config
--- init
my @res = map { [FaasTest::faas_http(GET => '/?fn=recycled')] } 1 .. 4;
my @st = map { $_->[0] } @res;
my @id = map { $_->[1]{'x-instance'} // '' } @res;
my @cold = map { $_->[1]{'x-cold'} // '' } @res;
Test::More::is("@st", "200 200 200 200", "TEST 3: four calls answered");
Test::More::is("@cold[0 .. 2]", "1 0 0", "TEST 3: one cold start, then warm");
Test::More::ok($id[0] ne '' && $id[1] eq $id[0] && $id[2] eq $id[0],
               "TEST 3: calls 1-3 on one instance (@id)");
Test::More::ok($id[3] ne '' && $id[3] ne $id[0],
               "TEST 3: call 4 on a new instance (@id)");
Test::More::is($cold[3], '1', "TEST 3: call 4 is a cold start");
--- request
GET /?fn=recycled
--- response_headers
X-Cold: 0
--- no_error_log
[error]



=== TEST 4: max_instances 1, queue_size 2: of 4 parallel calls 3 succeed, 1 gets 503
--- config eval: $main::Config
--- init
main::registered('slow');
my @res = FaasTest::faas_http_parallel(4, '/?fn=slow', timeout => 30);
my @ok = grep { $_->[0] == 200 } @res;
my @over = grep { $_->[0] == 503 } @res;
Test::More::is(scalar @ok, 3, "TEST 4: three calls succeed");
Test::More::is(scalar @over, 1, "TEST 4: one call is refused with 503");
Test::More::is($over[0][1]{'retry-after'}, '1',
               "TEST 4: the refusal has Retry-After") if @over;
--- request
GET /?fn=slow
--- response_body_like: ^slow pid=\d+$
--- error_log eval
qr/\[error\].*faas: function "slow".*queue full/



=== TEST 5: queue_timeout expiry answers 503 with Retry-After
--- config eval: $main::Config
--- init
main::registered('slow503');
my @res = FaasTest::faas_http_parallel(3, '/?fn=slow503', timeout => 30);
my @st = sort map { $_->[0] } @res;
Test::More::is("@st", "200 503 503",
               "TEST 5: one served, two timed out in the queue");
my @over = grep { $_->[0] == 503 } @res;
Test::More::is($over[0][1]{'retry-after'}, '1',
               "TEST 5: Retry-After on a queue timeout") if @over;
--- request
GET /?fn=slow503
--- response_body_like: ^slow pid=\d+$
--- error_log eval
qr/\[error\].*faas: function "slow503".*queue timeout after 100 ms/



=== TEST 6: overload_status 429 for a queue timeout
--- config eval: $main::Config
--- init
main::registered('slow429');
my @res = FaasTest::faas_http_parallel(3, '/?fn=slow429', timeout => 30);
my @st = sort map { $_->[0] } @res;
Test::More::is("@st", "200 429 429",
               "TEST 6: one served, two answered 429");
my @over = grep { $_->[0] == 429 } @res;
Test::More::is($over[0][1]{'retry-after'}, '1',
               "TEST 6: Retry-After with 429") if @over;
--- request
GET /?fn=slow429
--- response_body_like: ^slow pid=\d+$
--- error_log eval
qr/\[error\].*faas: function "slow429".*queue timeout after 100 ms/



=== TEST 7: overload_status takes 503 or 429 only
--- http_config
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function slow {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/slow;
        overload_status 500;
    }
--- config
    location = /s {
        faas_pass slow;
    }
--- must_die
--- error_log eval
["[emerg]", qr/invalid overload_status "500".* in \S+nginx\.conf:\d+/]



=== TEST 8: timing variables in add_header and log_format
--- config eval: $main::TimeConfig
--- init
my $t = qr/^\d+\.\d{3}$/;
my ($st, $h) = FaasTest::faas_http(GET => '/?fn=timed');
Test::More::is($st, 200, "TEST 8: a cold call");
Test::More::is($h->{'x-cold'}, '1', "TEST 8: it is cold");
Test::More::like($h->{'x-init'} // '', $t, "TEST 8: cold: init time set");
Test::More::like($h->{'x-queue'} // '', $t, "TEST 8: cold: queue time set");
# the function sleeps 300 ms before it answers; exec time counts from
# DISPATCH as the worker reads it, which a busy machine may delay past
# the moment the instance starts (the supervisor sends INVOKE after it)
Test::More::cmp_ok($h->{'x-exec'} // 0, '>=', 0.25,
                   "TEST 8: exec time covers the function's 300 ms");
Test::More::ok(main::idle('timed'), "TEST 8: the instance is idle");
($st, $h) = FaasTest::faas_http(GET => '/?fn=timed');
Test::More::is($h->{'x-cold'}, '0', "TEST 8: then warm");
Test::More::ok(!defined $h->{'x-init'}, "TEST 8: warm: no init time");
Test::More::is($h->{'x-queue'}, '0.000', "TEST 8: warm: no queue time");
# max_instances 1: the second of two parallel calls waits ~300 ms
my @res = FaasTest::faas_http_parallel(2, '/?fn=timed', timeout => 30);
my @q = sort { $a <=> $b } map { $_->[1]{'x-queue'} // -1 } @res;
Test::More::is("@{[map { $_->[0] } @res]}", "200 200",
               "TEST 8: two parallel calls served");
Test::More::cmp_ok($q[1], '>=', 0.2,
                   "TEST 8: the queued call reports its wait (@q)");
my $log = "$Test::Nginx::Util::ServRoot/logs/faas_times.log";
my @lines;
FaasTest::faas_wait_for(sub {
    open my $fh, '<', $log or return 0;
    @lines = grep { /fn=timed/ } <$fh>;
    @lines >= 4
}, 3);
Test::More::is(scalar @lines, 4, "TEST 8: four lines in the access log");
Test::More::like($lines[0] // '',
                 qr/cold=1 queue=\d+\.\d{3} init=\d+\.\d{3} exec=\d+\.\d{3}$/,
                 "TEST 8: log line of the cold call");
Test::More::like($lines[1] // '',
                 qr/cold=0 queue=0\.000 init=- exec=\d+\.\d{3}$/,
                 "TEST 8: log line of a warm call");
--- request
GET /?fn=timed
--- response_headers_like
X-Cold: 0
X-Queue: \d+\.\d{3}
X-Exec: \d+\.\d{3}
--- response_body_like: ^slow pid=\d+$
--- no_error_log
[error]
