/*
 * cand: brokers access to the machine's CAN buses for unprivileged clients.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <event2/event.h>

#include "pb/pb.h"
#include "sc/sc.h"
#include "wire.h" /* CAND_DEFAULT_SOCKET, shared with libcand */

/* How long clients get to read their goodbye at SIGTERM. */
#define MAIN_DRAIN_MS	   1000
#define MAIN_DRAIN_POLL_MS 20

static void usage(FILE *f)
{
	fprintf(f,
		"usage: cand [-f] [-n] [-I] [-c FILE] [-s SOCKET]\n"
		"  -f         stay in the foreground\n"
		"  -c FILE    configuration (default " CONFIG_DEFAULT_PATH
		" if it exists)\n"
		"  -n         check the configuration and exit\n"
		"  -I         print its [isolate] section for cand-netns and "
		"exit\n"
		"  -s SOCKET  control socket (default " CAND_DEFAULT_SOCKET
		")\n"
		"  -h         this help\n");
}

/*
 * Each client holds a descriptor for its connection and one per CAN socket
 * (its raw socket, each periodic task and monitor), so the usual soft
 * limit of 1024 would cap clients far below max_clients. Take all the hard
 * limit allows, and log what it came to either way.
 */
static void main_raise_nofile(const struct cand_ctx *ctx)
{
	unsigned long long need = 2ull * ctx->limits.max_clients + 64;
	struct rlimit rl;
	rlim_t was;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
		log_warn("getrlimit(RLIMIT_NOFILE): %s", strerror(errno));
		return;
	}
	was = rl.rlim_cur;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
			log_warn("setrlimit(RLIMIT_NOFILE, %llu): %s",
				 (unsigned long long)rl.rlim_max,
				 strerror(errno));
			rl.rlim_cur = was;
		}
	}
	if (rl.rlim_cur != was)
		log_info("open file limit raised from %llu to %llu, the hard "
			 "limit",
			 (unsigned long long)was,
			 (unsigned long long)rl.rlim_cur);
	else
		log_info("open file limit %llu, the hard limit",
			 (unsigned long long)rl.rlim_cur);
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need)
		log_warn("open file limit %llu is below the ~%llu that "
			 "max_clients = %u needs; raise it (LimitNOFILE=)",
			 (unsigned long long)rl.rlim_cur, need,
			 ctx->limits.max_clients);
}

/*
 * The interfaces point into the bus-off policies in force: they move to the
 * new ones while the old are still there to compare with, and cfg is left
 * holding the old for the caller to free.
 */
static void main_reload_busoff(struct cand_ctx *ctx, struct cand_config *cfg)
{
	struct busoff_policy *old = ctx->config.busoff;
	size_t n_old = ctx->config.n_busoff;
	struct canif *ci;

	ctx->config.busoff = cfg->busoff;
	ctx->config.n_busoff = cfg->n_busoff;
	TAILQ_FOREACH(ci, &ctx->canifs, entry)
		busoff_reload(ci);
	cfg->busoff = old;
	cfg->n_busoff = n_old;
}

/* What the file says that is not an error: at startup, reload and -n. */
static void main_warnings(const struct cand_config *cfg, int to_stderr)
{
	size_t i;

	for (i = 0; i < cfg->n_warnings; i++) {
		if (to_stderr)
			fprintf(stderr, "%s (warning)\n", cfg->warnings[i]);
		else
			log_warn("%s", cfg->warnings[i]);
	}
}

/* -I: the lines systemd/cand-netns reads; no interfaces: isolation off. */
static void main_print_isolate(const struct cand_config *cfg)
{
	size_t i;

	printf("interfaces");
	for (i = 0; i < cfg->isolate.n_patterns; i++)
		printf(" %s", cfg->isolate.patterns[i]);
	printf("\non-stop %s\n", cfg->isolate.stay ? "stay" : "return");
}

/*
 * Whether the interfaces move is the units' business and happens at
 * start; a reload only says when the file no longer matches it.
 */
static void main_isolate_changed(const struct cand_config *now,
				 const struct cand_config *cfg)
{
	size_t i;
	int same = now->isolate.n_patterns == cfg->isolate.n_patterns &&
		   now->isolate.stay == cfg->isolate.stay;

	for (i = 0; same && i < now->isolate.n_patterns; i++)
		same = strcmp(now->isolate.patterns[i],
			      cfg->isolate.patterns[i]) == 0;
	if (!same)
		log_warn("[isolate] changed: it takes effect when the units "
			 "start again (systemctl restart cand-netns, which "
			 "restarts cand)");
}

/*
 * SIGHUP: the whole file again, swapped in only if all of it is good; then
 * every client is looked at anew (groups, rights on its channel).
 */
static void main_reload(struct cand_ctx *ctx)
{
	struct cand_config cfg;
	struct sc_conf *sc_before;
	struct sess *s, *next;
	char err[512];

	notify_reloading(ctx);
	if (config_load(ctx->config_path, &cfg, err, sizeof(err)) < 0) {
		log_err("reload failed, keeping the configuration in effect: "
			"%s",
			err);
		notify_ready(ctx);
		return;
	}
	main_warnings(&cfg, 0);
	main_isolate_changed(&ctx->config, &cfg);
	policy_free(ctx->policy);
	ctx->policy = cfg.policy;
	ctx->limits = cfg.limits;
	main_reload_busoff(ctx, &cfg);
	sc_before = ctx->config.sc;
	ctx->config.sc = cfg.sc;
	cfg.sc = sc_before;
	sc_reload(ctx, sc_before);
	cfg.policy = NULL;
	config_free(&cfg);
	for (s = TAILQ_FIRST(&ctx->sessions); s != NULL; s = next) {
		next = TAILQ_NEXT(s, entry);
		sess_reload(s);
	}
	/* Only now: whoever waits for this line finds every client updated. */
	log_info("reloaded %s: %zu rules", ctx->config_path,
		 policy_n_rules(ctx->policy));
	notify_ready(ctx);
}

static void main_on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct cand_ctx *ctx = arg;

	(void)what;
	if (sig == SIGHUP) {
		main_reload(ctx);
		return;
	}
	log_info("%s: shutting down", strsignal((int)sig));
	ctx->stopping = 1;
	event_base_loopbreak(ctx->base);
}

/* The configuration at startup: -c FILE, else the default if it exists. */
static int main_config(struct cand_ctx *ctx, const char *path, int explicit,
		       int check_only, int print_isolate)
{
	struct cand_config cfg;
	char err[512];

	if (!explicit && access(path, F_OK) < 0 && errno == ENOENT) {
		if (print_isolate) {
			config_defaults(&cfg);
			main_print_isolate(&cfg);
			return 0;
		}
		if (check_only) {
			fprintf(stderr, "cand: %s does not exist\n", path);
			return -ENOENT;
		}
		log_warn("%s does not exist: no access rules, only root may "
			 "use the buses",
			 path);
		/* SIGHUP reads it once it is there. */
		ctx->config_path = path;
		return 0;
	}
	if (config_load(path, &cfg, err, sizeof(err)) < 0) {
		if (check_only || print_isolate)
			fprintf(stderr, "%s\n", err);
		else
			log_err("%s", err);
		return -EINVAL;
	}
	if (print_isolate) {
		main_print_isolate(&cfg);
		config_free(&cfg);
		return 0;
	}
	if (check_only) {
		main_warnings(&cfg, 1);
		printf("%s: OK, %zu rule%s", path, policy_n_rules(cfg.policy),
		       policy_n_rules(cfg.policy) == 1 ? "" : "s");
		if (cfg.n_warnings > 0)
			printf(", %zu warning%s", cfg.n_warnings,
			       cfg.n_warnings == 1 ? "" : "s");
		printf("\n");
		config_free(&cfg);
		return 0;
	}
	main_warnings(&cfg, 0);
	ctx->config_path = path;
	ctx->policy = cfg.policy;
	ctx->limits = cfg.limits;
	ctx->config.busoff = cfg.busoff;
	ctx->config.n_busoff = cfg.n_busoff;
	ctx->config.sc = cfg.sc;
	ctx->config.isolate = cfg.isolate;
	cfg.policy = NULL;
	cfg.busoff = NULL;
	cfg.n_busoff = 0;
	cfg.sc = NULL;
	memset(&cfg.isolate, 0, sizeof(cfg.isolate));
	config_free(&cfg);
	log_info("configuration %s: %zu rules, bus-off recovery for %zu "
		 "interfaces",
		 path, policy_n_rules(ctx->policy), ctx->config.n_busoff);
	if (ctx->config.isolate.n_patterns > 0)
		log_info("[isolate]: %zu interface patterns are to be in this "
			 "network namespace only (cand-netns moves them)",
			 ctx->config.isolate.n_patterns);
	return 0;
}

static void main_drain_check(evutil_socket_t fd, short what, void *arg)
{
	struct cand_ctx *ctx = arg;
	struct sess *s;

	(void)fd;
	(void)what;
	TAILQ_FOREACH(s, &ctx->sessions, entry)
		if (!s->q.dead && outq_backlog(&s->q) > 0)
			return;
	event_base_loopbreak(ctx->base);
}

/*
 * SIGTERM: no new connections, every client gets its pending request
 * answered and a Shutdown event, and up to MAIN_DRAIN_MS to read them.
 */
static void main_shutdown(struct cand_ctx *ctx)
{
	struct timeval poll = {0, MAIN_DRAIN_POLL_MS * 1000};
	struct timeval limit = {MAIN_DRAIN_MS / 1000,
				(MAIN_DRAIN_MS % 1000) * 1000};
	struct event *ev;

	listener_close(ctx);
	sc_close(ctx);
	conn_shutdown_all(ctx);
	sc_conn_shutdown_all(ctx);
	if (TAILQ_EMPTY(&ctx->sessions))
		return;
	ev = event_new(ctx->base, -1, EV_PERSIST, main_drain_check, ctx);
	if (ev == NULL)
		return;
	event_add(ev, &poll);
	event_base_loopexit(ctx->base, &limit);
	event_base_dispatch(ctx->base);
	event_free(ev);
}

static int main_setup(struct cand_ctx *ctx)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	size_t i;
	int rc;

	ctx->base = event_base_new();
	if (ctx->base == NULL)
		return -ENOMEM;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		ctx->ev_signals[i] =
			evsignal_new(ctx->base, sigs[i], main_on_signal, ctx);
		if (ctx->ev_signals[i] == NULL ||
		    event_add(ctx->ev_signals[i], NULL) < 0)
			return -ENOMEM;
	}
	if ((rc = rawsock_scratch_init(ctx)) < 0 || (rc = encode_init(ctx)) < 0)
		return rc;
	if ((rc = notify_init(ctx)) < 0)
		return rc;
	/* Interfaces (and cand.conf's policies) before the first client. */
	if ((rc = linkmon_open(ctx)) < 0)
		return rc;
	/* sc/ first: pb's listener takes systemd's sockets away. */
	if ((rc = sc_open(ctx)) < 0)
		return rc;
	return listener_open(ctx);
}

static void main_teardown(struct cand_ctx *ctx)
{
	size_t i;

	conn_free_all(ctx);
	sc_free(ctx);
	listener_close(ctx);
	linkmon_close(ctx);
	busstate_free_all(ctx);
	config_free(&ctx->config);
	for (i = 0; i < sizeof(ctx->ev_signals) / sizeof(ctx->ev_signals[0]);
	     i++)
		if (ctx->ev_signals[i] != NULL)
			event_free(ctx->ev_signals[i]);
	rawsock_scratch_free(ctx);
	encode_free(ctx);
	notify_free(ctx);
	policy_free(ctx->policy);
	ctx->policy = NULL;
	if (ctx->base != NULL)
		event_base_free(ctx->base);
}

int main(int argc, char **argv)
{
	struct cand_ctx ctx = {
		.sock_path = CAND_DEFAULT_SOCKET,
		.sock_mode = 0666,
		.listen_fd = -1,
		.nl_fd = -1,
	};
	struct cand_config defaults;
	const char *config = CONFIG_DEFAULT_PATH;
	int opt, rc, config_given = 0, check_only = 0, print_isolate = 0;

	config_defaults(&defaults);
	ctx.limits = defaults.limits;
	TAILQ_INIT(&ctx.sessions);
	TAILQ_INIT(&ctx.canifs);
	TAILQ_INIT(&ctx.conns);
	while ((opt = getopt(argc, argv, "c:fhnIs:")) != -1) {
		switch (opt) {
		case 'c':
			config = optarg;
			config_given = 1;
			break;
		case 'n':
			check_only = 1;
			break;
		case 'I':
			print_isolate = 1;
			break;
		case 'f':
			ctx.foreground = 1;
			break;
		case 's':
			ctx.sock_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}

	if (check_only || print_isolate)
		return main_config(&ctx, config, config_given, check_only,
				   print_isolate) < 0
			       ? 1
			       : 0;
	log_init();
	if (main_config(&ctx, config, config_given, 0, 0) < 0)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	main_raise_nofile(&ctx);
	if (!ctx.foreground && daemon(0, 1) < 0) {
		log_err("daemon: %s", strerror(errno));
		return 1;
	}
	rc = main_setup(&ctx);
	if (rc < 0) {
		log_err("startup failed: %s", strerror(-rc));
		main_teardown(&ctx);
		return 1;
	}
	notify_ready(&ctx);
	log_info("ready: %u CAN interfaces", ctx.n_ifaces);
	event_base_dispatch(ctx.base);
	notify_stopping(&ctx);
	main_shutdown(&ctx);
	main_teardown(&ctx);
	log_info("stopped");
	return 0;
}
