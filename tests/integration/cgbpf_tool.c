/* Lab tool for tests/integration/t_cgroup_bpf.sh: the cgroup classifier (tc/cgbpf.h) on one
 * device of the caller's network namespace, through shoald's own code paths: the object loaded by
 * tc/cgbpf.c, the filters built by tc/classify.c and sent with overlay/nlsock.
 *
 *   cgbpf_tool DEV attach IFB_OUT IFB_IN   clsact on DEV (kept when there), load (adopting the maps
 *                                          of our egress program when attached), REPLACE both
 *                                          filters; prints "adopted 0|1"
 *   cgbpf_tool DEV set CGROUP_ID LEVEL MINOR
 *   cgbpf_tool DEV del CGROUP_ID
 *   cgbpf_tool DEV list                     one "ID LEVEL MINOR" line per quota
 *   cgbpf_tool DEV show                     the attached filters: "HOOK PRIO HANDLE NAME ID IFB"
 *   cgbpf_tool DEV detach                   DEL both filters (with them go the programs and maps)
 *
 * Every command exits and leaves the kernel state behind (the filters hold the programs, the
 * programs their maps); set, del and list reach the maps the way a restarted shoald does: a new
 * load that adopts those of the attached egress program, freed again on exit.  The trees' majors
 * are 1 (egress, shoal-out) and 2 (ingress, shoal-in), or -m OUT:IN.  Exit 0, or 1 with a message. */
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "overlay/nlsock.h"
#include "tc/cgbpf.h"
#include "tc/classify.h"

static uint16_t major_out = 1, major_in = 2;

struct seen {
	struct classify_uplink_filter f[2];   /* [ingress_hook] */
	bool have[2];
};

static int seen_cb(const struct nlmsghdr *nlh, void *data)
{
	struct seen *s = data;
	struct classify_uplink_filter f;

	if (classify_parse_uplink_filter(nlh, &f) == 0) {
		s->f[f.ingress_hook] = f;
		s->have[f.ingress_hook] = true;
	}
	return MNL_CB_OK;
}

static void seen_reset(void *data)
{
	memset(data, 0, sizeof(struct seen));
}

/* Our filters on both hooks of ifindex (none when there is no clsact). */
static int observe(struct nlsock *nl, int ifindex, struct seen *ret)
{
	char buf[256], kerr[NLSOCK_ERRLEN];
	struct seen all = { 0 };

	for (int hook = 0; hook < 2; hook++) {
		struct seen one = { 0 };
		int r = tcmsg_build_filter_dump(buf, sizeof(buf), 0, ifindex, hook ? TCMSG_CLSACT_INGRESS : TCMSG_CLSACT_EGRESS);

		if (r < 0)
			return r;
		r = nlsock_query(nl, buf, seen_cb, seen_reset, &one, kerr);
		if (r == -EINVAL || r == -ENOENT)
			continue;
		if (r < 0) {
			fprintf(stderr, "cgbpf_tool: filter dump: %s %s\n", strerror(-r), kerr);
			return r;
		}
		all.f[hook] = one.f[hook];
		all.have[hook] = one.have[hook];
	}
	*ret = all;
	return 0;
}

static int send_one(struct nlsock *nl, void *buf, int len, const char *what)
{
	char kerr[NLSOCK_ERRLEN];
	unsigned failed;
	int r;

	if (len < 0) {
		fprintf(stderr, "cgbpf_tool: cannot build %s: %s\n", what, strerror(-len));
		return len;
	}
	r = nlsock_transact(nl, buf, (size_t)len, ((struct nlmsghdr *)buf)->nlmsg_seq, 1, &failed, kerr);
	if (r < 0)
		fprintf(stderr, "cgbpf_tool: %s: %s%s%s\n", what, strerror(-r), kerr[0] ? ": " : "", kerr);
	return r;
}

/* The object, with the maps of the attached program (must_adopt: or fail). */
static int load(struct nlsock *nl, int ifindex, bool must_adopt, struct cgbpf **ret, bool *ret_adopted)
{
	char err[512];
	struct seen s;
	int r = observe(nl, ifindex, &s);

	if (r < 0)
		return r;
	if (must_adopt && (!s.have[0] || strcmp(s.f[0].prog_name, cgbpf_prog_name(false)))) {
		fprintf(stderr, "cgbpf_tool: no program of ours on the egress hook\n");
		return -ENOENT;
	}
	r = cgbpf_load(s.have[0] ? s.f[0].prog_id : 0, major_out, major_in, ret, ret_adopted, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "cgbpf_tool: %s\n", err);
		return r;
	}
	if (must_adopt && !*ret_adopted) {
		fprintf(stderr, "cgbpf_tool: the maps of program %" PRIu32 " were not adopted\n", s.f[0].prog_id);
		cgbpf_free(*ret);
		return -ESTALE;
	}
	return 0;
}

static int cmd_attach(struct nlsock *nl, int ifindex, const char *ifb_out, const char *ifb_in)
{
	int ifb[2] = { (int)if_nametoindex(ifb_out), (int)if_nametoindex(ifb_in) };
	char buf[TCMSG_FILTER_MAXLEN];
	struct cgbpf *c;
	bool adopted;
	int r;

	if (!ifb[0] || !ifb[1]) {
		fprintf(stderr, "cgbpf_tool: no device %s or %s\n", ifb_out, ifb_in);
		return -ENODEV;
	}
	r = send_one(nl, buf, classify_build_clsact(buf, sizeof(buf), nlsock_next_seq(nl), TCMSG_REPLACE, ifindex),
	             "clsact");
	if (r < 0)
		return r;
	r = load(nl, ifindex, false, &c, &adopted);
	if (r < 0)
		return r;
	for (int hook = 0; hook < 2 && r >= 0; hook++)
		r = send_one(nl, buf,
		             classify_build_uplink(buf, sizeof(buf), nlsock_next_seq(nl), TCMSG_REPLACE, ifindex, hook,
		                                   cgbpf_prog_fd(c, hook), cgbpf_prog_name(hook), ifb[hook]),
		             hook ? "ingress filter" : "egress filter");
	if (r >= 0)
		printf("adopted %d\n", adopted);
	cgbpf_free(c);
	return r;
}

static int cmd_quota(struct nlsock *nl, int ifindex, int argc, char **argv)
{
	struct cgbpf_entry *v = NULL;
	struct cgbpf *c;
	size_t n = 0;
	bool adopted;
	int r;

	r = load(nl, ifindex, true, &c, &adopted);
	if (r < 0)
		return r;
	if (!strcmp(argv[0], "set") && argc == 4)
		r = cgbpf_quota_set(c, strtoull(argv[1], NULL, 0), (unsigned)strtoul(argv[2], NULL, 0),
		                    (uint16_t)strtoul(argv[3], NULL, 0));
	else if (!strcmp(argv[0], "del") && argc == 2)
		r = cgbpf_quota_del(c, strtoull(argv[1], NULL, 0));
	else if (!strcmp(argv[0], "list") && argc == 1)
		r = cgbpf_quota_list(c, &v, &n);
	else
		r = -EINVAL;
	for (size_t i = 0; r >= 0 && i < n; i++)
		printf("%" PRIu64 " %u %u\n", v[i].cgroup_id, v[i].level, v[i].minor);
	free(v);
	if (r < 0)
		fprintf(stderr, "cgbpf_tool: %s: %s\n", argv[0], strerror(-r));
	cgbpf_free(c);
	return r;
}

static int cmd_show(struct nlsock *nl, int ifindex)
{
	struct seen s;
	int r = observe(nl, ifindex, &s);

	for (int hook = 0; r >= 0 && hook < 2; hook++) {
		const struct classify_uplink_filter *f = &s.f[hook];

		if (s.have[hook])
			printf("%s %#x %u %s %" PRIu32 " %" PRIu32 "%s\n", hook ? "ingress" : "egress", f->prio, f->handle,
			       f->prog_name, f->prog_id, f->redirect_ifindex, f->direct_action ? " direct-action" : "");
	}
	return r;
}

static int cmd_detach(struct nlsock *nl, int ifindex)
{
	char buf[TCMSG_FILTER_MAXLEN];
	int r = 0;

	for (int hook = 0; hook < 2 && r >= 0; hook++)
		r = send_one(nl, buf,
		             classify_build_uplink(buf, sizeof(buf), nlsock_next_seq(nl), TCMSG_DEL, ifindex, hook, -1, NULL, 0),
		             hook ? "delete ingress filter" : "delete egress filter");
	return r;
}

int main(int argc, char **argv)
{
	struct nlsock *nl = NULL;
	int ifindex, r;

	if (argc > 2 && !strcmp(argv[1], "-m")) {
		unsigned o, i;

		if (sscanf(argv[2], "%x:%x", &o, &i) != 2 || !o || !i || o > 0xffff || i > 0xffff) {
			fprintf(stderr, "cgbpf_tool: bad majors %s\n", argv[2]);
			return 1;
		}
		major_out = (uint16_t)o;
		major_in = (uint16_t)i;
		argc -= 2;
		argv += 2;
	}
	if (argc < 3) {
		fprintf(stderr, "usage: cgbpf_tool [-m OUT:IN] DEV attach IFB_OUT IFB_IN | set ID LEVEL MINOR | del ID | "
		                "list | show | detach\n");
		return 1;
	}
	ifindex = (int)if_nametoindex(argv[1]);
	if (!ifindex) {
		fprintf(stderr, "cgbpf_tool: no device %s\n", argv[1]);
		return 1;
	}
	r = nlsock_open(-1, &nl);
	if (r < 0) {
		fprintf(stderr, "cgbpf_tool: netlink: %s\n", strerror(-r));
		return 1;
	}
	if (!strcmp(argv[2], "attach") && argc == 5)
		r = cmd_attach(nl, ifindex, argv[3], argv[4]);
	else if (!strcmp(argv[2], "show") && argc == 3)
		r = cmd_show(nl, ifindex);
	else if (!strcmp(argv[2], "detach") && argc == 3)
		r = cmd_detach(nl, ifindex);
	else if (!strcmp(argv[2], "set") || !strcmp(argv[2], "del") || !strcmp(argv[2], "list"))
		r = cmd_quota(nl, ifindex, argc - 2, argv + 2);
	else {
		fprintf(stderr, "cgbpf_tool: unknown command %s\n", argv[2]);
		r = -EINVAL;
	}
	nlsock_free(nl);
	return r < 0 ? 1 : 0;
}
