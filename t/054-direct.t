# Direct calls: a worker keeps the connection a call was handed over on
# and calls the idle instance on it next time, without the supervisor.
# $faas_direct says which calls went direct; the status endpoint counts
# them.  The supervisor keeps its part: timeouts, crashes, scale to zero,
# the limit on instances, and a restart.
#
# Between calls each block waits for the status to show nothing in
# flight: a call's DONE reaches the supervisor just after its response
# reaches the client, and only then is the instance free to claim.

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

    faas_function echo {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/echo-raw;
        handler handle;
    }

    faas_function sleepy {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/sleep;
        handler handle;
        timeout 500ms;
    }

    faas_function crash3 {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/crash3;
        handler handle;
    }

    faas_function idle {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/hello;
        handler handle;
        idle_timeout 400ms;
    }

    faas_function one {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/sleep;
        handler handle;
        max_instances 1;
        queue_size 4;
        timeout 10s;
    }

    faas_function multi {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/sleep;
        handler handle;
        concurrency 4;
        max_instances 1;
        timeout 10s;
    }

    faas_function multi2 {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/sleep;
        handler handle;
        concurrency 2;
        max_instances 1;
        timeout 1s;
    }

    faas_function pymulti {
        runtime python3;
        code $TEST_NGINX_FAAS_SRC/python/hello;
        handler main.handle;
        concurrency 2;
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

    # takes direct calls, but every RESPONSE says "close"
    faas_function execclose {
        runtime exec;
        code $TEST_NGINX_FAAS_SRC/exec/close;
        handler handler;
        timeout 2s;
    }
_EOC_

our $Config = <<'_EOC_';
    location / {
        add_header X-Direct $faas_direct always;
        add_header X-Instance $faas_instance always;
        add_header X-Cold $faas_cold_start always;
        faas_read_timeout 30s;
        faas_pass $arg_fn;
    }

    location /off {
        add_header X-Direct $faas_direct always;
        faas_direct_calls off;
        faas_pass $arg_fn;
    }

    location /stream {
        add_header X-Direct $faas_direct always;
        faas_request_buffering off;
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


# nothing in flight for $fn: the supervisor has the last DONE
sub settled {
    my $fn = shift;

    return FaasTest::faas_wait_for(sub {
        my $s = FaasTest::faas_function_status($fn);
        return $s && $s->{in_flight} == 0;
    }, 10, 0.01);
}


# $n calls of $uri, one after the other, each once the last has settled;
# returns [status, headers, body] of each
sub calls {
    my ($n, $fn, $uri, %opt) = @_;
    my @res;

    for (1 .. $n) {
        my @r = FaasTest::faas_http($opt{method} // 'GET', $uri, %opt);
        push @res, \@r;
        main::settled($fn);
    }

    return @res;
}


sub directs {
    return join ' ', map { $_->[1]{'x-direct'} // '-' } @_;
}

master_on();
workers(1);
no_shuffle();
no_root_location();
run_tests();

__DATA__

=== TEST 1: C: the first call is cold, the warm ones go direct to the same instance
--- config eval: $main::Config
--- init
my @r = main::calls(4, 'hello', '/?fn=hello');
Test::More::is(join(' ', map { $_->[0] } @r), '200 200 200 200',
               'TEST 1: answered');
Test::More::is(join('', map { $_->[2] } @r), "Hello, world!\n" x 4,
               'TEST 1: the function\'s body each time');
Test::More::is(main::directs(@r), '0 1 1 1', 'TEST 1: warm calls are direct');
my %inst = map { ($_->[1]{'x-instance'} // '') => 1 } @r;
Test::More::is(scalar keys %inst, 1, 'TEST 1: one instance served all');
my $s = FaasTest::faas_function_status('hello');
Test::More::is($s->{calls}, 4, 'TEST 1: the status counts every call');
Test::More::is($s->{direct_calls}, 3, 'TEST 1: and the direct ones');
Test::More::is($s->{cold_starts}, 1, 'TEST 1: one cold start');
--- request
GET /?fn=hello
--- response_headers
X-Direct: 1
X-Cold: 0
--- response_body
Hello, world!
--- no_error_log
[error]
[alert]



=== TEST 2: faas_direct_calls off: every call through the supervisor
--- config eval: $main::Config
--- init
my $before = FaasTest::faas_function_status('hello');
my @r = main::calls(3, 'hello', '/off?fn=hello');
Test::More::is(main::directs(@r), '0 0 0', 'TEST 2: none direct');
my $after = FaasTest::faas_function_status('hello');
Test::More::is($after->{direct_calls} - ($before->{direct_calls} // 0), 0,
               'TEST 2: none counted direct');
Test::More::is($after->{calls} - ($before->{calls} // 0), 3,
               'TEST 2: all counted');
--- request
GET /off?fn=hello
--- response_headers
X-Direct: 0
--- response_body
Hello, world!
--- no_error_log
[error]
[alert]



=== TEST 3: bodies of a MiB, buffered and streamed, on direct calls
--- config eval: $main::Config
--- init
my $body = join '', map { chr(($_ * 7) % 256) } 0 .. 1048575;
for my $loc ('/', '/stream') {
    my @r = main::calls(3, 'echo', "$loc?fn=echo", method => 'POST',
                        body => $body);
    Test::More::is(join(' ', map { $_->[0] } @r), '200 200 200',
                   "TEST 3: $loc answered");
    Test::More::is(scalar(grep { $_->[2] eq $body } @r), 3,
                   "TEST 3: $loc echoed each body whole");
    Test::More::like(main::directs(@r), qr/1 1$/,
                     "TEST 3: $loc warm calls direct");
}
--- request
POST /?fn=echo
abc
--- response_body chop
abc
--- no_error_log
[error]
[alert]



=== TEST 4: a direct call past its timeout is a 504, the instance is killed, the next call starts another
--- config eval: $main::Config
--- init
my @r = main::calls(2, 'sleepy', '/?fn=sleepy&ms=0');
Test::More::is(main::directs(@r), '0 1', 'TEST 4: warm call direct');
my $t0 = Time::HiRes::time();
my ($st, $h) = FaasTest::faas_http(GET => '/?fn=sleepy&ms=5000');
my $took = Time::HiRes::time() - $t0;
Test::More::is($st, 504, 'TEST 4: a 504');
Test::More::is($h->{'x-direct'}, '1', 'TEST 4: on a direct call');
Test::More::cmp_ok($took, '<', 4, 'TEST 4: at the timeout, not the sleep');
Test::More::ok(FaasTest::faas_wait_for(sub {
    FaasTest::faas_supervisor_log() =~ /function "sleepy" instance \d+: timed out after 500 ms serving request \w+ \(a direct call\); killed/
}, 5, 0.05), 'TEST 4: the supervisor killed the instance');
Test::More::ok(FaasTest::faas_wait_for(sub {
    my $s = FaasTest::faas_function_status('sleepy');
    $s && $s->{errors}{timeout} == 1
       && $s->{instances}{idle} + $s->{instances}{busy} == 0
}, 5, 0.05), 'TEST 4: counted as a timeout, no instance left');
--- request
GET /?fn=sleepy&ms=0
--- response_headers
X-Cold: 1
--- response_body
slept 0
--- error_log eval
qr/\[error\] .*faas: function "sleepy" instance \d+: timed out after 500 ms \(a direct call\)/



=== TEST 5: a crash during a direct call is a 502; the next call is served
--- config eval: $main::Config
--- init
my @r = main::calls(3, 'crash3', '/?fn=crash3');
Test::More::is(join(' ', map { $_->[0] } @r), '200 200 502',
               'TEST 5: the third call crashed');
Test::More::is(main::directs(@r), '0 1 1', 'TEST 5: on direct calls');
--- request
GET /?fn=crash3
--- response_headers
X-Cold: 1
--- response_body
ok 1
--- error_log eval
[qr/\[error\] .*upstream prematurely closed connection/,
 qr/\[error\] .*faas: function "crash3": instance \d+ \(pid \d+\) ended a direct call without an answer, request [0-9a-f]{32}: it crashed or was killed/]
--- no_error_log
[alert]



=== TEST 6: direct calls keep an instance from idling out; without them it scales to zero
--- config eval: $main::Config
--- init
my @r = main::calls(12, 'idle', '/?fn=idle');
my @later;
for (1 .. 10) {
    Time::HiRes::sleep(0.1);
    push @later, [FaasTest::faas_http(GET => '/?fn=idle')];
}
my %inst = map { ($_->[1]{'x-instance'} // '') => 1 } @r, @later;
Test::More::is(scalar keys %inst, 1,
               'TEST 6: one instance over 1 s of calls, idle_timeout 400ms');
Test::More::is(join(' ', map { $_->[1]{'x-direct'} } @later),
               join(' ', (1) x 10), 'TEST 6: all direct');
Test::More::ok(FaasTest::faas_wait_for(sub {
    my $s = FaasTest::faas_function_status('idle');
    $s && $s->{instances}{idle} == 0 && $s->{instances}{busy} == 0
}, 5, 0.05), 'TEST 6: gone once the calls stop');
--- request
GET /?fn=idle
--- response_headers
X-Cold: 1
X-Direct: 0
--- response_body
Hello, world!
--- no_error_log
[error]
[alert]



=== TEST 7: at max_instances, a call waits behind a direct one instead of the queue
--- config eval: $main::Config
--- init
main::calls(2, 'one', '/?fn=one&ms=0');
my @res = FaasTest::faas_http_parallel(3, '/?fn=one&ms=300', timeout => 20);
Test::More::is(join(' ', sort map { $_->[0] } @res), '200 200 200',
               'TEST 7: all answered');
my %inst = map { ($_->[1]{'x-instance'} // '') => 1 } @res;
Test::More::is(scalar keys %inst, 1, 'TEST 7: by the one instance');
Test::More::ok(main::settled('one'), 'TEST 7: nothing left in flight');
--- request
GET /?fn=one&ms=0
--- response_body
slept 0
--- no_error_log
[error]
[alert]



=== TEST 8: a supervisor restart: the kept connections go, direct calls resume
--- config eval: $main::Config
--- init
my @r = main::calls(2, 'hello', '/?fn=hello');
Test::More::is(main::directs(@r), '0 1', 'TEST 8: direct before');
FaasTest::faas_kill_supervisor();
my ($st) = FaasTest::faas_http(GET => '/?fn=hello');
Test::More::like($st, qr/^50[23]$/, 'TEST 8: 502 or 503 while it is down');
FaasTest::faas_start_supervisor();
Test::More::ok(FaasTest::faas_wait_for(sub {
    (FaasTest::faas_http(GET => '/?fn=hello'))[0] == 200
}, 5, 0.1), 'TEST 8: serving again');
main::settled('hello');
@r = main::calls(2, 'hello', '/?fn=hello');
Test::More::is(main::directs(@r), '1 1', 'TEST 8: direct again');
--- request
GET /?fn=hello
--- response_body
Hello, world!
--- no_error_log
[alert]



=== TEST 9: Python and Node.js take direct calls too
--- config eval: $main::Config
--- init
for my $fn ('pyhello', 'jshello') {
    my @r = main::calls(3, $fn, "/?fn=$fn");
    Test::More::is(join(' ', map { $_->[0] } @r), '200 200 200',
                   "TEST 9: $fn answered");
    Test::More::is(main::directs(@r), '0 1 1', "TEST 9: $fn warm calls direct");
}
--- request
GET /?fn=pyhello
--- response_headers
X-Direct: 1
--- no_error_log
[error]
[alert]



=== TEST 10: a worker killed in a direct call: the supervisor kills the instance it left claimed
--- config eval: $main::Config
--- init
my @r = main::calls(2, 'sleepy', '/?fn=sleepy&ms=0');
Test::More::is(main::directs(@r), '0 1', 'TEST 10: warm call direct');
my ($worker) = FaasTest::faas_nginx_worker_pids();
Test::More::ok($worker, 'TEST 10: the worker found');
my $pid = fork();
if ($pid == 0) {
    FaasTest::faas_http(GET => '/?fn=sleepy&ms=400', timeout => 5);
    POSIX::_exit(0);
}
Time::HiRes::sleep(0.2);
Test::More::ok($worker && kill('KILL', $worker), 'TEST 10: worker killed');
waitpid($pid, 0);
Test::More::ok(FaasTest::faas_wait_for(sub {
    FaasTest::faas_supervisor_log() =~ /function "sleepy" instance \d+: a direct call has been in flight for \d+ ms, past its timeout: its nginx worker is gone; killed/
}, 6, 0.1), 'TEST 10: the supervisor killed the instance');
Test::More::ok(FaasTest::faas_wait_for(sub {
    (FaasTest::faas_http(GET => '/?fn=sleepy&ms=0'))[0] == 200
}, 5, 0.1), 'TEST 10: served again');
--- request
GET /?fn=sleepy&ms=0
--- response_body
slept 0
--- no_error_log
[emerg]



=== TEST 11: C at concurrency 4: four direct calls at once to one instance
--- config eval: $main::Config
--- init
my @r = main::calls(2, 'multi', '/?fn=multi&ms=0');
Test::More::is(main::directs(@r), '0 1', 'TEST 11: warm call direct');
# the calls beyond the one kept connection go through the supervisor,
# and the worker keeps their connections too
my @first = FaasTest::faas_http_parallel(4, '/?fn=multi&ms=300',
                                         timeout => 20);
Test::More::is(join(' ', map { $_->[0] } @first), '200 200 200 200',
               'TEST 11: the first four answered');
Test::More::ok(main::settled('multi'), 'TEST 11: settled');
my $max = 0;
my @res = FaasTest::faas_http_parallel(4, '/?fn=multi&ms=1000',
    timeout => 20, on_tick => sub {
        my $s = FaasTest::faas_function_status('multi');
        $max = $s->{in_flight} if $s && $s->{in_flight} > $max;
    });
Test::More::is(join(' ', map { $_->[0] } @res), '200 200 200 200',
               'TEST 11: the next four answered');
Test::More::is(main::directs(@res), '1 1 1 1', 'TEST 11: all four direct');
my %inst = map { ($_->[1]{'x-instance'} // '') => 1 } @first, @res;
Test::More::is(scalar keys %inst, 1, 'TEST 11: by the one instance');
Test::More::is($max, 4, 'TEST 11: four in flight at once');
my ($slowest) = sort { $b <=> $a } map { $_->[3] } @res;
Test::More::cmp_ok($slowest, '<', 3,
                   'TEST 11: served side by side, not one after another');
Test::More::ok(main::settled('multi'), 'TEST 11: nothing left in flight');
my $s = FaasTest::faas_function_status('multi');
Test::More::cmp_ok($s->{direct_calls}, '>=', 5, 'TEST 11: counted direct');
--- request
GET /?fn=multi&ms=0
--- response_headers
X-Direct: 1
--- response_body
slept 0
--- no_error_log
[error]
[alert]



=== TEST 12: Python at concurrency 2 takes no direct calls: all through the supervisor
--- config eval: $main::Config
--- init
my @r = main::calls(3, 'pymulti', '/?fn=pymulti');
Test::More::is(join(' ', map { $_->[0] } @r), '200 200 200',
               'TEST 12: answered');
Test::More::is(main::directs(@r), '0 0 0', 'TEST 12: none direct');
my $s = FaasTest::faas_function_status('pymulti');
Test::More::is($s->{direct_calls}, 0, 'TEST 12: none counted direct');
--- request
GET /?fn=pymulti
--- response_headers
X-Direct: 0
--- no_error_log
[error]
[alert]



=== TEST 13: concurrency 2: a direct call times out beside another: 504 for it, 200 for the other, then a new instance
--- config eval: $main::Config
--- init
main::calls(2, 'multi2', '/?fn=multi2&ms=0');
# a second kept connection to the instance, through the supervisor
FaasTest::faas_http_parallel(2, '/?fn=multi2&ms=300', timeout => 20);
Test::More::ok(main::settled('multi2'), 'TEST 13: settled');
# the stuck call times out at 1 s; the other runs from 0.3 s to 1.1 s
my $pid = fork;
if ($pid == 0) {
    Time::HiRes::sleep(0.3);
    my ($st, $h, $body) = FaasTest::faas_http(
        GET => '/?fn=multi2&ms=800', timeout => 10);
    POSIX::_exit($st == 200 && $body eq "slept 800\n"
                 && $h->{'x-direct'} eq '1' ? 0 : 1);
}
my ($st, $h) = FaasTest::faas_http(GET => '/?fn=multi2&ms=5000',
                                   timeout => 10);
Test::More::is($st, 504, 'TEST 13: the stuck call gets 504');
Test::More::is($h->{'x-direct'}, '1', 'TEST 13: a direct call');
waitpid($pid, 0);
Test::More::is($? >> 8, 0,
               'TEST 13: the direct call beside it still gets its 200');
Test::More::ok(FaasTest::faas_wait_for(sub {
    FaasTest::faas_supervisor_log() =~ /function "multi2" instance \d+: killed by signal 9/
}, 5, 0.05), 'TEST 13: the instance is killed after');
my ($st2, $h2) = FaasTest::faas_http(GET => '/?fn=multi2&ms=1');
Test::More::is($st2, 200, 'TEST 13: the next call is served');
Test::More::isnt($h2->{'x-instance'}, $h->{'x-instance'},
                 'TEST 13: by a new instance');
Test::More::is($h2->{'x-cold'}, '1', 'TEST 13: a cold start');
Test::More::like(FaasTest::faas_supervisor_log(),
    qr/function "multi2" instance \d+: timed out after 1000 ms serving request \w+ \(a direct call\); killed once its 1 other call\(s\) are done/,
    'TEST 13: the supervisor says why the instance ends');
--- request
GET /?fn=multi2&ms=1
--- response_body
slept 1
--- error_log eval
qr/\[error\] .*faas: function "multi2" instance \d+: timed out after 1000 ms \(a direct call\)/
--- no_error_log
[alert]



=== TEST 14: a RESPONSE that says "close": the connection is not kept, every call goes through the supervisor
--- config eval: $main::Config
--- init
my @r = main::calls(3, 'execclose', '/?fn=execclose');
Test::More::is(join(' ', map { $_->[0] } @r), '200 200 200',
               'TEST 14: answered');
Test::More::is(main::directs(@r), '0 0 0', 'TEST 14: none direct');
my $s = FaasTest::faas_function_status('execclose');
Test::More::is($s->{calls}, 3, 'TEST 14: the status counts every call');
Test::More::is($s->{direct_calls}, 0, 'TEST 14: and no direct one');
--- request
GET /?fn=execclose
--- response_headers
X-Direct: 0
--- response_body
closing
--- no_error_log
[error]
[alert]



=== TEST 15: a "close" that is not a boolean is a 502 naming the function
--- config eval: $main::Config
--- request
GET /?fn=execclose&bad=1
--- error_code: 502
--- error_log
faas: function "execclose" sent invalid response: "close" is not a boolean
--- no_error_log
[alert]
