# The runtimes' seccomp allowlists on pooled processes: a pooled runtime
# gets its FILTER alone and loads it while it waits for LOAD, a runtime
# started in a pooled sandbox gets it with its LOAD like a fresh instance
# (docs/security.md).  Each block proves where its
# instance came from ($faas_layer) and that the list is in force (a child's
# execve() dies of SIGSYS, 31), or not with "seccomp base".
#
# Needs the supervisor's sandbox: without it (--sandbox off) the file is
# skipped.

use lib 't/lib';
use FaasTest '--pool', 'sandbox=1', '--pool', 'c=1', '--pool', 'python3=1',
             '--pool', 'nodejs=1';
use Test::Nginx::Socket;

our $HttpConfig = <<'_EOC_';
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function c_true {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/seccomp;
        handler run_true;
    }

    faas_function c_true_base {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/seccomp;
        handler run_true;
        seccomp base;
    }

    faas_function c_exec {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/seccomp;
        handler exec_self;
    }

    faas_function c_par {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/seccomp;
        handler slow_true;
    }

    faas_function py_true {
        runtime python3;
        code $TEST_NGINX_FAAS_SRC/python/seccomp;
        handler main.run_true;
    }

    faas_function js_true {
        runtime nodejs;
        code $TEST_NGINX_FAAS_SRC/nodejs/seccomp;
        handler index.runTrue;
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

# every pool full again
sub pools_ready {
    return FaasTest::faas_wait_for(sub {
        my $s = FaasTest::faas_status() or return 0;
        my $p = $s->{pools};
        $p->{sandbox}{ready} == 1 && $p->{c}{ready} == 1
            && $p->{python3}{ready} == 1 && $p->{nodejs}{ready} == 1
    }, 10, 0.05);
}

# the seccomp filters a process runs under, from /proc/PID/status
sub seccomp_filters {
    my $pid = shift;

    open my $in, '<', "/proc/$pid/status" or return -1;
    my ($n) = map { /^Seccomp_filters:\s+(\d+)/ ? $1 : () } <$in>;
    close $in;

    return $n // -1;
}

FaasTest::faas_require_sandbox();
plan('no_plan');

add_block_preprocessor(sub {
    my $block = shift;

    if (!defined $block->http_config) {
        $block->set_value('http_config', $HttpConfig);
    }

    if (!defined $block->config) {
        $block->set_value('config', $Config);
    }

    if (!defined $block->init) {
        $block->set_value('init', 'Test::More::ok(main::pools_ready(), '
                                  . '"the pools are full");');
    }
});

no_shuffle();
no_root_location();
run_tests();

__DATA__

=== TEST 0: the pooled runtimes run under their list before any call
--- init
Test::More::ok(main::pools_ready(), "TEST 0: the pools are full");
my $sup = FaasTest::faas_supervisor_pid();
my $own = main::seccomp_filters($sup);
my (@runtimes, @sandboxes);
# a runtime reads its FILTER once its interpreter is up: wait for that
FaasTest::faas_wait_for(sub {
    my $t = FaasTest::proc_table();
    (@runtimes, @sandboxes) = ();
    for my $pid (grep { $t->{$_}{ppid} == $sup } keys %$t) {
        my $n = main::seccomp_filters($pid);
        if ($t->{$pid}{comm} =~ /^faas-supervisor/) {
            push @sandboxes, $n - $own;
        } else {
            push @runtimes, "$t->{$pid}{comm}:" . ($n - $own);
        }
    }
    return scalar(grep { /:2$/ } @runtimes) == 3;
}, 10, 0.05);
Test::More::is(scalar @runtimes, 3, "TEST 0: three pooled runtimes (@runtimes)");
Test::More::is(scalar(grep { /:2$/ } @runtimes), 3,
               "TEST 0: each under the base filter and its list (@runtimes)");
# it waits for EXEC before its uid drop and its filter (security.md)
Test::More::is("@sandboxes", '0', 'TEST 0: the pooled sandbox under none yet');
--- request
GET /status
--- error_code: 200



=== TEST 1: C, from the pooled C runtime: under the list
--- request
GET /?fn=c_true
--- response_headers
X-Layer: runtime
--- response_body
true: signal 31
--- no_error_log
[error]



=== TEST 2: C, "seccomp base": not from the pooled runtime (it runs under the list), from the pooled sandbox: no list
--- request
GET /?fn=c_true_base
--- response_headers
X-Layer: sandbox
--- response_body
true: exit 0
--- no_error_log
[error]



=== TEST 3: C, from the pooled C runtime: execve() in it is killed
--- request
GET /?fn=c_exec
--- response_headers
X-Layer: runtime
--- error_code: 502
--- error_log eval
qr/function "c_exec".* killed by seccomp \(SIGSYS\)/
--- no_error_log
[alert]



=== TEST 4: Python, from the pooled python3 runtime: under the list
--- request
GET /?fn=py_true
--- response_headers
X-Layer: runtime
--- response_body
true: returncode -31
--- no_error_log
[error]



=== TEST 5: Node.js, from the pooled nodejs runtime: under the list
--- request
GET /?fn=js_true
--- response_headers
X-Layer: runtime
--- response_body
true: SIGSYS
--- no_error_log
[error]



=== TEST 6: C, two cold starts at once: one from the pooled sandbox too
--- init
Test::More::ok(main::pools_ready(), "TEST 6: the pools are full");
my @r = FaasTest::faas_http_parallel(2, '/?fn=c_par');
my %layers = map { ($_->[1]{'x-layer'} // '?') => 1 } @r;
Test::More::ok($layers{sandbox} && $layers{runtime},
               "TEST 6: one from each pool: " . join(' ', sort keys %layers));
Test::More::is(join('', map { $_->[2] } @r), "true: signal 31\n" x 2,
               "TEST 6: both under the list");
--- request
GET /?fn=c_par
--- response_body
true: signal 31
--- no_error_log
[error]
