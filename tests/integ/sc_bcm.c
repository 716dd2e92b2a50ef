/*
 * The socketcand front-end's BCM mode on cand's kernel BCM tasks and
 * monitors: add, update and delete timed by an independent receiver (a
 * libcand client through the other front-end, by kernel timestamps),
 * subscribe, filter and muxfilter with their throttle (by the kernel
 * times the notifications carry), replacing a job, and jobs ending when
 * the mode changes, as socketcand's BCM socket closes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sc_util.h"

/* Frames of id arriving at h within ms, up to max, into out. */
static size_t collect_id(cand_t *h, uint32_t id, struct cand_frame *out,
			 size_t max, int ms)
{
	uint64_t end = util_now_ns() + (uint64_t)ms * 1000000u;
	struct cand_frame f;
	size_t n = 0;

	while (n < max && util_now_ns() < end)
		if (cand_recv(h, &f, 20) == 1 && f.id == id)
			out[n++] = f;
	return n;
}

/* The mean gap between the frames' kernel timestamps, in ms. */
static double mean_gap_ms(const struct cand_frame *f, size_t n)
{
	ck_assert_uint_ge(n, 2);
	return (double)(f[n - 1].timestamp_ns - f[0].timestamp_ns) / 1e6 /
	       (double)(n - 1);
}

START_TEST(test_add_update_delete)
{
	struct sc_peer *p = sc_open_bus(SC_PEER, "vcan0", NULL);
	cand_t *h = util_open("vcan0");
	struct cand_frame f[8], want;
	size_t n;
	double gap;

	sc_write(p, "< add 0 50000 3A1 2 AA BB >");
	sc_sync(p);
	n = collect_id(h, 0x3A1, f, 6, 3000);
	ck_assert_uint_eq(n, 6);
	want = util_frame(0x3A1, 0, "AABB");
	util_assert_frame(&f[0], &want, "the task's frame");
	gap = mean_gap_ms(f, n);
	ck_assert_msg(gap > 40 && gap < 60, "every 50 ms, but %.1f ms", gap);

	sc_write(p, "< update 3A1 3 CC DD EE >");
	sc_sync(p);
	/* One may have left with the old data meanwhile. */
	n = collect_id(h, 0x3A1, f, 3, 3000);
	ck_assert_uint_eq(n, 3);
	want = util_frame(0x3A1, 0, "CCDDEE");
	util_assert_frame(&f[2], &want, "the updated frame");
	gap = mean_gap_ms(f, n);
	ck_assert_msg(gap > 35 && gap < 65, "still every 50 ms, but %.1f ms",
		      gap);

	sc_write(p, "< delete 3A1 >");
	sc_sync(p);
	collect_id(h, 0x3A1, f, 8, 100); /* in flight */
	n = collect_id(h, 0x3A1, f, 8, 300);
	ck_assert_msg(n == 0, "%zu frames after delete", n);
	cand_close(h);
	sc_close(p);
}
END_TEST

START_TEST(test_add_replaces)
{
	struct sc_peer *p = sc_open_bus(SC_PEER, "vcan0", NULL);
	cand_t *h = util_open("vcan0");
	struct cand_frame f[16], want = util_frame(0x3A2, 0, "02");
	size_t n, i;
	char got[256];

	sc_write(p, "< add 0 100000 3A2 1 01 >");
	sc_write(p, "< add 0 20000 3A2 1 02 >");
	sc_sync(p);
	collect_id(h, 0x3A2, f, 16, 60);
	n = collect_id(h, 0x3A2, f, 10, 3000);
	ck_assert_uint_eq(n, 10);
	for (i = 0; i < n; i++)
		util_assert_frame(&f[i], &want, "only the second add's frame");
	ck_assert_msg(mean_gap_ms(f, n) < 40, "at the second add's period");
	/* An extended id is another job. */
	sc_write(p, "< delete 000003A2 >");
	sc_expect_prefix(p, "< error no job sends id 3A2", got, sizeof(got),
			 "delete of the extended id");
	sc_write(p, "< update 3A3 0 >");
	sc_expect_prefix(p, "< error no job sends id 3A3", got, sizeof(got),
			 "update of nothing");
	sc_write(p, "< add 0 0 3A3 0 >");
	sc_expect_prefix(p, "< error add needs an interval", got, sizeof(got),
			 "add without interval");
	sc_write(p, "< delete 3A2 >");
	sc_sync(p);
	cand_close(h);
	sc_close(p);
}
END_TEST

/*
 * Notifications until ms pass without one (at most max), each starting
 * with head and containing has.
 */
static size_t notes(struct sc_peer *p, const char *head, const char *has,
		    size_t max, int ms)
{
	char got[256];
	size_t n = 0;

	while (n < max && sc_next(p, got, sizeof(got), ms) == 1) {
		ck_assert_msg(strncmp(got, head, strlen(head)) == 0 &&
				      strstr(got, has) != NULL,
			      "got '%s', want '%s...%s...'", got, head, has);
		n++;
	}
	return n;
}

START_TEST(test_subscribe)
{
	struct sc_peer *p = sc_open_bus(SC_PEER, "vcan0", NULL);
	int s = util_raw_open("vcan0", 0);
	struct cand_frame f = util_frame(0x3B1, 0, "0102");

	sc_write(p, "< subscribe 0 0 3B1 >");
	sc_write(p, "< subscribe 0 0 013B1000 >");
	sc_sync(p);
	util_raw_send(s, &f);
	util_raw_send(s, &f);
	f = util_frame(0x3B2, 0, "");
	util_raw_send(s, &f);
	f = util_frame(0x13B1000, CAND_FRAME_EXTENDED, "");
	util_raw_send(s, &f);
	/* BCM mode's format: each byte followed by a blank. */
	sc_expect_frame(p, "< frame 3B1 ", " 01 02  >", "every frame, 1");
	sc_expect_frame(p, "< frame 3B1 ", " 01 02  >", "every frame, 2");
	sc_expect_frame(p, "< frame 013B1000 ", "  >", "the extended one");
	sc_expect_none(p, SETTLE_MS, "another id");
	sc_write(p, "< unsubscribe 3B1 >");
	sc_sync(p);
	f = util_frame(0x3B1, 0, "");
	util_raw_send(s, &f);
	ck_assert_uint_eq(notes(p, "< frame", "", 4, SETTLE_MS), 0);
	close(s);
	sc_close(p);
}
END_TEST

/*
 * Sends n frames of id, data from make(i), one every 10 ms; returns how
 * long that took in s (the VM may make it longer than n * 10 ms).
 */
static double pace(int s, uint32_t id, int n, void (*make)(int, char *))
{
	uint64_t t0 = util_now_ns();
	struct cand_frame f;
	char hex[17];
	int i;

	for (i = 0; i < n; i++) {
		make(i, hex);
		f = util_frame(id, 0, hex);
		util_raw_flood(s, &f);
		util_msleep(10);
	}
	return (double)(util_now_ns() - t0) / 1e9;
}

/* A counter in byte 0, so every frame differs. */
static void counting(int i, char *hex)
{
	snprintf(hex, 17, "%02X", i & 0xff);
}

/*
 * Throttled: at least two notifications, and at most one per period of
 * the sending plus the first and one flushed at the end, where each of
 * the frames differed. (A notification carries the time its frame came,
 * not when the throttle let it go, so the gaps between those times can
 * be shorter than the period; their number cannot be larger.)
 */
static void check_throttle(size_t n, double period_s, double sent_s,
			   size_t frames, const char *what)
{
	size_t hi = (size_t)(sent_s / period_s) + 2;

	ck_assert_msg(n >= 2 && n <= hi && n < frames,
		      "%s: %zu notifications of %zu changes in %.2f s, want "
		      "2..%zu",
		      what, n, frames, sent_s, hi);
}

START_TEST(test_subscribe_throttle)
{
	struct sc_peer *p = sc_open_bus(SC_PEER, "vcan0", NULL);
	int s = util_raw_open("vcan0", 0);
	double sent;
	size_t n;

	sc_write(p, "< subscribe 0 200000 3B3 >");
	sc_sync(p);
	/* Each of the 100 frames differs; a few get through. */
	sent = pace(s, 0x3B3, 100, counting);
	n = notes(p, "< frame 3B3 ", "", 100, 400);
	check_throttle(n, 0.2, sent, 100, "subscribe throttled to 200 ms");
	close(s);
	sc_close(p);
}
END_TEST

START_TEST(test_filter)
{
	struct sc_peer *p = sc_open_bus(SC_PEER, "vcan0", NULL);
	int s = util_raw_open("vcan0", 0);
	struct cand_frame f;

	/* Only byte 0 matters. */
	sc_write(p, "< filter 0 0 3C1 1 FF >");
	sc_sync(p);
	f = util_frame(0x3C1, 0, "01");
	util_raw_send(s, &f);
	sc_expect_frame(p, "< frame 3C1 ", " 01  >", "the first frame");
	util_raw_send(s, &f);
	f = util_frame(0x3C1, 0, "0122");
	util_raw_send(s, &f);
	f = util_frame(0x3C1, 0, "02");
	util_raw_send(s, &f);
	sc_expect_frame(p, "< frame 3C1 ", " 02  >", "byte 0 changed");
	ck_assert_uint_eq(notes(p, "< frame", "", 4, SETTLE_MS), 0);
	close(s);
	sc_close(p);
}
END_TEST

/* Byte 0 the multiplexer, 0x33 and 0x44 in turn; byte 1 counts. */
static void muxed(int i, char *hex)
{
	snprintf(hex, 17, "%02X%02X", i % 2 ? 0x44 : 0x33, (i / 2) & 0xff);
}

START_TEST(test_muxfilter_throttle)
{
	struct sc_peer *p = sc_open_bus(SC_PEER, "vcan0", NULL);
	int s = util_raw_open("vcan0", 0);
	double sent;
	size_t n;

	/* Mux mask FF in byte 0; for value 33, byte 1 is watched. */
	sc_write(p, "< muxfilter 0 300000 3C2 2 FF 00 00 00 00 00 00 00 33 FF "
		    "00 00 00 00 00 00 >");
	sc_sync(p);
	/* 60 changes of value 33 among 120 frames. */
	sent = pace(s, 0x3C2, 120, muxed);
	n = notes(p, "< frame 3C2 ", " 33 ", 100, 500);
	check_throttle(n, 0.3, sent, 60, "muxfilter throttled to 300 ms");
	close(s);
	sc_close(p);
}
END_TEST

START_TEST(test_jobs_end_with_mode)
{
	struct sc_peer *p = sc_open_bus(SC_PEER, "vcan0", NULL);
	cand_t *h = util_open("vcan0");
	struct cand_frame f[8];
	int base = util_daemon_can_sockets();

	sc_write(p, "< add 0 20000 3D1 0 >");
	sc_write(p, "< subscribe 0 0 3D2 >");
	sc_sync(p);
	ck_assert_uint_eq(collect_id(h, 0x3D1, f, 2, 2000), 2);
	ck_assert_int_eq(util_daemon_can_sockets(), base + 2);
	sc_write(p, "< rawmode >");
	sc_expect(p, "< ok >", "rawmode");
	sc_sync(p);
	ck_assert_int_eq(util_daemon_can_sockets(), base);
	collect_id(h, 0x3D1, f, 8, 60);
	ck_assert_uint_eq(collect_id(h, 0x3D1, f, 8, 300), 0);
	cand_close(h);
	sc_close(p);
}
END_TEST

Suite *sc_bcm_suite(void)
{
	Suite *s = suite_create("socketcand_bcm");
	TCase *tc = util_tcase("bcm");

	tcase_add_test(tc, test_add_update_delete);
	tcase_add_test(tc, test_add_replaces);
	tcase_add_test(tc, test_subscribe);
	tcase_add_test(tc, test_subscribe_throttle);
	tcase_add_test(tc, test_filter);
	tcase_add_test(tc, test_muxfilter_throttle);
	tcase_add_test(tc, test_jobs_end_with_mode);
	suite_add_tcase(s, tc);
	return s;
}
