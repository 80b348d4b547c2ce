/* config_parse on arbitrary bytes: never crashes, and whatever it accepts is a configuration
 * config_validate accepts too, with the invariants shoald relies on. */
// SOURCES: netd/config.c tc/quota.c lib/cidr.c lib/fileio.c lib/log.c lib/names.c
// PKGS: jansson
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "netd/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must(int cond)
{
	if (!cond)
		__builtin_trap();
}

static int terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct netd_config defaults;
	static int ready;
	struct netd_config c, before;
	char err[CONFIG_ERRLEN];

	if (!ready) {
		config_init(&defaults);
		memcpy(defaults.node, "fuzz-node", sizeof("fuzz-node"));
		ready = 1;
	}
	c = defaults;
	before = c;
	err[0] = '\0';
	if (config_parse(&c, (const char *)data, size, err) < 0) {
		must(err[0] != '\0');                            /* every failure says why */
		must(terminated(err, sizeof(err)));
		must(memcmp(&c, &before, sizeof(c)) == 0);       /* and changes nothing */
		return 0;
	}
	must(config_validate(&c, err) == 0);
	must(c.subnet_len > c.network.len && c.subnet_len <= 30);
	must(c.network.len >= 8 && c.network.len <= 32);
	must((c.network.addr & ~cidr4_mask(c.network.len)) == 0);
	must(c.mtu == 0 || (c.mtu >= 576 && c.mtu <= 65535));
	must(c.lease_ttl >= 10 && c.lease_ttl <= 604800);
	must(c.log_level >= 0 && c.log_level <= 3);
	must(terminated(c.node, sizeof(c.node)) && terminated(c.store, sizeof(c.store)) &&
	     terminated(c.store_prefix, sizeof(c.store_prefix)) && terminated(c.bridge, sizeof(c.bridge)) &&
	     terminated(c.state_dir, sizeof(c.state_dir)) && terminated(c.socket, sizeof(c.socket)) &&
	     terminated(c.socket_group, sizeof(c.socket_group)));
	must(c.state_dir[0] == '/' && c.socket[0] == '/' && c.store_prefix[0] == '/');
	/* a metrics address that was accepted is one shoald can bind: IPv4 or IPv6, a port > 0 */
	must(terminated(c.metrics.listen, sizeof(c.metrics.listen)));
	if (c.metrics.listen[0]) {
		struct sockaddr_storage ss;
		socklen_t len = 0;

		must(config_parse_listen(c.metrics.listen, &ss, &len) == 0);
		must((ss.ss_family == AF_INET && len == sizeof(struct sockaddr_in) &&
		      ((struct sockaddr_in *)&ss)->sin_port != 0) ||
		     (ss.ss_family == AF_INET6 && len == sizeof(struct sockaddr_in6) &&
		      ((struct sockaddr_in6 *)&ss)->sin6_port != 0));
	}
	return 0;
}
