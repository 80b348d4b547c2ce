/* The rtnetlink parsers on arbitrary bytes: links, addresses, routes and neighbours/FDB entries as
 * a dump could deliver them.  Reconcile acts on what they return, so they must never read past a
 * message or accept a truncated attribute. */
// SOURCES: overlay/rtlink.c overlay/rtaddr.c overlay/rtroute.c overlay/rtneigh.c
// PKGS: libmnl
#include <stdint.h>
#include <string.h>

#include <libmnl/libmnl.h>

#include "overlay/rtaddr.h"
#include "overlay/rtlink.h"
#include "overlay/rtneigh.h"
#include "overlay/rtroute.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	union {
		struct nlmsghdr h;
		uint8_t b[65536];
	} u;
	struct rtlink_info l;
	struct rtaddr_info a;
	struct rtroute r;
	struct rtneigh n;

	if (size < 1 + sizeof(struct nlmsghdr) || size - 1 > sizeof(u.b))
		return 0;
	memcpy(u.b, data + 1, size - 1);
	/* The socket layer hands a parser a message whose length fits what was received. */
	if (u.h.nlmsg_len > size - 1)
		u.h.nlmsg_len = (uint32_t)(size - 1);
	switch (data[0] % 4) {
	case 0:
		rtlink_parse(&u.h, &l);
		break;
	case 1:
		rtaddr_parse(&u.h, &a);
		break;
	case 2:
		rtroute_parse(&u.h, &r);
		break;
	default:
		rtneigh_parse(&u.h, &n);
		break;
	}
	return 0;
}
