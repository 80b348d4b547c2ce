/* libcurl resolved at run time (etcd_curl.h says why). */
#include "store/etcd_curl.h"

#include <dlfcn.h>
#include <stdio.h>

static struct etcd_curl curl_api;
static const struct etcd_curl *curl_loaded;

/* Each entry: where the pointer goes and the symbol that fills it. */
#define CURL_SYM(field, name) { (void **)&curl_api.field, name }

const struct etcd_curl *etcd_curl_load(char *err, size_t errlen)
{
	static const struct {
		void **slot;
		const char *name;
	} syms[] = {
		CURL_SYM(easy_init, "curl_easy_init"),
		CURL_SYM(easy_setopt, "curl_easy_setopt"),
		CURL_SYM(easy_getinfo, "curl_easy_getinfo"),
		CURL_SYM(easy_perform, "curl_easy_perform"),
		CURL_SYM(easy_cleanup, "curl_easy_cleanup"),
		CURL_SYM(easy_strerror, "curl_easy_strerror"),
		CURL_SYM(multi_init, "curl_multi_init"),
		CURL_SYM(multi_setopt, "curl_multi_setopt"),
		CURL_SYM(multi_add_handle, "curl_multi_add_handle"),
		CURL_SYM(multi_remove_handle, "curl_multi_remove_handle"),
		CURL_SYM(multi_assign, "curl_multi_assign"),
		CURL_SYM(multi_socket_action, "curl_multi_socket_action"),
		CURL_SYM(multi_info_read, "curl_multi_info_read"),
		CURL_SYM(multi_cleanup, "curl_multi_cleanup"),
		CURL_SYM(slist_append, "curl_slist_append"),
		CURL_SYM(slist_free_all, "curl_slist_free_all"),
		CURL_SYM(version_info, "curl_version_info"),
	};
	CURLcode (*global_init)(long flags);
	void *h;

	if (curl_loaded)
		return curl_loaded;
	/* RTLD_NODELETE: the library stays for the process's life even if a later step fails, so a
	 * pointer handed out once never dangles.  Loaded once; never unloaded. */
	h = dlopen(ETCD_CURL_SONAME, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
	if (!h) {
		snprintf(err, errlen, "cannot load %s (Debian package libcurl4): %s", ETCD_CURL_SONAME, dlerror());
		return NULL;
	}
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		*syms[i].slot = dlsym(h, syms[i].name);
		if (!*syms[i].slot) {
			snprintf(err, errlen, "%s lacks %s", ETCD_CURL_SONAME, syms[i].name);
			return NULL;
		}
	}
	*(void **)&global_init = dlsym(h, "curl_global_init");
	if (!global_init) {
		snprintf(err, errlen, "%s lacks curl_global_init", ETCD_CURL_SONAME);
		return NULL;
	}
	if (global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, errlen, "curl_global_init failed");
		return NULL;
	}
	curl_loaded = &curl_api;
	return curl_loaded;
}
