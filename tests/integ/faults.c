/*
 * Faults the kernel injects on the transmit side (issue 13, part 4): a TX
 * queue held full for seconds (a netem qdisc that holds its frames), the
 * ENOBUFS bursts of a queue that drains slowly (tbf), and an interface
 * that goes down or away under a pending send, on a vcan and on a real
 * controller. Each must give what cand.h documents (CAND_ETXFULL after the
 * timeout, a short count for a partial send, CAND_ENETDOWN / CAND_ENODEV
 * and then the link event once), put on the bus exactly the frames it
 * reported sent, and leave the handle usable; and another client on
 * vcan0, served by the same daemon meanwhile, must never wait for it.
 * faults_rx.c has the receive side.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "faults.h"

/* A round trip of the other client while one waits on a fault. */
#define FT_RTT_MS 1000

int64_t faults_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct cand_frame faults_frame(uint32_t id, uint32_t seq)
{
	struct cand_frame f = util_frame(id, 0, "00000000");

	f.data[0] = (uint8_t)(seq >> 24);
	f.data[1] = (uint8_t)(seq >> 16);
	f.data[2] = (uint8_t)(seq >> 8);
	f.data[3] = (uint8_t)seq;
	return f;
}

uint32_t faults_seq(const struct cand_frame *f)
{
	return (uint32_t)f->data[0] << 24 | (uint32_t)f->data[1] << 16 |
	       (uint32_t)f->data[2] << 8 | f->data[3];
}

/* The test's own vcan and what may be left of an earlier run. */
void faults_restore(void)
{
	if (system("ip link del " FAULTS_IFACE " 2>/dev/null; "
		   "tc qdisc del dev can1 root 2>/dev/null; "
		   "s=$(ip -details link show can1); "
		   "case \"$s\" in *'state UP'*'restart-ms 100'*) ;; "
		   "*) ip link set can1 down; ip link set can1 type can "
		   "bitrate 500000 sample-point 0.875 restart-ms 100; "
		   "ip link set can1 up ;; esac; true") != 0)
		fprintf(stderr, "faults: restoring the links failed\n");
}

/*
 * The qdisc goes on before the link comes up: grafting one onto a live
 * device deactivates its queue for a moment, which a send should not
 * have to meet by chance.
 */
void faults_iface(const char *qdisc)
{
	ck_assert_int_eq(util_sh("modprobe sch_netem 2>/dev/null; "
				 "modprobe sch_tbf 2>/dev/null; "
				 "ip link add dev %s type vcan && "
				 "tc qdisc add dev %s root %s && "
				 "ip link set %s up",
				 FAULTS_IFACE, FAULTS_IFACE, qdisc,
				 FAULTS_IFACE),
			 0);
}

/* ft_send() of one frame that must go out; says why when it did not. */
#define FT_SEND_OK(h, id, seq, timeout_ms, ms)                                 \
	do {                                                                   \
		int rc_ = ft_send(h, id, seq, timeout_ms, ms);                 \
		ck_assert_msg(rc_ == 1,                                        \
			      "send of seq %d: %d (%s) after %lld ms", seq,    \
			      rc_, cand_last_detail(h), (long long)*(ms));     \
	} while (0)

/* One frame; *ms gets how long the call took. */
static int ft_send(cand_t *h, uint32_t id, uint32_t seq, int timeout_ms,
		   int64_t *ms)
{
	struct cand_frame f = faults_frame(id, seq);
	int64_t t0 = faults_ms();
	int rc = cand_send(h, &f, 1, timeout_ms);

	*ms = faults_ms() - t0;
	return rc;
}

/*
 * The seqs of frames with id the raw socket gets, until nothing has come
 * for idle_ms; how many, at most max.
 */
size_t faults_collect(int raw, uint32_t id, uint32_t *seqs, size_t max,
		      int idle_ms)
{
	struct cand_frame f;
	size_t n = 0;

	while (util_raw_recv(raw, &f, idle_ms) == 1)
		if (f.id == id && n < max)
			seqs[n++] = faults_seq(&f);
	return n;
}

/* The seqs are first, first + 1, ..., n of them: none lost, none twice. */
void faults_assert_run(const uint32_t *seqs, size_t n, uint32_t first,
		       const char *what)
{
	size_t i;

	for (i = 0; i < n; i++)
		ck_assert_msg(seqs[i] == first + i,
			      "%s: frame %zu on the bus has seq %u, want %u",
			      what, i, seqs[i], first + (uint32_t)i);
}

/*
 * The other client, in a child: after delay_ms, round trips on vcan0 (a
 * send through cand, seen by a raw socket) for about a second. Exits 0
 * when each took under FT_RTT_MS. The parent must not touch b meanwhile.
 */
static pid_t ft_bystander(cand_t *b, int raw, int delay_ms)
{
	struct pollfd pfd = {.fd = raw, .events = POLLIN};
	struct canfd_frame cf;
	struct cand_frame f;
	int64_t t0;
	pid_t pid;
	int i;

	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid > 0)
		return pid;
	util_msleep(delay_ms);
	for (i = 0; i < 10; i++) {
		f = faults_frame(0x5B0, (uint32_t)i);
		t0 = faults_ms();
		if (cand_send(b, &f, 1, 0) != 1)
			_exit(1);
		if (poll(&pfd, 1, FT_RTT_MS) != 1 ||
		    read(raw, &cf, sizeof(cf)) != CAN_MTU || cf.can_id != 0x5B0)
			_exit(2);
		if (faults_ms() - t0 >= FT_RTT_MS)
			_exit(3);
		util_msleep(100);
	}
	_exit(0);
}

void faults_wait_ok(pid_t pid, const char *what)
{
	int st;

	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "%s: the child ended with status 0x%x", what, st);
}

/*
 * Runs cmd in a child after ms, while the parent waits on a send; the
 * child then writes when cmd was done (faults_ms()) to *done_fd.
 */
static pid_t ft_later(int ms, const char *cmd, int *done_fd)
{
	int p[2], rc;
	int64_t t;
	pid_t pid;

	ck_assert_int_eq(pipe(p), 0);
	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(p[0]);
		util_msleep(ms);
		rc = system(cmd);
		t = faults_ms();
		if (write(p[1], &t, sizeof(t)) != sizeof(t))
			_exit(126);
		_exit(rc == 0 ? 0 : 1);
	}
	close(p[1]);
	*done_fd = p[0];
	return pid;
}

/* When the child of ft_later() had done its command. */
static int64_t ft_done_at(int fd)
{
	int64_t t = 0;

	ck_assert_int_eq(read(fd, &t, sizeof(t)), (ssize_t)sizeof(t));
	close(fd);
	return t;
}

/*
 * netem holds two frames for 3 s and has room for no more: a send that
 * meets the full queue fails at once with timeout 0, after its timeout
 * otherwise, and succeeds once the queue drains; the bus gets exactly the
 * frames reported sent, in order, and the other client waits for none of
 * it.
 */
START_TEST(test_tx_queue_held_full)
{
	cand_t *h, *b = util_open("vcan0");
	int raw, raw0 = util_raw_open("vcan0", 0);
	uint32_t seqs[8];
	int64_t ms;
	pid_t by;
	size_t n;

	faults_iface("netem delay 3s limit 2");
	h = util_open(FAULTS_IFACE);
	raw = util_raw_open(FAULTS_IFACE, 0);
	FT_SEND_OK(h, 0x321, 0, 0, &ms);
	FT_SEND_OK(h, 0x321, 1, 0, &ms);

	ck_assert_int_eq(ft_send(h, 0x321, 100, 0, &ms), CAND_ETXFULL);
	ck_assert_msg(strstr(cand_last_detail(h), "TX buffer full") != NULL,
		      "detail: %s", cand_last_detail(h));
	ck_assert_msg(ms < FT_RTT_MS, "a send with timeout 0 took %lld ms",
		      (long long)ms);

	by = ft_bystander(b, raw0, 100);
	ck_assert_int_eq(ft_send(h, 0x321, 101, 1000, &ms), CAND_ETXFULL);
	ck_assert_msg(ms >= 1000 && ms < 2900,
		      "a send with timeout 1000 on a held queue took %lld ms",
		      (long long)ms);
	ck_assert_msg(strstr(cand_last_detail(h), "1000 ms") != NULL,
		      "detail: %s", cand_last_detail(h));
	faults_wait_ok(by, "the other client during the held queue");

	/* Room when netem lets the first two go, about 3 s in. */
	FT_SEND_OK(h, 0x321, 2, 8000, &ms);
	ck_assert_msg(ms > 200, "the held queue had room after %lld ms",
		      (long long)ms);
	n = faults_collect(raw, 0x321, seqs, 8, 4000);
	ck_assert_msg(n == 3, "%zu frames on the bus, want 3", n);
	faults_assert_run(seqs, n, 0, "held queue");
	ck_assert_int_eq(util_daemon_alive(), 1);
	close(raw);
	close(raw0);
	cand_close(h);
	cand_close(b);
	ck_assert_int_eq(util_sh("ip link del %s", FAULTS_IFACE), 0);
}
END_TEST

/*
 * tbf drains ~780 frames/s and queues ~100: a send of many frames meets
 * ENOBUFS again and again. With a timeout it sends them all; with 0 it
 * returns the short count of what went out, and CAND_ETXFULL only when
 * nothing did. The bus gets every frame reported, once, in order.
 */
START_TEST(test_enobufs_bursts)
{
	enum { N = 1000 };
	static struct cand_frame frames[N];
	static uint32_t seqs[3 * N];
	cand_t *h;
	int raw, k, rest, i;
	size_t n;

	faults_iface("tbf rate 100kbit burst 1600 limit 1600");
	h = util_open(FAULTS_IFACE);
	raw = util_raw_open(FAULTS_IFACE, RAW_BIGBUF);
	for (i = 0; i < N; i++)
		frames[i] = faults_frame(0x456, (uint32_t)i);
	ck_assert_int_eq(cand_send(h, frames, N, 20000), N);
	/* On the bus, so the queue is empty again. */
	n = faults_collect(raw, 0x456, seqs, 3 * N, 1000);
	ck_assert_msg(n == N, "%zu frames on the bus, want %d", n, N);

	/* Now as much as the queue takes at once, and a short count. */
	for (i = 0; i < N; i++)
		frames[i] = faults_frame(0x456, (uint32_t)(N + i));
	k = cand_send(h, frames, N, 0);
	ck_assert_msg(k > 0 && k < N, "a send of %d with timeout 0 sent %d", N,
		      k);
	ck_assert_msg(strstr(cand_last_detail(h), "TX buffer full after") !=
			      NULL,
		      "detail: %s", cand_last_detail(h));
	rest = cand_send(h, frames + k, (size_t)(N - k), 20000);
	ck_assert_int_eq(rest, N - k);

	n += faults_collect(raw, 0x456, seqs + n, 3 * N - n, 1000);
	fprintf(stderr,
		"test_enobufs_bursts: %zu frames on the bus, the send "
		"with timeout 0 took %d of %d\n",
		n, k, N);
	ck_assert_msg(n == 2 * N, "%zu frames on the bus, want %d", n, 2 * N);
	faults_assert_run(seqs, n, 0, "ENOBUFS bursts");
	close(raw);
	cand_close(h);
	ck_assert_int_eq(util_sh("ip link del %s", FAULTS_IFACE), 0);
}
END_TEST

/*
 * A send waiting for room while its interface goes down (or away) ends
 * then, long before its timeout: with the link's error, or, when a retry
 * met the moment the kernel had emptied the queue but not yet marked the
 * link down, as sent (the kernel took the frame, and its closing device
 * dropped it, as it would for python-can). Either way the next receive
 * reports the link event once, and a send now fails with its error; the
 * handle goes on once the link is back (bound again when re-created).
 */
static void ft_pending_send_fault(const char *ifname, const char *observe,
				  const char *fault, const char *repair,
				  int want)
{
	cand_t *h, *b = util_open("vcan0");
	struct cand_frame f;
	uint32_t seqs[4];
	int raw0 = util_raw_open("vcan0", 0), raw, rc, last, done_fd;
	int64_t ms, end, done;
	pid_t by, later;
	size_t n;

	h = util_open(ifname);
	/*
	 * Fills it. Right after the qdisc went in, the kernel has once (in
	 * a loaded VM) refused the very first frame with ENETDOWN: setup,
	 * not the fault under test, so it may take a few tries.
	 */
	for (n = 0; (rc = ft_send(h, 0x654, 0, 0, &ms)) != 1 && n < 20; n++)
		util_msleep(50);
	ck_assert_msg(rc == 1, "the first send: %s (%s)", cand_strerror(rc),
		      cand_last_detail(h));
	by = ft_bystander(b, raw0, 100);
	later = ft_later(500, fault, &done_fd);
	rc = ft_send(h, 0x654, 1, 15000, &ms);
	end = faults_ms();
	done = ft_done_at(done_fd);
	faults_wait_ok(later, fault);
	fprintf(stderr,
		"%s under a pending send: %d (%s), %lld ms after the command\n",
		fault, rc, rc < 0 ? cand_last_detail(h) : "taken",
		(long long)(end - done));
	ck_assert_msg(rc == want || rc == 1,
		      "pending send when %s: %d %s (%s), want %s", fault, rc,
		      cand_strerror(rc), cand_last_detail(h),
		      cand_strerror(want));
	/* The command returns once the kernel has done it. */
	ck_assert_msg(end - done < FT_RTT_MS,
		      "the pending send ended %lld ms after %s",
		      (long long)(end - done), fault);
	faults_wait_ok(by, "the other client during the pending send");

	/* The link events once each: down, and gone when it was removed. */
	for (n = 0, last = 0;
	     (rc = cand_recv(h, &f, n ? SETTLE_MS : RX_TIMEOUT_MS)) !=
	     CAND_ETIMEOUT;
	     n++, last = rc)
		ck_assert_msg((rc == CAND_ENETDOWN || rc == want) && n < 2,
			      "receive %zu after %s: %s", n, fault,
			      cand_strerror(rc));
	ck_assert_msg(last == want, "the last link event after %s: %s", fault,
		      cand_strerror(last));
	rc = ft_send(h, 0x654, 100, 0, &ms);
	ck_assert_msg(rc == want && cand_last_detail(h)[0] != '\0',
		      "a send after %s: %s (%s)", fault, cand_strerror(rc),
		      cand_last_detail(h));

	ck_assert_int_eq(util_sh("%s", repair), 0);
	raw = util_raw_open(observe, 0);
	/* Bound again (a re-created interface) takes a moment. */
	for (rc = 0, n = 0; n < 50; n++) {
		if ((rc = ft_send(h, 0x654, 2, 0, &ms)) == 1)
			break;
		util_msleep(100);
	}
	ck_assert_msg(rc == 1, "send after the repair: %s (%s)",
		      cand_strerror(rc), cand_last_detail(h));
	n = faults_collect(raw, 0x654, seqs, 4, SETTLE_MS * 2);
	ck_assert_msg(n == 1 && seqs[0] == 2,
		      "after the repair %zu frames (first seq %u), want seq 2",
		      n, n ? seqs[0] : 0);
	ck_assert_int_eq(util_daemon_alive(), 1);
	close(raw);
	close(raw0);
	cand_close(h);
	cand_close(b);
}

START_TEST(test_down_under_pending_send)
{
	faults_iface("netem delay 20s limit 1");
	ft_pending_send_fault(FAULTS_IFACE, FAULTS_IFACE,
			      "ip link set " FAULTS_IFACE " down",
			      "tc qdisc del dev " FAULTS_IFACE " root && "
			      "ip link set " FAULTS_IFACE " up",
			      CAND_ENETDOWN);
	ck_assert_int_eq(util_sh("ip link del %s", FAULTS_IFACE), 0);
}
END_TEST

START_TEST(test_removed_under_pending_send)
{
	faults_iface("netem delay 20s limit 1");
	ft_pending_send_fault(FAULTS_IFACE, FAULTS_IFACE,
			      "ip link del " FAULTS_IFACE,
			      "ip link add dev " FAULTS_IFACE " type vcan && "
			      "ip link set " FAULTS_IFACE " up",
			      CAND_ENODEV);
	ck_assert_int_eq(util_sh("ip link del %s", FAULTS_IFACE), 0);
}
END_TEST

/* The same on a real controller: can1 stopped, seen from can0. */
START_TEST(test_controller_down_under_pending_send)
{
	ck_assert_int_eq(util_sh("modprobe sch_netem 2>/dev/null; tc qdisc "
				 "replace dev can1 root netem delay 20s limit "
				 "1"),
			 0);
	ft_pending_send_fault("can1", "can0", "ip link set can1 down",
			      "tc qdisc del dev can1 root && "
			      "ip link set can1 up",
			      CAND_ENETDOWN);
}
END_TEST

TCase *faults_tcase(Suite *s, const char *name)
{
	TCase *tc = util_tcase(name);

	tcase_add_checked_fixture(tc, faults_restore, NULL);
	tcase_add_unchecked_fixture(tc, NULL, faults_restore);
	suite_add_tcase(s, tc);
	return tc;
}

Suite *faults_suite(void)
{
	Suite *s = suite_create("faults");
	TCase *tc = faults_tcase(s, "tx");

	tcase_add_test(tc, test_tx_queue_held_full);
	tcase_add_test(tc, test_enobufs_bursts);
	tcase_add_test(tc, test_down_under_pending_send);
	tcase_add_test(tc, test_removed_under_pending_send);
	tcase_add_test(tc, test_controller_down_under_pending_send);
	faults_rx_tcase(s);
	faults_sc_tcase(s);
	return s;
}
