/*
 * Events of an interface (link, state, configuration) to every session
 * bound to it (or to every interface) and every session that subscribed
 * to it (or to all); and channels bound again when their interface comes
 * back under its name.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ops/ops.h"

static int busevent_wants(const struct sess *s, const char *ifname)
{
	const char *ch;

	if (s->q.dead)
		return 0;
	if (s->subscribed &&
	    (s->sub_ifname[0] == '\0' || strcmp(s->sub_ifname, ifname) == 0))
		return 1;
	if (s->chan == NULL)
		return 0;
	ch = chan_name(s->chan);
	return ch[0] == '\0' || strcmp(ch, ifname) == 0;
}

static void busevent_send(struct sess *s, const struct evt *e)
{
	/*
	 * Frames stop at the high watermark; events go on, but a client
	 * this far behind is not reading at all and must not grow us.
	 */
	if (outq_backlog(&s->q) >= 2 * s->ctx->limits.out_high) {
		outq_fail(&s->q, "does not read its events");
		return;
	}
	/*
	 * Written from the loop, not here: this may run inside a request's
	 * handler, which must not find itself handling the next request.
	 */
	if (outq_event(&s->q, e) < 0)
		outq_fail(&s->q, "cannot queue an event");
	else
		outq_flush_later(&s->q);
}

static void busevent_broadcast(struct cand_ctx *ctx, const char *ifname,
			       const struct evt *e)
{
	struct sess *s;

	TAILQ_FOREACH(s, &ctx->sessions, entry)
		if (busevent_wants(s, ifname))
			busevent_send(s, e);
}

/*
 * Link events differ per session only in "rebound": whether its channel
 * was just bound to the interface again.
 */
void busevent_link(struct canif *ci, enum busevent_link what)
{
	struct evt e = {.kind = EVT_LINK};
	const struct nl_link *l = &ci->link;
	int up = (l->flags & IFF_UP) != 0;
	char detail[160];
	struct sess *s;

	e.u.link.err = what == BUSEVENT_REMOVED ? ENODEV : up ? 0 : ENETDOWN;
	e.u.link.ifname = l->name;
	e.u.link.ifindex = (uint32_t)l->ifindex;
	e.u.link.up = what != BUSEVENT_REMOVED && up;
	e.u.link.running = e.u.link.up && (l->flags & IFF_RUNNING) != 0;
	e.u.link.removed = what == BUSEVENT_REMOVED;
	e.u.link.appeared = what == BUSEVENT_APPEARED;
	e.detail = detail;
	TAILQ_FOREACH(s, &ci->ctx->sessions, entry) {
		if (!busevent_wants(s, l->name))
			continue;
		e.u.link.rebound = what == BUSEVENT_APPEARED &&
				   s->chan != NULL &&
				   chan_ifindex(s->chan) == l->ifindex;
		if (what == BUSEVENT_REMOVED)
			snprintf(detail, sizeof(detail),
				 "interface \"%s\" disappeared", l->name);
		else
			snprintf(detail, sizeof(detail),
				 "interface \"%s\" %s%s", l->name,
				 what == BUSEVENT_APPEARED
					 ? (up ? "appeared, up"
					       : "appeared, down")
					 : (up ? "is up" : "is down"),
				 e.u.link.rebound
					 ? "; the channel is bound to it "
					   "again, same filters and options"
					 : "");
		busevent_send(s, &e);
	}
}

void busevent_state(struct canif *ci, enum bus_state prev, const char *why)
{
	struct evt e = {.kind = EVT_STATE, .detail = why};

	e.u.state.ifname = ci->link.name;
	e.u.state.state = ci->state;
	e.u.state.previous = prev;
	e.u.state.has_counters = ci->has_counters;
	e.u.state.tx_errors = ci->txerr;
	e.u.state.rx_errors = ci->rxerr;
	e.u.state.from_error_frames = ci->state_from_frames;
	busevent_broadcast(ci->ctx, ci->link.name, &e);
}

int busevent_config_diff(const struct nl_link *a, const struct nl_link *b,
			 char *buf, size_t size)
{
	const struct bus_config *x = &a->cfg, *y = &b->cfg;
	char m1[128], m2[128];
	int n = 0;

#define BUSEVENT_DIFF(cond, ...)                                               \
	do {                                                                   \
		if (cond) {                                                    \
			detail_append(buf, size, "%s", n ? ", " : "");         \
			detail_append(buf, size, __VA_ARGS__);                 \
			n++;                                                   \
		}                                                              \
	} while (0)

	buf[0] = '\0';
	BUSEVENT_DIFF(a->mtu != b->mtu, "mtu %u -> %u", a->mtu, b->mtu);
	BUSEVENT_DIFF(x->bitrate != y->bitrate, "bitrate %u -> %u", x->bitrate,
		      y->bitrate);
	BUSEVENT_DIFF(x->sample_point != y->sample_point,
		      "sample-point %u.%03u -> %u.%03u", x->sample_point / 1000,
		      x->sample_point % 1000, y->sample_point / 1000,
		      y->sample_point % 1000);
	BUSEVENT_DIFF(x->data_bitrate != y->data_bitrate, "dbitrate %u -> %u",
		      x->data_bitrate, y->data_bitrate);
	BUSEVENT_DIFF(x->data_sample_point != y->data_sample_point,
		      "dsample-point %u.%03u -> %u.%03u",
		      x->data_sample_point / 1000, x->data_sample_point % 1000,
		      y->data_sample_point / 1000, y->data_sample_point % 1000);
	BUSEVENT_DIFF(x->restart_ms != y->restart_ms, "restart-ms %u -> %u",
		      x->restart_ms, y->restart_ms);
	if (x->ctrlmode != y->ctrlmode) {
		canlink_ctrlmode_str(x->ctrlmode, m1, sizeof(m1));
		canlink_ctrlmode_str(y->ctrlmode, m2, sizeof(m2));
		BUSEVENT_DIFF(1, "ctrlmode %s -> %s", m1[0] ? m1 : "none",
			      m2[0] ? m2 : "none");
	}
#undef BUSEVENT_DIFF
	return n;
}

void busevent_config(struct canif *ci, const struct nl_link *old,
		     const char *what)
{
	struct evt e = {.kind = EVT_CONFIG, .detail = what};

	e.u.config.ifname = ci->link.name;
	e.u.config.mtu = ci->link.mtu;
	e.u.config.previous_mtu = old->mtu;
	if (ci->link.controller) {
		e.u.config.now = &ci->link.cfg;
		e.u.config.before = &old->cfg;
	}
	busevent_broadcast(ci->ctx, ci->link.name, &e);
}

void busevent_rebind(struct canif *ci)
{
	struct sess *s;
	int rc;

	TAILQ_FOREACH(s, &ci->ctx->sessions, entry) {
		if (s->q.dead || s->chan == NULL ||
		    chan_ifindex(s->chan) == 0 ||
		    chan_ifindex(s->chan) == ci->link.ifindex ||
		    strcmp(chan_name(s->chan), ci->link.name) != 0)
			continue;
		rc = chan_rebind(s->chan, ci->link.ifindex);
		if (rc < 0)
			log_warn("client %u: cannot bind to \"%s\" again: %s",
				 s->id, ci->link.name, strerror(-rc));
		else
			log_info("client %u: bound to \"%s\" again (ifindex "
				 "%d)",
				 s->id, ci->link.name, ci->link.ifindex);
	}
}
