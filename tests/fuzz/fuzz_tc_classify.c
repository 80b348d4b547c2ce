/* The hashed classifier's parsers on arbitrary bytes (u32 hash tables, an IFB's filter dump and an
 * uplink's cls_bpf filters as the kernel could send them), and its handle arithmetic on arbitrary subnets and addresses: a
 * handle is either refused or in table 100:, bucket = last octet, node 1..0x100, and what the
 * builder makes parses back as the same workload. */
// SOURCES: tc/tcmsg.c tc/classify.c
// PKGS: libmnl
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>

#include "tc/classify.h"
#include "tc/tcmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must(int cond)
{
	if (!cond)
		__builtin_trap();
}

static void message(const uint8_t *d, size_t n)
{
	union {
		struct nlmsghdr h;
		uint8_t b[65536];
	} u;
	struct tcmsg_u32_table t;
	struct classify_ifb_filter c;
	struct classify_uplink_filter up;

	if (n < sizeof(struct nlmsghdr) || n > sizeof(u.b))
		return;
	memcpy(u.b, d, n);
	if (u.h.nlmsg_len > n)
		u.h.nlmsg_len = (uint32_t)n;
	if (tcmsg_parse_u32_table(&u.h, &t) == 0)
		must((t.handle & 0xfffffu) == 0);
	if (classify_parse_ifb_filter(&u.h, &c) == 0 && c.kind == CLASSIFY_IFB_WORKLOAD)
		must(c.prefix_len == 32 && c.classid != 0 && TCMSG_U32_HTID(c.handle) == CLASSIFY_HTID);
	if (classify_parse_uplink_filter(&u.h, &up) == 0)
		must(up.prio == CLASSIFY_UPLINK_PRIO && memchr(up.prog_name, '\0', sizeof(up.prog_name)) != NULL);
}

static void handles(const uint8_t *d, size_t n)
{
	_Alignas(8) char buf[TCMSG_FILTER_MAXLEN];
	struct classify_ifb_filter c;
	uint32_t net, addr, h, classid;
	uint8_t len;
	int r;

	if (n < 11)
		return;
	memcpy(&net, d, 4);
	memcpy(&addr, d + 4, 4);
	len = d[8];
	classid = TCMSG_HANDLE(1, (uint32_t)d[9] << 8 | d[10]);
	if (classify_workload_handle(net, len, addr, &h) < 0)
		return;
	must(len >= CLASSIFY_SUBNET_MIN_LEN && len <= 32);
	must(TCMSG_U32_HTID(h) == CLASSIFY_HTID && TCMSG_U32_BUCKET(h) == (addr & 0xff));
	must(TCMSG_U32_NODE(h) >= 1 && TCMSG_U32_NODE(h) <= 0x100);
	r = classify_build_workload(buf, sizeof(buf), 1, TCMSG_ADD, 3, 1, net, len, addr, d[9] & 1, classid);
	if (!classid) {
		must(r == -EINVAL);
		return;
	}
	must(r > 0);
	must(classify_parse_ifb_filter((struct nlmsghdr *)buf, &c) == 0);
	must(c.kind == CLASSIFY_IFB_WORKLOAD && c.handle == h && c.addr == addr && c.classid == classid);
	must(c.from_workload == (d[9] & 1));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	if (data[0] & 1)
		message(data + 1, size - 1);
	else
		handles(data + 1, size - 1);
	return 0;
}
