/* CNI ADD results: validation, conversion between spec versions and merging with a prevResult.
 *
 * Internally a result is the CNI 1.1.0 shape that shoald answers with (docs/api.md).  Converting to
 * a version keeps exactly the fields that version defines:
 *   0.3.0, 0.3.1, 0.4.0  interfaces{name,mac,sandbox}; ips{version,address,gateway,interface};
 *                        routes{dst,gw}; dns
 *   1.0.0                as 0.4.0 without ips[].version
 *   1.1.0                1.0.0 plus interfaces{mtu,socketPath,pciID} and
 *                        routes{mtu,advmss,priority,table,scope}
 * Empty lists and an empty dns object are left out, as libcni does. */
#pragma once
#include <jansson.h>
#include <stddef.h>

#include "cni-plugin/cni.h"

/* Check the shape of a result object in any of our versions: types of every known field, addresses
 * and routes in CIDR form, interface indexes within the interfaces list.  On failure writes a
 * message naming the field ("ips[0].address ...") to errbuf and returns -EINVAL. */
int cni_result_validate(const json_t *result, char *errbuf, size_t errsize);

/* A new result in version v from a valid result of any version (ips[].version is derived from the
 * address when v needs it). */
int cni_result_convert(const json_t *result, enum cni_version v, json_t **ret);

/* prevResult chaining: a new result with prev's interfaces, ips, routes and dns followed by ours;
 * our ips' interface indexes are moved past prev's interfaces.  DNS: prev's values come first, ours
 * are appended to the lists (without duplicates) and fill a missing domain.  Both inputs valid. */
int cni_result_merge(const json_t *prev, const json_t *ours, json_t **ret);
