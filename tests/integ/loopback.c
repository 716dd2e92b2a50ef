/*
 * receive_own_messages and local_loopback, as python-can's SocketcanBus:
 * by default a client does not see its own frames but every other local
 * reader does; receive_own_messages=1 returns them marked OWN;
 * local_loopback=0 hides them from every local reader.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static cand_t *open_with(const char *channel, int own, int loopback)
{
	struct cand_options o;

	cand_options_init(&o);
	o.channel = channel;
	o.receive_own_messages = own;
	o.local_loopback = loopback;
	return util_open_opts(&o);
}

START_TEST(test_defaults)
{
	struct cand_options o;

	cand_options_init(&o);
	ck_assert_int_eq(o.receive_own_messages, 0);
	ck_assert_int_eq(o.local_loopback, 1);
	ck_assert_int_eq(o.fd, 0);
	ck_assert_int_eq(o.ignore_rx_error_frames, 0);
	ck_assert_uint_eq(o.n_filters, 0);
}
END_TEST

START_TEST(test_default_others_see_own_does_not)
{
	cand_t *a = util_open("vcan0");
	cand_t *b = util_open("vcan0");
	int s = util_raw_open("vcan0", 0);
	struct cand_frame f = util_frame(0x111, 0, "A1A2"), got;

	util_send(a, &f, 1);
	util_recv_ok(b, &got, "second client");
	util_assert_frame(&got, &f, "second client");
	ck_assert_uint_eq(got.flags & CAND_FRAME_OWN, 0);
	/* Sent from this host: what candump -x calls TX. */
	ck_assert_msg(got.flags & CAND_FRAME_LOCAL, "local frame lacks LOCAL");
	util_raw_recv_ok(s, &got, "local raw socket");
	util_assert_frame(&got, &f, "local raw socket");
	util_recv_none(a, SETTLE_MS, "sender without receive_own_messages");
	cand_close(a);
	cand_close(b);
}
END_TEST

START_TEST(test_receive_own_messages)
{
	cand_t *a = open_with("vcan0", 1, 1);
	cand_t *b = util_open("vcan0");
	int s = util_raw_open("vcan0", 0);
	struct cand_frame f = util_frame(0x222, 0, "B1"), got, peer;

	util_send(a, &f, 1);
	util_recv_ok(a, &got, "own frame");
	util_assert_frame(&got, &f, "own frame");
	ck_assert_msg(got.flags & CAND_FRAME_OWN, "own frame lacks OWN");
	ck_assert_str_eq(got.ifname, "vcan0");
	util_recv_ok(b, &got, "other client");
	util_assert_frame(&got, &f, "other client");
	ck_assert_msg(!(got.flags & CAND_FRAME_OWN),
		      "other client's copy is marked OWN");
	util_recv_none(a, SETTLE_MS, "only one copy of the own frame");

	/* A frame from someone else is not OWN. */
	peer = util_frame(0x333, 0, "C1");
	util_raw_send(s, &peer);
	util_recv_ok(a, &got, "peer frame");
	util_assert_frame(&got, &peer, "peer frame");
	ck_assert_msg(!(got.flags & CAND_FRAME_OWN), "peer frame marked OWN");
	cand_close(a);
	cand_close(b);
}
END_TEST

START_TEST(test_no_local_loopback)
{
	cand_t *a = open_with("vcan0", 0, 0);
	cand_t *b = util_open("vcan0");
	int s = util_raw_open("vcan0", 0);
	struct util_proc p;
	char *argv[] = {"candump", "-L", "vcan0", NULL};
	struct cand_frame f = util_frame(0x444, 0, "D1D2D3"), got;
	struct cand_frame marker = util_frame(0x555, 0, "E1");
	char *out;
	int st;

	util_spawn_listener(&p, argv, "vcan0");
	util_send(a, &f, 1);
	util_recv_none(b, SETTLE_MS, "other client, sender loopback off");
	util_raw_recv_none(s, 10, "raw socket, sender loopback off");
	util_recv_none(a, 10, "sender itself, loopback off");

	/* The observers work: a normal client's frame reaches them all. */
	util_send(b, &marker, 1);
	util_raw_recv_ok(s, &got, "marker on the raw socket");
	util_assert_frame(&got, &marker, "marker on the raw socket");
	util_recv_ok(a, &got, "marker at the loopback-off client");
	util_assert_frame(&got, &marker, "marker at the loopback-off client");
	util_msleep(SETTLE_MS);
	out = util_proc_finish(&p, 10, &st);
	ck_assert_msg(strstr(out, "555#E1") != NULL,
		      "candump missed the marker: %s", out);
	ck_assert_msg(strstr(out, "444#") == NULL,
		      "candump saw a loopback-off frame: %s", out);
	free(out);
	cand_close(a);
	cand_close(b);
}
END_TEST

/* On a real controller loopback off still puts the frame on the bus. */
START_TEST(test_no_local_loopback_hardware)
{
	cand_t *a, *b;
	int s0, s1;
	struct cand_frame f = util_frame(0x466, 0, "0102"), got;

	if (!util_have_iface("can0") || !util_have_iface("can1")) {
		fprintf(stderr, "test_no_local_loopback_hardware: no "
				"can0/can1, skipped\n");
		return;
	}
	a = open_with("can0", 0, 0);
	b = util_open("can0");
	s0 = util_raw_open("can0", 0);
	s1 = util_raw_open("can1", 0);
	util_send(a, &f, 1);
	util_raw_recv_ok(s1, &got, "can1 across the bus");
	util_assert_frame(&got, &f, "can1 across the bus");
	util_raw_recv_none(s0, SETTLE_MS, "can0 raw, loopback off");
	util_recv_none(b, 10, "can0 client, loopback off");
	cand_close(a);
	cand_close(b);
}
END_TEST

Suite *loopback_suite(void)
{
	Suite *s = suite_create("loopback");
	TCase *tc = util_tcase("loopback");

	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_default_others_see_own_does_not);
	tcase_add_test(tc, test_receive_own_messages);
	tcase_add_test(tc, test_no_local_loopback);
	tcase_add_test(tc, test_no_local_loopback_hardware);
	suite_add_tcase(s, tc);
	return s;
}
