/* Host-side network objects of one host: the bridge (overlay/host.h) and each workload's veth pair.
 *
 * Functions take an nlsock of the host namespace and report failures as -errno plus a message in
 * err that names the object ("add veth shv0123abcd4567 peer eth0: File exists (kernel: ...)").
 * They do not log: the manager decides what to log. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "overlay/host.h"
#include "overlay/nlsock.h"
#include "overlay/rtlink.h"

struct overlay_attach {
	const char *host_veth;
	const char *ifname;      /* inside the container */
	int netns_fd;
	uint32_t mtu;
	int bridge_ifindex;
	uint32_t addr;           /* host byte order */
	uint8_t prefixlen;
	uint32_t gateway;
	/* The attachment's identity, kept by the kernel as the host veth's alias (IFLA_IFALIAS, what
	 * `ip link` shows as "alias"), so a restart can read it back from a link dump.  At most
	 * RTLINK_ALIAS_SIZE - 1 bytes; NULL or "" = none. */
	const char *alias;
	/* The route added in the container, via gateway; host byte order.  0/0 = the default route. */
	uint32_t route_dst;
	uint8_t route_len;
	const uint8_t *peer_mac; /* the container side's MAC (RTLINK_MAC_LEN bytes); NULL = the kernel's random one */
};

struct overlay_attach_result {
	int host_ifindex;
	uint8_t host_mac[RTLINK_MAC_LEN];
	uint8_t peer_mac[RTLINK_MAC_LEN];
};

/* Create the veth with its peer straight inside the container namespace, enslave and bring up the
 * host end (with its alias), then in the container: address, up, lo up, the route
 * route_dst/route_len via the gateway.  On failure nothing is left behind (the pair is deleted).
 *
 * The route is added, never replaced: a container that already has a route to route_dst/route_len
 * (another network's default route, say) keeps it, and the attach fails.
 *   -EEXIST      an interface named host_veth (host) or ifname (container) exists
 *   -EADDRINUSE  the container already has a route to route_dst/route_len in its main table
 *   -EINVAL      route_dst has bits outside route_len, or the alias is too long
 *   -ETIMEDOUT   the kernel did not answer (see nlsock.h); other -errno as the kernel says */
int overlay_attach(struct nlsock *host, const struct overlay_attach *a, struct overlay_attach_result *ret,
                   char err[OVERLAY_ERRLEN]);

/* Verify an attachment: host veth up on the bridge (and carrying the alias, when a->alias is set:
 * pass NULL for an attachment made before it had one); inside the netns ifname up with MTU a->mtu
 * (unless 0) and the address, and the route route_dst/route_len via the gateway on it.
 * -ENOENT / -EINVAL with err saying what is wrong. */
int overlay_check(struct nlsock *host, const struct overlay_attach *a, char err[OVERLAY_ERRLEN]);

/* Make sure a host veth is up and enslaved to master (after the bridge was recreated, say). */
int overlay_port_ensure(struct nlsock *host, int ifindex, int master, char err[OVERLAY_ERRLEN]);

/* Delete a link by name; success when it is already gone. */
int overlay_link_del(struct nlsock *s, const char *name, char err[OVERLAY_ERRLEN]);
/* -ENODEV when absent. */
int overlay_link_get(struct nlsock *s, const char *name, struct rtlink_info *ret);
/* The same by index. */
int overlay_link_get_index(struct nlsock *s, int ifindex, struct rtlink_info *ret);

/* Call cb for every link of the namespace. */
int overlay_links_foreach(struct nlsock *s, void (*cb)(const struct rtlink_info *l, void *data), void *data);
