/*
 * frametext: cansend parsing and the candump / candump -L formats. The
 * expected lines are what can-utils prints for the same frames.
 */
#include <stdio.h>
#include <string.h>

#include "frametext.h"
#include "unit.h"

static struct cand_frame ft_parse_ok(const char *s)
{
	struct cand_frame f;
	const char *why = "";
	int rc;

	rc = frametext_parse(s, &f, &why);
	ck_assert_msg(rc == 0, "'%s' did not parse: %s", s, why);
	return f;
}

static void ft_parse_bad(const char *s, const char *reason)
{
	struct cand_frame f;
	const char *why = NULL;

	ck_assert_int_eq(frametext_parse(s, &f, &why), CAND_EINVAL);
	ck_assert_ptr_nonnull(why);
	ck_assert_msg(strstr(why, reason) != NULL,
		      "'%s': expected \"%s\", got \"%s\"", s, reason, why);
}

static struct cand_frame ft_frame(uint32_t id, uint32_t flags, unsigned len)
{
	struct cand_frame f;
	unsigned i;

	memset(&f, 0, sizeof(f));
	f.id = id;
	f.flags = flags;
	f.len = (uint8_t)len;
	if (!(flags & CAND_FRAME_REMOTE))
		for (i = 0; i < len; i++)
			f.data[i] = (uint8_t)(i * 17 + 3);
	snprintf(f.ifname, sizeof(f.ifname), "vcan0");
	f.timestamp_ns = 1436509052249713000ull;
	return f;
}

static void ft_expect_candump(struct frametext_view *v,
			      const struct cand_frame *f, const char *want)
{
	char buf[FRAMETEXT_MAX];
	int n;

	n = frametext_format_candump(buf, sizeof(buf), f, v);
	ck_assert_str_eq(buf, want);
	ck_assert_int_eq(n, (int)strlen(want));
}

static void ft_expect_log(const struct cand_frame *f, const char *want)
{
	char buf[FRAMETEXT_MAX];
	struct frametext_view v;

	frametext_view_init(&v, 0);
	frametext_format_log(buf, sizeof(buf), f, &v);
	ck_assert_str_eq(buf, want);
}

/* format_log, then parse_log, must give back the very same frame. */
static void ft_round_trip(const struct cand_frame *f)
{
	char buf[FRAMETEXT_MAX];
	struct cand_frame back;
	const char *why = "";
	uint64_t us;

	frametext_format_log(buf, sizeof(buf), f, NULL);
	ck_assert_msg(frametext_parse_log(buf, &back, &why) == 0,
		      "'%s' did not parse back: %s", buf, why);
	ck_assert_uint_eq(back.id, f->id);
	ck_assert_uint_eq(back.flags, f->flags);
	ck_assert_uint_eq(back.len, f->len);
	ck_assert_mem_eq(back.data, f->data, sizeof(f->data));
	ck_assert_str_eq(back.ifname, f->ifname);
	/* The log keeps microseconds, as candump's does. */
	us = f->timestamp_ns / 1000;
	ck_assert_uint_eq(back.timestamp_ns, us * 1000);
}

START_TEST(test_parse_classic)
{
	struct cand_frame f;

	f = ft_parse_ok("123#DEADBEEF");
	ck_assert_uint_eq(f.id, 0x123);
	ck_assert_uint_eq(f.flags, 0);
	ck_assert_uint_eq(f.len, 4);
	ck_assert_mem_eq(f.data, "\xde\xad\xbe\xef", 4);

	f = ft_parse_ok("7ff#11.22.33.");
	ck_assert_uint_eq(f.id, 0x7ff);
	ck_assert_uint_eq(f.len, 3);
	ck_assert_mem_eq(f.data, "\x11\x22\x33", 3);

	f = ft_parse_ok("000#");
	ck_assert_uint_eq(f.id, 0);
	ck_assert_uint_eq(f.len, 0);

	f = ft_parse_ok("001#.01.02.03.04.05.06.07.08");
	ck_assert_uint_eq(f.len, 8);
	ck_assert_uint_eq(f.data[7], 8);

	f = ft_parse_ok("12345678#1122");
	ck_assert_uint_eq(f.id, 0x12345678);
	ck_assert_uint_eq(f.flags, CAND_FRAME_EXTENDED);
	ck_assert_uint_eq(f.len, 2);

	/* 8 digits are extended even when the value is small. */
	f = ft_parse_ok("00000123#");
	ck_assert_uint_eq(f.id, 0x123);
	ck_assert_uint_eq(f.flags, CAND_FRAME_EXTENDED);

	f = ft_parse_ok("1FFFFFFF#ff");
	ck_assert_uint_eq(f.id, 0x1fffffff);
	ck_assert_uint_eq(f.data[0], 0xff);
}
END_TEST

START_TEST(test_parse_remote)
{
	struct cand_frame f;

	f = ft_parse_ok("123#R");
	ck_assert_uint_eq(f.flags, CAND_FRAME_REMOTE);
	ck_assert_uint_eq(f.len, 0);

	f = ft_parse_ok("123#r4");
	ck_assert_uint_eq(f.flags, CAND_FRAME_REMOTE);
	ck_assert_uint_eq(f.len, 4);

	f = ft_parse_ok("12345678#R8");
	ck_assert_uint_eq(f.flags, CAND_FRAME_REMOTE | CAND_FRAME_EXTENDED);
	ck_assert_uint_eq(f.len, 8);
}
END_TEST

START_TEST(test_parse_fd)
{
	char s[256];
	struct cand_frame f;
	int i, n;

	f = ft_parse_ok("123##0");
	ck_assert_uint_eq(f.flags, CAND_FRAME_FD);
	ck_assert_uint_eq(f.len, 0);

	f = ft_parse_ok("123##1AABB");
	ck_assert_uint_eq(f.flags, CAND_FRAME_FD | CAND_FRAME_BRS);
	ck_assert_uint_eq(f.len, 2);

	f = ft_parse_ok("12345678##2.11.22.33");
	ck_assert_uint_eq(f.flags,
			  CAND_FRAME_FD | CAND_FRAME_ESI | CAND_FRAME_EXTENDED);
	ck_assert_uint_eq(f.len, 3);

	/* The kernel's FDF bit (4) is accepted and implied anyway. */
	f = ft_parse_ok("123##7");
	ck_assert_uint_eq(f.flags,
			  CAND_FRAME_FD | CAND_FRAME_BRS | CAND_FRAME_ESI);

	n = snprintf(s, sizeof(s), "123##3");
	for (i = 0; i < 64; i++)
		n += snprintf(s + n, sizeof(s) - (size_t)n, "%02X", i);
	f = ft_parse_ok(s);
	ck_assert_uint_eq(f.len, 64);
	ck_assert_uint_eq(f.data[63], 63);

	/* Off-size lengths are kept; the kernel pads them on the bus. */
	f = ft_parse_ok("123##0112233445566778899");
	ck_assert_uint_eq(f.len, 9);
	ck_assert(!frametext_fd_len_valid(9));
	ck_assert(frametext_fd_len_valid(8));
	ck_assert(frametext_fd_len_valid(12));
	ck_assert(frametext_fd_len_valid(48));
	ck_assert(frametext_fd_len_valid(64));
	ck_assert(!frametext_fd_len_valid(63));
	ck_assert(!frametext_fd_len_valid(65));
}
END_TEST

START_TEST(test_parse_error_frame)
{
	struct cand_frame f;

	f = ft_parse_ok("20000004#0004000000000000");
	ck_assert_uint_eq(f.flags, CAND_FRAME_ERROR);
	ck_assert_uint_eq(f.id, 0x4);
	ck_assert_uint_eq(f.len, 8);
	ck_assert_uint_eq(f.data[1], 4);

	f = ft_parse_ok("200000C0#");
	ck_assert_uint_eq(f.flags, CAND_FRAME_ERROR);
	ck_assert_uint_eq(f.id, 0xc0);
}
END_TEST

START_TEST(test_parse_invalid)
{
	char s[256];
	int i, n;

	ft_parse_bad("", "empty frame");
	ft_parse_bad("123", "no '#'");
	ft_parse_bad("DEADBEEF", "no '#'");
	ft_parse_bad("#11", "3 hex digits");
	ft_parse_bad("12#11", "3 hex digits");
	ft_parse_bad("1234#11", "3 hex digits");
	ft_parse_bad("123456789#11", "3 hex digits");
	ft_parse_bad("12G#11", "not hexadecimal");
	ft_parse_bad("800#11", "at most 7FF");
	ft_parse_bad("FFF#", "at most 7FF");
	ft_parse_bad("40000000#", "at most 1FFFFFFF");
	ft_parse_bad("80000123#11", "at most 1FFFFFFF");
	ft_parse_bad("123#112233445566778899",
		     "data longer than 8 bytes for a classic frame");
	ft_parse_bad("123#11.22.33.44.55.66.77.88.99",
		     "data longer than 8 bytes for a classic frame");
	ft_parse_bad("123#123", "odd number of hex digits");
	ft_parse_bad("123#1", "odd number of hex digits");
	ft_parse_bad("123#1.2", "odd number of hex digits");
	ft_parse_bad("123#GG", "not hexadecimal");
	ft_parse_bad("123#1G", "not hexadecimal");
	ft_parse_bad("123# 11", "not hexadecimal");
	ft_parse_bad("123#11..22", "two '.' separators");
	ft_parse_bad("123#R9", "one digit 0-8");
	ft_parse_bad("123#RA", "one digit 0-8");
	ft_parse_bad("123#R4x", "junk after");
	ft_parse_bad("123#R8_9", "raw DLC");
	ft_parse_bad("123#1122334455667788_9", "raw DLC");
	ft_parse_bad("123##", "one hex digit of CAN FD flags");
	ft_parse_bad("123##G11", "one hex digit of CAN FD flags");
	ft_parse_bad("123##R", "one hex digit of CAN FD flags");
	ft_parse_bad("20000004#R", "error frame cannot be a remote request");
	ft_parse_bad("20000004##1", "error frame cannot be CAN FD");

	n = snprintf(s, sizeof(s), "123##1");
	for (i = 0; i < 65; i++)
		n += snprintf(s + n, sizeof(s) - (size_t)n, "AA");
	ft_parse_bad(s, "data longer than 64 bytes for a CAN FD frame");
}
END_TEST

START_TEST(test_parse_null_why)
{
	struct cand_frame f;

	/* why is optional. */
	ck_assert_int_eq(frametext_parse("xyz", &f, NULL), CAND_EINVAL);
	ck_assert_int_eq(frametext_parse(NULL, &f, NULL), CAND_EINVAL);
}
END_TEST

START_TEST(test_candump_format)
{
	struct frametext_view v;
	struct cand_frame f;

	frametext_view_init(&v, 5);

	f = ft_parse_ok("123#DEADBEEF");
	snprintf(f.ifname, sizeof(f.ifname), "vcan0");
	ft_expect_candump(&v, &f, "  vcan0  123   [4]  DE AD BE EF");

	/* candump leaves a blank behind the length of an empty frame. */
	f = ft_parse_ok("123#");
	snprintf(f.ifname, sizeof(f.ifname), "vcan0");
	ft_expect_candump(&v, &f, "  vcan0  123   [0] ");

	f = ft_parse_ok("123#R");
	snprintf(f.ifname, sizeof(f.ifname), "vcan0");
	ft_expect_candump(&v, &f, "  vcan0  123   [0]  remote request");

	f = ft_parse_ok("123#R4");
	snprintf(f.ifname, sizeof(f.ifname), "vcan0");
	ft_expect_candump(&v, &f, "  vcan0  123   [4]  remote request");

	f = ft_parse_ok("123##1112233");
	snprintf(f.ifname, sizeof(f.ifname), "vcan0");
	ft_expect_candump(&v, &f, "  vcan0  123  [03]  11 22 33");

	f = ft_parse_ok("123##0000102030405060708090A0B");
	snprintf(f.ifname, sizeof(f.ifname), "vcan0");
	ft_expect_candump(
		&v, &f,
		"  vcan0  123  [12]  00 01 02 03 04 05 06 07 08 09 0A 0B");

	f = ft_parse_ok("20000004#0004000000000000");
	snprintf(f.ifname, sizeof(f.ifname), "vcan0");
	ft_expect_candump(&v, &f,
			  "  vcan0  20000004   [8]  00 04 00 00 00 00 00 00"
			  "   ERRORFRAME");

	f = ft_parse_ok("20000004#0004");
	snprintf(f.ifname, sizeof(f.ifname), "vcan0");
	ft_expect_candump(&v, &f,
			  "  vcan0  20000004   [2]  00 04"
			  "                     ERRORFRAME");

	/* Standard ids are not indented before an extended one shows up. */
	ck_assert_int_eq(v.indent_sff, 0);
	f = ft_parse_ok("12345678#1122");
	snprintf(f.ifname, sizeof(f.ifname), "vcan0");
	ft_expect_candump(&v, &f, "  vcan0  12345678   [2]  11 22");
	ck_assert_int_eq(v.indent_sff, 1);

	f = ft_parse_ok("123#11");
	snprintf(f.ifname, sizeof(f.ifname), "vcan0");
	ft_expect_candump(&v, &f, "  vcan0       123   [1]  11");

	f = ft_parse_ok("12345678##1");
	snprintf(f.ifname, sizeof(f.ifname), "vcan0");
	ft_expect_candump(&v, &f, "  vcan0  12345678  [00] ");
}
END_TEST

START_TEST(test_candump_ifname_width)
{
	struct frametext_view v;
	struct cand_frame f;

	/* "any" on the command line: candump starts at width 3. */
	frametext_view_init(&v, 3);
	f = ft_parse_ok("123#11");
	snprintf(f.ifname, sizeof(f.ifname), "can0");
	ft_expect_candump(&v, &f, "  can0  123   [1]  11");
	snprintf(f.ifname, sizeof(f.ifname), "vcan10");
	ft_expect_candump(&v, &f, "  vcan10  123   [1]  11");
	/* Shorter names are right-aligned to the widest seen so far. */
	snprintf(f.ifname, sizeof(f.ifname), "can0");
	ft_expect_candump(&v, &f, "    can0  123   [1]  11");
	ck_assert_int_eq(v.ifwidth, 6);
}
END_TEST

START_TEST(test_log_format)
{
	struct cand_frame f;
	char buf[FRAMETEXT_MAX];
	struct frametext_view v;

	f = ft_parse_ok("123#DEADBEEF");
	snprintf(f.ifname, sizeof(f.ifname), "vcan0");
	f.timestamp_ns = 1436509052249713000ull;
	ft_expect_log(&f, "(1436509052.249713) vcan0 123#DEADBEEF");

	f.timestamp_ns = 5000000999ull; /* sub-microseconds are cut */
	ft_expect_log(&f, "(0000000005.000000) vcan0 123#DEADBEEF");

	f = ft_frame(0x123, CAND_FRAME_FD | CAND_FRAME_BRS, 4);
	memcpy(f.data, "\xde\xad\xbe\xef", 4);
	ft_expect_log(&f, "(1436509052.249713) vcan0 123##1DEADBEEF");

	f = ft_frame(0x1abcdef0,
		     CAND_FRAME_FD | CAND_FRAME_EXTENDED | CAND_FRAME_BRS |
			     CAND_FRAME_ESI,
		     0);
	ft_expect_log(&f, "(1436509052.249713) vcan0 1ABCDEF0##3");

	f = ft_frame(0x123, CAND_FRAME_REMOTE, 0);
	ft_expect_log(&f, "(1436509052.249713) vcan0 123#R");

	f = ft_frame(0x123, CAND_FRAME_REMOTE, 4);
	ft_expect_log(&f, "(1436509052.249713) vcan0 123#R4");

	f = ft_frame(0x7ff, CAND_FRAME_REMOTE | CAND_FRAME_EXTENDED, 8);
	ft_expect_log(&f, "(1436509052.249713) vcan0 000007FF#R8");

	f = ft_frame(0x4, CAND_FRAME_ERROR, 8);
	memcpy(f.data, "\x00\x04\x00\x00\x00\x00\x00\x00", 8);
	ft_expect_log(&f,
		      "(1436509052.249713) vcan0 20000004#0004000000000000");

	f = ft_frame(0x123, 0, 0);
	ft_expect_log(&f, "(1436509052.249713) vcan0 123#");

	/* With "any", names are right-aligned like candump -L does. */
	frametext_view_init(&v, 3);
	f = ft_frame(0x123, 0, 1);
	snprintf(f.ifname, sizeof(f.ifname), "vcan10");
	frametext_format_log(buf, sizeof(buf), &f, &v);
	ck_assert_str_eq(buf, "(1436509052.249713) vcan10 123#03");
	snprintf(f.ifname, sizeof(f.ifname), "can0");
	frametext_format_log(buf, sizeof(buf), &f, &v);
	ck_assert_str_eq(buf, "(1436509052.249713)   can0 123#03");
}
END_TEST

START_TEST(test_format_frame_truncates)
{
	struct cand_frame f = ft_frame(0x123, 0, 4);
	char buf[6];
	int n;

	n = frametext_format_frame(buf, sizeof(buf), &f);
	ck_assert_int_eq(n, (int)strlen("123#03142536"));
	ck_assert_str_eq(buf, "123#0");
	ck_assert_int_eq(frametext_format_frame(NULL, 0, &f), n);
}
END_TEST

START_TEST(test_round_trip)
{
	static const unsigned fd_lens[] = {0,  1,  7,  8,  12, 16,
					   20, 24, 32, 48, 64};
	static const uint32_t fd_flags[] = {0, CAND_FRAME_BRS, CAND_FRAME_ESI,
					    CAND_FRAME_BRS | CAND_FRAME_ESI};
	struct cand_frame f;
	size_t i, j;
	unsigned len;

	for (len = 0; len <= 8; len++) {
		f = ft_frame(0x123, 0, len);
		ft_round_trip(&f);
		f = ft_frame(0x1abcdef0, CAND_FRAME_EXTENDED, len);
		ft_round_trip(&f);
		f = ft_frame(0x7ff, CAND_FRAME_REMOTE, len);
		ft_round_trip(&f);
		f = ft_frame(0x1fffffff,
			     CAND_FRAME_REMOTE | CAND_FRAME_EXTENDED, len);
		ft_round_trip(&f);
		f = ft_frame(0x0c0, CAND_FRAME_ERROR, len);
		ft_round_trip(&f);
	}
	for (i = 0; i < sizeof(fd_lens) / sizeof(fd_lens[0]); i++) {
		for (j = 0; j < sizeof(fd_flags) / sizeof(fd_flags[0]); j++) {
			f = ft_frame(0x000, CAND_FRAME_FD | fd_flags[j],
				     fd_lens[i]);
			ft_round_trip(&f);
			f = ft_frame(0x12345678,
				     CAND_FRAME_FD | CAND_FRAME_EXTENDED |
					     fd_flags[j],
				     fd_lens[i]);
			ft_round_trip(&f);
		}
	}
	f = ft_frame(0x123, 0, 8);
	snprintf(f.ifname, sizeof(f.ifname), "abcdefghijklmno");
	f.timestamp_ns = 0;
	ft_round_trip(&f);
}
END_TEST

START_TEST(test_parse_log)
{
	struct cand_frame f;
	const char *why = NULL;

	/* candump -x adds words after the frame; canplayer ignores them. */
	ck_assert_int_eq(
		frametext_parse_log("(1.5)   vcan0 123#11 R\n", &f, &why), 0);
	ck_assert_uint_eq(f.timestamp_ns, 1500000000ull);
	ck_assert_str_eq(f.ifname, "vcan0");
	ck_assert_uint_eq(f.len, 1);

	ck_assert_int_eq(frametext_parse_log("vcan0 123#11", &f, &why),
			 CAND_EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "seconds"));
	ck_assert_int_eq(frametext_parse_log("(1.x) vcan0 123#11", &f, &why),
			 CAND_EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "timestamp"));
	ck_assert_int_eq(frametext_parse_log("(1.0) vcan0", &f, &why),
			 CAND_EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "no frame"));
	/* The most seconds 64 bits of ns hold, and one more (found by fuzz). */
	ck_assert_int_eq(frametext_parse_log("(18446744073.709551) vcan0 123#",
					     &f, &why),
			 0);
	ck_assert_uint_eq(f.timestamp_ns, 18446744073709551000ull);
	ck_assert_int_eq(
		frametext_parse_log("(18446744074.0) vcan0 123#", &f, &why),
		CAND_EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "too large"));
	ck_assert_int_eq(frametext_parse_log("(1.0) vcan0 123#1", &f, &why),
			 CAND_EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "odd"));
	ck_assert_int_eq(
		frametext_parse_log("(1.0) abcdefghijklmnop 123#11", &f, &why),
		CAND_EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "interface"));
}
END_TEST

Suite *frametext_suite(void)
{
	Suite *s = suite_create("frametext");
	TCase *tc = tcase_create("frametext");

	tcase_add_test(tc, test_parse_classic);
	tcase_add_test(tc, test_parse_remote);
	tcase_add_test(tc, test_parse_fd);
	tcase_add_test(tc, test_parse_error_frame);
	tcase_add_test(tc, test_parse_invalid);
	tcase_add_test(tc, test_parse_null_why);
	tcase_add_test(tc, test_candump_format);
	tcase_add_test(tc, test_candump_ifname_width);
	tcase_add_test(tc, test_log_format);
	tcase_add_test(tc, test_format_frame_truncates);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_parse_log);
	suite_add_tcase(s, tc);
	return s;
}
