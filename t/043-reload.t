# A new nginx configuration generation (reload or restart) registers its
# function table again: an unchanged function keeps its warm instances, a
# removed one drains after the supervisor's retire grace, a changed one
# starts afresh on the new definition.
#
# Each block starts a new nginx against the same supervisor (FaasTest keeps
# one per file), which is what the supervisor sees on a reload: new workers
# register, the old ones go away.

use lib 't/lib';
use FaasTest;
use Test::Nginx::Socket 'no_plan';

our $Config = <<'_EOC_';
    location / {
        add_header X-Cold $faas_cold_start always;
        faas_pass $arg_fn;
    }
_EOC_

no_shuffle();
no_root_location();
run_tests();

__DATA__

=== TEST 1: two functions, both warm
--- http_config
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function keep {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/hello;
        handler handle;
    }

    faas_function gone {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/hello;
        handler handle;
    }
--- config eval: $main::Config
--- init
FaasTest::faas_wait_for(sub {
    (FaasTest::faas_http(GET => '/?fn=gone'))[0] == 200
}, 3, 0.05);
Test::More::is(scalar(FaasTest::faas_instances('gone')), 1,
               "TEST 1: gone has an instance");
--- request
GET /?fn=keep
--- response_headers
X-Cold: 1
--- response_body
Hello, world!
--- no_error_log
[error]



=== TEST 2: unchanged function stays warm, removed function drains
--- http_config
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function keep {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/hello;
        handler handle;
    }
--- config eval: $main::Config
--- init
# unregistered versions keep their idle instances for the supervisor's
# retire grace (10 s), so that a restart does not find them cold
Test::More::is(scalar(FaasTest::faas_instances('keep')), 1,
               "TEST 2: the unchanged function's instance is still there");
my $drained = FaasTest::faas_wait_for(sub {
    !FaasTest::faas_instances('gone')
}, 14);
Test::More::ok($drained, "TEST 2: the removed function's instance exited");
Test::More::is(scalar(FaasTest::faas_instances('keep')), 1,
               "TEST 2: the unchanged function's instance outlived the grace");
--- request
GET /?fn=keep
--- response_headers
X-Cold: 0
--- response_body
Hello, world!
--- no_error_log
[error]



=== TEST 3: a changed definition is a new version, started cold
--- http_config
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function keep {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/hello;
        handler handle;
        env GREETING Howdy;
    }
--- config eval: $main::Config
--- request
GET /?fn=keep
--- response_headers
X-Cold: 1
--- response_body
Howdy, world!
--- no_error_log
[error]
