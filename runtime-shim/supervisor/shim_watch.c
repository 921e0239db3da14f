/*
 * Code updates, see shim_watch.h.
 */

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "shim.h"


#define SHIM_WATCH_EVENTS  (IN_CLOSE_WRITE | IN_CREATE | IN_DELETE          \
                            | IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB        \
                            | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)


static void shim_watch_dir(shim_ctx_t *ctx, shim_code_watch_t *w,
    const char *path, unsigned depth);
static void shim_watch_handler(shim_event_t *ev, uint32_t revents);
static int shim_watch_ignored(const char *name);
static void shim_watch_timer_handler(shim_timer_t *t);
static void shim_watch_free(shim_ctx_t *ctx, shim_code_watch_t *w);


int
shim_watch_init(shim_ctx_t *ctx)
{
    shim_watch_t  *wt;

    wt = &ctx->watch;
    wt->watches = NULL;

    if (shim_timer_init(&ctx->loop.timers, &wt->timer,
                        shim_watch_timer_handler, ctx)
        != 0)
    {
        wt->fd = -1;
        return -1;
    }

    wt->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);

    if (wt->fd == -1) {
        shim_log_error(&ctx->log, SHIM_LOG_WARN, errno, "inotify_init1() "
                       "failed: code updates are not noticed, restart "
                       "the supervisor or reload nginx with a new path");
        return 0;
    }

    shim_event_init(&wt->ev, wt->fd, shim_watch_handler, ctx);

    if (shim_event_set(&ctx->loop, &wt->ev, EPOLLIN) != 0) {
        shim_log_error(&ctx->log, SHIM_LOG_ERROR, errno, "epoll_ctl() "
                       "failed");
        return -1;
    }

    return 0;
}


void
shim_watch_cleanup(shim_ctx_t *ctx)
{
    shim_watch_t       *wt;
    shim_code_watch_t  *w;

    wt = &ctx->watch;

    while (wt->watches != NULL) {
        w = wt->watches;
        wt->watches = w->next;
        shim_watch_free(ctx, w);
    }

    if (wt->fd != -1) {
        shim_event_del(&ctx->loop, &wt->ev);
        close(wt->fd);
        wt->fd = -1;
    }

    if (wt->timer.handler != NULL) {
        shim_timer_release(&ctx->loop.timers, &wt->timer);
    }
}


void
shim_watch_add(shim_ctx_t *ctx, shim_function_t *fn)
{
    shim_watch_t       *wt;
    shim_code_watch_t  *w;

    wt = &ctx->watch;

    if (wt->fd == -1) {
        return;
    }

    for (w = wt->watches; w != NULL; w = w->next) {
        if (strcmp(w->code, fn->code) == 0) {
            w->refs++;
            return;
        }
    }

    w = calloc(1, sizeof(shim_code_watch_t));
    if (w == NULL) {
        return;
    }

    w->code = strdup(fn->code);
    w->wds = calloc(SHIM_WATCH_DIRS_MAX, sizeof(int));

    if (w->code == NULL || w->wds == NULL) {
        free(w->code);
        free(w->wds);
        free(w);
        return;
    }

    w->refs = 1;

    shim_watch_dir(ctx, w, fn->code, 0);

    w->next = wt->watches;
    wt->watches = w;

    shim_log_error(&ctx->log, SHIM_LOG_DEBUG, 0, "watching \"%s\" (%u "
                   "directories) for code updates", w->code, w->nwds);
}


void
shim_watch_remove(shim_ctx_t *ctx, shim_function_t *fn)
{
    shim_code_watch_t  **pw, *w;

    for (pw = &ctx->watch.watches; *pw != NULL; pw = &(*pw)->next) {
        w = *pw;

        if (strcmp(w->code, fn->code) != 0) {
            continue;
        }

        if (--w->refs == 0) {
            *pw = w->next;
            shim_watch_free(ctx, w);
        }

        return;
    }
}


/* the directory and, depth first, those below it, up to the limit */
static void
shim_watch_dir(shim_ctx_t *ctx, shim_code_watch_t *w, const char *path,
    unsigned depth)
{
    int             wd;
    DIR            *dir;
    char            sub[PATH_MAX];
    struct dirent  *de;

    if (w->nwds == SHIM_WATCH_DIRS_MAX || depth > 16) {
        return;
    }

    wd = inotify_add_watch(ctx->watch.fd, path, SHIM_WATCH_EVENTS);

    if (wd == -1) {
        if (depth == 0) {
            shim_log_error(&ctx->log, SHIM_LOG_WARN, errno, "cannot watch "
                           "\"%s\" for code updates", path);
        }

        return;
    }

    w->wds[w->nwds++] = wd;

    dir = opendir(path);
    if (dir == NULL) {
        return;
    }

    while ((de = readdir(dir)) != NULL) {
        if (de->d_type != DT_DIR || de->d_name[0] == '.'
            || shim_watch_ignored(de->d_name))
        {
            continue;
        }

        if (snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name)
            < (int) sizeof(sub))
        {
            shim_watch_dir(ctx, w, sub, depth + 1);
        }
    }

    closedir(dir);
}


static void
shim_watch_handler(shim_event_t *ev, uint32_t revents)
{
    char                         buf[8192]
                                 __attribute__((aligned(
                                     __alignof__(struct inotify_event))));
    char                        *p;
    ssize_t                      n;
    unsigned                     i;
    shim_ctx_t                  *ctx;
    shim_code_watch_t           *w;
    const struct inotify_event  *ie;

    (void) revents;

    ctx = ev->data;

    for ( ;; ) {
        n = read(ctx->watch.fd, buf, sizeof(buf));

        if (n <= 0) {
            if (n == -1 && errno == EINTR) {
                continue;
            }

            break;
        }

        for (p = buf; p < buf + n; p += sizeof(*ie) + ie->len) {
            ie = (const struct inotify_event *) p;

            /* lost events: every directory may have changed */

            if (ie->mask & IN_Q_OVERFLOW) {
                for (w = ctx->watch.watches; w != NULL; w = w->next) {
                    w->dirty = 1;
                }

                continue;
            }

            if (ie->len > 0 && shim_watch_ignored(ie->name)) {
                continue;
            }

            for (w = ctx->watch.watches; w != NULL; w = w->next) {
                for (i = 0; i < w->nwds; i++) {
                    if (w->wds[i] == ie->wd) {
                        w->dirty = 1;
                    }
                }
            }
        }
    }

    /* settle: the update waits for the burst to end, within a bound */

    if (!shim_timer_armed(&ctx->watch.timer)) {
        ctx->watch.first = ctx->loop.now;
    }

    if (ctx->loop.now - ctx->watch.first < SHIM_WATCH_MAX_WAIT * 1000) {
        shim_timer_add(&ctx->loop, &ctx->watch.timer, SHIM_WATCH_SETTLE);
    }
}


/* what a runtime writes next to the code (CPython's bytecode cache) */
static int
shim_watch_ignored(const char *name)
{
    size_t  len;

    len = strlen(name);

    return strcmp(name, "__pycache__") == 0
           || (len > 4 && strcmp(name + len - 4, ".pyc") == 0);
}


static void
shim_watch_timer_handler(shim_timer_t *t)
{
    size_t              bucket;
    unsigned            i;
    shim_ctx_t         *ctx;
    shim_function_t    *fn, *next;
    shim_code_watch_t  *w;

    ctx = t->data;

    for (w = ctx->watch.watches; w != NULL; w = w->next) {
        if (!w->dirty) {
            continue;
        }

        w->dirty = 0;

        /* directories come and go in a deploy: watch what is there now */

        for (i = 0; i < w->nwds; i++) {
            (void) inotify_rm_watch(ctx->watch.fd, w->wds[i]);
        }

        w->nwds = 0;
        shim_watch_dir(ctx, w, w->code, 0);

        bucket = 0;
        fn = shim_function_next(&ctx->functions, &bucket, NULL);

        while (fn != NULL) {
            next = shim_function_next(&ctx->functions, &bucket, fn);

            if (strcmp(fn->code, w->code) == 0) {
                shim_instance_code_changed(ctx, fn);
            }

            fn = next;
        }
    }
}


static void
shim_watch_free(shim_ctx_t *ctx, shim_code_watch_t *w)
{
    unsigned  i;

    for (i = 0; i < w->nwds; i++) {
        (void) inotify_rm_watch(ctx->watch.fd, w->wds[i]);
    }

    free(w->wds);
    free(w->code);
    free(w);
}
