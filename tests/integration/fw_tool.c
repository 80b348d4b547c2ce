/* fw_tool: a tiny driver of fw/ for tests/integration/t_fw.sh.  Runs in the caller's network
 * namespace (use `ip netns exec`).
 *
 *   fw_tool apply NETWORK SUBNET [BRIDGE]   replace `inet shoal` (masquerade on)
 *   fw_tool apply-nomasq                    replace `inet shoal` with an empty table
 *   fw_tool check NETWORK SUBNET [BRIDGE]   print in-sync|absent|differs, exit 0|3|4
 *   fw_tool remove                          delete `inet shoal`
 *   fw_tool print NETWORK SUBNET [BRIDGE]   describe every message of the batch (no kernel)
 * Exit 1 with the error message on stderr when fw_* fails, 2 on bad usage. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>

#include "fw/fw.h"
#include "lib/cidr.h"

static int usage(void)
{
	fprintf(stderr, "usage: fw_tool apply|check|print NETWORK SUBNET [BRIDGE] | apply-nomasq | remove\n");
	return 2;
}

static int parse_config(int argc, char **argv, struct fw_config *c)
{
	memset(c, 0, sizeof(*c));
	if (argc < 4 || argc > 5)
		return -EINVAL;
	if (cidr4_parse_prefix(argv[2], &c->network) < 0 || cidr4_parse_prefix(argv[3], &c->subnet) < 0)
		return -EINVAL;
	c->masquerade = true;
	c->bridge = argc == 5 ? argv[4] : NULL;
	return 0;
}

static int print_batch(const struct fw_config *c)
{
	static char buf[65536];
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	size_t len;
	int rest, r;
	char what[256];

	r = fw_batch_build(c, buf, sizeof(buf), 1, &len);
	if (r < 0) {
		fprintf(stderr, "fw_batch_build: %s\n", strerror(-r));
		return 1;
	}
	for (rest = (int)len; mnl_nlmsg_ok(nlh, rest); nlh = mnl_nlmsg_next(nlh, &rest)) {
		fw_batch_describe(buf, len, nlh->nlmsg_seq, what, sizeof(what));
		printf("%u %s\n", nlh->nlmsg_seq, what);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct fw_config c;
	char err[512] = "";
	int r;

	if (argc < 2)
		return usage();
	if (strcmp(argv[1], "remove") == 0 && argc == 2) {
		r = fw_remove(err, sizeof(err));
	} else if (strcmp(argv[1], "apply-nomasq") == 0 && argc == 2) {
		memset(&c, 0, sizeof(c));
		r = fw_apply(&c, err, sizeof(err));
	} else if (parse_config(argc, argv, &c) < 0) {
		return usage();
	} else if (strcmp(argv[1], "apply") == 0) {
		r = fw_apply(&c, err, sizeof(err));
	} else if (strcmp(argv[1], "print") == 0) {
		return print_batch(&c);
	} else if (strcmp(argv[1], "check") == 0) {
		r = fw_check(&c, err, sizeof(err));
		if (r >= 0) {
			printf("%s\n", r == FW_CHECK_IN_SYNC ? "in-sync" : r == FW_CHECK_ABSENT ? "absent" : "differs");
			fprintf(stderr, "%s\n", err);
			return r == FW_CHECK_IN_SYNC ? 0 : r == FW_CHECK_ABSENT ? 3 : 4;
		}
	} else {
		return usage();
	}
	if (r < 0) {
		fprintf(stderr, "fw_tool %s: %s\n", argv[1], err);
		return 1;
	}
	return 0;
}
