#include "tc/htb.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define TC_H_ROOT_HANDLE 0xffffffffu

int htb_psched_parse(const char *text, struct htb_psched *ret)
{
	unsigned t2us, us2t, clock_res;
	int n = 0;

	if (sscanf(text, "%8x %8x %8x%n", &t2us, &us2t, &clock_res, &n) != 3 || !t2us || !us2t || !clock_res)
		return -EINVAL;
	/* tc's compatibility rule: a kernel that advertises a 1 GHz clock in the third field means
	 * one tick per t2us/us2t unit, not t2us of them. */
	if (clock_res == 1000000000u)
		t2us = us2t;
	ret->t2us = t2us;
	ret->us2t = us2t;
	ret->clock_res = clock_res;
	return 0;
}

int htb_psched_read(struct htb_psched *ret)
{
	char text[128];
	ssize_t n;
	int fd;

	fd = open("/proc/net/psched", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n < 0)
		return -errno;
	text[n] = '\0';
	return htb_psched_parse(text, ret);
}

/* ticks = bytes / rate seconds x 1e6 us/s x (t2us / us2t x clock_res / 1e6) ticks/us, rounded up:
 * the 1e6 cancel.  128-bit arithmetic: bytes < 2^64, the two factors < 2^32 each. */
int htb_xmit_ticks(const struct htb_psched *ps, uint64_t rate_Bps, uint64_t bytes, uint32_t *ret)
{
	unsigned __int128 num, den, ticks;

	if (!rate_Bps || !ps->us2t)
		return -EINVAL;
	num = (unsigned __int128)bytes * ps->t2us * ps->clock_res;
	den = (unsigned __int128)rate_Bps * ps->us2t;
	ticks = (num + den - 1) / den;
	if (ticks > UINT32_MAX)
		return -ERANGE;
	*ret = (uint32_t)ticks;
	return 0;
}

int htb_rate_table(const struct htb_psched *ps, uint64_t rate_Bps, uint32_t mtu, uint8_t *ret_cell_log,
                   uint32_t rtab[TCMSG_RTAB_SLOTS])
{
	uint8_t cell_log = 0;

	if (!rate_Bps)
		return -EINVAL;
	while ((mtu >> cell_log) > 255)
		cell_log++;
	for (unsigned i = 0; i < TCMSG_RTAB_SLOTS; i++) {
		uint32_t t;

		if (htb_xmit_ticks(ps, rate_Bps, (uint64_t)(i + 1) << cell_log, &t) < 0)
			t = UINT32_MAX;
		rtab[i] = t;
	}
	*ret_cell_log = cell_log;
	return 0;
}

static uint32_t clamp_u32(unsigned __int128 v)
{
	return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

uint32_t htb_burst(uint64_t rate)
{
	/* bytes in HTB_BURST_MS at rate bit/s, rounded up */
	unsigned __int128 b = ((unsigned __int128)rate * HTB_BURST_MS + 7999) / 8000;

	return b < HTB_BURST_MIN ? HTB_BURST_MIN : clamp_u32(b);
}

uint32_t htb_quantum(uint64_t rate, uint64_t min_rate)
{
	unsigned __int128 q;

	if (!min_rate || rate <= min_rate)
		return HTB_QUANTUM_MIN;
	q = ((unsigned __int128)rate * HTB_QUANTUM_MIN + min_rate - 1) / min_rate;
	return q > HTB_QUANTUM_MAX ? HTB_QUANTUM_MAX : (uint32_t)q;
}

uint32_t htb_fifo_limit(uint64_t rate)
{
	unsigned __int128 b = (unsigned __int128)rate * HTB_FIFO_MS / 8000;

	return b < HTB_FIFO_MIN ? HTB_FIFO_MIN : b > HTB_FIFO_MAX ? HTB_FIFO_MAX : (uint32_t)b;
}

uint32_t htb_direct_qlen(uint64_t root_rate)
{
	unsigned __int128 pkts = (unsigned __int128)root_rate * HTB_DIRECT_MS / 8000 / HTB_FRAME;

	return pkts < HTB_DIRECT_QLEN_MIN ? HTB_DIRECT_QLEN_MIN : clamp_u32(pkts);
}

bool htb_rate_is_64bit(uint64_t rate)
{
	return rate / 8 >= (1ULL << 32);
}

int htb_tree_validate(const struct htb_tree *t)
{
	bool default_found = !t->default_minor;

	if (!t->major || t->major == 0xffff || t->root_rate / 8 == 0)
		return -EINVAL;
	for (size_t i = 0; i < t->nclasses; i++) {
		const struct htb_class_spec *c = &t->classes[i];
		uint64_t ceil = c->ceil ? c->ceil : t->root_rate;

		if (c->minor <= HTB_ROOT_MINOR || c->rate / 8 == 0 || ceil < c->rate || c->prio > HTB_PRIO_MAX)
			return -EINVAL;
		for (size_t j = 0; j < i; j++)
			if (t->classes[j].minor == c->minor)
				return -EINVAL;
		if (c->minor == t->default_minor)
			default_found = true;
	}
	return default_found ? 0 : -EINVAL;
}

int htb_tree_qdisc(const struct htb_tree *t, struct tcmsg_qdisc *ret)
{
	struct tcmsg_qdisc q = {
		.ifindex = t->ifindex,
		.kind = TCMSG_KIND_HTB,
		.parent = TC_H_ROOT_HANDLE,
		.handle = TCMSG_HANDLE(t->major, 0),
		.htb_default = t->default_minor,
		.htb_r2q = 10,
		.htb_direct_qlen = htb_direct_qlen(t->root_rate),
	};
	int r = htb_tree_validate(t);

	if (r < 0)
		return r;
	*ret = q;
	return 0;
}

/* A class at (rate, ceil) bit/s with the burst rule applied to each and both rate tables. */
static int fill_class(const struct htb_psched *ps, uint64_t rate, uint64_t ceil, struct tcmsg_htb_class *c)
{
	int r;

	c->rate = rate / 8;
	c->ceil = ceil / 8;
	r = htb_xmit_ticks(ps, c->rate, htb_burst(rate), &c->buffer);
	if (r >= 0)
		r = htb_xmit_ticks(ps, c->ceil, htb_burst(ceil), &c->cbuffer);
	if (r >= 0)
		r = htb_rate_table(ps, c->rate, HTB_TABLE_MTU, &c->cell_log, c->rtab);
	if (r >= 0)
		r = htb_rate_table(ps, c->ceil, HTB_TABLE_MTU, &c->ccell_log, c->ctab);
	return r;
}

int htb_tree_root_class(const struct htb_psched *ps, const struct htb_tree *t, struct tcmsg_htb_class *ret)
{
	int r = htb_tree_validate(t);

	if (r < 0)
		return r;
	memset(ret, 0, sizeof(*ret));
	ret->ifindex = t->ifindex;
	/* TC_H_ROOT, not major:0: both create a top-level class, but the kernel reports TC_H_ROOT in
	 * dumps, and desired state should compare equal to observed state. */
	ret->parent = TC_H_ROOT_HANDLE;
	ret->classid = TCMSG_HANDLE(t->major, HTB_ROOT_MINOR);
	/* The root class is a leaf until its first child arrives, and a leaf without a quantum gets
	 * rate / r2q, which the kernel clamps with a warning at these rates. */
	ret->quantum = HTB_QUANTUM_MIN;
	return fill_class(ps, t->root_rate, t->root_rate, ret);
}

int htb_tree_class(const struct htb_psched *ps, const struct htb_tree *t, size_t i, struct tcmsg_htb_class *ret)
{
	const struct htb_class_spec *c;
	uint64_t min_rate = UINT64_MAX;
	int r = htb_tree_validate(t);

	if (r < 0)
		return r;
	if (i >= t->nclasses)
		return -EINVAL;
	c = &t->classes[i];
	for (size_t j = 0; j < t->nclasses; j++)
		if (t->classes[j].rate < min_rate)
			min_rate = t->classes[j].rate;
	memset(ret, 0, sizeof(*ret));
	ret->ifindex = t->ifindex;
	ret->parent = TCMSG_HANDLE(t->major, HTB_ROOT_MINOR);
	ret->classid = TCMSG_HANDLE(t->major, c->minor);
	ret->prio = c->prio;
	ret->quantum = htb_quantum(c->rate, min_rate);
	return fill_class(ps, c->rate, c->ceil ? c->ceil : t->root_rate, ret);
}

int htb_tree_leaf(const struct htb_tree *t, size_t i, struct tcmsg_qdisc *ret)
{
	const struct htb_class_spec *c;
	int r = htb_tree_validate(t);

	if (r < 0)
		return r;
	if (i >= t->nclasses)
		return -EINVAL;
	c = &t->classes[i];
	memset(ret, 0, sizeof(*ret));
	ret->ifindex = t->ifindex;
	ret->kind = TCMSG_KIND_BFIFO;
	ret->parent = TCMSG_HANDLE(t->major, c->minor);
	/* The queue drains at up to ceil while the class borrows: size it for that. */
	ret->bfifo_limit = htb_fifo_limit(c->ceil ? c->ceil : t->root_rate);
	return 0;
}
