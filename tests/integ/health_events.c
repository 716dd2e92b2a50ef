/*
 * Events: the error frame state machine on a vcan of its own, and hot-plug,
 * an interface removed and added again under the same name.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/can/error.h>

#include "health.h"

static void send_err(int s, uint32_t cls, uint8_t crtl, int tx, int rx)
{
	struct cand_frame f = util_frame(cls, CAND_FRAME_ERROR, "");

	f.len = 8;
	f.data[1] = crtl;
	if (tx >= 0) {
		f.id |= CAN_ERR_CNT;
		f.data[6] = (uint8_t)tx;
		f.data[7] = (uint8_t)rx;
	}
	util_raw_send(s, &f);
}

static void expect_state(cand_t *h, enum cand_state prev, enum cand_state st,
			 int tx, const char *what)
{
	struct cand_event ev;

	ev = next_event(h, CAND_EVENT_STATE, EF_IFACE, what);
	ck_assert_msg(ev.state.previous == prev && ev.state.state == st,
		      "%s: %s -> %s, want %s -> %s", what,
		      cand_state_name(ev.state.previous),
		      cand_state_name(ev.state.state), cand_state_name(prev),
		      cand_state_name(st));
	ck_assert_int_eq(ev.state.from_error_frames, 1);
	if (tx >= 0) {
		ck_assert_int_eq(ev.state.has_error_counters, 1);
		ck_assert_uint_eq(ev.state.tx_errors, (unsigned)tx);
	}
}

START_TEST(test_error_frames_drive_state)
{
	cand_t *sub, *bound, *st;
	struct cand_bus_state s;
	struct cand_event ev;
	long mark = util_log_mark();
	char *log;
	int raw;

	ck_assert_int_eq(util_sh("ip link add dev %s type vcan && "
				 "ip link set %s up",
				 EF_IFACE, EF_IFACE),
			 0);
	sub = util_connect();
	ck_assert_int_eq(cand_subscribe(sub, EF_IFACE), 0);
	bound = util_open(EF_IFACE);
	st = util_connect();
	s = one_state(st, EF_IFACE);
	ck_assert_int_eq(s.state, CAND_STATE_NONE);
	raw = util_raw_open(EF_IFACE, 0);

	send_err(raw, CAN_ERR_CRTL, CAN_ERR_CRTL_TX_WARNING, 96, 0);
	expect_state(sub, CAND_STATE_NONE, CAND_STATE_ERROR_WARNING, 96,
		     "warning");
	send_err(raw, CAN_ERR_CRTL, CAN_ERR_CRTL_TX_PASSIVE, 128, 3);
	expect_state(sub, CAND_STATE_ERROR_WARNING, CAND_STATE_ERROR_PASSIVE,
		     128, "passive");
	s = one_state(st, EF_IFACE);
	ck_assert_int_eq(s.state, CAND_STATE_ERROR_PASSIVE);
	ck_assert_int_eq(s.state_from_error_frames, 1);
	ck_assert_uint_eq(s.tx_errors, 128);
	ck_assert_uint_eq(s.rx_errors, 3);
	send_err(raw, CAN_ERR_BUSOFF, 0, -1, -1);
	expect_state(sub, CAND_STATE_ERROR_PASSIVE, CAND_STATE_BUS_OFF, -1,
		     "bus-off");
	send_err(raw, CAN_ERR_RESTARTED, 0, -1, -1);
	expect_state(sub, CAND_STATE_BUS_OFF, CAND_STATE_ERROR_ACTIVE, 0,
		     "restarted");
	/* Back down the other way, via CAN_ERR_CRTL_ACTIVE. */
	send_err(raw, CAN_ERR_CRTL, CAN_ERR_CRTL_RX_WARNING, 0, 100);
	expect_state(sub, CAND_STATE_ERROR_ACTIVE, CAND_STATE_ERROR_WARNING, 0,
		     "rx warning");
	send_err(raw, CAN_ERR_CRTL, CAN_ERR_CRTL_ACTIVE, 0, 90);
	expect_state(sub, CAND_STATE_ERROR_WARNING, CAND_STATE_ERROR_ACTIVE, 0,
		     "active again");
	/* An overflow notice is no state change. */
	send_err(raw, CAN_ERR_CRTL, CAN_ERR_CRTL_RX_OVERFLOW, -1, -1);
	no_event(sub, CAND_EVENT_STATE, EF_IFACE, 300, "overflow only");

	/* The bound client gets the error frames and the events both. */
	ev = next_event(bound, CAND_EVENT_FRAME, EF_IFACE,
			"the first error frame");
	ck_assert_msg(ev.frame.flags & CAND_FRAME_ERROR, "not an error frame");
	expect_state(bound, CAND_STATE_NONE, CAND_STATE_ERROR_WARNING, 96,
		     "bound: warning");

	log = util_log_since(mark);
	ck_assert_msg(strstr(log, EF_IFACE ": BUS-OFF") != NULL,
		      "no bus-off in the log:\n%s", log);
	ck_assert_msg(strstr(log, EF_IFACE ": recovered from bus-off") != NULL,
		      "no recovery in the log:\n%s", log);
	free(log);
	close(raw);
	cand_close(st);
	cand_close(bound);
	cand_close(sub);
	ck_assert_int_eq(util_sh("ip link del %s", EF_IFACE), 0);
}
END_TEST

START_TEST(test_hotplug_rebinds_with_same_filters)
{
	struct cand_filter flt = {.id = 0x100, .mask = 0x700};
	struct cand_options o;
	struct cand_event ev;
	struct cand_frame f, got;
	struct cand_iface *l;
	cand_t *a, *b, *all;
	int raw, rc, n;

	ck_assert_int_eq(util_sh("ip link add dev %s type vcan && "
				 "ip link set %s up",
				 HP_IFACE, HP_IFACE),
			 0);
	cand_options_init(&o);
	o.channel = HP_IFACE;
	o.filters = &flt;
	o.n_filters = 1;
	a = util_open_opts(&o); /* events through cand_recv_event */
	b = util_open_opts(&o); /* the same through cand_recv */
	all = util_connect();
	ck_assert_int_eq(cand_subscribe(all, ""), 0);

	ck_assert_int_eq(util_sh("ip link del %s", HP_IFACE), 0);
	ev = next_event(a, CAND_EVENT_LINK, HP_IFACE, "down before gone");
	ck_assert_int_eq(ev.link.up, 0);
	ck_assert_int_eq(ev.link.removed, 0);
	ev = next_event(a, CAND_EVENT_LINK, HP_IFACE, "removed");
	ck_assert_int_eq(ev.link.removed, 1);
	ck_assert_msg(strstr(ev.detail, "disappeared") != NULL, "detail: %s",
		      ev.detail);
	ev = next_event(all, CAND_EVENT_LINK, HP_IFACE, "all: down");
	ev = next_event(all, CAND_EVENT_LINK, HP_IFACE, "all: removed");
	ck_assert_int_eq(ev.link.removed, 1);
	/* cand_recv reports it as before: down, then gone. */
	rc = cand_recv(b, &got, EV_WAIT_MS);
	ck_assert_msg(rc == CAND_ENETDOWN || rc == CAND_ENODEV,
		      "cand_recv after removal: %s", cand_strerror(rc));
	if (rc == CAND_ENETDOWN)
		rc = cand_recv(b, &got, EV_WAIT_MS);
	ck_assert_msg(rc == CAND_ENODEV, "cand_recv after removal: %s",
		      cand_strerror(rc));

	/* Still connected: requests work, sends say why they cannot. */
	n = cand_list(a, &l);
	ck_assert_msg(n >= 1, "list while gone: %s", cand_strerror(n));
	free(l);
	f = util_frame(0x101, 0, "01");
	rc = cand_send(a, &f, 1, 0);
	ck_assert_msg(rc == CAND_ENODEV, "send while gone: %s",
		      cand_strerror(rc));
	ck_assert_msg(strstr(cand_last_detail(a), "gone") != NULL, "detail: %s",
		      cand_last_detail(a));

	/* Back under the same name: bound again, then up. */
	ck_assert_int_eq(util_sh("ip link add dev %s type vcan", HP_IFACE), 0);
	ev = next_event(a, CAND_EVENT_LINK, HP_IFACE, "appeared");
	ck_assert_int_eq(ev.link.appeared, 1);
	ck_assert_int_eq(ev.link.rebound, 1);
	ev = next_event(all, CAND_EVENT_LINK, HP_IFACE, "all: appeared");
	ck_assert_int_eq(ev.link.appeared, 1);
	ck_assert_int_eq(ev.link.rebound, 0); /* not open at all */
	ck_assert_int_eq(util_sh("ip link set %s up", HP_IFACE), 0);
	ev = next_event(a, CAND_EVENT_LINK, HP_IFACE, "up again");
	ck_assert_int_eq(ev.link.up, 1);

	/* Frames flow, through the same filter, without a new open. */
	raw = util_raw_open(HP_IFACE, 0);
	f = util_frame(0x223, 0, "AA"); /* filtered out */
	util_raw_send(raw, &f);
	f = util_frame(0x1FE, 0, "BB"); /* passes 0x100/0x700 */
	util_raw_send(raw, &f);
	ev = next_event(a, CAND_EVENT_FRAME, HP_IFACE, "a frame again");
	util_assert_frame(&ev.frame, &f, "the first frame after re-binding");
	do {
		rc = cand_recv(b, &got, EV_WAIT_MS);
	} while (rc == CAND_ENETDOWN);
	ck_assert_msg(rc == 1, "cand_recv after re-binding: %s",
		      cand_strerror(rc));
	util_assert_frame(&got, &f, "cand_recv after re-binding");
	f = util_frame(0x102, 0, "CC");
	util_send(a, &f, 1);
	util_raw_recv_ok(raw, &got, "a send after re-binding");
	util_assert_frame(&got, &f, "a send after re-binding");
	close(raw);
	cand_close(all);
	cand_close(b);
	cand_close(a);
	ck_assert_int_eq(util_sh("ip link del %s", HP_IFACE), 0);
}
END_TEST

void health_events_tests(TCase *tc)
{
	tcase_add_test(tc, test_error_frames_drive_state);
	tcase_add_test(tc, test_hotplug_rebinds_with_same_filters);
}
