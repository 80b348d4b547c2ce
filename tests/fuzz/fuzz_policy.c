/* The bandwidth policy parser on arbitrary bytes (every host reads what any client wrote to the
 * store).  Whatever it accepts must encode and parse back unchanged, match without crashing, and
 * merge into something the API's own validation accepts (no guarantee above its limit). */
// SOURCES: netd/policy.c netd/request.c lib/names.c lib/cidr.c
// PKGS: jansson
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netd/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must(int cond)
{
	if (!cond)
		__builtin_trap();
}

static void dir_ok(const struct request_bandwidth_dir *d)
{
	must(!d->guarantee || !d->limit || d->guarantee <= d->limit);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy p, q;
	struct policy_subject s = { .value = { "prod", "web-1", "uid", "shoal" } };
	struct request_bandwidth own = { .priority = -1 }, r;
	char err[POLICY_ERRLEN];
	json_t *j;
	char *text, *again;

	if (policy_parse("fuzz", (const char *)data, size, &p, err) < 0)
		return 0;
	j = policy_encode_body(&p);
	must(j != NULL);
	text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	must(text != NULL);
	must(policy_parse("fuzz", text, strlen(text), &q, err) == 0);
	j = policy_encode_body(&q);
	must(j != NULL);
	again = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	must(again != NULL && strcmp(text, again) == 0);
	must(p.n_match == q.n_match && p.bandwidth.priority == q.bandwidth.priority);
	free(text);
	free(again);
	(void)policy_matches(&p, &s);
	must(policy_pick(&p, 1, &s) == (policy_matches(&p, &s) ? &p : NULL));
	policy_merge(&own, &p, &r);
	dir_ok(&r.ingress);
	dir_ok(&r.egress);
	own.ingress.limit = 1000;
	own.egress.guarantee = 1000;
	policy_merge(&own, &p, &r);
	dir_ok(&r.ingress);
	dir_ok(&r.egress);
	return 0;
}
