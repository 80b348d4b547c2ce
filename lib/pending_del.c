#include "lib/pending_del.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/fileio.h"

#define ERR(err, ...) (snprintf((err), PENDING_DEL_ERR_SIZE, __VA_ARGS__), -EINVAL)

/* jansson refuses strings that are not UTF-8; CNI_NETNS is whatever bytes the runtime passed, so
 * the writer checks before it promises a record the format cannot carry. */
static bool utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		unsigned c = *p, n;
		uint32_t cp;

		if (c < 0x80) {
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, cp = c & 0x07;
		else
			return false;
		for (unsigned i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		/* overlong 3/4-byte forms, UTF-16 surrogates, beyond U+10FFFF */
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || (cp >= 0xd800 && cp <= 0xdfff) ||
		    cp > 0x10ffff)
			return false;
		p += n + 1;
	}
	return true;
}

int pending_del_validate(const struct pending_del *p, char err[PENDING_DEL_ERR_SIZE])
{
	if (!memchr(p->container_id, '\0', sizeof(p->container_id)) ||
	    names_container_id_valid(p->container_id) < 0)
		return ERR(err, "\"containerId\" is not a valid container id");
	/* names_ifname_valid(), not the stricter CNI_IFNAME rule: a DEL must be recordable for an
	 * attachment an older version created under a name ADD now refuses ("e%d"). */
	if (!memchr(p->ifname, '\0', sizeof(p->ifname)) || names_ifname_valid(p->ifname) < 0)
		return ERR(err, "\"ifname\" is not a valid interface name");
	if (!memchr(p->netns, '\0', sizeof(p->netns)))
		return ERR(err, "\"netns\" is longer than %zu bytes", sizeof(p->netns) - 1);
	if (!utf8_valid(p->netns))
		return ERR(err, "\"netns\" is not valid UTF-8");
	if (p->time < 0)
		return ERR(err, "\"time\" is negative");
	return 0;
}

int pending_del_format(const struct pending_del *p, char **ret_json)
{
	char err[PENDING_DEL_ERR_SIZE];
	json_t *o;
	char *text;

	if (pending_del_validate(p, err) < 0)
		return -EINVAL;
	o = json_pack("{s:s, s:s, s:s, s:I}", "containerId", p->container_id, "ifname", p->ifname, "netns", p->netns,
		      "time", (json_int_t)p->time);
	if (!o)
		return -ENOMEM;
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!text)
		return -ENOMEM;
	*ret_json = text;
	return 0;
}

/* A string key into buf: absent -> def (NULL: required), present -> a string that fits. */
static int get_string(const json_t *root, const char *key, const char *def, char *buf, size_t size,
		      char err[PENDING_DEL_ERR_SIZE])
{
	const json_t *j = json_object_get(root, key);
	size_t n;

	if (!j) {
		if (!def)
			return ERR(err, "no \"%s\"", key);
		snprintf(buf, size, "%s", def);
		return 0;
	}
	if (!json_is_string(j))
		return ERR(err, "\"%s\" must be a string", key);
	n = json_string_length(j);
	/* jansson refuses \u0000 unless asked, but a length check costs nothing. */
	if (n != strlen(json_string_value(j)))
		return ERR(err, "\"%s\" contains a NUL byte", key);
	if (n >= size)
		return ERR(err, "\"%s\" is longer than %zu bytes", key, size - 1);
	memcpy(buf, json_string_value(j), n + 1);
	return 0;
}

int pending_del_parse(const char *data, size_t len, struct pending_del *ret, char err[PENDING_DEL_ERR_SIZE])
{
	struct pending_del p;
	json_error_t jerr;
	json_t *root, *t;
	int r;

	memset(&p, 0, sizeof(p));
	/* Duplicate keys would make the record mean two things. */
	root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return ERR(err, "not JSON: %s at line %d column %d", jerr.text, jerr.line, jerr.column);
	if (!json_is_object(root)) {
		r = ERR(err, "not a JSON object");
		goto out;
	}
	r = get_string(root, "containerId", NULL, p.container_id, sizeof(p.container_id), err);
	if (r < 0)
		goto out;
	r = get_string(root, "ifname", NULL, p.ifname, sizeof(p.ifname), err);
	if (r < 0)
		goto out;
	r = get_string(root, "netns", "", p.netns, sizeof(p.netns), err);
	if (r < 0)
		goto out;
	t = json_object_get(root, "time");
	if (!t) {
		r = ERR(err, "no \"time\"");
		goto out;
	}
	if (!json_is_integer(t)) {
		r = ERR(err, "\"time\" must be an integer");
		goto out;
	}
	p.time = json_integer_value(t);
	r = pending_del_validate(&p, err);
	if (r < 0)
		goto out;
	*ret = p;
out:
	json_decref(root);
	return r;
}

int pending_del_read(const char *path, struct pending_del *ret, char err[PENDING_DEL_ERR_SIZE])
{
	char *data = NULL;
	size_t len;
	int r;

	r = file_read_all(path, PENDING_DEL_MAX_SIZE, &data, &len);
	if (r < 0) {
		snprintf(err, PENDING_DEL_ERR_SIZE, "cannot read: %s", strerror(-r));
		return r;
	}
	r = pending_del_parse(data, len, ret, err);
	free(data);
	return r;
}

int pending_del_file_name(const char *container_id, const char *ifname, char *ret, size_t size)
{
	int n;

	if (names_container_id_valid(container_id) < 0 || names_ifname_valid(ifname) < 0)
		return -EINVAL;
	n = snprintf(ret, size, "%s@%s.json", container_id, ifname);
	if (n < 0 || (size_t)n >= size || n > PENDING_DEL_NAME_MAX)
		return -ENAMETOOLONG;
	return 0;
}

/* 64 bits of the key for the names of records whose plain name does not fit. */
static uint64_t key_hash(const char *container_id, const char *ifname)
{
	uint64_t h = names_hash(container_id, strlen(container_id), 0);

	h = names_hash("\0", 1, h);
	return names_hash(ifname, strlen(ifname), h);
}

static void hashed_prefix(const char *container_id, const char *ifname, char *ret, size_t size)
{
	snprintf(ret, size, "h%016llx.", (unsigned long long)key_hash(container_id, ifname));
}

static bool holds_key(const char *path, const char *container_id, const char *ifname)
{
	char err[PENDING_DEL_ERR_SIZE];
	struct pending_del old;

	return pending_del_read(path, &old, err) == 0 && strcmp(old.container_id, container_id) == 0 &&
	       strcmp(old.ifname, ifname) == 0;
}

/* A key whose plain name is too long: the first slot that is free or holds this key.  Distinct keys
 * with the same 64-bit hash (FNV-1a collisions can be made on purpose) get distinct slots. */
static int write_hashed(const char *dir, const struct pending_del *p, const char *text, char *path, size_t size)
{
	char prefix[32];

	hashed_prefix(p->container_id, p->ifname, prefix, sizeof(prefix));
	for (unsigned slot = 0; slot < PENDING_DEL_SLOTS; slot++) {
		int fd, r;

		if ((size_t)snprintf(path, size, "%s/%s%u.json", dir, prefix, slot) >= size)
			return -ENAMETOOLONG;
		/* Creating the file claims the slot, so two writers never share one.  The empty file is
		 * then replaced by the record in one rename: a reader finds an empty file at worst (and
		 * refuses it), never half a record. */
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd >= 0) {
			close(fd);
			r = file_write_atomic(path, text, strlen(text), 0600);
			if (r < 0)
				unlink(path);
			return r;
		}
		if (errno != EEXIST)
			return -errno;
		/* Taken: replace it only if it is this key's (a repeated DEL). */
		if (holds_key(path, p->container_id, p->ifname))
			return file_write_atomic(path, text, strlen(text), 0600);
	}
	return -ENOSPC;
}

int pending_del_write(const char *state_dir, const struct pending_del *p, char *ret_path, size_t path_size)
{
	char dir[PATH_MAX], path[PATH_MAX], name[PENDING_DEL_NAME_MAX + 1];
	char *text = NULL;
	int r;

	r = pending_del_format(p, &text);
	if (r < 0)
		return r;
	if ((size_t)snprintf(dir, sizeof(dir), "%s/" PENDING_DEL_DIR, state_dir) >= sizeof(dir)) {
		r = -ENAMETOOLONG;
		goto out;
	}
	r = mkdir_p(dir, 0755);
	if (r < 0)
		goto out;
	r = pending_del_file_name(p->container_id, p->ifname, name, sizeof(name));
	if (r == 0) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
			r = -ENAMETOOLONG;
		else
			r = file_write_atomic(path, text, strlen(text), 0600);
	} else if (r == -ENAMETOOLONG) {
		r = write_hashed(dir, p, text, path, sizeof(path));
	}
	if (r == 0 && ret_path)
		snprintf(ret_path, path_size, "%s", path);
out:
	free(text);
	return r;
}

static int unlink_if_key(const char *path, const char *container_id, const char *ifname)
{
	if (!holds_key(path, container_id, ifname))
		return 0;
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int pending_del_remove(const char *state_dir, const char *container_id, const char *ifname)
{
	char dir[PATH_MAX], path[PATH_MAX], name[PENDING_DEL_NAME_MAX + 1], veth[IFNAME_SIZE], prefix[32];
	int plain, r = 0;
	struct dirent *e;
	size_t plen;
	DIR *d;

	plain = pending_del_file_name(container_id, ifname, name, sizeof(name));
	if (plain == -EINVAL)
		return plain;
	if ((size_t)snprintf(dir, sizeof(dir), "%s/" PENDING_DEL_DIR, state_dir) >= sizeof(dir))
		return -ENAMETOOLONG;
	/* Versions before this one named the record after the host veth; that name may now hold
	 * another key's record (veth names collide), so the content decides. */
	names_host_veth(container_id, ifname, veth);
	snprintf(path, sizeof(path), "%s/%s.json", dir, veth);
	r = unlink_if_key(path, container_id, ifname);
	if (r < 0)
		return r;
	if (plain == 0) {
		/* The plain name is this key's alone. */
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
			return -ENAMETOOLONG;
		if (unlink(path) < 0 && errno != ENOENT)
			return -errno;
		return 0;
	}
	hashed_prefix(container_id, ifname, prefix, sizeof(prefix));
	plen = strlen(prefix);
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, prefix, plen) != 0 || strstr(e->d_name, ".tmp."))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= sizeof(path))
			continue;
		r = unlink_if_key(path, container_id, ifname);
		if (r < 0)
			break;
	}
	closedir(d);
	return r;
}
