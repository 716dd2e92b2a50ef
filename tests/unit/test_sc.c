/*
 * The socketcand front-end's text without a socket: where elements are
 * in a byte stream, what commands they make (or the error they get), and
 * frames written in socketcand's formats byte for byte.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sc/sc.h"
#include "unit.h"

static void split(const char *buf, enum sc_split_kind kind, size_t start,
		  size_t len, size_t used)
{
	struct sc_split sp;

	sc_parse_split(buf, strlen(buf), &sp);
	ck_assert_msg(sp.kind == kind && sp.start == start && sp.len == len &&
			      sp.used == used,
		      "'%s': kind %d [%zu, +%zu) used %zu; want %d [%zu, +%zu) "
		      "used %zu",
		      buf, sp.kind, sp.start, sp.len, sp.used, kind, start, len,
		      used);
}

START_TEST(test_split)
{
	split("", SC_SPLIT_MORE, 0, 0, 0);
	split(" \r\n\t", SC_SPLIT_MORE, 4, 0, 4);
	split("< open vcan0 >", SC_SPLIT_ELEMENT, 0, 14, 14);
	split("  <echo><echo>", SC_SPLIT_ELEMENT, 2, 6, 8);
	split("< open vc", SC_SPLIT_MORE, 0, 0, 0);
	split(" < open vc", SC_SPLIT_MORE, 1, 0, 1);
	split("junk <x>", SC_SPLIT_GARBAGE, 0, 5, 5);
	split("junk", SC_SPLIT_GARBAGE, 0, 4, 4);
	split("> <x>", SC_SPLIT_GARBAGE, 0, 2, 2);
	split("< sen< send 1 0 >", SC_SPLIT_BROKEN, 0, 5, 5);
}
END_TEST

START_TEST(test_split_too_long)
{
	static char buf[SC_ELEMENT_MAX + 10];
	struct sc_split sp;
	int done;

	memset(buf, 'a', sizeof(buf));
	buf[0] = '<';
	sc_parse_split(buf, SC_ELEMENT_MAX - 1, &sp);
	ck_assert_int_eq(sp.kind, SC_SPLIT_MORE);
	sc_parse_split(buf, sizeof(buf), &sp);
	ck_assert_int_eq(sp.kind, SC_SPLIT_TOO_LONG);
	ck_assert_uint_eq(sp.used, SC_ELEMENT_MAX);
	/* Its rest goes up to the '>', or up to the next '<'. */
	ck_assert_uint_eq(sc_parse_skip("aaa>< x >", 9, &done), 4);
	ck_assert_int_eq(done, 1);
	ck_assert_uint_eq(sc_parse_skip("aaa< x >", 8, &done), 3);
	ck_assert_int_eq(done, 1);
	ck_assert_uint_eq(sc_parse_skip("aaaa", 4, &done), 4);
	ck_assert_int_eq(done, 0);
	/* Exactly the maximum, '<' to '>', is an element. */
	buf[SC_ELEMENT_MAX - 1] = '>';
	sc_parse_split(buf, sizeof(buf), &sp);
	ck_assert_int_eq(sp.kind, SC_SPLIT_ELEMENT);
	ck_assert_uint_eq(sp.len, SC_ELEMENT_MAX);
}
END_TEST

static void parse_ok(const char *el, struct sc_cmd *c)
{
	char detail[256] = "";

	ck_assert_msg(sc_parse_cmd(el, strlen(el), c, detail, sizeof(detail)) ==
			      0,
		      "'%s' refused: %s", el, detail);
}

static void parse_bad(const char *el, const char *want)
{
	struct sc_cmd c;
	char detail[256] = "";

	ck_assert_msg(sc_parse_cmd(el, strlen(el), &c, detail,
				   sizeof(detail)) == -EINVAL,
		      "'%s' accepted", el);
	ck_assert_msg(strstr(detail, want) != NULL, "'%s': '%s', want '%s'", el,
		      detail, want);
}

START_TEST(test_parse_frames)
{
	struct sc_cmd c;

	parse_ok("< send 123 2 11 22 >", &c);
	ck_assert_int_eq(c.op, SC_OP_SEND);
	ck_assert_uint_eq(c.id, 0x123);
	ck_assert_int_eq(c.extended, 0);
	ck_assert_uint_eq(c.dlc, 2);
	ck_assert_uint_eq(c.data[0], 0x11);
	ck_assert_uint_eq(c.data[1], 0x22);
	/* python-can: unpadded hex, a blank for no data. */
	parse_ok("< send 1ABCD 2 f 0 >", &c);
	ck_assert(c.extended && c.id == 0x1ABCD && c.data[0] == 0xf);
	parse_ok("< send 7FF 0  >", &c);
	ck_assert(!c.extended && c.id == 0x7FF && c.dlc == 0);
	/* socketcand: eight digits; SavvyCAN: bit 31. */
	parse_ok("< send 00000001 0 >", &c);
	ck_assert(c.extended && c.id == 1);
	parse_ok("< send 80000321 0 >", &c);
	ck_assert(c.extended && c.id == 0x321);
	parse_ok("<sendrtr 12 8>", &c);
	ck_assert(c.op == SC_OP_SENDRTR && c.id == 0x12 && c.dlc == 8);
	parse_ok("< add 1 500000 123 1 AA >", &c);
	ck_assert(c.op == SC_OP_ADD && c.ival_us == 1500000 && c.dlc == 1);
	parse_ok("< update 123 0 >", &c);
	ck_assert_int_eq(c.op, SC_OP_UPDATE);
	parse_ok("< delete 1FFFFFFF >", &c);
	ck_assert(c.extended && c.id == 0x1FFFFFFF);
	parse_ok("< filter 0 0 123 1 FF >", &c);
	ck_assert(c.op == SC_OP_FILTER && c.data[0] == 0xff);
	parse_ok("< subscribe 0 200000 123 >", &c);
	ck_assert(c.op == SC_OP_SUBSCRIBE && c.ival_us == 200000);
	parse_ok("< unsubscribe 123 >", &c);
	ck_assert_int_eq(c.op, SC_OP_UNSUBSCRIBE);
	parse_ok("< muxfilter 0 0 123 2 FF 00 00 00 00 00 00 00 33 FF FF FF FF "
		 "FF FF FF >",
		 &c);
	ck_assert(c.op == SC_OP_MUXFILTER && c.n_mux == 2 &&
		  c.mux[1][0] == 0x33 && c.mux[1][7] == 0xff);
}
END_TEST

START_TEST(test_parse_control)
{
	struct sc_cmd c;

	parse_ok("< open vcan0 >", &c);
	ck_assert(c.op == SC_OP_OPEN && strcmp(c.bus, "vcan0") == 0);
	parse_ok("< can0 B 500000 875 0 0 0 0 0 -1 >", &c);
	ck_assert(c.op == SC_OP_BITTIMING && strcmp(c.bus, "can0") == 0 &&
		  c.bt[0] == 500000 && c.bt[1] == 875 && c.bt[7] == -1);
	parse_ok("< can0 C 1 0 1 >", &c);
	ck_assert(c.op == SC_OP_CTRLMODE && c.ctrl[0] == 1 && c.ctrl[1] == 0 &&
		  c.ctrl[2] == 1);
	parse_ok("< statistics 1000 >", &c);
	ck_assert(c.op == SC_OP_STATISTICS && c.ms == 1000);
	parse_ok("< echo >", &c);
	ck_assert_int_eq(c.op, SC_OP_ECHO);
	parse_ok("<\trawmode\r\n>", &c);
	ck_assert_int_eq(c.op, SC_OP_RAWMODE);
}
END_TEST

START_TEST(test_parse_errors)
{
	parse_bad("< send 123 9 1 2 3 4 5 6 7 8 9 >", "can_dlc '9'");
	parse_bad("< send 123 2 11 >", "data byte 1 is missing");
	parse_bad("< send 123 1 11 22 >", "'22' after the end of send");
	parse_bad("< send 123 1 111 >", "'111' is not one or two hex digits");
	parse_bad("< send XYZ 0 >", "can_id 'XYZ' is not 1 to 8 hex digits");
	parse_bad("< send 123456789 0 >", "is not 1 to 8 hex digits");
	parse_bad("< send 40000123 0 >", "the RTR or error flag");
	parse_bad("< send 20000123 0 >", "the RTR or error flag");
	parse_bad("< send >", "can_id is missing");
	parse_bad("< send 123 1 \x01 >", "byte 0x01 at 13 is not printable");
	parse_bad("< send 123 1 \xff >", "byte 0xff");
	parse_bad("< frobnicate >", "unknown command 'frobnicate'");
	parse_bad("< >", "empty element");
	parse_bad("<>", "empty element");
	parse_bad("< open >", "the bus is missing");
	parse_bad("< open 0123456789abcdef >", "longer than 15 characters");
	parse_bad("< open a b >", "'b' after the end of open");
	parse_bad("< add 0 1000000 123 0 >", "usecs '1000000'");
	parse_bad("< add 99999999999 0 123 0 >", "secs '99999999999'");
	parse_bad("< muxfilter 0 0 123 1 FF 00 00 00 00 00 00 00 >",
		  "at least one value");
	parse_bad("< muxfilter 0 0 123 258 >", "nframes '258'");
	parse_bad("< muxfilter 0 0 123 2 FF 00 00 00 00 00 00 00 33 >",
		  "data byte 9 is missing");
	parse_bad("< statistics -1 >", "ival '-1'");
	parse_bad("< can0 C 2 0 0 >", "listen_only '2'");
	parse_bad("< can0 B 500000 >", "sample_point is missing");
	parse_bad("< rawmode now >", "'now' after the end of rawmode");
	parse_bad("< send 123 99999999999999999999999 >", "can_dlc");
}
END_TEST

static void raw(const struct canfd_frame *cf, uint64_t ns, const char *want)
{
	char buf[SC_FRAME_TEXT_MAX + 1];
	size_t n = sc_encode_raw(buf, cf, ns);

	ck_assert_uint_le(n, SC_FRAME_TEXT_MAX);
	buf[n] = '\0';
	ck_assert_str_eq(buf, want);
}

static void bcm(const struct canfd_frame *cf, uint64_t ns, const char *want)
{
	char buf[SC_FRAME_TEXT_MAX + 1];
	size_t n = sc_encode_bcm(buf, cf, ns);

	ck_assert_uint_le(n, SC_FRAME_TEXT_MAX);
	buf[n] = '\0';
	ck_assert_str_eq(buf, want);
}

START_TEST(test_encode)
{
	struct canfd_frame cf = {
		.can_id = 0x123, .len = 4, .data = {0x11, 0x22, 0xab, 0x0c}};
	uint64_t t = 1700000000123456789ull;

	raw(&cf, t, "< frame 123 1700000000.123456 1122AB0C >");
	bcm(&cf, t, "< frame 123 1700000000.123456 11 22 AB 0C  >");
	cf.len = 0;
	raw(&cf, 5000, "< frame 123 0.000005  >");
	bcm(&cf, 5000, "< frame 123 0.000005  >");
	cf.can_id = 0x1ABCDEF0 | CAN_EFF_FLAG;
	cf.len = 8;
	memset(cf.data, 0xff, 8);
	raw(&cf, t, "< frame 1ABCDEF0 1700000000.123456 FFFFFFFFFFFFFFFF >");
	bcm(&cf, t,
	    "< frame 1ABCDEF0 1700000000.123456 FF FF FF FF FF FF FF FF  >");
	cf.can_id = 0x5 | CAN_EFF_FLAG;
	cf.len = 0;
	raw(&cf, t, "< frame 00000005 1700000000.123456  >");
	cf.can_id = 0x7 | CAN_RTR_FLAG;
	cf.len = 3;
	raw(&cf, t, "< rtr 007 1700000000.123456 3 >");
	cf.can_id = 0x4 | CAN_ERR_FLAG;
	cf.len = 8;
	raw(&cf, t, "< error 004 1700000000.123456 >");
	cf.can_id = 0x1000 | CAN_ERR_FLAG;
	raw(&cf, t, "< error 1000 1700000000.123456 >");
	cf.can_id = 0x1FFFFFFF | CAN_ERR_FLAG;
	raw(&cf, t, "< error 1FFFFFFF 1700000000.123456 >");
}
END_TEST

Suite *sc_suite(void)
{
	Suite *s = suite_create("socketcand");
	TCase *tc = tcase_create("text");

	tcase_add_test(tc, test_split);
	tcase_add_test(tc, test_split_too_long);
	tcase_add_test(tc, test_parse_frames);
	tcase_add_test(tc, test_parse_control);
	tcase_add_test(tc, test_parse_errors);
	tcase_add_test(tc, test_encode);
	suite_add_tcase(s, tc);
	return s;
}
