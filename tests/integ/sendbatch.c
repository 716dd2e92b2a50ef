/*
 * A send's frames go to the kernel a sendmmsg() at a time, and a channel
 * whose filters pass nothing (canctl gen's) is kept off its interface's
 * tap. These tests hold both to the semantics of a write() per frame and
 * of a socket of the client's own: a TX queue that fills part way through
 * a batch (a vcan behind a tiny tbf qdisc) sends exactly the frames
 * reported, in order, and the rest are retried or refused as before; a
 * send-only channel receives nothing, still gets error frames when it
 * asks for them, its frames reach the others as another local socket's,
 * and filters set later make it receive from then on, its own echoes
 * told as its own.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

#define SB_IFACE "sbq0"

static void sb_qdisc_down(void)
{
	util_iface_del(SB_IFACE);
}

/* The observer gets ids id.. id+n-1 in order, then nothing more. */
static void sb_expect(int raw, uint32_t id, size_t n, const char *what)
{
	struct cand_frame f;
	size_t i;

	for (i = 0; i < n; i++) {
		ck_assert_msg(util_raw_recv(raw, &f, 5000) == 1,
			      "%s: frame %zu of %zu never went out", what, i,
			      n);
		ck_assert_msg(f.id == id + i, "%s: frame %zu has id %x, not %x",
			      what, i, f.id, id + (uint32_t)i);
	}
	util_raw_recv_none(raw, 1500, what);
}

START_TEST(test_batch_meets_full_queue)
{
	enum { N = 200 };
	static struct cand_frame f[N];
	cand_t *h;
	int raw, rc;

	util_tbf_iface(SB_IFACE);
	raw = util_raw_open(SB_IFACE, 0);
	h = util_open(SB_IFACE);

	/* No timeout: what the queue took, in order, and a short count. */
	util_frames_run(f, N, 0x100);
	rc = cand_send(h, f, N, 0);
	ck_assert_msg(rc > 0 && rc < N, "sent %d of %d (%s)", rc, N,
		      rc < 0 ? cand_strerror(rc) : "");
	sb_expect(raw, 0x100, (size_t)rc, "timeout 0");

	/* A timeout too short for them all: the same, after retrying. */
	util_frames_run(f, N, 0x300);
	rc = cand_send(h, f, N, 300);
	ck_assert_msg(rc > 0 && rc < N, "sent %d of %d in 300 ms", rc, N);
	sb_expect(raw, 0x300, (size_t)rc, "timeout 300 ms");

	/* Time enough: every frame, in order, each batch retried. */
	util_frames_run(f, 16, 0x500);
	rc = cand_send(h, f, 16, 15000);
	ck_assert_msg(rc == 16, "sent %d of 16 (%s)", rc,
		      rc < 0 ? cand_strerror(rc) : "");
	sb_expect(raw, 0x500, 16, "timeout 15 s");

	cand_close(h);
	close(raw);
	sb_qdisc_down();
}
END_TEST

/* Passes nothing, as SocketCAN's empty CAN_RAW_FILTER: canctl gen's. */
static const struct cand_filter sb_none = {.id = 0, .mask = 0, .invert = 1};

static cand_t *sb_open_deaf(const char *channel, int errors, int own)
{
	struct cand_options o;

	cand_options_init(&o);
	o.channel = channel;
	o.filters = &sb_none;
	o.n_filters = 1;
	o.ignore_rx_error_frames = !errors;
	o.receive_own_messages = own;
	return util_open_opts(&o);
}

START_TEST(test_send_only_channel)
{
	enum { N = 300 };
	static struct cand_frame f[N], got[N];
	struct cand_frame e =
		util_frame(0x4, CAND_FRAME_ERROR, "0000000000000000");
	struct cand_frame r;
	cand_t *gen, *errs, *obs;
	size_t i, n;
	int raw;

	gen = sb_open_deaf("vcan0", 0, 1);
	errs = sb_open_deaf("vcan0", 1, 0);
	obs = util_open("vcan0");
	raw = util_raw_open("vcan0", RAW_ERR | RAW_BIGBUF);

	/* Its frames reach the others as another local socket's, in order. */
	util_frames_run(f, N, 0x200);
	util_send(gen, f, N);
	n = util_collect(obs, got, N, N, 200);
	ck_assert_uint_eq(n, N);
	for (i = 0; i < N; i++) {
		ck_assert_uint_eq(got[i].id, 0x200 + i);
		ck_assert_msg(!(got[i].flags & CAND_FRAME_OWN) &&
				      (got[i].flags & CAND_FRAME_LOCAL),
			      "frame %zu flags %x", i, got[i].flags);
	}
	for (i = 0; i < N; i++)
		util_raw_recv_ok(raw, &r, "the bus");
	util_recv_none(gen, 300, "a channel whose filters pass nothing");

	/* Error frames only for the one that asked for them. */
	util_raw_send(raw, &e);
	util_recv_ok(errs, &r, "an error frame on a send-only channel");
	ck_assert_msg(r.flags & CAND_FRAME_ERROR, "flags %x", r.flags);
	util_recv_none(gen, 300, "errors ignored");
	util_recv_none(errs, 100, "nothing but the error frame");
	util_recv_ok(obs, &r, "the error frame, observer");

	/* Filters that pass: from then on, its own echo as its own. */
	ck_assert_int_eq(cand_set_filters(gen, NULL, 0), 0);
	f[0] = util_frame(0x321, 0, "AA");
	util_send(gen, f, 1);
	util_recv_ok(gen, &r, "own frame after set_filters");
	ck_assert_msg(r.id == 0x321 && (r.flags & CAND_FRAME_OWN),
		      "id %x flags %x", r.id, r.flags);
	util_recv_ok(obs, &r, "observer after set_filters");
	ck_assert_msg(r.id == 0x321 && !(r.flags & CAND_FRAME_OWN),
		      "id %x flags %x", r.id, r.flags);
	f[0] = util_frame(0x322, 0, "BB");
	util_raw_send(raw, &f[0]);
	util_recv_ok(gen, &r, "another's frame after set_filters");
	ck_assert_msg(r.id == 0x322 && !(r.flags & CAND_FRAME_OWN),
		      "id %x flags %x", r.id, r.flags);

	/* And back to none: nothing more. */
	ck_assert_int_eq(cand_set_filters(gen, &sb_none, 1), 0);
	util_send(gen, f, 1);
	util_raw_send(raw, &f[0]);
	util_recv_none(gen, 300, "filters set to none again");
	cand_close(gen);
	cand_close(errs);
	cand_close(obs);
	close(raw);
}
END_TEST

/*
 * One send of thousands of frames on a vcan: every echo is back before
 * the daemon reads the first, and each is still told as its sender's own,
 * to a sender that wants its own messages and from one that does not.
 */
/*
 * A CAN socket bound while its link is down, or whose link went down
 * since, keeps ENETDOWN for its next send, which the kernel then does not
 * even try. cand's sockets outlive a link's downs, and nobody reads a tap
 * without receivers, so a send through a channel opened before the link
 * came up, or after a down and up, must still go out, on both of the
 * sockets a send can take: the tap (loopback on) and the channel's own
 * (loopback off). The down itself is still an error.
 */
START_TEST(test_send_after_link_down)
{
	struct cand_frame f = util_frame(0x123, 0, "11"), r;
	struct cand_options o;
	cand_t *deaf, *noloop;
	int raw, round;

	ck_assert_int_eq(util_sh("ip link add dev %s type vcan", SB_IFACE), 0);
	/* Opened while down: the daemon has the link, its tap bound. */
	deaf = sb_open_deaf(SB_IFACE, 0, 0);
	cand_options_init(&o);
	o.channel = SB_IFACE;
	o.local_loopback = 0;
	o.filters = &sb_none;
	o.n_filters = 1;
	noloop = util_open_opts(&o);
	for (round = 0; round < 2; round++) {
		ck_assert_int_eq(util_sh("ip link set %s up", SB_IFACE), 0);
		raw = util_raw_open(SB_IFACE, 0);
		f.id = 0x120 + (uint32_t)round;
		ck_assert_msg(cand_send(deaf, &f, 1, 0) == 1,
			      "round %d, through the tap: %s", round,
			      cand_last_detail(deaf));
		util_raw_recv_ok(raw, &r, "the tap's frame");
		ck_assert_uint_eq(r.id, f.id);
		ck_assert_msg(cand_send(noloop, &f, 1, 0) == 1,
			      "round %d, loopback off: %s", round,
			      cand_last_detail(noloop));
		close(raw);
		ck_assert_int_eq(util_sh("ip link set %s down", SB_IFACE), 0);
		ck_assert_int_eq(cand_send(deaf, &f, 1, 0), CAND_ENETDOWN);
	}
	cand_close(deaf);
	cand_close(noloop);
	sb_qdisc_down();
}
END_TEST

START_TEST(test_big_batch_echoes)
{
	enum { N = 3000 };
	static struct cand_frame f[N], got[N];
	struct cand_options o;
	cand_t *own, *plain;
	size_t i, n;

	cand_options_init(&o);
	o.channel = "vcan0";
	o.receive_own_messages = 1;
	own = util_open_opts(&o);
	plain = util_open("vcan0");

	/* Each frame different from the others: its number in the data. */
	for (i = 0; i < N; i++) {
		f[i] = util_frame(0x100 + (uint32_t)(i & 0x3ff), 0, "0000");
		f[i].data[0] = (uint8_t)(i >> 8);
		f[i].data[1] = (uint8_t)i;
	}
	util_send(own, f, N);
	n = util_collect(own, got, N, N, 200);
	ck_assert_uint_eq(n, N);
	for (i = 0; i < N; i++)
		ck_assert_msg(got[i].id == f[i].id &&
				      got[i].data[1] == (uint8_t)i &&
				      (got[i].flags & CAND_FRAME_OWN),
			      "own frame %zu: id %x flags %x", i, got[i].id,
			      got[i].flags);
	n = util_collect(plain, got, N, N, 200);
	ck_assert_uint_eq(n, N);
	for (i = 0; i < N; i++)
		ck_assert_msg(!(got[i].flags & CAND_FRAME_OWN),
			      "another's frame %zu told as own", i);

	util_send(plain, f, N);
	util_recv_none(plain, 300, "its own frames, receive_own_messages off");
	n = util_collect(own, got, N, N, 200);
	ck_assert_uint_eq(n, N);
	for (i = 0; i < N; i++)
		ck_assert_msg(!(got[i].flags & CAND_FRAME_OWN),
			      "plain's frame %zu told as own's", i);
	cand_close(own);
	cand_close(plain);
}
END_TEST

Suite *sendbatch_suite(void)
{
	Suite *s = suite_create("sendbatch");
	TCase *tc = util_tcase("sendbatch");

	tcase_add_unchecked_fixture(tc, NULL, sb_qdisc_down);
	tcase_add_test(tc, test_batch_meets_full_queue);
	tcase_add_test(tc, test_send_only_channel);
	tcase_add_test(tc, test_send_after_link_down);
	tcase_add_test(tc, test_big_batch_echoes);
	suite_add_tcase(s, tc);
	return s;
}
