/*
 * Access policy against a daemon of the test's own, run as "cand" with only
 * CAP_NET_ADMIN: each right granted and denied as the rules say, for
 * clients of different users in different groups, with raw CAN sockets as
 * the independent observers of what reaches the bus.
 */
#include <stdlib.h>
#include <string.h>

#include "util.h"

/*
 * candtest (group can): read on vcan*, send on vcan0.
 * candtest2 (group diag): send on vcan0, only 0x700-0x7FF and 0x18DAxxF1.
 * candtest3: read on everything, the "" channel too.
 */
static const char policy_conf[] = "[rule can-read]\n"
				  "interfaces = vcan*\n"
				  "groups = can\n"
				  "rights = read\n"
				  "\n"
				  "[rule can-send]\n"
				  "interfaces = vcan0\n"
				  "groups = can\n"
				  "rights = send\n"
				  "\n"
				  "[rule diag]\n"
				  "interfaces = vcan0\n"
				  "groups = diag\n"
				  "rights = send\n"
				  "send_ids = 700-7FF\n"
				  "send_ext_ids = 18DA00F1/1FFF00FF\n"
				  "\n"
				  "[rule reader]\n"
				  "interfaces = *\n"
				  "users = candtest3\n"
				  "rights = read\n";

static struct util_daemon d;

static cand_t *as(uid_t uid)
{
	return util_connect_as(d.sock, uid, uid);
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

START_TEST(test_read_granted_and_denied)
{
	cand_t *a, *a2, *b, *x, *nobody;
	struct cand_frame f = util_frame(0x321, 0, "AA"), got;
	struct cand_iface *l = NULL;
	int s = util_raw_open("vcan1", 0);

	util_daemon_start(&d, "policy-read", policy_conf);
	a = as(UID_CANDTEST);
	a2 = as(UID_CANDTEST);
	b = as(UID_CANDTEST2);
	x = as(UID_CANDTEST3);

	/* Group can through the system's group list: read on vcan1. */
	ck_assert_int_eq(util_try_open(a, "vcan1"), 0);
	util_raw_send(s, &f);
	util_recv_ok(a, &got, "candtest on vcan1");
	util_assert_frame(&got, &f, "candtest on vcan1");

	/* candtest2 has no right at all on vcan1. */
	expect_eperm(b, util_try_open(b, "vcan1"), "candtest2 opens vcan1",
		     "has no right on \"vcan1\"");
	/* Listing needs no right. */
	ck_assert_int_ge(cand_list(b, &l), 1);
	free(l);

	/* A uid with no passwd entry and no rule: nothing. */
	nobody = util_connect_as(d.sock, 4299, 4299);
	expect_eperm(nobody, util_try_open(nobody, "vcan0"), "uid 4299 opens",
		     "uid 4299 has no right");
	/* The connection goes on after a refusal. */
	ck_assert_int_ge(cand_list(nobody, &l), 1);
	free(l);

	/* Reading everything ("" channel) needs a rule for "*". */
	ck_assert_int_eq(util_try_open(x, ""), 0);
	util_raw_send(s, &f);
	util_recv_ok(x, &got, "candtest3 on \"\"");
	expect_eperm(a2, util_try_open(a2, ""), "candtest on \"\"",
		     "every interface");
	cand_close(a);
	cand_close(a2);
	cand_close(b);
	cand_close(x);
	cand_close(nobody);
	util_daemon_stop(&d);
}
END_TEST

START_TEST(test_send_granted_and_denied)
{
	cand_t *a0, *a1;
	struct cand_frame f = util_frame(0x123, 0, "0102"), got;
	int s0 = util_raw_open("vcan0", 0), s1 = util_raw_open("vcan1", 0);

	util_daemon_start(&d, "policy-send", policy_conf);
	a0 = as(UID_CANDTEST);
	a1 = as(UID_CANDTEST);
	ck_assert_int_eq(util_try_open(a0, "vcan0"), 0);
	util_send(a0, &f, 1);
	util_raw_recv_ok(s0, &got, "candtest sends on vcan0");
	util_assert_frame(&got, &f, "candtest sends on vcan0");

	/* Read but not send on vcan1: the open works, the send does not. */
	ck_assert_int_eq(util_try_open(a1, "vcan1"), 0);
	expect_eperm(a1, cand_send(a1, &f, 1, 0), "candtest sends on vcan1",
		     "lacks the 'send' right on \"vcan1\"");
	util_raw_recv_none(s1, SETTLE_MS, "vcan1 after a denied send");
	/* And nothing else changed: it still receives. */
	util_raw_send(s1, &f);
	util_recv_ok(a1, &got, "candtest on vcan1 after the refusal");
	cand_close(a0);
	cand_close(a1);
	util_daemon_stop(&d);
}
END_TEST

/* An id outside a sender's ranges never reaches the bus. */
START_TEST(test_send_id_ranges)
{
	cand_t *b;
	struct cand_frame ok1 = util_frame(0x700, 0, "01"),
			  ok2 = util_frame(0x7FF, 0, "02"),
			  bad = util_frame(0x6FF, 0, "03"),
			  ext_ok = util_frame(0x18DA10F1, CAND_FRAME_EXTENDED,
					      "04"),
			  ext_bad = util_frame(0x18DB10F1, CAND_FRAME_EXTENDED,
					       "05"),
			  ext_low =
				  util_frame(0x700, CAND_FRAME_EXTENDED, "06"),
			  got;
	struct cand_frame mixed[3];
	int s = util_raw_open("vcan0", 0);

	util_daemon_start(&d, "policy-ids", policy_conf);
	b = as(UID_CANDTEST2);
	/* Send without read: the channel opens and only sends. */
	ck_assert_int_eq(util_try_open(b, "vcan0"), 0);
	util_send(b, &ok1, 1);
	util_raw_recv_ok(s, &got, "0x700");
	util_assert_frame(&got, &ok1, "0x700");
	util_send(b, &ok2, 1);
	util_raw_recv_ok(s, &got, "0x7FF");
	util_assert_frame(&got, &ok2, "0x7FF");
	util_send(b, &ext_ok, 1);
	util_raw_recv_ok(s, &got, "0x18DA10F1");
	util_assert_frame(&got, &ext_ok, "0x18DA10F1");

	expect_eperm(b, cand_send(b, &bad, 1, 0), "0x6FF", "id 0x6FF");
	expect_eperm(b, cand_send(b, &ext_bad, 1, 0), "0x18DB10F1",
		     "extended id 0x18DB10F1");
	expect_eperm(b, cand_send(b, &ext_low, 1, 0), "extended 0x700",
		     "extended id 0x700");
	/* One bad frame in a request: none of it goes out. */
	mixed[0] = ok1;
	mixed[1] = bad;
	mixed[2] = ok2;
	expect_eperm(b, cand_send(b, mixed, 3, 0), "a mixed request",
		     "frame 1:");
	util_raw_recv_none(s, SETTLE_MS, "after the refused sends");

	/* Without the read right nothing is received either. */
	util_raw_send(s, &ok1);
	util_recv_none(b, SETTLE_MS, "candtest2 without read");
	/* Nor may it change filters, which is reading. */
	expect_eperm(b, cand_set_filters(b, NULL, 0), "set_filters",
		     "lacks the 'read' right");
	/* Still usable: a good send after all that. */
	util_send(b, &ok2, 1);
	util_raw_recv_ok(s, &got, "0x7FF after refusals");
	util_assert_frame(&got, &ok2, "0x7FF after refusals");
	cand_close(b);
	util_daemon_stop(&d);
}
END_TEST

START_TEST(test_root_needs_no_rule)
{
	cand_t *r;
	struct cand_frame f = util_frame(0x001, 0, "FF"), got;
	int s = util_raw_open("vcan1", 0);

	util_daemon_start(&d, "policy-root", "");
	r = util_connect_as(d.sock, 0, 0);
	ck_assert_int_eq(util_try_open(r, "vcan1"), 0);
	util_send(r, &f, 1);
	util_raw_recv_ok(s, &got, "root sends");
	cand_close(r);
	/* An empty config: everyone else has nothing. */
	r = as(UID_CANDTEST);
	expect_eperm(r, util_try_open(r, "vcan1"), "candtest, no rules",
		     "has no right");
	cand_close(r);
	util_daemon_stop(&d);
}
END_TEST

Suite *policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = util_tcase("policy");

	tcase_add_test(tc, test_read_granted_and_denied);
	tcase_add_test(tc, test_send_granted_and_denied);
	tcase_add_test(tc, test_send_id_ranges);
	tcase_add_test(tc, test_root_needs_no_rule);
	suite_add_tcase(s, tc);
	return s;
}
