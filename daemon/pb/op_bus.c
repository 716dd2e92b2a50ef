/*
 * Interfaces and bus health: list, state, configure, restart, subscribe.
 * The operations give plain results (ops/busstate.c, ops/configure.c);
 * here they become the protocol's messages.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pb/pb.h"

int op_bus_list(struct conn *c, Cand__Request *req, struct dispatch_reply *r)
{
	struct link_info *links;
	Cand__Interface *it = NULL;
	size_t n, i;
	int rc;

	(void)c;
	(void)req;
	rc = link_list(&links, &n);
	if (rc < 0) {
		detail_set(r->detail, sizeof(r->detail),
			   "cannot list interfaces: %s", strerror(-rc));
		return rc;
	}
	r->alloc[0] = links;
	cand__list_reply__init(&r->list);
	/* None: no array, as NULL + 0 would be undefined behaviour. */
	if (n > 0) {
		it = calloc(n, sizeof(*it) + sizeof(it));
		if (it == NULL)
			return -ENOMEM;
		r->alloc[1] = it;
		r->list.interfaces = (Cand__Interface **)(it + n);
	}
	for (i = 0; i < n; i++) {
		cand__interface__init(&it[i]);
		it[i].name = links[i].name;
		it[i].kind = links[i].kind;
		it[i].ifindex = links[i].ifindex;
		it[i].up = links[i].up;
		it[i].mtu = links[i].mtu;
		it[i].type = (Cand__IfaceType)links[i].type;
		r->list.interfaces[i] = &it[i];
	}
	r->list.n_interfaces = n;
	r->rep.result_case = CAND__REPLY__RESULT_LIST;
	r->rep.list = &r->list;
	return 0;
}

/* One InterfaceState and what it points to. */
struct op_bus_item {
	Cand__InterfaceState st;
	Cand__Interface link;
	Cand__BusConfig cfg;
	Cand__DeviceStats dev;
	Cand__LinkStats stats;
};

static void op_bus_item(struct op_bus_item *it, struct bus_info *b)
{
	cand__interface_state__init(&it->st);
	cand__interface__init(&it->link);
	it->link.name = b->link.name;
	it->link.kind = b->link.kind;
	it->link.ifindex = b->link.ifindex;
	it->link.up = b->link.up;
	it->link.mtu = b->link.mtu;
	it->link.type = (Cand__IfaceType)b->link.type;
	it->st.link = &it->link;
	it->st.running = b->running;
	if (b->controller) {
		encode_bus_config(&it->cfg, &b->config);
		it->st.config = &it->cfg;
	}
	if (b->controller && b->has_xstats) {
		cand__device_stats__init(&it->dev);
		it->dev.bus_errors = b->xstats.bus_errors;
		it->dev.error_warning = b->xstats.error_warning;
		it->dev.error_passive = b->xstats.error_passive;
		it->dev.bus_off = b->xstats.bus_off;
		it->dev.arbitration_lost = b->xstats.arbitration_lost;
		it->dev.restarts = b->xstats.restarts;
		it->st.device_stats = &it->dev;
	}
	if (b->has_stats) {
		cand__link_stats__init(&it->stats);
		it->stats.rx_packets = b->stats.rx_packets;
		it->stats.tx_packets = b->stats.tx_packets;
		it->stats.rx_bytes = b->stats.rx_bytes;
		it->stats.tx_bytes = b->stats.tx_bytes;
		it->stats.rx_errors = b->stats.rx_errors;
		it->stats.tx_errors = b->stats.tx_errors;
		it->stats.rx_dropped = b->stats.rx_dropped;
		it->stats.tx_dropped = b->stats.tx_dropped;
		it->stats.rx_over_errors = b->stats.rx_over_errors;
		it->st.link_stats = &it->stats;
	}
	it->st.state = (Cand__CanState)b->state;
	it->st.state_from_error_frames = b->from_error_frames;
	it->st.has_error_counters = b->has_counters;
	it->st.tx_errors = b->tx_errors;
	it->st.rx_errors = b->rx_errors;
	it->st.busoff_policy = b->busoff_policy;
}

int op_bus_state(struct conn *c, Cand__Request *req, struct dispatch_reply *r)
{
	struct bus_info *info;
	struct op_bus_item *items = NULL;
	size_t n, i;
	int rc;

	rc = busstate_query(c->ctx, req->state->ifname, &info, &n, r->detail,
			    sizeof(r->detail));
	if (rc < 0)
		return rc;
	r->alloc[0] = info;
	cand__state_reply__init(&r->state);
	if (n > 0) {
		items = calloc(n,
			       sizeof(*items) + sizeof(r->state.interfaces[0]));
		if (items == NULL)
			return -ENOMEM;
		r->alloc[1] = items;
		r->state.interfaces = (Cand__InterfaceState **)(items + n);
	}
	for (i = 0; i < n; i++) {
		op_bus_item(&items[i], &info[i]);
		r->state.interfaces[i] = &items[i].st;
	}
	r->state.n_interfaces = n;
	r->rep.result_case = CAND__REPLY__RESULT_STATE;
	r->rep.state = &r->state;
	return 0;
}

int op_bus_configure(struct conn *c, Cand__Request *req,
		     struct dispatch_reply *r)
{
	const Cand__ConfigureRequest *cr = req->configure;
	struct canlink_change chg = {
		.bitrate = cr->bitrate,
		.sample_point = cr->sample_point,
		.data_bitrate = cr->data_bitrate,
		.data_sample_point = cr->data_sample_point,
		.set_restart_ms = cr->set_restart_ms,
		.restart_ms = cr->restart_ms,
		.ctrlmode_mask = cr->ctrlmode_mask,
		.ctrlmode_flags = cr->ctrlmode_flags,
		.link = cr->link,
	};
	struct configure_result res;
	int rc;

	rc = configure_apply(c->s, cr->ifname, &chg, &res, r->detail,
			     sizeof(r->detail));
	if (rc < 0)
		return rc;
	cand__configure_reply__init(&r->configure);
	r->configure.cycled = res.cycled;
	r->configure.up = res.up;
	if (res.has_config) {
		encode_bus_config(&r->config, &res.config);
		r->configure.config = &r->config;
	}
	r->rep.result_case = CAND__REPLY__RESULT_CONFIGURE;
	r->rep.configure = &r->configure;
	return 0;
}

int op_bus_restart(struct conn *c, Cand__Request *req, struct dispatch_reply *r)
{
	return configure_restart(c->s, req->restart->ifname, r->detail,
				 sizeof(r->detail));
}

int op_bus_subscribe(struct conn *c, Cand__Request *req,
		     struct dispatch_reply *r)
{
	const Cand__SubscribeRequest *sr = req->subscribe;

	return sess_subscribe(c->s, sr->ifname, sr->off, r->detail,
			      sizeof(r->detail));
}
