/*
 * `canctl clients`: who is connected and what each one is doing, for root
 * and admins. A snapshot of every session whatever its front-end: who it
 * is (the kernel's word at connect, and the command it ran then), its
 * channel, filters, tasks and monitors, and what its frames came to.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/ops.h"

static void clients_one(struct sess *s, struct client_info *ci)
{
	const struct bcm_op *op;

	memset(ci, 0, sizeof(*ci));
	ci->id = s->id;
	ci->pid = s->ident.pid;
	ci->uid = s->ident.uid;
	ci->gid = s->ident.gid;
	memcpy(ci->comm, s->comm, sizeof(ci->comm));
	if (s->chan != NULL) {
		ci->open = 1;
		snprintf(ci->channel, sizeof(ci->channel), "%s",
			 chan_name(s->chan));
		ci->n_filters = chan_filters_text(s->chan, ci->filters,
						  sizeof(ci->filters));
		ci->drops = chan_drops(s->chan);
	}
	if (s->bcm != NULL)
		TAILQ_FOREACH(op, &s->bcm->ops, entry) {
			if (op->kind == BCM_TASK)
				ci->n_tasks++;
			else
				ci->n_monitors++;
		}
	ci->backlog = outq_backlog(&s->q);
	ci->send_pending = s->send != NULL;
	ci->stats = s->stats;
	budget_describe(s, ci->budgets, sizeof(ci->budgets));
}

int clients_list(struct cand_ctx *ctx, struct client_info **out, size_t *n)
{
	struct client_info *v;
	struct sess *s;
	size_t i = 0;

	v = calloc(ctx->n_sessions ? ctx->n_sessions : 1, sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	TAILQ_FOREACH(s, &ctx->sessions, entry) {
		if (i == ctx->n_sessions)
			break;
		clients_one(s, &v[i++]);
	}
	*out = v;
	*n = i;
	return 0;
}
