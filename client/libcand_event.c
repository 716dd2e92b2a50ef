/*
 * Each kind of Event the daemon pushes, decoded into a struct cand_event
 * and queued in order with the frames; a new kind is one function here
 * and a case in libcand_event_take().
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "libcand_int.h"

static int libcand_event_link(struct cand *h, const Cand__LinkEvent *le)
{
	struct cand_event ev;
	const char *what;
	int err;

	memset(&ev, 0, sizeof(ev));
	ev.type = CAND_EVENT_LINK;
	libcand_pb_get_str(ev.ifname, sizeof(ev.ifname), le->ifname);
	ev.link.up = le->up;
	ev.link.running = le->running;
	ev.link.removed = le->removed;
	ev.link.appeared = le->appeared;
	ev.link.rebound = le->rebound;
	ev.link.ifindex = le->ifindex;

	if (le->status != CAND__STATUS__OK)
		err = libcand_err_status((int)le->status);
	else if (le->removed)
		err = CAND_ENODEV;
	else if (!le->up)
		err = CAND_ENETDOWN;
	else
		err = 0; /* back up: cand_recv() simply receives again */
	/* cand_recv() reports only what befalls its own channel. */
	if (h->channel[0] == '\0' || strcmp(ev.ifname, h->channel) != 0)
		err = 0;

	if (err == CAND_ENODEV)
		what = "is gone";
	else if (err == CAND_ENETDOWN)
		what = "is down";
	else
		what = le->up ? "is up" : cand_strerror(err);
	if (le->detail != NULL && le->detail[0] != '\0')
		snprintf(ev.detail, sizeof(ev.detail), "%s", le->detail);
	else
		snprintf(ev.detail, sizeof(ev.detail), "%s: interface %s",
			 le->ifname != NULL ? le->ifname : "?", what);
	return libcand_queue_event(h, &ev, err);
}

/*
 * A reload took rights away. Receiving is what cand_recv is about, so it
 * reports CAND_EPERM once when "read" went; a lost "send" shows at the
 * next send. cand_recv_event() reports it as a CAND_EVENT_RIGHTS.
 */
static int libcand_event_rights(struct cand *h, const Cand__RightsEvent *re)
{
	struct cand_event ev;
	size_t i;
	int err = 0;

	memset(&ev, 0, sizeof(ev));
	ev.type = CAND_EVENT_RIGHTS;
	for (i = 0; i < re->n_revoked; i++)
		if (re->revoked[i] != NULL &&
		    strcmp(re->revoked[i], "read") == 0)
			err = CAND_EPERM;
	snprintf(ev.detail, sizeof(ev.detail), "%s",
		 re->detail != NULL && re->detail[0] ? re->detail
						     : "rights were revoked");
	return libcand_queue_event(h, &ev, err);
}

static int libcand_event_state(struct cand *h, const Cand__StateEvent *se)
{
	struct cand_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = CAND_EVENT_STATE;
	libcand_pb_get_str(ev.ifname, sizeof(ev.ifname), se->ifname);
	libcand_pb_get_str(ev.detail, sizeof(ev.detail), se->detail);
	ev.state.state = libcand_pb_get_state(se->state);
	ev.state.previous = libcand_pb_get_state(se->previous);
	ev.state.has_error_counters = se->has_error_counters;
	ev.state.tx_errors = se->tx_errors;
	ev.state.rx_errors = se->rx_errors;
	ev.state.from_error_frames = se->from_error_frames;
	return libcand_queue_event(h, &ev, 0);
}

static int libcand_event_config(struct cand *h, const Cand__ConfigEvent *ce)
{
	struct cand_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = CAND_EVENT_CONFIG;
	libcand_pb_get_str(ev.ifname, sizeof(ev.ifname), ce->ifname);
	libcand_pb_get_str(ev.detail, sizeof(ev.detail), ce->detail);
	ev.config.controller = ce->config != NULL;
	libcand_pb_get_config(&ev.config.config, ce->config);
	libcand_pb_get_config(&ev.config.previous, ce->previous);
	ev.config.mtu = ce->mtu;
	ev.config.previous_mtu = ce->previous_mtu;
	return libcand_queue_event(h, &ev, 0);
}

static int libcand_event_drops(struct cand *h, const Cand__DropEvent *de)
{
	struct cand_event ev;

	if (de->kernel_drops > h->kernel_drops)
		h->kernel_drops = de->kernel_drops;
	memset(&ev, 0, sizeof(ev));
	ev.type = CAND_EVENT_DROPS;
	libcand_pb_get_str(ev.detail, sizeof(ev.detail), de->detail);
	ev.drops.kernel_drops = de->kernel_drops;
	ev.drops.dropped = de->dropped;
	ev.drops.slow_reader = de->slow_reader;
	return libcand_queue_event(h, &ev, 0);
}

/*
 * The task or monitor the daemon's id names on this connection, or NULL:
 * after a reconnection the daemon's ids are not the application's.
 */
struct cand_ref *libcand_event_ref(struct cand *h, enum cand_ref_kind kind,
				   uint32_t wire_id)
{
	struct cand_ref *r;

	for (r = h->refs; r != NULL; r = r->next)
		if (r->kind == kind && r->wire_id == wire_id &&
		    r->gen == h->gen)
			return r;
	return NULL;
}

static int libcand_event_task(struct cand *h, const Cand__TaskEvent *te)
{
	struct cand_ref *r = libcand_event_ref(h, CAND_REF_TASK, te->task_id);
	struct cand_event ev;

	if (r != NULL)
		r->state = CAND_TASK_EXPIRED;
	memset(&ev, 0, sizeof(ev));
	ev.type = CAND_EVENT_TASK_EXPIRED;
	ev.id = r != NULL ? r->id : te->task_id;
	ev.frame.timestamp_ns = te->timestamp_ns;
	return libcand_queue_event(h, &ev, 0);
}

/* A task whose duration ran out while the daemon was away. */
int libcand_event_expired(struct cand *h, const struct cand_ref *r)
{
	struct cand_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = CAND_EVENT_TASK_EXPIRED;
	ev.id = r->id;
	ev.frame.timestamp_ns = libcand_clock_ns(CLOCK_REALTIME);
	snprintf(ev.detail, sizeof(ev.detail),
		 "its duration ran out while the daemon was away");
	return libcand_queue_event(h, &ev, 0);
}

/*
 * The daemon answered on a new connection: the gap, from losing the old
 * one until now, is over. cand_recv() reports it as CAND_ERECONNECTED.
 */
int libcand_event_reconnected(struct cand *h)
{
	uint64_t gap = libcand_clock_ns(CLOCK_MONOTONIC) - h->lost_mono_ns;
	struct cand_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = CAND_EVENT_RECONNECTED;
	ev.reconnect.gap_ns = gap;
	ev.reconnect.lost_ns = h->lost_ns;
	ev.reconnect.shutdown = h->lost_shutdown;
	ev.frame.timestamp_ns = libcand_clock_ns(CLOCK_REALTIME);
	snprintf(ev.detail, sizeof(ev.detail),
		 "reconnected to the daemon, %s %llu.%03llu s ago: whatever "
		 "the bus carried in the gap is lost; the channel, tasks and "
		 "monitors are set up again",
		 h->lost_shutdown ? "which had shut down"
				  : "which had closed the connection",
		 (unsigned long long)(gap / 1000000000u),
		 (unsigned long long)(gap % 1000000000u / 1000000u));
	return libcand_queue_event(h, &ev, CAND_ERECONNECTED);
}

static int libcand_event_monitor(struct cand *h, const Cand__MonitorEvent *me)
{
	struct cand_ref *r =
		libcand_event_ref(h, CAND_REF_MONITOR, me->monitor_id);
	struct cand_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = me->kind == CAND__MONITOR_EVENT_KIND__MONITOR_TIMEOUT
			  ? CAND_EVENT_MONITOR_TIMEOUT
			  : CAND_EVENT_MONITOR_CHANGED;
	ev.id = r != NULL ? r->id : me->monitor_id;
	if (me->frame != NULL)
		libcand_pb_get_frame(&ev.frame, me->frame);
	libcand_pb_get_str(ev.frame.ifname, sizeof(ev.frame.ifname),
			   me->ifname);
	libcand_pb_get_str(ev.ifname, sizeof(ev.ifname), me->ifname);
	ev.frame.timestamp_ns = me->timestamp_ns;
	return libcand_queue_event(h, &ev, 0);
}

/* One Event from the daemon; 0, or a negative code when h died of it. */
int libcand_event_take(struct cand *h, const Cand__Event *ev)
{
	struct libcand_batch batch;

	switch (ev->ev_case) {
	case CAND__EVENT__EV_FRAMES:
		libcand_batch_from_pb(&batch, ev->frames);
		return libcand_queue_batch(h, &batch);
	case CAND__EVENT__EV_LINK:
		return libcand_event_link(h, ev->link);
	case CAND__EVENT__EV_TASK:
		return libcand_event_task(h, ev->task);
	case CAND__EVENT__EV_MONITOR:
		return libcand_event_monitor(h, ev->monitor);
	case CAND__EVENT__EV_STATE:
		return libcand_event_state(h, ev->state);
	case CAND__EVENT__EV_CONFIG:
		return libcand_event_config(h, ev->config);
	case CAND__EVENT__EV_DROPS:
		return libcand_event_drops(h, ev->drops);
	case CAND__EVENT__EV_RIGHTS:
		return libcand_event_rights(h, ev->rights);
	case CAND__EVENT__EV_SHUTDOWN:
		/* The last message: every call from now on says so. */
		if (h->dead == CAND_EDISCONNECTED)
			h->dead = 0; /* the EOF read ahead is its consequence */
		return libcand_err_lost(
			h, CAND_ESHUTDOWN, "%s",
			ev->shutdown->detail != NULL && ev->shutdown->detail[0]
				? ev->shutdown->detail
				: "the daemon is shutting down");
	default:
		return 0; /* from a newer daemon; nothing to do with it */
	}
}
