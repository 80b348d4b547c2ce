/* shoald's API request decoder on arbitrary bytes: what any client allowed on the socket can send.
 * A request it accepts must satisfy every invariant the handlers rely on (valid ids and names,
 * bounded strings, sane MTU), since nothing checks them again. */
// SOURCES: netd/request.c lib/names.c lib/cidr.c
// PKGS: jansson
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cidr.h"
#include "lib/names.h"
#include "netd/records.h"
#include "netd/request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must(int cond)
{
	if (!cond)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct request_error err = { 0 };
	struct request q;
	const char *why;
	json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);

	if (!j)
		return 0;
	if (request_parse(j, &q, &err) < 0) {
		must(err.code > 0 && err.msg[0] != '\0');
		json_decref(j);
		return 0;
	}
	switch (q.op) {
	case REQ_ADD:
		must(q.netns != NULL && strlen(q.netns) < RECORD_NETNS_SIZE);
		must(request_network_name_valid(q.network));
		must(q.mtu == 0 || (q.mtu >= 576 && q.mtu <= 65535));
		/* fall through */
	case REQ_CHECK:
		must(names_container_id_valid(q.container_id) == 0);
		must(names_cni_ifname_valid(q.ifname, &why) == 0);
		break;
	case REQ_DEL:
		must(names_container_id_valid(q.container_id) == 0);
		must(names_ifname_valid(q.ifname) == 0);
		break;
	case REQ_GC:
		must(q.network && q.network[0] && json_is_array(q.valid));
		break;
	case REQ_RELEASE:
		/* A network address with its length: the store key is made from it as it stands. */
		must(q.subnet.len <= 32 && (q.subnet.addr & ~cidr4_mask(q.subnet.len)) == 0);
		must(json_is_string(json_object_get(j, "subnet")));
		must(!q.force || json_is_true(json_object_get(j, "force")));
		break;
	case REQ_LEAVE:
		/* Never without the caller's explicit confirmation. */
		must(json_is_true(json_object_get(j, "confirm")));
		break;
	default:
		break;
	}
	json_decref(j);
	return 0;
}
