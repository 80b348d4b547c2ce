/* Deferred deletion of host veths.
 *
 * Unregistering a net device costs the kernel about 20 ms (it waits for RCU readers), which would
 * dominate CNI DEL.  DEL therefore only records the intent (the attachment record moves to
 * releasing/) and queues the device here; a worker thread with its own netlink socket deletes it and
 * the loop is told when it is gone.  Only then is the address released: an address is never
 * reused while its old interface exists.  Jobs queued together are deleted in one kernel
 * transaction (a device group), so a burst of DELs pays for one RCU wait, not one each. */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct reaper;

/* Called on the loop thread for each finished job, with the name and ifindex it was queued with.
 * err < 0 when the kernel refused (logged by the caller); the device may still exist then. */
typedef void (*reaper_done_cb)(void *userdata, const char *name, int ifindex, int err);

/* Test hook: the environment variable SHOALD_TEST_REAPER_DELAY_MS (read here, once) delays every
 * batch by that many milliseconds; see reaper.c. */
int reaper_start(uv_loop_t *loop, reaper_done_cb cb, void *userdata, struct reaper **ret);
/* ifindex > 0 deletes that exact device (a newer device of the same name is safe); 0 = by name. */
int reaper_queue(struct reaper *r, const char *name, int ifindex);
size_t reaper_pending(struct reaper *r);
/* Stop the worker after its current batch; unprocessed jobs are dropped (their records stay in
 * releasing/ and the next start finishes them).  Frees r once the loop has closed its handle. */
void reaper_stop(struct reaper *r);
