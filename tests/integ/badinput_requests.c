/*
 * Invalid requests through libcand: unknown interfaces, frames the bus
 * cannot carry, batches with a bad frame, calls out of order. Each gets
 * its error, and the connection goes on working.
 */
#include <unistd.h>

#include "badinput.h"
#include "util.h"

/* cand_send of one frame fails with want, and says so. */
static void bi_refused(cand_t *h, const struct cand_frame *f, int want,
		       const char *what)
{
	int rc = cand_send(h, f, 1, 0);

	ck_assert_msg(rc == want, "%s: %d %s, want %s", what, rc,
		      cand_strerror(rc), cand_strerror(want));
}

/* f sent through h is on the bus, as s reads it. */
static void bi_goes_out(cand_t *h, int s, const struct cand_frame *f,
			const char *what)
{
	struct cand_frame got;

	util_send(h, f, 1);
	util_raw_recv_ok(s, &got, what);
	util_assert_frame(&got, f, what);
}

START_TEST(test_unknown_interface)
{
	struct cand_options o;
	cand_t *h = util_connect();
	int s = util_raw_open("vcan0", 0);
	struct cand_frame f = util_frame(0x123, 0, "11"), got;
	int rc;

	cand_options_init(&o);
	o.channel = "nosuchcan9";
	rc = cand_open(h, &o);
	ck_assert_msg(rc == CAND_ENODEV, "open nosuchcan9: %d %s, want ENODEV",
		      rc, cand_strerror(rc));
	ck_assert_msg(cand_last_detail(h)[0] != '\0',
		      "no detail for the unknown interface");

	o.channel = "vcan0";
	rc = cand_open(h, &o);
	ck_assert_msg(rc == 0, "open vcan0 after a failed open: %s (%s)",
		      cand_strerror(rc), cand_last_detail(h));
	bi_goes_out(h, s, &f, "send after a failed open");
	f = util_frame(0x124, 0, "22");
	util_raw_send(s, &f);
	util_recv_ok(h, &got, "receive after a failed open");
	util_assert_frame(&got, &f, "receive after a failed open");
	cand_close(h);
}
END_TEST

START_TEST(test_classic_nine_bytes)
{
	cand_t *h = util_open("vcan0");
	int s = util_raw_open("vcan0", RAW_FD);
	struct cand_frame f = util_frame(0x123, 0, "010203040506070809");

	ck_assert_uint_eq(f.len, 9);
	bi_refused(h, &f, CAND_EINVAL, "9 data bytes in a classic frame");
	util_raw_recv_none(s, SETTLE_MS, "after the refused send");

	f = util_frame(0x123, 0, "0102030405060708");
	bi_goes_out(h, s, &f, "valid send after EINVAL");
	cand_close(h);
}
END_TEST

START_TEST(test_bad_ids)
{
	cand_t *h = util_open("vcan0");
	int s = util_raw_open("vcan0", 0);
	struct cand_frame f = util_frame(0x800, 0, "01");

	bi_refused(h, &f, CAND_EINVAL, "11-bit id 0x800");
	f = util_frame(0x20000000, CAND_FRAME_EXTENDED, "01");
	bi_refused(h, &f, CAND_EINVAL, "29-bit id 0x20000000");
	util_raw_recv_none(s, SETTLE_MS, "after refused sends");

	f = util_frame(0x7FF, 0, "01");
	bi_goes_out(h, s, &f, "valid send after EINVAL");
	cand_close(h);
}
END_TEST

/*
 * A batch whose second frame the daemon refuses (an 11-bit id over 0x7FF):
 * the first frame is on the bus, the rest is not, and cand_send says so
 * by returning the count sent (1), as it does for later chunks, so that a
 * caller does not send the first frame twice.
 */
START_TEST(test_batch_stops_at_bad_frame)
{
	cand_t *h = util_open("vcan0");
	int s = util_raw_open("vcan0", 0);
	struct cand_frame fr[3], got;
	int rc;

	fr[0] = util_frame(0x301, 0, "01");
	fr[1] = util_frame(0x800, 0, "02");
	fr[2] = util_frame(0x303, 0, "03");
	rc = cand_send(h, fr, 3, 0);
	util_raw_recv_ok(s, &got, "first frame of the batch");
	util_assert_frame(&got, &fr[0], "first frame of the batch");
	util_raw_recv_none(s, SETTLE_MS, "frames after the bad one");
	ck_assert_msg(rc == 1,
		      "batch [ok, id 0x800, ok]: cand_send returned %d (%s), "
		      "but frame 0 was sent: want 1",
		      rc, rc < 0 ? cand_strerror(rc) : "");
	cand_close(h);
}
END_TEST

/* A frame libcand can check itself spoils the whole batch up front. */
START_TEST(test_batch_with_invalid_frame_sends_nothing)
{
	cand_t *h = util_open("vcan0");
	int s = util_raw_open("vcan0", RAW_FD);
	struct cand_frame fr[3];
	int rc;

	fr[0] = util_frame(0x301, 0, "01");
	fr[1] = util_frame(0x302, 0, "010203040506070809");
	fr[2] = util_frame(0x303, 0, "03");
	rc = cand_send(h, fr, 3, 0);
	ck_assert_msg(rc == CAND_EINVAL,
		      "batch with a 9-byte classic frame: %d", rc);
	util_raw_recv_none(s, SETTLE_MS, "a batch with an invalid frame");
	cand_close(h);
}
END_TEST

START_TEST(test_fd_frame_on_classic_channel)
{
	cand_t *h = util_open("vcan0");
	int s = util_raw_open("vcan0", RAW_FD);
	struct cand_frame f;

	f = util_frame(0x123, CAND_FRAME_FD | CAND_FRAME_BRS,
		       "0102030405060708090A0B0C");
	bi_refused(h, &f, CAND_EUNSUPP, "FD frame without fd=1");
	/* Even a short FD frame is refused. */
	f = util_frame(0x123, CAND_FRAME_FD, "01");
	bi_refused(h, &f, CAND_EUNSUPP, "1-byte FD frame without fd=1");
	util_raw_recv_none(s, SETTLE_MS, "after refused FD sends");

	f = util_frame(0x124, 0, "01");
	bi_goes_out(h, s, &f, "classic send after EUNSUPP");
	cand_close(h);
}
END_TEST

/* A channel opened without fd never sees FD frames: the kernel drops them. */
START_TEST(test_fd_frame_not_delivered_to_classic_channel)
{
	cand_t *h = util_open("vcan0");
	struct cand_frame f, got;

	ck_assert_int_eq(util_sh("cansend vcan0 123##1112233"), 0);
	ck_assert_int_eq(util_sh("cansend vcan0 124#44"), 0);
	util_recv_ok(h, &got, "classic frame after an FD one");
	f = util_frame(0x124, 0, "44");
	util_assert_frame(&got, &f, "only the classic frame arrives");
	cand_close(h);
}
END_TEST

START_TEST(test_send_before_open)
{
	cand_t *h = util_connect();
	struct cand_frame f = util_frame(0x123, 0, "01");
	int rc = cand_send(h, &f, 1, 0);

	ck_assert_msg(rc == CAND_ENOTOPEN, "send before open: %d %s", rc,
		      cand_strerror(rc));
	rc = cand_set_filters(h, NULL, 0);
	ck_assert_msg(rc == CAND_ENOTOPEN, "set_filters before open: %d %s", rc,
		      cand_strerror(rc));
	cand_close(h);
}
END_TEST

START_TEST(test_open_twice)
{
	struct cand_options o;
	cand_t *h = util_open("vcan0");
	int rc;

	cand_options_init(&o);
	o.channel = "vcan1";
	rc = cand_open(h, &o);
	ck_assert_msg(rc == CAND_EALREADY, "second open: %d %s", rc,
		      cand_strerror(rc));
	cand_close(h);
}
END_TEST

void badinput_requests_tests(TCase *tc)
{
	tcase_add_test(tc, test_unknown_interface);
	tcase_add_test(tc, test_classic_nine_bytes);
	tcase_add_test(tc, test_bad_ids);
	tcase_add_test(tc, test_batch_stops_at_bad_frame);
	tcase_add_test(tc, test_batch_with_invalid_frame_sends_nothing);
	tcase_add_test(tc, test_fd_frame_on_classic_channel);
	tcase_add_test(tc, test_fd_frame_not_delivered_to_classic_channel);
	tcase_add_test(tc, test_send_before_open);
	tcase_add_test(tc, test_open_twice);
}
