/*
 * The supervisor's error log.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shim_log.h"


#define SHIM_LOG_LINE_MAX  4096


static const char  *shim_log_levels[] = {
    "error", "warn", "notice", "info", "debug"
};


void
shim_log_init(shim_log_t *log, shim_log_level_e level)
{
    log->fd = STDERR_FILENO;
    log->level = level;
    log->path = NULL;
    log->pid = getpid();
}


int
shim_log_open(shim_log_t *log, const char *path)
{
    int  fd;

    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd == -1) {
        return -1;
    }

    if (log->path != NULL) {
        close(log->fd);
    }

    log->fd = fd;
    log->path = path;

    return 0;
}


/* on SIGHUP, after logrotate moved the file away */
int
shim_log_reopen(shim_log_t *log)
{
    if (log->path == NULL) {
        return 0;
    }

    return shim_log_open(log, log->path);
}


void
shim_log_close(shim_log_t *log)
{
    if (log->path != NULL) {
        close(log->fd);
        log->fd = STDERR_FILENO;
        log->path = NULL;
    }
}


int
shim_log_parse_level(const char *name, shim_log_level_e *level)
{
    size_t  i;

    for (i = 0; i < sizeof(shim_log_levels) / sizeof(shim_log_levels[0]);
         i++)
    {
        if (strcmp(name, shim_log_levels[i]) == 0) {
            *level = (shim_log_level_e) i;
            return 0;
        }
    }

    return -1;
}


void
shim_log_write(shim_log_t *log, shim_log_level_e level, int err,
    const char *fmt, ...)
{
    int        n;
    char       line[SHIM_LOG_LINE_MAX];
    size_t     len, size;
    time_t     now;
    va_list    args;
    struct tm  tm;

    size = sizeof(line) - 1;    /* room for the newline */

    now = time(NULL);
    localtime_r(&now, &tm);

    len = strftime(line, size, "%Y/%m/%d %H:%M:%S", &tm);

    n = snprintf(line + len, size - len, " [%s] %d: ",
                 shim_log_levels[level], (int) log->pid);
    len += (n > 0) ? (size_t) n : 0;

    va_start(args, fmt);
    n = vsnprintf(line + len, size - len, fmt, args);
    va_end(args);

    if (n > 0) {
        len += (size_t) n < size - len ? (size_t) n : size - len - 1;
    }

    if (err != 0 && len < size) {
        n = snprintf(line + len, size - len, " (%d: %s)", err,
                     strerror(err));
        if (n > 0) {
            len += (size_t) n < size - len ? (size_t) n : size - len - 1;
        }
    }

    line[len++] = '\n';

    /* one write per line keeps lines whole in a file shared with children */
    while (write(log->fd, line, len) == -1 && errno == EINTR) {
        /* retry */
    }
}
