/*
 * The transmit faults of faults.c as a socketcand peer meets them: a send
 * into a TX queue held full waits up to the front-end's second and is
 * answered "< error ... >", the commands behind it wait their turn, and
 * another peer is served meanwhile; an interface going down under a
 * pending send ends it at once with an error, and the connection goes on
 * once the link is back. socketcand itself answers neither (a write to a
 * full socket blocks its connection); an error element is what its
 * clients (python-can, SavvyCAN) show and carry on after.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "faults.h"
#include "sc_util.h"

/* sc/cmd.c's SC_SEND_TIMEOUT_MS: how long a send waits for TX room. */
#define FS_SEND_MS 1000

/* The first data byte of each frame the raw socket gets until idle. */
static size_t fs_collect(int raw, uint8_t *first, size_t max, int idle_ms)
{
	struct cand_frame f;
	size_t n = 0;

	while (util_raw_recv(raw, &f, idle_ms) == 1)
		if (f.id == 0x321 && n < max)
			first[n++] = f.len > 0 ? f.data[0] : 0xff;
	return n;
}

/* A peer on vcan0 sends, a raw socket there sees it within a second. */
static void fs_bystander(struct sc_peer *q, int raw0, const char *what)
{
	struct cand_frame f;
	int64_t t0 = faults_ms();

	sc_write(q, "< send 5B0 1 aa >");
	ck_assert_msg(util_raw_recv(raw0, &f, 1000) == 1 && f.id == 0x5B0,
		      "%s: the other peer's frame never came", what);
	ck_assert_msg(faults_ms() - t0 < 1000,
		      "%s: the other peer waited %lld ms", what,
		      (long long)(faults_ms() - t0));
}

/* The daemon lived through it; the peers, sockets and vcan go. */
static void fs_done(struct sc_peer *p, struct sc_peer *q, int raw, int raw0)
{
	ck_assert_int_eq(util_daemon_alive(), 1);
	close(raw);
	close(raw0);
	sc_close(p);
	sc_close(q);
	ck_assert_int_eq(util_sh("ip link del %s", FAULTS_IFACE), 0);
}

START_TEST(test_sc_tx_queue_held_full)
{
	struct sc_peer *p, *q;
	char el[512];
	uint8_t got[8];
	int raw, raw0 = util_raw_open("vcan0", 0);
	int64_t t0, ms;
	size_t n;

	faults_iface("netem delay 3s limit 1");
	p = sc_open_bus(SC_PEER, FAULTS_IFACE, "rawmode");
	q = sc_open_bus(SC_PEER, "vcan0", "rawmode");
	raw = util_raw_open(FAULTS_IFACE, 0);

	/* netem takes the first and holds it 3 s; the second finds no room. */
	sc_write(p, "< send 321 1 01 >");
	sc_sync(p);
	t0 = faults_ms();
	sc_write(p, "< send 321 1 02 >< echo >");
	fs_bystander(q, raw0, "a held queue on another bus");
	sc_expect_prefix(p, "< error ", el, sizeof(el), "the held send");
	ms = faults_ms() - t0;
	ck_assert_msg(strstr(el, "TX buffer full") != NULL, "error: %s", el);
	ck_assert_msg(ms >= FS_SEND_MS - 50 && ms < FS_SEND_MS + 1900,
		      "the held send was answered after %lld ms",
		      (long long)ms);
	/* The echo waited behind the send, and the connection goes on. */
	sc_expect(p, "< echo >", "the echo behind the held send");

	/* Room once netem lets the first go, about 3 s in. */
	util_msleep(2500);
	sc_write(p, "< send 321 1 03 >");
	sc_sync(p);
	n = fs_collect(raw, got, 8, 2500);
	ck_assert_msg(n == 2 && got[0] == 1 && got[1] == 3,
		      "%zu frames on the bus (first %u), want 01 and 03", n,
		      n ? got[0] : 0);
	fs_done(p, q, raw, raw0);
}
END_TEST

/*
 * Taking a vcan with a held frame down takes the kernel a while (netem's
 * queue is purged first), under emulation more than the front-end's
 * second: the pending send ends either with the link's error or, when
 * the kernel had not marked it down in time, as a full TX queue. Either
 * way it gets one error, the link's own error element comes as soon as
 * the kernel is done, and the connection goes on.
 */
START_TEST(test_sc_down_under_pending_send)
{
	struct sc_peer *p, *q;
	char el[512], said[2048] = "";
	uint8_t got[8];
	int raw, raw0 = util_raw_open("vcan0", 0), errors = 0, down = 0;
	int echoed = 0;
	int64_t done, ms;
	size_t n;

	faults_iface("netem delay 20s limit 1");
	p = sc_open_bus(SC_PEER, FAULTS_IFACE, "rawmode");
	q = sc_open_bus(SC_PEER, "vcan0", "rawmode");
	sc_write(p, "< send 321 1 01 >"); /* fills it */
	sc_sync(p);
	sc_write(p, "< send 321 1 02 >< echo >");
	util_msleep(100);
	ck_assert_int_eq(util_sh("ip link set %s down", FAULTS_IFACE), 0);
	done = faults_ms();
	/* The send's error before the echo; the link's anywhere. */
	while (!echoed || errors < 2) {
		ck_assert_msg(sc_next(p, el, sizeof(el), RX_TIMEOUT_MS) == 1,
			      "after the link went down only: %s", said);
		snprintf(said + strlen(said), sizeof(said) - strlen(said),
			 "%s ", el);
		if (strcmp(el, "< echo >") == 0) {
			ck_assert_msg(errors > 0 && !echoed,
				      "the echo before the send's answer: %s",
				      said);
			echoed = 1;
			continue;
		}
		ck_assert_msg(strstr(el, "< error interface \"" FAULTS_IFACE
					 "\" is down") == el ||
				      strstr(el, "< error TX buffer full") ==
					      el,
			      "after the link went down: %s", said);
		errors++;
		down |= strstr(el, "is down") != NULL;
	}
	ms = faults_ms() - done;
	fprintf(stderr, "test_sc_down_under_pending_send: %s+%lld ms\n", said,
		(long long)ms);
	ck_assert_msg(ms < 1000,
		      "the link's error came %lld ms after the "
		      "kernel took it down",
		      (long long)ms);
	ck_assert_msg(down, "no error says the link is down: %s", said);
	sc_expect_none(p, SETTLE_MS, "after the send's and the link's errors");
	fs_bystander(q, raw0, "a link down on another bus");

	ck_assert_int_eq(util_sh("tc qdisc del dev %s root && "
				 "ip link set %s up",
				 FAULTS_IFACE, FAULTS_IFACE),
			 0);
	raw = util_raw_open(FAULTS_IFACE, 0);
	util_msleep(200);
	sc_write(p, "< send 321 1 03 >");
	sc_sync(p);
	n = fs_collect(raw, got, 8, SETTLE_MS * 2);
	ck_assert_msg(n == 1 && got[0] == 3,
		      "after the repair %zu frames (first %u), want 03", n,
		      n ? got[0] : 0);
	fs_done(p, q, raw, raw0);
}
END_TEST

void faults_sc_tcase(Suite *s)
{
	TCase *tc = faults_tcase(s, "sc");

	tcase_add_test(tc, test_sc_tx_queue_held_full);
	tcase_add_test(tc, test_sc_down_under_pending_send);
}
