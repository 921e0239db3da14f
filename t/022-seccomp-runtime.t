# The runtimes' seccomp allowlists (docs/security.md): on top of the base
# filter, each runtime loads its own list from the FILTER frame before any
# of the function's code runs.  A call left out of it kills the instance:
# a 502 and an error-log line naming the function and the call; a child
# that tries to exec a program dies of SIGSYS.  The same function with
# "seccomp base" works, so the tests prove the limit, not a broken
# function.  Ordinary code (files, threads, hashing, timers) still runs
# under the list.
#
# Needs the supervisor's sandbox: without it (--sandbox off) the file is
# skipped.

use lib 't/lib';
use FaasTest;
use Time::HiRes ();
use Test::Nginx::Socket;

our $HttpConfig = <<'_EOC_';
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;
_EOC_

# name => [runtime, code, handler]; each also as NAME_base, "seccomp base"
my %functions = (
    c_true      => ['c', '$TEST_NGINX_FUNCTIONS/seccomp', 'run_true'],
    c_exec      => ['c', '$TEST_NGINX_FUNCTIONS/seccomp', 'exec_self'],
    c_uring     => ['c', '$TEST_NGINX_FUNCTIONS/seccomp', 'uring'],
    py_true     => ['python3', '$TEST_NGINX_FAAS_SRC/python/seccomp',
                    'main.run_true'],
    py_exec     => ['python3', '$TEST_NGINX_FAAS_SRC/python/seccomp',
                    'main.exec_self'],
    py_ordinary => ['python3', '$TEST_NGINX_FAAS_SRC/python/seccomp',
                    'main.ordinary'],
    js_true     => ['nodejs', '$TEST_NGINX_FAAS_SRC/nodejs/seccomp',
                    'index.runTrue'],
    js_setuid   => ['nodejs', '$TEST_NGINX_FAAS_SRC/nodejs/seccomp',
                    'index.setuid'],
    js_ordinary => ['nodejs', '$TEST_NGINX_FAAS_SRC/nodejs/seccomp',
                    'index.ordinary'],
);

for my $name (sort keys %functions) {
    my ($runtime, $code, $handler) = @{$functions{$name}};

    for my $mode ('runtime', 'base') {
        my $fn = $mode eq 'base' ? "${name}_base" : $name;

        $HttpConfig .= <<"_EOC_";

    faas_function $fn {
        runtime $runtime;
        code $code;
        handler $handler;
        timeout 10s;
        seccomp $mode;
    }
_EOC_
    }
}

our $Config = <<'_EOC_';
    location / {
        faas_read_timeout 20s;
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

# The call's name comes from the kernel's audit record of the kill, and
# printk lets 10 through per 5 s: after 5 s without one (a suite before
# this one may have used them up), the blocks that check the name come
# first, before the other kills (a child's, or a thread's) use them up.
Time::HiRes::sleep(5.5);

no_shuffle();
no_root_location();
run_tests();

__DATA__

=== TEST 3: C: execve() in the instance is killed, the call named
--- request
GET /?fn=c_exec
--- error_code: 502
--- error_log eval
qr/function "c_exec".* killed by seccomp \(SIGSYS\) in execve\(\)/
--- no_error_log
[alert]



=== TEST 5: C: io_uring_setup() is killed, the call named
--- request
GET /?fn=c_uring
--- error_code: 502
--- error_log eval
qr/function "c_uring".* killed by seccomp \(SIGSYS\) in io_uring_setup\(\)/
--- no_error_log
[alert]



=== TEST 9: Python: os.execv() in the instance is killed, the call named
--- request
GET /?fn=py_exec
--- error_code: 502
--- error_log eval
qr/function "py_exec".* killed by seccomp \(SIGSYS\) in execve\(\)/
--- no_error_log
[alert]



=== TEST 14: Node.js: setuid() in the instance is killed, the call named
--- request
GET /?fn=js_setuid
--- error_code: 502
--- error_log eval
qr/function "js_setuid".* killed by seccomp \(SIGSYS\) in setuid\(\)/
--- no_error_log
[alert]



=== TEST 1: C: a child's execve() dies of SIGSYS under the allowlist
--- request
GET /?fn=c_true
--- response_body
true: signal 31
--- no_error_log
[error]



=== TEST 2: C: the same child runs /usr/bin/true under "seccomp base"
--- request
GET /?fn=c_true_base
--- response_body
true: exit 0
--- no_error_log
[error]



=== TEST 4: C: execve() under "seccomp base" fails as the path says
--- request
GET /?fn=c_exec_base
--- response_body
execve: ENOENT
--- no_error_log
[error]



=== TEST 6: C: io_uring_setup() is not killed under "seccomp base"
--- request
GET /?fn=c_uring_base
--- response_body_like
^io_uring_setup: (ok|E[A-Z]+)$
--- no_error_log
[error]



=== TEST 7: Python: subprocess.run() of /usr/bin/true: the child dies
--- request
GET /?fn=py_true
--- response_body
true: returncode -31
--- no_error_log
[error]



=== TEST 8: Python: the same under "seccomp base" runs it
--- request
GET /?fn=py_true_base
--- response_body
true: exit 0
--- no_error_log
[error]



=== TEST 10: Python: os.execv() under "seccomp base" raises
--- request
GET /?fn=py_exec_base
--- response_body
execve: FileNotFoundError
--- no_error_log
[error]



=== TEST 11: Python: ordinary code runs under the allowlist
--- request
GET /?fn=py_ordinary
--- response_body
ba7816bf {"a": [1, 2]} 2026-11-26 True ['main.py'] 1000 ['y'] 16 True
--- no_error_log
[error]



=== TEST 12: Node.js: execFileSync() of /usr/bin/true: the child dies
--- request
GET /?fn=js_true
--- response_body
true: SIGSYS
--- no_error_log
[error]



=== TEST 13: Node.js: the same under "seccomp base" runs it
--- request
GET /?fn=js_true_base
--- response_body
true: exit 0
--- no_error_log
[error]



=== TEST 15: Node.js: setuid() to its own uid under "seccomp base"
--- request
GET /?fn=js_setuid_base
--- response_body
setuid: ok
--- no_error_log
[error]



=== TEST 16: Node.js: ordinary code runs under the allowlist
--- request
GET /?fn=js_ordinary
--- response_body
1000 ["b"] ba7816bf 16 aGk= t 16 true w
--- no_error_log
[error]
