#include "netd/reaper.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lib/names.h"
#include "overlay/nlsock.h"
#include "overlay/rtlink.h"

/* The device group used to delete a batch in one RTM_DELLINK; an arbitrary, unlikely number. */
#define REAPER_GROUP 0x5e0a1de1u
#define REAPER_BATCH 256
/* The worker waits for the kernel on its own thread, so it can afford to wait longer than the
 * loop's sockets: unregistering a whole batch takes one RCU grace period plus per-device work. */
#define REAPER_TIMEOUT_MS 30000
/* errs[] of a request the kernel never answered (a timeout); kernel answers are 0 or -errno. */
#define NO_ANSWER 1

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
	unsigned delay_ms;   /* test hook: SHOALD_TEST_REAPER_DELAY_MS */
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

static int delete_one(struct nlsock *s, struct job *j)
{
	/* A delete by name is the group tag without its IFLA_GROUP: it fits the same room. */
	char buf[RTLINK_SET_GROUP_MAXLEN] = { 0 }, kerr[NLSOCK_ERRLEN];
	int r;

	r = rtlink_build_del(buf, sizeof(buf), nlsock_next_seq(s), j->ifindex, j->name);
	if (r < 0)
		return r;
	r = nlsock_transact(s, buf, (size_t)r, ((struct nlmsghdr *)buf)->nlmsg_seq, 1, NULL, kerr);
	return gone(r) ? 0 : r;
}

/* Delete a batch: tag each device with our group, then delete the group at once.  A device that
 * vanished meanwhile (its namespace died, someone else deleted it) is simply done; a device whose
 * tagging failed otherwise keeps that error (it was not deleted). */
static void delete_batch(struct nlsock *s, struct job *batch)
{
	char buf[REAPER_BATCH * RTLINK_SET_GROUP_MAXLEN], kerr[NLSOCK_ERRLEN];
	int errs[REAPER_BATCH];
	uint32_t seq;
	size_t off = 0;
	unsigned tagged = 0, in_group = 0;
	struct job *j;
	int r;

	/* libmnl leaves attribute padding as it finds it: send zeros, not old stack. */
	memset(buf, 0, sizeof(buf));
	if (!batch->next) {
		batch->err = delete_one(s, batch);
		return;
	}
	seq = nlsock_next_seq(s);
	for (j = batch; j && tagged < REAPER_BATCH; j = j->next) {
		r = rtlink_build_set_group(buf + off, sizeof(buf) - off, seq + tagged, j->ifindex, j->name, REAPER_GROUP);
		if (r < 0)
			break;
		off += (size_t)r;
		errs[tagged++] = NO_ANSWER;
	}
	for (unsigned i = 1; i < tagged; i++)
		nlsock_next_seq(s);
	r = tagged ? nlsock_transact_each(s, buf, off, seq, tagged, errs, kerr) : 0;
	j = batch;
	for (unsigned i = 0; i < tagged; i++, j = j->next) {
		/* Unanswered (the socket failed or timed out): the device may or may not be tagged. */
		j->err = errs[i] == NO_ANSWER ? (r < 0 ? r : -EIO) : gone(errs[i]) ? 0 : errs[i];
		if (errs[i] == 0)
			in_group++;
	}
	for (; j; j = j->next)
		j->err = -ENOBUFS;   /* did not fit this batch: reported, and retried by the caller */
	if (in_group == 0)
		return;
	r = rtlink_build_del_group(buf, sizeof(buf), nlsock_next_seq(s), REAPER_GROUP);
	if (r >= 0)
		r = nlsock_transact(s, buf, (size_t)r, ((struct nlmsghdr *)buf)->nlmsg_seq, 1, NULL, kerr);
	j = batch;
	for (unsigned i = 0; i < tagged; i++, j = j->next)
		if (errs[i] == 0)
			j->err = gone(r) ? 0 : r;
}

/* Test hook: wait rp->delay_ms before a batch (the lock held on entry and exit).  Returns false when
 * reaper_stop() came meanwhile. */
static bool test_delay(struct reaper *rp)
{
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += rp->delay_ms / 1000;
	until.tv_nsec += (long)(rp->delay_ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	while (!rp->stopping)
		if (pthread_cond_timedwait(&rp->cond, &rp->lock, &until) == ETIMEDOUT)
			break;
	return !rp->stopping;
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
		/* The delay comes before the batch is taken: jobs queued meanwhile join it, and a stop
		 * during the delay leaves every job in todo (dropped, like any unprocessed job). */
		if (rp->delay_ms && !test_delay(rp))
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
		if (!s) {
			open_err = nlsock_open(-1, &s);
			if (s && (open_err = nlsock_set_timeout(s, REAPER_TIMEOUT_MS)) < 0) {
				nlsock_free(s);
				s = NULL;
			}
		}
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

/* Test hook, read once: SHOALD_TEST_REAPER_DELAY_MS=N makes the worker wait N ms before each batch,
 * so that integration tests can watch the window between DEL and the veth's removal (the address
 * must stay taken until the veth is gone).  Unset, empty, 0 or malformed: no delay. */
static unsigned test_delay_ms(void)
{
	const char *v = getenv("SHOALD_TEST_REAPER_DELAY_MS");
	unsigned long ms;
	char *end;

	if (!v || !*v)
		return 0;
	errno = 0;
	ms = strtoul(v, &end, 10);
	if (errno || *end || ms > 600000)
		return 0;
	return (unsigned)ms;
}

int reaper_start(uv_loop_t *loop, reaper_done_cb cb, void *userdata, struct reaper **ret)
{
	struct reaper *rp = calloc(1, sizeof(*rp));
	pthread_condattr_t ca;
	int r;

	if (!rp)
		return -ENOMEM;
	rp->cb = cb;
	rp->userdata = userdata;
	rp->delay_ms = test_delay_ms();
	pthread_mutex_init(&rp->lock, NULL);
	/* CLOCK_MONOTONIC for the test delay's timed wait: a clock step must not stretch it. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&rp->cond, &ca);
	pthread_condattr_destroy(&ca);
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
