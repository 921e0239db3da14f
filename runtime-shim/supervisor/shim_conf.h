/*
 * Command line values: the parsers are pure, for the unit tests.
 */

#ifndef SHIM_CONF_H
#define SHIM_CONF_H

#include <stdint.h>
#include <sys/types.h>


/* nginx-style time: "10s", "500ms", "1m30s"; a bare number is seconds */
int shim_conf_parse_time(const char *s, uint64_t *msec);

/* octal permission bits, "0660" or "660" */
int shim_conf_parse_mode(const char *s, mode_t *mode);

/* a user or group name, or a number */
int shim_conf_user(const char *name, uid_t *uid, gid_t *gid);
int shim_conf_group(const char *name, gid_t *gid);

#endif /* SHIM_CONF_H */
