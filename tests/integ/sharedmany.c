/*
 * The shared receiving sockets at scale: many clients on one interface,
 * each held to a raw twin with its settings (twin.c), and many buses at
 * once, each with its own sender, clients bound to it, clients sending
 * through cand with their own messages on, and "" clients beside them.
 * A frame must reach exactly the clients the kernel would give it to,
 * labelled with its interface, in order, and be told as own only to its
 * sender on the interface it was sent to.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/can/error.h>

#include "twin.h"

#define MANY	  64
#define ROUNDS	  3
#define MANY_MAXF 400

static struct cand_frame seq_frame(uint32_t id, uint32_t flags, unsigned r,
				   unsigned j)
{
	struct cand_frame f = util_frame(id, flags, "0000");

	f.data[0] = (uint8_t)r;
	f.data[1] = (uint8_t)j;
	return f;
}

/*
 * 64 clients of eight kinds on vcan0: exact ids (cand's index by id),
 * none, SFF-only and EFF masks, inverted, FD or classic, error frames or
 * not. Reads of standard frames alone and reads mixed with extended, FD
 * and error frames take the index's two paths.
 */
START_TEST(test_many_clients_as_the_kernel)
{
	static struct twin c[MANY];
	struct cand_filter f[2];
	char what[MANY][64];
	int s = util_raw_open("vcan0", RAW_FD), i, r, j;

	for (i = 0; i < MANY; i++) {
		uint32_t id = 0x200 + (uint32_t)i;
		int fd = 0, noerr = 0, n = 1;

		memset(f, 0, sizeof(f));
		f[0] = (struct cand_filter){id, 0x7FF, CAND_FILTER_STANDARD, 0};
		switch (i % 8) {
		case 0: /* exact, one id */
			break;
		case 1: /* exact, two ids, FD, no error frames */
			f[1] = (struct cand_filter){
				0x200 + (uint32_t)(i + 1) % MANY, 0x7FF,
				CAND_FILTER_STANDARD, 0};
			n = 2;
			fd = 1;
			noerr = 1;
			break;
		case 2: /* everything, classic */
			n = 0;
			break;
		case 3: /* everything, FD */
			n = 0;
			fd = 1;
			break;
		case 4: /* a standard range */
			f[0] = (struct cand_filter){0x200, 0x7E0,
						    CAND_FILTER_STANDARD, 0};
			break;
		case 5: /* extended ids, FD */
			f[0] = (struct cand_filter){0x1000200, 0x1FFFFF00,
						    CAND_FILTER_EXTENDED, 0};
			fd = 1;
			break;
		case 6: /* all but its id, of both kinds */
			f[0] = (struct cand_filter){id, 0x7FF, CAND_FILTER_ANY,
						    1};
			noerr = 1;
			break;
		default: /* its id of both kinds */
			f[0].kind = CAND_FILTER_ANY;
			break;
		}
		snprintf(what[i], sizeof(what[i]), "client %d (kind %d)", i,
			 i % 8);
		twin_open(&c[i], what[i], "vcan0", fd, noerr, n ? f : NULL,
			  (size_t)n);
	}
	for (r = 0; r < ROUNDS; r++) {
		struct cand_frame e =
			util_frame(CAN_ERR_PROT | CAN_ERR_ACK, CAND_FRAME_ERROR,
				   "0000080000000000");

		for (j = 0; j < MANY; j++) {
			struct cand_frame v =
				seq_frame(0x200 + (unsigned)j, 0, (unsigned)r,
					  (unsigned)j);

			util_raw_send(s, &v);
		}
		util_msleep(20);
		for (j = 0; j < MANY; j += 8) {
			struct cand_frame x = seq_frame(
				0x1000200 + (unsigned)j, CAND_FRAME_EXTENDED,
				(unsigned)r, (unsigned)j);
			struct cand_frame y =
				seq_frame(0x200 + (unsigned)j + 1, 0,
					  (unsigned)r, (unsigned)j);
			struct cand_frame z =
				seq_frame(0x200 + (unsigned)j + 7,
					  CAND_FRAME_FD | CAND_FRAME_BRS,
					  (unsigned)r, (unsigned)j);
			struct cand_frame w = seq_frame(
				0x200 + (unsigned)j, CAND_FRAME_EXTENDED,
				(unsigned)r, (unsigned)j);

			util_raw_send(s, &x);
			util_raw_send(s, &y);
			util_raw_send(s, &z);
			util_raw_send(s, &w);
		}
		util_raw_send(s, &e);
		util_msleep(20);
	}
	util_msleep(SETTLE_MS);
	for (i = 0; i < MANY; i++)
		twin_check(&c[i], MANY_MAXF, 20);
	close(s);
}
END_TEST

/* ---- many buses ---- */

#define NBUS	 5
#define BUS_SEQS 800
#define BUS_OWN	 40
#define X_ID	 0x4AA

static const char *const bus_name[NBUS] = {"vcan0", "vcan1", "vcan21", "vcan22",
					   "vcan23"};

static void remove_buses(void)
{
	util_sh("for i in 21 22 23; do ip link del vcan$i 2>/dev/null; done; "
		"true");
}

/*
 * What one client got on one bus: the sequence numbers in the order the
 * kernel delivered them (vcan may reorder a sender's frames when it
 * migrates between CPUs; every socket then sees the same order), those
 * whose number is a multiple of mod.
 */
struct tally {
	const unsigned *order;
	unsigned n, pos, mod;
	unsigned x_own, x_other;
};

static int bus_of(const char *ifname)
{
	int b;

	for (b = 0; b < NBUS; b++)
		if (strcmp(ifname, bus_name[b]) == 0)
			return b;
	return -1;
}

/* The next sequence number due, or -1 when all were taken. */
static int due(struct tally *t)
{
	while (t->pos < t->n && t->order[t->pos] % t->mod != 0)
		t->pos++;
	return t->pos < t->n ? (int)t->order[t->pos] : -1;
}

/*
 * Takes h's frames, want of them and then any more that come within a
 * moment: sequence frames in order, each on the bus it names, and the X
 * frames sent through cand, own or not. bound: the one bus h may hear
 * from, or -1 for the "" channel.
 */
static void take(cand_t *h, int bound, struct tally t[NBUS], unsigned want,
		 const char *what)
{
	struct cand_frame f;
	unsigned n = 0;
	char buf[192];
	int b, seq;

	while (cand_recv(h, &f, n < want ? RX_TIMEOUT_MS : SETTLE_MS / 4) ==
	       1) {
		n++;
		b = bus_of(f.ifname);
		ck_assert_msg(b >= 0 && (bound < 0 || b == bound),
			      "%s: a frame from %s", what,
			      util_frame_str(&f, buf, sizeof(buf)));
		if (f.id == X_ID) {
			if (f.flags & CAND_FRAME_OWN)
				t[b].x_own++;
			else
				t[b].x_other++;
			continue;
		}
		seq = due(&t[b]);
		ck_assert_msg(!(f.flags & CAND_FRAME_OWN) && f.len == 3 &&
				      f.data[2] == b &&
				      (f.data[0] << 8 | f.data[1]) == seq,
			      "%s: %s where %s's %d was due", what,
			      util_frame_str(&f, buf, sizeof(buf)), bus_name[b],
			      seq);
		t[b].pos++;
	}
	ck_assert_uint_eq(cand_kernel_drops(h), 0);
}

static void expect(struct tally *t, unsigned own, unsigned other,
		   const char *what, int b)
{
	int seq = due(t);

	ck_assert_msg(seq < 0 && t->x_own == own && t->x_other == other,
		      "%s on %s: %d was due at the end; %u own and %u other "
		      "X frames, where %u and %u were due",
		      what, bus_name[b], seq, t->x_own, t->x_other, own, other);
}

/* A bus's own sender, in a child: sequence numbers and the bus's index. */
static pid_t bus_sender(int s, int b)
{
	pid_t pid = fork();
	unsigned i;

	ck_assert_int_ge(pid, 0);
	if (pid > 0)
		return pid;
	for (i = 0; i < BUS_SEQS; i++) {
		struct can_frame cf = {.can_id = 0x100 + i % 4, .len = 3};

		cf.data[0] = (uint8_t)(i >> 8);
		cf.data[1] = (uint8_t)i;
		cf.data[2] = (uint8_t)b;
		while (write(s, &cf, sizeof(cf)) < 0)
			if (errno != ENOBUFS && errno != EAGAIN)
				_exit(1);
			else
				util_msleep(1);
		if (i % 16 == 15)
			util_msleep(1);
	}
	_exit(0);
}

static void tally_init(struct tally *t, const unsigned *order, unsigned n,
		       unsigned mod)
{
	memset(t, 0, sizeof(*t));
	t->order = order;
	t->n = n;
	t->mod = mod;
}

START_TEST(test_many_buses)
{
	static const struct cand_filter exact = {0x100, 0x7FF,
						 CAND_FILTER_STANDARD, 0};
	static unsigned order[NBUS][BUS_SEQS];
	struct tally all[NBUS][NBUS], some[NBUS][NBUS], snd[NBUS][NBUS];
	struct tally aobs[NBUS], asnd[NBUS];
	cand_t *h_all[NBUS], *h_some[NBUS], *h_snd[NBUS], *h_aobs, *h_asnd;
	struct cand_options o;
	struct cand_frame x = util_frame(X_ID, 0, "AA"), got;
	unsigned n[NBUS], nx;
	pid_t pid[NBUS];
	int out[NBUS], wit[NBUS], b, k, st;

	remove_buses();
	ck_assert_int_eq(util_sh("for i in 21 22 23; do ip link add vcan$i "
				 "type vcan && ip link set vcan$i mtu 16 up "
				 "|| exit 1; done"),
			 0);
	for (b = 0; b < NBUS; b++) {
		h_all[b] = util_open(bus_name[b]);
		cand_options_init(&o);
		o.channel = bus_name[b];
		o.filters = &exact;
		o.n_filters = 1;
		h_some[b] = util_open_opts(&o);
		cand_options_init(&o);
		o.channel = bus_name[b];
		o.receive_own_messages = 1;
		h_snd[b] = util_open_opts(&o);
		out[b] = util_raw_open(bus_name[b], 0);
		/* The kernel's account of the bus. */
		wit[b] = util_raw_open(bus_name[b], RAW_BIGBUF);
	}
	h_aobs = util_open("");
	cand_options_init(&o);
	o.channel = "";
	o.receive_own_messages = 1;
	h_asnd = util_open_opts(&o);

	for (b = 0; b < NBUS; b++)
		pid[b] = bus_sender(out[b], b);
	/* Meanwhile, the same frame through cand on every bus, twice. */
	for (k = 0; k < BUS_OWN; k++) {
		for (b = 0; b < NBUS; b++) {
			util_send(h_snd[b], &x, 1);
			snprintf(x.ifname, sizeof(x.ifname), "%s", bus_name[b]);
			util_send(h_asnd, &x, 1);
			x.ifname[0] = '\0';
		}
		util_msleep(2);
	}
	for (b = 0; b < NBUS; b++) {
		ck_assert_int_eq(waitpid(pid[b], &st, 0), pid[b]);
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
			      "%s's sender failed", bus_name[b]);
	}
	/* Everything reached the sockets, in this order. */
	for (b = 0; b < NBUS; b++) {
		n[b] = nx = 0;
		while (util_raw_recv(wit[b], &got, 200) == 1) {
			if (got.id == X_ID)
				nx++;
			else if (n[b] < BUS_SEQS)
				order[b][n[b]++] = (unsigned)(got.data[0] << 8 |
							      got.data[1]);
		}
		ck_assert_msg(n[b] == BUS_SEQS && nx == 2 * BUS_OWN,
			      "%s: the kernel delivered %u and %u X frames, "
			      "of %d and %d",
			      bus_name[b], n[b], nx, BUS_SEQS, 2 * BUS_OWN);
	}
	for (b = 0; b < NBUS; b++) {
		for (k = 0; k < NBUS; k++) {
			tally_init(&all[b][k], order[k], n[k], 1);
			tally_init(&some[b][k], order[k], n[k], 4);
			tally_init(&snd[b][k], order[k], n[k], 1);
		}
		tally_init(&aobs[b], order[b], n[b], 1);
		tally_init(&asnd[b], order[b], n[b], 1);
	}
	for (b = 0; b < NBUS; b++) {
		take(h_all[b], b, all[b], BUS_SEQS + 2 * BUS_OWN, "unfiltered");
		take(h_some[b], b, some[b], BUS_SEQS / 4, "exact 0x100");
		take(h_snd[b], b, snd[b], BUS_SEQS + 2 * BUS_OWN, "sender");
		expect(&all[b][b], 0, 2 * BUS_OWN, "unfiltered", b);
		expect(&some[b][b], 0, 0, "exact 0x100", b);
		expect(&snd[b][b], BUS_OWN, BUS_OWN, "sender", b);
	}
	take(h_aobs, -1, aobs, NBUS * (BUS_SEQS + 2 * BUS_OWN), "\"\"");
	take(h_asnd, -1, asnd, NBUS * (BUS_SEQS + 2 * BUS_OWN), "\"\" sender");
	for (b = 0; b < NBUS; b++) {
		expect(&aobs[b], 0, 2 * BUS_OWN, "\"\"", b);
		expect(&asnd[b], BUS_OWN, BUS_OWN, "\"\" sender", b);
	}
	for (b = 0; b < NBUS; b++) {
		cand_close(h_all[b]);
		cand_close(h_some[b]);
		cand_close(h_snd[b]);
		close(out[b]);
		close(wit[b]);
	}
	cand_close(h_aobs);
	cand_close(h_asnd);
	remove_buses();
}
END_TEST

Suite *sharedmany_suite(void)
{
	Suite *s = suite_create("sharedmany");
	TCase *tc = util_tcase("sharedmany");

	/* Thousands of frames to check, on a host that may be busy. */
	tcase_set_timeout(tc, 90);

	tcase_add_unchecked_fixture(tc, NULL, remove_buses);
	tcase_add_test(tc, test_many_clients_as_the_kernel);
	tcase_add_test(tc, test_many_buses);
	suite_add_tcase(s, tc);
	return s;
}
