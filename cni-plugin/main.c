/* shoal: the CNI plugin.  Runtimes exec it with CNI_* variables and the network config on stdin; it
 * prints a result or the spec's error object on stdout and exits 0 or 1.  All the work is in
 * cni.c (parsing), result.c (results) and plugin.c (commands); this reads straight through. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cni-plugin/cni.h"
#include "cni-plugin/plugin.h"
#include "lib/version.h"

/* Static, not malloc'ed: pages are touched only as far as the config reaches. */
static char input[CNI_MAX_CONFIG + 1];

int main(int argc, char **argv)
{
	struct cni_plugin_reply reply = { .version = CNI_VERSION_UNKNOWN };
	struct cni_error read_err;
	struct cni_env env;
	size_t len = 0;
	json_t *out;
	int r, rr = 0;

	/* Runtimes never pass arguments (the spec uses only the environment and stdin), so this
	 * cannot be mistaken for a CNI call. */
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		printf("shoal %s\n", SHOAL_VERSION);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	cni_env_from_environ(&env);
	r = cni_env_validate(&env, &reply.err);
	/* VERSION needs no stdin; someone typing `CNI_COMMAND=VERSION shoal` must not hang on a tty.
	 * After an env error, stdin is still read to report the error in the config's version. */
	if (!isatty(STDIN_FILENO) || (r == 0 && env.cmd != CNI_CMD_VERSION))
		rr = cni_plugin_read_input(STDIN_FILENO, input, sizeof(input), &len, &read_err);
	if (r < 0) {
		if (!env.command)
			fprintf(stderr, "%s; CNI protocol versions supported: %s\n", CNI_PLUGIN_ABOUT,
				cni_versions_supported_text());
		if (rr == 0)
			reply.version = cni_conf_peek_version(input, len);
	} else if (rr < 0 && env.cmd != CNI_CMD_VERSION) {
		r = rr;
		reply.err = read_err;
	} else {
		if (rr < 0)
			len = 0;
		r = cni_plugin_run(&env, input, len, &reply);
	}

	out = cni_plugin_reply_json(&reply, r);
	if (out) {
		json_dumpf(out, stdout, JSON_COMPACT);
		fputc('\n', stdout);
		json_decref(out);
	}
	cni_plugin_reply_done(&reply);
	if (fflush(stdout) != 0)
		return 1;
	return r < 0 ? 1 : 0;
}
