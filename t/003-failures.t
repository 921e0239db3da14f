# Every failure becomes a clear status and an error-log line naming the
# function, never a hang, and it harms nothing but the call that failed.

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

    faas_function crash {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/crash;
        handler handle;
    }

    faas_function exit {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/exit;
        handler handle;
    }

    faas_function sleep {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/sleep;
        handler handle;
        timeout 1s;
    }

    faas_function badstatus {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/badstatus;
        handler handle;
    }

    faas_function initfail {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/initfail;
        handler handle;
    }
_EOC_

our $Config = <<'_EOC_';
    location / {
        add_header X-Cold $faas_cold_start always;
        add_header X-Instance $faas_instance always;
        faas_read_timeout 10s;
        faas_pass $arg_fn;
    }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;

    if (!defined $block->http_config) {
        $block->set_value('http_config', $HttpConfig);
    }
});

# blocks without --- config reuse the previous block's nginx
no_shuffle();
no_root_location();
run_tests();

__DATA__

=== TEST 1: a crash is a 502 with the function named in the log
--- config eval: $main::Config
--- request
GET /?fn=crash
--- error_code: 502
--- error_log eval
qr/\[error\] .*faas: function "crash" failed/
--- no_error_log
[alert]



=== TEST 2: every crash gets a new instance; other functions are unharmed
--- config eval: $main::Config
--- request eval
["GET /?fn=crash", "GET /?fn=crash", "GET /?fn=hello"]
--- error_code eval
[502, 502, 200]
--- response_headers eval
["X-Cold: 1", "X-Cold: 1", ""]
--- response_body eval
[qr/./, qr/./, "Hello, world!\n"]
--- no_error_log
[alert]



=== TEST 3: _exit() in the middle of a call is a 502
--- config eval: $main::Config
--- request
GET /?fn=exit
--- error_code: 502
--- error_log eval
qr/\[error\] .*faas: function "exit" failed/
--- no_error_log
[alert]



=== TEST 4: a function over its timeout is a 504 at the timeout
--- config eval: $main::Config
--- request
GET /?fn=sleep&ms=3000
--- error_code: 504
--- timeout: 2
--- error_log eval
[qr/\[error\] .*faas: function "sleep" .*timed out/]
--- no_error_log
[alert]



=== TEST 5: the timed-out instance was killed: the next call is cold
--- request
GET /?fn=sleep&ms=10
--- response_headers
X-Cold: 1
--- response_body
slept 10
--- no_error_log
[alert]



=== TEST 6: the 504 comes at the function timeout, not the read timeout
--- init
my $t0 = Time::HiRes::time();
my ($status) = FaasTest::faas_http(GET => '/?fn=sleep&ms=3000');
my $took = Time::HiRes::time() - $t0;
Test::More::is($status, 504, "TEST 6: timed out call is a 504");
Test::More::cmp_ok($took, '>=', 0.9, "TEST 6: not before the timeout");
Test::More::cmp_ok($took, '<', 1.8, "TEST 6: soon after the timeout");
--- request
GET /?fn=hello
--- response_body
Hello, world!
--- no_error_log
[alert]



=== TEST 7: an invalid status from the function is a 502
--- config eval: $main::Config
--- request
GET /?fn=badstatus
--- error_code: 502
--- error_log eval
qr/\[error\] .*invalid/
--- no_error_log
[alert]



=== TEST 8: a function whose init fails is a 502
--- config eval: $main::Config
--- request
GET /?fn=initfail
--- error_code: 502
--- error_log eval
qr/\[error\] .*faas: function "initfail" failed/
--- no_error_log
[alert]



=== TEST 9: a garbage frame drops only its own connection
--- config eval: $main::Config
--- init
# version 9, type 0x01: no such protocol version
my $sock = IO::Socket::UNIX->new(Type => Socket::SOCK_STREAM(),
                                 Peer => FaasTest::faas_socket_path())
    or die "connect: $!";
print {$sock} "\x09\x01\x00\x00\x00\x00\x00\x02{}";
my $sel = IO::Select->new($sock);
my $closed = $sel->can_read(2) && !sysread($sock, my $buf, 64);
Test::More::ok($closed, "TEST 9: the supervisor closed the bad connection");
close $sock;
Test::More::ok(kill(0, FaasTest::faas_supervisor_pid()),
               "TEST 9: the supervisor is still running");
--- request
GET /?fn=hello
--- response_body
Hello, world!
--- no_error_log
[error]



=== TEST 10: a frame longer than its type allows drops its connection
--- init
# REQUEST with a 16 MiB length: over the 64 KiB limit, refused unread
my $sock = IO::Socket::UNIX->new(Type => Socket::SOCK_STREAM(),
                                 Peer => FaasTest::faas_socket_path())
    or die "connect: $!";
print {$sock} "\x01\x01\x00\x00\x01\x00\x00\x00";
my $sel = IO::Select->new($sock);
my $closed = $sel->can_read(2) && !sysread($sock, my $buf, 64);
Test::More::ok($closed, "TEST 10: the supervisor closed the bad connection");
close $sock;
--- request
GET /?fn=hello
--- response_body
Hello, world!
--- no_error_log
[error]
