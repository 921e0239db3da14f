/*
 * Launching instance processes, see shim_launch.h.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shim.h"



int
shim_launch(shim_ctx_t *ctx, const shim_launch_t *l, shim_child_t *c,
    int *err)
{
    int             i, sv[2], out[2][2];
    char            slot[4200];
    char           *argv[2];
    pid_t           pid;
    const char     *what, *arg, *name;
    shim_spawn_t    sp;
    shim_sandbox_t  sb;

    sv[0] = -1;
    sv[1] = -1;
    arg = NULL;
    out[0][0] = out[0][1] = out[1][0] = out[1][1] = -1;

    memset(&sp, 0, sizeof(shim_spawn_t));
    sp.cgroup_procs[0] = -1;
    sp.cgroup_procs[1] = -1;
    sp.cgroup_procs[2] = -1;

    /* one end stays blocking: the runtime's, which has nothing else to do */

    what = "socketpair()";

    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1
        || fcntl(sv[0], F_SETFL, O_NONBLOCK) == -1)
    {
        goto failed;
    }

    /* only our ends of the pipes are non-blocking: a writer waits for us */

    what = "pipe2()";

    for (i = 0; i < 2; i++) {
        if (pipe2(out[i], O_CLOEXEC) == -1
            || fcntl(out[i][0], F_SETFL, O_NONBLOCK) == -1)
        {
            goto failed;
        }
    }

    argv[0] = (char *) l->program;
    argv[1] = NULL;

    sp.program = l->program;
    sp.argv = argv;
    sp.envp = l->envp;
    sp.channel = sv[1];
    sp.devnull = ctx->devnull;
    sp.stdout_fd = out[0][1];
    sp.stderr_fd = out[1][1];
    sp.drop_privileges = ctx->conf.drop_privileges;
    sp.uid = l->uid;
    sp.gid = l->gid;

    /* a pooled sandbox has its code attached before EXEC, a runtime not */

    if (l->code != NULL || l->program == NULL) {
        sp.code_check = ctx->conf.sandbox ? SHIM_SLOT_CODE : l->code;
    }

    if (ctx->conf.sandbox) {
        what = "creating the code slot";

        if (shim_slot_create(&ctx->slots, l->id, slot, sizeof(slot)) != 0) {
            goto failed;
        }

        /* before the clone: the sandbox's bind copies it */

        if (l->code != NULL) {
            arg = l->code;

            if (shim_slot_attach(&ctx->slots, l->id, l->code, &what) != 0) {
                goto failed;
            }

            arg = NULL;
        }

        if (shim_cgroup_create(&ctx->cgroup, l->id, l->memory, l->pids,
                               l->cpu, sp.cgroup_procs, &what)
            != 0)
        {
            goto failed;
        }

        sb.slot = slot;
        sb.programs = l->programs;
        sb.tmp_size = l->tmp_size;
        sb.network = l->network;

        sp.sandbox = &sb;
        sp.seccomp = &ctx->seccomp;
    }

    c->started = shim_time_now();

    pid = shim_process_spawn(&sp, err);
    ctx->spawned++;

    if (pid == -1) {
        what = "spawning";
        errno = *err;
        goto failed;
    }

    close(sv[1]);
    close(out[0][1]);
    close(out[1][1]);

    for (i = 0; i < 3; i++) {
        if (sp.cgroup_procs[i] != -1) {
            close(sp.cgroup_procs[i]);
        }
    }

    c->pid = pid;
    c->channel = sv[0];
    c->output[0] = out[0][0];
    c->output[1] = out[1][0];

    return 0;

failed:

    *err = errno;

    name = strerrorname_np(*err);

    snprintf(ctx->launch_error, sizeof(ctx->launch_error), "%s%s%s%s: %s "
             "(%s)", ctx->conf.sandbox ? "sandbox: " : "", what,
             arg ? " " : "", arg ? arg : "", name ? name : "?",
             strerror(*err));

    shim_log_error(&ctx->log, SHIM_LOG_ERROR, 0, "instance %" PRIu64 ": %s",
                   l->id, ctx->launch_error);

    for (i = 0; i < 2; i++) {
        if (sv[i] != -1) {
            close(sv[i]);
        }

        if (out[i][0] != -1) {
            close(out[i][0]);
            close(out[i][1]);
        }
    }

    for (i = 0; i < 3; i++) {
        if (sp.cgroup_procs[i] != -1) {
            close(sp.cgroup_procs[i]);
        }
    }

    if (ctx->conf.sandbox) {
        shim_cgroup_remove(&ctx->cgroup, l->id, &ctx->log);
        shim_slot_remove(&ctx->slots, l->id, &ctx->log);
    }

    errno = *err;

    return -1;
}


void
shim_launch_release(shim_ctx_t *ctx, uint64_t id, shim_child_t *c)
{
    int  i;

    if (c->channel != -1) {
        close(c->channel);
        c->channel = -1;
    }

    for (i = 0; i < 2; i++) {
        if (c->output[i] != -1) {
            close(c->output[i]);
            c->output[i] = -1;
        }
    }

    if (ctx->conf.sandbox) {
        shim_cgroup_remove(&ctx->cgroup, id, &ctx->log);
        shim_slot_remove(&ctx->slots, id, &ctx->log);
    }
}


const char *
shim_launch_code_path(shim_ctx_t *ctx, shim_function_t *fn)
{
    return ctx->conf.sandbox ? SHIM_SLOT_CODE : fn->code;
}


const char *
shim_launch_program(shim_ctx_t *ctx, shim_function_t *fn, const char **bind)
{
    *bind = fn->program;

    if (!ctx->conf.sandbox || fn->program_in_code == NULL) {
        return fn->program;
    }

    *bind = NULL;

    return fn->program_in_code;
}
