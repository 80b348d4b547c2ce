#include "lib/cgpath.h"

#include <errno.h>
#include <string.h>

int cgroup_path_normalise(const char *in, char *out, size_t size)
{
	const char *p = in;
	size_t o = 0;

	if (size < 2)
		return -EINVAL;
	if (*p == '/')
		out[o++] = '/';
	while (*p) {
		size_t n;

		p += strspn(p, "/");
		n = strcspn(p, "/");
		if (n == 0 || (n == 1 && p[0] == '.')) {
			p += n;
			continue;
		}
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return -EINVAL;
		if (o > 1 || (o == 1 && out[0] != '/'))
			out[o++] = '/';
		if (o + n + 1 > size)
			return -EINVAL;
		memcpy(out + o, p, n);
		o += n;
		p += n;
	}
	out[o] = '\0';
	/* Nothing left but the root: the mount itself, which has no quota of its own. */
	return o == 0 || (o == 1 && out[0] == '/') ? -EINVAL : 0;
}
