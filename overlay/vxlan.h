/* The node's VXLAN device shoal.<vni> (DESIGN.md "Kernel objects and names"): a pure builder and a
 * mirroring parser (round-trip tested), and vxlan_ensure(), which creates or adopts it. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/netlink.h>

#include "lib/ipaddr.h"
#include "overlay/host.h"
#include "overlay/nlsock.h"
#include "overlay/rtlink.h"

/* "shoal." + up to 8 digits of a 24-bit VNI fits IFNAMSIZ. */
#define VXLAN_NAME_PREFIX "shoal."
#define VXLAN_VNI_MAX 0xffffffu
/* IANA's VXLAN port is 4789; Linux (and flannel) default to 8472. */
#define VXLAN_DEFAULT_PORT 8472

struct vxlan_link {
	char name[RTLINK_NAME_SIZE];
	uint32_t vni;
	struct ipaddr local;     /* the underlay address VXLAN packets leave from; its family is the device's */
	int link;                /* the underlay device's ifindex */
	uint16_t port;           /* UDP destination port */
	bool learning;           /* learning of remote MACs from received packets (we keep it off) */
	uint8_t mac[RTLINK_MAC_LEN];
	uint32_t mtu;
	bool up;
};

/* What a dump or GET says about a device: the link and, for a vxlan, its parameters. */
struct vxlan_info {
	struct rtlink_info link;
	bool is_vxlan;
	struct vxlan_link v;     /* name, mac, mtu, up from link; the rest from IFLA_INFO_DATA */
};

/* "shoal.<vni>" */
void vxlan_name(uint32_t vni, char name[RTLINK_NAME_SIZE]);
/* RTM_NEWLINK creating the device (NLM_F_EXCL), up when v->up.  -EINVAL for a VNI above 2^24 - 1. */
int vxlan_build(void *buf, size_t buflen, uint32_t seq, const struct vxlan_link *v);
/* Change MAC, MTU (0 = keep) and bring up an existing device by index: what can change without
 * recreating it. */
int vxlan_build_set(void *buf, size_t buflen, uint32_t seq, int ifindex, const uint8_t mac[RTLINK_MAC_LEN],
                    uint32_t mtu);
int vxlan_parse(const struct nlmsghdr *nlh, struct vxlan_info *ret);
/* Whether an existing device carries the parameters that need a new device to change (VNI, local
 * address and its family, underlay device, port, learning). */
bool vxlan_same_params(const struct vxlan_link *have, const struct vxlan_link *want);

/* Create the device or adopt it when it exists with the same parameters (never recreated: peers'
 * traffic keeps flowing); fix MAC, MTU and up in place.  A device of that name with different
 * parameters (or not a vxlan) is deleted and created again: *ret_replaced says so and err then
 * names the old parameters, for the caller to log.  Returns the ifindex in *ret_ifindex. */
int vxlan_ensure(struct nlsock *s, const struct vxlan_link *want, int *ret_ifindex, bool *ret_replaced,
                 char err[OVERLAY_ERRLEN]);
