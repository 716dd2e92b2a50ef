/*
 * candump's options in frametext and timetext: -x, -a, -c, -t. The
 * expected lines are what candump (can-utils 2020.11) printed for the
 * same frames on a vcan in the test VM.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "frametext.h"
#include "timetext.h"
#include "unit.h"

static struct cand_frame cd_frame(const char *iface, const char *text,
				  uint32_t extra_flags, uint64_t ns)
{
	struct cand_frame f;
	const char *why = "";

	ck_assert_msg(frametext_parse(text, &f, &why) == 0, "%s: %s", text,
		      why);
	f.flags |= extra_flags;
	snprintf(f.ifname, sizeof(f.ifname), "%s", iface);
	f.timestamp_ns = ns;
	return f;
}

static void cd_expect(struct frametext_view *v, const struct cand_frame *f,
		      const char *want)
{
	char buf[FRAMETEXT_MAX];
	int n;

	n = frametext_format_candump(buf, sizeof(buf), f, v);
	ck_assert_str_eq(buf, want);
	ck_assert_int_eq(n, (int)strlen(want));
}

START_TEST(test_extra_rx_tx)
{
	struct frametext_view v;
	struct cand_frame f;

	frametext_view_init(&v, 5);
	v.flags = FRAMETEXT_EXTRA;
	f = cd_frame("vcan0", "005#55", CAND_FRAME_LOCAL, 0);
	cd_expect(&v, &f, "  vcan0  TX - -  005   [1]  55");
	f = cd_frame("vcan0", "006##1AA", CAND_FRAME_LOCAL, 0);
	cd_expect(&v, &f, "  vcan0  TX B -  006  [01]  AA");
	f = cd_frame("can1", "123##3", 0, 0);
	cd_expect(&v, &f, "   can1  RX B E  123  [00] ");
}
END_TEST

START_TEST(test_extra_log)
{
	struct frametext_view v;
	struct cand_frame f;
	char buf[FRAMETEXT_MAX];

	frametext_view_init(&v, 5);
	v.flags = FRAMETEXT_EXTRA;
	f = cd_frame("vcan0", "005#55", CAND_FRAME_LOCAL,
		     1796122590634141000ull);
	frametext_format_log(buf, sizeof(buf), &f, &v);
	ck_assert_str_eq(buf, "(1796122590.634141) vcan0 005#55 T");
	f.flags &= ~CAND_FRAME_LOCAL;
	frametext_format_log(buf, sizeof(buf), &f, &v);
	ck_assert_str_eq(buf, "(1796122590.634141) vcan0 005#55 R");
}
END_TEST

START_TEST(test_ascii)
{
	struct frametext_view v;
	struct cand_frame f;

	frametext_view_init(&v, 5);
	v.flags = FRAMETEXT_ASCII;
	f = cd_frame("vcan0", "123#41424300", 0, 0);
	cd_expect(&v, &f,
		  "  vcan0  123   [4]  41 42 43 00               'ABC.'");
	f = cd_frame("vcan0", "123#", 0, 0);
	cd_expect(&v, &f, "  vcan0  123   [0]                            ''");
	f = cd_frame("vcan0", "12345678#7E7F2021222324FF", 0, 0);
	cd_expect(&v, &f,
		  "  vcan0  12345678   [8]  7E 7F 20 21 22 23 24 FF"
		  "   '~. !\"#$.'");
	/* No text for remote requests, error frames or FD beyond 8 bytes. */
	f = cd_frame("vcan0", "123#R2", 0, 0);
	cd_expect(&v, &f, "  vcan0       123   [2]  remote request");
	f = cd_frame("vcan0", "123##0000102030405060708090A0B", 0, 0);
	cd_expect(
		&v, &f,
		"  vcan0       123  [12]  00 01 02 03 04 05 06 07 08 09 0A 0B");
}
END_TEST

START_TEST(test_colors)
{
	struct frametext_view v;
	struct cand_frame f;

	frametext_view_init(&v, 5);
	v.color = 3;
	v.stamp = TIMETEXT_ABSOLUTE;
	f = cd_frame("vcan0", "005#55", 0, 1796122593414864000ull);
	cd_expect(&v, &f,
		  " \33[1m\33[34m(1796122593.414864)  vcan0  005   [1]  "
		  "55\33[0m");
	f = cd_frame("vcan1", "007#77", 0, 1796122593768066000ull);
	cd_expect(&v, &f,
		  " \33[1m\33[31m(1796122593.768066)  vcan1  007   [1]  "
		  "77\33[0m");
	/* vcan0 keeps its colour; -c -c colours the line after the stamp. */
	v.color = 2;
	f = cd_frame("vcan0", "005#55", 0, 1796122593414864000ull);
	cd_expect(&v, &f,
		  " (1796122593.414864)  \33[1m\33[34mvcan0  005   [1]  "
		  "55\33[0m");
	/* -c: the name only. */
	v.color = 1;
	v.stamp = 0;
	cd_expect(&v, &f, "  \33[1m\33[34mvcan0\33[0m  005   [1]  55");
}
END_TEST

START_TEST(test_stamps)
{
	/* In order: each stamp's reference is the one before it. */
	static const struct {
		int mode, fresh; /* fresh: a reference of 0 first */
		uint64_t ns;
		const char *want;
	} t[] = {
		/* Microseconds, truncated, as SO_TIMESTAMP gives them. */
		{TIMETEXT_ABSOLUTE, 1, 1436509052249713999ull,
		 "(1436509052.249713) "},
		{TIMETEXT_ZERO, 0, 1436509052249713000ull, "(000.000000) "},
		{TIMETEXT_ZERO, 0, 1436509053250000000ull, "(001.000287) "},
		{TIMETEXT_DELTA, 1, 1436509052000000000ull, "(000.000000) "},
		{TIMETEXT_DELTA, 0, 1436509052010020000ull, "(000.010020) "},
		{TIMETEXT_DELTA, 0, 1436509052010030000ull, "(000.000010) "},
		/* A clock that went back is no time, as in candump. */
		{TIMETEXT_DELTA, 0, 1436509051000000000ull, "(000.000000) "},
	};
	char buf[64];
	uint64_t ref = 0;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (t[i].fresh)
			ref = 0;
		timetext_format_stamp(buf, sizeof(buf), t[i].mode, t[i].ns,
				      &ref);
		ck_assert_msg(strcmp(buf, t[i].want) == 0,
			      "stamp %zu: '%s', want '%s'", i, buf, t[i].want);
	}

	setenv("TZ", "UTC0", 1);
	tzset();
	timetext_format_stamp(buf, sizeof(buf), TIMETEXT_DATE,
			      1436509052249713000ull, &ref);
	ck_assert_str_eq(buf, "(2015-07-10 06:17:32.249713) ");
	ck_assert_int_eq(timetext_format_stamp(buf, sizeof(buf), 0, 1, &ref),
			 0);
	ck_assert_str_eq(buf, "");
	ck_assert(timetext_mode_valid('a') && timetext_mode_valid('z'));
	ck_assert(!timetext_mode_valid('x') && !timetext_mode_valid(0));
}
END_TEST

START_TEST(test_dotted_and_long)
{
	struct cand_frame f;
	char buf[FRAMETEXT_MAX];

	f = cd_frame("vcan0", "123#11223344", 0, 0);
	frametext_format_dotted(buf, sizeof(buf), &f);
	ck_assert_str_eq(buf, "123#11.22.33.44");
	f = cd_frame("vcan0", "123##1AABB", 0, 0);
	frametext_format_dotted(buf, sizeof(buf), &f);
	ck_assert_str_eq(buf, "123##1.AA.BB");
	f = cd_frame("vcan0", "123#R3", 0, 0);
	frametext_format_dotted(buf, sizeof(buf), &f);
	ck_assert_str_eq(buf, "123#R3");
	f = cd_frame("vcan0", "123#4142", 0, 0);
	frametext_format_long(buf, sizeof(buf), &f, FRAMETEXT_INDENT);
	ck_assert_str_eq(buf, "     123   [2]  41 42");
	frametext_format_long(buf, sizeof(buf), &f, FRAMETEXT_ASCII);
	ck_assert_str_eq(buf, "123   [2]  41 42                     'AB'");
}
END_TEST

/* The longest line there is fits, and a short buffer is cut, not overrun. */
START_TEST(test_longest_line)
{
	struct frametext_view v;
	struct cand_frame f;
	char buf[FRAMETEXT_MAX], small[16];
	int n;

	frametext_view_init(&v, CAND_IFNAMSIZ - 1);
	v.flags = FRAMETEXT_EXTRA | FRAMETEXT_ASCII;
	v.color = 3;
	v.stamp = TIMETEXT_DATE;
	f = cd_frame("vcan0", "1FFFFFFF##3", 0, UINT64_MAX);
	f.len = CAND_MAX_DLEN;
	memset(f.ifname, 'x', CAND_IFNAMSIZ - 1);
	n = frametext_format_candump(buf, sizeof(buf), &f, &v);
	ck_assert_int_lt(n, FRAMETEXT_MAX);
	ck_assert_int_eq(n, (int)strlen(buf));
	ck_assert_int_eq(frametext_format_candump(small, sizeof(small), &f, &v),
			 n);
	ck_assert_uint_eq(strlen(small), sizeof(small) - 1);
}
END_TEST

Suite *candump_suite(void)
{
	Suite *s = suite_create("candump");
	TCase *tc = tcase_create("options");

	tcase_add_test(tc, test_extra_rx_tx);
	tcase_add_test(tc, test_extra_log);
	tcase_add_test(tc, test_ascii);
	tcase_add_test(tc, test_colors);
	tcase_add_test(tc, test_stamps);
	tcase_add_test(tc, test_dotted_and_long);
	tcase_add_test(tc, test_longest_line);
	suite_add_tcase(s, tc);
	return s;
}
