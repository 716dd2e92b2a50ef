/*
 * Bus health without CAN: error frames to states, the bus-off restart
 * rate limit, cand.conf parsing, rtnetlink link parsing and the status
 * for a refused operation.
 */
#include <errno.h>
#include <string.h>

#include <linux/can/error.h>
#include <linux/can/netlink.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if_arp.h>

#include "cand.h"
#include "unit.h"

static struct can_frame err_frame(canid_t cls, uint8_t crtl, int tx, int rx)
{
	struct can_frame cf;

	memset(&cf, 0, sizeof(cf));
	cf.can_id = CAN_ERR_FLAG | cls;
	cf.len = 8;
	cf.data[1] = crtl;
	if (tx >= 0) {
		cf.can_id |= CAN_ERR_CNT;
		cf.data[6] = (uint8_t)tx;
		cf.data[7] = (uint8_t)rx;
	}
	return cf;
}

START_TEST(test_error_frame_states)
{
	static const struct {
		canid_t cls;
		uint8_t crtl;
		int want;
	} map[] = {
		{CAN_ERR_CRTL, CAN_ERR_CRTL_TX_WARNING,
		 CAND__CAN_STATE__STATE_ERROR_WARNING},
		{CAN_ERR_CRTL, CAN_ERR_CRTL_RX_WARNING,
		 CAND__CAN_STATE__STATE_ERROR_WARNING},
		{CAN_ERR_CRTL, CAN_ERR_CRTL_TX_PASSIVE,
		 CAND__CAN_STATE__STATE_ERROR_PASSIVE},
		/* Passive wins over warning in the same frame. */
		{CAN_ERR_CRTL,
		 CAN_ERR_CRTL_RX_PASSIVE | CAN_ERR_CRTL_TX_WARNING,
		 CAND__CAN_STATE__STATE_ERROR_PASSIVE},
		{CAN_ERR_CRTL, CAN_ERR_CRTL_ACTIVE,
		 CAND__CAN_STATE__STATE_ERROR_ACTIVE},
		{CAN_ERR_BUSOFF, 0, CAND__CAN_STATE__STATE_BUS_OFF},
		{CAN_ERR_RESTARTED, 0, CAND__CAN_STATE__STATE_ERROR_ACTIVE},
		/* No state in these. */
		{CAN_ERR_CRTL, CAN_ERR_CRTL_RX_OVERFLOW, -1},
		{CAN_ERR_PROT | CAN_ERR_BUSERROR, 0, -1},
		{CAN_ERR_ACK, 0, -1},
	};
	struct can_frame cf;
	unsigned tx = 0, rx = 0;
	size_t i;
	int has;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		cf = err_frame(map[i].cls, map[i].crtl, -1, -1);
		ck_assert_msg(errframe_state(&cf, &has, &tx, &rx) ==
				      map[i].want,
			      "case %zu", i);
		ck_assert_int_eq(has, 0);
	}
	cf = err_frame(CAN_ERR_CRTL, CAN_ERR_CRTL_TX_PASSIVE, 130, 7);
	ck_assert_int_eq(errframe_state(&cf, &has, &tx, &rx),
			 CAND__CAN_STATE__STATE_ERROR_PASSIVE);
	ck_assert_int_eq(has, 1);
	ck_assert_uint_eq(tx, 130);
	ck_assert_uint_eq(rx, 7);
	/* A data frame is no error frame. */
	cf.can_id = 0x123;
	ck_assert_int_eq(errframe_state(&cf, &has, &tx, &rx), -1);
	/* A short CRTL frame does not read past its data. */
	cf = err_frame(CAN_ERR_CRTL, CAN_ERR_CRTL_TX_PASSIVE, -1, -1);
	cf.len = 1;
	ck_assert_int_eq(errframe_state(&cf, &has, &tx, &rx), -1);
}
END_TEST

START_TEST(test_restart_rate_limit)
{
	uint64_t stamps[3] = {1000, 20000, 30000};

	/* No limit, or fewer restarts than the limit: now. */
	ck_assert_uint_eq(busoff_next_allowed(stamps, 3, 0, 31000), 31000);
	ck_assert_uint_eq(busoff_next_allowed(stamps, 2, 3, 31000), 31000);
	/* Three in the minute with a limit of 3: when the oldest leaves. */
	ck_assert_uint_eq(busoff_next_allowed(stamps, 3, 3, 31000), 61000);
	/* With a limit of 2, the second-newest decides. */
	ck_assert_uint_eq(busoff_next_allowed(stamps, 3, 2, 31000), 80000);
	/* Once the window has passed: now. */
	ck_assert_uint_eq(busoff_next_allowed(stamps, 3, 3, 70000), 70000);
}
END_TEST

START_TEST(test_config_parses_policies)
{
	struct cand_config cfg;
	const struct busoff_policy *p;
	char err[256];

	ck_assert_int_eq(config_load_string("# comment\n"
					    "[interface can0]\n"
					    "busoff-recovery = kernel\n"
					    "restart-ms = 250\n"
					    "\n"
					    "[interface can1]\n"
					    "busoff-recovery = cand\n"
					    "restart-delay-ms = 0\n"
					    "max-restarts-per-minute = 6\n"
					    "[interface vcan0]\n"
					    "busoff-recovery = none\n"
					    "[interface can2]\n"
					    "busoff-recovery = kernel\n",
					    "t", &cfg, err, sizeof(err)),
			 0);
	ck_assert_uint_eq(cfg.n_busoff, 4);
	p = config_busoff(&cfg, "can0");
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(p->mode, BUSOFF_KERNEL);
	ck_assert_uint_eq(p->restart_ms, 250);
	p = config_busoff(&cfg, "can1");
	ck_assert_int_eq(p->mode, BUSOFF_CAND);
	ck_assert_uint_eq(p->delay_ms, 0);
	ck_assert_uint_eq(p->max_per_minute, 6);
	ck_assert_int_eq(config_busoff(&cfg, "vcan0")->mode, BUSOFF_NONE);
	/* Defaults. */
	ck_assert_uint_eq(config_busoff(&cfg, "can2")->restart_ms, 100);
	ck_assert_ptr_null(config_busoff(&cfg, "can9"));
	config_free(&cfg);

	ck_assert_int_eq(config_load_string("", "t", &cfg, err, sizeof(err)),
			 0);
	ck_assert_uint_eq(cfg.n_busoff, 0);
	config_free(&cfg);
}
END_TEST

START_TEST(test_config_errors)
{
	static const struct {
		const char *text;
		const char *why;
	} bad[] = {
		{"[interface can0]\nbusoff-recovery = maybe\n",
		 "t:2: busoff-recovery is kernel, cand or none"},
		{"[interface can0]\nbusoff-recovery = kernel\nrestart-ms = 0\n",
		 "t:3"},
		{"[interface can0]\nbusoff-recovery = kernel\nrestart-ms = "
		 "1x\n",
		 "restart-ms"},
		{"[interface can0]\nbusoff-recovery = cand\n"
		 "max-restarts-per-minute = 61\n",
		 "max-restarts-per-minute"},
		{"[interface can0]\nbusoff-recovery = cand\nspeed = 1\n",
		 "unknown key \"speed\""},
		{"[interface ]\nbusoff-recovery = none\n", "needs a name"},
		{"[interface averyveryverylongname]\nbusoff-recovery = none\n",
		 "interface name"},
		{"[interface can0]\nrestart-ms = 100\n",
		 "busoff-recovery is missing"},
		{"[interface can0]\nbusoff-recovery = none\nrestart-ms = 100\n",
		 "restart-ms goes with busoff-recovery = kernel"},
		{"[interface can0]\nbusoff-recovery = kernel\n"
		 "restart-delay-ms = 100\n",
		 "go with busoff-recovery = cand"},
		{"[interface can0\nbusoff-recovery = none\n", "t:1"},
	};
	struct cand_config cfg;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_msg(config_load_string(bad[i].text, "t", &cfg, err,
						 sizeof(err)) == -EINVAL,
			      "case %zu parsed", i);
		ck_assert_msg(strstr(err, bad[i].why) != NULL,
			      "case %zu: \"%s\" lacks \"%s\"", i, err,
			      bad[i].why);
		ck_assert_uint_eq(cfg.n_busoff, 0);
	}
}
END_TEST

/* Builds an RTM_NEWLINK the way the kernel does for a CAN controller. */
struct nlbuf {
	union {
		struct nlmsghdr nh;
		char buf[2048];
	} u;
};

static struct rtattr *nl_put(struct nlbuf *b, unsigned short type,
			     const void *data, size_t len)
{
	struct nlmsghdr *nh = &b->u.nh;
	struct rtattr *rta =
		(struct rtattr *)(b->u.buf + NLMSG_ALIGN(nh->nlmsg_len));

	ck_assert_uint_le(NLMSG_ALIGN(nh->nlmsg_len) + RTA_SPACE(len),
			  sizeof(b->u.buf));
	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	if (len > 0)
		memcpy(RTA_DATA(rta), data, len);
	nh->nlmsg_len = (uint32_t)(NLMSG_ALIGN(nh->nlmsg_len) + RTA_SPACE(len));
	return rta;
}

static void nl_end(struct nlbuf *b, struct rtattr *nest)
{
	nest->rta_len =
		(unsigned short)(b->u.buf + b->u.nh.nlmsg_len - (char *)nest);
}

static void nl_link(struct nlbuf *b, const char *name, const char *kind,
		    unsigned short type, int nested_flag)
{
	struct ifinfomsg *ifi;
	struct rtattr *info, *data, *ext;
	struct can_bittiming bt = {.bitrate = 500000, .sample_point = 875};
	struct can_ctrlmode cm = {.flags = CAN_CTRLMODE_LISTENONLY};
	struct can_berr_counter bc = {.txerr = 97, .rxerr = 4};
	uint32_t state = CAN_STATE_ERROR_WARNING, ms = 100, mtu = 16;
	uint32_t sup = CAN_CTRLMODE_LISTENONLY | CAN_CTRLMODE_LOOPBACK;
	unsigned short nest = nested_flag ? NLA_F_NESTED : 0;

	memset(b, 0, sizeof(*b));
	b->u.nh.nlmsg_len = NLMSG_LENGTH(sizeof(*ifi));
	b->u.nh.nlmsg_type = RTM_NEWLINK;
	ifi = NLMSG_DATA(&b->u.nh);
	ifi->ifi_type = type;
	ifi->ifi_index = 7;
	ifi->ifi_flags = IFF_UP | IFF_RUNNING;
	nl_put(b, IFLA_IFNAME, name, strlen(name) + 1);
	nl_put(b, IFLA_MTU, &mtu, sizeof(mtu));
	info = nl_put(b, IFLA_LINKINFO | nest, NULL, 0);
	nl_put(b, IFLA_INFO_KIND, kind, strlen(kind));
	if (strcmp(kind, "can") == 0) {
		data = nl_put(b, IFLA_INFO_DATA | nest, NULL, 0);
		nl_put(b, IFLA_CAN_BITTIMING, &bt, sizeof(bt));
		nl_put(b, IFLA_CAN_STATE, &state, sizeof(state));
		nl_put(b, IFLA_CAN_CTRLMODE, &cm, sizeof(cm));
		nl_put(b, IFLA_CAN_RESTART_MS, &ms, sizeof(ms));
		nl_put(b, IFLA_CAN_BERR_COUNTER, &bc, sizeof(bc));
		ext = nl_put(b, IFLA_CAN_CTRLMODE_EXT | NLA_F_NESTED, NULL, 0);
		nl_put(b, IFLA_CAN_CTRLMODE_SUPPORTED, &sup, sizeof(sup));
		nl_end(b, ext);
		nl_end(b, data);
	}
	nl_end(b, info);
}

START_TEST(test_netlink_parses_a_controller)
{
	struct nlbuf b;
	struct nl_link l;
	int nested;

	for (nested = 0; nested < 2; nested++) {
		nl_link(&b, "can3", "can", ARPHRD_CAN, nested);
		ck_assert_int_eq(netlink_parse_link(&b.u.nh, &l), 1);
		ck_assert_str_eq(l.name, "can3");
		ck_assert_str_eq(l.kind, "can");
		ck_assert_int_eq(l.ifindex, 7);
		ck_assert_uint_eq(l.mtu, 16);
		ck_assert_int_eq(l.controller, 1);
		ck_assert_int_eq(l.state, CAN_STATE_ERROR_WARNING);
		ck_assert_uint_eq(l.cfg.bitrate, 500000);
		ck_assert_uint_eq(l.cfg.sample_point, 875);
		ck_assert_uint_eq(l.cfg.restart_ms, 100);
		ck_assert_uint_eq(l.cfg.ctrlmode, CAN_CTRLMODE_LISTENONLY);
		ck_assert_uint_eq(l.cfg.ctrlmode_supported,
				  CAN_CTRLMODE_LISTENONLY |
					  CAN_CTRLMODE_LOOPBACK);
		ck_assert_int_eq(l.has_berr, 1);
		ck_assert_uint_eq(l.txerr, 97);
		ck_assert_uint_eq(l.rxerr, 4);
	}
}
END_TEST

START_TEST(test_netlink_parses_vcan_and_skips_others)
{
	struct nlbuf b;
	struct nl_link l;

	nl_link(&b, "vcan5", "vcan", ARPHRD_CAN, 0);
	ck_assert_int_eq(netlink_parse_link(&b.u.nh, &l), 1);
	ck_assert_str_eq(l.kind, "vcan");
	ck_assert_int_eq(l.controller, 0);
	ck_assert_uint_eq(l.cfg.bitrate, 0);
	/* Ethernet and friends are none of our business. */
	nl_link(&b, "eth0", "veth", ARPHRD_ETHER, 0);
	ck_assert_int_eq(netlink_parse_link(&b.u.nh, &l), 0);
	/* A truncated message is not read past its end. */
	b.u.nh.nlmsg_len = NLMSG_LENGTH(2);
	ck_assert_int_eq(netlink_parse_link(&b.u.nh, &l), 0);
}
END_TEST

START_TEST(test_wrong_state_status)
{
	ck_assert_int_eq(dispatch_status_from_errno(-EBUSY),
			 CAND__STATUS__WRONG_STATE);
	ck_assert_int_eq(CAND_ESTATE, -CAND__STATUS__WRONG_STATE);
	ck_assert_str_eq(cand_strerror(CAND_ESTATE),
			 "not possible in the bus's current state");
	ck_assert_str_eq(cand_state_name(CAND_STATE_ERROR_PASSIVE),
			 "ERROR-PASSIVE");
	ck_assert_str_eq(cand_state_name(CAND_STATE_NONE), "not applicable");
	/* The library's states are the protocol's. */
	ck_assert_int_eq(CAND_STATE_BUS_OFF, CAND__CAN_STATE__STATE_BUS_OFF);
	ck_assert_int_eq(CAND_STATE_STOPPED, CAND__CAN_STATE__STATE_STOPPED);
	ck_assert_int_eq(CAND_CTRLMODE_LISTEN_ONLY, CAN_CTRLMODE_LISTENONLY);
	ck_assert_int_eq(CAND_CTRLMODE_CC_LEN8_DLC, CAN_CTRLMODE_CC_LEN8_DLC);
}
END_TEST

Suite *health_suite(void)
{
	Suite *s = suite_create("health");
	TCase *tc = tcase_create("health");

	tcase_add_test(tc, test_error_frame_states);
	tcase_add_test(tc, test_restart_rate_limit);
	tcase_add_test(tc, test_config_parses_policies);
	tcase_add_test(tc, test_config_errors);
	tcase_add_test(tc, test_netlink_parses_a_controller);
	tcase_add_test(tc, test_netlink_parses_vcan_and_skips_others);
	tcase_add_test(tc, test_wrong_state_status);
	suite_add_tcase(s, tc);
	return s;
}
