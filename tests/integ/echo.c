/*
 * Own messages on real controllers, through the shared receiving socket:
 * can0 is an SJA1000 on an emulated bus, and a controller echoes
 * a frame when its transmission completes, not when it is queued. cand
 * tells whose echo it is by content, the oldest unechoed identical frame
 * first; these tests have two senders on can0 send identical and
 * different frames interleaved, and make frames that are never sent (a
 * qdisc that drops them, an interface down) to check that such a frame's
 * entry can never capture a later identical frame of another sender.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

#define ROUNDS 20

static cand_t *open_own(const char *channel)
{
	struct cand_options o;

	cand_options_init(&o);
	o.channel = channel;
	o.receive_own_messages = 1;
	return util_open_opts(&o);
}

static int have_controllers(const char *test)
{
	if (util_have_iface("can0") && util_have_iface("can1"))
		return 1;
	fprintf(stderr, "%s: no can0/can1, skipped\n", test);
	return 0;
}

/* Frames of one handle, skipping link events (interfaces cycled). */
static int next_frame(cand_t *h, struct cand_frame *f, int timeout_ms)
{
	struct cand_event ev;
	int rc;

	while ((rc = cand_recv_event(h, &ev, timeout_ms)) == 1) {
		if (ev.type != CAND_EVENT_FRAME)
			continue;
		*f = ev.frame;
		return 1;
	}
	return rc;
}

/* Counts own and others' frames of each id until quiet. */
static void tally(cand_t *h, unsigned own[0x800], unsigned other[0x800])
{
	struct cand_frame f;

	memset(own, 0, 0x800 * sizeof(own[0]));
	memset(other, 0, 0x800 * sizeof(other[0]));
	while (next_frame(h, &f, 500) == 1)
		if (f.id < 0x800)
			(f.flags & CAND_FRAME_OWN ? own : other)[f.id]++;
}

START_TEST(test_two_senders_interleaved)
{
	static unsigned own1[0x800], oth1[0x800], own2[0x800], oth2[0x800];
	static unsigned own3[0x800], oth3[0x800];
	cand_t *s1, *s2, *obs;
	struct cand_frame f1[2], f2[2], got;
	int raw, r, n = 0;

	if (!have_controllers("test_two_senders_interleaved"))
		return;
	s1 = open_own("can0");
	s2 = open_own("can0");
	obs = util_open("can0");
	/*
	 * The kernel's account of what can0 transmitted: a raw socket gets
	 * every echo. (can1's receiver is no witness: the emulated SJA1000
	 * overruns its RX FIFO when the host is slow to serve it.)
	 */
	raw = util_raw_open("can0", 0);
	/* Each round: one frame both send, one each of their own. */
	for (r = 0; r < ROUNDS; r++) {
		f1[0] = util_frame(0x500 + (unsigned)r, 0, "11");
		f1[1] = util_frame(0x4AA, 0, "AA");
		f2[0] = util_frame(0x4AA, 0, "AA");
		f2[1] = util_frame(0x600 + (unsigned)r, 0, "22");
		util_send(s1, f1, 2);
		util_send(s2, f2, 2);
		/* Four frames in flight at a time: the qdisc keeps them. */
		util_msleep(2);
	}
	while (util_raw_recv(raw, &got, 1000) == 1)
		n++;
	ck_assert_int_eq(n, 4 * ROUNDS);
	tally(s1, own1, oth1);
	tally(s2, own2, oth2);
	tally(obs, own3, oth3);
	ck_assert_uint_eq(own1[0x4AA], ROUNDS);
	ck_assert_uint_eq(oth1[0x4AA], ROUNDS);
	ck_assert_uint_eq(own2[0x4AA], ROUNDS);
	ck_assert_uint_eq(oth2[0x4AA], ROUNDS);
	ck_assert_uint_eq(oth3[0x4AA], 2 * ROUNDS);
	for (r = 0; r < ROUNDS; r++) {
		ck_assert_msg(own1[0x500 + r] == 1 && oth1[0x500 + r] == 0,
			      "s1's 0x%x: own %u, other %u", 0x500 + r,
			      own1[0x500 + r], oth1[0x500 + r]);
		ck_assert_msg(own2[0x600 + r] == 1 && oth2[0x600 + r] == 0,
			      "s2's 0x%x: own %u, other %u", 0x600 + r,
			      own2[0x600 + r], oth2[0x600 + r]);
		ck_assert_msg(oth1[0x600 + r] == 1 && own1[0x600 + r] == 0,
			      "s2's 0x%x at s1: own %u, other %u", 0x600 + r,
			      own1[0x600 + r], oth1[0x600 + r]);
		ck_assert_msg(oth2[0x500 + r] == 1 && own2[0x500 + r] == 0,
			      "s1's 0x%x at s2: own %u, other %u", 0x500 + r,
			      own2[0x500 + r], oth2[0x500 + r]);
		ck_assert_uint_eq(oth3[0x500 + r] + oth3[0x600 + r], 2);
	}
	ck_assert_uint_eq(own3[0x4AA], 0);
	cand_close(s1);
	cand_close(s2);
	cand_close(obs);
	close(raw);
}
END_TEST

/* Both get f once: s as its own, other not. */
static void labelled(cand_t *s, cand_t *other, const struct cand_frame *f,
		     const char *what)
{
	struct cand_frame got;

	ck_assert_msg(next_frame(s, &got, RX_TIMEOUT_MS) == 1,
		      "%s: the sender got nothing", what);
	util_assert_frame(&got, f, what);
	ck_assert_msg(got.flags & CAND_FRAME_OWN,
		      "%s: the sender's own frame is not OWN", what);
	ck_assert_msg(next_frame(other, &got, RX_TIMEOUT_MS) == 1,
		      "%s: the other got nothing", what);
	util_assert_frame(&got, f, what);
	ck_assert_msg(!(got.flags & CAND_FRAME_OWN),
		      "%s: the other sender's frame is OWN: an unechoed "
		      "frame captured it",
		      what);
	ck_assert_int_eq(next_frame(s, &got, SETTLE_MS), CAND_ETIMEOUT);
	ck_assert_int_eq(next_frame(other, &got, 10), CAND_ETIMEOUT);
}

/* Waits for cand to report can0 up to sub (a subscribed handle). */
static void wait_up(cand_t *sub)
{
	struct cand_event ev;
	int rc;

	for (;;) {
		rc = cand_recv_event(sub, &ev, 5000);
		ck_assert_msg(rc == 1, "can0 never came up: %s",
			      cand_strerror(rc));
		if (ev.type == CAND_EVENT_LINK && ev.link.up)
			return;
	}
}

static void restore_can0(void)
{
	util_sh("tc qdisc del dev can0 root 2>/dev/null; ip link set can0 up");
}

START_TEST(test_unsent_frame_captures_nothing)
{
	cand_t *s1, *s2, *sub;
	struct cand_frame z = util_frame(0x4BB, 0, "BB");
	struct cand_frame w = util_frame(0x4CC, 0, "CC");
	struct cand_frame v = util_frame(0x4DD, 0, "DD");

	if (!have_controllers("test_unsent_frame_captures_nothing"))
		return;
	if (util_sh("modprobe sch_netem 2>/dev/null; "
		    "tc qdisc add dev can0 root netem loss 100%%") != 0) {
		fprintf(stderr, "test_unsent_frame_captures_nothing: no "
				"netem, skipped\n");
		return;
	}
	util_sh("tc qdisc del dev can0 root");
	s1 = open_own("can0");
	s2 = open_own("can0");
	ck_assert_int_eq(cand_connect(&sub, NULL), 0);
	ck_assert_int_eq(cand_subscribe(sub, "can0"), 0);

	/* Dropped by the qdisc: sent as far as cand knows, never echoed. */
	ck_assert_int_eq(util_sh("tc qdisc add dev can0 root netem loss 100%%"),
			 0);
	util_send(s1, &z, 1);
	ck_assert_int_eq(util_sh("tc qdisc del dev can0 root"), 0);
	/* No event says so: the entry must age out. */
	util_msleep(1300);
	util_send(s2, &z, 1);
	labelled(s2, s1, &z, "after an aged-out unsent frame");

	/* Dropped again; then the interface goes down and up: purged. */
	ck_assert_int_eq(util_sh("tc qdisc add dev can0 root netem loss 100%%"),
			 0);
	util_send(s1, &w, 1);
	ck_assert_int_eq(
		util_sh("tc qdisc del dev can0 root && "
			"ip link set can0 down && ip link set can0 up"),
		0);
	wait_up(sub);
	util_send(s2, &w, 1);
	labelled(s2, s1, &w, "after an unsent frame and down/up");

	/* A send refused while down leaves nothing behind. */
	ck_assert_int_eq(util_sh("ip link set can0 down"), 0);
	ck_assert_int_lt(cand_send(s1, &v, 1, 0), 0);
	ck_assert_int_eq(util_sh("ip link set can0 up"), 0);
	wait_up(sub);
	util_send(s2, &v, 1);
	labelled(s2, s1, &v, "after a refused send");
	cand_close(s1);
	cand_close(s2);
	cand_close(sub);
}
END_TEST

Suite *echo_suite(void)
{
	Suite *s = suite_create("echo");
	TCase *tc = util_tcase("echo");

	tcase_add_unchecked_fixture(tc, NULL, restore_can0);
	tcase_add_test(tc, test_two_senders_interleaved);
	tcase_add_test(tc, test_unsent_frame_captures_nothing);
	suite_add_tcase(s, tc);
	return s;
}
