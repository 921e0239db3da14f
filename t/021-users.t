# Instance credentials: with --uid-range each function runs as a uid of
# its own, derived from its name (the same after a supervisor restart or
# an nginx reload, another for every other function), from whichever
# layer it starts; a function's "user" wins where the supervisor allows
# it (--allow-user, --allow-group), and nginx -t refuses an unknown user
# or root.  What the separate uid adds across functions: a code directory
# given to one function's uid (mode 0700) is closed to every other.
#
# Needs the supervisor's sandbox (root): without it the file is skipped.

use lib 't/lib';
use FaasTest '--uid-range', '200000-265535', '--allow-user', 'daemon',
             '--allow-group', 'nogroup', '--pool', 'sandbox=1',
             '--pool', 'c=1', '--pool', 'python3=1';
use File::Copy ();
use Math::BigInt;
use Test::Nginx::Socket;

# the uid a name gets from 200000-265535 when nothing collides with it
sub home {
    my $h = Math::BigInt->from_hex('cbf29ce484222325');
    my $prime = Math::BigInt->from_hex('100000001b3');
    my $mod = Math::BigInt->new(2)->bpow(64);

    for my $c (unpack 'C*', shift) {
        $h->bxor($c)->bmul($prime)->bmod($mod);
    }

    return 200000 + $h->bmod(65536)->numify;
}

sub ids {
    my ($uid, $gid) = @_;

    $gid //= $uid;

    return "uid=$uid/$uid/$uid/$uid gid=$gid/$gid/$gid/$gid groups= "
           . "tmp=ok code=ok\n";
}

our %Uid = map { $_ => main::home($_) } qw(ida idb idc pyids thief thief2);

# a code directory that only daemon (uid 1) may read
our $Locked = "$FaasTest::Dir/locked";

mkdir $Locked;
File::Copy::copy(FaasTest::faas_build_dir() . '/functions/ids/function.so',
                 "$Locked/function.so") or die "copy: $!";
chown 1, 1, $Locked, "$Locked/function.so";
chmod 0700, $Locked;

our $HttpConfig = <<'_EOC_';
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    # every call a cold start: each shows the layer it came from
    faas_function ida {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/ids;
        max_requests 1;
    }

    faas_function idb {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/ids;
    }

    faas_function pyids {
        runtime python3;
        code $TEST_NGINX_FAAS_SRC/python/ids;
        max_requests 1;
    }

    faas_function iduser {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/ids;
        user daemon;
    }

    faas_function idgroup {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/ids;
        user daemon nogroup;
    }

    faas_function idbin {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/ids;
        user bin;
    }

    faas_function idbadgroup {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/ids;
        user daemon bin;
    }

    faas_function locked {
        runtime c;
        code $TEST_NGINX_LOCKED;
        user daemon;
    }

    faas_function thief {
        runtime c;
        code $TEST_NGINX_LOCKED;
    }

    # never from a pool: the check in a sandbox started for the function
    faas_function thief2 {
        runtime c;
        code $TEST_NGINX_LOCKED;
        network on;
    }
_EOC_

$ENV{TEST_NGINX_LOCKED} = $Locked;

our $Config = <<'_EOC_';
    location / {
        add_header X-Layer $faas_layer always;
        faas_pass $arg_fn;
    }

    location = /status {
        faas_status;
    }
_EOC_

sub pools_ready {
    return FaasTest::faas_wait_for(sub {
        my $s = FaasTest::faas_status() or return 0;
        my $p = $s->{pools};
        $p->{sandbox}{ready} == 1 && $p->{c}{ready} == 1
            && $p->{python3}{ready} == 1
    }, 10, 0.05);
}

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

=== TEST 1: a uid of its own from the range, from a pooled sandbox
--- init
my %seen;
$seen{$_}++ for values %main::Uid;
Test::More::is(scalar keys %seen, scalar keys %main::Uid,
               "TEST 1: the test functions' home uids differ");
Test::More::like(FaasTest::faas_supervisor_log(),
                 qr/uid range on: each function runs as a uid of its own from 200000-265535/,
                 "TEST 1: the mode is logged at start");
Test::More::ok(main::pools_ready(), "TEST 1: the pools are full");
--- request
GET /?fn=ida
--- response_headers
X-Layer: sandbox
--- response_body eval
main::ids($main::Uid{ida})
--- no_error_log
[error]



=== TEST 2: the C pool refilled with that uid: the next start takes it
--- init
Test::More::like(FaasTest::faas_supervisor_log(),
                 qr/pool "c": instance \d+ \(uid 65534\) evicted for function "ida" \(uid $main::Uid{ida}\)/,
                 "TEST 2: the pooled C runtime of another uid was evicted");
Test::More::ok(main::pools_ready(), "TEST 2: the pools refilled");
--- request
GET /?fn=ida
--- response_headers
X-Layer: runtime
--- response_body eval
main::ids($main::Uid{ida})
--- no_error_log
[error]



=== TEST 3: another function, another uid
--- init
Test::More::ok(main::pools_ready(), "TEST 3: the pools refilled");
--- request
GET /?fn=idb
--- response_body eval
main::ids($main::Uid{idb})
--- no_error_log
[error]



=== TEST 4: Python: from a pooled sandbox, then from the pooled runtime
--- init
Test::More::ok(main::pools_ready(), "TEST 4: the pools refilled");
my ($st, $h, $body) = FaasTest::faas_http(GET => '/?fn=pyids');
Test::More::is($h->{'x-layer'}, 'sandbox', "TEST 4: first from a sandbox");
Test::More::ok(main::pools_ready(), "TEST 4: the pools refilled");
--- request
GET /?fn=pyids
--- response_headers
X-Layer: runtime
--- response_body eval
my $u = $main::Uid{pyids};
"uid=$u/$u/$u gid=$u/$u/$u tmp=ok code=ok\n"
--- no_error_log
[error]



=== TEST 5: the function's own user wins over the range
--- request
GET /?fn=iduser
--- response_body eval
main::ids(1)
--- no_error_log
[error]



=== TEST 6: ... and its group, where --allow-group allows it
--- request
GET /?fn=idgroup
--- response_body eval
main::ids(1, 65534)
--- no_error_log
[error]



=== TEST 7: a user that --allow-user does not allow: 502, the cause logged
--- request
GET /?fn=idbin
--- error_code: 502
--- error_log
user uid 2 is not allowed by the supervisor's --allow-user
--- no_error_log
[alert]



=== TEST 8: a group neither the user's own nor allowed: 502
--- request
GET /?fn=idbadgroup
--- error_code: 502
--- error_log
group gid 2 is neither uid 1's own nor allowed by the supervisor's --allow-group
--- no_error_log
[alert]



=== TEST 9: a code directory given to a function's uid works for it
--- request
GET /?fn=locked
--- response_body eval
main::ids(1)
--- no_error_log
[error]



=== TEST 10: ... and is closed to another function's uid
--- request
GET /?fn=thief
--- error_code: 502
--- error_log eval
qr/sandbox: code dir not readable by uid $main::Uid{thief}: EACCES/
--- no_error_log
[alert]



=== TEST 11: ... from a sandbox of its own as well
--- request
GET /?fn=thief2
--- error_code: 502
--- error_log eval
qr/sandbox: code dir not readable by uid $main::Uid{thief2}: EACCES/
--- no_error_log
[alert]



=== TEST 12: faas_status shows each function's uid and the evictions
--- request
GET /status
--- response_body_like eval
qr/"name": "ida",.*"uid": $main::Uid{ida},\s+"gid": $main::Uid{ida}/s
--- error_code: 200
--- init
my $s = FaasTest::faas_status();
my %f = map { $_->{name} => $_ } @{ $s->{functions} };
Test::More::is($f{iduser}{uid}, 1, "TEST 12: iduser: uid 1");
Test::More::is($f{idgroup}{gid}, 65534, "TEST 12: idgroup: gid 65534");
Test::More::like($f{idbin}{user_error} // '', qr/--allow-user/,
                 "TEST 12: idbin: why it cannot start");
Test::More::ok($s->{pools}{c}{evicted} >= 1, "TEST 12: the C pool evicted");



=== TEST 13: the same uids after a supervisor restart
--- init
FaasTest::faas_stop_supervisor();
FaasTest::faas_start_supervisor();
my $ok = FaasTest::faas_wait_for(sub {
    my ($status) = FaasTest::faas_http(GET => '/?fn=idb', timeout => 2);
    return $status == 200;
}, 5, 0.05);
Test::More::ok($ok, "TEST 13: calls succeed again");
--- request
GET /?fn=ida
--- response_body eval
main::ids($main::Uid{ida})
--- no_error_log
[alert]
[crit]



=== TEST 14: the same uids after a reload that adds a function
--- http_config eval
$main::HttpConfig . <<'_EOC_';
    faas_function idc {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/ids;
    }
_EOC_
--- init
my ($st, $h, $body) = FaasTest::faas_http(GET => '/?fn=idb');
Test::More::is($body, main::ids($main::Uid{idb}), "TEST 14: idb unchanged");
($st, $h, $body) = FaasTest::faas_http(GET => '/?fn=idc');
Test::More::is($body, main::ids($main::Uid{idc}), "TEST 14: idc its own");
--- request
GET /?fn=ida
--- response_body eval
main::ids($main::Uid{ida})
--- no_error_log
[error]



=== TEST 15: nginx -t: an unknown user
--- http_config
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function nope {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/ids;
        user no-such-user-here;
    }
--- config
--- must_die
--- error_log eval
["[emerg]", qr/unknown user "no-such-user-here" of faas_function "nope" in \S+nginx\.conf:\d+/]



=== TEST 16: nginx -t: an unknown group
--- http_config
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function nope {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/ids;
        user daemon no-such-group-here;
    }
--- config
--- must_die
--- error_log eval
["[emerg]", qr/unknown group "no-such-group-here" of faas_function "nope" in \S+nginx\.conf:\d+/]



=== TEST 17: nginx -t: root
--- http_config
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function nope {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/ids;
        user root;
    }
--- config
--- must_die
--- error_log eval
["[emerg]", qr/faas_function "nope" must not run as root: "root" is uid 0 in \S+nginx\.conf:\d+/]



=== TEST 18: nginx -t: the root group
--- http_config
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function nope {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/ids;
        user daemon root;
    }
--- config
--- must_die
--- error_log eval
["[emerg]", qr/faas_function "nope" must not run as root: "root" is gid 0 in \S+nginx\.conf:\d+/]



=== TEST 19: nginx -t: user twice
--- http_config
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function nope {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/ids;
        user daemon;
        user daemon;
    }
--- config
--- must_die
--- error_log eval
["[emerg]", qr/"user" directive is duplicate in \S+nginx\.conf:\d+/]
