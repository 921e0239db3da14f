/*
 * faas-supervisor: the types every part of the supervisor shares, and the
 * context that is passed to all of them explicitly.
 */

#ifndef SHIM_H
#define SHIM_H

#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "faas_frame.h"


#define SHIM_VERSION  "0.1.0"


typedef struct shim_ctx_s       shim_ctx_t;
typedef struct shim_function_s  shim_function_t;
typedef struct shim_instance_s  shim_instance_t;
typedef struct shim_request_s   shim_request_t;
typedef struct shim_control_s   shim_control_t;


#include "shim_queue.h"
#include "shim_log.h"
#include "shim_timer.h"
#include "shim_event.h"
#include "shim_frame.h"
#include "shim_function.h"
#include "shim_request.h"
#include "shim_output.h"
#include "shim_process.h"
#include "shim_slot.h"
#include "shim_launch.h"
#include "shim_pool.h"
#include "shim_watch.h"
#include "shim_instance.h"
#include "shim_seccomp.h"
#include "shim_cgroup.h"
#include "shim_listen.h"
#include "shim_control.h"
#include "shim_status.h"
#include "shim_user.h"
#include "shim_direct.h"


/* "function "hello" instance 3: " starts every line about an instance */
#define SHIM_INST_FMT          "function \"%s\" instance %" PRIu64 ": "
#define SHIM_INST_ARGS(inst)   (inst)->function->name, (inst)->id


typedef struct {
    const char          *listen_path;
    mode_t               socket_mode;
    gid_t                socket_gid;       /* (gid_t) -1: unchanged */
    int                  drop_privileges;
    uid_t                uid;              /* the instances' user */
    gid_t                gid;
    char                *runtime_dir;
    int                  sandbox;          /* namespaces, cgroups, seccomp */
    int                  sched_batch;      /* instances are SCHED_BATCH */
    const char          *log_file;
    const char          *pid_file;
    uint64_t             stop_timeout;     /* ms */
    uint64_t             retire_grace;     /* ms */
    shim_pool_conf_t     pools[SHIM_POOLS_MAX];
    unsigned             npools;
} shim_conf_t;


struct shim_ctx_s {
    shim_conf_t          conf;
    shim_log_t           log;
    shim_loop_t          loop;

    int                  listen_fd;
    shim_event_t         listen_ev;
    shim_timer_t         listen_timer;
    int                  signal_fd;
    shim_event_t         signal_ev;
    int                  devnull;

    shim_function_table_t  functions;
    shim_users_t         users;            /* --uid-range, --allow-* */

    struct sock_fprog    seccomp;          /* compiled once, at start */
    shim_seccomp_profile_t  seccomp_profiles[SHIM_SECCOMP_PROFILES];
    int                  seccomp_filters;  /* an instance's after FILTER,
                                              0: cannot be checked */
    int                  kmsg;             /* for seccomp kills, or -1 */
    shim_cgroup_t        cgroup;
    shim_slot_t          slots;
    shim_direct_t        direct;           /* the table of direct calls */

    shim_pool_t          pools[SHIM_POOLS_MAX];
    unsigned             npools;
    const char         **runtime_programs; /* NULL-terminated: bound in
                                              every pooled sandbox */
    shim_timer_t         pool_timer;       /* a paused pool resumes */
    shim_watch_t         watch;            /* code updates */
    char                 launch_error[512]; /* why the last start failed */

    shim_queue_t         conns;            /* waiting for their first frame */
    shim_queue_t         controls;
    shim_queue_t         statuses;         /* status replies being sent */
    shim_queue_t         unregistered;     /* requests awaiting REGISTER */
    shim_queue_t         instances;        /* every live instance */
    unsigned             ninstances;

    uint64_t             last_instance_id;
    uint64_t             spawned;          /* processes started: a clone()
                                              costs milliseconds here */

    unsigned             stopping:1;
    unsigned             pid_file_written:1;
    shim_timer_t         stop_timer;
    shim_timer_t         direct_timer;     /* stuck direct calls */

    /* one packet from an instance, or one frame to be sent */
    uint8_t             *packet;
    uint8_t             *out;
};


#define SHIM_PACKET_SIZE  (2 * (FAAS_FRAME_HEADER_SIZE + FAAS_JSON_MAX))


#endif /* SHIM_H */
