/* Helpers shared by overlay.c and host.c; not part of the overlay API. */
#pragma once
#include "overlay/nlsock.h"
#include "overlay/overlay.h"

/* err = "<what>: <strerror(-r)>[ (kernel: <kernel>)]" */
void overlay_fmt_err(char err[OVERLAY_ERRLEN], int r, const char *kernel, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Send one request built into buf (len < 0: the builder's error, returned as is) and wait for its ACK. */
int overlay_transact1(struct nlsock *s, void *buf, int len, char kerr[NLSOCK_ERRLEN]);
