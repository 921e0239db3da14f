# faas_status: the supervisor's counters per function, as JSON and in the
# Prometheus text format, checked against what the blocks did.
#
# Blocks without --- config reuse the previous block's nginx (and the
# supervisor lives for the whole file), so the counters carry over.

use lib 't/lib';
use FaasTest;
use JSON::PP ();
use Test::Nginx::Socket 'no_plan';

our $HttpConfig = <<'_EOC_';
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function hello {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/hello;
        handler handle;
    }

    faas_function crash {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/crash;
        handler handle;
    }

    faas_function spare {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/hello;
        handler handle;
        min_instances 1;
    }

    faas_function one {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/slow;
        handler handle;
        timeout 5s;
        max_instances 1;
        queue_size 0;
    }
_EOC_

our $Config = <<'_EOC_';
    location / {
        faas_pass $arg_fn;
    }

    location = /status {
        faas_status;
    }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;

    if (!defined $block->http_config) {
        $block->set_value('http_config', $HttpConfig);
    }
});

# Parses the text exposition format: (TYPE by family, value by
# "name{labels}", lines that do not parse).  Every sample must come after
# the TYPE line of its family.
sub prometheus {
    my $text = shift // '';
    my $name = qr/[a-zA-Z_:][a-zA-Z0-9_:]*/;
    my $label = qr/[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"/;
    my $value = qr/(?:NaN|[+-]?Inf|[+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/;
    my (%type, %sample, @bad);

    for my $line (split /\n/, $text) {
        if ($line =~ /^# TYPE ($name) (counter|gauge|summary|histogram|untyped)$/) {
            $type{$1} = $2;

        } elsif ($line =~ /^# HELP $name \S.*$/) {
            # documentation

        } elsif ($line =~ /^($name)(\{$label(?:,$label)*\})? ($value)$/) {
            my ($metric, $labels, $v) = ($1, $2 // '', $3);
            my $family = $metric;

            $family =~ s/_(?:sum|count)$// if !exists $type{$metric};
            push @bad, "no TYPE before: $line" if !exists $type{$family};
            $sample{"$metric$labels"} = $v;

        } else {
            push @bad, "not in the exposition format: $line";
        }
    }

    return (\%type, \%sample, \@bad);
}


# the value of metric{function="fn",version="...",extra...}
sub prometheus_value {
    my ($sample, $metric, $fn, @extra) = @_;
    my $extra = join '', map { ",$_" } @extra;

    for my $k (keys %$sample) {
        return $sample->{$k}
            if $k =~ /^\Q$metric\E\{function="\Q$fn\E",version="[0-9a-f]+"\Q$extra\E\}$/;
    }

    return undef;
}

no_shuffle();
no_root_location();
run_tests();

__DATA__

=== TEST 1: JSON counts match the calls: 3 calls, 1 cold start, 1 crash
--- config eval: $main::Config
--- init
FaasTest::faas_wait_for(sub {
    my $s = FaasTest::faas_function_status('spare');
    (grep { FaasTest::faas_function_status($_) } qw(hello crash one)) == 3
        && $s && $s->{instances}{reserved} == 1
}, 3, 0.05);
my @st = map { (FaasTest::faas_http(GET => '/?fn=hello'))[0] } 1 .. 3;
Test::More::is("@st", "200 200 200", "TEST 1: three calls of hello");
# max_instances 1 and queue_size 0: the second of two parallel calls
my @one = sort map { $_->[0] } FaasTest::faas_http_parallel(2, '/?fn=one');
Test::More::is("@one", "200 503", "TEST 1: one: one served, one refused");
Test::More::is((FaasTest::faas_http(GET => '/?fn=crash'))[0], 502,
               "TEST 1: the crash is a 502");
# the crash is counted when the supervisor reaps the instance
FaasTest::faas_wait_for(sub {
    my $c = FaasTest::faas_function_status('crash');
    $c && $c->{errors}{crash} == 1
}, 3, 0.05);
my ($code, $h, $body) = FaasTest::faas_http(GET => '/status');
Test::More::is($code, 200, "TEST 1: status answers 200");
my $json = eval { JSON::PP::decode_json($body) };
Test::More::ok($json, "TEST 1: the status is JSON") or Test::More::diag($@);
my %fn = map { $_->{name} => $_ } @{ $json->{functions} // [] };
my $hello = $fn{hello} // {};
Test::More::is($hello->{calls}, 3, "TEST 1: hello: 3 calls");
Test::More::is($hello->{cold_starts}, 1, "TEST 1: hello: 1 cold start");
Test::More::is($hello->{queue_length}, 0, "TEST 1: hello: nothing queued");
Test::More::is(JSON::PP::true eq $hello->{registered} ? 1 : 0, 1,
               "TEST 1: hello: registered");
# a call that arrives just before the DONE of the previous one starts a
# second instance, which then idles as a spare (see shim_instance.c)
my $inst = $hello->{instances} // {};
Test::More::is_deeply([sort keys %$inst],
                      [qw(busy idle prewarmed reserved starting)],
                      "TEST 1: hello: instances by state");
Test::More::cmp_ok($inst->{idle} // 0, '>=', 1,
                   "TEST 1: hello: an idle instance");
Test::More::is($inst->{busy}, 0, "TEST 1: hello: none busy");
Test::More::is($inst->{reserved}, 0, "TEST 1: hello: none reserved");
Test::More::is_deeply($hello->{errors},
                      { crash => 0, timeout => 0, queue_full => 0,
                        queue_timeout => 0, start_failed => 0 },
                      "TEST 1: hello: no errors");
Test::More::is($hello->{cold_start_us}{samples}, 1,
               "TEST 1: hello: one cold-start sample");
Test::More::cmp_ok($hello->{cold_start_us}{p50} // 0, '>', 0,
                   "TEST 1: hello: its cold-start time");
Test::More::is($hello->{cold_start_us}{p99}, $hello->{cold_start_us}{p50},
               "TEST 1: hello: one sample is every percentile");
my $spare = $fn{spare} // {};
Test::More::is($spare->{instances}{reserved}, 1,
               "TEST 1: spare: its min_instances 1 is reserved");
Test::More::is($spare->{calls}, 0, "TEST 1: spare: no calls");
Test::More::is($spare->{cold_starts}, 0,
               "TEST 1: spare: a reserved start is no cold start");
Test::More::is($spare->{cold_start_us}{p50}, undef,
               "TEST 1: spare: no cold-start percentiles (null)");
my $one = $fn{one} // {};
Test::More::is($one->{calls}, 1, "TEST 1: one: 1 call served");
Test::More::is($one->{errors}{queue_full}, 1, "TEST 1: one: 1 queue full");
my $crash = $fn{crash} // {};
Test::More::is($crash->{calls}, 1, "TEST 1: crash: 1 call");
Test::More::is($crash->{cold_starts}, 1, "TEST 1: crash: 1 cold start");
Test::More::is($crash->{errors}{crash}, 1, "TEST 1: crash: 1 crash");
Test::More::is($crash->{instances}{idle}, 0, "TEST 1: crash: no instance");
--- request
GET /status
--- response_headers
Content-Type: application/json
--- response_body_like: "functions"
--- error_log eval
qr/\[error\].*faas: function "crash" failed/



=== TEST 2: the Prometheus format, line by line; counts as in TEST 1
--- config eval: $main::Config
--- init
FaasTest::faas_wait_for(sub {
    FaasTest::faas_function_status('hello')
        && FaasTest::faas_function_status('crash')
}, 3, 0.05);
# the supervisor may still hold TEST 1's counters (same versions): deltas
my ($code, $h, $before) = FaasTest::faas_http(GET => '/status?format=prometheus');
Test::More::is($code, 200, "TEST 2: status answers 200");
Test::More::like($h->{'content-type'} // '', qr{^text/plain; version=0\.0\.4},
                 "TEST 2: the exposition format's content type");
my ($type, $s0, $bad) = main::prometheus($before);
Test::More::is(scalar @$bad, 0, "TEST 2: every line parses")
    or Test::More::diag(join "\n", @$bad);
Test::More::ok($before =~ /\n\z/, "TEST 2: the last line ends with a newline");
Test::More::is($type->{faas_instances}, 'gauge', "TEST 2: instances gauge");
Test::More::is($type->{faas_calls_total}, 'counter', "TEST 2: calls counter");
Test::More::is($type->{faas_cold_starts_total}, 'counter',
               "TEST 2: cold starts counter");
Test::More::is($type->{faas_errors_total}, 'counter', "TEST 2: errors counter");
Test::More::is($type->{faas_queue_length}, 'gauge', "TEST 2: queue gauge");
Test::More::is($type->{faas_cold_start_seconds}, 'summary',
               "TEST 2: cold-start summary");
my @st = map { (FaasTest::faas_http(GET => '/?fn=hello'))[0] } 1 .. 3;
Test::More::is("@st", "200 200 200", "TEST 2: three calls of hello");
my $errors = main::prometheus_value($s0, 'faas_errors_total', 'crash',
                                    'kind="crash"') // 0;
FaasTest::faas_http(GET => '/?fn=crash');
my ($s1, $body);
FaasTest::faas_wait_for(sub {
    $body = (FaasTest::faas_http(GET => '/status?format=prometheus'))[2];
    (undef, $s1) = main::prometheus($body);
    (main::prometheus_value($s1, 'faas_errors_total', 'crash',
                            'kind="crash"') // 0) == $errors + 1
}, 3, 0.05);
($type, $s1, $bad) = main::prometheus($body);
Test::More::is(scalar @$bad, 0, "TEST 2: every line parses after the calls")
    or Test::More::diag(join "\n", @$bad);
my $delta = sub {
    my ($metric, $fn, @extra) = @_;
    (main::prometheus_value($s1, $metric, $fn, @extra) // 'none')
        - (main::prometheus_value($s0, $metric, $fn, @extra) // 0);
};
Test::More::is($delta->('faas_calls_total', 'hello'), 3,
               "TEST 2: hello: 3 more calls");
Test::More::is($delta->('faas_calls_total', 'crash'), 1,
               "TEST 2: crash: 1 more call");
Test::More::is($delta->('faas_cold_starts_total', 'crash'), 1,
               "TEST 2: crash: 1 more cold start");
Test::More::is($delta->('faas_errors_total', 'crash', 'kind="crash"'), 1,
               "TEST 2: crash: 1 more crash");
Test::More::cmp_ok(main::prometheus_value($s1, 'faas_instances', 'hello',
                                          'state="idle"') // 0, '>=', 1,
                   "TEST 2: hello: an idle instance");
Test::More::is(main::prometheus_value($s1, 'faas_instances', 'hello',
                                      'state="busy"'), 0,
               "TEST 2: hello: none busy");
Test::More::is(main::prometheus_value($s1, 'faas_queue_length', 'hello'), 0,
               "TEST 2: hello: nothing queued");
Test::More::cmp_ok(main::prometheus_value($s1, 'faas_cold_start_seconds',
                                          'hello', 'quantile="0.5"') // 0,
                   '>', 0, "TEST 2: hello: median cold start");
Test::More::cmp_ok(main::prometheus_value($s1,
                       'faas_cold_start_seconds_count', 'hello') // 0,
                   '>=', 1, "TEST 2: hello: summary count");
--- request
GET /status?format=prometheus
--- response_body_like: ^# HELP faas_instances
--- error_log eval
qr/\[error\].*faas: function "crash" failed/



=== TEST 3: an unknown format is a 400
--- config eval: $main::Config
--- request
GET /status?format=xml
--- error_code: 400
--- error_log
faas_status: unknown format "xml"
--- no_error_log
[error]



=== TEST 4: faas_status needs faas_supervisor
--- http_config
--- config
    location = /status {
        faas_status;
    }
--- must_die
--- error_log eval
["[emerg]", qr/"faas_status" requires "faas_supervisor" in the http block in \S+nginx\.conf:\d+/]
