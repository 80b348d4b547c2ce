#include "overlay/nlsock.h"

#include <errno.h>
#include <linux/netlink.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

struct nlsock {
	struct mnl_socket *mnl;
	uint32_t portid;
	uint32_t seq;
	char buf[NLSOCK_BUFSIZE * 4];
};

struct ns_open {
	int family;
	int netns_fd;
	int fd;
	int err;
};

static void *ns_open_thread(void *arg)
{
	struct ns_open *o = arg;

	/* This thread's namespace changes, nobody else's; it ends right after. */
	if (setns(o->netns_fd, CLONE_NEWNET) < 0) {
		o->err = -errno;
		return NULL;
	}
	o->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, o->family);
	if (o->fd < 0)
		o->err = -errno;
	return NULL;
}

static int socket_in_netns(int family, int netns_fd, int *ret_fd)
{
	struct ns_open o = { .family = family, .netns_fd = netns_fd, .fd = -1 };
	pthread_t t;
	int r;

	r = pthread_create(&t, NULL, ns_open_thread, &o);
	if (r != 0)
		return -r;
	pthread_join(t, NULL);
	if (o.err < 0)
		return o.err;
	*ret_fd = o.fd;
	return 0;
}

int nlsock_open_family(int netlink_family, int netns_fd, struct nlsock **ret)
{
	struct nlsock *s;
	int one = 1, fd = -1, r;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	if (netns_fd >= 0) {
		r = socket_in_netns(netlink_family, netns_fd, &fd);
		if (r < 0)
			goto fail;
		s->mnl = mnl_socket_fdopen(fd);
	} else {
		s->mnl = mnl_socket_open2(netlink_family, SOCK_CLOEXEC);
	}
	if (!s->mnl) {
		r = -errno;
		if (fd >= 0)
			close(fd);
		goto fail;
	}
	if (mnl_socket_bind(s->mnl, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		goto fail;
	}
	/* Extended ACKs carry the kernel's reason text ("Nexthop has invalid gateway"). */
	mnl_socket_setsockopt(s->mnl, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(s->mnl, NETLINK_CAP_ACK, &one, sizeof(one));
	r = nlsock_set_timeout(s, NLSOCK_TIMEOUT_MS);
	if (r < 0)
		goto fail;
	s->portid = mnl_socket_get_portid(s->mnl);
	s->seq = (uint32_t)rand();
	*ret = s;
	return 0;
fail:
	nlsock_free(s);
	return r;
}

int nlsock_open(int netns_fd, struct nlsock **ret)
{
	return nlsock_open_family(NETLINK_ROUTE, netns_fd, ret);
}

int nlsock_set_timeout(struct nlsock *s, unsigned ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
	int fd = mnl_socket_get_fd(s->mnl);

	/* The timeout is per system call: a long dump that keeps arriving never times out, a request
	 * whose answer never comes does.  The send side matters only if the socket's send buffer is
	 * full, but a bounded wait there costs nothing. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		return -errno;
	return 0;
}

/* A blocking socket with SO_RCVTIMEO/SO_SNDTIMEO reports its timeout as EAGAIN. */
static int io_error(void)
{
	return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
}

void nlsock_free(struct nlsock *s)
{
	if (!s)
		return;
	if (s->mnl)
		mnl_socket_close(s->mnl);
	free(s);
}

uint32_t nlsock_next_seq(struct nlsock *s)
{
	return ++s->seq;
}

static int ext_ack_cb(const struct nlattr *a, void *data)
{
	char *err = data;

	if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG && mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
		snprintf(err, NLSOCK_ERRLEN, "%s", mnl_attr_get_str(a));
	return MNL_CB_OK;
}

/* Parse an NLMSG_ERROR: returns its (negative or 0) error and fills err with the ext-ack text. */
static int parse_error(const struct nlmsghdr *nlh, char err[NLSOCK_ERRLEN])
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	size_t off;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
		return -EBADMSG;
	if (e->error && err && (nlh->nlmsg_flags & NLM_F_ACK_TLVS)) {
		off = sizeof(*e);
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
			off += e->msg.nlmsg_len - sizeof(e->msg);
		if (mnl_nlmsg_size(off) <= nlh->nlmsg_len)
			mnl_attr_parse(nlh, (unsigned)off, ext_ack_cb, err);
	}
	return e->error;
}

static int transact(struct nlsock *s, const void *buf, size_t len, uint32_t first_seq, unsigned nmsgs,
                    unsigned *ret_failed_index, int *errs, char err[NLSOCK_ERRLEN])
{
	unsigned acked = 0;
	int first_err = 0;

	if (err)
		err[0] = '\0';
	if (mnl_socket_sendto(s->mnl, buf, len) < 0)
		return io_error();
	while (acked < nmsgs) {
		ssize_t n = mnl_socket_recvfrom(s->mnl, s->buf, sizeof(s->buf));
		const struct nlmsghdr *nlh;
		int rest;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return io_error();
		}
		rest = (int)n;
		for (nlh = (const struct nlmsghdr *)s->buf; mnl_nlmsg_ok(nlh, rest); nlh = mnl_nlmsg_next(nlh, &rest)) {
			uint32_t idx = nlh->nlmsg_seq - first_seq;
			int e;

			if (nlh->nlmsg_type != NLMSG_ERROR || idx >= nmsgs)
				continue;   /* stray or echo message */
			e = parse_error(nlh, first_err ? NULL : err);
			acked++;
			if (errs)
				errs[idx] = e;
			if (e < 0 && !first_err) {
				first_err = e;
				if (ret_failed_index)
					*ret_failed_index = idx;
			}
		}
	}
	return first_err;
}

int nlsock_transact(struct nlsock *s, const void *buf, size_t len, uint32_t first_seq, unsigned nmsgs,
                    unsigned *ret_failed_index, char err[NLSOCK_ERRLEN])
{
	return transact(s, buf, len, first_seq, nmsgs, ret_failed_index, NULL, err);
}

int nlsock_transact_each(struct nlsock *s, const void *buf, size_t len, uint32_t first_seq, unsigned nmsgs,
                         int *errs, char err[NLSOCK_ERRLEN])
{
	return transact(s, buf, len, first_seq, nmsgs, NULL, errs, err);
}

int nlsock_query(struct nlsock *s, void *req, mnl_cb_t cb, void (*reset_cb)(void *), void *data,
                 char err[NLSOCK_ERRLEN])
{
	struct nlmsghdr *nlh = req;

	if (err)
		err[0] = '\0';
	for (int attempt = 0; attempt < 10; attempt++) {
		bool intr = false;

		nlh->nlmsg_seq = nlsock_next_seq(s);
		if (mnl_socket_sendto(s->mnl, nlh, nlh->nlmsg_len) < 0)
			return io_error();
		for (;;) {
			ssize_t n = mnl_socket_recvfrom(s->mnl, s->buf, sizeof(s->buf));
			const struct nlmsghdr *m;
			int rest, r;

			if (n < 0) {
				if (errno == EINTR)
					continue;
				return io_error();
			}
			rest = (int)n;
			for (m = (const struct nlmsghdr *)s->buf; mnl_nlmsg_ok(m, rest); m = mnl_nlmsg_next(m, &rest)) {
				if (m->nlmsg_seq != nlh->nlmsg_seq)
					continue;
				if (m->nlmsg_flags & NLM_F_DUMP_INTR)
					intr = true;
				if (m->nlmsg_type == NLMSG_DONE) {
					int32_t e = 0;

					/* A dump that failed part way ends with its error in NLMSG_DONE: an
					 * incomplete list must not pass for a complete one. */
					if (mnl_nlmsg_get_payload_len(m) >= sizeof(e))
						memcpy(&e, mnl_nlmsg_get_payload(m), sizeof(e));
					if (e < 0)
						return e;
					goto done;
				}
				if (m->nlmsg_type == NLMSG_ERROR) {
					r = parse_error(m, err);
					if (r < 0)
						return r;
					goto done;   /* an ACK ends a non-dump request */
				}
				r = cb(m, data);
				if (r == MNL_CB_ERROR)
					return errno ? -errno : -EIO;
				if (r == MNL_CB_STOP)
					goto done;
				if (!(nlh->nlmsg_flags & NLM_F_DUMP) && !(m->nlmsg_flags & NLM_F_MULTI))
					goto done;   /* a single GET answer */
			}
		}
done:
		if (!intr)
			return 0;
		/* The kernel's tables changed during the dump: redo it from the start. */
		if (reset_cb)
			reset_cb(data);
	}
	return -EAGAIN;
}
