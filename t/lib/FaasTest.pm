package FaasTest;

# Glue between the ngx_faas suites and Test::Nginx, for the real
# Test::Nginx::Socket and for the subset in t/compat alike:
#
#     use lib 't/lib';
#     use FaasTest;                        # runner, module, supervisor
#     use FaasTest '--pool', 'c=1';        # ... with supervisor options
#     use Test::Nginx::Socket 'no_plan';
#
# At compile time it points Test::Nginx at the module (TEST_NGINX_*
# variables must be set before Test::Nginx::Util is loaded: it reads them
# once), picks the real Test::Nginx when it is installed and ours otherwise,
# and starts one faas-supervisor for the whole file, with its socket and
# logs in t/servroot-faas/ (beside the server root, which the real
# Test::Nginx empties for every block).  At exit it stops the supervisor and
# checks that it left nothing behind: no zombies, no instances, no [alert]
# or sanitizer report in its log, exit status 0.
#
# Configuration sections use $TEST_NGINX_FAAS_SOCKET (the supervisor's
# socket), $TEST_NGINX_FUNCTIONS (the built test functions) and
# $TEST_NGINX_FAAS_SRC (t/functions/, for code that needs no build).
#
# Environment:
#   FAAS_BUILD               build directory (default: <repo>/build)
#   FAAS_SUPERVISOR          supervisor binary (default: $FAAS_BUILD/...)
#   FAAS_SUPERVISOR_WRAPPER  command prefix, e.g. "valgrind -q
#                            --error-exitcode=99 --leak-check=full"
#   FAAS_SUPERVISOR_ARGS     more arguments, e.g. "--sandbox off"
#   FAAS_REQUIRE_BUILD       fail, instead of skipping, when the module or
#                            the supervisor is not built
#
# "use FaasTest 'nginx_only';" picks the runner and nothing else (for tests
# of the runner itself against plain nginx).

use strict;
use warnings;

use Config;
use Cwd ();
use File::Basename ();
use File::Path qw(make_path remove_tree);
use File::Spec ();
use IO::Select ();
use IO::Socket::INET ();
use IO::Socket::UNIX ();
use JSON::PP ();
use POSIX qw(:sys_wait_h SIGTERM SIGKILL);
use Socket qw(SOCK_STREAM);
use Test::More ();
use Time::HiRes qw(sleep time);

use base 'Exporter';

our @EXPORT = qw(
    faas_build_dir faas_instances faas_start_supervisor faas_stop_supervisor
    faas_supervisor_log faas_supervisor_pid faas_http faas_http_parallel
    faas_socket_path faas_wait_for faas_kill_supervisor faas_status
    faas_function_status faas_require_sandbox faas_nginx_master_pid
    faas_nginx_worker_pids
);

our $Top = Cwd::abs_path(File::Basename::dirname(__FILE__) . '/../..');
our $Build = Cwd::abs_path($ENV{FAAS_BUILD} // "$Top/build")
             // ($ENV{FAAS_BUILD} // "$Top/build");
our $ServRoot = $ENV{TEST_NGINX_SERVROOT}
                || File::Spec->rel2abs('t/servroot');

# Not inside the server root: the real Test::Nginx empties and removes it
# for every block, and both live across blocks.
our $Dir = "$ServRoot-faas";
our $Socket = "$Dir/supervisor.sock";
our $LogFile = "$Dir/faas-supervisor.log";
our $StderrFile = "$Dir/faas-supervisor.stderr";

our ($Pid, $Started, $NginxOnly, $ParentPid);
our @SupervisorArgs;
our @Failures;


sub import {
    my ($class, @args) = @_;

    $NginxOnly = grep { $_ eq 'nginx_only' } @args;

    # the rest are the file's own supervisor options: "--pool", "c=1"
    @SupervisorArgs = grep { $_ ne 'nginx_only' } @args;

    setup_env();
    pick_runner();

    if (!$NginxOnly) {
        check_build();

        # an interrupted run still stops the supervisor (END blocks run on
        # exit(), not on a deadly signal)
        my %signo = (HUP => 1, INT => 2, TERM => 15);

        for my $sig (keys %signo) {
            $SIG{$sig} = sub { exit 128 + $signo{$sig} } if !$SIG{$sig};
        }

        faas_start_supervisor();
    }

    $class->export_to_level(1, $class, @EXPORT);
}


sub setup_env {
    if (!defined $ENV{TEST_NGINX_BINARY}) {
        $ENV{TEST_NGINX_BINARY} = '/usr/sbin/nginx';

        if (real_test_nginx() && !startup_log_in_prefix()) {
            $ENV{FAAS_NGINX_BINARY} = $ENV{TEST_NGINX_BINARY};
            $ENV{TEST_NGINX_BINARY} = "$Top/t/lib/nginx-startup-log";
        }
    }

    return if $NginxOnly;

    if (length $Socket > 100) {
        # sun_path holds 108 bytes
        $Dir = "/tmp/faas-test-$$";
        $Socket = "$Dir/supervisor.sock";
        $LogFile = "$Dir/faas-supervisor.log";
        $StderrFile = "$Dir/faas-supervisor.stderr";
    }

    $ENV{TEST_NGINX_LOAD_MODULES} = "$Build/ngx_http_faas_module.so";
    $ENV{TEST_NGINX_FAAS_SOCKET} = $Socket;
    $ENV{TEST_NGINX_FUNCTIONS} = "$Build/functions";
    $ENV{TEST_NGINX_FAAS_SRC} = "$Top/t/functions";
}


sub real_test_nginx {
    return grep { !ref && -f "$_/Test/Nginx/Socket.pm" } @INC;
}


# Where nginx logs before it has read its error_log directive: the real
# Test::Nginx checks a --- must_die block's [emerg] in logs/error.log.
sub startup_log_in_prefix {
    my $v = `$ENV{TEST_NGINX_BINARY} -V 2>&1` // '';

    return 1 if $v !~ /--error-log-path=(\S+)/;

    return $1 ne 'stderr' && $1 !~ m{^/};
}


# A real Test::Nginx always wins: ours is appended to @INC, not prepended.
sub pick_runner {
    return if eval { require Test::Nginx::Socket; 1 };

    die $@ if $@ !~ m{^Can't locate Test/Nginx/Socket\.pm};

    push @INC, "$Top/t/compat";
    require Test::Nginx::Socket;
}


sub supervisor_binary {
    return $ENV{FAAS_SUPERVISOR} || "$Build/faas-supervisor";
}


sub check_build {
    my @missing = grep { !-e $_ } supervisor_binary(),
                                  $ENV{TEST_NGINX_LOAD_MODULES},
                                  $ENV{TEST_NGINX_FUNCTIONS};

    return if !@missing;

    my $msg = "not built: @missing (run ./build.sh)";

    die "$msg\n" if $ENV{FAAS_REQUIRE_BUILD};

    Test::More::plan(skip_all => $msg);
}


sub become_subreaper {
    my %nr = (x86_64 => 157, aarch64 => 167, i386 => 172, i686 => 172);
    my ($arch) = $Config{archname} =~ /^(\w+?)-/;

    return if $^O ne 'linux' || !defined $arch || !$nr{$arch};

    # PR_SET_CHILD_SUBREAPER: the real Test::Nginx daemonizes nginx, and
    # PID 1 here reaps orphans late; as a subreaper we get them at once.
    syscall($nr{$arch}, 36, 1, 0, 0, 0);
}


sub faas_build_dir { return $Build }
sub faas_socket_path { return $Socket }
sub faas_supervisor_pid { return $Pid }


sub faas_supervisor_log {
    open my $in, '<', $LogFile or return '';
    local $/;
    my $text = <$in>;
    close $in;

    return $text // '';
}


# Skips the whole file when the supervisor runs without its sandbox (not
# root, or --sandbox off): what it tests is the sandbox's.
sub faas_require_sandbox {
    return if faas_supervisor_log() =~ /sandbox on/;

    Test::More::plan(skip_all => 'the supervisor runs with --sandbox off '
                                 . '(not root?)');
}


# faas_status (a location "= /status" of the block's nginx) as decoded
# JSON, or undef; and the entry of one function there, undef until it is
# registered
sub faas_status {
    my ($st, $h, $body) = faas_http(GET => '/status');

    return undef if $st != 200;

    return eval { JSON::PP::decode_json($body) };
}


sub faas_function_status {
    my $name = shift;
    my $json = faas_status() or return undef;
    my ($fn) = grep { $_->{name} eq $name } @{ $json->{functions} };

    return $fn;
}


sub faas_wait_for {
    my ($cond, $limit, $step) = @_;
    my $deadline = time + $limit;

    $step //= 0.01;

    while (1) {
        my $v = $cond->();
        return $v if $v;
        return undef if time > $deadline;
        sleep $step;
    }
}


sub socket_accepts {
    my $sock = IO::Socket::UNIX->new(Type => SOCK_STREAM, Peer => $Socket);

    return 0 if !$sock;

    close $sock;
    return 1;
}


sub faas_start_supervisor {
    die "faas-supervisor is already running\n" if defined $Pid;

    become_subreaper();

    if (!$Started) {
        remove_tree($Dir);
        make_path($Dir) or die "cannot create $Dir: $!\n";
        $Started = 1;
    }

    unlink $Socket;

    my @wrapper = split ' ', $ENV{FAAS_SUPERVISOR_WRAPPER} // '';
    my @cmd = (@wrapper, supervisor_binary(),
               '--listen', $Socket, '--socket-mode', '0666',
               '--log-file', $LogFile, '--log-level', 'debug',
               @SupervisorArgs,
               split(' ', $ENV{FAAS_SUPERVISOR_ARGS} // ''));

    $ParentPid = $$;

    my $pid = fork();
    die "fork() failed: $!\n" if !defined $pid;

    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', $StderrFile;
        open STDERR, '>>', $StderrFile;
        exec { $cmd[0] } @cmd
            or print STDERR "exec $cmd[0] failed: $!\n";
        POSIX::_exit(127);
    }

    $Pid = $pid;

    # valgrind needs seconds to start, the bare binary milliseconds
    my $limit = @wrapper ? 60 : 10;

    my $up = faas_wait_for(sub {
        return 1 if socket_accepts();
        return -1 if waitpid($pid, WNOHANG) == $pid;
        return 0;
    }, $limit, 0.005);

    if (!$up || $up < 0) {
        my $how = $up ? "exited with status $?" : "did not listen in ${limit}s";
        kill SIGKILL, $pid if !$up;
        waitpid($pid, 0) if !$up;
        undef $Pid;

        die "faas-supervisor ($cmd[0]) $how:\n" . slurp($StderrFile)
            . slurp($LogFile);
    }

    return $pid;
}


sub slurp {
    my $file = shift;

    open my $in, '<', $file or return '';
    local $/;
    my $text = <$in>;
    close $in;

    return $text // '';
}


# the test's nginx (master_on()): the master, from its pid file, and the
# workers, its children that are not zombies
sub faas_nginx_master_pid {
    my $file = Test::Nginx::Util::server_root() . '/logs/nginx.pid';

    open my $in, '<', $file or return undef;
    my $pid = <$in>;
    close $in;

    return defined $pid && $pid =~ /^(\d+)/ ? $1 : undef;
}


sub faas_nginx_worker_pids {
    my $master = faas_nginx_master_pid() // return ();
    my $t = proc_table();

    return grep { $t->{$_}{ppid} == $master && $t->{$_}{state} ne 'Z' }
           keys %$t;
}


sub proc_table {
    my %t;

    opendir my $dh, '/proc' or return \%t;

    for my $pid (grep { /^\d+$/ } readdir $dh) {
        open my $fh, '<', "/proc/$pid/stat" or next;
        my $stat = <$fh>;
        close $fh;

        next if !defined $stat || $stat !~ /^\d+ \((.*)\) (\S) (\d+)/s;

        $t{$pid} = { comm => $1, state => $2, ppid => $3 };
    }

    closedir $dh;

    return \%t;
}


sub proc_env {
    my $pid = shift;

    open my $fh, '<', "/proc/$pid/environ" or return {};
    local $/;
    my $env = <$fh> // '';
    close $fh;

    return { map { split /=/, $_, 2 } grep { /=/ } split /\0/, $env };
}


# Live instances of a function: the supervisor's descendants whose
# environment says FAAS_FUNCTION=<name>; only the topmost of a chain counts,
# so that a sandbox helper or a forking function is not counted twice.
sub faas_instances {
    my $function = shift;
    my @found;

    return wantarray ? () : 0 if !defined $Pid;

    my $t = proc_table();
    my %kids;

    for my $pid (keys %$t) {
        push @{ $kids{$t->{$pid}{ppid}} }, $pid;
    }

    my @todo = @{ $kids{$Pid} // [] };

    while (defined(my $pid = shift @todo)) {
        next if $t->{$pid}{state} eq 'Z';

        my $fn = proc_env($pid)->{FAAS_FUNCTION};

        if (defined $fn && (!defined $function || $fn eq $function)) {
            push @found, $pid;
            next;
        }

        push @todo, @{ $kids{$pid} // [] };
    }

    @found = sort { $a <=> $b } @found;

    return wantarray ? @found : scalar @found;
}


sub faas_stop_supervisor {
    return if !defined $Pid;

    my $pid = $Pid;
    undef $Pid;

    my $before = proc_table();
    my @kids = grep { $before->{$_}{ppid} == $pid } keys %$before;

    kill SIGTERM, $pid;

    my $gone = faas_wait_for(sub { waitpid($pid, WNOHANG) == $pid }, 15,
                             0.005);
    my $status = $?;

    if (!$gone) {
        kill SIGKILL, $pid;
        waitpid($pid, 0);
        push @Failures, "faas-supervisor $pid did not exit within 15 s "
                        . "of SIGTERM";

    } elsif ($status != 0) {
        my $what = $status & 127 ? 'killed by signal ' . ($status & 127)
                                 : 'exited with status ' . ($status >> 8);
        my $who = $ENV{FAAS_SUPERVISOR_WRAPPER}
                  ? "faas-supervisor under \"$ENV{FAAS_SUPERVISOR_WRAPPER}\""
                  : 'faas-supervisor';
        push @Failures, "$who $what on SIGTERM:\n" . tail(slurp($StderrFile));
    }

    # The supervisor reaps its instances before it exits; any left now were
    # re-parented to us (a subreaper) or are on their way out.
    my $after = proc_table();
    my @left = grep { $after->{$_} && $after->{$_}{state} ne 'Z' } @kids;

    if (@left) {
        push @Failures, "instances left behind by faas-supervisor $pid: "
                        . join(', ', map { "$_ ($after->{$_}{comm})" } @left);
        kill SIGKILL, @left;
    }

    # what was re-parented to us is ours to reap
    for my $kid (@kids) {
        next if !$after->{$kid} || $after->{$kid}{ppid} != $$;
        waitpid($kid, grep({ $_ == $kid } @left) ? 0 : WNOHANG);
    }
}


# kill -9: the supervisor gets no chance to clean up.  Its instances
# notice (their parent-death signal) and are re-parented to us: they are
# reaped here, and any still alive after 5 s is a failure.  Under load the
# supervisor may spawn one after any snapshot of its children, so what
# counts is every child of ours that was not ours before the kill.
sub faas_kill_supervisor {
    return if !defined $Pid;

    my $pid = $Pid;
    undef $Pid;

    my $before = proc_table();
    my %ours = map { $_ => 1 }
               grep { $before->{$_}{ppid} == $$ } keys %$before;

    kill SIGKILL, $pid;
    waitpid($pid, 0);

    my %orphans = map { $_ => 1 }
                  grep { $before->{$_}{ppid} == $pid } keys %$before;
    my $quiet = 0;

    my $gone = faas_wait_for(sub {
        my $t = proc_table();

        $orphans{$_} = 1
            for grep { $t->{$_}{ppid} == $$ && !$ours{$_} } keys %$t;

        for my $kid (keys %orphans) {
            my $rc = waitpid($kid, WNOHANG);
            delete $orphans{$kid}
                if $rc == $kid || $rc == -1 || !$t->{$kid};
        }

        # settled: none left, and none arrived in the last 50 ms
        $quiet = %orphans ? 0 : $quiet + 1;
        return $quiet >= 5;
    }, 5, 0.01);

    if (!$gone && %orphans) {
        my @left = sort keys %orphans;
        push @Failures, "instances outlived a killed faas-supervisor: @left";
        kill SIGKILL, @left;
        waitpid($_, 0) for @left;
    }

    return $pid;
}


sub tail {
    my $text = shift;
    my @lines = split /\n/, $text;

    @lines = @lines[-40 .. -1] if @lines > 40;

    return join "\n", @lines;
}


sub check_leftovers {
    my $t = proc_table();
    my (@zombies, @runtimes);

    for my $pid (keys %$t) {
        next if $t->{$pid}{ppid} != $$;

        if ($t->{$pid}{state} eq 'Z') {
            push @zombies, "$pid ($t->{$pid}{comm})";
            waitpid($pid, 0);

        } elsif ($t->{$pid}{comm} =~ /^faas-runtime/) {
            push @runtimes, $pid;
        }
    }

    push @Failures, "zombie children: @zombies" if @zombies;

    if (@runtimes) {
        push @Failures, "faas runtime processes left: @runtimes";
        kill SIGKILL, @runtimes;
        waitpid($_, 0) for @runtimes;
    }

    my $log = faas_supervisor_log() . slurp($StderrFile);
    # ld.so's complaint: an LD_PRELOAD (t/shortio) did not reach instances
    my @bad = grep { /\[alert\]|AddressSanitizer|LeakSanitizer|runtime error:
                     |cannot\ be\ preloaded/x }
              split /\n/, $log;

    push @Failures, "supervisor log has alerts or sanitizer reports:\n"
                    . join("\n", @bad[0 .. ($#bad < 19 ? $#bad : 19)])
        if @bad;
}


# A minimal HTTP/1.1 client for checks that do not fit a block (run from
# "--- init" or plain Perl); returns (status, {lc name => value}, body).
sub faas_http {
    my ($method, $uri, %opt) = @_;
    my $port = $opt{port} // $Test::Nginx::Util::ServerPortForClient;
    my $timeout = $opt{timeout} // 10;
    my $body = $opt{body} // '';

    my $sock = IO::Socket::INET->new(
        PeerAddr => '127.0.0.1',
        PeerPort => $port,
        Proto => 'tcp',
        Timeout => $timeout,
    ) or return (0, {}, "connect: $!");

    my $req = "$method $uri HTTP/1.1\r\nHost: localhost\r\n"
              . "Connection: close\r\n";
    $req .= "$_: $opt{headers}{$_}\r\n" for sort keys %{ $opt{headers} // {} };
    $req .= 'Content-Length: ' . length($body) . "\r\n"
        if length $body || $method eq 'POST';
    $req .= "\r\n$body";

    local $SIG{PIPE} = 'IGNORE';
    print {$sock} $req;

    my $resp = '';
    my $sel = IO::Select->new($sock);

    while ($sel->can_read($timeout)) {
        my $n = sysread $sock, my $buf, 65536;
        last if !$n;
        $resp .= $buf;
    }

    close $sock;

    return parse_http($resp);
}


sub parse_http {
    my $resp = shift;

    my ($head, $body) = split /\r\n\r\n/, $resp, 2;
    return (0, {}, $resp) if !defined $head || $head !~ m{^HTTP/1\.\d (\d+)};

    my $status = $1;
    my %h;

    for my $line (split /\r\n/, $head) {
        next if $line !~ /^([^:]+):\s*(.*)$/;
        my $k = lc $1;
        $h{$k} = exists $h{$k} ? "$h{$k}, $2" : $2;
    }

    $body //= '';

    if (($h{'transfer-encoding'} // '') eq 'chunked') {
        my $out = '';
        while ($body =~ s/^([0-9a-fA-F]+)[^\r\n]*\r\n//) {
            my $size = hex $1;
            last if $size == 0;
            $out .= substr $body, 0, $size, '';
            $body =~ s/^\r\n//;
        }
        $body = $out;
    }

    return ($status, \%h, $body);
}


# $n requests of $uri at once; $on_tick is called every few milliseconds
# while they run (to sample processes, say).  Returns a list of
# [status, headers, body, seconds].
sub faas_http_parallel {
    my ($n, $uri, %opt) = @_;
    my $port = $opt{port} // $Test::Nginx::Util::ServerPortForClient;
    my $timeout = $opt{timeout} // 30;
    my $sel = IO::Select->new;
    my (%conn, @results);

    for my $i (0 .. $n - 1) {
        my $sock = IO::Socket::INET->new(
            PeerAddr => '127.0.0.1',
            PeerPort => $port,
            Proto => 'tcp',
            Timeout => 5,
        );

        if (!$sock) {
            $results[$i] = [0, {}, "connect: $!", 0];
            next;
        }

        print {$sock} "GET $uri HTTP/1.1\r\nHost: localhost\r\n"
                      . "Connection: close\r\n\r\n";
        $sock->blocking(0);
        $sel->add($sock);
        $conn{fileno $sock} = { sock => $sock, i => $i, buf => '',
                                start => time };
    }

    my $deadline = time + $timeout;

    while ($sel->count && time < $deadline) {
        $opt{on_tick}->() if $opt{on_tick};

        for my $sock ($sel->can_read(0.01)) {
            my $c = $conn{fileno $sock};
            my $r = sysread $sock, my $buf, 65536;

            next if !defined $r && $!{EAGAIN};

            if ($r) {
                $c->{buf} .= $buf;
                next;
            }

            $sel->remove($sock);
            close $sock;
            $results[$c->{i}] = [parse_http($c->{buf}), time - $c->{start}];
        }
    }

    for my $c (values %conn) {
        next if defined $results[$c->{i}];
        $results[$c->{i}] = [0, {}, 'timed out', $timeout];
        close $c->{sock};
    }

    return @results;
}


END {
    return if !defined $ParentPid || $$ != $ParentPid;

    local $?;

    faas_stop_supervisor();
    check_leftovers() if $Started;

    my $tb = Test::More->builder;
    my $plan = $tb->has_plan // '';

    # With a fixed plan an extra passing test would break the count; a
    # failure fails the file either way.
    for my $f (@Failures) {
        Test::More::fail("faas-supervisor shutdown: $f");
    }

    if (!@Failures && $plan eq 'no_plan' && $Started) {
        Test::More::pass('faas-supervisor stopped cleanly, nothing left '
                         . 'behind');
    }
}


1;
