/* shoald: the per-host daemon.  main() reads straight through: parse the command line, load the
 * config, create the manager, start it, run the loop. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <uv.h>

#include "lib/log.h"
#include "lib/version.h"
#include "netd/config.h"
#include "netd/manager.h"

#define DEFAULT_CONFIG "/etc/shoal/shoald.json"

struct overrides {
	const char *node, *store, *state_dir, *socket, *log_level;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: shoald [OPTIONS]\n"
		"\n"
		"The shoal host daemon: claims this host's subnet from the store, owns the bridge, the nftables\n"
		"table inet shoal and every workload's veth, and serves the local API used by the shoal CNI\n"
		"plugin and netctl.\n"
		"\n"
		"Options:\n"
		"  -c, --config FILE      JSON configuration (default " DEFAULT_CONFIG "; see docs/config.md)\n"
		"  -n, --node NAME        node name (overrides \"node\")\n"
		"  -s, --store URL        store, file:/DIR (overrides \"store\")\n"
		"  -d, --state-dir DIR    state directory (overrides \"stateDir\")\n"
		"  -S, --socket PATH      API socket (overrides \"socket\")\n"
		"  -l, --log-level LEVEL  error, warning, info or debug (overrides \"logLevel\")\n"
		"  -t, --check-config     validate the configuration and exit\n"
		"  -h, --help             show this help\n"
		"  -V, --version          show the version\n"
		"\n"
		"Signals: SIGTERM/SIGINT stop serving and exit, leaving every interface, address and rule in place\n"
		"(workloads keep their traffic); SIGHUP re-reads the configuration (logLevel applies at once).\n"
		"\n"
		"Exit status: 0 after a clean stop, 1 on a configuration or start-up error, 2 on a usage error.\n");
}

static int apply_overrides(struct netd_config *c, const struct overrides *o, char err[CONFIG_ERRLEN])
{
	struct { const char *v; char *dst; size_t size; const char *key; } s[] = {
		{ o->node, c->node, sizeof(c->node), "--node" },
		{ o->store, c->store, sizeof(c->store), "--store" },
		{ o->state_dir, c->state_dir, sizeof(c->state_dir), "--state-dir" },
		{ o->socket, c->socket, sizeof(c->socket), "--socket" },
	};

	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		if (!s[i].v)
			continue;
		if (strlen(s[i].v) >= s[i].size) {
			snprintf(err, CONFIG_ERRLEN, "%s: value is longer than %zu bytes", s[i].key, s[i].size - 1);
			return -EINVAL;
		}
		snprintf(s[i].dst, s[i].size, "%s", s[i].v);
	}
	if (o->log_level) {
		int l = log_level_parse(o->log_level);

		if (l < 0) {
			snprintf(err, CONFIG_ERRLEN, "--log-level: \"%s\" is not one of error, warning, info, debug",
			         o->log_level);
			return -EINVAL;
		}
		c->log_level = l;
	}
	return config_validate(c, err);
}

static int load(struct netd_config *c, const char *path, bool explicit, const struct overrides *o)
{
	char err[CONFIG_ERRLEN];

	config_init(c);
	if (explicit || access(path, F_OK) == 0) {
		if (config_load(c, path, err) < 0) {
			log_error("invalid configuration: %s", err);
			return -EINVAL;
		}
	}
	if (apply_overrides(c, o, err) < 0) {
		log_error("invalid configuration: %s", err);
		return -EINVAL;
	}
	return 0;
}

struct ctx {
	struct manager *m;
	const char *config_path;
	bool explicit;
	struct overrides o;
	uv_signal_t sigterm, sigint, sighup;
};

static void on_stop(uv_signal_t *h, int signum)
{
	struct ctx *x = h->data;

	log_info("received %s; stopping (the data plane stays as it is)", strsignal(signum));
	manager_stop(x->m);
	uv_close((uv_handle_t *)&x->sigterm, NULL);
	uv_close((uv_handle_t *)&x->sigint, NULL);
	uv_close((uv_handle_t *)&x->sighup, NULL);
}

static void on_hup(uv_signal_t *h, int signum)
{
	struct ctx *x = h->data;
	struct netd_config c;

	log_info("received SIGHUP; re-reading %s", x->config_path);
	if (load(&c, x->config_path, x->explicit, &x->o) == 0)
		manager_reload(x->m, &c);
}

/* At full load the API holds about 530 connections, each with a passed netns fd, plus the
 * daemon's own descriptors: more than systemd's default soft limit of 1024.  The hard limit is
 * ours to use. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			log_warn("failed to raise the open-file limit to %llu: %s", (unsigned long long)rl.rlim_max,
			         strerror(errno));
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' }, { "node", required_argument, NULL, 'n' },
		{ "store", required_argument, NULL, 's' }, { "state-dir", required_argument, NULL, 'd' },
		{ "socket", required_argument, NULL, 'S' }, { "log-level", required_argument, NULL, 'l' },
		{ "check-config", no_argument, NULL, 't' }, { "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' }, { 0 },
	};
	struct ctx x = { .config_path = DEFAULT_CONFIG };
	struct netd_config cfg;
	bool check_only = false;
	uv_loop_t *loop;
	int c, r;

	while ((c = getopt_long(argc, argv, "c:n:s:d:S:l:thV", opts, NULL)) != -1) {
		switch (c) {
		case 'c': x.config_path = optarg; x.explicit = true; break;
		case 'n': x.o.node = optarg; break;
		case 's': x.o.store = optarg; break;
		case 'd': x.o.state_dir = optarg; break;
		case 'S': x.o.socket = optarg; break;
		case 'l': x.o.log_level = optarg; break;
		case 't': check_only = true; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("shoald %s\n", SHOAL_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "shoald: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (load(&cfg, x.config_path, x.explicit, &x.o) < 0)
		return 1;
	log_set_level((enum log_level)cfg.log_level);
	if (check_only) {
		printf("configuration OK\n");
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();
	loop = uv_default_loop();
	r = manager_new(loop, &cfg, &x.m);
	if (r == 0)
		r = manager_start(x.m);
	if (r < 0) {
		log_error("shoald failed to start");
		manager_stop(x.m);
		uv_run(loop, UV_RUN_DEFAULT);
		manager_free(x.m);
		return 1;
	}
	uv_signal_init(loop, &x.sigterm);
	uv_signal_init(loop, &x.sigint);
	uv_signal_init(loop, &x.sighup);
	x.sigterm.data = x.sigint.data = x.sighup.data = &x;
	uv_signal_start(&x.sigterm, on_stop, SIGTERM);
	uv_signal_start(&x.sigint, on_stop, SIGINT);
	uv_signal_start(&x.sighup, on_hup, SIGHUP);
	uv_run(loop, UV_RUN_DEFAULT);
	manager_free(x.m);
	uv_loop_close(loop);
	return 0;
}
