/*
 * The daemon's request path without CAN: a client on one end of a
 * socketpair, requests fed to dispatch, replies read back off the wire.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "framepack.h"
#include "unit.h"
#include "wire.h"

START_TEST(test_request_roundtrip)
{
	Cand__Request req = CAND__REQUEST__INIT, *out;
	Cand__SendRequest send = CAND__SEND_REQUEST__INIT;
	Cand__Frame f = CAND__FRAME__INIT, *fp = &f;
	uint8_t data[] = {0xde, 0xad, 0xbe, 0xef};
	uint8_t buf[256];
	size_t len;

	f.id = 0x1f334455;
	f.extended = 1;
	f.data.data = data;
	f.data.len = sizeof(data);
	f.ifname = "vcan0";
	send.frames = &fp;
	send.n_frames = 1;
	send.timeout_ms = 250;
	req.id = 77;
	req.op_case = CAND__REQUEST__OP_SEND;
	req.send = &send;
	len = cand__request__pack(&req, buf);
	out = cand__request__unpack(NULL, len, buf);
	ck_assert_ptr_nonnull(out);
	ck_assert_uint_eq(out->id, 77);
	ck_assert_int_eq(out->op_case, CAND__REQUEST__OP_SEND);
	ck_assert_uint_eq(out->send->timeout_ms, 250);
	ck_assert_uint_eq(out->send->n_frames, 1);
	ck_assert_uint_eq(out->send->frames[0]->id, 0x1f334455);
	ck_assert(out->send->frames[0]->extended);
	ck_assert_mem_eq(out->send->frames[0]->data.data, data, 4);
	ck_assert_str_eq(out->send->frames[0]->ifname, "vcan0");
	cand__request__free_unpacked(out, NULL);
}
END_TEST

START_TEST(test_garbage_gets_bad_message)
{
	struct harness h;
	static const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x12};
	Cand__ServerMsg *msg;

	harness_init(&h);
	msg = harness_roundtrip(&h, junk, sizeof(junk));
	ck_assert_int_eq(msg->reply->status, CAND__STATUS__BAD_MESSAGE);
	ck_assert_str_ne(msg->reply->detail, "");
	cand__server_msg__free_unpacked(msg, NULL);
	ck_assert(!h.c->dead); /* framing held: the connection lives on */
	harness_free(&h);
}
END_TEST

START_TEST(test_no_operation)
{
	struct harness h;
	Cand__Request req = CAND__REQUEST__INIT;
	Cand__ServerMsg *msg;

	harness_init(&h);
	req.id = 9;
	msg = harness_request(&h, &req);
	ck_assert_uint_eq(msg->reply->id, 9);
	ck_assert_int_eq(msg->reply->status, CAND__STATUS__BAD_MESSAGE);
	cand__server_msg__free_unpacked(msg, NULL);
	harness_free(&h);
}
END_TEST

START_TEST(test_send_needs_open)
{
	struct harness h;
	Cand__Request req = CAND__REQUEST__INIT;
	Cand__SendRequest send = CAND__SEND_REQUEST__INIT;
	Cand__ServerMsg *msg;

	harness_init(&h);
	req.id = 3;
	req.op_case = CAND__REQUEST__OP_SEND;
	req.send = &send;
	msg = harness_request(&h, &req);
	ck_assert_uint_eq(msg->reply->id, 3);
	ck_assert_int_eq(msg->reply->status, CAND__STATUS__NOT_OPEN);
	cand__server_msg__free_unpacked(msg, NULL);
	harness_free(&h);
}
END_TEST

START_TEST(test_open_unknown_interface)
{
	struct harness h;
	Cand__Request req = CAND__REQUEST__INIT;
	Cand__OpenRequest open = CAND__OPEN_REQUEST__INIT;
	Cand__ServerMsg *msg;

	harness_init(&h);
	open.channel = "nosuchcan0";
	req.id = 4;
	req.op_case = CAND__REQUEST__OP_OPEN;
	req.open = &open;
	msg = harness_request(&h, &req);
	ck_assert_uint_eq(msg->reply->id, 4);
	ck_assert_int_eq(msg->reply->status, CAND__STATUS__NO_SUCH_DEVICE);
	ck_assert_ptr_nonnull(strstr(msg->reply->detail, "nosuchcan0"));
	cand__server_msg__free_unpacked(msg, NULL);
	ck_assert_ptr_null(h.c->s->chan);
	harness_free(&h);
}
END_TEST

/* A filter kind the protocol does not have is refused (found by fuzz). */
START_TEST(test_open_unknown_filter_kind)
{
	struct harness h;
	Cand__Request req = CAND__REQUEST__INIT;
	Cand__OpenRequest open = CAND__OPEN_REQUEST__INIT;
	Cand__Filter f = CAND__FILTER__INIT, *fp = &f;
	Cand__ServerMsg *msg;

	harness_init(&h);
	h.ctx.limits.max_filters = 16;
	f.id = 0x123;
	f.mask = 0x7ff;
	f.kind = (Cand__FilterKind)7;
	open.channel = "";
	open.n_filters = 1;
	open.filters = &fp;
	req.id = 5;
	req.op_case = CAND__REQUEST__OP_OPEN;
	req.open = &open;
	msg = harness_request(&h, &req);
	ck_assert_int_eq(msg->reply->status, CAND__STATUS__INVALID_ARGUMENT);
	ck_assert_ptr_nonnull(strstr(msg->reply->detail, "unknown kind 7"));
	cand__server_msg__free_unpacked(msg, NULL);
	harness_free(&h);
}
END_TEST

START_TEST(test_list_without_open)
{
	struct harness h;
	Cand__Request req = CAND__REQUEST__INIT;
	Cand__ListRequest list = CAND__LIST_REQUEST__INIT;
	Cand__ServerMsg *msg;

	harness_init(&h);
	req.id = 5;
	req.op_case = CAND__REQUEST__OP_LIST;
	req.list = &list;
	msg = harness_request(&h, &req);
	ck_assert_uint_eq(msg->reply->id, 5);
	ck_assert_int_eq(msg->reply->status, CAND__STATUS__OK);
	ck_assert_int_eq(msg->reply->result_case, CAND__REPLY__RESULT_LIST);
	cand__server_msg__free_unpacked(msg, NULL);
	harness_free(&h);
}
END_TEST

/* Encodes one frame and converts it as the send path does. */
static int frame_check(Cand__Frame *f, int fd_enabled, struct canfd_frame *cf)
{
	char detail[256] = "";
	struct frame_desc d;
	int is_fd = 0, rc;

	encode_frame_desc(f, &d);
	rc = frame_from_desc(&d, fd_enabled, cf, &is_fd, detail,
			     sizeof(detail));
	if (rc < 0)
		ck_assert_str_ne(detail, ""); /* every refusal says why */
	return rc;
}

START_TEST(test_frame_validation)
{
	Cand__Frame f = CAND__FRAME__INIT;
	struct canfd_frame cf;
	uint8_t data[64] = {1, 2, 3};

	f.data.data = data;
	f.data.len = 9;
	ck_assert_int_eq(frame_check(&f, 1, &cf), -EINVAL); /* 9 classic */
	f.data.len = 8;
	f.id = 0x800;
	ck_assert_int_eq(frame_check(&f, 1, &cf), -EINVAL); /* 12-bit std */
	f.extended = 1;
	ck_assert_int_eq(frame_check(&f, 1, &cf), 0);
	ck_assert_uint_eq(cf.can_id, 0x800 | CAN_EFF_FLAG);
	f.id = 0x20000000;
	ck_assert_int_eq(frame_check(&f, 1, &cf), -EINVAL); /* 30 bits */

	f.id = 0x123;
	f.extended = 0;
	f.fd = 1;
	f.brs = 1;
	f.data.len = 13;
	ck_assert_int_eq(frame_check(&f, 0, &cf), -EOPNOTSUPP);
	ck_assert_int_eq(frame_check(&f, 1, &cf), 0);
	ck_assert_uint_eq(cf.len, 16); /* rounded up to a valid FD size */
	ck_assert_uint_eq(cf.flags & CANFD_BRS, CANFD_BRS);
	f.data.len = 65;
	ck_assert_int_eq(frame_check(&f, 1, &cf), -EINVAL);

	f.fd = 0;
	f.brs = 0;
	f.remote = 1;
	f.data.len = 0;
	f.dlc = 4;
	ck_assert_int_eq(frame_check(&f, 1, &cf), 0);
	ck_assert_uint_eq(cf.can_id, 0x123 | CAN_RTR_FLAG);
	ck_assert_uint_eq(cf.len, 4);
	f.data.len = 2;
	ck_assert_int_eq(frame_check(&f, 1, &cf), -EINVAL); /* RTR + data */

	f.remote = 0;
	f.dlc = 3;
	f.data.len = 2;
	ck_assert_int_eq(frame_check(&f, 1, &cf), -EINVAL); /* dlc mismatch */
}
END_TEST

/* A length prefix over the limit is fatal to that connection only. */
START_TEST(test_oversized_length_kills_client)
{
	struct harness h;
	uint8_t hdr[CAND_WIRE_HDR];

	harness_init(&h);
	wire_put_len(hdr, CAND_MAX_MSG + 1);
	ck_assert_int_eq(write(h.peer, hdr, sizeof(hdr)), sizeof(hdr));
	event_base_loop(h.ctx.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	ck_assert(h.c->dead);
	harness_free(&h);
}
END_TEST

START_TEST(test_framepack_roundtrip)
{
	static const uint8_t fd_data[64] = {1, 2, 3, [63] = 0x3f};
	static const uint8_t classic[8] = {0xde, 0xad, 0xbe, 0xef};
	const struct framepack_rec in[] = {
		{.can_id = 0x123, .len = 4, .data = classic, .timestamp_ns = 7},
		{.can_id = 0x1f334455 | FRAMEPACK_EFF | FRAMEPACK_RTR,
		 .len = 3,
		 .ifname = 1},
		{.can_id = 0x7ff,
		 .len = 64,
		 .flags = FRAMEPACK_FD | FRAMEPACK_BRS | FRAMEPACK_OWN,
		 .data = fd_data,
		 .timestamp_ns = 1700000000123456789ull},
	};
	uint8_t buf[3 * FRAMEPACK_MAX];
	struct framepack_rec out;
	size_t size = 0, off = 0, i;

	for (i = 0; i < 3; i++)
		size += framepack_put(buf + size, &in[i]);
	ck_assert_uint_eq(size, 3 * FRAMEPACK_HDR + 4 + 64); /* RTR: no data */
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(framepack_get(buf, size, &off, &out), 1);
		ck_assert_uint_eq(out.can_id, in[i].can_id);
		ck_assert_uint_eq(out.len, in[i].len);
		ck_assert_uint_eq(out.flags, in[i].flags);
		ck_assert_uint_eq(out.ifname, in[i].ifname);
		ck_assert_uint_eq(out.timestamp_ns, in[i].timestamp_ns);
		if (in[i].data != NULL)
			ck_assert_mem_eq(out.data, in[i].data, in[i].len);
		else
			ck_assert_ptr_null(out.data);
	}
	ck_assert_int_eq(framepack_get(buf, size, &off, &out), 0);

	/* A truncated record and a length past 64 are refused, not read. */
	off = 0;
	ck_assert_int_eq(framepack_get(buf, FRAMEPACK_HDR + 2, &off, &out), -1);
	buf[4] = 65;
	off = 0;
	ck_assert_int_eq(framepack_get(buf, size, &off, &out), -1);
}
END_TEST

Suite *proto_suite(void)
{
	Suite *s = suite_create("proto");
	TCase *tc = tcase_create("dispatch");

	tcase_add_test(tc, test_request_roundtrip);
	tcase_add_test(tc, test_garbage_gets_bad_message);
	tcase_add_test(tc, test_no_operation);
	tcase_add_test(tc, test_send_needs_open);
	tcase_add_test(tc, test_open_unknown_interface);
	tcase_add_test(tc, test_open_unknown_filter_kind);
	tcase_add_test(tc, test_list_without_open);
	tcase_add_test(tc, test_frame_validation);
	tcase_add_test(tc, test_oversized_length_kills_client);
	tcase_add_test(tc, test_framepack_roundtrip);
	suite_add_tcase(s, tc);
	return s;
}
