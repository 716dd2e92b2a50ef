/*
 * The socketcand front-end's protocol over loopback TCP, with a raw
 * CAN_RAW socket as the independent observer and peer: the greeting and
 * modes, raw mode's frame formats byte for byte, sends, commands split
 * and joined anyhow, garbage, over-long and malformed elements (nothing
 * of which reaches the bus), raw mode's ok arriving alone while the bus
 * is busy, and both front-ends on one bus seeing each other's frames.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sc_util.h"

START_TEST(test_greeting_and_modes)
{
	struct sc_peer *p = sc_connect(SC_PEER);
	char got[512];

	sc_expect(p, "< hi >", "greeting");
	sc_write(p, "< send 123 0 >");
	sc_expect_prefix(p, "< error 'send' needs an open bus (open BUS", got,
			 sizeof(got), "send before open");
	sc_write(p, "< open vcan0 >");
	sc_expect(p, "< ok >", "open");
	sc_write(p, "< open vcan0 >");
	sc_expect_prefix(p, "< error 'open' comes before open BUS", got,
			 sizeof(got), "a second open");
	sc_write(p, "< statistics 100 >");
	sc_expect_prefix(p, "< error 'statistics' is not a command of BCM", got,
			 sizeof(got), "statistics in BCM mode");
	sc_write(p, "< isotpmode >");
	sc_expect_prefix(p, "< error ISO-TP mode is not supported", got,
			 sizeof(got), "isotpmode");
	sc_write(p, "< controlmode >");
	sc_expect(p, "< ok >", "controlmode");
	sc_write(p, "< send 123 0 >");
	sc_expect_prefix(p, "< error 'send' is not a command of CONTROL", got,
			 sizeof(got), "send in control mode");
	sc_write(p, "< rawmode >");
	sc_expect(p, "< ok >", "rawmode");
	sc_write(p, "< rawmode >");
	sc_expect(p, "< ok >", "rawmode again");
	sc_write(p, "< bcmmode >");
	sc_expect(p, "< ok >", "bcmmode");
	sc_sync(p);
	sc_close(p);
}
END_TEST

/* Raw mode's formats: socketcand's state_raw.c, byte for byte. */
START_TEST(test_raw_formats)
{
	struct sc_peer *p = sc_open_bus(SC_PEER, "vcan0", "rawmode");
	int s = util_raw_open("vcan0", 0);
	struct cand_frame f;

	f = util_frame(0x123, 0, "1122334455667788");
	util_raw_send(s, &f);
	sc_expect_frame(p, "< frame 123 ", " 1122334455667788 >", "standard");
	f = util_frame(0x12345678, CAND_FRAME_EXTENDED, "AB");
	util_raw_send(s, &f);
	sc_expect_frame(p, "< frame 12345678 ", " AB >", "extended");
	f = util_frame(0x1, CAND_FRAME_EXTENDED, "00FF");
	util_raw_send(s, &f);
	sc_expect_frame(p, "< frame 00000001 ", " 00FF >", "extended, small");
	f = util_frame(0x7FF, 0, "");
	util_raw_send(s, &f);
	sc_expect_frame(p, "< frame 7FF ", "  >", "empty: both spaces");
	f = util_frame(0x0A, 0, "");
	f.flags = CAND_FRAME_REMOTE;
	f.len = 4;
	util_raw_send(s, &f);
	sc_expect_frame(p, "< rtr 00A ", " 4 >", "remote frame");
	f = util_frame(0x004, CAND_FRAME_ERROR, "0004000000000000");
	util_raw_send(s, &f);
	sc_expect_frame(p, "< error 004 ", " >", "error frame");
	sc_expect_none(p, SETTLE_MS, "nothing more");
	close(s);
	sc_close(p);
}
END_TEST

/* Sends in both modes, with the ids clients write. */
START_TEST(test_sends)
{
	static const struct {
		const char *cmd;
		uint32_t id, flags;
		const char *data;
	} sends[] = {
		{"< send 123 2 11 22 >", 0x123, 0, "1122"},
		/* python-can: unpadded ids and bytes, a blank for no data. */
		{"< send 1ABCD 3 1 f 0 >", 0x1ABCD, CAND_FRAME_EXTENDED,
		 "010F00"},
		{"< send 7FF 0  >", 0x7FF, 0, ""},
		/* socketcand: 8 digits are an extended id. */
		{"< send 00000123 1 ab >", 0x123, CAND_FRAME_EXTENDED, "AB"},
		/* SavvyCAN: bit 31 marks it. */
		{"< send 80000321 1 1 >", 0x321, CAND_FRAME_EXTENDED, "01"},
	};
	const char *modes[] = {NULL, "rawmode"};
	struct cand_frame want, got;
	int s = util_raw_open("vcan0", 0);
	struct sc_peer *p;
	size_t i, m;

	for (m = 0; m < 2; m++) {
		p = sc_open_bus(SC_PEER, "vcan0", modes[m]);
		for (i = 0; i < sizeof(sends) / sizeof(sends[0]); i++) {
			sc_write(p, sends[i].cmd);
			want = util_frame(sends[i].id, sends[i].flags,
					  sends[i].data);
			util_raw_recv_ok(s, &got, sends[i].cmd);
			util_assert_frame(&got, &want, sends[i].cmd);
		}
		sc_write(p, "< sendrtr 321 3 >");
		want = util_frame(0x321, CAND_FRAME_REMOTE, "");
		want.len = 3;
		util_raw_recv_ok(s, &got, "sendrtr");
		util_assert_frame(&got, &want, "sendrtr");
		/* A raw-mode client does not get its own frames back. */
		sc_expect_none(p, SETTLE_MS, "own frames");
		sc_close(p);
	}
	close(s);
}
END_TEST

/* One frame expected on s with id, else the test fails. */
static void expect_id(int s, uint32_t id, const char *what)
{
	struct cand_frame got;

	util_raw_recv_ok(s, &got, what);
	ck_assert_msg(got.id == id, "%s: got id 0x%X, want 0x%X", what, got.id,
		      id);
}

START_TEST(test_split_and_coalesced)
{
	struct sc_peer *p = sc_open_bus(SC_PEER, "vcan0", NULL);
	int s = util_raw_open("vcan0", 0);
	const char *cmd = "< send 124 2 AA BB >";
	size_t i;
	char one[2] = "";

	/* A byte per TCP segment. */
	for (i = 0; cmd[i] != '\0'; i++) {
		one[0] = cmd[i];
		sc_write(p, one);
		util_msleep(10);
	}
	expect_id(s, 0x124, "a command one byte at a time");
	/* Several in one segment, with and without blanks between. */
	sc_write(p, "< send 100 0 >< send 101 0 >\r\n< send 102 1 01 >  "
		    "\t< echo >");
	expect_id(s, 0x100, "first of three");
	expect_id(s, 0x101, "second of three");
	expect_id(s, 0x102, "third of three");
	sc_expect(p, "< echo >", "the echo after them");
	close(s);
	sc_close(p);
}
END_TEST

START_TEST(test_garbage)
{
	struct sc_peer *p = sc_open_bus(SC_PEER, "vcan0", NULL);
	int s = util_raw_open("vcan0", 0);

	sc_write(p, "hello there < send 200 0 >");
	sc_expect(p,
		  "< error bytes outside any element ignored: 'hello there ' >",
		  "garbage");
	expect_id(s, 0x200, "the command after the garbage");
	/* A '<' before the '>': the cut one is dropped, the next one runs. */
	sc_write(p, "< send 201 1 < send 202 0 >");
	sc_expect(p, "< error an unfinished element ignored: '( send 201 1 ' >",
		  "broken element");
	expect_id(s, 0x202, "the command after the broken one");
	util_raw_recv_none(s, SETTLE_MS, "the broken command");
	close(s);
	sc_close(p);
}
END_TEST

START_TEST(test_overlong)
{
	struct sc_peer *p = sc_open_bus(SC_PEER, "vcan0", NULL);
	int s = util_raw_open("vcan0", 0);
	size_t n = 9000, i;
	char *big = malloc(n + 64), got[512];

	ck_assert_ptr_nonnull(big);
	strcpy(big, "< send 123 8 ");
	for (i = strlen(big); i < n; i++)
		big[i] = 'A';
	strcpy(big + n, " 11 >< send 125 0 >");
	sc_write(p, big);
	sc_expect_prefix(p, "< error element longer than 8192 bytes", got,
			 sizeof(got), "over-long element");
	expect_id(s, 0x125, "the command after it");
	util_raw_recv_none(s, SETTLE_MS, "anything of the long one");
	sc_sync(p);
	free(big);
	close(s);
	sc_close(p);
}
END_TEST

START_TEST(test_malformed)
{
	static const char *const bad[] = {
		"< send 123 9 1 2 3 4 5 6 7 8 9 >", /* dlc over 8 */
		"< send 123 2 11 >",		    /* a byte missing */
		"< send 123 1 11 22 >",		    /* one too many */
		"< send 123 1 111 >",		    /* three hex digits */
		"< send XYZ 0 >",		    /* not hex */
		"< send 123456789 0 >",		    /* nine digits */
		"< send 40000123 0 >",		    /* the RTR flag */
		"< send 123 -1 >",		    /* not a number */
		"< send >",			    /* no id */
		"< send 123 1 \x01 >",		    /* not printable */
		"< frobnicate 1 2 >",		    /* no such command */
		"<>",				    /* nothing */
		"< add 0 1000000 123 0 >",	    /* usecs over a second */
		"< open vcan0_with_a_far_too_long_name >",
	};
	struct sc_peer *p = sc_open_bus(SC_PEER, "vcan0", NULL);
	int s = util_raw_open("vcan0", 0);
	char got[512];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sc_write(p, bad[i]);
		sc_expect_prefix(p, "< error ", got, sizeof(got), bad[i]);
	}
	util_raw_recv_none(s, SETTLE_MS, "a malformed command");
	/* The connection goes on; the observer does see a good one. */
	sc_write(p, "< send 126 0 >");
	expect_id(s, 0x126, "a good send after them");
	close(s);
	sc_close(p);
}
END_TEST

/* Frames on vcan0 every half millisecond until stop is set. */
struct traffic {
	pthread_t t;
	int s;
	volatile int stop;
};

static void *traffic_main(void *arg)
{
	struct traffic *tr = arg;
	struct cand_frame f = util_frame(0x5A5, 0, "0102030405060708");

	while (!tr->stop) {
		util_raw_flood(tr->s, &f);
		util_msleep(1);
	}
	return NULL;
}

/*
 * python-can reads rawmode's "< ok >" with one recv() and compares it:
 * with frames already flowing it must still arrive alone, and the frames
 * must follow.
 */
START_TEST(test_ok_alone_with_traffic)
{
	struct traffic tr = {.s = util_raw_open("vcan0", 0)};
	struct sc_peer *p;
	char buf[4096];
	int i;

	ck_assert_int_eq(pthread_create(&tr.t, NULL, traffic_main, &tr), 0);
	for (i = 0; i < 10; i++) {
		p = sc_connect(SC_PEER);
		sc_read_raw(p, buf, sizeof(buf), RX_TIMEOUT_MS);
		ck_assert_str_eq(buf, "< hi >");
		sc_write(p, "< open vcan0 >");
		sc_read_raw(p, buf, sizeof(buf), RX_TIMEOUT_MS);
		ck_assert_str_eq(buf, "< ok >");
		sc_write(p, "< rawmode >");
		sc_read_raw(p, buf, sizeof(buf), RX_TIMEOUT_MS);
		ck_assert_msg(strcmp(buf, "< ok >") == 0,
			      "round %d: rawmode's ok came as '%.60s'", i, buf);
		sc_expect_frame(p, "< frame 5A5 ", " 0102030405060708 >",
				"a frame after the ok");
		sc_close(p);
	}
	tr.stop = 1;
	pthread_join(tr.t, NULL);
	close(tr.s);
}
END_TEST

/* Both front-ends on one bus: each sees what the other sends. */
START_TEST(test_both_frontends)
{
	struct sc_peer *p = sc_open_bus(SC_PEER, "vcan0", "rawmode");
	cand_t *h = util_open("vcan0");
	struct cand_frame f = util_frame(0x2C0, 0, "C0FFEE"), got;

	util_send(h, &f, 1);
	sc_expect_frame(p, "< frame 2C0 ", " C0FFEE >", "pb's frame on sc");
	sc_write(p, "< send 2C1 2 be ef >");
	util_recv_ok(h, &got, "sc's frame on pb");
	f = util_frame(0x2C1, 0, "BEEF");
	util_assert_frame(&got, &f, "sc's frame on pb");
	cand_close(h);
	sc_close(p);
}
END_TEST

Suite *sc_proto_suite(void)
{
	Suite *s = suite_create("socketcand");
	TCase *tc = util_tcase("protocol");

	tcase_add_test(tc, test_greeting_and_modes);
	tcase_add_test(tc, test_raw_formats);
	tcase_add_test(tc, test_sends);
	tcase_add_test(tc, test_split_and_coalesced);
	tcase_add_test(tc, test_garbage);
	tcase_add_test(tc, test_overlong);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_ok_alone_with_traffic);
	tcase_add_test(tc, test_both_frontends);
	suite_add_tcase(s, tc);
	return s;
}
