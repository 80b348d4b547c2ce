#include "tc/quota.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

struct unit {
	const char *name;
	uint64_t bits;   /* bit/s per unit */
};

/* tc's table (tc_util.c), with "bit" for the bare number.  "bps" is BYTES per second. */
static const struct unit units[] = {
	{ "", 1 },
	{ "bit", 1 },
	{ "kbit", 1000ULL },
	{ "kibit", 1024ULL },
	{ "mbit", 1000000ULL },
	{ "mibit", 1ULL << 20 },
	{ "gbit", 1000000000ULL },
	{ "gibit", 1ULL << 30 },
	{ "tbit", 1000000000000ULL },
	{ "tibit", 1ULL << 40 },
	{ "bps", 8 },
	{ "kbps", 8000ULL },
	{ "kibps", 8ULL << 10 },
	{ "mbps", 8000000ULL },
	{ "mibps", 8ULL << 20 },
	{ "gbps", 8000000000ULL },
	{ "gibps", 8ULL << 30 },
	{ "tbps", 8000000000000ULL },
	{ "tibps", 8ULL << 40 },
};

#define FRAC_DIGITS_MAX 9

int quota_parse_rate(const char *s, uint64_t *ret)
{
	uint64_t whole = 0, frac = 0, frac_scale = 1, scale = 0;
	unsigned __int128 v;
	const char *p = s;

	/* Digits first: this refuses "", "-1", "+1", " 1" and ".5" alike. */
	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (whole > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -ERANGE;
		whole = whole * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		for (; *p >= '0' && *p <= '9'; p++) {
			/* Digits past nanobit precision cannot change a whole bit/s result of any unit
			 * we know by more than rounding: ignore them. */
			if (frac_scale < 1000000000ULL) {
				frac = frac * 10 + (uint64_t)(*p - '0');
				frac_scale *= 10;
			}
		}
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcasecmp(p, units[i].name)) {
			scale = units[i].bits;
			break;
		}
	if (!scale)
		return -EINVAL;
	if (whole > UINT64_MAX / scale)
		return -ERANGE;
	v = (unsigned __int128)whole * scale + (unsigned __int128)frac * scale / frac_scale;
	if (v > UINT64_MAX)
		return -ERANGE;
	*ret = (uint64_t)v;
	return 0;
}

void quota_format_rate(uint64_t rate, char buf[QUOTA_RATE_STRLEN])
{
	static const struct unit out[] = {
		{ "tbit", 1000000000000ULL },
		{ "gbit", 1000000000ULL },
		{ "mbit", 1000000ULL },
		{ "kbit", 1000ULL },
	};

	for (size_t i = 0; rate && i < sizeof(out) / sizeof(out[0]); i++)
		if (rate % out[i].bits == 0) {
			snprintf(buf, QUOTA_RATE_STRLEN, "%llu%s", (unsigned long long)(rate / out[i].bits), out[i].name);
			return;
		}
	snprintf(buf, QUOTA_RATE_STRLEN, "%llubit", (unsigned long long)rate);
}

static uint64_t effective_guarantee(uint64_t guarantee, uint64_t default_guarantee)
{
	if (guarantee)
		return guarantee;
	return default_guarantee ? default_guarantee : QUOTA_DEFAULT_GUARANTEE;
}

int quota_admit(const struct quota_pool *pool, const char *direction, const char *name,
                const struct quota_want *want, struct quota_want *ret, char err[QUOTA_ERRLEN])
{
	char g[QUOTA_RATE_STRLEN], l[QUOTA_RATE_STRLEN], cap[QUOTA_RATE_STRLEN], res[QUOTA_RATE_STRLEN],
		free_[QUOTA_RATE_STRLEN];
	uint64_t guarantee = effective_guarantee(want->guarantee, pool->default_guarantee);
	uint64_t limit = want->limit ? want->limit : pool->capacity;
	uint64_t left = pool->reserved < pool->capacity ? pool->capacity - pool->reserved : 0;

	quota_format_rate(guarantee, g);
	quota_format_rate(limit, l);
	quota_format_rate(pool->capacity, cap);
	quota_format_rate(pool->reserved, res);
	quota_format_rate(left, free_);
	if (limit > pool->capacity) {
		snprintf(err, QUOTA_ERRLEN, "%s limit %s for %s exceeds the host's %s capacity %s", direction, l, name,
		         direction, cap);
		return -EINVAL;
	}
	if (guarantee > limit) {
		snprintf(err, QUOTA_ERRLEN, "%s guarantee %s for %s exceeds its limit %s", direction, g, name, l);
		return -EINVAL;
	}
	if (guarantee > left) {
		snprintf(err, QUOTA_ERRLEN,
		         "%s guarantee %s%s for %s does not fit: %s of the host's %s already guaranteed, %s free",
		         direction, g, want->guarantee ? "" : " (default)", name, res, cap, free_);
		return -ENOSPC;
	}
	ret->guarantee = guarantee;
	ret->limit = limit;
	return 0;
}

int quota_sum(const struct quota_want *wants, size_t n, uint64_t default_guarantee, uint64_t *ret)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t g = effective_guarantee(wants[i].guarantee, default_guarantee);

		if (sum > UINT64_MAX - g)
			return -ERANGE;
		sum += g;
	}
	*ret = sum;
	return 0;
}
