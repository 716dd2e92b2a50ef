/*
 * An interface removed, or set down and up, while its tap rests between
 * bursts (ops/tap.c, tap_rest), under a client that takes everything (read
 * with cand_recv_event) and a filtered one (read with cand_recv). The
 * daemon is one of the test's own resting the longest cand.conf allows,
 * so that the change surely lands in a rest. What the tap held reaches
 * the clients, removed or not; the daemon goes on serving the others,
 * tells the clients as of any link change, and once the interface is back
 * (bound again when it was created again) each client gets what its
 * filter passes.
 */
#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "util.h"

#define RG_IFACE   "vcanrest0"
#define RG_BURST   200 /* as sharedlink.c's: a wakeup takes enough to rest */
#define RG_REST_MS 100 /* receive_rest_us at its maximum */
#define RG_WAIT_MS 3000

static const struct cand_filter rg_odd = {0x601, 0x7FF, CAND_FILTER_STANDARD,
					  0};

/* Frame n has id 0x600 + n % 2 (the filtered client's are odd). */
struct rg {
	struct util_daemon d;
	cand_t *all, *picky;
	cand_t *other; /* on vcan0 */
	int raw;
	uint32_t seq;		       /* the next frame sent */
	uint32_t all_next, picky_next; /* the next each client is due */
};

static void rg_remove(void)
{
	util_sh("ip link del " RG_IFACE " 2>/dev/null");
}

/*
 * ip link del, set down or up (flags IFF_UP or 0), as one rtnetlink
 * request: without a process to start, it lands in the rest.
 */
static void rg_link(uint16_t type, unsigned flags)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
	} req = {
		.nh = {.nlmsg_len = sizeof(req),
		       .nlmsg_type = type,
		       .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK},
		.ifi = {.ifi_family = AF_UNSPEC,
			.ifi_index = (int)if_nametoindex(RG_IFACE),
			.ifi_flags = flags,
			.ifi_change = IFF_UP},
	};
	struct {
		struct nlmsghdr nh;
		struct nlmsgerr err;
	} ack;
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	ssize_t n;

	ck_assert_msg(fd >= 0 && req.ifi.ifi_index != 0, "rtnetlink: %s",
		      strerror(errno));
	ck_assert_int_eq(send(fd, &req, sizeof(req), 0), (ssize_t)sizeof(req));
	n = recv(fd, &ack, sizeof(ack), 0);
	ck_assert_msg(n >= (ssize_t)sizeof(ack) &&
			      ack.nh.nlmsg_type == NLMSG_ERROR &&
			      ack.err.error == 0,
		      "rtnetlink request %u: %s", type,
		      n < 0 ? strerror(errno) : strerror(-ack.err.error));
	close(fd);
}

static cand_t *rg_open(struct rg *g, const char *channel,
		       const struct cand_filter *filter)
{
	struct cand_options o;
	cand_t *h;

	cand_options_init(&o);
	o.channel = channel;
	o.filters = filter;
	o.n_filters = filter != NULL;
	ck_assert_int_eq(cand_connect(&h, g->d.sock), 0);
	ck_assert_msg(cand_open(h, &o) == 0, "cand_open %s: %s", channel,
		      cand_last_detail(h));
	return h;
}

static void rg_start(struct rg *g, const char *name)
{
	memset(g, 0, sizeof(*g));
	rg_remove();
	ck_assert_int_eq(util_sh("ip link add dev %s type vcan && "
				 "ip link set %s up",
				 RG_IFACE, RG_IFACE),
			 0);
	util_daemon_start(&g->d, name,
			  "[limits]\nreceive_rest_us = 100000\n"
			  "[rule all]\ninterfaces = *\nusers = *\n"
			  "rights = read send\n");
	g->all = rg_open(g, RG_IFACE, NULL);
	g->picky = rg_open(g, RG_IFACE, &rg_odd);
	g->other = rg_open(g, "vcan0", NULL);
	g->raw = util_raw_open(RG_IFACE, 0);
	g->picky_next = 1;
}

static void rg_burst(struct rg *g, uint32_t n)
{
	struct cand_frame f = util_frame(0x600, 0, "0000");

	while (n-- > 0) {
		f.id = 0x600 + g->seq % 2;
		f.data[0] = (uint8_t)(g->seq >> 8);
		f.data[1] = (uint8_t)g->seq;
		util_raw_flood(g->raw, &f);
		g->seq++;
	}
}

static uint32_t rg_seq(const struct cand_frame *f)
{
	return (uint32_t)f->data[0] << 8 | f->data[1];
}

static void rg_all_frame(struct rg *g, const struct cand_frame *f,
			 const char *what)
{
	ck_assert_msg(f->id == 0x600 + g->all_next % 2 &&
			      rg_seq(f) == g->all_next,
		      "%s: unfiltered client got %03X #%u where #%u was due",
		      what, f->id, rg_seq(f), g->all_next);
	g->all_next++;
}

static void rg_picky_frame(struct rg *g, const struct cand_frame *f,
			   const char *what)
{
	ck_assert_msg(f->id == 0x601 && rg_seq(f) == g->picky_next,
		      "%s: filtered client got %03X #%u where #%u was due",
		      what, f->id, rg_seq(f), g->picky_next);
	g->picky_next += 2;
}

/* The unfiltered client's next event; a frame must be the one due. */
static struct cand_event rg_all_event(struct rg *g, const char *what)
{
	struct cand_event ev;
	int rc = cand_recv_event(g->all, &ev, RG_WAIT_MS);

	ck_assert_msg(rc == 1, "%s: unfiltered client: %s", what,
		      cand_strerror(rc));
	if (ev.type == CAND_EVENT_FRAME)
		rg_all_frame(g, &ev.frame, what);
	else
		ck_assert_msg(ev.type == CAND_EVENT_LINK &&
				      strcmp(ev.ifname, RG_IFACE) == 0,
			      "%s: an event of type %d for \"%s\": %s", what,
			      (int)ev.type, ev.ifname, ev.detail);
	return ev;
}

/*
 * A burst, and once frames stop coming a frame alone: it waits for the
 * end of the rest, which shows that the tap rests (and they all come, in
 * order, each through its filter).
 */
static void rg_rests(struct rg *g)
{
	struct cand_event ev;
	struct cand_frame f;
	int64_t sent, waited;
	uint32_t last;

	rg_burst(g, RG_BURST);
	/* Read up to the rest: a marker behind a backlog would wait too. */
	while (cand_recv_event(g->all, &ev, 10) == 1) {
		ck_assert_int_eq(ev.type, CAND_EVENT_FRAME);
		rg_all_frame(g, &ev.frame, "a burst");
	}
	sent = (int64_t)(util_now_ns() / 1000000);
	rg_burst(g, 1);
	last = g->seq - 1;
	while (g->all_next <= last)
		ck_assert_int_eq(rg_all_event(g, "a burst").type,
				 CAND_EVENT_FRAME);
	waited = (int64_t)(util_now_ns() / 1000000) - sent;
	fprintf(stderr, "a frame during the rest came after %lld ms\n",
		(long long)waited);
	ck_assert_msg(waited >= RG_REST_MS / 2,
		      "a frame during the rest came after %lld ms: the tap "
		      "did not rest",
		      (long long)waited);
	while (g->picky_next <= last) {
		util_recv_ok(g->picky, &f, "a burst, filtered");
		rg_picky_frame(g, &f, "a burst");
	}
}

/* Everything else goes on: another interface's client, requests. */
static void rg_served(struct rg *g, const char *what)
{
	struct cand_frame f = util_frame(0x123, 0, "C0FFEE"), got;
	struct cand_iface *l = NULL;
	int s = util_raw_open("vcan0", 0), n;

	ck_assert_msg(kill(g->d.pid, 0) == 0, "%s: the daemon died", what);
	util_raw_send(s, &f);
	util_recv_ok(g->other, &got, what);
	util_assert_frame(&got, &f, what);
	n = cand_list(g->all, &l);
	ck_assert_msg(n >= 1, "%s: cand_list: %s", what, cand_strerror(n));
	free(l);
	close(s);
}

/* Back: a frame of each id, each client what its filter passes. */
static void rg_flows(struct rg *g, const char *what)
{
	struct cand_frame f;
	int rc;

	g->all_next = g->seq;
	g->picky_next = g->seq | 1;
	rg_burst(g, 2);
	while (g->all_next < g->seq)
		ck_assert_int_eq(rg_all_event(g, what).type, CAND_EVENT_FRAME);
	util_recv_none(g->all, SETTLE_MS, what);
	rc = cand_recv(g->picky, &f, RX_TIMEOUT_MS);
	ck_assert_msg(rc == 1, "%s: filtered client: %s", what,
		      cand_strerror(rc));
	rg_picky_frame(g, &f, what);
	util_recv_none(g->picky, SETTLE_MS, what);
	ck_assert_uint_eq(cand_kernel_drops(g->all), 0);
	ck_assert_uint_eq(cand_kernel_drops(g->picky), 0);
}

static void rg_stop(struct rg *g)
{
	cand_close(g->all);
	cand_close(g->picky);
	cand_close(g->other);
	close(g->raw);
	util_daemon_stop(&g->d);
	rg_remove();
}

START_TEST(test_removed_while_resting)
{
	struct cand_frame f;
	struct cand_event ev;
	struct rg g;
	uint32_t from;
	int rc, down = 0;

	rg_start(&g, "restgone");
	rg_rests(&g);
	from = g.seq;
	rg_burst(&g, RG_BURST);
	rg_link(RTM_DELLINK, 0);

	/* Every frame the tap held, in order, before gone; down first. */
	for (;;) {
		ev = rg_all_event(&g, "the last burst");
		if (ev.type == CAND_EVENT_FRAME)
			continue;
		if (!ev.link.removed) {
			ck_assert_msg(!down && !ev.link.up, "link event: %s",
				      ev.detail);
			down = 1;
			continue;
		}
		ck_assert_msg(down, "gone but not down first: %s", ev.detail);
		ck_assert_msg(strstr(ev.detail, "disappeared") != NULL,
			      "detail: %s", ev.detail);
		break;
	}
	ck_assert_msg(g.all_next == g.seq,
		      "%u of the last burst's %d frames came before the "
		      "removal",
		      g.all_next - from, RG_BURST);
	/* The odd ones; down (maybe told), then gone. */
	for (down = 0;;) {
		rc = cand_recv(g.picky, &f, RG_WAIT_MS);
		if (rc == 1) {
			rg_picky_frame(&g, &f, "the last burst");
			continue;
		}
		if (rc == CAND_ENODEV)
			break;
		ck_assert_msg(rc == CAND_ENETDOWN && !down,
			      "filtered client: %s", cand_strerror(rc));
		down = 1;
	}
	ck_assert_uint_eq(g.picky_next, g.all_next | 1);

	rg_served(&g, "vcan0 while " RG_IFACE " is gone");
	f = util_frame(0x601, 0, "01");
	rc = cand_send(g.all, &f, 1, 0);
	ck_assert_msg(rc == CAND_ENODEV, "a send while gone: %s",
		      cand_strerror(rc));

	/* Created again: bound again (then up), the filter kept. */
	ck_assert_int_eq(util_sh("ip link add dev %s type vcan && "
				 "ip link set %s up",
				 RG_IFACE, RG_IFACE),
			 0);
	ev = rg_all_event(&g, "created again");
	ck_assert_msg(ev.type == CAND_EVENT_LINK && ev.link.appeared &&
			      ev.link.rebound,
		      "created again: %s", ev.detail);
	do
		ev = rg_all_event(&g, "up again");
	while (ev.type != CAND_EVENT_LINK || !ev.link.up);
	/* cand_recv tells the filtered client it came back, down. */
	rc = cand_recv(g.picky, &f, RG_WAIT_MS);
	ck_assert_msg(rc == CAND_ENETDOWN, "filtered client, created again: %s",
		      cand_strerror(rc));
	close(g.raw);
	g.raw = util_raw_open(RG_IFACE, 0);
	rg_flows(&g, "created again");
	rg_stop(&g);
}
END_TEST

/* Down and up in a rest: what the tap held comes, none lost, in order. */
START_TEST(test_down_up_while_resting)
{
	struct cand_frame f;
	struct cand_event ev;
	struct rg g;
	int rc, link = 0;

	rg_start(&g, "restdown");
	rg_rests(&g);
	rg_burst(&g, RG_BURST);
	rg_link(RTM_NEWLINK, 0);
	rg_link(RTM_NEWLINK, IFF_UP);
	/* Every frame, and down, then up, once each, in whatever order. */
	while (g.all_next < g.seq || link < 2) {
		ev = rg_all_event(&g, "down and up");
		if (ev.type != CAND_EVENT_LINK)
			continue;
		ck_assert_msg(link < 2 && !ev.link.removed &&
				      ev.link.up == (link == 1),
			      "link event %d: %s", link, ev.detail);
		link++;
	}
	/* The odd ones, and down once (up is no news to cand_recv). */
	for (link = 0; g.picky_next < g.seq || !link;) {
		rc = cand_recv(g.picky, &f, RG_WAIT_MS);
		if (rc == 1) {
			rg_picky_frame(&g, &f, "down and up");
			continue;
		}
		ck_assert_msg(rc == CAND_ENETDOWN && !link,
			      "filtered client: %s", cand_strerror(rc));
		link = 1;
	}
	rg_served(&g, "vcan0 after " RG_IFACE " went down and up");
	/* The down is still our own socket's error, its next write's. */
	close(g.raw);
	g.raw = util_raw_open(RG_IFACE, 0);
	rg_flows(&g, "after down and up");
	rg_stop(&g);
}
END_TEST

Suite *restgone_suite(void)
{
	Suite *s = suite_create("restgone");
	TCase *tc = util_tcase("restgone");

	tcase_add_unchecked_fixture(tc, NULL, rg_remove);
	tcase_add_test(tc, test_removed_while_resting);
	tcase_add_test(tc, test_down_up_while_resting);
	suite_add_tcase(s, tc);
	return s;
}
