/* Fuzz the CNI_ARGS parser (cni_args_parse) and the value quoting used in every error message. */
// SOURCES: cni-plugin/cni.c lib/names.c
// PKGS: jansson
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cni-plugin/cni.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), q[CNI_QUOTE_SIZE];
	struct cni_error err;
	json_t *obj = NULL, *e;
	const char *key;
	json_t *val;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';   /* an environment variable ends at the first NUL */

	cni_quote(s, q, sizeof(q));
	if (strlen(q) >= sizeof(q) || q[0] != '"')
		abort();
	for (const char *p = q; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			abort();

	if (cni_args_parse(s, &obj, &err) == 0) {
		json_object_foreach(obj, key, val) {
			if (key[0] == '\0' || strchr(key, '=') || strchr(key, ';') || !json_is_string(val))
				abort();
			if (strchr(json_string_value(val), '=') || strchr(json_string_value(val), ';'))
				abort();
		}
		json_decref(obj);
	} else {
		if (err.code != 6 || obj)
			abort();
		e = cni_error_json(&err, CNI_VERSION_UNKNOWN);
		if (!e)
			abort();
		json_decref(e);
	}
	free(s);
	return 0;
}
