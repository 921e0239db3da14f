# Function output: stdout and stderr lines go where log_output says (the
# nginx error log, the supervisor's log, a file of the function's own, or
# nowhere), each with the function, the instance and the request id; a
# function that writes without end is rate-limited and blocks nothing.

use lib 't/lib';
use FaasTest;
use Time::HiRes ();
use Test::Nginx::Socket 'no_plan';

our $OutFile;

BEGIN {
    $OutFile = "$FaasTest::Dir/flood.log";
    $ENV{TEST_NGINX_FAAS_OUTPUT_FILE} = $OutFile;
}

our $HttpConfig = <<'_EOC_';
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function tonginx {
        runtime python3;
        code $TEST_NGINX_FAAS_SRC/python/output;
        handler main.handle;
    }

    faas_function tosupervisor {
        runtime python3;
        code $TEST_NGINX_FAAS_SRC/python/output;
        handler main.handle;
        log_output supervisor;
    }

    faas_function tofile {
        runtime python3;
        code $TEST_NGINX_FAAS_SRC/python/flood;
        handler main.handle;
        log_output $TEST_NGINX_FAAS_OUTPUT_FILE;
    }

    faas_function silent {
        runtime python3;
        code $TEST_NGINX_FAAS_SRC/python/output;
        handler main.handle;
        log_output off;
    }

    faas_function flood {
        runtime python3;
        code $TEST_NGINX_FAAS_SRC/python/flood;
        handler main.handle;
        timeout 20s;
    }

    faas_function hello {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/hello;
        handler handle;
    }
_EOC_

our $Config = <<'_EOC_';
    location / {
        add_header X-Request-Id $faas_request_id always;
        faas_pass $arg_fn;
    }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value('http_config', $HttpConfig)
        if !defined $block->http_config;
    $block->set_value('config', $Config) if !defined $block->config;
});

sub slurp_file {
    my $path = shift;

    open my $fh, '<', $path or return '';
    local $/;

    return <$fh>;
}

no_shuffle();
no_root_location();
run_tests();

__DATA__

=== TEST 1: by default, lines go to nginx's error log: stdout notice, stderr warn
--- request
GET /?fn=tonginx
--- response_body
printed
--- error_log eval
[qr/\[notice\] .*faas: function "tonginx" instance \d+ request [0-9a-f]{32}: stdout: hello from stdout/,
 qr/\[warn\] .*faas: function "tonginx" instance \d+ request [0-9a-f]{32}: stderr: hello from stderr/]
--- no_error_log
[error]



=== TEST 2: log_output supervisor: the supervisor's log, not nginx's
--- request
GET /?fn=tosupervisor
--- response_body
printed
--- no_error_log
hello from stdout



=== TEST 3: the supervisor's log has the lines, with the request id
--- init
my $log = FaasTest::faas_supervisor_log();
Test::More::like($log,
    qr/function "tosupervisor" instance \d+: request [0-9a-f]{32}: stdout: hello from stdout/,
    'TEST 3: stdout in the supervisor log');
Test::More::like($log,
    qr/\[warn\] .*function "tosupervisor" instance \d+: request [0-9a-f]{32}: stderr: hello from stderr/,
    'TEST 3: stderr at warn');
--- request
GET /?fn=hello
--- response_body
Hello, world!



=== TEST 4: log_output FILE: a file of the function's own, one line each
--- request
GET /?fn=tofile&lines=3&size=5
--- response_body
wrote 3
--- no_error_log
xxxxx



=== TEST 5: the file has the three lines
--- init
my $ok = FaasTest::faas_wait_for(sub {
    () = main::slurp_file($main::OutFile) =~ /stdout: \d xxxxx\n/g;
}, 5, 0.05);
my $text = main::slurp_file($main::OutFile);
my @lines = $text =~ m{^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d function "tofile" instance \d+: request [0-9a-f]{32}: stdout: (\d) xxxxx$}mg;
Test::More::is("@lines", '0 1 2', 'TEST 5: the lines, in order, with time, function, instance and request');
--- request
GET /?fn=hello
--- response_body
Hello, world!



=== TEST 6: log_output off: nothing anywhere
--- request
GET /?fn=silent
--- response_body
printed
--- no_error_log
hello from



=== TEST 7: 20000 lines in one call: it completes, at most 1000 a second are kept, the rest counted
--- request
GET /?fn=flood&lines=20000&size=40
--- response_body
wrote 20000
--- error_log eval
[qr/faas: function "flood" instance \d+ request [0-9a-f]{32}: stdout: 999 x{40}$/m,
 qr/faas: function "flood" instance \d+ request [0-9a-f]{32}: stderr: \[faas\] \d+ lines of output dropped/]
--- no_error_log eval
qr/stdout: 19999 x{40}$/m



=== TEST 8: a line longer than 2048 bytes is split, nothing lost
--- request
GET /?fn=tofile&lines=1&size=5000
--- response_body
wrote 1



=== TEST 9: the long line is in the file in three pieces
--- init
my $text;
FaasTest::faas_wait_for(sub {
    $text = main::slurp_file($main::OutFile);
    $text =~ /stdout: x{906}$/m;
}, 5, 0.05);
Test::More::like($text, qr/stdout: 0 x{2046}$/m, 'TEST 9: the first piece');
Test::More::like($text, qr/stdout: x{2048}$/m, 'TEST 9: the second');
Test::More::like($text, qr/stdout: x{906}$/m, 'TEST 9: the rest');
--- request
GET /?fn=hello
--- response_body
Hello, world!
