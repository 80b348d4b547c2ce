/* The local API transport (docs/api.md): a unix stream socket, one JSON request, one JSON response.
 * The client sends the request (with an optional fd as SCM_RIGHTS on the first byte), then shuts
 * down its write side; the server answers and closes.  No length prefix: EOF frames both ends, so
 * `socat` can talk to shoald for debugging. */
#pragma once
#include <jansson.h>
#include <stddef.h>

#define IPC_DEFAULT_SOCKET "/run/shoal/shoald.sock"
/* The largest answer a client accepts (a workloads list of thousands), and the largest request shoald
 * takes from root (a gc with many thousand attachments).  Other requests are limited far lower by
 * shoald (netd/api.h API_MAX_REQUEST). */
#define IPC_MAX_MESSAGE (4u << 20)

/* Returns 0, or -errno: -ENOENT / -ECONNREFUSED / -EACCES when shoald cannot be reached,
 * -ETIMEDOUT, -EPROTO when the answer is not a JSON object.  When shoald answers and closes before
 * reading the request (it refused the peer or is busy) that answer is returned, not -EPIPE. */
int ipc_call(const char *socket_path, json_t *request, int pass_fd, int timeout_ms, json_t **ret_response);

/* Raw halves, shared with the server and tests. */
int ipc_send_all(int sock, const char *data, size_t len, int pass_fd);
