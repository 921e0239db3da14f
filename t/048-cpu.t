# cpu: a cgroup CPU quota per function.  A function that spins for 500 ms
# of wall-clock time gets about its quota's share of one CPU; the same
# function without the limit gets much more, so the test proves the limit.

use lib 't/lib';
use FaasTest;
use Test::Nginx::Socket 'no_plan';

our $HttpConfig = <<'_EOC_';
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function limited {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/spin;
        handler handle;
        cpu 0.2;
    }

    faas_function free {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/spin;
        handler handle;
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

if (FaasTest::faas_supervisor_log() !~ /sandbox on/
    || FaasTest::faas_supervisor_log() =~ /no cpu/)
{
    plan(skip_all => 'no sandbox, or no cgroup cpu controller here');
}

sub cpu_ms {
    my $fn = shift;
    my ($st, $h, $body) = FaasTest::faas_http(GET => "/?fn=$fn&ms=500");

    return $st == 200 && $body =~ /^cpu (\d+) ms in 500 ms$/ ? $1 : undef;
}

no_shuffle();
no_root_location();
run_tests();

__DATA__

=== TEST 1: cpu 0.2 holds a spinning function near 20% of a CPU
--- init
main::cpu_ms('limited');                   # the cold start, not measured
main::cpu_ms('free');
my $limited = main::cpu_ms('limited');
my $free = main::cpu_ms('free');
Test::More::diag("TEST 1: cpu 0.2: $limited ms of CPU in 500 ms; "
                 . "no limit: $free ms");
Test::More::ok(defined $limited && $limited <= 160,
               'TEST 1: the limited function got at most about its quota');
Test::More::ok(defined $free && $free > 1.5 * $limited,
               'TEST 1: the same function without the limit got more');
--- request
GET /?fn=limited&ms=1
--- response_body_like: ^cpu \d+ ms in 1 ms$
--- no_error_log
[error]
