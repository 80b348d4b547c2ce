/* libcurl, loaded when the first etcd:// store is opened instead of linked into shoald.
 *
 * Debian's libcurl brings ~30 shared libraries (OpenSSL, GnuTLS, Kerberos, LDAP, SSH, RTMP...)
 * that cost ~5.5 MiB of resident memory in every process that links it, touched or not.  A node
 * on the file store never speaks HTTP, so shoald dlopen()s libcurl.so.4 only for etcd:// and
 * etcds:// and reaches it through this table.  The build still compiles against <curl/curl.h>,
 * so the types and constants are checked as usual; only the symbols are resolved late. */
#pragma once
#include <curl/curl.h>
#include <stddef.h>

/* Debian's libcurl4 (OpenSSL flavour) ships this soname; libcurl4-openssl-dev builds against it. */
#define ETCD_CURL_SONAME "libcurl.so.4"

struct etcd_curl {
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *easy, CURLoption option, ...);
	CURLcode (*easy_getinfo)(CURL *easy, CURLINFO info, ...);
	CURLcode (*easy_perform)(CURL *easy);
	void (*easy_cleanup)(CURL *easy);
	const char *(*easy_strerror)(CURLcode code);
	CURLM *(*multi_init)(void);
	CURLMcode (*multi_setopt)(CURLM *multi, CURLMoption option, ...);
	CURLMcode (*multi_add_handle)(CURLM *multi, CURL *easy);
	CURLMcode (*multi_remove_handle)(CURLM *multi, CURL *easy);
	CURLMcode (*multi_assign)(CURLM *multi, curl_socket_t fd, void *p);
	CURLMcode (*multi_socket_action)(CURLM *multi, curl_socket_t fd, int ev_bitmask, int *running);
	CURLMsg *(*multi_info_read)(CURLM *multi, int *msgs_in_queue);
	CURLMcode (*multi_cleanup)(CURLM *multi);
	struct curl_slist *(*slist_append)(struct curl_slist *list, const char *s);
	void (*slist_free_all)(struct curl_slist *list);
	curl_version_info_data *(*version_info)(CURLversion age);
};

/* Load libcurl and initialise it (curl_global_init) once per process; later calls return the same
 * table.  Not thread-safe, like curl_global_init itself: shoald opens its store on the loop thread.
 * NULL when it cannot be loaded, with the reason (dlerror's, or the missing symbol) in err. */
const struct etcd_curl *etcd_curl_load(char *err, size_t errlen);
