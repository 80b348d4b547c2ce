/* Fuzz the pending-DEL record parser (pending_del_parse): shoald reads these files at start, and a
 * record it accepts must be one it could have written (parse -> format -> parse is the identity). */
// SOURCES: lib/pending_del.c lib/names.c lib/fileio.c
// PKGS: jansson
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/pending_del.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pending_del p, again, untouched;
	char err[PENDING_DEL_ERR_SIZE], *json = NULL;

	memset(&p, 0xa5, sizeof(p));
	untouched = p;
	err[0] = '\0';
	if (pending_del_parse((const char *)data, size, &p, err) < 0) {
		/* Refused: a reason, and ret as it was. */
		if (err[0] == '\0' || !memchr(err, '\0', sizeof(err)) || memcmp(&p, &untouched, sizeof(p)) != 0)
			abort();
		return 0;
	}
	if (pending_del_validate(&p, err) < 0 || p.time < 0 || strchr(p.container_id, '/') ||
	    strchr(p.container_id, '@') || strchr(p.ifname, '/') || strlen(p.netns) >= sizeof(p.netns))
		abort();
	if (pending_del_format(&p, &json) < 0)
		abort();
	if (pending_del_parse(json, strlen(json), &again, err) < 0 || strcmp(p.container_id, again.container_id) ||
	    strcmp(p.ifname, again.ifname) || strcmp(p.netns, again.netns) || p.time != again.time)
		abort();
	free(json);
	return 0;
}
