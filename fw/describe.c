/* fw: naming a message of our batches for error messages (fw_batch_describe()), and the parsing
 * helpers it shares with check.c, which reads the kernel's dumps with the same parsers. */
#include "fw/fw.h"
#include "fw/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <sys/socket.h>

/* ---- describing a message --------------------------------------------------------------------- */

static int udata_comment_cb(const struct nftnl_udata *attr, void *data)
{
	const char **comment = data;
	const char *s = nftnl_udata_get(attr);
	uint8_t len = nftnl_udata_len(attr);

	if (nftnl_udata_type(attr) == NFTNL_UDATA_RULE_COMMENT && len > 0 && s[len - 1] == '\0')
		*comment = s;
	return 0;
}

/* The rule's comment (borrowed from r), or NULL. */
const char *fw_rule_comment(const struct nftnl_rule *r)
{
	const char *comment = NULL;
	const void *ud;
	uint32_t len = 0;

	if (!nftnl_rule_is_set(r, NFTNL_RULE_USERDATA))
		return NULL;
	ud = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &len);
	if (ud)
		nftnl_udata_parse(ud, len, udata_comment_cb, &comment);
	return comment;
}

/* "shv0123456789ab . 02:00:00:00:00:01[ . 10.244.3.2]", as nft writes our keys; other lengths
 * in hex (not ours). */
void fw_key_render(const uint8_t *key, uint32_t len, char *out, size_t outlen)
{
	const uint8_t *m = key + FW_KEY_OFF_MAC;
	size_t pos;

	if (len != FW_KEY_MAC_LEN && len != FW_KEY_IP4_LEN) {
		pos = (size_t)snprintf(out, outlen, "0x");
		for (uint32_t i = 0; i < len && pos < outlen; i++)
			pos += (size_t)snprintf(out + pos, outlen - pos, "%02x", key[i]);
		return;
	}
	pos = (size_t)snprintf(out, outlen, "%.*s . %02x:%02x:%02x:%02x:%02x:%02x",
			       (int)strnlen((const char *)key, IFNAMSIZ), (const char *)key,
			       m[0], m[1], m[2], m[3], m[4], m[5]);
	if (len == FW_KEY_IP4_LEN && pos < outlen) {
		char ip[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, key + FW_KEY_OFF_IP4, ip, sizeof(ip));
		snprintf(out + pos, outlen - pos, " . %s", ip);
	}
}

/* Call fn with the set name and key of every element of a NEWSETELEM/DELSETELEM message.
 * Returns 0, fn's first error, or -EINVAL when the message does not parse. */
int fw_elems_for_each(const struct nlmsghdr *nlh, fw_elem_fn fn, void *arg)
{
	struct nftnl_set *set = nftnl_set_alloc();
	struct nftnl_set_elems_iter *it = NULL;
	struct nftnl_set_elem *e;
	int err = 0;

	if (!set)
		return -ENOMEM;
	if (nftnl_set_elems_nlmsg_parse(nlh, set) < 0 || !nftnl_set_is_set(set, NFTNL_SET_NAME)) {
		err = -EINVAL;
		goto out;
	}
	it = nftnl_set_elems_iter_create(set);
	if (!it) {
		err = -ENOMEM;
		goto out;
	}
	/* _next() returns the current element, then advances. */
	while (err >= 0 && (e = nftnl_set_elems_iter_next(it))) {
		uint32_t len = 0;
		const void *key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);

		if (key)
			err = fn(nftnl_set_get_str(set, NFTNL_SET_NAME), key, len, arg);
	}
out:
	nftnl_set_elems_iter_destroy(it);
	nftnl_set_free(set);
	return err;
}

struct elem_describe {
	unsigned n;
	char set[64];
	char first[128];
};

static int elem_describe_cb(const char *set, const uint8_t *key, uint32_t len, void *arg)
{
	struct elem_describe *d = arg;

	if (d->n++ == 0) {
		snprintf(d->set, sizeof(d->set), "%s", set);
		fw_key_render(key, len, d->first, sizeof(d->first));
	}
	return 0;
}

static void describe_msg(const struct nlmsghdr *nlh, char *out, size_t outlen)
{
	uint16_t type = nlh->nlmsg_type;
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
	const char *family = g->nfgen_family == NFPROTO_BRIDGE ? "bridge" : "inet";
	struct elem_describe d = { 0 };
	struct nftnl_chain *ch;
	struct nftnl_rule *r;
	struct nftnl_set *set;
	const char *verb;

	switch (NFNL_MSG_TYPE(type)) {
	case NFT_MSG_NEWTABLE:
		snprintf(out, outlen, "add table %s %s", family, FW_TABLE);
		return;
	case NFT_MSG_DELTABLE:
		snprintf(out, outlen, "delete table %s %s", family, FW_TABLE);
		return;
	case NFT_MSG_NEWSET:
		set = nftnl_set_alloc();
		if (set && nftnl_set_nlmsg_parse(nlh, set) >= 0 && nftnl_set_is_set(set, NFTNL_SET_NAME))
			snprintf(out, outlen, "add set %s", nftnl_set_get_str(set, NFTNL_SET_NAME));
		else
			snprintf(out, outlen, "add set");
		nftnl_set_free(set);
		return;
	case NFT_MSG_NEWSETELEM:
	case NFT_MSG_DELSETELEM:
		verb = NFNL_MSG_TYPE(type) == NFT_MSG_NEWSETELEM ? "add" : "delete";
		if (fw_elems_for_each(nlh, elem_describe_cb, &d) < 0 || d.n == 0)
			snprintf(out, outlen, "%s elements", verb);
		else if (d.n == 1)
			snprintf(out, outlen, "%s element %s %s", verb, d.set, d.first);
		else
			snprintf(out, outlen, "%s %u elements %s %s", verb, d.n, verb[0] == 'a' ? "to" : "from", d.set);
		return;
	case NFT_MSG_NEWCHAIN:
		ch = nftnl_chain_alloc();
		if (ch && nftnl_chain_nlmsg_parse(nlh, ch) >= 0 && nftnl_chain_is_set(ch, NFTNL_CHAIN_NAME))
			snprintf(out, outlen, "add chain %s", nftnl_chain_get_str(ch, NFTNL_CHAIN_NAME));
		else
			snprintf(out, outlen, "add chain");
		nftnl_chain_free(ch);
		return;
	case NFT_MSG_NEWRULE:
		r = nftnl_rule_alloc();
		if (r && nftnl_rule_nlmsg_parse(nlh, r) >= 0 && nftnl_rule_is_set(r, NFTNL_RULE_CHAIN)) {
			const char *comment = fw_rule_comment(r);

			snprintf(out, outlen, "add rule %s%s%s%s", nftnl_rule_get_str(r, NFTNL_RULE_CHAIN),
				 comment ? " \"" : "", comment ? comment : "", comment ? "\"" : "");
		} else {
			snprintf(out, outlen, "add rule");
		}
		nftnl_rule_free(r);
		return;
	default:
		snprintf(out, outlen, "nftables message %u", NFNL_MSG_TYPE(type));
		return;
	}
}

int fw_describe_seq(const void *buf, size_t len, uint32_t seq, fw_msg_describer fn, char *out, size_t outlen)
{
	const struct nlmsghdr *nlh = buf;
	int rest = len > INT32_MAX ? INT32_MAX : (int)len;

	if (!out || outlen == 0)
		return -EINVAL;
	for (; buf && mnl_nlmsg_ok(nlh, rest); nlh = mnl_nlmsg_next(nlh, &rest)) {
		if (nlh->nlmsg_seq != seq)
			continue;
		if (nlh->nlmsg_type == NFNL_MSG_BATCH_BEGIN)
			snprintf(out, outlen, "batch");
		else if (nlh->nlmsg_type == NFNL_MSG_BATCH_END)
			snprintf(out, outlen, "commit");
		else
			fn(nlh, out, outlen);
		return 0;
	}
	snprintf(out, outlen, "batch");
	return -ENOENT;
}

int fw_batch_describe(const void *buf, size_t len, uint32_t seq, char *out, size_t outlen)
{
	return fw_describe_seq(buf, len, seq, describe_msg, out, outlen);
}
