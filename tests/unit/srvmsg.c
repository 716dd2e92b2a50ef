/*
 * What the daemon sends, built for the tests of libcand's reader
 * (test_read.c) and of its reconnection (test_resume.c): framed messages
 * appended to a buffer, to be fed as if they came off the socket.
 */
#include <string.h>

#include "framepack.h"
#include "libcand_int.h"
#include "unit.h"
#include "wire.h"

void srvmsg_put(struct srvmsg_out *o, const Cand__ServerMsg *m)
{
	size_t n = cand__server_msg__get_packed_size(m);

	ck_assert_uint_le(o->len + CAND_WIRE_HDR + n, sizeof(o->buf));
	wire_put_len(o->buf + o->len, (uint32_t)n);
	cand__server_msg__pack(m, o->buf + o->len + CAND_WIRE_HDR);
	o->len += CAND_WIRE_HDR + n;
}

void srvmsg_event(struct srvmsg_out *o, Cand__Event *ev)
{
	Cand__ServerMsg m = CAND__SERVER_MSG__INIT;

	m.msg_case = CAND__SERVER_MSG__MSG_EVENT;
	m.event = ev;
	srvmsg_put(o, &m);
}

void srvmsg_reply(struct srvmsg_out *o, uint32_t id, Cand__Status status,
		  uint32_t created, const char *detail)
{
	Cand__ServerMsg m = CAND__SERVER_MSG__INIT;
	Cand__Reply r = CAND__REPLY__INIT;
	Cand__CreatedReply c = CAND__CREATED_REPLY__INIT;

	r.id = id;
	r.status = status;
	r.detail = (char *)detail;
	if (created != 0) {
		c.id = created;
		r.result_case = CAND__REPLY__RESULT_CREATED;
		r.created = &c;
	}
	m.msg_case = CAND__SERVER_MSG__MSG_REPLY;
	m.reply = &r;
	srvmsg_put(o, &m);
}

void srvmsg_batch(struct srvmsg_out *o, uint32_t format, uint32_t count,
		  uint64_t kernel_drops)
{
	static const uint8_t data[64] = {0x11, 0x22, 0x33, 0x44};
	static char *ifnames[] = {(char *)"vcan0", (char *)"vcan1"};
	struct framepack_rec r[3] = {
		{0x123, 4, 0, 0, 1000000000u, data},
		{0x1abcdef | FRAMEPACK_EFF | FRAMEPACK_RTR, 2, FRAMEPACK_LOCAL,
		 1, 2000000000u, NULL},
		{0x7ff, 64, FRAMEPACK_FD | FRAMEPACK_BRS, 0, 3000000000u, data},
	};
	uint8_t packed[3 * FRAMEPACK_MAX];
	Cand__Event ev = CAND__EVENT__INIT;
	Cand__FrameBatch b = CAND__FRAME_BATCH__INIT;
	size_t i, len = 0;

	for (i = 0; i < 3; i++)
		len += framepack_put(packed + len, &r[i]);
	b.format = format;
	b.count = count;
	b.packed.data = packed;
	b.packed.len = len;
	b.n_ifnames = 2;
	b.ifnames = ifnames;
	b.kernel_drops = kernel_drops;
	ev.ev_case = CAND__EVENT__EV_FRAMES;
	ev.frames = &b;
	srvmsg_event(o, &ev);
}

void srvmsg_check_batch(struct cand *h)
{
	struct cand_frame f;

	ck_assert_int_eq(libcand_queue_pop_frame(h, &f), 1);
	ck_assert_uint_eq(f.id, 0x123);
	ck_assert_uint_eq(f.flags, 0);
	ck_assert_uint_eq(f.len, 4);
	ck_assert_uint_eq(f.data[3], 0x44);
	ck_assert_uint_eq(f.data[4], 0);
	ck_assert_str_eq(f.ifname, "vcan0");
	ck_assert_uint_eq(f.timestamp_ns, 1000000000u);

	ck_assert_int_eq(libcand_queue_pop_frame(h, &f), 1);
	ck_assert_uint_eq(f.id, 0x1abcdef);
	ck_assert_uint_eq(f.flags, CAND_FRAME_EXTENDED | CAND_FRAME_REMOTE |
					   CAND_FRAME_LOCAL);
	ck_assert_uint_eq(f.len, 2);
	ck_assert_uint_eq(f.data[0], 0);
	ck_assert_str_eq(f.ifname, "vcan1");

	ck_assert_int_eq(libcand_queue_pop_frame(h, &f), 1);
	ck_assert_uint_eq(f.id, 0x7ff);
	ck_assert_uint_eq(f.flags, CAND_FRAME_FD | CAND_FRAME_BRS);
	ck_assert_uint_eq(f.len, 64);
	ck_assert_str_eq(f.ifname, "vcan0");
	ck_assert_uint_eq(f.timestamp_ns, 3000000000u);
}
