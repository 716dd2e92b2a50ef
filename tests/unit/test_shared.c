/*
 * The pieces of the shared receive path that need no kernel: the echo
 * table (whose frame an echo is, out of order and with stale entries),
 * the userspace CAN_RAW filters, and the hand-written FrameBatch, which
 * must be byte for byte what protobuf-c packs, for every client sharing a
 * read. The integration tests (tests/integ/shared.c, echo.c) hold the
 * same paths to the real kernel.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <linux/can/error.h>

#include "framepack.h"
#include "libcand_int.h"
#include "unit.h"
#include "wire.h"

static struct canfd_frame cf_of(canid_t id, uint8_t len, uint8_t b0)
{
	struct canfd_frame cf;

	memset(&cf, 0, sizeof(cf));
	cf.can_id = id;
	cf.len = len;
	cf.data[0] = b0;
	return cf;
}

START_TEST(test_echo_out_of_order)
{
	struct echo_table t;
	struct canfd_frame a = cf_of(0x100, 1, 0xA), b = cf_of(0x100, 1, 0xB),
			   c = cf_of(0x101, 1, 0xA);
	int s1, s2;
	void *who;

	echo_init(&t);
	ck_assert_int_eq(echo_add(&t, &s1, 3, &a, 0, 10), 0);
	ck_assert_int_eq(echo_add(&t, &s2, 3, &b, 0, 11), 0);
	ck_assert_int_eq(echo_add(&t, &s1, 3, &c, 0, 12), 0);
	/* Completed out of order: each still goes to its sender. */
	ck_assert_int_eq(echo_match(&t, 3, &c, 0, 20, &who), 1);
	ck_assert_ptr_eq(who, &s1);
	ck_assert_int_eq(echo_match(&t, 3, &b, 0, 20, &who), 1);
	ck_assert_ptr_eq(who, &s2);
	/* Another interface's identical frame is not this one. */
	ck_assert_int_eq(echo_match(&t, 4, &a, 0, 20, &who), 0);
	ck_assert_int_eq(echo_match(&t, 3, &a, 1, 20, &who), 0);
	ck_assert_int_eq(echo_match(&t, 3, &a, 0, 20, &who), 1);
	ck_assert_ptr_eq(who, &s1);
	ck_assert_uint_eq(t.n, 0);

	/* Identical frames: the oldest first. */
	echo_add(&t, &s1, 3, &a, 0, 30);
	echo_add(&t, &s2, 3, &a, 0, 31);
	ck_assert_int_eq(echo_match(&t, 3, &a, 0, 40, &who), 1);
	ck_assert_ptr_eq(who, &s1);
	ck_assert_int_eq(echo_match(&t, 3, &a, 0, 40, &who), 1);
	ck_assert_ptr_eq(who, &s2);
	echo_free(&t);
}
END_TEST

/*
 * A request of thousands of frames on a vcan: every echo is in before the
 * first is read, and each still finds its sender, around the ring's end
 * and past a hole an out-of-order echo left.
 */
START_TEST(test_echo_many_in_flight)
{
	struct echo_table t;
	struct canfd_frame f;
	int owners[2];
	void *who;
	int round, i;

	echo_init(&t);
	for (round = 0; round < 3; round++) {
		/* Half in, half out: the next round's entries wrap. */
		for (i = 0; i < 5000; i++) {
			f = cf_of(0x300, 2, (uint8_t)i);
			f.data[1] = (uint8_t)(i >> 8);
			ck_assert_int_eq(
				echo_add(&t, &owners[i % 2], 3, &f, 0, 100), 0);
		}
		/* The 10th completes first. */
		f = cf_of(0x300, 2, 9);
		ck_assert_int_eq(echo_match(&t, 3, &f, 0, 100, &who), 1);
		ck_assert_ptr_eq(who, &owners[1]);
		for (i = 0; i < 5000; i++) {
			if (i == 9)
				continue;
			f = cf_of(0x300, 2, (uint8_t)i);
			f.data[1] = (uint8_t)(i >> 8);
			ck_assert_int_eq(echo_match(&t, 3, &f, 0, 100, &who),
					 1);
			ck_assert_ptr_eq(who, &owners[i % 2]);
		}
		ck_assert_uint_eq(t.n, 0);
	}
	ck_assert_uint_eq(t.expired, 0);
	echo_free(&t);
}
END_TEST

START_TEST(test_echo_stale)
{
	struct echo_table t;
	struct canfd_frame a = cf_of(0x200, 2, 0x1);
	uint64_t t0 = 5 * ECHO_MAX_AGE_NS;
	int s1, s2;
	void *who;

	echo_init(&t);
	/* Never echoed; it must not capture s2's identical frame later. */
	echo_add(&t, &s1, 3, &a, 0, t0);
	echo_add(&t, &s2, 3, &a, 0, t0 + ECHO_MAX_AGE_NS + 1);
	ck_assert_int_eq(
		echo_match(&t, 3, &a, 0, t0 + ECHO_MAX_AGE_NS + 2, &who), 1);
	ck_assert_ptr_eq(who, &s2);

	/* The interface went down: its entries go, others' stay. */
	echo_add(&t, &s1, 3, &a, 0, t0);
	echo_add(&t, &s1, 4, &a, 0, t0);
	echo_purge(&t, 3);
	ck_assert_int_eq(echo_match(&t, 3, &a, 0, t0, &who), 0);
	ck_assert_int_eq(echo_match(&t, 4, &a, 0, t0, &who), 1);

	/* A sender that went away: its echo is consumed, nobody's own. */
	echo_add(&t, &s1, 3, &a, 0, t0);
	echo_forget_owner(&t, &s1);
	ck_assert_int_eq(echo_match(&t, 3, &a, 0, t0, &who), 1);
	ck_assert_ptr_null(who);
	echo_free(&t);
}
END_TEST

START_TEST(test_rxfilter_kernel_rules)
{
	/* python-can's kinds in the kernel's form (rawsock_filters). */
	struct can_filter sff = {0x120, 0x7F0 | CAN_EFF_FLAG};
	struct can_filter eff = {0x123 | CAN_EFF_FLAG,
				 CAN_EFF_MASK | CAN_EFF_FLAG};
	struct can_filter inv = {0x123 | CAN_INV_FILTER, 0x7FF};
	struct can_filter all = {0, 0};
	struct can_filter exact[2] = {
		{0x123, 0x7FF | CAN_EFF_FLAG},
		{0x7FF | CAN_RTR_FLAG, 0x7FF | CAN_EFF_FLAG | CAN_RTR_FLAG}};
	struct rxfilter r = {0};
	uint16_t ids[4];

	ck_assert_int_eq(rxfilter_compile(&r, &sff, 1, CAN_ERR_MASK, 0), 0);
	ck_assert(rxfilter_pass(&r, 0x125, 0));
	ck_assert(!rxfilter_pass(&r, 0x125 | CAN_EFF_FLAG, 0));
	/* SFF-only keeps the RTR flag out of the test: RTR passes. */
	ck_assert(rxfilter_pass(&r, 0x125 | CAN_RTR_FLAG, 0));
	ck_assert(!rxfilter_pass(&r, 0x125, 1));
	ck_assert(rxfilter_pass(&r, CAN_ERR_FLAG | CAN_ERR_ACK, 0));

	ck_assert_int_eq(rxfilter_compile(&r, &eff, 1, 0, 1), 0);
	ck_assert(rxfilter_pass(&r, 0x123 | CAN_EFF_FLAG, 1));
	ck_assert(!rxfilter_pass(&r, 0x123, 0));
	ck_assert(!rxfilter_pass(&r, CAN_ERR_FLAG | CAN_ERR_ACK, 0));

	ck_assert_int_eq(rxfilter_compile(&r, &inv, 1, CAN_ERR_ACK, 0), 0);
	ck_assert(!rxfilter_pass(&r, 0x123, 0));
	/* The mask has no EFF flag: an extended 0x123 matches, is out. */
	ck_assert(!rxfilter_pass(&r, 0x123 | CAN_EFF_FLAG, 0));
	ck_assert(rxfilter_pass(&r, 0x124, 0));
	ck_assert(rxfilter_pass(&r, CAN_ERR_FLAG | CAN_ERR_ACK, 0));
	ck_assert(!rxfilter_pass(&r, CAN_ERR_FLAG | CAN_ERR_BUSOFF, 0));

	ck_assert_int_eq(rxfilter_compile(&r, &all, 1, CAN_ERR_MASK, 1), 0);
	ck_assert(r.all);
	ck_assert(rxfilter_pass(&r, 0x1FFFFFFF | CAN_EFF_FLAG, 1));
	ck_assert_int_eq(rxfilter_sff_ids(&r, ids, 4), -1);

	/* Only exact standard ids may be indexed by id. */
	ck_assert_int_eq(rxfilter_compile(&r, exact, 2, CAN_ERR_MASK, 0), 0);
	ck_assert_int_eq(rxfilter_sff_ids(&r, ids, 4), 2);
	ck_assert_uint_eq(ids[0], 0x123);
	ck_assert_uint_eq(ids[1], 0x7FF);
	ck_assert_int_eq(rxfilter_sff_ids(&r, ids, 1), -1);
	ck_assert_int_eq(rxfilter_compile(&r, &sff, 1, CAN_ERR_MASK, 0), 0);
	ck_assert_int_eq(rxfilter_sff_ids(&r, ids, 4), -1);
	ck_assert_int_eq(rxfilter_compile(&r, &inv, 1, CAN_ERR_MASK, 0), 0);
	ck_assert_int_eq(rxfilter_sff_ids(&r, ids, 4), -1);
	rxfilter_free(&r);
}
END_TEST

/* ---- the hand-written FrameBatch ---- */

static int shared_frames(struct outq *q, const struct rx_batch *b)
{
	return encode_frames(q, b);
}

static void shared_nop(void *owner)
{
	(void)owner;
}

static void shared_fail(void *owner, const char *why)
{
	(void)owner;
	(void)why;
}

static const struct outq_codec shared_codec = {
	.frames = shared_frames,
	.on_low = shared_nop,
	.fail = shared_fail,
};

/* What protobuf-c packs for b: the reference. */
static size_t shared_reference(const struct rx_batch *b, uint8_t *out)
{
	static char *names[RAW_BATCH];
	static int idx[RAW_BATCH];
	uint8_t packed[RAW_BATCH * FRAMEPACK_MAX];
	Cand__ServerMsg m = CAND__SERVER_MSG__INIT;
	Cand__Event ev = CAND__EVENT__INIT;
	Cand__FrameBatch fb = CAND__FRAME_BATCH__INIT;
	size_t i, j, size = 0, n_names = 0, len;

	if (b->ifname != NULL)
		names[n_names++] = (char *)b->ifname;
	for (i = 0; i < b->count; i++) {
		const struct rx_frame *rx = &b->frames[i];
		struct framepack_rec r = {
			.can_id = rx->cf->can_id,
			.len = rx->cf->len,
			.data = (rx->cf->can_id & CAN_RTR_FLAG) ? NULL
								: rx->cf->data,
			.timestamp_ns = rx->timestamp_ns,
		};

		if (rx->is_fd)
			r.flags =
				FRAMEPACK_FD |
				(rx->cf->flags & CANFD_BRS ? FRAMEPACK_BRS : 0);
		if (rx->own)
			r.flags |= FRAMEPACK_OWN;
		if (rx->local)
			r.flags |= FRAMEPACK_LOCAL;
		if (b->ifname == NULL) {
			for (j = 0; j < n_names && idx[j] != rx->ifindex; j++)
				;
			if (j == n_names) {
				idx[n_names] = rx->ifindex;
				names[n_names++] = (char *)rx->ifname;
			}
			r.ifname = (uint8_t)j;
		}
		size += framepack_put(packed + size, &r);
	}
	fb.kernel_drops = b->kernel_drops;
	fb.format = FRAMEPACK_FORMAT;
	fb.count = (uint32_t)b->count;
	fb.ifnames = names;
	fb.n_ifnames = n_names;
	fb.packed.data = packed;
	fb.packed.len = size;
	ev.ev_case = CAND__EVENT__EV_FRAMES;
	ev.frames = &fb;
	m.msg_case = CAND__SERVER_MSG__MSG_EVENT;
	m.event = &ev;
	len = cand__server_msg__get_packed_size(&m);
	wire_put_len(out, (uint32_t)len);
	cand__server_msg__pack(&m, out + CAND_WIRE_HDR);
	return CAND_WIRE_HDR + len;
}

static void shared_compare(struct outq *q, const struct rx_batch *b)
{
	static uint8_t want[CAND_WIRE_HDR + RAW_BATCH * FRAMEPACK_MAX + 4096];
	size_t n = shared_reference(b, want), got;

	ck_assert_int_eq(outq_frames(q, b), 0);
	got = evbuffer_get_length(q->buf);
	ck_assert_uint_eq(got, n);
	ck_assert_int_eq(memcmp(evbuffer_pullup(q->buf, -1), want, n), 0);
	evbuffer_drain(q->buf, got);
}

START_TEST(test_framebatch_by_hand)
{
	struct cand_ctx ctx;
	struct outq q;
	struct canfd_frame cf[RAW_BATCH];
	struct rx_frame rx[RAW_BATCH], sel[RAW_BATCH];
	struct rx_batch b;
	int sv[2];
	size_t i, k;

	memset(&ctx, 0, sizeof(ctx));
	ctx.base = event_base_new();
	ctx.limits.out_high = 1 << 20;
	ck_assert_int_eq(encode_init(&ctx), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(outq_init(&q, &ctx, sv[0], &shared_codec, NULL), 0);
	for (i = 0; i < RAW_BATCH; i++) {
		cf[i] = cf_of((canid_t)(0x100 + i), (uint8_t)(i % 9),
			      (uint8_t)i);
		if (i % 7 == 3)
			cf[i].can_id |= CAN_EFF_FLAG | CAN_RTR_FLAG;
		memset(&rx[i], 0, sizeof(rx[i]));
		rx[i].cf = &cf[i];
		rx[i].idx = (uint8_t)i;
		rx[i].ifindex = 2 + (int)(i % 3);
		rx[i].ifname = i % 3 == 0 ? "vcan0" : i % 3 == 1 ? "can1" : "x";
		rx[i].timestamp_ns = 1700000000000000000ull + i * 977;
		/* Sent from this host: per frame, the same for every client. */
		rx[i].local = i % 4 == 1;
		if (i % 5 == 0) {
			rx[i].is_fd = 1;
			cf[i].len = 64;
			cf[i].flags = CANFD_BRS;
		}
	}
	/* A bound channel's whole read, with no drops and with many. */
	memset(&b, 0, sizeof(b));
	b.frames = rx;
	b.count = RAW_BATCH;
	b.read_id = 7;
	b.ifname = "vcan0";
	shared_compare(&q, &b);
	b.kernel_drops = 300000;
	shared_compare(&q, &b);
	/* Another client of the same read: every third frame, some own. */
	for (i = k = 0; i < RAW_BATCH; i += 3) {
		sel[k] = rx[i];
		sel[k++].own = i % 2;
	}
	b.frames = sel;
	b.count = k;
	shared_compare(&q, &b);
	/* A "" channel's: names per batch, in order of first sight. */
	b.ifname = NULL;
	shared_compare(&q, &b);
	/* Not reused (read_id 0), one frame. */
	b.read_id = 0;
	b.count = 1;
	shared_compare(&q, &b);
	outq_free(&q);
	encode_free(&ctx);
	event_base_free(ctx.base);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* libcand reads what protobuf-c packs, and leaves it what it does not. */
START_TEST(test_batch_read_by_hand)
{
	static char *names[] = {(char *)"vcan0", (char *)"can1"};
	static uint8_t packed[40] = {1, 2, 3};
	Cand__ServerMsg m = CAND__SERVER_MSG__INIT;
	Cand__Event ev = CAND__EVENT__INIT;
	Cand__FrameBatch fb = CAND__FRAME_BATCH__INIT;
	Cand__Reply r = CAND__REPLY__INIT;
	struct libcand_batch b;
	uint8_t buf[256];
	size_t len;

	fb.kernel_drops = 1ull << 40;
	fb.format = FRAMEPACK_FORMAT;
	fb.count = 2;
	fb.ifnames = names;
	fb.n_ifnames = 2;
	fb.packed.data = packed;
	fb.packed.len = sizeof(packed);
	ev.ev_case = CAND__EVENT__EV_FRAMES;
	ev.frames = &fb;
	m.msg_case = CAND__SERVER_MSG__MSG_EVENT;
	m.event = &ev;
	len = cand__server_msg__pack(&m, buf);
	ck_assert_int_eq(libcand_batch_parse(buf, len, &b), 1);
	ck_assert_uint_eq(b.kernel_drops, 1ull << 40);
	ck_assert_uint_eq(b.format, FRAMEPACK_FORMAT);
	ck_assert_uint_eq(b.count, 2);
	ck_assert_uint_eq(b.n_names, 2);
	ck_assert_int_eq(memcmp(b.name[1], "can1", b.name_len[1]), 0);
	ck_assert_uint_eq(b.packed_len, sizeof(packed));
	ck_assert_ptr_eq(b.packed, buf + len - sizeof(packed));
	/* Cut short, or followed by more: protobuf-c decides. */
	ck_assert_int_eq(libcand_batch_parse(buf, len - 1, &b), 0);
	buf[len] = 0x08; /* a field the hand reader does not know */
	buf[len + 1] = 0x01;
	ck_assert_int_eq(libcand_batch_parse(buf, len + 2, &b), 0);
	/* Not a batch at all. */
	m.msg_case = CAND__SERVER_MSG__MSG_REPLY;
	m.reply = &r;
	r.id = 5;
	len = cand__server_msg__pack(&m, buf);
	ck_assert_int_eq(libcand_batch_parse(buf, len, &b), 0);
}
END_TEST

Suite *shared_suite(void)
{
	Suite *s = suite_create("shared");
	TCase *tc = tcase_create("shared");

	tcase_add_test(tc, test_echo_out_of_order);
	tcase_add_test(tc, test_echo_stale);
	tcase_add_test(tc, test_echo_many_in_flight);
	tcase_add_test(tc, test_rxfilter_kernel_rules);
	tcase_add_test(tc, test_framebatch_by_hand);
	tcase_add_test(tc, test_batch_read_by_hand);
	suite_add_tcase(s, tc);
	return s;
}
