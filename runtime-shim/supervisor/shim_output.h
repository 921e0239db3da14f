/*
 * An instance's stdout and stderr: read from pipes, line by line, and sent
 * where the function's "output" says, each line with the function, the
 * instance and the request being served.
 *
 * The supervisor always reads what an instance writes, so a function that
 * writes without end never blocks on a full pipe; what it cannot pass on
 * (over SHIM_OUTPUT_RATE lines a second, or nginx not reading) is dropped
 * and counted, so nothing grows without bound.
 */

#ifndef SHIM_OUTPUT_H
#define SHIM_OUTPUT_H


#define SHIM_OUTPUT_LINE_MAX   2048       /* longer lines are split */
#define SHIM_OUTPUT_RATE       1000       /* lines a second, per instance */
#define SHIM_OUTPUT_READ_MAX   65536      /* bytes per stream and wake-up */


typedef struct {
    shim_event_t         ev;              /* fd -1: closed */
    shim_instance_t     *inst;
    unsigned             stream;          /* 0 stdout, 1 stderr */
    size_t               len;
    char                 line[SHIM_OUTPUT_LINE_MAX];
} shim_output_t;


/* takes the supervisor's ends of the pipes (non-blocking) */
void shim_output_init(shim_instance_t *inst, const int fds[2]);

/* starts reading; before, the pipes only fill */
int shim_output_watch(shim_instance_t *inst);

/* reads what is in the pipes now: before DONE, ERROR or a death counts */
void shim_output_drain(shim_instance_t *inst);

/* passes on a last partial line and closes the pipes */
void shim_output_close(shim_instance_t *inst);

#endif /* SHIM_OUTPUT_H */
