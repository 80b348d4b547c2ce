#include "netctl/workloads.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/cgpath.h"
#include "netctl/format.h"

/* Candidates named in an error message; the rest are counted.  Enough to pick from on a screen. */
#define NETCTL_MAX_CANDIDATES 8

static const char *netctl_wl_str(const json_t *w, const char *key)
{
	const char *s = json_string_value(json_object_get(w, key));

	return s ? s : "";
}

json_t *netctl_workloads_filter(const json_t *list, const char *ns, const char *pod)
{
	json_t *out, *w;
	size_t i;

	if (!json_is_array(list))
		return NULL;
	out = json_array();
	if (!out)
		return NULL;
	json_array_foreach(list, i, w) {
		if (ns && strcmp(netctl_wl_str(w, "namespace"), ns) != 0)
			continue;
		if (pod && strcmp(netctl_wl_str(w, "pod"), pod) != 0)
			continue;
		if (json_array_append(out, w) < 0) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}

bool netctl_workloads_have_pods(const json_t *list)
{
	json_t *w;
	size_t i;

	json_array_foreach(list, i, w)
		if (json_object_get(w, "namespace") || json_object_get(w, "pod"))
			return true;
	return false;
}

/* Append to a message buffer; output that does not fit is cut, never overrun. */
static void netctl_wl_msg(char *err, size_t err_size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void netctl_wl_msg(char *err, size_t err_size, const char *fmt, ...)
{
	size_t used;
	va_list ap;

	if (!err || err_size == 0)
		return;
	used = strnlen(err, err_size);
	if (used + 1 >= err_size)
		return;
	va_start(ap, fmt);
	vsnprintf(err + used, err_size - used, fmt, ap);
	va_end(ap);
}

/* ", "-separated names, at most NETCTL_MAX_CANDIDATES of them, then "and N more". */
static void netctl_wl_names(char *err, size_t err_size, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n && i < NETCTL_MAX_CANDIDATES; i++)
		netctl_wl_msg(err, err_size, "%s%s", i ? ", " : "", names[i]);
	if (n > NETCTL_MAX_CANDIDATES)
		netctl_wl_msg(err, err_size, " and %zu more", n - NETCTL_MAX_CANDIDATES);
}

static int netctl_wl_find_sorted(const json_t *sorted, const char *id, const char *ifname, const char *command,
				 size_t *ret_index, char *err, size_t err_size)
{
	size_t prefix_len = strlen(id), n_ids = 0, n_ifs = 0, first = 0;
	const char *names[NETCTL_MAX_CANDIDATES + 1], *chosen = NULL, *prev = NULL;
	json_t *w;
	size_t i;

	/* A whole id wins: "web" names container web even when "web-2" exists too. */
	json_array_foreach(sorted, i, w)
		if (strcmp(netctl_wl_str(w, "containerId"), id) == 0) {
			chosen = id;
			break;
		}
	if (!chosen) {
		/* The list is sorted by id, so equal ids are neighbours: count distinct ones. */
		json_array_foreach(sorted, i, w) {
			const char *cid = netctl_wl_str(w, "containerId");

			if (strncmp(cid, id, prefix_len) != 0 || (prev && strcmp(prev, cid) == 0))
				continue;
			if (n_ids < NETCTL_MAX_CANDIDATES + 1)
				names[n_ids] = cid;
			n_ids++;
			prev = cid;
		}
		if (n_ids == 0) {
			netctl_wl_msg(err, err_size, "no workload with container id '%s' on this host", id);
			return -ENOENT;
		}
		if (n_ids > 1) {
			netctl_wl_msg(err, err_size, "container id '%s' is ambiguous: it begins %zu container ids: ",
				      id, n_ids);
			netctl_wl_names(err, err_size, names, n_ids);
			netctl_wl_msg(err, err_size, "; give more of the id");
			return -ENOTUNIQ;
		}
		chosen = names[0];
	}
	json_array_foreach(sorted, i, w) {
		if (strcmp(netctl_wl_str(w, "containerId"), chosen) != 0)
			continue;
		if (ifname && strcmp(netctl_wl_str(w, "ifname"), ifname) == 0) {
			*ret_index = i;
			return 0;
		}
		if (n_ifs == 0)
			first = i;
		if (n_ifs < NETCTL_MAX_CANDIDATES + 1)
			names[n_ifs] = netctl_wl_str(w, "ifname");
		n_ifs++;
	}
	if (!ifname && n_ifs == 1) {
		*ret_index = first;
		return 0;
	}
	if (ifname) {
		netctl_wl_msg(err, err_size, "container %s has no interface '%s' (it has: ", chosen, ifname);
		netctl_wl_names(err, err_size, names, n_ifs);
		netctl_wl_msg(err, err_size, ")");
		return -ENOENT;
	}
	netctl_wl_msg(err, err_size, "container %s has %zu interfaces: ", chosen, n_ifs);
	netctl_wl_names(err, err_size, names, n_ifs);
	netctl_wl_msg(err, err_size, "; name one: netctl %s %s IFNAME", command, id);
	return -ENOTUNIQ;
}

int netctl_workloads_find(const json_t *list, const char *id, const char *ifname, const json_t **ret,
			  char *err, size_t err_size)
{
	return netctl_workloads_find_for(list, id, ifname, "workload get", ret, err, err_size);
}

int netctl_workloads_find_for(const json_t *list, const char *id, const char *ifname, const char *command,
			      const json_t **ret, char *err, size_t err_size)
{
	json_t *sorted;
	size_t index;
	int r;

	if (err && err_size > 0)
		err[0] = '\0';
	if (!id || !*id) {
		netctl_wl_msg(err, err_size, "empty container id");
		return -EINVAL;
	}
	sorted = netctl_sort_workloads(list);
	if (!sorted) {
		netctl_wl_msg(err, err_size, "%s", json_is_array(list) ? strerror(ENOMEM) : "no workload list");
		return json_is_array(list) ? -ENOMEM : -EINVAL;
	}
	r = netctl_wl_find_sorted(sorted, id, ifname, command, &index, err, err_size);
	/* The entry belongs to list too: sorted only holds more references to list's entries. */
	if (r >= 0)
		*ret = json_array_get(sorted, index);
	json_decref(sorted);
	return r;
}

bool netctl_workload_is_cgroup(const json_t *w)
{
	return strcmp(netctl_wl_str(w, "kind"), "cgroup") == 0;
}

int netctl_cgroups_find(const json_t *cgroups, const char *path, const json_t **ret, char *err, size_t err_size)
{
	char want[4096], have[4096];
	bool absolute;
	json_t *c;
	size_t i;

	if (err && err_size > 0)
		err[0] = '\0';
	if (cgroup_path_normalise(path, want, sizeof(want)) < 0) {
		netctl_wl_msg(err, err_size, "bad cgroup path '%s' (a cgroup v2 directory below the mount, absolute or "
			      "relative to it, without \"..\")", path);
		return -EINVAL;
	}
	absolute = want[0] == '/';
	json_array_foreach(cgroups, i, c) {
		const char *p = netctl_wl_str(c, absolute ? "cgroupDir" : "cgroup");

		if (cgroup_path_normalise(p, have, sizeof(have)) == 0 && strcmp(have, want) == 0) {
			*ret = c;
			return 0;
		}
	}
	netctl_wl_msg(err, err_size, "cgroup %s has no quota on this host (netctl quota set --cgroup %s gives it one)",
		      want, path);
	return -ENOENT;
}

json_t *netctl_workloads_with_cgroups(const json_t *workloads, const json_t *cgroups)
{
	json_t *out;

	if (!json_is_array(workloads))
		return NULL;
	out = json_copy((json_t *)workloads);
	if (out && json_is_array(cgroups) && json_array_extend(out, (json_t *)cgroups) < 0) {
		json_decref(out);
		return NULL;
	}
	return out;
}
