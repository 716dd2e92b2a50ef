/*
 * Lifetimes: interfaces going down or away under a bound client, clients
 * that die mid-stream, and the daemon's sockets being cleaned up after
 * them.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define TMP_IFACE "vcantest0"

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits up to ms for f() to return want; returns the last value. */
static int wait_for(int (*f)(void), int want, int ms)
{
	int64_t end = now_ms() + ms;
	int v;

	while ((v = f()) != want && now_ms() < end)
		util_msleep(20);
	return v;
}

/* Receives until a status other than a frame or timeout; returns it. */
static int recv_status(cand_t *h, int timeout_ms)
{
	struct cand_frame f;
	int64_t end = now_ms() + timeout_ms;
	int rc;

	do {
		rc = cand_recv(h, &f,
			       (int)(end - now_ms() > 0 ? end - now_ms() : 0));
	} while (rc == 1 && now_ms() < end);
	return rc;
}

/* Runs in the parent after the case, even when a test failed. */
static void restore_links(void)
{
	if (system("ip link set vcan1 up; ip link del " TMP_IFACE
		   " 2>/dev/null; true") != 0)
		fprintf(stderr, "restoring links failed\n");
}

START_TEST(test_interface_down_and_up)
{
	cand_t *a = util_open("vcan1");
	cand_t *other = util_open("vcan0");
	struct cand_frame f = util_frame(0x101, 0, "01"), got;
	int s0 = util_raw_open("vcan0", 0), s1, rc;

	ck_assert_int_eq(util_sh("ip link set vcan1 down"), 0);
	rc = recv_status(a, RX_TIMEOUT_MS);
	ck_assert_msg(rc == CAND_ENETDOWN,
		      "cand_recv on vcan1 after link down: %d %s, want "
		      "CAND_ENETDOWN",
		      rc, cand_strerror(rc));
	ck_assert_msg(cand_last_detail(a)[0] != '\0',
		      "no detail with CAND_ENETDOWN");

	/* Sending on a down interface is a clear status too. */
	rc = cand_send(a, &f, 1, 0);
	ck_assert_msg(rc == CAND_ENETDOWN,
		      "cand_send on a down interface: %d %s (%s), want "
		      "CAND_ENETDOWN",
		      rc, cand_strerror(rc), cand_last_detail(a));

	/* Everyone else is served meanwhile. */
	ck_assert_msg(util_daemon_alive(), "the daemon died");
	util_send(other, &f, 1);
	util_raw_recv_ok(s0, &got, "vcan0 while vcan1 is down");
	util_assert_frame(&got, &f, "vcan0 while vcan1 is down");

	/* Up again: the same handle goes on in both directions. */
	ck_assert_int_eq(util_sh("ip link set vcan1 up"), 0);
	s1 = util_raw_open("vcan1", 0);
	f = util_frame(0x102, 0, "02");
	util_raw_send(s1, &f);
	util_recv_ok(a, &got, "vcan1 after it came back up");
	util_assert_frame(&got, &f, "vcan1 after it came back up");
	f = util_frame(0x103, 0, "03");
	util_send(a, &f, 1);
	util_raw_recv_ok(s1, &got, "send on vcan1 after it came back up");
	util_assert_frame(&got, &f, "send on vcan1 after it came back up");
	cand_close(a);
	cand_close(other);
}
END_TEST

START_TEST(test_interface_removed)
{
	cand_t *a, *other;
	struct cand_iface *l = NULL;
	int rc, n;

	ck_assert_int_eq(util_sh("ip link add dev %s type vcan && "
				 "ip link set %s up",
				 TMP_IFACE, TMP_IFACE),
			 0);
	a = util_open(TMP_IFACE);
	other = util_open("vcan0");
	ck_assert_int_eq(util_sh("ip link del %s", TMP_IFACE), 0);
	rc = recv_status(a, RX_TIMEOUT_MS);
	ck_assert_msg(rc == CAND_ENODEV || rc == CAND_ENETDOWN,
		      "cand_recv after the interface was deleted: %d %s", rc,
		      cand_strerror(rc));
	/* Deleting sets it down first; the removal follows. */
	if (rc == CAND_ENETDOWN)
		rc = recv_status(a, RX_TIMEOUT_MS);
	ck_assert_msg(rc == CAND_ENODEV,
		      "cand_recv after the interface was deleted: %d %s, want "
		      "CAND_ENODEV",
		      rc, cand_strerror(rc));
	/* The connection stays usable. */
	n = cand_list(a, &l);
	ck_assert_msg(n >= 1, "cand_list after removal: %s", cand_strerror(n));
	free(l);
	ck_assert_msg(util_daemon_alive(), "the daemon died");
	cand_close(a);
	cand_close(other);
}
END_TEST

/*
 * A child opens vcan0 and receives a flood; it is SIGKILLed mid-stream.
 * The daemon survives, and the child's Unix and CAN sockets are closed.
 */
START_TEST(test_client_killed_mid_stream)
{
	int base_can, base_all, ready[2], s, i, st;
	pid_t pid;
	char c;
	cand_t *h;
	struct cand_frame f = util_frame(0x5A5, 0, "0011223344556677"), got;
	int64_t end;

	base_can = util_daemon_can_sockets();
	base_all = util_daemon_sockets();
	ck_assert_int_eq(pipe(ready), 0);
	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct cand_options o;
		cand_t *ch = NULL;
		struct cand_frame cf;

		close(ready[0]);
		cand_options_init(&o);
		o.channel = "vcan0";
		if (cand_connect(&ch, NULL) != 0 || cand_open(ch, &o) != 0)
			_exit(3);
		if (write(ready[1], "r", 1) != 1)
			_exit(4);
		/* Read slowly so the daemon's output to us backs up. */
		for (;;) {
			if (cand_recv(ch, &cf, 1000) < 0)
				util_msleep(1);
			util_msleep(1);
		}
	}
	close(ready[1]);
	ck_assert_msg(read(ready[0], &c, 1) == 1, "the child could not open");
	close(ready[0]);
	ck_assert_int_eq(util_daemon_can_sockets(), base_can + 1);

	s = util_raw_open("vcan0", 0);
	end = now_ms() + 400;
	for (i = 0; now_ms() < end; i++) {
		f.data[0] = (uint8_t)i;
		util_raw_flood(s, &f);
		if (i == 2000)
			kill(pid, SIGKILL);
	}
	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
		      "the child ended otherwise (status %d)", st);

	ck_assert_msg(util_daemon_alive(), "the daemon died");
	ck_assert_int_eq(wait_for(util_daemon_can_sockets, base_can, 3000),
			 base_can);
	ck_assert_int_eq(wait_for(util_daemon_sockets, base_all, 3000),
			 base_all);

	/* And it still serves. */
	h = util_open("vcan0");
	f = util_frame(0x5A6, 0, "01");
	util_raw_send(s, &f);
	do {
		util_recv_ok(h, &got, "a frame after the killed client");
	} while (got.id != 0x5A6);
	cand_close(h);
}
END_TEST

/* Opening and closing many clients leaves no socket behind. */
START_TEST(test_close_releases_sockets)
{
	enum { N = 20 };
	cand_t *h[N];
	int base_can = util_daemon_can_sockets();
	int base_all = util_daemon_sockets();
	int i;

	for (i = 0; i < N; i++)
		h[i] = util_open(i % 2 ? "vcan0" : "vcan1");
	ck_assert_int_eq(wait_for(util_daemon_can_sockets, base_can + N, 3000),
			 base_can + N);
	for (i = 0; i < N; i++)
		cand_close(h[i]);
	ck_assert_int_eq(wait_for(util_daemon_can_sockets, base_can, 3000),
			 base_can);
	ck_assert_int_eq(wait_for(util_daemon_sockets, base_all, 3000),
			 base_all);
}
END_TEST

/*
 * A client that stops reading while frames keep coming: the daemon must
 * keep serving others, and free the stuck client when it goes.
 */
START_TEST(test_stalled_client)
{
	cand_t *stuck = util_open("vcan0");
	cand_t *live = util_open("vcan0");
	int s = util_raw_open("vcan0", 0), i, n = 0;
	int base_can;
	struct cand_frame f = util_frame(0x6A0, 0, "0102030405060708"), got;

	for (i = 0; i < 5000; i++) {
		f.data[0] = (uint8_t)i;
		util_raw_flood(s, &f);
		/* The live client keeps up. */
		while (cand_recv(live, &got, 0) == 1)
			n++;
	}
	while (cand_recv(live, &got, 300) == 1)
		n++;
	ck_assert_msg(n > 0, "the live client received nothing");
	ck_assert_msg(util_daemon_alive(), "the daemon died");
	base_can = util_daemon_can_sockets();
	cand_close(stuck);
	ck_assert_int_eq(wait_for(util_daemon_can_sockets, base_can - 1, 3000),
			 base_can - 1);
	cand_close(live);
}
END_TEST

/*
 * Requests while frames pour in: every reply is found among the frame
 * events, promptly, and no frame is lost or reordered on the way.
 */
START_TEST(test_requests_during_flood)
{
	enum { FLOOD = 20000, SENDS = 50 };
	cand_t *h = util_open("vcan0");
	int s = util_raw_open("vcan0", 0), rc, i, sends = 0;
	struct cand_frame f = util_frame(0x100, 0, "0000"), got;
	struct cand_frame mine = util_frame(0x7EE, 0, "EE");
	struct cand_iface *l;
	uint32_t received = 0, seq, last = 0;
	int64_t t0, worst = 0;
	uint64_t backlog0 = softnet_drops(), backlog;

	for (i = 0; i < FLOOD; i++) {
		f.data[0] = (uint8_t)(i >> 8);
		f.data[1] = (uint8_t)i;
		util_raw_flood(s, &f);
		if (i % (FLOOD / SENDS) == 0) {
			t0 = now_ms();
			rc = cand_send(h, &mine, 1, 1000);
			ck_assert_msg(rc == 1, "send during a flood: %d %s", rc,
				      cand_strerror(rc));
			rc = cand_list(h, &l);
			ck_assert_msg(rc >= 1, "list during a flood: %s",
				      cand_strerror(rc));
			free(l);
			if (now_ms() - t0 > worst)
				worst = now_ms() - t0;
			sends++;
		}
	}
	/* Our own frames are not echoed; the flood's arrive in order. */
	while ((rc = cand_recv(h, &got, 1000)) == 1) {
		ck_assert_uint_eq(got.id, 0x100);
		seq = (uint32_t)got.data[0] << 8 | got.data[1];
		ck_assert_msg(seq > last || received == 0,
			      "frame %u arrived after %u", seq, last);
		last = seq;
		received++;
	}
	ck_assert_int_eq(rc, CAND_ETIMEOUT);
	/* A marker brings the final drop count (none, normally). */
	f = util_frame(0x101, 0, "");
	util_raw_send(s, &f);
	util_recv_ok(h, &got, "marker after the flood");
	ck_assert_uint_eq(got.id, 0x101);
	backlog = softnet_drops() - backlog0;
	ck_assert_msg(received + cand_kernel_drops(h) + backlog == FLOOD,
		      "received %u + dropped %llu + backlog %llu != %d",
		      received, (unsigned long long)cand_kernel_drops(h),
		      (unsigned long long)backlog, FLOOD);
	ck_assert_msg(worst < 2000, "a request took %lld ms during the flood",
		      (long long)worst);
	fprintf(stderr,
		"test_requests_during_flood: %d requests, worst %lld "
		"ms, %u received\n",
		sends, (long long)worst, received);
	cand_close(h);
}
END_TEST

/*
 * A client that does not read while a flood comes: the daemon stops
 * reading its CAN socket once its output backs up, the kernel drops and
 * counts, and cand_kernel_drops() reports it. Every frame sent is either
 * received or counted: received + kernel drops (+ frames the kernel's
 * backlog lost before any socket saw them) == sent.
 */
START_TEST(test_kernel_drops_counted)
{
	enum { FLOOD = 250000 };
	cand_t *h = util_open("vcan0");
	int s = util_raw_open("vcan0", 0);
	struct cand_frame f = util_frame(0x321, 0, "00000000"), got;
	struct canfd_frame cf;
	uint64_t backlog0, backlog, drops;
	uint32_t sent = 0, received = 0, seq, last = 0;
	int is_fd, rc, out_of_order = 0;
	cpu_set_t cpu0;

	/*
	 * vcan hands frames to the per-CPU backlog of the CPU the writer runs
	 * on; a writer that migrates can have two backlogs deliver out of
	 * order. One CPU keeps the kernel's order, so any disorder is ours.
	 */
	CPU_ZERO(&cpu0);
	CPU_SET(0, &cpu0);
	ck_assert_int_eq(sched_setaffinity(0, sizeof(cpu0), &cpu0), 0);
	backlog0 = softnet_drops();
	while (sent < FLOOD) {
		f.data[0] = (uint8_t)(sent >> 24);
		f.data[1] = (uint8_t)(sent >> 16);
		f.data[2] = (uint8_t)(sent >> 8);
		f.data[3] = (uint8_t)sent;
		util_to_raw(&f, &cf, &is_fd);
		if (write(s, &cf, CAN_MTU) == CAN_MTU)
			sent++;
		else if (errno == ENOBUFS || errno == EAGAIN)
			util_msleep(1);
		else
			ck_abort_msg("raw write: %s", strerror(errno));
	}
	/* Drain until quiet; then a marker carries the final drop count. */
	for (;;) {
		rc = cand_recv(h, &got, 1000);
		if (rc == CAND_ETIMEOUT)
			break;
		ck_assert_msg(rc == 1, "draining after %u frames: %s", received,
			      cand_strerror(rc));
		ck_assert_uint_eq(got.id, 0x321);
		seq = (uint32_t)got.data[0] << 24 |
		      (uint32_t)got.data[1] << 16 | (uint32_t)got.data[2] << 8 |
		      got.data[3];
		if (received > 0 && seq <= last)
			out_of_order++;
		last = seq;
		received++;
	}
	f = util_frame(0x322, 0, "FF");
	util_raw_send(s, &f);
	util_recv_ok(h, &got, "marker after the flood");
	ck_assert_uint_eq(got.id, 0x322);
	drops = cand_kernel_drops(h);
	backlog = softnet_drops() - backlog0;
	fprintf(stderr,
		"test_kernel_drops_counted: sent %u, received %u, kernel "
		"drops %llu, backlog drops %llu\n",
		sent, received, (unsigned long long)drops,
		(unsigned long long)backlog);
	ck_assert_msg(out_of_order == 0, "%d frames out of order",
		      out_of_order);
	ck_assert_msg(drops > 0,
		      "no drops reported after %u frames to a client that did "
		      "not read (received %u)",
		      sent, received);
	ck_assert_msg(received + drops + backlog == sent,
		      "received %u + kernel drops %llu + backlog drops %llu != "
		      "sent %u",
		      received, (unsigned long long)drops,
		      (unsigned long long)backlog, sent);
	cand_close(h);
}
END_TEST

Suite *lifecycle_suite(void)
{
	Suite *s = suite_create("lifecycle");
	TCase *tc = util_tcase("links");

	tcase_add_unchecked_fixture(tc, NULL, restore_links);
	tcase_add_test(tc, test_interface_down_and_up);
	tcase_add_test(tc, test_interface_removed);
	suite_add_tcase(s, tc);

	tc = util_tcase("clients");
	tcase_add_test(tc, test_client_killed_mid_stream);
	tcase_add_test(tc, test_close_releases_sockets);
	tcase_add_test(tc, test_stalled_client);
	tcase_add_test(tc, test_requests_during_flood);
	suite_add_tcase(s, tc);

	tc = util_tcase("drops");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_kernel_drops_counted);
	suite_add_tcase(s, tc);
	return s;
}
