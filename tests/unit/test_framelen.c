/*
 * framelen: the bits canbusload counts. The classic figures are what
 * canbusload (can-utils 2020.11) reported for the same frames in the test
 * VM; the FD ones are laid out by hand from ISO 11898-1:2015.
 */
#include <string.h>

#include "framelen.h"
#include "frametext.h"
#include "unit.h"

static struct cand_frame fl_frame(const char *text)
{
	struct cand_frame f;
	const char *why = "";

	ck_assert_msg(frametext_parse(text, &f, &why) == 0, "%s: %s", text,
		      why);
	return f;
}

static unsigned fl_count(const char *text, enum framelen_mode mode,
			 struct framelen_bits *bits)
{
	struct cand_frame f = fl_frame(text);

	return framelen_count(&f, mode, bits);
}

/* canbusload's own figures for one SFF and one EFF frame in a second. */
START_TEST(test_canbusload_figures)
{
	const char *sff = "123#0000000000000000",
		   *eff = "12345678#FFFFFFFFFFFFFFFF";

	ck_assert_uint_eq(fl_count(sff, FRAMELEN_WORST_CASE, NULL) +
				  fl_count(eff, FRAMELEN_WORST_CASE, NULL),
			  295);
	ck_assert_uint_eq(fl_count(sff, FRAMELEN_EXACT, NULL) +
				  fl_count(eff, FRAMELEN_EXACT, NULL),
			  269);
	ck_assert_uint_eq(fl_count(sff, FRAMELEN_NO_STUFFING, NULL) +
				  fl_count(eff, FRAMELEN_NO_STUFFING, NULL),
			  242);
}
END_TEST

/* canframelen.h's formulas: 47 + 8n and 67 + 8n, 55 + 10n and 80 + 10n. */
START_TEST(test_classic_formulas)
{
	struct cand_frame f = fl_frame("123#"), e = fl_frame("01234567#");
	struct framelen_bits b;
	unsigned n;

	for (n = 0; n <= 8; n++) {
		f.len = e.len = (uint8_t)n;
		ck_assert_uint_eq(framelen_count(&f, FRAMELEN_NO_STUFFING, &b),
				  47 + 8 * n);
		ck_assert_uint_eq(b.data, 0);
		ck_assert_uint_eq(framelen_count(&e, FRAMELEN_NO_STUFFING, &b),
				  67 + 8 * n);
		ck_assert_uint_eq(framelen_count(&f, FRAMELEN_WORST_CASE, &b),
				  55 + 10 * n);
		ck_assert_uint_eq(framelen_count(&e, FRAMELEN_WORST_CASE, &b),
				  80 + 10 * n);
	}
}
END_TEST

/*
 * Id 0, no data: 19 zeros and a CRC of 15 more, a stuff bit after every
 * five: 34 + 6 + 13. A remote frame has no data field, whatever its DLC.
 */
START_TEST(test_classic_exact_by_hand)
{
	ck_assert_uint_eq(fl_count("000#", FRAMELEN_EXACT, NULL), 53);
	ck_assert_uint_eq(fl_count("000#R8", FRAMELEN_NO_STUFFING, NULL), 47);
	ck_assert_uint_eq(fl_count("000#R8", FRAMELEN_WORST_CASE, NULL), 55);
}
END_TEST

/* The exact count lies between the other two, whatever the content. */
START_TEST(test_exact_between)
{
	struct cand_frame f;
	unsigned i, seed = 12345, lo, hi, ex;

	for (i = 0; i < 2000; i++) {
		memset(&f, 0, sizeof(f));
		seed = seed * 1103515245u + 12345u;
		f.flags = (seed >> 8) & 1 ? CAND_FRAME_EXTENDED : 0;
		if ((seed >> 9) & 1)
			f.flags |= CAND_FRAME_FD |
				   ((seed >> 10) & 1 ? CAND_FRAME_BRS : 0);
		f.id = (seed >> 3) &
		       ((f.flags & CAND_FRAME_EXTENDED) ? 0x1fffffffu : 0x7ffu);
		f.len = (uint8_t)((seed >> 11) %
				  ((f.flags & CAND_FRAME_FD) ? 65 : 9));
		memset(f.data, (int)(seed >> 20), sizeof(f.data));
		f.data[0] = (uint8_t)seed;
		lo = framelen_count(&f, FRAMELEN_NO_STUFFING, NULL);
		ex = framelen_count(&f, FRAMELEN_EXACT, NULL);
		hi = framelen_count(&f, FRAMELEN_WORST_CASE, NULL);
		ck_assert_msg(lo <= ex && ex <= hi, "frame %u: %u %u %u", i, lo,
			      ex, hi);
	}
}
END_TEST

/*
 * FD, id 0, no data, no BRS: SOF, 11 id bits, RRS and IDE are 14 zeros,
 * FDF a one, then res, BRS, ESI and the DLC 7 zeros: 3 dynamic stuff
 * bits. Then the stuff count (4), CRC-17, 6 fixed stuff bits, the
 * delimiter, ACK, its delimiter, EOF and the inter-frame space.
 */
START_TEST(test_fd_by_hand)
{
	struct framelen_bits b;

	ck_assert_uint_eq(fl_count("000##0", FRAMELEN_NO_STUFFING, &b),
			  22 + 4 + 17 + 1 + 12);
	ck_assert_uint_eq(fl_count("000##0", FRAMELEN_EXACT, &b),
			  22 + 3 + 4 + 17 + 6 + 1 + 12);
	ck_assert_uint_eq(b.data, 0);
	ck_assert_uint_eq(fl_count("000##0", FRAMELEN_WORST_CASE, &b),
			  22 + 5 + 4 + 17 + 6 + 1 + 12);
}
END_TEST

/* With BRS, ESI to the CRC delimiter goes at the data bitrate. */
START_TEST(test_fd_brs_split)
{
	struct cand_frame f = fl_frame("123##1");
	struct framelen_bits b;
	unsigned total;

	f.len = 64;
	total = framelen_count(&f, FRAMELEN_NO_STUFFING, &b);
	ck_assert_uint_eq(b.nominal, 17 + 12);
	ck_assert_uint_eq(b.data, 5 + 512 + 4 + 21 + 1);
	ck_assert_uint_eq(total, b.nominal + b.data);
	framelen_count(&f, FRAMELEN_WORST_CASE, &b);
	ck_assert_uint_eq(b.nominal, 17 + 4 + 12);
	ck_assert_uint_eq(b.data, 5 + 512 + (133 - 4) + 4 + 21 + 7 + 1);
	/* 16 bytes still take CRC-17, 20 take CRC-21. */
	f.len = 16;
	framelen_count(&f, FRAMELEN_NO_STUFFING, &b);
	ck_assert_uint_eq(b.data, 5 + 128 + 4 + 17 + 1);
	f.len = 20;
	framelen_count(&f, FRAMELEN_NO_STUFFING, &b);
	ck_assert_uint_eq(b.data, 5 + 160 + 4 + 21 + 1);
	/* An odd length is sent as the next one the DLC can say. */
	f.len = 13;
	framelen_count(&f, FRAMELEN_NO_STUFFING, &b);
	ck_assert_uint_eq(b.data, 5 + 128 + 4 + 17 + 1);
}
END_TEST

Suite *framelen_suite(void)
{
	Suite *s = suite_create("framelen");
	TCase *tc = tcase_create("bits");

	tcase_add_test(tc, test_canbusload_figures);
	tcase_add_test(tc, test_classic_formulas);
	tcase_add_test(tc, test_classic_exact_by_hand);
	tcase_add_test(tc, test_exact_between);
	tcase_add_test(tc, test_fd_by_hand);
	tcase_add_test(tc, test_fd_brs_split);
	suite_add_tcase(s, tc);
	return s;
}
