/*
 * Network peers without a network: addresses and prefixes (IPv4-mapped
 * ones as their IPv4 form), listen endpoints, [socketcand] and rules'
 * peers in cand.conf, and what the policy decides for a peer: never root,
 * never a user rule's, named by its address in every detail.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "unit.h"

static struct peer_addr addr(const char *text)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct peer_addr a;

	ck_assert_int_eq(peer_endpoint_parse(text, 1234, &ss, &len), 0);
	ck_assert_int_eq(peer_from_sockaddr((struct sockaddr *)&ss, len, &a),
			 0);
	return a;
}

static int matches(const char *prefix, const char *a)
{
	struct peer_prefix p;
	struct peer_addr pa = addr(a);

	ck_assert_msg(peer_prefix_parse(prefix, &p) == 0, "prefix %s", prefix);
	return peer_match(&p, &pa);
}

START_TEST(test_prefixes)
{
	struct peer_prefix p;

	ck_assert(matches("10.0.0.0/8", "10.200.3.4"));
	ck_assert(!matches("10.0.0.0/8", "11.0.0.1"));
	ck_assert(matches("192.168.1.128/25", "192.168.1.200"));
	ck_assert(!matches("192.168.1.128/25", "192.168.1.127"));
	ck_assert(matches("127.0.0.1", "127.0.0.1"));
	ck_assert(!matches("127.0.0.1", "127.0.0.2"));
	ck_assert(matches("0.0.0.0/0", "8.8.8.8"));
	ck_assert(!matches("0.0.0.0/0", "::1"));
	ck_assert(matches("::1", "::1"));
	ck_assert(matches("fd00::/8", "fd12:3456::1"));
	ck_assert(!matches("fd00::/8", "fe80::1"));
	ck_assert(matches("*", "::1") && matches("*", "1.2.3.4"));
	/* A dual-stack socket's IPv4 peer is its IPv4 address. */
	ck_assert(matches("10.0.0.1", "::ffff:10.0.0.1"));
	ck_assert(matches("::ffff:10.0.0.0/104", "10.9.9.9"));
	ck_assert(!matches("10.0.0.1", "::10.0.0.1"));
	ck_assert_int_eq(peer_prefix_parse("10.0.0.0/33", &p), -ERANGE);
	ck_assert_int_eq(peer_prefix_parse("::/129", &p), -ERANGE);
	ck_assert_int_eq(peer_prefix_parse("10.0.0/8", &p), -EINVAL);
	ck_assert_int_eq(peer_prefix_parse("10.0.0.0/", &p), -EINVAL);
	ck_assert_int_eq(peer_prefix_parse("host.example", &p), -EINVAL);
	ck_assert_int_eq(peer_prefix_parse("", &p), -EINVAL);
}
END_TEST

static void endpoint(const char *text, const char *want)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char buf[80];

	ck_assert_msg(peer_endpoint_parse(text, 29536, &ss, &len) == 0, "%s",
		      text);
	peer_endpoint_format((struct sockaddr *)&ss, buf, sizeof(buf));
	ck_assert_str_eq(buf, want);
}

START_TEST(test_endpoints)
{
	struct sockaddr_storage ss;
	socklen_t len;

	endpoint("127.0.0.1", "127.0.0.1:29536");
	endpoint("0.0.0.0:4000", "0.0.0.0:4000");
	endpoint("[::1]:29537", "[::1]:29537");
	endpoint("[::]", "[::]:29536");
	endpoint("fe80::1", "[fe80::1]:29536");
	ck_assert_int_lt(peer_endpoint_parse("1.2.3.4:0", 1, &ss, &len), 0);
	ck_assert_int_lt(peer_endpoint_parse("1.2.3.4:65536", 1, &ss, &len), 0);
	ck_assert_int_lt(peer_endpoint_parse("1.2.3.4:x", 1, &ss, &len), 0);
	ck_assert_int_lt(peer_endpoint_parse("[::1", 1, &ss, &len), 0);
	ck_assert_int_lt(peer_endpoint_parse("[::1]x", 1, &ss, &len), 0);
	ck_assert_int_lt(peer_endpoint_parse("localhost:1", 1, &ss, &len), 0);
}
END_TEST

static void load_ok(const char *text, struct cand_config *cfg)
{
	char err[512] = "";

	ck_assert_msg(
		config_load_string(text, "t.conf", cfg, err, sizeof(err)) == 0,
		"refused: %s", err);
}

static void load_bad(const char *text, const char *want)
{
	struct cand_config cfg;
	char err[512] = "";

	ck_assert_msg(
		config_load_string(text, "t.conf", &cfg, err, sizeof(err)) < 0,
		"accepted, want '%s'", want);
	ck_assert_msg(strstr(err, want) != NULL, "'%s', want '%s'", err, want);
}

START_TEST(test_config)
{
	struct cand_config cfg;
	char buf[80];

	load_ok("", &cfg);
	ck_assert_ptr_null(cfg.sc);
	config_free(&cfg);
	load_ok("[socketcand]\n"
		"listen = 127.0.0.1 [::1]:4000\n"
		"listen = 0.0.0.0:5000\n"
		"interfaces = vcan* can0\n"
		"max_connections = 10\n"
		"max_connections_per_peer = 2\n"
		"beacon = 192.168.1.255\n"
		"beacon_interval_ms = 1000\n"
		"beacon_name = bench\n",
		&cfg);
	ck_assert_ptr_nonnull(cfg.sc);
	ck_assert_uint_eq(cfg.sc->n_listen, 3);
	peer_endpoint_format((struct sockaddr *)&cfg.sc->listen[1].ss, buf,
			     sizeof(buf));
	ck_assert_str_eq(buf, "[::1]:4000");
	ck_assert(config_sc_offers(cfg.sc, "vcan7") &&
		  config_sc_offers(cfg.sc, "can0") &&
		  !config_sc_offers(cfg.sc, "can1"));
	ck_assert_uint_eq(cfg.sc->max_conns, 10);
	ck_assert_uint_eq(cfg.sc->max_per_peer, 2);
	ck_assert(cfg.sc->beacon && cfg.sc->beacon_ms == 1000);
	peer_endpoint_format((struct sockaddr *)&cfg.sc->beacon_to.ss, buf,
			     sizeof(buf));
	ck_assert_str_eq(buf, "192.168.1.255:42000");
	ck_assert_str_eq(cfg.sc->beacon_name, "bench");
	config_free(&cfg);
	/* No interfaces listed: every one is offered. */
	load_ok("[socketcand]\nlisten = 127.0.0.1\n", &cfg);
	ck_assert(config_sc_offers(cfg.sc, "anything") && !cfg.sc->beacon);
	config_free(&cfg);

	load_bad("[socketcand]\nlisten = localhost\n", "t.conf:2: listen: ");
	load_bad("[socketcand]\nlisten = 1.2.3.4:99999\n", "listen: ");
	load_bad("[socketcand]\nbeacon = [ff02::1]\n", "beacon: '[ff02::1]'");
	load_bad("[socketcand]\nbeacon_interval_ms = 5000\n",
		 "outside 100..3000");
	load_bad("[socketcand]\nmax_connections = 0\n", "outside 1..100000");
	load_bad("[socketcand]\nmax_connections = 1\nmax_connections = 2\n",
		 "t.conf:3: [socketcand]: max_connections is given twice");
	load_bad("[socketcand]\nport = 1\n", "unknown key 'port'");
	load_bad("[socketcand x]\nlisten = 127.0.0.1\n",
		 "[socketcand] takes no name");
	load_bad("[rule a]\ninterfaces = *\npeers = 10.0.0.0/40\nrights = "
		 "read\n",
		 "t.conf:3: peers: '10.0.0.0/40': the prefix length");
	load_bad(
		"[rule a]\ninterfaces = *\npeers = nosuchhost\nrights = read\n",
		"peers: 'nosuchhost' is not an IPv4 or IPv6 address");
}
END_TEST

static struct ident peer_ident(const char *text)
{
	struct ident id = {.kind = IDENT_PEER, .uid = 0, .gid = 0};

	id.peer = addr(text);
	return id;
}

static const char peer_rules[] = "[rule users]\n"
				 "interfaces = *\n"
				 "users = *\n"
				 "rights = admin\n"
				 "[rule lab]\n"
				 "interfaces = vcan*\n"
				 "peers = 10.0.0.0/8 ::1\n"
				 "rights = read send\n"
				 "send_ids = 100-1FF\n";

START_TEST(test_policy)
{
	struct cand_config cfg;
	struct ident lab = peer_ident("10.1.2.3"), v6 = peer_ident("::1");
	struct ident mapped = peer_ident("::ffff:10.9.9.9");
	struct ident stranger = peer_ident("192.168.0.1");
	struct frame_desc f = {.id = 0x200, .ifname = ""};
	char detail[256], who[IDENT_WHO_MAX];

	load_ok(peer_rules, &cfg);
	ck_assert(policy_admits(cfg.policy, &lab));
	ck_assert(policy_admits(cfg.policy, &v6));
	ck_assert(policy_admits(cfg.policy, &mapped));
	/* users = * is local users; uid 0 of a peer is nobody's. */
	ck_assert(!policy_admits(cfg.policy, &stranger));
	ck_assert(!policy_allows(cfg.policy, &stranger, "vcan0", RIGHT_READ));
	ck_assert_uint_eq(policy_rights(cfg.policy, &stranger, "vcan0"), 0);
	ck_assert(policy_allows(cfg.policy, &lab, "vcan0", RIGHT_SEND));
	ck_assert(!policy_allows(cfg.policy, &lab, "can0", RIGHT_READ));
	ck_assert(!policy_allows(cfg.policy, &lab, "vcan0", RIGHT_PERIODIC));
	policy_who(&mapped, who, sizeof(who));
	ck_assert_str_eq(who, "peer 10.9.9.9");
	ck_assert_int_eq(policy_check(cfg.policy, &stranger, "vcan0",
				      RIGHT_OPEN, detail, sizeof(detail)),
			 -EPERM);
	ck_assert_str_eq(detail,
			 "peer 192.168.0.1 has no right on \"vcan0\" (opening "
			 "a channel needs 'read', 'send', 'periodic' or "
			 "'monitor')");
	ck_assert_int_eq(policy_check_frames(cfg.policy, &lab, "vcan0", &f, 1,
					     0, RIGHT_SEND, detail,
					     sizeof(detail)),
			 -EPERM);
	ck_assert_str_eq(detail, "frame 0: peer 10.1.2.3 lacks the 'send' "
				 "right for standard id 0x200 on \"vcan0\"");
	f.id = 0x1FF;
	ck_assert_int_eq(policy_check_frames(cfg.policy, &lab, "vcan0", &f, 1,
					     0, RIGHT_SEND, detail,
					     sizeof(detail)),
			 0);
	/* Groups are a local notion: none are looked up for a peer. */
	ck_assert_int_eq(policy_load_groups(&lab), 0);
	ck_assert_uint_eq(lab.n_groups, 0);
	config_free(&cfg);
}
END_TEST

Suite *peer_suite(void)
{
	Suite *s = suite_create("peer");
	TCase *tc = tcase_create("peer");

	tcase_add_test(tc, test_prefixes);
	tcase_add_test(tc, test_endpoints);
	tcase_add_test(tc, test_config);
	tcase_add_test(tc, test_policy);
	suite_add_tcase(s, tc);
	return s;
}
