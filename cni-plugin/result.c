#include "cni-plugin/result.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Field lists per version (result.h has the table). */
static const char *const iface_keys_v0[] = { "name", "mac", "sandbox", NULL };
static const char *const iface_keys_v11[] = { "name", "mac", "mtu", "sandbox", "socketPath", "pciID", NULL };
static const char *const route_keys_v0[] = { "dst", "gw", NULL };
static const char *const route_keys_v11[] = { "dst", "gw", "mtu", "advmss", "priority", "table", "scope", NULL };
static const char *const dns_list_keys[] = { "nameservers", "search", "options", NULL };

static int fail(char *errbuf, size_t errsize, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *errbuf, size_t errsize, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, errsize, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* 4 or 6 for a plain address, 0 when s is none. */
static int ip_family(const char *s)
{
	unsigned char buf[16];

	if (inet_pton(AF_INET, s, buf) == 1)
		return 4;
	if (inet_pton(AF_INET6, s, buf) == 1)
		return 6;
	return 0;
}

/* 4 or 6 for "address/len", 0 when s is none. */
static int cidr_family(const char *s)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t n;
	unsigned len = 0;
	int fam;

	if (!slash)
		return 0;
	n = (size_t)(slash - s);
	if (n == 0 || n >= sizeof(addr))
		return 0;
	memcpy(addr, s, n);
	addr[n] = '\0';
	fam = ip_family(addr);
	if (!fam)
		return 0;
	s = slash + 1;
	if (*s < '0' || *s > '9' || (s[0] == '0' && s[1]))
		return 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return 0;
		len = len * 10 + (unsigned)(*s - '0');
		if (len > 128)
			return 0;
	}
	if (fam == 4 && len > 32)
		return 0;
	return fam;
}

static const char *type_name(const json_t *j)
{
	if (json_is_object(j)) return "an object";
	if (json_is_array(j)) return "an array";
	if (json_is_string(j)) return "a string";
	if (json_is_integer(j)) return "an integer";
	if (json_is_real(j)) return "a number";
	if (json_is_boolean(j)) return "a boolean";
	return "null";
}

static int opt_string(const json_t *o, const char *key, const char *where, size_t i, char *errbuf, size_t errsize)
{
	const json_t *j = json_object_get(o, key);

	if (j && !json_is_string(j))
		return fail(errbuf, errsize, "%s[%zu].%s must be a string, not %s", where, i, key, type_name(j));
	return 0;
}

static int opt_uint(const json_t *o, const char *key, const char *where, size_t i, char *errbuf, size_t errsize)
{
	const json_t *j = json_object_get(o, key);

	if (j && (!json_is_integer(j) || json_integer_value(j) < 0))
		return fail(errbuf, errsize, "%s[%zu].%s must be a non-negative integer", where, i, key);
	return 0;
}

static int opt_array(const json_t *r, const char *key, char *errbuf, size_t errsize)
{
	const json_t *j = json_object_get(r, key);
	size_t i;
	json_t *e;

	if (!j)
		return 0;
	if (!json_is_array(j))
		return fail(errbuf, errsize, "%s must be an array, not %s", key, type_name(j));
	json_array_foreach(j, i, e)
		if (!json_is_object(e))
			return fail(errbuf, errsize, "%s[%zu] must be an object, not %s", key, i, type_name(e));
	return 0;
}

static int validate_dns(const json_t *dns, char *errbuf, size_t errsize)
{
	const json_t *j;

	if (!json_is_object(dns))
		return fail(errbuf, errsize, "dns must be an object, not %s", type_name(dns));
	for (const char *const *k = dns_list_keys; *k; k++) {
		size_t i;
		json_t *e;

		j = json_object_get(dns, *k);
		if (!j)
			continue;
		if (!json_is_array(j))
			return fail(errbuf, errsize, "dns.%s must be an array of strings, not %s", *k, type_name(j));
		json_array_foreach(j, i, e)
			if (!json_is_string(e))
				return fail(errbuf, errsize, "dns.%s[%zu] must be a string, not %s", *k, i, type_name(e));
	}
	j = json_object_get(dns, "domain");
	if (j && !json_is_string(j))
		return fail(errbuf, errsize, "dns.domain must be a string, not %s", type_name(j));
	return 0;
}

int cni_result_validate(const json_t *r, char *errbuf, size_t errsize)
{
	const json_t *ifaces, *ips, *routes, *j;
	size_t n_ifaces, i;
	json_t *e;
	int ret;

	if (!json_is_object(r))
		return fail(errbuf, errsize, "result must be an object, not %s", type_name(r));
	j = json_object_get(r, "cniVersion");
	if (j && !json_is_string(j))
		return fail(errbuf, errsize, "cniVersion must be a string, not %s", type_name(j));
	if ((ret = opt_array(r, "interfaces", errbuf, errsize)) < 0 ||
	    (ret = opt_array(r, "ips", errbuf, errsize)) < 0 ||
	    (ret = opt_array(r, "routes", errbuf, errsize)) < 0)
		return ret;
	ifaces = json_object_get(r, "interfaces");
	ips = json_object_get(r, "ips");
	routes = json_object_get(r, "routes");
	n_ifaces = json_array_size(ifaces);

	json_array_foreach(ifaces, i, e) {
		j = json_object_get(e, "name");
		if (!json_is_string(j) || json_string_length(j) == 0)
			return fail(errbuf, errsize, "interfaces[%zu].name must be a non-empty string", i);
		if ((ret = opt_string(e, "mac", "interfaces", i, errbuf, errsize)) < 0 ||
		    (ret = opt_string(e, "sandbox", "interfaces", i, errbuf, errsize)) < 0 ||
		    (ret = opt_string(e, "socketPath", "interfaces", i, errbuf, errsize)) < 0 ||
		    (ret = opt_string(e, "pciID", "interfaces", i, errbuf, errsize)) < 0 ||
		    (ret = opt_uint(e, "mtu", "interfaces", i, errbuf, errsize)) < 0)
			return ret;
	}
	json_array_foreach(ips, i, e) {
		int fam;

		j = json_object_get(e, "address");
		if (!json_is_string(j))
			return fail(errbuf, errsize, "ips[%zu].address must be a string", i);
		fam = cidr_family(json_string_value(j));
		if (!fam)
			return fail(errbuf, errsize, "ips[%zu].address \"%.64s\" is not an address in CIDR notation", i,
				    json_string_value(j));
		j = json_object_get(e, "gateway");
		if (j && (!json_is_string(j) || ip_family(json_string_value(j)) != fam))
			return fail(errbuf, errsize, "ips[%zu].gateway must be an IPv%d address", i, fam);
		j = json_object_get(e, "interface");
		if (j && (!json_is_integer(j) || json_integer_value(j) < 0 ||
			  (json_int_t)n_ifaces <= json_integer_value(j)))
			return fail(errbuf, errsize, "ips[%zu].interface must be an index into interfaces (0..%zd)", i,
				    (ssize_t)n_ifaces - 1);
		j = json_object_get(e, "version");
		if (j && !(json_is_string(j) && strcmp(json_string_value(j), fam == 4 ? "4" : "6") == 0))
			return fail(errbuf, errsize, "ips[%zu].version must be \"%d\" for its address", i, fam);
	}
	json_array_foreach(routes, i, e) {
		int fam;

		j = json_object_get(e, "dst");
		if (!json_is_string(j))
			return fail(errbuf, errsize, "routes[%zu].dst must be a string", i);
		fam = cidr_family(json_string_value(j));
		if (!fam)
			return fail(errbuf, errsize, "routes[%zu].dst \"%.64s\" is not a prefix in CIDR notation", i,
				    json_string_value(j));
		j = json_object_get(e, "gw");
		if (j && (!json_is_string(j) || ip_family(json_string_value(j)) != fam))
			return fail(errbuf, errsize, "routes[%zu].gw must be an IPv%d address", i, fam);
		for (size_t k = 2; route_keys_v11[k]; k++)
			if ((ret = opt_uint(e, route_keys_v11[k], "routes", i, errbuf, errsize)) < 0)
				return ret;
	}
	j = json_object_get(r, "dns");
	if (j)
		return validate_dns(j, errbuf, errsize);
	return 0;
}

/* A new object with those of keys that src has, in the order of keys. */
static json_t *pick(const json_t *src, const char *const *keys)
{
	json_t *o = json_object();

	for (const char *const *k = keys; o && *k; k++) {
		json_t *v = json_object_get(src, *k);

		if (v)
			json_object_set(o, *k, v);
	}
	return o;
}

static json_t *convert_ip(const json_t *ip, enum cni_version v)
{
	json_t *o = json_object(), *j;

	if (!o)
		return NULL;
	if (v < CNI_VERSION_1_0_0) {
		const char *addr = json_string_value(json_object_get(ip, "address"));

		json_object_set_new(o, "version", json_string(addr && strchr(addr, ':') ? "6" : "4"));
	}
	if ((j = json_object_get(ip, "address")))
		json_object_set(o, "address", j);
	if ((j = json_object_get(ip, "gateway")))
		json_object_set(o, "gateway", j);
	if ((j = json_object_get(ip, "interface")))
		json_object_set(o, "interface", j);
	return o;
}

static bool dns_empty(const json_t *dns)
{
	const char *domain = json_string_value(json_object_get(dns, "domain"));

	if (domain && *domain)
		return false;
	for (const char *const *k = dns_list_keys; *k; k++)
		if (json_array_size(json_object_get(dns, *k)) > 0)
			return false;
	return true;
}

static json_t *convert_dns(const json_t *dns)
{
	json_t *o = json_object(), *j;

	if (!o)
		return NULL;
	if ((j = json_object_get(dns, "nameservers")) && json_array_size(j))
		json_object_set(o, "nameservers", j);
	if ((j = json_object_get(dns, "domain")) && json_string_length(j))
		json_object_set(o, "domain", j);
	if ((j = json_object_get(dns, "search")) && json_array_size(j))
		json_object_set(o, "search", j);
	if ((j = json_object_get(dns, "options")) && json_array_size(j))
		json_object_set(o, "options", j);
	return o;
}

static int convert_list(json_t *out, const json_t *in, const char *key, enum cni_version v)
{
	const json_t *src = json_object_get(in, key);
	json_t *a, *e;
	size_t i;

	if (json_array_size(src) == 0)
		return 0;
	a = json_array();
	if (!a)
		return -ENOMEM;
	json_array_foreach(src, i, e) {
		json_t *c;

		if (strcmp(key, "ips") == 0)
			c = convert_ip(e, v);
		else if (strcmp(key, "interfaces") == 0)
			c = pick(e, v >= CNI_VERSION_1_1_0 ? iface_keys_v11 : iface_keys_v0);
		else
			c = pick(e, v >= CNI_VERSION_1_1_0 ? route_keys_v11 : route_keys_v0);
		if (!c || json_array_append_new(a, c) < 0) {
			json_decref(a);
			return -ENOMEM;
		}
	}
	return json_object_set_new(out, key, a) < 0 ? -ENOMEM : 0;
}

int cni_result_convert(const json_t *result, enum cni_version v, json_t **ret)
{
	json_t *o, *dns;
	int r;

	if (v < 0 || v >= CNI_VERSION_COUNT)
		return -EINVAL;
	o = json_object();
	if (!o)
		return -ENOMEM;
	json_object_set_new(o, "cniVersion", json_string(cni_version_string(v)));
	if ((r = convert_list(o, result, "interfaces", v)) < 0 ||
	    (r = convert_list(o, result, "ips", v)) < 0 ||
	    (r = convert_list(o, result, "routes", v)) < 0)
		goto fail;
	dns = json_object_get(result, "dns");
	if (dns && !dns_empty(dns)) {
		json_t *d = convert_dns(dns);

		if (!d) {
			r = -ENOMEM;
			goto fail;
		}
		json_object_set_new(o, "dns", d);
	}
	*ret = o;
	return 0;
fail:
	json_decref(o);
	return r;
}

static bool array_has_string(const json_t *a, const char *s)
{
	size_t i;
	json_t *e;

	json_array_foreach(a, i, e)
		if (json_is_string(e) && strcmp(json_string_value(e), s) == 0)
			return true;
	return false;
}

static json_t *merge_dns(const json_t *prev, const json_t *ours)
{
	json_t *o = prev ? json_deep_copy(prev) : json_object();
	const char *domain;

	if (!o)
		return NULL;
	if (!ours)
		return o;
	for (const char *const *k = dns_list_keys; *k; k++) {
		const json_t *add = json_object_get(ours, *k);
		json_t *list = json_object_get(o, *k), *e;
		size_t i;

		if (json_array_size(add) == 0)
			continue;
		if (!list) {
			list = json_array();
			json_object_set_new(o, *k, list);
		}
		json_array_foreach(add, i, e)
			if (!array_has_string(list, json_string_value(e)))
				json_array_append(list, e);
	}
	domain = json_string_value(json_object_get(o, "domain"));
	if ((!domain || !*domain) && json_object_get(ours, "domain"))
		json_object_set(o, "domain", json_object_get(ours, "domain"));
	return o;
}

static int append_all(json_t *dst, const json_t *src)
{
	size_t i;
	json_t *e;

	json_array_foreach(src, i, e)
		if (json_array_append(dst, e) < 0)
			return -ENOMEM;
	return 0;
}

int cni_result_merge(const json_t *prev, const json_t *ours, json_t **ret)
{
	json_t *o = json_object(), *ifaces = json_array(), *ips = json_array(), *routes = json_array(), *dns;
	size_t n_prev_ifaces = json_array_size(json_object_get(prev, "interfaces")), i;
	json_t *e;
	int r = -ENOMEM;

	if (!o || !ifaces || !ips || !routes)
		goto fail;
	if (append_all(ifaces, json_object_get(prev, "interfaces")) < 0 ||
	    append_all(ifaces, json_object_get(ours, "interfaces")) < 0 ||
	    append_all(ips, json_object_get(prev, "ips")) < 0 ||
	    append_all(routes, json_object_get(prev, "routes")) < 0 ||
	    append_all(routes, json_object_get(ours, "routes")) < 0)
		goto fail;
	json_array_foreach(json_object_get(ours, "ips"), i, e) {
		json_t *c = json_copy(e), *idx = json_object_get(e, "interface");

		if (!c)
			goto fail;
		if (json_is_integer(idx))
			json_object_set_new(c, "interface",
					    json_integer(json_integer_value(idx) + (json_int_t)n_prev_ifaces));
		if (json_array_append_new(ips, c) < 0)
			goto fail;
	}
	dns = merge_dns(json_object_get(prev, "dns"), json_object_get(ours, "dns"));
	if (!dns)
		goto fail;
	json_object_set_new(o, "interfaces", ifaces);
	json_object_set_new(o, "ips", ips);
	json_object_set_new(o, "routes", routes);
	json_object_set_new(o, "dns", dns);
	*ret = o;
	return 0;
fail:
	json_decref(o);
	json_decref(ifaces);
	json_decref(ips);
	json_decref(routes);
	return r;
}
