# concurrency N: one instance serves up to N calls at once, in every
# runtime (threads in C and Python, the event loop in Node.js).  Proof of
# overlap is the status endpoint seeing N calls in flight on one busy
# instance while the calls wait, not a timing.

use lib 't/lib';
use FaasTest;
use Test::Nginx::Socket 'no_plan';

our $HttpConfig = <<'_EOC_';
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function csleep {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/sleep;
        handler handle;
        concurrency 4;
        max_instances 1;
        timeout 10s;
    }

    faas_function cwide {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/overlap;
        handler handle;
        concurrency 4;
        max_instances 1;
        timeout 10s;
    }

    faas_function cone {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/overlap;
        handler handle;
        concurrency 4;
        threads 1;
        max_instances 1;
        timeout 10s;
    }

    faas_function pysleep {
        runtime python3;
        code $TEST_NGINX_FAAS_SRC/python/sleep;
        handler main.handle;
        concurrency 4;
        max_instances 1;
        timeout 10s;
    }

    faas_function pyasync {
        runtime python3;
        code $TEST_NGINX_FAAS_SRC/python/async;
        handler main.handle;
        initializer main.init;
        concurrency 4;
        max_instances 1;
    }

    faas_function jssleep {
        runtime nodejs;
        code $TEST_NGINX_FAAS_SRC/nodejs/sleep;
        handler index.handler;
        concurrency 4;
        max_instances 1;
        timeout 10s;
    }

    faas_function burst {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/sleep;
        handler handle;
        concurrency 4;
        max_instances 4;
        timeout 10s;
    }

    faas_function timeout2 {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/sleep;
        handler handle;
        concurrency 2;
        max_instances 1;
        timeout 1s;
    }

    faas_function serial {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/sleep;
        handler handle;
        max_instances 1;
        queue_size 4;
        timeout 10s;
    }
_EOC_

our $Config = <<'_EOC_';
    location / {
        add_header X-Instance $faas_instance always;
        add_header X-Cold $faas_cold_start always;
        faas_read_timeout 30s;
        faas_pass $arg_fn;
    }

    # the supervisor's own timeout handling (054 has the direct calls')
    location /sup {
        add_header X-Instance $faas_instance always;
        add_header X-Cold $faas_cold_start always;
        faas_direct_calls off;
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


# $n parallel calls of $uri; returns (the results, the most calls the
# status saw in flight at once, and the busy instances then)
sub overlapped {
    my ($n, $fn, $uri) = @_;
    my ($most, $busy) = (0, 0);

    my @res = FaasTest::faas_http_parallel($n, $uri, timeout => 30,
        on_tick => sub {
            return if $most >= $n;
            my $s = FaasTest::faas_function_status($fn) or return;
            if ($s->{in_flight} > $most) {
                $most = $s->{in_flight};
                $busy = $s->{instances}{busy};
            }
        });

    return (\@res, $most, $busy);
}


sub check_overlap {
    my ($t, $fn, $uri, $body) = @_;

    FaasTest::faas_wait_for(sub {
        my $s = FaasTest::faas_function_status($fn);
        return $s && $s->{concurrency} == 4;
    }, 5, 0.05);

    my ($res, $most, $busy) = overlapped(4, $fn, $uri);
    my @st = map { $_->[0] } @$res;
    my %inst = map { ($_->[1]{'x-instance'} // '') => 1 } @$res;
    my @bodies = grep { $_->[2] eq $body } @$res;

    Test::More::is("@st", '200 200 200 200', "$t: four calls answered");
    Test::More::is(scalar @bodies, 4, "$t: each with its own body")
        or Test::More::diag(join ' | ', map { $_->[2] } @$res);
    Test::More::is(join(',', keys %inst) =~ /^\d+$/ ? 1 : 0, 1,
                   "$t: all on one instance (" . join(',', keys %inst)
                   . ")");
    Test::More::is($most, 4, "$t: four calls in flight at once");
    Test::More::is($busy, 1, "$t: on one busy instance");
}

no_shuffle();
no_root_location();
run_tests();

__DATA__

=== TEST 1: C, concurrency 4: four calls at once on one instance, from cold
--- config eval: $main::Config
--- init
main::check_overlap('TEST 1', 'csleep', '/?fn=csleep&ms=1500', "slept 1500\n");
my $s = FaasTest::faas_function_status('csleep');
Test::More::is($s->{cold_starts}, 1, 'TEST 1: one cold start for four calls');
# a runtime sends DONE after the response is out: the client may be first
Test::More::ok(FaasTest::faas_wait_for(sub {
    my $s = FaasTest::faas_function_status('csleep');
    $s && $s->{in_flight} == 0
}, 5, 0.02), 'TEST 1: none in flight after');
--- request
GET /?fn=csleep&ms=1
--- response_body
slept 1
--- no_error_log
[error]
[alert]



=== TEST 2: Python threads, concurrency 4: four calls at once on one instance
--- config eval: $main::Config
--- init
main::check_overlap('TEST 2', 'pysleep', '/?fn=pysleep&s=1.5', "slept\n");
--- request
GET /?fn=pysleep&s=0
--- response_body
slept
--- no_error_log
[error]
[alert]



=== TEST 3: Python async handler, concurrency 4: one event loop, shared with the initializer
--- config eval: $main::Config
--- init
FaasTest::faas_http(GET => '/?fn=pyasync');
my ($res) = main::overlapped(8, 'pyasync', '/?fn=pyasync');
my @st = map { $_->[0] } @$res;
my @same = grep { $_->[2] eq "async / same-loop=True\n" } @$res;
Test::More::is("@st", join(' ', (200) x 8), 'TEST 3: eight calls answered');
Test::More::is(scalar @same, 8, 'TEST 3: all on the initializer\'s loop')
    or Test::More::diag(join ' | ', map { $_->[2] } @$res);
--- request
GET /?fn=pyasync
--- response_body
async / same-loop=True
--- no_error_log
[error]
[alert]



=== TEST 4: Node.js, concurrency 4: four calls at once on one event loop
--- config eval: $main::Config
--- init
main::check_overlap('TEST 4', 'jssleep', '/?fn=jssleep&ms=1500',
                    "slept 1500\n");
--- request
GET /?fn=jssleep&ms=1
--- response_body
slept 1
--- no_error_log
[error]
[alert]



=== TEST 5: a cold burst of 8 calls, concurrency 4: two instances start, not eight
--- config eval: $main::Config
--- init
my ($res) = main::overlapped(8, 'burst', '/?fn=burst&ms=1000');
my @st = map { $_->[0] } @$res;
my %inst = map { ($_->[1]{'x-instance'} // '') => 1 } @$res;
Test::More::is("@st", join(' ', (200) x 8), 'TEST 5: eight calls answered');
Test::More::cmp_ok(scalar keys %inst, '<=', 2,
                   'TEST 5: on at most two instances ('
                   . join(',', sort keys %inst) . ')');
Test::More::cmp_ok(FaasTest::faas_function_status('burst')->{cold_starts},
                   '<=', 2, 'TEST 5: at most two cold starts');
--- request
GET /?fn=burst&ms=1
--- response_body
slept 1
--- no_error_log
[alert]



=== TEST 6: a call times out beside another in the supervisor's hands: 504 for it, 200 for the other, then a new instance
--- config eval: $main::Config
--- init
FaasTest::faas_http(GET => '/sup?fn=timeout2&ms=1');
# the stuck call times out at 1 s; the other runs from 0.5 s to 1.3 s
my $pid = fork;
if ($pid == 0) {
    Time::HiRes::sleep(0.5);
    my ($st, $h, $body) = FaasTest::faas_http(
        GET => '/sup?fn=timeout2&ms=800', timeout => 10);
    POSIX::_exit($st == 200 && $body eq "slept 800\n" ? 0 : 1);
}
my ($st, $h) = FaasTest::faas_http(GET => '/sup?fn=timeout2&ms=5000',
                                   timeout => 10);
Test::More::is($st, 504, 'TEST 6: the stuck call gets 504');
waitpid($pid, 0);
Test::More::is($? >> 8, 0, 'TEST 6: the call beside it still gets its 200');
my ($st2, $h2) = FaasTest::faas_http(GET => '/sup?fn=timeout2&ms=1');
Test::More::is($st2, 200, 'TEST 6: the next call is served');
Test::More::isnt($h2->{'x-instance'}, $h->{'x-instance'},
                 'TEST 6: by a new instance');
Test::More::is($h2->{'x-cold'}, '1', 'TEST 6: a cold start');
Test::More::like(FaasTest::faas_supervisor_log(),
    qr/function "timeout2" instance \d+: timed out after 1000 ms serving request \w+; killed once its 1 other call\(s\) are done/,
    'TEST 6: the supervisor says why the instance ends');
--- request
GET /sup?fn=timeout2&ms=1
--- response_body
slept 1
--- error_log eval
qr/\[error\].*faas: function "timeout2".*timed out after 1000 ms/



=== TEST 7: concurrency 1 (the default): calls never overlap on an instance
--- config eval: $main::Config
--- init
my ($res, $most, $busy) = main::overlapped(3, 'serial', '/?fn=serial&ms=300');
my @st = map { $_->[0] } @$res;
Test::More::is("@st", '200 200 200', 'TEST 7: three calls answered');
Test::More::is($most, 1, 'TEST 7: one call in flight at most');
Test::More::is(FaasTest::faas_function_status('serial')->{concurrency}, 1,
               'TEST 7: the status says concurrency 1');
--- request
GET /?fn=serial&ms=1
--- response_body
slept 1
--- no_error_log
[error]



=== TEST 8: the Prometheus format has faas_calls_in_flight
--- config eval: $main::Config
--- request
GET /status?format=prometheus
--- response_body_like eval
qr/^# TYPE faas_calls_in_flight gauge\n(?:faas_calls_in_flight\{function="\w+",version="[0-9a-f]+"\} 0\n)+/m



=== TEST 9: concurrency 0 fails at nginx -t
--- http_config
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function zero {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/hello;
        handler handle;
        concurrency 0;
    }
--- config
    location = /z {
        faas_pass zero;
    }
--- must_die
--- error_log eval
["[emerg]", qr/"concurrency" .*must be between 1 and 1000 in \S+nginx\.conf:\d+/]



=== TEST 10: concurrency above 1000 fails at nginx -t
--- http_config
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function many {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/hello;
        handler handle;
        concurrency 1001;
    }
--- config
    location = /m {
        faas_pass many;
    }
--- must_die
--- error_log eval
["[emerg]", qr/"concurrency" .*must be between 1 and 1000 in \S+nginx\.conf:\d+/]



=== TEST 11: threads 1: the calls an instance is given at once run one after the other
--- config eval: $main::Config
--- init
for my $fn ('cone', 'cwide') {
    FaasTest::faas_http(GET => "/?fn=$fn&ms=0");
}
my $s = FaasTest::faas_function_status('cone');
Test::More::is($s->{threads}, 1, 'TEST 11: the status says threads 1');
Test::More::is($s->{concurrency}, 4, 'TEST 11: and concurrency 4');
Test::More::is(FaasTest::faas_function_status('cwide')->{threads}, 4,
               'TEST 11: threads default to concurrency');
my ($res, $most) = main::overlapped(4, 'cone', '/?fn=cone&ms=300');
Test::More::is(join(' ', map { $_->[0] } @$res), '200 200 200 200',
               'TEST 11: threads 1: all answered');
Test::More::cmp_ok($most, '>=', 2,
                   'TEST 11: threads 1: several calls in the instance at once');
Test::More::is(join(' ', map { $_->[2] } @$res), join(' ', ("most 1\n") x 4),
               'TEST 11: threads 1: never two handlers at once');
($res) = main::overlapped(4, 'cwide', '/?fn=cwide&ms=300');
Test::More::is(join(' ', map { $_->[0] } @$res), '200 200 200 200',
               'TEST 11: threads 4: all answered');
my ($wide) = sort { $b <=> $a } map { $_->[2] =~ /most (\d+)/ ? $1 : 0 } @$res;
Test::More::cmp_ok($wide, '>=', 2, 'TEST 11: threads 4: handlers side by side');
--- request
GET /?fn=cone&ms=0
--- response_body
most 1
--- no_error_log
[error]
[alert]



=== TEST 12: threads above concurrency fails at nginx -t
--- http_config
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function over {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/hello;
        handler handle;
        concurrency 2;
        threads 3;
    }
--- config
    location = /o {
        faas_pass over;
    }
--- must_die
--- error_log eval
["[emerg]", qr/faas_function "over": "threads" 3 is greater than "concurrency" 2 in \S+nginx\.conf:\d+/]



=== TEST 13: threads with another runtime than c fails at nginx -t
--- http_config
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function py {
        runtime python3;
        code $TEST_NGINX_FAAS_SRC/python/hello;
        handler main.handle;
        concurrency 2;
        threads 1;
    }
--- config
    location = /p {
        faas_pass py;
    }
--- must_die
--- error_log eval
["[emerg]", qr/faas_function "py": "threads" is for the c runtime only, not python3 in \S+nginx\.conf:\d+/]
