/*
 * The shared receiving socket with a client that stops reading (the others
 * lose nothing; it is told exactly what it lost, where it lost it) and
 * with its interface removed and created again under a client that keeps
 * its filters; and bursts that make the tap rest between reads.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

/* Enough to fill the Unix socket's buffer and then the watermark. */
#define SLOW_FRAMES 30000

static uint32_t seq_of(const struct cand_frame *f)
{
	return (uint32_t)f->data[0] << 8 | f->data[1];
}

/* A client that keeps up: every frame of its id, in order. */
struct reader {
	cand_t *h;
	const char *what;
	uint32_t next, step;
};

/* Reads what is there (or waits for the rest, with wait). */
static void reader_take(struct reader *r, int wait)
{
	struct cand_frame f;
	int rc;

	while (r->next < SLOW_FRAMES) {
		rc = cand_recv(r->h, &f, wait ? RX_TIMEOUT_MS : 0);
		if (rc == CAND_ETIMEOUT && !wait)
			return;
		ck_assert_msg(rc == 1, "%s: frame %u missing: %s", r->what,
			      r->next, cand_strerror(rc));
		ck_assert_msg(seq_of(&f) == r->next,
			      "%s: frame %u where %u was due (%llu dropped)",
			      r->what, seq_of(&f), r->next,
			      (unsigned long long)cand_kernel_drops(r->h));
		r->next += r->step;
	}
}

START_TEST(test_stalled_client_costs_others_nothing)
{
	static const struct cand_filter odd = {0x601, 0x7FF,
					       CAND_FILTER_STANDARD, 0};
	struct util_daemon d;
	struct cand_options o;
	struct cand_event ev;
	cand_t *live, *picky, *stalled;
	int s = util_raw_open("vcan0", 0), rc;
	struct cand_frame f = util_frame(0x600, 0, "0000");
	struct reader rl = {.what = "the live client", .step = 1};
	struct reader rp = {
		.what = "the filtered client", .next = 1, .step = 2};
	uint32_t i, got = 0, next = 0, dropped = 0, events = 0;

	/* Small watermarks, so that a few thousand frames overflow them. */
	util_daemon_start(&d, "shared",
			  "[limits]\noutput_high_watermark = 8192\n"
			  "output_low_watermark = 2048\n"
			  "[rule all]\ninterfaces = *\nusers = *\n"
			  "rights = read send\n");
	ck_assert_int_eq(cand_connect(&live, d.sock), 0);
	ck_assert_int_eq(cand_connect(&picky, d.sock), 0);
	ck_assert_int_eq(cand_connect(&stalled, d.sock), 0);
	cand_options_init(&o);
	o.channel = "vcan0";
	ck_assert_int_eq(cand_open(live, &o), 0);
	ck_assert_int_eq(cand_open(stalled, &o), 0);
	o.filters = &odd;
	o.n_filters = 1;
	ck_assert_int_eq(cand_open(picky, &o), 0);
	rl.h = live;
	rp.h = picky;

	for (i = 0; i < SLOW_FRAMES; i++) {
		f.id = i % 2 ? 0x601 : 0x600;
		f.data[0] = (uint8_t)(i >> 8);
		f.data[1] = (uint8_t)i;
		util_raw_flood(s, &f);
		/* A pace the tap keeps: its drops would be everyone's. */
		if (i % 32 == 31) {
			util_msleep(1);
			reader_take(&rl, 0);
			reader_take(&rp, 0);
		}
	}
	reader_take(&rl, 1);
	reader_take(&rp, 1);

	/* Frames until it fell behind, a drop event, then frames again. */
	while ((rc = cand_recv_event(stalled, &ev, 1000)) == 1) {
		if (ev.type == CAND_EVENT_DROPS) {
			ck_assert_msg(ev.drops.slow_reader,
				      "drops not put down to the slow reader: "
				      "%s",
				      ev.detail);
			ck_assert_msg(ev.drops.dropped > 0, "an empty report");
			next += (uint32_t)ev.drops.dropped;
			dropped += (uint32_t)ev.drops.dropped;
			ck_assert_uint_eq(ev.drops.kernel_drops, dropped);
			events++;
			continue;
		}
		ck_assert_int_eq(ev.type, CAND_EVENT_FRAME);
		ck_assert_msg(seq_of(&ev.frame) == next,
			      "stalled client: frame %u where %u was due (%u "
			      "reported dropped)",
			      seq_of(&ev.frame), next, dropped);
		next++;
		got++;
	}
	ck_assert_int_eq(rc, CAND_ETIMEOUT);
	ck_assert_msg(events > 0, "no drop event; got %u of %u", got,
		      SLOW_FRAMES);
	ck_assert_msg(got + dropped == SLOW_FRAMES, "got %u + dropped %u != %u",
		      got, dropped, SLOW_FRAMES);
	ck_assert_uint_eq(cand_kernel_drops(stalled), dropped);
	ck_assert_uint_eq(cand_kernel_drops(live), 0);
	cand_close(live);
	cand_close(picky);
	cand_close(stalled);
	close(s);
	util_daemon_stop(&d);
}
END_TEST

/* Counts one client's frames of the flood until it has been quiet. */
static uint32_t drain(cand_t *h)
{
	struct cand_frame f;
	uint32_t n = 0;

	while (cand_recv(h, &f, 1000) == 1)
		if (f.id == 0x610)
			n++;
	return n;
}

/*
 * A flood at full speed with three clients, one of which reads nothing
 * until it is over: whatever is lost, by the shared socket's overflow or
 * by cand for the slow one, every client is told it: received plus
 * reported equals sent (plus what the kernel's backlog lost before any
 * socket saw it).
 */
START_TEST(test_flood_every_loss_told)
{
	enum { FLOOD = 60000 };
	struct util_daemon d;
	struct cand_options o;
	struct cand_frame f = util_frame(0x610, 0, "00000000"), end;
	cand_t *h[3];
	uint64_t backlog0 = softnet_drops(), backlog, told[3];
	uint32_t i, got[3] = {0, 0, 0};
	int s = util_raw_open("vcan0", 0), k;

	util_daemon_start(&d, "flood",
			  "[limits]\noutput_high_watermark = 65536\n"
			  "output_low_watermark = 16384\n"
			  "[rule all]\ninterfaces = *\nusers = *\n"
			  "rights = read send\n");
	cand_options_init(&o);
	o.channel = "vcan0";
	for (k = 0; k < 3; k++) {
		ck_assert_int_eq(cand_connect(&h[k], d.sock), 0);
		ck_assert_int_eq(cand_open(h[k], &o), 0);
	}
	for (i = 0; i < FLOOD; i++) {
		f.data[0] = (uint8_t)(i >> 16);
		f.data[1] = (uint8_t)(i >> 8);
		f.data[2] = (uint8_t)i;
		util_raw_flood(s, &f);
		if (i % 256 == 255)
			for (k = 0; k < 2; k++)
				while (cand_recv(h[k], &end, 0) == 1)
					got[k] += end.id == 0x610;
	}
	for (k = 0; k < 3; k++)
		got[k] += drain(h[k]);
	backlog = softnet_drops() - backlog0;
	/*
	 * Told already, without a frame after the flood: drops after the
	 * last frame the shared socket kept are asked for when it is empty.
	 */
	for (k = 0; k < 3; k++)
		told[k] = cand_kernel_drops(h[k]);
	end = util_frame(0x611, 0, "FF");
	util_raw_send(s, &end);
	for (k = 0; k < 3; k++) {
		util_recv_ok(h[k], &end, "the marker after the flood");
		ck_assert_uint_eq(end.id, 0x611);
		fprintf(stderr,
			"test_flood_every_loss_told: client %d got %u, told "
			"of %llu, backlog %llu\n",
			k, got[k], (unsigned long long)cand_kernel_drops(h[k]),
			(unsigned long long)backlog);
		ck_assert_msg(
			got[k] + cand_kernel_drops(h[k]) + backlog == FLOOD,
			"client %d: got %u + told %llu + backlog %llu != "
			"%d",
			k, got[k], (unsigned long long)cand_kernel_drops(h[k]),
			(unsigned long long)backlog, FLOOD);
		ck_assert_msg(cand_kernel_drops(h[k]) == told[k],
			      "client %d was told of %llu drops only with a "
			      "later frame, %llu before it",
			      k, (unsigned long long)cand_kernel_drops(h[k]),
			      (unsigned long long)told[k]);
		cand_close(h[k]);
	}
	close(s);
	util_daemon_stop(&d);
}
END_TEST

/*
 * Bursts fast enough that the tap rests between reads (ops/tap.c,
 * TAP_REST_MIN), with a client sending its own frames, one sending with
 * loopback off, one filtered and one that reads only at the end: each
 * gets exactly what a socket of its own would, in order; a frame alone
 * after a burst still comes; and a tap whose last client left while it
 * rested is read again for the next.
 */
#define REST_BURSTS 20
#define REST_BURST  200

/* Every frame of the bursts in order; the sender's 0x602s, own only to it. */
static void rest_expect(cand_t *h, const char *what, int odd_only, int own)
{
	struct cand_frame f;
	uint32_t next = odd_only ? 1 : 0, mine = 0,
		 want = odd_only ? 0 : REST_BURSTS;

	while (next < REST_BURSTS * REST_BURST || mine < want) {
		util_recv_ok(h, &f, what);
		ck_assert_msg(f.id != 0x603, "%s: got a loopback-off frame",
			      what);
		if (f.id == 0x602) {
			ck_assert_msg(!!(f.flags & CAND_FRAME_OWN) == own,
				      "%s: 0x602 with own %d", what, !own);
			mine++;
			continue;
		}
		ck_assert_msg(seq_of(&f) == next,
			      "%s: frame %u where %u was due", what, seq_of(&f),
			      next);
		next += odd_only ? 2 : 1;
	}
	ck_assert_uint_eq(mine, want);
	ck_assert_uint_eq(cand_kernel_drops(h), 0);
}

/* sock: a daemon's socket, or NULL for the suite's. */
static cand_t *rest_open(const char *sock, const struct cand_options *o)
{
	cand_t *h;

	ck_assert_int_eq(cand_connect(&h, sock), 0);
	ck_assert_msg(cand_open(h, o) == 0, "cand_open: %s",
		      cand_last_detail(h));
	return h;
}

static void rest_run(const char *sock)
{
	static const struct cand_filter odd = {0x601, 0x7FF,
					       CAND_FILTER_STANDARD, 0};
	struct cand_options o;
	cand_t *sender, *quiet, *picky, *late, *next;
	struct cand_frame f = util_frame(0x600, 0, "0000"), mine, theirs, got;
	int s = util_raw_open("vcan0", 0);
	uint32_t i, k;

	cand_options_init(&o);
	o.channel = "vcan0";
	o.receive_own_messages = 1;
	sender = rest_open(sock, &o);
	o.receive_own_messages = 0;
	late = rest_open(sock, &o);
	o.local_loopback = 0;
	quiet = rest_open(sock, &o);
	o.local_loopback = 1;
	o.filters = &odd;
	o.n_filters = 1;
	picky = rest_open(sock, &o);
	mine = util_frame(0x602, 0, "AA");
	theirs = util_frame(0x603, 0, "BB");
	for (k = 0; k < REST_BURSTS; k++) {
		for (i = k * REST_BURST; i < (k + 1) * REST_BURST; i++) {
			f.id = i % 2 ? 0x601 : 0x600;
			f.data[0] = (uint8_t)(i >> 8);
			f.data[1] = (uint8_t)i;
			util_raw_flood(s, &f);
		}
		util_send(sender, &mine, 1);
		util_send(quiet, &theirs, 1);
		util_msleep(2);
	}
	rest_expect(sender, "the sender", 0, 1);
	rest_expect(picky, "the filtered client", 1, 0);
	rest_expect(quiet, "the loopback-off client", 0, 0);
	rest_expect(late, "the late reader", 0, 0);

	/* One frame alone, right after a burst: no rest holds it back. */
	util_raw_send(s, &mine);
	util_recv_ok(late, &got, "a frame alone after the bursts");
	util_assert_frame(&got, &mine, "a frame alone after the bursts");

	/* Everyone leaves while the tap rests; the next client still hears. */
	for (i = 0; i < REST_BURST; i++)
		util_raw_flood(s, &f);
	cand_close(sender);
	cand_close(quiet);
	cand_close(picky);
	cand_close(late);
	o.n_filters = 0;
	o.filters = NULL;
	next = rest_open(sock, &o);
	util_raw_send(s, &theirs);
	util_recv_ok(next, &got, "a client after the others left");
	util_assert_frame(&got, &theirs, "a client after the others left");
	cand_close(next);
	close(s);
}

START_TEST(test_rest_after_bursts)
{
	rest_run(NULL);
}
END_TEST

/* The same with resting off in cand.conf: the key is taken, nothing lost. */
START_TEST(test_rest_off)
{
	struct util_daemon d;

	util_daemon_start(&d, "norest",
			  "[limits]\nreceive_rest_us = 0\n"
			  "[rule all]\ninterfaces = *\nusers = *\n"
			  "rights = read send\n");
	rest_run(d.sock);
	util_daemon_stop(&d);
}
END_TEST

static void remove_vcan7(void)
{
	util_sh("ip link del vcan7 2>/dev/null");
}

/* Waits for the "rebound" link event of h's channel. */
static void wait_rebound(cand_t *h, const char *what)
{
	struct cand_event ev;
	int rc;

	for (;;) {
		rc = cand_recv_event(h, &ev, 3000);
		ck_assert_msg(rc == 1, "%s: no rebound link event (%s)", what,
			      cand_strerror(rc));
		if (ev.type == CAND_EVENT_LINK && ev.link.rebound)
			return;
	}
}

START_TEST(test_hotplug_shared)
{
	static const struct cand_filter flt = {0x7A0, 0x7F0, CAND_FILTER_ANY,
					       0};
	struct cand_options o;
	cand_t *all, *some;
	struct cand_frame a = util_frame(0x7A1, 0, "01");
	struct cand_frame b = util_frame(0x555, 0, "02"), got;
	int s;

	remove_vcan7();
	ck_assert_int_eq(util_sh("ip link add vcan7 type vcan && "
				 "ip link set vcan7 up"),
			 0);
	all = util_open("vcan7");
	cand_options_init(&o);
	o.channel = "vcan7";
	o.filters = &flt;
	o.n_filters = 1;
	some = util_open_opts(&o);
	ck_assert_int_eq(util_sh("ip link del vcan7 && ip link add vcan7 type "
				 "vcan && ip link set vcan7 up"),
			 0);
	wait_rebound(all, "unfiltered client");
	wait_rebound(some, "filtered client");
	s = util_raw_open("vcan7", 0);
	util_raw_send(s, &b);
	util_raw_send(s, &a);
	util_recv_ok(all, &got, "unfiltered, after the re-bind");
	util_assert_frame(&got, &b, "unfiltered, after the re-bind");
	util_recv_ok(all, &got, "unfiltered, after the re-bind");
	util_assert_frame(&got, &a, "unfiltered, after the re-bind");
	util_recv_ok(some, &got, "filtered, after the re-bind");
	util_assert_frame(&got, &a, "its filter kept across the re-bind");
	util_recv_none(some, SETTLE_MS, "filtered client, 0x555");
	cand_close(all);
	cand_close(some);
	close(s);
	remove_vcan7();
}
END_TEST

Suite *sharedlink_suite(void)
{
	Suite *s = suite_create("sharedlink");
	TCase *tc = util_tcase("sharedlink");

	tcase_add_unchecked_fixture(tc, NULL, remove_vcan7);
	tcase_add_test(tc, test_stalled_client_costs_others_nothing);
	tcase_add_test(tc, test_flood_every_loss_told);
	tcase_add_test(tc, test_hotplug_shared);
	tcase_add_test(tc, test_rest_after_bursts);
	tcase_add_test(tc, test_rest_off);
	suite_add_tcase(s, tc);
	return s;
}
