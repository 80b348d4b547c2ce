/* OpenSSL through memory BIOs, loaded at run time (store/tls.h). */
#include "store/tls.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Debian's libssl3 ships this soname; libssl-dev builds against it.  libcrypto comes with it, and
 * dlsym on libssl's handle finds libcrypto's symbols too (its dependencies are searched). */
#define TLS_SONAME "libssl.so.3"

#define TLS_FN(name) __typeof__(name) *name
static struct {
	TLS_FN(TLS_client_method);
	TLS_FN(SSL_CTX_new);
	TLS_FN(SSL_CTX_free);
	TLS_FN(SSL_CTX_ctrl);
	TLS_FN(SSL_CTX_set_verify);
	TLS_FN(SSL_CTX_load_verify_locations);
	TLS_FN(SSL_CTX_set_default_verify_paths);
	TLS_FN(SSL_CTX_use_certificate_chain_file);
	TLS_FN(SSL_CTX_use_PrivateKey_file);
	TLS_FN(SSL_CTX_check_private_key);
	TLS_FN(SSL_new);
	TLS_FN(SSL_free);
	TLS_FN(SSL_ctrl);
	TLS_FN(SSL_set_bio);
	TLS_FN(SSL_set_connect_state);
	TLS_FN(SSL_do_handshake);
	TLS_FN(SSL_read);
	TLS_FN(SSL_write);
	TLS_FN(SSL_get_error);
	TLS_FN(SSL_get0_param);
	TLS_FN(SSL_get_verify_result);
	TLS_FN(X509_VERIFY_PARAM_set1_host);
	TLS_FN(X509_VERIFY_PARAM_set1_ip_asc);
	TLS_FN(X509_verify_cert_error_string);
	TLS_FN(BIO_new);
	TLS_FN(BIO_free);
	TLS_FN(BIO_s_mem);
	TLS_FN(BIO_read);
	TLS_FN(BIO_write);
	TLS_FN(BIO_ctrl_pending);
	TLS_FN(ERR_get_error);
	TLS_FN(ERR_clear_error);
	TLS_FN(ERR_reason_error_string);
	TLS_FN(ERR_error_string_n);
} ssl;
#undef TLS_FN
static bool ssl_loaded;

struct tls_ctx {
	SSL_CTX *ctx;
};

struct tls_conn {
	SSL *ssl;
	BIO *in, *out;         /* network -> OpenSSL, OpenSSL -> network (SSL owns both) */
	char err[TLS_ERRLEN];
};

int tls_load(char *err, size_t errlen)
{
#define TLS_SYM(name) { (void **)&ssl.name, #name }
	static const struct {
		void **slot;
		const char *name;
	} syms[] = {
		TLS_SYM(TLS_client_method), TLS_SYM(SSL_CTX_new), TLS_SYM(SSL_CTX_free), TLS_SYM(SSL_CTX_ctrl),
		TLS_SYM(SSL_CTX_set_verify), TLS_SYM(SSL_CTX_load_verify_locations),
		TLS_SYM(SSL_CTX_set_default_verify_paths), TLS_SYM(SSL_CTX_use_certificate_chain_file),
		TLS_SYM(SSL_CTX_use_PrivateKey_file), TLS_SYM(SSL_CTX_check_private_key), TLS_SYM(SSL_new),
		TLS_SYM(SSL_free), TLS_SYM(SSL_ctrl), TLS_SYM(SSL_set_bio), TLS_SYM(SSL_set_connect_state),
		TLS_SYM(SSL_do_handshake), TLS_SYM(SSL_read), TLS_SYM(SSL_write), TLS_SYM(SSL_get_error),
		TLS_SYM(SSL_get0_param), TLS_SYM(SSL_get_verify_result), TLS_SYM(X509_VERIFY_PARAM_set1_host),
		TLS_SYM(X509_VERIFY_PARAM_set1_ip_asc), TLS_SYM(X509_verify_cert_error_string), TLS_SYM(BIO_new), TLS_SYM(BIO_free),
		TLS_SYM(BIO_s_mem), TLS_SYM(BIO_read), TLS_SYM(BIO_write), TLS_SYM(BIO_ctrl_pending),
		TLS_SYM(ERR_get_error), TLS_SYM(ERR_clear_error), TLS_SYM(ERR_reason_error_string),
		TLS_SYM(ERR_error_string_n),
	};
#undef TLS_SYM
	void *h;

	if (ssl_loaded)
		return 0;
	/* RTLD_NODELETE: loaded once, never unloaded, so no pointer handed out can dangle. */
	h = dlopen(TLS_SONAME, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
	if (!h) {
		snprintf(err, errlen, "cannot load %s (Debian package libssl3): %s", TLS_SONAME, dlerror());
		return -ELIBACC;
	}
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		*syms[i].slot = dlsym(h, syms[i].name);
		if (!*syms[i].slot) {
			snprintf(err, errlen, "%s lacks %s", TLS_SONAME, syms[i].name);
			return -ELIBACC;
		}
	}
	ssl_loaded = true;
	return 0;
}

/* OpenSSL's oldest queued error as text; the queue is emptied. */
static void tls_error_text(const char *what, char err[TLS_ERRLEN])
{
	unsigned long e = ssl.ERR_get_error();
	const char *reason = e ? ssl.ERR_reason_error_string(e) : NULL;
	char buf[TLS_ERRLEN];

	if (e && !reason) {
		ssl.ERR_error_string_n(e, buf, sizeof(buf));
		reason = buf;
	}
	snprintf(err, TLS_ERRLEN, "%s%s%s", what, reason ? ": " : "", reason ? reason : "");
	ssl.ERR_clear_error();
}

int tls_ctx_new(const char *ca, const char *cert, const char *key, char err[TLS_ERRLEN], struct tls_ctx **ret)
{
	struct tls_ctx *c;
	char what[TLS_ERRLEN];

	if (!ssl_loaded)
		return -ELIBACC;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	ssl.ERR_clear_error();
	c->ctx = ssl.SSL_CTX_new(ssl.TLS_client_method());
	if (!c->ctx) {
		free(c);
		return -ENOMEM;
	}
	ssl.SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
	/* SSL_CTX_set_min_proto_version is a macro over SSL_CTX_ctrl; TLS 1.2 is curl's floor too. */
	ssl.SSL_CTX_ctrl(c->ctx, SSL_CTRL_SET_MIN_PROTO_VERSION, TLS1_2_VERSION, NULL);
	if (ca && *ca) {
		if (ssl.SSL_CTX_load_verify_locations(c->ctx, ca, NULL) != 1) {
			snprintf(what, sizeof(what), "error setting certificate file: %s", ca);
			goto fail;
		}
	} else if (ssl.SSL_CTX_set_default_verify_paths(c->ctx) != 1) {
		snprintf(what, sizeof(what), "cannot load the system's CA certificates");
		goto fail;
	}
	if (cert && *cert) {
		if (ssl.SSL_CTX_use_certificate_chain_file(c->ctx, cert) != 1) {
			snprintf(what, sizeof(what), "could not load client certificate %s", cert);
			goto fail;
		}
		if (ssl.SSL_CTX_use_PrivateKey_file(c->ctx, key, SSL_FILETYPE_PEM) != 1) {
			snprintf(what, sizeof(what), "unable to set private key file %s", key);
			goto fail;
		}
		if (ssl.SSL_CTX_check_private_key(c->ctx) != 1) {
			snprintf(what, sizeof(what), "private key %s does not match certificate %s", key, cert);
			goto fail;
		}
	}
	*ret = c;
	return 0;
fail:
	tls_error_text(what, err);
	tls_ctx_free(c);
	return -EACCES;
}

void tls_ctx_free(struct tls_ctx *c)
{
	if (!c)
		return;
	ssl.SSL_CTX_free(c->ctx);
	free(c);
}

int tls_conn_new(struct tls_ctx *c, const char *host, struct tls_conn **ret)
{
	struct tls_conn *t = calloc(1, sizeof(*t));
	X509_VERIFY_PARAM *param;
	unsigned char addr[16];
	bool ip;

	if (!t)
		return -ENOMEM;
	t->ssl = ssl.SSL_new(c->ctx);
	t->in = ssl.BIO_new(ssl.BIO_s_mem());
	t->out = ssl.BIO_new(ssl.BIO_s_mem());
	if (!t->ssl || !t->in || !t->out) {
		/* Not owned by the SSL yet. */
		ssl.BIO_free(t->in);
		ssl.BIO_free(t->out);
		ssl.SSL_free(t->ssl);
		free(t);
		return -ENOMEM;
	}
	/* An empty memory BIO reads as "retry", which SSL reports as SSL_ERROR_WANT_READ. */
	ssl.SSL_set_bio(t->ssl, t->in, t->out);
	ssl.SSL_set_connect_state(t->ssl);
	ip = inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
	param = ssl.SSL_get0_param(t->ssl);
	/* The certificate must name what we connected to: a DNS name, or an IP address SAN. */
	if (ip ? ssl.X509_VERIFY_PARAM_set1_ip_asc(param, host) != 1 : ssl.X509_VERIFY_PARAM_set1_host(param, host, 0) != 1)
		goto nomem;
	/* SNI only for names (RFC 6066 forbids addresses); SSL_set_tlsext_host_name is a macro. */
	if (!ip && ssl.SSL_ctrl(t->ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, (void *)host) != 1)
		goto nomem;
	*ret = t;
	return 0;
nomem:
	tls_conn_free(t);
	return -ENOMEM;
}

void tls_conn_free(struct tls_conn *t)
{
	if (!t)
		return;
	ssl.SSL_free(t->ssl);   /* frees the BIOs it owns */
	free(t);
}

int tls_conn_feed(struct tls_conn *t, const void *data, size_t len)
{
	if (len > 0 && ssl.BIO_write(t->in, data, (int)len) != (int)len)
		return -ENOMEM;
	return 0;
}

int tls_conn_take(struct tls_conn *t, char **ret_buf, size_t *ret_len)
{
	size_t n = ssl.BIO_ctrl_pending(t->out);
	char *buf;

	if (n == 0) {
		*ret_buf = NULL;
		*ret_len = 0;
		return 0;
	}
	buf = malloc(n);
	if (!buf)
		return -ENOMEM;
	if (ssl.BIO_read(t->out, buf, (int)n) != (int)n) {
		free(buf);
		return -EIO;
	}
	*ret_buf = buf;
	*ret_len = n;
	return 0;
}

/* An SSL call returned r <= 0: 0 when it only waits for the peer, else the failure, described. */
static int tls_fail(struct tls_conn *t, int r, const char *what)
{
	int e = ssl.SSL_get_error(t->ssl, r);
	long v;

	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return 0;
	if (e == SSL_ERROR_ZERO_RETURN)
		return -EPIPE;
	v = ssl.SSL_get_verify_result(t->ssl);
	if (v != X509_V_OK) {
		snprintf(t->err, sizeof(t->err), "SSL certificate problem: %s", ssl.X509_verify_cert_error_string(v));
		ssl.ERR_clear_error();
		return -EACCES;
	}
	tls_error_text(what, t->err);
	/* TLS 1.3: the server checks our certificate after we finished the handshake, so its
	 * "certificate required" alert arrives on the first read.  Anything about a certificate is
	 * the configuration's fault, like a failed verification. */
	return strstr(t->err, "certificate") ? -EACCES : -EIO;
}

int tls_conn_handshake(struct tls_conn *t)
{
	int r;

	ssl.ERR_clear_error();
	r = ssl.SSL_do_handshake(t->ssl);
	if (r == 1)
		return 1;
	return tls_fail(t, r, "TLS handshake");
}

int tls_conn_write(struct tls_conn *t, const void *data, size_t len)
{
	int r;

	ssl.ERR_clear_error();
	r = ssl.SSL_write(t->ssl, data, (int)len);
	if (r == (int)len)
		return 0;
	r = tls_fail(t, r, "TLS write");
	return r < 0 ? r : -EIO;
}

ssize_t tls_conn_read(struct tls_conn *t, void *buf, size_t len)
{
	int r;

	ssl.ERR_clear_error();
	r = ssl.SSL_read(t->ssl, buf, (int)len);
	if (r > 0)
		return r;
	return tls_fail(t, r, "TLS read");
}

const char *tls_conn_error(const struct tls_conn *t)
{
	return t->err;
}
