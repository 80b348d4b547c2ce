/* The pending-DEL record: what the plugin leaves in <stateDir>/pending-del/ when a DEL cannot reach
 * shoald, and what shoald finishes at its next start.
 *
 *   {"containerId":"...","ifname":"eth0","netns":"/var/run/netns/x","time":1712345678}
 *
 * One file per attachment key (container id, ifname), never per host veth name: veth names are a
 * 48-bit hash and can collide, and the DELs of both colliding containers must be kept.  The file is
 * <containerId>@<ifname>.json (ids never contain '@'); where that would not fit NAME_MAX (ids may
 * have 256 bytes) it is h<16 hex digits of a hash of the key>.<slot>.json, the first slot that is
 * free or already holds this key.  A reader never trusts a name, only the content. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "lib/names.h"

#define PENDING_DEL_DIR "pending-del"       /* below the state directory */
#define PENDING_DEL_MAX_SIZE 4096           /* a record is < 700 bytes; larger files are refused */
#define PENDING_DEL_NAME_MAX 240            /* NAME_MAX minus ".tmp.<pid>" of the atomic write */
#define PENDING_DEL_SLOTS 64                /* hashed names per key hash */
#define PENDING_DEL_ERR_SIZE 256

struct pending_del {
	char container_id[257];   /* names_container_id_valid() */
	char ifname[IFNAME_SIZE];   /* names_ifname_valid() */
	char netns[256];            /* CNI_NETNS as given, "" when none; informational */
	int64_t time;               /* seconds since the epoch when the DEL was recorded, >= 0 */
};

/* 0 when every field is one pending_del_parse() accepts, else -EINVAL with err saying which. */
int pending_del_validate(const struct pending_del *p, char err[PENDING_DEL_ERR_SIZE]);
/* The record as compact JSON (malloc'ed, NUL-terminated).  -EINVAL when p does not validate (a
 * record the reader would refuse is never written), -ENOMEM. */
int pending_del_format(const struct pending_del *p, char **ret_json);
/* Parse and validate len bytes.  Keys we do not know are ignored; "netns" may be absent (= "").
 * -EINVAL with err naming the key on anything else. */
int pending_del_parse(const char *data, size_t len, struct pending_del *ret, char err[PENDING_DEL_ERR_SIZE]);
/* Read and parse one record file (at most PENDING_DEL_MAX_SIZE bytes).  -errno of the read (err
 * says so too), or -EINVAL from the parser. */
int pending_del_read(const char *path, struct pending_del *ret, char err[PENDING_DEL_ERR_SIZE]);

/* Write p into <state_dir>/pending-del/ (created 0755), atomically (lib/fileio.h), mode 0600,
 * replacing an older record of the same key.  ret_path (may be NULL) gets the file's path. */
int pending_del_write(const char *state_dir, const struct pending_del *p, char *ret_path, size_t path_size);
/* Remove every record of (container id, ifname) from <state_dir>/pending-del/: for an ADD that
 * supersedes a recorded DEL.  0 also when there was none. */
int pending_del_remove(const char *state_dir, const char *container_id, const char *ifname);
/* The file name a record of the key gets when it fits (<id>@<ifname>.json), else -ENAMETOOLONG
 * (the record then goes to a hashed name); -EINVAL for an invalid key. */
int pending_del_file_name(const char *container_id, const char *ifname, char *ret, size_t size);
