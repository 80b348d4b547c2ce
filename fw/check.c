/* fw: reading `inet shoal` and `bridge shoal` back from the kernel and comparing them with what
 * fw_apply() would create (fw_check()). */
#include "fw/fw.h"
#include "fw/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

/* ---- reading back ----------------------------------------------------------------------------- */

/* Objects are compared as canonical one-line texts, so a difference can be shown as it is. */
struct strlist {
	char **v;
	size_t n, cap;
};

static void strlist_clear(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

static int strlist_push(struct strlist *l, const char *s)
{
	if (l->n == l->cap) {
		/* Doubling: one line per set element, tens of thousands on a big host. */
		size_t cap = l->cap ? 2 * l->cap : 16;
		char **v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n] = strdup(s);
	if (!l->v[l->n])
		return -ENOMEM;
	l->n++;
	return 0;
}

static int strcmp_p(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sort and drop duplicates (a workload listed twice is one element). */
static void strlist_sort_unique(struct strlist *l)
{
	size_t j = 0;

	if (l->n == 0)
		return;
	qsort(l->v, l->n, sizeof(*l->v), strcmp_p);
	for (size_t i = 1; i < l->n; i++) {
		if (strcmp(l->v[i], l->v[j]) == 0)
			free(l->v[i]);
		else
			l->v[++j] = l->v[i];
	}
	l->n = j + 1;
}

/* One of our tables as read back (or as fw_apply() would create it). */
struct fw_table_state {
	bool present;
	struct strlist chains, rules, sets;
};

struct fw_state {
	struct fw_table_state inet, bridge;
	struct strlist elems;     /* "SET KEY", of table bridge shoal */
	bool set_mac, set_ip4;    /* the sets exist: their elements can be dumped */
	int err;
};

static void table_state_clear(struct fw_table_state *t)
{
	t->present = false;
	strlist_clear(&t->chains);
	strlist_clear(&t->rules);
	strlist_clear(&t->sets);
}

static void state_clear(struct fw_state *st)
{
	table_state_clear(&st->inet);
	table_state_clear(&st->bridge);
	strlist_clear(&st->elems);
	st->set_mac = st->set_ip4 = false;
	st->err = 0;
}

static void chain_render(const struct nftnl_chain *ch, char *out, size_t outlen)
{
	const char *type = nftnl_chain_is_set(ch, NFTNL_CHAIN_TYPE) ? nftnl_chain_get_str(ch, NFTNL_CHAIN_TYPE) : "-";

	if (nftnl_chain_is_set(ch, NFTNL_CHAIN_HOOKNUM))
		snprintf(out, outlen, "chain %s type %s hook %u priority %d policy %u",
			 nftnl_chain_get_str(ch, NFTNL_CHAIN_NAME), type,
			 nftnl_chain_get_u32(ch, NFTNL_CHAIN_HOOKNUM), nftnl_chain_get_s32(ch, NFTNL_CHAIN_PRIO),
			 nftnl_chain_is_set(ch, NFTNL_CHAIN_POLICY) ? nftnl_chain_get_u32(ch, NFTNL_CHAIN_POLICY) : NF_ACCEPT);
	else
		snprintf(out, outlen, "chain %s", nftnl_chain_get_str(ch, NFTNL_CHAIN_NAME));
}

/* "rule CHAIN: [ expr ] [ expr ] comment "..."", with libnftnl's debug rendering of each
 * expression (what `nft --debug=netlink` prints): it shows every value the kernel acts on and
 * does not depend on which optional attributes the kernel chose to echo.  Stateful expressions
 * render their state too: a counter is shown without its packets and bytes, which change. */
static int rule_render(struct nftnl_rule *r, char *out, size_t outlen)
{
	struct nftnl_expr_iter *it;
	struct nftnl_expr *e;
	const char *comment;
	size_t pos;
	char ebuf[512];

	pos = (size_t)snprintf(out, outlen, "rule %s:", nftnl_rule_get_str(r, NFTNL_RULE_CHAIN));
	it = nftnl_expr_iter_create(r);
	if (!it)
		return -ENOMEM;
	while ((e = nftnl_expr_iter_next(it)) && pos < outlen) {
		const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

		if (strcmp(name, "counter") == 0)
			ebuf[0] = '\0';
		else
			nftnl_expr_snprintf(ebuf, sizeof(ebuf), e, NFTNL_OUTPUT_DEFAULT, 0);
		pos += (size_t)snprintf(out + pos, outlen - pos, " [ %s %s]", name, ebuf);
	}
	nftnl_expr_iter_destroy(it);
	comment = fw_rule_comment(r);
	if (comment && pos < outlen)
		snprintf(out + pos, outlen - pos, " comment \"%s\"", comment);
	return 0;
}

static void set_render(const struct nftnl_set *set, char *out, size_t outlen)
{
	snprintf(out, outlen, "set %s key type 0x%x len %u flags 0x%x", nftnl_set_get_str(set, NFTNL_SET_NAME),
		 nftnl_set_get_u32(set, NFTNL_SET_KEY_TYPE), nftnl_set_get_u32(set, NFTNL_SET_KEY_LEN),
		 nftnl_set_is_set(set, NFTNL_SET_FLAGS) ? nftnl_set_get_u32(set, NFTNL_SET_FLAGS) : 0);
}

static int elem_push_cb(const char *set, const uint8_t *key, uint32_t len, void *arg)
{
	struct fw_state *st = arg;
	char line[256];
	int n = snprintf(line, sizeof(line), "%s ", set);

	fw_key_render(key, len, line + n, sizeof(line) - (size_t)n);
	return strlist_push(&st->elems, line);
}

static bool is_ours(const char *table)
{
	return table && strcmp(table, FW_TABLE) == 0;
}

static int state_add_msg(struct fw_state *st, const struct nlmsghdr *nlh)
{
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
	struct fw_table_state *t;
	char line[2048];
	int err = 0;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*g))
		return -EPROTO;
	if (g->nfgen_family == NFPROTO_INET)
		t = &st->inet;
	else if (g->nfgen_family == NFPROTO_BRIDGE)
		t = &st->bridge;
	else
		return 0;
	switch (NFNL_MSG_TYPE(nlh->nlmsg_type)) {
	case NFT_MSG_NEWTABLE: {
		struct nftnl_table *tb = nftnl_table_alloc();

		if (!tb)
			return -ENOMEM;
		if (nftnl_table_nlmsg_parse(nlh, tb) >= 0 && nftnl_table_is_set(tb, NFTNL_TABLE_NAME) &&
		    is_ours(nftnl_table_get_str(tb, NFTNL_TABLE_NAME)))
			t->present = true;
		nftnl_table_free(tb);
		return 0;
	}
	case NFT_MSG_NEWCHAIN: {
		struct nftnl_chain *ch = nftnl_chain_alloc();

		if (!ch)
			return -ENOMEM;
		if (nftnl_chain_nlmsg_parse(nlh, ch) >= 0 &&
		    nftnl_chain_is_set(ch, NFTNL_CHAIN_TABLE) && nftnl_chain_is_set(ch, NFTNL_CHAIN_NAME) &&
		    is_ours(nftnl_chain_get_str(ch, NFTNL_CHAIN_TABLE))) {
			chain_render(ch, line, sizeof(line));
			err = strlist_push(&t->chains, line);
		}
		nftnl_chain_free(ch);
		return err;
	}
	case NFT_MSG_NEWRULE: {
		struct nftnl_rule *r = nftnl_rule_alloc();

		if (!r)
			return -ENOMEM;
		if (nftnl_rule_nlmsg_parse(nlh, r) >= 0 &&
		    nftnl_rule_is_set(r, NFTNL_RULE_TABLE) && nftnl_rule_is_set(r, NFTNL_RULE_CHAIN) &&
		    is_ours(nftnl_rule_get_str(r, NFTNL_RULE_TABLE))) {
			err = rule_render(r, line, sizeof(line));
			if (err >= 0)
				err = strlist_push(&t->rules, line);
		}
		nftnl_rule_free(r);
		return err;
	}
	case NFT_MSG_NEWSET: {
		struct nftnl_set *set = nftnl_set_alloc();

		if (!set)
			return -ENOMEM;
		if (nftnl_set_nlmsg_parse(nlh, set) >= 0 &&
		    nftnl_set_is_set(set, NFTNL_SET_TABLE) && nftnl_set_is_set(set, NFTNL_SET_NAME) &&
		    is_ours(nftnl_set_get_str(set, NFTNL_SET_TABLE))) {
			const char *name = nftnl_set_get_str(set, NFTNL_SET_NAME);

			if (t == &st->bridge && strcmp(name, FW_SET_ALLOW_MAC) == 0)
				st->set_mac = true;
			if (t == &st->bridge && strcmp(name, FW_SET_ALLOW_IP4) == 0)
				st->set_ip4 = true;
			set_render(set, line, sizeof(line));
			err = strlist_push(&t->sets, line);
		}
		nftnl_set_free(set);
		return err;
	}
	case NFT_MSG_NEWSETELEM:
		/* Only ever dumped (and built) for the sets of table bridge shoal. */
		return t == &st->bridge ? fw_elems_for_each(nlh, elem_push_cb, st) : 0;
	default:
		return 0;
	}
}

static int dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct fw_state *st = data;
	int err = state_add_msg(st, nlh);

	if (err < 0) {
		st->err = err;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

/* Dump one object kind of one family into st.  The kernel filters chains, rules and sets by
 * table when the request names one; state_add_msg() filters again for kernels that do not.
 * Elements are dumped per set (set names one). */
static int dump(struct mnl_socket *nl, uint16_t family, uint16_t type, const char *set, uint32_t seq,
                struct fw_state *st, char *rbuf)
{
	union fw_scratch s = { .buf = { 0 } };
	struct nlmsghdr *nlh;
	uint32_t portid = mnl_socket_get_portid(nl);
	int r;

	nlh = nftnl_nlmsg_build_hdr(s.buf, type, family, NLM_F_DUMP, seq);
	if (type == NFT_MSG_GETCHAIN)
		mnl_attr_put_strz(nlh, NFTA_CHAIN_TABLE, FW_TABLE);
	else if (type == NFT_MSG_GETRULE)
		mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, FW_TABLE);
	else if (type == NFT_MSG_GETSET)
		mnl_attr_put_strz(nlh, NFTA_SET_TABLE, FW_TABLE);
	else if (type == NFT_MSG_GETSETELEM) {
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, FW_TABLE);
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, set);
	}
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		ssize_t n = fw_sock_recv(nl, rbuf, FW_RECV_SIZE);

		if (n < 0)
			return (int)n;
		r = mnl_cb_run(rbuf, (size_t)n, seq, portid, dump_cb, st);
	} while (r > MNL_CB_STOP);
	if (r < 0)
		return st->err < 0 ? st->err : -errno;   /* EINTR: NLM_F_DUMP_INTR */
	return 0;
}

static int state_read_once(struct mnl_socket *nl, uint32_t seq, struct fw_state *st, char *rbuf)
{
	static const uint16_t types[] = { NFT_MSG_GETTABLE, NFT_MSG_GETCHAIN, NFT_MSG_GETRULE, NFT_MSG_GETSET };
	int err = 0;

	for (size_t i = 0; i < 3 && err >= 0; i++)
		err = dump(nl, NFPROTO_INET, types[i], NULL, seq++, st, rbuf);
	if (err >= 0)
		err = dump(nl, NFPROTO_BRIDGE, NFT_MSG_GETTABLE, NULL, seq++, st, rbuf);
	if (err < 0 || !st->bridge.present)
		return err;
	for (size_t i = 1; i < 4 && err >= 0; i++)
		err = dump(nl, NFPROTO_BRIDGE, types[i], NULL, seq++, st, rbuf);
	/* A set that vanished between the dumps answers ENOENT: start over like after an
	 * interrupted dump. */
	if (err >= 0 && st->set_mac)
		err = dump(nl, NFPROTO_BRIDGE, NFT_MSG_GETSETELEM, FW_SET_ALLOW_MAC, seq++, st, rbuf);
	if (err >= 0 && st->set_ip4)
		err = dump(nl, NFPROTO_BRIDGE, NFT_MSG_GETSETELEM, FW_SET_ALLOW_IP4, seq++, st, rbuf);
	return err == -ENOENT ? -EINTR : err;
}

static int state_read(struct fw_state *st)
{
	struct mnl_socket *nl = NULL;
	char *rbuf;
	uint32_t seq = (uint32_t)time(NULL);
	int err, attempt;

	rbuf = malloc(FW_RECV_SIZE);
	if (!rbuf)
		return -ENOMEM;
	for (attempt = 0; attempt < 10; attempt++) {
		/* A fresh socket per attempt: an aborted dump leaves answers behind. */
		err = fw_sock_open(&nl);
		if (err < 0)
			break;
		err = state_read_once(nl, seq, st, rbuf);
		seq += 16;
		mnl_socket_close(nl);
		if (err != -EINTR)
			break;
		/* The ruleset changed during a dump: start over. */
		state_clear(st);
	}
	free(rbuf);
	return err;
}

/* What fw_apply(c) would create, rendered the same way, by parsing our own batch. */
static int state_expected(const struct fw_config *c, struct fw_state *st)
{
	const struct nlmsghdr *nlh;
	char *batch = NULL;
	size_t len = 0;
	int rest, err;

	err = fw_build_alloc(fw_batch_build, c, 1, &batch, &len);
	if (err < 0)
		return err;
	/* The batch adds (and deletes) both tables either way: presence comes from the config. */
	st->inet.present = true;
	st->bridge.present = c->antispoof;
	rest = (int)len;
	for (nlh = (const struct nlmsghdr *)batch; mnl_nlmsg_ok(nlh, rest) && err >= 0; nlh = mnl_nlmsg_next(nlh, &rest)) {
		uint16_t t = NFNL_MSG_TYPE(nlh->nlmsg_type);

		if (nlh->nlmsg_type != NFNL_MSG_BATCH_BEGIN && nlh->nlmsg_type != NFNL_MSG_BATCH_END &&
		    (t == NFT_MSG_NEWCHAIN || t == NFT_MSG_NEWRULE || t == NFT_MSG_NEWSET || t == NFT_MSG_NEWSETELEM))
			err = state_add_msg(st, nlh);
	}
	free(batch);
	return err;
}

/* Length of the "[ ... ]" token (or the rest of the line) starting at s. */
static int token_len(const char *s)
{
	const char *end = *s == '[' ? strchr(s, ']') : NULL;

	return end ? (int)(end - s + 1) : (int)strlen(s);
}

/* Point at the first differing expression instead of printing two whole rules. */
static void diff_describe(const char *what, size_t n, const char *have, const char *want, char *errbuf, size_t errlen)
{
	size_t i = 0, start = 0;
	unsigned expr = 0;

	while (have[i] && have[i] == want[i]) {
		if (have[i] == '[') {
			start = i;
			expr++;
		}
		i++;
	}
	/* The mismatch may start right after a complete, equal token: point at the next one. */
	if (expr > 0 && start + (size_t)token_len(have + start) <= i) {
		start = i;
		expr++;
	}
	if (expr == 0) {
		fw_errbuf_set(errbuf, errlen, "%s %zu differs: have %s, want %s", what, n, have, want);
		return;
	}
	fw_errbuf_set(errbuf, errlen, "%s %zu differs at expression %u: have %.*s, want %.*s", what, n, expr,
		   token_len(have + start), have + start, token_len(want + start), want + start);
}

static bool lists_diff(const char *what, const struct strlist *have, const struct strlist *want,
		       char *errbuf, size_t errlen)
{
	for (size_t i = 0; i < have->n || i < want->n; i++) {
		if (i >= have->n) {
			fw_errbuf_set(errbuf, errlen, "%s %zu missing: want %s", what, i + 1, want->v[i]);
			return true;
		}
		if (i >= want->n) {
			fw_errbuf_set(errbuf, errlen, "%s %zu unexpected: %s", what, i + 1, have->v[i]);
			return true;
		}
		if (strcmp(have->v[i], want->v[i]) != 0) {
			diff_describe(what, i + 1, have->v[i], want->v[i], errbuf, errlen);
			return true;
		}
	}
	return false;
}

/* Elements are a set: compare sorted, report the first missing one (that is what breaks a
 * workload's traffic), else the first unexpected one, with the counts of both. */
static bool elems_diff(struct strlist *have, struct strlist *want, char *errbuf, size_t errlen)
{
	const char *missing = NULL, *unexpected = NULL;
	size_t n_missing = 0, n_unexpected = 0, i = 0, j = 0;

	strlist_sort_unique(have);
	strlist_sort_unique(want);
	while (i < have->n || j < want->n) {
		int c = i >= have->n ? 1 : j >= want->n ? -1 : strcmp(have->v[i], want->v[j]);

		if (c == 0) {
			i++;
			j++;
		} else if (c > 0) {
			if (n_missing++ == 0)
				missing = want->v[j];
			j++;
		} else {
			if (n_unexpected++ == 0)
				unexpected = have->v[i];
			i++;
		}
	}
	if (missing)
		fw_errbuf_set(errbuf, errlen, "element missing: %s (%zu missing, %zu unexpected)", missing, n_missing,
			   n_unexpected);
	else if (unexpected)
		fw_errbuf_set(errbuf, errlen, "element unexpected: %s (%zu unexpected)", unexpected, n_unexpected);
	return missing || unexpected;
}

int fw_check(const struct fw_config *c, char *errbuf, size_t errlen)
{
	struct fw_state have = { 0 }, want = { 0 };
	int err;

	err = state_expected(c, &want);
	if (err < 0) {
		fw_errbuf_set(errbuf, errlen, "build expected tables %s: %s", FW_TABLE, strerror(-err));
		goto out;
	}
	err = state_read(&have);
	if (err < 0) {
		fw_errbuf_set(errbuf, errlen, "read tables inet and bridge %s: %s", FW_TABLE, strerror(-err));
		goto out;
	}
	err = FW_CHECK_DIFFERS;
	if (!have.inet.present) {
		fw_errbuf_set(errbuf, errlen, "table inet %s is missing", FW_TABLE);
		err = FW_CHECK_ABSENT;
	} else if (lists_diff("chain", &have.inet.chains, &want.inet.chains, errbuf, errlen) ||
		   lists_diff("rule", &have.inet.rules, &want.inet.rules, errbuf, errlen)) {
		/* errbuf says what */
	} else if (want.bridge.present && !have.bridge.present) {
		fw_errbuf_set(errbuf, errlen, "table bridge %s is missing", FW_TABLE);
	} else if (!want.bridge.present && have.bridge.present) {
		fw_errbuf_set(errbuf, errlen, "table bridge %s exists but antispoof is off", FW_TABLE);
	} else if (want.bridge.present &&
		   (lists_diff("bridge set", &have.bridge.sets, &want.bridge.sets, errbuf, errlen) ||
		    lists_diff("bridge chain", &have.bridge.chains, &want.bridge.chains, errbuf, errlen) ||
		    lists_diff("bridge rule", &have.bridge.rules, &want.bridge.rules, errbuf, errlen) ||
		    elems_diff(&have.elems, &want.elems, errbuf, errlen))) {
		/* errbuf says what */
	} else {
		fw_errbuf_set(errbuf, errlen, "%s in sync", want.bridge.present ? "tables inet and bridge shoal are" :
			   "table inet shoal is");
		err = FW_CHECK_IN_SYNC;
	}
out:
	state_clear(&have);
	state_clear(&want);
	return err;
}
