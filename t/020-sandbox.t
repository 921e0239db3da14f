# The sandbox: every instance runs in its own namespaces, cgroups and
# seccomp filter.  Each block runs one escape attempt (t/functions/
# escape.c) as a real function and asserts what the function reports, and
# where it makes sense the same call with the limit lifted, so that the
# test proves the limit and not a broken function.
#
# Needs the supervisor's sandbox, which needs root and namespaces: without
# them (--sandbox off) the file is skipped.

use lib 't/lib';
use FaasTest;
use Test::Nginx::Socket;

our $HttpConfig = <<'_EOC_';
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function hello {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/hello;
        handler handle;
    }

    faas_function pid {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/pid;
        handler handle;
    }
_EOC_

# one function per handler of escape.c, with the limits given here
my %escapes = (
    read_code     => "env OTHER_CODE \$TEST_NGINX_FUNCTIONS/hello;",
    shadow        => '',
    write_files   => '',
    net           => '',
    net_on        => 'network on;',
    trace         => '',
    do_mount      => '',
    do_unshare    => '',
    load_module   => '',
    fork_bomb     => 'pids 16;',
    fork_bomb_200 => 'pids 200;',
    alloc         => 'memory 32m;',
    alloc_big     => 'memory 256m;',
    fill_tmp      => 'tmp_size 4m;',
    fill_tmp_big  => 'tmp_size 64m;',
    kill_all      => '',
    proc          => '',
);

for my $name (sort keys %escapes) {
    (my $handler = $name) =~ s/_(on|big|200)$//;

    $HttpConfig .= <<"_EOC_";

    faas_function $name {
        runtime c;
        code \$TEST_NGINX_FUNCTIONS/escape;
        handler $handler;
        timeout 10s;
        $escapes{$name}
    }
_EOC_
}

our $Config = <<'_EOC_';
    location / {
        faas_read_timeout 20s;
        faas_pass $arg_fn;
    }

    # the port of this very server, for the network tests
    location = /net {
        set $args "fn=$arg_fn&port=$server_port";
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

=== TEST 1: an instance is pid 1 of its namespace and sees only itself
--- request
GET /?fn=proc
--- response_body
pid 1 sees: 1
--- no_error_log
[error]



=== TEST 2: another function's code is not there, its own code is
--- request
GET /?fn=read_code
--- response_body
own: ok other: ENOENT
--- no_error_log
[error]



=== TEST 3: no /etc at all, so no /etc/shadow
--- request
GET /?fn=shadow
--- response_body
open /etc/shadow: ENOENT
--- no_error_log
[error]



=== TEST 4: the root and the code are read-only, /tmp writable, noexec
--- request
GET /?fn=write_files
--- response_body
/: EROFS code: EROFS /tmp: ok, noexec
--- no_error_log
[error]



=== TEST 5: network off: 127.0.0.1 is unreachable, even nginx's port
--- request
GET /net?fn=net
--- response_body
connect 127.0.0.1: ENETUNREACH
--- no_error_log
[error]



=== TEST 6: network on: the same call reaches nginx
--- request
GET /net?fn=net_on
--- response_body
connect 127.0.0.1: ok
--- no_error_log
[error]



=== TEST 7: ptrace is killed by seccomp: 502, the cause in the log
--- request
GET /?fn=trace
--- error_code: 502
--- error_log
killed by seccomp (SIGSYS)
--- no_error_log
[alert]



=== TEST 8: mount is killed by seccomp
--- request
GET /?fn=do_mount
--- error_code: 502
--- error_log
killed by seccomp (SIGSYS)
--- no_error_log
[alert]



=== TEST 9: unshare is killed by seccomp
--- request
GET /?fn=do_unshare
--- error_code: 502
--- error_log
killed by seccomp (SIGSYS)
--- no_error_log
[alert]



=== TEST 10: init_module is killed by seccomp
--- request
GET /?fn=load_module
--- error_code: 502
--- error_log
killed by seccomp (SIGSYS)
--- no_error_log
[alert]



=== TEST 11: a fork bomb stops at the pids limit; others keep answering
--- request eval
["GET /?fn=fork_bomb", "GET /?fn=hello"]
--- response_body_like eval
[qr/^forked (1[0-5]|[0-9]): EAGAIN$/, qr/^Hello, world!$/]
--- no_error_log
[error]



=== TEST 12: with the pids limit raised the same function forks 100
--- request
GET /?fn=fork_bomb_200
--- response_body
forked 100: ok
--- no_error_log
[error]



=== TEST 13: past the memory limit: 502 "out of memory"
--- request
GET /?fn=alloc&mb=64
--- error_code: 502
--- error_log
out of memory
--- no_error_log
[alert]



=== TEST 14: others are unharmed by the death
--- request
GET /?fn=hello
--- response_body
Hello, world!
--- no_error_log
[error]



=== TEST 15: the same allocation under a higher limit succeeds
--- request
GET /?fn=alloc_big&mb=64
--- response_body
allocated 64 MB
--- no_error_log
[error]



=== TEST 16: /tmp fills up at tmp_size: ENOSPC
--- request
GET /?fn=fill_tmp
--- response_body_like
^wrote [0-4] MB: ENOSPC$
--- no_error_log
[error]



=== TEST 17: a larger tmp_size takes the same 32 MB
--- request
GET /?fn=fill_tmp_big
--- response_body
wrote 32 MB: ok
--- no_error_log
[error]



=== TEST 18: kill(-1, SIGKILL) finds nobody to kill outside the instance
--- request eval
["GET /?fn=pid", "GET /?fn=kill_all", "GET /?fn=pid"]
--- response_body_like eval
[qr/^pid=1 calls=1$/, qr/^kill\(-1, SIGKILL\): ESRCH$/,
 qr/^pid=1 calls=2$/]
--- no_error_log
[error]



=== TEST 19: instances die with a killed supervisor, pid namespace or not
--- init
FaasTest::faas_http(GET => '/?fn=pid', timeout => 5);
Test::More::ok(scalar FaasTest::faas_instances('pid'),
               "TEST 19: the pid function has an instance");
# all of them, those of the previous nginx too
my @pids = FaasTest::faas_instances();
my $sup = FaasTest::faas_supervisor_pid();
kill 'KILL', $sup;
waitpid($sup, 0);
$FaasTest::Pid = undef;
# PR_SET_PDEATHSIG: re-parented to us (a subreaper) and killed at once
my $gone = FaasTest::faas_wait_for(sub {
    my $t = FaasTest::proc_table();
    for my $pid (@pids) {
        waitpid($pid, POSIX::WNOHANG());
    }
    return !grep { $t->{$_} && $t->{$_}{state} ne 'Z' } @pids;
}, 5, 0.01);
Test::More::ok($gone, "TEST 19: the instances died with the supervisor");
# a supervisor killed with SIGKILL cannot remove its cgroups
for my $dir (glob("/sys/fs/cgroup/{memory,pids}/faas-$sup/i*"),
             glob("/sys/fs/cgroup/{memory,pids}/faas-$sup"))
{
    rmdir $dir;
}
FaasTest::faas_start_supervisor();
my $ok = FaasTest::faas_wait_for(sub {
    my ($status) = FaasTest::faas_http(GET => '/?fn=hello', timeout => 2);
    return $status == 200;
}, 5, 0.05);
Test::More::ok($ok, "TEST 19: a new supervisor answers");
--- request
GET /?fn=pid
--- response_body_like
^pid=1 calls=1$
--- no_error_log
[alert]
[crit]



=== TEST 20: a failed sandbox step is a 502 naming the step and errno
--- http_config
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function badroot {
        runtime c;
        code /proc/sys;
        handler handle;
    }
--- config
    location / {
        faas_pass badroot;
    }
--- request
GET /
--- error_code: 502
--- error_log
sandbox: code dir below /dev, /proc or /sys /proc/sys: EINVAL
--- no_error_log
[alert]



=== TEST 21: a memory limit under 1m is a configuration error
--- http_config
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function small {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/hello;
        handler handle;
        memory 512k;
    }
--- config
    location = /small {
        faas_pass small;
    }
--- must_die
--- error_log eval
["[emerg]", qr/"memory" directive must be between 1048576 and \d+ in \S+nginx\.conf:\d+/]



=== TEST 22: network takes on or off only
--- http_config
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function net {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/hello;
        handler handle;
        network maybe;
    }
--- config
    location = /net {
        faas_pass net;
    }
--- must_die
--- error_log eval
["[emerg]", qr/invalid value "maybe" in "network" directive, it must be "on" or "off" in \S+nginx\.conf:\d+/]
