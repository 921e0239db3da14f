
/*
 * ngx_faas HTTP trigger: directives, configuration, the function table
 * and the registration payload sent to the supervisor.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>

#include "ngx_http_faas_module.h"


#define NGX_HTTP_FAAS_FNV_BASIS  0xcbf29ce484222325ULL
#define NGX_HTTP_FAAS_FNV_PRIME  0x100000001b3ULL

/* what the supervisor accepts, see shim_function.h */
#define NGX_HTTP_FAAS_ENTRY_MAX  1023
#define NGX_HTTP_FAAS_PATH_MAX   4095


/* returns NGX_CONF_OK or why the handler (or initializer) name is invalid */

typedef char *(*ngx_http_faas_check_entry_pt)(ngx_str_t *name);


struct ngx_http_faas_runtime_s {
    ngx_str_t                        name;
    ngx_str_t                        handler;      /* the default */
    ngx_http_faas_check_entry_pt     check;        /* handler, initializer */
    ngx_uint_t                       initializer;  /* can run one */
};


typedef struct {
    ngx_str_t                        name;     /* empty for a variable */
    ngx_http_faas_loc_conf_t        *conf;
    ngx_str_t                        file;
    ngx_uint_t                       line;
    ngx_uint_t                       status;   /* faas_status */
} ngx_http_faas_pass_t;


static ngx_int_t ngx_http_faas_init_process(ngx_cycle_t *cycle);
static void ngx_http_faas_exit_process(ngx_cycle_t *cycle);

static char *ngx_http_faas_supervisor(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_faas_function_block(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_faas_function_directive(ngx_conf_t *cf,
    ngx_command_t *dummy, void *conf);
static char *ngx_http_faas_runtime(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_faas_code(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_faas_entry(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_faas_log_output(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_faas_env(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_faas_check_timeout(ngx_conf_t *cf, void *post,
    void *data);
static char *ngx_http_faas_check_bounds(ngx_conf_t *cf, void *post,
    void *data);
static char *ngx_http_faas_overload_status(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_faas_cpu(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_faas_user(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_faas_check_entry(ngx_conf_t *cf,
    ngx_http_faas_function_t *fn, char *what, ngx_http_faas_entry_t *entry);
static char *ngx_http_faas_c_check(ngx_str_t *name);
static char *ngx_http_faas_python_check(ngx_str_t *name);
static char *ngx_http_faas_nodejs_check(ngx_str_t *name);
static char *ngx_http_faas_exec_check(ngx_str_t *name);
static ngx_int_t ngx_http_faas_identifier(u_char *p, u_char *last,
    ngx_uint_t dollar);
static char *ngx_http_faas_relative_path(u_char *p, u_char *last,
    ngx_uint_t empty_segments);
static char *ngx_http_faas_check_text(ngx_str_t *s, size_t max);
static char *ngx_http_faas_pass(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_faas_status(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

static ngx_int_t ngx_http_faas_valid_name(ngx_str_t *name);
static ngx_int_t ngx_http_faas_valid_utf8(ngx_str_t *s);
static void ngx_http_faas_conf_error(ngx_conf_t *cf, ngx_str_t *file,
    ngx_uint_t line, const char *fmt, ...);
static uint64_t ngx_http_faas_hash(uint64_t hash, u_char *p, size_t len);
static uint64_t ngx_http_faas_hash_field(uint64_t hash, char *name,
    ngx_str_t *value);
static uint64_t ngx_http_faas_hash_number(uint64_t hash, char *name,
    ngx_uint_t value);
static ngx_int_t ngx_http_faas_function_version(ngx_conf_t *cf,
    ngx_http_faas_function_t *fn);
static ngx_int_t ngx_http_faas_cmp_functions(const void *one,
    const void *two);
static ngx_int_t ngx_http_faas_build_registration(ngx_conf_t *cf,
    ngx_http_faas_main_conf_t *fmcf);
static json_t *ngx_http_faas_json_function(ngx_http_faas_function_t *fn);

static void *ngx_http_faas_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_faas_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_faas_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_faas_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);


static ngx_http_faas_runtime_t  ngx_http_faas_runtimes[] = {
    { ngx_string("c"), ngx_string("handle"), ngx_http_faas_c_check, 1 },
    { ngx_string("python3"), ngx_string("main.handle"),
      ngx_http_faas_python_check, 1 },
    { ngx_string("nodejs"), ngx_string("index.handler"),
      ngx_http_faas_nodejs_check, 1 },

    /* the program is the handler: it speaks the instance channel itself */
    { ngx_string("exec"), ngx_string("handler"), ngx_http_faas_exec_check,
      0 },

    { ngx_null_string, ngx_null_string, NULL, 0 }
};


static ngx_conf_post_t  ngx_http_faas_timeout_post =
    { ngx_http_faas_check_timeout };

static ngx_conf_num_bounds_t  ngx_http_faas_max_instances_bounds = {
    ngx_http_faas_check_bounds, 1, 10000
};

static ngx_conf_num_bounds_t  ngx_http_faas_min_instances_bounds = {
    ngx_http_faas_check_bounds, 0, 10000
};

static ngx_conf_num_bounds_t  ngx_http_faas_prewarm_bounds = {
    ngx_http_faas_check_bounds, 0, 10000
};

static ngx_conf_num_bounds_t  ngx_http_faas_max_requests_bounds = {
    ngx_http_faas_check_bounds, 0, 1000000000
};

static ngx_conf_num_bounds_t  ngx_http_faas_concurrency_bounds = {
    ngx_http_faas_check_bounds, 1, 1000
};

static ngx_conf_num_bounds_t  ngx_http_faas_threads_bounds = {
    ngx_http_faas_check_bounds, 1, 1000
};

static ngx_conf_num_bounds_t  ngx_http_faas_queue_size_bounds = {
    ngx_http_faas_check_bounds, 0, 1000000
};

/* the sandbox's limits: what the supervisor accepts, see shim_function.h */

static ngx_conf_num_bounds_t  ngx_http_faas_memory_bounds = {
    ngx_http_faas_check_bounds, 1024 * 1024, 1LL << 50
};

static ngx_conf_num_bounds_t  ngx_http_faas_tmp_size_bounds = {
    ngx_http_faas_check_bounds, 4096, 1LL << 50
};

static ngx_conf_num_bounds_t  ngx_http_faas_pids_bounds = {
    ngx_http_faas_check_bounds, 1, 4194304
};

/* the base filter is always there; "runtime" adds the runtime's allowlist */
static ngx_conf_enum_t  ngx_http_faas_seccomp_modes[] = {
    { ngx_string("runtime"), 1 },
    { ngx_string("base"), 0 },
    { ngx_null_string, 0 }
};


/* the directives of a faas_function { } block */

static ngx_command_t  ngx_http_faas_function_commands[] = {

    { ngx_string("runtime"),
      NGX_CONF_TAKE1,
      ngx_http_faas_runtime,
      0,
      0,
      NULL },

    { ngx_string("code"),
      NGX_CONF_TAKE1,
      ngx_http_faas_code,
      0,
      0,
      NULL },

    { ngx_string("handler"),
      NGX_CONF_TAKE1,
      ngx_http_faas_entry,
      0,
      offsetof(ngx_http_faas_function_t, handler),
      NULL },

    { ngx_string("initializer"),
      NGX_CONF_TAKE1,
      ngx_http_faas_entry,
      0,
      offsetof(ngx_http_faas_function_t, initializer),
      NULL },

    { ngx_string("debug"),
      NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      0,
      offsetof(ngx_http_faas_function_t, debug),
      NULL },

    { ngx_string("log_output"),
      NGX_CONF_TAKE1,
      ngx_http_faas_log_output,
      0,
      0,
      NULL },

    { ngx_string("timeout"),
      NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      0,
      offsetof(ngx_http_faas_function_t, timeout),
      &ngx_http_faas_timeout_post },

    { ngx_string("idle_timeout"),
      NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      0,
      offsetof(ngx_http_faas_function_t, idle_timeout),
      NULL },

    { ngx_string("max_instances"),
      NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      0,
      offsetof(ngx_http_faas_function_t, max_instances),
      &ngx_http_faas_max_instances_bounds },

    { ngx_string("min_instances"),
      NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      0,
      offsetof(ngx_http_faas_function_t, min_instances),
      &ngx_http_faas_min_instances_bounds },

    { ngx_string("prewarm"),
      NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      0,
      offsetof(ngx_http_faas_function_t, prewarm),
      &ngx_http_faas_prewarm_bounds },

    { ngx_string("max_requests"),
      NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      0,
      offsetof(ngx_http_faas_function_t, max_requests),
      &ngx_http_faas_max_requests_bounds },

    { ngx_string("concurrency"),
      NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      0,
      offsetof(ngx_http_faas_function_t, concurrency),
      &ngx_http_faas_concurrency_bounds },

    { ngx_string("threads"),
      NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      0,
      offsetof(ngx_http_faas_function_t, threads),
      &ngx_http_faas_threads_bounds },

    { ngx_string("overload_status"),
      NGX_CONF_TAKE1,
      ngx_http_faas_overload_status,
      0,
      0,
      NULL },

    { ngx_string("queue_size"),
      NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      0,
      offsetof(ngx_http_faas_function_t, queue_size),
      &ngx_http_faas_queue_size_bounds },

    { ngx_string("queue_timeout"),
      NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      0,
      offsetof(ngx_http_faas_function_t, queue_timeout),
      NULL },

    { ngx_string("memory"),
      NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      0,
      offsetof(ngx_http_faas_function_t, memory),
      &ngx_http_faas_memory_bounds },

    { ngx_string("pids"),
      NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      0,
      offsetof(ngx_http_faas_function_t, pids),
      &ngx_http_faas_pids_bounds },

    { ngx_string("cpu"),
      NGX_CONF_TAKE1,
      ngx_http_faas_cpu,
      0,
      0,
      NULL },

    { ngx_string("network"),
      NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      0,
      offsetof(ngx_http_faas_function_t, network),
      NULL },

    { ngx_string("tmp_size"),
      NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      0,
      offsetof(ngx_http_faas_function_t, tmp_size),
      &ngx_http_faas_tmp_size_bounds },

    { ngx_string("seccomp"),
      NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      0,
      offsetof(ngx_http_faas_function_t, seccomp),
      &ngx_http_faas_seccomp_modes },

    { ngx_string("user"),
      NGX_CONF_TAKE12,
      ngx_http_faas_user,
      0,
      0,
      NULL },

    { ngx_string("env"),
      NGX_CONF_TAKE2,
      ngx_http_faas_env,
      0,
      0,
      NULL },

      ngx_null_command
};


static ngx_command_t  ngx_http_faas_commands[] = {

    { ngx_string("faas_supervisor"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_faas_supervisor,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("faas_function"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_BLOCK|NGX_CONF_TAKE1,
      ngx_http_faas_function_block,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("faas_pass"),
      NGX_HTTP_LOC_CONF|NGX_HTTP_LIF_CONF|NGX_CONF_TAKE1,
      ngx_http_faas_pass,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("faas_status"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_faas_status,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("faas_connect_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_faas_loc_conf_t, upstream.connect_timeout),
      NULL },

    { ngx_string("faas_send_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_faas_loc_conf_t, upstream.send_timeout),
      NULL },

    { ngx_string("faas_read_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_faas_loc_conf_t, upstream.read_timeout),
      NULL },

    { ngx_string("faas_buffer_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_faas_loc_conf_t, upstream.buffer_size),
      NULL },

    { ngx_string("faas_request_buffering"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_faas_loc_conf_t, upstream.request_buffering),
      NULL },

    { ngx_string("faas_intercept_errors"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_faas_loc_conf_t, upstream.intercept_errors),
      NULL },

    { ngx_string("faas_ignore_client_abort"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_faas_loc_conf_t, upstream.ignore_client_abort),
      NULL },

    { ngx_string("faas_direct_calls"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_faas_loc_conf_t, direct),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_faas_module_ctx = {
    ngx_http_faas_add_variables,           /* preconfiguration */
    NULL,                                  /* postconfiguration */

    ngx_http_faas_create_main_conf,        /* create main configuration */
    ngx_http_faas_init_main_conf,          /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_faas_create_loc_conf,         /* create location configuration */
    ngx_http_faas_merge_loc_conf           /* merge location configuration */
};


ngx_module_t  ngx_http_faas_module = {
    NGX_MODULE_V1,
    &ngx_http_faas_module_ctx,             /* module context */
    ngx_http_faas_commands,                /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_faas_init_process,            /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_faas_exit_process,            /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


/*
 * A function may send anything, but it must not steer nginx itself:
 * the X-Accel-* controls are neither obeyed (see ignore_headers in
 * create_loc_conf) nor passed to the client.
 */

static ngx_str_t  ngx_http_faas_hide_headers[] = {
    ngx_string("Status"),
    ngx_string("X-Accel-Expires"),
    ngx_string("X-Accel-Redirect"),
    ngx_string("X-Accel-Limit-Rate"),
    ngx_string("X-Accel-Buffering"),
    ngx_string("X-Accel-Charset"),
    ngx_null_string
};


static ngx_int_t
ngx_http_faas_init_process(ngx_cycle_t *cycle)
{
    ngx_http_faas_main_conf_t  *fmcf;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    fmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_faas_module);

    if (fmcf == NULL
        || fmcf->supervisor.len == 0
        || fmcf->functions.nelts == 0)
    {
        return NGX_OK;
    }

    return ngx_http_faas_control_init(cycle, fmcf);
}


static void
ngx_http_faas_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_faas_control_done(cycle);
}


ngx_http_faas_function_t *
ngx_http_faas_find_function(ngx_http_faas_main_conf_t *fmcf, ngx_str_t *name)
{
    ngx_int_t                  rc;
    ngx_uint_t                 lo, hi, mid;
    ngx_http_faas_function_t  *fn;

    lo = 0;
    hi = fmcf->functions.nelts;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        fn = fmcf->sorted[mid];

        rc = ngx_memn2cmp(name->data, fn->name.data, name->len, fn->name.len);

        if (rc == 0) {
            return fn;
        }

        if (rc < 0) {
            hi = mid;

        } else {
            lo = mid + 1;
        }
    }

    return NULL;
}


static char *
ngx_http_faas_supervisor(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_faas_main_conf_t *fmcf = conf;

    ngx_str_t  *value;
    ngx_url_t   u;

    if (fmcf->supervisor.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len < sizeof("unix:") - 1
        || ngx_strncasecmp(value[1].data, (u_char *) "unix:",
                           sizeof("unix:") - 1)
           != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid supervisor address \"%V\": only "
                           "\"unix:\" addresses are supported", &value[1]);
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&u, sizeof(ngx_url_t));

    u.url = value[1];
    u.no_resolve = 1;

    /*
     * the same implicit upstream that proxy_pass makes of a literal URL:
     * one peer, and a new connection for every request, since each one
     * is handed over to a function instance (see ngx_http_faas_handler.c)
     */

    fmcf->upstream = ngx_http_upstream_add(cf, &u, 0);
    if (fmcf->upstream == NULL) {
        return NGX_CONF_ERROR;
    }

    /* connections kept to warm instances: ngx_http_faas_direct.c */

    fmcf->upstream->peer.init_upstream = ngx_http_faas_direct_init_upstream;

    fmcf->supervisor = value[1];
    fmcf->addr = &u.addrs[0];

    return NGX_CONF_OK;
}


static char *
ngx_http_faas_function_block(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_faas_main_conf_t *fmcf = conf;

    char                       *rv;
    ngx_str_t                  *value;
    ngx_uint_t                  i;
    ngx_conf_t                  save;
    ngx_http_faas_function_t   *fn, **fnp;

    value = cf->args->elts;

    if (ngx_http_faas_valid_name(&value[1]) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid function name \"%V\": it must be 1 to %d "
                           "of the characters A-Z a-z 0-9 _ . -",
                           &value[1], NGX_HTTP_FAAS_NAME_MAX);
        return NGX_CONF_ERROR;
    }

    fnp = fmcf->functions.elts;

    for (i = 0; i < fmcf->functions.nelts; i++) {
        if (fnp[i]->name.len == value[1].len
            && ngx_strncmp(fnp[i]->name.data, value[1].data, value[1].len)
               == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate faas_function \"%V\", previously "
                               "defined in %V:%ui",
                               &value[1], &fnp[i]->file, fnp[i]->line);
            return NGX_CONF_ERROR;
        }
    }

    fn = ngx_pcalloc(cf->pool, sizeof(ngx_http_faas_function_t));
    if (fn == NULL) {
        return NGX_CONF_ERROR;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     fn->runtime = NULL;
     *     fn->code = { 0, NULL };
     *     fn->handler = { { 0, NULL }, 0 };
     *     fn->initializer = { { 0, NULL }, 0 };
     *     fn->output = { 0, NULL };
     *     fn->env = NULL;
     *     fn->user = { 0, NULL };
     */

    fn->name = value[1];
    fn->timeout = NGX_CONF_UNSET_MSEC;
    fn->idle_timeout = NGX_CONF_UNSET_MSEC;
    fn->queue_timeout = NGX_CONF_UNSET_MSEC;
    fn->memory = NGX_CONF_UNSET_SIZE;
    fn->tmp_size = NGX_CONF_UNSET_SIZE;
    fn->pids = NGX_CONF_UNSET;
    fn->cpu = NGX_CONF_UNSET;
    fn->network = NGX_CONF_UNSET;
    fn->seccomp = NGX_CONF_UNSET_UINT;
    fn->max_instances = NGX_CONF_UNSET;
    fn->min_instances = NGX_CONF_UNSET;
    fn->prewarm = NGX_CONF_UNSET;
    fn->max_requests = NGX_CONF_UNSET;
    fn->concurrency = NGX_CONF_UNSET;
    fn->threads = NGX_CONF_UNSET;
    fn->queue_size = NGX_CONF_UNSET;
    fn->overload_status = NGX_CONF_UNSET;
    fn->debug = NGX_CONF_UNSET;
    fn->file = cf->conf_file->file.name;
    fn->line = cf->conf_file->line;

    save = *cf;
    cf->handler = ngx_http_faas_function_directive;
    cf->handler_conf = (char *) fn;

    rv = ngx_conf_parse(cf, NULL);

    *cf = save;

    if (rv != NGX_CONF_OK) {
        return rv;
    }

    if (fn->runtime == NULL) {
        ngx_http_faas_conf_error(cf, &fn->file, fn->line,
                                 "faas_function \"%V\" has no \"runtime\"",
                                 &fn->name);
        return NGX_CONF_ERROR;
    }

    if (fn->code.data == NULL) {
        ngx_http_faas_conf_error(cf, &fn->file, fn->line,
                                 "faas_function \"%V\" has no \"code\"",
                                 &fn->name);
        return NGX_CONF_ERROR;
    }

    if (fn->handler.name.data == NULL) {
        fn->handler.name = fn->runtime->handler;
    }

    if (fn->output.data == NULL) {
        ngx_str_set(&fn->output, "nginx");
    }

    ngx_conf_init_msec_value(fn->timeout, 30000);
    ngx_conf_init_msec_value(fn->idle_timeout, 60000);
    ngx_conf_init_msec_value(fn->queue_timeout, 10000);
    ngx_conf_init_size_value(fn->memory, 256 * 1024 * 1024);
    ngx_conf_init_size_value(fn->tmp_size, 16 * 1024 * 1024);
    ngx_conf_init_value(fn->pids, 64);
    ngx_conf_init_value(fn->cpu, 0);
    ngx_conf_init_value(fn->network, 0);

    /* an exec program cannot be trusted to load an allowlist itself */

    if (fn->runtime->name.len == 4
        && ngx_strncmp(fn->runtime->name.data, "exec", 4) == 0)
    {
        if (fn->seccomp == 1) {
            ngx_http_faas_conf_error(cf, &fn->file, fn->line,
                                     "faas_function \"%V\": \"seccomp "
                                     "runtime\" is not supported by the exec "
                                     "runtime, which runs under the base "
                                     "filter only", &fn->name);
            return NGX_CONF_ERROR;
        }

        fn->seccomp = 0;
    }

    ngx_conf_init_uint_value(fn->seccomp, 1);
    ngx_conf_init_value(fn->max_instances, 8);
    ngx_conf_init_value(fn->min_instances, 0);
    ngx_conf_init_value(fn->prewarm, 0);
    ngx_conf_init_value(fn->max_requests, 0);
    ngx_conf_init_value(fn->concurrency, 1);

    /* threads: how many of those calls the c runtime runs at once */

    if (fn->threads != NGX_CONF_UNSET
        && ngx_strcmp(fn->runtime->name.data, "c") != 0)
    {
        ngx_http_faas_conf_error(cf, &fn->file, fn->line,
                                 "faas_function \"%V\": \"threads\" is "
                                 "for the c runtime only, not %V",
                                 &fn->name, &fn->runtime->name);
        return NGX_CONF_ERROR;
    }

    if (fn->threads != NGX_CONF_UNSET && fn->threads > fn->concurrency) {
        ngx_http_faas_conf_error(cf, &fn->file, fn->line,
                                 "faas_function \"%V\": \"threads\" %i "
                                 "is greater than \"concurrency\" %i",
                                 &fn->name, fn->threads, fn->concurrency);
        return NGX_CONF_ERROR;
    }

    ngx_conf_init_value(fn->threads, fn->concurrency);
    ngx_conf_init_value(fn->queue_size, 64);
    ngx_conf_init_value(fn->overload_status, NGX_HTTP_SERVICE_UNAVAILABLE);
    ngx_conf_init_value(fn->debug, 0);

    if (fn->min_instances > fn->max_instances) {
        ngx_http_faas_conf_error(cf, &fn->file, fn->line,
                                 "faas_function \"%V\": \"min_instances\" "
                                 "%i is greater than \"max_instances\" %i",
                                 &fn->name, fn->min_instances,
                                 fn->max_instances);
        return NGX_CONF_ERROR;
    }

    if (fn->prewarm > fn->max_instances) {
        ngx_http_faas_conf_error(cf, &fn->file, fn->line,
                                 "faas_function \"%V\": \"prewarm\" "
                                 "%i is greater than \"max_instances\" %i",
                                 &fn->name, fn->prewarm, fn->max_instances);
        return NGX_CONF_ERROR;
    }

    if (ngx_http_faas_check_entry(cf, fn, "handler", &fn->handler)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (fn->initializer.name.data) {

        if (!fn->runtime->initializer) {
            ngx_http_faas_conf_error(cf, &fn->file, fn->initializer.line,
                                     "faas_function \"%V\": the %V runtime "
                                     "has no initializer",
                                     &fn->name, &fn->runtime->name);
            return NGX_CONF_ERROR;
        }

        if (ngx_http_faas_check_entry(cf, fn, "initializer",
                                      &fn->initializer)
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }
    }

    if (ngx_http_faas_function_version(cf, fn) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    fnp = ngx_array_push(&fmcf->functions);
    if (fnp == NULL) {
        return NGX_CONF_ERROR;
    }

    *fnp = fn;

    return NGX_CONF_OK;
}


static char *
ngx_http_faas_function_directive(ngx_conf_t *cf, ngx_command_t *dummy,
    void *conf)
{
    ngx_http_faas_function_t *fn = conf;

    char           *rv;
    ngx_str_t      *value;
    ngx_uint_t      nargs;
    ngx_command_t  *cmd;

    value = cf->args->elts;

    for (cmd = ngx_http_faas_function_commands; cmd->name.len; cmd++) {

        if (cmd->name.len != value[0].len
            || ngx_strncmp(cmd->name.data, value[0].data, value[0].len) != 0)
        {
            continue;
        }

        /* TAKE12 ("user NAME [GROUP]") takes either */

        nargs = cf->args->nelts - 1;

        if (!((nargs == 1 && (cmd->type & (NGX_CONF_TAKE1|NGX_CONF_FLAG)))
              || (nargs == 2 && (cmd->type & NGX_CONF_TAKE2))))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid number of arguments in \"%V\" "
                               "directive of faas_function \"%V\"",
                               &value[0], &fn->name);
            return NGX_CONF_ERROR;
        }

        rv = cmd->set(cf, cmd, fn);

        if (rv == NGX_CONF_OK || rv == NGX_CONF_ERROR) {
            return rv;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\" directive %s",
                           &value[0], rv);

        return NGX_CONF_ERROR;
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "unknown directive \"%V\" in faas_function \"%V\"",
                       &value[0], &fn->name);

    return NGX_CONF_ERROR;
}


static char *
ngx_http_faas_runtime(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_faas_function_t *fn = conf;

    ngx_str_t                *value;
    ngx_http_faas_runtime_t  *rt;

    if (fn->runtime) {
        return "is duplicate";
    }

    value = cf->args->elts;

    for (rt = ngx_http_faas_runtimes; rt->name.len; rt++) {
        if (rt->name.len == value[1].len
            && ngx_strncmp(rt->name.data, value[1].data, value[1].len) == 0)
        {
            fn->runtime = rt;
            return NGX_CONF_OK;
        }
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "unknown runtime \"%V\"",
                       &value[1]);

    return NGX_CONF_ERROR;
}


static char *
ngx_http_faas_code(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_faas_function_t *fn = conf;

    u_char           *p;
    ngx_str_t        *value, path;
    ngx_file_info_t   fi;

    if (fn->code.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    path = value[1];

    if (path.len == 0) {
        return "is empty";
    }

    if (ngx_conf_full_name(cf->cycle, &path, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    /* one spelling per directory: its version must not depend on a "/" */

    while (path.len > 1 && path.data[path.len - 1] == '/') {
        path.len--;
    }

    p = ngx_pnalloc(cf->pool, path.len + 1);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memcpy(p, path.data, path.len);
    p[path.len] = '\0';
    path.data = p;

    if (ngx_http_faas_valid_utf8(&path) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "code directory \"%V\" is not valid UTF-8", &path);
        return NGX_CONF_ERROR;
    }

    if (ngx_file_info(path.data, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "code directory \"%V\" of faas_function \"%V\" "
                           "is not accessible", &path, &fn->name);
        return NGX_CONF_ERROR;
    }

    if (!ngx_is_dir(&fi)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "code directory \"%V\" of faas_function \"%V\" "
                           "is not a directory", &path, &fn->name);
        return NGX_CONF_ERROR;
    }

    fn->code = path;

    return NGX_CONF_OK;
}


/* handler, initializer: checked once the block has named the runtime */

static char *
ngx_http_faas_entry(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    ngx_str_t              *value;
    ngx_http_faas_entry_t  *entry;

    entry = (ngx_http_faas_entry_t *) (p + cmd->offset);

    if (entry->name.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    entry->name = value[1];
    entry->line = cf->conf_file->line;

    return NGX_CONF_OK;
}


/* where the function's stdout and stderr lines go */

static char *
ngx_http_faas_log_output(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_faas_function_t *fn = conf;

    char       *rv;
    ngx_str_t  *value;

    if (fn->output.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "nginx") == 0
        || ngx_strcmp(value[1].data, "supervisor") == 0
        || ngx_strcmp(value[1].data, "off") == 0)
    {
        fn->output = value[1];
        return NGX_CONF_OK;
    }

    /*
     * The supervisor opens the file, from its own working directory:
     * a relative path would depend on where it was started.
     */

    if (value[1].data[0] != '/') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid log_output \"%V\" of faas_function "
                           "\"%V\": it must be nginx, supervisor, off or an "
                           "absolute file path", &value[1], &fn->name);
        return NGX_CONF_ERROR;
    }

    rv = ngx_http_faas_check_text(&value[1], NGX_HTTP_FAAS_PATH_MAX);

    if (rv != NGX_CONF_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid log_output \"%V\" of faas_function "
                           "\"%V\": %s", &value[1], &fn->name, rv);
        return NGX_CONF_ERROR;
    }

    fn->output = value[1];

    return NGX_CONF_OK;
}


static char *
ngx_http_faas_env(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_faas_function_t *fn = conf;

    u_char        c;
    ngx_str_t    *value;
    ngx_uint_t    i;
    ngx_keyval_t *kv;

    value = cf->args->elts;

    for (i = 0; i < value[1].len; i++) {
        c = value[1].data[i];

        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'
            || (i > 0 && c >= '0' && c <= '9'))
        {
            continue;
        }

        break;
    }

    if (value[1].len == 0 || i != value[1].len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid environment variable name \"%V\"",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    if (ngx_http_faas_valid_utf8(&value[2]) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "value of environment variable \"%V\" is not "
                           "valid UTF-8", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (fn->env == NULL) {
        fn->env = ngx_array_create(cf->pool, 4, sizeof(ngx_keyval_t));
        if (fn->env == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    kv = fn->env->elts;

    for (i = 0; i < fn->env->nelts; i++) {
        if (kv[i].key.len == value[1].len
            && ngx_strncmp(kv[i].key.data, value[1].data, value[1].len) == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate environment variable \"%V\"",
                               &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    kv = ngx_array_push(fn->env);
    if (kv == NULL) {
        return NGX_CONF_ERROR;
    }

    kv->key = value[1];
    kv->value = value[2];

    return NGX_CONF_OK;
}


static char *
ngx_http_faas_check_timeout(ngx_conf_t *cf, void *post, void *data)
{
    ngx_msec_t  *msp = data;

    if (*msp == 0) {
        return "must be greater than 0";
    }

    return NGX_CONF_OK;
}


/* as ngx_conf_check_num_bounds(), but the message names the directive */

static char *
ngx_http_faas_check_bounds(ngx_conf_t *cf, void *post, void *data)
{
    ngx_conf_num_bounds_t  *bounds = post;
    ngx_int_t              *np = data;

    u_char  *p;

    if (*np >= bounds->low && *np <= bounds->high) {
        return NGX_CONF_OK;
    }

    p = ngx_pnalloc(cf->pool, sizeof("must be between  and ")
                              + 2 * NGX_INT_T_LEN);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    *ngx_sprintf(p, "must be between %i and %i", bounds->low, bounds->high)
        = '\0';

    return (char *) p;
}


/* overload is a queue that is full or a wait that timed out */

static char *
ngx_http_faas_overload_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_faas_function_t *fn = conf;

    ngx_int_t   n;
    ngx_str_t  *value;

    if (fn->overload_status != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    n = ngx_atoi(value[1].data, value[1].len);

    if (n != NGX_HTTP_SERVICE_UNAVAILABLE && n != NGX_HTTP_TOO_MANY_REQUESTS) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid overload_status \"%V\" of faas_function "
                           "\"%V\": it must be 503 or 429",
                           &value[1], &fn->name);
        return NGX_CONF_ERROR;
    }

    fn->overload_status = n;

    return NGX_CONF_OK;
}


/* "cpu 0.5": the CPU time an instance may use, in CPUs, to 1/1000 */

static char *
ngx_http_faas_cpu(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_faas_function_t *fn = conf;

    ngx_int_t   n;
    ngx_str_t  *value;

    if (fn->cpu != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 3 && ngx_strncmp(value[1].data, "off", 3) == 0) {
        fn->cpu = 0;
        return NGX_CONF_OK;
    }

    n = ngx_atofp(value[1].data, value[1].len, 3);

    if (n < 10 || n > 1024000) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid cpu \"%V\" of faas_function \"%V\": "
                           "it must be \"off\" or 0.01 to 1024 CPUs, "
                           "e.g. 0.5", &value[1], &fn->name);
        return NGX_CONF_ERROR;
    }

    fn->cpu = n;

    return NGX_CONF_OK;
}


/*
 * Resolved here, like nginx's own "user", so that nginx -t names an
 * unknown user; the supervisor gets numbers and checks them again.
 */

static char *
ngx_http_faas_user(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_faas_function_t *fn = conf;

    ngx_str_t      *value;
    struct group   *grp;
    struct passwd  *pwd;

    if (fn->user.data != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    ngx_set_errno(0);
    pwd = getpwnam((const char *) value[1].data);

    if (pwd == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "unknown user \"%V\" of faas_function \"%V\"",
                           &value[1], &fn->name);
        return NGX_CONF_ERROR;
    }

    fn->user = value[1];
    fn->uid = pwd->pw_uid;
    fn->gid = pwd->pw_gid;

    if (cf->args->nelts == 3) {
        ngx_set_errno(0);
        grp = getgrnam((const char *) value[2].data);

        if (grp == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                               "unknown group \"%V\" of faas_function "
                               "\"%V\"", &value[2], &fn->name);
            return NGX_CONF_ERROR;
        }

        fn->gid = grp->gr_gid;
    }

    /* function code is untrusted: root would undo the sandbox */

    if (fn->uid == 0 || fn->gid == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "faas_function \"%V\" must not run as root: "
                           "\"%V\" is %s 0", &fn->name,
                           fn->uid == 0 ? &value[1] : &value[2],
                           fn->uid == 0 ? "uid" : "gid");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * A handler or an initializer: what every runtime needs (the supervisor
 * takes 1 to 1023 printable characters), then the runtime's own syntax.
 * The error names the directive's line, or the block's for the default.
 */

static ngx_int_t
ngx_http_faas_check_entry(ngx_conf_t *cf, ngx_http_faas_function_t *fn,
    char *what, ngx_http_faas_entry_t *entry)
{
    char  *rv;

    rv = ngx_http_faas_check_text(&entry->name, NGX_HTTP_FAAS_ENTRY_MAX);

    if (rv == NGX_CONF_OK) {
        rv = fn->runtime->check(&entry->name);
    }

    if (rv == NGX_CONF_OK) {
        return NGX_OK;
    }

    ngx_http_faas_conf_error(cf, &fn->file,
                             entry->line ? entry->line : fn->line,
                             "faas_function \"%V\": invalid %s \"%V\" for "
                             "runtime \"%V\": %s",
                             &fn->name, what, &entry->name,
                             &fn->runtime->name, rv);

    return NGX_ERROR;
}


/* runtime c: "[FILE.so:]SYMBOL", FILE relative to the code directory */

static char *
ngx_http_faas_c_check(ngx_str_t *name)
{
    u_char     *p, *last, *colon;
    ngx_str_t   file, symbol;

    p = name->data;
    last = p + name->len;

    colon = ngx_strlchr(p, last, ':');

    if (colon) {
        file.data = p;
        file.len = colon - p;
        symbol.data = colon + 1;
        symbol.len = last - colon - 1;

    } else {
        ngx_str_null(&file);
        symbol = *name;
    }

    if (symbol.len == 0) {
        return "no symbol";
    }

    if (ngx_http_faas_identifier(symbol.data, symbol.data + symbol.len, 0)
        != NGX_OK)
    {
        return "the symbol is not a C identifier";
    }

    if (colon == NULL) {
        return NGX_CONF_OK;
    }

    if (file.len <= sizeof(".so") - 1
        || ngx_strncmp(file.data + file.len - 3, ".so", 3) != 0)
    {
        return "the file name must end with \".so\"";
    }

    return ngx_http_faas_relative_path(file.data, file.data + file.len, 1);
}


/*
 * runtime python3: "MODULE.FUNCTION", the module may be dotted
 * ("pkg.mod.func" imports pkg.mod from the code directory)
 */

static char *
ngx_http_faas_python_check(ngx_str_t *name)
{
    u_char      *p, *last, *dot, *end;
    ngx_uint_t   parts;

    p = name->data;
    last = p + name->len;
    parts = 0;

    for ( ;; ) {
        dot = ngx_strlchr(p, last, '.');
        end = dot ? dot : last;

        if (end == p) {
            return "a dot-separated part is empty";
        }

        if (ngx_http_faas_identifier(p, end, 0) != NGX_OK) {
            return "each dot-separated part must be a Python identifier: "
                   "ASCII letters, digits and \"_\", not starting with a "
                   "digit";
        }

        parts++;

        if (dot == NULL) {
            break;
        }

        p = dot + 1;
    }

    if (parts < 2) {
        return "it must be MODULE.FUNCTION, like main.handle";
    }

    return NGX_CONF_OK;
}


/*
 * runtime nodejs: "FILE.FUNCTION", split at the last dot; the runtime
 * adds ".js" (or ".cjs") to FILE, relative to the code directory
 */

static char *
ngx_http_faas_nodejs_check(ngx_str_t *name)
{
    u_char  *p, *last, *dot;

    p = name->data;
    last = p + name->len;

    for (dot = last; dot > p; dot--) {
        if (dot[-1] == '.') {
            break;
        }
    }

    if (dot == p) {
        return "it must be FILE.FUNCTION, like index.handler";
    }

    /* dot is past the last '.' */

    if (dot == last) {
        return "no function after the last \".\"";
    }

    if (ngx_http_faas_identifier(dot, last, 1) != NGX_OK) {
        return "the function is not a JavaScript identifier: ASCII "
               "letters, digits, \"_\" and \"$\", not starting with a digit";
    }

    if (dot - 1 == p) {
        return "no file before the last \".\"";
    }

    return ngx_http_faas_relative_path(p, dot - 1, 0);
}


/* runtime exec: the executable, absolute or relative to the code directory */

static char *
ngx_http_faas_exec_check(ngx_str_t *name)
{
    if (name->data[0] == '/') {
        return NGX_CONF_OK;
    }

    return ngx_http_faas_relative_path(name->data, name->data + name->len, 1);
}


/* ASCII letters, digits, "_" (and "$" for JavaScript), no leading digit */

static ngx_int_t
ngx_http_faas_identifier(u_char *p, u_char *last, ngx_uint_t dollar)
{
    u_char  c, *start;

    if (p == last) {
        return NGX_ERROR;
    }

    for (start = p; p < last; p++) {
        c = *p;

        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'
            || (dollar && c == '$')
            || (p > start && c >= '0' && c <= '9'))
        {
            continue;
        }

        return NGX_ERROR;
    }

    return NGX_OK;
}


/* a file below the code directory: no way out of it */

static char *
ngx_http_faas_relative_path(u_char *p, u_char *last,
    ngx_uint_t empty_segments)
{
    u_char  *slash, *end;

    if (*p == '/') {
        return "the file must be relative to the code directory";
    }

    for ( ;; ) {
        slash = ngx_strlchr(p, last, '/');
        end = slash ? slash : last;

        if (end - p == 2 && p[0] == '.' && p[1] == '.') {
            return "the file must not contain \"..\"";
        }

        if (end == p && !empty_segments) {
            return "the file has an empty path segment";
        }

        if (slash == NULL) {
            return NGX_CONF_OK;
        }

        p = slash + 1;
    }
}


/* what goes to the supervisor: it ends up in the JSON, logs and argv */

static char *
ngx_http_faas_check_text(ngx_str_t *s, size_t max)
{
    ngx_uint_t  i;

    if (s->len == 0) {
        return "it is empty";
    }

    if (s->len > max) {
        return (max == NGX_HTTP_FAAS_ENTRY_MAX)
               ? "it is longer than 1023 bytes"
               : "it is longer than 4095 bytes";
    }

    if (ngx_http_faas_valid_utf8(s) != NGX_OK) {
        return "it is not valid UTF-8";
    }

    for (i = 0; i < s->len; i++) {
        if (s->data[i] < 0x20 || s->data[i] == 0x7f) {
            return "it contains a control character";
        }
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_faas_pass(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_faas_loc_conf_t *flcf = conf;

    ngx_str_t                         *value;
    ngx_http_faas_pass_t              *pass;
    ngx_http_core_loc_conf_t          *clcf;
    ngx_http_faas_main_conf_t         *fmcf;
    ngx_http_compile_complex_value_t   ccv;

    if (flcf->name.data || flcf->function_name) {
        return "is duplicate";
    }

    if (flcf->status == 1) {
        return "cannot be used with \"faas_status\" in one location";
    }

    value = cf->args->elts;

    fmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_faas_module);

    pass = ngx_array_push(&fmcf->passes);
    if (pass == NULL) {
        return NGX_CONF_ERROR;
    }

    pass->conf = flcf;
    pass->file = cf->conf_file->file.name;
    pass->line = cf->conf_file->line;
    pass->status = 0;
    ngx_str_null(&pass->name);

    if (ngx_http_script_variables_count(&value[1])) {

        flcf->function_name = ngx_palloc(cf->pool,
                                         sizeof(ngx_http_complex_value_t));
        if (flcf->function_name == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

        ccv.cf = cf;
        ccv.value = &value[1];
        ccv.complex_value = flcf->function_name;

        if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

    } else {

        if (ngx_http_faas_valid_name(&value[1]) != NGX_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid function name \"%V\"", &value[1]);
            return NGX_CONF_ERROR;
        }

        /* resolved in init_main_conf, when every faas_function is known */

        flcf->name = value[1];
        pass->name = value[1];
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    clcf->handler = ngx_http_faas_handler;

    if (clcf->name.len && clcf->name.data[clcf->name.len - 1] == '/') {
        clcf->auto_redirect = 1;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_faas_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_faas_loc_conf_t *flcf = conf;

    ngx_http_faas_pass_t       *pass;
    ngx_http_core_loc_conf_t   *clcf;
    ngx_http_faas_main_conf_t  *fmcf;

    if (flcf->status != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    if (flcf->name.data || flcf->function_name) {
        return "cannot be used with \"faas_pass\" in one location";
    }

    fmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_faas_module);

    /* the check that faas_supervisor is there covers it too */

    pass = ngx_array_push(&fmcf->passes);
    if (pass == NULL) {
        return NGX_CONF_ERROR;
    }

    pass->conf = flcf;
    pass->file = cf->conf_file->file.name;
    pass->line = cf->conf_file->line;
    pass->status = 1;
    ngx_str_null(&pass->name);

    flcf->status = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    clcf->handler = ngx_http_faas_status_handler;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_faas_valid_name(ngx_str_t *name)
{
    u_char      c;
    ngx_uint_t  i;

    if (name->len == 0 || name->len > NGX_HTTP_FAAS_NAME_MAX) {
        return NGX_ERROR;
    }

    for (i = 0; i < name->len; i++) {
        c = name->data[i];

        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
            || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-')
        {
            continue;
        }

        return NGX_ERROR;
    }

    return NGX_OK;
}


/* whatever goes into the REGISTER JSON must be UTF-8, as jansson demands */

static ngx_int_t
ngx_http_faas_valid_utf8(ngx_str_t *s)
{
    size_t   n;
    u_char  *p, *last;

    p = s->data;
    last = p + s->len;

    while (p < last) {
        n = ngx_http_faas_utf8_len(p, last);

        if (n == 0 || *p == '\0') {
            return NGX_ERROR;
        }

        p += n;
    }

    return NGX_OK;
}


/* reports an error at a saved file:line, as ngx_conf_log_error() does */

static void
ngx_http_faas_conf_error(ngx_conf_t *cf, ngx_str_t *file, ngx_uint_t line,
    const char *fmt, ...)
{
    u_char   *p, errstr[NGX_MAX_CONF_ERRSTR];
    va_list   args;

    va_start(args, fmt);
    p = ngx_vslprintf(errstr, errstr + NGX_MAX_CONF_ERRSTR, fmt, args);
    va_end(args);

    ngx_log_error(NGX_LOG_EMERG, cf->log, 0, "%*s in %V:%ui",
                  p - errstr, errstr, file, line);
}


/* FNV-1a, 64 bits */

static uint64_t
ngx_http_faas_hash(uint64_t hash, u_char *p, size_t len)
{
    while (len--) {
        hash ^= *p++;
        hash *= NGX_HTTP_FAAS_FNV_PRIME;
    }

    return hash;
}


/* "name\0value\0": values never hold a NUL, so fields cannot run together */

static uint64_t
ngx_http_faas_hash_field(uint64_t hash, char *name, ngx_str_t *value)
{
    hash = ngx_http_faas_hash(hash, (u_char *) name, ngx_strlen(name) + 1);
    hash = ngx_http_faas_hash(hash, value->data, value->len);

    return ngx_http_faas_hash(hash, (u_char *) "", 1);
}


static uint64_t
ngx_http_faas_hash_number(uint64_t hash, char *name, ngx_uint_t value)
{
    u_char     buf[NGX_INT_T_LEN];
    ngx_str_t  s;

    s.data = buf;
    s.len = ngx_sprintf(buf, "%ui", value) - buf;

    return ngx_http_faas_hash_field(hash, name, &s);
}


static ngx_int_t
ngx_http_faas_function_version(ngx_conf_t *cf, ngx_http_faas_function_t *fn)
{
    uint64_t       hash;
    ngx_uint_t     i;
    ngx_keyval_t  *kv;

    hash = NGX_HTTP_FAAS_FNV_BASIS;

    hash = ngx_http_faas_hash_field(hash, "runtime", &fn->runtime->name);
    hash = ngx_http_faas_hash_field(hash, "code", &fn->code);
    hash = ngx_http_faas_hash_field(hash, "handler", &fn->handler.name);

    if (fn->initializer.name.len) {
        hash = ngx_http_faas_hash_field(hash, "initializer",
                                        &fn->initializer.name);
    }

    hash = ngx_http_faas_hash_number(hash, "debug", fn->debug);
    hash = ngx_http_faas_hash_field(hash, "output", &fn->output);
    hash = ngx_http_faas_hash_number(hash, "timeout", fn->timeout);
    hash = ngx_http_faas_hash_number(hash, "idle_timeout", fn->idle_timeout);
    hash = ngx_http_faas_hash_number(hash, "max_instances",
                                     fn->max_instances);
    hash = ngx_http_faas_hash_number(hash, "min_instances",
                                     fn->min_instances);
    hash = ngx_http_faas_hash_number(hash, "prewarm", fn->prewarm);
    hash = ngx_http_faas_hash_number(hash, "max_requests", fn->max_requests);
    /* the runtime sizes itself for it when it loads */
    hash = ngx_http_faas_hash_number(hash, "concurrency", fn->concurrency);
    hash = ngx_http_faas_hash_number(hash, "threads", fn->threads);
    hash = ngx_http_faas_hash_number(hash, "queue_size", fn->queue_size);
    hash = ngx_http_faas_hash_number(hash, "overload_status",
                                     fn->overload_status);
    hash = ngx_http_faas_hash_number(hash, "queue_timeout",
                                     fn->queue_timeout);
    hash = ngx_http_faas_hash_number(hash, "memory", fn->memory);
    hash = ngx_http_faas_hash_number(hash, "tmp_size", fn->tmp_size);
    hash = ngx_http_faas_hash_number(hash, "pids", fn->pids);
    hash = ngx_http_faas_hash_number(hash, "cpu", fn->cpu);
    hash = ngx_http_faas_hash_number(hash, "network", fn->network);
    hash = ngx_http_faas_hash_number(hash, "seccomp", fn->seccomp);

    /* only when set: other definitions keep the versions they had */

    if (fn->user.data != NULL) {
        hash = ngx_http_faas_hash_number(hash, "uid", fn->uid);
        hash = ngx_http_faas_hash_number(hash, "gid", fn->gid);
    }

    if (fn->env) {
        kv = fn->env->elts;

        for (i = 0; i < fn->env->nelts; i++) {
            hash = ngx_http_faas_hash_field(hash, "env", &kv[i].key);
            hash = ngx_http_faas_hash(hash, kv[i].value.data,
                                      kv[i].value.len);
            hash = ngx_http_faas_hash(hash, (u_char *) "", 1);
        }
    }

    fn->version.data = ngx_pnalloc(cf->pool, NGX_HTTP_FAAS_HASH_LEN);
    if (fn->version.data == NULL) {
        return NGX_ERROR;
    }

    fn->version.len = ngx_sprintf(fn->version.data, "%016xL", hash)
                      - fn->version.data;

    return NGX_OK;
}


static ngx_int_t
ngx_http_faas_cmp_functions(const void *one, const void *two)
{
    ngx_http_faas_function_t  *first, *second;

    first = *(ngx_http_faas_function_t **) one;
    second = *(ngx_http_faas_function_t **) two;

    return ngx_memn2cmp(first->name.data, second->name.data,
                        first->name.len, second->name.len);
}


static ngx_int_t
ngx_http_faas_build_registration(ngx_conf_t *cf,
    ngx_http_faas_main_conf_t *fmcf)
{
    char                       *text;
    size_t                      len;
    json_t                     *functions, *function;
    uint64_t                    hash;
    ngx_uint_t                  i;
    ngx_http_faas_function_t  **fnp;

    functions = json_array();
    if (functions == NULL) {
        goto failed;
    }

    hash = NGX_HTTP_FAAS_FNV_BASIS;
    fnp = fmcf->functions.elts;

    for (i = 0; i < fmcf->functions.nelts; i++) {
        hash = ngx_http_faas_hash(hash, fnp[i]->name.data,
                                  fnp[i]->name.len);
        hash = ngx_http_faas_hash(hash, (u_char *) "", 1);
        hash = ngx_http_faas_hash(hash, fnp[i]->version.data,
                                  fnp[i]->version.len);
        hash = ngx_http_faas_hash(hash, (u_char *) "", 1);

        function = ngx_http_faas_json_function(fnp[i]);

        if (json_array_append_new(functions, function) != 0) {
            json_decref(functions);
            goto failed;
        }
    }

    text = json_dumps(functions, JSON_COMPACT|JSON_PRESERVE_ORDER);

    json_decref(functions);

    if (text == NULL) {
        goto failed;
    }

    len = ngx_strlen(text);

    fmcf->functions_json.data = ngx_pnalloc(cf->pool, len);
    if (fmcf->functions_json.data == NULL) {
        ngx_free(text);
        return NGX_ERROR;
    }

    ngx_memcpy(fmcf->functions_json.data, text, len);
    fmcf->functions_json.len = len;

    ngx_free(text);

    /* the rest of REGISTER, see ngx_http_faas_control.c, is far below 1K */

    if (len > FAAS_REGISTER_MAX - 1024) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "the faas function table is too large to register: "
                      "%uz bytes of JSON, at most %d are possible",
                      len, FAAS_REGISTER_MAX - 1024);
        return NGX_ERROR;
    }

    fmcf->generation.data = ngx_pnalloc(cf->pool, NGX_HTTP_FAAS_HASH_LEN);
    if (fmcf->generation.data == NULL) {
        return NGX_ERROR;
    }

    fmcf->generation.len = ngx_sprintf(fmcf->generation.data, "%016xL", hash)
                           - fmcf->generation.data;

    return NGX_OK;

failed:

    ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                  "failed to build the faas function table JSON");

    return NGX_ERROR;
}


static json_t *
ngx_http_faas_json_function(ngx_http_faas_function_t *fn)
{
    json_t        *function, *env, *pair;
    ngx_uint_t     i;
    ngx_keyval_t  *kv;

    function = json_pack("{s:s%, s:s%, s:s%, s:s%, s:s%,"
                         " s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I,"
                         " s:I, s:I}",
                         "name", fn->name.data, fn->name.len,
                         "version", fn->version.data, fn->version.len,
                         "runtime", fn->runtime->name.data,
                         fn->runtime->name.len,
                         "code", fn->code.data, fn->code.len,
                         "handler", fn->handler.name.data,
                         fn->handler.name.len,
                         "timeout_ms", (json_int_t) fn->timeout,
                         "idle_timeout_ms", (json_int_t) fn->idle_timeout,
                         "max_instances", (json_int_t) fn->max_instances,
                         "queue_size", (json_int_t) fn->queue_size,
                         "queue_timeout_ms", (json_int_t) fn->queue_timeout,
                         "min_instances", (json_int_t) fn->min_instances,
                         "prewarm", (json_int_t) fn->prewarm,
                         "max_requests", (json_int_t) fn->max_requests,
                         "concurrency", (json_int_t) fn->concurrency,
                         "threads", (json_int_t) fn->threads,
                         "overload_status", (json_int_t) fn->overload_status);
    if (function == NULL) {
        return NULL;
    }

    /* the sandbox, see docs/security.md */

    if (json_object_set_new(function, "memory",
                            json_integer((json_int_t) fn->memory)) != 0
        || json_object_set_new(function, "tmp_size",
                               json_integer((json_int_t) fn->tmp_size)) != 0
        || json_object_set_new(function, "pids",
                               json_integer((json_int_t) fn->pids)) != 0
        || json_object_set_new(function, "cpu",
                               json_integer((json_int_t) fn->cpu)) != 0
        || json_object_set_new(function, "network",
                               json_integer(fn->network ? 1 : 0)) != 0)
    {
        json_decref(function);
        return NULL;
    }

    if (fn->user.data != NULL
        && (json_object_set_new(function, "uid",
                                json_integer((json_int_t) fn->uid)) != 0
            || json_object_set_new(function, "gid",
                                   json_integer((json_int_t) fn->gid)) != 0))
    {
        json_decref(function);
        return NULL;
    }

    if (json_object_set_new(function, "seccomp",
                            json_string(fn->seccomp ? "runtime" : "base"))
        != 0)
    {
        json_decref(function);
        return NULL;
    }

    /* how the runtime runs the code, and where its output goes */

    if (json_object_set_new(function, "debug",
                            json_integer(fn->debug ? 1 : 0)) != 0
        || json_object_set_new(function, "output",
                               json_stringn((char *) fn->output.data,
                                            fn->output.len)) != 0)
    {
        json_decref(function);
        return NULL;
    }

    if (fn->initializer.name.len
        && json_object_set_new(function, "initializer",
                               json_stringn((char *) fn->initializer.name.data,
                                            fn->initializer.name.len))
           != 0)
    {
        json_decref(function);
        return NULL;
    }

    env = json_array();

    if (json_object_set_new(function, "env", env) != 0) {
        json_decref(function);
        return NULL;
    }

    if (fn->env == NULL) {
        return function;
    }

    kv = fn->env->elts;

    for (i = 0; i < fn->env->nelts; i++) {
        pair = json_pack("[s%, s%]",
                         kv[i].key.data, kv[i].key.len,
                         kv[i].value.data, kv[i].value.len);

        if (json_array_append_new(env, pair) != 0) {
            json_decref(function);
            return NULL;
        }
    }

    return function;
}


static void *
ngx_http_faas_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_faas_main_conf_t  *fmcf;

    fmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_faas_main_conf_t));
    if (fmcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     fmcf->supervisor = { 0, NULL };
     *     fmcf->addr = NULL;
     *     fmcf->upstream = NULL;
     *     fmcf->sorted = NULL;
     *     fmcf->generation = { 0, NULL };
     *     fmcf->functions_json = { 0, NULL };
     */

    if (ngx_array_init(&fmcf->functions, cf->pool, 4,
                       sizeof(ngx_http_faas_function_t *))
        != NGX_OK)
    {
        return NULL;
    }

    if (ngx_array_init(&fmcf->passes, cf->pool, 4,
                       sizeof(ngx_http_faas_pass_t))
        != NGX_OK)
    {
        return NULL;
    }

    return fmcf;
}


static char *
ngx_http_faas_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_faas_main_conf_t *fmcf = conf;

    size_t                  size;
    ngx_uint_t              i;
    ngx_http_faas_pass_t   *pass;

    pass = fmcf->passes.elts;

    if (fmcf->passes.nelts && fmcf->supervisor.data == NULL) {
        ngx_http_faas_conf_error(cf, &pass[0].file, pass[0].line,
                                 "\"%s\" requires \"faas_supervisor\" "
                                 "in the http block",
                                 pass[0].status ? "faas_status"
                                                : "faas_pass");
        return NGX_CONF_ERROR;
    }

    if (fmcf->functions.nelts) {
        size = fmcf->functions.nelts * sizeof(ngx_http_faas_function_t *);

        fmcf->sorted = ngx_palloc(cf->pool, size);
        if (fmcf->sorted == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memcpy(fmcf->sorted, fmcf->functions.elts, size);

        ngx_sort(fmcf->sorted, fmcf->functions.nelts,
                 sizeof(ngx_http_faas_function_t *),
                 ngx_http_faas_cmp_functions);
    }

    for (i = 0; i < fmcf->passes.nelts; i++) {

        if (pass[i].name.len == 0) {
            continue;
        }

        pass[i].conf->function = ngx_http_faas_find_function(fmcf,
                                                             &pass[i].name);

        if (pass[i].conf->function == NULL) {
            ngx_http_faas_conf_error(cf, &pass[i].file, pass[i].line,
                                     "faas_pass: unknown function \"%V\"",
                                     &pass[i].name);
            return NGX_CONF_ERROR;
        }
    }

    if (fmcf->functions.nelts == 0) {
        return NGX_CONF_OK;
    }

    if (ngx_http_faas_build_registration(cf, fmcf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_faas_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_faas_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_faas_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->upstream.bufs.num = 0;
     *     conf->upstream.local = NULL;
     *     conf->upstream.temp_path = NULL;
     *     conf->upstream.next_upstream_timeout = 0;
     *     conf->upstream.next_upstream_tries = 0;
     *     conf->name = { 0, NULL };
     *     conf->function = NULL;
     *     conf->function_name = NULL;
     */

    conf->upstream.connect_timeout = NGX_CONF_UNSET_MSEC;
    conf->upstream.send_timeout = NGX_CONF_UNSET_MSEC;
    conf->upstream.read_timeout = NGX_CONF_UNSET_MSEC;
    conf->upstream.buffer_size = NGX_CONF_UNSET_SIZE;
    conf->upstream.request_buffering = NGX_CONF_UNSET;
    conf->upstream.intercept_errors = NGX_CONF_UNSET;
    conf->upstream.ignore_client_abort = NGX_CONF_UNSET;
    conf->direct = NGX_CONF_UNSET;
    conf->status = NGX_CONF_UNSET;

    conf->upstream.hide_headers = NGX_CONF_UNSET_PTR;
    conf->upstream.pass_headers = NGX_CONF_UNSET_PTR;

    /* the hardcoded values */

    conf->upstream.buffering = 0;
    conf->upstream.cyclic_temp_file = 0;
    conf->upstream.send_lowat = 0;
    conf->upstream.busy_buffers_size = 0;
    conf->upstream.max_temp_file_size = 0;
    conf->upstream.temp_file_write_size = 0;
    conf->upstream.pass_request_headers = 1;
    conf->upstream.pass_request_body = 1;
    conf->upstream.force_ranges = 0;

    /*
     * A function may answer before it has read the whole request body
     * (an echo streams it back); keep sending the body after the response
     * header has gone to the client, as grpc does.
     */
    conf->upstream.preserve_output = 1;

    /* an invocation is not idempotent and there is only one peer */

    conf->upstream.next_upstream = NGX_CONF_BITMASK_SET
                                   |NGX_HTTP_UPSTREAM_FT_OFF;

    conf->upstream.ignore_headers = NGX_HTTP_UPSTREAM_IGN_XA_REDIRECT
                                    |NGX_HTTP_UPSTREAM_IGN_XA_EXPIRES
                                    |NGX_HTTP_UPSTREAM_IGN_XA_LIMIT_RATE
                                    |NGX_HTTP_UPSTREAM_IGN_XA_BUFFERING
                                    |NGX_HTTP_UPSTREAM_IGN_XA_CHARSET;

    ngx_str_set(&conf->upstream.module, "faas");

    return conf;
}


static char *
ngx_http_faas_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_faas_loc_conf_t *prev = parent;
    ngx_http_faas_loc_conf_t *conf = child;

    ngx_hash_init_t             hash;
    ngx_http_core_loc_conf_t   *clcf;
    ngx_http_faas_main_conf_t  *fmcf;

    ngx_conf_merge_msec_value(conf->upstream.connect_timeout,
                              prev->upstream.connect_timeout, 60000);

    ngx_conf_merge_msec_value(conf->upstream.send_timeout,
                              prev->upstream.send_timeout, 60000);

    ngx_conf_merge_msec_value(conf->upstream.read_timeout,
                              prev->upstream.read_timeout, 60000);

    ngx_conf_merge_size_value(conf->upstream.buffer_size,
                              prev->upstream.buffer_size,
                              (size_t) 8 * 1024);

    ngx_conf_merge_value(conf->upstream.request_buffering,
                         prev->upstream.request_buffering, 1);

    ngx_conf_merge_value(conf->upstream.intercept_errors,
                         prev->upstream.intercept_errors, 0);

    ngx_conf_merge_value(conf->upstream.ignore_client_abort,
                         prev->upstream.ignore_client_abort, 0);

    ngx_conf_merge_value(conf->direct, prev->direct, 1);

    hash.max_size = 512;
    hash.bucket_size = ngx_align(64, ngx_cacheline_size);
    hash.name = "faas_hide_headers_hash";

    if (ngx_http_upstream_hide_headers_hash(cf, &conf->upstream,
            &prev->upstream, ngx_http_faas_hide_headers, &hash)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    /* "if" blocks run the handler of the location they are in */

    if (clcf->noname
        && conf->function == NULL && conf->function_name == NULL)
    {
        conf->function = prev->function;
        conf->function_name = prev->function_name;
    }

    if (clcf->lmt_excpt && clcf->handler == NULL
        && (conf->function || conf->function_name))
    {
        clcf->handler = ngx_http_faas_handler;
    }

    if (conf->function || conf->function_name || conf->status == 1) {
        fmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_faas_module);
        conf->upstream.upstream = fmcf->upstream;
    }

    return NGX_CONF_OK;
}
