/* lib/pending_del: the record a DEL leaves when shoald is down is the only trace of that DEL; a
 * record lost or refused by the reader leaves an attachment (and its address) behind for good. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fileio.h"
#include "lib/names.h"
#include "lib/pending_del.h"

struct tmp {
	char dir[64];
	char pending[128];
};

static int tmp_setup(void **state)
{
	struct tmp *t = calloc(1, sizeof(*t));

	strcpy(t->dir, "/tmp/test_pending_del.XXXXXX");
	if (!mkdtemp(t->dir))
		return -1;
	snprintf(t->pending, sizeof(t->pending), "%s/pending-del", t->dir);
	*state = t;
	return 0;
}

static int tmp_teardown(void **state)
{
	struct tmp *t = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	(void)!system(cmd);
	free(t);
	return 0;
}

static struct pending_del rec(const char *id, const char *ifname, const char *netns, int64_t time)
{
	struct pending_del p;

	memset(&p, 0, sizeof(p));
	snprintf(p.container_id, sizeof(p.container_id), "%s", id);
	snprintf(p.ifname, sizeof(p.ifname), "%s", ifname);
	snprintf(p.netns, sizeof(p.netns), "%s", netns);
	p.time = time;
	return p;
}

static void assert_rec_equal(const struct pending_del *a, const struct pending_del *b)
{
	assert_string_equal(a->container_id, b->container_id);
	assert_string_equal(a->ifname, b->ifname);
	assert_string_equal(a->netns, b->netns);
	assert_int_equal(a->time, b->time);
}

/* Names of the files in dir, sorted, joined by ' '. */
static void list_dir(const char *dir, char *buf, size_t size)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);
	size_t o = 0;

	buf[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.')
			o += (size_t)snprintf(buf + o, o < size ? size - o : 0, "%s%s", o ? " " : "", names[i]->d_name);
		free(names[i]);
	}
	if (n >= 0)
		free(names);
}

static int count_files(const char *dir)
{
	char buf[8192];
	int n = 0;

	list_dir(dir, buf, sizeof(buf));
	for (char *p = buf; *p; p++)
		n += *p == ' ';
	return buf[0] ? n + 1 : 0;
}

static char *long_id(char c, size_t n)
{
	static char ids[4][300];
	static int k;
	char *id = ids[k++ % 4];

	memset(id, c, n);
	id[n] = '\0';
	return id;
}

static void test_round_trip(void **state)
{
	const struct pending_del cases[] = {
		rec("ctr-9", "net1", "/var/run/netns/gone", 1712345678),
		rec("c", "e", "", 0),
		rec(long_id('a', 256), "123456789012345", "", INT64_MAX),
		rec("x.y-z_1", "e%d", "/proc/123/ns/net", 1),   /* a name an older ADD allowed */
		rec("c1", "eth0", "/run/netns/\xc3\xa9t\xc3\xa9 \"q\"\\", 5),
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pending_del back;
		char err[PENDING_DEL_ERR_SIZE] = "", *json = NULL;

		assert_int_equal(pending_del_format(&cases[i], &json), 0);
		if (pending_del_parse(json, strlen(json), &back, err) != 0)
			fail_msg("case %zu: %s refused: %s", i, json, err);
		assert_rec_equal(&back, &cases[i]);
		free(json);
	}

	struct pending_del p = rec("c1", "eth0", "", 7), back;
	char err[PENDING_DEL_ERR_SIZE], *json;

	/* netns of 255 bytes: the longest that fits. */
	memset(p.netns, 'n', sizeof(p.netns) - 1);
	p.netns[0] = '/';
	assert_int_equal(pending_del_format(&p, &json), 0);
	assert_int_equal(pending_del_parse(json, strlen(json), &back, err), 0);
	assert_int_equal(strlen(back.netns), 255);
	assert_rec_equal(&back, &p);
	free(json);

	/* The exact format (the integration tests and operators read it with jq). */
	p = rec("c1", "eth0", "/n", 42);
	assert_int_equal(pending_del_format(&p, &json), 0);
	assert_string_equal(json, "{\"containerId\":\"c1\",\"ifname\":\"eth0\",\"netns\":\"/n\",\"time\":42}");
	free(json);
}

static void test_parse_tolerant(void **state)
{
	const char *t = "{\"extra\":[1,{}],\"time\":3,\"ifname\":\"eth0\",\"containerId\":\"c1\",\"v\":2}";
	struct pending_del p;
	char err[PENDING_DEL_ERR_SIZE];

	/* Unknown keys ignored, netns may be absent (= ""), order free, whitespace free. */
	assert_int_equal(pending_del_parse(t, strlen(t), &p, err), 0);
	assert_string_equal(p.container_id, "c1");
	assert_string_equal(p.ifname, "eth0");
	assert_string_equal(p.netns, "");
	assert_int_equal(p.time, 3);
	t = " {\n \"containerId\" : \"c1\", \"ifname\":\"eth0\", \"netns\":\"\", \"time\": 0 }\n";
	assert_int_equal(pending_del_parse(t, strlen(t), &p, err), 0);
	/* Only len bytes count. */
	t = "{\"containerId\":\"c1\",\"ifname\":\"eth0\",\"time\":9}garbage";
	assert_int_equal(pending_del_parse(t, strlen(t) - 7, &p, err), 0);
	assert_int_equal(p.time, 9);
}

static void test_parse_refused(void **state)
{
	char big_id[400], big_netns[400];
	static const char *const ok_id = "\"containerId\":\"c1\"", *const ok_if = "\"ifname\":\"eth0\"";
	struct {
		char text[600];
		const char *substr;
	} cases[32];
	size_t n = 0;

#define CASE(sub, ...) do { snprintf(cases[n].text, sizeof(cases[n].text), __VA_ARGS__); cases[n++].substr = (sub); } while (0)
	CASE("not JSON", "%s", "");
	CASE("not JSON", "%s", "{");
	CASE("not JSON", "{%s,%s,\"time\":1", ok_id, ok_if);
	CASE("not a JSON object", "%s", "[]");
	CASE("not a JSON object", "%s", "[{\"containerId\":\"c1\",\"ifname\":\"eth0\",\"time\":1}]");
	CASE("no \"containerId\"", "{%s,\"time\":1}", ok_if);
	CASE("\"containerId\" must be a string", "{\"containerId\":1,%s,\"time\":1}", ok_if);
	CASE("\"containerId\" must be a string", "{\"containerId\":null,%s,\"time\":1}", ok_if);
	CASE("\"containerId\" is not a valid container id", "{\"containerId\":\"\",%s,\"time\":1}", ok_if);
	CASE("\"containerId\" is not a valid container id", "{\"containerId\":\"../x\",%s,\"time\":1}", ok_if);
	CASE("\"containerId\" is not a valid container id", "{\"containerId\":\"a@b\",%s,\"time\":1}", ok_if);
	memset(big_id, 'a', 257);
	big_id[257] = '\0';
	CASE("\"containerId\" is longer than 256 bytes", "{\"containerId\":\"%s\",%s,\"time\":1}", big_id, ok_if);
	CASE("not JSON", "{\"containerId\":\"c\\u0000d\",%s,\"time\":1}", ok_if);   /* jansson refuses NUL */
	CASE("no \"ifname\"", "{%s,\"time\":1}", ok_id);
	CASE("\"ifname\" must be a string", "{%s,\"ifname\":[],\"time\":1}", ok_id);
	CASE("\"ifname\" is not a valid interface name", "{%s,\"ifname\":\"\",\"time\":1}", ok_id);
	CASE("\"ifname\" is not a valid interface name", "{%s,\"ifname\":\"a/b\",\"time\":1}", ok_id);
	CASE("\"ifname\" is not a valid interface name", "{%s,\"ifname\":\"..\",\"time\":1}", ok_id);
	CASE("\"ifname\" is longer than 15 bytes", "{%s,\"ifname\":\"abcdefghijklmnop\",\"time\":1}", ok_id);
	CASE("\"netns\" must be a string", "{%s,%s,\"netns\":null,\"time\":1}", ok_id, ok_if);
	memset(big_netns, 'n', 256);
	big_netns[256] = '\0';
	CASE("\"netns\" is longer than 255 bytes", "{%s,%s,\"netns\":\"%s\",\"time\":1}", ok_id, ok_if, big_netns);
	CASE("no \"time\"", "{%s,%s}", ok_id, ok_if);
	CASE("\"time\" must be an integer", "{%s,%s,\"time\":\"1\"}", ok_id, ok_if);
	CASE("\"time\" must be an integer", "{%s,%s,\"time\":1.5}", ok_id, ok_if);
	CASE("\"time\" must be an integer", "{%s,%s,\"time\":null}", ok_id, ok_if);
	CASE("\"time\" is negative", "{%s,%s,\"time\":-1}", ok_id, ok_if);
	CASE("not JSON", "{%s,%s,\"time\":1,\"containerId\":\"c2\"}", ok_id, ok_if);   /* duplicate key */
#undef CASE

	for (size_t i = 0; i < n; i++) {
		struct pending_del p;
		char err[PENDING_DEL_ERR_SIZE] = "";

		memset(&p, 0x55, sizeof(p));
		if (pending_del_parse(cases[i].text, strlen(cases[i].text), &p, err) != -EINVAL)
			fail_msg("case %zu accepted: %.200s", i, cases[i].text);
		if (!strstr(err, cases[i].substr))
			fail_msg("case %zu %.200s: error \"%s\" does not say \"%s\"", i, cases[i].text, err, cases[i].substr);
		/* ret is written only on success */
		assert_int_equal((unsigned char)p.container_id[0], 0x55);
	}
	/* A raw NUL inside the data ends nothing: it is refused. */
	const char nul[] = "{\"containerId\":\"c1\",\"ifname\":\"eth0\",\"time\":1}\0";
	struct pending_del p;
	char err[PENDING_DEL_ERR_SIZE];

	assert_int_equal(pending_del_parse(nul, sizeof(nul), &p, err), -EINVAL);
}

static void test_format_refused(void **state)
{
	struct pending_del bad[] = {
		rec("", "eth0", "", 1),
		rec("-c", "eth0", "", 1),
		rec("c1", "", "", 1),
		rec("c1", "a:b", "", 1),
		rec("c1", "eth0", "/run/netns/\xff", 1),       /* not UTF-8: JSON cannot carry it */
		rec("c1", "eth0", "/run/netns/\xed\xa0\x80", 1), /* a UTF-16 surrogate */
		rec("c1", "eth0", "", -5),
	};
	char *json = (char *)"untouched", err[PENDING_DEL_ERR_SIZE];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (pending_del_format(&bad[i], &json) != -EINVAL)
			fail_msg("case %zu formatted", i);
		assert_int_equal(pending_del_validate(&bad[i], err), -EINVAL);
	}
	assert_string_equal(json, "untouched");

	/* Fields without a terminating NUL are refused, not read past. */
	struct pending_del p = rec("c1", "eth0", "", 1);

	memset(p.ifname, 'e', sizeof(p.ifname));
	assert_int_equal(pending_del_format(&p, &json), -EINVAL);
	p = rec("c1", "eth0", "", 1);
	memset(p.netns, 'n', sizeof(p.netns));
	assert_int_equal(pending_del_validate(&p, err), -EINVAL);
	assert_non_null(strstr(err, "\"netns\" is longer than 255 bytes"));
	p = rec("c1", "eth0", "", 1);
	memset(p.container_id, 'c', sizeof(p.container_id));
	assert_int_equal(pending_del_validate(&p, err), -EINVAL);
}

static void read_back(const char *path, const struct pending_del *want)
{
	struct pending_del got;
	char err[PENDING_DEL_ERR_SIZE];
	struct stat st;

	if (pending_del_read(path, &got, err) != 0)
		fail_msg("%s: %s", path, err);
	assert_rec_equal(&got, want);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
}

static void test_write_plain(void **state)
{
	struct tmp *t = *state;
	struct pending_del p = rec("ctr-9", "net1", "/var/run/netns/gone", 100);
	char path[PATH_MAX], want[PATH_MAX], files[1024];
	struct stat st;

	assert_int_equal(pending_del_write(t->dir, &p, path, sizeof(path)), 0);
	snprintf(want, sizeof(want), "%s/ctr-9@net1.json", t->pending);
	assert_string_equal(path, want);
	read_back(path, &p);
	assert_int_equal(stat(t->pending, &st), 0);
	assert_true(S_ISDIR(st.st_mode));

	/* A repeated DEL replaces its record; a NULL ret_path is fine. */
	p.time = 200;
	p.netns[0] = '\0';
	assert_int_equal(pending_del_write(t->dir, &p, NULL, 0), 0);
	read_back(want, &p);
	list_dir(t->pending, files, sizeof(files));
	assert_string_equal(files, "ctr-9@net1.json");

	/* The same id with another ifname is another record. */
	p = rec("ctr-9", "net2", "", 1);
	assert_int_equal(pending_del_write(t->dir, &p, NULL, 0), 0);
	list_dir(t->pending, files, sizeof(files));
	assert_string_equal(files, "ctr-9@net1.json ctr-9@net2.json");

	/* An invalid record is not written, nor is anything else. */
	p = rec("../../etc", "eth0", "", 1);
	assert_int_equal(pending_del_write(t->dir, &p, path, sizeof(path)), -EINVAL);
	assert_int_equal(count_files(t->pending), 2);
}

/* Two containers whose host veth names collide: both DELs must be kept. */
static void test_write_veth_collision(void **state)
{
	struct tmp *t = *state;
	struct pending_del a = rec("e0e5b79c59b004c8", "eth0", "/run/netns/a", 1);
	struct pending_del b = rec("d0da1fd138f4dfbc", "eth0", "/run/netns/b", 2);
	char va[IFNAME_SIZE], vb[IFNAME_SIZE], pa[PATH_MAX], pb[PATH_MAX], files[1024];

	names_host_veth(a.container_id, a.ifname, va);
	names_host_veth(b.container_id, b.ifname, vb);
	assert_string_equal(va, vb);
	assert_int_equal(pending_del_write(t->dir, &a, pa, sizeof(pa)), 0);
	assert_int_equal(pending_del_write(t->dir, &b, pb, sizeof(pb)), 0);
	assert_string_not_equal(pa, pb);
	read_back(pa, &a);
	read_back(pb, &b);
	list_dir(t->pending, files, sizeof(files));
	assert_string_equal(files, "d0da1fd138f4dfbc@eth0.json e0e5b79c59b004c8@eth0.json");
}

static uint64_t key_hash(const char *id, const char *ifname)
{
	uint64_t h = names_hash(id, strlen(id), 0);

	h = names_hash("\0", 1, h);
	return names_hash(ifname, strlen(ifname), h);
}

/* Ids of up to 256 bytes do not fit NAME_MAX with the ifname: hashed names, made unique. */
static void test_write_long_id(void **state)
{
	struct tmp *t = *state;
	char *id1 = long_id('a', 256), *id2 = long_id('b', 256), *id3 = long_id('c', 250);
	struct pending_del p1 = rec(id1, "eth0", "/n1", 1), p2 = rec(id2, "eth0", "/n2", 2), p3 = rec(id3, "eth1", "", 3);
	char path[PATH_MAX], path2[PATH_MAX], want[PATH_MAX], name[PENDING_DEL_NAME_MAX + 1];
	struct pending_del other = rec("zz", "eth9", "", 9);

	assert_int_equal(pending_del_file_name(id1, "eth0", name, sizeof(name)), -ENAMETOOLONG);
	assert_int_equal(pending_del_file_name(long_id('d', 200), "eth0", name, sizeof(name)), 0);
	assert_int_equal(pending_del_file_name("-x", "eth0", name, sizeof(name)), -EINVAL);

	assert_int_equal(pending_del_write(t->dir, &p1, path, sizeof(path)), 0);
	snprintf(want, sizeof(want), "%s/h%016llx.0.json", t->pending, (unsigned long long)key_hash(id1, "eth0"));
	assert_string_equal(path, want);
	read_back(path, &p1);
	/* Repeated: the same slot is replaced. */
	p1.time = 10;
	assert_int_equal(pending_del_write(t->dir, &p1, path2, sizeof(path2)), 0);
	assert_string_equal(path2, path);
	read_back(path, &p1);
	assert_int_equal(pending_del_write(t->dir, &p2, path2, sizeof(path2)), 0);
	assert_string_not_equal(path2, path);
	read_back(path2, &p2);

	/* Another key already in this key's slot 0 (a 64-bit collision, made here by hand) and an
	 * empty file in slot 1 (a writer that claimed it and has not renamed yet): slot 2. */
	snprintf(want, sizeof(want), "%s/h%016llx.0.json", t->pending, (unsigned long long)key_hash(id3, "eth1"));
	assert_int_equal(pending_del_write(t->dir, &other, path, sizeof(path)), 0);
	assert_int_equal(rename(path, want), 0);
	snprintf(want, sizeof(want), "%s/h%016llx.1.json", t->pending, (unsigned long long)key_hash(id3, "eth1"));
	assert_int_equal(file_write_atomic(want, "", 0, 0600), 0);
	assert_int_equal(pending_del_write(t->dir, &p3, path, sizeof(path)), 0);
	snprintf(want, sizeof(want), "%s/h%016llx.2.json", t->pending, (unsigned long long)key_hash(id3, "eth1"));
	assert_string_equal(path, want);
	read_back(path, &p3);
	snprintf(want, sizeof(want), "%s/h%016llx.0.json", t->pending, (unsigned long long)key_hash(id3, "eth1"));
	read_back(want, &other);   /* untouched */
	assert_int_equal(count_files(t->pending), 5);

	/* Remove finds it by content and leaves the other key's record in the same hash alone. */
	assert_int_equal(pending_del_remove(t->dir, id3, "eth1"), 0);
	assert_int_equal(access(path, F_OK), -1);
	read_back(want, &other);
	assert_int_equal(pending_del_remove(t->dir, id1, "eth0"), 0);
	assert_int_equal(count_files(t->pending), 3);   /* p2, other, the empty claim */
}

static void test_remove(void **state)
{
	struct tmp *t = *state;
	struct pending_del a = rec("e0e5b79c59b004c8", "eth0", "", 1), b = rec("d0da1fd138f4dfbc", "eth0", "", 2);
	char veth[IFNAME_SIZE], legacy[PATH_MAX], files[1024], *json;

	/* No directory yet: nothing to remove, no error. */
	assert_int_equal(pending_del_remove(t->dir, "c1", "eth0"), 0);
	assert_int_equal(pending_del_remove(t->dir, "-bad", "eth0"), -EINVAL);

	assert_int_equal(pending_del_write(t->dir, &a, NULL, 0), 0);
	assert_int_equal(pending_del_write(t->dir, &b, NULL, 0), 0);
	assert_int_equal(pending_del_remove(t->dir, a.container_id, "eth0"), 0);
	list_dir(t->pending, files, sizeof(files));
	assert_string_equal(files, "d0da1fd138f4dfbc@eth0.json");
	assert_int_equal(pending_del_remove(t->dir, a.container_id, "eth0"), 0);   /* again: still 0 */

	/* A record an older plugin wrote under the host veth name: removed only when it holds the key
	 * (the colliding container's DEL must stay). */
	names_host_veth(a.container_id, a.ifname, veth);
	snprintf(legacy, sizeof(legacy), "%s/%s.json", t->pending, veth);
	assert_int_equal(pending_del_format(&b, &json), 0);
	assert_int_equal(file_write_atomic(legacy, json, strlen(json), 0600), 0);
	free(json);
	assert_int_equal(pending_del_remove(t->dir, a.container_id, "eth0"), 0);
	assert_int_equal(access(legacy, F_OK), 0);
	assert_int_equal(pending_del_format(&a, &json), 0);
	assert_int_equal(file_write_atomic(legacy, json, strlen(json), 0600), 0);
	free(json);
	assert_int_equal(pending_del_remove(t->dir, a.container_id, "eth0"), 0);
	assert_int_equal(access(legacy, F_OK), -1);
	list_dir(t->pending, files, sizeof(files));
	assert_string_equal(files, "d0da1fd138f4dfbc@eth0.json");
}

static void test_read_errors(void **state)
{
	struct tmp *t = *state;
	char path[PATH_MAX], err[PENDING_DEL_ERR_SIZE], *big;
	struct pending_del p;

	snprintf(path, sizeof(path), "%s/none.json", t->dir);
	assert_int_equal(pending_del_read(path, &p, err), -ENOENT);
	assert_non_null(strstr(err, "cannot read"));
	big = malloc(PENDING_DEL_MAX_SIZE + 2);
	memset(big, ' ', PENDING_DEL_MAX_SIZE + 1);
	snprintf(path, sizeof(path), "%s/big.json", t->dir);
	assert_int_equal(file_write_atomic(path, big, PENDING_DEL_MAX_SIZE + 1, 0600), 0);
	free(big);
	assert_int_equal(pending_del_read(path, &p, err), -EFBIG);
	snprintf(path, sizeof(path), "%s/empty.json", t->dir);
	assert_int_equal(file_write_atomic(path, "", 0, 0600), 0);
	assert_int_equal(pending_del_read(path, &p, err), -EINVAL);
}

static void test_write_errors(void **state)
{
	struct tmp *t = *state;
	struct pending_del p = rec("c1", "eth0", "", 1);
	char blocker[PATH_MAX];

	/* The state directory is a regular file: an error, nothing half-written. */
	snprintf(blocker, sizeof(blocker), "%s/file", t->dir);
	assert_int_equal(file_write_atomic(blocker, "x", 1, 0600), 0);
	assert_int_equal(pending_del_write(blocker, &p, NULL, 0), -ENOTDIR);
}

#define T(f) cmocka_unit_test_setup_teardown(f, tmp_setup, tmp_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_round_trip),
		T(test_parse_tolerant),
		T(test_parse_refused),
		T(test_format_refused),
		T(test_write_plain),
		T(test_write_veth_collision),
		T(test_write_long_id),
		T(test_remove),
		T(test_read_errors),
		T(test_write_errors),
	};

	return cmocka_run_group_tests_name("pending_del", tests, NULL, NULL);
}
