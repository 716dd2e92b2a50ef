/*
 * Many clients on one interface share one receiving socket in cand (its
 * tap), with their filters applied in userspace. These tests put several
 * clients with different options side by side on the same interface and
 * hold each to what a CAN_RAW socket of its own would get from the kernel:
 * a raw "twin" socket with the same filters, error mask and FD setting is
 * the reference wherever the kernel has the answer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/can/error.h>
#include <linux/can/raw.h>

#include "util.h"

#define MAXF 64

struct client {
	const char *what;
	struct cand_options o;
	struct cand_filter f[4];
	cand_t *h;
	int twin; /* the kernel's answer */
};

/* A raw socket set up as python-can sets one up for these options. */
static int twin_open(const struct cand_options *o)
{
	struct can_filter kf[8];
	can_err_mask_t errs = o->ignore_rx_error_frames ? 0 : CAN_ERR_MASK;
	int s = util_raw_open(o->channel, o->fd ? RAW_FD : 0);
	size_t i;

	for (i = 0; i < o->n_filters; i++) {
		const struct cand_filter *f = &o->filters[i];

		kf[i].can_id = f->id;
		kf[i].can_mask = f->mask;
		if (f->kind != CAND_FILTER_ANY)
			kf[i].can_mask |= CAN_EFF_FLAG;
		if (f->kind == CAND_FILTER_EXTENDED)
			kf[i].can_id |= CAN_EFF_FLAG;
		if (f->invert)
			kf[i].can_id |= CAN_INV_FILTER;
	}
	if (o->n_filters > 0)
		ck_assert_int_eq(
			setsockopt(s, SOL_CAN_RAW, CAN_RAW_FILTER, kf,
				   (socklen_t)(o->n_filters * sizeof(kf[0]))),
			0);
	ck_assert_int_eq(setsockopt(s, SOL_CAN_RAW, CAN_RAW_ERR_FILTER, &errs,
				    sizeof(errs)),
			 0);
	return s;
}

static void client_open(struct client *c, const char *what, const char *channel,
			int fd, int ignore_errors, const struct cand_filter *f,
			size_t n)
{
	c->what = what;
	cand_options_init(&c->o);
	c->o.channel = channel;
	c->o.fd = fd;
	c->o.ignore_rx_error_frames = ignore_errors;
	memcpy(c->f, f, n * sizeof(*f));
	c->o.filters = n ? c->f : NULL;
	c->o.n_filters = n;
	c->h = util_open_opts(&c->o);
	c->twin = twin_open(&c->o);
}

/* The client got exactly what its twin got, in the same order. */
static void client_check(struct client *c)
{
	struct cand_frame want[MAXF], got[MAXF];
	size_t n = 0, m, i;
	char b1[192];

	while (n < MAXF && util_raw_recv(c->twin, &want[n], SETTLE_MS) == 1)
		n++;
	m = util_collect(c->h, got, MAXF, n, SETTLE_MS);
	for (i = 0; i < n && i < m; i++) {
		util_assert_frame(&got[i], &want[i], c->what);
		ck_assert_msg(!(got[i].flags & CAND_FRAME_OWN),
			      "%s: %s marked OWN", c->what,
			      util_frame_str(&got[i], b1, sizeof(b1)));
	}
	ck_assert_msg(m == n, "%s: %zu frames, the kernel's twin %zu", c->what,
		      m, n);
	cand_close(c->h);
	close(c->twin);
}

static struct cand_frame err_frame(void)
{
	/* A bus error: no state change, so no state events for others. */
	struct cand_frame f = util_frame(CAN_ERR_PROT | CAN_ERR_ACK,
					 CAND_FRAME_ERROR, "0000080000000000");

	return f;
}

START_TEST(test_filters_as_the_kernel)
{
	static const struct cand_filter sff = {0x120, 0x7F0,
					       CAND_FILTER_STANDARD, 0};
	static const struct cand_filter eff = {0x1234500, 0x1FFFFF00,
					       CAND_FILTER_EXTENDED, 0};
	static const struct cand_filter inv = {0x123, 0x7FF, CAND_FILTER_ANY,
					       1};
	static const struct cand_filter two[2] = {
		{0x100, 0x700, CAND_FILTER_ANY, 0},
		{0x120, 0x7F0, CAND_FILTER_ANY, 0}};
	static const struct cand_filter exact[2] = {
		{0x123, 0x7FF, CAND_FILTER_STANDARD, 0},
		{0x123, 0x1FFFFFFF, CAND_FILTER_EXTENDED, 0}};
	struct client c[7];
	struct cand_frame f[12];
	int s = util_raw_open("vcan0", RAW_FD), i, nf = 0;

	client_open(&c[0], "no filter, classic", "vcan0", 0, 0, NULL, 0);
	client_open(&c[1], "no filter, FD", "vcan0", 1, 0, NULL, 0);
	client_open(&c[2], "SFF-only 0x120/0x7F0", "vcan0", 0, 0, &sff, 1);
	client_open(&c[3], "EFF 0x1234500/0x1FFFFF00, FD", "vcan0", 1, 0, &eff,
		    1);
	client_open(&c[4], "inverted ~0x123, no error frames", "vcan0", 1, 1,
		    &inv, 1);
	client_open(&c[5], "two overlapping", "vcan0", 0, 1, two, 2);
	client_open(&c[6], "exact SFF and EFF 0x123", "vcan0", 1, 0, exact, 2);

	f[nf++] = util_frame(0x123, 0, "11");
	f[nf++] = util_frame(0x124, 0, "1122");
	f[nf++] = util_frame(0x12F, CAND_FRAME_REMOTE, "");
	f[nf++] = util_frame(0x123, CAND_FRAME_EXTENDED, "33");
	f[nf++] = util_frame(0x1234567, CAND_FRAME_EXTENDED, "44");
	f[nf++] = util_frame(0x1234500, CAND_FRAME_EXTENDED | CAND_FRAME_REMOTE,
			     "");
	f[nf++] = util_frame(0x125, CAND_FRAME_FD | CAND_FRAME_BRS,
			     "000102030405060708090A0B");
	f[nf++] = util_frame(0x12345AA, CAND_FRAME_EXTENDED | CAND_FRAME_FD,
			     "55");
	f[nf++] = err_frame();
	f[nf++] = util_frame(0x7FF, 0, "");
	f[nf++] = util_frame(0x123, CAND_FRAME_FD, "66");
	for (i = 0; i < nf; i++)
		util_raw_send(s, &f[i]);
	for (i = 0; i < 7; i++)
		client_check(&c[i]);
	close(s);
}
END_TEST

/* Clients that take exact standard ids are indexed by id in cand. */
START_TEST(test_exact_ids_as_the_kernel)
{
	static const struct cand_filter one = {0x123, 0x7FF,
					       CAND_FILTER_STANDARD, 0};
	static const struct cand_filter two[2] = {
		{0x124, 0x7FF, CAND_FILTER_STANDARD, 0},
		{0x125, 0x7FF, CAND_FILTER_STANDARD, 0}};
	static const struct cand_filter wide = {0x120, 0x7F0, CAND_FILTER_ANY,
						0};
	struct client c[4];
	struct cand_frame sff[4], other[2];
	int s = util_raw_open("vcan0", 0), i, round, ns = 0, no = 0;

	client_open(&c[0], "exact 0x123", "vcan0", 0, 0, &one, 1);
	client_open(&c[1], "exact 0x124 and 0x125", "vcan0", 0, 1, two, 2);
	client_open(&c[2], "exact 0x123, changed to 0x120/0x7F0", "vcan0", 0, 0,
		    &one, 1);
	client_open(&c[3], "no filter", "vcan0", 0, 0, NULL, 0);
	/* Filters changed while open: the index must follow. */
	ck_assert_int_eq(cand_set_filters(c[2].h, &wide, 1), 0);
	ck_assert_int_eq(setsockopt(c[2].twin, SOL_CAN_RAW, CAN_RAW_FILTER,
				    &(struct can_filter){0x120, 0x7F0},
				    sizeof(struct can_filter)),
			 0);
	sff[ns++] = util_frame(0x123, 0, "01");
	sff[ns++] = util_frame(0x125, 0, "02");
	sff[ns++] = util_frame(0x124, CAND_FRAME_REMOTE, "");
	sff[ns++] = util_frame(0x12A, 0, "03");
	other[no++] = util_frame(0x123, CAND_FRAME_EXTENDED, "04");
	other[no++] = err_frame();
	/* Standard frames alone, then mixed with others: both paths. */
	for (round = 0; round < 2; round++) {
		for (i = 0; i < ns; i++)
			util_raw_send(s, &sff[i]);
		util_msleep(50);
		for (i = 0; i < no; i++)
			util_raw_send(s, &other[i]);
		for (i = 0; i < ns; i++)
			util_raw_send(s, &sff[i]);
		util_msleep(50);
	}
	for (i = 0; i < 4; i++)
		client_check(&c[i]);
	close(s);
}
END_TEST

static cand_t *open_own(const char *channel, int own, int loopback, int fd)
{
	struct cand_options o;

	cand_options_init(&o);
	o.channel = channel;
	o.receive_own_messages = own;
	o.local_loopback = loopback;
	o.fd = fd;
	return util_open_opts(&o);
}

/* Receives one frame; asserts it is want and whether it is OWN. */
static void expect(cand_t *h, const struct cand_frame *want, int own,
		   const char *what)
{
	struct cand_frame got;

	util_recv_ok(h, &got, what);
	util_assert_frame(&got, want, what);
	ck_assert_msg(!(got.flags & CAND_FRAME_OWN) == !own, "%s: OWN is %s",
		      what, (got.flags & CAND_FRAME_OWN) ? "set" : "clear");
}

START_TEST(test_own_and_loopback_side_by_side)
{
	cand_t *a = open_own("vcan0", 0, 1, 0);	 /* python-can's defaults */
	cand_t *b = open_own("vcan0", 1, 1, 0);	 /* receive_own_messages */
	cand_t *c = open_own("vcan0", 0, 0, 0);	 /* local_loopback off */
	cand_t *d = open_own("vcan0", 1, 1, 1);	 /* FD, its own on */
	int r = util_raw_open("vcan0", RAW_FD);	 /* another local socket */
	int ro = util_raw_open("vcan0", RAW_FD); /* a raw twin of c */
	struct cand_frame fa = util_frame(0x301, 0, "A1");
	struct cand_frame fb = util_frame(0x302, 0, "B2");
	struct cand_frame fc = util_frame(0x303, 0, "C3");
	struct cand_frame fd = util_frame(0x304, CAND_FRAME_FD, "D4D4");
	struct cand_frame fr = util_frame(0x305, 0, "E5");
	struct cand_frame got;
	int zero = 0;

	util_send(a, &fa, 1);
	expect(b, &fa, 0, "b gets a's frame");
	expect(c, &fa, 0, "c gets a's frame");
	expect(d, &fa, 0, "d gets a's frame");
	util_raw_recv_ok(r, &got, "raw gets a's frame");
	util_recv_none(a, SETTLE_MS, "a does not get its own");

	util_send(b, &fb, 1);
	expect(b, &fb, 1, "b gets its own, OWN");
	expect(a, &fb, 0, "a gets b's frame");
	expect(c, &fb, 0, "c gets b's frame");
	expect(d, &fb, 0, "d gets b's frame, not OWN");
	util_raw_recv_ok(r, &got, "raw gets b's frame");
	util_recv_none(b, 10, "b gets its own once");

	/* The kernel's answer for loopback off: a raw twin sends the same. */
	ck_assert_int_eq(setsockopt(ro, SOL_CAN_RAW, CAN_RAW_LOOPBACK, &zero,
				    sizeof(zero)),
			 0);
	util_raw_send(ro, &fc);
	util_raw_recv_none(r, SETTLE_MS, "raw, a raw loopback-off frame");
	util_send(c, &fc, 1);
	util_raw_recv_none(r, SETTLE_MS, "raw, c's loopback-off frame");
	util_recv_none(a, 10, "a, c's loopback-off frame");
	util_recv_none(b, 10, "b, c's loopback-off frame");
	util_recv_none(c, 10, "c, its own loopback-off frame");
	util_recv_none(d, 10, "d, c's loopback-off frame");

	util_send(d, &fd, 1);
	expect(d, &fd, 1, "d gets its own FD frame");
	util_raw_recv_ok(r, &got, "raw FD gets d's frame");
	util_assert_frame(&got, &fd, "raw FD gets d's frame");
	util_recv_none(a, SETTLE_MS, "a is classic: no FD frame");
	util_recv_none(b, 10, "b is classic: no FD frame");

	/* Another local socket's frame is nobody's own. */
	util_raw_send(r, &fr);
	expect(a, &fr, 0, "a, raw frame");
	expect(b, &fr, 0, "b, raw frame");
	expect(d, &fr, 0, "d, raw frame");
	cand_close(a);
	cand_close(b);
	cand_close(c);
	cand_close(d);
	close(r);
	close(ro);
}
END_TEST

START_TEST(test_any_channel_beside_bound)
{
	cand_t *e = open_own("", 1, 1, 1);
	cand_t *v0 = util_open("vcan0");
	cand_t *v1 = util_open("vcan1");
	int r1 = util_raw_open("vcan1", 0);
	struct cand_frame f1 = util_frame(0x401, 0, "01");
	struct cand_frame g = util_frame(0x402, 0, "02");
	struct cand_frame h = util_frame(0x403, 0, "03");
	struct cand_frame got;

	util_raw_send(r1, &f1);
	util_recv_ok(e, &got, "\"\" gets vcan1's frame");
	util_assert_frame(&got, &f1, "\"\" gets vcan1's frame");
	ck_assert_str_eq(got.ifname, "vcan1");
	expect(v1, &f1, 0, "vcan1 client");
	util_recv_none(v0, SETTLE_MS, "vcan0 client, a vcan1 frame");

	snprintf(g.ifname, sizeof(g.ifname), "vcan0");
	util_send(e, &g, 1);
	util_recv_ok(e, &got, "\"\" gets its own");
	util_assert_frame(&got, &g, "\"\" gets its own");
	ck_assert_msg(got.flags & CAND_FRAME_OWN, "\"\"'s own is not OWN");
	ck_assert_str_eq(got.ifname, "vcan0");
	expect(v0, &g, 0, "vcan0 client gets \"\"'s frame");
	util_recv_none(v1, SETTLE_MS, "vcan1 client, a vcan0 frame");

	util_send(v0, &h, 1);
	expect(e, &h, 0, "\"\" gets vcan0 client's frame, not OWN");
	cand_close(e);
	cand_close(v0);
	cand_close(v1);
	close(r1);
}
END_TEST

Suite *shared_suite(void)
{
	Suite *s = suite_create("shared");
	TCase *tc = util_tcase("shared");

	tcase_add_test(tc, test_filters_as_the_kernel);
	tcase_add_test(tc, test_exact_ids_as_the_kernel);
	tcase_add_test(tc, test_own_and_loopback_side_by_side);
	tcase_add_test(tc, test_any_channel_beside_bound);
	suite_add_tcase(s, tc);
	return s;
}
