# Request and response bodies: binary-safe in both directions, buffered and
# streamed, chunked, empty and tiny.

use lib 't/lib';
use FaasTest;
use Test::Nginx::Socket 'no_plan';

use Digest::SHA ();

our $HttpConfig = <<'_EOC_';
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function echo-raw {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/echo-raw;
        handler handle;
        timeout 30s;
    }

    faas_function echo {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/echo;
        handler handle;
    }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;

    if (!defined $block->http_config) {
        $block->set_value('http_config', $HttpConfig);
    }
});

# Random bytes, so that every octet value, CR, LF and NUL included, goes
# through the codec and back.
sub random_bytes {
    my $n = shift;

    open my $in, '<:raw', '/dev/urandom' or die "/dev/urandom: $!";
    my $buf;
    my $got = read $in, $buf, $n;
    close $in;

    die "short read from /dev/urandom" if $got != $n;

    return $buf;
}

our $Big = random_bytes(10 * 1024 * 1024);
our $Big_sha = Digest::SHA::sha256_hex($Big);

our $Medium = random_bytes(3 * 1024 * 1024 + 17);
our $Medium_sha = Digest::SHA::sha256_hex($Medium);

our $Chunks = random_bytes(200 * 1024);

# echo reads the whole body before it answers: these isolate large
# transfers from full-duplex streaming (echo-raw answers while it reads)
our $Two = random_bytes(2 * 1024 * 1024);
our $Two_sha = Digest::SHA::sha256_hex($Two);

sub echoed_body_sha {
    my $text = shift;

    $text =~ s/\A.*?\nbody-length: \d+\n\n//s or return 'no body';

    return Digest::SHA::sha256_hex($text);
}

# a chunked request body: 4 KiB chunks, the last one shorter
our $Chunked = '';
for (my $off = 0; $off < length $Chunks; $off += 4096) {
    my $piece = substr $Chunks, $off, 4096;
    $Chunked .= sprintf("%x\r\n", length $piece) . $piece . "\r\n";
}
$Chunked .= "0\r\n\r\n";

run_tests();

__DATA__

=== TEST 1: 10 MiB of random bytes round-trip exactly
--- config
    location = /echo-raw {
        faas_pass echo-raw;
    }
--- more_headers eval
"Content-Type: application/octet-stream\nContent-Length: "
. length($main::Big)
--- request eval
"POST /echo-raw\n" . $main::Big
--- response_headers
Content-Type: application/octet-stream
--- response_body_filters eval
\&Digest::SHA::sha256_hex
--- response_body eval
$main::Big_sha
--- timeout: 30
--- no_error_log
[error]



=== TEST 2: 3 MiB streamed with faas_request_buffering off
--- config
    location = /echo-raw {
        faas_request_buffering off;
        faas_pass echo-raw;
    }
--- more_headers eval
"Content-Length: " . length($main::Medium)
--- request eval
"POST /echo-raw\n" . $main::Medium
--- response_body_filters eval
\&Digest::SHA::sha256_hex
--- response_body eval
$main::Medium_sha
--- timeout: 30
--- no_error_log
[error]



=== TEST 3: a chunked request body
--- config
    location = /echo-raw {
        faas_pass echo-raw;
    }
--- more_headers
Transfer-Encoding: chunked
--- request eval
"POST /echo-raw\n" . $main::Chunked
--- response_body_filters eval
\&Digest::SHA::sha256_hex
--- response_body eval
Digest::SHA::sha256_hex($main::Chunks)
--- no_error_log
[error]



=== TEST 4: a chunked request body, streamed
--- config
    location = /echo-raw {
        faas_request_buffering off;
        faas_pass echo-raw;
    }
--- more_headers
Transfer-Encoding: chunked
--- request eval
"POST /echo-raw\n" . $main::Chunked
--- response_body_filters eval
\&Digest::SHA::sha256_hex
--- response_body eval
Digest::SHA::sha256_hex($main::Chunks)
--- no_error_log
[error]



=== TEST 5: the function sees the length of a chunked body
--- config
    location = /echo {
        faas_pass echo;
    }
--- more_headers
Transfer-Encoding: chunked
--- request eval
"POST /echo\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
--- response_body_like eval
qr/\nbody-length: 11\n\nhello world\z/
--- no_error_log
[error]



=== TEST 6: an empty body
--- config
    location = /echo-raw {
        faas_pass echo-raw;
    }
--- more_headers
Content-Length: 0
--- request
POST /echo-raw
--- response_body eval
""
--- no_error_log
[error]



=== TEST 7: a one-byte body
--- config
    location = /echo-raw {
        faas_pass echo-raw;
    }
--- request eval
"POST /echo-raw\nx"
--- response_body eval
"x"
--- no_error_log
[error]



=== TEST 8: a one-byte body, streamed
--- config
    location = /echo-raw {
        faas_request_buffering off;
        faas_pass echo-raw;
    }
--- request eval
"POST /echo-raw\nx"
--- response_body eval
"x"
--- no_error_log
[error]



=== TEST 9: a body sent in pieces with pauses, streamed
--- config
    location = /echo-raw {
        faas_request_buffering off;
        faas_pass echo-raw;
    }
--- more_headers
Content-Length: 12
--- request eval
[["POST /echo-raw\nhell", "o, w", "orld"]]
--- raw_request_middle_delay: 0.1
--- response_body eval
"hello, world"
--- no_error_log
[error]



=== TEST 10: a body over client_max_body_size is refused by nginx
--- config
    location = /echo-raw {
        client_max_body_size 1k;
        faas_pass echo-raw;
    }
--- more_headers
Content-Length: 2048
--- request eval
"POST /echo-raw\n" . ("a" x 2048)
--- error_code: 413
--- no_error_log
[alert]
[crit]



=== TEST 11: 2 MiB through echo, which reads it whole before answering
--- config
    location = /echo {
        faas_pass echo;
    }
--- more_headers eval
"Content-Length: " . length($main::Two)
--- request eval
"POST /echo\n" . $main::Two
--- response_body_filters eval
\&main::echoed_body_sha
--- response_body eval
$main::Two_sha
--- timeout: 30
--- no_error_log
[error]



=== TEST 12: 2 MiB through echo, streamed
--- config
    location = /echo {
        faas_request_buffering off;
        faas_pass echo;
    }
--- more_headers eval
"Content-Length: " . length($main::Two)
--- request eval
"POST /echo\n" . $main::Two
--- response_body_filters eval
\&main::echoed_body_sha
--- response_body eval
$main::Two_sha
--- timeout: 30
--- no_error_log
[error]
