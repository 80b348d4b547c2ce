/* Batches of tc messages, sent in one sendmsg (netd/bw_int.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "netd/bw_int.h"
#include "overlay/nlsock.h"

/* Messages per netlink batch; a class message is at most TCMSG_CLASS_MAXLEN bytes. */
#define BW_BATCH_MAX 16

struct bw_batch {
	struct nlsock *nl;
	char buf[BW_BATCH_MAX * TCMSG_CLASS_MAXLEN];
	size_t len;
	uint32_t first_seq;
	unsigned n;
	const char *what[BW_BATCH_MAX];
	int tolerate[BW_BATCH_MAX];           /* an -errno that means "already so" for this message, or 0 */
	int err;                              /* the first building error */
};

static void batch_init(struct bw_batch *b, struct nlsock *nl)
{
	b->nl = nl;
	b->len = 0;
	b->n = 0;
	b->err = 0;
}

int bw_batch_new(struct nlsock *nl, struct bw_batch **ret, char err[BW_ERRLEN])
{
	struct bw_batch *b = malloc(sizeof(*b));

	if (!b) {
		snprintf(err, BW_ERRLEN, "out of memory");
		return -ENOMEM;
	}
	batch_init(b, nl);
	*ret = b;
	return 0;
}

void bw_batch_free(struct bw_batch *b)
{
	free(b);
}

/* The sequence number the next message must carry. */
uint32_t bw_batch_seq(struct bw_batch *b)
{
	uint32_t seq = nlsock_next_seq(b->nl);

	if (b->n == 0)
		b->first_seq = seq;
	return seq;
}

void bw_batch_added(struct bw_batch *b, int len, const char *what, int tolerate, unsigned n)
{
	if (len < 0) {
		if (!b->err)
			b->err = len;
		log_error("bandwidth: cannot build %s: %s", what, strerror(-len));
		return;
	}
	for (unsigned i = 0; i < n && b->n < BW_BATCH_MAX; i++) {
		b->what[b->n] = what;
		b->tolerate[b->n] = tolerate;
		b->n++;
	}
	b->len += (size_t)len;
}

char *bw_batch_room(struct bw_batch *b, size_t *ret_len)
{
	*ret_len = sizeof(b->buf) - b->len;
	return b->buf + b->len;
}

int bw_batch_send(struct bw_batch *b, char err[BW_ERRLEN])
{
	char kerr[NLSOCK_ERRLEN] = "";
	int errs[BW_BATCH_MAX], r;

	if (b->err) {
		snprintf(err, BW_ERRLEN, "cannot build a tc message: %s", strerror(-b->err));
		r = b->err;
		batch_init(b, b->nl);
		return r;
	}
	if (b->n == 0)
		return 0;
	r = nlsock_transact_each(b->nl, b->buf, b->len, b->first_seq, b->n, errs, kerr);
	if (r == -ETIMEDOUT) {
		snprintf(err, BW_ERRLEN, "tc: the kernel did not answer");
	} else {
		r = 0;
		for (unsigned i = 0; i < b->n; i++) {
			if (errs[i] == 0 || (b->tolerate[i] && errs[i] == b->tolerate[i]))
				continue;
			snprintf(err, BW_ERRLEN, "tc: %s: %s%s%s", b->what[i], strerror(-errs[i]), kerr[0] ? ": " : "", kerr);
			r = errs[i];
			break;
		}
	}
	batch_init(b, b->nl);
	return r;
}

int bw_batch_make_room(struct bw_batch *b, char err[BW_ERRLEN])
{
	if (b->n < BW_BATCH_MAX && sizeof(b->buf) - b->len >= TCMSG_CLASS_MAXLEN)
		return 0;
	return bw_batch_send(b, err);
}
