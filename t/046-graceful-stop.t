# Graceful stop: SIGTERM to the supervisor stops it accepting work, lets
# the calls that are running finish (up to --stop-timeout), then it exits
# with nothing left behind: no instance, no zombie, no pooled process.

use lib 't/lib';
use FaasTest '--pool', 'c=1';
use POSIX qw(WNOHANG);
use Time::HiRes ();
use Test::Nginx::Socket 'no_plan';

our $HttpConfig = <<'_EOC_';
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function sleeper {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/sleep;
        handler handle;
        timeout 10s;
    }
_EOC_

our $Config = <<'_EOC_';
    location / {
        faas_pass $arg_fn;
    }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value('http_config', $HttpConfig)
        if !defined $block->http_config;
    $block->set_value('config', $Config) if !defined $block->config;
});

# SIGTERM while a call of ms milliseconds runs; the call's result, the
# status of a call made during the stop, the supervisor's exit status and
# how long it took to exit
sub stop_during_call {
    my $ms = shift;
    my $pid = FaasTest::faas_supervisor_pid();
    my ($sent, $during, $start);

    my @r = FaasTest::faas_http_parallel(1, "/?fn=sleeper&ms=$ms",
                                         on_tick => sub {
        $start //= Time::HiRes::time();

        if (!$sent && Time::HiRes::time() - $start > 0.2) {
            kill 'TERM', $pid;
            $sent = Time::HiRes::time();
            Time::HiRes::sleep(0.1);
            ($during) = FaasTest::faas_http(GET => '/?fn=sleeper&ms=1');
        }
    });

    my $exited = FaasTest::faas_wait_for(sub {
        waitpid($pid, WNOHANG) == $pid
    }, 15, 0.01);
    my $status = $?;
    my $took = Time::HiRes::time() - $sent;

    # the file's own bookkeeping: this supervisor is gone
    $FaasTest::Pid = undef;

    return ($r[0], $during, $exited ? $status : -1, $took);
}

# a new supervisor, and the workers registered with it again
sub restart {
    FaasTest::faas_start_supervisor();

    return FaasTest::faas_wait_for(sub {
        (FaasTest::faas_http(GET => '/?fn=sleeper&ms=1'))[0] == 200
    }, 5, 0.05);
}

# what the stopped supervisor left: children re-parented to us (we are a
# subreaper) that still run, and zombies
sub leftovers {
    my $t = FaasTest::proc_table();

    return grep { $t->{$_}{ppid} == $$ && $t->{$_}{comm} =~ /^faas-/ }
           keys %$t;
}

no_shuffle();
no_root_location();
run_tests();

__DATA__

=== TEST 1: a running call finishes, new calls get 503, then a clean exit
--- init
my ($r, $during, $status, $took) = main::stop_during_call(800);
Test::More::is($r->[0], 200, 'TEST 1: the running call finished');
Test::More::is($r->[2], "slept 800\n", 'TEST 1: with its whole answer');
Test::More::is($during, 503, 'TEST 1: a call during the stop got 503');
Test::More::is($status, 0, 'TEST 1: the supervisor exited with status 0');
Test::More::is(join(',', main::leftovers()), '',
               'TEST 1: no process left behind');
main::restart();
--- request
GET /?fn=sleeper&ms=1
--- response_body
slept 1
--- no_error_log
[alert]



=== TEST 2: --stop-timeout bounds the wait: a longer call is cut with 502
--- init
FaasTest::faas_stop_supervisor();
@FaasTest::SupervisorArgs = ('--pool', 'c=1', '--stop-timeout', '300ms');
main::restart();
my ($r, $during, $status, $took) = main::stop_during_call(5000);
Test::More::is($r->[0], 502, 'TEST 2: the call past the bound got 502');
Test::More::is($status, 0, 'TEST 2: the supervisor exited with status 0');
Test::More::cmp_ok($took, '<', 3, 'TEST 2: within the bound, not the call');
Test::More::is(join(',', main::leftovers()), '',
               'TEST 2: no process left behind');
main::restart();
--- request
GET /?fn=sleeper&ms=1
--- response_body
slept 1
--- no_error_log
[alert]
