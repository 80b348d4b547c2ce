/* A netlink socket (NETLINK_ROUTE by default, any family on request) bound to one network
 * namespace, with a bounded wait for answers.
 *
 * A netlink socket stays in the namespace it was created in, so for a container namespace we
 * create the socket on a short-lived thread that setns()es first: the calling thread (shoald's
 * event loop) never changes namespace.
 *
 * Every wait for an answer is bounded (NLSOCK_TIMEOUT_MS by default): an answer that never comes
 * (a request sent without NLM_F_ACK, a dump that stops) fails the call with -ETIMEDOUT instead of
 * hanging the event loop.  It cannot bound the kernel's own work: rtnetlink runs a request inside
 * sendmsg(), under the RTNL mutex, and a sleeping mutex wait is not interruptible by a timeout. */
#pragma once
#include <libmnl/libmnl.h>
#include <stddef.h>
#include <stdint.h>

#define NLSOCK_BUFSIZE 8192
#define NLSOCK_ERRLEN 256
/* Longest silence from the kernel during one request before it fails with -ETIMEDOUT. */
#define NLSOCK_TIMEOUT_MS 5000

struct nlsock;

/* netlink_family: NETLINK_ROUTE, NETLINK_NETFILTER, ...; netns_fd < 0: the caller's namespace. */
int nlsock_open_family(int netlink_family, int netns_fd, struct nlsock **ret);
/* NETLINK_ROUTE: nlsock_open_family(NETLINK_ROUTE, netns_fd, ret). */
int nlsock_open(int netns_fd, struct nlsock **ret);
/* How long a request may wait for each answer (a silence longer than ms fails the call with
 * -ETIMEDOUT; answers that arrive later are skipped by sequence number).  0 = wait forever. */
int nlsock_set_timeout(struct nlsock *s, unsigned ms);
void nlsock_free(struct nlsock *s);
uint32_t nlsock_next_seq(struct nlsock *s);

/* Send nmsgs messages built back to back in buf (each with NLM_F_ACK and consecutive sequence
 * numbers starting at first_seq) in one sendmsg and wait for every ACK.  Returns 0 or the first
 * error as -errno; that message's index goes to *ret_failed_index and the kernel's extended-ACK
 * text (if any) to err.  -ETIMEDOUT when the ACKs stop coming (*ret_failed_index untouched). */
int nlsock_transact(struct nlsock *s, const void *buf, size_t len, uint32_t first_seq, unsigned nmsgs,
                    unsigned *ret_failed_index, char err[NLSOCK_ERRLEN]);

/* The same, recording every message's result (0 or -errno) in errs[nmsgs]. */
int nlsock_transact_each(struct nlsock *s, const void *buf, size_t len, uint32_t first_seq, unsigned nmsgs,
                         int *errs, char err[NLSOCK_ERRLEN]);

/* Send one request (a GET or a DUMP) and call cb for each reply message.  A dump interrupted by a
 * concurrent change (NLM_F_DUMP_INTR) is redone from the start: cb must tolerate being called
 * again after reset_cb(data) was called. */
int nlsock_query(struct nlsock *s, void *req, mnl_cb_t cb, void (*reset_cb)(void *), void *data,
                 char err[NLSOCK_ERRLEN]);
