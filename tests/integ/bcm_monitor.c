/*
 * Content monitors (the kernel's RX_SETUP): a change under each monitor's
 * masks, silence, throttling, multiplexed frames, RTR replies, the ""
 * channel, and how the events mix with frames.
 */
#include <string.h>
#include <unistd.h>

#include "bcm.h"
#include "bcm_timing.h"

static cand_monitor_t *monitor_start(cand_t *h,
				     const struct cand_monitor_opts *o)
{
	cand_monitor_t *m = NULL;
	int rc = cand_monitor_start(h, o, &m);

	ck_assert_msg(rc == 0, "cand_monitor_start: %s (%s)", cand_strerror(rc),
		      cand_last_detail(h));
	return m;
}

static struct cand_mask mask_of(const char *hex)
{
	struct cand_frame f = util_frame(0, 0, hex);
	struct cand_mask m;

	memset(&m, 0, sizeof(m));
	m.len = f.len;
	memcpy(m.data, f.data, f.len);
	return m;
}

static void expect_change(cand_t *h, const cand_monitor_t *m,
			  const struct cand_frame *want, const char *what)
{
	struct cand_event ev;
	char buf[192];
	int rc = next_event(h, &ev, RX_TIMEOUT_MS);

	ck_assert_msg(rc == 1, "%s: no monitor event: %s", what,
		      cand_strerror(rc));
	ck_assert_msg(
		ev.type == CAND_EVENT_MONITOR_CHANGED &&
			ev.id == cand_monitor_id(m),
		"%s: event type %d id %u, want CHANGED of monitor %u (%s)",
		what, ev.type, ev.id, cand_monitor_id(m),
		util_frame_str(&ev.frame, buf, sizeof(buf)));
	util_assert_frame(&ev.frame, want, what);
	ck_assert_msg(ev.frame.timestamp_ns > 0, "%s: no timestamp", what);
}

static void expect_no_event(cand_t *h, int ms, const char *what)
{
	struct cand_event ev;
	char buf[192];
	int rc = next_event(h, &ev, ms);

	ck_assert_msg(rc == CAND_ETIMEOUT,
		      "%s: expected no event, got rc %d type %d id %u %s", what,
		      rc, ev.type, ev.id,
		      util_frame_str(&ev.frame, buf, sizeof(buf)));
}

/* Once per change under the mask, never for repeats; masks are per monitor. */
START_TEST(test_monitor_change_once)
{
	cand_t *h = util_open("vcan0");
	int s = util_raw_open("vcan0", 0);
	struct cand_mask byte0 = mask_of("FF"), byte1 = mask_of("00FF");
	struct cand_monitor_opts o;
	cand_monitor_t *m0, *m1;
	struct cand_frame f1 = util_frame(0x600, 0, "0100");
	struct cand_frame f2 = util_frame(0x600, 0, "0155");
	struct cand_frame f3 = util_frame(0x600, 0, "0255");
	struct cand_frame other = util_frame(0x601, 0, "09");
	struct cand_event ev;

	cand_monitor_opts_init(&o);
	o.id = 0x600;
	o.masks = &byte0;
	o.n_masks = 1;
	m0 = monitor_start(h, &o);
	o.masks = &byte1;
	m1 = monitor_start(h, &o);

	util_raw_send(s, &f1);
	util_raw_send(s, &f1);
	util_raw_send(s, &other);
	util_raw_send(s, &f2);
	util_raw_send(s, &f2);
	util_raw_send(s, &f3);
	util_raw_send(s, &f3);
	/* Each monitor's events in order; the two interleave freely. */
	{
		const struct cand_frame *want0[] = {&f1, &f3};
		const struct cand_frame *want1[] = {&f1, &f2};
		size_t i0 = 0, i1 = 0;

		while (i0 < 2 || i1 < 2) {
			ck_assert_msg(next_event(h, &ev, RX_TIMEOUT_MS) == 1,
				      "missing changes: %zu of byte 0, %zu of "
				      "byte 1",
				      i0, i1);
			ck_assert_int_eq(ev.type, CAND_EVENT_MONITOR_CHANGED);
			if (ev.id == cand_monitor_id(m0)) {
				ck_assert_uint_lt(i0, 2);
				util_assert_frame(&ev.frame, want0[i0++],
						  "byte 0 change");
			} else {
				ck_assert_uint_eq(ev.id, cand_monitor_id(m1));
				ck_assert_uint_lt(i1, 2);
				util_assert_frame(&ev.frame, want1[i1++],
						  "byte 1 change");
			}
			ck_assert_str_eq(ev.frame.ifname, "vcan0");
		}
	}
	expect_no_event(h, SETTLE_MS, "repeats");
	cand_monitor_free(m1);
	util_raw_send(s, &f1);
	expect_change(h, m0, &f1, "byte 0 back to 01");
	expect_no_event(h, SETTLE_MS, "the freed monitor");
	cand_monitor_free(m0);
	close(s);
	cand_close(h);
}
END_TEST

/* "This ECU went silent": one timeout when the sender stops. */
START_TEST(test_monitor_timeout_when_sender_stops)
{
	cand_t *sender = util_open("vcan0");
	cand_t *h = util_open("vcan0");
	struct cand_frame f = util_frame(0x610, 0, "11");
	struct cand_monitor_opts o;
	struct cand_event ev;
	cand_monitor_t *m;
	cand_task_t *t;
	uint64_t last = 0;
	int64_t end;
	int rc;

	cand_monitor_opts_init(&o);
	o.id = 0x610;
	o.timeout_us = 200 * MS;
	t = task_start(sender, &f, 1, 50 * MS, 0, 0);
	m = monitor_start(h, &o);
	/* Frames every 50 ms keep it quiet... */
	end = mono_ms() + 600;
	while (mono_ms() < end) {
		rc = cand_recv_event(h, &ev, 100);
		if (rc == CAND_ETIMEOUT)
			continue;
		ck_assert_msg(rc == 1, "receive: %s", cand_strerror(rc));
		ck_assert_msg(ev.type != CAND_EVENT_MONITOR_TIMEOUT,
			      "a timeout while frames came every 50 ms");
		if (ev.type == CAND_EVENT_FRAME && ev.frame.id == 0x610)
			last = ev.frame.timestamp_ns;
	}
	/* ...until they stop. */
	ck_assert_int_eq(cand_task_stop(t), 0);
	for (;;) {
		rc = cand_recv_event(h, &ev, RX_TIMEOUT_MS);
		ck_assert_msg(rc == 1,
			      "no timeout after the sender stopped: %s",
			      cand_strerror(rc));
		if (ev.type == CAND_EVENT_FRAME && ev.frame.id == 0x610)
			last = ev.frame.timestamp_ns;
		else if (ev.type == CAND_EVENT_MONITOR_TIMEOUT)
			break;
	}
	ck_assert_msg(last > 0, "no frame seen");
	ck_assert_uint_eq(ev.id, cand_monitor_id(m));
	ck_assert_msg(ev.frame.timestamp_ns >= last + 199 * NS_PER_MS,
		      "timeout %.3f ms after the last frame, want >= 200",
		      (ev.frame.timestamp_ns - last) / 1e6);
	ck_assert_str_eq(ev.frame.ifname, "vcan0");
	/* Once per silence, not every 200 ms. */
	expect_no_event(h, 600, "a second timeout");
	cand_task_free(t);
	cand_monitor_free(m);
	cand_close(h);
	cand_close(sender);
}
END_TEST

/*
 * Frames that change every 10 ms: unthrottled, a change per frame;
 * throttled at 200 ms, at most one per 200 ms.
 */
static void throttle_attempt(struct verdict *v)
{
	cand_t *sender = util_open("vcan0");
	cand_t *h = util_open("vcan0");
	struct cand_frame f[2] = {util_frame(0x620, 0, "01"),
				  util_frame(0x620, 0, "02")};
	struct cand_filter none = {.id = 0, .mask = 0, .invert = 1};
	struct cand_monitor_opts o;
	cand_monitor_t *fast, *slow;
	struct cand_event ev;
	cand_task_t *t;
	uint64_t first = 0;
	size_t nfast = 0, nslow = 0;

	/* Only the events, not the 100 frames a second. */
	ck_assert_int_eq(cand_set_filters(h, &none, 1), 0);
	cand_monitor_opts_init(&o);
	o.id = 0x620;
	fast = monitor_start(h, &o);
	o.throttle_us = 200 * MS;
	slow = monitor_start(h, &o);
	t = task_start(sender, f, 2, 10 * MS, 0, 0);
	for (;;) {
		ck_assert_msg(next_event(h, &ev, RX_TIMEOUT_MS) == 1,
			      "the changes stopped");
		ck_assert_int_eq(ev.type, CAND_EVENT_MONITOR_CHANGED);
		if (first == 0)
			first = ev.frame.timestamp_ns;
		if (ev.frame.timestamp_ns - first >= 1000 * NS_PER_MS)
			break;
		if (ev.id == cand_monitor_id(fast))
			nfast++;
		else
			nslow++;
	}
	/* Clearly more than the throttle lets through: changes did happen. */
	if (nfast < 14)
		verdict_fail(v, (14 - nfast) * 10 * (uint64_t)NS_PER_MS, first,
			     ev.frame.timestamp_ns,
			     "%zu unthrottled changes in 1 s", nfast);
	if (nslow < 3 || nslow > 7)
		verdict_fail(v,
			     nslow > 7
				     ? NEED_NO_STALL
				     : (3 - nslow) * 200 * (uint64_t)NS_PER_MS,
			     first, ev.frame.timestamp_ns,
			     "%zu changes in 1 s throttled to one per 200 ms",
			     nslow);
	cand_task_free(t);
	cand_monitor_free(fast);
	cand_monitor_free(slow);
	cand_close(h);
	cand_close(sender);
}

START_TEST(test_monitor_throttle_limits_rate)
{
	timing_attempts(throttle_attempt, "throttle");
}
END_TEST

/* Multiplexed frames: byte 0 selects, each value has its own mask. */
START_TEST(test_monitor_multiplexed)
{
	cand_t *h = util_open("vcan0");
	int s = util_raw_open("vcan0", 0);
	struct cand_mask masks[3] = {mask_of("FF"), mask_of("01FF"),
				     mask_of("0200FF")};
	struct cand_monitor_opts o;
	cand_monitor_t *m;
	struct cand_frame a1 = util_frame(0x630, 0, "011100");
	struct cand_frame a2 = util_frame(0x630, 0, "012200");
	struct cand_frame a3 = util_frame(0x630, 0, "012299");
	struct cand_frame b1 = util_frame(0x630, 0, "020033");
	struct cand_frame b2 = util_frame(0x630, 0, "025533");
	struct cand_frame b3 = util_frame(0x630, 0, "025544");
	struct cand_frame c1 = util_frame(0x630, 0, "037777");

	cand_monitor_opts_init(&o);
	o.id = 0x630;
	o.masks = masks;
	o.n_masks = 3;
	m = monitor_start(h, &o);
	util_raw_send(s, &a1);
	util_raw_send(s, &b1);
	util_raw_send(s, &a1);
	util_raw_send(s, &a2);
	util_raw_send(s, &a3); /* byte 2 does not count for mux 1 */
	util_raw_send(s, &b2); /* byte 1 does not count for mux 2 */
	util_raw_send(s, &b3);
	util_raw_send(s, &c1); /* no such multiplexer value */
	expect_change(h, m, &a1, "mux 1 first");
	expect_change(h, m, &b1, "mux 2 first");
	expect_change(h, m, &a2, "mux 1 byte 1");
	expect_change(h, m, &b3, "mux 2 byte 2");
	expect_no_event(h, SETTLE_MS, "unchanged or unknown multiplexer");
	cand_monitor_free(m);
	close(s);
	cand_close(h);
}
END_TEST

/* RX_RTR_FRAME: the kernel answers remote frames for the id. */
START_TEST(test_monitor_rtr_reply)
{
	cand_t *h = util_open("vcan0");
	cand_t *any = util_open("");
	int s = util_raw_open("vcan0", 0);
	struct cand_frame reply = util_frame(0x640, 0, "AABB");
	struct cand_frame rtr = util_frame(0x640, CAND_FRAME_REMOTE, "");
	struct cand_frame data = util_frame(0x640, 0, "01"), got;
	struct cand_monitor_opts o;
	cand_monitor_t *m = NULL;
	int rc;

	cand_monitor_opts_init(&o);
	o.id = 0x640;
	o.rtr_reply = &reply;
	rc = cand_monitor_start(any, &o, &m);
	ck_assert_msg(rc == CAND_EINVAL, "RTR reply on every interface: %s",
		      cand_strerror(rc));
	m = monitor_start(h, &o);
	rtr.len = 2;
	util_raw_send(s, &rtr);
	util_raw_recv_ok(s, &got, "the RTR reply");
	util_assert_frame(&got, &reply, "the RTR reply");
	util_raw_send(s, &data);
	util_raw_recv_none(s, SETTLE_MS, "a data frame gets no reply");
	expect_no_event(h, 10, "an RTR monitor");
	cand_monitor_free(m);
	util_raw_send(s, &rtr);
	util_raw_recv_none(s, SETTLE_MS, "no reply once freed");
	close(s);
	cand_close(any);
	cand_close(h);
}
END_TEST

/*
 * On "" a monitor sees every interface and says which one. Timers need one
 * interface: the kernel would follow only the first one the id shows up on.
 */
START_TEST(test_monitor_any_channel)
{
	cand_t *h = util_open("");
	int s1 = util_raw_open("vcan1", 0);
	int s0 = util_raw_open("vcan0", 0);
	struct cand_frame f = util_frame(0x650, 0, "42");
	struct cand_monitor_opts o;
	cand_monitor_t *all, *on1 = NULL;
	struct cand_event ev;
	int rc, seen = 0;

	cand_monitor_opts_init(&o);
	o.id = 0x650;
	o.timeout_us = 300 * MS;
	rc = cand_monitor_start(h, &o, &on1);
	ck_assert_msg(rc == CAND_EINVAL, "a timeout on every interface: %s",
		      cand_strerror(rc));
	ck_assert_msg(strstr(cand_last_detail(h), "one interface") != NULL,
		      "detail '%s'", cand_last_detail(h));
	o.ifname = "vcan1";
	on1 = monitor_start(h, &o);
	o.ifname = NULL;
	o.timeout_us = 0;
	all = monitor_start(h, &o);

	util_raw_send(s1, &f);
	while (seen != 3) {
		ck_assert_msg(next_event(h, &ev, RX_TIMEOUT_MS) == 1,
			      "a change on vcan1 missing (seen %d)", seen);
		/* The timeout counts from the start: a slow host may see it. */
		if (ev.type == CAND_EVENT_MONITOR_TIMEOUT && !(seen & 2))
			continue;
		ck_assert_int_eq(ev.type, CAND_EVENT_MONITOR_CHANGED);
		util_assert_frame(&ev.frame, &f, "a change on vcan1");
		ck_assert_str_eq(ev.frame.ifname, "vcan1");
		seen |= ev.id == cand_monitor_id(all) ? 1 : 2;
	}
	/* New data on vcan0: only the every-interface monitor sees it. */
	f.data[0] = 0x43;
	util_raw_send(s0, &f);
	/* ...and on1 times out on vcan1: either may come first. */
	for (seen = 0; seen != 3;) {
		ck_assert_msg(next_event(h, &ev, RX_TIMEOUT_MS) == 1,
			      "missing the vcan0 change or the vcan1 timeout "
			      "(seen %d)",
			      seen);
		if (ev.id == cand_monitor_id(all)) {
			ck_assert_int_eq(ev.type, CAND_EVENT_MONITOR_CHANGED);
			util_assert_frame(&ev.frame, &f, "a change on vcan0");
			ck_assert_str_eq(ev.frame.ifname, "vcan0");
			seen |= 1;
		} else {
			ck_assert_uint_eq(ev.id, cand_monitor_id(on1));
			ck_assert_int_eq(ev.type, CAND_EVENT_MONITOR_TIMEOUT);
			ck_assert_str_eq(ev.frame.ifname, "vcan1");
			seen |= 2;
		}
	}
	expect_no_event(h, SETTLE_MS, "on1 saw vcan0");
	cand_monitor_free(all);
	cand_monitor_free(on1);
	close(s0);
	close(s1);
	cand_close(h);
}
END_TEST

/* cand_recv() gives frames only; the monitor events it passes are gone. */
START_TEST(test_recv_passes_monitor_events_by)
{
	cand_t *h = util_open("vcan0");
	int s = util_raw_open("vcan0", 0);
	struct cand_frame f1 = util_frame(0x660, 0, "01");
	struct cand_frame f2 = util_frame(0x660, 0, "02"), got;
	struct cand_monitor_opts o;
	cand_monitor_t *m;
	struct cand_event ev;

	cand_monitor_opts_init(&o);
	o.id = 0x660;
	m = monitor_start(h, &o);
	util_raw_send(s, &f1);
	util_raw_send(s, &f2);
	util_recv_ok(h, &got, "first frame");
	util_assert_frame(&got, &f1, "first frame");
	util_recv_ok(h, &got, "second frame");
	util_assert_frame(&got, &f2, "second frame");
	util_recv_none(h, SETTLE_MS, "only frames from cand_recv");
	ck_assert_int_eq(cand_recv_event(h, &ev, 10), CAND_ETIMEOUT);
	/* And cand_recv_event gives both kinds, in order. */
	util_raw_send(s, &f1);
	ck_assert_int_eq(cand_recv_event(h, &ev, RX_TIMEOUT_MS), 1);
	ck_assert_int_eq(ev.type, CAND_EVENT_FRAME);
	util_assert_frame(&ev.frame, &f1, "frame event");
	ck_assert_int_eq(cand_recv_event(h, &ev, RX_TIMEOUT_MS), 1);
	ck_assert_int_eq(ev.type, CAND_EVENT_MONITOR_CHANGED);
	util_assert_frame(&ev.frame, &f1, "change event");
	cand_monitor_free(m);
	close(s);
	cand_close(h);
}
END_TEST

START_TEST(test_monitor_bad_input)
{
	cand_t *h = util_open("vcan0");
	struct cand_mask nine = mask_of("FFFFFFFFFFFFFFFFFF"),
			 one = mask_of("FF");
	struct cand_frame reply = util_frame(0x671, 0, "01");
	struct cand_monitor_opts o;
	cand_monitor_t *m = NULL;
	int rc;

	cand_monitor_opts_init(&o);
	o.id = 0x800;
	rc = cand_monitor_start(h, &o, &m);
	ck_assert_msg(rc == CAND_EINVAL, "11-bit id 0x800: %s",
		      cand_strerror(rc));
	o.id = 0x670;
	o.frame_flags = CAND_FRAME_FD;
	rc = cand_monitor_start(h, &o, &m);
	ck_assert_msg(rc == CAND_EUNSUPP, "FD monitor without fd: %s",
		      cand_strerror(rc));
	o.frame_flags = 0;
	o.masks = &nine;
	o.n_masks = 1;
	rc = cand_monitor_start(h, &o, &m);
	ck_assert_msg(rc == CAND_EINVAL, "9-byte mask: %s", cand_strerror(rc));
	o.masks = &one;
	o.flags = CAND_MONITOR_EVERY_FRAME;
	rc = cand_monitor_start(h, &o, &m);
	ck_assert_msg(rc == CAND_EINVAL, "every frame with a mask: %s",
		      cand_strerror(rc));
	o.flags = 0;
	o.n_masks = 0;
	o.rtr_reply = &reply;
	rc = cand_monitor_start(h, &o, &m);
	ck_assert_msg(rc == CAND_EINVAL, "RTR reply with another id: %s",
		      cand_strerror(rc));
	o.rtr_reply = NULL;
	o.ifname = "vcan1";
	rc = cand_monitor_start(h, &o, &m);
	ck_assert_msg(rc == CAND_EINVAL, "another interface: %s",
		      cand_strerror(rc));
	ck_assert_ptr_null(m);
	ck_assert(util_daemon_alive());
	cand_close(h);
}
END_TEST

void bcm_monitor_tests(TCase *tc)
{
	tcase_add_test(tc, test_monitor_change_once);
	tcase_add_test(tc, test_monitor_timeout_when_sender_stops);
	tcase_add_test(tc, test_monitor_throttle_limits_rate);
	tcase_add_test(tc, test_monitor_multiplexed);
	tcase_add_test(tc, test_monitor_rtr_reply);
	tcase_add_test(tc, test_monitor_any_channel);
	tcase_add_test(tc, test_recv_passes_monitor_events_by);
	tcase_add_test(tc, test_monitor_bad_input);
}
