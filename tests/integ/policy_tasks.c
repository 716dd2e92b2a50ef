/*
 * Periodic tasks under the access policy: a rule's send_ids bound what its
 * tasks send as they bound its sends, at task_start and at task_modify
 * (after a reload too), with a raw CAN socket watching the bus. A rule
 * that grants periodic without id limits lets its tasks send any id.
 */
#include <stdlib.h>
#include <string.h>

#include "util.h"

/*
 * candtest2 (group diag): send and periodic on vcan0, only 0x700-0x7FF
 * and 0x18DAxxF1. candtest3: periodic on vcan0 with no id limits.
 */
static const char tasks_conf[] = "[rule diag]\n"
				 "interfaces = vcan0\n"
				 "groups = diag\n"
				 "rights = send periodic\n"
				 "send_ids = 700-7FF\n"
				 "send_ext_ids = 18DA00F1/1FFF00FF\n"
				 "\n"
				 "[rule tasks]\n"
				 "interfaces = vcan0\n"
				 "users = candtest3\n"
				 "rights = periodic\n";

/* The same, with diag's ids moved: what a reload may do. */
static const char tasks_conf_moved[] = "[rule diag]\n"
				       "interfaces = vcan0\n"
				       "groups = diag\n"
				       "rights = send periodic\n"
				       "send_ids = 100-1FF\n";

#define TASK_PERIOD_US 20000

static struct util_daemon d;

static cand_t *open_as(uid_t uid)
{
	cand_t *h = util_connect_as(d.sock, uid, uid);

	ck_assert_int_eq(util_try_open(h, "vcan0"), 0);
	return h;
}

static void expect_eperm(cand_t *h, int rc, const char *what,
			 const char *detail_has)
{
	ck_assert_msg(rc == CAND_EPERM, "%s: %d %s (%s), want CAND_EPERM", what,
		      rc, cand_strerror(rc), cand_last_detail(h));
	ck_assert_msg(strstr(cand_last_detail(h), detail_has) != NULL,
		      "%s: detail \"%s\" does not say \"%s\"", what,
		      cand_last_detail(h), detail_has);
}

/* A task's frames already sent are read, so that the next test starts clean. */
static void drain(int s)
{
	struct cand_frame f;

	util_msleep(3 * TASK_PERIOD_US / 1000);
	while (util_raw_recv(s, &f, 0) == 1)
		;
}

/* The next frame on the bus is f, within RX_TIMEOUT_MS. */
static void expect_on_bus(int s, const struct cand_frame *f, const char *what)
{
	struct cand_frame got;

	util_raw_recv_ok(s, &got, what);
	util_assert_frame(&got, f, what);
}

START_TEST(test_task_ids_limited)
{
	struct cand_frame ok = util_frame(0x700, 0, "11"),
			  bad = util_frame(0x6FF, 0, "22"),
			  ext_ok = util_frame(0x18DA10F1, CAND_FRAME_EXTENDED,
					      "33"),
			  ext_bad = util_frame(0x18DB10F1, CAND_FRAME_EXTENDED,
					       "44"),
			  err = util_frame(0x4, CAND_FRAME_ERROR, ""), two[2];
	cand_task_t *t = NULL;
	cand_t *b;
	int s = util_raw_open("vcan0", RAW_ERR);

	util_daemon_start(&d, "tasks-ids", tasks_conf);
	b = open_as(UID_CANDTEST2);

	ck_assert_int_eq(cand_task_start(b, &ok, 1, TASK_PERIOD_US, 0, 0, &t),
			 0);
	expect_on_bus(s, &ok, "a task of an allowed id");
	cand_task_free(t);
	drain(s);
	ck_assert_int_eq(
		cand_task_start(b, &ext_ok, 1, TASK_PERIOD_US, 0, 0, &t), 0);
	expect_on_bus(s, &ext_ok, "a task of an allowed extended id");
	cand_task_free(t);
	drain(s);

	t = NULL;
	expect_eperm(b, cand_task_start(b, &bad, 1, TASK_PERIOD_US, 0, 0, &t),
		     "a task of 0x6FF",
		     "lacks the 'periodic' right for standard id 0x6FF");
	ck_assert_ptr_null(t);
	expect_eperm(b,
		     cand_task_start(b, &ext_bad, 1, TASK_PERIOD_US, 0, 0, &t),
		     "a task of 0x18DB10F1", "extended id 0x18DB10F1");
	expect_eperm(b, cand_task_start(b, &err, 1, TASK_PERIOD_US, 0, 0, &t),
		     "a task of error frames", "error frames");
	/* A paused task is refused as well: it could be resumed later. */
	expect_eperm(b,
		     cand_task_start(b, &bad, 1, TASK_PERIOD_US, 0,
				     CAND_TASK_PAUSED, &t),
		     "a paused task of 0x6FF", "id 0x6FF");
	util_raw_recv_none(s, SETTLE_MS, "the bus after the refused tasks");

	/* The refusals left the connection as it was: sends still work. */
	two[0] = ok;
	two[1] = util_frame(0x7FF, 0, "55");
	util_send(b, two, 2);
	expect_on_bus(s, &two[0], "0x700 sent after the refusals");
	expect_on_bus(s, &two[1], "0x7FF sent after the refusals");
	cand_close(b);
	util_daemon_stop(&d);
}
END_TEST

/* The policy in force at a modification is the one that counts. */
START_TEST(test_task_modify_after_reload)
{
	struct cand_frame f = util_frame(0x700, 0, "01"),
			  g = util_frame(0x700, 0, "02");
	cand_task_t *t = NULL;
	cand_t *b;
	int s = util_raw_open("vcan0", 0);

	util_daemon_start(&d, "tasks-modify", tasks_conf);
	b = open_as(UID_CANDTEST2);
	ck_assert_int_eq(cand_task_start(b, &f, 1, TASK_PERIOD_US, 0, 0, &t),
			 0);
	expect_on_bus(s, &f, "the task before the reload");
	ck_assert_int_eq(cand_task_modify(t, &g, 1), 0);

	util_daemon_write_conf(&d, tasks_conf_moved);
	util_daemon_reload(&d, 1);
	expect_eperm(b, cand_task_modify(t, &f, 1), "a modify after the reload",
		     "id 0x700");
	cand_task_free(t);
	cand_close(b);
	util_daemon_stop(&d);
}
END_TEST

/* periodic from a rule without id limits: its tasks send any id. */
START_TEST(test_task_without_id_limits)
{
	struct cand_frame f = util_frame(0x123, 0, "AA"),
			  e = util_frame(0x1ABCDE, CAND_FRAME_EXTENDED, "BB");
	cand_task_t *t = NULL, *u = NULL;
	cand_t *c;
	int s = util_raw_open("vcan0", 0);

	util_daemon_start(&d, "tasks-any", tasks_conf);
	c = open_as(UID_CANDTEST3);
	ck_assert_int_eq(cand_task_start(c, &f, 1, TASK_PERIOD_US, 0, 0, &t),
			 0);
	expect_on_bus(s, &f, "candtest3's task of 0x123");
	cand_task_free(t);
	drain(s);
	ck_assert_int_eq(cand_task_start(c, &e, 1, TASK_PERIOD_US, 0, 0, &u),
			 0);
	expect_on_bus(s, &e, "candtest3's task of extended 0x1ABCDE");
	/* Its sends are another matter: it has no send right. */
	expect_eperm(c, cand_send(c, &f, 1, 0), "candtest3 sends",
		     "lacks the 'send' right");
	cand_task_free(u);
	cand_close(c);
	util_daemon_stop(&d);
}
END_TEST

Suite *policy_tasks_suite(void)
{
	Suite *s = suite_create("policy_tasks");
	TCase *tc = util_tcase("policy_tasks");

	tcase_add_test(tc, test_task_ids_limited);
	tcase_add_test(tc, test_task_modify_after_reload);
	tcase_add_test(tc, test_task_without_id_limits);
	suite_add_tcase(s, tc);
	return s;
}
