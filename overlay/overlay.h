/* Host-side network objects of one host: the bridge and each workload's veth pair.
 *
 * Functions take an nlsock of the host namespace and report failures as -errno plus a message in
 * err that names the object ("add veth shv0123abcd4567 peer eth0: File exists (kernel: ...)").
 * They do not log: the manager decides what to log. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "overlay/nlsock.h"
#include "overlay/rtlink.h"

#define OVERLAY_ERRLEN 512

struct overlay_bridge {
	const char *name;
	uint8_t mac[RTLINK_MAC_LEN];
	uint32_t mtu;
	uint32_t gateway;    /* host byte order; assigned to the bridge */
	uint8_t prefixlen;
};

/* Create the bridge or adopt an existing one (never recreated: established flows keep going),
 * make sure it is up and carries the gateway address.  -EEXIST when a non-bridge has the name. */
int overlay_bridge_ensure(struct nlsock *host, const struct overlay_bridge *b, int *ret_ifindex,
                          char err[OVERLAY_ERRLEN]);

struct overlay_attach {
	const char *host_veth;
	const char *ifname;      /* inside the container */
	int netns_fd;
	uint32_t mtu;
	int bridge_ifindex;
	uint32_t addr;           /* host byte order */
	uint8_t prefixlen;
	uint32_t gateway;
};

struct overlay_attach_result {
	int host_ifindex;
	uint8_t host_mac[RTLINK_MAC_LEN];
	uint8_t peer_mac[RTLINK_MAC_LEN];
};

/* Create the veth with its peer straight inside the container namespace, enslave and bring up the
 * host end, then in the container: address, up, lo up, default route via the gateway.  On failure
 * nothing is left behind (the pair is deleted). */
int overlay_attach(struct nlsock *host, const struct overlay_attach *a, struct overlay_attach_result *ret,
                   char err[OVERLAY_ERRLEN]);

/* Verify an attachment: host veth up on the bridge; inside the netns ifname up with the address and
 * the default route via the gateway.  -ENOENT / -EINVAL with err saying what is wrong. */
int overlay_check(struct nlsock *host, const struct overlay_attach *a, char err[OVERLAY_ERRLEN]);

/* Make sure a host veth is up and enslaved to master (after the bridge was recreated, say). */
int overlay_port_ensure(struct nlsock *host, int ifindex, int master, char err[OVERLAY_ERRLEN]);

/* Delete a link by name; success when it is already gone. */
int overlay_link_del(struct nlsock *s, const char *name, char err[OVERLAY_ERRLEN]);
/* -ENODEV when absent. */
int overlay_link_get(struct nlsock *s, const char *name, struct rtlink_info *ret);

/* Call cb for every link of the namespace. */
int overlay_links_foreach(struct nlsock *s, void (*cb)(const struct rtlink_info *l, void *data), void *data);
