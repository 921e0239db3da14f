# Configuration errors are found when nginx loads the configuration, with
# the directive's file and line; a valid configuration loads.

use lib 't/lib';
use FaasTest;
use Test::Nginx::Socket 'no_plan';

run_tests();

__DATA__

=== TEST 1: a valid configuration loads and serves
--- http_config
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function hello {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/hello;
        handler handle;
        timeout 3s;
        idle_timeout 60s;
        max_instances 8;
        queue_size 64;
        queue_timeout 10s;
        env GREETING hi;
    }
--- config
    location = /hello {
        faas_connect_timeout 1s;
        faas_send_timeout 5s;
        faas_read_timeout 5s;
        faas_request_buffering off;
        faas_pass hello;
    }
--- request
GET /hello
--- response_body
hi, world!
--- no_error_log
[error]
[warn]



=== TEST 2: faas_pass names an unknown function
--- http_config
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function hello {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/hello;
        handler handle;
    }
--- config
    location = /nope {
        faas_pass nope;
    }
--- must_die
--- error_log eval
["[emerg]", qr/unknown function "nope" in \S+nginx\.conf:\d+/]



=== TEST 3: the code directory does not exist
--- http_config
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function hello {
        runtime c;
        code /nonexistent/faas-test-code;
        handler handle;
    }
--- config
    location = /hello {
        faas_pass hello;
    }
--- must_die
--- error_log eval
["[emerg]", qr{"/nonexistent/faas-test-code".* in \S+nginx\.conf:\d+}]



=== TEST 4: unknown runtime
--- http_config
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function hello {
        runtime cobol;
        code $TEST_NGINX_FUNCTIONS/hello;
        handler handle;
    }
--- config
    location = /hello {
        faas_pass hello;
    }
--- must_die
--- error_log eval
["[emerg]", qr/"cobol".* in \S+nginx\.conf:\d+/]



=== TEST 5: a time value nginx cannot parse
--- http_config
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function hello {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/hello;
        handler handle;
        timeout 3x;
    }
--- config
    location = /hello {
        faas_pass hello;
    }
--- must_die
--- error_log eval
["[emerg]", qr/"timeout" directive invalid value in \S+nginx\.conf:\d+/]



=== TEST 6: a bad time value in faas_read_timeout
--- http_config
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function hello {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/hello;
        handler handle;
    }
--- config
    location = /hello {
        faas_read_timeout 10x;
        faas_pass hello;
    }
--- must_die
--- error_log eval
["[emerg]",
 qr/"faas_read_timeout" directive invalid value in \S+nginx\.conf:\d+/]



=== TEST 7: two functions with the same name
--- http_config
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function hello {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/hello;
        handler handle;
    }

    faas_function hello {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/echo;
        handler handle;
    }
--- config
    location = /hello {
        faas_pass hello;
    }
--- must_die
--- error_log eval
["[emerg]", qr/(?i:duplicate).*"hello".* in \S+nginx\.conf:\d+/]



=== TEST 8: functions but no faas_supervisor
--- http_config
    faas_function hello {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/hello;
        handler handle;
    }
--- config
    location = /hello {
        faas_pass hello;
    }
--- must_die
--- error_log eval
["[emerg]", qr/"faas_pass" requires "faas_supervisor".* in \S+nginx\.conf:\d+/]



=== TEST 9: the supervisor address is not a unix socket
--- http_config
    faas_supervisor 127.0.0.1:9000;

    faas_function hello {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/hello;
        handler handle;
    }
--- config
    location = /hello {
        faas_pass hello;
    }
--- must_die
--- error_log eval
["[emerg]", qr/unix:.* in \S+nginx\.conf:\d+/]



=== TEST 10: unknown directive inside faas_function
--- http_config
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function hello {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/hello;
        handler handle;
        no_such_setting 1;
    }
--- config
    location = /hello {
        faas_pass hello;
    }
--- must_die
--- error_log eval
["[emerg]", qr/unknown directive "no_such_setting".* in \S+nginx\.conf:\d+/]



=== TEST 11: faas_function inside a server block
--- http_config
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;
--- config
    faas_function hello {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/hello;
        handler handle;
    }
--- must_die
--- error_log eval
["[emerg]",
 qr/"faas_function" directive is not allowed here in \S+nginx\.conf:\d+/]



=== TEST 12: faas_pass twice in one location
--- http_config
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function hello {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/hello;
        handler handle;
    }
--- config
    location = /hello {
        faas_pass hello;
        faas_pass hello;
    }
--- must_die
--- error_log eval
["[emerg]", qr/"faas_pass" directive is duplicate in \S+nginx\.conf:\d+/]
