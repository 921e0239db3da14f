# The scheduling policy of instances (faas-supervisor --instance-sched):
# SCHED_BATCH by default once an instance is ready, so that an instance
# woken by a call does not preempt the nginx worker that wrote it;
# "normal" leaves SCHED_OTHER.  Every thread of an instance has the
# policy, and so do the runtimes that are not C.

use lib 't/lib';
use FaasTest;
use Test::Nginx::Socket 'no_plan';

our $HttpConfig = <<'_EOC_';
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function hello {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/hello;
        handler handle;
        concurrency 2;
        threads 2;
    }

    faas_function py {
        runtime python3;
        code $TEST_NGINX_FAAS_SRC/python/hello;
        handler main.handle;
    }

    faas_function slowinit {
        runtime python3;
        code $TEST_NGINX_FAAS_SRC/python/slowinit;
        handler main.handle;
        initializer main.init;
    }
_EOC_

our $Config = <<'_EOC_';
    location = /hello {
        faas_pass hello;
    }

    location = /py {
        faas_pass py;
    }

    location = /slowinit {
        faas_pass slowinit;
    }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;

    if (!defined $block->http_config) {
        $block->set_value('http_config', $HttpConfig);
    }
});

# the policy (stat field 41) of each thread of a process: 0 SCHED_OTHER,
# 3 SCHED_BATCH
sub policies {
    my $pid = shift;
    my @policy;

    opendir my $dh, "/proc/$pid/task" or return ();

    for my $tid (sort grep { /^\d+$/ } readdir $dh) {
        open my $fh, '<', "/proc/$pid/task/$tid/stat" or next;
        my $stat = <$fh>;

        # after the name in parentheses, which may hold spaces, field 3
        $stat =~ s/^.*\) //s;
        push @policy, (split ' ', $stat)[41 - 3];
    }

    return @policy;
}

# calls each function once, and the policies of its instance's threads:
# the supervisor sets them after it has dispatched the call, so a little
# later than the answer may arrive
sub called {
    my $want = shift;
    my %seen;

    for my $fn (qw(hello py)) {
        FaasTest::faas_wait_for(sub {
            (FaasTest::faas_http(GET => "/$fn"))[0] == 200
        }, 5, 0.05);

        my ($pid) = FaasTest::faas_instances($fn);

        FaasTest::faas_wait_for(sub {
            my @p = defined $pid ? policies($pid) : ();
            $seen{$fn} = @p ? "@p" : 'none';
            @p && !grep { $_ != $want } @p
        }, 3);
    }

    return %seen;
}

no_shuffle();
run_tests();

__DATA__

=== TEST 1: by default every thread of every instance is SCHED_BATCH
--- config eval: $main::Config
--- init
my %seen = main::called(3);
Test::More::like($seen{hello}, qr/^3( 3)+$/,
                 "TEST 1: the C instance and its threads ($seen{hello})");
Test::More::like($seen{py}, qr/^3( 3)*$/,
                 "TEST 1: the Python instance ($seen{py})");
--- request
GET /hello
--- response_body
Hello, world!
--- no_error_log
[error]



=== TEST 2: a starting instance keeps the normal policy until it is ready
--- config eval: $main::Config
--- init
# what each tick of the wait saw, in order: the initializer takes 1 s
my @seen_in_order;
my @res = FaasTest::faas_http_parallel(1, '/slowinit', timeout => 10,
                                       on_tick => sub {
    my ($pid) = FaasTest::faas_instances('slowinit');
    my @p = defined $pid ? main::policies($pid) : ();
    push @seen_in_order, $p[0] if @p;
});
Test::More::is($res[0][0], 200, "TEST 2: the call is answered");
my $order = join '', @seen_in_order;
Test::More::like($order, qr/^0{10,}3*$/,
                 "TEST 2: SCHED_OTHER while it started, then SCHED_BATCH");
my %seen;
FaasTest::faas_wait_for(sub {
    my ($pid) = FaasTest::faas_instances('slowinit');
    my @p = defined $pid ? main::policies($pid) : ();
    %seen = map { $_ => 1 } @p;
    @p && !grep { $_ != 3 } @p
}, 3);
Test::More::is(join(' ', sort keys %seen), '3',
               "TEST 2: SCHED_BATCH once ready");
--- request
GET /slowinit
--- response_body
ready
--- no_error_log
[error]



=== TEST 3: --instance-sched normal leaves instances SCHED_OTHER
--- config eval: $main::Config
--- init
FaasTest::faas_stop_supervisor();
@FaasTest::SupervisorArgs = ('--instance-sched', 'normal');
FaasTest::faas_start_supervisor();
my %seen = main::called(0);
Test::More::like($seen{hello}, qr/^0( 0)+$/,
                 "TEST 3: the C instance and its threads ($seen{hello})");
Test::More::like($seen{py}, qr/^0( 0)*$/,
                 "TEST 3: the Python instance ($seen{py})");
--- request
GET /py
--- response_body
Hello, world!
--- error_log
the supervisor closed the control connection



=== TEST 4: an unknown policy is a usage error that names it
--- config eval: $main::Config
--- init
my $bin = FaasTest::supervisor_binary();
my $out = `'$bin' --listen /nonexistent/faas.sock --instance-sched fast 2>&1`;
Test::More::is($? >> 8, 2, "TEST 4: exit status 2");
Test::More::like($out, qr/invalid --instance-sched "fast", must be "batch" or "normal"/,
                 "TEST 4: the message names the value");
--- request
GET /hello
--- response_body
Hello, world!
