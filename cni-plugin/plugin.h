/* Command dispatch: one CNI invocation (validated env + the config bytes) -> what to print.
 * Talks to shoald through lib/ipc.c; opens CNI_NETNS for ADD and CHECK; writes pending-delete
 * records (lib/pending_del.h) for DEL when shoald is unreachable. */
#pragma once
#include <jansson.h>
#include <stddef.h>

#include "cni-plugin/cni.h"

struct cni_plugin_reply {
	json_t *output;           /* on success: the JSON to print, NULL = print nothing */
	enum cni_version version; /* the config's version when known, for the error result */
	struct cni_error err;     /* on failure */
};

/* Read a whole config from fd into buf (size bytes, NUL-terminated, so at most size - 1 bytes of
 * data) without allocating; more data than fits is refused with code 5 (and not read further). */
int cni_plugin_read_input(int fd, char *buf, size_t size, size_t *ret_len, struct cni_error *err);

/* Run env->cmd (env already passed cni_env_validate).  0 with reply->output set (or NULL), or
 * -errno with reply->err set; reply->version is set in both cases. */
int cni_plugin_run(const struct cni_env *env, const char *input, size_t len, struct cni_plugin_reply *reply);
void cni_plugin_reply_done(struct cni_plugin_reply *reply);

/* What the plugin prints for an invocation: reply->output, or the spec's error object. */
json_t *cni_plugin_reply_json(const struct cni_plugin_reply *reply, int r);
