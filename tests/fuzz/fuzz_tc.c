/* The tc parsers on arbitrary bytes: qdisc, HTB class, u32 and cls_bpf filter messages as the
 * kernel could send them in a dump, and tc's rate units as an operator writes them.  A rate that
 * parses must format and parse back to the same number of bits per second; a bpf filter that
 * parses must build and parse back to the same filter. */
// SOURCES: tc/tcmsg.c tc/quota.c
// PKGS: libmnl
#include <linux/if_ether.h>
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

/* What tcmsg_parse_bpf() reads, tcmsg_build_bpf() writes back (a dump's -1 fd made valid; the id
 * is the kernel's and never sent). */
static void bpf_round_trip(const struct tcmsg_bpf *f)
{
	_Alignas(8) char buf[TCMSG_FILTER_MAXLEN];
	struct tcmsg_bpf g = *f, back;
	int len;

	must(memchr(f->name, '\0', sizeof(f->name)) != NULL);
	if (!f->prio || (f->direct_action && f->redirect_ifindex))
		return;
	if (g.prog_fd < 0)
		g.prog_fd = 3;
	len = tcmsg_build_bpf(buf, sizeof(buf), 1, TCMSG_REPLACE, &g);
	must(len > 0);
	must(tcmsg_parse_bpf((struct nlmsghdr *)buf, &back) == 0);
	must(back.ifindex == g.ifindex && back.parent == g.parent && back.prio == g.prio && back.handle == g.handle);
	must(back.protocol == (g.protocol ? g.protocol : ETH_P_ALL));
	must(back.prog_fd == g.prog_fd && back.prog_id == 0 && !strcmp(back.name, g.name));
	must(back.direct_action == g.direct_action && back.redirect_ifindex == g.redirect_ifindex);
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
	struct tcmsg_bpf b;

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
		/* Both filter kinds from the same bytes: each parser must leave the other's alone. */
		tcmsg_parse_u32(&u.h, &f);
		if (tcmsg_parse_bpf(&u.h, &b) == 0)
			bpf_round_trip(&b);
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
