/*
 * Bus health: state, configuration, restart, flush, events, hot-plug and
 * the bus-off policy, against the real kernel.
 *
 * Real controllers: can0 and can1, the VM's two emulated SJA1000 on one
 * emulated bus. The emulation never produces bus errors (no missing ACK,
 * no error counters), so state changes are driven by real CAN error
 * frames written to a dedicated vcan, which exercises the error frame
 * state machine; for the controllers the tests check the kernel's own
 * state (ERROR-ACTIVE, STOPPED) and the restart refusals. Hot-plug uses
 * dedicated vcans too, so no other test sees them come and go.
 *
 * Every test that touches can0/can1 leaves them at 500000 bit/s,
 * sample point 0.875, restart-ms 100, up.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/can/error.h>

#include "cand.pb-c.h"
#include "util.h"
#include "wire.h"

#define HP_IFACE   "vcan9" /* hot-plug */
#define EF_IFACE   "vcan8" /* error frames */
#define FL_IFACE   "vcan7" /* flush, behind a slow qdisc */
#define EV_WAIT_MS 3000	   /* an expected event, generously */
#define ALT_SOCK   "/run/cand-health.sock"
#define ALT_CONF   "/tmp/cand-health.conf"
#define ALT_LOG	   "/tmp/cand-health.log"

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * can0 and can1 as the VM sets them up; used before and after tests. Only
 * when they differ, so as not to send link events into the next test.
 */
static void restore_controllers(void)
{
	if (system("for d in can0 can1; do "
		   "s=$(ip -details link show $d); "
		   "case \"$s\" in *LISTEN-ONLY*) ;; *'state UP'*'restart-ms "
		   "100'*'bitrate 500000 sample-point 0.875'*) continue ;; "
		   "esac; "
		   "ip link set $d down; "
		   "ip link set $d type can bitrate 500000 sample-point 0.875 "
		   "restart-ms 100 listen-only off; ip link set $d up; "
		   "done 2>/dev/null") != 0)
		fprintf(stderr, "restoring can0/can1 failed\n");
}

static void restore_vcans(void)
{
	if (system("ip link del " HP_IFACE " 2>/dev/null; ip link del " EF_IFACE
		   " 2>/dev/null; ip link del " FL_IFACE
		   " 2>/dev/null; true") != 0)
		fprintf(stderr, "removing the test vcans failed\n");
}

/* `ip -details link show dev` into buf. */
static const char *ip_show(const char *dev, char *buf, size_t size)
{
	char cmd[128];
	size_t n;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "ip -details link show %s 2>&1", dev);
	f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	pclose(f);
	return buf;
}

static void assert_ip_says(const char *dev, const char *what)
{
	char buf[4096];

	ck_assert_msg(strstr(ip_show(dev, buf, sizeof(buf)), what) != NULL,
		      "ip -details link show %s lacks \"%s\":\n%s", dev, what,
		      buf);
}

static struct cand_bus_state one_state(cand_t *h, const char *ifname)
{
	struct cand_bus_state *v, s;
	int n = cand_bus_state(h, ifname, &v);

	ck_assert_msg(n == 1, "cand_bus_state(%s): %d %s (%s)", ifname, n,
		      n < 0 ? cand_strerror(n) : "", cand_last_detail(h));
	s = v[0];
	free(v);
	return s;
}

static void configure_ok(cand_t *h, const char *ifname,
			 const struct cand_bus_change *chg,
			 struct cand_bus_configured *res)
{
	int rc = cand_configure(h, ifname, chg, res);

	ck_assert_msg(rc == 0, "cand_configure(%s): %s (%s)", ifname,
		      cand_strerror(rc), cand_last_detail(h));
}

/*
 * The next event of this type and interface within EV_WAIT_MS; others
 * (and frames) are passed over.
 */
static struct cand_event next_event(cand_t *h, enum cand_event_type t,
				    const char *ifname, const char *what)
{
	struct cand_event ev;
	int64_t end = now_ms() + EV_WAIT_MS;
	int rc;

	for (;;) {
		int64_t left = end - now_ms();

		rc = cand_recv_event(h, &ev, left > 0 ? (int)left : 0);
		ck_assert_msg(rc == 1, "%s: no event within %d ms: %s", what,
			      EV_WAIT_MS, cand_strerror(rc));
		if (ev.type == t && strcmp(ev.ifname, ifname) == 0)
			return ev;
	}
}

/* Asserts that no event of this type for ifname comes within ms. */
static void no_event(cand_t *h, enum cand_event_type t, const char *ifname,
		     int ms, const char *what)
{
	struct cand_event ev;
	int64_t end = now_ms() + ms;
	int rc;

	for (;;) {
		int64_t left = end - now_ms();

		if (left <= 0)
			return;
		rc = cand_recv_event(h, &ev, (int)left);
		if (rc == CAND_ETIMEOUT)
			return;
		ck_assert_msg(rc == 1, "%s: %s", what, cand_strerror(rc));
		ck_assert_msg(ev.type != t || strcmp(ev.ifname, ifname) != 0,
			      "%s: unexpected event (type %d) for %s: %s", what,
			      (int)ev.type, ifname, ev.detail);
	}
}

/* ---- state ---- */

/* vcan1: other tests write error frames to vcan0, which then has a state. */
START_TEST(test_state_vcan_not_applicable)
{
	cand_t *h = util_connect();
	struct cand_bus_state s = one_state(h, "vcan1");

	ck_assert_str_eq(s.link.name, "vcan1");
	ck_assert_str_eq(s.link.kind, "vcan");
	ck_assert_int_eq(s.link.hardware, 0);
	ck_assert_int_eq(s.link.up, 1);
	ck_assert_uint_eq(s.link.mtu, 16);
	/* Not an error, and not a fake ERROR-ACTIVE. */
	ck_assert_int_eq(s.state, CAND_STATE_NONE);
	ck_assert_int_eq(s.controller, 0);
	ck_assert_int_eq(s.has_error_counters, 0);
	ck_assert_uint_eq(s.config.bitrate, 0);
	ck_assert_int_eq(s.has_stats, 1);
	cand_close(h);
}
END_TEST

START_TEST(test_state_controller)
{
	cand_t *h = util_connect();
	struct cand_bus_state s = one_state(h, "can0");

	ck_assert_str_eq(s.link.kind, "can");
	ck_assert_int_eq(s.link.hardware, 1);
	ck_assert_int_eq(s.link.up, 1);
	ck_assert_int_eq(s.running, 1);
	ck_assert_uint_eq(s.link.mtu, 16);
	ck_assert_int_eq(s.controller, 1);
	ck_assert_msg(s.state == CAND_STATE_ERROR_ACTIVE, "can0 is %s",
		      cand_state_name(s.state));
	ck_assert_int_eq(s.state_from_error_frames, 0);
	ck_assert_int_eq(s.has_error_counters, 1);
	ck_assert_uint_eq(s.tx_errors, 0);
	ck_assert_uint_eq(s.rx_errors, 0);
	ck_assert_uint_eq(s.config.bitrate, 500000);
	ck_assert_uint_eq(s.config.sample_point, 875);
	ck_assert_uint_eq(s.config.restart_ms, 100);
	ck_assert_uint_eq(s.config.data_bitrate, 0);
	ck_assert_uint_eq(s.config.clock_hz, 8000000);
	ck_assert_msg(s.config.ctrlmode_supported & CAND_CTRLMODE_LISTEN_ONLY,
		      "the SJA1000 can listen only; supported 0x%x",
		      s.config.ctrlmode_supported);
	ck_assert_int_eq(s.has_stats, 1);
	ck_assert_msg(strstr(s.busoff_policy, "restart-ms 100") != NULL,
		      "policy: %s", s.busoff_policy);
	cand_close(h);
}
END_TEST

START_TEST(test_state_all)
{
	static const char *const want[] = {"can0", "can1", "vcan0", "vcan1"};
	cand_t *h = util_connect();
	struct cand_bus_state *v;
	size_t i;
	int n, j, found;

	n = cand_bus_state(h, NULL, &v);
	ck_assert_msg(n >= 4, "cand_bus_state(all): %d", n);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		found = 0;
		for (j = 0; j < n; j++)
			found |= strcmp(v[j].link.name, want[i]) == 0;
		ck_assert_msg(found, "%s missing from the state of all",
			      want[i]);
	}
	free(v);
	cand_close(h);
}
END_TEST

START_TEST(test_state_unknown_interface)
{
	cand_t *h = util_connect();
	struct cand_bus_state *v = NULL;
	int rc = cand_bus_state(h, "nosuchcan9", &v);

	ck_assert_msg(rc == CAND_ENODEV, "state nosuchcan9: %d %s", rc,
		      cand_strerror(rc));
	ck_assert_ptr_null(v);
	ck_assert_msg(strstr(cand_last_detail(h), "nosuchcan9") != NULL,
		      "detail: %s", cand_last_detail(h));
	/* lo exists but is no CAN interface, and the reply says so. */
	rc = cand_bus_state(h, "lo", &v);
	ck_assert_int_eq(rc, CAND_ENODEV);
	ck_assert_msg(strstr(cand_last_detail(h), "not a CAN") != NULL,
		      "detail: %s", cand_last_detail(h));
	cand_close(h);
}
END_TEST

/* Frames between the two controllers, counted in both link statistics. */
START_TEST(test_state_counts_frames_between_controllers)
{
	cand_t *st = util_connect();
	cand_t *tx = util_open("can0");
	int rx = util_raw_open("can1", 0);
	struct cand_bus_state a0 = one_state(st, "can0"), b0, a1, b1;
	struct cand_frame f = util_frame(0x321, 0, "C0FFEE"), got;
	int i;

	b0 = one_state(st, "can1");
	for (i = 0; i < 3; i++) {
		f.data[0] = (uint8_t)i;
		util_send(tx, &f, 1);
		util_raw_recv_ok(rx, &got, "can0 -> can1");
		util_assert_frame(&got, &f, "can0 -> can1");
	}
	/*
	 * can1 may hold the last frame before can0's TX-complete interrupt
	 * has counted it: give the sender's counter the usual frame timeout.
	 */
	for (i = 0; i < RX_TIMEOUT_MS / 10; i++) {
		a1 = one_state(st, "can0");
		if (a1.stats.tx_packets >= a0.stats.tx_packets + 3)
			break;
		usleep(10000);
	}
	b1 = one_state(st, "can1");
	ck_assert_msg(a1.stats.tx_packets >= a0.stats.tx_packets + 3,
		      "can0 tx_packets %llu -> %llu",
		      (unsigned long long)a0.stats.tx_packets,
		      (unsigned long long)a1.stats.tx_packets);
	ck_assert_msg(b1.stats.rx_packets >= b0.stats.rx_packets + 3,
		      "can1 rx_packets %llu -> %llu",
		      (unsigned long long)b0.stats.rx_packets,
		      (unsigned long long)b1.stats.rx_packets);
	ck_assert_int_eq(a1.state, CAND_STATE_ERROR_ACTIVE);
	close(rx);
	cand_close(tx);
	cand_close(st);
}
END_TEST

/* ---- configure and restart ---- */

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

/* ---- the error frame state machine ---- */

static void send_err(int s, uint32_t cls, uint8_t crtl, int tx, int rx)
{
	struct cand_frame f = util_frame(cls, CAND_FRAME_ERROR, "");

	f.len = 8;
	f.data[1] = crtl;
	if (tx >= 0) {
		f.id |= CAN_ERR_CNT;
		f.data[6] = (uint8_t)tx;
		f.data[7] = (uint8_t)rx;
	}
	util_raw_send(s, &f);
}

static void expect_state(cand_t *h, enum cand_state prev, enum cand_state st,
			 int tx, const char *what)
{
	struct cand_event ev;

	ev = next_event(h, CAND_EVENT_STATE, EF_IFACE, what);
	ck_assert_msg(ev.state.previous == prev && ev.state.state == st,
		      "%s: %s -> %s, want %s -> %s", what,
		      cand_state_name(ev.state.previous),
		      cand_state_name(ev.state.state), cand_state_name(prev),
		      cand_state_name(st));
	ck_assert_int_eq(ev.state.from_error_frames, 1);
	if (tx >= 0) {
		ck_assert_int_eq(ev.state.has_error_counters, 1);
		ck_assert_uint_eq(ev.state.tx_errors, (unsigned)tx);
	}
}

START_TEST(test_error_frames_drive_state)
{
	cand_t *sub, *bound, *st;
	struct cand_bus_state s;
	struct cand_event ev;
	long mark = util_log_mark();
	char *log;
	int raw;

	ck_assert_int_eq(util_sh("ip link add dev %s type vcan && "
				 "ip link set %s up",
				 EF_IFACE, EF_IFACE),
			 0);
	sub = util_connect();
	ck_assert_int_eq(cand_subscribe(sub, EF_IFACE), 0);
	bound = util_open(EF_IFACE);
	st = util_connect();
	s = one_state(st, EF_IFACE);
	ck_assert_int_eq(s.state, CAND_STATE_NONE);
	raw = util_raw_open(EF_IFACE, 0);

	send_err(raw, CAN_ERR_CRTL, CAN_ERR_CRTL_TX_WARNING, 96, 0);
	expect_state(sub, CAND_STATE_NONE, CAND_STATE_ERROR_WARNING, 96,
		     "warning");
	send_err(raw, CAN_ERR_CRTL, CAN_ERR_CRTL_TX_PASSIVE, 128, 3);
	expect_state(sub, CAND_STATE_ERROR_WARNING, CAND_STATE_ERROR_PASSIVE,
		     128, "passive");
	s = one_state(st, EF_IFACE);
	ck_assert_int_eq(s.state, CAND_STATE_ERROR_PASSIVE);
	ck_assert_int_eq(s.state_from_error_frames, 1);
	ck_assert_uint_eq(s.tx_errors, 128);
	ck_assert_uint_eq(s.rx_errors, 3);
	send_err(raw, CAN_ERR_BUSOFF, 0, -1, -1);
	expect_state(sub, CAND_STATE_ERROR_PASSIVE, CAND_STATE_BUS_OFF, -1,
		     "bus-off");
	send_err(raw, CAN_ERR_RESTARTED, 0, -1, -1);
	expect_state(sub, CAND_STATE_BUS_OFF, CAND_STATE_ERROR_ACTIVE, 0,
		     "restarted");
	/* Back down the other way, via CAN_ERR_CRTL_ACTIVE. */
	send_err(raw, CAN_ERR_CRTL, CAN_ERR_CRTL_RX_WARNING, 0, 100);
	expect_state(sub, CAND_STATE_ERROR_ACTIVE, CAND_STATE_ERROR_WARNING, 0,
		     "rx warning");
	send_err(raw, CAN_ERR_CRTL, CAN_ERR_CRTL_ACTIVE, 0, 90);
	expect_state(sub, CAND_STATE_ERROR_WARNING, CAND_STATE_ERROR_ACTIVE, 0,
		     "active again");
	/* An overflow notice is no state change. */
	send_err(raw, CAN_ERR_CRTL, CAN_ERR_CRTL_RX_OVERFLOW, -1, -1);
	no_event(sub, CAND_EVENT_STATE, EF_IFACE, 300, "overflow only");

	/* The bound client gets the error frames and the events both. */
	ev = next_event(bound, CAND_EVENT_FRAME, EF_IFACE,
			"the first error frame");
	ck_assert_msg(ev.frame.flags & CAND_FRAME_ERROR, "not an error frame");
	expect_state(bound, CAND_STATE_NONE, CAND_STATE_ERROR_WARNING, 96,
		     "bound: warning");

	log = util_log_since(mark);
	ck_assert_msg(strstr(log, EF_IFACE ": BUS-OFF") != NULL,
		      "no bus-off in the log:\n%s", log);
	ck_assert_msg(strstr(log, EF_IFACE ": recovered from bus-off") != NULL,
		      "no recovery in the log:\n%s", log);
	free(log);
	close(raw);
	cand_close(st);
	cand_close(bound);
	cand_close(sub);
	ck_assert_int_eq(util_sh("ip link del %s", EF_IFACE), 0);
}
END_TEST

/* ---- hot-plug ---- */

START_TEST(test_hotplug_rebinds_with_same_filters)
{
	struct cand_filter flt = {.id = 0x100, .mask = 0x700};
	struct cand_options o;
	struct cand_event ev;
	struct cand_frame f, got;
	struct cand_iface *l;
	cand_t *a, *b, *all;
	int raw, rc, n;

	ck_assert_int_eq(util_sh("ip link add dev %s type vcan && "
				 "ip link set %s up",
				 HP_IFACE, HP_IFACE),
			 0);
	cand_options_init(&o);
	o.channel = HP_IFACE;
	o.filters = &flt;
	o.n_filters = 1;
	a = util_open_opts(&o); /* events through cand_recv_event */
	b = util_open_opts(&o); /* the same through cand_recv */
	all = util_connect();
	ck_assert_int_eq(cand_subscribe(all, ""), 0);

	ck_assert_int_eq(util_sh("ip link del %s", HP_IFACE), 0);
	ev = next_event(a, CAND_EVENT_LINK, HP_IFACE, "down before gone");
	ck_assert_int_eq(ev.link.up, 0);
	ck_assert_int_eq(ev.link.removed, 0);
	ev = next_event(a, CAND_EVENT_LINK, HP_IFACE, "removed");
	ck_assert_int_eq(ev.link.removed, 1);
	ck_assert_msg(strstr(ev.detail, "disappeared") != NULL, "detail: %s",
		      ev.detail);
	ev = next_event(all, CAND_EVENT_LINK, HP_IFACE, "all: down");
	ev = next_event(all, CAND_EVENT_LINK, HP_IFACE, "all: removed");
	ck_assert_int_eq(ev.link.removed, 1);
	/* cand_recv reports it as before: down, then gone. */
	rc = cand_recv(b, &got, EV_WAIT_MS);
	ck_assert_msg(rc == CAND_ENETDOWN || rc == CAND_ENODEV,
		      "cand_recv after removal: %s", cand_strerror(rc));
	if (rc == CAND_ENETDOWN)
		rc = cand_recv(b, &got, EV_WAIT_MS);
	ck_assert_msg(rc == CAND_ENODEV, "cand_recv after removal: %s",
		      cand_strerror(rc));

	/* Still connected: requests work, sends say why they cannot. */
	n = cand_list(a, &l);
	ck_assert_msg(n >= 1, "list while gone: %s", cand_strerror(n));
	free(l);
	f = util_frame(0x101, 0, "01");
	rc = cand_send(a, &f, 1, 0);
	ck_assert_msg(rc == CAND_ENODEV, "send while gone: %s",
		      cand_strerror(rc));
	ck_assert_msg(strstr(cand_last_detail(a), "gone") != NULL, "detail: %s",
		      cand_last_detail(a));

	/* Back under the same name: bound again, then up. */
	ck_assert_int_eq(util_sh("ip link add dev %s type vcan", HP_IFACE), 0);
	ev = next_event(a, CAND_EVENT_LINK, HP_IFACE, "appeared");
	ck_assert_int_eq(ev.link.appeared, 1);
	ck_assert_int_eq(ev.link.rebound, 1);
	ev = next_event(all, CAND_EVENT_LINK, HP_IFACE, "all: appeared");
	ck_assert_int_eq(ev.link.appeared, 1);
	ck_assert_int_eq(ev.link.rebound, 0); /* not open at all */
	ck_assert_int_eq(util_sh("ip link set %s up", HP_IFACE), 0);
	ev = next_event(a, CAND_EVENT_LINK, HP_IFACE, "up again");
	ck_assert_int_eq(ev.link.up, 1);

	/* Frames flow, through the same filter, without a new open. */
	raw = util_raw_open(HP_IFACE, 0);
	f = util_frame(0x223, 0, "AA"); /* filtered out */
	util_raw_send(raw, &f);
	f = util_frame(0x1FE, 0, "BB"); /* passes 0x100/0x700 */
	util_raw_send(raw, &f);
	ev = next_event(a, CAND_EVENT_FRAME, HP_IFACE, "a frame again");
	util_assert_frame(&ev.frame, &f, "the first frame after re-binding");
	do {
		rc = cand_recv(b, &got, EV_WAIT_MS);
	} while (rc == CAND_ENETDOWN);
	ck_assert_msg(rc == 1, "cand_recv after re-binding: %s",
		      cand_strerror(rc));
	util_assert_frame(&got, &f, "cand_recv after re-binding");
	f = util_frame(0x102, 0, "CC");
	util_send(a, &f, 1);
	util_raw_recv_ok(raw, &got, "a send after re-binding");
	util_assert_frame(&got, &f, "a send after re-binding");
	close(raw);
	cand_close(all);
	cand_close(b);
	cand_close(a);
	ck_assert_int_eq(util_sh("ip link del %s", HP_IFACE), 0);
}
END_TEST

/* ---- drops ---- */

/* Packets the kernel's backlog queues dropped, all CPUs together. */
static uint64_t backlog_drops(void)
{
	FILE *f = fopen("/proc/net/softnet_stat", "r");
	unsigned long processed, dropped;
	uint64_t sum = 0;
	char line[512];

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "%lx %lx", &processed, &dropped) == 2)
			sum += dropped;
	fclose(f);
	return sum;
}

/*
 * A client that does not read during a flood is told, by drop events,
 * how many frames it lost and that it was too slow: the sum of the
 * events is the kernel's count, and every frame is received or counted.
 */
START_TEST(test_drop_events_for_a_slow_reader)
{
	/* Enough packed frames (24 bytes each) to pass the 4 MiB watermark. */
	enum { FLOOD = 400000 };
	cand_t *h = util_open("vcan0");
	int s = util_raw_open("vcan0", 0), is_fd, rc;
	struct cand_frame f = util_frame(0x3A1, 0, "00000000");
	struct canfd_frame cf;
	struct cand_event ev;
	uint64_t backlog0 = backlog_drops(), backlog, dropped = 0, last = 0;
	uint32_t sent = 0, received = 0;
	int events = 0, slow = 0;

	while (sent < FLOOD) {
		f.data[3] = (uint8_t)sent;
		util_to_raw(&f, &cf, &is_fd);
		if (write(s, &cf, CAN_MTU) == CAN_MTU)
			sent++;
		else if (errno == ENOBUFS || errno == EAGAIN)
			util_msleep(1);
		else
			ck_abort_msg("raw write: %s", strerror(errno));
	}
	for (;;) {
		rc = cand_recv_event(h, &ev, 1000);
		if (rc == CAND_ETIMEOUT)
			break;
		ck_assert_msg(rc == 1, "after %u frames: %s", received,
			      cand_strerror(rc));
		if (ev.type == CAND_EVENT_FRAME) {
			received++;
			continue;
		}
		if (ev.type != CAND_EVENT_DROPS)
			continue;
		events++;
		slow |= ev.drops.slow_reader;
		dropped += ev.drops.dropped;
		ck_assert_msg(ev.drops.kernel_drops > last,
			      "drop totals not rising: %llu after %llu",
			      (unsigned long long)ev.drops.kernel_drops,
			      (unsigned long long)last);
		last = ev.drops.kernel_drops;
		ck_assert_msg(ev.detail[0] != '\0',
			      "a drop event without words");
	}
	/* A marker brings the final count, and any last drop event. */
	f = util_frame(0x3A2, 0, "FF");
	util_raw_send(s, &f);
	do {
		rc = cand_recv_event(h, &ev, RX_TIMEOUT_MS);
		ck_assert_msg(rc == 1, "marker: %s", cand_strerror(rc));
		if (ev.type == CAND_EVENT_DROPS) {
			events++;
			slow |= ev.drops.slow_reader;
			dropped += ev.drops.dropped;
			last = ev.drops.kernel_drops;
		}
	} while (ev.type != CAND_EVENT_FRAME);
	backlog = backlog_drops() - backlog0;
	fprintf(stderr,
		"test_drop_events_for_a_slow_reader: sent %u, received %u, "
		"%d drop events, %llu dropped, backlog %llu\n",
		sent, received, events, (unsigned long long)dropped,
		(unsigned long long)backlog);
	ck_assert_msg(events > 0 && dropped > 0,
		      "no drop event after %u frames to a client that did "
		      "not read (received %u)",
		      sent, received);
	/*
	 * Under valgrind the daemon itself is slower than the flood: the
	 * kernel drops before the client's output ever fills, and the events
	 * rightly do not blame the client.
	 */
	if (getenv("CAND_DAEMON_WRAPPER") == NULL ||
	    getenv("CAND_DAEMON_WRAPPER")[0] == '\0')
		ck_assert_msg(slow, "no drop event says the reader was slow");
	ck_assert_uint_eq(dropped, last);
	ck_assert_uint_eq(cand_kernel_drops(h), last);
	ck_assert_msg(received + dropped + backlog == sent,
		      "received %u + dropped %llu + backlog %llu != sent %u",
		      received, (unsigned long long)dropped,
		      (unsigned long long)backlog, sent);
	close(s);
	cand_close(h);
}
END_TEST

/* ---- flush ---- */

START_TEST(test_flush_with_nothing_pending)
{
	cand_t *h = util_open("vcan0");
	char note[256];
	int rc;

	rc = cand_flush_tx(h, note, sizeof(note));
	ck_assert_msg(rc == 0, "flush: %d %s", rc, cand_strerror(rc));
	/* It says what is not flushed. */
	ck_assert_msg(strstr(note, "not flushed") != NULL &&
			      strstr(note, "shared") != NULL,
		      "note: %s", note);
	cand_close(h);

	h = util_connect();
	rc = cand_flush_tx(h, NULL, 0);
	ck_assert_msg(rc == CAND_ENOTOPEN, "flush before open: %s",
		      cand_strerror(rc));
	cand_close(h);
}
END_TEST

static int wire_connect(void)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", getenv("CAND_SOCKET"));
	ck_assert_msg(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0,
		      "connect: %s", strerror(errno));
	return fd;
}

static void wire_send(int fd, const Cand__Request *req)
{
	size_t len = cand__request__get_packed_size(req);
	uint8_t *buf = malloc(CAND_WIRE_HDR + len);

	ck_assert_ptr_nonnull(buf);
	wire_put_len(buf, (uint32_t)len);
	cand__request__pack(req, buf + CAND_WIRE_HDR);
	ck_assert_int_eq(send(fd, buf, CAND_WIRE_HDR + len, MSG_NOSIGNAL),
			 (ssize_t)(CAND_WIRE_HDR + len));
	free(buf);
}

static int wire_read(int fd, uint8_t *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};

		if (poll(&pfd, 1, EV_WAIT_MS) <= 0)
			return -1;
		n = read(fd, buf + got, len - got);
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

/* The next Reply, skipping events. */
static Cand__Reply *wire_reply(int fd, Cand__ServerMsg **keep)
{
	uint8_t hdr[CAND_WIRE_HDR], *body;
	Cand__ServerMsg *m;
	uint32_t len;

	for (;;) {
		ck_assert_msg(wire_read(fd, hdr, sizeof(hdr)) == 0,
			      "no reply within %d ms", EV_WAIT_MS);
		len = wire_get_len(hdr);
		body = malloc(len);
		ck_assert_ptr_nonnull(body);
		ck_assert_int_eq(wire_read(fd, body, len), 0);
		m = cand__server_msg__unpack(NULL, len, body);
		free(body);
		ck_assert_ptr_nonnull(m);
		if (m->msg_case == CAND__SERVER_MSG__MSG_REPLY) {
			*keep = m;
			return m->reply;
		}
		cand__server_msg__free_unpacked(m, NULL);
	}
}

/*
 * A send waits for room behind a slow qdisc; a flush_tx sent right after
 * it goes ahead, cancels it and says how many frames were dropped.
 */
START_TEST(test_flush_cancels_a_pending_send)
{
	enum { N = 200 };
	Cand__Request req = CAND__REQUEST__INIT;
	Cand__OpenRequest open = CAND__OPEN_REQUEST__INIT;
	Cand__SendRequest sr = CAND__SEND_REQUEST__INIT;
	Cand__FlushTxRequest fr = CAND__FLUSH_TX_REQUEST__INIT;
	Cand__Frame frames[N], *fp[N];
	Cand__ServerMsg *m1, *m2;
	Cand__Reply *r;
	uint8_t data[1] = {0x55};
	uint32_t sent;
	int64_t t0;
	int fd, i;

	ck_assert_int_eq(util_sh("modprobe sch_tbf 2>/dev/null; "
				 "ip link add dev %s type vcan && "
				 "ip link set %s up && "
				 "tc qdisc add dev %s root tbf rate 1kbit "
				 "burst 100 limit 100",
				 FL_IFACE, FL_IFACE, FL_IFACE),
			 0);
	fd = wire_connect();
	open.channel = FL_IFACE;
	req.id = 1;
	req.op_case = CAND__REQUEST__OP_OPEN;
	req.open = &open;
	wire_send(fd, &req);
	r = wire_reply(fd, &m1);
	ck_assert_int_eq(r->status, CAND__STATUS__OK);
	cand__server_msg__free_unpacked(m1, NULL);

	for (i = 0; i < N; i++) {
		cand__frame__init(&frames[i]);
		frames[i].id = 0x200 + (uint32_t)i;
		frames[i].data.data = data;
		frames[i].data.len = 1;
		fp[i] = &frames[i];
	}
	sr.frames = fp;
	sr.n_frames = N;
	sr.timeout_ms = 20000;
	req.id = 2;
	req.op_case = CAND__REQUEST__OP_SEND;
	req.send = &sr;
	wire_send(fd, &req);
	util_msleep(300); /* the send is now waiting for room */
	req.id = 3;
	req.op_case = CAND__REQUEST__OP_FLUSH_TX;
	req.flush_tx = &fr;
	t0 = now_ms();
	wire_send(fd, &req);

	/* The send is answered first, cancelled, long before its timeout. */
	r = wire_reply(fd, &m1);
	ck_assert_uint_eq(r->id, 2);
	ck_assert_msg(r->status != CAND__STATUS__OK, "the send succeeded");
	ck_assert_msg(strstr(r->detail, "flush") != NULL, "send detail: %s",
		      r->detail);
	ck_assert_int_eq(r->result_case, CAND__REPLY__RESULT_SEND);
	sent = r->send->sent;
	ck_assert_msg(sent > 0 && sent < N, "sent %u of %d", sent, N);
	r = wire_reply(fd, &m2);
	ck_assert_uint_eq(r->id, 3);
	ck_assert_int_eq(r->status, CAND__STATUS__OK);
	ck_assert_int_eq(r->result_case, CAND__REPLY__RESULT_FLUSH_TX);
	ck_assert_uint_eq(r->flush_tx->dropped, N - sent);
	ck_assert_int_eq(r->flush_tx->kernel_queue_flushed, 0);
	ck_assert_msg(now_ms() - t0 < 10000, "the flush took %lld ms",
		      (long long)(now_ms() - t0));
	cand__server_msg__free_unpacked(m1, NULL);
	cand__server_msg__free_unpacked(m2, NULL);
	close(fd);
	ck_assert_int_eq(util_sh("ip link del %s", FL_IFACE), 0);
}
END_TEST

/* ---- cand.conf and the bus-off policy ---- */

struct alt_daemon {
	pid_t pid;
};

/* A second daemon with its own socket and config file; 0 once it serves. */
static int alt_start(struct alt_daemon *d, const char *conf_text)
{
	const char *builddir = getenv("BUILDDIR");
	char path[512];
	FILE *f;
	int i;

	ck_assert_ptr_nonnull(builddir);
	if (conf_text != NULL) {
		f = fopen(ALT_CONF, "w");
		ck_assert_ptr_nonnull(f);
		fputs(conf_text, f);
		fclose(f);
	}
	unlink(ALT_SOCK);
	snprintf(path, sizeof(path), "%s/cand", builddir);
	fflush(NULL);
	d->pid = fork();
	ck_assert_int_ge(d->pid, 0);
	if (d->pid == 0) {
		if (freopen(ALT_LOG, "w", stderr) == NULL)
			_exit(126);
		execl(path, "cand", "-f", "-s", ALT_SOCK, "-c", ALT_CONF,
		      (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 200; i++) {
		struct stat st;

		if (waitpid(d->pid, NULL, WNOHANG) == d->pid)
			return -1;
		if (stat(ALT_SOCK, &st) == 0)
			return 0;
		util_msleep(50);
	}
	return -1;
}

static void alt_stop(struct alt_daemon *d)
{
	int st;

	kill(d->pid, SIGTERM);
	waitpid(d->pid, &st, 0);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "the second daemon did not exit cleanly (%d)", st);
}

static char *alt_log(void)
{
	static char buf[16384];
	size_t n;
	FILE *f = fopen(ALT_LOG, "r");

	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

START_TEST(test_policy_kernel_restart_ms_at_startup)
{
	struct alt_daemon d;
	struct cand_bus_state s;
	cand_t *h = NULL;

	ck_assert_msg(alt_start(&d, "# bus-off recovery\n"
				    "[interface can1]\n"
				    "busoff-recovery = kernel\n"
				    "restart-ms = 250\n") == 0,
		      "the second daemon did not start:\n%s", alt_log());
	assert_ip_says("can1", "restart-ms 250");
	ck_assert_int_eq(cand_connect(&h, ALT_SOCK), 0);
	s = one_state(h, "can1");
	ck_assert_uint_eq(s.config.restart_ms, 250);
	ck_assert_msg(strstr(s.busoff_policy, "restart-ms 250 (cand.conf)") !=
			      NULL,
		      "policy: %s", s.busoff_policy);
	cand_close(h);
	alt_stop(&d);
	ck_assert_msg(strstr(alt_log(), "can1: restart-ms 100 -> 250") != NULL,
		      "log:\n%s", alt_log());
}
END_TEST

START_TEST(test_policy_cand_driven)
{
	struct alt_daemon d;
	struct cand_bus_state s;
	cand_t *h = NULL;

	ck_assert_msg(alt_start(&d, "[interface can1]\n"
				    "busoff-recovery = cand\n"
				    "restart-delay-ms = 200\n"
				    "max-restarts-per-minute = 3\n"
				    "[interface vcan0]\n"
				    "busoff-recovery = none\n") == 0,
		      "the second daemon did not start:\n%s", alt_log());
	/* cand restarts, so the kernel must not. */
	assert_ip_says("can1", "restart-ms 0");
	ck_assert_int_eq(cand_connect(&h, ALT_SOCK), 0);
	s = one_state(h, "can1");
	ck_assert_msg(
		strstr(s.busoff_policy,
		       "cand restarts after 200 ms, at most 3 a minute") !=
			NULL,
		"policy: %s", s.busoff_policy);
	cand_close(h);
	alt_stop(&d);
	ck_assert_msg(strstr(alt_log(), "vcan0: cand.conf's bus-off recovery "
					"ignored") != NULL,
		      "log:\n%s", alt_log());
}
END_TEST

/* How many times the second daemon's log says what. */
static int alt_count(const char *what)
{
	const char *p;
	int n = 0;

	for (p = alt_log(); (p = strstr(p, what)) != NULL; p++)
		n++;
	return n;
}

/* Rewrites the second daemon's config and waits for its reload. */
static void alt_reload(struct alt_daemon *d, const char *conf_text)
{
	FILE *f = fopen(ALT_CONF, "w");
	int i, n = alt_count("reloaded ");

	ck_assert_ptr_nonnull(f);
	fputs(conf_text, f);
	fclose(f);
	kill(d->pid, SIGHUP);
	for (i = 0; i < 200 && alt_count("reloaded ") == n; i++)
		util_msleep(50);
	ck_assert_msg(alt_count("reloaded ") > n, "no reload in the log:\n%s",
		      alt_log());
}

/* SIGHUP brings a changed bus-off policy to the live interfaces. */
START_TEST(test_policy_reloaded_on_sighup)
{
	struct alt_daemon d;
	struct cand_bus_state s;
	cand_t *h = NULL;

	ck_assert_msg(alt_start(&d, "[interface can1]\n"
				    "busoff-recovery = kernel\n"
				    "restart-ms = 250\n") == 0,
		      "the second daemon did not start:\n%s", alt_log());
	assert_ip_says("can1", "restart-ms 250");

	alt_reload(&d, "[interface can1]\n"
		       "busoff-recovery = cand\n"
		       "restart-delay-ms = 200\n"
		       "max-restarts-per-minute = 3\n");
	assert_ip_says("can1", "restart-ms 0");
	ck_assert_int_eq(cand_connect(&h, ALT_SOCK), 0);
	s = one_state(h, "can1");
	ck_assert_msg(
		strstr(s.busoff_policy,
		       "cand restarts after 200 ms, at most 3 a minute") !=
			NULL,
		"policy: %s", s.busoff_policy);
	ck_assert_msg(strstr(alt_log(), "can1: bus-off recovery now: cand "
					"restarts after 200 ms") != NULL,
		      "log:\n%s", alt_log());

	/* The same policy again: nothing to do, nothing logged. */
	alt_reload(&d, "[interface can1]\n"
		       "busoff-recovery = cand\n"
		       "restart-delay-ms = 200\n"
		       "max-restarts-per-minute = 3\n");
	ck_assert_msg(alt_count("bus-off recovery now") == 1,
		      "an unchanged policy was applied again:\n%s", alt_log());

	/* No section: restart-ms stays as it is, the policy goes. */
	alt_reload(&d, "# nothing for can1\n");
	assert_ip_says("can1", "restart-ms 0");
	s = one_state(h, "can1");
	ck_assert_msg(strstr(s.busoff_policy, "none: stays bus-off") != NULL,
		      "policy: %s", s.busoff_policy);
	cand_close(h);
	alt_stop(&d);
}
END_TEST

START_TEST(test_policy_bad_config_stops_startup)
{
	static const char *const bad[] = {
		"[interface can1]\nbusoff-recovery = sometimes\n",
		"[interface can1]\nbusoff-recovery = cand\nrestart-ms = 5\n",
		"[interface can1]\nrestart-delay-ms = 5\n",
		"[interface can1]\nbusoff-recovery = cand\ncolour = blue\n",
		"[interface can1]\nbusoff-recovery = cand\n"
		"max-restarts-per-minute = 1000\n",
	};
	struct alt_daemon d;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(alt_start(&d, bad[i]) < 0,
			      "started with a bad config:\n%s", bad[i]);
		ck_assert_msg(strstr(alt_log(), ALT_CONF) != NULL,
			      "no file name in the error:\n%s", alt_log());
	}
	ck_assert_msg(strstr(alt_log(), ALT_CONF ":3:") != NULL, "no line:\n%s",
		      alt_log());
	/* -c with a file that is not there is an error too. */
	unlink(ALT_CONF);
	ck_assert_msg(alt_start(&d, NULL) < 0,
		      "started with a missing -c file");
	assert_ip_says("can1", "restart-ms 100");
}
END_TEST

Suite *health_suite(void)
{
	Suite *s = suite_create("health");
	TCase *tc = util_tcase("state");

	tcase_add_test(tc, test_state_vcan_not_applicable);
	tcase_add_test(tc, test_state_controller);
	tcase_add_test(tc, test_state_all);
	tcase_add_test(tc, test_state_unknown_interface);
	tcase_add_test(tc, test_state_counts_frames_between_controllers);
	suite_add_tcase(s, tc);

	tc = util_tcase("configure");
	tcase_add_checked_fixture(tc, restore_controllers, NULL);
	tcase_add_unchecked_fixture(tc, NULL, restore_controllers);
	tcase_add_test(tc, test_configure_bitrate_read_back);
	tcase_add_test(tc, test_configure_sample_point);
	tcase_add_test(tc, test_configure_restart_ms);
	tcase_add_test(tc, test_configure_listen_only);
	tcase_add_test(tc, test_configure_down_and_up);
	tcase_add_test(tc, test_configure_unprivileged);
	tcase_add_test(tc, test_configure_refusals);
	tcase_add_test(tc, test_restart_refused_with_reason);
	tcase_add_test(tc, test_config_event_from_ip_link);
	suite_add_tcase(s, tc);

	tc = util_tcase("events");
	tcase_add_checked_fixture(tc, restore_vcans, NULL);
	tcase_add_unchecked_fixture(tc, NULL, restore_vcans);
	tcase_add_test(tc, test_error_frames_drive_state);
	tcase_add_test(tc, test_hotplug_rebinds_with_same_filters);
	tcase_add_test(tc, test_flush_with_nothing_pending);
	tcase_add_test(tc, test_flush_cancels_a_pending_send);
	suite_add_tcase(s, tc);

	tc = util_tcase("drops");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_drop_events_for_a_slow_reader);
	suite_add_tcase(s, tc);

	tc = util_tcase("policy");
	tcase_add_checked_fixture(tc, restore_controllers, NULL);
	tcase_add_unchecked_fixture(tc, NULL, restore_controllers);
	tcase_add_test(tc, test_policy_kernel_restart_ms_at_startup);
	tcase_add_test(tc, test_policy_cand_driven);
	tcase_add_test(tc, test_policy_reloaded_on_sighup);
	tcase_add_test(tc, test_policy_bad_config_stops_startup);
	suite_add_tcase(s, tc);
	return s;
}
