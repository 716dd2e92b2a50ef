/*
 * The CAN interfaces cand tracks, their bus state, and the events that
 * tell clients about them.
 *
 * netlink.c reports every link change; this file turns them into link,
 * configuration and state events. The kernel reports bus-off and its end
 * through netlink (as a carrier change) but error-warning and
 * error-passive only as error frames, so every interface also has one
 * CAN_RAW socket that receives nothing but controller error frames. For a
 * real controller such a frame only says "look now": the kernel's own
 * state is read and reported. A virtual interface (vcan) has no state of
 * its own; it is "not applicable" until error frames on it (injected by a
 * simulation, say) say otherwise, and then the state they say is reported
 * as coming from error frames.
 *
 * Events go to every client bound to the interface (or to every one) and
 * to every client that subscribed to it (or to all).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/can/error.h>
#include <linux/can/raw.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "daemon.h"

/* Error frames that can mean a state change; bus errors are left out. */
#define BUSSTATE_ERR_MASK (CAN_ERR_CRTL | CAN_ERR_BUSOFF | CAN_ERR_RESTARTED)
/* Error frames read per wakeup before yielding. */
#define BUSSTATE_ERR_BATCH 32

/* One InterfaceState of a state reply and everything it points to. */
struct busstate_item {
	Cand__InterfaceState st; /* first: the block is freed through it */
	Cand__Interface link;
	Cand__BusConfig cfg;
	Cand__DeviceStats dev;
	Cand__LinkStats stats;
	char name[IFNAMSIZ];
	char kind[16];
	char policy[128];
};

static struct canif *busstate_by_index(struct cand_ctx *ctx, int ifindex)
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

static int busstate_wants(const struct client *c, const char *ifname)
{
	const char *ch;

	if (c->dead)
		return 0;
	if (c->subscribed &&
	    (c->sub_ifname[0] == '\0' || strcmp(c->sub_ifname, ifname) == 0))
		return 1;
	if (c->raw == NULL)
		return 0;
	ch = raw_channel(c->raw);
	return ch[0] == '\0' || strcmp(ch, ifname) == 0;
}

static void busstate_send(struct client *c, Cand__Event *ev)
{
	Cand__ServerMsg msg = CAND__SERVER_MSG__INIT;

	/*
	 * Frames stop at the high watermark; events go on, but a client
	 * this far behind is not reading at all and must not grow us.
	 */
	if (evbuffer_get_length(c->out) >= 2 * c->ctx->limits.out_high) {
		client_kill(c, "does not read its events");
		return;
	}
	msg.msg_case = CAND__SERVER_MSG__MSG_EVENT;
	msg.event = ev;
	/*
	 * Written from the loop, not here: this may run inside a request's
	 * handler, which must not find itself handling the next request.
	 */
	if (client_queue_msg(c, &msg) < 0)
		client_kill(c, "cannot queue an event");
	else
		client_flush_later(c);
}

void busstate_broadcast(struct cand_ctx *ctx, const char *ifname,
			Cand__Event *ev)
{
	struct client *c;

	TAILQ_FOREACH(c, &ctx->clients, entry)
		if (busstate_wants(c, ifname))
			busstate_send(c, ev);
}

void busstate_config_pb(Cand__BusConfig *pb, const struct canlink_config *c)
{
	cand__bus_config__init(pb);
	pb->bitrate = c->bitrate;
	pb->sample_point = c->sample_point;
	pb->data_bitrate = c->data_bitrate;
	pb->data_sample_point = c->data_sample_point;
	pb->restart_ms = c->restart_ms;
	pb->ctrlmode = c->ctrlmode;
	pb->ctrlmode_supported = c->ctrlmode_supported;
	pb->clock_hz = c->clock_hz;
}

enum busstate_link_what {
	BUSSTATE_UPDOWN,
	BUSSTATE_APPEARED,
	BUSSTATE_REMOVED,
};

/*
 * Link events differ per client only in "rebound": whether this client's
 * channel was just bound to the interface again.
 */
static void busstate_link_event(struct canif *ci, enum busstate_link_what what)
{
	Cand__Event ev = CAND__EVENT__INIT;
	Cand__LinkEvent le = CAND__LINK_EVENT__INIT;
	const struct nl_link *l = &ci->link;
	int up = (l->flags & IFF_UP) != 0;
	char detail[160];
	struct client *c;
	int err;

	if (what == BUSSTATE_REMOVED)
		err = ENODEV;
	else
		err = up ? 0 : ENETDOWN;
	le.ifname = ci->link.name;
	le.ifindex = (uint32_t)l->ifindex;
	le.up = what != BUSSTATE_REMOVED && up;
	le.running = le.up && (l->flags & IFF_RUNNING) != 0;
	le.removed = what == BUSSTATE_REMOVED;
	le.appeared = what == BUSSTATE_APPEARED;
	le.status = dispatch_status_from_errno(err);
	le.detail = detail;
	ev.ev_case = CAND__EVENT__EV_LINK;
	ev.link = &le;
	TAILQ_FOREACH(c, &ci->ctx->clients, entry) {
		if (!busstate_wants(c, l->name))
			continue;
		le.rebound = what == BUSSTATE_APPEARED && c->raw != NULL &&
			     raw_ifindex(c->raw) == l->ifindex;
		if (what == BUSSTATE_REMOVED)
			snprintf(detail, sizeof(detail),
				 "interface \"%s\" disappeared", l->name);
		else
			snprintf(detail, sizeof(detail),
				 "interface \"%s\" %s%s", l->name,
				 what == BUSSTATE_APPEARED
					 ? (up ? "appeared, up"
					       : "appeared, down")
					 : (up ? "is up" : "is down"),
				 le.rebound ? "; the channel is bound to it "
					      "again, same filters and options"
					    : "");
		busstate_send(c, &ev);
	}
}

static void busstate_state_event(struct canif *ci, int prev, const char *why)
{
	Cand__Event ev = CAND__EVENT__INIT;
	Cand__StateEvent se = CAND__STATE_EVENT__INIT;

	se.ifname = ci->link.name;
	se.state = (Cand__CanState)ci->state;
	se.previous = (Cand__CanState)prev;
	se.has_error_counters = ci->has_counters;
	se.tx_errors = ci->txerr;
	se.rx_errors = ci->rxerr;
	se.from_error_frames = ci->state_from_frames;
	se.detail = (char *)why;
	ev.ev_case = CAND__EVENT__EV_STATE;
	ev.state = &se;
	busstate_broadcast(ci->ctx, ci->link.name, &ev);
}

static void busstate_set_state(struct canif *ci, int state, int from_frames,
			       const char *why)
{
	int prev = ci->state;

	if (state == prev)
		return;
	ci->state = state;
	ci->state_from_frames = from_frames;
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
	busstate_state_event(ci, prev, why);
}

int busstate_from_error_frame(const struct can_frame *cf, int *has_counters,
			      unsigned *tx, unsigned *rx)
{
	canid_t id = cf->can_id;
	uint8_t crtl;

	*has_counters = 0;
	if (!(id & CAN_ERR_FLAG))
		return -1;
	if ((id & CAN_ERR_CNT) && cf->len >= 8) {
		*has_counters = 1;
		*tx = cf->data[6];
		*rx = cf->data[7];
	}
	if (id & CAN_ERR_BUSOFF)
		return CAND__CAN_STATE__STATE_BUS_OFF;
	if (id & CAN_ERR_RESTARTED)
		return CAND__CAN_STATE__STATE_ERROR_ACTIVE;
	if (!(id & CAN_ERR_CRTL) || cf->len < 2)
		return -1;
	crtl = cf->data[1];
	if (crtl & (CAN_ERR_CRTL_RX_PASSIVE | CAN_ERR_CRTL_TX_PASSIVE))
		return CAND__CAN_STATE__STATE_ERROR_PASSIVE;
	if (crtl & (CAN_ERR_CRTL_RX_WARNING | CAN_ERR_CRTL_TX_WARNING))
		return CAND__CAN_STATE__STATE_ERROR_WARNING;
	if (crtl & CAN_ERR_CRTL_ACTIVE)
		return CAND__CAN_STATE__STATE_ERROR_ACTIVE;
	return -1; /* overflows only */
}

/* A controller's state and counters from the kernel, now. */
static void busstate_refresh(struct canif *ci, const char *why)
{
	struct canlink_info info;

	if (canlink_read(ci->link.name, 1, &info) < 0 || !info.controller)
		return;
	if (info.has_berr) {
		ci->has_counters = 1;
		ci->txerr = info.txerr;
		ci->rxerr = info.rxerr;
	}
	busstate_set_state(ci, info.state + 1, 0, why);
}

/* Returns 1 when a controller's state must be read from the kernel. */
static int busstate_error_frame(struct canif *ci, const struct can_frame *cf)
{
	unsigned tx = 0, rx = 0;
	int has_cnt, state;

	state = busstate_from_error_frame(cf, &has_cnt, &tx, &rx);
	if (ci->link.controller) {
		/* The frame says when; the kernel says what. */
		return state >= 0 && state != ci->state;
	}
	if (has_cnt) {
		ci->has_counters = 1;
		ci->txerr = tx;
		ci->rxerr = rx;
	} else if (cf->can_id & CAN_ERR_RESTARTED) {
		/* A restart clears the controller's counters. */
		ci->txerr = ci->rxerr = 0;
	}
	if (state >= 0)
		busstate_set_state(ci, state, 1, "");
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
		/* ENETDOWN/ENODEV: netlink reports those. */
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
	struct sockaddr_can addr = {.can_family = AF_CAN,
				    .can_ifindex = ci->link.ifindex};
	can_err_mask_t mask = BUSSTATE_ERR_MASK;
	int fd, one = 1;

	fd = socket(PF_CAN, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, CAN_RAW);
	if (fd < 0) {
		log_warn("%s: no error frame monitor: %s", ci->link.name,
			 strerror(errno));
		return;
	}
	/*
	 * No filters: not one data frame, only the error frames below.
	 * Timestamps, although unused here: the kernel turns arrival time
	 * stamping on only after the first socket asks, from a workqueue, so
	 * the first frames of a lone client would carry the time they were
	 * read instead. With this socket open it is on all along.
	 */
	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_CAN_RAW, CAN_RAW_FILTER, NULL, 0) < 0 ||
	    setsockopt(fd, SOL_CAN_RAW, CAN_RAW_ERR_FILTER, &mask,
		       sizeof(mask)) < 0 ||
	    bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		log_warn("%s: no error frame monitor: %s", ci->link.name,
			 strerror(errno));
		close(fd);
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

/* "bitrate 500000 -> 250000, restart-ms 100 -> 0": how many differ. */
static int busstate_config_diff(const struct nl_link *a,
				const struct nl_link *b, char *buf, size_t size)
{
	const struct canlink_config *x = &a->cfg, *y = &b->cfg;
	char m1[128], m2[128];
	size_t off = 0;
	int n = 0;

#define BUSSTATE_DIFF(cond, ...)                                               \
	do {                                                                   \
		if ((cond) && off < size) {                                    \
			off += (size_t)snprintf(buf + off, size - off, "%s",   \
						n ? ", " : "");                \
			if (off < size)                                        \
				off += (size_t)snprintf(buf + off, size - off, \
							__VA_ARGS__);          \
			n++;                                                   \
		}                                                              \
	} while (0)

	buf[0] = '\0';
	BUSSTATE_DIFF(a->mtu != b->mtu, "mtu %u -> %u", a->mtu, b->mtu);
	BUSSTATE_DIFF(x->bitrate != y->bitrate, "bitrate %u -> %u", x->bitrate,
		      y->bitrate);
	BUSSTATE_DIFF(x->sample_point != y->sample_point,
		      "sample-point %u.%03u -> %u.%03u", x->sample_point / 1000,
		      x->sample_point % 1000, y->sample_point / 1000,
		      y->sample_point % 1000);
	BUSSTATE_DIFF(x->data_bitrate != y->data_bitrate, "dbitrate %u -> %u",
		      x->data_bitrate, y->data_bitrate);
	BUSSTATE_DIFF(x->data_sample_point != y->data_sample_point,
		      "dsample-point %u.%03u -> %u.%03u",
		      x->data_sample_point / 1000, x->data_sample_point % 1000,
		      y->data_sample_point / 1000, y->data_sample_point % 1000);
	BUSSTATE_DIFF(x->restart_ms != y->restart_ms, "restart-ms %u -> %u",
		      x->restart_ms, y->restart_ms);
	if (x->ctrlmode != y->ctrlmode) {
		canlink_ctrlmode_str(x->ctrlmode, m1, sizeof(m1));
		canlink_ctrlmode_str(y->ctrlmode, m2, sizeof(m2));
		BUSSTATE_DIFF(1, "ctrlmode %s -> %s", m1[0] ? m1 : "none",
			      m2[0] ? m2 : "none");
	}
#undef BUSSTATE_DIFF
	return n;
}

static void busstate_config_event(struct canif *ci, const struct nl_link *old,
				  const char *what)
{
	Cand__Event ev = CAND__EVENT__INIT;
	Cand__ConfigEvent ce = CAND__CONFIG_EVENT__INIT;
	Cand__BusConfig now, before;

	ce.ifname = ci->link.name;
	ce.mtu = ci->link.mtu;
	ce.previous_mtu = old->mtu;
	if (ci->link.controller) {
		busstate_config_pb(&now, &ci->link.cfg);
		busstate_config_pb(&before, &old->cfg);
		ce.config = &now;
		ce.previous = &before;
	}
	ce.detail = (char *)what;
	ev.ev_case = CAND__EVENT__EV_CONFIG;
	ev.config = &ce;
	busstate_broadcast(ci->ctx, ci->link.name, &ev);
}

/* Clients bound to this name whose interface went away get it back. */
static void busstate_rebind(struct canif *ci)
{
	struct client *c;
	int rc;

	TAILQ_FOREACH(c, &ci->ctx->clients, entry) {
		if (c->dead || c->raw == NULL || raw_ifindex(c->raw) == 0 ||
		    raw_ifindex(c->raw) == ci->link.ifindex ||
		    strcmp(raw_channel(c->raw), ci->link.name) != 0)
			continue;
		rc = raw_rebind(c->raw, ci->link.ifindex);
		if (rc < 0)
			log_warn("client %u: cannot bind to \"%s\" again: %s",
				 c->id, ci->link.name, strerror(-rc));
		else
			log_info("client %u: bound to \"%s\" again (ifindex "
				 "%d)",
				 c->id, ci->link.name, ci->link.ifindex);
	}
}

static void busstate_add(struct cand_ctx *ctx, const struct nl_link *l,
			 int initial)
{
	struct canif *ci = calloc(1, sizeof(*ci));

	if (ci == NULL) {
		log_err("%s: out of memory; not tracked", l->name);
		return;
	}
	ci->ctx = ctx;
	ci->link = *l;
	ci->errmon_fd = -1;
	ci->seen = 1;
	ci->state = l->controller ? l->state + 1
				  : CAND__CAN_STATE__STATE_NOT_APPLICABLE;
	if (l->has_berr) {
		ci->has_counters = 1;
		ci->txerr = l->txerr;
		ci->rxerr = l->rxerr;
	}
	TAILQ_INSERT_TAIL(&ctx->canifs, ci, entry);
	busstate_errmon_open(ci);
	log_info("%s: %s (%s, ifindex %d, %s, %s)", l->name,
		 initial ? "found" : "appeared", l->kind[0] ? l->kind : "?",
		 l->ifindex, (l->flags & IFF_UP) ? "up" : "down",
		 canlink_state_name(ci->state));
	if (!initial) {
		busstate_rebind(ci);
		busstate_link_event(ci, BUSSTATE_APPEARED);
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
		busstate_link_event(ci, BUSSTATE_UPDOWN);
	}
	if (busstate_config_diff(&old, l, diff, sizeof(diff)) > 0) {
		log_info("%s: configuration changed: %s", l->name, diff);
		busstate_config_event(ci, &old, diff);
	}
	if (l->controller) {
		if (l->has_berr) {
			ci->has_counters = 1;
			ci->txerr = l->txerr;
			ci->rxerr = l->rxerr;
		}
		busstate_set_state(ci, l->state + 1, 0, "");
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
	TAILQ_REMOVE(&ci->ctx->canifs, ci, entry);
	free(ci);
}

void busstate_link_removed(struct cand_ctx *ctx, int ifindex)
{
	struct canif *ci = busstate_by_index(ctx, ifindex);
	struct client *c;

	if (ci == NULL)
		return;
	log_info("%s: removed", ci->link.name);
	TAILQ_FOREACH(c, &ctx->clients, entry)
		if (c->raw != NULL && raw_ifindex(c->raw) == ifindex)
			raw_link_gone(c->raw);
	busstate_link_event(ci, BUSSTATE_REMOVED);
	busstate_drop(ci);
}

void busstate_free_all(struct cand_ctx *ctx)
{
	struct canif *ci;

	while ((ci = TAILQ_FIRST(&ctx->canifs)) != NULL)
		busstate_drop(ci);
}

static Cand__IfaceType busstate_type(const char *kind)
{
	if (strcmp(kind, "can") == 0)
		return CAND__IFACE_TYPE__HARDWARE;
	if (strcmp(kind, "vcan") == 0 || strcmp(kind, "vxcan") == 0)
		return CAND__IFACE_TYPE__VIRTUAL;
	return CAND__IFACE_TYPE__OTHER;
}

static void busstate_fill(struct canif *ci, struct busstate_item *it)
{
	const struct nl_link *l = &ci->link;
	struct canlink_info info;

	busstate_sync(ci);
	cand__interface_state__init(&it->st);
	cand__interface__init(&it->link);
	snprintf(it->name, sizeof(it->name), "%s", l->name);
	snprintf(it->kind, sizeof(it->kind), "%s", l->kind);
	it->link.name = it->name;
	it->link.kind = it->kind;
	it->link.ifindex = (uint32_t)l->ifindex;
	it->link.up = (l->flags & IFF_UP) != 0;
	it->link.mtu = l->mtu;
	it->link.type = busstate_type(l->kind);
	it->st.link = &it->link;
	it->st.running = (l->flags & IFF_RUNNING) != 0;

	if (canlink_read(l->name, l->controller, &info) == 0 &&
	    info.controller) {
		/* Fresher than the last event: report it as a change too. */
		if (info.has_berr) {
			ci->has_counters = 1;
			ci->txerr = info.txerr;
			ci->rxerr = info.rxerr;
		}
		busstate_set_state(ci, info.state + 1, 0, "");
		busstate_config_pb(&it->cfg, &info.cfg);
		it->st.config = &it->cfg;
		if (info.has_xstats) {
			it->dev = info.xstats;
			it->st.device_stats = &it->dev;
		}
	}
	if (info.has_stats) {
		it->stats = info.stats;
		it->st.link_stats = &it->stats;
	}
	it->st.state = (Cand__CanState)ci->state;
	it->st.state_from_error_frames = ci->state_from_frames;
	it->st.has_error_counters = ci->has_counters;
	it->st.tx_errors = ci->txerr;
	it->st.rx_errors = ci->rxerr;
	busoff_describe(ci, it->policy, sizeof(it->policy));
	it->st.busoff_policy = it->policy;
}

int busstate_query(struct cand_ctx *ctx, const char *ifname,
		   Cand__StateReply *rep, char *detail, size_t dsize)
{
	struct busstate_item *items;
	struct canif *ci, *one = NULL;
	size_t n = 0, i = 0;

	/* Up to date first; nothing below adds or removes interfaces. */
	netlink_drain(ctx);
	if (ifname[0] != '\0') {
		one = busstate_find(ctx, ifname);
		if (one == NULL) {
			reply_detail(detail, dsize, "no CAN interface \"%s\"%s",
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
	items = calloc(n, sizeof(*items));
	rep->interfaces = calloc(n, sizeof(*rep->interfaces));
	if (items == NULL || rep->interfaces == NULL) {
		free(items);
		free(rep->interfaces);
		rep->interfaces = NULL;
		return -ENOMEM;
	}
	TAILQ_FOREACH(ci, &ctx->canifs, entry) {
		if (one != NULL && ci != one)
			continue;
		busstate_fill(ci, &items[i]);
		rep->interfaces[i] = &items[i].st;
		i++;
	}
	rep->n_interfaces = i;
	return 0;
}

void busstate_reply_free(Cand__StateReply *rep)
{
	/* Every item lives in one block that starts with the first. */
	if (rep->n_interfaces > 0)
		free(rep->interfaces[0]);
	free(rep->interfaces);
	rep->interfaces = NULL;
	rep->n_interfaces = 0;
}
