/* shoald --cleanup (netd/cleanup.h): the objects, the order and the rules of ownership are there.
 * This file observes, classifies (pure, unit-tested) and removes, one kind of object after the
 * other, and counts what it removed for the summary line. */
#include "netd/cleanup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>   /* before linux/netfilter.h: glibc then tolerates linux/in.h */
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "fw/forward.h"
#include "fw/fw.h"
#include "lib/cidr.h"
#include "lib/fileio.h"
#include "lib/log.h"
#include "lib/names.h"
#include "netd/records.h"
#include "overlay/nlsock.h"
#include "overlay/overlay.h"
#include "overlay/rtroute.h"
#include "overlay/vxlan.h"
#include "netd/lock.h"
#include "store/store.h"
#include "tc/cgbpf.h"
#include "tc/classify.h"

#define RECORD_FILE_MAX (64 * 1024)

/* ---- pure decisions ---- */

bool cleanup_is_host_veth_name(const char *name)
{
	size_t p = strlen(HOST_VETH_PREFIX);

	if (strncmp(name, HOST_VETH_PREFIX, p) != 0 || strlen(name) != p + 12)
		return false;
	for (const char *c = name + p; *c; c++)
		if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
			return false;
	return true;
}

/* "shoal." + 1..8 decimal digits: vxlan_name()'s output for some VNI. */
static bool is_vxlan_name(const char *name)
{
	size_t p = strlen(VXLAN_NAME_PREFIX), n = strlen(name);

	if (strncmp(name, VXLAN_NAME_PREFIX, p) != 0 || n == p || n > p + 8)
		return false;
	for (const char *c = name + p; *c; c++)
		if (*c < '0' || *c > '9')
			return false;
	return true;
}

static bool in_list(const char *name, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] && strcmp(list[i], name) == 0)
			return true;
	return false;
}

int cleanup_classify(const struct rtlink_info *links, size_t n, const char *bridge, const char *const *record_veths,
                     size_t n_records, enum cleanup_link_kind *ret_kinds, size_t *ret_foreign_port)
{
	struct record_attach rec;
	char err[RECORD_ERRLEN];
	size_t br = n, foreign = n;

	for (size_t i = 0; i < n; i++)
		if (strcmp(links[i].name, bridge) == 0 && strcmp(links[i].kind, "bridge") == 0)
			br = i;
	for (size_t i = 0; i < n; i++) {
		const struct rtlink_info *l = &links[i];
		enum cleanup_link_kind k = CLEANUP_LINK_FOREIGN;

		if (strcmp(l->kind, "veth") == 0 && cleanup_is_host_veth_name(l->name) &&
		    ((br < n && (int)l->master == links[br].ifindex) || record_alias_parse(l->alias, &rec, err) == 0 ||
		     in_list(l->name, record_veths, n_records)))
			k = CLEANUP_LINK_VETH;
		else if (strcmp(l->kind, "vxlan") == 0 && is_vxlan_name(l->name))
			k = CLEANUP_LINK_VXLAN;
		else if (strcmp(l->kind, "ifb") == 0 &&
		         (strcmp(l->name, CLASSIFY_IFB_IN) == 0 || strcmp(l->name, CLASSIFY_IFB_OUT) == 0))
			k = CLEANUP_LINK_IFB;
		else if (i == br)
			k = CLEANUP_LINK_BRIDGE;
		ret_kinds[i] = k;
	}
	/* A port that stays decides for the bridge: deleting the bridge would cut it off. */
	for (size_t i = 0; i < n && br < n; i++)
		if (i != br && (int)links[i].master == links[br].ifindex && ret_kinds[i] == CLEANUP_LINK_FOREIGN) {
			foreign = i;
			ret_kinds[br] = CLEANUP_LINK_BRIDGE_KEPT;
			break;
		}
	if (ret_foreign_port)
		*ret_foreign_port = foreign;
	return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

bool cleanup_state_file_ours(const char *dir, const char *name)
{
	/* Every writer goes through lib/fileio.h: "<name>.tmp.<pid>" is an interrupted write of ours. */
	if (!dir[0])
		return strcmp(name, "subnet.json") == 0 || strncmp(name, "subnet.json.tmp.", 16) == 0 ||
		       strcmp(name, "shoald.lock") == 0;
	if (strcmp(dir, "attachments") == 0 || strcmp(dir, "releasing") == 0)
		/* Records "<veth>.json", and what shoald set aside as unreadable: "<name>.corrupt". */
		return name[0] != '.' && (ends_with(name, ".json") || ends_with(name, ".corrupt") || strstr(name, ".json.tmp."));
	if (strcmp(dir, "pending-del") == 0)
		return name[0] != '.' && (ends_with(name, ".json") || strstr(name, ".json.tmp."));
	if (strcmp(dir, "cgroups") == 0)
		/* Cgroup quotas "<minor>.json", and those set aside as unreadable: "<minor>.json.bad". */
		return name[0] != '.' && (ends_with(name, ".json") || ends_with(name, ".json.bad") || strstr(name, ".json.tmp."));
	return false;
}

/* ---- the run ---- */

struct counts {
	unsigned veths, vxlans, routes, bridges, ifbs, classifiers, tables, forward_rules, files, dirs, socket, keys,
	         leases;
};

struct run {
	const struct netd_config *cfg;
	bool dry;
	struct nlsock *nl;
	struct counts done;
	unsigned failures;
	char kept[512];           /* what was kept on purpose, for the summary */
	char **record_veths;
	size_t n_records;
};

static void say(struct run *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct run *x, const char *fmt, ...)
{
	va_list ap;

	fputs(x->dry ? "would remove " : "removed ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

static void keep(struct run *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void keep(struct run *x, const char *fmt, ...)
{
	size_t len = strlen(x->kept);
	va_list ap;

	if (len + 3 >= sizeof(x->kept))
		return;
	if (len)
		len += (size_t)snprintf(x->kept + len, sizeof(x->kept) - len, "; ");
	va_start(ap, fmt);
	vsnprintf(x->kept + len, sizeof(x->kept) - len, fmt, ap);
	va_end(ap);
}

/* ---- locks: the same two shoald takes (netd/lock.h); cleanup holds them only to prove no shoald
 * runs, and never creates the lock file. ---- */

static int take_locks(const struct netd_config *cfg, int *ret_dir_fd, int *ret_ns_fd)
{
	int r;

	r = lock_state_dir(cfg->state_dir, false, ret_dir_fd);
	if (r < 0) {
		if (r == -EWOULDBLOCK)
			log_error("shoald is running with state directory %s: stop it first (cleanup changes nothing)",
			          cfg->state_dir);
		else
			log_error("failed to lock %s/shoald.lock: %s", cfg->state_dir, strerror(-r));
		return r == -EWOULDBLOCK ? -EBUSY : r;
	}
	r = lock_netns(ret_ns_fd);
	if (r < 0) {
		if (r == -EADDRINUSE)
			log_error("shoald is running in this network namespace: stop it first (cleanup changes nothing)");
		else
			log_error("failed to take the per-namespace lock @%s: %s", LOCK_NETNS_NAME, strerror(-r));
		if (*ret_dir_fd >= 0)
			close(*ret_dir_fd);
		return r == -EADDRINUSE ? -EBUSY : r;
	}
	return 0;
}

/* ---- attachment records: which veths they name ---- */

static int records_read_dir(struct run *x, const char *sub)
{
	char dir[300];
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/%s", x->cfg->state_dir, sub);
	d = opendir(dir);
	if (!d)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
	while ((e = readdir(d))) {
		char path[600], err[RECORD_ERRLEN], *data = NULL, **v;
		struct record_attach rec;
		size_t len;

		if (e->d_name[0] == '.' || !ends_with(e->d_name, ".json"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (file_read_all(path, RECORD_FILE_MAX, &data, &len) < 0)
			continue;
		if (record_attach_parse(data, len, &rec, err) == 0) {
			v = realloc(x->record_veths, (x->n_records + 1) * sizeof(*v));
			if (v) {
				x->record_veths = v;
				v[x->n_records] = strdup(rec.host_veth);
				if (v[x->n_records])
					x->n_records++;
			}
		}
		free(data);
	}
	closedir(d);
	return 0;
}

/* ---- links ---- */

struct link_list {
	struct rtlink_info *v;
	size_t n, cap;
	bool oom;
};

static void link_push(const struct rtlink_info *l, void *data)
{
	struct link_list *ll = data;

	if (ll->oom)
		return;
	if (ll->n == ll->cap) {
		size_t cap = ll->cap ? ll->cap * 2 : 64;
		struct rtlink_info *v = realloc(ll->v, cap * sizeof(*v));

		if (!v) {
			ll->oom = true;   /* a partial list must not pass for a complete one */
			return;
		}
		ll->v = v;
		ll->cap = cap;
	}
	ll->v[ll->n++] = *l;
}

/* Dump and classify.  *ret_kinds is malloc'd (n entries). */
static int links_observe(struct run *x, struct link_list *ll, enum cleanup_link_kind **ret_kinds, size_t *ret_foreign)
{
	enum cleanup_link_kind *kinds;
	int r;

	*ll = (struct link_list){ 0 };
	r = overlay_links_foreach(x->nl, link_push, ll);
	if (r == 0 && ll->oom)
		r = -ENOMEM;
	if (r < 0) {
		log_error("failed to list network interfaces: %s", strerror(-r));
		free(ll->v);
		*ll = (struct link_list){ 0 };
		return r;
	}
	kinds = calloc(ll->n + 1, sizeof(*kinds));
	if (!kinds) {
		free(ll->v);
		*ll = (struct link_list){ 0 };
		return -ENOMEM;
	}
	cleanup_classify(ll->v, ll->n, x->cfg->bridge, (const char *const *)x->record_veths, x->n_records, kinds,
	                 ret_foreign);
	*ret_kinds = kinds;
	return 0;
}

static int link_del(struct run *x, const struct rtlink_info *l)
{
	char buf[256] = { 0 }, kerr[NLSOCK_ERRLEN] = "";
	unsigned failed;
	int len, r;

	len = rtlink_build_del(buf, sizeof(buf), nlsock_next_seq(x->nl), l->ifindex, NULL);
	if (len < 0)
		return len;
	r = nlsock_transact(x->nl, buf, (size_t)len, ((struct nlmsghdr *)buf)->nlmsg_seq, 1, &failed, kerr);
	if (r < 0 && r != -ENODEV) {
		log_error("failed to delete %s %s: %s%s%s%s", l->kind, l->name, strerror(-r), kerr[0] ? " (kernel: " : "",
		          kerr, kerr[0] ? ")" : "");
		x->failures++;
	}
	return r;
}

static void describe_veth(const struct rtlink_info *l, char *out, size_t len)
{
	struct record_attach rec;
	char err[RECORD_ERRLEN], ip[IP4_STRLEN];

	if (record_alias_parse(l->alias, &rec, err) == 0)
		snprintf(out, len, " (container %.64s %s, %s)", rec.container_id, rec.ifname, ip4_format(rec.addr, ip));
	else
		out[0] = '\0';
}

/* Remove every link of one kind from a classified list; counts into *count. */
static void links_remove(struct run *x, const struct link_list *ll, const enum cleanup_link_kind *kinds,
                         enum cleanup_link_kind kind, const char *what, unsigned *count)
{
	for (size_t i = 0; i < ll->n; i++) {
		char detail[400] = "";

		if (kinds[i] != kind)
			continue;
		if (kind == CLEANUP_LINK_VETH)
			describe_veth(&ll->v[i], detail, sizeof(detail));
		if (!x->dry && link_del(x, &ll->v[i]) < 0)
			continue;
		say(x, "%s %s%s", what, ll->v[i].name, detail);
		(*count)++;
	}
}

/* ---- routes of protocol shoal ---- */

struct route_list {
	struct rtroute *v;
	size_t n, cap;
	bool oom;
};

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	struct route_list *rl = data;
	struct rtroute r;

	if (rtroute_parse(nlh, &r) < 0 || r.protocol != RTROUTE_PROTO_SHOAL || r.table != RT_TABLE_MAIN)
		return MNL_CB_OK;
	if (rl->n == rl->cap) {
		size_t cap = rl->cap ? rl->cap * 2 : 32;
		struct rtroute *v = realloc(rl->v, cap * sizeof(*v));

		if (!v) {
			rl->oom = true;
			return MNL_CB_STOP;
		}
		rl->v = v;
		rl->cap = cap;
	}
	rl->v[rl->n++] = r;
	return MNL_CB_OK;
}

static void route_reset(void *data)
{
	((struct route_list *)data)->n = 0;
}

static void routes_remove(struct run *x)
{
	struct route_list rl = { 0 };
	char buf[256] = { 0 }, kerr[NLSOCK_ERRLEN] = "", dst[CIDR4_STRLEN], gw[IP4_STRLEN];
	int r;

	r = rtroute_build_dump_proto(buf, sizeof(buf), nlsock_next_seq(x->nl), RTROUTE_PROTO_SHOAL);
	if (r >= 0)
		r = nlsock_query(x->nl, buf, route_cb, route_reset, &rl, kerr);
	if (r >= 0 && rl.oom)
		r = -ENOMEM;
	if (r < 0) {
		log_error("failed to list routes of protocol %d: %s", RTROUTE_PROTO_SHOAL, strerror(-r));
		x->failures++;
		free(rl.v);
		return;
	}
	for (size_t i = 0; i < rl.n; i++) {
		struct rtroute *rt = &rl.v[i];
		struct cidr4 c = { .addr = rt->dst, .len = rt->dst_len };
		unsigned failed;
		int len;

		cidr4_format(&c, dst);
		if (!x->dry) {
			/* The kernel matches a delete by prefix, priority, scope (from the gateway), protocol
			 * and nexthop: send the route as it was dumped, without its metrics. */
			rt->mtu = 0;
			len = rtroute_build(buf, sizeof(buf), nlsock_next_seq(x->nl), RTM_DELROUTE, rt);
			r = len < 0 ? len : nlsock_transact(x->nl, buf, (size_t)len, ((struct nlmsghdr *)buf)->nlmsg_seq, 1,
			                                    &failed, kerr);
			if (r == -ESRCH)
				continue;   /* gone since the dump */
			if (r < 0) {
				log_error("failed to delete route %s proto %d: %s", dst, RTROUTE_PROTO_SHOAL, strerror(-r));
				x->failures++;
				continue;
			}
		}
		if (rt->gw)
			say(x, "route %s via %s proto %d", dst, ip4_format(rt->gw, gw), RTROUTE_PROTO_SHOAL);
		else
			say(x, "route %s proto %d", dst, RTROUTE_PROTO_SHOAL);
		x->done.routes++;
	}
	free(rl.v);
}

/* ---- nftables ---- */

/* Whether table FAMILY shoal exists: one NFT_MSG_GETTABLE, answered by the table or ENOENT. */
static int nft_table_exists(int family, bool *ret)
{
	struct timeval tv = { .tv_sec = NLSOCK_TIMEOUT_MS / 1000 };
	char *buf = malloc(MNL_SOCKET_BUFFER_SIZE);
	struct nftnl_table *t = nftnl_table_alloc();
	struct mnl_socket *nl = NULL;
	struct nlmsghdr *nlh;
	uint32_t seq = (uint32_t)time(NULL), portid;
	int r = -ENOMEM;

	if (!buf || !t)
		goto out;
	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		if (!nl && r == -EPROTONOSUPPORT) {   /* no nfnetlink: no table of anyone's */
			*ret = false;
			r = 0;
		}
		goto out;
	}
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	portid = mnl_socket_get_portid(nl);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, FW_TABLE);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, (uint16_t)family, NLM_F_ACK, seq);
	nftnl_table_nlmsg_build_payload(nlh, t);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		r = -errno;
		goto out;
	}
	do {
		ssize_t n = mnl_socket_recvfrom(nl, buf, MNL_SOCKET_BUFFER_SIZE);

		if (n < 0) {
			r = errno == EAGAIN ? -ETIMEDOUT : -errno;
			goto out;
		}
		r = mnl_cb_run(buf, (size_t)n, seq, portid, NULL, NULL);
	} while (r > 0);
	if (r < 0) {
		r = -errno;
		/* No such table, or no nf_tables in this kernel at all: nothing of ours either way. */
		if (r == -ENOENT || r == -EPROTONOSUPPORT || r == -EOPNOTSUPP || r == -EAFNOSUPPORT) {
			*ret = false;
			r = 0;
		}
		goto out;
	}
	*ret = true;
	r = 0;
out:
	if (nl)
		mnl_socket_close(nl);
	nftnl_table_free(t);
	free(buf);
	return r;
}

static void nft_remove(struct run *x)
{
	static const struct { int family; const char *name; } tables[] = {
		{ NFPROTO_INET, "inet" }, { NFPROTO_BRIDGE, "bridge" },
	};
	bool present[2] = { false, false };
	char err[256];
	int r;

	for (size_t i = 0; i < 2; i++) {
		r = nft_table_exists(tables[i].family, &present[i]);
		if (r < 0) {
			log_error("failed to look for table %s %s: %s", tables[i].name, FW_TABLE, strerror(-r));
			x->failures++;
			return;
		}
	}
	if (!present[0] && !present[1])
		return;
	/* Both tables in one batch (fw_remove): the firewall never has half of shoal's rules. */
	if (!x->dry && fw_remove(err, sizeof(err)) < 0) {
		log_error("failed to delete the nftables tables inet and bridge %s: %s", FW_TABLE, err);
		x->failures++;
		return;
	}
	for (size_t i = 0; i < 2; i++)
		if (present[i]) {
			say(x, "nftables table %s %s", tables[i].name, FW_TABLE);
			x->done.tables++;
		}
}

static void forward_remove(struct run *x)
{
	struct fw_forward_state st;
	char err[256];
	int r;

	r = fw_forward_probe(&st, err, sizeof(err));
	if (r < 0) {
		/* No nfnetlink at all: nobody, us included, can have rules there. */
		if (r == -EPROTONOSUPPORT || r == -EAFNOSUPPORT)
			return;
		log_error("failed to read ip filter FORWARD: %s", err);
		x->failures++;
		return;
	}
	if (!st.ours)
		return;
	if (!x->dry && fw_forward_remove(NULL, err, sizeof(err)) < 0) {
		log_error("failed to remove shoal's rules from ip filter FORWARD: %s", err);
		x->failures++;
		return;
	}
	say(x, "%u accept rule%s (\"%s\") from ip filter FORWARD", st.ours, st.ours == 1 ? "" : "s", FW_FORWARD_COMMENT);
	x->done.forward_rules += st.ours;
}

/* ---- the cgroup classifiers (netd/cgroups.c) on whichever device carries them ---- */

struct uplink_found {
	bool hook[2];
};

static int uplink_found_cb(const struct nlmsghdr *nlh, void *data)
{
	struct uplink_found *f = data;
	struct classify_uplink_filter u;

	/* Ours by priority and program name: someone else's filter at that priority is left alone. */
	if (classify_parse_uplink_filter(nlh, &u) == 0 && strcmp(u.prog_name, cgbpf_prog_name(u.ingress_hook)) == 0)
		f->hook[u.ingress_hook] = true;
	return MNL_CB_OK;
}

/* Before the IFBs go: a mirred redirect to a deleted IFB drops every packet it takes. */
static void classifiers_remove(struct run *x, const struct link_list *ll)
{
	for (size_t i = 0; i < ll->n; i++)
		for (int hook = 0; hook < 2; hook++) {
			char buf[256], kerr[NLSOCK_ERRLEN];
			struct uplink_found f = { { false, false } };
			unsigned failed;
			int len;

			len = tcmsg_build_filter_dump(buf, sizeof(buf), 0, ll->v[i].ifindex,
			                              hook ? TCMSG_CLSACT_INGRESS : TCMSG_CLSACT_EGRESS);
			if (len < 0 || nlsock_query(x->nl, buf, uplink_found_cb, NULL, &f, kerr) < 0 || !f.hook[hook])
				continue;
			say(x, "cgroup classifier on %s (%s)", ll->v[i].name, hook ? "ingress" : "egress");
			x->done.classifiers++;
			if (x->dry)
				continue;
			len = classify_build_uplink(buf, sizeof(buf), nlsock_next_seq(x->nl), TCMSG_DEL, ll->v[i].ifindex, hook, -1,
			                            NULL, 0);
			if (len > 0 && nlsock_transact(x->nl, buf, (size_t)len, ((struct nlmsghdr *)buf)->nlmsg_seq, 1, &failed,
			                               kerr) < 0) {
				log_error("failed to remove the cgroup classifier on %s: %s", ll->v[i].name, kerr);
				x->failures++;
			}
		}
}

/* ---- the state directory ---- */

static void file_remove(struct run *x, const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0 || S_ISDIR(st.st_mode))
		return;
	if (!x->dry && unlink(path) < 0) {
		if (errno == ENOENT)
			return;
		log_error("failed to remove %s: %s", path, strerror(errno));
		x->failures++;
		return;
	}
	say(x, "file %s", path);
	x->done.files++;
}

/* rmdir when empty; a directory with foreign files is kept and named. */
static void dir_remove(struct run *x, const char *path, const char *foreign, bool would_be_empty)
{
	if (x->dry) {
		if (would_be_empty) {
			say(x, "directory %s", path);
			x->done.dirs++;
		} else {
			keep(x, "%s (holds %s)", path, foreign);
		}
		return;
	}
	if (rmdir(path) == 0) {
		say(x, "directory %s", path);
		x->done.dirs++;
	} else if (errno == ENOTEMPTY || errno == EEXIST) {
		log_warn("keeping %s: it holds %s, which shoal did not write", path, foreign);
		keep(x, "%s (holds %s)", path, foreign);
	} else if (errno != ENOENT) {
		log_error("failed to remove directory %s: %s", path, strerror(errno));
		x->failures++;
	}
}

/* Our files in dir (sub = "" for stateDir itself); *ret_foreign gets the first other entry's name.
 * Returns whether nothing else is left (or would be). */
static bool state_dir_clean(struct run *x, const char *dir, const char *sub, char *ret_foreign, size_t flen,
                            const char *const *skip, size_t n_skip)
{
	struct dirent *e;
	bool empty = true;
	DIR *d = opendir(dir);

	if (!d) {
		if (errno != ENOENT && errno != ENOTDIR) {
			log_error("failed to read %s: %s", dir, strerror(errno));
			x->failures++;
		}
		return true;
	}
	while ((e = readdir(d))) {
		char path[600];
		struct stat st;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 || in_list(e->d_name, skip, n_skip))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		/* The lock file goes last: it is what proves no shoald runs here meanwhile. */
		if (!sub[0] && strcmp(e->d_name, "shoald.lock") == 0)
			continue;
		/* A directory that carries one of our names is not one of our files: it stays. */
		if (cleanup_state_file_ours(sub, e->d_name) && lstat(path, &st) == 0 && !S_ISDIR(st.st_mode)) {
			file_remove(x, path);
			continue;
		}
		if (empty)
			snprintf(ret_foreign, flen, "%s", e->d_name);
		empty = false;
	}
	closedir(d);
	return empty;
}

/* A mount point is someone's (a volume, a tmpfs): its contents may go, the directory stays. */
static bool is_mount_point(const char *path)
{
	char parent[300];
	struct stat a, b;

	snprintf(parent, sizeof(parent), "%s/..", path);
	if (stat(path, &a) < 0 || stat(parent, &b) < 0)
		return false;
	if (a.st_dev != b.st_dev)
		return true;
#ifdef STATX_ATTR_MOUNT_ROOT
	{
		struct statx sx;

		/* A bind mount of the same file system has the parent's st_dev. */
		if (statx(AT_FDCWD, path, 0, 0, &sx) == 0 && (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
		    (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT))
			return true;
	}
#endif
	return false;
}

static void state_remove(struct run *x)
{
	static const char *const subs[] = { "attachments", "releasing", "pending-del", "cgroups" };
	const size_t nsubs = sizeof(subs) / sizeof(subs[0]);
	const char *sd = x->cfg->state_dir;
	const char *skip[sizeof(subs) / sizeof(subs[0])];
	char path[400], foreign[300] = "", top[256] = "";
	bool empty = true;
	struct stat st;

	if (stat(sd, &st) < 0 || !S_ISDIR(st.st_mode))
		return;
	for (size_t i = 0; i < nsubs; i++) {
		char f[256] = "";
		bool e;

		snprintf(path, sizeof(path), "%s/%s", sd, subs[i]);
		if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		e = state_dir_clean(x, path, subs[i], f, sizeof(f), NULL, 0);
		dir_remove(x, path, f, e);
		if (!e && !foreign[0])
			snprintf(foreign, sizeof(foreign), "%s/%s", subs[i], f);
		empty = empty && e;
	}
	/* The subdirectories were dealt with above (in a dry run they still exist). */
	for (size_t i = 0; i < nsubs; i++)
		skip[i] = subs[i];
	if (!state_dir_clean(x, sd, "", top, sizeof(top), skip, nsubs)) {
		empty = false;
		if (!foreign[0])
			snprintf(foreign, sizeof(foreign), "%s", top);
	}
	snprintf(path, sizeof(path), "%s/shoald.lock", sd);
	file_remove(x, path);
	if (is_mount_point(sd)) {
		keep(x, "%s (a mount point; emptied of shoal's files)", sd);
		return;
	}
	dir_remove(x, sd, foreign[0] ? foreign : "other files", empty);
}

/* A socket file nobody answers on is shoald's leftover; one somebody serves is not ours to touch. */
static void socket_remove(struct run *x)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = x->cfg->socket;
	struct stat st;
	int fd, r;

	if (lstat(path, &st) < 0 || !S_ISSOCK(st.st_mode) || strlen(path) >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	if (r == 0) {
		log_warn("keeping socket %s: something serves on it", path);
		keep(x, "socket %s (in use)", path);
		return;
	}
	if (!x->dry && unlink(path) < 0 && errno != ENOENT) {
		log_error("failed to remove socket %s: %s", path, strerror(errno));
		x->failures++;
		return;
	}
	say(x, "socket %s", path);
	x->done.socket++;
}

/* ---- the store ---- */

static void store_remove(struct run *x)
{
	const struct netd_config *c = x->cfg;
	struct store_tls tls = { .ca = c->store_ca, .cert = c->store_cert, .key = c->store_key };
	struct store *s = NULL;
	struct store_kvs kvs;
	struct stat st;
	int r;

	/* Opening a file: store creates its directory: a store that is not there holds nothing. */
	if (strncmp(c->store, "file:", 5) == 0 && (stat(c->store + 5, &st) < 0 || !S_ISDIR(st.st_mode)))
		return;
	r = store_open(NULL, c->store, c->store_prefix, &tls, &s);
	if (r == 0)
		r = store_list(s, "subnets/", &kvs);
	if (r < 0) {
		log_warn("store %s not reachable (%s): this node's subnet key stays until its lease expires (leaseTTL, "
		         "%llds)", c->store, strerror(-r), (long long)c->lease_ttl);
		keep(x, "the subnet key in store %s (not reachable; expires with its lease)", c->store);
		store_free(s);
		return;
	}
	for (size_t i = 0; i < kvs.n; i++) {
		const struct store_kv *kv = &kvs.kvs[i];
		struct record_subnet rec;
		char err[RECORD_ERRLEN];

		if (record_subnet_parse(kv->value, kv->value_len, &rec, err) < 0 || strcmp(rec.node, c->node) != 0)
			continue;
		if (!x->dry) {
			/* Compare-and-delete: a key another node took over since the listing stays. */
			r = store_delete(s, kv->key, kv->mod_rev);
			if (r == -ESTALE || r == -ENOENT)
				continue;
			if (r < 0) {
				log_error("failed to delete %s from store %s: %s", kv->key, c->store, strerror(-r));
				x->failures++;
				continue;
			}
		}
		say(x, "store key %s (node %s)", kv->key, rec.node);
		x->done.keys++;
		if (kv->lease <= 0)
			continue;
		if (!x->dry) {
			r = store_lease_revoke(s, kv->lease);
			if (r == -ENOENT)
				continue;
			if (r < 0) {
				log_error("failed to revoke lease %lld in store %s: %s", (long long)kv->lease, c->store,
				          strerror(-r));
				x->failures++;
				continue;
			}
		}
		say(x, "store lease %lld", (long long)kv->lease);
		x->done.leases++;
	}
	store_kvs_done(&kvs);
	store_free(s);
}

/* ---- summary ---- */

static void summary(const struct run *x)
{
	const struct counts *d = &x->done;
	const struct { unsigned n; const char *one, *many; } parts[] = {
		{ d->veths, "veth", "veths" }, { d->routes, "route", "routes" },
		{ d->vxlans, "VXLAN device", "VXLAN devices" }, { d->bridges, "bridge", "bridges" },
		{ d->ifbs, "IFB", "IFBs" }, { d->classifiers, "cgroup classifier", "cgroup classifiers" },
		{ d->tables, "nftables table", "nftables tables" },
		{ d->forward_rules, "FORWARD rule", "FORWARD rules" }, { d->files, "state file", "state files" },
		{ d->dirs, "directory", "directories" }, { d->socket, "socket", "sockets" },
		{ d->keys, "store key", "store keys" }, { d->leases, "lease", "leases" },
	};
	char line[1024];
	size_t len = 0;

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		if (parts[i].n && len < sizeof(line))
			len += (size_t)snprintf(line + len, sizeof(line) - len, "%s%u %s", len ? ", " : "", parts[i].n,
			                        parts[i].n == 1 ? parts[i].one : parts[i].many);
	printf("shoald --cleanup%s: ", x->dry ? " --dry-run" : "");
	if (!len)
		printf("nothing of shoal's %s on this host", x->dry ? "to remove" : "is left");
	else
		printf("%s %s", x->dry ? "would remove" : "removed", line);
	if (x->kept[0])
		printf("; kept %s", x->kept);
	if (x->failures)
		printf("; %u failed (see above)", x->failures);
	printf("\n");
	fflush(stdout);
}

int cleanup_run(const struct netd_config *cfg, bool dry_run)
{
	struct run x = { .cfg = cfg, .dry = dry_run };
	struct link_list ll = { 0 };
	enum cleanup_link_kind *kinds = NULL;
	int dir_fd = -1, ns_fd = -1, r;
	size_t foreign;

	r = take_locks(cfg, &dir_fd, &ns_fd);
	if (r < 0)
		return r;
	r = nlsock_open(-1, &x.nl);
	if (r < 0) {
		log_error("failed to open a netlink socket: %s", strerror(-r));
		x.failures++;
		goto out;
	}
	/* Records name veths a lost alias or bridge would hide; unreadable ones just name none. */
	if (records_read_dir(&x, "attachments") < 0 || records_read_dir(&x, "releasing") < 0)
		log_warn("could not read every attachment record in %s; veths are found by bridge and alias", cfg->state_dir);

	/* 1. Workload veths first: containers lose their interface whole, while the bridge, routes and
	 * tables behind it still stand. */
	r = links_observe(&x, &ll, &kinds, &foreign);
	if (r < 0) {
		x.failures++;
		goto out;
	}
	links_remove(&x, &ll, kinds, CLEANUP_LINK_VETH, "veth", &x.done.veths);
	/* 2. Routes to peers (direct ones via the underlay do not go with the VXLAN device), then it. */
	routes_remove(&x);
	if (!dry_run) {
		/* Look again: what is left on the bridge now decides for it. */
		free(kinds);
		free(ll.v);
		kinds = NULL;
		ll = (struct link_list){ 0 };
		r = links_observe(&x, &ll, &kinds, &foreign);
		if (r < 0) {
			x.failures++;
			goto out;
		}
	}
	links_remove(&x, &ll, kinds, CLEANUP_LINK_VXLAN, "VXLAN device", &x.done.vxlans);
	/* 3. The bridge, unless a port that is not ours hangs off it. */
	for (size_t i = 0; i < ll.n; i++)
		if (kinds[i] == CLEANUP_LINK_BRIDGE_KEPT) {
			log_warn("keeping bridge %s: %s (not shoal's) is a port of it; delete or move it, then run --cleanup "
			         "again", ll.v[i].name, ll.v[foreign].name);
			keep(&x, "bridge %s (foreign port %s)", ll.v[i].name, ll.v[foreign].name);
		}
	links_remove(&x, &ll, kinds, CLEANUP_LINK_BRIDGE, "bridge", &x.done.bridges);
	classifiers_remove(&x, &ll);
	links_remove(&x, &ll, kinds, CLEANUP_LINK_IFB, "IFB", &x.done.ifbs);
	/* 4. Firewall: our tables, our FORWARD accepts. */
	nft_remove(&x);
	forward_remove(&x);
	/* 5. Local state, then the cluster's record of this node. */
	socket_remove(&x);
	state_remove(&x);
	store_remove(&x);
	r = x.failures ? -EIO : 0;
out:
	summary(&x);
	free(kinds);
	free(ll.v);
	for (size_t i = 0; i < x.n_records; i++)
		free(x.record_veths[i]);
	free(x.record_veths);
	nlsock_free(x.nl);
	if (dir_fd >= 0)
		close(dir_fd);
	if (ns_fd >= 0)
		close(ns_fd);
	return r;
}
