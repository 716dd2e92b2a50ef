/*
 * A SendRequest's frames as the daemon reads them (pb/sendreq.c): packed
 * records of every kind, each way a record can be malformed and the
 * words that name it, the frames form beside it, and libcand's packing
 * against its Frame messages: the same kernel frames either way.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "framepack.h"
#include "libcand_int.h"
#include "unit.h"

struct sq_buf {
	uint8_t b[16 * FRAMEPACK_MAX];
	size_t len;
};

/* Appends a record; data NULL: none (a remote frame's). */
static void sq_put(struct sq_buf *p, uint32_t can_id, uint8_t len,
		   uint8_t flags, uint8_t ifname, const uint8_t *data)
{
	struct framepack_rec r = {
		.can_id = can_id,
		.len = len,
		.flags = flags,
		.ifname = ifname,
		.data = data,
	};

	p->len += framepack_put(p->b + p->len, &r);
}

static int sq_decode(const struct sq_buf *p, char **names, size_t n_names,
		     struct frame_desc **d, size_t *n, char *detail)
{
	Cand__SendRequest sr = CAND__SEND_REQUEST__INIT;
	size_t cap = 0;

	*d = NULL;
	sr.packed.data = (uint8_t *)p->b;
	sr.packed.len = p->len;
	sr.ifnames = names;
	sr.n_ifnames = n_names;
	detail[0] = '\0';
	return sendreq_frames(&sr, d, &cap, n, detail, 256);
}

/* d as the kernel frame the send makes of it. */
static struct canfd_frame sq_kernel(const struct frame_desc *d, int fd_chan)
{
	struct canfd_frame cf;
	char detail[256];
	int is_fd, rc;

	rc = frame_from_desc(d, fd_chan, &cf, &is_fd, detail, sizeof(detail));
	ck_assert_msg(rc == 0, "frame_from_desc: %d %s", rc, detail);
	ck_assert_int_eq(is_fd, d->fd);
	return cf;
}

START_TEST(test_sendreq_every_kind)
{
	static const uint8_t data[64] = {0x11, 0x22, 0x33,	 0x44, 0x55,
					 0x66, 0x77, 0x88,	 0x99, 0xaa,
					 0xbb, 0xcc, [63] = 0xee};
	char *names[] = {"vcan0", "vcan1"};
	struct sq_buf p = {.len = 0};
	struct frame_desc *d;
	struct canfd_frame cf;
	char detail[256];
	size_t n;

	sq_put(&p, 0x123, 3, 0, 0, data);
	sq_put(&p, 0x1abcdef0 | FRAMEPACK_EFF, 8, 0, 1, data);
	sq_put(&p, 0x7ff | FRAMEPACK_RTR, 5, 0, 0, NULL);
	sq_put(&p, 0x04 | FRAMEPACK_ERR, 8, 0, 0, data);
	sq_put(&p, 0x456, 12, FRAMEPACK_FD | FRAMEPACK_BRS | FRAMEPACK_ESI, 1,
	       data);
	sq_put(&p, 0x1000 | FRAMEPACK_EFF, 64, FRAMEPACK_FD, 0, data);
	sq_put(&p, 0x42, 0, 0, 1, NULL);
	ck_assert_int_eq(sq_decode(&p, names, 2, &d, &n, detail), 0);
	ck_assert_uint_eq(n, 7);

	ck_assert(d[0].id == 0x123 && !d[0].extended && !d[0].remote &&
		  !d[0].error && !d[0].fd && d[0].len == 3 && d[0].dlc == 3);
	/* No copy: the data is the request's own bytes. */
	ck_assert_ptr_eq(d[0].data, p.b + FRAMEPACK_HDR);
	ck_assert_str_eq(d[0].ifname, "vcan0");
	ck_assert(d[1].id == 0x1abcdef0 && d[1].extended && d[1].len == 8);
	ck_assert_str_eq(d[1].ifname, "vcan1");
	ck_assert(d[2].id == 0x7ff && d[2].remote && d[2].len == 0 &&
		  d[2].dlc == 5 && d[2].data == NULL);
	ck_assert(d[3].id == 0x04 && d[3].error && d[3].len == 8);
	ck_assert(d[4].fd && d[4].brs && d[4].esi && d[4].len == 12);
	ck_assert(d[5].fd && !d[5].brs && !d[5].esi && d[5].len == 64 &&
		  d[5].extended && d[5].id == 0x1000);
	ck_assert(d[6].len == 0 && d[6].data == NULL);
	ck_assert_str_eq(d[6].ifname, "vcan1");

	cf = sq_kernel(&d[2], 0);
	ck_assert_uint_eq(cf.can_id, 0x7ff | CAN_RTR_FLAG);
	ck_assert_uint_eq(cf.len, 5);
	cf = sq_kernel(&d[3], 0);
	ck_assert_uint_eq(cf.can_id, 0x04 | CAN_ERR_FLAG);
	cf = sq_kernel(&d[4], 1);
	ck_assert_uint_eq(cf.flags, CANFD_BRS | CANFD_ESI);
	ck_assert_uint_eq(cf.len, 12);
	ck_assert_mem_eq(cf.data, data, 12);
	cf = sq_kernel(&d[5], 1);
	ck_assert_uint_eq(cf.can_id, 0x1000 | CAN_EFF_FLAG);
	ck_assert_mem_eq(cf.data, data, 64);
	free(d);
}
END_TEST

/* No ifnames: index 0 is the channel's own interface, "". */
START_TEST(test_sendreq_no_names)
{
	static const uint8_t data[2] = {1, 2};
	struct sq_buf p = {.len = 0};
	struct frame_desc *d;
	char detail[256];
	size_t n;

	ck_assert_int_eq(sq_decode(&p, NULL, 0, &d, &n, detail), 0);
	ck_assert_uint_eq(n, 0);
	free(d);
	sq_put(&p, 0x10, 2, 0, 0, data);
	ck_assert_int_eq(sq_decode(&p, NULL, 0, &d, &n, detail), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(d[0].ifname, "");
	free(d);
}
END_TEST

/* A flood's array is kept for the next request; a giant send's is not. */
START_TEST(test_sendreq_done_keeps_small)
{
	static uint8_t big[5000 * FRAMEPACK_HDR];
	Cand__SendRequest sr = CAND__SEND_REQUEST__INIT;
	struct framepack_rec r = {.can_id = 0x10};
	struct frame_desc *d = NULL, *kept;
	size_t cap = 0, n, i;
	char detail[256];

	for (i = 0; i < 5000; i++)
		framepack_put(big + i * FRAMEPACK_HDR, &r);
	sr.packed.data = big;
	sr.packed.len = 2048 * FRAMEPACK_HDR;
	ck_assert_int_eq(sendreq_frames(&sr, &d, &cap, &n, detail, 256), 0);
	ck_assert_uint_eq(n, 2048);
	kept = d;
	sendreq_done(&d, &cap);
	ck_assert_ptr_eq(d, kept);
	ck_assert_uint_eq(cap, 2048);

	sr.packed.len = sizeof(big);
	ck_assert_int_eq(sendreq_frames(&sr, &d, &cap, &n, detail, 256), 0);
	ck_assert_uint_eq(n, 5000);
	ck_assert_uint_eq(d[4999].id, 0x10);
	sendreq_done(&d, &cap);
	ck_assert_ptr_null(d);
	ck_assert_uint_eq(cap, 0);
}
END_TEST

struct sq_bad {
	const char *what;
	uint32_t can_id;
	uint8_t len, flags, ifname;
	int cut;     /* bytes to take off the end of the record */
	int corrupt; /* 1: reserved byte; 2: timestamp */
	const char *words;
};

static const struct sq_bad sq_bads[] = {
	{"header cut", 0x1, 8, 0, 0, 17, 0, "cut short: 7 of its 16 header"},
	{"data cut", 0x1, 8, 0, 0, 5, 0, "cut short: 8 data bytes, 3 left"},
	{"over 64", 0x1, 65, FRAMEPACK_FD, 0, 0, 0, "length 65 is over 64"},
	{"classic 9", 0x1, 9, 0, 0, 0, 0, "length 9 is over 8 for a classic"},
	{"remote 9", 0x1 | FRAMEPACK_RTR, 9, 0, 0, 0, 0, "(a remote request)"},
	{"FD 9", 0x1, 9, FRAMEPACK_FD, 0, 0, 0, "length 9 is no CAN FD length"},
	{"FD 33", 0x1, 33, FRAMEPACK_FD, 0, 0, 0, "33 is no CAN FD"},
	{"OWN", 0x1, 1, FRAMEPACK_OWN, 0, 0, 0, "flags 0x08; a send takes"},
	{"LOCAL", 0x1, 1, FRAMEPACK_LOCAL, 0, 0, 0, "flags 0x10"},
	{"unknown flag", 0x1, 1, 0x80, 0, 0, 0, "flags 0x80"},
	{"BRS classic", 0x1, 1, FRAMEPACK_BRS, 0, 0, 0, "BRS or ESI without"},
	{"ESI classic", 0x1, 1, FRAMEPACK_ESI, 0, 0, 0, "BRS or ESI without"},
	{"ifname index", 0x1, 1, 0, 2, 0, 0,
	 "ifname index 2, but the request "
	 "names 2 interfaces"},
	{"reserved", 0x1, 1, 0, 0, 0, 1, "reserved byte and the timestamp"},
	{"timestamp", 0x1, 1, 0, 0, 0, 2, "reserved byte and the timestamp"},
};

/* Two good records, then the bad one at index 2: all of it refused. */
START_TEST(test_sendreq_malformed)
{
	static const uint8_t data[80] = {0};
	const struct sq_bad *b = &sq_bads[_i];
	char *names[] = {"vcan0", "vcan1"};
	struct sq_buf p = {.len = 0};
	struct frame_desc *d;
	char detail[256];
	size_t n = 99, at;

	sq_put(&p, 0x100, 1, 0, 0, data);
	sq_put(&p, 0x101, 1, 0, 1, data);
	at = p.len;
	sq_put(&p, b->can_id, b->len > 64 ? 64 : b->len, b->flags, b->ifname,
	       (b->can_id & FRAMEPACK_RTR) ? NULL : data);
	/* framepack_put writes at most 64 bytes: say more than there is. */
	p.b[at + 4] = b->len;
	if (b->corrupt == 1)
		p.b[at + 7] = 1;
	if (b->corrupt == 2)
		p.b[at + 12] = 1;
	p.len -= (size_t)b->cut;
	ck_assert_int_eq(sq_decode(&p, names, 2, &d, &n, detail), -EINVAL);
	ck_assert_uint_eq(n, 0);
	free(d);
	ck_assert_msg(strncmp(detail, "record 2", 8) == 0,
		      "%s: \"%s\" names no record 2", b->what, detail);
	ck_assert_msg(strstr(detail, b->words) != NULL,
		      "%s: \"%s\" lacks \"%s\"", b->what, detail, b->words);
}
END_TEST

/* Without ifnames only index 0 is there. */
START_TEST(test_sendreq_index_without_names)
{
	static const uint8_t data[1] = {0};
	struct sq_buf p = {.len = 0};
	struct frame_desc *d;
	char detail[256];
	size_t n;

	sq_put(&p, 0x100, 1, 0, 1, data);
	ck_assert_int_eq(sq_decode(&p, NULL, 0, &d, &n, detail), -EINVAL);
	ck_assert_str_eq(detail, "record 0: ifname index 1, but the request "
				 "names 0 interfaces");
	free(d);
}
END_TEST

START_TEST(test_sendreq_frames_form)
{
	Cand__SendRequest sr = CAND__SEND_REQUEST__INIT;
	Cand__Frame f[2] = {CAND__FRAME__INIT, CAND__FRAME__INIT};
	Cand__Frame *fp[2] = {&f[0], &f[1]};
	uint8_t data[65] = {0}, rec[FRAMEPACK_MAX];
	char detail[256] = "";
	char *names[] = {"vcan0"};
	struct frame_desc *d = NULL;
	size_t n, cap = 0;

	f[0].id = 0x10;
	f[0].data.data = data;
	f[0].data.len = 8;
	f[1].id = 0x11;
	f[1].data.data = data;
	f[1].data.len = 9;
	sr.frames = fp;
	sr.n_frames = 2;
	ck_assert_int_eq(
		sendreq_frames(&sr, &d, &cap, &n, detail, sizeof(detail)),
		-EINVAL);
	ck_assert_str_eq(detail, "frame 1: 9 data bytes; a classic CAN frame "
				 "carries at most 8");
	f[1].fd = 1;
	f[1].data.len = 65;
	ck_assert_int_eq(
		sendreq_frames(&sr, &d, &cap, &n, detail, sizeof(detail)),
		-EINVAL);
	ck_assert_ptr_nonnull(strstr(detail, "a CAN FD frame carries at most"));
	f[1].data.len = 9; /* rounds up to 12 on the way out */
	ck_assert_int_eq(
		sendreq_frames(&sr, &d, &cap, &n, detail, sizeof(detail)), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert(d[1].fd && d[1].len == 9 && d[1].id == 0x11);

	/* Both forms, or names without records: nothing is sent. */
	sr.packed.data = rec;
	sr.packed.len = framepack_put(rec, &(struct framepack_rec){.len = 0});
	ck_assert_int_eq(
		sendreq_frames(&sr, &d, &cap, &n, detail, sizeof(detail)),
		-EINVAL);
	ck_assert_str_eq(detail,
			 "a send has frames or packed records, not both");
	ck_assert_uint_eq(n, 0);
	sr.packed.len = 0;
	sr.ifnames = names;
	sr.n_ifnames = 1;
	ck_assert_int_eq(
		sendreq_frames(&sr, &d, &cap, &n, detail, sizeof(detail)),
		-EINVAL);
	ck_assert_uint_eq(n, 0);
	free(d);
}
END_TEST

/* libcand's records and its Frame messages: the same kernel frames. */
START_TEST(test_sendreq_libcand_both_forms)
{
	struct cand *h = libcand_conn_new();
	Cand__SendRequest sp = CAND__SEND_REQUEST__INIT;
	Cand__SendRequest sf = CAND__SEND_REQUEST__INIT;
	struct cand_frame f[7];
	struct frame_desc *dp = NULL, *df = NULL;
	struct canfd_frame a, b;
	char detail[256];
	size_t i, np, nf, cp = 0, cf = 0;

	memset(f, 0, sizeof(f));
	f[0] = (struct cand_frame){.id = 0x123, .len = 2, .data = {1, 2}};
	f[1] = (struct cand_frame){.id = 0x1abcdef,
				   .flags = CAND_FRAME_EXTENDED,
				   .len = 8,
				   .data = {8, 7, 6, 5, 4, 3, 2, 1},
				   .ifname = "vcan1"};
	f[2] = (struct cand_frame){
		.id = 0x7ff, .flags = CAND_FRAME_REMOTE, .len = 6};
	f[3] = (struct cand_frame){
		.id = 0x20, .flags = CAND_FRAME_ERROR, .len = 8, .data = {9}};
	/* 9 bytes: the last three of the caller's are not to go out. */
	f[4] = (struct cand_frame){
		.id = 0x55,
		.flags = CAND_FRAME_FD | CAND_FRAME_BRS,
		.len = 9,
		.data = {1, 2, 3, 4, 5, 6, 7, 8, 9, 0xa, 0xb, 0xc},
		.ifname = "vcan0"};
	f[5] = (struct cand_frame){
		.id = 0x56, .flags = CAND_FRAME_FD | CAND_FRAME_ESI, .len = 64};
	f[6] = (struct cand_frame){.id = 0x57, .ifname = "vcan1"};
	ck_assert_ptr_nonnull(h);
	ck_assert_int_eq(libcand_pb_check_frames(h, f, 7), 0);
	ck_assert_int_eq(libcand_pb_put_packed(h, f, 7, &sp), 0);
	/* The first frame named none: "" is index 0, then as they come. */
	ck_assert_uint_eq(sp.n_ifnames, 3);
	ck_assert_str_eq(sp.ifnames[0], "");
	ck_assert_str_eq(sp.ifnames[1], "vcan1");
	ck_assert_str_eq(sp.ifnames[2], "vcan0");
	ck_assert_int_eq(sendreq_frames(&sp, &dp, &cp, &np, detail, 256), 0);
	ck_assert_int_eq(libcand_pb_put_frames(h, f, 7), 0);
	sf.frames = h->txp;
	sf.n_frames = 7;
	ck_assert_int_eq(sendreq_frames(&sf, &df, &cf, &nf, detail, 256), 0);
	ck_assert_uint_eq(np, 7);
	ck_assert_uint_eq(nf, 7);
	for (i = 0; i < 7; i++) {
		a = sq_kernel(&dp[i], 1);
		b = sq_kernel(&df[i], 1);
		ck_assert_msg(memcmp(&a, &b, sizeof(a)) == 0,
			      "frame %zu differs", i);
		/* Packed without a name (protobuf-c unpacks NULL as ""). */
		ck_assert_str_eq(dp[i].ifname,
				 df[i].ifname != NULL ? df[i].ifname : "");
	}
	ck_assert_uint_eq(a.len, 0);
	a = sq_kernel(&dp[4], 1);
	ck_assert_uint_eq(a.len, 12);
	ck_assert_uint_eq(a.data[8], 9);
	ck_assert_uint_eq(a.data[9], 0);
	free(dp);
	free(df);
	cand_close(h);
}
END_TEST

/* An id over 29 bits cannot be packed: libcand refuses the whole send. */
START_TEST(test_sendreq_libcand_id_over_29_bits)
{
	struct cand *h = libcand_conn_new();
	struct cand_frame f[2];

	memset(f, 0, sizeof(f));
	f[0].id = 0x100;
	f[1].id = 0x20000000;
	f[1].flags = CAND_FRAME_EXTENDED;
	ck_assert_int_eq(libcand_pb_check_frames(h, f, 2), CAND_EINVAL);
	ck_assert_str_eq(cand_last_detail(h),
			 "frame 1: id 0x20000000 is over 29 bits");
	cand_close(h);
}
END_TEST

Suite *sendreq_suite(void)
{
	Suite *s = suite_create("sendreq");
	TCase *tc = tcase_create("sendreq");

	tcase_add_test(tc, test_sendreq_every_kind);
	tcase_add_test(tc, test_sendreq_no_names);
	tcase_add_test(tc, test_sendreq_done_keeps_small);
	tcase_add_loop_test(tc, test_sendreq_malformed, 0,
			    (int)(sizeof(sq_bads) / sizeof(sq_bads[0])));
	tcase_add_test(tc, test_sendreq_index_without_names);
	tcase_add_test(tc, test_sendreq_frames_form);
	tcase_add_test(tc, test_sendreq_libcand_both_forms);
	tcase_add_test(tc, test_sendreq_libcand_id_over_29_bits);
	suite_add_tcase(s, tc);
	return s;
}
