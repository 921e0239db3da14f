
/*
 * ngx_faas HTTP trigger: definitions shared by the files of
 * ngx_http_faas_module.
 */


#ifndef _NGX_HTTP_FAAS_MODULE_H_INCLUDED_
#define _NGX_HTTP_FAAS_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "faas_frame.h"


#define NGX_HTTP_FAAS_NAME_MAX        64
#define NGX_HTTP_FAAS_HASH_LEN        16     /* hex digits of a 64-bit hash */
#define NGX_HTTP_FAAS_REQUEST_ID_LEN  32


typedef struct ngx_http_faas_runtime_s  ngx_http_faas_runtime_t;


/* a handler or an initializer, in the runtime's terms */

typedef struct {
    ngx_str_t                       name;
    ngx_uint_t                      line;          /* 0: the default */
} ngx_http_faas_entry_t;


typedef struct {
    ngx_str_t                       name;
    ngx_str_t                       version;
    ngx_http_faas_runtime_t        *runtime;
    ngx_str_t                       code;
    ngx_http_faas_entry_t           handler;
    ngx_http_faas_entry_t           initializer;   /* name.len 0: none */
    ngx_flag_t                      debug;
    ngx_str_t                       output;        /* log_output */
    ngx_msec_t                      timeout;
    ngx_msec_t                      idle_timeout;
    ngx_msec_t                      queue_timeout;
    ngx_int_t                       max_instances;
    ngx_int_t                       min_instances;
    ngx_int_t                       prewarm;
    ngx_int_t                       max_requests;
    ngx_int_t                       concurrency;
    ngx_int_t                       threads;       /* of the c runtime */
    ngx_int_t                       queue_size;
    ngx_int_t                       overload_status;
    ngx_array_t                    *env;           /* of ngx_keyval_t */

    size_t                          memory;        /* the sandbox */
    size_t                          tmp_size;
    ngx_int_t                       pids;
    ngx_int_t                       cpu;           /* 1/1000 CPUs, 0: no
                                                      limit */
    ngx_flag_t                      network;
    ngx_str_t                       user;          /* data NULL: none */
    ngx_uid_t                       uid;
    ngx_gid_t                       gid;

    ngx_uint_t                      seccomp;       /* 1: the runtime's
                                                      allowlist, 0: base */

    ngx_str_t                       file;          /* where it is defined */
    ngx_uint_t                      line;

    ngx_queue_t                     direct;        /* connections kept to
                                                      its idle instances,
                                                      per worker */
    ngx_uint_t                      ndirect;
    ngx_uint_t                      nkept;         /* idle, claimed or in
                                                      a call */
    ngx_uint_t                      nquit;         /* of the idle ones,
                                                      quitting: at the last
                                                      claim that failed */
    ngx_uint_t                      direct_busy;   /* direct calls of this
                                                      worker in flight */
    ngx_queue_t                     waiters;       /* calls waiting for
                                                      one of those */
    ngx_uint_t                      nwaiters;
    ngx_event_t                     direct_poll;
    uint64_t                        direct_us;     /* a direct call takes,
                                                      on average */
} ngx_http_faas_function_t;


typedef struct {
    ngx_str_t                       supervisor;    /* "unix:/path" */
    ngx_addr_t                     *addr;
    ngx_http_upstream_srv_conf_t   *upstream;

    ngx_array_t                     functions;     /* in definition order */
    ngx_http_faas_function_t      **sorted;        /* by name, for lookups */
    ngx_array_t                     passes;        /* faas_pass directives */

    ngx_str_t                       generation;
    ngx_str_t                       functions_json;
} ngx_http_faas_main_conf_t;


typedef struct {
    ngx_http_upstream_conf_t        upstream;

    ngx_str_t                       name;          /* a literal faas_pass */
    ngx_http_faas_function_t       *function;
    ngx_http_complex_value_t       *function_name; /* faas_pass $variable */
    ngx_flag_t                      status;        /* faas_status */
    ngx_flag_t                      direct;        /* faas_direct_calls */
} ngx_http_faas_loc_conf_t;


typedef enum {
    ngx_http_faas_st_dispatch = 0,   /* DISPATCH, RESPONSE or ERROR next */
    ngx_http_faas_st_response,       /* RESPONSE or ERROR next */
    ngx_http_faas_st_body,           /* BODY* END */
    ngx_http_faas_st_error,          /* an ERROR frame is the response */
    ngx_http_faas_st_done
} ngx_http_faas_state_e;


typedef struct {
    ngx_http_request_t             *request;
    ngx_http_faas_function_t       *function;
    ngx_str_t                       name;
    u_char                          request_id[NGX_HTTP_FAAS_REQUEST_ID_LEN];
    size_t                          request_size;  /* REQUEST payload bound */

    ngx_http_faas_state_e           state;
    faas_frame_parser_t             parser;
    u_char                         *payload;       /* JSON frame payload */
    size_t                          payload_len;
    ngx_str_t                       error_body;
    off_t                           body_length;

    uint64_t                        instance;
    uint64_t                        pid;
    uint64_t                        queue_us;
    uint64_t                        start_us;
    ngx_uint_t                      layer;         /* DISPATCH "layer",
                                                      an index of
                                                      ngx_http_faas_layers */
    ngx_msec_t                      dispatch_time; /* DISPATCH arrived */
    ngx_msec_t                      end_time;      /* the response ended */

    ngx_chain_t                    *free;          /* request body filter */
    ngx_chain_t                    *busy;

    ngx_event_t                     deadline;      /* a direct call's
                                                      timeout */
    ngx_event_t                     wait;          /* for an instance of
                                                      this worker's */
    ngx_queue_t                     wait_link;     /* function->waiters */
    ngx_msec_t                      wait_start;
    ngx_msec_t                      wait_limit;
    void                           *kept;          /* claimed for the call */
    void                           *using;         /* in the call */
    uint64_t                        direct_start;  /* us */
    uint32_t                        slot;          /* the instance's, from
                                                      DISPATCH or kept */
    uint32_t                        slot_gen;
    ngx_uint_t                      map;           /* the table's, direct */

    unsigned                        dispatched:1;
    unsigned                        cold:1;
    unsigned                        prewarmed:1;
    unsigned                        ended:1;
    unsigned                        prometheus:1;  /* faas_status format */
    unsigned                        request_sent:1;
    unsigned                        body_sent:1;
    unsigned                        direct:1;      /* on a kept connection */
    unsigned                        slot_known:1;
    unsigned                        timed_out:1;   /* a direct call */
    unsigned                        trailing:1;    /* bytes after END */
    unsigned                        close:1;       /* RESPONSE said so */
    unsigned                        waiting:1;     /* in wait_link */
    unsigned                        wait_queue:1;  /* as in the function's
                                                      queue */
    unsigned                        wait_cleanup:1;
} ngx_http_faas_ctx_t;


/* the warm layers a call is served from, see docs/protocol.md, DISPATCH */
#define NGX_HTTP_FAAS_LAYER_WARM      0
#define NGX_HTTP_FAAS_LAYER_FUNCTION  1
#define NGX_HTTP_FAAS_LAYER_NONE      4

extern ngx_str_t  ngx_http_faas_layers[];


ngx_http_faas_function_t *ngx_http_faas_find_function(
    ngx_http_faas_main_conf_t *fmcf, ngx_str_t *name);
size_t ngx_http_faas_utf8_len(u_char *p, u_char *last);

ngx_int_t ngx_http_faas_handler(ngx_http_request_t *r);
char *ngx_http_faas_status_text(ngx_uint_t status);
ngx_int_t ngx_http_faas_status_handler(ngx_http_request_t *r);

ngx_int_t ngx_http_faas_control_init(ngx_cycle_t *cycle,
    ngx_http_faas_main_conf_t *fmcf);
void ngx_http_faas_control_done(ngx_cycle_t *cycle);
ngx_uint_t ngx_http_faas_control_ready(void);

ngx_int_t ngx_http_faas_add_variables(ngx_conf_t *cf);

ngx_int_t ngx_http_faas_direct_init_upstream(ngx_conf_t *cf,
    ngx_http_upstream_srv_conf_t *us);
void ngx_http_faas_direct_map(ngx_log_t *log, const char *path,
    const char *nonce);
void ngx_http_faas_direct_unmap(ngx_cycle_t *cycle);
void ngx_http_faas_direct_finalize(ngx_http_request_t *r,
    ngx_http_faas_ctx_t *ctx);
void ngx_http_faas_direct_start(ngx_http_request_t *r);
void ngx_http_faas_control_abandon(ngx_http_faas_ctx_t *ctx,
    ngx_msec_t after);


extern ngx_module_t  ngx_http_faas_module;


#endif /* _NGX_HTTP_FAAS_MODULE_H_INCLUDED_ */
