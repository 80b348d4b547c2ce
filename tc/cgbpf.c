/* The cgroup classifier's BPF object, loaded with libbpf resolved at run time (cgbpf.h says why). */
#include "tc/cgbpf.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tc/bpf/cgroup.h"

/* The object, compiled by the Makefile (clang -target bpf, DWARF stripped, BTF kept) and embedded
 * here byte for byte. */
#ifndef CGBPF_OBJECT
#error "CGBPF_OBJECT must name the compiled tc/bpf/cgroup.bpf.c (the Makefile passes it)"
#endif
__asm__(".pushsection .rodata\n"
        ".balign 8\n"
        ".globl cgbpf_object_start\n"
        ".hidden cgbpf_object_start\n"
        "cgbpf_object_start:\n"
        ".incbin \"" CGBPF_OBJECT "\"\n"
        ".globl cgbpf_object_end\n"
        ".hidden cgbpf_object_end\n"
        "cgbpf_object_end:\n"
        ".popsection\n");
extern const char cgbpf_object_start[], cgbpf_object_end[];

/* libbpf's entry points, typed by its own headers. */
#define API_FN(name) __typeof__(name) *name
static struct {
	API_FN(libbpf_set_print);
	API_FN(bpf_object__open_mem);
	API_FN(bpf_object__load);
	API_FN(bpf_object__close);
	API_FN(bpf_object__find_map_by_name);
	API_FN(bpf_object__find_program_by_name);
	API_FN(bpf_program__fd);
	API_FN(bpf_map__fd);
	API_FN(bpf_map__reuse_fd);
	API_FN(bpf_map__type);
	API_FN(bpf_map__key_size);
	API_FN(bpf_map__value_size);
	API_FN(bpf_map__max_entries);
	API_FN(bpf_map__map_flags);
	API_FN(bpf_prog_get_fd_by_id);
	API_FN(bpf_map_get_fd_by_id);
	API_FN(bpf_obj_get_info_by_fd);
	API_FN(bpf_map_lookup_elem);
	API_FN(bpf_map_update_elem);
	API_FN(bpf_map_delete_elem);
	API_FN(bpf_map_get_next_key);
} lib;
static bool lib_loaded;
#define API_SYM(name) { (void **)&lib.name, #name }

/* libbpf's warnings of the current load, the last of them (the verifier's log ends with the
 * reason), for err.  shoald loads on its loop thread only. */
static char lib_msgs[1024];

__attribute__((format(printf, 2, 0))) static int lib_print(enum libbpf_print_level level, const char *fmt,
                                                           va_list ap)
{
	size_t have = strlen(lib_msgs), n;
	char *line, *p;

	if (level == LIBBPF_DEBUG)
		return 0;
	/* Whole: the verifier's log is one message whose end says what went wrong. */
	if (vasprintf(&line, fmt, ap) < 0)
		return 0;
	for (char *q = line; *q; q++)
		if (*q == '\n' || *q == '\t')
			*q = ' ';
	n = strlen(line);
	p = line;
	if (n >= sizeof(lib_msgs)) {
		p += n - (sizeof(lib_msgs) - 1);
		n = sizeof(lib_msgs) - 1;
	}
	/* Keep the tail: drop the oldest text when full. */
	if (have + n + 1 > sizeof(lib_msgs)) {
		size_t drop = have + n + 1 - sizeof(lib_msgs);

		memmove(lib_msgs, lib_msgs + drop, have - drop + 1);
		have -= drop;
	}
	memcpy(lib_msgs + have, p, n + 1);
	free(line);
	return 0;
}

static int lib_load(char *err, size_t errlen)
{
	static const struct {
		void **slot;
		const char *name;
	} syms[] = {
		API_SYM(libbpf_set_print),
		API_SYM(bpf_object__open_mem),
		API_SYM(bpf_object__load),
		API_SYM(bpf_object__close),
		API_SYM(bpf_object__find_map_by_name),
		API_SYM(bpf_object__find_program_by_name),
		API_SYM(bpf_program__fd),
		API_SYM(bpf_map__fd),
		API_SYM(bpf_map__reuse_fd),
		API_SYM(bpf_map__type),
		API_SYM(bpf_map__key_size),
		API_SYM(bpf_map__value_size),
		API_SYM(bpf_map__max_entries),
		API_SYM(bpf_map__map_flags),
		API_SYM(bpf_prog_get_fd_by_id),
		API_SYM(bpf_map_get_fd_by_id),
		API_SYM(bpf_obj_get_info_by_fd),
		API_SYM(bpf_map_lookup_elem),
		API_SYM(bpf_map_update_elem),
		API_SYM(bpf_map_delete_elem),
		API_SYM(bpf_map_get_next_key),
	};
	void *h;

	if (lib_loaded)
		return 0;
	/* RTLD_NODELETE: loaded once, never unloaded, so no pointer of the table ever dangles. */
	h = dlopen(CGBPF_LIBBPF_SONAME, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
	if (!h) {
		snprintf(err, errlen, "cannot load %s (Debian package libbpf1): %s", CGBPF_LIBBPF_SONAME, dlerror());
		return -ENOENT;
	}
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		*syms[i].slot = dlsym(h, syms[i].name);
		if (!*syms[i].slot) {
			snprintf(err, errlen, "%s lacks %s", CGBPF_LIBBPF_SONAME, syms[i].name);
			return -ENOENT;
		}
	}
	lib.libbpf_set_print(lib_print);
	lib_loaded = true;
	return 0;
}

struct cgbpf {
	struct bpf_object *obj;
	int prog_egress, prog_ingress;
	int conf_fd, quota_fd;
};

static const char *const map_names[] = { CGROUP_MAP_CONF, CGROUP_MAP_QUOTA, CGROUP_MAP_FLOWS };

/* The running map fd may stand in for ours when it is the same kind of map. */
static bool map_compatible(const struct bpf_map *m, const struct bpf_map_info *info)
{
	return info->type == (uint32_t)lib.bpf_map__type(m) && info->key_size == lib.bpf_map__key_size(m) &&
	       info->value_size == lib.bpf_map__value_size(m) && info->max_entries == lib.bpf_map__max_entries(m) &&
	       info->map_flags == lib.bpf_map__map_flags(m);
}

/* Reuse the maps of program prog_id (ours: its name is checked) by name.  Returns whether the
 * quota map was; a program that is gone, or whose maps differ, adopts nothing, without error. */
static int adopt_maps(struct bpf_object *obj, uint32_t prog_id, bool *ret_quota)
{
	struct bpf_prog_info pinfo;
	uint32_t ids[8], len = sizeof(pinfo);
	bool quota = false;
	int pfd, r = 0;

	pfd = lib.bpf_prog_get_fd_by_id(prog_id);
	if (pfd < 0) {
		*ret_quota = false;
		return 0;
	}
	memset(&pinfo, 0, sizeof(pinfo));
	pinfo.nr_map_ids = sizeof(ids) / sizeof(ids[0]);
	pinfo.map_ids = (uint64_t)(uintptr_t)ids;
	if (lib.bpf_obj_get_info_by_fd(pfd, &pinfo, &len) < 0 || strcmp(pinfo.name, CGROUP_PROG_EGRESS)) {
		close(pfd);
		*ret_quota = false;
		return 0;
	}
	close(pfd);
	for (uint32_t i = 0; i < pinfo.nr_map_ids && i < sizeof(ids) / sizeof(ids[0]); i++) {
		struct bpf_map_info minfo;
		struct bpf_map *m;
		uint32_t mlen = sizeof(minfo);
		int mfd = lib.bpf_map_get_fd_by_id(ids[i]);

		if (mfd < 0)
			continue;
		memset(&minfo, 0, sizeof(minfo));
		if (lib.bpf_obj_get_info_by_fd(mfd, &minfo, &mlen) < 0) {
			close(mfd);
			continue;
		}
		for (size_t j = 0; j < sizeof(map_names) / sizeof(map_names[0]); j++) {
			if (strcmp(minfo.name, map_names[j]))
				continue;
			m = lib.bpf_object__find_map_by_name(obj, map_names[j]);
			if (!m || !map_compatible(m, &minfo))
				break;
			/* reuse_fd duplicates mfd. */
			r = lib.bpf_map__reuse_fd(m, mfd);
			if (r < 0)
				break;
			if (!strcmp(map_names[j], CGROUP_MAP_QUOTA))
				quota = true;
			break;
		}
		close(mfd);
		if (r < 0)
			return r;
	}
	*ret_quota = quota;
	return 0;
}

/* The levels that hold quotas, from the quota map itself. */
static int level_mask_of(const struct cgbpf *c, uint64_t *ret)
{
	uint64_t key, next, mask = 0;
	struct cgroup_quota q;
	void *prev = NULL;
	int r;

	/* libbpf returns -errno; ENOENT ends the walk. */
	while ((r = lib.bpf_map_get_next_key(c->quota_fd, prev, &next)) == 0) {
		/* An entry deleted meanwhile is simply skipped. */
		if (lib.bpf_map_lookup_elem(c->quota_fd, &next, &q) == 0 && q.level < CGROUP_LEVELS)
			mask |= 1ULL << q.level;
		key = next;
		prev = &key;
	}
	if (r != -ENOENT)
		return r;
	*ret = mask;
	return 0;
}

/* Rewrite the conf: the levels in use, with add_level's bit added (set) or, for add_level < 0,
 * recomputed from the quota map (load, delete: O(quotas)); majors [egress, ingress] when given. */
static int conf_update(const struct cgbpf *c, int add_level, const uint16_t *majors)
{
	struct cgroup_conf conf;
	uint32_t zero = 0;
	uint64_t mask = 0;
	int r;

	r = lib.bpf_map_lookup_elem(c->conf_fd, &zero, &conf);
	if (r < 0)
		return r;
	if (add_level >= 0) {
		conf.level_mask |= 1ULL << add_level;
	} else {
		r = level_mask_of(c, &mask);
		if (r < 0)
			return r;
		conf.level_mask = mask;
	}
	if (majors) {
		conf.major_egress = majors[0];
		conf.major_ingress = majors[1];
	}
	conf.pad = 0;
	return lib.bpf_map_update_elem(c->conf_fd, &zero, &conf, BPF_ANY);
}

/* err: what failed, and libbpf's last words. */
static void load_error(char *err, size_t errlen, const char *what, int r)
{
	size_t n = strlen(lib_msgs);

	if (n)
		snprintf(err, errlen, "%s: %s: ...%s", what, strerror(-r), lib_msgs + (n > 400 ? n - 400 : 0));
	else
		snprintf(err, errlen, "%s: %s", what, strerror(-r));
}

int cgbpf_load(uint32_t adopt_prog_id, uint16_t major_egress, uint16_t major_ingress, struct cgbpf **ret,
               bool *ret_adopted, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = "shoal_cgroup");
	struct bpf_program *pe, *pi;
	struct bpf_map *mc, *mq;
	bool adopted = false;
	struct cgbpf *c;
	int r;

	if (!major_egress || !major_ingress) {
		snprintf(err, errlen, "a major of 0");
		return -EINVAL;
	}
	r = lib_load(err, errlen);
	if (r < 0)
		return r;
	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	lib_msgs[0] = '\0';
	c->obj = lib.bpf_object__open_mem(cgbpf_object_start, (size_t)(cgbpf_object_end - cgbpf_object_start), &opts);
	if (!c->obj) {
		r = -errno;
		load_error(err, errlen, "cannot open the BPF object", r);
		goto fail;
	}
	if (adopt_prog_id) {
		r = adopt_maps(c->obj, adopt_prog_id, &adopted);
		if (r < 0) {
			load_error(err, errlen, "cannot reuse the maps of the running program", r);
			goto fail;
		}
	}
	r = lib.bpf_object__load(c->obj);
	if (r < 0) {
		load_error(err, errlen, "cannot load the BPF object", r);
		goto fail;
	}
	pe = lib.bpf_object__find_program_by_name(c->obj, CGROUP_PROG_EGRESS);
	pi = lib.bpf_object__find_program_by_name(c->obj, CGROUP_PROG_INGRESS);
	mc = lib.bpf_object__find_map_by_name(c->obj, CGROUP_MAP_CONF);
	mq = lib.bpf_object__find_map_by_name(c->obj, CGROUP_MAP_QUOTA);
	if (!pe || !pi || !mc || !mq) {
		r = -ENOENT;
		snprintf(err, errlen, "the BPF object lacks a program or a map");
		goto fail;
	}
	c->prog_egress = lib.bpf_program__fd(pe);
	c->prog_ingress = lib.bpf_program__fd(pi);
	c->conf_fd = lib.bpf_map__fd(mc);
	c->quota_fd = lib.bpf_map__fd(mq);
	r = conf_update(c, -1, (const uint16_t[]){ major_egress, major_ingress });
	if (r < 0) {
		snprintf(err, errlen, "cannot write the conf map: %s", strerror(-r));
		goto fail;
	}
	*ret = c;
	*ret_adopted = adopted;
	return 0;
fail:
	cgbpf_free(c);
	return r;
}

int cgbpf_prog_fd(const struct cgbpf *c, bool ingress)
{
	return ingress ? c->prog_ingress : c->prog_egress;
}

const char *cgbpf_prog_name(bool ingress)
{
	return ingress ? CGROUP_PROG_INGRESS : CGROUP_PROG_EGRESS;
}

int cgbpf_quota_set(struct cgbpf *c, uint64_t cgroup_id, unsigned level, uint16_t minor)
{
	struct cgroup_quota q = { .minor = minor, .level = (uint8_t)level };
	int r;

	if (!cgroup_id || level >= CGROUP_LEVELS || !minor)
		return -EINVAL;
	/* The entry first, then its level: a packet that sees the level finds the entry. */
	r = lib.bpf_map_update_elem(c->quota_fd, &cgroup_id, &q, BPF_ANY);
	if (r < 0)
		return r;
	return conf_update(c, (int)level, NULL);
}

int cgbpf_quota_del(struct cgbpf *c, uint64_t cgroup_id)
{
	int r = lib.bpf_map_delete_elem(c->quota_fd, &cgroup_id);

	if (r < 0)
		return r;
	return conf_update(c, -1, NULL);
}

int cgbpf_quota_list(struct cgbpf *c, struct cgbpf_entry **ret, size_t *ret_n)
{
	struct cgbpf_entry *v = NULL, *nv;
	uint64_t key, next;
	struct cgroup_quota q;
	size_t n = 0, cap = 0;
	void *prev = NULL;
	int r;

	while ((r = lib.bpf_map_get_next_key(c->quota_fd, prev, &next)) == 0) {
		key = next;
		prev = &key;
		if (lib.bpf_map_lookup_elem(c->quota_fd, &key, &q) < 0)
			continue;   /* deleted meanwhile */
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(v);
				return -ENOMEM;
			}
			v = nv;
		}
		v[n++] = (struct cgbpf_entry){ .cgroup_id = key, .level = q.level, .minor = q.minor };
	}
	if (r != -ENOENT) {
		free(v);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

void cgbpf_free(struct cgbpf *c)
{
	if (!c)
		return;
	if (c->obj)
		lib.bpf_object__close(c->obj);
	free(c);
}
