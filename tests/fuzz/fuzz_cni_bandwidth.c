/* The plugin's bandwidth settings (cni-plugin/bandwidth.c) on arbitrary input: the first line is
 * CNI_ARGS, the rest the network config.  What the plugin accepts is within the API's limits, and
 * shoald's decoder (netd/request.c) accepts the object the plugin sends and reads the same numbers:
 * the two sides never disagree about a workload's guarantee, limit, burst or priority. */
// SOURCES: cni-plugin/bandwidth.c cni-plugin/cni.c tc/quota.c netd/request.c lib/names.c lib/cidr.c
// PKGS: jansson
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cni-plugin/bandwidth.h"
#include "cni-plugin/cni.h"
#include "lib/cnierr.h"
#include "netd/request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must(int cond)
{
	if (!cond)
		__builtin_trap();
}

static void same_direction(const struct cni_bandwidth *bw, enum cni_bw_field g, enum cni_bw_field l,
			   enum cni_bw_field b, const struct request_bandwidth_dir *d)
{
	/* Unset is 0 on both sides. */
	must(d->guarantee == (bw->f[g].source ? bw->f[g].value : 0));
	must(d->limit == (bw->f[l].source ? bw->f[l].value : 0));
	must(d->burst == (bw->f[b].source ? bw->f[b].value : 0));
	must(!d->guarantee || !d->limit || d->guarantee <= d->limit);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t alen = nl ? (size_t)(nl - data) : 0, clen = nl ? size - alen - 1 : size;
	char *args_text = NULL;
	struct cni_error err = { 0 };
	struct request_error rerr = { 0 };
	struct cni_bandwidth bw;
	struct cni_conf conf;
	struct request q;
	json_t *args = NULL, *obj = NULL, *req;

	if (nl) {
		args_text = malloc(alen + 1);
		if (!args_text)
			return 0;
		memcpy(args_text, data, alen);
		args_text[alen] = '\0';   /* an environment variable ends at the first NUL */
		if (cni_args_parse(args_text, &args, &err) < 0) {
			free(args_text);
			return 0;
		}
	}
	if (cni_conf_parse((const char *)data + size - clen, clen, &conf, &err) < 0) {
		must(err.code > 0 && err.msg[0]);
		goto out;
	}
	if (cni_bandwidth_parse(conf.root, args, &bw, &err) < 0) {
		must((err.code == CNI_ERR_INVALID_CONFIG || err.code == CNI_ERR_INVALID_ENV) && err.msg[0]);
		goto done;
	}
	for (int f = 0; f < CNI_BW_FIELDS; f++)
		must(bw.f[f].source == CNI_BW_UNSET ||
		     (bw.f[f].value <= (f == CNI_BW_PRIORITY ? CNI_BW_PRIORITY_MAX : CNI_BW_MAX) &&
		      (f == CNI_BW_PRIORITY || bw.f[f].value > 0) && bw.f[f].key[0]));
	must(cni_bandwidth_json(&bw, &obj) == 0);
	/* shoald decodes exactly what the plugin sends. */
	req = json_pack("{s:s, s:s, s:s, s:s}", "op", "add", "containerId", "c1", "ifname", "eth0", "network", "n");
	must(req != NULL);
	if (obj)
		json_object_set(req, "bandwidth", obj);
	must(request_parse(req, &q, &rerr) == 0);
	same_direction(&bw, CNI_BW_INGRESS_GUARANTEE, CNI_BW_INGRESS_LIMIT, CNI_BW_INGRESS_BURST, &q.bandwidth.ingress);
	same_direction(&bw, CNI_BW_EGRESS_GUARANTEE, CNI_BW_EGRESS_LIMIT, CNI_BW_EGRESS_BURST, &q.bandwidth.egress);
	must(q.bandwidth.priority == (bw.f[CNI_BW_PRIORITY].source ? (int)bw.f[CNI_BW_PRIORITY].value : -1));
	json_decref(req);
	json_decref(obj);
done:
	cni_conf_done(&conf);
out:
	json_decref(args);
	free(args_text);
	return 0;
}
