/*
 * Frames through cand in both directions, checked against can-utils and raw
 * CAN_RAW sockets: classic, extended, RTR, error and FD frames, batches,
 * timestamps, and a real (emulated SJA1000) controller when there is one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/can/error.h>

#include "util.h"

/* candump -L's "(1700000000.123456) " prefix removed, line by line. */
static char *strip_timestamps(const char *out)
{
	char *res = malloc(strlen(out) + 1), *w = res;
	const char *line = out, *nl;

	ck_assert_ptr_nonnull(res);
	while (*line != '\0') {
		nl = strchr(line, '\n');
		if (nl == NULL)
			nl = line + strlen(line);
		if (*line == '(') {
			const char *sp = memchr(line, ' ', (size_t)(nl - line));

			line = sp != NULL ? sp + 1 : nl;
		}
		memcpy(w, line, (size_t)(nl - line));
		w += nl - line;
		if (*nl == '\n')
			*w++ = '\n';
		line = *nl == '\n' ? nl + 1 : nl;
	}
	*w = '\0';
	return res;
}

static void spawn_candump(struct util_proc *p, const char *count,
			  const char *ifname)
{
	char *argv[] = {"candump",     "-L",	       "-n",
			(char *)count, (char *)ifname, NULL};

	util_spawn_listener(p, argv, ifname);
}

static void hex_of(const uint8_t *d, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02X", d[i]);
	out[2 * n] = '\0';
}

START_TEST(test_cansend_to_client)
{
	cand_t *h = util_open("vcan0");
	struct cand_frame f, want;

	ck_assert_int_eq(util_sh("cansend vcan0 123#DEADBEEF"), 0);
	util_recv_ok(h, &f, "cansend 123#DEADBEEF");
	want = util_frame(0x123, 0, "DEADBEEF");
	util_assert_frame(&f, &want, "cansend 123#DEADBEEF");
	ck_assert_str_eq(f.ifname, "vcan0");
	ck_assert_uint_eq(f.flags & CAND_FRAME_OWN, 0);

	ck_assert_int_eq(util_sh("cansend vcan0 1ABCDEF0#1122334455667788"), 0);
	util_recv_ok(h, &f, "cansend 1ABCDEF0#...");
	want = util_frame(0x1ABCDEF0, CAND_FRAME_EXTENDED, "1122334455667788");
	util_assert_frame(&f, &want, "cansend extended");

	ck_assert_int_eq(util_sh("cansend vcan0 5AA#"), 0);
	util_recv_ok(h, &f, "cansend 5AA#");
	want = util_frame(0x5AA, 0, "");
	util_assert_frame(&f, &want, "cansend empty frame");
	util_recv_none(h, SETTLE_MS, "after three cansends");
	cand_close(h);
}
END_TEST

START_TEST(test_client_to_candump)
{
	struct util_proc p;
	cand_t *h = util_open("vcan0");
	struct cand_frame f = util_frame(0x123, 0, "DEADBEEF");
	char *out, *lines;
	int st;

	spawn_candump(&p, "1", "vcan0");
	util_send(h, &f, 1);
	out = util_proc_finish(&p, RX_TIMEOUT_MS, &st);
	ck_assert_msg(st == 0, "candump -n1 did not exit 0 (%d): %s", st, out);
	lines = strip_timestamps(out);
	ck_assert_str_eq(lines, "vcan0 123#DEADBEEF\n");
	ck_assert_msg(out[0] == '(', "candump -L line without timestamp: %s",
		      out);
	free(lines);
	free(out);
	cand_close(h);
}
END_TEST

START_TEST(test_client_to_raw)
{
	cand_t *h = util_open("vcan0");
	int s = util_raw_open("vcan0", 0);
	struct cand_frame want[3], got;
	int i;

	want[0] = util_frame(0x7FF, 0, "0102030405060708");
	want[1] = util_frame(0x1FFFFFFF, CAND_FRAME_EXTENDED, "AA");
	want[2] = util_frame(0x000, 0, "");
	for (i = 0; i < 3; i++) {
		util_send(h, &want[i], 1);
		util_raw_recv_ok(s, &got, "frame sent through cand");
		util_assert_frame(&got, &want[i], "raw observer");
	}
	util_raw_recv_none(s, SETTLE_MS, "after three sends");
	cand_close(h);
}
END_TEST

/* Several frames in one cand_send arrive in order; timeout 0 = try once. */
START_TEST(test_send_batch_in_order)
{
	cand_t *h = util_open("vcan0");
	int s = util_raw_open("vcan0", 0);
	struct cand_frame batch[16], got;
	int i, rc;

	for (i = 0; i < 16; i++) {
		char hex[8];

		snprintf(hex, sizeof(hex), "%02X%02X", i, 0xA0 + i);
		batch[i] =
			util_frame(0x200 + (uint32_t)i,
				   i % 3 == 0 ? CAND_FRAME_EXTENDED : 0, hex);
	}
	rc = cand_send(h, batch, 16, 0);
	ck_assert_msg(rc == 16, "cand_send(16, timeout 0): %d %s (%s)", rc,
		      cand_strerror(rc), cand_last_detail(h));
	for (i = 0; i < 16; i++) {
		util_raw_recv_ok(s, &got, "batch frame");
		util_assert_frame(&got, &batch[i], "batch order");
	}
	util_raw_recv_none(s, SETTLE_MS, "after the batch");
	cand_close(h);
}
END_TEST

/*
 * More frames than libcand puts in one request (4096) and than the TX
 * queue holds: the daemon waits for room within the timeout, and all of
 * them arrive, in order.
 */
START_TEST(test_send_large_batch)
{
	enum { N = 5000 };
	cand_t *h = util_open("vcan0");
	int s = util_raw_open("vcan0", RAW_BIGBUF);
	struct cand_frame *batch = calloc(N, sizeof(*batch)), got;
	int i, rc;

	ck_assert_ptr_nonnull(batch);
	for (i = 0; i < N; i++) {
		batch[i] = util_frame(0x400 + (uint32_t)(i % 256), 0, "0000");
		batch[i].data[0] = (uint8_t)(i >> 8);
		batch[i].data[1] = (uint8_t)i;
	}
	rc = cand_send(h, batch, N, 10000);
	ck_assert_msg(rc == N, "cand_send(%d, timeout 10 s): %d %s (%s)", N, rc,
		      rc < 0 ? cand_strerror(rc) : "", cand_last_detail(h));
	for (i = 0; i < N; i++) {
		char what[48];

		snprintf(what, sizeof(what), "frame %d of %d", i, N);
		util_raw_recv_ok(s, &got, what);
		util_assert_frame(&got, &batch[i], what);
	}
	util_raw_recv_none(s, SETTLE_MS, "after the batch");
	free(batch);
	cand_close(h);
}
END_TEST

START_TEST(test_rtr_both_ways)
{
	cand_t *h = util_open("vcan0");
	int s;
	struct cand_frame f, want;

	ck_assert_int_eq(util_sh("cansend vcan0 123#R"), 0);
	util_recv_ok(h, &f, "cansend 123#R");
	want = util_frame(0x123, CAND_FRAME_REMOTE, "");
	util_assert_frame(&f, &want, "RTR from cansend");

	ck_assert_int_eq(util_sh("cansend vcan0 00000123#R3"), 0);
	util_recv_ok(h, &f, "cansend 00000123#R3");
	want = util_frame(0x123, CAND_FRAME_REMOTE | CAND_FRAME_EXTENDED, "");
	want.len = 3;
	util_assert_frame(&f, &want, "extended RTR with dlc from cansend");

	want = util_frame(0x1F334455, CAND_FRAME_REMOTE | CAND_FRAME_EXTENDED,
			  "");
	want.len = 4;
	s = util_raw_open("vcan0", 0);
	util_send(h, &want, 1);
	util_raw_recv_ok(s, &f, "RTR through cand");
	util_assert_frame(&f, &want, "RTR through cand");
	cand_close(h);
}
END_TEST

/* cansend writes CAN_ERR_FLAG frames for 8-digit ids with bit 29 set. */
START_TEST(test_error_frame_received)
{
	cand_t *h = util_open("vcan0");
	struct cand_frame f, want;

	ck_assert_int_eq(util_sh("cansend vcan0 20000004#0004000000000000"), 0);
	util_recv_ok(h, &f, "error frame from cansend");
	want = util_frame(0x4, CAND_FRAME_ERROR, "0004000000000000");
	util_assert_frame(&f, &want, "error frame (CAN_ERR_CRTL)");
	cand_close(h);
}
END_TEST

START_TEST(test_error_frame_ignored)
{
	struct cand_options o;
	cand_t *h;
	int s = util_raw_open("vcan0", 0);
	struct cand_frame f, err, marker;

	cand_options_init(&o);
	o.channel = "vcan0";
	o.ignore_rx_error_frames = 1;
	h = util_open_opts(&o);
	err = util_frame(CAN_ERR_CRTL | CAN_ERR_BUSERROR, CAND_FRAME_ERROR,
			 "0004000000000000");
	marker = util_frame(0x321, 0, "01");
	util_raw_send(s, &err);
	util_raw_send(s, &marker);
	/* In order on one socket: the marker shows the error was dropped. */
	util_recv_ok(h, &f, "marker after an error frame");
	util_assert_frame(&f, &marker, "ignore_rx_error_frames=1");
	util_recv_none(h, SETTLE_MS, "after the marker");
	cand_close(h);
}
END_TEST

/* candump -L FD line "vcan0 ID##<flags><data>"; FDF (4) may be set. */
static void check_fd_line(const char *line, const char *ifid, int flags,
			  const char *hex)
{
	size_t n = strlen(ifid);
	int fl;

	ck_assert_msg(strncmp(line, ifid, n) == 0 && line[n] == '#' &&
			      line[n + 1] == '#',
		      "candump FD line %s, want %s##%X%s", line, ifid, flags,
		      hex);
	fl = (int)strtol((char[]){line[n + 2], '\0'}, NULL, 16);
	ck_assert_msg((fl & 3) == flags, "FD flags %X in %s, want %X", fl, line,
		      flags);
	ck_assert_msg(strncmp(line + n + 3, hex, strlen(hex)) == 0 &&
			      (line[n + 3 + strlen(hex)] == '\n' ||
			       line[n + 3 + strlen(hex)] == '\0'),
		      "FD data in %s, want %s", line, hex);
}

START_TEST(test_fd_to_candump)
{
	struct util_proc p;
	cand_t *h = util_open_fd("vcan0");
	struct cand_frame fr[3];
	char hex[3][2 * CAND_MAX_DLEN + 1], *out, *lines, *l2, *l3;
	uint8_t d[64];
	int i, st;

	for (i = 0; i < 64; i++)
		d[i] = (uint8_t)(i * 7 + 1);
	hex_of(d, 12, hex[0]);
	hex_of(d, 64, hex[1]);
	hex_of(d, 20, hex[2]);
	fr[0] = util_frame(0x123, CAND_FRAME_FD | CAND_FRAME_BRS, hex[0]);
	fr[1] = util_frame(0x1F334455,
			   CAND_FRAME_FD | CAND_FRAME_BRS | CAND_FRAME_ESI |
				   CAND_FRAME_EXTENDED,
			   hex[1]);
	fr[2] = util_frame(0x456, CAND_FRAME_FD, hex[2]);

	spawn_candump(&p, "3", "vcan0");
	util_send(h, fr, 3);
	out = util_proc_finish(&p, RX_TIMEOUT_MS, &st);
	ck_assert_msg(st == 0, "candump -n3 did not exit 0 (%d): %s", st, out);
	lines = strip_timestamps(out);
	l2 = strchr(lines, '\n');
	ck_assert_ptr_nonnull(l2);
	l3 = strchr(++l2, '\n');
	ck_assert_ptr_nonnull(l3);
	l3++;
	check_fd_line(lines, "vcan0 123", 1, hex[0]);
	check_fd_line(l2, "vcan0 1F334455", 3, hex[1]);
	check_fd_line(l3, "vcan0 456", 0, hex[2]);
	free(lines);
	free(out);
	cand_close(h);
}
END_TEST

START_TEST(test_fd_from_cansend)
{
	cand_t *h = util_open_fd("vcan0");
	struct cand_frame f, want;
	char hex[2 * CAND_MAX_DLEN + 1];
	uint8_t d[64];
	int i;

	for (i = 0; i < 64; i++)
		d[i] = (uint8_t)(0xFF - i);
	hex_of(d, 12, hex);
	ck_assert_int_eq(util_sh("cansend vcan0 123##1%s", hex), 0);
	util_recv_ok(h, &f, "cansend 123##1 (12 bytes)");
	want = util_frame(0x123, CAND_FRAME_FD | CAND_FRAME_BRS, hex);
	util_assert_frame(&f, &want, "FD 12 bytes BRS from cansend");
	ck_assert_str_eq(f.ifname, "vcan0");

	hex_of(d, 64, hex);
	ck_assert_int_eq(util_sh("cansend vcan0 12345678##3%s", hex), 0);
	util_recv_ok(h, &f, "cansend 12345678##3 (64 bytes)");
	want = util_frame(0x12345678,
			  CAND_FRAME_FD | CAND_FRAME_BRS | CAND_FRAME_ESI |
				  CAND_FRAME_EXTENDED,
			  hex);
	util_assert_frame(&f, &want, "FD 64 bytes BRS ESI from cansend");

	/* A classic frame on an FD channel stays classic. */
	ck_assert_int_eq(util_sh("cansend vcan0 321#0102"), 0);
	util_recv_ok(h, &f, "classic on an FD channel");
	want = util_frame(0x321, 0, "0102");
	util_assert_frame(&f, &want, "classic frame on an FD channel");
	cand_close(h);
}
END_TEST

/* proto: FD lengths round up to a valid size (13 -> 16). */
START_TEST(test_fd_length_rounds_up)
{
	cand_t *h = util_open_fd("vcan0");
	int s = util_raw_open("vcan0", RAW_FD);
	struct cand_frame f, got;
	int i;

	f = util_frame(0x123, CAND_FRAME_FD, "0102030405060708090A0B0C0D");
	util_send(h, &f, 1);
	util_raw_recv_ok(s, &got, "13-byte FD frame");
	ck_assert_uint_eq(got.flags & CAND_FRAME_FD, CAND_FRAME_FD);
	ck_assert_uint_eq(got.len, 16);
	ck_assert_mem_eq(got.data, f.data, 13);
	for (i = 13; i < 16; i++)
		ck_assert_uint_eq(got.data[i], 0);
	cand_close(h);
}
END_TEST

START_TEST(test_timestamps_absolute)
{
	cand_t *h = util_open("vcan0");
	struct cand_frame f;
	uint64_t before, after;

	before = util_now_ns();
	ck_assert_int_eq(util_sh("cansend vcan0 123#01"), 0);
	util_recv_ok(h, &f, "timestamped frame");
	after = util_now_ns();
	ck_assert_msg(f.timestamp_ns != 0, "no timestamp");
	ck_assert_msg(f.timestamp_ns + 1000000000ull >= before &&
			      f.timestamp_ns <= after + 1000000000ull,
		      "timestamp %llu not within a second of [%llu, %llu]",
		      (unsigned long long)f.timestamp_ns,
		      (unsigned long long)before, (unsigned long long)after);
	/* Received, so stamped before we got it. */
	ck_assert_msg(f.timestamp_ns >= before - 1000000ull &&
			      f.timestamp_ns <= after,
		      "timestamp %llu outside the send window [%llu, %llu]",
		      (unsigned long long)f.timestamp_ns,
		      (unsigned long long)before, (unsigned long long)after);
	cand_close(h);
}
END_TEST

/* Busy-waits: usleep() overshoots by far more than 200 us in a VM. */
static void spin_us(unsigned us)
{
	uint64_t end = util_now_ns() + (uint64_t)us * 1000u;

	while (util_now_ns() < end)
		;
}

/*
 * Frames sent ~200 us apart: their timestamps differ by less than 1 ms and
 * are not whole milliseconds. The sender's own clock says which pairs
 * really were sent less than 600 us apart (an emulated VM stalls now and
 * then); most of those must show a gap in (0, 1 ms).
 */
START_TEST(test_timestamps_submillisecond)
{
	enum { N = 30, ROUNDS = 5 };
	cand_t *h = util_open("vcan0");
	int s = util_raw_open("vcan0", 0);
	struct cand_frame f, got[N];
	uint64_t sent_at[N], diff, sdiff;
	int i, round, not_whole_ms = 0, eligible = 0, sub_ms = 0;

	for (round = 0; round < ROUNDS && eligible < 10; round++) {
		for (i = 0; i < N; i++) {
			f = util_frame(0x100 + (uint32_t)i, 0, "00");
			sent_at[i] = util_now_ns();
			util_raw_send(s, &f);
			spin_us(200);
		}
		for (i = 0; i < N; i++) {
			util_recv_ok(h, &got[i], "timestamp series");
			ck_assert_uint_eq(got[i].id, 0x100 + (uint32_t)i);
			if (got[i].timestamp_ns % 1000000u != 0)
				not_whole_ms++;
			if (i == 0)
				continue;
			ck_assert_msg(got[i].timestamp_ns >=
					      got[i - 1].timestamp_ns,
				      "timestamps go backwards at frame %d", i);
			sdiff = sent_at[i] - sent_at[i - 1];
			if (sdiff >= 600000u)
				continue;
			eligible++;
			diff = got[i].timestamp_ns - got[i - 1].timestamp_ns;
			if (diff > 0 && diff < 1000000u)
				sub_ms++;
		}
	}
	ck_assert_msg(not_whole_ms > 0,
		      "all %d timestamps are whole milliseconds", round * N);
	ck_assert_msg(eligible >= 10,
		      "could not send frames 200 us apart (%d pairs in %d "
		      "rounds)",
		      eligible, round);
	ck_assert_msg(sub_ms * 10 >= eligible * 8,
		      "only %d of %d frame pairs sent < 600 us apart show a "
		      "timestamp gap in (0, 1 ms)",
		      sub_ms, eligible);
	cand_close(h);
}
END_TEST

/* can0 and can1 share one emulated bus: through a real controller. */
START_TEST(test_hardware_can0_to_can1)
{
	cand_t *h;
	int s;
	struct cand_frame f, got;

	if (!util_have_iface("can0") || !util_have_iface("can1")) {
		fprintf(stderr, "test_hardware_can0_to_can1: no can0/can1, "
				"skipped\n");
		return;
	}
	h = util_open("can0");
	s = util_raw_open("can1", 0);
	f = util_frame(0x123, 0, "DEADBEEF");
	util_send(h, &f, 1);
	util_raw_recv_ok(s, &got, "can0 -> can1 over the bus");
	util_assert_frame(&got, &f, "can0 -> can1");

	f = util_frame(0x1ABCDEF0, CAND_FRAME_EXTENDED, "0102030405060708");
	util_raw_send(s, &f);
	util_recv_ok(h, &got, "can1 -> can0 over the bus");
	util_assert_frame(&got, &f, "can1 -> can0");
	ck_assert_str_eq(got.ifname, "can0");
	cand_close(h);
}
END_TEST

Suite *relay_suite(void)
{
	Suite *s = suite_create("relay");
	TCase *tc = util_tcase("classic");

	tcase_add_test(tc, test_cansend_to_client);
	tcase_add_test(tc, test_client_to_candump);
	tcase_add_test(tc, test_client_to_raw);
	tcase_add_test(tc, test_send_batch_in_order);
	tcase_add_test(tc, test_send_large_batch);
	tcase_add_test(tc, test_rtr_both_ways);
	tcase_add_test(tc, test_error_frame_received);
	tcase_add_test(tc, test_error_frame_ignored);
	suite_add_tcase(s, tc);

	tc = util_tcase("fd");
	tcase_add_test(tc, test_fd_to_candump);
	tcase_add_test(tc, test_fd_from_cansend);
	tcase_add_test(tc, test_fd_length_rounds_up);
	suite_add_tcase(s, tc);

	tc = util_tcase("timestamps");
	tcase_add_test(tc, test_timestamps_absolute);
	tcase_add_test(tc, test_timestamps_submillisecond);
	suite_add_tcase(s, tc);

	tc = util_tcase("hardware");
	tcase_add_test(tc, test_hardware_can0_to_can1);
	suite_add_tcase(s, tc);
	return s;
}
