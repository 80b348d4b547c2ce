/* TLS for the etcd client (etcds://): OpenSSL over memory BIOs, so the bytes travel on our own
 * libuv stream (store/http_client.c) and OpenSSL never touches a socket.
 *
 * libssl.so.3 is loaded with dlopen by tls_load(), only when an etcds:// store is opened: a node
 * on the file store or on plain etcd:// never maps OpenSSL.  The entry points are declared with
 * __typeof__ of <openssl/ssl.h>'s prototypes, so the compiler checks every call as usual; only
 * the symbols are resolved late.  The peer is verified as curl did: the chain against the CA file
 * (or the system's CAs) and the certificate against the host name or IP address we connected to. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define TLS_ERRLEN 256

struct tls_ctx;
struct tls_conn;

/* Load libssl once per process (later calls return 0 at once); -ELIBACC with the reason in err. */
int tls_load(char *err, size_t errlen);

/* A client context: ca (NULL or "": the system's CAs), cert and key (both or neither).  A file
 * OpenSSL cannot use fails with -EACCES and the reason in err. */
int tls_ctx_new(const char *ca, const char *cert, const char *key, char err[TLS_ERRLEN], struct tls_ctx **ret);
void tls_ctx_free(struct tls_ctx *ctx);

/* One client session verifying host (a name, or an IPv4/IPv6 address without brackets). */
int tls_conn_new(struct tls_ctx *ctx, const char *host, struct tls_conn **ret);
void tls_conn_free(struct tls_conn *t);

/* Bytes that arrived from the network. */
int tls_conn_feed(struct tls_conn *t, const void *data, size_t len);
/* Bytes OpenSSL wants sent, moved into a malloc'd buffer (*ret_len 0 and *ret_buf NULL: none). */
int tls_conn_take(struct tls_conn *t, char **ret_buf, size_t *ret_len);
/* 1: the handshake is done; 0: it needs more bytes from the peer; -EACCES (a certificate
 * problem) or -EIO: failed, tls_conn_error() says why. */
int tls_conn_handshake(struct tls_conn *t);
/* Encrypt len bytes (all of them, or an error). */
int tls_conn_write(struct tls_conn *t, const void *data, size_t len);
/* Decrypted bytes: > 0 read, 0 needs more from the peer, -EPIPE the peer closed the session,
 * -EACCES/-EIO failed (tls_conn_error()). */
ssize_t tls_conn_read(struct tls_conn *t, void *buf, size_t len);
/* The last failure's text ("SSL certificate problem: unable to get local issuer certificate"). */
const char *tls_conn_error(const struct tls_conn *t);
