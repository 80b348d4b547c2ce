/* The API's operations: the handler given to api_start() (netd/api.h). */
#pragma once
#include <jansson.h>

/* userdata is the struct manager; fd is the descriptor passed with the request or -1. */
json_t *handlers_dispatch(void *userdata, json_t *req, int fd);
