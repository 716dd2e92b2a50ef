/*
 * filtertext: candump's filter syntax as canctl dump takes it, mapped to
 * python-can filters the way candump's raw SocketCAN values mean them.
 */
#include <string.h>

#include "filtertext.h"
#include "unit.h"

static struct cand_filter flt_ok(const char *s)
{
	struct cand_filter f;
	const char *why = "";

	ck_assert_msg(filtertext_parse(s, &f, &why) == 0,
		      "'%s' did not parse: %s", s, why);
	return f;
}

static void flt_bad(const char *s, const char *reason)
{
	struct cand_filter f;
	const char *why = NULL;

	ck_assert_int_eq(filtertext_parse(s, &f, &why), CAND_EINVAL);
	ck_assert_msg(why != NULL && strstr(why, reason) != NULL,
		      "'%s': expected \"%s\", got \"%s\"", s, reason,
		      why != NULL ? why : "(null)");
}

START_TEST(test_match_and_invert)
{
	struct cand_filter f = flt_ok("123:7FF");

	ck_assert_uint_eq(f.id, 0x123);
	ck_assert_uint_eq(f.mask, 0x7ff);
	ck_assert_int_eq(f.kind, CAND_FILTER_ANY);
	ck_assert_int_eq(f.invert, 0);
	f = flt_ok("0~0");
	ck_assert_int_eq(f.invert, 1);
	ck_assert_uint_eq(f.mask, 0);
}
END_TEST

/* Only CAN_EFF_FLAG in the mask makes the format count, as in candump. */
START_TEST(test_formats)
{
	struct cand_filter f = flt_ok("18DA00F1:9FFFFF00");

	ck_assert_uint_eq(f.id, 0x18da00f1);
	ck_assert_uint_eq(f.mask, 0x1fffff00);
	ck_assert_int_eq(f.kind, CAND_FILTER_EXTENDED);
	f = flt_ok("123:800007FF");
	ck_assert_int_eq(f.kind, CAND_FILTER_STANDARD);
	/* The error flag of the mask is not a filter bit. */
	f = flt_ok("00000123:20000000");
	ck_assert_uint_eq(f.mask, 0);
	ck_assert_int_eq(f.kind, CAND_FILTER_ANY);
}
END_TEST

START_TEST(test_refused)
{
	const char *hex = "ab";
	uint32_t v;

	flt_bad("#FFFFFFFF", "error mask filters");
	flt_bad("j", "joined filters");
	flt_bad("123", "id:mask or id~mask");
	flt_bad("123:", "1 to 8 hex digits");
	flt_bad(":7FF", "1 to 8 hex digits");
	flt_bad("123456789:7FF", "1 to 8 hex digits");
	flt_bad("12G:7FF", "1 to 8 hex digits");
	ck_assert_int_eq(filtertext_hex32(hex, hex + 2, &v), 0);
	ck_assert_uint_eq(v, 0xab);
	ck_assert_int_eq(filtertext_hex32(hex, hex, &v), -1);
}
END_TEST

Suite *filtertext_suite(void)
{
	Suite *s = suite_create("filtertext");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_match_and_invert);
	tcase_add_test(tc, test_formats);
	tcase_add_test(tc, test_refused);
	suite_add_tcase(s, tc);
	return s;
}
