/*
 * SIGHUP: the new rules take effect for connections that are already
 * there, which lose exactly the rights that went (read: receiving stops
 * with an event; send: the next send is refused), and a broken file
 * changes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static struct util_daemon d;

static const char read_send[] = "[rule t]\n"
				"interfaces = vcan0\n"
				"users = candtest\n"
				"rights = read send\n";
static const char send_only[] = "[rule t]\n"
				"interfaces = vcan0\n"
				"users = candtest\n"
				"rights = send\n";
static const char read_only[] = "[rule t]\n"
				"interfaces = vcan0\n"
				"users = candtest\n"
				"rights = read\n";

START_TEST(test_read_revoked_and_restored)
{
	struct cand_frame f = util_frame(0x111, 0, "11"), got;
	int s = util_raw_open("vcan0", 0), rc;
	cand_t *a;

	util_daemon_start(&d, "reload-read", read_send);
	a = util_connect_as(d.sock, UID_CANDTEST, UID_CANDTEST);
	ck_assert_int_eq(util_try_open(a, "vcan0"), 0);
	util_raw_send(s, &f);
	util_recv_ok(a, &got, "before the reload");

	util_daemon_write_conf(&d, send_only);
	util_daemon_reload(&d, 1);
	rc = cand_recv(a, &got, RX_TIMEOUT_MS);
	ck_assert_msg(rc == CAND_EPERM,
		      "cand_recv after read was revoked: %d %s", rc,
		      cand_strerror(rc));
	ck_assert_msg(strstr(cand_last_detail(a), "'read'") != NULL,
		      "the event does not name the right: %s",
		      cand_last_detail(a));
	util_raw_send(s, &f);
	util_recv_none(a, SETTLE_MS, "after read was revoked");
	/* Exactly that right: sending goes on. */
	f.id = 0x112;
	util_send(a, &f, 1);
	util_raw_recv_ok(s, &got, "send after read was revoked");
	util_assert_frame(&got, &f, "send after read was revoked");

	/* Granted again: the same connection receives again. */
	util_daemon_write_conf(&d, read_send);
	util_daemon_reload(&d, 1);
	f.id = 0x113;
	util_raw_send(s, &f);
	util_recv_ok(a, &got, "after read was granted again");
	util_assert_frame(&got, &f, "after read was granted again");
	cand_close(a);
	util_daemon_stop(&d);
}
END_TEST

START_TEST(test_send_revoked)
{
	struct cand_frame f = util_frame(0x222, 0, "22"), got;
	int s = util_raw_open("vcan0", 0), rc;
	cand_t *a;

	util_daemon_start(&d, "reload-send", read_send);
	a = util_connect_as(d.sock, UID_CANDTEST, UID_CANDTEST);
	ck_assert_int_eq(util_try_open(a, "vcan0"), 0);
	util_send(a, &f, 1);
	util_raw_recv_ok(s, &got, "send before the reload");

	util_daemon_write_conf(&d, read_only);
	util_daemon_reload(&d, 1);
	rc = cand_send(a, &f, 1, 0);
	ck_assert_msg(rc == CAND_EPERM, "send after it was revoked: %d %s", rc,
		      cand_strerror(rc));
	util_raw_recv_none(s, SETTLE_MS, "after send was revoked");
	/* Receiving is untouched, and no error comes with it. */
	util_raw_send(s, &f);
	util_recv_ok(a, &got, "receive after send was revoked");
	cand_close(a);
	util_daemon_stop(&d);
}
END_TEST

START_TEST(test_broken_file_keeps_rules)
{
	struct cand_frame f = util_frame(0x333, 0, "33"), got;
	int s = util_raw_open("vcan0", 0);
	cand_t *a;
	char *log;

	util_daemon_start(&d, "reload-broken", read_send);
	a = util_connect_as(d.sock, UID_CANDTEST, UID_CANDTEST);
	ck_assert_int_eq(util_try_open(a, "vcan0"), 0);
	util_daemon_write_conf(&d, "[rule t]\n"
				   "interfaces = vcan0\n"
				   "users = candtest\n"
				   "rights = read sned\n");
	util_daemon_reload(&d, 0);
	log = util_daemon_log(&d);
	ck_assert_msg(strstr(log, ".conf:4: rights: unknown right 'sned'") !=
			      NULL,
		      "the log does not say where: %s", log);
	free(log);
	util_send(a, &f, 1);
	util_raw_recv_ok(s, &got, "send under the old rules");
	util_raw_send(s, &f);
	util_recv_ok(a, &got, "receive under the old rules");
	cand_close(a);
	util_daemon_stop(&d);
}
END_TEST

/* Groups are read from the system again on reload. */
START_TEST(test_groups_reread)
{
	cand_t *x;
	int rc;

	ck_assert_int_eq(util_sh("sed -i 's/^late:x:4260:.*/late:x:4260:/' "
				 "/etc/group"),
			 0);
	util_daemon_start(&d, "reload-groups",
			  "[rule late]\n"
			  "interfaces = vcan1\n"
			  "groups = late\n"
			  "rights = read\n");
	x = util_connect_as(d.sock, UID_CANDTEST3, UID_CANDTEST3);
	rc = util_try_open(x, "vcan1");
	ck_assert_msg(rc == CAND_EPERM, "candtest3 before joining: %s",
		      cand_strerror(rc));
	ck_assert_int_eq(util_sh("sed -i 's/^late:x:4260:.*/late:x:4260:"
				 "candtest3/' /etc/group"),
			 0);
	util_daemon_reload(&d, 1);
	rc = util_try_open(x, "vcan1");
	ck_assert_msg(rc == 0, "candtest3 after joining late: %s (%s)",
		      cand_strerror(rc), cand_last_detail(x));
	ck_assert_int_eq(util_sh("sed -i 's/^late:x:4260:.*/late:x:4260:/' "
				 "/etc/group"),
			 0);
	cand_close(x);
	util_daemon_stop(&d);
}
END_TEST

/*
 * A group the system does not have yet is a warning, and the rule that
 * names it matches once it exists and cand is reloaded.
 */
START_TEST(test_unknown_group_kept_by_name)
{
	char *log;
	cand_t *x;
	int rc;

	util_sh("sed -i '/^notyet:/d' /etc/group");
	util_daemon_start(&d, "reload-notyet",
			  "[rule notyet]\n"
			  "interfaces = vcan1\n"
			  "groups = notyet\n"
			  "rights = read\n");
	log = util_daemon_log(&d);
	ck_assert_msg(strstr(log, "groups: no group 'notyet' on this system "
				  "(yet)") != NULL,
		      "no warning in the log: %s", log);
	free(log);
	x = util_connect_as(d.sock, UID_CANDTEST3, UID_CANDTEST3);
	rc = util_try_open(x, "vcan1");
	ck_assert_msg(rc == CAND_EPERM, "candtest3 before the group: %s",
		      cand_strerror(rc));
	ck_assert_int_eq(util_sh("echo notyet:x:4270:candtest3 >>/etc/group"),
			 0);
	util_daemon_reload(&d, 1);
	rc = util_try_open(x, "vcan1");
	util_sh("sed -i '/^notyet:/d' /etc/group");
	ck_assert_msg(rc == 0, "candtest3 once notyet exists: %s (%s)",
		      cand_strerror(rc), cand_last_detail(x));
	cand_close(x);
	util_daemon_stop(&d);
}
END_TEST

Suite *reload_suite(void)
{
	Suite *s = suite_create("reload");
	TCase *tc = util_tcase("reload");

	tcase_add_test(tc, test_read_revoked_and_restored);
	tcase_add_test(tc, test_send_revoked);
	tcase_add_test(tc, test_broken_file_keeps_rules);
	tcase_add_test(tc, test_groups_reread);
	tcase_add_test(tc, test_unknown_group_kept_by_name);
	suite_add_tcase(s, tc);
	return s;
}
