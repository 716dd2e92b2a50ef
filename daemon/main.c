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
#include <systemd/sd-daemon.h>

#include "cand.h" /* CAND_DEFAULT_SOCKET, shared with libcand */
#include "daemon.h"
#include "wire.h"

#define CAND_DEFAULT_CONFIG "/etc/cand.conf"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: cand [-f] [-s SOCKET] [-c CONFIG]\n"
		"  -f         stay in the foreground\n"
		"  -s SOCKET  control socket (default " CAND_DEFAULT_SOCKET
		")\n"
		"  -c CONFIG  configuration file (default " CAND_DEFAULT_CONFIG
		";\n"
		"             that one may be missing)\n"
		"  -h         this help\n");
}

/*
 * Every client holds a socket pair's worth of descriptors, so the soft
 * limit is what caps the number of clients; take all the hard limit allows.
 */
static void main_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
		log_info("open file limit raised to %llu",
			 (unsigned long long)rl.rlim_cur);
}

static void main_on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct cand_ctx *ctx = arg;

	(void)what;
	if (sig == SIGHUP) {
		log_info("SIGHUP: nothing to reload yet");
		return;
	}
	log_info("%s: shutting down", strsignal((int)sig));
	ctx->stopping = 1;
	event_base_loopbreak(ctx->base);
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
	if ((rc = raw_scratch_init(ctx)) < 0)
		return rc;
	/* Interfaces (and cand.conf's policies) before the first client. */
	if ((rc = netlink_open(ctx)) < 0)
		return rc;
	return listener_open(ctx);
}

static void main_teardown(struct cand_ctx *ctx)
{
	struct client *c;
	size_t i;

	while ((c = TAILQ_FIRST(&ctx->clients)) != NULL)
		client_free(c);
	listener_close(ctx);
	netlink_close(ctx);
	busstate_free_all(ctx);
	config_free(&ctx->config);
	for (i = 0; i < sizeof(ctx->ev_signals) / sizeof(ctx->ev_signals[0]);
	     i++)
		if (ctx->ev_signals[i] != NULL)
			event_free(ctx->ev_signals[i]);
	raw_scratch_free(ctx);
	if (ctx->base != NULL)
		event_base_free(ctx->base);
}

int main(int argc, char **argv)
{
	struct cand_ctx ctx = {
		.sock_path = CAND_DEFAULT_SOCKET,
		.sock_mode = 0666,
		.listen_fd = -1,
		.config_path = CAND_DEFAULT_CONFIG,
		.nl_fd = -1,
		.limits =
			{
				.max_msg = CAND_MAX_MSG,
				.out_high = 4u << 20,
				.out_low = 1u << 20,
				.rcvbuf = 4 << 20,
				.max_clients = 4096,
				.max_bcm_ops = 1024,
			},
	};
	int opt, rc;

	TAILQ_INIT(&ctx.clients);
	TAILQ_INIT(&ctx.canifs);
	while ((opt = getopt(argc, argv, "c:fhs:")) != -1) {
		switch (opt) {
		case 'c':
			ctx.config_path = optarg;
			ctx.config_explicit = 1;
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

	log_init();
	signal(SIGPIPE, SIG_IGN);
	/* Before daemon(): a broken file is an error the caller sees. */
	if (config_load(&ctx) < 0)
		return 1;
	main_raise_nofile();
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
	sd_notify(0, "READY=1");
	event_base_dispatch(ctx.base);
	sd_notify(0, "STOPPING=1");
	main_teardown(&ctx);
	log_info("stopped");
	return 0;
}
