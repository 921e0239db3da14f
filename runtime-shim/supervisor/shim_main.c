/*
 * faas-supervisor: command line, startup and shutdown.
 */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shim.h"
#include "shim_conf.h"


#define SHIM_EXIT_USAGE  2


static int shim_parse_args(shim_ctx_t *ctx, int argc, char **argv,
    shim_log_level_e *level);
static void shim_usage(FILE *f);
static int shim_std_fds(void);
static char *shim_default_runtime_dir(void);
static int shim_init(shim_ctx_t *ctx);
static int shim_signals(shim_ctx_t *ctx);
static void shim_signal_handler(shim_event_t *ev, uint32_t revents);
static void shim_stop(shim_ctx_t *ctx, int signo);
static void shim_stop_timer_handler(shim_timer_t *t);
static int shim_pid_file(shim_ctx_t *ctx);
static void shim_cleanup(shim_ctx_t *ctx);


static const char  *shim_usage_text =
    "Usage: faas-supervisor --listen PATH [options]\n"
    "\n"
    "Starts and supervises ngx_faas function instances for nginx.\n"
    "\n"
    "Options:\n"
    "  -l, --listen PATH         unix socket that nginx connects to "
    "(required)\n"
    "      --socket-mode OCTAL   permissions of the socket (default 0660)\n"
    "      --socket-group GROUP  group of the socket (default: unchanged)\n"
    "      --user USER           user instances run as (default nobody "
    "when\n"
    "                            started as root)\n"
    "      --group GROUP         group instances run as (default: the "
    "user's)\n"
    "      --uid-range FIRST-LAST\n"
    "                            a uid of its own from the range for each "
    "function,\n"
    "                            gid = uid (e.g. 200000-265535)\n"
    "      --allow-user USER     a user (name, id or FIRST-LAST) that a "
    "function's\n"
    "                            \"user\" may be; repeatable (default "
    "none)\n"
    "      --allow-group GROUP   the same for its group (the user's own is "
    "always\n"
    "                            allowed)\n"
    "      --runtime-dir DIR     where the faas-runtime-* programs are\n"
    "                            (default: the directory of this program)\n"
    "      --log-file FILE       error log (default stderr)\n"
    "      --log-level LEVEL     error, warn, notice, info or debug "
    "(default info)\n"
    "      --pid-file FILE       write the process id to FILE\n"
    "      --stop-timeout TIME   how long busy instances may finish on "
    "SIGTERM\n"
    "                            (default 10s; e.g. 500ms, 30s, 1m)\n"
    "      --retire-grace TIME   how long idle instances of a function "
    "that no\n"
    "                            nginx registers any more stay warm "
    "(default 10s)\n"
    "      --sandbox on|off      namespaces, cgroups and seccomp for "
    "instances\n"
    "                            (default on where root can make "
    "namespaces)\n"
    "      --instance-sched batch|normal\n"
    "                            scheduling policy of ready instances: "
    "batch does\n"
    "                            not preempt nginx on a wake-up (default "
    "batch)\n"
    "      --pool NAME=N         keep N pooled sandboxes (NAME sandbox) "
    "or\n"
    "                            runtimes (NAME python3, nodejs, c) ready "
    "for\n"
    "                            cold starts; repeatable (default none)\n"
    "  -h, --help                show this help\n"
    "  -V, --version             show the version\n"
    "\n"
    "Signals: SIGTERM, SIGINT stop gracefully (twice: at once); SIGHUP "
    "reopens the log.\n";


int
main(int argc, char **argv)
{
    int               rc;
    shim_ctx_t        ctx;
    shim_log_level_e  level;

    memset(&ctx, 0, sizeof(shim_ctx_t));

    rc = shim_parse_args(&ctx, argc, argv, &level);
    if (rc != 0) {
        return rc > 0 ? 0 : SHIM_EXIT_USAGE;
    }

    if (shim_std_fds() != 0) {
        return 1;
    }

    shim_log_init(&ctx.log, level);

    if (ctx.conf.log_file != NULL
        && shim_log_open(&ctx.log, ctx.conf.log_file) != 0)
    {
        fprintf(stderr, "faas-supervisor: cannot open \"%s\": %s\n",
                ctx.conf.log_file, strerror(errno));
        free(ctx.conf.runtime_dir);
        return 1;
    }

    if (shim_init(&ctx) != 0) {
        shim_cleanup(&ctx);
        return 1;
    }

    shim_log_error(&ctx.log, SHIM_LOG_NOTICE, 0,
                   "faas-supervisor/%s listening on unix:%s, runtimes in "
                   "%s, instances run as uid %d gid %d", SHIM_VERSION,
                   ctx.conf.listen_path, ctx.conf.runtime_dir,
                   ctx.conf.drop_privileges ? (int) ctx.conf.uid
                                            : (int) getuid(),
                   ctx.conf.drop_privileges ? (int) ctx.conf.gid
                                            : (int) getgid());

    if (ctx.users.range.first != 0) {
        shim_log_error(&ctx.log, SHIM_LOG_NOTICE, 0,
                       "uid range on: each function runs as a uid of its "
                       "own from %u-%u (gid = uid); pools as uid %d",
                       ctx.users.range.first, ctx.users.range.last,
                       (int) ctx.conf.uid);

    } else if (ctx.conf.drop_privileges) {
        shim_log_error(&ctx.log, SHIM_LOG_NOTICE, 0,
                       "uid range off: every function runs as uid %d "
                       "unless its \"user\" says otherwise",
                       (int) ctx.conf.uid);
    }

    shim_log_error(&ctx.log, SHIM_LOG_NOTICE, 0,
                   "function \"user\": %s", ctx.users.nallow_uid
                   ? "allowed for the uids of --allow-user"
                   : "refused (no --allow-user)");

    rc = 0;

    while (!ctx.stopping || ctx.ninstances > 0) {
        if (shim_loop_run_once(&ctx.loop) != 0) {
            shim_log_error(&ctx.log, SHIM_LOG_ERROR, errno,
                           "epoll_wait() failed");
            rc = 1;
            break;
        }
    }

    if (rc != 0) {
        shim_instance_kill_all(&ctx, "supervisor failed");
    }

    shim_process_reap_strays(&ctx.log);

    shim_log_error(&ctx.log, SHIM_LOG_NOTICE, 0, "exiting");

    shim_cleanup(&ctx);

    return rc;
}


/* 0: go on, 1: done (help, version), -1: usage error */
static int
shim_parse_args(shim_ctx_t *ctx, int argc, char **argv,
    shim_log_level_e *level)
{
    int           c, root;
    char          err[256];
    const char   *user, *group, *socket_group, *uid_range;
    shim_conf_t  *conf;

    enum {
        OPT_SOCKET_MODE = 256,
        OPT_SOCKET_GROUP,
        OPT_USER,
        OPT_GROUP,
        OPT_RUNTIME_DIR,
        OPT_LOG_FILE,
        OPT_LOG_LEVEL,
        OPT_PID_FILE,
        OPT_STOP_TIMEOUT,
        OPT_SANDBOX,
        OPT_INSTANCE_SCHED,
        OPT_POOL,
        OPT_RETIRE_GRACE,
        OPT_UID_RANGE,
        OPT_ALLOW_USER,
        OPT_ALLOW_GROUP
    };

    static const struct option  options[] = {
        { "listen",       required_argument, NULL, 'l' },
        { "socket-mode",  required_argument, NULL, OPT_SOCKET_MODE },
        { "socket-group", required_argument, NULL, OPT_SOCKET_GROUP },
        { "user",         required_argument, NULL, OPT_USER },
        { "group",        required_argument, NULL, OPT_GROUP },
        { "runtime-dir",  required_argument, NULL, OPT_RUNTIME_DIR },
        { "log-file",     required_argument, NULL, OPT_LOG_FILE },
        { "log-level",    required_argument, NULL, OPT_LOG_LEVEL },
        { "pid-file",     required_argument, NULL, OPT_PID_FILE },
        { "stop-timeout", required_argument, NULL, OPT_STOP_TIMEOUT },
        { "sandbox",      required_argument, NULL, OPT_SANDBOX },
        { "instance-sched", required_argument, NULL, OPT_INSTANCE_SCHED },
        { "pool",         required_argument, NULL, OPT_POOL },
        { "retire-grace", required_argument, NULL, OPT_RETIRE_GRACE },
        { "uid-range",    required_argument, NULL, OPT_UID_RANGE },
        { "allow-user",   required_argument, NULL, OPT_ALLOW_USER },
        { "allow-group",  required_argument, NULL, OPT_ALLOW_GROUP },
        { "help",         no_argument,       NULL, 'h' },
        { "version",      no_argument,       NULL, 'V' },
        { NULL, 0, NULL, 0 }
    };

    conf = &ctx->conf;

    conf->socket_mode = 0660;
    conf->socket_gid = (gid_t) -1;
    conf->stop_timeout = 10000;
    conf->retire_grace = SHIM_RETIRE_GRACE;
    conf->sandbox = -1;
    conf->sched_batch = 1;
    *level = SHIM_LOG_INFO;

    user = NULL;
    group = NULL;
    socket_group = NULL;
    uid_range = NULL;

    opterr = 0;

    while ((c = getopt_long(argc, argv, ":l:hV", options, NULL)) != -1) {

        switch (c) {

        case 'l':
            conf->listen_path = optarg;
            break;

        case OPT_SOCKET_MODE:
            if (shim_conf_parse_mode(optarg, &conf->socket_mode) != 0) {
                fprintf(stderr, "faas-supervisor: invalid --socket-mode "
                        "\"%s\"\n", optarg);
                goto usage;
            }

            break;

        case OPT_SOCKET_GROUP:
            socket_group = optarg;
            break;

        case OPT_POOL:
            if (shim_pool_option(conf->pools, &conf->npools, optarg) != 0) {
                goto usage;
            }

            break;

        case OPT_USER:
            user = optarg;
            break;

        case OPT_GROUP:
            group = optarg;
            break;

        case OPT_UID_RANGE:
            uid_range = optarg;

            if (shim_user_parse_range(optarg, &ctx->users.range, err,
                                      sizeof(err))
                != 0)
            {
                fprintf(stderr, "faas-supervisor: invalid --uid-range: %s\n",
                        err);
                goto usage;
            }

            break;

        case OPT_ALLOW_USER:
        case OPT_ALLOW_GROUP:
            if (shim_user_allow(&ctx->users, c == OPT_ALLOW_GROUP, optarg,
                                err, sizeof(err))
                != 0)
            {
                fprintf(stderr, "faas-supervisor: invalid --allow-%s: %s\n",
                        c == OPT_ALLOW_GROUP ? "group" : "user", err);
                goto usage;
            }

            break;

        case OPT_RUNTIME_DIR:
            free(conf->runtime_dir);
            conf->runtime_dir = strdup(optarg);
            if (conf->runtime_dir == NULL) {
                fprintf(stderr, "faas-supervisor: out of memory\n");
                return -1;
            }

            break;

        case OPT_LOG_FILE:
            conf->log_file = optarg;
            break;

        case OPT_LOG_LEVEL:
            if (shim_log_parse_level(optarg, level) != 0) {
                fprintf(stderr, "faas-supervisor: invalid --log-level "
                        "\"%s\"\n", optarg);
                goto usage;
            }

            break;

        case OPT_PID_FILE:
            conf->pid_file = optarg;
            break;

        case OPT_STOP_TIMEOUT:
            if (shim_conf_parse_time(optarg, &conf->stop_timeout) != 0) {
                fprintf(stderr, "faas-supervisor: invalid --stop-timeout "
                        "\"%s\"\n", optarg);
                goto usage;
            }

            break;

        case OPT_RETIRE_GRACE:
            if (shim_conf_parse_time(optarg, &conf->retire_grace) != 0) {
                fprintf(stderr, "faas-supervisor: invalid --retire-grace "
                        "\"%s\"\n", optarg);
                goto usage;
            }

            break;

        case OPT_SANDBOX:
            if (strcmp(optarg, "on") == 0) {
                conf->sandbox = 1;

            } else if (strcmp(optarg, "off") == 0) {
                conf->sandbox = 0;

            } else {
                fprintf(stderr, "faas-supervisor: invalid --sandbox \"%s\", "
                        "must be \"on\" or \"off\"\n", optarg);
                goto usage;
            }

            break;

        case OPT_INSTANCE_SCHED:
            if (strcmp(optarg, "batch") == 0) {
                conf->sched_batch = 1;

            } else if (strcmp(optarg, "normal") == 0) {
                conf->sched_batch = 0;

            } else {
                fprintf(stderr, "faas-supervisor: invalid --instance-sched "
                        "\"%s\", must be \"batch\" or \"normal\"\n",
                        optarg);
                goto usage;
            }

            break;

        case 'h':
            shim_usage(stdout);
            free(conf->runtime_dir);
            return 1;

        case 'V':
            printf("faas-supervisor/%s\n", SHIM_VERSION);
            free(conf->runtime_dir);
            return 1;

        case ':':
            fprintf(stderr, "faas-supervisor: option \"%s\" needs a "
                    "value\n", argv[optind - 1]);
            goto usage;

        default:
            fprintf(stderr, "faas-supervisor: unknown option \"%s\"\n",
                    argv[optind - 1]);
            goto usage;
        }
    }

    if (optind < argc) {
        fprintf(stderr, "faas-supervisor: unexpected argument \"%s\"\n",
                argv[optind]);
        goto usage;
    }

    if (conf->listen_path == NULL || conf->listen_path[0] == '\0') {
        fprintf(stderr, "faas-supervisor: --listen is required\n");
        goto usage;
    }

    if (socket_group != NULL
        && shim_conf_group(socket_group, &conf->socket_gid) != 0)
    {
        fprintf(stderr, "faas-supervisor: unknown group \"%s\"\n",
                socket_group);
        goto usage;
    }

    /* without root there is nobody to become: instances run as we do */

    root = (geteuid() == 0);

    if (!root && (user != NULL || group != NULL || uid_range != NULL)) {
        fprintf(stderr, "faas-supervisor: --user, --group and --uid-range "
                "need root\n");
        goto usage;
    }

    if (root) {
        conf->drop_privileges = 1;

        if (shim_conf_user(user ? user : "nobody", &conf->uid, &conf->gid)
            != 0)
        {
            fprintf(stderr, "faas-supervisor: unknown user \"%s\"\n",
                    user ? user : "nobody");
            goto usage;
        }

        if (group != NULL && shim_conf_group(group, &conf->gid) != 0) {
            fprintf(stderr, "faas-supervisor: unknown group \"%s\"\n",
                    group);
            goto usage;
        }

        if (conf->uid == 0) {
            fprintf(stderr, "faas-supervisor: instances must not run as "
                    "root\n");
            goto usage;
        }

        /* the pools run as --user: a function's uid must not be theirs */

        if (uid_range != NULL && conf->uid >= ctx->users.range.first
            && conf->uid <= ctx->users.range.last)
        {
            fprintf(stderr, "faas-supervisor: --uid-range %s contains the "
                    "uid %u of --user\n", uid_range, (unsigned) conf->uid);
            goto usage;
        }
    }

    if (conf->sandbox != 0 && !shim_sandbox_available()) {
        if (conf->sandbox == 1) {
            fprintf(stderr, "faas-supervisor: --sandbox on needs root and "
                    "namespaces, see docs/security.md\n");
            goto usage;
        }

        conf->sandbox = 0;

    } else if (conf->sandbox == -1) {
        conf->sandbox = 1;
    }

    if (conf->runtime_dir == NULL) {
        conf->runtime_dir = shim_default_runtime_dir();
        if (conf->runtime_dir == NULL) {
            fprintf(stderr, "faas-supervisor: cannot find the directory of "
                    "this program, use --runtime-dir\n");
            return -1;
        }
    }

    return 0;

usage:

    shim_usage(stderr);
    free(conf->runtime_dir);
    conf->runtime_dir = NULL;

    return -1;
}


static void
shim_usage(FILE *f)
{
    fputs(shim_usage_text, f);
}


/*
 * With 0, 1 or 2 closed, the next socket would take the number and
 * writes meant for the log would land on it.
 */
static int
shim_std_fds(void)
{
    int  fd;

    for ( ;; ) {
        fd = open("/dev/null", O_RDWR);
        if (fd == -1) {
            fprintf(stderr, "faas-supervisor: cannot open /dev/null: %s\n",
                    strerror(errno));
            return -1;
        }

        if (fd > STDERR_FILENO) {
            close(fd);
            return 0;
        }
    }
}


static char *
shim_default_runtime_dir(void)
{
    char     path[PATH_MAX];
    ssize_t  n;

    n = readlink("/proc/self/exe", path, sizeof(path) - 1);
    if (n <= 0) {
        return NULL;
    }

    path[n] = '\0';

    return strdup(dirname(path));
}


static int
shim_init(shim_ctx_t *ctx)
{
    int            n;
    rlim_t         soft;
    uint64_t       start, compiled;
    struct rlimit  rl;

    ctx->listen_fd = -1;
    ctx->signal_fd = -1;
    ctx->watch.fd = -1;
    ctx->devnull = -1;
    ctx->kmsg = -1;

    shim_queue_init(&ctx->conns);
    shim_queue_init(&ctx->controls);
    shim_queue_init(&ctx->statuses);
    shim_queue_init(&ctx->unregistered);
    shim_queue_init(&ctx->instances);

    if (shim_loop_init(&ctx->loop) != 0) {
        shim_log_error(&ctx->log, SHIM_LOG_ERROR, errno,
                       "epoll_create1() failed");
        return -1;
    }

    if (shim_function_table_init(&ctx->functions) != 0
        || shim_timer_init(&ctx->loop.timers, &ctx->stop_timer,
                           shim_stop_timer_handler, ctx) != 0
        || shim_timer_init(&ctx->loop.timers, &ctx->direct_timer,
                           shim_instance_direct_watch, ctx) != 0)
    {
        shim_log_error(&ctx->log, SHIM_LOG_ERROR, ENOMEM, "init failed");
        return -1;
    }

    if (shim_watch_init(ctx) != 0) {
        return -1;
    }

    ctx->packet = malloc(SHIM_PACKET_SIZE);
    ctx->out = malloc(SHIM_FRAME_JSON_SIZE);

    if (ctx->packet == NULL || ctx->out == NULL) {
        shim_log_error(&ctx->log, SHIM_LOG_ERROR, ENOMEM, "init failed");
        return -1;
    }

    if (ctx->conf.sandbox) {
        start = shim_time_now();

        if (shim_seccomp_compile(&ctx->seccomp, &ctx->log) != 0
            || shim_seccomp_compile_profiles(ctx->seccomp_profiles,
                                             &ctx->log) != 0
            || shim_cgroup_init(&ctx->cgroup, &ctx->log) != 0)
        {
            return -1;
        }

        compiled = shim_time_now() - start;

        /*
         * An instance runs under the supervisor's own filters (a container
         * may have some), the base filter and its runtime's allowlist.
         */

        n = shim_seccomp_filters(0);
        ctx->seccomp_filters = (n == -1) ? 0 : n + 2;

        if (n == -1) {
            shim_log_error(&ctx->log, SHIM_LOG_WARN, 0, "no Seccomp_filters "
                           "in /proc/self/status (Linux < 5.9): whether a "
                           "runtime loaded its allowlist is not checked");
        }

        ctx->kmsg = shim_seccomp_kmsg_open(&ctx->log);

        if (shim_slot_init(&ctx->slots, &ctx->log) != 0) {
            return -1;
        }

        shim_log_error(&ctx->log, SHIM_LOG_NOTICE, 0, "sandbox on: pid, "
                       "mount, ipc, uts (and net) namespaces, seccomp "
                       "filter of %u instructions, runtime allowlists of "
                       "%u (%s), %u (%s), %u (%s), compiled in %" PRIu64
                       " us",
                       (unsigned) ctx->seccomp.len,
                       (unsigned) ctx->seccomp_profiles[0].prog.len,
                       ctx->seccomp_profiles[0].runtime,
                       (unsigned) ctx->seccomp_profiles[1].prog.len,
                       ctx->seccomp_profiles[1].runtime,
                       (unsigned) ctx->seccomp_profiles[2].prog.len,
                       ctx->seccomp_profiles[2].runtime, compiled);

    } else {
        shim_log_error(&ctx->log, SHIM_LOG_WARN, 0, "sandbox off: instances "
                       "run without namespaces, cgroups and seccomp, "
                       "trusted code only");
    }

    ctx->devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (ctx->devnull == -1) {
        shim_log_error(&ctx->log, SHIM_LOG_ERROR, errno,
                       "open(\"/dev/null\") failed");
        return -1;
    }

    if (shim_signals(ctx) != 0) {
        return -1;
    }

    /*
     * Processes that a function leaves behind when its instance dies are
     * reparented to us rather than to init, so they are reaped here and
     * never linger as zombies of some unrelated ancestor.
     */

    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == -1) {
        shim_log_error(&ctx->log, SHIM_LOG_WARN, errno,
                       "prctl(PR_SET_CHILD_SUBREAPER) failed");
    }

    /*
     * Every instance holds three descriptors here and every request one
     * or two: the usual soft limit of 1024 runs out at a few hundred
     * instances, the hard one (what LimitNOFILE= or ulimit -Hn allow) is
     * the limit meant.  Instances get their own, lower, limit.
     */

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        soft = rl.rlim_cur;
        rl.rlim_cur = rl.rlim_max;

        if (setrlimit(RLIMIT_NOFILE, &rl) == -1) {
            shim_log_error(&ctx->log, SHIM_LOG_WARN, errno,
                           "cannot raise the open files limit from %llu",
                           (unsigned long long) soft);
        } else {
            shim_log_error(&ctx->log, SHIM_LOG_INFO, 0,
                           "open files limit raised from %llu to %llu",
                           (unsigned long long) soft,
                           (unsigned long long) rl.rlim_cur);
        }
    }

    if (shim_listen_open(ctx) != 0) {
        return -1;
    }

    /* after the listener: a second supervisor on the socket fails first */

    if (shim_direct_init(&ctx->direct, &ctx->log, ctx->conf.listen_path,
                         ctx->conf.socket_mode, ctx->conf.socket_gid)
        != 0)
    {
        return -1;
    }

    if (shim_pool_init(ctx) != 0) {
        return -1;
    }

    if (ctx->conf.pid_file != NULL && shim_pid_file(ctx) != 0) {
        return -1;
    }

    return 0;
}


static int
shim_signals(shim_ctx_t *ctx)
{
    sigset_t          set;
    struct sigaction  sa;

    /* a write to a connection nginx closed must fail, not kill us */

    memset(&sa, 0, sizeof(struct sigaction));
    sa.sa_handler = SIG_IGN;

    if (sigaction(SIGPIPE, &sa, NULL) == -1) {
        shim_log_error(&ctx->log, SHIM_LOG_ERROR, errno,
                       "sigaction(SIGPIPE) failed");
        return -1;
    }

    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);

    if (sigprocmask(SIG_BLOCK, &set, NULL) == -1) {
        shim_log_error(&ctx->log, SHIM_LOG_ERROR, errno,
                       "sigprocmask() failed");
        return -1;
    }

    ctx->signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (ctx->signal_fd == -1) {
        shim_log_error(&ctx->log, SHIM_LOG_ERROR, errno,
                       "signalfd() failed");
        return -1;
    }

    shim_event_init(&ctx->signal_ev, ctx->signal_fd, shim_signal_handler,
                    ctx);

    if (shim_event_set(&ctx->loop, &ctx->signal_ev, EPOLLIN) != 0) {
        shim_log_error(&ctx->log, SHIM_LOG_ERROR, errno,
                       "epoll_ctl() failed");
        return -1;
    }

    return 0;
}


static void
shim_signal_handler(shim_event_t *ev, uint32_t revents)
{
    int                      reap;
    size_t                   i;
    ssize_t                  n;
    shim_ctx_t              *ctx;
    struct signalfd_siginfo  si[16];

    (void) revents;

    ctx = ev->data;
    reap = 0;

    for ( ;; ) {
        n = read(ctx->signal_fd, si, sizeof(si));

        if (n == -1) {
            if (errno == EINTR) {
                continue;
            }

            if (errno != EAGAIN) {
                shim_log_error(&ctx->log, SHIM_LOG_ERROR, errno,
                               "read() from signalfd failed");
            }

            break;
        }

        for (i = 0; i < (size_t) n / sizeof(struct signalfd_siginfo); i++) {

            switch (si[i].ssi_signo) {

            case SIGCHLD:
                reap = 1;
                break;

            case SIGTERM:
            case SIGINT:
                shim_stop(ctx, (int) si[i].ssi_signo);
                break;

            case SIGHUP:
                if (shim_log_reopen(&ctx->log) != 0) {
                    shim_log_error(&ctx->log, SHIM_LOG_ERROR, errno,
                                   "cannot reopen \"%s\"", ctx->log.path);
                } else {
                    shim_log_error(&ctx->log, SHIM_LOG_NOTICE, 0,
                                   "received SIGHUP, log reopened");
                }

                break;
            }
        }
    }

    /* SIGCHLD coalesces: one reap collects every dead child */

    if (reap) {
        shim_instance_reap(ctx);
    }
}


/*
 * Graceful stop: no new connections, no more registrations, busy
 * instances finish within --stop-timeout, idle ones quit, waiting
 * requests are refused.  A second signal kills what is left at once.
 */
static void
shim_stop(shim_ctx_t *ctx, int signo)
{
    size_t            bucket;
    shim_request_t   *r;
    shim_function_t  *fn, *next;

    if (ctx->stopping) {
        shim_log_error(&ctx->log, SHIM_LOG_NOTICE, 0,
                       "received SIG%s again, killing %u instances",
                       sigabbrev_np(signo), ctx->ninstances);
        shim_instance_kill_all(ctx, "supervisor is stopping");
        return;
    }

    ctx->stopping = 1;

    shim_log_error(&ctx->log, SHIM_LOG_NOTICE, 0,
                   "received SIG%s, shutting down", sigabbrev_np(signo));

    shim_listen_close(ctx);
    shim_control_close_all(ctx);
    shim_status_close_all(ctx);
    shim_pool_drain(ctx);

    bucket = 0;
    fn = shim_function_next(&ctx->functions, &bucket, NULL);

    while (fn != NULL) {
        next = shim_function_next(&ctx->functions, &bucket, fn);

        while ((r = shim_function_dequeue(fn)) != NULL) {
            shim_request_fail(r, 503, 1, "supervisor is shutting down");
        }

        /* idle instances go now, those in a retire grace included */

        shim_instance_retire(ctx, fn);

        fn = next;
    }

    if (ctx->ninstances > 0) {
        shim_log_error(&ctx->log, SHIM_LOG_NOTICE, 0,
                       "waiting up to %" PRIu64 " ms for %u instances to "
                       "finish", ctx->conf.stop_timeout, ctx->ninstances);

        shim_timer_add(&ctx->loop, &ctx->stop_timer,
                       ctx->conf.stop_timeout ? ctx->conf.stop_timeout : 1);
    }
}


static void
shim_stop_timer_handler(shim_timer_t *t)
{
    shim_ctx_t  *ctx;

    ctx = t->data;

    shim_log_error(&ctx->log, SHIM_LOG_WARN, 0,
                   "stop timeout: killing %u instances", ctx->ninstances);

    shim_instance_kill_all(ctx, "stop timeout");
}


static int
shim_pid_file(shim_ctx_t *ctx)
{
    int     fd, n;
    char    buf[32];

    fd = open(ctx->conf.pid_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
              0644);
    if (fd == -1) {
        shim_log_error(&ctx->log, SHIM_LOG_ERROR, errno,
                       "cannot open \"%s\"", ctx->conf.pid_file);
        return -1;
    }

    n = snprintf(buf, sizeof(buf), "%d\n", (int) getpid());

    if (write(fd, buf, (size_t) n) != n) {
        shim_log_error(&ctx->log, SHIM_LOG_ERROR, errno,
                       "cannot write \"%s\"", ctx->conf.pid_file);
        close(fd);
        unlink(ctx->conf.pid_file);
        return -1;
    }

    close(fd);

    ctx->pid_file_written = 1;

    return 0;
}


static void
shim_cleanup(shim_ctx_t *ctx)
{
    shim_listen_close(ctx);
    shim_control_close_all(ctx);
    shim_status_close_all(ctx);

    if (ctx->functions.buckets != NULL) {
        shim_function_table_free(&ctx->functions);
    }

    if (ctx->signal_fd != -1) {
        close(ctx->signal_fd);
    }

    if (ctx->devnull != -1) {
        close(ctx->devnull);
    }

    shim_pool_cleanup(ctx);
    shim_watch_cleanup(ctx);
    shim_user_cleanup(&ctx->users);
    shim_slot_cleanup(&ctx->slots, &ctx->log);
    shim_direct_cleanup(&ctx->direct, &ctx->log);
    shim_cgroup_cleanup(&ctx->cgroup, &ctx->log);
    shim_seccomp_free(&ctx->seccomp);
    shim_seccomp_free_profiles(ctx->seccomp_profiles);

    if (ctx->kmsg != -1) {
        close(ctx->kmsg);
    }

    if (ctx->pid_file_written && unlink(ctx->conf.pid_file) == -1) {
        shim_log_error(&ctx->log, SHIM_LOG_ERROR, errno,
                       "unlink() of \"%s\" failed", ctx->conf.pid_file);
    }

    shim_loop_free(&ctx->loop);

    free(ctx->packet);
    free(ctx->out);
    free(ctx->conf.runtime_dir);

    shim_log_close(&ctx->log);
}
