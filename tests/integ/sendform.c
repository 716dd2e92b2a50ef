/*
 * A send's two forms on the bus, from a client that speaks the protocol
 * by hand (libcand sends only packed records): the same frames packed and
 * as Frame messages reach a raw observer identical, on a bound channel and
 * on the "" channel by name; a TX queue that fills part way takes the
 * same share of each, in order; and what the codec can tell is wrong (a
 * bad record, a Frame too long, both forms at once) sends nothing, while
 * what only the send can tell (an id out of range) stops it there, in
 * both forms alike.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <linux/can/error.h>

#include "framepack.h"
#include "util.h"
#include "util_wire.h"

#define SF_QDISC "sfq0"
#define SF_MAX	 200

/* One send's frames in both forms, built from the same cand_frames. */
struct sf_send {
	Cand__SendRequest sr;
	Cand__Frame pb[SF_MAX], *pbp[SF_MAX];
	uint8_t packed[SF_MAX * FRAMEPACK_MAX];
	char *names[2];
};

/* Written here, not by libcand, so the two encoders check each other. */
static void sf_packed(struct sf_send *s, const struct cand_frame *f, size_t n,
		      const char *const *names, size_t n_names)
{
	size_t i, k, off = 0;

	cand__send_request__init(&s->sr);
	for (i = 0; i < n; i++) {
		struct framepack_rec r = {.can_id = f[i].id, .len = f[i].len};

		if (f[i].flags & CAND_FRAME_EXTENDED)
			r.can_id |= FRAMEPACK_EFF;
		if (f[i].flags & CAND_FRAME_REMOTE)
			r.can_id |= FRAMEPACK_RTR;
		else
			r.data = f[i].data;
		if (f[i].flags & CAND_FRAME_ERROR)
			r.can_id |= FRAMEPACK_ERR;
		if (f[i].flags & CAND_FRAME_FD)
			r.flags = FRAMEPACK_FD |
				  ((f[i].flags & CAND_FRAME_BRS) ? FRAMEPACK_BRS
								 : 0) |
				  ((f[i].flags & CAND_FRAME_ESI) ? FRAMEPACK_ESI
								 : 0);
		for (k = 0; k < n_names; k++)
			if (strcmp(names[k], f[i].ifname) == 0)
				r.ifname = (uint8_t)k;
		off += framepack_put(s->packed + off, &r);
	}
	for (k = 0; k < n_names; k++)
		s->names[k] = (char *)names[k];
	s->sr.packed.data = s->packed;
	s->sr.packed.len = off;
	s->sr.ifnames = s->names;
	s->sr.n_ifnames = n_names;
}

static void sf_messages(struct sf_send *s, const struct cand_frame *f, size_t n)
{
	size_t i;

	cand__send_request__init(&s->sr);
	for (i = 0; i < n; i++) {
		Cand__Frame *p = &s->pb[i];

		cand__frame__init(p);
		p->id = f[i].id;
		p->extended = (f[i].flags & CAND_FRAME_EXTENDED) != 0;
		p->remote = (f[i].flags & CAND_FRAME_REMOTE) != 0;
		p->error = (f[i].flags & CAND_FRAME_ERROR) != 0;
		p->fd = (f[i].flags & CAND_FRAME_FD) != 0;
		p->brs = (f[i].flags & CAND_FRAME_BRS) != 0;
		p->esi = (f[i].flags & CAND_FRAME_ESI) != 0;
		p->dlc = f[i].len;
		if (!p->remote) {
			p->data.data = (uint8_t *)f[i].data;
			p->data.len = f[i].len;
		}
		p->ifname = (char *)f[i].ifname;
		s->pbp[i] = p;
	}
	s->sr.frames = s->pbp;
	s->sr.n_frames = n;
}

/* A hand-made client bound to channel, with fd frames. */
static int sf_open(const char *channel)
{
	Cand__Request req = CAND__REQUEST__INIT;
	Cand__OpenRequest o = CAND__OPEN_REQUEST__INIT;
	Cand__ServerMsg *m;
	int fd = util_wire_connect();

	o.channel = (char *)channel;
	o.fd = 1;
	req.id = 1;
	req.op_case = CAND__REQUEST__OP_OPEN;
	req.open = &o;
	util_wire_send_req(fd, &req);
	m = util_wire_read_reply(fd);
	ck_assert_msg(m != NULL && m->reply->status == CAND__STATUS__OK,
		      "open \"%s\": %s", channel,
		      m != NULL ? m->reply->detail : "closed");
	cand__server_msg__free_unpacked(m, NULL);
	return fd;
}

/* Sends s; the reply's status, *sent its count (0 without one). */
static int sf_send(int fd, struct sf_send *s, uint32_t timeout_ms,
		   uint32_t *sent, char *detail, size_t dsize)
{
	static uint32_t id = 100;
	Cand__Request req = CAND__REQUEST__INIT;
	Cand__ServerMsg *m;
	int status;

	s->sr.timeout_ms = timeout_ms;
	req.id = ++id;
	req.op_case = CAND__REQUEST__OP_SEND;
	req.send = &s->sr;
	util_wire_send_req(fd, &req);
	m = util_wire_read_reply(fd);
	ck_assert_msg(m != NULL, "no reply to a send");
	ck_assert_uint_eq(m->reply->id, id);
	status = (int)m->reply->status;
	*sent = m->reply->result_case == CAND__REPLY__RESULT_SEND
			? m->reply->send->sent
			: 0;
	snprintf(detail, dsize, "%s", m->reply->detail);
	cand__server_msg__free_unpacked(m, NULL);
	return status;
}

/* Frames of every kind, on ifname, their ids from base on. */
static size_t sf_kinds(struct cand_frame *f, uint32_t base, const char *ifname)
{
	size_t i, n = 0;

	f[n++] = util_frame(base, 0, "112233");
	f[n++] = util_frame(0x1abc0000 + base, CAND_FRAME_EXTENDED,
			    "0102030405060708");
	f[n] = util_frame(base + 2, CAND_FRAME_REMOTE, "");
	f[n++].len = 5;
	/* A protocol error: no state, which the health tests would see. */
	f[n++] = util_frame(CAN_ERR_PROT | CAN_ERR_BUSERROR, CAND_FRAME_ERROR,
			    "0000080000000000");
	f[n++] = util_frame(base + 4, CAND_FRAME_FD | CAND_FRAME_BRS,
			    "0102030405060708090A0B0C");
	f[n] = util_frame(base + 5, CAND_FRAME_FD | CAND_FRAME_ESI, "");
	f[n].len = 64;
	for (i = 0; i < 64; i++)
		f[n].data[i] = (uint8_t)(i * 3);
	n++;
	f[n++] = util_frame(base + 6, 0, "");
	for (i = 0; i < n; i++)
		snprintf(f[i].ifname, sizeof(f[i].ifname), "%s", ifname);
	return n;
}

static void sf_expect(int raw, const struct cand_frame *want, size_t n,
		      const char *what)
{
	struct cand_frame got;
	char w[96];
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(w, sizeof(w), "%s: frame %zu", what, i);
		util_raw_recv_ok(raw, &got, w);
		util_assert_frame(&got, &want[i], w);
	}
	util_raw_recv_none(raw, SETTLE_MS, what);
}

/* Sends f in both forms; each is all on the bus, as f. */
static void sf_both(int fd, int raw, const struct cand_frame *f, size_t n,
		    const char *const *names, size_t n_names)
{
	static struct sf_send s;
	char detail[256];
	uint32_t sent;

	sf_packed(&s, f, n, names, n_names);
	ck_assert_int_eq(sf_send(fd, &s, 0, &sent, detail, sizeof(detail)),
			 CAND__STATUS__OK);
	ck_assert_uint_eq(sent, n);
	sf_expect(raw, f, n, "packed");
	sf_messages(&s, f, n);
	ck_assert_int_eq(sf_send(fd, &s, 0, &sent, detail, sizeof(detail)),
			 CAND__STATUS__OK);
	ck_assert_uint_eq(sent, n);
	sf_expect(raw, f, n, "frames");
}

START_TEST(test_forms_same_frames)
{
	struct cand_frame f[8];
	int raw = util_raw_open("vcan0", RAW_FD | RAW_ERR);
	int fd = sf_open("vcan0");
	size_t n = sf_kinds(f, 0x310, "");

	sf_both(fd, raw, f, n, NULL, 0);
	close(fd);
	close(raw);
}
END_TEST

/* On the "" channel each frame names its interface, by index. */
START_TEST(test_forms_by_name)
{
	static const char *const names[] = {"vcan1", "vcan0"};
	struct cand_frame f[8];
	int raw0 = util_raw_open("vcan0", RAW_FD | RAW_ERR);
	int raw1 = util_raw_open("vcan1", RAW_ERR);
	int fd = sf_open("");
	size_t n;

	n = sf_kinds(f, 0x320, "vcan0");
	sf_both(fd, raw0, f, n, names, 2);
	util_raw_recv_none(raw1, SETTLE_MS, "vcan1, for vcan0's frames");
	/* vcan1 has no FD: the classic ones alone. */
	n = sf_kinds(f, 0x330, "vcan1");
	sf_both(fd, raw1, f, 4, names, 2);
	util_raw_recv_none(raw0, SETTLE_MS, "vcan0, for vcan1's frames");
	close(fd);
	close(raw0);
	close(raw1);
}
END_TEST

static void sf_qdisc_down(void)
{
	util_iface_del(SF_QDISC);
}

/*
 * One form into the slow queue: with no timeout what it took, in order,
 * and a short count; with time enough every frame.
 */
static void sf_full_queue(int fd, int raw, int packed, uint32_t base)
{
	static struct cand_frame f[SF_MAX];
	static struct sf_send s;
	const char *what = packed ? "packed" : "frames";
	char detail[256];
	uint32_t sent;
	int st;

	util_frames_run(f, SF_MAX, base);
	if (packed)
		sf_packed(&s, f, SF_MAX, NULL, 0);
	else
		sf_messages(&s, f, SF_MAX);
	st = sf_send(fd, &s, 0, &sent, detail, sizeof(detail));
	ck_assert_msg(st == CAND__STATUS__TX_BUFFER_FULL && sent > 0 &&
			      sent < SF_MAX,
		      "%s: status %d, %u of %d sent (%s)", what, st, sent,
		      SF_MAX, detail);
	sf_expect(raw, f, sent, what);

	util_frames_run(f, 16, base + 0x100);
	if (packed)
		sf_packed(&s, f, 16, NULL, 0);
	else
		sf_messages(&s, f, 16);
	st = sf_send(fd, &s, 15000, &sent, detail, sizeof(detail));
	ck_assert_msg(st == CAND__STATUS__OK && sent == 16,
		      "%s with 15 s: status %d, %u of 16 sent (%s)", what, st,
		      sent, detail);
	sf_expect(raw, f, 16, what);
}

START_TEST(test_forms_full_queue)
{
	int raw, fd;

	util_tbf_iface(SF_QDISC);
	raw = util_raw_open(SF_QDISC, 0);
	fd = sf_open(SF_QDISC);
	sf_full_queue(fd, raw, 1, 0x100);
	sf_full_queue(fd, raw, 0, 0x400);
	close(fd);
	close(raw);
	sf_qdisc_down();
}
END_TEST

/* Refused as INVALID_ARGUMENT with words, no frame sent. */
static void sf_refused(int fd, int raw, struct sf_send *s, const char *words)
{
	char detail[256];
	uint32_t sent;
	int st;

	st = sf_send(fd, s, 0, &sent, detail, sizeof(detail));
	ck_assert_msg(st == CAND__STATUS__INVALID_ARGUMENT,
		      "status %d (%s), want INVALID_ARGUMENT for \"%s\"", st,
		      detail, words);
	ck_assert_msg(strstr(detail, words) != NULL, "\"%s\" lacks \"%s\"",
		      detail, words);
	ck_assert_uint_eq(sent, 0);
	util_raw_recv_none(raw, SETTLE_MS, words);
}

START_TEST(test_codec_refusals_send_nothing)
{
	static struct sf_send s;
	struct cand_frame f[3];
	int raw = util_raw_open("vcan0", RAW_FD);
	int fd = sf_open("vcan0");
	uint8_t rec[FRAMEPACK_MAX];

	util_frames_run(f, 3, 0x340);
	/* Both forms at once. */
	sf_messages(&s, f, 3);
	s.sr.packed.data = rec;
	s.sr.packed.len = framepack_put(
		rec, &(struct framepack_rec){.can_id = 0x341, .len = 0});
	sf_refused(fd, raw, &s, "not both");
	/* A bad record after two good ones: a classic frame of 9 bytes. */
	f[2].len = 9;
	sf_packed(&s, f, 3, NULL, 0);
	sf_refused(fd, raw, &s, "record 2: length 9 is over 8");
	/* OWN is a received frame's. */
	f[2].len = 1;
	sf_packed(&s, f, 3, NULL, 0);
	s.packed[2 * (FRAMEPACK_HDR + 1) + 5] = FRAMEPACK_OWN;
	sf_refused(fd, raw, &s, "record 2: flags 0x08");
	/* The same length rule for a Frame. */
	f[1].len = 9;
	sf_messages(&s, f, 3);
	sf_refused(fd, raw, &s, "frame 1: 9 data bytes");
	/* The connection goes on. */
	f[1].len = 1;
	sf_both(fd, raw, f, 3, NULL, 0);
	close(fd);
	close(raw);
}
END_TEST

/* What the send refuses stops it there: the frames before go out. */
START_TEST(test_send_refusal_stops_there)
{
	static struct sf_send s;
	struct cand_frame f[3];
	int raw = util_raw_open("vcan0", 0);
	int fd = sf_open("vcan0");
	char detail[256];
	uint32_t sent;
	int packed, st;

	for (packed = 0; packed < 2; packed++) {
		util_frames_run(f, 3, 0x350);
		f[1].id = 0x800; /* over 11 bits */
		if (packed)
			sf_packed(&s, f, 3, NULL, 0);
		else
			sf_messages(&s, f, 3);
		st = sf_send(fd, &s, 0, &sent, detail, sizeof(detail));
		ck_assert_msg(st == CAND__STATUS__INVALID_ARGUMENT && sent == 1,
			      "%s: status %d, %u sent (%s)",
			      packed ? "packed" : "frames", st, sent, detail);
		ck_assert_ptr_nonnull(strstr(detail, "does not fit 11 bits"));
		sf_expect(raw, f, 1, packed ? "packed" : "frames");
	}
	close(fd);
	close(raw);
}
END_TEST

Suite *sendform_suite(void)
{
	Suite *s = suite_create("sendform");
	TCase *tc = util_tcase("sendform");

	tcase_add_unchecked_fixture(tc, NULL, sf_qdisc_down);
	tcase_add_test(tc, test_forms_same_frames);
	tcase_add_test(tc, test_forms_by_name);
	tcase_add_test(tc, test_forms_full_queue);
	tcase_add_test(tc, test_codec_refusals_send_nothing);
	tcase_add_test(tc, test_send_refusal_stops_there);
	suite_add_tcase(s, tc);
	return s;
}
