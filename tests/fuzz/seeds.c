/*
 * The binary seeds of the fuzz targets that read protobuf: what a client
 * sends, framed as on the wire (corpus/conn: every kind of request, and
 * the framing's edge cases), its frames and filters alone (corpus/frames,
 * behind fuzz_frames.c's first byte), and, in seeds_server.c, what a
 * daemon sends (corpus/reader: every reply and event, behind
 * fuzz_reader.c's). `make fuzz-seeds` writes them into tests/fuzz/corpus/;
 * the files are in the repository, so this runs only when the protocol
 * grows.
 *
 *   fuzz-seeds DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "framepack.h"
#include "seeds.h"
#include "wire.h"

void seeds_raw(struct seeds_out *o, const void *p, size_t n)
{
	if (o->len + n > sizeof(o->buf)) {
		fprintf(stderr, "fuzz-seeds: a seed over %d bytes\n",
			SEEDS_MAX);
		exit(1);
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

/* One message with its length, as both sides write them. */
void seeds_msg(struct seeds_out *o, const ProtobufCMessage *m)
{
	uint8_t hdr[CAND_WIRE_HDR], body[SEEDS_MAX];
	size_t n = protobuf_c_message_get_packed_size(m);

	if (n > sizeof(body)) {
		fprintf(stderr, "fuzz-seeds: a message over %d bytes\n",
			SEEDS_MAX);
		exit(1);
	}
	protobuf_c_message_pack(m, body);
	wire_put_len(hdr, (uint32_t)n);
	seeds_raw(o, hdr, sizeof(hdr));
	seeds_raw(o, body, n);
}

void seeds_write(const char *target, const char *name, struct seeds_out *o)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/seed-%s", o->dir, target, name);
	if ((f = fopen(path, "wb")) == NULL ||
	    fwrite(o->buf, 1, o->len, f) != o->len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
	o->len = 0;
	o->next_id = 0;
}

/* ---- requests (corpus/conn) ---- */

static void seeds_req(struct seeds_out *o, Cand__Request *r)
{
	r->id = ++o->next_id;
	seeds_msg(o, &r->base);
}

static void seeds_open(struct seeds_out *o, const char *channel, int fd)
{
	Cand__Request r = CAND__REQUEST__INIT;
	Cand__OpenRequest op = CAND__OPEN_REQUEST__INIT;
	Cand__Filter f[3] = {CAND__FILTER__INIT, CAND__FILTER__INIT,
			     CAND__FILTER__INIT};
	Cand__Filter *fp[3] = {&f[0], &f[1], &f[2]};

	f[0].id = 0x123;
	f[0].mask = 0x7ff;
	f[0].kind = CAND__FILTER_KIND__STANDARD;
	f[1].id = 0x18da00f1;
	f[1].mask = 0x1fffff00;
	f[1].kind = CAND__FILTER_KIND__EXTENDED;
	f[1].invert = 1;
	f[2].mask = 0;
	op.channel = (char *)channel;
	op.fd = fd;
	op.receive_own_messages = fd;
	op.ignore_rx_error_frames = !fd;
	op.n_filters = 3;
	op.filters = fp;
	r.op_case = CAND__REQUEST__OP_OPEN;
	r.open = &op;
	seeds_req(o, &r);
}

void seeds_frames(Cand__Frame *f, Cand__Frame **fp, size_t n,
		  const char *ifname)
{
	static uint8_t data[64] = {0xde, 0xad, 0xbe, 0xef};
	size_t i;

	for (i = 0; i < n; i++) {
		cand__frame__init(&f[i]);
		fp[i] = &f[i];
		f[i].id = 0x123;
		f[i].data.data = data;
		f[i].data.len = 4;
		f[i].ifname = (char *)ifname;
	}
	if (n > 1) {
		f[1].id = 0x18da00f1;
		f[1].extended = 1;
		f[1].fd = 1;
		f[1].brs = 1;
		f[1].data.len = 12;
	}
	if (n > 2) {
		f[2].remote = 1;
		f[2].dlc = 8;
		f[2].data.len = 0;
	}
	if (n > 3) {
		f[3].error = 1;
		f[3].id = 0x4;
		f[3].data.len = 8;
	}
}

/*
 * SendRequest.packed: a record of every kind, into buf (SEEDS_PACKED
 * bytes); with names, on the "" channel, naming vcan0 and vcan1.
 */
#define SEEDS_PACKED (5 * FRAMEPACK_MAX)
static void seeds_packed(Cand__SendRequest *s, uint8_t *buf, int names)
{
	static char *ifnames[] = {"vcan0", "vcan1"};
	static const uint8_t data[64] = {0xde, 0xad, 0xbe, 0xef};
	const struct framepack_rec recs[] = {
		{.can_id = 0x123, .len = 4, .data = data},
		{.can_id = 0x18da00f1 | FRAMEPACK_EFF,
		 .len = 12,
		 .flags = FRAMEPACK_FD | FRAMEPACK_BRS,
		 .ifname = 1,
		 .data = data},
		{.can_id = 0x123 | FRAMEPACK_RTR, .len = 8},
		{.can_id = 0x4 | FRAMEPACK_ERR, .len = 8, .data = data},
		{.can_id = 0x7ff,
		 .len = 64,
		 .flags = FRAMEPACK_FD | FRAMEPACK_ESI,
		 .ifname = 1,
		 .data = data},
	};
	size_t i, off = 0;

	for (i = 0; i < sizeof(recs) / sizeof(recs[0]); i++) {
		struct framepack_rec r = recs[i];

		r.ifname = names ? r.ifname : 0;
		off += framepack_put(buf + off, &r);
	}
	s->packed.data = buf;
	s->packed.len = off;
	s->ifnames = names ? ifnames : NULL;
	s->n_ifnames = names ? 2 : 0;
}

static void seeds_send(struct seeds_out *o, size_t n, const char *ifname)
{
	Cand__Request r = CAND__REQUEST__INIT;
	Cand__SendRequest s = CAND__SEND_REQUEST__INIT;
	Cand__Frame f[64], *fp[64];

	seeds_frames(f, fp, n, ifname);
	s.frames = fp;
	s.n_frames = n;
	s.timeout_ms = 100;
	r.op_case = CAND__REQUEST__OP_SEND;
	r.send = &s;
	seeds_req(o, &r);
}

static void seeds_simple(struct seeds_out *o, Cand__Request__OpCase op)
{
	Cand__Request r = CAND__REQUEST__INIT;
	Cand__ListRequest empty = CAND__LIST_REQUEST__INIT;
	Cand__FlushTxRequest flush = CAND__FLUSH_TX_REQUEST__INIT;
	Cand__TaskStopAllRequest stop = CAND__TASK_STOP_ALL_REQUEST__INIT;
	Cand__TaskListRequest list = CAND__TASK_LIST_REQUEST__INIT;
	Cand__SetFiltersRequest filters = CAND__SET_FILTERS_REQUEST__INIT;

	r.op_case = op;
	r.list = &empty;
	if (op == CAND__REQUEST__OP_FLUSH_TX)
		r.flush_tx = &flush;
	else if (op == CAND__REQUEST__OP_TASK_STOP_ALL)
		r.task_stop_all = &stop;
	else if (op == CAND__REQUEST__OP_TASK_LIST)
		r.task_list = &list;
	else if (op == CAND__REQUEST__OP_SET_FILTERS)
		r.set_filters = &filters;
	seeds_req(o, &r);
}

static void seeds_named(struct seeds_out *o, Cand__Request__OpCase op,
			const char *ifname, int off)
{
	Cand__Request r = CAND__REQUEST__INIT;
	Cand__StateRequest st = CAND__STATE_REQUEST__INIT;
	Cand__RestartRequest re = CAND__RESTART_REQUEST__INIT;
	Cand__SubscribeRequest sub = CAND__SUBSCRIBE_REQUEST__INIT;
	Cand__ConfigureRequest conf = CAND__CONFIGURE_REQUEST__INIT;

	r.op_case = op;
	st.ifname = re.ifname = sub.ifname = conf.ifname = (char *)ifname;
	sub.off = off;
	conf.bitrate = 250000;
	conf.sample_point = 875;
	conf.set_restart_ms = 1;
	conf.restart_ms = 100;
	conf.ctrlmode_mask = 0x12;
	conf.ctrlmode_flags = 0x10;
	conf.link = CAND__LINK_CHANGE__LINK_UP;
	if (op == CAND__REQUEST__OP_STATE)
		r.state = &st;
	else if (op == CAND__REQUEST__OP_RESTART)
		r.restart = &re;
	else if (op == CAND__REQUEST__OP_SUBSCRIBE)
		r.subscribe = &sub;
	else
		r.configure = &conf;
	seeds_req(o, &r);
}

static void seeds_ref(struct seeds_out *o, Cand__Request__OpCase op,
		      uint32_t id)
{
	Cand__Request r = CAND__REQUEST__INIT;
	Cand__IdRef ref = CAND__ID_REF__INIT;

	ref.id = id;
	r.op_case = op;
	r.task_stop = &ref; /* every IdRef op shares the oneof's storage */
	seeds_req(o, &r);
}

static void seeds_tasks(struct seeds_out *o)
{
	Cand__Request r = CAND__REQUEST__INIT;
	Cand__TaskStartRequest ts = CAND__TASK_START_REQUEST__INIT;
	Cand__TaskModifyRequest tm = CAND__TASK_MODIFY_REQUEST__INIT;
	Cand__MonitorStartRequest ms = CAND__MONITOR_START_REQUEST__INIT;
	Cand__Frame f[2], *fp[2];
	uint8_t m0[2] = {0xff, 0x00}, m1[2] = {0x01, 0xf0};
	ProtobufCBinaryData masks[2] = {{2, m0}, {2, m1}};

	seeds_frames(f, fp, 2, "");
	f[1] = f[0];
	ts.frames = tm.frames = fp;
	ts.n_frames = tm.n_frames = 2;
	ts.period_us = 100000;
	ts.duration_us = 1000000;
	r.op_case = CAND__REQUEST__OP_TASK_START;
	r.task_start = &ts;
	seeds_req(o, &r);
	tm.task_id = 1;
	r.op_case = CAND__REQUEST__OP_TASK_MODIFY;
	r.task_modify = &tm;
	seeds_req(o, &r);
	seeds_ref(o, CAND__REQUEST__OP_TASK_STOP, 1);
	seeds_ref(o, CAND__REQUEST__OP_TASK_RESUME, 1);
	seeds_ref(o, CAND__REQUEST__OP_TASK_REMOVE, 1);
	seeds_simple(o, CAND__REQUEST__OP_TASK_STOP_ALL);
	seeds_simple(o, CAND__REQUEST__OP_TASK_LIST);

	ms.id = 0x123;
	ms.masks = masks;
	ms.n_masks = 2;
	ms.timeout_us = 500000;
	ms.throttle_us = 10000;
	ms.check_dlc = 1;
	r.op_case = CAND__REQUEST__OP_MONITOR_START;
	r.monitor_start = &ms;
	seeds_req(o, &r);
	ms.n_masks = 0;
	ms.rtr_reply = &f[0];
	ms.ifname = (char *)"vcan0";
	seeds_req(o, &r);
	seeds_ref(o, CAND__REQUEST__OP_MONITOR_STOP, 1);
}

static void seeds_conn(struct seeds_out *o)
{
	static const uint8_t junk[] = {0, 0, 0, 3, 0xff, 0xff, 0xff};
	static const uint8_t huge[] = {0, 0, 0x13, 0x88}; /* 5000 > 4K */
	static const uint8_t zero[] = {0, 0, 0, 0};
	static const uint8_t over[] = {0, 0x10, 0, 1}; /* CAND_MAX_MSG + 1 */
	static uint8_t body[5000], packed[SEEDS_PACKED];
	Cand__Request none = CAND__REQUEST__INIT, r = CAND__REQUEST__INIT;
	Cand__SendRequest s = CAND__SEND_REQUEST__INIT;

	seeds_open(o, "vcan0", 1);
	seeds_send(o, 4, "");
	seeds_simple(o, CAND__REQUEST__OP_SET_FILTERS);
	seeds_simple(o, CAND__REQUEST__OP_FLUSH_TX);
	seeds_write("conn", "open-vcan0", o);
	seeds_open(o, "", 0);
	seeds_send(o, 2, "vcan0");
	seeds_write("conn", "open-any", o);
	seeds_open(o, "lo", 0);
	seeds_open(o, "lo", 0);
	seeds_write("conn", "open-lo", o);
	seeds_send(o, 1, "");
	seeds_tasks(o);
	seeds_write("conn", "no-channel", o);
	seeds_simple(o, CAND__REQUEST__OP_LIST);
	seeds_named(o, CAND__REQUEST__OP_STATE, "", 0);
	seeds_named(o, CAND__REQUEST__OP_STATE, "can1", 0);
	seeds_named(o, CAND__REQUEST__OP_SUBSCRIBE, "vcan0", 0);
	seeds_named(o, CAND__REQUEST__OP_SUBSCRIBE, "", 1);
	seeds_write("conn", "bus", o);
	seeds_named(o, CAND__REQUEST__OP_CONFIGURE, "can1", 0);
	seeds_named(o, CAND__REQUEST__OP_RESTART, "can1", 0);
	seeds_named(o, CAND__REQUEST__OP_CONFIGURE, "vcan0", 0);
	seeds_write("conn", "configure", o);
	seeds_req(o, &none);
	seeds_raw(o, junk, sizeof(junk));
	seeds_simple(o, CAND__REQUEST__OP_LIST);
	seeds_write("conn", "undecodable", o);
	seeds_raw(o, huge, sizeof(huge));
	seeds_raw(o, body, sizeof(body));
	seeds_simple(o, CAND__REQUEST__OP_LIST);
	seeds_write("conn", "over-max-message-size", o);
	seeds_simple(o, CAND__REQUEST__OP_LIST);
	seeds_raw(o, zero, sizeof(zero));
	seeds_write("conn", "length-zero", o);
	seeds_simple(o, CAND__REQUEST__OP_LIST);
	seeds_raw(o, over, sizeof(over));
	seeds_write("conn", "length-over-limit", o);
	seeds_open(o, "vcan0", 0);
	seeds_send(o, 64, "");
	seeds_write("conn", "send-64", o);
	seeds_open(o, "", 0);
	seeds_packed(&s, packed, 1);
	s.timeout_ms = 100;
	r.op_case = CAND__REQUEST__OP_SEND;
	r.send = &s;
	seeds_req(o, &r);
	seeds_write("conn", "send-packed", o);
}

/* One message alone behind a mode byte, as fuzz_frames.c reads it. */
static void seeds_bare(struct seeds_out *o, uint8_t mode,
		       const ProtobufCMessage *m)
{
	uint8_t body[SEEDS_MAX];
	size_t n = protobuf_c_message_get_packed_size(m);

	seeds_raw(o, &mode, 1);
	protobuf_c_message_pack(m, body);
	seeds_raw(o, body, n);
}

static void seeds_frames_corpus(struct seeds_out *o)
{
	Cand__SendRequest s = CAND__SEND_REQUEST__INIT;
	Cand__TaskStartRequest ts = CAND__TASK_START_REQUEST__INIT;
	Cand__SetFiltersRequest sf = CAND__SET_FILTERS_REQUEST__INIT;
	Cand__Filter f[3] = {CAND__FILTER__INIT, CAND__FILTER__INIT,
			     CAND__FILTER__INIT};
	Cand__Filter *fp[3] = {&f[0], &f[1], &f[2]};
	Cand__Frame fr[4], *frp[4];
	uint8_t packed[SEEDS_PACKED];

	seeds_frames(fr, frp, 4, "vcan0");
	s.frames = frp;
	s.n_frames = 4;
	seeds_bare(o, 0x00, &s.base); /* channel "", no FD */
	seeds_write("frames", "send", o);
	seeds_bare(o, 0x14, &s.base); /* vcan0, FD */
	seeds_write("frames", "send-fd-vcan0", o);
	s.frames = NULL;
	s.n_frames = 0;
	seeds_packed(&s, packed, 1);
	seeds_bare(o, 0x10, &s.base); /* "", FD */
	seeds_write("frames", "send-packed", o);
	seeds_packed(&s, packed, 0);
	seeds_bare(o, 0x14, &s.base); /* vcan0, FD */
	seeds_write("frames", "send-packed-fd-vcan0", o);
	ts.frames = frp;
	ts.n_frames = 1;
	ts.period_us = 1000;
	ts.duration_us = 1000000;
	seeds_bare(o, 0x19, &ts.base); /* can1, FD */
	seeds_write("frames", "task", o);
	f[0].id = 0x123;
	f[0].mask = 0x7ff;
	f[1].id = 0x18da00f1;
	f[1].mask = 0x1fffffff;
	f[1].kind = CAND__FILTER_KIND__EXTENDED;
	f[1].invert = 1;
	f[2].kind = CAND__FILTER_KIND__STANDARD;
	sf.filters = fp;
	sf.n_filters = 3;
	seeds_bare(o, 0x02, &sf.base);
	seeds_write("frames", "filters", o);
}

int main(int argc, char **argv)
{
	struct seeds_out *o;

	if (argc != 2) {
		fprintf(stderr, "usage: fuzz-seeds DIR\n");
		return 2;
	}
	if ((o = calloc(1, sizeof(*o))) == NULL)
		return 1;
	o->dir = argv[1];
	seeds_conn(o);
	seeds_frames_corpus(o);
	seeds_server_all(o);
	free(o);
	return 0;
}
