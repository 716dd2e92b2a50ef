/*
 * Who may use the socketcand front-end, and control mode: peers no rule
 * names, ids a rule does not allow, buses not offered or not allowed,
 * the per-peer connection limit, statistics, bus configuration for a
 * peer with 'configure' only, IPv6, and the discovery beacon on the
 * loopback broadcast address. The daemon's log must name every refusal.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sc_util.h"

/* The daemon logged text since mark. */
static void expect_log(long mark, const char *text)
{
	char *log;
	int i, found = 0;

	/* The line may follow the reply by a moment. */
	for (i = 0; i < 50 && !found; i++) {
		log = util_log_since(mark);
		found = strstr(log, text) != NULL;
		free(log);
		if (!found)
			util_msleep(20);
	}
	ck_assert_msg(found, "the daemon's log does not say '%s'", text);
}

START_TEST(test_stranger_refused)
{
	long mark = util_log_mark();
	struct sc_peer *p = sc_connect(SC_STRANGER);

	sc_expect(p,
		  "< error peer 127.0.0.2 is not admitted: no rule of "
		  "cand.conf names it >",
		  "a peer no rule names");
	sc_expect_eof(p, "its connection");
	expect_log(mark, "refused peer 127.0.0.2 port ");
	sc_close(p);
}
END_TEST

START_TEST(test_send_id_refused)
{
	struct sc_peer *p = sc_open_bus(SC_LIMITED, "vcan0", NULL);
	int s = util_raw_open("vcan0", 0);
	struct cand_frame got;
	long mark = util_log_mark();

	sc_write(p, "< send 223 0 >");
	sc_expect(p,
		  "< error frame 0: peer 127.0.0.3 lacks the 'send' right for "
		  "standard id 0x223 on \"vcan0\" >",
		  "an id outside send_ids");
	util_raw_recv_none(s, SETTLE_MS, "the refused frame");
	expect_log(mark, "(peer 127.0.0.3): send denied: frame 0");
	sc_write(p, "< send 1FF 1 01 >");
	util_raw_recv_ok(s, &got, "an id inside send_ids");
	ck_assert_uint_eq(got.id, 0x1FF);
	sc_write(p, "< add 0 100000 150 0 >");
	sc_expect(p,
		  "< error peer 127.0.0.3 lacks the 'periodic' right on "
		  "\"vcan0\" >",
		  "a task without 'periodic'");
	util_raw_recv_none(s, SETTLE_MS, "the refused task's frame");
	close(s);
	sc_close(p);
}
END_TEST

/* Connects from src, opens bus, expects refusal text and the end. */
static void open_refused(const char *src, const char *bus, const char *want)
{
	struct sc_peer *p = sc_connect(src);
	char cmd[64], got[512];

	sc_expect(p, "< hi >", "greeting");
	snprintf(cmd, sizeof(cmd), "< open %s >", bus);
	sc_write(p, cmd);
	sc_expect_prefix(p, want, got, sizeof(got), cmd);
	sc_expect_eof(p, "after a refused open");
	sc_close(p);
}

START_TEST(test_open_refused)
{
	long mark = util_log_mark();

	open_refused(SC_LIMITED, "vcan1",
		     "< error peer 127.0.0.3 has no right on \"vcan1\"");
	expect_log(mark, "(peer 127.0.0.3): open vcan1 refused");
	open_refused(SC_PEER, "can1",
		     "< error bus \"can1\" is not offered here");
	open_refused(SC_PEER, "vcan9", "< error no interface \"vcan9\"");
}
END_TEST

START_TEST(test_per_peer_limit)
{
	struct sc_peer *p[SC_PER_PEER + 1];
	long mark = util_log_mark();
	int i;

	for (i = 0; i < SC_PER_PEER; i++) {
		p[i] = sc_connect(SC_CROWD);
		sc_expect(p[i], "< hi >", "a connection within the limit");
	}
	p[i] = sc_connect(SC_CROWD);
	sc_expect(p[i],
		  "< error at most 8 connections from 127.0.0.4 "
		  "(max_connections_per_peer) >",
		  "one over the limit");
	sc_expect_eof(p[i], "one over the limit");
	expect_log(mark, "refused peer 127.0.0.4");
	sc_close(p[i]);
	/* Another address is not counted with it. */
	p[i] = sc_connect(SC_PEER);
	sc_expect(p[i], "< hi >", "another peer");
	sc_close(p[i]);
	sc_close(p[0]);
	util_msleep(100);
	p[0] = sc_connect(SC_CROWD);
	sc_expect(p[0], "< hi >", "after one went");
	for (i = 0; i < SC_PER_PEER; i++)
		sc_close(p[i]);
}
END_TEST

START_TEST(test_ipv6)
{
	struct sc_peer *p = sc_try_connect("::1", "::1", SC_PORT);
	int s = util_raw_open("vcan1", 0);
	struct cand_frame got;

	ck_assert_msg(p != NULL, "connect to [::1]:%d: %s", SC_PORT,
		      strerror(errno));
	sc_expect(p, "< hi >", "greeting over IPv6");
	sc_write(p, "< open vcan1 >");
	sc_expect(p, "< ok >", "open over IPv6");
	sc_write(p, "< send 611 1 61 >");
	util_raw_recv_ok(s, &got, "a frame sent over IPv6");
	ck_assert_uint_eq(got.id, 0x611);
	close(s);
	sc_close(p);
}
END_TEST

/* "< stat RB RP TB TP >": the four numbers. */
static void parse_stat(const char *el, unsigned long long v[4])
{
	ck_assert_msg(sscanf(el, "< stat %llu %llu %llu %llu >", &v[0], &v[1],
			     &v[2], &v[3]) == 4,
		      "not a stat line: '%s'", el);
}

START_TEST(test_statistics)
{
	struct sc_peer *p = sc_open_bus(SC_PEER, "vcan1", "controlmode");
	int s = util_raw_open("vcan1", 0);
	struct cand_frame f = util_frame(0x612, 0, "0102030405060708");
	unsigned long long a[4], b[4];
	char got[256];
	int i;

	sc_write(p, "< statistics 5 >");
	sc_expect_prefix(p, "< error a statistics interval of 5 ms", got,
			 sizeof(got), "too short an interval");
	sc_write(p, "< statistics 100 >");
	sc_expect_prefix(p, "< stat ", got, sizeof(got), "the first line");
	parse_stat(got, a);
	for (i = 0; i < 5; i++)
		util_raw_send(s, &f);
	/* A line or two may predate the frames. */
	for (i = 0; i < 20; i++) {
		sc_expect_prefix(p, "< stat ", got, sizeof(got), "later lines");
		parse_stat(got, b);
		if (b[1] >= a[1] + 5)
			break;
	}
	ck_assert_msg(b[1] >= a[1] + 5 && b[0] >= a[0] + 40,
		      "vcan1 received 5 frames of 8 bytes: %llu -> %llu "
		      "packets, %llu -> %llu bytes",
		      a[1], b[1], a[0], b[0]);
	sc_write(p, "< statistics 0 >");
	sc_sync(p);
	sc_expect_none(p, 300, "statistics off");
	close(s);
	sc_close(p);
}
END_TEST

START_TEST(test_configure)
{
	struct sc_peer *p;
	char got[512];

	if (!util_have_iface("can0"))
		return;
	p = sc_connect(SC_PEER);
	sc_expect(p, "< hi >", "greeting");
	sc_write(p, "< can0 B 250000 0 0 0 0 0 0 0 >");
	sc_expect(p,
		  "< error peer 127.0.0.1 lacks the 'configure' right on "
		  "\"can0\" >",
		  "configure without the right");
	sc_close(p);

	/* 127.0.0.5 may configure can0 and nothing else. */
	p = sc_connect("127.0.0.5");
	sc_expect(p, "< hi >", "greeting");
	sc_write(p, "< can0 B 250000 0 0 0 0 0 0 0 >");
	sc_expect(p, "< ok >", "bitrate 250000");
	ck_assert_int_eq(util_sh("ip -d link show can0 | grep -q 'bitrate "
				 "250000 '"),
			 0);
	sc_write(p, "< can0 B 500000 875 0 0 0 0 0 0 >");
	sc_expect(p, "< ok >", "bitrate back to 500000");
	sc_write(p, "< can0 B 500000 875 1 0 0 0 0 0 >");
	sc_expect_prefix(p, "< error cand sets the bit timing from bitrate",
			 got, sizeof(got), "explicit time quanta");
	sc_write(p, "< can0 C 0 0 0 >");
	sc_expect(p, "< ok >", "control modes off");
	sc_write(p, "< open can0 >");
	sc_expect_prefix(p, "< error peer 127.0.0.5 has no right on \"can0\"",
			 got, sizeof(got), "open with 'configure' only");
	sc_expect_eof(p, "after the refused open");
	sc_close(p);
}
END_TEST

START_TEST(test_beacon)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons(42000)};
	struct pollfd pfd = {.events = POLLIN};
	const char *head = "<CANBeacon name=\"cand-test\" type=\"SocketCAN\" "
			   "description=\"cand, the CAN bus broker\">";
	char buf[2048];
	ssize_t n;
	int one = 1;

	pfd.fd = socket(AF_INET, SOCK_DGRAM, 0);
	ck_assert_int_ge(pfd.fd, 0);
	setsockopt(pfd.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	ck_assert_msg(bind(pfd.fd, (struct sockaddr *)&a, sizeof(a)) == 0,
		      "bind :42000: %s", strerror(errno));
	ck_assert_msg(poll(&pfd, 1, 4 * SC_BEACON_MS) == 1,
		      "no beacon within %d ms", 4 * SC_BEACON_MS);
	n = recv(pfd.fd, buf, sizeof(buf) - 1, 0);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	ck_assert_msg(strncmp(buf, head, strlen(head)) == 0, "beacon: %s", buf);
	ck_assert_msg(strstr(buf, "<URL>can://127.0.0.1:29536</URL>") != NULL,
		      "beacon without the IPv4 listener: %s", buf);
	ck_assert_msg(strstr(buf, "<Bus name=\"vcan0\"/>") != NULL &&
			      strstr(buf, "<Bus name=\"vcan1\"/>") != NULL,
		      "beacon without the vcans: %s", buf);
	ck_assert_msg(strstr(buf, "\"can1\"") == NULL,
		      "beacon lists can1, which is not offered: %s", buf);
	ck_assert_msg(strcmp(buf + n - 12, "</CANBeacon>") == 0,
		      "beacon ends: %s", buf);
	close(pfd.fd);
}
END_TEST

Suite *sc_access_suite(void)
{
	Suite *s = suite_create("socketcand_access");
	TCase *tc = util_tcase("access");

	tcase_add_test(tc, test_stranger_refused);
	tcase_add_test(tc, test_send_id_refused);
	tcase_add_test(tc, test_open_refused);
	tcase_add_test(tc, test_per_peer_limit);
	tcase_add_test(tc, test_ipv6);
	tcase_add_test(tc, test_statistics);
	tcase_add_test(tc, test_configure);
	tcase_add_test(tc, test_beacon);
	suite_add_tcase(s, tc);
	return s;
}
