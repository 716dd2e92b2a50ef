/*
 * The CAN interfaces themselves: the list, each one's state and
 * configuration, changing it, restarting after bus-off, flushing what the
 * daemon holds, and subscribing to their events. None needs an open
 * channel.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "libcand_int.h"

static int libcand_bus_take_list(struct cand_result *res, const Cand__Reply *r)
{
	struct cand_array *out = res->take_arg;
	const Cand__ListReply *l =
		r->result_case == CAND__REPLY__RESULT_LIST ? r->list : NULL;
	struct cand_iface *v;
	size_t i, n = l != NULL ? l->n_interfaces : 0;

	if ((v = calloc(n ? n : 1, sizeof(*v))) == NULL)
		return CAND_ENOMEM;
	for (i = 0; i < n; i++) {
		const Cand__Interface *p = l->interfaces[i];

		libcand_pb_get_str(v[i].name, sizeof(v[i].name), p->name);
		v[i].ifindex = p->ifindex;
		v[i].up = p->up ? 1 : 0;
		v[i].mtu = p->mtu;
		v[i].hardware = p->type == CAND__IFACE_TYPE__HARDWARE;
		libcand_pb_get_str(v[i].kind, sizeof(v[i].kind), p->kind);
	}
	out->v = v;
	out->n = n;
	return 0;
}

CAND_EXPORT int cand_list(cand_t *h, struct cand_iface **out)
{
	Cand__Request req = CAND__REQUEST__INIT;
	Cand__ListRequest list = CAND__LIST_REQUEST__INIT;
	void *v;
	int rc;

	if (h == NULL || out == NULL)
		return CAND_EINVAL;
	req.op_case = CAND__REQUEST__OP_LIST;
	req.list = &list;
	rc = libcand_rpc_list(h, &req, libcand_bus_take_list, sizeof(**out),
			      &v);
	*out = v;
	return rc;
}

CAND_EXPORT const char *cand_state_name(enum cand_state state)
{
	switch (state) {
	case CAND_STATE_ERROR_ACTIVE:
		return "ERROR-ACTIVE";
	case CAND_STATE_ERROR_WARNING:
		return "ERROR-WARNING";
	case CAND_STATE_ERROR_PASSIVE:
		return "ERROR-PASSIVE";
	case CAND_STATE_BUS_OFF:
		return "BUS-OFF";
	case CAND_STATE_STOPPED:
		return "STOPPED";
	case CAND_STATE_SLEEPING:
		return "SLEEPING";
	default:
		return "not applicable";
	}
}

static void libcand_bus_state_one(struct cand_bus_state *o,
				  const Cand__InterfaceState *p)
{
	const Cand__Interface *l = p->link;

	if (l != NULL) {
		libcand_pb_get_str(o->link.name, sizeof(o->link.name), l->name);
		libcand_pb_get_str(o->link.kind, sizeof(o->link.kind), l->kind);
		o->link.ifindex = l->ifindex;
		o->link.up = l->up ? 1 : 0;
		o->link.mtu = l->mtu;
		o->link.hardware = l->type == CAND__IFACE_TYPE__HARDWARE;
	}
	o->running = p->running ? 1 : 0;
	o->state = libcand_pb_get_state(p->state);
	o->state_from_error_frames = p->state_from_error_frames ? 1 : 0;
	o->has_error_counters = p->has_error_counters ? 1 : 0;
	o->tx_errors = p->tx_errors;
	o->rx_errors = p->rx_errors;
	o->controller = p->config != NULL;
	libcand_pb_get_config(&o->config, p->config);
	if (p->device_stats != NULL) {
		o->dev.bus_errors = p->device_stats->bus_errors;
		o->dev.error_warning = p->device_stats->error_warning;
		o->dev.error_passive = p->device_stats->error_passive;
		o->dev.bus_off = p->device_stats->bus_off;
		o->dev.arbitration_lost = p->device_stats->arbitration_lost;
		o->dev.restarts = p->device_stats->restarts;
	}
	if (p->link_stats != NULL) {
		const Cand__LinkStats *s = p->link_stats;

		o->has_stats = 1;
		o->stats.rx_packets = s->rx_packets;
		o->stats.tx_packets = s->tx_packets;
		o->stats.rx_bytes = s->rx_bytes;
		o->stats.tx_bytes = s->tx_bytes;
		o->stats.rx_errors = s->rx_errors;
		o->stats.tx_errors = s->tx_errors;
		o->stats.rx_dropped = s->rx_dropped;
		o->stats.tx_dropped = s->tx_dropped;
		o->stats.rx_over_errors = s->rx_over_errors;
	}
	libcand_pb_get_str(o->busoff_policy, sizeof(o->busoff_policy),
			   p->busoff_policy);
}

static int libcand_bus_take_states(struct cand_result *res,
				   const Cand__Reply *r)
{
	struct cand_array *out = res->take_arg;
	const Cand__StateReply *sr =
		r->result_case == CAND__REPLY__RESULT_STATE ? r->state : NULL;
	struct cand_bus_state *v;
	size_t i, n = sr != NULL ? sr->n_interfaces : 0;

	if ((v = calloc(n ? n : 1, sizeof(*v))) == NULL)
		return CAND_ENOMEM;
	for (i = 0; i < n; i++)
		libcand_bus_state_one(&v[i], sr->interfaces[i]);
	out->v = v;
	out->n = n;
	return 0;
}

CAND_EXPORT int cand_bus_state(cand_t *h, const char *ifname,
			       struct cand_bus_state **out)
{
	Cand__Request req = CAND__REQUEST__INIT;
	Cand__StateRequest sr = CAND__STATE_REQUEST__INIT;
	void *v;
	int rc;

	if (h == NULL || out == NULL)
		return CAND_EINVAL;
	sr.ifname = (char *)(ifname != NULL ? ifname : "");
	req.op_case = CAND__REQUEST__OP_STATE;
	req.state = &sr;
	rc = libcand_rpc_list(h, &req, libcand_bus_take_states, sizeof(**out),
			      &v);
	*out = v;
	return rc;
}

CAND_EXPORT void cand_bus_change_init(struct cand_bus_change *chg)
{
	memset(chg, 0, sizeof(*chg));
	chg->restart_ms = -1;
	chg->up = -1;
}

static int libcand_bus_take_configured(struct cand_result *res,
				       const Cand__Reply *r)
{
	struct cand_bus_configured *out = res->take_arg;
	const Cand__ConfigureReply *cr =
		r->result_case == CAND__REPLY__RESULT_CONFIGURE ? r->configure
								: NULL;

	if (out == NULL || cr == NULL)
		return 0;
	out->cycled = cr->cycled ? 1 : 0;
	out->up = cr->up ? 1 : 0;
	out->controller = cr->config != NULL;
	libcand_pb_get_config(&out->config, cr->config);
	return 0;
}

CAND_EXPORT int cand_configure(cand_t *h, const char *ifname,
			       const struct cand_bus_change *chg,
			       struct cand_bus_configured *res)
{
	Cand__Request req = CAND__REQUEST__INIT;
	Cand__ConfigureRequest cr = CAND__CONFIGURE_REQUEST__INIT;
	struct cand_result r;

	if (h == NULL || ifname == NULL || chg == NULL)
		return CAND_EINVAL;
	if (chg->restart_ms > UINT32_MAX)
		return libcand_err_set(h, CAND_EINVAL,
				       "restart-ms %lld is too big",
				       (long long)chg->restart_ms);
	if (res != NULL)
		memset(res, 0, sizeof(*res));
	cr.ifname = (char *)ifname;
	cr.bitrate = chg->bitrate;
	cr.sample_point = chg->sample_point;
	cr.data_bitrate = chg->data_bitrate;
	cr.data_sample_point = chg->data_sample_point;
	cr.set_restart_ms = chg->restart_ms >= 0;
	cr.restart_ms = chg->restart_ms >= 0 ? (uint32_t)chg->restart_ms : 0;
	cr.ctrlmode_mask = chg->ctrlmode_mask;
	cr.ctrlmode_flags = chg->ctrlmode_flags;
	cr.link = chg->up < 0	 ? CAND__LINK_CHANGE__LINK_UNCHANGED
		  : chg->up == 0 ? CAND__LINK_CHANGE__LINK_DOWN
				 : CAND__LINK_CHANGE__LINK_UP;
	req.op_case = CAND__REQUEST__OP_CONFIGURE;
	req.configure = &cr;
	return libcand_rpc_call(h, &req, &r, libcand_bus_take_configured, res);
}

CAND_EXPORT int cand_restart(cand_t *h, const char *ifname)
{
	Cand__Request req = CAND__REQUEST__INIT;
	Cand__RestartRequest rr = CAND__RESTART_REQUEST__INIT;
	struct cand_result res;

	if (h == NULL || ifname == NULL)
		return CAND_EINVAL;
	rr.ifname = (char *)ifname;
	req.op_case = CAND__REQUEST__OP_RESTART;
	req.restart = &rr;
	return libcand_rpc_call(h, &req, &res, NULL, NULL);
}

struct cand_flushed {
	uint32_t dropped;
	char *note;
	size_t note_size;
};

static int libcand_bus_take_flushed(struct cand_result *res,
				    const Cand__Reply *r)
{
	struct cand_flushed *out = res->take_arg;

	if (r->result_case != CAND__REPLY__RESULT_FLUSH_TX ||
	    r->flush_tx == NULL)
		return 0;
	out->dropped = r->flush_tx->dropped;
	if (out->note != NULL && out->note_size > 0)
		libcand_pb_get_str(out->note, out->note_size,
				   r->flush_tx->note);
	return 0;
}

CAND_EXPORT int cand_flush_tx(cand_t *h, char *note, size_t note_size)
{
	Cand__Request req = CAND__REQUEST__INIT;
	Cand__FlushTxRequest fr = CAND__FLUSH_TX_REQUEST__INIT;
	struct cand_flushed out = {0, note, note_size};
	struct cand_result res;
	int rc;

	if (h == NULL)
		return CAND_EINVAL;
	if (note != NULL && note_size > 0)
		note[0] = '\0';
	req.op_case = CAND__REQUEST__OP_FLUSH_TX;
	req.flush_tx = &fr;
	rc = libcand_rpc_call(h, &req, &res, libcand_bus_take_flushed, &out);
	if (rc < 0)
		return rc;
	return out.dropped > INT_MAX ? INT_MAX : (int)out.dropped;
}

static int libcand_bus_subscribe(cand_t *h, const char *ifname, int off)
{
	Cand__Request req = CAND__REQUEST__INIT;
	Cand__SubscribeRequest sr = CAND__SUBSCRIBE_REQUEST__INIT;
	struct cand_result res;
	int rc;

	if (h == NULL)
		return CAND_EINVAL;
	sr.ifname = (char *)(ifname != NULL ? ifname : "");
	sr.off = off;
	req.op_case = CAND__REQUEST__OP_SUBSCRIBE;
	req.subscribe = &sr;
	if ((rc = libcand_rpc_call(h, &req, &res, NULL, NULL)) < 0)
		return rc;
	/* A new connection starts unsubscribed. */
	if (off)
		libcand_resume_drop(&h->kept_sub);
	else
		libcand_resume_keep(h, &h->kept_sub, &req);
	return 0;
}

CAND_EXPORT int cand_subscribe(cand_t *h, const char *ifname)
{
	return libcand_bus_subscribe(h, ifname, 0);
}

CAND_EXPORT int cand_unsubscribe(cand_t *h)
{
	return libcand_bus_subscribe(h, NULL, 1);
}
