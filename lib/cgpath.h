/* cgroup v2 paths as users write them (netctl) and as shoald keeps them (netd/cgroups.h). */
#pragma once
#include <stddef.h>

/* Normalise a path by its text: repeated '/', "." components and a trailing '/' dropped, a leading
 * '/' kept (absolute stays absolute).  -EINVAL for a ".." component, for nothing left but "" or
 * "/", and when out (size bytes) is too small.  Pure. */
int cgroup_path_normalise(const char *in, char *out, size_t size);
