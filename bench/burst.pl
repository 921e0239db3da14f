#!/usr/bin/perl
# bench/burst.pl: N HTTP/1.1 requests at once, each on its own connection,
# for bench/scale.sh.
#
#   burst.pl [-n N] [-t SECONDS] [-o FILE]
#            [-s STATUS_PATH -f FUNCTION [-i MS] [-S FILE]]
#            HOST:PORT PATH
#
# All N connections are opened first (non-blocking connect, then a poll
# until every one is established), and only then is a request written on
# each, in one loop: the N calls really are in flight together, unlike a
# closed-loop client such as wrk, which keeps C requests outstanding and
# sends the next one as an answer comes.  PATH may hold a printf
# conversion for the request's number, 0 to N-1 ("/?fn=f%04d").  Requests
# say "Connection: close"; a response ends at EOF.
#
# With -s, a faas_status location is read every -i ms (default 20) on a
# connection of its own while the burst runs, and the entry of FUNCTION
# (the newest version registered) recorded: queue_length, in_flight,
# instances.  -S writes those samples, -o each request's outcome.
#
# Prints, in a fixed shape for scripts:
#
#   @burst n=N connected=N answered=N ok=N lost=N cold=N warm=N
#          statuses=200:N,... connect_ms=F total_ms=F p50=F p90=F p99=F
#          max=F
#   @status samples=N queue_max=N in_flight_max=N instances_max=N
#           starting_max=N calls=N cold_starts=N first_ms=F
#           answer_max_ms=F
#
# (first_ms: when the first sample came back; answer_max_ms: the longest
# faas_status took to answer during the burst)
#
# "answered": a complete status line and header came back; "ok": with 200;
# "lost": no response at all (refused, reset, EOF or timeout before a
# status line).  Exits 1 unless every request was answered 200.

use strict;
use warnings;

use Errno qw(EINPROGRESS EAGAIN EWOULDBLOCK EINTR);
use Fcntl qw(F_GETFL F_SETFL O_NONBLOCK);
use Getopt::Std;
use IO::Handle;
use IO::Poll qw(POLLIN POLLOUT POLLERR POLLHUP);
use JSON::PP;
use Socket;
use Time::HiRes qw(time);

my %opt = (n => 500, t => 120, i => 20);
getopts('n:t:o:s:f:i:S:', \%opt) && @ARGV == 2
    or die "usage: burst.pl [-n N] [-t SECONDS] [-o FILE] "
         . "[-s STATUS_PATH -f FUNCTION [-i MS] [-S FILE]] HOST:PORT PATH\n";

my ($hostport, $path) = @ARGV;
my ($host, $port) = $hostport =~ /^(.+):(\d+)$/
    or die "burst.pl: HOST:PORT expected, not \"$hostport\"\n";
my $addr = sockaddr_in($port, inet_aton($host)
                       // die "burst.pl: unknown host $host\n");
my $n = $opt{n};

# per request: socket, state, buffer, times
my (@sock, @state, @buf, @sent, @done, @status, @cold);
my %by_fd;


sub nonblocking_socket {
    socket(my $s, PF_INET, SOCK_STREAM, 0) or die "burst.pl: socket: $!\n";
    my $fl = fcntl($s, F_GETFL, 0) or die "burst.pl: fcntl: $!\n";
    fcntl($s, F_SETFL, $fl | O_NONBLOCK) or die "burst.pl: fcntl: $!\n";
    return $s;
}


sub ms { sprintf '%.3f', $_[0] * 1000 }


# parse RAW: (status, X-Cold value or '') once the header is complete
sub head {
    my ($raw) = @_;
    my $end = index($raw, "\r\n\r\n");

    return if $end < 0;

    my $h = substr($raw, 0, $end);
    my ($st) = $h =~ m{^HTTP/1\.[01] (\d{3})} or return (0, '');
    my ($c) = $h =~ m{\r\nX-Cold:\s*(\S*)}i;

    return ($st, $c // '');
}


my $t0 = time;

# 1. every connection, before any request

for my $i (0 .. $n - 1) {
    my $s = nonblocking_socket();

    $sock[$i] = $s;
    $by_fd{fileno $s} = $i;

    if (connect($s, $addr)) {
        $state[$i] = 'connected';
    } elsif ($! == EINPROGRESS) {
        $state[$i] = 'connecting';
    } else {
        $state[$i] = "lost: connect: $!";
        close $s;
    }
}

my $poll = IO::Poll->new;
my $deadline = $t0 + $opt{t};

$poll->mask($sock[$_] => POLLOUT)
    for grep { $state[$_] eq 'connecting' } 0 .. $n - 1;

while (grep { $state[$_] eq 'connecting' } 0 .. $n - 1) {
    my $left = $deadline - time;

    last if $left <= 0;
    $poll->poll($left);

    for my $s ($poll->handles(POLLOUT | POLLERR | POLLHUP)) {
        my $i = $by_fd{fileno $s};
        my $err = unpack('i', getsockopt($s, SOL_SOCKET, SO_ERROR));

        $poll->remove($s);
        if ($err) {
            local $! = $err;
            $state[$i] = "lost: connect: $!";
            close $s;
        } else {
            $state[$i] = 'connected';
        }
    }
}

my $connected = grep { $state[$_] eq 'connected' } 0 .. $n - 1;
my $t_conn = time;

# 2. a request on each, in one loop

for my $i (0 .. $n - 1) {
    next unless $state[$i] eq 'connected';

    my $p = $path =~ /%/ ? sprintf($path, $i) : $path;
    my $req = "GET $p HTTP/1.1\r\nHost: $host\r\nConnection: close\r\n\r\n";

    $sent[$i] = time;
    my $w = syswrite($sock[$i], $req);

    if (!defined $w || $w != length $req) {
        $state[$i] = 'lost: write: ' . ($! || 'short write');
        close $sock[$i];
        next;
    }

    $state[$i] = 'reading';
    $buf[$i] = '';
    $poll->mask($sock[$i] => POLLIN);
}

# 3. the answers, and the status samples meanwhile

my (@samples, $st_sock, $st_buf, $st_sent, $st_start, $next_sample);
my $json = JSON::PP->new;
$next_sample = time if $opt{s};


sub status_start {
    my $s = nonblocking_socket();

    connect($s, $addr) or $! == EINPROGRESS or return;
    $st_sock = $s;
    $st_start = time;
    $st_buf = '';
    $st_sent = 0;
    $poll->mask($s => POLLOUT);
}


sub status_event {
    my ($ev) = @_;

    if (!$st_sent) {
        # HTTP/1.0: the document is not chunked
        my $req = "GET $opt{s} HTTP/1.0\r\nHost: $host\r\n\r\n";

        if (!defined syswrite($st_sock, $req)) {
            $poll->remove($st_sock);
            close $st_sock;
            undef $st_sock;
            return;
        }
        $st_sent = time;
        $poll->mask($st_sock => POLLIN);
        return;
    }

    my $r = sysread($st_sock, $st_buf, 65536, length $st_buf);

    return if !defined $r && ($! == EAGAIN || $! == EINTR);

    if (!$r) {
        $poll->remove($st_sock);
        close $st_sock;
        undef $st_sock;
        status_record();
    }
}


sub status_record {
    my $body_at = index($st_buf, "\r\n\r\n");

    return if $body_at < 0;

    my $body = substr($st_buf, $body_at + 4);
    my $doc = eval { $json->decode($body) } or return;
    my ($f) = grep { $_->{name} eq $opt{f} && $_->{registered} }
                  @{ $doc->{functions} };

    return unless $f;

    my $in = $f->{instances};
    push @samples, [
        time - $t_conn, $f->{queue_length}, $f->{in_flight} // 0,
        $in->{starting}, $in->{idle}, $in->{busy},
        $f->{calls}, $f->{cold_starts}, time - $st_start,
    ];
}


while (1) {
    my $open = grep { $state[$_] eq 'reading' } 0 .. $n - 1;
    my $now = time;

    last if $now >= $deadline;

    if ($opt{s} && !$st_sock) {
        # one more sample once every call is answered: the end state
        last if !$open && $next_sample > $now + 1;
        if ($now >= $next_sample) {
            status_start();
            $next_sample = $open ? $now + $opt{i} / 1000 : $now + 3600;
        }
    }

    last if !$open && !$st_sock;

    $poll->poll($opt{s} && !$st_sock
                ? ($next_sample - time > 0 ? $next_sample - time : 0)
                : $deadline - time);

    for my $s ($poll->handles(POLLIN | POLLOUT | POLLERR | POLLHUP)) {
        if (defined $st_sock && fileno $s == fileno $st_sock) {
            status_event();
            next;
        }

        my $i = $by_fd{fileno $s};
        my $r = sysread($s, $buf[$i], 65536, length $buf[$i]);

        next if !defined $r && ($! == EAGAIN || $! == EINTR);

        next if $r;

        # EOF or error: the response is complete, or lost
        $done[$i] = time;
        $poll->remove($s);
        close $s;

        my ($st, $c) = head($buf[$i]);

        if ($st) {
            $state[$i] = 'answered';
            $status[$i] = $st;
            $cold[$i] = $c;
        } else {
            $state[$i] = 'lost: ' . (defined $r ? 'EOF' : "read: $!")
                       . ' before a response';
        }
    }
}

for my $i (0 .. $n - 1) {
    if ($state[$i] eq 'reading') {
        $state[$i] = 'lost: timeout';
        $done[$i] = time;
    }
}

# 4. the summary

my $t_end = (sort { $b <=> $a } grep { defined } @done)[0] // time;
my @ans = grep { $state[$_] eq 'answered' } 0 .. $n - 1;
my @lat = sort { $a <=> $b } map { $done[$_] - $sent[$_] } @ans;
my %st;

$st{$status[$_]}++ for @ans;


sub pct {
    my ($p) = @_;

    return 'nan' unless @lat;
    my $k = int($p / 100 * @lat + 0.999999) - 1;
    $k = 0 if $k < 0;
    return ms($lat[$k]);
}


my $ok = $st{200} // 0;
my $lost = $n - @ans;

printf "\@burst n=%d connected=%d answered=%d ok=%d lost=%d cold=%d "
     . "warm=%d statuses=%s connect_ms=%s total_ms=%s p50=%s p90=%s "
     . "p99=%s max=%s\n",
    $n, $connected, scalar @ans, $ok, $lost,
    scalar(grep { ($cold[$_] // '') eq '1' } @ans),
    scalar(grep { ($cold[$_] // '') eq '0' } @ans),
    join(',', map { "$_:$st{$_}" } sort keys %st) || '-',
    ms($t_conn - $t0), ms($t_end - $t_conn),
    pct(50), pct(90), pct(99), pct(100);

if ($opt{s}) {
    my %max;

    for my $s (@samples) {
        my $inst = $s->[3] + $s->[4] + $s->[5];

        $max{q} = $s->[1] if $s->[1] > ($max{q} // -1);
        $max{f} = $s->[2] if $s->[2] > ($max{f} // -1);
        $max{i} = $inst if $inst > ($max{i} // -1);
        $max{s} = $s->[3] if $s->[3] > ($max{s} // -1);
        $max{l} = $s->[8] if $s->[8] > ($max{l} // -1);
    }

    printf "\@status samples=%d queue_max=%s in_flight_max=%s "
         . "instances_max=%s starting_max=%s calls=%s cold_starts=%s "
         . "first_ms=%s answer_max_ms=%s\n",
        scalar @samples, $max{q} // '-', $max{f} // '-', $max{i} // '-',
        $max{s} // '-', @samples ? $samples[-1][6] : '-',
        @samples ? $samples[-1][7] : '-',
        @samples ? ms($samples[0][0]) : '-',
        defined $max{l} ? ms($max{l}) : '-';

    if ($opt{S}) {
        open my $fh, '>', $opt{S} or die "burst.pl: $opt{S}: $!\n";
        print $fh "# ms queue_length in_flight starting idle busy calls "
                . "cold_starts answer_ms (ms: when the status came back, "
                . "since the requests were written; answer_ms: how long "
                . "faas_status took)\n";
        printf $fh "%s %s %s %s %s %s %s %s %s\n", ms($_->[0]),
            @$_[1 .. 7], ms($_->[8])
            for @samples;
        close $fh;
    }
}

if ($opt{o}) {
    open my $fh, '>', $opt{o} or die "burst.pl: $opt{o}: $!\n";
    print $fh "# request status cold ms outcome\n";
    for my $i (0 .. $n - 1) {
        printf $fh "%d %s %s %s %s\n", $i, $status[$i] // '-',
            ($cold[$i] // '') eq '' ? '-' : $cold[$i],
            defined $done[$i] && defined $sent[$i]
                ? ms($done[$i] - $sent[$i]) : '-',
            $state[$i] =~ s/ /_/gr;
    }
    close $fh;
}

exit($ok == $n ? 0 : 1);
