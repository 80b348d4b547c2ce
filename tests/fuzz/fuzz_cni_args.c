/* Fuzz the CNI_ARGS parser (cni_args_parse), the value quoting used in every error message, and the
 * CNI_IFNAME rules (names_cni_ifname_valid, and cni_env_validate deciding by them). */
// SOURCES: cni-plugin/cni.c lib/names.c
// PKGS: jansson
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cni-plugin/cni.h"
#include "lib/names.h"

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

	/* CNI_IFNAME: the strict rule is a subset of what the kernel takes, every refusal says why,
	 * and ADD decides by it (DEL by the kernel's rule). */
	{
		const char *why = NULL;
		struct cni_env add = { .command = "ADD", .container_id = "c1", .netns = "/n", .ifname = s };
		struct cni_env del = { .command = "DEL", .container_id = "c1", .ifname = s };
		int strict = names_cni_ifname_valid(s, &why);

		if (strict == 0 && (why || names_ifname_valid(s) != 0 || strchr(s, '%') || strcmp(s, "lo") == 0 ||
				    strcmp(s, "all") == 0 || strcmp(s, "default") == 0))
			abort();
		if (strict < 0 && (!why || !*why))
			abort();
		if ((cni_env_validate(&add, &err) == 0) != (strict == 0))
			abort();
		if ((cni_env_validate(&del, &err) == 0) != (names_ifname_valid(s) == 0))
			abort();
	}
	free(s);
	return 0;
}
