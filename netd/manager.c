/* Lifecycle: the locks that make shoald the only one of its kind, the start order, the timers,
 * reload and stop.  The state itself lives in subnet.c, attach.c and reconcile.c. */
#include "netd/manager.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ipam/ipam.h"
#include "lib/fileio.h"
#include "lib/log.h"
#include "netd/api.h"
#include "netd/cgroups.h"
#include "netd/handlers.h"
#include "netd/lock.h"
#include "netd/metrics.h"
#include "netd/netd.h"
#include "netd/peers.h"
#include "netd/policies.h"
#include "netd/reaper.h"
#include "overlay/host.h"
#include "overlay/nlsock.h"
#include "store/store.h"

void manager_node_mac(const struct manager *m, const char *salt, uint8_t mac[6])
{
	uint64_t h = names_hash(salt, strlen(salt), names_hash(m->cfg.node, strlen(m->cfg.node), 0));

	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)(h >> (8 * i));
	mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02);   /* unicast, locally administered */
}

/* Both locks come before anything touches the store or the kernel: a second shoald would take over
 * our subnet lease, rewrite our records, and treat our veths as orphans. */
static int take_locks(struct manager *m)
{
	struct stat st;
	int r;

	r = lock_state_dir(m->cfg.state_dir, true, &m->lock_fd);
	if (r < 0) {
		if (r == -EWOULDBLOCK)
			log_error("another shoald is running with state directory %s", m->cfg.state_dir);
		else
			log_error("failed to lock %s/shoald.lock: %s", m->cfg.state_dir, strerror(-r));
		return r;
	}
	r = lock_netns(&m->ns_lock_fd);
	if (r < 0) {
		if (r == -EADDRINUSE)
			log_error("another shoald is running in this network namespace; one shoald per network "
			          "namespace (it owns the bridge and every workload's veth here)");
		else
			log_error("failed to take the per-namespace lock @%s: %s", LOCK_NETNS_NAME, strerror(-r));
		return r;
	}
	/* Our own namespace, by identity: a container's namespace must never be it. */
	if (stat("/proc/self/ns/net", &st) < 0) {
		r = -errno;
		log_error("failed to identify this network namespace (/proc/self/ns/net): %s", strerror(-r));
		return r;
	}
	m->self_ns_dev = st.st_dev;
	m->self_ns_ino = st.st_ino;
	return 0;
}

/* The MTU this node's pods get.  Without "mtu" in the config it is derived from the underlay (minus
 * the VXLAN overhead of its family: 50 bytes over IPv4, 70 over IPv6), but a node keeps the MTU its
 * pods already have: a restart after the underlay's MTU changed must not give new pods another MTU
 * than the running ones (large packets between them would vanish).  Only an operator's explicit
 * "mtu" changes it. */
static uint32_t pick_mtu(struct manager *m)
{
	char err[OVERLAY_ERRLEN];
	uint32_t mtu, kept = m->mtu_remembered;
	int family = peers_underlay_family(m);

	if (m->cfg.mtu) {
		if (kept && kept != m->cfg.mtu)
			log_warn("MTU %u set by the config (pods made before have %u; CHECK reports them until they are "
			         "re-created)", m->cfg.mtu, kept);
		return m->cfg.mtu;
	}
	mtu = peers_underlay_mtu(m);
	if (!mtu && overlay_underlay_mtu(m->nl, &mtu, &family, err) < 0) {
		log_warn("no underlay MTU (%s); assuming 1500 (set \"mtu\" in the config)", err);
		mtu = 1500;
		family = AF_INET;
	}
	mtu -= family == AF_INET6 ? VXLAN_OVERHEAD_IPV6 : VXLAN_OVERHEAD_IPV4;
	if (mtu < 576 || mtu > 65535) {
		uint32_t fallback = 1500 - (family == AF_INET6 ? VXLAN_OVERHEAD_IPV6 : VXLAN_OVERHEAD_IPV4);

		log_warn("derived MTU %u is implausible; using %u (set \"mtu\" in the config)", mtu, fallback);
		mtu = fallback;
	}
	/* A larger underlay MTU: keep the pods' (pods with two MTUs lose large packets between them).
	 * A smaller one (or an IPv6 underlay replacing an IPv4 one): the old MTU cannot cross it any
	 * more (the kernel refuses it on the VXLAN device), so the new one wins and the old pods are
	 * named as needing re-creation. */
	if (kept && kept < mtu) {
		log_warn("the underlay now gives pods an MTU of %u, but this node's pods have %u: keeping %u (set "
		         "\"mtu\": %u in the config and re-create the pods to change it)", mtu, kept, kept, mtu);
		return kept;
	}
	if (kept && kept > mtu)
		log_error("the underlay now gives pods an MTU of %u, below the %u this node's pods have: new pods get %u; "
		          "re-create the pods made before (their large packets to other hosts are lost)", mtu, kept, mtu);
	return mtu;
}

static void on_reconcile_timer(uv_timer_t *t)
{
	reconcile_run(t->data, false);
	peers_reconcile(t->data);
	policies_reconcile(t->data);
}

int manager_new(uv_loop_t *loop, const struct netd_config *cfg, struct manager **ret)
{
	struct manager *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	m->loop = loop;
	m->cfg = *cfg;
	m->started = time(NULL);
	m->lock_fd = -1;
	m->ns_lock_fd = -1;
	snprintf(m->dir_attach, sizeof(m->dir_attach), "%s/attachments", cfg->state_dir);
	snprintf(m->dir_releasing, sizeof(m->dir_releasing), "%s/releasing", cfg->state_dir);
	snprintf(m->dir_pending, sizeof(m->dir_pending), "%s/pending-del", cfg->state_dir);
	snprintf(m->subnet_file, sizeof(m->subnet_file), "%s/subnet.json", cfg->state_dir);
	*ret = m;
	return 0;
}

int manager_start(struct manager *m)
{
	const char *dirs[] = { m->dir_attach, m->dir_releasing, m->dir_pending };
	char err[API_ERRLEN];
	int r;

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		r = mkdir_p(dirs[i], 0755);
		if (r < 0) {
			log_error("failed to create state directory %s: %s", dirs[i], strerror(-r));
			return r;
		}
	}
	r = take_locks(m);
	if (r < 0)
		return r;
	r = nlsock_open(-1, &m->nl);
	if (r < 0) {
		log_error("failed to open a netlink socket: %s", strerror(-r));
		return r;
	}
	/* The underlay's address goes into our subnet record: found before the claim. */
	r = peers_underlay(m);
	if (r < 0)
		return r;
	r = subnet_start(m);
	if (r < 0)
		return r;
	r = ipam_pool_new(&m->subnet, &m->pool);
	if (r < 0) {
		log_error("subnet /%u is too small for workloads", m->subnet.len);
		return r;
	}
	m->mtu = pick_mtu(m);
	if (m->mtu != m->mtu_remembered && subnet_save(m) < 0)
		return -EIO;
	r = attach_bridge_ensure(m, true);
	if (r < 0)
		return r;
	{
		char bwerr[NETD_ERRLEN];

		r = bandwidth_start(m, bwerr);
		if (r < 0) {
			log_error("bandwidth: %s", bwerr);
			return r;
		}
	}
	r = cgroups_start(m);
	if (r < 0)
		return r;
	r = peers_start(m);
	if (r < 0)
		return r;
	/* Before restore: a restored workload gets its policy's share at once. */
	r = policies_start(m);
	if (r < 0)
		return r;
	r = reaper_start(m->loop, attach_on_reaped, m, &m->reaper);
	if (r < 0) {
		log_error("failed to start the deletion worker: %s", strerror(-r));
		return r;
	}
	r = attach_restore(m);
	if (r < 0)
		return r;
	r = attach_fw_ensure(m, true);
	if (r < 0)
		return r;
	uv_timer_init(m->loop, &m->reconcile_timer);
	m->reconcile_timer.data = m;
	uv_timer_start(&m->reconcile_timer, on_reconcile_timer, (uint64_t)m->cfg.reconcile_interval * 1000,
	               (uint64_t)m->cfg.reconcile_interval * 1000);
	r = api_start(m->loop, m->cfg.socket, m->cfg.socket_group, handlers_dispatch, m, &m->api, err);
	if (r < 0) {
		log_error("failed to serve the API: %s", err);
		return r;
	}
	r = metrics_start(m);
	if (r < 0)
		return r;
	log_info("shoald %s ready on %s (node %s)", SHOAL_VERSION, m->cfg.socket, m->cfg.node);
	return 0;
}

void manager_reload(struct manager *m, const struct netd_config *cfg)
{
	if (cfg->log_level != m->cfg.log_level) {
		log_set_level((enum log_level)cfg->log_level);
		m->cfg.log_level = cfg->log_level;
		log_info("log level changed");
	}
	if (strcmp(cfg->node, m->cfg.node) || strcmp(cfg->store, m->cfg.store) || strcmp(cfg->bridge, m->cfg.bridge) ||
	    cfg->network.addr != m->cfg.network.addr || cfg->network.len != m->cfg.network.len ||
	    cfg->subnet_len != m->cfg.subnet_len || strcmp(cfg->state_dir, m->cfg.state_dir) ||
	    strcmp(cfg->socket, m->cfg.socket) || strcmp(cfg->socket_group, m->cfg.socket_group) ||
	    strcmp(cfg->store_prefix, m->cfg.store_prefix) || strcmp(cfg->store_ca, m->cfg.store_ca) ||
	    strcmp(cfg->store_cert, m->cfg.store_cert) || strcmp(cfg->store_key, m->cfg.store_key) ||
	    strcmp(cfg->underlay, m->cfg.underlay) || cfg->direct_routing != m->cfg.direct_routing ||
	    cfg->vni != m->cfg.vni || cfg->vxlan_port != m->cfg.vxlan_port || cfg->mtu != m->cfg.mtu ||
	    cfg->masquerade != m->cfg.masquerade || cfg->antispoof != m->cfg.antispoof ||
	    cfg->forward_accept != m->cfg.forward_accept || cfg->lease_ttl != m->cfg.lease_ttl ||
	    cfg->reconcile_interval != m->cfg.reconcile_interval ||
	    cfg->bandwidth.set != m->cfg.bandwidth.set || cfg->bandwidth.ingress != m->cfg.bandwidth.ingress ||
	    cfg->bandwidth.egress != m->cfg.bandwidth.egress ||
	    cfg->bandwidth.default_guarantee != m->cfg.bandwidth.default_guarantee ||
	    cfg->bandwidth.default_priority != m->cfg.bandwidth.default_priority ||
	    cfg->bandwidth.exempt_local != m->cfg.bandwidth.exempt_local ||
	    strcmp(cfg->metrics.listen, m->cfg.metrics.listen))
		log_warn("configuration changes other than logLevel take effect after a restart");
}

void manager_stop(struct manager *m)
{
	if (!m)
		return;
	metrics_stop(m);
	api_stop(m->api);
	m->api = NULL;
	reaper_stop(m->reaper);
	m->reaper = NULL;
	peers_stop(m);
	policies_stop(m);
	bandwidth_stop(m);
	subnet_stop(m);
	if (m->reconcile_timer.loop)
		uv_close((uv_handle_t *)&m->reconcile_timer, NULL);
}

void manager_free(struct manager *m)
{
	if (!m)
		return;
	attach_free_all(m);
	ipam_pool_free(m->pool);
	nlsock_free(m->nl);
	store_free(m->store);
	peers_free(m);   /* after the store: its cancelled callbacks find the peers state still there */
	policies_free(m);
	cgroups_free(m);
	if (m->lock_fd >= 0)
		close(m->lock_fd);
	if (m->ns_lock_fd >= 0)
		close(m->ns_lock_fd);
	free(m);
}
