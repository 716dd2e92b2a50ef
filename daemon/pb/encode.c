/*
 * Between protobuf and the operations' plain types: requests' frames and
 * filters in, and out the output queue's encoder, which writes batches of
 * received frames and events as ServerMsgs straight into a client's
 * output buffer. A batch becomes packed records (proto/framepack.h) in a
 * buffer allocated once, carried in one bytes field: no malloc and no
 * per-frame protobuf work on the frame path.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "framepack.h"
#include "pb/pb.h"
#include "wire.h"

/* The plain enums keep the protocol's numbers. */
#define ENCODE_SAME(a, b) ((int)(a) == (int)(b))
_Static_assert(ENCODE_SAME(BUS_STATE_NONE,
			   CAND__CAN_STATE__STATE_NOT_APPLICABLE) &&
		       ENCODE_SAME(BUS_STATE_ERROR_ACTIVE,
				   CAND__CAN_STATE__STATE_ERROR_ACTIVE) &&
		       ENCODE_SAME(BUS_STATE_ERROR_WARNING,
				   CAND__CAN_STATE__STATE_ERROR_WARNING) &&
		       ENCODE_SAME(BUS_STATE_ERROR_PASSIVE,
				   CAND__CAN_STATE__STATE_ERROR_PASSIVE) &&
		       ENCODE_SAME(BUS_STATE_BUS_OFF,
				   CAND__CAN_STATE__STATE_BUS_OFF) &&
		       ENCODE_SAME(BUS_STATE_STOPPED,
				   CAND__CAN_STATE__STATE_STOPPED) &&
		       ENCODE_SAME(BUS_STATE_SLEEPING,
				   CAND__CAN_STATE__STATE_SLEEPING),
	       "enum bus_state is proto CanState");
_Static_assert(ENCODE_SAME(FILTER_ANY, CAND__FILTER_KIND__ANY) &&
		       ENCODE_SAME(FILTER_STANDARD,
				   CAND__FILTER_KIND__STANDARD) &&
		       ENCODE_SAME(FILTER_EXTENDED,
				   CAND__FILTER_KIND__EXTENDED),
	       "enum filter_kind is proto FilterKind");
_Static_assert(ENCODE_SAME(TASK_RUNNING, CAND__TASK_STATE__TASK_RUNNING) &&
		       ENCODE_SAME(TASK_STOPPED,
				   CAND__TASK_STATE__TASK_STOPPED) &&
		       ENCODE_SAME(TASK_EXPIRED,
				   CAND__TASK_STATE__TASK_EXPIRED),
	       "enum task_state is proto TaskState");
_Static_assert(ENCODE_SAME(LINK_UNCHANGED, CAND__LINK_CHANGE__LINK_UNCHANGED) &&
		       ENCODE_SAME(LINK_UP, CAND__LINK_CHANGE__LINK_UP) &&
		       ENCODE_SAME(LINK_DOWN, CAND__LINK_CHANGE__LINK_DOWN),
	       "enum link_change is proto LinkChange");
_Static_assert(ENCODE_SAME(IFACE_OTHER, CAND__IFACE_TYPE__OTHER) &&
		       ENCODE_SAME(IFACE_VIRTUAL, CAND__IFACE_TYPE__VIRTUAL) &&
		       ENCODE_SAME(IFACE_HARDWARE, CAND__IFACE_TYPE__HARDWARE),
	       "enum iface_type is proto IfaceType");

/*
 * The encoder's records, reused for every batch: each frame of a read is
 * packed once, into the slot of its place in the read, and copied from
 * there into the output of every client that takes it.
 */
struct pb_scratch {
	uint8_t rec[RAW_BATCH][FRAMEPACK_MAX];
	uint8_t rec_len[RAW_BATCH];
	uint64_t rec_read[RAW_BATCH]; /* the read a slot holds; 0: none */
	char *ifnames[RAW_BATCH];     /* the batch's names, as records index */
	int ifindexes[RAW_BATCH];
	uint8_t name_of[RAW_BATCH]; /* each frame's index into ifnames */
};

int encode_init(struct cand_ctx *ctx)
{
	ctx->pb_scratch = calloc(1, sizeof(*ctx->pb_scratch));
	return ctx->pb_scratch != NULL ? 0 : -ENOMEM;
}

void encode_free(struct cand_ctx *ctx)
{
	free(ctx->pb_scratch);
	ctx->pb_scratch = NULL;
}

int encode_msg(struct outq *q, const Cand__ServerMsg *msg)
{
	size_t len = protobuf_c_message_get_packed_size(&msg->base);
	struct evbuffer_iovec vec;

	/* Pack straight into the output buffer: no copy, no malloc. */
	if (evbuffer_reserve_space(q->buf, CAND_WIRE_HDR + len, &vec, 1) < 1)
		return -ENOMEM;
	wire_put_len(vec.iov_base, (uint32_t)len);
	protobuf_c_message_pack(&msg->base,
				(uint8_t *)vec.iov_base + CAND_WIRE_HDR);
	vec.iov_len = CAND_WIRE_HDR + len;
	if (evbuffer_commit_space(q->buf, &vec, 1) < 0)
		return -ENOMEM;
	return 0;
}

static int encode_event_msg(struct outq *q, Cand__Event *ev)
{
	Cand__ServerMsg msg = CAND__SERVER_MSG__INIT;

	msg.msg_case = CAND__SERVER_MSG__MSG_EVENT;
	msg.event = ev;
	return encode_msg(q, &msg);
}

/* The batch's index of the name of ifindex, adding it on first sight. */
static uint8_t encode_batch_ifname(struct pb_scratch *s, size_t *n,
				   const struct rx_frame *rx)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (s->ifindexes[i] == rx->ifindex)
			return (uint8_t)i;
	s->ifindexes[i] = rx->ifindex;
	s->ifnames[i] = (char *)rx->ifname;
	(*n)++;
	return (uint8_t)i;
}

/* Packs rx into slot (unless it holds it already); the record's size. */
static size_t encode_record(struct pb_scratch *s, size_t slot,
			    const struct rx_frame *rx, uint64_t read_id)
{
	const struct canfd_frame *cf = rx->cf;
	struct framepack_rec rec = {
		.can_id = cf->can_id,
		.len = cf->len,
		.data = (cf->can_id & CAN_RTR_FLAG) ? NULL : cf->data,
		.timestamp_ns = rx->timestamp_ns,
	};

	if (read_id != 0 && s->rec_read[slot] == read_id)
		return s->rec_len[slot];
	if (rx->is_fd)
		rec.flags = FRAMEPACK_FD |
			    ((cf->flags & CANFD_BRS) ? FRAMEPACK_BRS : 0) |
			    ((cf->flags & CANFD_ESI) ? FRAMEPACK_ESI : 0);
	if (rx->local)
		rec.flags |= FRAMEPACK_LOCAL;
	/* Own and the name's index differ per client: set when copied. */
	s->rec_len[slot] = (uint8_t)framepack_put(s->rec[slot], &rec);
	s->rec_read[slot] = read_id;
	return s->rec_len[slot];
}

static size_t encode_varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static uint8_t *encode_varint(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

/* A length-delimited field's tag and length. */
static uint8_t *encode_ld(uint8_t *p, unsigned field, size_t len)
{
	*p++ = (uint8_t)(field << 3 | 2);
	return encode_varint(p, len);
}

static size_t encode_ld_len(size_t len)
{
	return 1 + encode_varint_len(len) + len;
}

/*
 * ServerMsg{event: Event{frames: FrameBatch}}, written by hand: its few
 * varints and the records, byte for byte what protobuf-c would pack
 * (tests/unit/test_encode.c compares), without building the messages or
 * walking their descriptors for every client of every read.
 */
int encode_frames(struct outq *q, const struct rx_batch *b)
{
	struct pb_scratch *s = q->ctx->pb_scratch;
	size_t i, slot, n_names, packed = 0, names = 0, fb, ev, msg;
	struct evbuffer_iovec vec;
	uint8_t *p;

	/* A bound channel's batches name only it, at index 0. */
	n_names = b->ifname != NULL;
	s->ifnames[0] = (char *)b->ifname;
	for (i = 0; i < b->count; i++) {
		slot = b->read_id != 0 ? b->frames[i].idx : i;
		packed += encode_record(s, slot, &b->frames[i], b->read_id);
		s->name_of[i] = b->ifname == NULL
					? encode_batch_ifname(s, &n_names,
							      &b->frames[i])
					: 0;
	}
	for (i = 0; i < n_names; i++)
		names += encode_ld_len(strlen(s->ifnames[i]));
	fb = (b->kernel_drops ? 1 + encode_varint_len(b->kernel_drops) : 0) +
	     2 + (b->count ? 1 + encode_varint_len(b->count) : 0) + names +
	     (packed ? encode_ld_len(packed) : 0);
	ev = encode_ld_len(fb);
	msg = encode_ld_len(ev);
	if (evbuffer_reserve_space(q->buf, CAND_WIRE_HDR + msg, &vec, 1) < 1)
		return -ENOMEM;
	p = vec.iov_base;
	wire_put_len(p, (uint32_t)msg);
	p = encode_ld(p + CAND_WIRE_HDR, 2, ev); /* ServerMsg.event */
	p = encode_ld(p, 1, fb);		 /* Event.frames */
	if (b->kernel_drops) {
		*p++ = 2 << 3; /* FrameBatch.kernel_drops */
		p = encode_varint(p, b->kernel_drops);
	}
	*p++ = 3 << 3; /* .format */
	*p++ = FRAMEPACK_FORMAT;
	if (b->count) {
		*p++ = 4 << 3; /* .count */
		p = encode_varint(p, b->count);
	}
	for (i = 0; i < n_names; i++) {
		size_t len = strlen(s->ifnames[i]);

		p = encode_ld(p, 5, len); /* .ifnames */
		memcpy(p, s->ifnames[i], len);
		p += len;
	}
	if (packed)
		p = encode_ld(p, 6, packed); /* .packed */
	for (i = 0; i < b->count; i++) {
		slot = b->read_id != 0 ? b->frames[i].idx : i;
		memcpy(p, s->rec[slot], s->rec_len[slot]);
		if (b->frames[i].own)
			p[5] |= FRAMEPACK_OWN;
		p[6] = s->name_of[i];
		p += s->rec_len[slot];
	}
	vec.iov_len = CAND_WIRE_HDR + msg;
	if (evbuffer_commit_space(q->buf, &vec, 1) < 0)
		return -ENOMEM;
	return 0;
}

void encode_frame_pb(const struct canfd_frame *cf, int is_fd, Cand__Frame *f)
{
	struct frame_desc d;

	frame_to_desc(cf, is_fd, &d);
	f->id = d.id;
	f->extended = d.extended;
	f->remote = d.remote;
	f->error = d.error;
	f->fd = d.fd;
	f->brs = d.brs;
	f->esi = d.esi;
	f->dlc = d.dlc;
	f->data.data = (uint8_t *)d.data;
	f->data.len = d.len;
}

void encode_bus_config(Cand__BusConfig *pb, const struct bus_config *c)
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

static int encode_monitor(struct outq *q, const struct evt *e)
{
	Cand__Event ev = CAND__EVENT__INIT;
	Cand__MonitorEvent me = CAND__MONITOR_EVENT__INIT;
	Cand__Frame f = CAND__FRAME__INIT;

	me.monitor_id = e->u.monitor.id;
	me.timestamp_ns = e->u.monitor.timestamp_ns;
	me.ifname = (char *)e->u.monitor.ifname;
	if (e->u.monitor.timeout) {
		me.kind = CAND__MONITOR_EVENT_KIND__MONITOR_TIMEOUT;
	} else {
		encode_frame_pb(e->u.monitor.frame, e->u.monitor.is_fd, &f);
		f.ifname = me.ifname;
		f.timestamp_ns = me.timestamp_ns;
		me.kind = CAND__MONITOR_EVENT_KIND__MONITOR_CHANGED;
		me.frame = &f;
	}
	ev.ev_case = CAND__EVENT__EV_MONITOR;
	ev.monitor = &me;
	return encode_event_msg(q, &ev);
}

static int encode_link(struct outq *q, const struct evt *e)
{
	Cand__Event ev = CAND__EVENT__INIT;
	Cand__LinkEvent le = CAND__LINK_EVENT__INIT;

	le.ifname = (char *)e->u.link.ifname;
	le.ifindex = e->u.link.ifindex;
	le.up = e->u.link.up;
	le.running = e->u.link.running;
	le.removed = e->u.link.removed;
	le.appeared = e->u.link.appeared;
	le.rebound = e->u.link.rebound;
	le.status = dispatch_status_from_errno(e->u.link.err);
	le.detail = (char *)e->detail;
	ev.ev_case = CAND__EVENT__EV_LINK;
	ev.link = &le;
	return encode_event_msg(q, &ev);
}

static int encode_state(struct outq *q, const struct evt *e)
{
	Cand__Event ev = CAND__EVENT__INIT;
	Cand__StateEvent se = CAND__STATE_EVENT__INIT;

	se.ifname = (char *)e->u.state.ifname;
	se.state = (Cand__CanState)e->u.state.state;
	se.previous = (Cand__CanState)e->u.state.previous;
	se.has_error_counters = e->u.state.has_counters;
	se.tx_errors = e->u.state.tx_errors;
	se.rx_errors = e->u.state.rx_errors;
	se.from_error_frames = e->u.state.from_error_frames;
	se.detail = (char *)e->detail;
	ev.ev_case = CAND__EVENT__EV_STATE;
	ev.state = &se;
	return encode_event_msg(q, &ev);
}

static int encode_config(struct outq *q, const struct evt *e)
{
	Cand__Event ev = CAND__EVENT__INIT;
	Cand__ConfigEvent ce = CAND__CONFIG_EVENT__INIT;
	Cand__BusConfig now, before;

	ce.ifname = (char *)e->u.config.ifname;
	ce.mtu = e->u.config.mtu;
	ce.previous_mtu = e->u.config.previous_mtu;
	if (e->u.config.now != NULL) {
		encode_bus_config(&now, e->u.config.now);
		encode_bus_config(&before, e->u.config.before);
		ce.config = &now;
		ce.previous = &before;
	}
	ce.detail = (char *)e->detail;
	ev.ev_case = CAND__EVENT__EV_CONFIG;
	ev.config = &ce;
	return encode_event_msg(q, &ev);
}

static int encode_rights(struct outq *q, const struct evt *e)
{
	Cand__Event ev = CAND__EVENT__INIT;
	Cand__RightsEvent re = CAND__RIGHTS_EVENT__INIT;
	char *names[RIGHT_OPEN];
	int r;

	for (r = RIGHT_READ; r <= RIGHT_ADMIN; r++)
		if (e->u.rights.revoked & POLICY_RIGHT_BIT(r))
			names[re.n_revoked++] = (char *)policy_right_name(r);
	re.status = CAND__STATUS__PERMISSION_DENIED;
	re.detail = (char *)e->detail;
	re.revoked = names;
	ev.ev_case = CAND__EVENT__EV_RIGHTS;
	ev.rights = &re;
	return encode_event_msg(q, &ev);
}

int encode_event(struct outq *q, const struct evt *e)
{
	Cand__Event ev = CAND__EVENT__INIT;
	Cand__DropEvent de = CAND__DROP_EVENT__INIT;
	Cand__TaskEvent te = CAND__TASK_EVENT__INIT;
	Cand__ShutdownEvent sd = CAND__SHUTDOWN_EVENT__INIT;

	switch (e->kind) {
	case EVT_DROPS:
		de.kernel_drops = e->u.drops.total;
		de.dropped = e->u.drops.dropped;
		de.slow_reader = e->u.drops.slow_reader;
		de.detail = (char *)e->detail;
		ev.ev_case = CAND__EVENT__EV_DROPS;
		ev.drops = &de;
		break;
	case EVT_TASK:
		te.task_id = e->u.task.id;
		te.timestamp_ns = e->u.task.timestamp_ns;
		ev.ev_case = CAND__EVENT__EV_TASK;
		ev.task = &te;
		break;
	case EVT_MONITOR:
		return encode_monitor(q, e);
	case EVT_LINK:
		return encode_link(q, e);
	case EVT_STATE:
		return encode_state(q, e);
	case EVT_CONFIG:
		return encode_config(q, e);
	case EVT_RIGHTS:
		return encode_rights(q, e);
	case EVT_SHUTDOWN:
		sd.detail = (char *)e->detail;
		ev.ev_case = CAND__EVENT__EV_SHUTDOWN;
		ev.shutdown = &sd;
		break;
	default:
		return -EINVAL;
	}
	return encode_event_msg(q, &ev);
}

void encode_frame_desc(const Cand__Frame *f, struct frame_desc *d)
{
	memset(d, 0, sizeof(*d));
	d->id = f->id;
	d->extended = f->extended;
	d->remote = f->remote;
	d->error = f->error;
	d->fd = f->fd;
	d->brs = f->brs;
	d->esi = f->esi;
	d->dlc = f->dlc;
	d->data = f->data.data;
	d->len = f->data.len;
	d->ifname = f->ifname;
}

int encode_frame_descs(Cand__Frame **frames, size_t n, struct frame_desc **out)
{
	size_t i;

	/* One element at least, so that no frames is not out of memory. */
	*out = calloc(n ? n : 1, sizeof(**out));
	if (*out == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		encode_frame_desc(frames[i], &(*out)[i]);
	return 0;
}

int encode_filter_descs(Cand__Filter **filters, size_t n,
			struct filter_desc **out)
{
	size_t i;

	*out = calloc(n ? n : 1, sizeof(**out));
	if (*out == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		(*out)[i].id = filters[i]->id;
		(*out)[i].mask = filters[i]->mask;
		(*out)[i].kind = (enum filter_kind)filters[i]->kind;
		(*out)[i].invert = filters[i]->invert;
	}
	return 0;
}
