/* Unit tests of the plugin's command dispatch (cni-plugin/plugin.c) against a fake shoald: a thread
 * serving one canned answer on a unix socket in a temporary directory.  No root: ADD and CHECK are
 * exercised up to the netns checks here; the full ADD runs in tests/integration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cni-plugin/cni.h"
#include "cni-plugin/plugin.h"
#include "lib/cnierr.h"
#include "lib/fileio.h"
#include "lib/names.h"
#include "lib/pending_del.h"

struct fake {
	char dir[64];
	char sock[128];
	char state[128];
	int lfd;
	pthread_t thread;
	bool running;
	const char *answer;     /* NULL: close without answering */
	char *request;          /* what the plugin sent */
	int got_fd;             /* a passed fd arrived */
	int connections;
};

static void *fake_serve(void *arg)
{
	struct fake *f = arg;
	int c = accept(f->lfd, NULL, NULL);
	char buf[65536];
	size_t len = 0;

	if (c < 0)
		return NULL;
	f->connections++;
	for (;;) {
		union {
			char b[CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} u;
		struct iovec iov = { .iov_base = buf + len, .iov_len = sizeof(buf) - 1 - len };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof(u.b) };
		ssize_t n = recvmsg(c, &msg, MSG_CMSG_CLOEXEC);
		struct cmsghdr *cm;

		if (n <= 0)
			break;
		for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
			if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
				int fd;

				memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
				close(fd);
				f->got_fd = 1;
			}
		}
		len += (size_t)n;
	}
	buf[len] = '\0';
	f->request = strdup(buf);
	if (f->answer)
		(void)!write(c, f->answer, strlen(f->answer));
	close(c);
	return NULL;
}

static int fake_setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/test_cni_plugin.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->sock, sizeof(f->sock), "%s/shoald.sock", f->dir);
	snprintf(f->state, sizeof(f->state), "%s/state", f->dir);
	f->lfd = -1;
	*state = f;
	return 0;
}

static void fake_start(struct fake *f, const char *answer)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	free(f->request);
	f->request = NULL;
	f->connections = 0;
	f->got_fd = 0;
	f->answer = answer;
	f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(f->lfd >= 0);
	strcpy(sa.sun_path, f->sock);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->lfd, 4), 0);
	assert_int_equal(pthread_create(&f->thread, NULL, fake_serve, f), 0);
	f->running = true;
}

/* Wait for the served connection (or stop a server nobody connected to). */
static void fake_stop(struct fake *f)
{
	if (!f->running)
		return;
	if (f->connections == 0) {
		/* Unblock accept(): connect once ourselves if the plugin never did. */
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		int s = socket(AF_UNIX, SOCK_STREAM, 0);

		strcpy(sa.sun_path, f->sock);
		if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			shutdown(s, SHUT_WR);
		pthread_join(f->thread, NULL);
		close(s);
		f->connections--;   /* ours does not count */
	} else {
		pthread_join(f->thread, NULL);
	}
	close(f->lfd);
	f->lfd = -1;
	unlink(f->sock);
	f->running = false;
}

static int fake_teardown(void **state)
{
	struct fake *f = *state;
	char cmd[256];

	fake_stop(f);
	free(f->request);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	(void)!system(cmd);
	free(f);
	return 0;
}

/* A config for the fake: version, extra keys (may be ""). */
static char *conf_text(const struct fake *f, const char *version, const char *extra)
{
	char *s = NULL;

	assert_true(asprintf(&s, "{\"cniVersion\":\"%s\",\"name\":\"lab\",\"type\":\"shoal\",\"socket\":\"%s\","
				 "\"stateDir\":\"%s\",\"timeoutMs\":2000%s%s}",
			     version, f->sock, f->state, *extra ? "," : "", extra) > 0);
	return s;
}

static int run(struct cni_env *env, const char *conf, struct cni_plugin_reply *reply)
{
	struct cni_error err;
	int r = cni_env_validate(env, &err);

	if (r < 0)
		fail_msg("test env invalid: %s", err.msg);
	return cni_plugin_run(env, conf, strlen(conf), reply);
}

static json_t *request_json(const struct fake *f)
{
	json_t *j;

	assert_non_null(f->request);
	j = json_loads(f->request, 0, NULL);
	assert_non_null(j);
	return j;
}

/* ---- stdin ---- */

static void test_read_input(void **state)
{
	struct cni_error err;
	char buf[9];
	size_t len;
	int p[2];

	/* Exactly size - 1 bytes fit. */
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "12345678", 8), 8);
	close(p[1]);
	assert_int_equal(cni_plugin_read_input(p[0], buf, sizeof(buf), &len, &err), 0);
	assert_int_equal(len, 8);
	assert_string_equal(buf, "12345678");
	close(p[0]);

	/* One more is refused with code 5. */
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "123456789", 9), 9);
	close(p[1]);
	assert_int_equal(cni_plugin_read_input(p[0], buf, sizeof(buf), &len, &err), -EFBIG);
	assert_int_equal(err.code, CNI_ERR_IO);
	assert_non_null(strstr(err.msg, "larger than 8 bytes"));
	close(p[0]);

	/* Empty. */
	assert_int_equal(pipe(p), 0);
	close(p[1]);
	assert_int_equal(cni_plugin_read_input(p[0], buf, sizeof(buf), &len, &err), 0);
	assert_int_equal(len, 0);
	close(p[0]);
}

/* ---- VERSION ---- */

static void test_version(void **state)
{
	struct cni_env env = { .command = "VERSION" };
	struct cni_plugin_reply reply;
	const struct { const char *in, *want; } cases[] = {
		{ "{\"cniVersion\":\"0.4.0\"}", "0.4.0" },
		{ "{\"cniVersion\":\"0.2.0\"}", "0.2.0" },   /* a probe is answered, whatever it speaks */
		{ "", "1.1.0" },
		{ "garbage", "1.1.0" },
		{ "{\"cniVersion\":\"1.1.0; rm\"}", "1.1.0" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(run(&env, cases[i].in, &reply), 0);
		assert_string_equal(json_string_value(json_object_get(reply.output, "cniVersion")), cases[i].want);
		assert_int_equal(json_array_size(json_object_get(reply.output, "supportedVersions")), 5);
		cni_plugin_reply_done(&reply);
	}
}

/* ---- DEL ---- */

static void test_del_ok(void **state)
{
	struct fake *f = *state;
	struct cni_env env = { .command = "DEL", .container_id = "c1", .ifname = "eth0" };
	struct cni_plugin_reply reply;
	char *conf = conf_text(f, "1.1.0", "\"prevResult\":{\"bogus\":1}");
	json_t *req;

	fake_start(f, "{\"ok\":true}");
	assert_int_equal(run(&env, conf, &reply), 0);
	assert_null(reply.output);
	fake_stop(f);
	req = request_json(f);
	assert_string_equal(json_string_value(json_object_get(req, "op")), "del");
	assert_string_equal(json_string_value(json_object_get(req, "containerId")), "c1");
	assert_string_equal(json_string_value(json_object_get(req, "ifname")), "eth0");
	assert_false(f->got_fd);
	json_decref(req);
	free(conf);
}

static void test_del_refused(void **state)
{
	struct fake *f = *state;
	struct cni_env env = { .command = "DEL", .container_id = "c1", .ifname = "eth0" };
	struct cni_plugin_reply reply;
	char *conf = conf_text(f, "0.3.0", ""), *text;
	json_t *e;

	fake_start(f, "{\"ok\":false,\"code\":103,\"msg\":\"kernel said no\",\"details\":\"link shv1: Busy\"}");
	assert_int_not_equal(run(&env, conf, &reply), 0);
	fake_stop(f);
	e = cni_plugin_reply_json(&reply, -1);
	text = json_dumps(e, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(text, "{\"cniVersion\":\"0.3.0\",\"code\":103,\"details\":\"link shv1: Busy\","
				  "\"msg\":\"kernel said no\"}");
	free(text);
	json_decref(e);
	free(conf);
}

static void test_del_unreachable_records(void **state)
{
	struct fake *f = *state;
	struct cni_env env = { .command = "DEL", .container_id = "ctr-9", .ifname = "net1", .netns = "/var/run/netns/gone" };
	struct cni_plugin_reply reply;
	char *conf = conf_text(f, "1.0.0", ""), path[256], *data;
	json_t *rec;

	/* No server: connect fails with ENOENT.  The record is named by the attachment key. */
	assert_int_equal(run(&env, conf, &reply), 0);
	assert_null(reply.output);
	snprintf(path, sizeof(path), "%s/pending-del/ctr-9@net1.json", f->state);
	assert_int_equal(file_read_all(path, 4096, &data, NULL), 0);
	rec = json_loads(data, 0, NULL);
	assert_non_null(rec);
	assert_string_equal(json_string_value(json_object_get(rec, "containerId")), "ctr-9");
	assert_string_equal(json_string_value(json_object_get(rec, "ifname")), "net1");
	assert_string_equal(json_string_value(json_object_get(rec, "netns")), "/var/run/netns/gone");
	assert_true(json_integer_value(json_object_get(rec, "time")) > 1600000000);
	json_decref(rec);
	free(data);

	/* Repeated DEL: same record, still success. */
	assert_int_equal(run(&env, conf, &reply), 0);
	free(conf);
}

/* Two containers whose host veth names collide, deleted while shoald is down: both DELs are kept
 * (a record per veth name would let the second overwrite the first, and one attachment would stay
 * behind with its address). */
static void test_del_unreachable_veth_collision(void **state)
{
	struct fake *f = *state;
	struct cni_env a = { .command = "DEL", .container_id = "e0e5b79c59b004c8", .ifname = "eth0" };
	struct cni_env b = { .command = "DEL", .container_id = "d0da1fd138f4dfbc", .ifname = "eth0" };
	struct cni_plugin_reply reply;
	char *conf = conf_text(f, "1.1.0", ""), path[256], err[PENDING_DEL_ERR_SIZE];
	struct pending_del p;

	assert_int_equal(run(&a, conf, &reply), 0);
	assert_int_equal(run(&b, conf, &reply), 0);
	snprintf(path, sizeof(path), "%s/pending-del/e0e5b79c59b004c8@eth0.json", f->state);
	assert_int_equal(pending_del_read(path, &p, err), 0);
	assert_string_equal(p.container_id, "e0e5b79c59b004c8");
	snprintf(path, sizeof(path), "%s/pending-del/d0da1fd138f4dfbc@eth0.json", f->state);
	assert_int_equal(pending_del_read(path, &p, err), 0);
	assert_string_equal(p.container_id, "d0da1fd138f4dfbc");
	free(conf);
}

/* A CNI_NETNS the record cannot carry (DEL never opens it, shoald never reads it for a DEL) does not
 * fail the DEL: the record is written without it. */
static void test_del_unreachable_long_netns(void **state)
{
	struct fake *f = *state;
	char netns[300];
	struct cni_env env = { .command = "DEL", .container_id = "c1", .ifname = "eth0", .netns = netns };
	struct cni_plugin_reply reply;
	char *conf = conf_text(f, "1.1.0", ""), path[256], err[PENDING_DEL_ERR_SIZE];
	struct pending_del p;

	memset(netns, 'n', sizeof(netns) - 1);
	netns[0] = '/';
	netns[sizeof(netns) - 1] = '\0';
	assert_int_equal(run(&env, conf, &reply), 0);
	snprintf(path, sizeof(path), "%s/pending-del/c1@eth0.json", f->state);
	assert_int_equal(pending_del_read(path, &p, err), 0);
	assert_string_equal(p.netns, "");
	free(conf);
}

static void test_del_unreachable_unwritable(void **state)
{
	struct fake *f = *state;
	struct cni_env env = { .command = "DEL", .container_id = "c1", .ifname = "eth0" };
	struct cni_plugin_reply reply;
	char *conf, blocker[256], extra[600];

	/* stateDir below a regular file: the record cannot be written, so DEL must fail (11). */
	snprintf(blocker, sizeof(blocker), "%s/file", f->dir);
	assert_int_equal(file_write_atomic(blocker, "x", 1, 0600), 0);
	snprintf(extra, sizeof(extra), "\"socket\":\"%s/none.sock\",\"stateDir\":\"%s/sub\"", f->dir, blocker);
	assert_true(asprintf(&conf, "{\"cniVersion\":\"1.1.0\",\"name\":\"lab\",\"type\":\"shoal\",%s}", extra) > 0);
	assert_int_not_equal(run(&env, conf, &reply), 0);
	assert_int_equal(reply.err.code, CNI_ERR_TRY_AGAIN_LATER);
	assert_non_null(strstr(reply.err.msg, "shoald is not reachable at"));
	assert_non_null(strstr(reply.err.details, "could not be recorded"));
	free(conf);
}

/* ---- STATUS ---- */

static void test_status(void **state)
{
	struct fake *f = *state;
	struct cni_env env = { .command = "STATUS" };
	struct cni_plugin_reply reply;
	char *conf = conf_text(f, "1.1.0", "");
	char *old = conf_text(f, "1.0.0", "");
	json_t *req;

	fake_start(f, "{\"ok\":true,\"subnet\":\"10.244.3.0/24\",\"addressesFree\":12}");
	assert_int_equal(run(&env, conf, &reply), 0);
	assert_null(reply.output);
	fake_stop(f);
	req = request_json(f);
	assert_string_equal(json_string_value(json_object_get(req, "op")), "status");
	json_decref(req);
	free(f->request);
	f->request = NULL;

	fake_start(f, "{\"ok\":true,\"subnet\":\"10.244.3.0/30\",\"addressesFree\":0}");
	assert_int_not_equal(run(&env, conf, &reply), 0);
	fake_stop(f);
	assert_int_equal(reply.err.code, CNI_ERR_NOT_AVAILABLE);
	assert_non_null(strstr(reply.err.msg, "no free address left in subnet 10.244.3.0/30"));
	free(f->request);
	f->request = NULL;

	/* Addresses left but no bridge port: the host is just as full. */
	fake_start(f, "{\"ok\":true,\"subnet\":\"10.244.0.0/20\",\"bridge\":\"shoal0\",\"addressesFree\":3070,"
		      "\"bridgePortsFree\":0}");
	assert_int_not_equal(run(&env, conf, &reply), 0);
	fake_stop(f);
	assert_int_equal(reply.err.code, CNI_ERR_NOT_AVAILABLE);
	assert_non_null(strstr(reply.err.msg, "host full: bridge shoal0 has no free port"));
	free(f->request);
	f->request = NULL;

	fake_start(f, "{\"ok\":false,\"code\":7,\"msg\":\"store unreachable\"}");
	assert_int_not_equal(run(&env, conf, &reply), 0);
	fake_stop(f);
	assert_int_equal(reply.err.code, CNI_ERR_NOT_AVAILABLE);
	assert_string_equal(reply.err.msg, "store unreachable");
	free(f->request);
	f->request = NULL;

	fake_start(f, "{\"ok\":false,\"code\":51,\"msg\":\"peers unreachable\"}");
	assert_int_not_equal(run(&env, conf, &reply), 0);
	fake_stop(f);
	assert_int_equal(reply.err.code, CNI_ERR_LIMITED_CONNECTIVITY);
	free(f->request);
	f->request = NULL;

	/* Garbled answer and no daemon at all: 50. */
	fake_start(f, "not json");
	assert_int_not_equal(run(&env, conf, &reply), 0);
	fake_stop(f);
	assert_int_equal(reply.err.code, CNI_ERR_NOT_AVAILABLE);
	assert_int_not_equal(run(&env, conf, &reply), 0);
	assert_int_equal(reply.err.code, CNI_ERR_NOT_AVAILABLE);
	assert_non_null(strstr(reply.err.msg, "shoald is not reachable at"));
	assert_non_null(strstr(reply.err.msg, "No such file or directory"));

	/* STATUS is 1.1.0 only. */
	assert_int_not_equal(run(&env, old, &reply), 0);
	assert_int_equal(reply.err.code, CNI_ERR_INCOMPATIBLE_VERSION);
	assert_int_equal(reply.version, CNI_VERSION_1_0_0);
	free(conf);
	free(old);
}

/* ---- GC ---- */

static void test_gc(void **state)
{
	struct fake *f = *state;
	struct cni_env env = { .command = "GC", .path = "/usr/lib/cni" };
	struct cni_plugin_reply reply;
	char *conf = conf_text(f, "1.1.0", "\"cni.dev/valid-attachments\":[{\"containerID\":\"a\",\"ifname\":\"eth0\"},"
				  "{\"containerID\":\"b\",\"ifname\":\"net1\"}],\"cni.dev/attachments\":[]");
	char *legacy = conf_text(f, "1.1.0", "\"cni.dev/attachments\":[{\"containerID\":\"z\",\"ifname\":\"eth0\"}]");
	char *none = conf_text(f, "1.1.0", "");
	char *old = conf_text(f, "0.4.0", "\"cni.dev/valid-attachments\":[]");
	json_t *req, *want;

	fake_start(f, "{\"ok\":true,\"removed\":3}");
	assert_int_equal(run(&env, conf, &reply), 0);
	assert_null(reply.output);
	fake_stop(f);
	req = request_json(f);
	/* GC names its network: shoald leaves other networks' attachments alone. */
	want = json_loads("{\"op\":\"gc\",\"network\":\"lab\",\"valid\":[{\"containerId\":\"a\",\"ifname\":\"eth0\"},"
			  "{\"containerId\":\"b\",\"ifname\":\"net1\"}]}", 0, NULL);
	assert_true(json_equal(req, want));
	json_decref(req);
	json_decref(want);
	free(f->request);
	f->request = NULL;

	fake_start(f, "{\"ok\":true,\"removed\":0}");
	assert_int_equal(run(&env, legacy, &reply), 0);
	fake_stop(f);
	req = request_json(f);
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(req, "valid"), 0),
							      "containerId")), "z");
	json_decref(req);

	/* Without a list nothing is sent (it would remove everything). */
	assert_int_not_equal(run(&env, none, &reply), 0);
	assert_int_equal(reply.err.code, CNI_ERR_INVALID_CONFIG);
	assert_int_not_equal(run(&env, old, &reply), 0);
	assert_int_equal(reply.err.code, CNI_ERR_INCOMPATIBLE_VERSION);
	/* No daemon: 11. */
	assert_int_not_equal(run(&env, conf, &reply), 0);
	assert_int_equal(reply.err.code, CNI_ERR_TRY_AGAIN_LATER);
	free(conf);
	free(legacy);
	free(none);
	free(old);
}

/* ---- ADD / CHECK: refused before shoald is asked ---- */

static void expect_refused(struct fake *f, struct cni_env env, const char *conf, int code, const char *substr)
{
	struct cni_plugin_reply reply;

	fake_start(f, "{\"ok\":true}");
	if (run(&env, conf, &reply) == 0)
		fail_msg("%s accepted", env.command);
	fake_stop(f);
	if (reply.err.code != code || !strstr(reply.err.msg, substr))
		fail_msg("want %d \"%s\", got %d \"%s\"", code, substr, reply.err.code, reply.err.msg);
	assert_int_equal(f->connections, 0);
	cni_plugin_reply_done(&reply);
}

static void test_add_refused_early(void **state)
{
	struct fake *f = *state;
	struct cni_env add = { .command = "ADD", .container_id = "c1", .ifname = "eth0", .netns = "/nonexistent/ns" };
	char *conf = conf_text(f, "1.1.0", ""), regular[256];
	char *bad_prev = conf_text(f, "0.4.0", "\"prevResult\":{\"ips\":[{\"address\":\"10.0.0.1\"}]}");

	expect_refused(f, add, conf, CNI_ERR_INVALID_ENV, "CNI_NETNS \"/nonexistent/ns\" cannot be opened: No such file");
	snprintf(regular, sizeof(regular), "%s/plain", f->dir);
	assert_int_equal(file_write_atomic(regular, "x", 1, 0600), 0);
	add.netns = regular;
	expect_refused(f, add, conf, CNI_ERR_INVALID_ENV, "is not a network namespace");
	add.netns = "/proc/self/ns/mnt";
	expect_refused(f, add, conf, CNI_ERR_INVALID_ENV, "\"/proc/self/ns/mnt\" is not a network namespace");
	add.netns = "/proc/self/ns/net";
	expect_refused(f, add, conf, CNI_ERR_INVALID_ENV, "is the plugin's own network namespace");
	add.netns = "/dev/null";
	expect_refused(f, add, conf, CNI_ERR_INVALID_ENV, "is not a network namespace");
	add.netns = f->dir;
	expect_refused(f, add, conf, CNI_ERR_INVALID_ENV, "is not a network namespace");
	add.args = "K8S_POD_NAME";
	expect_refused(f, add, conf, CNI_ERR_DECODE, "CNI_ARGS: pair \"K8S_POD_NAME\" has no '='");
	add.args = NULL;
	expect_refused(f, add, bad_prev, CNI_ERR_INVALID_CONFIG, "\"prevResult\": ips[0].address");
	free(conf);
	free(bad_prev);
}

static void test_check_refused_early(void **state)
{
	struct fake *f = *state;
	struct cni_env check = { .command = "CHECK", .container_id = "c1", .ifname = "eth0", .netns = "/proc/self/ns/net" };
	char *v031 = conf_text(f, "0.3.1", "\"prevResult\":{}");
	char *noprev = conf_text(f, "1.0.0", "");
	char *badprev = conf_text(f, "1.0.0", "\"prevResult\":{\"interfaces\":[{}]}");
	char *good = conf_text(f, "1.0.0", "\"prevResult\":{\"cniVersion\":\"1.0.0\"}");

	expect_refused(f, check, v031, CNI_ERR_INCOMPATIBLE_VERSION, "does not allow CHECK");
	expect_refused(f, check, noprev, CNI_ERR_INVALID_CONFIG, "no \"prevResult\"");
	expect_refused(f, check, badprev, CNI_ERR_INVALID_CONFIG, "interfaces[0].name");
	expect_refused(f, check, good, CNI_ERR_INVALID_ENV, "plugin's own network namespace");
	free(v031);
	free(noprev);
	free(badprev);
	free(good);
}

/* ---- shoald's errors reach the runtime: the real binary, its output and its exit code ---- */

/* A network namespace other than ours, for ADD and CHECK to get past netns_open(): a child that
 * unshares one (with a user namespace when we are not root) and waits until we close a pipe. */
struct other_ns {
	pid_t pid;
	int hold;
	char path[64];
};

static bool other_ns_start(struct other_ns *o)
{
	int hold[2], ready[2];
	char c;

	assert_int_equal(pipe2(hold, O_CLOEXEC), 0);
	assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
	o->pid = fork();
	assert_true(o->pid >= 0);
	if (o->pid == 0) {
		close(hold[1]);
		close(ready[0]);
		if (unshare(CLONE_NEWNET) < 0 && unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0)
			_exit(1);
		(void)!write(ready[1], "x", 1);
		(void)!read(hold[0], &c, 1);
		_exit(0);
	}
	close(hold[0]);
	close(ready[1]);
	o->hold = hold[1];
	snprintf(o->path, sizeof(o->path), "/proc/%d/ns/net", (int)o->pid);
	if (read(ready[0], &c, 1) != 1) {
		close(ready[0]);
		close(o->hold);
		waitpid(o->pid, NULL, 0);
		return false;
	}
	close(ready[0]);
	return true;
}

static void other_ns_stop(struct other_ns *o)
{
	close(o->hold);
	waitpid(o->pid, NULL, 0);
}

/* The plugin binary next to this test's build: $BUILD/shoal (tests/run.sh), else ../shoal. */
static bool plugin_binary(char *buf, size_t size)
{
	const char *b = getenv("BUILD");
	char self[PATH_MAX];
	ssize_t n;

	if (b && *b) {
		snprintf(buf, size, "%s/shoal", b);
	} else {
		n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n <= 0)
			return false;
		self[n] = '\0';
		*strrchr(self, '/') = '\0';
		snprintf(buf, size, "%s/../shoal", self);
	}
	return access(buf, X_OK) == 0;
}

/* exec the plugin as a runtime does: only CNI_* variables, the config on stdin.  Returns the exit
 * status; stdout into out. */
static int exec_plugin(const char *bin, char *const envp[], const char *conf, char *out, size_t size)
{
	int in[2], outp[2], status;
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	assert_int_equal(pipe2(outp, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(in[0], 0);
		dup2(outp[1], 1);
		if (null >= 0)
			dup2(null, 2);
		execve(bin, (char *[]){ (char *)"shoal", NULL }, envp);
		_exit(127);
	}
	close(in[0]);
	close(outp[1]);
	assert_int_equal(write(in[1], conf, strlen(conf)), (ssize_t)strlen(conf));
	close(in[1]);
	while (len < size - 1 && (n = read(outp[0], out + len, size - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(outp[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void test_shoald_error_reaches_runtime(void **state)
{
	struct fake *f = *state;
	struct other_ns ns;
	char bin[PATH_MAX], out[8192], netns_env[96];
	char *v11 = conf_text(f, "1.1.0", "\"cni.dev/valid-attachments\":[]");
	char *check = conf_text(f, "1.0.0", "\"prevResult\":{\"cniVersion\":\"1.0.0\"}");
	const struct {
		const char *cmd, *op, *conf, *version;
		int code;
	} cases[] = {
		{ "ADD", "add", v11, "1.1.0", SHOAL_ERR_NO_ADDRESS },
		{ "CHECK", "check", check, "1.0.0", SHOAL_ERR_CHECK_FAILED },
		{ "DEL", "del", v11, "1.1.0", SHOAL_ERR_KERNEL },
		{ "GC", "gc", v11, "1.1.0", CNI_ERR_TRY_AGAIN_LATER },
		{ "STATUS", "status", v11, "1.1.0", CNI_ERR_LIMITED_CONNECTIVITY },
	};

	if (!plugin_binary(bin, sizeof(bin)))
		skip();   /* built without the plugin: nothing to exec */
	if (!other_ns_start(&ns)) {
		free(v11);
		free(check);
		skip();   /* no network namespace to be had without privileges */
	}
	snprintf(netns_env, sizeof(netns_env), "CNI_NETNS=%s", ns.path);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char answer[256], cmd_env[32], want_msg[64], *text;
		char *envp[] = { cmd_env, (char *)"CNI_CONTAINERID=c1", (char *)"CNI_IFNAME=eth0", netns_env,
				 (char *)"CNI_PATH=/usr/lib/cni", NULL };
		struct cni_env env = { .command = cases[i].cmd, .container_id = "c1", .ifname = "eth0",
				       .netns = ns.path, .path = "/usr/lib/cni" };
		struct cni_plugin_reply reply;
		json_t *o, *req;
		int rc;

		snprintf(want_msg, sizeof(want_msg), "shoald refused %s", cases[i].op);
		snprintf(answer, sizeof(answer), "{\"ok\":false,\"code\":%d,\"msg\":\"%s\",\"details\":\"why %s\"}",
			 cases[i].code, want_msg, cases[i].op);
		snprintf(cmd_env, sizeof(cmd_env), "CNI_COMMAND=%s", cases[i].cmd);

		/* In process: the reply is shoald's error. */
		fake_start(f, answer);
		if (run(&env, cases[i].conf, &reply) == 0)
			fail_msg("%s: succeeded although shoald refused", cases[i].cmd);
		fake_stop(f);
		assert_int_equal(f->connections, 1);
		req = request_json(f);
		assert_string_equal(json_string_value(json_object_get(req, "op")), cases[i].op);
		json_decref(req);
		assert_int_equal(reply.err.code, cases[i].code);
		assert_string_equal(reply.err.msg, want_msg);
		cni_plugin_reply_done(&reply);

		/* The binary: that error object on stdout, and a non-zero exit code. */
		fake_start(f, answer);
		rc = exec_plugin(bin, envp, cases[i].conf, out, sizeof(out));
		fake_stop(f);
		if (rc == 0)
			fail_msg("%s: exit code 0 although shoald refused; stdout %s", cases[i].cmd, out);
		assert_int_equal(f->connections, 1);
		o = json_loads(out, 0, NULL);
		if (!o)
			fail_msg("%s: stdout is not JSON: %s", cases[i].cmd, out);
		text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
		snprintf(answer, sizeof(answer), "{\"cniVersion\":\"%s\",\"code\":%d,\"details\":\"why %s\",\"msg\":\"%s\"}",
			 cases[i].version, cases[i].code, cases[i].op, want_msg);
		assert_string_equal(text, answer);
		free(text);
		json_decref(o);
	}
	other_ns_stop(&ns);
	free(v11);
	free(check);
}

/* shoald down: DEL still exits 0 with nothing on stdout, and leaves the record shoald will finish. */
static void test_del_down_binary(void **state)
{
	struct fake *f = *state;
	char bin[PATH_MAX], out[4096], path[256], err[PENDING_DEL_ERR_SIZE];
	char *conf = conf_text(f, "1.1.0", "");
	char *envp[] = { (char *)"CNI_COMMAND=DEL", (char *)"CNI_CONTAINERID=ctr-7", (char *)"CNI_IFNAME=eth1",
			 (char *)"CNI_NETNS=/var/run/netns/ctr-7", NULL };
	struct pending_del p;
	time_t before = time(NULL);

	if (!plugin_binary(bin, sizeof(bin))) {
		free(conf);
		skip();
	}
	assert_int_equal(exec_plugin(bin, envp, conf, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	snprintf(path, sizeof(path), "%s/pending-del/ctr-7@eth1.json", f->state);
	if (pending_del_read(path, &p, err) != 0)
		fail_msg("%s: %s", path, err);
	assert_string_equal(p.container_id, "ctr-7");
	assert_string_equal(p.ifname, "eth1");
	assert_string_equal(p.netns, "/var/run/netns/ctr-7");
	assert_true(p.time >= before && p.time <= time(NULL));
	free(conf);
}

/* "defaultRoute": false goes to shoald with ADD and CHECK; true or absent sends nothing (older
 * shoalds know no such key, and the default is a default route). */
static void test_default_route_sent(void **state)
{
	struct fake *f = *state;
	struct other_ns ns;
	const char *prev = "\"prevResult\":{\"cniVersion\":\"1.0.0\"}";
	const struct {
		const char *extra;
		int want;   /* -1 absent, 0 false */
	} confs[] = { { "", -1 }, { "\"defaultRoute\":true", -1 }, { "\"defaultRoute\":false", 0 } };

	if (!other_ns_start(&ns))
		skip();
	for (size_t i = 0; i < sizeof(confs) / sizeof(confs[0]); i++) {
		for (int c = 0; c < 2; c++) {
			struct cni_env env = { .command = c ? "CHECK" : "ADD", .container_id = "c1", .ifname = "eth0",
					       .netns = ns.path };
			struct cni_plugin_reply reply;
			char extra[128], *conf;
			json_t *req, *dr;

			snprintf(extra, sizeof(extra), "%s%s%s", confs[i].extra, c && *confs[i].extra ? "," : "",
				 c ? prev : "");
			conf = conf_text(f, "1.0.0", extra);
			fake_start(f, "{\"ok\":false,\"code\":100,\"msg\":\"x\"}");
			assert_int_not_equal(run(&env, conf, &reply), 0);
			fake_stop(f);
			req = request_json(f);
			dr = json_object_get(req, "defaultRoute");
			if (confs[i].want < 0 ? dr != NULL : !json_is_false(dr))
				fail_msg("%s with %s: request %s", env.command, conf, f->request);
			json_decref(req);
			free(conf);
		}
	}
	other_ns_stop(&ns);
}

/* ---- ADD / CHECK: bandwidth settings (runtimeConfig.bandwidth, SHOAL_* of CNI_ARGS) ---- */

/* What Debian 12's containerd sends for a pod annotated kubernetes.io/ingress-bandwidth: 10M. */
#define CONTAINERD_BW "\"runtimeConfig\":{\"bandwidth\":{\"IngressRate\":10000000,\"IngressBurst\":4294967295," \
		      "\"EgressRate\":0,\"EgressBurst\":0}}"
#define CHECK_PREV "\"prevResult\":{\"cniVersion\":\"1.0.0\"}"

static void expect_request_bandwidth(const struct fake *f, const char *what, const char *want)
{
	json_t *req = request_json(f), *bw = json_object_get(req, "bandwidth"), *w = NULL;

	if (want)
		assert_non_null(w = json_loads(want, 0, NULL));
	if (want ? !json_equal(bw, w) : bw != NULL)
		fail_msg("%s: request %s, want \"bandwidth\": %s", what, f->request, want ? want : "(none)");
	json_decref(w);
	json_decref(req);
}

/* ADD and CHECK hand shoald the merged settings; without settings the request has no "bandwidth". */
static void test_bandwidth_sent(void **state)
{
	struct fake *f = *state;
	struct other_ns ns;
	char bin[PATH_MAX], out[4096], netns_env[96];
	const char *args = "K8S_POD_NAME=web-0;SHOAL_EGRESS_GUARANTEE=5mbit;SHOAL_PRIORITY=2";
	const char *want = "{\"ingress\":{\"limit\":10000000,\"burst\":4294967295},\"egress\":{\"guarantee\":5000000},"
			   "\"priority\":2}";
	char *add = conf_text(f, "1.0.0", CONTAINERD_BW);
	char *check = conf_text(f, "1.0.0", CONTAINERD_BW "," CHECK_PREV);
	char *plain = conf_text(f, "1.0.0", CHECK_PREV);
	const struct {
		const char *cmd, *conf, *args, *want;
	} cases[] = {
		{ "ADD", add, args, want },
		{ "CHECK", check, args, want },
		{ "ADD", add, NULL, "{\"ingress\":{\"limit\":10000000,\"burst\":4294967295}}" },
		{ "ADD", plain, "SHOAL_INGRESS_LIMIT=1gbit", "{\"ingress\":{\"limit\":1000000000}}" },
		{ "ADD", plain, "K8S_POD_NAME=web-0", NULL },
		{ "CHECK", plain, NULL, NULL },
	};

	if (!other_ns_start(&ns)) {
		free(add);
		free(check);
		free(plain);
		skip();
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cni_env env = { .command = cases[i].cmd, .container_id = "c1", .ifname = "eth0", .netns = ns.path,
				       .args = cases[i].args };
		struct cni_plugin_reply reply;
		char what[64];

		fake_start(f, "{\"ok\":false,\"code\":100,\"msg\":\"x\"}");
		assert_int_not_equal(run(&env, cases[i].conf, &reply), 0);
		fake_stop(f);
		assert_int_equal(f->connections, 1);
		snprintf(what, sizeof(what), "case %zu (%s)", i, cases[i].cmd);
		expect_request_bandwidth(f, what, cases[i].want);
		cni_plugin_reply_done(&reply);
	}
	/* The binary, as containerd runs it: CNI_ARGS from the environment, rates in tc's units. */
	if (plugin_binary(bin, sizeof(bin))) {
		char *envp[] = { (char *)"CNI_COMMAND=ADD", (char *)"CNI_CONTAINERID=c1", (char *)"CNI_IFNAME=eth0", netns_env,
				 (char *)"CNI_ARGS=IgnoreUnknown=1;SHOAL_EGRESS_GUARANTEE=5mbit;SHOAL_PRIORITY=2", NULL };

		snprintf(netns_env, sizeof(netns_env), "CNI_NETNS=%s", ns.path);
		fake_start(f, "{\"ok\":false,\"code\":100,\"msg\":\"x\"}");
		assert_int_equal(exec_plugin(bin, envp, add, out, sizeof(out)), 1);
		fake_stop(f);
		assert_int_equal(f->connections, 1);
		expect_request_bandwidth(f, "the binary", want);
	}
	other_ns_stop(&ns);
	free(add);
	free(check);
	free(plain);
}

/* Invalid settings are refused before shoald is asked (and before CNI_NETNS is opened). */
static void test_bandwidth_refused_early(void **state)
{
	struct fake *f = *state;
	struct cni_env add = { .command = "ADD", .container_id = "c1", .ifname = "eth0", .netns = "/nonexistent/ns" };
	struct cni_env check = add;
	const struct {
		const char *extra, *args;
		int code;
		const char *substr;
	} cases[] = {
		{ "\"runtimeConfig\":{\"bandwidth\":{\"IngressRate\":-10000000,\"IngressBurst\":4294967295}}", NULL, 7,
		  "\"runtimeConfig.bandwidth.IngressRate\": -10000000 is negative" },
		{ "\"runtimeConfig\":{\"bandwidth\":{\"egressRate\":1e30}}", NULL, 7,
		  "\"runtimeConfig.bandwidth.egressRate\" must be an integer (bit/s), not 1e+30" },
		{ "\"runtimeConfig\":{\"bandwidth\":{\"egressRate\":18446744073709551615}}", NULL, 7,
		  "\"runtimeConfig.bandwidth.egressRate\": the integer 1.845e+19 is larger than 9223372036854775807" },
		{ "\"runtimeConfig\":{\"bandwidth\":{\"priority\":9}}", NULL, 7, "\"runtimeConfig.bandwidth.priority\": 9" },
		{ "\"runtimeConfig\":{\"bandwidth\":{\"ingressRate\":1000,\"ingressGuarantee\":2000}}", NULL, 7,
		  "ingress guarantee 2kbit (runtimeConfig.bandwidth.ingressGuarantee) exceeds" },
		{ "\"runtimeConfig\":{\"bandwidth\":5}", NULL, 7, "\"runtimeConfig.bandwidth\" must be an object" },
		{ CONTAINERD_BW, "SHOAL_INGRESS_GUARANTEE=20mbit", 4,
		  "ingress guarantee 20mbit (SHOAL_INGRESS_GUARANTEE) exceeds the ingress limit 10mbit "
		  "(runtimeConfig.bandwidth.IngressRate)" },
		{ "", "SHOAL_EGRESS_LIMIT=lots", 4, "CNI_ARGS: SHOAL_EGRESS_LIMIT \"lots\" is not a rate" },
		{ "", "SHOAL_PRIORITY=8", 4, "CNI_ARGS: SHOAL_PRIORITY \"8\" is not a priority 0..7" },
	};

	check.command = "CHECK";
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char extra[512], *conf;

		add.args = check.args = cases[i].args;
		conf = conf_text(f, "1.0.0", cases[i].extra);
		expect_refused(f, add, conf, cases[i].code, cases[i].substr);
		free(conf);
		snprintf(extra, sizeof(extra), "%s%s" CHECK_PREV, cases[i].extra, *cases[i].extra ? "," : "");
		conf = conf_text(f, "1.0.0", extra);
		expect_refused(f, check, conf, cases[i].code, cases[i].substr);
		free(conf);
	}
}

/* ---- ADD / CHECK: the CNI_IFNAME rule, before shoald is asked ---- */

static void test_ifname_refused_early(void **state)
{
	struct fake *f = *state;
	char *conf = conf_text(f, "1.1.0", "\"prevResult\":{\"cniVersion\":\"1.1.0\"}");
	char bin[PATH_MAX], out[4096];
	static const struct { const char *cmd, *ifname, *why; } cases[] = {
		{ "ADD", "e%d", "it contains '%' (a kernel name template)" },
		{ "ADD", "lo", "it is the loopback device" },
		{ "CHECK", "all", "collides with /proc/sys/net/*/conf/" },
		{ "ADD", "default", "collides with /proc/sys/net/*/conf/" },
	};

	if (!plugin_binary(bin, sizeof(bin))) {
		free(conf);
		skip();
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char cmd_env[32], if_env[32];
		char *envp[] = { cmd_env, (char *)"CNI_CONTAINERID=c1", if_env, (char *)"CNI_NETNS=/proc/1/ns/net", NULL };
		json_t *o;
		int rc;

		snprintf(cmd_env, sizeof(cmd_env), "CNI_COMMAND=%s", cases[i].cmd);
		snprintf(if_env, sizeof(if_env), "CNI_IFNAME=%s", cases[i].ifname);
		fake_start(f, "{\"ok\":true}");
		rc = exec_plugin(bin, envp, conf, out, sizeof(out));
		fake_stop(f);
		assert_int_equal(f->connections, 0);   /* shoald was never asked */
		assert_int_not_equal(rc, 0);
		o = json_loads(out, 0, NULL);
		assert_non_null(o);
		assert_int_equal(json_integer_value(json_object_get(o, "code")), CNI_ERR_INVALID_ENV);
		if (!strstr(json_string_value(json_object_get(o, "msg")), cases[i].why))
			fail_msg("%s %s: %s does not say \"%s\"", cases[i].cmd, cases[i].ifname, out, cases[i].why);
		json_decref(o);
	}
	free(conf);
}

static void test_reply_json(void **state)
{
	struct cni_plugin_reply reply = { .version = CNI_VERSION_0_3_1 };
	json_t *j;

	cni_error_set(&reply.err, 4, "x");
	j = cni_plugin_reply_json(&reply, -EINVAL);
	assert_string_equal(json_string_value(json_object_get(j, "cniVersion")), "0.3.1");
	json_decref(j);
	reply.output = NULL;
	assert_null(cni_plugin_reply_json(&reply, 0));
	cni_plugin_reply_done(&reply);
	cni_plugin_reply_done(NULL);
}

#define T(f) cmocka_unit_test_setup_teardown(f, fake_setup, fake_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_read_input),
		T(test_version),
		T(test_del_ok),
		T(test_del_refused),
		T(test_del_unreachable_records),
		T(test_del_unreachable_unwritable),
		T(test_del_unreachable_veth_collision),
		T(test_del_unreachable_long_netns),
		T(test_shoald_error_reaches_runtime),
		T(test_del_down_binary),
		T(test_default_route_sent),
		T(test_bandwidth_sent),
		T(test_bandwidth_refused_early),
		T(test_ifname_refused_early),
		T(test_status),
		T(test_gc),
		T(test_add_refused_early),
		T(test_check_refused_early),
		T(test_reply_json),
	};

	return cmocka_run_group_tests_name("cni_plugin", tests, NULL, NULL);
}
