/*
 * Configure and restart: bit timing, restart-ms, listen-only and down/up
 * read back through cand and ip, who may configure, what is refused and
 * why, and changes made outside cand reaching the clients that care.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "health.h"

static void configure_ok(cand_t *h, const char *ifname,
			 const struct cand_bus_change *chg,
			 struct cand_bus_configured *res)
{
	int rc = cand_configure(h, ifname, chg, res);

	ck_assert_msg(rc == 0, "cand_configure(%s): %s (%s)", ifname,
		      cand_strerror(rc), cand_last_detail(h));
}

START_TEST(test_configure_bitrate_read_back)
{
	cand_t *h = util_connect();
	struct cand_bus_change chg;
	struct cand_bus_configured res;
	struct cand_bus_state s;
	struct cand_frame f = util_frame(0x7A, 0, "0102"), got;
	cand_t *tx;
	int rx;

	cand_bus_change_init(&chg);
	chg.bitrate = 250000;
	configure_ok(h, "can0", &chg, &res);
	/* It was up: down, changed, up again, and the reply says so. */
	ck_assert_int_eq(res.cycled, 1);
	ck_assert_int_eq(res.up, 1);
	ck_assert_int_eq(res.controller, 1);
	ck_assert_uint_eq(res.config.bitrate, 250000);
	assert_ip_says("can0", "bitrate 250000");
	assert_ip_says("can0", "state UP");
	s = one_state(h, "can0");
	ck_assert_uint_eq(s.config.bitrate, 250000);
	ck_assert_int_eq(s.link.up, 1);
	ck_assert_int_eq(s.state, CAND_STATE_ERROR_ACTIVE);

	/* Both ends at the new rate, and frames flow. */
	configure_ok(h, "can1", &chg, &res);
	assert_ip_says("can1", "bitrate 250000");
	tx = util_open("can0");
	rx = util_raw_open("can1", 0);
	util_send(tx, &f, 1);
	util_raw_recv_ok(rx, &got, "can0 -> can1 at 250 kbit/s");
	util_assert_frame(&got, &f, "can0 -> can1 at 250 kbit/s");
	close(rx);
	cand_close(tx);

	chg.bitrate = 500000;
	chg.sample_point = 875;
	configure_ok(h, "can0", &chg, &res);
	configure_ok(h, "can1", &chg, &res);
	assert_ip_says("can0", "bitrate 500000 sample-point 0.875");
	assert_ip_says("can1", "bitrate 500000 sample-point 0.875");
	cand_close(h);
}
END_TEST

START_TEST(test_configure_sample_point)
{
	cand_t *h = util_connect();
	struct cand_bus_change chg;
	struct cand_bus_configured res;

	cand_bus_change_init(&chg);
	chg.bitrate = 500000;
	chg.sample_point = 750;
	configure_ok(h, "can0", &chg, &res);
	ck_assert_uint_eq(res.config.sample_point, 750);
	assert_ip_says("can0", "bitrate 500000 sample-point 0.750");
	ck_assert_uint_eq(one_state(h, "can0").config.sample_point, 750);
	cand_close(h);
}
END_TEST

START_TEST(test_configure_restart_ms)
{
	cand_t *h = util_connect();
	struct cand_bus_change chg;
	struct cand_bus_configured res;

	cand_bus_change_init(&chg);
	chg.restart_ms = 0;
	configure_ok(h, "can1", &chg, &res);
	ck_assert_uint_eq(res.config.restart_ms, 0);
	assert_ip_says("can1", "restart-ms 0");
	chg.restart_ms = 250;
	configure_ok(h, "can1", &chg, &res);
	ck_assert_uint_eq(res.config.restart_ms, 250);
	assert_ip_says("can1", "restart-ms 250");
	ck_assert_uint_eq(one_state(h, "can1").config.restart_ms, 250);
	chg.restart_ms = 100;
	configure_ok(h, "can1", &chg, &res);
	assert_ip_says("can1", "restart-ms 100");
	cand_close(h);
}
END_TEST

START_TEST(test_configure_listen_only)
{
	cand_t *h = util_connect();
	struct cand_bus_change chg;
	struct cand_bus_configured res;

	cand_bus_change_init(&chg);
	chg.ctrlmode_mask = CAND_CTRLMODE_LISTEN_ONLY;
	chg.ctrlmode_flags = CAND_CTRLMODE_LISTEN_ONLY;
	configure_ok(h, "can1", &chg, &res);
	ck_assert_msg(res.config.ctrlmode & CAND_CTRLMODE_LISTEN_ONLY,
		      "ctrlmode 0x%x", res.config.ctrlmode);
	assert_ip_says("can1", "LISTEN-ONLY");
	chg.ctrlmode_flags = 0;
	configure_ok(h, "can1", &chg, &res);
	ck_assert_uint_eq(res.config.ctrlmode & CAND_CTRLMODE_LISTEN_ONLY, 0);
	cand_close(h);
}
END_TEST

/* Down and up by request; the bound client hears of both. */
START_TEST(test_configure_down_and_up)
{
	cand_t *h = util_connect();
	cand_t *bound = util_open("can1");
	struct cand_bus_change chg;
	struct cand_bus_configured res;
	struct cand_event ev;

	cand_bus_change_init(&chg);
	chg.up = 0;
	configure_ok(h, "can1", &chg, &res);
	ck_assert_int_eq(res.cycled, 0);
	ck_assert_int_eq(res.up, 0);
	assert_ip_says("can1", "state DOWN");
	ev = next_event(bound, CAND_EVENT_LINK, "can1", "can1 down");
	ck_assert_int_eq(ev.link.up, 0);
	ev = next_event(bound, CAND_EVENT_STATE, "can1", "can1 stopped");
	ck_assert_int_eq(ev.state.state, CAND_STATE_STOPPED);
	ck_assert_int_eq(ev.state.previous, CAND_STATE_ERROR_ACTIVE);
	ck_assert_int_eq(one_state(h, "can1").state, CAND_STATE_STOPPED);

	chg.up = 1;
	configure_ok(h, "can1", &chg, &res);
	ck_assert_int_eq(res.up, 1);
	ev = next_event(bound, CAND_EVENT_LINK, "can1", "can1 up");
	ck_assert_int_eq(ev.link.up, 1);
	ev = next_event(bound, CAND_EVENT_STATE, "can1", "can1 active");
	ck_assert_int_eq(ev.state.state, CAND_STATE_ERROR_ACTIVE);
	cand_close(bound);
	cand_close(h);
}
END_TEST

/* A child as uid 4242: may read the state, may not configure. */
START_TEST(test_configure_unprivileged)
{
	pid_t pid;
	int st;

	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct cand_bus_change chg;
		struct cand_bus_state *v;
		cand_t *h = NULL;
		int rc;

		if (setgid(4242) != 0 || setuid(4242) != 0)
			_exit(10);
		if (cand_connect(&h, NULL) != 0)
			_exit(11);
		if (cand_bus_state(h, "can0", &v) != 1)
			_exit(12);
		free(v);
		cand_bus_change_init(&chg);
		chg.bitrate = 125000;
		rc = cand_configure(h, "can0", &chg, NULL);
		if (rc != CAND_EPERM)
			_exit(13);
		if (strstr(cand_last_detail(h), "configure") == NULL)
			_exit(14);
		if (cand_restart(h, "can0") != CAND_EPERM)
			_exit(15);
		cand_close(h);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "the uid 4242 child failed at step %d",
		      WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	/* Nothing changed. */
	assert_ip_says("can0", "bitrate 500000");
}
END_TEST

START_TEST(test_configure_refusals)
{
	cand_t *h = util_connect();
	struct cand_bus_change chg;
	int rc;

	/* A vcan has no bit timing: unsupported, with the reason. */
	cand_bus_change_init(&chg);
	chg.bitrate = 500000;
	rc = cand_configure(h, "vcan0", &chg, NULL);
	ck_assert_msg(rc == CAND_EUNSUPP, "bitrate on vcan0: %s",
		      cand_strerror(rc));
	ck_assert_msg(strstr(cand_last_detail(h), "virtual") != NULL,
		      "detail: %s", cand_last_detail(h));

	rc = cand_configure(h, "nosuchcan9", &chg, NULL);
	ck_assert_int_eq(rc, CAND_ENODEV);

	chg.sample_point = 1000;
	rc = cand_configure(h, "can0", &chg, NULL);
	ck_assert_msg(rc == CAND_EINVAL, "sample point 1000: %s",
		      cand_strerror(rc));

	cand_bus_change_init(&chg);
	chg.sample_point = 800;
	rc = cand_configure(h, "can0", &chg, NULL);
	ck_assert_msg(rc == CAND_EINVAL, "sample point without bitrate: %s",
		      cand_strerror(rc));

	cand_bus_change_init(&chg);
	chg.ctrlmode_mask = CAND_CTRLMODE_LOOPBACK;
	chg.ctrlmode_flags = CAND_CTRLMODE_ONE_SHOT;
	rc = cand_configure(h, "can0", &chg, NULL);
	ck_assert_msg(rc == CAND_EINVAL, "flags outside the mask: %s",
		      cand_strerror(rc));
	chg.ctrlmode_mask = 0x80000000u;
	chg.ctrlmode_flags = 0;
	rc = cand_configure(h, "can0", &chg, NULL);
	ck_assert_msg(rc == CAND_EINVAL, "unknown mode bit: %s",
		      cand_strerror(rc));

	/*
	 * An SJA1000 has no CAN FD: refused up front, without taking can0
	 * down for nothing.
	 */
	ck_assert_int_eq(cand_subscribe(h, "can0"), 0);
	cand_bus_change_init(&chg);
	chg.ctrlmode_mask = chg.ctrlmode_flags = CAND_CTRLMODE_FD;
	rc = cand_configure(h, "can0", &chg, NULL);
	ck_assert_msg(rc == CAND_EUNSUPP, "fd on can0: %s (%s)",
		      cand_strerror(rc), cand_last_detail(h));
	ck_assert_msg(strstr(cand_last_detail(h), "cannot do FD") != NULL,
		      "detail: %s", cand_last_detail(h));
	cand_bus_change_init(&chg);
	chg.data_bitrate = 2000000;
	rc = cand_configure(h, "can0", &chg, NULL);
	ck_assert_msg(rc == CAND_EUNSUPP, "dbitrate on can0: %s (%s)",
		      cand_strerror(rc), cand_last_detail(h));
	ck_assert_msg(strstr(cand_last_detail(h), "no CAN FD") != NULL,
		      "detail: %s", cand_last_detail(h));
	no_event(h, CAND_EVENT_LINK, "can0", 300, "refused changes");
	assert_ip_says("can0", "state UP");
	ck_assert_int_eq(one_state(h, "can0").link.up, 1);
	assert_ip_says("can0", "bitrate 500000");

	/* A bitrate the kernel rejects: can0 is up again afterwards. */
	chg.data_bitrate = 0;
	chg.bitrate = 5000000;
	rc = cand_configure(h, "can0", &chg, NULL);
	ck_assert_msg(rc == CAND_EINVAL, "bitrate 5000000: %s (%s)",
		      cand_strerror(rc), cand_last_detail(h));
	ck_assert_msg(strstr(cand_last_detail(h), "up again") != NULL,
		      "detail: %s", cand_last_detail(h));
	assert_ip_says("can0", "state UP");
	assert_ip_says("can0", "bitrate 500000");
	cand_close(h);
}
END_TEST

START_TEST(test_restart_refused_with_reason)
{
	cand_t *h = util_connect();
	struct cand_bus_change chg;
	int rc;

	rc = cand_restart(h, "can0");
	ck_assert_msg(rc == CAND_ESTATE, "restart with restart-ms 100: %s",
		      cand_strerror(rc));
	ck_assert_msg(strstr(cand_last_detail(h), "restart-ms is 100") != NULL,
		      "detail: %s", cand_last_detail(h));

	cand_bus_change_init(&chg);
	chg.restart_ms = 0;
	configure_ok(h, "can0", &chg, NULL);
	rc = cand_restart(h, "can0");
	ck_assert_msg(rc == CAND_ESTATE, "restart when active: %s",
		      cand_strerror(rc));
	ck_assert_msg(strstr(cand_last_detail(h), "not BUS-OFF") != NULL,
		      "detail: %s", cand_last_detail(h));
	ck_assert_msg(strstr(cand_last_detail(h), "ERROR-ACTIVE") != NULL,
		      "detail: %s", cand_last_detail(h));

	rc = cand_restart(h, "vcan0");
	ck_assert_msg(rc == CAND_EUNSUPP, "restart vcan0: %s",
		      cand_strerror(rc));
	rc = cand_restart(h, "nosuchcan9");
	ck_assert_int_eq(rc, CAND_ENODEV);

	chg.restart_ms = 100;
	configure_ok(h, "can0", &chg, NULL);
	cand_close(h);
}
END_TEST

/*
 * A change made outside cand (ip link) reaches subscribers and clients
 * bound to the interface, and nobody else.
 */
START_TEST(test_config_event_from_ip_link)
{
	cand_t *sub = util_connect();
	cand_t *bound = util_open("can1");
	cand_t *other = util_open("vcan0");
	struct cand_event ev;

	ck_assert_int_eq(cand_subscribe(sub, "can1"), 0);
	ck_assert_int_eq(util_sh("ip link set can1 down && "
				 "ip link set can1 type can restart-ms 300 && "
				 "ip link set can1 up"),
			 0);
	ev = next_event(sub, CAND_EVENT_CONFIG, "can1", "config event");
	ck_assert_int_eq(ev.config.controller, 1);
	ck_assert_uint_eq(ev.config.previous.restart_ms, 100);
	ck_assert_uint_eq(ev.config.config.restart_ms, 300);
	ck_assert_uint_eq(ev.config.config.bitrate, 500000);
	ck_assert_msg(strstr(ev.detail, "restart-ms 100 -> 300") != NULL,
		      "detail: %s", ev.detail);
	ev = next_event(bound, CAND_EVENT_CONFIG, "can1",
			"config event, bound client");
	ck_assert_uint_eq(ev.config.config.restart_ms, 300);
	no_event(other, CAND_EVENT_CONFIG, "can1", 300,
		 "a client bound to vcan0");

	ck_assert_int_eq(util_sh("ip link set can1 down && "
				 "ip link set can1 type can restart-ms 100 && "
				 "ip link set can1 up"),
			 0);
	ev = next_event(sub, CAND_EVENT_CONFIG, "can1", "config back");
	ck_assert_uint_eq(ev.config.config.restart_ms, 100);
	cand_close(other);
	cand_close(bound);
	cand_close(sub);
}
END_TEST

void health_configure_tests(TCase *tc)
{
	tcase_add_test(tc, test_configure_bitrate_read_back);
	tcase_add_test(tc, test_configure_sample_point);
	tcase_add_test(tc, test_configure_restart_ms);
	tcase_add_test(tc, test_configure_listen_only);
	tcase_add_test(tc, test_configure_down_and_up);
	tcase_add_test(tc, test_configure_unprivileged);
	tcase_add_test(tc, test_configure_refusals);
	tcase_add_test(tc, test_restart_refused_with_reason);
	tcase_add_test(tc, test_config_event_from_ip_link);
}
