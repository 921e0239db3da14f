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



=== TEST 13: a python3 handler that is not MODULE.FUNCTION
--- http_config
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function py {
        runtime python3;
        code $TEST_NGINX_FAAS_SRC;
        handler main;
    }
--- config
    location = /py {
        faas_pass py;
    }
--- must_die
--- error_log eval
["[emerg]",
 qr/faas_function "py": invalid handler "main" for runtime "python3": it must be MODULE\.FUNCTION.* in \S+nginx\.conf:\d+/]



=== TEST 14: a python3 handler with a part that is not an identifier
--- http_config
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function py {
        runtime python3;
        code $TEST_NGINX_FAAS_SRC;
        handler my-module.handle;
    }
--- config
    location = /py {
        faas_pass py;
    }
--- must_die
--- error_log eval
["[emerg]",
 qr/invalid handler "my-module\.handle" for runtime "python3": .*Python identifier.* in \S+nginx\.conf:\d+/]



=== TEST 15: a nodejs handler whose file leaves the code directory
--- http_config
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function js {
        runtime nodejs;
        code $TEST_NGINX_FAAS_SRC;
        handler lib/../../index.handler;
    }
--- config
    location = /js {
        faas_pass js;
    }
--- must_die
--- error_log eval
["[emerg]",
 qr{faas_function "js": invalid handler "lib/\.\./\.\./index\.handler" for runtime "nodejs": the file must not contain "\.\." in \S+nginx\.conf:\d+}]



=== TEST 16: a nodejs handler whose function is not an identifier
--- http_config
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function js {
        runtime nodejs;
        code $TEST_NGINX_FAAS_SRC;
        handler index.1st;
    }
--- config
    location = /js {
        faas_pass js;
    }
--- must_die
--- error_log eval
["[emerg]",
 qr/invalid handler "index\.1st" for runtime "nodejs": .*JavaScript identifier.* in \S+nginx\.conf:\d+/]



=== TEST 17: an initializer is checked as the runtime's handler is
--- http_config
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function py {
        runtime python3;
        code $TEST_NGINX_FAAS_SRC;
        initializer init;
    }
--- config
    location = /py {
        faas_pass py;
    }
--- must_die
--- error_log eval
["[emerg]",
 qr/faas_function "py": invalid initializer "init" for runtime "python3": .* in \S+nginx\.conf:\d+/]



=== TEST 18: the exec runtime takes no initializer
--- http_config
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function ex {
        runtime exec;
        code $TEST_NGINX_FAAS_SRC;
        handler bin/server;
        initializer init;
    }
--- config
    location = /ex {
        faas_pass ex;
    }
--- must_die
--- error_log eval
["[emerg]",
 qr/faas_function "ex": the exec runtime has no initializer in \S+nginx\.conf:\d+/]



=== TEST 19: log_output with a relative path
--- http_config
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function hello {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/hello;
        log_output logs/hello.log;
    }
--- config
    location = /hello {
        faas_pass hello;
    }
--- must_die
--- error_log eval
["[emerg]",
 qr/invalid log_output "logs\/hello\.log" of faas_function "hello": it must be nginx, supervisor, off or an absolute file path in \S+nginx\.conf:\d+/]



=== TEST 20: every runtime, initializer, debug and log_output register
Functions of each runtime with the new directives: the supervisor accepts
the table (else the worker would not register and /hello would get 503).
--- http_config
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function hello {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/hello;
        debug off;
        log_output nginx;
    }

    faas_function py {
        runtime python3;
        code $TEST_NGINX_FAAS_SRC;
        handler pkg.mod.handle;
        initializer pkg.mod.init;
        debug on;
        log_output off;
    }

    faas_function js {
        runtime nodejs;
        code $TEST_NGINX_FAAS_SRC;
        handler lib/app.v2.$handle;
        initializer lib/app.v2.init;
        log_output supervisor;
    }

    faas_function ex {
        runtime exec;
        code $TEST_NGINX_FAAS_SRC;
        log_output /dev/null;
    }
--- config
    location = /hello {
        faas_pass hello;
    }
--- request
GET /hello
--- response_body
Hello, world!
--- no_error_log
[error]
[warn]



=== TEST 21: seccomp takes "runtime" or "base", and exec runs base only
--- http_config
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function hello {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/hello;
        seccomp base;
    }

    faas_function hello2 {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/hello;
        seccomp runtime;
    }

    faas_function ex {
        runtime exec;
        code $TEST_NGINX_FAAS_SRC;
        seccomp base;
    }
--- config
    location = /hello {
        faas_pass hello;
    }
--- request
GET /hello
--- response_body
Hello, world!
--- no_error_log
[error]
[warn]



=== TEST 22: an unknown seccomp mode
--- http_config
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function hello {
        runtime c;
        code $TEST_NGINX_FUNCTIONS/hello;
        seccomp off;
    }
--- config
    location = /hello {
        faas_pass hello;
    }
--- must_die
--- error_log eval
["[emerg]", qr/invalid value "off" in \S+nginx\.conf:\d+/]



=== TEST 23: "seccomp runtime" for the exec runtime, which loads no list
--- http_config
    faas_supervisor unix:$TEST_NGINX_FAAS_SOCKET;

    faas_function ex {
        runtime exec;
        code $TEST_NGINX_FAAS_SRC;
        seccomp runtime;
    }
--- config
    location = /ex {
        faas_pass ex;
    }
--- must_die
--- error_log eval
["[emerg]", qr/faas_function "ex": "seccomp runtime" is not supported by the exec runtime, which runs under the base filter only in \S+nginx\.conf:\d+/]
