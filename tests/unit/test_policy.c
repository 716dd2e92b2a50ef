/*
 * etc/cand.conf and the access policy without a daemon: the parser's
 * verdicts (with the line it names) and the rules' decisions for callers
 * made up here. Users and groups are numeric or root, which every system
 * has.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "wire.h"

/* ---- config ---- */

static void load_ok(const char *text, struct cand_config *cfg)
{
	char err[512] = "";
	int rc = config_load_string(text, "t.conf", cfg, err, sizeof(err));

	ck_assert_msg(rc == 0, "config refused: %s", err);
}

/* The config is refused and the message starts with want. */
static void load_bad(const char *text, const char *want)
{
	struct cand_config cfg;
	char err[512] = "";
	int rc = config_load_string(text, "t.conf", &cfg, err, sizeof(err));

	ck_assert_msg(rc < 0, "config accepted, want \"%s\"", want);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0,
		      "error \"%s\", want it to start with \"%s\"", err, want);
	ck_assert_ptr_null(cfg.policy);
}

START_TEST(test_defaults)
{
	struct cand_config cfg;

	load_ok("", &cfg);
	ck_assert_uint_eq(cfg.limits.max_msg, CAND_MAX_MSG);
	ck_assert_uint_eq(cfg.limits.max_filters, 512);
	ck_assert_uint_eq(cfg.limits.max_clients, 4096);
	ck_assert(cfg.limits.out_low < cfg.limits.out_high);
	ck_assert_uint_eq(policy_n_rules(cfg.policy), 0);
	config_free(&cfg);
}
END_TEST

START_TEST(test_full_file)
{
	struct cand_config cfg;

	load_ok("# comment\n"
		"; another\n"
		"[limits]\n"
		"max_clients = 7\n"
		"max_message_size = 64K   ; inline comment\n"
		"max_filters = 16\n"
		"max_periodic_tasks = 3\n"
		"max_monitors = 4\n"
		"output_high_watermark = 1M\n"
		"output_low_watermark = 100000\n"
		"can_receive_buffer = 256K\n"
		"receive_rest_us = 250\n"
		"\n"
		"[rule a]\n"
		"interfaces = vcan0, can*\n"
		"users = root 4242\n"
		"groups = 4240\n"
		"rights = read send\n"
		"send_ids = 0x700-0x7FF 123 100/700\n"
		"send_ext_ids = 18DA00F1/1FFF00FF\n"
		"[rule b]\n"
		"interfaces = *\n"
		"users = *\n"
		"rights = admin\n",
		&cfg);
	ck_assert_uint_eq(cfg.limits.max_clients, 7);
	ck_assert_uint_eq(cfg.limits.max_msg, 64 * 1024);
	ck_assert_uint_eq(cfg.limits.max_filters, 16);
	ck_assert_uint_eq(cfg.limits.max_periodic, 3);
	ck_assert_uint_eq(cfg.limits.max_monitors, 4);
	ck_assert_uint_eq(cfg.limits.out_high, 1 << 20);
	ck_assert_uint_eq(cfg.limits.out_low, 100000);
	ck_assert_int_eq(cfg.limits.rcvbuf, 256 * 1024);
	ck_assert_uint_eq(cfg.limits.rest_us, 250);
	ck_assert_uint_eq(policy_n_rules(cfg.policy), 2);
	ck_assert_str_eq(policy_rule_name(policy_rule_at(cfg.policy, 0)), "a");
	ck_assert_uint_eq(policy_rule_line(policy_rule_at(cfg.policy, 0)), 14);
	config_free(&cfg);
}
END_TEST

START_TEST(test_errors_name_their_line)
{
	load_bad("[limits]\nmax_clients = 0\n", "t.conf:2: max_clients");
	load_bad("[limits]\nmax_clients = lots\n",
		 "t.conf:2: max_clients: 'lots' is not a number");
	load_bad("[limits]\nmax_filters = 513\n", "t.conf:2: max_filters");
	load_bad("[limits]\nmax_message_size = 2M\n",
		 "t.conf:2: max_message_size");
	load_bad("[limits]\nmax_clients = 1\nmax_clients = 2\n",
		 "t.conf:3: [limits]: max_clients is given twice");
	load_bad("[limits]\nfrobs = 1\n", "t.conf:2: [limits]: unknown key");
	load_bad("[limits]\nreceive_rest_us = 100001\n",
		 "t.conf:2: receive_rest_us: 100001 is outside 0..100000");
	load_bad("[limits]\n\noutput_low_watermark = 8M\n",
		 "t.conf:3: output_low_watermark");
	load_bad("\n[nonsense]\na = b\n", "t.conf:2: unknown section");
	load_bad("[rule]\ninterfaces = *\n", "t.conf:1: [rule] needs a name");
	load_bad("[limits x]\nmax_clients = 1\n",
		 "t.conf:1: [limits] takes no name");
	load_bad("key = value\n", "t.conf:1: 'key' before any [section]");
	load_bad("[rule a]\ninterfaces = *\nthis line is junk\n",
		 "t.conf:3: syntax error");
	load_bad("[rule a\n", "t.conf:1: syntax error");
	load_bad("[rule a]\ninterfaces = *\nusers = 1\nrights = read fly\n",
		 "t.conf:4: rights: unknown right 'fly'");
	load_bad("[rule a]\ninterfaces = *\nusers = 1\nrights = send\n"
		 "send_ids = 0x800\n",
		 "t.conf:5: send_ids: '0x800' exceeds 11-bit ids");
	load_bad("[rule a]\ninterfaces = *\nusers = 1\nrights = send\n"
		 "send_ext_ids = 20000000\n",
		 "t.conf:5: send_ext_ids: '20000000' exceeds 29-bit ids");
	load_bad("[rule a]\ninterfaces = *\nusers = 1\nrights = send\n"
		 "send_ids = 7FF-700\n",
		 "t.conf:5: send_ids: '7FF-700' is an empty range");
	load_bad("[rule a]\ninterfaces = *\nusers = 1\nrights = send\n"
		 "send_ids = 0xZZ\n",
		 "t.conf:5: send_ids: '0xZZ' is not ID");
	load_bad("[rule a]\ninterfaces = *\nusers = 1\nrights = send\n"
		 "colour = blue\n",
		 "t.conf:5: [rule a]: unknown key 'colour'");
	load_bad("[rule a]\ninterfaces =\n", "t.conf:2: interfaces: empty");
	/* Completeness is checked at the end, at the rule's header. */
	load_bad("\n[rule a]\ninterfaces = *\nusers = 1\n",
		 "t.conf:2: [rule a] has no rights");
	load_bad("[rule a]\nusers = 1\nrights = read\n",
		 "t.conf:1: [rule a] has no interfaces");
	load_bad("[rule a]\ninterfaces = *\nrights = read\n",
		 "t.conf:1: [rule a] has no users, groups or peers");
	load_bad("[rule a]\ninterfaces = *\nusers = 1\nrights = read\n"
		 "send_ids = 1\n",
		 "t.conf:1: [rule a] limits send ids but does not grant");
	load_bad("[rule a]\ninterfaces = *\nusers = 1\nrights = read\n"
		 "[rule a]\nusers = 2\n",
		 "t.conf:5: [rule a] is defined twice (first at line 1)");
}
END_TEST

START_TEST(test_file_errors)
{
	struct cand_config cfg;
	char err[512];

	ck_assert_int_eq(
		config_load("/nonexistent/cand.conf", &cfg, err, sizeof(err)),
		-ENOENT);
	ck_assert_str_eq(err,
			 "/nonexistent/cand.conf: No such file or directory");
}
END_TEST

START_TEST(test_shipped_config)
{
	struct cand_config cfg;
	char err[512];
	int rc;

	/* It names group "can", which the test host may lack: a warning. */
	rc = config_load("etc/cand.conf", &cfg, err, sizeof(err));
	ck_assert_msg(rc == 0, "etc/cand.conf: %s", err);
	if (cfg.n_warnings > 0)
		ck_assert_msg(strstr(cfg.warnings[0], "no group 'can'") != NULL,
			      "etc/cand.conf: %s", cfg.warnings[0]);
	config_free(&cfg);
}
END_TEST

/* Unknown users and groups: the rule stands, by name, with a warning. */
START_TEST(test_unknown_names_warn)
{
	struct cand_config cfg;
	char err[512];

	ck_assert_int_eq(
		config_load_string("[rule a]\ninterfaces = *\nrights = read\n"
				   "users = no-such-user-here\n"
				   "groups = no-such-group-here\n",
				   "t.conf", &cfg, err, sizeof(err)),
		0);
	ck_assert_uint_eq(policy_n_rules(cfg.policy), 1);
	ck_assert_uint_eq(cfg.n_warnings, 2);
	ck_assert_msg(strstr(cfg.warnings[0],
			     "t.conf:4: users: no user 'no-such-user-here' on "
			     "this system (yet)") == cfg.warnings[0],
		      "%s", cfg.warnings[0]);
	ck_assert_msg(strstr(cfg.warnings[1],
			     "t.conf:5: groups: no group "
			     "'no-such-group-here'") == cfg.warnings[1],
		      "%s", cfg.warnings[1]);
	config_free(&cfg);
}
END_TEST

/* send_rate and send_burst: numbers, bounds, and what they need. */
START_TEST(test_budget_config)
{
	static const char head[] = "[rule a]\ninterfaces = vcan*\nusers = 1\n";
	struct policy_budget b;
	struct cand_config cfg;
	struct ident c = {.uid = 1, .gid = 1};
	char text[256], err[512];

	snprintf(text, sizeof(text), "%srights = send\nsend_rate = 100/s\n",
		 head);
	ck_assert_int_eq(
		config_load_string(text, "t.conf", &cfg, err, sizeof(err)), 0);
	ck_assert_int_eq(policy_budget(cfg.policy, &c, "vcan0", &b), 1);
	ck_assert_uint_eq(b.rate, 100);
	ck_assert_uint_eq(b.burst, 10); /* a tenth of a second, unsaid */
	ck_assert_str_eq(b.rule, "a");
	ck_assert_int_eq(policy_budget(cfg.policy, &c, "can0", &b), 0);
	config_free(&cfg);

	/* Two rules: the strictest budget holds. */
	snprintf(text, sizeof(text),
		 "%srights = send\nsend_rate = 500\nsend_burst = 3\n"
		 "[rule b]\ninterfaces = *\nusers = 1\nrights = periodic\n"
		 "send_rate = 50/s\n",
		 head);
	ck_assert_int_eq(
		config_load_string(text, "t.conf", &cfg, err, sizeof(err)), 0);
	ck_assert_int_eq(policy_budget(cfg.policy, &c, "vcan0", &b), 1);
	ck_assert_uint_eq(b.rate, 50);
	ck_assert_str_eq(b.rule, "b");
	config_free(&cfg);

	snprintf(text, sizeof(text), "%srights = send\nsend_rate = fast\n",
		 head);
	load_bad(text, "t.conf:5: send_rate: 'fast' is not a number");
	snprintf(text, sizeof(text), "%srights = send\nsend_rate = 0/s\n",
		 head);
	load_bad(text, "t.conf:5: send_rate: '0/s' is not");
	snprintf(text, sizeof(text),
		 "%srights = send\nsend_rate = 1\nsend_rate = 2\n", head);
	load_bad(text, "t.conf:6: [rule a]: send_rate is given twice");
	snprintf(text, sizeof(text), "%srights = send\nsend_burst = 4\n", head);
	load_bad(text, "t.conf:1: [rule a] gives send_burst without");
	snprintf(text, sizeof(text), "%srights = read\nsend_rate = 4\n", head);
	load_bad(text, "t.conf:1: [rule a] gives a send_rate but grants");
}
END_TEST

START_TEST(test_isolate_config)
{
	struct cand_config cfg;
	char err[512];

	ck_assert_int_eq(
		config_load_string("[isolate]\ninterfaces = can0, vcan*\n"
				   "on-stop = stay\n",
				   "t.conf", &cfg, err, sizeof(err)),
		0);
	ck_assert_uint_eq(cfg.isolate.n_patterns, 2);
	ck_assert_str_eq(cfg.isolate.patterns[1], "vcan*");
	ck_assert_int_eq(cfg.isolate.stay, 1);
	config_free(&cfg);
	load_bad("[isolate]\non-stop = later\n",
		 "t.conf:2: [isolate] on-stop is return or stay");
	load_bad("[isolate]\ninterfaces = a/b\n",
		 "t.conf:2: [isolate] interfaces: 'a/b' is not");
	load_bad("[isolate]\nzones = 1\n", "t.conf:2: [isolate]: unknown key");
}
END_TEST

/* ---- decisions ---- */

struct who {
	const struct policy *p;
	struct ident c;
	gid_t groups[4];
};

/* A caller uid:gid with extra groups (0-terminated list). */
static void who_init(struct who *w, struct policy *p, uid_t uid, gid_t gid,
		     const gid_t *extra)
{
	size_t n = 0;

	memset(w, 0, sizeof(*w));
	w->p = p;
	w->c.uid = uid;
	w->c.gid = gid;
	w->groups[n++] = gid;
	while (extra != NULL && *extra != 0 && n < 4)
		w->groups[n++] = *extra++;
	w->c.groups = w->groups;
	w->c.n_groups = n;
}

static const char rules[] = "[rule readers]\n"
			    "interfaces = vcan*\n"
			    "groups = 4240\n"
			    "rights = read\n"
			    "[rule diag]\n"
			    "interfaces = vcan0\n"
			    "users = 4243\n"
			    "rights = send\n"
			    "send_ids = 700-7FF 123\n"
			    "send_ext_ids = 18DA0000/1FFF0000\n"
			    "[rule all]\n"
			    "interfaces = *\n"
			    "users = 4244\n"
			    "rights = read periodic\n"
			    "[rule boss]\n"
			    "interfaces = can0\n"
			    "groups = 4250\n"
			    "rights = admin\n";

static int frame_ok(struct who *w, const char *channel, uint32_t id,
		    int extended, int error, char *detail, size_t dsize)
{
	struct frame_desc f = {.id = id,
			       .extended = extended,
			       .error = error,
			       .ifname = "vcan0"};

	detail[0] = '\0';
	return policy_check_frames(w->p, &w->c, channel, &f, 1, 0, RIGHT_SEND,
				   detail, dsize);
}

START_TEST(test_rights_per_interface_and_group)
{
	static const gid_t can[] = {4240, 0}, boss[] = {4250, 0};
	struct cand_config cfg;
	struct who w;
	char detail[256];

	load_ok(rules, &cfg);
	/* Group membership through the supplementary list. */
	who_init(&w, cfg.policy, 4242, 4242, can);
	ck_assert(policy_allows(w.p, &w.c, "vcan0", RIGHT_READ));
	ck_assert(policy_allows(w.p, &w.c, "vcan1", RIGHT_READ));
	ck_assert(!policy_allows(w.p, &w.c, "can0", RIGHT_READ));
	ck_assert(!policy_allows(w.p, &w.c, "vcan0", RIGHT_SEND));
	ck_assert(policy_allows(w.p, &w.c, "vcan0", RIGHT_OPEN));
	ck_assert(policy_allows(w.p, &w.c, NULL, RIGHT_NONE));
	/* The all-interfaces channel "" needs a rule for "*". */
	ck_assert(!policy_allows(w.p, &w.c, "", RIGHT_READ));
	ck_assert_int_eq(policy_check(w.p, &w.c, "vcan0", RIGHT_SEND, detail,
				      sizeof(detail)),
			 -EPERM);
	ck_assert_str_eq(detail,
			 "uid 4242 lacks the 'send' right on \"vcan0\"");
	ck_assert_uint_eq(policy_rights(w.p, &w.c, "vcan0"),
			  POLICY_RIGHT_BIT(RIGHT_READ));

	/* The primary gid counts as well. */
	who_init(&w, cfg.policy, 4300, 4240, NULL);
	ck_assert(policy_allows(w.p, &w.c, "vcan0", RIGHT_READ));

	/* Nobody in particular: nothing at all. */
	who_init(&w, cfg.policy, 4999, 4999, NULL);
	ck_assert(!policy_allows(w.p, &w.c, "vcan0", RIGHT_OPEN));
	ck_assert_int_eq(policy_check(w.p, &w.c, "vcan0", RIGHT_OPEN, detail,
				      sizeof(detail)),
			 -EPERM);
	ck_assert_ptr_nonnull(strstr(detail, "has no right on \"vcan0\""));

	who_init(&w, cfg.policy, 4244, 4244, NULL);
	ck_assert(policy_allows(w.p, &w.c, "", RIGHT_READ));
	ck_assert(policy_allows(w.p, &w.c, "can1", RIGHT_PERIODIC));
	ck_assert(!policy_allows(w.p, &w.c, "can1", RIGHT_MONITOR));
	ck_assert(!policy_allows(w.p, &w.c, "can1", RIGHT_CONFIGURE));

	/* admin is every right, send without limits. */
	who_init(&w, cfg.policy, 4260, 4260, boss);
	ck_assert(policy_allows(w.p, &w.c, "can0", RIGHT_CONFIGURE));
	ck_assert(policy_allows(w.p, &w.c, "can0", RIGHT_MONITOR));
	ck_assert(!policy_allows(w.p, &w.c, "can1", RIGHT_CONFIGURE));
	ck_assert_int_eq(
		frame_ok(&w, "can0", 0x1, 0, 1, detail, sizeof(detail)), 0);

	/* Root needs no rule. */
	who_init(&w, cfg.policy, 0, 0, NULL);
	ck_assert(policy_allows(w.p, &w.c, "anything", RIGHT_CONFIGURE));
	ck_assert_int_eq(frame_ok(&w, "x", 0x7FF, 0, 0, detail, sizeof(detail)),
			 0);
	config_free(&cfg);
}
END_TEST

START_TEST(test_send_ids)
{
	struct cand_config cfg;
	struct who w;
	char detail[256];

	load_ok(rules, &cfg);
	who_init(&w, cfg.policy, 4243, 4243, NULL);
	ck_assert_int_eq(
		frame_ok(&w, "vcan0", 0x700, 0, 0, detail, sizeof(detail)), 0);
	ck_assert_int_eq(
		frame_ok(&w, "vcan0", 0x7FF, 0, 0, detail, sizeof(detail)), 0);
	ck_assert_int_eq(
		frame_ok(&w, "vcan0", 0x123, 0, 0, detail, sizeof(detail)), 0);
	ck_assert_int_eq(
		frame_ok(&w, "vcan0", 0x6FF, 0, 0, detail, sizeof(detail)),
		-EPERM);
	ck_assert_str_eq(detail, "frame 0: uid 4243 lacks the 'send' right "
				 "for standard id 0x6FF on \"vcan0\"");
	/* 11-bit ranges do not cover 29-bit ids of the same value. */
	ck_assert_int_eq(
		frame_ok(&w, "vcan0", 0x700, 1, 0, detail, sizeof(detail)),
		-EPERM);
	ck_assert_int_eq(
		frame_ok(&w, "vcan0", 0x18DA12F1, 1, 0, detail, sizeof(detail)),
		0);
	ck_assert_int_eq(
		frame_ok(&w, "vcan0", 0x18DB12F1, 1, 0, detail, sizeof(detail)),
		-EPERM);
	/* Error frames need an unlimited send. */
	ck_assert_int_eq(
		frame_ok(&w, "vcan0", 0x4, 0, 1, detail, sizeof(detail)),
		-EPERM);
	ck_assert_ptr_nonnull(strstr(detail, "error frames"));
	/* On the "" channel each frame's interface counts (vcan0 here). */
	ck_assert_int_eq(frame_ok(&w, "", 0x700, 0, 0, detail, sizeof(detail)),
			 0);
	ck_assert_int_eq(
		frame_ok(&w, "vcan1", 0x700, 0, 0, detail, sizeof(detail)),
		-EPERM);
	ck_assert_str_eq(detail,
			 "uid 4243 lacks the 'send' right on \"vcan1\"");
	config_free(&cfg);
}
END_TEST

/* A whole request is refused when any one frame is, naming that one. */
START_TEST(test_send_request_checked_whole)
{
	struct frame_desc f[3];
	struct cand_config cfg;
	struct who w;
	char detail[256];
	int i;

	load_ok(rules, &cfg);
	who_init(&w, cfg.policy, 4243, 4243, NULL);
	for (i = 0; i < 3; i++)
		f[i] = (struct frame_desc){.id = 0x700 + (uint32_t)i,
					   .ifname = ""};
	f[2].id = 0x100;
	ck_assert_int_eq(policy_check_frames(w.p, &w.c, "vcan0", f, 3, 0,
					     RIGHT_SEND, detail,
					     sizeof(detail)),
			 -EPERM);
	ck_assert_ptr_nonnull(strstr(detail, "frame 2:"));
	/* From a later index on (a retried send) only the rest counts. */
	f[2].id = 0x702;
	ck_assert_int_eq(policy_check_frames(w.p, &w.c, "vcan0", f, 3, 1,
					     RIGHT_SEND, detail,
					     sizeof(detail)),
			 0);
	config_free(&cfg);
}
END_TEST

Suite *policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("config");
	TCase *td = tcase_create("decisions");

	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_full_file);
	tcase_add_test(tc, test_errors_name_their_line);
	tcase_add_test(tc, test_file_errors);
	tcase_add_test(tc, test_shipped_config);
	tcase_add_test(tc, test_unknown_names_warn);
	tcase_add_test(tc, test_budget_config);
	tcase_add_test(tc, test_isolate_config);
	suite_add_tcase(s, tc);
	tcase_add_test(td, test_rights_per_interface_and_group);
	tcase_add_test(td, test_send_ids);
	tcase_add_test(td, test_send_request_checked_whole);
	suite_add_tcase(s, td);
	return s;
}
