/* The tc parsers on arbitrary bytes: qdisc, HTB class and u32 filter messages as the kernel could
 * send them in a dump, and tc's rate units as an operator writes them.  A rate that parses must
 * format and parse back to the same number of bits per second. */
// SOURCES: tc/tcmsg.c tc/quota.c
// PKGS: libmnl
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>

#include "tc/quota.h"
#include "tc/tcmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must(int cond)
{
	if (!cond)
		__builtin_trap();
}

static void message(const uint8_t *d, size_t n, unsigned which)
{
	union {
		struct nlmsghdr h;
		uint8_t b[65536];
	} u;
	struct tcmsg_qdisc q;
	struct tcmsg_htb_class c;
	struct tcmsg_u32 f;

	if (n < sizeof(struct nlmsghdr) || n > sizeof(u.b))
		return;
	memcpy(u.b, d, n);
	/* The socket layer hands a parser a message whose length fits what was received. */
	if (u.h.nlmsg_len > n)
		u.h.nlmsg_len = (uint32_t)n;
	switch (which % 3) {
	case 0:
		tcmsg_parse_qdisc(&u.h, &q);
		break;
	case 1:
		tcmsg_parse_htb_class(&u.h, &c);
		break;
	default:
		tcmsg_parse_u32(&u.h, &f);
		break;
	}
}

static void rate(const uint8_t *d, size_t n)
{
	char in[64], out[QUOTA_RATE_STRLEN];
	uint64_t a, b;

	if (n >= sizeof(in))
		n = sizeof(in) - 1;
	memcpy(in, d, n);
	in[n] = '\0';
	if (quota_parse_rate(in, &a) < 0)
		return;
	quota_format_rate(a, out);
	must(quota_parse_rate(out, &b) == 0 && a == b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] % 4 == 3)
		rate(data + 1, size - 1);
	else
		message(data + 1, size - 1, data[0]);
	return 0;
}
