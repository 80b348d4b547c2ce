/* The two locks that make shoald the only one of its kind, shared by shoald (netd/manager.c) and
 * shoald --cleanup (netd/cleanup.c), which must take exactly the same ones to prove no shoald runs. */
#pragma once
#include <stdbool.h>

/* The abstract unix socket "@shoal/shoald".  It lives in the network namespace that bound it and
 * vanishes with the process, so binding it is a lock per network namespace that no file, state
 * directory or stale pid can fool.  -EADDRINUSE when another holds it. */
#define LOCK_NETNS_NAME "shoal/shoald"
int lock_netns(int *ret_fd);

/* flock(LOCK_EX | LOCK_NB) on STATE_DIR/shoald.lock: -EWOULDBLOCK when another holds it.  With create
 * false a missing file is success with *ret_fd = -1 (nobody can hold a lock file that does not
 * exist). */
int lock_state_dir(const char *state_dir, bool create, int *ret_fd);
