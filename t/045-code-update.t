# Code updates: when a function's code directory changes, calls already
# running finish on the code they loaded, new calls get instances with the
# new code, the old instances drain while as many of the new code are
# prepared, and no call fails or sees a mix.

use lib 't/lib';
use FaasTest;
use File::Path qw(make_path);
use Time::HiRes ();
use Test::Nginx::Socket 'no_plan';

our $Code;

BEGIN {
    $Code = "$FaasTest::Dir/code/upd";
    $ENV{TEST_NGINX_FAAS_UPDATE_DIR} = $Code;
}

# a deploy as it should be done: the new file renamed into place
sub deploy {
    my $version = shift;
    my $tmp = "$Code/.main.py.new";

    make_path($Code);

    open my $fh, '>', $tmp or die "$tmp: $!";
    print {$fh} <<"_PY_";
import time


def handle(event, context):
    if event["queryParameters"].get("slow"):
        time.sleep(0.8)
    return "$version\\n"
_PY_
    close $fh;
    chmod 0644, $tmp;
    rename $tmp, "$Code/main.py" or die "rename: $!";
}

main::deploy('v1');

our $HttpConfig = <<'_EOC_';
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function upd {
        runtime python3;
        code $TEST_NGINX_FAAS_UPDATE_DIR;
        handler main.handle;
        max_instances 4;
        timeout 5s;
    }

    faas_function updc {
        runtime python3;
        code $TEST_NGINX_FAAS_UPDATE_DIR;
        handler main.handle;
        max_instances 2;
        concurrency 4;
        timeout 5s;
    }
_EOC_

our $Config = <<'_EOC_';
    location / {
        add_header X-Instance $faas_instance always;
        faas_pass $arg_fn;
    }

    location = /status {
        faas_status;
    }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value('http_config', $HttpConfig)
        if !defined $block->http_config;
    $block->set_value('config', $Config) if !defined $block->config;
});

sub instances {
    my $f = FaasTest::faas_function_status('upd');

    return $f ? $f->{instances} : undef;
}

no_shuffle();
no_root_location();
run_tests();

__DATA__

=== TEST 1: the first version answers
--- request
GET /?fn=upd
--- response_body
v1
--- no_error_log
[error]



=== TEST 2: an update during four running calls: they finish on v1, then v2
--- init
my $deployed = 0;
my @r = FaasTest::faas_http_parallel(4, '/?fn=upd&slow=1', on_tick => sub {
    # once all four run (they sleep 0.8 s; cold starts on a loaded
    # machine can take longer than that): deploy under them
    return if $deployed;
    my $i = main::instances() or return;
    if ($i->{busy} == 4) {
        main::deploy('v2');
        $deployed = 1;
    }
});
Test::More::ok($deployed, 'TEST 2: deployed while the calls ran');
Test::More::is(scalar(grep { $_->[0] == 200 } @r), 4,
               'TEST 2: all four calls succeeded');
Test::More::is(scalar(grep { $_->[2] eq "v1\n" } @r), 4,
               'TEST 2: each on the code it started with');
my %old = map { $_->[1]{'x-instance'} => 1 } @r;
my $v2 = FaasTest::faas_wait_for(sub {
    my ($st, $h, $body) = FaasTest::faas_http(GET => '/?fn=upd');
    $st == 200 && $body eq "v2\n" && !$old{$h->{'x-instance'}}
}, 5, 0.05);
Test::More::ok($v2, 'TEST 2: new calls get v2 from a new instance');
my $replaced = FaasTest::faas_wait_for(sub {
    my $i = main::instances() or return 0;
    # never-used ones count as prewarmed
    $i->{idle} + $i->{prewarmed} == 4 && $i->{busy} + $i->{starting} == 0
}, 10, 0.05);
Test::More::ok($replaced, 'TEST 2: the four old instances drained and '
                          . 'four of the new code were prepared');
my %new;
for (1 .. 8) {
    my ($st, $h, $body) = FaasTest::faas_http(GET => '/?fn=upd');
    $new{$h->{'x-instance'}} = 1 if $body eq "v2\n";
}
Test::More::ok(!grep({ $old{$_} } keys %new), 'TEST 2: no old instance serves');
my ($idle, $busy) = FaasTest::faas_supervisor_log()
    =~ /function "upd" version \w+: code in "[^"]+" updated: (\d+) idle instances quit, (\d+) finish on the old code/;
Test::More::is(($idle // 0) + ($busy // 0), 4,
               'TEST 2: the supervisor logged the update of all four');
--- request
GET /?fn=upd
--- response_body
v2
--- no_error_log
[error]



=== TEST 3: a stream of calls across an update: each sees v2 or v3, none fails
--- init
my (%bodies, $failed);
my $deployed = 0;
my $start = Time::HiRes::time();
while (Time::HiRes::time() - $start < 2) {
    my ($st, $h, $body) = FaasTest::faas_http(GET => '/?fn=upd');
    $failed++ if $st != 200;
    $bodies{$body}++;
    if (!$deployed && Time::HiRes::time() - $start > 0.5) {
        main::deploy('v3');
        $deployed = 1;
    }
}
Test::More::ok(!$failed, 'TEST 3: no call failed');
Test::More::is(join(',', sort keys %bodies), "v2\n,v3\n",
               'TEST 3: only whole versions were seen');
--- request
GET /?fn=upd
--- response_body
v3
--- no_error_log
[error]



=== TEST 4: concurrency 4: an update under three calls on one instance (room for a fourth); they finish on v3, new calls go elsewhere
--- init
FaasTest::faas_http(GET => '/?fn=updc');
my $deployed = 0;
my @r = FaasTest::faas_http_parallel(3, '/?fn=updc&slow=1', on_tick => sub {
    return if $deployed;
    my $f = FaasTest::faas_function_status('updc') or return;
    if ($f->{in_flight} == 3) {
        main::deploy('v4');
        $deployed = 1;
    }
});
Test::More::ok($deployed, 'TEST 4: deployed while three calls ran on it');
Test::More::is(join(' ', map { $_->[0] } @r), '200 200 200',
               'TEST 4: all three calls succeeded');
Test::More::is(scalar(grep { $_->[2] eq "v3\n" } @r), 3,
               'TEST 4: each on the code it started with');
my %old = map { $_->[1]{'x-instance'} => 1 } @r;
Test::More::is(scalar keys %old, 1, 'TEST 4: the three on one instance');
my $v4 = FaasTest::faas_wait_for(sub {
    my ($st, $h, $body) = FaasTest::faas_http(GET => '/?fn=updc');
    $st == 200 && $body eq "v4\n" && !$old{$h->{'x-instance'}}
}, 5, 0.05);
Test::More::ok($v4, 'TEST 4: new calls get v4 from a new instance');
--- request
GET /?fn=updc
--- response_body
v4
--- no_error_log
[error]
