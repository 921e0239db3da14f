/*
 * The supervisor's error log: nginx-like lines,
 * "2026/11/26 13:52:43 [info] 4242: message".
 */

#ifndef SHIM_LOG_H
#define SHIM_LOG_H

#include <sys/types.h>


typedef enum {
    SHIM_LOG_ERROR = 0,
    SHIM_LOG_WARN,
    SHIM_LOG_NOTICE,
    SHIM_LOG_INFO,
    SHIM_LOG_DEBUG
} shim_log_level_e;


typedef struct {
    int                fd;
    shim_log_level_e   level;
    const char        *path;      /* NULL: stderr */
    pid_t              pid;
} shim_log_t;


/* the level test comes first so that filtered lines cost no formatting */
#define shim_log_error(log, lvl, err, ...)                                    \
    do {                                                                      \
        if ((lvl) <= (log)->level) {                                          \
            shim_log_write(log, lvl, err, __VA_ARGS__);                       \
        }                                                                     \
    } while (0)


void shim_log_init(shim_log_t *log, shim_log_level_e level);
int shim_log_open(shim_log_t *log, const char *path);
int shim_log_reopen(shim_log_t *log);
void shim_log_close(shim_log_t *log);
int shim_log_parse_level(const char *name, shim_log_level_e *level);

/* err != 0 appends " (err: strerror)" as nginx does */
void shim_log_write(shim_log_t *log, shim_log_level_e level, int err,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif /* SHIM_LOG_H */
