/*
 * Send budgets (send_rate, send_burst) and canctl clients, in a daemon of
 * the suite's own. What reaches the bus is counted by a raw CAN socket,
 * never by the client that sent it: a flood at a budget of 100/s for 2 s
 * puts 200 frames give or take the burst on the bus; a send over budget
 * waits within its timeout and then fails LIMIT_EXCEEDED with nothing
 * over budget sent; periodic tasks count at creation; the counts show in
 * canctl clients, which only an admin may run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

#define RATE  100
#define BURST 10

/* candtest floods under a budget; candtest3 is an admin without one. */
static const char budget_conf[] = "[rule flood]\n"
				  "interfaces = vcan*\n"
				  "users = candtest\n"
				  "rights = read send periodic\n"
				  "send_rate = 100/s\n"
				  "send_burst = 10\n"
				  "\n"
				  "[rule admin]\n"
				  "interfaces = *\n"
				  "users = candtest3\n"
				  "rights = admin\n";

static struct util_daemon d;

static cand_t *open_as(uid_t uid)
{
	cand_t *h = util_connect_as(d.sock, uid, uid);

	ck_assert_int_eq(util_try_open(h, "vcan1"), 0);
	return h;
}

static uint64_t now_ms(void)
{
	return util_now_ns() / 1000000;
}

/* Frames on the bus until it has been quiet for SETTLE_MS. */
static long count_on_bus(int s)
{
	struct cand_frame f;
	long n = 0;

	while (util_raw_recv(s, &f, SETTLE_MS) == 1)
		n++;
	return n;
}

/* Refused over budget: CAND_ELIMIT, or fewer than n frames sent. */
static void expect_limit(cand_t *h, int rc, int n, const char *what)
{
	ck_assert_msg(rc == CAND_ELIMIT || (rc >= 0 && rc < n),
		      "%s: %d %s (%s), want CAND_ELIMIT or under %d sent", what,
		      rc, rc < 0 ? cand_strerror(rc) : "sent",
		      cand_last_detail(h), n);
	ck_assert_msg(strstr(cand_last_detail(h),
			     "send budget of 100 frames/s (burst 10, [rule "
			     "flood]) on \"vcan1\"") != NULL,
		      "%s: the detail does not name the budget: %s", what,
		      cand_last_detail(h));
}

/* canctl clients as uid on the suite's daemon: its output (malloc'd). */
static char *clients_as(uid_t uid, int *status)
{
	char *argv[] = {"setpriv",	  NULL,	     NULL,
			"--clear-groups", NULL,	     "-s",
			d.sock,		  "clients", NULL};
	char reuid[32], regid[32], canctl[512];
	struct util_proc p;

	snprintf(reuid, sizeof(reuid), "--reuid=%lu", (unsigned long)uid);
	snprintf(regid, sizeof(regid), "--regid=%lu", (unsigned long)uid);
	snprintf(canctl, sizeof(canctl), "%s/canctl", getenv("BUILDDIR"));
	argv[1] = reuid;
	argv[2] = regid;
	argv[4] = canctl;
	util_spawn(&p, argv);
	return util_proc_finish(&p, 10000, status);
}

/* Frames per send of the flood: more than the emulated VM's round trips
 * could ever carry one by one at 100/s. */
#define FLOOD_BATCH 20

START_TEST(test_flood_held_to_the_budget)
{
	struct cand_frame f[FLOOD_BATCH];
	long ok = 0, refused = 0, sends = 0, on_bus;
	uint64_t start, end;
	char want[160], *out;
	int s, rc, status;
	cand_t *h;

	for (rc = 0; rc < FLOOD_BATCH; rc++)
		f[rc] = util_frame(0x123, 0, "0011223344556677");
	util_daemon_start(&d, "budget", budget_conf);
	s = util_raw_open("vcan1", RAW_BIGBUF);
	h = open_as(UID_CANDTEST);
	start = now_ms();
	/* As fast as it can, for 2 s: nothing waits (timeout 0). */
	while (now_ms() - start < 2000) {
		rc = cand_send(h, f, FLOOD_BATCH, 0);
		sends++;
		if (rc == FLOOD_BATCH) {
			ok += rc;
			continue;
		}
		if (refused == 0)
			expect_limit(h, rc, FLOOD_BATCH, "a send over budget");
		ck_assert_msg(
			rc == CAND_ELIMIT || (rc >= 0 && rc < FLOOD_BATCH),
			"send %ld: %d (%s)", sends, rc, cand_last_detail(h));
		ok += rc > 0 ? rc : 0;
		refused += FLOOD_BATCH - (rc > 0 ? rc : 0);
	}
	end = now_ms();
	on_bus = count_on_bus(s);
	fprintf(stderr,
		"budget: %ld frames on the bus in %llu ms at %d/s burst %d; "
		"%ld sends of %d, %ld frames refused\n",
		on_bus, (unsigned long long)(end - start), RATE, BURST, sends,
		FLOOD_BATCH, refused);
	ck_assert_msg(on_bus == ok, "%ld frames on the bus, the sends said %ld",
		      on_bus, ok);
	/* The bucket starts full: burst + rate x time, and not one more. */
	ck_assert_msg(
		on_bus >= 2 * RATE - BURST &&
			on_bus <= BURST + RATE * (long)(end - start) / 1000 + 1,
		"%ld frames in %llu ms, want 200 +- %d", on_bus,
		(unsigned long long)(end - start), BURST);
	ck_assert_msg(refused > 0, "the flood was never refused");

	/* An admin sees the counts; the client itself may not. */
	out = clients_as(UID_CANDTEST3, &status);
	ck_assert_msg(status == 0, "canctl clients as admin: %d: %s", status,
		      out);
	snprintf(want, sizeof(want),
		 "pid %ld (test_integ) uid %d gid %d, "
		 "channel \"vcan1\", filters all",
		 (long)getpid(), UID_CANDTEST, UID_CANDTEST);
	ck_assert_msg(strstr(out, want) != NULL, "no \"%s\" in: %s", want, out);
	snprintf(want, sizeof(want),
		 "tx %ld drops 0 backlog 0 refused %ld "
		 "delayed 0 tasks-refused 0 budget vcan1 100/s burst 10",
		 ok, refused);
	ck_assert_msg(strstr(out, want) != NULL, "no \"%s\" in: %s", want, out);
	free(out);
	out = clients_as(UID_CANDTEST, &status);
	ck_assert_msg(status != 0 && strstr(out, "'admin' right") != NULL,
		      "canctl clients as candtest: %d: %s", status, out);
	free(out);
	cand_close(h);
	close(s);
	util_daemon_stop(&d);
}
END_TEST

START_TEST(test_send_waits_within_its_timeout)
{
	struct cand_frame f[60];
	struct cand_client *v;
	cand_t *h, *admin;
	long on_bus;
	size_t i;
	int s, rc, n;

	for (i = 0; i < 60; i++)
		f[i] = util_frame(0x200 + (uint32_t)i, 0, "AA");
	util_daemon_start(&d, "budget", budget_conf);
	s = util_raw_open("vcan1", RAW_BIGBUF);
	h = open_as(UID_CANDTEST);
	/* 30 frames: 10 at once, 20 more within ~200 ms of the 1 s timeout. */
	rc = cand_send(h, f, 30, 1000);
	ck_assert_msg(rc == 30, "30 frames in 1 s: %d %s (%s)", rc,
		      cand_strerror(rc), cand_last_detail(h));
	ck_assert_int_eq(count_on_bus(s), 30);

	/* 60 frames within 100 ms cannot be: the most the budget allows. */
	util_msleep(150); /* about 15 tokens */
	rc = cand_send(h, f, 60, 100);
	expect_limit(h, rc, 60, "60 frames in 100 ms");
	on_bus = count_on_bus(s);
	ck_assert_msg(on_bus == (rc > 0 ? rc : 0),
		      "%ld frames of a refused send on the bus, it said %d",
		      on_bus, rc);
	ck_assert_msg(on_bus >= 10 && on_bus <= 30,
		      "%ld frames of a refused send on the bus, want ~25",
		      on_bus);
	ck_assert_msg(strstr(cand_last_detail(h), "frames sent") != NULL,
		      "the detail does not say how many went: %s",
		      cand_last_detail(h));

	admin = util_connect_as(d.sock, UID_CANDTEST3, UID_CANDTEST3);
	n = cand_clients(admin, &v);
	ck_assert_msg(n == 2, "cand_clients: %d %s", n,
		      cand_last_detail(admin));
	for (i = 0; i < 2 && v[i].uid != UID_CANDTEST; i++)
		;
	ck_assert_int_lt(i, 2);
	ck_assert_uint_eq(v[i].tx_frames, 30 + (uint64_t)on_bus);
	ck_assert_uint_eq(v[i].refused, 60 - (uint64_t)on_bus);
	ck_assert_msg(v[i].delayed >= 15, "%llu frames delayed, want >= 15",
		      (unsigned long long)v[i].delayed);
	free(v);
	cand_close(admin);
	cand_close(h);
	close(s);
	util_daemon_stop(&d);
}
END_TEST

START_TEST(test_tasks_counted_at_creation)
{
	struct cand_frame f = util_frame(0x321, 0, "01");
	cand_task_t *t1, *t2, *t3 = NULL;
	cand_t *h;
	int rc;

	util_daemon_start(&d, "budget", budget_conf);
	h = open_as(UID_CANDTEST);
	/* 200 frames a second cannot fit in 100. */
	rc = cand_task_start(h, &f, 1, 5000, 0, 0, &t3);
	ck_assert_msg(rc == CAND_ELIMIT &&
			      strstr(cand_last_detail(h),
				     "a task every 5000 us sends 200.0 "
				     "frames/s: over the send budget of 100 "
				     "frames/s") != NULL,
		      "a task at 200/s: %d %s (%s)", rc, cand_strerror(rc),
		      cand_last_detail(h));
	/* Two at 50/s fill it; a third is one too many. */
	ck_assert_int_eq(cand_task_start(h, &f, 1, 20000, 0, 0, &t1), 0);
	ck_assert_int_eq(cand_task_start(h, &f, 1, 20000, 0, 0, &t2), 0);
	rc = cand_task_start(h, &f, 1, 20000, 0, 0, &t3);
	ck_assert_msg(rc == CAND_ELIMIT &&
			      strstr(cand_last_detail(h),
				     "of which running tasks take 100.0/s") !=
				      NULL,
		      "a third task: %d %s (%s)", rc, cand_strerror(rc),
		      cand_last_detail(h));
	/* The tasks leave the sends only the burst, then nothing. */
	ck_assert_int_eq(cand_send(h, &f, 1, 0), 1);
	/* A stopped task gives its share back. */
	ck_assert_int_eq(cand_task_stop(t1), 0);
	ck_assert_int_eq(cand_task_start(h, &f, 1, 20000, 0, 0, &t3), 0);
	/* And a resumed one asks again. */
	rc = cand_task_resume(t1);
	ck_assert_msg(rc == CAND_ELIMIT, "resuming over budget: %d (%s)", rc,
		      cand_last_detail(h));
	cand_task_free(t1);
	cand_task_free(t2);
	cand_task_free(t3);
	cand_close(h);
	util_daemon_stop(&d);
}
END_TEST

Suite *budget_suite(void)
{
	Suite *s = suite_create("budget");
	TCase *tc = util_tcase("budget");

	tcase_add_test(tc, test_flood_held_to_the_budget);
	tcase_add_test(tc, test_send_waits_within_its_timeout);
	tcase_add_test(tc, test_tasks_counted_at_creation);
	suite_add_tcase(s, tc);
	return s;
}
