/* Fuzz the plugin's network config parser (cni_conf_parse) and, when the config carries a
 * prevResult, the result validator, converter and merger that ADD and CHECK run on it. */
// SOURCES: cni-plugin/cni.c cni-plugin/result.c lib/names.c
// PKGS: jansson
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cni-plugin/cni.h"
#include "cni-plugin/result.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cni_conf conf;
	struct cni_error err;
	char msg[256];
	json_t *out = NULL, *merged = NULL, *e;

	if (cni_conf_parse((const char *)data, size, &conf, &err) < 0) {
		/* Every refusal carries a code and a message, and renders as JSON. */
		if (err.code <= 0 || err.msg[0] == '\0')
			abort();
		e = cni_error_json(&err, cni_conf_peek_version((const char *)data, size));
		if (!e || !json_is_string(json_object_get(e, "msg")))
			abort();
		json_decref(e);
		return 0;
	}
	if (conf.version < 0 || conf.version >= CNI_VERSION_COUNT || !conf.name || !conf.type || !conf.socket ||
	    !conf.state_dir || conf.socket[0] != '/' || conf.timeout_ms <= 0)
		abort();
	/* name: the spec's pattern, within our limit; defaultRoute: exactly what the config says. */
	if (strlen(conf.name) == 0 || strlen(conf.name) > CNI_NETWORK_NAME_MAX || strchr(conf.name, '/'))
		abort();
	if (conf.default_route != !json_is_false(json_object_get(conf.root, "defaultRoute")))
		abort();
	if (conf.prev_result && cni_result_validate(conf.prev_result, msg, sizeof(msg)) == 0) {
		/* A valid result converts to every version, stays valid, and is stable under conversion. */
		for (int v = 0; v < CNI_VERSION_COUNT; v++) {
			json_t *again = NULL;

			if (cni_result_convert(conf.prev_result, (enum cni_version)v, &out) < 0)
				abort();
			if (cni_result_validate(out, msg, sizeof(msg)) < 0)
				abort();
			if (cni_result_convert(out, (enum cni_version)v, &again) < 0 || !json_equal(out, again))
				abort();
			json_decref(again);
			json_decref(out);
		}
		/* Chaining the result after itself keeps it valid. */
		if (cni_result_merge(conf.prev_result, conf.prev_result, &merged) < 0)
			abort();
		if (cni_result_validate(merged, msg, sizeof(msg)) < 0)
			abort();
		json_decref(merged);
	}
	cni_conf_done(&conf);
	return 0;
}
