/* shoald: the per-host daemon.  main() reads straight through: parse the command line, load the
 * config, create the manager, start it, run the loop. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "lib/log.h"
#include "lib/version.h"
#include "netd/cleanup.h"
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
		"  -t, --check-config     check the configuration and what start-up needs (socketGroup, TLS files,\n"
		"                         writable directories), list the keys left at their defaults, and exit\n"
		"      --cleanup          remove everything shoald created on this host (workload veths, the VXLAN\n"
		"                         device and routes, the bridge, IFBs, nftables tables, FORWARD rules, the\n"
		"                         state directory's files, this node's subnet key in the store) and exit;\n"
		"                         refused while a shoald runs here (docs/install.md)\n"
		"      --dry-run          with --cleanup: print what would be removed, change nothing\n"
		"  -h, --help             show this help\n"
		"  -V, --version          show the version\n"
		"\n"
		"Signals: SIGTERM/SIGINT stop serving and exit, leaving every interface, address and rule in place\n"
		"(workloads keep their traffic); SIGHUP re-reads the configuration (logLevel applies at once).\n"
		"Under systemd (Type=notify) shoald reports READY=1 once it serves, RELOADING=1 around SIGHUP and\n"
		"STOPPING=1.\n"
		"\n"
		"Exit status: 0 after a clean stop, 1 on a configuration or start-up error, 2 on a usage error.\n"
		"--cleanup: 0 when nothing of shoal's is left (or would be), 1 when shoald runs or something could not\n"
		"be removed.\n");
}

static int apply_overrides(struct netd_config *c, const struct overrides *o, char err[CONFIG_ERRLEN])
{
	struct { const char *v; char *dst; size_t size; const char *key, *name; } s[] = {
		{ o->node, c->node, sizeof(c->node), "--node", "node" },
		{ o->store, c->store, sizeof(c->store), "--store", "store" },
		{ o->state_dir, c->state_dir, sizeof(c->state_dir), "--state-dir", "stateDir" },
		{ o->socket, c->socket, sizeof(c->socket), "--socket", "socket" },
	};

	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		if (!s[i].v)
			continue;
		if (strlen(s[i].v) >= s[i].size) {
			snprintf(err, CONFIG_ERRLEN, "%s: value is longer than %zu bytes", s[i].key, s[i].size - 1);
			return -EINVAL;
		}
		snprintf(s[i].dst, s[i].size, "%s", s[i].v);
		config_mark_set(c, s[i].name);
	}
	if (o->log_level) {
		int l = log_level_parse(o->log_level);

		if (l < 0) {
			snprintf(err, CONFIG_ERRLEN, "--log-level: \"%s\" is not one of error, warning, info, debug",
			         o->log_level);
			return -EINVAL;
		}
		c->log_level = l;
		config_mark_set(c, "logLevel");
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

/* sd_notify(3)'s protocol, which is all systemd's Type=notify needs: one datagram to the AF_UNIX
 * socket $NOTIFY_SOCKET names ('@' = the abstract namespace).  No-op without the variable, so a
 * shoald started by hand or by the test lab is unaffected.  libsystemd would be one more library for
 * these few lines. */
static int notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len;
	int fd, r = 0;

	if (!path || !path[0])
		return 0;
	len = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || len < 2 || len >= sizeof(sa.sun_path))
		return -EAFNOSUPPORT;
	memcpy(sa.sun_path, path, len);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* An abstract name is exactly len bytes long: no terminating NUL in the address. */
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa,
	           (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0)
		r = -errno;
	close(fd);
	return r;
}

static void notify_or_warn(const char *state)
{
	int r = notify(state);

	if (r < 0)
		log_warn("failed to notify systemd (%.*s) on $NOTIFY_SOCKET: %s", (int)strcspn(state, "\n"), state,
		         strerror(-r));
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
	notify_or_warn("STOPPING=1");
	manager_stop(x->m);
	uv_close((uv_handle_t *)&x->sigterm, NULL);
	uv_close((uv_handle_t *)&x->sigint, NULL);
	uv_close((uv_handle_t *)&x->sighup, NULL);
}

static void on_hup(uv_signal_t *h, int signum)
{
	struct ctx *x = h->data;
	struct netd_config c;
	struct timespec ts;
	char msg[64];

	log_info("received SIGHUP; re-reading %s", x->config_path);
	/* MONOTONIC_USEC lets Type=notify-reload match this to its own SIGHUP; Type=notify ignores it. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
	         (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000);
	notify_or_warn(msg);
	if (load(&c, x->config_path, x->explicit, &x->o) == 0)
		manager_reload(x->m, &c);
	/* A bad file keeps the running configuration: still ready. */
	notify_or_warn("READY=1");
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
		{ "version", no_argument, NULL, 'V' }, { "cleanup", no_argument, NULL, 'C' },
		{ "dry-run", no_argument, NULL, 'D' }, { 0 },
	};
	struct ctx x = { .config_path = DEFAULT_CONFIG };
	char err[CONFIG_ERRLEN], status[256];
	struct netd_config cfg;
	bool check_only = false, cleanup = false, dry_run = false;
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
		case 'C': cleanup = true; break;
		case 'D': dry_run = true; break;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "shoald: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if ((dry_run && !cleanup) || (cleanup && check_only)) {
		fprintf(stderr, "shoald: %s\n", dry_run && !cleanup ? "--dry-run goes with --cleanup" :
		        "--cleanup and --check-config exclude each other");
		usage(stderr);
		return 2;
	}
	if (load(&cfg, x.config_path, x.explicit, &x.o) < 0)
		return 1;
	log_set_level((enum log_level)cfg.log_level);
	/* Before the start-up checks: what they demand (socketGroup, TLS files) is no reason to keep a
	 * host's leftovers. */
	if (cleanup)
		return cleanup_run(&cfg, dry_run) < 0 ? 1 : 0;
	/* Before any lease or kernel object: what would make start-up fail half-way. */
	if (config_check_environment(&cfg, err) < 0) {
		log_error("invalid configuration: %s", err);
		return 1;
	}
	if (check_only) {
		char *defaults = NULL;
		int n = config_describe_defaults(&cfg, NULL, 0);

		if (n > 0 && (defaults = malloc((size_t)n + 1)))
			config_describe_defaults(&cfg, defaults, (size_t)n + 1);
		printf("%sconfiguration OK (%s)\n", defaults ? defaults : "",
		       cfg.config_path[0] ? cfg.config_path : "no file: built-in defaults");
		free(defaults);
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
	/* manager_start returned: the subnet is leased, bridge and table exist, the socket listens. */
	snprintf(status, sizeof(status), "READY=1\nSTATUS=serving on %s (node %s)", cfg.socket, cfg.node);
	notify_or_warn(status);
	uv_run(loop, UV_RUN_DEFAULT);
	manager_free(x.m);
	uv_loop_close(loop);
	return 0;
}
