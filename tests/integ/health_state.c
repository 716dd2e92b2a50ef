/*
 * Reading the state: a vcan, a controller, every interface, unknown ones,
 * and the link statistics of frames between can0 and can1.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "health.h"

/* vcan1: other tests write error frames to vcan0, which then has a state. */
START_TEST(test_state_vcan_not_applicable)
{
	cand_t *h = util_connect();
	struct cand_bus_state s = one_state(h, "vcan1");

	ck_assert_str_eq(s.link.name, "vcan1");
	ck_assert_str_eq(s.link.kind, "vcan");
	ck_assert_int_eq(s.link.hardware, 0);
	ck_assert_int_eq(s.link.up, 1);
	ck_assert_uint_eq(s.link.mtu, 16);
	/* Not an error, and not a fake ERROR-ACTIVE. */
	ck_assert_int_eq(s.state, CAND_STATE_NONE);
	ck_assert_int_eq(s.controller, 0);
	ck_assert_int_eq(s.has_error_counters, 0);
	ck_assert_uint_eq(s.config.bitrate, 0);
	ck_assert_int_eq(s.has_stats, 1);
	cand_close(h);
}
END_TEST

START_TEST(test_state_controller)
{
	cand_t *h = util_connect();
	struct cand_bus_state s = one_state(h, "can0");

	ck_assert_str_eq(s.link.kind, "can");
	ck_assert_int_eq(s.link.hardware, 1);
	ck_assert_int_eq(s.link.up, 1);
	ck_assert_int_eq(s.running, 1);
	ck_assert_uint_eq(s.link.mtu, 16);
	ck_assert_int_eq(s.controller, 1);
	ck_assert_msg(s.state == CAND_STATE_ERROR_ACTIVE, "can0 is %s",
		      cand_state_name(s.state));
	ck_assert_int_eq(s.state_from_error_frames, 0);
	ck_assert_int_eq(s.has_error_counters, 1);
	ck_assert_uint_eq(s.tx_errors, 0);
	ck_assert_uint_eq(s.rx_errors, 0);
	ck_assert_uint_eq(s.config.bitrate, 500000);
	ck_assert_uint_eq(s.config.sample_point, 875);
	ck_assert_uint_eq(s.config.restart_ms, 100);
	ck_assert_uint_eq(s.config.data_bitrate, 0);
	ck_assert_uint_eq(s.config.clock_hz, 8000000);
	ck_assert_msg(s.config.ctrlmode_supported & CAND_CTRLMODE_LISTEN_ONLY,
		      "the SJA1000 can listen only; supported 0x%x",
		      s.config.ctrlmode_supported);
	ck_assert_int_eq(s.has_stats, 1);
	ck_assert_msg(strstr(s.busoff_policy, "restart-ms 100") != NULL,
		      "policy: %s", s.busoff_policy);
	cand_close(h);
}
END_TEST

START_TEST(test_state_all)
{
	static const char *const want[] = {"can0", "can1", "vcan0", "vcan1"};
	cand_t *h = util_connect();
	struct cand_bus_state *v;
	size_t i;
	int n, j, found;

	n = cand_bus_state(h, NULL, &v);
	ck_assert_msg(n >= 4, "cand_bus_state(all): %d", n);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		found = 0;
		for (j = 0; j < n; j++)
			found |= strcmp(v[j].link.name, want[i]) == 0;
		ck_assert_msg(found, "%s missing from the state of all",
			      want[i]);
	}
	free(v);
	cand_close(h);
}
END_TEST

START_TEST(test_state_unknown_interface)
{
	cand_t *h = util_connect();
	struct cand_bus_state *v = NULL;
	int rc = cand_bus_state(h, "nosuchcan9", &v);

	ck_assert_msg(rc == CAND_ENODEV, "state nosuchcan9: %d %s", rc,
		      cand_strerror(rc));
	ck_assert_ptr_null(v);
	ck_assert_msg(strstr(cand_last_detail(h), "nosuchcan9") != NULL,
		      "detail: %s", cand_last_detail(h));
	/* lo exists but is no CAN interface, and the reply says so. */
	rc = cand_bus_state(h, "lo", &v);
	ck_assert_int_eq(rc, CAND_ENODEV);
	ck_assert_msg(strstr(cand_last_detail(h), "not a CAN") != NULL,
		      "detail: %s", cand_last_detail(h));
	cand_close(h);
}
END_TEST

/* Frames between the two controllers, counted in both link statistics. */
START_TEST(test_state_counts_frames_between_controllers)
{
	cand_t *st = util_connect();
	cand_t *tx = util_open("can0");
	int rx = util_raw_open("can1", 0);
	struct cand_bus_state a0 = one_state(st, "can0"), b0, a1, b1;
	struct cand_frame f = util_frame(0x321, 0, "C0FFEE"), got;
	int i;

	b0 = one_state(st, "can1");
	for (i = 0; i < 3; i++) {
		f.data[0] = (uint8_t)i;
		util_send(tx, &f, 1);
		util_raw_recv_ok(rx, &got, "can0 -> can1");
		util_assert_frame(&got, &f, "can0 -> can1");
	}
	/*
	 * can1 may hold the last frame before can0's TX-complete interrupt
	 * has counted it: give the sender's counter the usual frame timeout.
	 */
	for (i = 0; i < RX_TIMEOUT_MS / 10; i++) {
		a1 = one_state(st, "can0");
		if (a1.stats.tx_packets >= a0.stats.tx_packets + 3)
			break;
		usleep(10000);
	}
	b1 = one_state(st, "can1");
	ck_assert_msg(a1.stats.tx_packets >= a0.stats.tx_packets + 3,
		      "can0 tx_packets %llu -> %llu",
		      (unsigned long long)a0.stats.tx_packets,
		      (unsigned long long)a1.stats.tx_packets);
	ck_assert_msg(b1.stats.rx_packets >= b0.stats.rx_packets + 3,
		      "can1 rx_packets %llu -> %llu",
		      (unsigned long long)b0.stats.rx_packets,
		      (unsigned long long)b1.stats.rx_packets);
	ck_assert_int_eq(a1.state, CAND_STATE_ERROR_ACTIVE);
	close(rx);
	cand_close(tx);
	cand_close(st);
}
END_TEST

void health_state_tests(TCase *tc)
{
	tcase_add_test(tc, test_state_vcan_not_applicable);
	tcase_add_test(tc, test_state_controller);
	tcase_add_test(tc, test_state_all);
	tcase_add_test(tc, test_state_unknown_interface);
	tcase_add_test(tc, test_state_counts_frames_between_controllers);
}
