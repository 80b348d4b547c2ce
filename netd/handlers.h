/* The API's operations: the handler given to api_start() (netd/api.h). */
#pragma once
#include <jansson.h>

struct api_call;

/* userdata is the struct manager; fd is the descriptor passed with the request or -1.  Operations
 * that need the store answer later through call (netd/api.h). */
json_t *handlers_dispatch(void *userdata, json_t *req, int fd, struct api_call *call);
