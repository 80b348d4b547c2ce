/* cnibench: a CNI driver that executes a plugin chain the way libcni does, and times it.
 *
 * For each plugin of a conflist, in order on ADD and in reverse order on DEL, it executes
 * <CNI_PATH dir>/<type> with the CNI_* environment and the plugin's own config on stdin.  As in
 * libcni (buildOneConfig): "name" and "cniVersion" are copied from the conflist; on ADD the
 * previous plugin's result is injected as "prevResult"; on DEL every plugin gets the final result
 * of the chain's ADD (libcni's cached result, CNI >= 0.4.0).  Unlike libcni the result is kept in
 * memory instead of /var/lib/cni/results, so that cost is not part of any figure.
 *
 * Modes (the caller creates the network namespaces first, so their cost is not timed):
 *   seq   ADD containers 0..N-1 one after another, timing each whole chain, then DEL them all.
 *   par   ADD P containers concurrently (one thread each), total wall time; then DEL them likewise.
 *   del   DEL every container of both modes, ignoring errors (cleanup after an interrupted run).
 * Output: human text, then one JSON line starting with {"bench":"cni" for scripts. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/fileio.h"

extern char **environ;

#define BENCH_MAX_PLUGINS 16
#define BENCH_MAX_OUTPUT (1u << 20)

struct bench_opts {
	const char *mode;
	const char *conflist_path;
	const char *netns_dir;
	const char *netns_prefix;
	const char *id_prefix;
	const char *ifname;
	const char *cni_path;
	const char *label;
	const char *raw_path;
	int n;
	int parallel;
	bool verbose;
};

struct bench_chain {
	json_t *conflist;             /* owned */
	const char *name;             /* borrowed from conflist */
	const char *version;
	size_t n_plugins;
	json_t *plugins[BENCH_MAX_PLUGINS];   /* borrowed */
	char *paths[BENCH_MAX_PLUGINS];       /* owned: resolved executables */
};

static const struct bench_opts *opts;
static struct bench_chain chain;

static double bench_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Find an executable <type> in the colon-separated dirs, as libcni's invoke.FindInPath does. */
static char *bench_find_plugin(const char *type, const char *dirs)
{
	char *copy = strdup(dirs), *save = NULL, *dir;
	char *found = NULL;

	for (dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		char *p;

		if (asprintf(&p, "%s/%s", dir, type) < 0)
			break;
		if (access(p, X_OK) == 0) {
			found = p;
			break;
		}
		free(p);
	}
	free(copy);
	return found;
}

static int bench_chain_load(const char *path, const char *cni_path, struct bench_chain *c)
{
	json_error_t jerr;
	json_t *plugins;
	size_t i;

	c->conflist = json_load_file(path, 0, &jerr);
	if (!c->conflist) {
		fprintf(stderr, "cnibench: %s:%d: %s\n", path, jerr.line, jerr.text);
		return -EINVAL;
	}
	c->name = json_string_value(json_object_get(c->conflist, "name"));
	c->version = json_string_value(json_object_get(c->conflist, "cniVersion"));
	plugins = json_object_get(c->conflist, "plugins");
	if (!c->name || !c->version || !json_is_array(plugins) || json_array_size(plugins) == 0 ||
	    json_array_size(plugins) > BENCH_MAX_PLUGINS) {
		fprintf(stderr, "cnibench: %s: need name, cniVersion and 1..%d plugins\n", path, BENCH_MAX_PLUGINS);
		return -EINVAL;
	}
	c->n_plugins = json_array_size(plugins);
	for (i = 0; i < c->n_plugins; i++) {
		const char *type;

		c->plugins[i] = json_array_get(plugins, i);
		type = json_string_value(json_object_get(c->plugins[i], "type"));
		if (!type) {
			fprintf(stderr, "cnibench: %s: plugin %zu has no type\n", path, i);
			return -EINVAL;
		}
		c->paths[i] = bench_find_plugin(type, cni_path);
		if (!c->paths[i]) {
			fprintf(stderr, "cnibench: plugin %s not found in %s\n", type, cni_path);
			return -ENOENT;
		}
	}
	return 0;
}

static void bench_chain_done(struct bench_chain *c)
{
	for (size_t i = 0; i < c->n_plugins; i++)
		free(c->paths[i]);
	json_decref(c->conflist);
}

/* The environment of one plugin execution: ours without CNI_*, plus the CNI_* of this call. */
static char **bench_env(const char *command, const char *id, const char *netns)
{
	size_t n = 0, k = 0;
	char **env;

	while (environ[n])
		n++;
	env = calloc(n + 6, sizeof(*env));
	if (!env)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "CNI_", 4) != 0)
			env[k++] = strdup(environ[i]);
	if (asprintf(&env[k++], "CNI_COMMAND=%s", command) < 0 ||
	    asprintf(&env[k++], "CNI_CONTAINERID=%s", id) < 0 ||
	    asprintf(&env[k++], "CNI_NETNS=%s", netns) < 0 ||
	    asprintf(&env[k++], "CNI_IFNAME=%s", opts->ifname) < 0 ||
	    asprintf(&env[k++], "CNI_PATH=%s", opts->cni_path) < 0)
		return NULL;
	return env;
}

static void bench_env_free(char **env)
{
	if (!env)
		return;
	for (char **e = env; *e; e++)
		free(*e);
	free(env);
}

/* Execute one plugin: config on stdin, stdout captured.  Pipes are O_CLOEXEC so that children
 * spawned concurrently by other threads never hold our write end (that would withhold EOF). */
static int bench_exec(const char *path, char **env, const char *input, char **ret_out, int *ret_status)
{
	posix_spawn_file_actions_t fa;
	int in[2] = { -1, -1 }, out[2] = { -1, -1 };
	char *argv[] = { (char *)path, NULL };
	char *output = NULL;
	size_t len = strlen(input);
	pid_t pid;
	int r, status;

	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) {
		r = -errno;
		goto out;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	r = -posix_spawn(&pid, path, &fa, NULL, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	close(in[0]);
	close(out[1]);
	in[0] = out[1] = -1;
	if (r < 0)
		goto out;
	/* Configs are far below the pipe buffer, and plugins read all of stdin before answering. */
	while (len > 0) {
		ssize_t w = write(in[1], input, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			break;
		input += w;
		len -= (size_t)w;
	}
	close(in[1]);
	in[1] = -1;
	r = fd_read_all(out[0], BENCH_MAX_OUTPUT, &output, NULL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r < 0)
		goto out;
	*ret_out = output;
	output = NULL;
	*ret_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	r = 0;
out:
	free(output);
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
	}
	return r;
}

/* Run plugin i of the chain with prev (may be NULL) as prevResult.  On ADD the parsed result
 * is returned in ret_result. */
static int bench_plugin(size_t i, const char *command, char **env, json_t *prev, json_t **ret_result,
			const char *id)
{
	json_t *conf = json_deep_copy(chain.plugins[i]);
	char *input = NULL, *output = NULL;
	int status = 0, r;

	json_object_set_new(conf, "name", json_string(chain.name));
	json_object_set_new(conf, "cniVersion", json_string(chain.version));
	if (prev)
		json_object_set(conf, "prevResult", prev);
	input = json_dumps(conf, JSON_COMPACT);
	json_decref(conf);
	if (!input)
		return -ENOMEM;
	r = bench_exec(chain.paths[i], env, input, &output, &status);
	free(input);
	if (r < 0) {
		fprintf(stderr, "cnibench: %s %s %s: cannot execute: %s\n", command, id, chain.paths[i], strerror(-r));
		return r;
	}
	if (status != 0) {
		if (opts->verbose || strcmp(opts->mode, "del") != 0)
			fprintf(stderr, "cnibench: %s %s: %s exited %d: %s\n", command, id, chain.paths[i], status,
				output[0] ? output : "(no output)");
		free(output);
		return -EIO;
	}
	if (ret_result) {
		json_error_t jerr;
		json_t *res = json_loads(output, 0, &jerr);

		if (!json_is_object(res)) {
			fprintf(stderr, "cnibench: %s %s: %s printed no JSON result: %s\n", command, id,
				chain.paths[i], output);
			json_decref(res);
			free(output);
			return -EPROTO;
		}
		*ret_result = res;
	}
	free(output);
	return 0;
}

/* ADD: plugins in order, each result the next plugin's prevResult.  Returns the chain's result. */
static int bench_chain_add(const char *id, const char *netns, json_t **ret_result)
{
	char **env = bench_env("ADD", id, netns);
	json_t *prev = NULL;
	int r = 0;

	if (!env)
		return -ENOMEM;
	for (size_t i = 0; i < chain.n_plugins; i++) {
		json_t *res = NULL;

		r = bench_plugin(i, "ADD", env, prev, &res, id);
		if (r < 0)
			break;
		json_decref(prev);
		prev = res;
	}
	bench_env_free(env);
	if (r < 0) {
		json_decref(prev);
		return r;
	}
	*ret_result = prev;
	return 0;
}

/* DEL: plugins in reverse order, each with the chain's ADD result (libcni's cached result).
 * Like libcni it stops at the first failing plugin. */
static int bench_chain_del(const char *id, const char *netns, json_t *cached)
{
	char **env = bench_env("DEL", id, netns);
	int r = 0;

	if (!env)
		return -ENOMEM;
	for (size_t i = chain.n_plugins; i-- > 0;) {
		r = bench_plugin(i, "DEL", env, cached, NULL, id);
		if (r < 0)
			break;
	}
	bench_env_free(env);
	return r;
}

static int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile (p in 0..100) of n samples; the input is not modified. */
static double bench_percentile(const double *v, size_t n, double p)
{
	double *s, r;
	size_t rank;

	if (n == 0)
		return NAN;
	s = malloc(n * sizeof(*s));
	if (!s)
		return NAN;
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), bench_cmp_double);
	rank = (size_t)ceil(p / 100.0 * (double)n);
	if (rank < 1)
		rank = 1;
	r = s[rank - 1];
	free(s);
	return r;
}

static void bench_names(int i, bool par, char id[128], char netns[4096])
{
	snprintf(id, 128, "%s%s%d", opts->id_prefix, par ? "p" : "", i);
	snprintf(netns, 4096, "%s/%s%d", opts->netns_dir, opts->netns_prefix, i);
}

static json_t *bench_stats_json(const double *v, size_t n)
{
	return json_pack("{s:i, s:f, s:f, s:f, s:f}", "count", (int)n,
			 "median_ms", bench_percentile(v, n, 50), "p99_ms", bench_percentile(v, n, 99),
			 "min_ms", bench_percentile(v, n, 0), "max_ms", bench_percentile(v, n, 100));
}

static void bench_print_json(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);

	if (s)
		printf("%s\n", s);
	free(s);
	fflush(stdout);
}

static int bench_seq(void)
{
	int n = opts->n, added = 0, deleted = 0, failed_del = 0, r = 0;
	double *t_add = calloc((size_t)n, sizeof(double)), *t_del = calloc((size_t)n, sizeof(double));
	json_t **results = calloc((size_t)n, sizeof(json_t *));
	char id[128], netns[4096];
	json_t *j;

	if (!t_add || !t_del || !results)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		double t0 = bench_now_ms();

		bench_names(i, false, id, netns);
		r = bench_chain_add(id, netns, &results[i]);
		t_add[i] = bench_now_ms() - t0;
		if (r < 0) {
			fprintf(stderr, "cnibench: ADD of container %d failed; deleting what was added\n", i);
			added = i + 1;   /* DEL the failed one as well, as runtimes do */
			break;
		}
		added = i + 1;
	}
	for (int i = 0; i < added; i++) {
		double t0 = bench_now_ms();
		int rd;

		bench_names(i, false, id, netns);
		rd = bench_chain_del(id, netns, results[i]);
		t_del[i] = bench_now_ms() - t0;
		if (rd < 0)
			failed_del++;
		else
			deleted++;
		json_decref(results[i]);
	}
	if (r < 0 || failed_del > 0) {
		fprintf(stderr, "cnibench: %s: %d ADDs, %d DEL failures; no figures\n", opts->label, added, failed_del);
		r = r < 0 ? r : -EIO;
		goto out;
	}

	if (opts->raw_path) {
		/* Every sample, for plots and for finding where a slowdown starts. */
		FILE *f = fopen(opts->raw_path, "w");

		if (!f) {
			fprintf(stderr, "cnibench: cannot write %s: %m\n", opts->raw_path);
		} else {
			fprintf(f, "container,add_ms,del_ms\n");
			for (int i = 0; i < n; i++)
				fprintf(f, "%d,%.3f,%.3f\n", i, t_add[i], t_del[i]);
			fclose(f);
		}
	}
	{
		double add_med = bench_percentile(t_add, (size_t)n, 50), add_p99 = bench_percentile(t_add, (size_t)n, 99);
		double del_med = bench_percentile(t_del, (size_t)n, 50), del_p99 = bench_percentile(t_del, (size_t)n, 99);
		/* Does ADD slow down as the host fills up?  p99 of the last 100 against the first 100. */
		size_t w = n >= 200 ? 100 : (size_t)n / 2;
		double first = bench_percentile(t_add, w, 99), last = bench_percentile(t_add + n - w, w, 99);

		printf("%s: %d containers, sequential, chain of %zu plugin(s)\n", opts->label, n, chain.n_plugins);
		printf("  ADD  median %8.2f ms   p99 %8.2f ms   min %8.2f   max %8.2f\n", add_med, add_p99,
		       bench_percentile(t_add, (size_t)n, 0), bench_percentile(t_add, (size_t)n, 100));
		printf("  DEL  median %8.2f ms   p99 %8.2f ms   min %8.2f   max %8.2f\n", del_med, del_p99,
		       bench_percentile(t_del, (size_t)n, 0), bench_percentile(t_del, (size_t)n, 100));
		printf("  ADD tail: p99 of containers %d-%d %.2f ms, of 0-%zu %.2f ms, ratio %.2f\n",
		       n - (int)w, n - 1, last, w - 1, first, last / first);
		j = json_pack("{s:s, s:s, s:s, s:i, s:i, s:o, s:o, s:{s:i, s:f, s:f, s:f}}", "bench", "cni",
			      "label", opts->label, "mode", "seq", "n", n, "plugins", (int)chain.n_plugins,
			      "add", bench_stats_json(t_add, (size_t)n), "del", bench_stats_json(t_del, (size_t)n),
			      "tail", "window", (int)w, "p99_first_ms", first, "p99_last_ms", last,
			      "ratio", last / first);
		bench_print_json(j);
		json_decref(j);
	}
out:
	free(t_add);
	free(t_del);
	free(results);
	return r;
}

struct bench_job {
	pthread_t thread;
	int index;
	bool del;
	json_t *result;
	int r;
	double ms;
};

static void *bench_job_run(void *arg)
{
	struct bench_job *job = arg;
	char id[128], netns[4096];
	double t0 = bench_now_ms();

	bench_names(job->index, true, id, netns);
	if (job->del)
		job->r = bench_chain_del(id, netns, job->result);
	else
		job->r = bench_chain_add(id, netns, &job->result);
	job->ms = bench_now_ms() - t0;
	return NULL;
}

/* Run all jobs at once; returns the wall time in ms, or a negative value when one failed. */
static double bench_wave(struct bench_job *jobs, int p, bool del, int *ret_failed)
{
	double t0 = bench_now_ms(), wall;
	int failed = 0;

	for (int i = 0; i < p; i++) {
		jobs[i].index = i;
		jobs[i].del = del;
		jobs[i].r = -EINVAL;
		if (pthread_create(&jobs[i].thread, NULL, bench_job_run, &jobs[i]) != 0) {
			fprintf(stderr, "cnibench: cannot start thread %d\n", i);
			jobs[i].thread = 0;
		}
	}
	for (int i = 0; i < p; i++) {
		if (jobs[i].thread)
			pthread_join(jobs[i].thread, NULL);
		if (jobs[i].r < 0)
			failed++;
	}
	wall = bench_now_ms() - t0;
	*ret_failed = failed;
	return wall;
}

static int bench_par(void)
{
	int p = opts->parallel, failed_add, failed_del;
	struct bench_job *jobs = calloc((size_t)p, sizeof(*jobs));
	double add_ms, del_ms, per_add[1024], per_del[1024];
	json_t *j;

	if (!jobs || p > 1024)
		return -EINVAL;
	add_ms = bench_wave(jobs, p, false, &failed_add);
	for (int i = 0; i < p; i++)
		per_add[i] = jobs[i].ms;
	del_ms = bench_wave(jobs, p, true, &failed_del);
	for (int i = 0; i < p; i++) {
		per_del[i] = jobs[i].ms;
		json_decref(jobs[i].result);
	}
	free(jobs);
	if (failed_add || failed_del) {
		fprintf(stderr, "cnibench: %s: %d of %d parallel ADDs and %d DELs failed; no figures\n", opts->label,
			failed_add, p, failed_del);
		return -EIO;
	}
	printf("%s: %d concurrent ADDs in %.1f ms (slowest %.1f ms), %d concurrent DELs in %.1f ms\n", opts->label,
	       p, add_ms, bench_percentile(per_add, (size_t)p, 100), p, del_ms);
	j = json_pack("{s:s, s:s, s:s, s:i, s:f, s:f, s:o, s:o}", "bench", "cni", "label", opts->label,
		      "mode", "par", "parallel", p, "add_wall_ms", add_ms, "del_wall_ms", del_ms,
		      "add", bench_stats_json(per_add, (size_t)p), "del", bench_stats_json(per_del, (size_t)p));
	bench_print_json(j);
	json_decref(j);
	return 0;
}

/* Cleanup: DEL everything either mode may have created.  DEL is idempotent by the CNI spec; a
 * plugin complaining about a container that never existed is not an error here. */
static int bench_del_all(void)
{
	char id[128], netns[4096];
	int failed = 0;

	for (int pass = 0; pass < 2; pass++) {
		int count = pass ? opts->parallel : opts->n;

		for (int i = 0; i < count; i++) {
			bench_names(i, pass == 1, id, netns);
			if (bench_chain_del(id, netns, NULL) < 0)
				failed++;
		}
	}
	printf("%s: cleanup DEL done, %d failed\n", opts->label, failed);
	return 0;
}

static void bench_usage(FILE *f)
{
	fprintf(f,
		"usage: cnibench [options] CONFLIST\n"
		"Execute the plugin chain of CONFLIST like libcni and time it.\n"
		"  -m, --mode seq|par|del  sequential ADD+DEL of N, P concurrent ADD+DEL, or cleanup DEL (seq)\n"
		"  -n, --count N           containers in seq/del mode (500)\n"
		"  -P, --parallel P        concurrent ADDs in par mode (32)\n"
		"      --netns-dir DIR     where the namespaces are (/var/run/netns)\n"
		"      --netns-prefix PFX  container i uses DIR/PFX<i> (required)\n"
		"      --id-prefix PFX     container ids PFX<i>, PFXp<i> in par mode (bench-)\n"
		"      --ifname NAME       CNI_IFNAME (eth0)\n"
		"      --cni-path DIRS     where plugins are ($CNI_PATH or /usr/lib/cni)\n"
		"      --label NAME        name in the output (the conflist's name)\n"
		"      --raw FILE          seq mode: write every sample as CSV (container,add_ms,del_ms)\n"
		"  -v, --verbose           also report failures of cleanup DELs\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "count", required_argument, NULL, 'n' },
		{ "parallel", required_argument, NULL, 'P' },
		{ "netns-dir", required_argument, NULL, 1 },
		{ "netns-prefix", required_argument, NULL, 2 },
		{ "id-prefix", required_argument, NULL, 3 },
		{ "ifname", required_argument, NULL, 4 },
		{ "cni-path", required_argument, NULL, 5 },
		{ "label", required_argument, NULL, 6 },
		{ "raw", required_argument, NULL, 7 },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bench_opts o = {
		.mode = "seq", .netns_dir = "/var/run/netns", .id_prefix = "bench-", .ifname = "eth0",
		.cni_path = getenv("CNI_PATH") ? getenv("CNI_PATH") : "/usr/lib/cni", .n = 500, .parallel = 32,
	};
	int c, r;

	while ((c = getopt_long(argc, argv, "m:n:P:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'm': o.mode = optarg; break;
		case 'n': o.n = atoi(optarg); break;
		case 'P': o.parallel = atoi(optarg); break;
		case 1: o.netns_dir = optarg; break;
		case 2: o.netns_prefix = optarg; break;
		case 3: o.id_prefix = optarg; break;
		case 4: o.ifname = optarg; break;
		case 5: o.cni_path = optarg; break;
		case 6: o.label = optarg; break;
		case 7: o.raw_path = optarg; break;
		case 'v': o.verbose = true; break;
		case 'h': bench_usage(stdout); return 0;
		default: bench_usage(stderr); return 2;
		}
	}
	if (optind != argc - 1 || !o.netns_prefix || o.n < 1 || o.parallel < 1 || o.parallel > 1024 ||
	    (strcmp(o.mode, "seq") && strcmp(o.mode, "par") && strcmp(o.mode, "del"))) {
		bench_usage(stderr);
		return 2;
	}
	o.conflist_path = argv[optind];
	opts = &o;
	if (bench_chain_load(o.conflist_path, o.cni_path, &chain) < 0)
		return 1;
	if (!o.label)
		o.label = chain.name;
	if (strcmp(o.mode, "seq") == 0)
		r = bench_seq();
	else if (strcmp(o.mode, "par") == 0)
		r = bench_par();
	else
		r = bench_del_all();
	bench_chain_done(&chain);
	return r < 0 ? 1 : 0;
}
