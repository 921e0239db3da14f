package Test::Nginx::Socket;

# A from-scratch, compatible subset of openresty's Test::Nginx::Socket: the
# block syntax comes from Test::Base, as in the real one; this file is the
# raw-socket HTTP/1.1 client and the per-block checks.  The nginx side is in
# Test::Nginx::Util.  See t/compat/README.md for what is supported.
#
# Test::Base -Base turns on Spiffy's filter, which adds "my $self = shift"
# to every sub declared without a prototype: every sub here has one.

use v5.10.1;
use Test::Base -Base;

our $VERSION = '0.29';

use Digest::MD5 ();
use Digest::SHA ();
use Encode ();
use HTTP::Response ();
use IO::Select ();
use IO::Socket::INET ();
use List::Util qw(min);
use POSIX qw(EAGAIN EWOULDBLOCK EINTR);
use Test::LongString ();
use Time::HiRes qw(sleep time);

use Test::Nginx::Util;

our @EXPORT = qw(
    env_to_nginx is_str plan run_tests run_test repeat_each
    config_preamble worker_connections master_process_enabled
    no_long_string workers master_on master_off log_level no_shuffle
    no_root_location use_hup server_name server_addr server_root html_dir
    server_port server_port_for_client timeout no_nginx_manager
    check_accum_error_log add_block_preprocessor bail_out
    add_cleanup_handler add_response_body_check
);

our @ResponseBodyChecks;

sub value_contains ($$);

$RunTestHelper = \&run_test_helper;
$CheckErrorLog = \&check_error_log;


sub add_response_body_check ($) {
    push @ResponseBodyChecks, shift;
}


sub run_test ($) {
    Test::Nginx::Util::run_test(shift);
}


sub parse_more_headers ($) {
    my $in = shift;
    my ($out, $chunked) = ('', 0);

    for my $line (split /\n+/, $in) {
        next if $line =~ /^\s*#/;

        my ($key, $val) = split /:\s*/, $line, 2;
        $val //= '';

        $chunked = 1 if lc $key eq 'transfer-encoding' && $val eq 'chunked';
        $out .= "$key: $val\r\n";
    }

    return ($out, $chunked);
}


# Maps an offset of the original request text to the rewritten one, so that
# a request given as several packets keeps its packet boundaries.
sub map_offset ($$) {
    my ($off, $m) = @_;

    if ($off <= $m->{body_start}) {
        return min($off, $m->{line_len});
    }

    my $o = $off - $m->{body_start} - $m->{lead};
    $o = 0 if $o < 0;
    $o = $m->{body_len} if $o > $m->{body_len};

    return $m->{head_len} + $o;
}


# "METHOD [URI [VERSION]]\nbody" becomes a full HTTP request: Host and
# Connection unless given, Content-Length (of the trimmed body) unless the
# body is chunked or the length is given; as the real one does.
sub build_request ($$$$$) {
    my ($name, $hdrs, $chunked, $conn, $packets) = @_;

    my $text = join '', @$packets;

    $text =~ /\A([^\n]*\n?)/;
    my $first = $1;

    if ($first !~ /^\s*(\S+)[ ]*(?:(\S+)[ ]*)?(?:(\S+)[ ]*)?\s*$/) {
        bail_out("$name - Request line is not valid. Should be "
                 . "'meth [url [version]]' but got \"$first\".");
    }

    my $line = "$1 " . ($2 // '/') . ' ' . ($3 // 'HTTP/1.1') . "\r\n";
    my $body = substr $text, length $first;
    my ($lead, $len_hdr) = (0, '');

    if (!$chunked && $body ne '' && $hdrs !~ /(?:^|\n)Content-Length:/i) {
        $body =~ /^(\s*)/;
        $lead = length $1;
        $body =~ s/^\s+|\s+$//g;
        $len_hdr = 'Content-Length: ' . length($body) . "\r\n";
    }

    $hdrs =~ s/(?<!\r)\n/\r\n/g;

    my $head = $line;
    $head .= "Host: $ServerName\r\n" if $hdrs !~ /(?:^|\n)Host:/i;
    $head .= "Connection: $conn\r\n" if $hdrs !~ /(?:^|\n)Connection/i;
    $head .= "$hdrs$len_hdr\r\n";

    my $req = $head . $body;
    my %m = (
        body_start => length $first,
        line_len => length $line,
        lead => $lead,
        body_len => length $body,
        head_len => length $head,
    );

    my @out;
    my ($off, $prev) = (0, 0);

    for my $i (0 .. $#$packets) {
        $off += length $packets->[$i];
        my $end = $i == $#$packets ? length $req : map_offset($off, \%m);
        push @out, substr $req, $prev, $end - $prev;
        $prev = $end;
    }

    return \@out;
}


sub more_headers_for ($$$) {
    my ($name, $more, $i) = @_;

    return parse_more_headers($more) if !ref $more;

    bail_out("$name - --- more_headers lacks data for request $i")
        if !defined $more->[$i];

    return parse_more_headers($more->[$i]);
}


# A list of requests; each request is a list of packets
# ({value => ..., delay_before => ...}).
sub get_req_from_block ($) {
    my $block = shift;
    my $name = $block->name;
    my @reqs;

    if (defined(my $raw = $block->raw_request)) {
        my @bits = ref $raw eq 'ARRAY' ? @$raw : ($raw);
        return [[map { { value => $_ } } @bits]];
    }

    my $request = $block->request;
    my $more = $block->more_headers // '';

    if (defined $request && !ref $request) {
        1 while $request =~ s/^\s*#[^\n]+\s+|^\s+//s;
    }

    if (my $pipelined = $block->pipelined_requests) {
        bail_out("$name - invalid entries in --- pipelined_requests")
            if ref $pipelined ne 'ARRAY';

        my $all = '';

        for my $i (0 .. $#$pipelined) {
            my ($hdrs, $chunked) = more_headers_for($name, $more, $i);
            my $conn = $i == $#$pipelined ? 'close' : 'keep-alive';
            $all .= build_request($name, $hdrs, $chunked, $conn,
                                  [$pipelined->[$i]])->[0];
        }

        return [[{ value => $all }]];
    }

    bail_out("$name - no --- request section") if !defined $request;

    my @list = ref $request eq 'ARRAY' ? @$request : ($request);

    for my $i (0 .. $#list) {
        my $one = $list[$i];
        my ($hdrs, $chunked) = more_headers_for($name, $more, $i);

        if (!ref $one) {
            my $r = build_request($name, $hdrs, $chunked, 'close', [$one]);
            push @reqs, [{ value => $r->[0] }];
            next;
        }

        bail_out("$name - a request must be a string or an array of "
                 . "packets") if ref $one ne 'ARRAY';

        my @packets = map { ref $_ eq 'HASH' ? $_->{value} : $_ } @$one;
        my $r = build_request($name, $hdrs, $chunked, 'close', \@packets);

        push @reqs, [map {
            my $p = $one->[$_];
            ref $p eq 'HASH' ? { %$p, value => $r->[$_] }
                             : { value => $r->[$_] };
        } 0 .. $#$one];
    }

    return \@reqs;
}


sub connect_server ($$) {
    my ($block, $timeout) = @_;
    my $addr = $block->server_addr_for_client // $ServerAddr;
    my $sock;

    for my $try (1 .. 5) {
        $sock = IO::Socket::INET->new(
            PeerAddr => $addr,
            PeerPort => $ServerPortForClient,
            Proto => 'tcp',
            Timeout => $timeout,
        );

        last if $sock;
        sleep 0.02 * $try;
    }

    return $sock;
}


# Writes the packets and reads the response until the server closes the
# connection, both at once so that a large body cannot deadlock against a
# streaming response; $timeout limits each wait, as in the real one.
sub send_request ($$$$) {
    my ($req, $middle_delay, $timeout, $block) = @_;
    my $name = $block->name;
    my @bits = @$req;

    my $sock = connect_server($block, $timeout);

    if (!$sock) {
        fail("$name - Can't connect to $ServerAddr:$ServerPortForClient: "
             . "$! (aborted)");
        return;
    }

    $sock->blocking(0);
    local $SIG{PIPE} = 'IGNORE';

    my $resp = '';
    my $first = shift @bits;
    my $wbuf = $first->{value};
    my $woff = 0;
    my $writing = 1;

    while (1) {
        my $rsel = IO::Select->new($sock);
        my $wsel = IO::Select->new($writing ? ($sock) : ());

        my ($r, $w) = IO::Select->select($rsel, $wsel, undef, $timeout);

        if (!$r && !$w) {
            next if $! == EINTR;

            close $sock;

            if (!defined $block->abort) {
                fail("ERROR: client socket timed out - $name");
            } else {
                sleep 0.005;
            }

            last;
        }

        if ($w && @$w) {
            my $n = syswrite $sock, $wbuf, length($wbuf) - $woff, $woff;

            if (!defined $n) {
                if ($! != EAGAIN && $! != EWOULDBLOCK && $! != EINTR) {
                    # the server may answer and close early (a 413, say)
                    $writing = 0;
                }

            } else {
                $woff += $n;

                if ($woff >= length $wbuf) {
                    if (my $next = shift @bits) {
                        my $delay = $next->{delay_before} // $middle_delay;
                        sleep $delay if $delay;
                        ($wbuf, $woff) = ($next->{value}, 0);

                    } else {
                        $writing = 0;
                        if (defined(my $how = $block->shutdown)) {
                            $how = 1 if $how =~ /^\s*$/;
                            shutdown $sock, $how;
                        }
                    }
                }
            }
        }

        if ($r && @$r) {
            my $n = sysread $sock, my $buf, 65536;

            if (!defined $n) {
                next if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
                warn "WARNING: $name - HTTP response read failure: $!\n";
                last;
            }

            last if $n == 0;
            $resp .= $buf;
        }
    }

    close $sock;

    return $resp;
}


sub printable ($) {
    my $s = shift;

    $s =~ s/([^\x20-\x7e])/sprintf('\\x%02x', ord $1)/ge;

    return $s;
}


sub decode_chunked ($$$) {
    my ($name, $raw, $left) = @_;
    my $decoded = '';
    my $pos = 0;

    while (1) {
        pos($raw) = $pos;

        if ($raw =~ /\G0[ \t]*(?:;[^\r\n]*)?\r\n\r\n/gc) {
            $$left = substr $raw, pos($raw) if pos($raw) < length $raw;
            return $decoded;
        }

        if ($pos >= length $raw) {
            fail("$name - no last chunk found - "
                 . printable(substr $raw, -40));
            return undef;
        }

        if ($raw !~ /\G[ \t]*([A-Fa-f0-9]+)[ \t]*(?:;[^\r\n]*)?\r\n/gc) {
            fail("$name - invalid chunked body received: "
                 . printable(substr $raw, $pos, 40));
            return undef;
        }

        my $size = hex $1;
        $pos = pos $raw;

        if (length($raw) - $pos < $size + 2) {
            fail("$name - invalid chunked data received "
                 . "(not enough octets for the data section)");
            return undef;
        }

        $decoded .= substr $raw, $pos, $size;
        $pos += $size;

        if (substr($raw, $pos, 2) ne "\r\n") {
            fail("$name - invalid chunked data received (expected CRLF).");
            return undef;
        }

        $pos += 2;
    }
}


sub parse_response ($$$) {
    my ($name, $raw, $head_req) = @_;
    my ($raw_headers, $left) = ('', undef);

    $raw_headers = $1 if $raw =~ /^(.*?\r\n)\r\n/s;

    my $res = HTTP::Response->parse($raw);
    my $code = $res->code;

    if (defined $code && $code !~ /^\d+$/) {
        $res->code(undef);
        undef $code;
    }

    return ($res, $raw_headers) if $code && ($code == 304 || $code == 101);

    my $te = $res->header('Transfer-Encoding');
    my $len = $res->header('Content-Length');

    if (defined $te && $te eq 'chunked') {
        my $body = decode_chunked($name, $res->content // '', \$left);
        return if !defined $body;
        $res->content($body);

    } elsif (defined $len && $len =~ /^\d+$/ && !$head_req) {
        my $body = $res->content // '';

        if (length $body < $len) {
            warn "WARNING: $name - response body truncated: $len expected, "
                 . "but got " . length($body) . "\n";

        } elsif (length $body > $len) {
            $left = substr $body, $len;
            $res->content(substr $body, 0, $len);
        }

    } elsif ($head_req) {
        $left = $res->content if ($res->content // '') ne '';
        $res->content('');
    }

    return ($res, $raw_headers, $left);
}


sub get_indexed_value ($$$$) {
    my ($name, $value, $idx, $need_array) = @_;

    if ($need_array) {
        return $value->[$idx] if ref $value eq 'ARRAY';

        bail_out("$name - You asked for many requests, the expected "
                 . "results should be arrays as well.");
    }

    return $value->[0] if ref $value eq 'ARRAY';

    return $value;
}


sub check_error_code ($$$$$) {
    my ($block, $res, $dry_run, $idx, $need_array) = @_;
    my $name = $block->name;
    my $code = ($res && $res->code) || '';

    SKIP: {
        skip "$name - tests skipped due to $dry_run", 1 if $dry_run;

        if (defined $block->error_code_like) {
            my $pat = get_indexed_value($name, $block->error_code_like,
                                        $idx, $need_array);
            like($code, qr/$pat/sm, "$name - status code ok");

        } elsif (defined $block->error_code) {
            is($code, get_indexed_value($name, $block->error_code, $idx,
                                        $need_array),
               "$name - status code ok");

        } else {
            is($code, 200, "$name - status code ok");
        }
    }
}


sub check_raw_response_headers ($$$$$) {
    my ($block, $raw_headers, $dry_run, $idx, $need_array) = @_;
    my $name = $block->name;

    for my $kind (qw(like unlike)) {
        my $section = "raw_response_headers_$kind";
        my $spec = $block->$section;
        next if !defined $spec;

        SKIP: {
            skip "$name - raw_response_headers_$kind - tests skipped due to "
                 . $dry_run, 1 if $dry_run;

            my $pat = get_indexed_value($name, $spec, $idx, $need_array);

            if ($kind eq 'like') {
                like($raw_headers, qr/$pat/s, "$name - raw resp headers like");
            } else {
                unlike($raw_headers, qr/$pat/s,
                       "$name - raw resp headers unlike");
            }
        }
    }
}


sub check_response_headers ($$$$$$) {
    my ($block, $res, $raw_headers, $dry_run, $idx, $need_array) = @_;
    my $name = $block->name;

    if (defined $block->response_headers) {
        my $want = parse_headers(get_indexed_value($name,
                                                   $block->response_headers,
                                                   $idx, $need_array));

        for my $key (sort keys %$want) {
            my $val = $want->{$key};

            SKIP: {
                skip "$name - response_headers - tests skipped due to "
                     . $dry_run, 1 if $dry_run;

                if (!defined $val) {
                    unlike($raw_headers, qr/^\s*\Q$key\E\s*:/ms,
                           "$name - header $key not present in the raw "
                           . "headers");
                    next;
                }

                $val =~ s/\$ServerPort\b/$ServerPort/g;
                $val =~ s/\$ServerPortForClient\b/$ServerPortForClient/g;

                my $got = $res ? $res->header($key) : undef;
                is($got // '', $val, "$name - header $key ok");
            }
        }

    } elsif (defined $block->response_headers_like) {
        my $want = parse_headers(get_indexed_value($name,
                                               $block->response_headers_like,
                                               $idx, $need_array));

        for my $key (sort keys %$want) {
            my $val = $want->{$key};
            my $got = $res ? $res->header($key) : undef;

            SKIP: {
                skip "$name - response_headers_like - tests skipped due to "
                     . $dry_run, 1 if $dry_run;
                like($got // '', qr/^$val$/, "$name - header $key like ok");
            }
        }
    }
}


sub run_filter ($$$) {
    my ($name, $filter, $content) = @_;

    return $filter->($content) if ref $filter eq 'CODE';

    bail_out("$name - the --- response_body_filters section only supports "
             . "code references and names") if ref $filter;

    my %named = (
        md5_hex => \&Digest::MD5::md5_hex,
        sha1_hex => \&Digest::SHA::sha1_hex,
        uc => sub { uc shift },
        lc => sub { lc shift },
        ucfirst => sub { ucfirst shift },
        lcfirst => sub { lcfirst shift },
        length => sub { length shift },
    );

    bail_out("$name - unknown filter, \"$filter\", specified in the --- "
             . "response_body_filters section") if !$named{$filter};

    return $named{$filter}->($content);
}


sub transform_response_body ($$$) {
    my ($block, $res, $idx) = @_;
    my $filters = $block->response_body_filters;

    return if !defined $res || !defined $res->content || !defined $filters;

    my $name = $block->name;

    if (!ref $filters) {
        $filters =~ s/^\s+|\s+$//g;
        $filters = [split /\s+/, $filters];

    } elsif (ref $filters ne 'ARRAY') {
        $filters = [$filters];
    }

    # [[f1, f2], [f3]]: one list of filters per request
    if (ref $filters->[0] eq 'ARRAY') {
        $filters = $filters->[$idx];
        bail_out("$name - no --- response_body_filters for request $idx")
            if !defined $filters;
        $filters = [$filters] if ref $filters ne 'ARRAY';
    }

    my $content = $res->content;
    $content = run_filter($name, $_, $content) for @$filters;
    $res->content($content);
}


sub check_response_body ($$$$$$) {
    my ($block, $res, $dry_run, $idx, $repeated, $need_array) = @_;
    my $name = $block->name;
    my $content = $res ? $res->content : undef;

    if (defined $block->response_body) {
        my $want = get_indexed_value($name, $block->response_body, $idx,
                                     $need_array);

        Encode::from_to($want, 'UTF-8', $block->charset) if $block->charset;

        if (defined $want && !ref $want) {
            $want =~ s/\$ServerPort\b/$ServerPort/g;
            $want =~ s/\$ServerPortForClient\b/$ServerPortForClient/g;
        }

        SKIP: {
            skip "$name - response_body - tests skipped due to $dry_run", 1
                if $dry_run;

            my $what = "(repeated req $repeated, req $idx)";

            if (ref $want) {
                like($content, $want, "$name - response_body - like $what");
            } else {
                is_str($content, $want,
                       "$name - response_body - response is expected $what");
            }
        }

    } elsif (defined $block->response_body_like
             || defined $block->response_body_unlike)
    {
        my $type = defined $block->response_body_like ? 'like' : 'unlike';
        my $section = "response_body_$type";
        my $pat = get_indexed_value($name, $block->$section, $idx,
                                    $need_array);

        $pat =~ s/\$ServerPort\b/$ServerPort/g;
        $pat =~ s/\$ServerPortForClient\b/$ServerPortForClient/g;

        my $summary = trim($content) // '';
        $summary = substr($summary, 0, 200) . '...' if length $summary > 200;

        SKIP: {
            skip "$name - response_body_$type - tests skipped due to "
                 . $dry_run, 1 if $dry_run;

            my $desc = "$name - response_body_$type - response is expected "
                       . "($summary)";

            if ($type eq 'like') {
                like($content, qr/$pat/s, $desc);
            } else {
                unlike($content, qr/$pat/s, $desc);
            }
        }
    }

    for my $check (@ResponseBodyChecks) {
        $check->($block, $content, $idx, $repeated, $dry_run);
    }
}


sub fmt_str ($) {
    my $s = shift;

    chomp $s;
    $s =~ s/"/\\"/g;
    $s =~ s/\r/\\r/g;
    $s =~ s/\n/\\n/g;

    return $s;
}


sub pattern_list ($) {
    my $pats = shift;

    if (!ref $pats) {
        chomp $pats;
        return [split /\n+/, $pats];
    }

    return [$pats] if ref $pats eq 'Regexp';

    return [@$pats];
}


sub value_contains ($$) {
    my ($val, $str) = @_;

    return 0 if !defined $val;
    return $val =~ /\Q$str\E/ if !ref $val || ref $val eq 'Regexp';
    return scalar grep { value_contains($_, $str) } @$val;
}


sub line_matches ($$) {
    my ($line, $pat) = @_;

    return $line =~ $pat if ref $pat;
    return index($line, $pat) >= 0;
}


# Each call sees the error log lines written since the previous call in the
# same block, as in the real one; the counts (one test per pattern and call)
# match it too.
sub check_error_log ($$$$$) {
    my ($block, $res, $dry_run, $repeated, $need_array) = @_;
    my $name = $block->name;
    my $lines;
    my %warn_for = map { $_ => 1 } qw(alert crit emerg);

    if (defined(my $grep = $block->grep_error_log)) {
        my $pat = ref $grep eq 'ARRAY' ? $grep->[$repeated] : $grep;
        my $want = $block->grep_error_log_out;

        bail_out("$name - No --- grep_error_log_out defined but --- "
                 . "grep_error_log is defined") if !defined $want;

        $want = $want->[$repeated] if ref $want eq 'ARRAY';

        SKIP: {
            skip "$name - error_log - tests skipped due to $dry_run", 1
                if $dry_run;

            $lines //= error_log_data();

            my $got = '';
            for my $line (@$lines) {
                my $m;

                if (ref $pat) {
                    $m = $& if $line =~ $pat;
                } elsif (index($line, $pat) >= 0) {
                    $m = $pat;
                }

                $got .= "$m\n" if defined $m && $m !~ /\n/;
            }

            my $desc = "$name - grep_error_log_out (req $repeated)";

            if (ref $want eq 'Regexp') {
                like($got, $want, $desc);
            } else {
                is_str($got, $want, $desc);
            }
        }

    } elsif (defined $block->grep_error_log_out) {
        bail_out("$name - No --- grep_error_log defined but --- "
                 . "grep_error_log_out is defined");
    }

    if (defined $block->error_log) {
        my $pats = pattern_list($block->error_log);

        for my $level (keys %warn_for) {
            delete $warn_for{$level}
                if value_contains($block->error_log, "[$level");
        }

        $lines //= error_log_data();

        for my $line (@$lines) {
            for my $pat (@$pats) {
                next if !defined $pat || !line_matches($line, $pat);

                SKIP: {
                    skip "$name - error_log - tests skipped due to $dry_run",
                         1 if $dry_run;
                    pass("$name - pattern \"$pat\" matches a line in "
                         . "error.log (req $repeated)");
                }

                undef $pat;
            }
        }

        for my $pat (grep { defined } @$pats) {
            SKIP: {
                skip "$name - error_log - tests skipped due to $dry_run", 1
                    if $dry_run;
                fail("$name - pattern \"$pat\" should match a line in "
                     . "error.log (req $repeated)");
            }
        }
    }

    if (defined $block->no_error_log) {
        my $pats = pattern_list($block->no_error_log);
        my %found;

        for my $level (keys %warn_for) {
            delete $warn_for{$level}
                if value_contains($block->no_error_log, "[$level");
        }

        $lines //= error_log_data();

        for my $i (0 .. $#$lines) {
            my $line = $lines->[$i];

            for my $pat (@$pats) {
                next if !line_matches($line, $pat);

                $found{$pat} = 1;

                SKIP: {
                    skip "$name - no_error_log - tests skipped due to "
                         . $dry_run, 1 if $dry_run;

                    my $more = join '', @$lines[$i + 1
                                               .. min($i + 9, $#$lines)];
                    fail("$name - pattern \"" . fmt_str($pat) . "\" should "
                         . "not match any line in error.log but matches "
                         . "line \"" . fmt_str($line) . "\" (req $repeated)"
                         . "\n$more");
                }
            }
        }

        for my $pat (grep { !$found{$_} } @$pats) {
            SKIP: {
                skip "$name - no_error_log - tests skipped due to $dry_run",
                     1 if $dry_run;
                pass("$name - pattern \"" . fmt_str($pat) . "\" does not "
                     . "match a line in error.log (req $repeated)");
            }
        }
    }

    return if $dry_run;

    if (%warn_for) {
        $lines //= error_log_data();

        for my $line (@$lines) {
            next if $line !~ /\[(alert|crit|emerg)\]/ || !$warn_for{$1};
            warn "WARNING: $name - " . fmt_str($line) . "\n";
        }
    }

    for my $line (@{ $lines // [] }) {
        if ($line =~ /\bAssertion .*?failed\b/) {
            chomp $line;
            fail("$name - $line");
        }
    }
}


sub run_test_helper ($$$) {
    my ($block, $dry_run, $repeated) = @_;
    my $name = $block->name;

    my $reqs = get_req_from_block($block);

    bail_out("$name - request empty") if !@$reqs;

    my $timeout = parse_time($block->timeout) // timeout();
    my ($res, $need_array, $n);
    my $idx = 0;

    for my $req (@$reqs) {
        my $head_req = (join '', map { $_->{value} } @$req)
                       =~ /^\s*HEAD\s+/ ? 1 : 0;

        my $raw = send_request($req, $block->raw_request_middle_delay,
                               $timeout, $block);

        if ($block->pipelined_requests) {
            $n = @{ $block->pipelined_requests };
            $need_array = 1;

        } else {
            $need_array = @$reqs > 1;
        }

        while (1) {
            $raw //= '';

            my ($raw_headers, $left) = ('', undef);

            if (!defined $block->ignore_response) {
                ($res, $raw_headers, $left) = parse_response($name, $raw,
                                                             $head_req);
            }

            if (!$n) {
                if (defined $left && $left ne '') {
                    warn "WARNING: $name - unexpected extra bytes after "
                         . "the response: \"" . printable($left) . "\"\n";
                }

            } else {
                $raw = $left;
                $n--;
            }

            if (!defined $block->ignore_response) {
                check_error_code($block, $res, $dry_run, $idx, $need_array);
                check_raw_response_headers($block, $raw_headers, $dry_run,
                                           $idx, $need_array);
                check_response_headers($block, $res, $raw_headers, $dry_run,
                                       $idx, $need_array);
                transform_response_body($block, $res, $idx);
                check_response_body($block, $res, $dry_run, $idx, $repeated,
                                    $need_array);
            }

            if ($n || $idx < @$reqs - 1) {
                sleep $block->wait if $block->wait;
                check_error_log($block, $res, $dry_run, $repeated,
                                $need_array);
            }

            $idx++;

            last if !$n;
        }
    }

    sleep $block->wait if $block->wait;

    check_error_log($block, $res, $dry_run, $repeated, $need_array);
}


1;
