/*
 * Code updates: the supervisor watches every registered function's code
 * directory (inotify, the directory and those below it), and once the
 * changes have settled, the function's next instances load the new code
 * while the old ones drain: idle ones quit at once, busy ones finish
 * their call on the code they loaded and quit, and as many instances of
 * the new code start in the background as the old ones leave.
 *
 * A deploy is a burst of events; the update takes effect when none has
 * come for SHIM_WATCH_SETTLE ms (at most SHIM_WATCH_MAX_WAIT ms after the
 * first), so that a new instance does not load a directory half copied.
 * Files renamed into place are never seen half written.  A directory
 * swapped whole (a symlink on the code path pointed elsewhere) is not an
 * event in the directory: such a deploy changes the configured path and
 * reloads nginx, which registers a new version.
 */

#ifndef SHIM_WATCH_H
#define SHIM_WATCH_H


#define SHIM_WATCH_SETTLE     200         /* ms */
#define SHIM_WATCH_MAX_WAIT   1000        /* ms */
#define SHIM_WATCH_DIRS_MAX   256         /* per code directory */


typedef struct shim_code_watch_s  shim_code_watch_t;

struct shim_code_watch_s {
    shim_code_watch_t   *next;
    char                *code;            /* the configured path */
    unsigned             refs;            /* function versions using it */
    int                 *wds;             /* the directory and below */
    unsigned             nwds;
    unsigned             dirty:1;
};


typedef struct {
    int                  fd;              /* -1: updates are not watched */
    shim_event_t         ev;
    shim_timer_t         timer;
    uint64_t             first;           /* us: the first unsettled event */
    shim_code_watch_t   *watches;
} shim_watch_t;


/* 0, or -1 when out of memory; without inotify it logs and goes on */
int shim_watch_init(shim_ctx_t *ctx);
void shim_watch_cleanup(shim_ctx_t *ctx);

/* a function version appears in, and leaves, the function table */
void shim_watch_add(shim_ctx_t *ctx, shim_function_t *fn);
void shim_watch_remove(shim_ctx_t *ctx, shim_function_t *fn);

#endif /* SHIM_WATCH_H */
