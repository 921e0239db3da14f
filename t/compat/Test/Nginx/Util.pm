package Test::Nginx::Util;

# A from-scratch, compatible subset of openresty's Test::Nginx::Util: the
# nginx side of the scaffold (configuration, server root, process control,
# error log access).  Test::Nginx::Socket holds the HTTP client and checks.
#
# Loaded only when the real Test::Nginx is not installed (see
# t/lib/FaasTest.pm); suites must keep running unchanged under the real one.
#
# Deliberate differences from the real module:
#   * nginx runs with "daemon off" as a child of the test process, and the
#     test process is a child subreaper, so nothing is left for PID 1 to
#     reap late;
#   * readiness is "the listening port accepts", not a fixed sleep;
#   * nginx's stderr is kept in logs/nginx.stderr and is part of what the
#     error log checks see, so that "--- must_die" blocks can check the
#     [emerg] line even with a binary whose compiled-in error log is stderr
#     (Debian's);
#   * a block whose nginx fails to start fails instead of bailing out;
#   * no HUP, valgrind, stap, check-leak, benchmark or HTTP/2 modes.

use strict;
use warnings;

use base 'Exporter';

use Config;
use Cwd ();
use File::Path qw(make_path remove_tree);
use File::Spec ();
use IO::Socket::INET ();
use List::Util qw(shuffle);
use POSIX qw(:sys_wait_h SIGQUIT SIGTERM SIGKILL);
use Test::More ();
use Test::LongString ();
use Time::HiRes qw(sleep time);

our $VERSION = '0.29';

our @EXPORT = qw(
    add_block_preprocessor add_cleanup_handler bail_out
    check_accum_error_log config_preamble env_to_nginx error_log_data
    get_nginx_version get_pid_from_pidfile html_dir is_running is_str
    log_level master_off master_on master_process_enabled no_long_string
    no_nginx_manager no_root_location no_shuffle parse_headers parse_time
    repeat_each run_tests server_addr server_name server_port
    server_port_for_client server_root setup_server_root show_all_chars
    sleep_time timeout trim use_hup verbose worker_connections workers
    write_config_file
    $ConfFile $CheckErrorLog $NginxVersion $NoLongString $PidFile
    $RepeatEach $RunTestHelper $ServRoot $ServerAddr $ServerName
    $ServerPort $ServerPortForClient
);

our $Verbose = $ENV{TEST_NGINX_VERBOSE};
our $NginxBinary = $ENV{TEST_NGINX_BINARY} || 'nginx';
our $LoadModules = $ENV{TEST_NGINX_LOAD_MODULES};
our $NoShuffle = $ENV{TEST_NGINX_NO_SHUFFLE} || 0;
our $LogLevel = $ENV{TEST_NGINX_LOG_LEVEL} || 'debug';
our $MasterProcessEnabled = $ENV{TEST_NGINX_MASTER_PROCESS} || 'off';
our $Timeout = $ENV{TEST_NGINX_TIMEOUT} || 3;
our $TestNginxSleep = $ENV{TEST_NGINX_SLEEP} || 0.015;
our $WorkerUser = $ENV{TEST_NGINX_WORKER_USER};
our $EventType = $ENV{TEST_NGINX_EVENT_TYPE};
our $UseValgrind = $ENV{TEST_NGINX_USE_VALGRIND};
our $CheckAccumErrLog = $ENV{TEST_NGINX_CHECK_ACCUM_ERR_LOG};

our $RepeatEach = 1;
our $Workers = 1;
our $WorkerConnections = 64;
our $NoLongString;
our $NoRootLocation = 0;
our $NoNginxManager = 0;
our $ConfigPreamble = '';
our $ServerAddr = '127.0.0.1';
our $ServerName = 'localhost';
our (@EnvToNginx, @BlockPreprocessors, @CleanupHandlers);
our ($RunTestHelper, $CheckErrorLog);
our ($NginxVersion, $NginxRawVersion);
our ($ChildPid, $PrevConfig, $ErrLogFilePos, $StderrFilePos);
our $InSubprocess;

if (defined $WorkerUser && $WorkerUser !~ /^\w+(?:\s+\w+)?$/) {
    die "Bad value in the env TEST_NGINX_WORKER_USER: $WorkerUser\n";
}

our $ServerPort = $ENV{TEST_NGINX_SERVER_PORT} || $ENV{TEST_NGINX_PORT}
                  || free_port();
our $ServerPortForClient = $ENV{TEST_NGINX_CLIENT_PORT} || $ServerPort;

our $ServRoot = $ENV{TEST_NGINX_SERVROOT}
                || File::Spec->rel2abs('t/servroot');
$ENV{TEST_NGINX_SERVER_ROOT} = $ServRoot;

our $LogDir = "$ServRoot/logs";
our $ErrLogFile = "$LogDir/error.log";
our $AccLogFile = "$LogDir/access.log";
our $StderrFile = "$LogDir/nginx.stderr";
our $ValgrindFile = "$LogDir/valgrind.log";
our @Valgrind;                         # the command prefix of spawn_nginx

# as in the real one: valgrind wants a single process
$MasterProcessEnabled = 'off' if $UseValgrind;
our $HtmlDir = "$ServRoot/html";
our $ConfDir = "$ServRoot/conf";
our $ConfFile = "$ConfDir/nginx.conf";
our $PidFile = "$LogDir/nginx.pid";

become_subreaper();


# PID 1 on the test machines reaps orphans about a second late; as a child
# subreaper we inherit whatever nginx or its helpers orphan and reap it at
# once.  Harmless where unsupported.
sub become_subreaper {
    my %nr = (x86_64 => 157, aarch64 => 167, i386 => 172, i686 => 172);
    my ($arch) = $Config{archname} =~ /^(\w+?)-/;

    return if $^O ne 'linux' || !defined $arch || !$nr{$arch};

    # PR_SET_CHILD_SUBREAPER is 36
    syscall($nr{$arch}, 36, 1, 0, 0, 0);
}


# Binding port 0 lets the kernel pick a free port; the small window before
# nginx binds it is acceptable on a test machine.
sub free_port {
    my $sock = IO::Socket::INET->new(
        LocalAddr => '127.0.0.1',
        LocalPort => 0,
        Proto => 'tcp',
        ReuseAddr => 1,
        Listen => 1,
    ) or die "cannot find a free port on 127.0.0.1: $!\n";

    my $port = $sock->sockport;
    close $sock;

    return $port;
}


sub is_running ($) {
    my $pid = shift;
    return kill 0, $pid;
}


sub no_long_string () { $NoLongString = 1 }
sub no_shuffle () { $NoShuffle = 1 }
sub no_root_location () { $NoRootLocation = 1 }
sub no_nginx_manager () { $NoNginxManager = 1 }
sub check_accum_error_log () { $CheckAccumErrLog = 1 }
sub master_on () { $MasterProcessEnabled = 'on' }
sub master_off () { $MasterProcessEnabled = 'off' }
sub config_preamble ($) { $ConfigPreamble = shift }
sub sleep_time () { return $TestNginxSleep }
sub verbose () { return $Verbose }
sub html_dir () { return $HtmlDir }
sub server_root () { return $ServRoot }

sub use_hup () {
    die "use_hup() is not supported by this Test::Nginx subset\n";
}


sub master_process_enabled (@) {
    return $MasterProcessEnabled if !@_;
    $MasterProcessEnabled = shift() ? 'on' : 'off';
}


sub repeat_each (@) {
    $RepeatEach = shift if @_;
    return $RepeatEach;
}


sub workers (@) {
    return $Workers if !@_;
    $Workers = shift;
}


sub worker_connections (@) {
    return $WorkerConnections if !@_;
    $WorkerConnections = shift;
}


sub log_level (@) {
    return $LogLevel if !@_;
    $LogLevel = shift;
}


sub timeout (@) {
    return $Timeout if !@_;
    $Timeout = shift;
}


sub server_addr (@) {
    return $ServerAddr if !@_;
    $ServerAddr = shift;
}


sub server_name (@) {
    return $ServerName if !@_;
    $ServerName = shift;
}


sub server_port (@) {
    return $ServerPort if !@_;
    $ServerPort = shift;
}


sub server_port_for_client (@) {
    return $ServerPortForClient if !@_;
    $ServerPortForClient = shift;
}


sub env_to_nginx (@) {
    die "env_to_nginx: no arguments specified\n" if !@_;

    for my $v (@_) {
        if ($v !~ /^[A-Za-z_]/ || $v =~ /\n/) {
            die "env_to_nginx: bad argument value: $v\n";
        }
        push @EnvToNginx, $v;
    }
}


sub add_block_preprocessor (&) {
    unshift @BlockPreprocessors, shift;
}


sub add_cleanup_handler ($) {
    unshift @CleanupHandlers, shift;
}


sub bail_out (@) {
    cleanup();
    Test::More::BAIL_OUT(join '', @_);
}


sub parse_time ($) {
    my $tm = shift;

    return undef if !defined $tm;

    if ($tm =~ s/([^_a-zA-Z])ms$/$1/) {
        $tm /= 1000;

    } else {
        $tm =~ s/([^_a-zA-Z])s$/$1/;
    }

    return $tm;
}


sub is_str (@) {
    my ($got, $expected, $desc) = @_;

    if (ref $expected && ref $expected eq 'Regexp') {
        return Test::More::like($got, $expected, $desc);
    }

    if ($NoLongString) {
        return Test::More::is($got, $expected, $desc);
    }

    return Test::LongString::is_string($got, $expected, $desc);
}


sub trim ($) {
    my $s = shift;

    return undef if !defined $s;

    $s =~ s/^\s+|\s+$//g;
    $s =~ s/\s+/ /g;

    return $s;
}


sub show_all_chars ($) {
    my $s = shift;

    $s =~ s/\n/\\n/g;
    $s =~ s/\r/\\r/g;
    $s =~ s/\t/\\t/g;

    return $s;
}


# "Name: value" lines; "!Name" means the header must be absent
sub parse_headers ($) {
    my $s = shift;
    my %headers;

    for my $line (split /\n/, $s) {
        $line =~ s/^\s+|\s+$//g;
        next if $line eq '';

        if ($line =~ s/^!\s*//) {
            $headers{$line} = undef;
            next;
        }

        my ($key, $val) = split /\s*:\s*/, $line, 2;
        $headers{$key} = $val;
    }

    return \%headers;
}


sub get_nginx_version () {
    my $out = `$NginxBinary -V 2>&1`;

    if (!defined $out || $? != 0) {
        bail_out("failed to run \"$NginxBinary -V\": " . ($out // ''));
    }

    if ($out =~ m{/(\d+)\.(\d+)\.(\d+)}) {
        $NginxRawVersion = "$1.$2.$3";
        return sprintf "%d.%03d%03d", $1, $2, $3;
    }

    bail_out("cannot parse the output of \"$NginxBinary -V\": $out");
}


sub get_pid_from_pidfile ($) {
    my $name = shift;

    open my $in, '<', $PidFile
        or bail_out("$name - cannot open the pid file $PidFile: $!");
    my $pid = do { local $/; <$in> };
    close $in;
    chomp $pid;

    return $pid;
}


# $TEST_NGINX_FOO in configuration text comes from %ENV, as in the real one
sub expand_env_in_text ($$) {
    my ($text, $name) = @_;

    return undef if !defined $text;

    $text =~ s{\$(TEST_NGINX_[_A-Z0-9]+)}{
        if (!defined $ENV{$1}) {
            bail_out("$name - No environment $1 defined.\n");
        }
        $ENV{$1};
    }ge;

    return $text;
}


sub setup_server_root () {
    if (-d $ServRoot) {
        remove_tree($ConfDir, $HtmlDir, $LogDir, glob("$ServRoot/*_temp"),
                    glob("$ServRoot/*_cache"));
    }

    for my $dir ($ServRoot, $LogDir, $HtmlDir, $ConfDir) {
        next if -d $dir;
        make_path($dir) or bail_out("cannot create $dir: $!");
    }

    open my $out, '>', "$HtmlDir/index.html"
        or bail_out("cannot write $HtmlDir/index.html: $!");
    print $out '<html><head><title>It works!</title></head>'
               . '<body>It works!</body></html>';
    close $out;
}


sub write_config_file ($$) {
    my ($block, $config) = @_;

    my $name = $block->name;
    my $main_config = $block->main_config // '';
    my $http_config = $block->http_config // '';
    my $post_main_config = $block->post_main_config // '';
    my $server_name = $block->server_name // $ServerName;

    if ($LoadModules) {
        $main_config .= join ' ', map { "load_module $_;" }
                                  grep { $_ ne '' } split /\s+/, $LoadModules;
    }

    $main_config = expand_env_in_text($main_config, $name);
    $http_config = expand_env_in_text($http_config, $name);
    $post_main_config = expand_env_in_text($post_main_config, $name);

    my $env = join '', map { my $v = /\s/ ? "'$_'" : $_; "env $v;\n" }
                       @EnvToNginx;

    my $root = $NoRootLocation ? '' : <<"EOC";
        location / {
            root $HtmlDir;
            index index.html index.htm;
        }
EOC

    my $use = defined $EventType ? "use $EventType;" : '';

    my $user = '';
    if (defined $WorkerUser) {
        $user = "user $WorkerUser;\n";

    } elsif ($> == 0) {
        $user = "user root;\n";
    }

    open my $out, '>', $ConfFile
        or bail_out("cannot write $ConfFile: $!");

    print $out <<"EOC";
worker_processes  $Workers;
daemon off;
master_process $MasterProcessEnabled;
error_log $ErrLogFile $LogLevel;
pid       $PidFile;
env LD_PRELOAD;
env LD_LIBRARY_PATH;
env ASAN_OPTIONS;
$env
$main_config

http {
    access_log $AccLogFile;

    default_type text/plain;
    keepalive_timeout  68;

$http_config

    server {
        listen          $ServerAddr:$ServerPort;
        server_name     '$server_name';

        client_max_body_size 30M;

        # Begin preamble config...
$ConfigPreamble
        # End preamble config...

        # Begin test case config...
$config
        # End test case config.

$root    }
}

$post_main_config

events {
    accept_mutex off;
    $use

    worker_connections  $WorkerConnections;
}

$user
EOC

    close $out;
}


sub spawn_nginx () {
    my $pid = fork();

    bail_out("fork() failed: $!") if !defined $pid;

    if ($pid == 0) {
        $InSubprocess = 1;
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', $StderrFile;
        exec @Valgrind, $NginxBinary, '-p', "$ServRoot/", '-c', $ConfFile
            or print STDERR "exec $NginxBinary failed: $!\n";
        POSIX::_exit(127);
    }

    return $pid;
}


# Under TEST_NGINX_USE_VALGRIND an nginx that serves runs under memcheck,
# with t/valgrind.suppress (or ./valgrind.suppress) for nginx's own
# reports; any error, or a definite leak at exit, makes valgrind exit 99,
# which fails the block that stops that nginx.  must_die blocks run nginx
# bare: it exits without freeing anything there.
sub valgrind_command () {
    my @cmd = ('valgrind', '-q', '--error-exitcode=99', '--leak-check=full',
               '--errors-for-leak-kinds=definite',
               '--show-leak-kinds=definite', '--num-callers=50',
               '--track-fds=no', "--log-file=$ValgrindFile");

    for my $file ('t/valgrind.suppress', 'valgrind.suppress') {
        if (-f $file) {
            push @cmd, "--suppressions=$file";
            last;
        }
    }

    return @cmd;
}


sub check_valgrind ($$) {
    my ($name, $status) = @_;

    return if !$UseValgrind || $status >> 8 != 99;

    my $report = '';
    if (open my $in, '<', $ValgrindFile) {
        $report = do { local $/; <$in> };
        close $in;
    }

    Test::More::fail("$name - valgrind reported errors:\n$report");
}


sub port_accepts () {
    my $sock = IO::Socket::INET->new(
        PeerAddr => $ServerAddr,
        PeerPort => $ServerPortForClient,
        Proto => 'tcp',
        Timeout => 0.2,
    );

    return 0 if !$sock;

    close $sock;
    return 1;
}


# Waits until nginx accepts on its port (returns 1) or exits (returns 0 and
# leaves its wait status in $?).  A process that does neither within the
# limit is treated as running.
sub wait_for_nginx ($$) {
    my ($pid, $limit) = @_;
    my $deadline = time + $limit;
    my $step = 0.002;

    while (1) {
        my $rc = waitpid($pid, WNOHANG);
        return 0 if $rc == $pid;

        return 1 if port_accepts();
        return 1 if time > $deadline;

        sleep $step;
        $step *= 1.5 if $step < 0.005;
    }
}


sub wait_exit ($$) {
    my ($pid, $limit) = @_;
    my $deadline = time + $limit;

    while (time < $deadline) {
        my $rc = waitpid($pid, WNOHANG);
        return 1 if $rc == $pid || $rc == -1;
        sleep 0.005;
    }

    return 0;
}


# QUIT (graceful), then TERM, then KILL, each with a bounded wait; the
# process is always reaped before returning.
sub stop_process ($$) {
    my ($pid, $name) = @_;
    my $t0 = time;

    kill SIGQUIT, $pid;

    # valgrind's leak check at exit takes seconds
    if (wait_exit($pid, $UseValgrind ? $Timeout + 30 : $Timeout)) {
        check_valgrind($name, $?);
        warn sprintf("%s - nginx %d exited %.3fs after QUIT\n", $name, $pid,
                     time - $t0) if $Verbose;
        return;
    }

    warn "$name - nginx $pid did not exit on QUIT, sending TERM\n";
    kill SIGTERM, $pid;
    return if wait_exit($pid, 1);

    warn "$name - nginx $pid did not exit on TERM, sending KILL\n";
    kill SIGKILL, $pid;
    waitpid($pid, 0);
}


# Zombies we inherited as a subreaper (an nginx worker whose master was
# killed, say).  Only nginx's are ours to reap: other children, such as a
# supervisor a suite started, are waited for by their owners.
sub reap_orphans () {
    opendir my $dh, '/proc' or return;

    for my $pid (grep { /^\d+$/ } readdir $dh) {
        open my $fh, '<', "/proc/$pid/stat" or next;
        my $stat = <$fh>;
        close $fh;

        next if !defined $stat
                || $stat !~ /^\d+ \((.*)\) (\S) (\d+)/s;

        my ($comm, $state, $ppid) = ($1, $2, $3);

        if ($ppid == $$ && $state eq 'Z' && $comm eq 'nginx') {
            waitpid($pid, 0);
        }
    }

    closedir $dh;
}


sub stop_nginx ($) {
    my $name = shift;

    return if !defined $ChildPid;

    stop_process($ChildPid, $name);
    undef $ChildPid;
    reap_orphans();
}


sub cleanup () {
    $_->() for @CleanupHandlers;
    stop_nginx('cleanup');
}


sub read_lines_from ($$) {
    my ($file, $pos) = @_;

    open my $in, '<', $file or return [];

    seek $in, $$pos, 0 if $$pos;
    my @lines = <$in>;
    $$pos = tell $in if !$CheckAccumErrLog;
    close $in;

    return \@lines;
}


sub error_log_data () {
    # lines from the log phase are written after the response is sent
    sleep $TestNginxSleep * 3;

    my $stderr = read_lines_from($StderrFile, \$StderrFilePos);
    my $lines = read_lines_from($ErrLogFile, \$ErrLogFilePos);

    return [@$stderr, @$lines];
}


sub start_nginx ($$) {
    my ($block, $config) = @_;
    my $name = $block->name;

    stop_nginx($name);

    setup_server_root();
    write_config_file($block, $config);

    $ErrLogFilePos = 0;
    $StderrFilePos = 0;

    if (port_accepts()) {
        Test::More::fail("$name - something else listens on "
                         . "$ServerAddr:$ServerPortForClient");
        return 0;
    }

    my $t0 = time;
    local @Valgrind = $UseValgrind ? valgrind_command() : ();
    my $pid = spawn_nginx();

    if (wait_for_nginx($pid, $UseValgrind ? $Timeout * 10 : $Timeout * 3)) {
        warn sprintf("%s - nginx %d accepting after %.3fs\n", $name, $pid,
                     time - $t0) if $Verbose;
        $ChildPid = $pid;
        return 1;
    }

    my $status = $?;
    my $err = '';
    if (open my $in, '<', $StderrFile) {
        $err = do { local $/; <$in> };
        close $in;
    }

    Test::More::fail("$name - nginx failed to start (wait status $status): "
                     . $err);

    return 0;
}


sub run_must_die ($$$) {
    my ($block, $config, $dry_run) = @_;
    my $name = $block->name;
    my $must_die = $block->must_die;

    for my $i (0 .. $RepeatEach - 1) {
        stop_nginx($name);
        setup_server_root();
        write_config_file($block, $config);

        $ErrLogFilePos = 0;
        $StderrFilePos = 0;

        my $pid = spawn_nginx();
        my $running = wait_for_nginx($pid, $Timeout);
        my $status = $running ? 0 : $?;

        if ($status & 127) {
            Test::More::fail("$name - nginx was killed by signal "
                             . ($status & 127));

        } elsif ($must_die =~ /^\s*(\d+)\s*$/) {
            Test::More::is($status >> 8, $1,
                           "$name - die with the expected exit code");

        } else {
            Test::More::isnt($status, 0, "$name - die as expected");
        }

        $CheckErrorLog->($block, undef, $dry_run, $i, 0);

        if ($running) {
            warn "WARNING: $name - nginx must die but it does not; "
                 . "killing it (req $i)\n";
            stop_process($pid, $name);
        }
    }
}


sub skip_reason ($) {
    my $block = shift;
    my $name = $block->name;

    if (defined(my $spec = $block->skip_eval)) {
        if ($spec !~ /^\s*(\d+)\s*:\s*(.*)/s) {
            bail_out("$name - invalid --- skip_eval spec: $spec");
        }

        my ($n, $code) = ($1, $2);
        my $skip = eval $code;
        bail_out("$name - skip_eval - failed to eval \"$code\": $@") if $@;

        return ($n, 'skip_eval') if $skip;
    }

    if (defined(my $spec = $block->skip_nginx)) {
        if ($spec !~ /^\s*(\d+)\s*:\s*([<>]=?)\s*(\d+)\.(\d+)\.(\d+)
                       (?:\s*:\s*(.*?))?\s*$/x)
        {
            bail_out("$name - invalid --- skip_nginx spec: $spec");
        }

        my ($n, $op) = ($1, $2);
        my $ver = sprintf "%d.%03d%03d", $3, $4, $5;
        my $why = $6 || "nginx version $op $3.$4.$5";

        return ($n, $why) if eval "$NginxVersion $op $ver";
    }

    return;
}


sub run_test ($) {
    my $block = shift;
    my $name = $block->name;

    return if defined $block->SKIP;

    my $config = expand_env_in_text($block->config, $name);
    my $dry_run = 0;

    local $LogLevel = $block->log_level || $LogLevel;

    my ($nskip, $why) = skip_reason($block);

    if (defined $nskip) {
        SKIP: {
            Test::More::skip("$name - $why", $nskip);
        }
        return;
    }

    if (defined $block->must_die) {
        run_must_die($block, $config // '', $dry_run);
        undef $PrevConfig;
        return;
    }

    if (!defined $config) {
        # as in the real one: a block without --- config talks to the
        # nginx that the previous block started
        if (!defined $ChildPid) {
            bail_out("$name - No '--- config' section specified and could "
                     . "not get previous one.");
        }

    } else {
        $PrevConfig = $config;
        return if !start_nginx($block, $config);
    }

    if (defined $block->init) {
        eval $block->init;
        bail_out("$name - init failed: $@") if $@;
    }

    $ErrLogFilePos = 0;
    $StderrFilePos = 0;

    for my $i (0 .. $RepeatEach - 1) {
        $RunTestHelper->($block, $dry_run, $i);
    }
}


sub run_tests () {
    $NginxVersion = get_nginx_version();

    $ENV{TEST_NGINX_SERVER_PORT} //= $ServerPort;

    my @blocks = Test::Base::blocks();
    @blocks = shuffle @blocks if !$NoShuffle;

    for my $block (@blocks) {
        $_->($block) for @BlockPreprocessors;

        $block->set_value('name', "$0 " . $block->name);
        run_test($block);
    }

    cleanup();
}


END {
    return if $InSubprocess;

    local $?;
    cleanup();
}


1;
