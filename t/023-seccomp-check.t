# The supervisor's check at READY that a runtime loaded the seccomp
# allowlist it was sent (docs/security.md): a runtime that ignores FILTER
# (t/functions/unfiltered/faas-runtime-c, the only runtime of this file's
# supervisor) is refused with a 502 and a log line, while the same runtime
# serves a function with "seccomp base", which is sent no FILTER.
#
# Needs the supervisor's sandbox: without it (--sandbox off) the file is
# skipped.

use lib 't/lib';
use Cwd ();

my $RuntimeDir;

BEGIN { $RuntimeDir = Cwd::abs_path('t/functions/unfiltered') }

use FaasTest '--runtime-dir', $RuntimeDir;
use Test::Nginx::Socket;

our $HttpConfig = <<'_EOC_';
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function unfiltered {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/hello;
    }

    faas_function unfiltered_base {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/hello;
        seccomp base;
    }
_EOC_

our $Config = <<'_EOC_';
    location / {
        faas_pass $arg_fn;
    }
_EOC_

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
});

no_shuffle();
no_root_location();
run_tests();

__DATA__

=== TEST 1: a runtime that ignored its FILTER is refused at READY
--- request
GET /?fn=unfiltered
--- error_code: 502
--- error_log eval
qr/function "unfiltered".* refused: the c runtime did not load its seccomp allowlist/
--- no_error_log
[alert]



=== TEST 2: the same runtime, sent no FILTER ("seccomp base"), serves
--- init
Test::More::like(FaasTest::faas_supervisor_log(),
                 qr/function "unfiltered" instance \d+: refused: the c runtime did not load its seccomp allowlist \(Seccomp_filters 1, not 2\)/,
                 "TEST 2: the supervisor logged the count it found");
--- request
GET /?fn=unfiltered_base
--- response_body
unfiltered
--- no_error_log
[error]
