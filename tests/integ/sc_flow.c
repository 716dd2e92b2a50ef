/*
 * A socketcand client that stops reading costs the others nothing. With
 * a daemon of its own whose output watermarks are small, 30000 frames at
 * a busy bus's pace overflow what it holds for the stalled client, yet
 * reach a live socketcand client and a live protobuf client whole and in
 * order; the daemon's memory stays put; and when the stalled client
 * reads again it is told, in an error element and in the log, how many
 * frames cand dropped for it: what it got and what it was told add up to
 * what was sent.
 */
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sc_util.h"

#define FLOW_PORT  29537
#define FLOW_FLOOD 30000

static const char flow_conf[] = "[rule local]\n"
				"interfaces = *\n"
				"users = *\n"
				"rights = read send\n"
				"[rule peers]\n"
				"interfaces = *\n"
				"peers = 127.0.0.1\n"
				"rights = read send\n"
				"[limits]\n"
				"output_high_watermark = 256K\n"
				"output_low_watermark = 64K\n"
				"[socketcand]\n"
				"listen = 127.0.0.1:29537\n";

/* A raw-mode client of the flow daemon; a small buffer if stalling. */
static struct sc_peer *flow_client(int small)
{
	struct sc_peer *p = sc_try_connect_buf(NULL, "127.0.0.1", FLOW_PORT,
					       small ? 4096 : 0);

	ck_assert_ptr_nonnull(p);
	sc_start(p, "vcan1", "rawmode");
	return p;
}

/* The counter in a flood frame "< frame 613 T XXXXXXXX >"; -1 if none. */
static long flood_seq(const char *el)
{
	const char *data = strrchr(el, ' ');
	unsigned long v;

	if (strncmp(el, "< frame 613 ", 12) != 0 || data == NULL ||
	    data - el < 9 || sscanf(data - 8, "%8lx", &v) != 1)
		return -1;
	return (long)v;
}

/*
 * The live clients read in threads of their own, as the programs they
 * stand for would, so that their pace does not hang on the flooding one.
 * A thread records the first frame out of order rather than failing the
 * test from outside its main thread.
 */
struct live {
	struct sc_peer *sc;
	cand_t *h;
	long next_sc, next_pb;
	volatile int stop;
	char why[300];
};

static void *live_sc(void *arg)
{
	struct live *l = arg;
	char el[256];
	int rc;

	while (l->next_sc < FLOW_FLOOD && !l->why[0]) {
		rc = sc_next(l->sc, el, sizeof(el), 100);
		if (rc < 0 || (rc == 0 && l->stop))
			break;
		if (rc == 0)
			continue;
		if (flood_seq(el) != l->next_sc)
			snprintf(l->why, sizeof(l->why),
				 "live socketcand client: got '%s', want frame "
				 "%ld",
				 el, l->next_sc);
		l->next_sc++;
	}
	return NULL;
}

static void *live_pb(void *arg)
{
	struct live *l = arg;
	struct cand_frame f;
	long seq;
	int rc;

	while (l->next_pb < FLOW_FLOOD && !l->why[0]) {
		rc = cand_recv(l->h, &f, 100);
		if (rc != 1 && l->stop)
			break;
		if (rc != 1)
			continue;
		seq = (long)f.data[0] << 24 | f.data[1] << 16 | f.data[2] << 8 |
		      f.data[3];
		if (seq != l->next_pb)
			snprintf(l->why, sizeof(l->why),
				 "live protobuf client: frame %ld, want %ld",
				 seq, l->next_pb);
		l->next_pb++;
	}
	return NULL;
}

START_TEST(test_stalled_peer)
{
	struct util_daemon d;
	struct live l = {0};
	struct sc_peer *stuck;
	pthread_t t_sc, t_pb;
	int s = util_raw_open("vcan1", 0);
	struct cand_frame f = util_frame(0x613, 0, "00000000");
	long got = 0, rss0, rss1, i;
	unsigned long long lost = 0, n;
	char el[512], *log;
	int told = 0;

	util_daemon_start(&d, "scflow", flow_conf);
	stuck = flow_client(1);
	l.sc = flow_client(0);
	l.h = util_connect_as(d.sock, 0, 0);
	ck_assert_int_eq(util_try_open(l.h, "vcan1"), 0);
	rss0 = util_rss_kib(d.pid);
	ck_assert_int_eq(pthread_create(&t_sc, NULL, live_sc, &l), 0);
	ck_assert_int_eq(pthread_create(&t_pb, NULL, live_pb, &l), 0);
	/* About 4000 frames/s: a busy bus, which the VM's readers hold. */
	for (i = 0; i < FLOW_FLOOD; i++) {
		f.data[0] = (uint8_t)(i >> 24);
		f.data[1] = (uint8_t)(i >> 16);
		f.data[2] = (uint8_t)(i >> 8);
		f.data[3] = (uint8_t)i;
		util_raw_flood(s, &f);
		if (i % 16 == 15)
			util_msleep(4);
	}
	for (i = 0;
	     i < 100 && (l.next_sc < FLOW_FLOOD || l.next_pb < FLOW_FLOOD); i++)
		util_msleep(50);
	l.stop = 1;
	pthread_join(t_sc, NULL);
	pthread_join(t_pb, NULL);
	ck_assert_msg(l.why[0] == '\0', "%s", l.why);
	ck_assert_int_eq(l.next_sc, FLOW_FLOOD);
	ck_assert_int_eq(l.next_pb, FLOW_FLOOD);
	rss1 = util_rss_kib(d.pid);
	ck_assert_msg(rss1 - rss0 < util_rss_slack_kib(8192),
		      "the daemon grew from %ld to %ld KiB with a client "
		      "stalled",
		      rss0, rss1);

	/* Now it reads: frames, and somewhere the word of what it lost. */
	while (sc_next(stuck, el, sizeof(el), 3000) == 1) {
		if (flood_seq(el) >= 0) {
			got++;
			continue;
		}
		/* cand's drops for it, and any of the tap's, for everyone. */
		if (sscanf(el, "< error cand dropped %llu frames", &n) == 1) {
			ck_assert_msg(strstr(el, "did not read its output fast "
						 "enough"),
				      "says why: '%s'", el);
			told++;
		} else {
			ck_assert_msg(sscanf(el,
					     "< error the kernel dropped %llu "
					     "frames",
					     &n) == 1,
				      "stalled client: '%s'", el);
		}
		lost += n;
	}
	ck_assert_msg(told > 0 && lost > 0,
		      "the stalled client got %ld frames and no word of a loss",
		      got);
	ck_assert_msg(got + (long)lost == FLOW_FLOOD,
		      "got %ld, told of %llu lost: not the %d sent", got, lost,
		      FLOW_FLOOD);
	log = util_daemon_log(&d);
	ck_assert_msg(strstr(log, "(peer 127.0.0.1): cand dropped"),
		      "the log does not say it: %s", log);
	free(log);
	cand_close(l.h);
	sc_close(l.sc);
	sc_close(stuck);
	close(s);
	util_daemon_stop(&d);
}
END_TEST

Suite *sc_flow_suite(void)
{
	Suite *s = suite_create("socketcand_flow");
	TCase *tc = util_tcase("flow");

	/* A paced flood of 30000 frames: seconds even in an idle VM. */
	tcase_set_timeout(tc, 120);

	tcase_add_test(tc, test_stalled_peer);
	suite_add_tcase(s, tc);
	return s;
}
