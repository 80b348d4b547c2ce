#include "netd/reaper.h"

#include <errno.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "lib/names.h"
#include "overlay/nlsock.h"
#include "overlay/rtlink.h"

/* The device group used to delete a batch in one RTM_DELLINK; an arbitrary, unlikely number. */
#define REAPER_GROUP 0x5e0a1de1u
#define REAPER_BATCH 256

struct job {
	char name[IFNAME_SIZE];
	int ifindex;
	int err;
	struct job *next;
};

struct reaper {
	uv_async_t async;
	reaper_done_cb cb;
	void *userdata;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job *todo, *todo_tail;
	struct job *done;
	size_t pending;
	bool stopping;
	bool thread_started;
};

static void append(struct job **head, struct job **tail, struct job *j)
{
	j->next = NULL;
	if (*tail)
		(*tail)->next = j;
	else
		*head = j;
	*tail = j;
}

static bool gone(int err)
{
	return err == -ENODEV || err == -ENOENT;
}

/* Delete a batch: tag each device with our group, then delete the group at once.  A device that
 * vanished meanwhile (its namespace died, someone else deleted it) is simply done; a device whose
 * tagging failed otherwise keeps that error (it was not deleted). */
static void delete_batch(struct nlsock *s, struct job *batch)
{
	static char buf[REAPER_BATCH * 64];
	static int errs[REAPER_BATCH];
	char kerr[NLSOCK_ERRLEN];
	uint32_t seq;
	size_t off = 0;
	unsigned tagged = 0, in_group = 0;
	struct job *j;
	int r;

	memset(buf, 0, sizeof(buf));
	if (!batch->next) {
		r = rtlink_build_del(buf, sizeof(buf), nlsock_next_seq(s), batch->ifindex, batch->name);
		if (r >= 0)
			r = nlsock_transact(s, buf, (size_t)r, ((struct nlmsghdr *)buf)->nlmsg_seq, 1, NULL, kerr);
		batch->err = gone(r) ? 0 : r;
		return;
	}
	seq = nlsock_next_seq(s);
	for (j = batch; j; j = j->next) {
		struct nlmsghdr *nlh = (struct nlmsghdr *)(buf + off);

		/* RTM_NEWLINK on an existing device with IFLA_GROUP only changes its group. */
		r = rtlink_build_set(buf + off, sizeof(buf) - off, seq + tagged, j->ifindex, 0, 0, 0, -1);
		if (r < 0 || !mnl_attr_put_u32_check(nlh, sizeof(buf) - off, IFLA_GROUP, REAPER_GROUP) ||
		    (j->ifindex <= 0 && !mnl_attr_put_strz_check(nlh, sizeof(buf) - off, IFLA_IFNAME, j->name)))
			break;
		off += nlh->nlmsg_len;
		tagged++;
		nlsock_next_seq(s);
	}
	for (unsigned i = 0; i < tagged; i++)
		errs[i] = -EIO;
	r = nlsock_transact_each(s, buf, off, seq, tagged, errs, kerr);
	if (r < 0 && !gone(r) && errs[0] == -EIO) {
		/* Nothing was answered (the socket failed): every job keeps that error. */
		for (j = batch; j; j = j->next)
			j->err = r;
		return;
	}
	j = batch;
	for (unsigned i = 0; i < tagged; i++, j = j->next) {
		j->err = gone(errs[i]) ? 0 : errs[i];
		if (errs[i] == 0)
			in_group++;
	}
	for (; j; j = j->next)
		j->err = -ENOBUFS;   /* did not fit this batch: reported, and retried by the caller */
	if (in_group == 0)
		return;
	{
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(memset(buf, 0, 256));
		struct ifinfomsg *ifm;

		nlh->nlmsg_type = RTM_DELLINK;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
		nlh->nlmsg_seq = nlsock_next_seq(s);
		ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
		ifm->ifi_family = AF_UNSPEC;
		mnl_attr_put_u32(nlh, IFLA_GROUP, REAPER_GROUP);
		r = nlsock_transact(s, buf, nlh->nlmsg_len, nlh->nlmsg_seq, 1, NULL, kerr);
	}
	j = batch;
	for (unsigned i = 0; i < tagged; i++, j = j->next)
		if (errs[i] == 0)
			j->err = gone(r) ? 0 : r;
}

static void *worker(void *arg)
{
	struct reaper *rp = arg;
	struct nlsock *s = NULL;
	int open_err = 0;

	pthread_mutex_lock(&rp->lock);
	for (;;) {
		struct job *batch, *last, *j;
		unsigned n = 0;

		while (!rp->todo && !rp->stopping)
			pthread_cond_wait(&rp->cond, &rp->lock);
		if (rp->stopping)
			break;
		batch = rp->todo;
		for (last = batch; last->next && n < REAPER_BATCH - 1; last = last->next)
			n++;
		rp->todo = last->next;
		if (!rp->todo)
			rp->todo_tail = NULL;
		last->next = NULL;
		pthread_mutex_unlock(&rp->lock);

		/* (Re)open the socket here, so a failure once is not a failure forever. */
		if (!s)
			open_err = nlsock_open(-1, &s);
		if (!s)
			for (j = batch; j; j = j->next)
				j->err = open_err;
		else
			delete_batch(s, batch);

		pthread_mutex_lock(&rp->lock);
		last->next = rp->done;
		rp->done = batch;
		uv_async_send(&rp->async);
	}
	pthread_mutex_unlock(&rp->lock);
	nlsock_free(s);
	return NULL;
}

static void on_async(uv_async_t *h)
{
	struct reaper *rp = h->data;
	struct job *done, *next;

	pthread_mutex_lock(&rp->lock);
	done = rp->done;
	rp->done = NULL;
	pthread_mutex_unlock(&rp->lock);
	for (; done; done = next) {
		next = done->next;
		rp->pending--;
		rp->cb(rp->userdata, done->name, done->ifindex, done->err);
		free(done);
	}
}

int reaper_start(uv_loop_t *loop, reaper_done_cb cb, void *userdata, struct reaper **ret)
{
	struct reaper *rp = calloc(1, sizeof(*rp));
	int r;

	if (!rp)
		return -ENOMEM;
	rp->cb = cb;
	rp->userdata = userdata;
	pthread_mutex_init(&rp->lock, NULL);
	pthread_cond_init(&rp->cond, NULL);
	r = uv_async_init(loop, &rp->async, on_async);
	if (r < 0) {
		free(rp);
		return r;
	}
	rp->async.data = rp;
	r = pthread_create(&rp->thread, NULL, worker, rp);
	if (r != 0) {
		rp->stopping = true;
		reaper_stop(rp);
		return -r;
	}
	rp->thread_started = true;
	*ret = rp;
	return 0;
}

int reaper_queue(struct reaper *rp, const char *name, int ifindex)
{
	struct job *j = calloc(1, sizeof(*j));

	if (!j)
		return -ENOMEM;
	snprintf(j->name, sizeof(j->name), "%s", name);
	j->ifindex = ifindex;
	pthread_mutex_lock(&rp->lock);
	append(&rp->todo, &rp->todo_tail, j);
	rp->pending++;
	pthread_cond_signal(&rp->cond);
	pthread_mutex_unlock(&rp->lock);
	return 0;
}

size_t reaper_pending(struct reaper *rp)
{
	return rp->pending;
}

static void free_jobs(struct job *j)
{
	while (j) {
		struct job *next = j->next;

		free(j);
		j = next;
	}
}

static void on_close(uv_handle_t *h)
{
	struct reaper *rp = h->data;

	free_jobs(rp->todo);
	free_jobs(rp->done);
	pthread_mutex_destroy(&rp->lock);
	pthread_cond_destroy(&rp->cond);
	free(rp);
}

void reaper_stop(struct reaper *rp)
{
	if (!rp)
		return;
	pthread_mutex_lock(&rp->lock);
	rp->stopping = true;
	pthread_cond_signal(&rp->cond);
	pthread_mutex_unlock(&rp->lock);
	if (rp->thread_started)
		pthread_join(rp->thread, NULL);
	uv_close((uv_handle_t *)&rp->async, on_close);
}
