/*
 * The CAN interfaces cand tracks and their bus state.
 *
 * linkmon.c reports every link change; this file keeps what was last seen
 * and has busevent.c tell the sessions what changed. The kernel reports
 * bus-off and its end through rtnetlink (as a carrier change) but
 * error-warning and error-passive only as error frames, so every
 * interface also has one CAN_RAW socket that receives nothing but
 * controller error frames. For a real controller such a frame only says
 * "look now": the kernel's own state is read and reported. A virtual
 * interface (vcan) has no state of its own; it is "not applicable" until
 * error frames on it (injected by a simulation, say) say otherwise, and
 * then the state they say is reported as coming from error frames.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/can/error.h>

#include <event2/event.h>

#include "ops/ops.h"

/* Error frames that can mean a state change; bus errors are left out. */
#define BUSSTATE_ERR_MASK (CAN_ERR_CRTL | CAN_ERR_BUSOFF | CAN_ERR_RESTARTED)
/* Error frames read per wakeup before yielding. */
#define BUSSTATE_ERR_BATCH 32

struct canif *busstate_by_index(struct cand_ctx *ctx, int ifindex)
{
	struct canif *ci;

	TAILQ_FOREACH(ci, &ctx->canifs, entry)
		if (ci->link.ifindex == ifindex)
			return ci;
	return NULL;
}

struct canif *busstate_find(struct cand_ctx *ctx, const char *ifname)
{
	struct canif *ci;

	TAILQ_FOREACH(ci, &ctx->canifs, entry)
		if (strcmp(ci->link.name, ifname) == 0)
			return ci;
	return NULL;
}

static void busstate_set_state(struct canif *ci, enum bus_state state,
			       int from_frames, const char *why)
{
	enum bus_state prev = ci->state;

	if (state == prev)
		return;
	ci->state = state;
	ci->state_from_frames = from_frames;
	/* Bus-off and the restart after it flush the controller's echoes. */
	if (state == BUS_STATE_BUS_OFF || prev == BUS_STATE_BUS_OFF)
		tap_link_reset(ci->ctx, ci->link.ifindex);
	if (ci->has_counters)
		log_info("%s: %s -> %s (tx errors %u, rx errors %u)%s%s%s",
			 ci->link.name, canlink_state_name(prev),
			 canlink_state_name(state), ci->txerr, ci->rxerr,
			 from_frames ? ", from error frames" : "",
			 why[0] ? "; " : "", why);
	else
		log_info("%s: %s -> %s%s%s%s", ci->link.name,
			 canlink_state_name(prev), canlink_state_name(state),
			 from_frames ? ", from error frames" : "",
			 why[0] ? "; " : "", why);
	busoff_on_state(ci, prev, state);
	busevent_state(ci, prev, why);
}

/* The kernel's CAN_STATE_* as ours: ours counts "none" as 0. */
static enum bus_state busstate_of_kernel(int state)
{
	return (enum bus_state)(state + 1);
}

static void busstate_counters(struct canif *ci, int has, unsigned tx,
			      unsigned rx)
{
	if (has) {
		ci->has_counters = 1;
		ci->txerr = tx;
		ci->rxerr = rx;
	}
}

/* A controller's state and counters from the kernel, now. */
static void busstate_refresh(struct canif *ci, const char *why)
{
	struct canlink_info info;

	if (canlink_read(ci->link.name, 1, &info) < 0 || !info.controller)
		return;
	busstate_counters(ci, info.has_berr, info.txerr, info.rxerr);
	busstate_set_state(ci, busstate_of_kernel(info.state), 0, why);
}

/* Returns 1 when a controller's state must be read from the kernel. */
static int busstate_error_frame(struct canif *ci, const struct can_frame *cf)
{
	unsigned tx = 0, rx = 0;
	int has_cnt, state;

	state = errframe_state(cf, &has_cnt, &tx, &rx);
	if (ci->link.controller) {
		/* The frame says when; the kernel says what. */
		return state >= 0 && state != (int)ci->state;
	}
	if (has_cnt) {
		busstate_counters(ci, 1, tx, rx);
	} else if (cf->can_id & CAN_ERR_RESTARTED) {
		/* A restart clears the controller's counters. */
		ci->txerr = ci->rxerr = 0;
	}
	if (state >= 0)
		busstate_set_state(ci, (enum bus_state)state, 1, "");
	return 0;
}

static void busstate_on_errframe(evutil_socket_t fd, short what, void *arg)
{
	struct canif *ci = arg;
	struct can_frame cf;
	ssize_t n;
	int i, refresh = 0;

	(void)what;
	for (i = 0; i < BUSSTATE_ERR_BATCH; i++) {
		n = recv(fd, &cf, sizeof(cf), MSG_DONTWAIT);
		/* ENETDOWN/ENODEV: rtnetlink reports those. */
		if (n < 0 && errno != EAGAIN && errno != EINTR &&
		    errno != ENETDOWN && errno != ENODEV)
			log_warn("%s: error frame monitor: %s", ci->link.name,
				 strerror(errno));
		if (n < 0 && errno != ENETDOWN && errno != ENODEV)
			break;
		if (n == (ssize_t)sizeof(cf))
			refresh |= busstate_error_frame(ci, &cf);
	}
	/* One read of the kernel for a burst of frames, not one each. */
	if (refresh)
		busstate_refresh(ci, "");
}

static void busstate_errmon_open(struct canif *ci)
{
	int fd = rawsock_open_errors(ci->link.ifindex, BUSSTATE_ERR_MASK);

	if (fd < 0) {
		log_warn("%s: no error frame monitor: %s", ci->link.name,
			 strerror(-fd));
		return;
	}
	ci->ev_errmon = event_new(ci->ctx->base, fd, EV_READ | EV_PERSIST,
				  busstate_on_errframe, ci);
	if (ci->ev_errmon == NULL || event_add(ci->ev_errmon, NULL) < 0) {
		log_warn("%s: no error frame monitor: out of memory",
			 ci->link.name);
		if (ci->ev_errmon != NULL)
			event_free(ci->ev_errmon);
		ci->ev_errmon = NULL;
		close(fd);
		return;
	}
	ci->errmon_fd = fd;
}

static void busstate_errmon_close(struct canif *ci)
{
	if (ci->ev_errmon != NULL)
		event_free(ci->ev_errmon);
	ci->ev_errmon = NULL;
	if (ci->errmon_fd >= 0)
		close(ci->errmon_fd);
	ci->errmon_fd = -1;
}

static void busstate_add(struct cand_ctx *ctx, const struct nl_link *l,
			 int initial)
{
	struct canif *ci = calloc(1, sizeof(*ci));
	char diff[128];

	if (ci == NULL) {
		log_err("%s: out of memory; not tracked", l->name);
		return;
	}
	ci->ctx = ctx;
	ci->link = *l;
	ci->errmon_fd = -1;
	ci->seen = 1;
	ci->state =
		l->controller ? busstate_of_kernel(l->state) : BUS_STATE_NONE;
	busstate_counters(ci, l->has_berr, l->txerr, l->rxerr);
	TAILQ_INSERT_TAIL(&ctx->canifs, ci, entry);
	ctx->n_ifaces++;
	busstate_errmon_open(ci);
	if (tap_open(ctx, l->ifindex, l->name, &ci->tap, diff, sizeof(diff)) <
	    0)
		log_warn("%s: no shared receiving socket: %s; channels "
			 "cannot receive from it",
			 l->name, diff);
	log_info("%s: %s (%s, ifindex %d, %s, %s)", l->name,
		 initial ? "found" : "appeared", l->kind[0] ? l->kind : "?",
		 l->ifindex, (l->flags & IFF_UP) ? "up" : "down",
		 canlink_state_name(ci->state));
	if (!initial) {
		busevent_rebind(ci);
		busevent_link(ci, BUSEVENT_APPEARED);
	}
	busoff_attach(ci);
}

void busstate_link_update(struct cand_ctx *ctx, const struct nl_link *l,
			  int initial)
{
	struct canif *ci = busstate_by_index(ctx, l->ifindex);
	struct nl_link old;
	char diff[384];

	if (ci == NULL) {
		busstate_add(ctx, l, initial);
		return;
	}
	ci->seen = 1;
	old = ci->link;
	ci->link = *l;
	if (strcmp(old.name, l->name) != 0)
		log_info("%s: renamed to %s", old.name, l->name);
	if ((old.flags ^ l->flags) & IFF_UP) {
		log_info("%s: %s", l->name,
			 (l->flags & IFF_UP) ? "up" : "down");
		/* Down flushed the TX queue: those echoes never come. */
		if (!(l->flags & IFF_UP))
			tap_link_reset(ctx, l->ifindex);
		busevent_link(ci, BUSEVENT_UPDOWN);
	}
	if (busevent_config_diff(&old, l, diff, sizeof(diff)) > 0) {
		log_info("%s: configuration changed: %s", l->name, diff);
		busevent_config(ci, &old, diff);
	}
	if (l->controller) {
		busstate_counters(ci, l->has_berr, l->txerr, l->rxerr);
		busstate_set_state(ci, busstate_of_kernel(l->state), 0, "");
	}
}

void busstate_sync(struct canif *ci)
{
	struct nl_link l;

	/*
	 * The kernel announces a change only while the interface is up, so
	 * one made while it is down would otherwise wait for the next up.
	 * (Callers drain the announced ones first, so they come in order.)
	 */
	if (netlink_get_link(ci->link.name, &l) == 0 &&
	    l.ifindex == ci->link.ifindex)
		busstate_link_update(ci->ctx, &l, 0);
}

static void busstate_drop(struct canif *ci)
{
	busoff_detach(ci);
	busstate_errmon_close(ci);
	tap_free(ci->tap);
	ci->tap = NULL;
	TAILQ_REMOVE(&ci->ctx->canifs, ci, entry);
	ci->ctx->n_ifaces--;
	free(ci);
}

void busstate_link_removed(struct cand_ctx *ctx, int ifindex)
{
	struct canif *ci = busstate_by_index(ctx, ifindex);
	struct sess *s;

	if (ci == NULL)
		return;
	log_info("%s: removed", ci->link.name);
	/* Frames from before it went, before the event that it went. */
	tap_drain(ci->tap);
	TAILQ_FOREACH(s, &ctx->sessions, entry)
		if (s->chan != NULL && chan_ifindex(s->chan) == ifindex)
			chan_link_gone(s->chan);
	busevent_link(ci, BUSEVENT_REMOVED);
	busstate_drop(ci);
}

void busstate_free_all(struct cand_ctx *ctx)
{
	struct canif *ci;

	while ((ci = TAILQ_FIRST(&ctx->canifs)) != NULL)
		busstate_drop(ci);
}

static void busstate_fill(struct canif *ci, struct bus_info *it)
{
	const struct nl_link *l = &ci->link;
	struct canlink_info info;

	busstate_sync(ci);
	memset(it, 0, sizeof(*it));
	snprintf(it->link.name, sizeof(it->link.name), "%s", l->name);
	snprintf(it->link.kind, sizeof(it->link.kind), "%s", l->kind);
	it->link.ifindex = (uint32_t)l->ifindex;
	it->link.up = (l->flags & IFF_UP) != 0;
	it->link.mtu = l->mtu;
	it->link.type = link_type(l->kind);
	it->running = (l->flags & IFF_RUNNING) != 0;

	if (canlink_read(l->name, l->controller, &info) == 0 &&
	    info.controller) {
		/* Fresher than the last event: report it as a change too. */
		busstate_counters(ci, info.has_berr, info.txerr, info.rxerr);
		busstate_set_state(ci, busstate_of_kernel(info.state), 0, "");
		it->controller = 1;
		it->config = info.cfg;
		it->has_xstats = info.has_xstats;
		it->xstats = info.xstats;
	}
	it->has_stats = info.has_stats;
	it->stats = info.stats;
	it->state = ci->state;
	it->from_error_frames = ci->state_from_frames;
	it->has_counters = ci->has_counters;
	it->tx_errors = ci->txerr;
	it->rx_errors = ci->rxerr;
	busoff_describe(ci, it->busoff_policy, sizeof(it->busoff_policy));
}

int busstate_query(struct cand_ctx *ctx, const char *ifname,
		   struct bus_info **out, size_t *count, char *detail,
		   size_t dsize)
{
	struct bus_info *items;
	struct canif *ci, *one = NULL;
	size_t n = 0, i = 0;

	*out = NULL;
	*count = 0;
	/* Up to date first; nothing below adds or removes interfaces. */
	linkmon_drain(ctx);
	if (ifname[0] != '\0') {
		one = busstate_find(ctx, ifname);
		if (one == NULL) {
			detail_set(detail, dsize, "no CAN interface \"%s\"%s",
				   ifname,
				   strlen(ifname) < IFNAMSIZ &&
						   if_nametoindex(ifname) != 0
					   ? " (it is not a CAN interface)"
					   : "");
			return -ENODEV;
		}
		n = 1;
	} else {
		TAILQ_FOREACH(ci, &ctx->canifs, entry)
			n++;
	}
	if (n == 0)
		return 0;
	if ((items = calloc(n, sizeof(*items))) == NULL)
		return -ENOMEM;
	TAILQ_FOREACH(ci, &ctx->canifs, entry) {
		if (one != NULL && ci != one)
			continue;
		busstate_fill(ci, &items[i++]);
	}
	*out = items;
	*count = i;
	return 0;
}
