
/*
 * ngx_faas HTTP trigger: variables.  They read the request context, so
 * they are never cached: a value may change while the request runs
 * (DISPATCH arrives after the request started).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_faas_module.h"


static ngx_int_t ngx_http_faas_function_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_faas_request_id_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_faas_cold_start_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_faas_layer_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_faas_dispatch_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_faas_time_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


#define NGX_HTTP_FAAS_QUEUE_TIME  0
#define NGX_HTTP_FAAS_INIT_TIME   1
#define NGX_HTTP_FAAS_EXEC_TIME   2


static ngx_http_variable_t  ngx_http_faas_vars[] = {

    { ngx_string("faas_function"), NULL,
      ngx_http_faas_function_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("faas_request_id"), NULL,
      ngx_http_faas_request_id_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("faas_cold_start"), NULL,
      ngx_http_faas_cold_start_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("faas_prewarmed"), NULL,
      ngx_http_faas_cold_start_variable, 1,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("faas_direct"), NULL,
      ngx_http_faas_cold_start_variable, 2,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("faas_layer"), NULL,
      ngx_http_faas_layer_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("faas_instance"), NULL,
      ngx_http_faas_dispatch_variable,
      offsetof(ngx_http_faas_ctx_t, instance),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("faas_queue_time"), NULL,
      ngx_http_faas_time_variable, NGX_HTTP_FAAS_QUEUE_TIME,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("faas_init_time"), NULL,
      ngx_http_faas_time_variable, NGX_HTTP_FAAS_INIT_TIME,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("faas_exec_time"), NULL,
      ngx_http_faas_time_variable, NGX_HTTP_FAAS_EXEC_TIME,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


ngx_int_t
ngx_http_faas_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_faas_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_faas_function_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_faas_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_faas_module);

    if (ctx == NULL || ctx->name.len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->len = ctx->name.len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
    v->data = ctx->name.data;

    return NGX_OK;
}


static ngx_int_t
ngx_http_faas_request_id_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_faas_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_faas_module);

    if (ctx == NULL || ctx->request_id[0] == '\0') {
        v->not_found = 1;
        return NGX_OK;
    }

    v->len = NGX_HTTP_FAAS_REQUEST_ID_LEN;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
    v->data = ctx->request_id;

    return NGX_OK;
}


static ngx_int_t
ngx_http_faas_cold_start_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_faas_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_faas_module);

    if (ctx == NULL || !ctx->dispatched) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->len = 1;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    /*
     * data 1: $faas_prewarmed, a call served from the prewarm pool;
     * data 2: $faas_direct, a call made without the supervisor
     */

    if (data == 2) {
        v->data = (u_char *) (ctx->direct ? "1" : "0");

    } else if (data == 1) {
        v->data = (u_char *) (ctx->prewarmed ? "1" : "0");

    } else {
        v->data = (u_char *) (ctx->cold ? "1" : "0");
    }

    return NGX_OK;
}


ngx_str_t  ngx_http_faas_layers[] = {
    ngx_string("warm"),
    ngx_string("function"),
    ngx_string("runtime"),
    ngx_string("sandbox"),
    ngx_string("none"),
    ngx_null_string
};


/* $faas_layer: the warm layer that served, "warm" to "none" */

static ngx_int_t
ngx_http_faas_layer_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_faas_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_faas_module);

    if (ctx == NULL || !ctx->dispatched) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->len = ngx_http_faas_layers[ctx->layer].len;
    v->data = ngx_http_faas_layers[ctx->layer].data;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}


/* a number from DISPATCH, at offset data of the request context */

static ngx_int_t
ngx_http_faas_dispatch_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char               *p;
    ngx_http_faas_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_faas_module);

    if (ctx == NULL || !ctx->dispatched) {
        v->not_found = 1;
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, NGX_INT64_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    v->len = ngx_sprintf(p, "%uL", *(uint64_t *) ((char *) ctx + data)) - p;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
    v->data = p;

    return NGX_OK;
}


/*
 * Seconds with millisecond resolution, as $upstream_response_time.  The
 * queue and init times are the supervisor's (DISPATCH), the execution
 * time is nginx's own: from DISPATCH to the end of the response, or to
 * now while the response is still running (in add_header, say).
 */

static ngx_int_t
ngx_http_faas_time_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char               *p;
    ngx_msec_int_t        ms;
    ngx_http_faas_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_faas_module);

    if (ctx == NULL || !ctx->dispatched) {
        v->not_found = 1;
        return NGX_OK;
    }

    switch (data) {

    case NGX_HTTP_FAAS_QUEUE_TIME:
        ms = (ngx_msec_int_t) (ctx->queue_us / 1000);
        break;

    case NGX_HTTP_FAAS_INIT_TIME:

        /* a warm call had no start to wait for */

        if (!ctx->cold) {
            v->not_found = 1;
            return NGX_OK;
        }

        ms = (ngx_msec_int_t) (ctx->start_us / 1000);
        break;

    default: /* NGX_HTTP_FAAS_EXEC_TIME */
        ms = (ngx_msec_int_t) ((ctx->ended ? ctx->end_time : ngx_current_msec)
                               - ctx->dispatch_time);
        break;
    }

    ms = ngx_max(ms, 0);

    p = ngx_pnalloc(r->pool, NGX_TIME_T_LEN + 4);
    if (p == NULL) {
        return NGX_ERROR;
    }

    v->len = ngx_sprintf(p, "%T.%03M", (time_t) ms / 1000, ms % 1000) - p;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
    v->data = p;

    return NGX_OK;
}
