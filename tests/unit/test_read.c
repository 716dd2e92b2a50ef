/*
 * libcand's reader without a socket: bytes as the daemon would send them
 * go in through libcand_read_feed(), frames and events come out of the
 * queues in order, and anything malformed kills the handle with a code
 * and a detail instead of reaching the caller.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "framepack.h"
#include "libcand_int.h"
#include "unit.h"
#include "wire.h"

static void rd_link(struct srvmsg_out *o, const char *ifname, int up)
{
	Cand__Event ev = CAND__EVENT__INIT;
	Cand__LinkEvent le = CAND__LINK_EVENT__INIT;

	le.ifname = (char *)ifname;
	le.up = up;
	ev.ev_case = CAND__EVENT__EV_LINK;
	ev.link = &le;
	srvmsg_event(o, &ev);
}

static struct cand *rd_handle(const char *channel)
{
	struct cand *h = libcand_conn_new();

	ck_assert_ptr_nonnull(h);
	ck_assert_int_eq(cand_fileno(h), -1);
	snprintf(h->channel, sizeof(h->channel), "%s", channel);
	return h;
}

/* srvmsg_batch()'s frames, and its count of drops. */
static void rd_check_batch(struct cand *h)
{
	srvmsg_check_batch(h);
	ck_assert_uint_eq(cand_kernel_drops(h), 7);
}

START_TEST(test_batch_in_one_piece)
{
	struct srvmsg_out o = {.len = 0};
	struct cand_frame f;
	struct cand *h = rd_handle("vcan0");

	srvmsg_batch(&o, FRAMEPACK_FORMAT, 3, 7);
	ck_assert_int_eq(libcand_read_feed(h, o.buf, o.len), 0);
	ck_assert_uint_eq(libcand_queue_len(h), 3);
	rd_check_batch(h);
	ck_assert_int_eq(libcand_queue_pop_frame(h, &f), 0);
	ck_assert_int_eq(h->dead, 0);
	cand_close(h);
}
END_TEST

/* A message cut anywhere waits for the rest; nothing comes out early. */
START_TEST(test_batch_byte_by_byte)
{
	struct srvmsg_out o = {.len = 0};
	struct cand *h = rd_handle("vcan0");
	size_t i;

	srvmsg_batch(&o, FRAMEPACK_FORMAT, 3, 7);
	for (i = 0; i < o.len; i++) {
		ck_assert_uint_eq(libcand_queue_len(h), 0);
		ck_assert_int_eq(libcand_read_feed(h, o.buf + i, 1), 0);
	}
	rd_check_batch(h);
	cand_close(h);
}
END_TEST

/*
 * Events come out where they happened among the frames: cand_recv()
 * stops at a link event of its channel, cand_recv_event() hands it out
 * as an event, and a link event of another interface passes cand_recv().
 */
START_TEST(test_events_in_order)
{
	struct srvmsg_out o = {.len = 0};
	struct cand_event ev;
	struct cand_frame f;
	struct cand *h = rd_handle("vcan0");
	int i;

	rd_link(&o, "vcan1", 0);
	srvmsg_batch(&o, FRAMEPACK_FORMAT, 3, 7);
	rd_link(&o, "vcan0", 0);
	srvmsg_batch(&o, FRAMEPACK_FORMAT, 3, 7);
	ck_assert_int_eq(libcand_read_feed(h, o.buf, o.len), 0);
	ck_assert_uint_eq(libcand_queue_len(h), 8);

	rd_check_batch(h);
	ck_assert_int_eq(libcand_queue_pop_frame(h, &f), CAND_ENETDOWN);
	ck_assert_str_eq(cand_last_detail(h), "vcan0: interface is down");
	rd_check_batch(h);
	ck_assert_uint_eq(libcand_queue_len(h), 0);

	o.len = 0;
	rd_link(&o, "vcan1", 1);
	srvmsg_batch(&o, FRAMEPACK_FORMAT, 3, 7);
	ck_assert_int_eq(libcand_read_feed(h, o.buf, o.len), 0);
	ck_assert_int_eq(libcand_queue_pop(h, &ev), 1);
	ck_assert_int_eq(ev.type, CAND_EVENT_LINK);
	ck_assert_str_eq(ev.ifname, "vcan1");
	ck_assert_int_eq(ev.link.up, 1);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(libcand_queue_pop(h, &ev), 1);
		ck_assert_int_eq(ev.type, CAND_EVENT_FRAME);
		ck_assert_str_eq(ev.ifname, i == 1 ? "vcan1" : "vcan0");
	}
	ck_assert_int_eq(libcand_queue_pop(h, &ev), 0);
	cand_close(h);
}
END_TEST

/*
 * A frame in an event or a reply is a protobuf Frame, whose id has 32
 * bits: what reaches the caller has 29 at most, as a batch's frames.
 */
START_TEST(test_frame_id_bounded)
{
	struct srvmsg_out o = {.len = 0};
	Cand__Event ev = CAND__EVENT__INIT;
	Cand__MonitorEvent me = CAND__MONITOR_EVENT__INIT;
	Cand__Frame fr = CAND__FRAME__INIT;
	struct cand_event got;
	struct cand *h = rd_handle("vcan0");

	fr.id = 0xffffffffu;
	fr.extended = 1;
	me.monitor_id = 1;
	me.frame = &fr;
	ev.ev_case = CAND__EVENT__EV_MONITOR;
	ev.monitor = &me;
	srvmsg_event(&o, &ev);
	ck_assert_int_eq(libcand_read_feed(h, o.buf, o.len), 0);
	ck_assert_int_eq(libcand_queue_pop(h, &got), 1);
	ck_assert_int_eq(got.type, CAND_EVENT_MONITOR_CHANGED);
	ck_assert_uint_eq(got.frame.id, 0x1fffffffu);
	ck_assert_uint_eq(got.frame.flags, CAND_FRAME_EXTENDED);
	cand_close(h);
}
END_TEST

/* A reply nobody waits for (its request timed out) is dropped. */
START_TEST(test_stray_reply)
{
	Cand__ServerMsg m = CAND__SERVER_MSG__INIT;
	Cand__Reply r = CAND__REPLY__INIT;
	struct srvmsg_out o = {.len = 0};
	struct cand *h = rd_handle("");

	r.id = 5;
	r.status = CAND__STATUS__PERMISSION_DENIED;
	r.detail = (char *)"no";
	m.msg_case = CAND__SERVER_MSG__MSG_REPLY;
	m.reply = &r;
	srvmsg_put(&o, &m);
	ck_assert_int_eq(libcand_read_feed(h, o.buf, o.len), 0);
	ck_assert_uint_eq(libcand_queue_len(h), 0);
	ck_assert_int_eq(h->dead, 0);
	cand_close(h);
}
END_TEST

/*
 * Feeds bad bytes after a good batch; the batch stays readable, and so do
 * the decoded frames of a batch that goes wrong later on.
 */
static void rd_bad(const uint8_t *bad, size_t len, int err, const char *why,
		   size_t decoded)
{
	struct srvmsg_out o = {.len = 0};
	struct cand *h = rd_handle("vcan0");

	srvmsg_batch(&o, FRAMEPACK_FORMAT, 3, 7);
	ck_assert_int_eq(libcand_read_feed(h, o.buf, o.len), 0);
	ck_assert_int_eq(libcand_read_feed(h, bad, len), err);
	ck_assert_int_eq(h->dead, err);
	ck_assert_msg(strstr(cand_last_detail(h), why) != NULL,
		      "detail \"%s\", expected \"%s\"", cand_last_detail(h),
		      why);
	/* Nothing more is read once the connection is dead. */
	ck_assert_int_eq(libcand_read_feed(h, o.buf, o.len), err);
	ck_assert_uint_le(h->in_off, h->in_len);
	ck_assert_int_eq(libcand_read_msg(h, NULL), 0);
	rd_check_batch(h);
	ck_assert_uint_eq(libcand_queue_len(h), decoded);
	cand_close(h);
}

START_TEST(test_bad_lengths)
{
	static const uint8_t zero[] = {0, 0, 0, 0};
	static const uint8_t huge[] = {0x7f, 0xff, 0xff, 0xff, 0};

	rd_bad(zero, sizeof(zero), CAND_EPROTO, "message of 0 bytes", 0);
	rd_bad(huge, sizeof(huge), CAND_EPROTO, "(limit 1048576)", 0);
}
END_TEST

START_TEST(test_undecodable)
{
	/* Field 1 (reply), length-delimited, claiming more than is there. */
	static const uint8_t junk[] = {0, 0, 0, 3, 0x0a, 0x7f, 0x01};

	rd_bad(junk, sizeof(junk), CAND_EPROTO, "does not decode", 0);
}
END_TEST

START_TEST(test_bad_batches)
{
	struct srvmsg_out o = {.len = 0};

	srvmsg_batch(&o, FRAMEPACK_FORMAT + 1, 3, 7);
	rd_bad(o.buf, o.len, CAND_EPROTO, "frame batch format 2", 0);
	/* One record short: the three before it were good frames. */
	o.len = 0;
	srvmsg_batch(&o, FRAMEPACK_FORMAT, 4, 7);
	rd_bad(o.buf, o.len, CAND_EPROTO, "malformed frame batch", 3);
	/* More records than the bytes could hold: nothing is taken. */
	o.len = 0;
	srvmsg_batch(&o, FRAMEPACK_FORMAT, 1000000, 7);
	rd_bad(o.buf, o.len, CAND_EPROTO, "1000000 frames in 116 bytes", 0);
}
END_TEST

/*
 * Through cand_recv_event(): the frames a malformed batch decoded before
 * it went wrong come out before its error, which stays (found by fuzz).
 */
START_TEST(test_bad_batch_received)
{
	struct srvmsg_out o = {.len = 0};
	struct cand_event ev;
	struct cand *h = rd_handle("vcan0");
	int i;

	srvmsg_batch(&o, FRAMEPACK_FORMAT, 4, 7);
	/* In the input buffer, unread, as a recv() leaves it. */
	ck_assert_int_eq(libcand_read_room(h, o.len), 0);
	memcpy(h->in + h->in_len, o.buf, o.len);
	h->in_len += o.len;
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(cand_recv_event(h, &ev, 0), 1);
		ck_assert_int_eq(ev.type, CAND_EVENT_FRAME);
	}
	ck_assert_int_eq(cand_recv_event(h, &ev, 0), CAND_EPROTO);
	ck_assert_int_eq(cand_recv_event(h, &ev, 0), CAND_EPROTO);
	cand_close(h);
}
END_TEST

START_TEST(test_shutdown)
{
	Cand__Event ev = CAND__EVENT__INIT;
	Cand__ShutdownEvent se = CAND__SHUTDOWN_EVENT__INIT;
	struct srvmsg_out o = {.len = 0};

	se.detail = (char *)"cand is stopping";
	ev.ev_case = CAND__EVENT__EV_SHUTDOWN;
	ev.shutdown = &se;
	srvmsg_event(&o, &ev);
	rd_bad(o.buf, o.len, CAND_ESHUTDOWN, "cand is stopping", 0);
}
END_TEST

/* One of each other kind of event, for the mutations below. */
static void rd_others(struct srvmsg_out *o)
{
	Cand__Event ev = CAND__EVENT__INIT;
	Cand__StateEvent st = CAND__STATE_EVENT__INIT;
	Cand__ConfigEvent ce = CAND__CONFIG_EVENT__INIT;
	Cand__BusConfig bc = CAND__BUS_CONFIG__INIT;
	Cand__DropEvent de = CAND__DROP_EVENT__INIT;
	Cand__TaskEvent te = CAND__TASK_EVENT__INIT;
	Cand__MonitorEvent me = CAND__MONITOR_EVENT__INIT;
	Cand__Frame f = CAND__FRAME__INIT;
	Cand__RightsEvent re = CAND__RIGHTS_EVENT__INIT;
	static char *revoked[] = {(char *)"read"};
	static uint8_t data[8] = {1, 2, 3, 4, 5, 6, 7, 8};

	st.ifname = (char *)"can0";
	st.state = CAND__CAN_STATE__STATE_BUS_OFF;
	st.has_error_counters = 1;
	st.tx_errors = 256;
	ev.ev_case = CAND__EVENT__EV_STATE;
	ev.state = &st;
	srvmsg_event(o, &ev);
	bc.bitrate = 500000;
	ce.ifname = (char *)"can0";
	ce.config = &bc;
	ce.previous = &bc;
	ev.ev_case = CAND__EVENT__EV_CONFIG;
	ev.config = &ce;
	srvmsg_event(o, &ev);
	de.kernel_drops = 9;
	de.dropped = 2;
	ev.ev_case = CAND__EVENT__EV_DROPS;
	ev.drops = &de;
	srvmsg_event(o, &ev);
	te.task_id = 3;
	ev.ev_case = CAND__EVENT__EV_TASK;
	ev.task = &te;
	srvmsg_event(o, &ev);
	f.id = 0x123;
	f.data.data = data;
	f.data.len = sizeof(data);
	me.monitor_id = 4;
	me.frame = &f;
	me.ifname = (char *)"vcan0";
	ev.ev_case = CAND__EVENT__EV_MONITOR;
	ev.monitor = &me;
	srvmsg_event(o, &ev);
	re.n_revoked = 1;
	re.revoked = revoked;
	ev.ev_case = CAND__EVENT__EV_RIGHTS;
	ev.rights = &re;
	srvmsg_event(o, &ev);
}

/*
 * A deterministic stand-in for the fuzz target: a stream of every kind of
 * message with a few bytes changed, fed in pieces of any size. The reader
 * never crashes, hands out only well-formed frames and events, and a
 * handle it kills says why.
 */
START_TEST(test_mutated_stream)
{
	static struct srvmsg_out base, o;
	struct cand_event ev;
	unsigned seed = 1;
	size_t i, off, n, events = 0;
	int round, k, rc, dead = 0;

	base.len = 0;
	srvmsg_batch(&base, FRAMEPACK_FORMAT, 3, 7);
	rd_link(&base, "vcan0", 0);
	rd_others(&base);
	srvmsg_batch(&base, FRAMEPACK_FORMAT, 3, 7);
	for (round = 0; round < 3000; round++) {
		struct cand *h = rd_handle(round % 2 ? "vcan0" : "");

		o = base;
		for (k = rand_r(&seed) % 4; k >= 0; k--)
			o.buf[(size_t)rand_r(&seed) % o.len] =
				(uint8_t)rand_r(&seed);
		if (round % 8 == 0)
			o.len = (size_t)rand_r(&seed) % o.len;
		rc = 0;
		for (off = 0; off < o.len && rc == 0; off += n) {
			n = 1 + (size_t)rand_r(&seed) % 64;
			if (n > o.len - off)
				n = o.len - off;
			rc = libcand_read_feed(h, o.buf + off, n);
		}
		ck_assert(rc == 0 || rc == CAND_EPROTO ||
			  rc == CAND_ESHUTDOWN || rc == CAND_ENOMEM);
		ck_assert_int_eq(rc, h->dead);
		if (rc != 0) {
			ck_assert_str_ne(cand_last_detail(h), "");
			dead++;
		}
		for (i = 0; libcand_queue_pop(h, &ev) == 1; i++) {
			ck_assert(ev.type >= CAND_EVENT_FRAME &&
				  ev.type <= CAND_EVENT_RIGHTS);
			ck_assert_uint_le(ev.frame.len, CAND_MAX_DLEN);
			ck_assert(ev.frame.ifname[CAND_IFNAMSIZ - 1] == '\0');
			ck_assert(ev.ifname[CAND_IFNAMSIZ - 1] == '\0');
		}
		events += i;
		ck_assert_uint_eq(libcand_queue_len(h), 0);
		cand_close(h);
	}
	/* It was the decoders that were tried, not only the framing. */
	ck_assert_uint_gt(events, 3000);
	ck_assert_int_gt(dead, 0);
	ck_assert_int_lt(dead, 3000);
}
END_TEST

Suite *read_suite(void)
{
	Suite *s = suite_create("read");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_batch_in_one_piece);
	tcase_add_test(tc, test_batch_byte_by_byte);
	tcase_add_test(tc, test_events_in_order);
	tcase_add_test(tc, test_frame_id_bounded);
	tcase_add_test(tc, test_stray_reply);
	tcase_add_test(tc, test_bad_lengths);
	tcase_add_test(tc, test_undecodable);
	tcase_add_test(tc, test_bad_batches);
	tcase_add_test(tc, test_bad_batch_received);
	tcase_add_test(tc, test_shutdown);
	tcase_add_test(tc, test_mutated_stream);
	suite_add_tcase(s, tc);
	return s;
}
