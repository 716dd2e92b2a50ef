/*
 * A socketcand peer is a client like any other, in a daemon of the
 * suite's own: `canctl clients` and cand_clients() show it by its address
 * and port (it has no pid or uid), and its rule's send budget holds its
 * sends: a burst of raw-mode sends is paced onto the bus at the budget's
 * rate, counted as delayed, and a BCM task over the budget is refused.
 * What reaches the bus is counted by a raw CAN socket.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sc_util.h"

#define CL_PORT	 29538
#define CL_RATE	 20
#define CL_BURST 5
#define CL_SENDS 25

static const char clients_conf[] = "[rule peer]\n"
				   "interfaces = vcan*\n"
				   "peers = 127.0.0.1\n"
				   "rights = read send periodic monitor\n"
				   "send_rate = 20/s\n"
				   "send_burst = 5\n"
				   "[socketcand]\n"
				   "listen = 127.0.0.1:29538\n";

static struct util_daemon d;

/* A peer of the suite's daemon with vcan1 open in mode (NULL: BCM). */
static struct sc_peer *cl_peer(const char *mode)
{
	struct sc_peer *p = sc_try_connect(NULL, "127.0.0.1", CL_PORT);

	ck_assert_ptr_nonnull(p);
	sc_start(p, "vcan1", mode);
	return p;
}

static unsigned cl_local_port(const struct sc_peer *p)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	ck_assert_int_eq(getsockname(p->fd, (struct sockaddr *)&sin, &len), 0);
	return ntohs(sin.sin_port);
}

/* canctl clients as root: its output (malloc'd). */
static char *cl_canctl(void)
{
	char canctl[512], *out;
	char *argv[] = {canctl, "-s", d.sock, "clients", NULL};
	struct util_proc pr;
	int status;

	snprintf(canctl, sizeof(canctl), "%s/canctl", getenv("BUILDDIR"));
	util_spawn(&pr, argv);
	out = util_proc_finish(&pr, 10000, &status);
	ck_assert_msg(status == 0, "canctl clients: %d: %s", status, out);
	return out;
}

/* The peer's entry in cand_clients(); fails the test if there is none. */
static struct cand_client cl_find(unsigned port)
{
	cand_t *h = util_connect_as(d.sock, 0, 0);
	struct cand_client *v, found;
	int i, n = cand_clients(h, &v);

	ck_assert_msg(n > 0, "cand_clients: %d (%s)", n, cand_last_detail(h));
	for (i = 0; i < n && v[i].peer_port != port; i++)
		;
	ck_assert_msg(i < n, "no client from port %u among %d", port, n);
	found = v[i];
	free(v);
	cand_close(h);
	return found;
}

START_TEST(test_peer_listed)
{
	struct sc_peer *p;
	struct cand_client c;
	char want[128], *out;
	unsigned port;

	util_daemon_start(&d, "scclients", clients_conf);
	p = cl_peer(NULL);
	port = cl_local_port(p);
	c = cl_find(port);

	ck_assert_str_eq(c.peer, "127.0.0.1");
	ck_assert_int_eq(c.open, 1);
	ck_assert_str_eq(c.channel, "vcan1");
	out = cl_canctl();
	snprintf(want, sizeof(want),
		 "peer 127.0.0.1 port %u (socketcand), channel \"vcan1\"",
		 port);
	ck_assert_msg(strstr(out, want) != NULL, "no '%s' in:\n%s", want, out);
	ck_assert_msg(strstr(out, "uid 4294967295") == NULL &&
			      strstr(out, "pid 0 ") == NULL,
		      "a peer shown by a uid or pid:\n%s", out);
	free(out);
	sc_close(p);
	util_daemon_stop(&d);
}
END_TEST

START_TEST(test_peer_budget)
{
	uint64_t first = 0, last = 0;
	struct cand_client c;
	struct cand_frame f;
	struct sc_peer *p;
	char el[256], cmds[CL_SENDS * 24] = "";
	long n = 0, i;
	double spread, want;
	unsigned port;
	int s;

	util_daemon_start(&d, "scclients", clients_conf);
	p = cl_peer("rawmode");
	s = util_raw_open("vcan1", RAW_BIGBUF);
	port = cl_local_port(p);

	/* All at once: only the budget can space them out. */
	for (i = 0; i < CL_SENDS; i++)
		snprintf(cmds + strlen(cmds), sizeof(cmds) - strlen(cmds),
			 "< send 321 1 %02lX >", i);
	sc_write(p, cmds);
	while (util_raw_recv(s, &f, 1000) == 1) {
		ck_assert_uint_eq(f.id, 0x321);
		ck_assert_uint_eq(f.data[0], (uint8_t)n);
		last = util_now_ns();
		if (n++ == 0)
			first = last;
	}
	ck_assert_int_eq(n, CL_SENDS);
	/* The burst at once, the rest at the rate, none refused. */
	spread = (double)(last - first) / 1e9;
	want = (double)(CL_SENDS - CL_BURST - 1) / CL_RATE;
	ck_assert_msg(spread >= want * 0.9,
		      "%ld sends took %.3f s at %d/s burst %d: want %.3f", n,
		      spread, CL_RATE, CL_BURST, want);
	sc_expect_none(p, 100, "no error for sends the budget delayed");
	c = cl_find(port);
	ck_assert_uint_eq(c.tx_frames, CL_SENDS);
	ck_assert_uint_eq(c.refused, 0);
	/* A daemon slower than the refill (valgrind) finds tokens for some. */
	ck_assert_msg(
		c.delayed >=
			(util_daemon_slowed() ? 1 : CL_SENDS - CL_BURST - 1),
		"%llu delayed of %d", (unsigned long long)c.delayed, CL_SENDS);
	ck_assert_str_eq(c.budgets, "vcan1 20/s burst 5");

	/* A task of 100 frames/s cannot fit a budget of 20. */
	sc_write(p, "< bcmmode >");
	sc_expect(p, "< ok >", "bcmmode");
	sc_write(p, "< add 0 10000 322 1 AA >");
	sc_expect_prefix(p, "< error ", el, sizeof(el), "a task over budget");
	ck_assert_msg(strstr(el, "budget") != NULL, "says why: '%s'", el);
	ck_assert_int_eq(util_raw_recv(s, &f, SETTLE_MS), 0);
	ck_assert_uint_eq(cl_find(port).tasks_refused, 1);
	close(s);
	sc_close(p);
	util_daemon_stop(&d);
}
END_TEST

Suite *sc_clients_suite(void)
{
	Suite *s = suite_create("socketcand_clients");
	TCase *tc = util_tcase("clients");

	tcase_add_test(tc, test_peer_listed);
	tcase_add_test(tc, test_peer_budget);
	suite_add_tcase(s, tc);
	return s;
}
