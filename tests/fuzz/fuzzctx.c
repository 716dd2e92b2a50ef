/* The daemon's context the conn and sc targets share; see fuzzctx.h. */
#include <stdlib.h>
#include <unistd.h>

#include <event2/event.h>

#include "fuzz.h"
#include "fuzzctx.h"
#include "pb/pb.h"
#include "sc/sc.h"

/* More rounds than any hang-up needs: beyond them the daemon spins. */
#define FUZZCTX_ROUNDS 100000

void fuzzctx_init(struct cand_ctx *ctx, const char *conf, int sc)
{
	struct cand_config cfg;
	char err[512];

	TAILQ_INIT(&ctx->sessions);
	TAILQ_INIT(&ctx->conns);
	TAILQ_INIT(&ctx->canifs);
	ctx->nl_fd = -1;
	ctx->listen_fd = -1;
	ctx->base = event_base_new();
	if (ctx->base == NULL || rawsock_scratch_init(ctx) < 0 ||
	    encode_init(ctx) < 0)
		fuzz_die("cannot set up the daemon context");
	if (config_load_string(conf, "fuzz.conf", &cfg, err, sizeof(err)) < 0)
		fuzz_die(err);
	/* What main_config() takes over; the rest of cfg stays for good. */
	ctx->limits = cfg.limits;
	ctx->policy = cfg.policy;
	ctx->config.busoff = cfg.busoff;
	ctx->config.n_busoff = cfg.n_busoff;
	ctx->config.sc = cfg.sc;
	if (!sc)
		return;
	/* sc_open() without its listeners and beacon. */
	if ((ctx->sc = calloc(1, sizeof(*ctx->sc))) == NULL)
		fuzz_die("calloc");
	TAILQ_INIT(&ctx->sc->conns);
	config_sc_defaults(&ctx->sc->defaults);
	ctx->sc->beacon_fd = -1;
}

static int fuzzctx_conns_left(const struct cand_ctx *ctx)
{
	return !TAILQ_EMPTY(&ctx->conns) ||
	       (ctx->sc != NULL && !TAILQ_EMPTY(&ctx->sc->conns));
}

void fuzzctx_hangup(struct cand_ctx *ctx, int peer)
{
	struct fuzz_log log;
	int rounds;

	fuzz_log_begin(&log);
	close(peer);
	for (rounds = 0; fuzzctx_conns_left(ctx); rounds++) {
		FUZZ_CHECK(rounds < FUZZCTX_ROUNDS);
		event_base_loop(ctx->base, EVLOOP_NONBLOCK);
	}
	fuzz_log_end(&log);
	fuzz_log_free(&log);
	FUZZ_CHECK(ctx->sc == NULL || ctx->sc->n_conns == 0);
	FUZZ_CHECK(TAILQ_EMPTY(&ctx->sessions));
	FUZZ_CHECK(ctx->n_sessions == 0);
	FUZZ_CHECK(event_base_get_num_events(
			   ctx->base, EVENT_BASE_COUNT_ADDED |
					      EVENT_BASE_COUNT_ACTIVE) == 0);
	ctx->next_sess_id = 0;
}
