/* The manager owns shoald's state and decides; the modules (ipam, store, overlay, fw) do.
 * It runs on one libuv loop; API requests are handled to completion on that loop. */
#pragma once
#include <uv.h>

#include "netd/config.h"

struct manager;

int manager_new(uv_loop_t *loop, const struct netd_config *cfg, struct manager **ret);
/* Connect the store, claim the subnet, build or adopt the bridge and the nftables table, restore
 * attachments from the state directory against the kernel, then serve the API. */
int manager_start(struct manager *m);
/* SIGHUP: apply what can change at runtime (log level); say what needs a restart. */
void manager_reload(struct manager *m, const struct netd_config *cfg);
/* Stop serving; leaves every data-plane object in place. */
void manager_stop(struct manager *m);
void manager_free(struct manager *m);
