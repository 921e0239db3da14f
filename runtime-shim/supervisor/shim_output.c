/*
 * Instance output, see shim_output.h.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/uio.h>
#include <unistd.h>

#include "shim.h"


static void shim_output_handler(shim_event_t *ev, uint32_t revents);
static int shim_output_read(shim_output_t *o, size_t max);
static void shim_output_line(shim_output_t *o, const char *data, size_t len);
static void shim_output_emit(shim_instance_t *inst, unsigned stream,
    const char *line, size_t len);
static int shim_output_nginx(shim_instance_t *inst, const char *stream,
    const char *rid, char *line, size_t len);
static void shim_output_file(shim_instance_t *inst, const char *stream,
    const char *rid, const char *line, size_t len);
static void shim_output_close_stream(shim_output_t *o);
static void shim_output_dropped(shim_instance_t *inst);


static const char  *shim_output_streams[] = { "stdout", "stderr" };


void
shim_output_init(shim_instance_t *inst, const int fds[2])
{
    int  i;

    for (i = 0; i < 2; i++) {
        inst->output[i].inst = inst;
        inst->output[i].stream = i;
        inst->output[i].len = 0;
        shim_event_init(&inst->output[i].ev, fds[i], shim_output_handler,
                        &inst->output[i]);
    }
}


int
shim_output_watch(shim_instance_t *inst)
{
    int  i;

    for (i = 0; i < 2; i++) {
        if (shim_event_set(&inst->ctx->loop, &inst->output[i].ev, EPOLLIN)
            != 0)
        {
            return -1;
        }
    }

    return 0;
}


void
shim_output_drain(shim_instance_t *inst)
{
    int  i;

    /* bounded: a writer that never stops must not hold the loop */

    for (i = 0; i < 2; i++) {
        if (inst->output[i].ev.fd != -1) {
            (void) shim_output_read(&inst->output[i],
                                    16 * SHIM_OUTPUT_READ_MAX);
        }
    }

    /* what a call lost is said with the call's request id */
    shim_output_dropped(inst);
}


void
shim_output_close(shim_instance_t *inst)
{
    int  i;

    for (i = 0; i < 2; i++) {
        if (inst->output[i].ev.fd != -1) {
            shim_output_close_stream(&inst->output[i]);
        }
    }

    shim_output_dropped(inst);
}


static void
shim_output_dropped(shim_instance_t *inst)
{
    int   n;
    char  note[128];

    if (inst->output_dropped == 0) {
        return;
    }

    n = snprintf(note, sizeof(note), "[faas] %u lines of output dropped: "
                 "over %d lines a second, or nginx not reading",
                 inst->output_dropped, SHIM_OUTPUT_RATE);
    inst->output_dropped = 0;

    shim_output_emit(inst, 1, note, (size_t) n);
}


static void
shim_output_handler(shim_event_t *ev, uint32_t revents)
{
    shim_output_t  *o;

    (void) revents;

    o = ev->data;

    if (shim_output_read(o, SHIM_OUTPUT_READ_MAX) != 0) {
        shim_output_close_stream(o);
    }
}


/* 0: read what there was, or max bytes; -1: end of file or an error */
static int
shim_output_read(shim_output_t *o, size_t max)
{
    char     buf[16384], *p, *nl, *last;
    size_t   total, n;
    ssize_t  rc;

    for (total = 0; total < max; total += (size_t) rc) {
        rc = read(o->ev.fd, buf, sizeof(buf));

        if (rc == -1) {
            if (errno == EINTR) {
                rc = 0;
                continue;
            }

            return (errno == EAGAIN) ? 0 : -1;
        }

        if (rc == 0) {
            return -1;
        }

        p = buf;
        last = buf + rc;

        while (p < last) {
            nl = memchr(p, '\n', (size_t) (last - p));
            n = (size_t) ((nl ? nl : last) - p);

            /* a line over the limit goes out in pieces */

            while (o->len + n >= SHIM_OUTPUT_LINE_MAX) {
                memcpy(o->line + o->len, p, SHIM_OUTPUT_LINE_MAX - o->len);
                p += SHIM_OUTPUT_LINE_MAX - o->len;
                n -= SHIM_OUTPUT_LINE_MAX - o->len;
                shim_output_line(o, o->line, SHIM_OUTPUT_LINE_MAX);
                o->len = 0;
            }

            memcpy(o->line + o->len, p, n);
            o->len += n;
            p += n;

            if (nl != NULL) {
                shim_output_line(o, o->line, o->len);
                o->len = 0;
                p++;
            }
        }

        /*
         * A pipe gives all it holds: a short read emptied it, and what
         * comes later wakes epoll again (no read() just for EAGAIN).
         */

        if ((size_t) rc < sizeof(buf)) {
            return 0;
        }
    }

    return 0;
}


/* the rate limit: SHIM_OUTPUT_RATE lines in each second of an instance */
static void
shim_output_line(shim_output_t *o, const char *data, size_t len)
{
    uint64_t          now;
    shim_instance_t  *inst;

    inst = o->inst;
    now = shim_time_now();

    if (now - inst->output_window >= 1000000) {
        shim_output_dropped(inst);
        inst->output_window = now;
        inst->output_lines = 0;
    }

    if (inst->output_lines >= SHIM_OUTPUT_RATE) {
        inst->output_dropped++;
        return;
    }

    inst->output_lines++;

    shim_output_emit(inst, o->stream, data, len);
}


static void
shim_output_emit(shim_instance_t *inst, unsigned stream, const char *data,
    size_t len)
{
    char              line[SHIM_OUTPUT_LINE_MAX + 1];
    char              direct_id[33];
    size_t            i;
    shim_ctx_t       *ctx;
    const char       *rid, *name;
    shim_function_t  *fn;

    ctx = inst->ctx;
    fn = inst->function;

    if (len > 0 && data[len - 1] == '\r') {
        len--;
    }

    /* one line stays one line wherever it is written */

    for (i = 0; i < len; i++) {
        line[i] = ((unsigned char) data[i] < 0x20 && data[i] != '\t')
                  || data[i] == 0x7f ? '?' : data[i];
    }

    line[len] = '\0';

    /* with several calls in flight a line belongs to none of them */
    rid = (inst->active == 1)
          ? shim_queue_data(shim_queue_head(&inst->calls), shim_request_t,
                            call)->id
          : NULL;

    /*
     * A direct call: the worker left its id in the slot.  At concurrency
     * above 1 it is the latest call's, not necessarily the one that wrote.
     */

    if (rid == NULL && inst->active == 0 && inst->function->concurrency == 1
        && shim_instance_direct_in_flight(inst) > 0
        && shim_instance_direct_request_id(inst, direct_id) == 0)
    {
        rid = direct_id;
    }
    name = shim_output_streams[stream];

    switch (fn->output) {

    case SHIM_OUTPUT_OFF:
        return;

    case SHIM_OUTPUT_NGINX:
        if (shim_output_nginx(inst, name, rid, line, len) == 0) {
            return;
        }

        break;

    case SHIM_OUTPUT_FILE:
        shim_output_file(inst, name, rid, line, len);
        return;

    case SHIM_OUTPUT_SUPERVISOR:
        break;
    }

    shim_log_error(&ctx->log, stream ? SHIM_LOG_WARN : SHIM_LOG_NOTICE, 0,
                   SHIM_INST_FMT "%s%s%s%s: %s", SHIM_INST_ARGS(inst),
                   rid ? "request " : "", rid ? rid : "", rid ? ": " : "",
                   name, line);
}


/* 0: sent, or dropped as nginx does not keep up; -1: no worker to take it */
static int
shim_output_nginx(shim_instance_t *inst, const char *stream,
    const char *rid, char *line, size_t len)
{
    int          rc;
    size_t       i;
    json_t      *json, *text;
    shim_ctx_t  *ctx;

    ctx = inst->ctx;

    text = json_stringn(line, len);

    if (text == NULL) {
        /* not UTF-8: the bytes that may be part of the problem go */
        for (i = 0; i < len; i++) {
            if ((unsigned char) line[i] >= 0x80) {
                line[i] = '?';
            }
        }

        text = json_stringn(line, len);
        if (text == NULL) {
            return -1;
        }
    }

    json = json_pack("{s:s, s:I, s:s, s:o}",
                     "function", inst->function->name,
                     "instance", (json_int_t) inst->id,
                     "stream", stream,
                     "line", text);
    if (json == NULL) {
        return -1;
    }

    if (rid != NULL
        && json_object_set_new(json, "request_id", json_string(rid)) != 0)
    {
        json_decref(json);
        return -1;
    }

    rc = shim_control_log(ctx, json);

    json_decref(json);

    if (rc == SHIM_CONTROL_LOG_FULL) {
        inst->output_dropped++;
        return 0;
    }

    return (rc == SHIM_CONTROL_LOG_SENT) ? 0 : -1;
}


static void
shim_output_file(shim_instance_t *inst, const char *stream, const char *rid,
    const char *line, size_t len)
{
    int               n;
    char              head[512];
    time_t            now;
    struct tm         tm;
    struct iovec      iov[3];
    shim_function_t  *fn;

    fn = inst->function;

    if (fn->output_fd == -1) {
        fn->output_fd = open(fn->output_path,
                             O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC
                             | O_NOCTTY, 0640);

        if (fn->output_fd == -1) {
            shim_log_error(&inst->ctx->log, SHIM_LOG_ERROR, errno,
                           "function \"%s\": cannot open output log \"%s\", "
                           "using the supervisor's log", fn->name,
                           fn->output_path);
            fn->output = SHIM_OUTPUT_SUPERVISOR;
            shim_output_emit(inst, strcmp(stream, "stderr") == 0, line, len);
            return;
        }
    }

    now = time(NULL);
    localtime_r(&now, &tm);

    n = snprintf(head, sizeof(head), "%04d/%02d/%02d %02d:%02d:%02d "
                 SHIM_INST_FMT "%s%s%s%s: ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 SHIM_INST_ARGS(inst), rid ? "request " : "",
                 rid ? rid : "", rid ? ": " : "", stream);

    if (n < 0 || (size_t) n >= sizeof(head)) {
        n = (int) sizeof(head) - 1;
    }

    iov[0].iov_base = head;
    iov[0].iov_len = (size_t) n;
    iov[1].iov_base = (void *) line;
    iov[1].iov_len = len;
    iov[2].iov_base = "\n";
    iov[2].iov_len = 1;

    /* one write per line, O_APPEND: lines of instances never interleave */

    if (writev(fn->output_fd, iov, 3) == -1) {
        inst->output_dropped++;
    }
}


static void
shim_output_close_stream(shim_output_t *o)
{
    if (o->len > 0) {
        shim_output_line(o, o->line, o->len);
        o->len = 0;
    }

    shim_event_del(&o->inst->ctx->loop, &o->ev);
    close(o->ev.fd);
    o->ev.fd = -1;
}
