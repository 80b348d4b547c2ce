/* The local API server (docs/api.md): unix stream socket, one JSON request (plus an optional
 * SCM_RIGHTS fd), one JSON response.  Driven by the libuv loop with uv_poll handles because
 * libuv's own pipe handles cannot hand over arbitrary descriptors such as a netns fd. */
#pragma once
#include <jansson.h>
#include <uv.h>

#define API_ERRLEN 256
/* Requests are small (docs/api.md, "Limits"): the largest the plugin sends is a check with a chained
 * prevResult, a few KiB.  Root may send larger ones, up to IPC_MAX_MESSAGE (a gc with a long valid
 * list), two connections at a time. */
#define API_MAX_REQUEST (64u << 10)

struct api;
/* One request being answered. */
struct api_call;

/* The handler owns neither req nor fd (the server closes fd afterwards); it returns a new response
 * object, or API_DEFERRED after api_call_defer(call) when the answer needs work the loop must not
 * wait for (a store request). */
typedef json_t *(*api_handler)(void *userdata, json_t *req, int fd, struct api_call *call);

extern json_t api_deferred;
#define API_DEFERRED (&api_deferred)

/* Keep call for a later api_call_reply().  The fd passed with the request is closed when the
 * handler returns, deferred or not. */
struct api_call *api_call_defer(struct api_call *call);
/* Answer a deferred call exactly once (resp is consumed; NULL is an internal error).  When the
 * client is gone meanwhile (deadline, shutdown) the answer is dropped; either way call is freed. */
void api_call_reply(struct api_call *call, json_t *resp);

/* group: "" = root only, else that group may connect too (socket mode 0660). */
int api_start(uv_loop_t *loop, const char *path, const char *group, api_handler handler, void *userdata,
              struct api **ret, char err[API_ERRLEN]);
/* Stop listening and remove the socket; connections in flight are dropped. */
void api_stop(struct api *a);

/* {"ok": false, "code": code, "msg": msg, "details": details} */
json_t *api_error(int code, const char *msg, const char *details_fmt, ...) __attribute__((format(printf, 3, 4)));
