/* The cgroup classifier's BPF object (tc/bpf/cgroup.bpf.c says what it does): loading it, and its
 * quota map.  The only user of libbpf, which is loaded with dlopen() by the first cgbpf_load():
 * linked, libbpf and its libelf and zlib cost every shoald ~270 KiB of resident memory (measured:
 * VmHWM 2.77 -> 3.04 MiB at start-up), also on the many nodes that never set a cgroup quota.
 *
 * The object is compiled from C by clang at build time and embedded in the binary.  Attaching its
 * two programs is the caller's (tc/classify.h: classify_build_uplink() with cgbpf_prog_fd() and
 * cgbpf_prog_name()); an attached program lives on in its filter after cgbpf_free() and after
 * shoald exits, with its maps: a restarted shoald adopts them (cgbpf_load(adopt_prog_id)) and
 * replaces the programs in place, so quotas and learned flows survive.
 *
 * A quota: the cgroup v2 directory's id (its inode number, st_ino) and depth below the cgroup v2
 * root (a directory right under the mount: 1), and the minor of its class, the same in both HTB
 * trees (major_egress:minor on the egress IFB, major_ingress:minor on the ingress one).
 * Functions return 0 or -errno; errors of cgbpf_load() come with a text in err. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Debian's libbpf1 ships this soname; libbpf-dev builds against it. */
#define CGBPF_LIBBPF_SONAME "libbpf.so.1"

struct cgbpf;

struct cgbpf_entry {
	uint64_t cgroup_id;
	unsigned level;
	uint16_t minor;
};

/* Load the embedded object into the kernel (programs verified, maps created).  adopt_prog_id:
 * the id of an attached egress program of ours (TCA_BPF_ID of a filter dump; 0 for none): its
 * maps are reused by name when their type and sizes are those of this build, and *ret_adopted
 * says whether the quota map was (a program that is gone, or not ours, is no error: nothing is
 * adopted).  The trees' majors go to the (new or adopted) conf map, the levels in use are
 * recomputed from the quota map.  -ENOENT (and err) when libbpf cannot be loaded; the verifier's
 * complaint, if any, ends up in err. */
int cgbpf_load(uint32_t adopt_prog_id, uint16_t major_egress, uint16_t major_ingress, struct cgbpf **ret,
               bool *ret_adopted, char *err, size_t errlen);
/* The program of the ingress or the egress hook (borrowed: valid until cgbpf_free()). */
int cgbpf_prog_fd(const struct cgbpf *c, bool ingress);
/* The name its filter carries (TCA_BPF_NAME), by which a filter dump tells ours. */
const char *cgbpf_prog_name(bool ingress);
/* Set or change a quota: -EINVAL for id 0, level >= CGROUP_LEVELS (64) or minor 0 (the class
 * major:0 would be the qdisc itself); -E2BIG when CGROUP_QUOTA_MAX quotas exist. */
int cgbpf_quota_set(struct cgbpf *c, uint64_t cgroup_id, unsigned level, uint16_t minor);
/* Remove a quota (-ENOENT when there is none): its flows stop being classified at once. */
int cgbpf_quota_del(struct cgbpf *c, uint64_t cgroup_id);
/* Every quota, in map order, in a new array *ret (free() it) of *ret_n entries (NULL and 0 when
 * there are none); for reconciling after an adoption. */
int cgbpf_quota_list(struct cgbpf *c, struct cgbpf_entry **ret, size_t *ret_n);
/* Close the object's file descriptors.  Attached programs and their maps stay in the kernel until
 * their filters are deleted.  Accepts NULL. */
void cgbpf_free(struct cgbpf *c);
