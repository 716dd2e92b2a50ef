/*
 * Clients that outlive the daemon (cand.h, "Reconnection"): a daemon of
 * the test's own is stopped, killed or frozen and started again on the
 * same socket, and a handle comes back by itself with its channel,
 * filters, tasks and monitors, says so once, loses only the gap, and
 * gives up or stays away when it should. A raw CAN_RAW socket watches
 * the bus, so the tasks are seen to stop and resume independently.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/sockios.h>

#include "util.h"

static struct util_daemon d;

static int64_t rs_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The daemon stopped (SIGTERM) and started again on its socket. */
static void rs_restart(const char *conf)
{
	char name[sizeof(d.name)];

	memcpy(name, d.name, sizeof(name));
	util_daemon_stop(&d);
	util_daemon_start(&d, name, conf);
}

/* A handle on our daemon, reconnecting for reconnect_ms (< 0: default). */
static cand_t *rs_connect(int reconnect_ms)
{
	struct cand_connect_options o;
	cand_t *h = NULL;
	int rc;

	cand_connect_options_init(&o);
	o.path = d.sock;
	o.reconnect_ms = reconnect_ms;
	rc = cand_connect_opts(&h, &o);
	ck_assert_msg(rc == 0, "connect to %s: %s", d.sock, cand_strerror(rc));
	return h;
}

static cand_t *rs_open(const char *channel, const struct cand_filter *f,
		       size_t n)
{
	struct cand_options o;
	cand_t *h = rs_connect(-1);
	int rc;

	cand_options_init(&o);
	o.channel = channel;
	o.filters = f;
	o.n_filters = n;
	rc = cand_open(h, &o);
	ck_assert_msg(rc == 0, "open %s: %s (%s)", channel, cand_strerror(rc),
		      cand_last_detail(h));
	return h;
}

/*
 * Receives until CAND_ERECONNECTED, polling cand_fileno() as an event loop
 * would: it must stay the same descriptor and wake up for every step.
 */
static void rs_await_reconnect(cand_t *h, int fd)
{
	int64_t end = rs_now_ms() + 20000;
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	struct cand_frame f;
	int rc;

	for (;;) {
		while ((rc = cand_recv(h, &f, 0)) == 1)
			;
		if (rc == CAND_ERECONNECTED)
			break;
		ck_assert_msg(rc == CAND_ETIMEOUT, "cand_recv: %s (%s)",
			      cand_strerror(rc), cand_last_detail(h));
		ck_assert_msg(rs_now_ms() < end, "no reconnection in 20 s");
		ck_assert_int_ge(poll(&pfd, 1, 1000), 0);
	}
	ck_assert_msg(strstr(cand_last_detail(h), "reconnected") != NULL,
		      "detail: %s", cand_last_detail(h));
	ck_assert_int_eq(cand_fileno(h), fd);
}

START_TEST(test_frames_after_restart)
{
	/* 0x100-0x1FF only: the filter must come back with the channel. */
	struct cand_filter flt = {.id = 0x100, .mask = 0x700};
	struct cand_frame in = util_frame(0x123, 0, "01"), out = in, f;
	cand_t *h, *ev_h;
	struct cand_event ev;
	int s, fd, rc;
	uint64_t before;

	util_daemon_start(&d, "rs-frames", "");
	h = rs_open("vcan0", &flt, 1);
	ev_h = rs_open("vcan0", &flt, 1);
	fd = cand_fileno(h);
	ck_assert_int_ge(fd, 0);
	s = util_raw_open("vcan0", 0);
	util_raw_send(s, &in);
	util_recv_ok(h, &f, "before the restart");
	util_assert_frame(&f, &in, "before the restart");

	before = util_now_ns();
	rs_restart("");
	rs_await_reconnect(h, fd);
	/* Once: the next call receives again. */
	out.data[0] = 2;
	util_raw_send(s, &out);
	util_recv_ok(h, &f, "after the restart");
	util_assert_frame(&f, &out, "after the restart");
	f = util_frame(0x223, 0, "03");
	util_raw_send(s, &f);
	util_recv_none(h, SETTLE_MS, "a frame the kept filter drops");

	/* The other handle hears it as an event, after the old frame. */
	ck_assert_int_eq(cand_recv_event(ev_h, &ev, RX_TIMEOUT_MS), 1);
	ck_assert_int_eq(ev.type, CAND_EVENT_FRAME);
	ck_assert_uint_eq(ev.frame.data[0], 1);
	rc = cand_recv_event(ev_h, &ev, 20000);
	ck_assert_msg(rc == 1, "recv_event: %s (%s)", cand_strerror(rc),
		      cand_last_detail(ev_h));
	ck_assert_int_eq(ev.type, CAND_EVENT_RECONNECTED);
	ck_assert(ev.reconnect.shutdown);
	ck_assert_uint_gt(ev.reconnect.gap_ns, 0);
	ck_assert_uint_ge(ev.reconnect.lost_ns, before);
	ck_assert_uint_ge(ev.frame.timestamp_ns, ev.reconnect.lost_ns);
	/* Frame 2 came in its gap, which ended only now: lost, as said. */
	out.data[0] = 4;
	util_raw_send(s, &out);
	ck_assert_int_eq(cand_recv_event(ev_h, &ev, RX_TIMEOUT_MS), 1);
	ck_assert_int_eq(ev.type, CAND_EVENT_FRAME);
	ck_assert_uint_eq(ev.frame.data[0], 4);
	ck_assert_uint_ge(ev.frame.timestamp_ns, ev.reconnect.lost_ns);
	cand_close(ev_h);
	cand_close(h);
	close(s);
	util_daemon_stop(&d);
}
END_TEST

/* The kernel's receive time of the frame just read from s, in ns. */
static uint64_t rs_raw_time(int s)
{
	struct timespec ts;

	ck_assert_int_eq(ioctl(s, SIOCGSTAMPNS, &ts), 0);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The frames of id on the bus for ms: how many, and when the last came. */
static int rs_count(int s, uint32_t id, int ms, uint64_t *last)
{
	int64_t end = rs_now_ms() + ms;
	struct cand_frame f;
	int n = 0;

	while (rs_now_ms() < end)
		if (util_raw_recv(s, &f, (int)(end - rs_now_ms())) == 1 &&
		    f.id == id) {
			n++;
			if (last != NULL)
				*last = rs_raw_time(s);
		}
	return n;
}

START_TEST(test_tasks_and_monitors_come_back)
{
	struct cand_frame a = util_frame(0x321, 0, "AA"), b, f;
	struct cand_monitor_opts mo;
	struct cand_task_info *list = NULL;
	struct cand_event ev;
	cand_task_t *t, *paused;
	cand_monitor_t *m;
	uint64_t last = 0, first;
	uint32_t tid, mid;
	cand_t *h;
	int s, n, i, rc;

	util_daemon_start(&d, "rs-tasks", "");
	h = rs_open("vcan0", NULL, 0);
	s = util_raw_open("vcan0", 0);
	ck_assert_int_eq(cand_task_start(h, &a, 1, 20000, 0, 0, &t), 0);
	b = util_frame(0x322, 0, "BB");
	ck_assert_int_eq(
		cand_task_start(h, &b, 1, 20000, 0, CAND_TASK_PAUSED, &paused),
		0);
	cand_monitor_opts_init(&mo);
	mo.id = 0x555;
	ck_assert_int_eq(cand_monitor_start(h, &mo, &m), 0);
	tid = cand_task_id(t);
	mid = cand_monitor_id(m);
	n = rs_count(s, 0x321, 300, &last);
	ck_assert_msg(n >= 5, "%d task frames in 300 ms before", n);

	rs_restart("");
	/* Stopped with the daemon: nothing while it is away. */
	n = rs_count(s, 0x321, 100, &last);
	do {
		rc = cand_recv_event(h, &ev, 20000);
		ck_assert_msg(rc == 1, "recv_event: %s (%s)", cand_strerror(rc),
			      cand_last_detail(h));
	} while (ev.type != CAND_EVENT_RECONNECTED);
	ck_assert_int_eq(util_raw_recv(s, &f, RX_TIMEOUT_MS), 1);
	while (f.id != 0x321)
		ck_assert_int_eq(util_raw_recv(s, &f, RX_TIMEOUT_MS), 1);
	first = rs_raw_time(s);
	ck_assert_msg(first > last, "the task's frames never stopped");
	/* The handle's own gap counts from when it was next called. */
	printf("restart: the task's frames stopped for %llu ms\n",
	       (unsigned long long)(first - last) / 1000000);
	util_assert_frame(&f, &a, "the task's frame after the restart");
	n = rs_count(s, 0x321, 300, NULL);
	ck_assert_msg(n >= 5, "%d task frames in 300 ms after", n);
	ck_assert_int_eq(rs_count(s, 0x322, SETTLE_MS, NULL), 0);

	/* The same handles and ids, the state as it was. */
	ck_assert_uint_eq(cand_task_id(t), tid);
	ck_assert_uint_eq(cand_monitor_id(m), mid);
	rc = cand_task_list(h, &list);
	ck_assert_int_eq(rc, 2);
	for (i = 0; i < rc; i++)
		ck_assert_int_eq(list[i].state, list[i].id == tid
							? CAND_TASK_RUNNING
							: CAND_TASK_STOPPED);
	ck_assert(list[0].id == tid || list[1].id == tid);
	ck_assert(list[0].id == cand_task_id(paused) ||
		  list[1].id == cand_task_id(paused));
	free(list);
	f = util_frame(0x555, 0, "01");
	util_raw_send(s, &f);
	do
		ck_assert_int_eq(cand_recv_event(h, &ev, RX_TIMEOUT_MS), 1);
	while (ev.type != CAND_EVENT_MONITOR_CHANGED);
	ck_assert_uint_eq(ev.id, mid);

	/* And they are still the application's to change. */
	a.data[0] = 0xAB;
	ck_assert_int_eq(cand_task_modify(t, &a, 1), 0);
	ck_assert_int_eq(cand_task_resume(paused), 0);
	ck_assert_int_ge(rs_count(s, 0x322, 200, NULL), 3);
	do
		ck_assert_int_eq(util_raw_recv(s, &f, RX_TIMEOUT_MS), 1);
	while (f.id != 0x321 || f.data[0] != 0xAB);
	cand_task_free(t);
	cand_task_free(paused);
	util_msleep(SETTLE_MS);
	while (util_raw_recv(s, &f, 0) == 1)
		;
	ck_assert_int_eq(rs_count(s, 0x321, SETTLE_MS, NULL), 0);
	cand_monitor_free(m);
	cand_close(h);
	close(s);
	util_daemon_stop(&d);
}
END_TEST

/* A daemon that dies without a word (SIGKILL): EOF, and back. */
START_TEST(test_killed_daemon)
{
	struct cand_frame f = util_frame(0x124, 0, "05");
	struct cand_event ev;
	cand_t *h;
	int s, rc, st;

	util_daemon_start(&d, "rs-kill", "");
	h = rs_open("vcan0", NULL, 0);
	s = util_raw_open("vcan0", 0);
	ck_assert_int_eq(kill(d.pid, SIGKILL), 0);
	ck_assert_int_eq(waitpid(d.pid, &st, 0), d.pid);
	d.pid = 0;
	util_daemon_start(&d, "rs-kill", "");
	do {
		rc = cand_recv_event(h, &ev, 20000);
		ck_assert_msg(rc == 1, "recv_event: %s (%s)", cand_strerror(rc),
			      cand_last_detail(h));
	} while (ev.type != CAND_EVENT_RECONNECTED);
	ck_assert(!ev.reconnect.shutdown);
	util_raw_send(s, &f);
	util_recv_ok(h, &f, "after the kill");
	cand_close(h);
	close(s);
	util_daemon_stop(&d);
}
END_TEST

/*
 * In a child: after ms, the frozen daemon is killed and the child becomes
 * a new one on its socket. Returns the child's pid, the new daemon's.
 */
static pid_t rs_replace_later(int ms)
{
	const char *build = getenv("BUILDDIR");
	pid_t old = d.pid, pid;
	int fd;

	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		util_msleep(ms);
		kill(old, SIGKILL);
		util_msleep(100);
		fd = open(d.log, O_WRONLY | O_APPEND | O_CLOEXEC);
		dup2(fd, 1);
		dup2(fd, 2);
		execl("tests/integ/start-daemon.sh",
		      "tests/integ/start-daemon.sh", build, d.sock, d.conf,
		      (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* The new daemon of rs_replace_later() is ours; the old one is reaped. */
static void rs_replaced(pid_t old, pid_t now)
{
	int st;

	ck_assert_int_eq(waitpid(old, &st, 0), old);
	d.pid = now;
}

START_TEST(test_request_in_flight)
{
	struct cand_frame f = util_frame(0x125, 0, "06"), got;
	struct cand_iface *l = NULL;
	pid_t old, now;
	cand_t *h;
	int s, rc;

	util_daemon_start(&d, "rs-flight", "");
	h = rs_open("vcan0", NULL, 0);
	s = util_raw_open("vcan0", 0);

	/* Asking only: answered by the daemon that comes next. */
	old = d.pid;
	ck_assert_int_eq(kill(old, SIGSTOP), 0);
	now = rs_replace_later(300);
	rc = cand_list(h, &l);
	rs_replaced(old, now);
	ck_assert_msg(rc >= 1, "cand_list across a restart: %s (%s)",
		      cand_strerror(rc), cand_last_detail(h));
	free(l);

	/* A send may have gone out: said, not repeated. */
	old = d.pid;
	ck_assert_int_eq(kill(old, SIGSTOP), 0);
	now = rs_replace_later(300);
	rc = cand_send(h, &f, 1, 0);
	rs_replaced(old, now);
	ck_assert_msg(rc == CAND_ERECONNECTED, "send across a restart: %s (%s)",
		      cand_strerror(rc), cand_last_detail(h));
	ck_assert_msg(strstr(cand_last_detail(h), "may or may not") != NULL,
		      "detail: %s", cand_last_detail(h));
	util_raw_recv_none(s, SETTLE_MS, "a send the frozen daemon never did");
	/* The handle is back: the next send goes. */
	util_send(h, &f, 1);
	util_raw_recv_ok(s, &got, "the send after the restart");
	util_assert_frame(&got, &f, "the send after the restart");
	cand_close(h);
	close(s);
	util_daemon_stop(&d);
}
END_TEST

START_TEST(test_gives_up)
{
	struct cand_frame f = util_frame(0x126, 0, "07");
	cand_task_t *t;
	int64_t t0, t1;
	cand_t *h;
	int rc;

	util_daemon_start(&d, "rs-giveup", "");
	h = rs_connect(600);
	ck_assert_int_eq(util_try_open(h, "vcan0"), 0);
	ck_assert_int_eq(cand_task_start(h, &f, 1, 10000, 0, 0, &t), 0);
	util_daemon_stop(&d);
	t0 = rs_now_ms();
	/* The task's frames until the shutdown event, then nothing yet. */
	while ((rc = cand_recv(h, &f, 0)) == 1)
		;
	ck_assert_int_eq(rc, CAND_ETIMEOUT);
	/* No daemon has the task now: stopping it waits for none. */
	t1 = rs_now_ms();
	ck_assert_int_eq(cand_task_stop(t), 0);
	cand_task_free(t);
	ck_assert_msg(rs_now_ms() - t1 < 300, "the task calls took %lld ms",
		      (long long)(rs_now_ms() - t1));
	rc = cand_recv(h, &f, 20000);
	ck_assert_msg(rc == CAND_ESHUTDOWN, "cand_recv: %s (%s)",
		      cand_strerror(rc), cand_last_detail(h));
	ck_assert_msg(rs_now_ms() - t0 >= 500 && rs_now_ms() - t0 < 5000,
		      "gave up after %lld ms, want 600",
		      (long long)(rs_now_ms() - t0));
	ck_assert_msg(strstr(cand_last_detail(h), "gave up") != NULL,
		      "detail: %s", cand_last_detail(h));
	/* Then every call fails as without reconnection. */
	ck_assert_int_eq(cand_send(h, &f, 1, 0), CAND_ESHUTDOWN);
	ck_assert_int_eq(cand_recv(h, &f, 0), CAND_ESHUTDOWN);
	cand_close(h);
}
END_TEST

START_TEST(test_off)
{
	struct cand_frame f;
	cand_t *h;

	/* The environment turns it off for plain cand_connect() too. */
	setenv("CAND_RECONNECT_MS", "0", 1);
	util_daemon_start(&d, "rs-off", "");
	ck_assert_int_eq(cand_connect(&h, d.sock), 0);
	ck_assert_int_eq(util_try_open(h, "vcan0"), 0);
	rs_restart("");
	ck_assert_int_eq(cand_recv(h, &f, 10000), CAND_ESHUTDOWN);
	ck_assert_int_eq(cand_recv(h, &f, 0), CAND_ESHUTDOWN);
	cand_close(h);
	util_daemon_stop(&d);
}
END_TEST

/* A daemon that turns the handle away on its return is not argued with. */
START_TEST(test_refused_on_return)
{
	const char *conf = "[limits]\nmax_clients = 1\n";
	struct cand_frame f;
	cand_t *h, *other;
	int rc;

	util_daemon_start(&d, "rs-refused", conf);
	h = rs_open("vcan0", NULL, 0);
	rs_restart(conf);
	/* The place is taken before h tries again (the probe gone first). */
	util_msleep(SETTLE_MS);
	other = util_connect_as(d.sock, 0, 0);
	ck_assert_int_eq(util_try_open(other, "vcan0"), 0);
	rc = cand_recv(h, &f, 20000);
	ck_assert_msg(rc == CAND_ELIMIT, "cand_recv: %s (%s)",
		      cand_strerror(rc), cand_last_detail(h));
	ck_assert_msg(strstr(cand_last_detail(h), "max_clients") != NULL,
		      "detail: %s", cand_last_detail(h));
	ck_assert_int_eq(cand_recv(h, &f, 0), CAND_ELIMIT);
	cand_close(h);
	cand_close(other);
	util_daemon_stop(&d);
}
END_TEST

Suite *restart_suite(void)
{
	Suite *s = suite_create("restart");
	TCase *tc = util_tcase("restart");

	tcase_add_test(tc, test_frames_after_restart);
	tcase_add_test(tc, test_tasks_and_monitors_come_back);
	tcase_add_test(tc, test_killed_daemon);
	tcase_add_test(tc, test_request_in_flight);
	tcase_add_test(tc, test_gives_up);
	tcase_add_test(tc, test_off);
	tcase_add_test(tc, test_refused_on_return);
	suite_add_tcase(s, tc);
	return s;
}
