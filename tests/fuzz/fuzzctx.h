/*
 * The daemon's one context for the targets that run a front-end's real
 * connections (conn, sc): made once as main() makes it, without a
 * listener, a netlink monitor or CAN, and after every input checked to
 * be back to empty.
 */
#ifndef CAND_FUZZ_FUZZCTX_H
#define CAND_FUZZ_FUZZCTX_H

#include "ops/ops.h"

/*
 * ctx from the cand.conf text conf, with the socketcand front-end's
 * state when sc is set (its connections, never a listener). Dies if it
 * cannot.
 */
void fuzzctx_init(struct cand_ctx *ctx, const char *conf, int sc);

/*
 * The client's end peer closes: the loop runs until no connection of
 * either front-end is left, and then no session and no event may be
 * either. The next input meets the same daemon (client 1 again).
 */
void fuzzctx_hangup(struct cand_ctx *ctx, int peer);

#endif
