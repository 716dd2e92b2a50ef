/*
 * SIGHUP and the kernel's broadcast manager: a reload that takes away
 * `periodic` stops the client's running tasks at once (a raw socket on the
 * bus sees their frames end), and one that takes away `monitor` removes its
 * monitors (no more events), each with the rights event naming the right.
 */
#include <stdlib.h>
#include <string.h>

#include "util.h"

static struct util_daemon d;

static const char all_bcm[] = "[rule t]\n"
			      "interfaces = vcan0\n"
			      "users = candtest\n"
			      "rights = read send periodic monitor\n";
static const char no_periodic[] = "[rule t]\n"
				  "interfaces = vcan0\n"
				  "users = candtest\n"
				  "rights = read send monitor\n";
static const char no_monitor[] = "[rule t]\n"
				 "interfaces = vcan0\n"
				 "users = candtest\n"
				 "rights = read send periodic\n";

#define PERIOD_US 10000

/* The next event that is not a frame, within RX_TIMEOUT_MS. */
static int next_event(cand_t *h, struct cand_event *ev)
{
	int rc;

	do
		rc = cand_recv_event(h, ev, RX_TIMEOUT_MS);
	while (rc == 1 && ev->type == CAND_EVENT_FRAME);
	return rc;
}

static void expect_rights_event(cand_t *h, const char *right)
{
	struct cand_event ev;
	int rc = next_event(h, &ev);

	ck_assert_msg(rc == 1 && ev.type == CAND_EVENT_RIGHTS,
		      "rights event: rc %d type %d", rc,
		      rc == 1 ? (int)ev.type : -1);
	ck_assert_msg(strstr(ev.detail, right) != NULL,
		      "the event does not name %s: %s", right, ev.detail);
}

START_TEST(test_periodic_revoked_stops_tasks)
{
	struct cand_frame f = util_frame(0x4A1, 0, "A1"), got;
	struct cand_task_info *tasks = NULL;
	int s = util_raw_open("vcan0", 0), n;
	cand_task_t *t;
	cand_t *a;

	util_daemon_start(&d, "reload-periodic", all_bcm);
	a = util_connect_as(d.sock, UID_CANDTEST, UID_CANDTEST);
	ck_assert_int_eq(util_try_open(a, "vcan0"), 0);
	ck_assert_int_eq(cand_task_start(a, &f, 1, PERIOD_US, 0, 0, &t), 0);
	util_raw_recv_ok(s, &got, "the task before the reload");
	util_assert_frame(&got, &f, "the task before the reload");

	util_daemon_write_conf(&d, no_periodic);
	util_daemon_reload(&d, 1);
	expect_rights_event(a, "'periodic'");
	/* What the kernel had queued before the reload may still come. */
	util_msleep(3 * PERIOD_US / 1000);
	while (util_raw_recv(s, &got, 0) == 1)
		;
	util_raw_recv_none(s, SETTLE_MS, "the task after periodic went");

	/* Restored: the task is still the client's, stopped, and resumes. */
	util_daemon_write_conf(&d, all_bcm);
	util_daemon_reload(&d, 1);
	n = cand_task_list(a, &tasks);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(tasks[0].state, CAND_TASK_STOPPED);
	free(tasks);
	ck_assert_int_eq(cand_task_resume(t), 0);
	util_raw_recv_ok(s, &got, "the task resumed");
	util_assert_frame(&got, &f, "the task resumed");
	cand_task_free(t);
	cand_close(a);
	util_daemon_stop(&d);
}
END_TEST

START_TEST(test_monitor_revoked_removes_monitors)
{
	struct cand_frame f = util_frame(0x4B2, 0, "B2");
	struct cand_monitor_opts mo;
	struct cand_event ev;
	int s = util_raw_open("vcan0", 0), rc;
	cand_monitor_t *m;
	cand_t *a;

	util_daemon_start(&d, "reload-monitor", all_bcm);
	a = util_connect_as(d.sock, UID_CANDTEST, UID_CANDTEST);
	ck_assert_int_eq(util_try_open(a, "vcan0"), 0);
	cand_monitor_opts_init(&mo);
	mo.id = f.id;
	mo.flags = CAND_MONITOR_EVERY_FRAME;
	ck_assert_int_eq(cand_monitor_start(a, &mo, &m), 0);
	util_raw_send(s, &f);
	rc = next_event(a, &ev);
	ck_assert_msg(rc == 1 && ev.type == CAND_EVENT_MONITOR_CHANGED,
		      "monitor before the reload: rc %d", rc);

	util_daemon_write_conf(&d, no_monitor);
	util_daemon_reload(&d, 1);
	expect_rights_event(a, "'monitor'");
	util_raw_send(s, &f);
	rc = cand_recv_event(a, &ev, SETTLE_MS);
	while (rc == 1 && ev.type == CAND_EVENT_FRAME)
		rc = cand_recv_event(a, &ev, SETTLE_MS);
	ck_assert_msg(rc == CAND_ETIMEOUT,
		      "an event after monitor went: rc %d type %d", rc,
		      rc == 1 ? (int)ev.type : -1);
	cand_monitor_free(m);
	cand_close(a);
	util_daemon_stop(&d);
}
END_TEST

Suite *reload_bcm_suite(void)
{
	Suite *s = suite_create("reload_bcm");
	TCase *tc = tcase_create("revoked");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_periodic_revoked_stops_tasks);
	tcase_add_test(tc, test_monitor_revoked_removes_monitors);
	suite_add_tcase(s, tc);
	return s;
}
