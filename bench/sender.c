/*
 * The sender of a phase: a flood as fast as a raw socket takes frames, a
 * paced one writing what is due every quantum, or one latency probe at a
 * time; every frame numbered for the receivers (phase.c says how).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/can.h>

#include "bench.h"

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static int send_frame(struct phase *ph, int fd, const struct can_frame *cf)
{
	struct pollfd pfd = {.fd = fd, .events = POLLOUT};

	while (write(fd, cf, sizeof(*cf)) != (ssize_t)sizeof(*cf)) {
		if (errno == EINTR)
			continue;
		if (errno != ENOBUFS && errno != EAGAIN) {
			fmt_msg(ph->send_msg, sizeof(ph->send_msg), "write: %s",
				strerror(errno));
			return -1;
		}
		/* vcan has no TX queue; this is rare, so wait a little. */
		if ((ph->enobufs++ & 255) == 255 && now_ns() > ph->deadline) {
			fmt_msg(ph->send_msg, sizeof(ph->send_msg),
				"TX buffer full until the deadline");
			return -1;
		}
		poll(&pfd, 1, 1);
	}
	return 0;
}

/*
 * One probe at a time, each on its receiver's bus; the next after the
 * receiver got it and a pause. fd is the first bus's socket.
 */
static void lat_sender(struct phase *ph, int fd, struct can_frame *cf)
{
	struct pollfd pfd = {.fd = ph->ack_rd, .events = POLLIN};
	int fds[BENCH_MAX_IF] = {fd}, k, n = ph->n_lat > 1 ? ph->n_lat : 1;
	unsigned seed = ph->tag;
	uint32_t i, got;

	for (k = 1; k < n; k++) {
		fds[k] = raw_socket(ph->ifnames[k], 0, NULL, 1, ph->send_msg,
				    sizeof(ph->send_msg));
		if (fds[k] < 0) {
			ph->send_err = 1;
			n = k;
			break;
		}
	}
	for (i = 0; !ph->send_err && i < ph->n; i++) {
		put_u32(cf->data, i);
		STORE(&ph->lat_t0[i], now_ns());
		if (send_frame(ph, fds[lat_owner(ph, i)], cf) < 0) {
			ph->send_err = 1;
			break;
		}
		while (poll(&pfd, 1, 200) > 0) {
			if (read(ph->ack_rd, &got, sizeof(got)) !=
				    (ssize_t)sizeof(got) ||
			    got == i)
				break;
		}
		/* Idle in between, as a real bus is between frames. */
		sleep_us(200 + (unsigned)rand_r(&seed) % 500);
		if (now_ns() > ph->deadline)
			break;
	}
	ph->sent = i;
	for (k = 1; k < n; k++)
		close(fds[k]);
}

/* Frames due by time t of a schedule that started at t0. */
static uint32_t paced_due(const struct phase *ph, uint64_t t0, uint64_t t)
{
	double due = (double)(t - t0) * ph->rate / 1e9 + 1;

	return due < (double)ph->n ? (uint32_t)due : ph->n;
}

static uint32_t paced_send(struct phase *ph, int fd, struct can_frame *cf,
			   uint64_t t0, uint64_t end)
{
	uint64_t q = ph->quantum_ns, wake, now;
	uint32_t i = 0, due;

	while (i < ph->n) {
		wake = t0 + (uint64_t)((double)i * 1e9 / ph->rate);
		if (q > 0)
			wake = t0 + (wake - t0 + q - 1) / q * q;
		sleep_until_ns(wake);
		now = now_ns();
		if (now > end) {
			ph->capped = 1;
			break;
		}
		for (due = paced_due(ph, t0, now); i < due; i++) {
			put_u32(cf->data, i);
			if (send_frame(ph, fd, cf) < 0) {
				ph->send_err = 1;
				return i + 1;
			}
		}
	}
	return i;
}

static uint32_t flood_send(struct phase *ph, int fd, struct can_frame *cf,
			   uint64_t end)
{
	uint32_t i;

	for (i = 0; i < ph->n; i++) {
		put_u32(cf->data, i);
		if (send_frame(ph, fd, cf) < 0) {
			ph->send_err = 1;
			return i + 1;
		}
		if ((i & 1023) == 1023 && now_ns() > end) {
			ph->capped = 1;
			return i + 1;
		}
	}
	return i;
}

void sender_main(struct bench *b, int arg)
{
	struct phase *ph = b->ph;
	struct can_frame cf;
	uint64_t cpu0, t0, end;
	uint32_t i = 0;
	int fd;

	fd = raw_socket(ph->ifnames[arg], 0, NULL, 1, ph->send_msg,
			sizeof(ph->send_msg));
	if (fd < 0) {
		ph->send_err = 1;
		__atomic_fetch_add(&ph->sender_done, 1, __ATOMIC_ACQ_REL);
		return;
	}
	prctl(PR_SET_TIMERSLACK, 1UL);
	memset(&cf, 0, sizeof(cf));
	cf.can_id = ph->can_id;
	cf.len = 8;
	put_u32(cf.data + 4, ph->tag);
	if (wait_flag(&ph->go, ph->deadline) < 0) {
		fmt_msg(ph->send_msg, sizeof(ph->send_msg), "never started");
		ph->send_err = 1;
		__atomic_fetch_add(&ph->sender_done, 1, __ATOMIC_ACQ_REL);
		close(fd);
		return;
	}
	cpu0 = self_cpu_ns();
	t0 = now_ns();
	if (arg == 0)
		ph->send_t0 = t0;
	if (ph->latency) {
		lat_sender(ph, fd, &cf);
	} else {
		/*
		 * Paced: frame i is due at t0 + i/rate and no later than the
		 * schedule's end, so a sender that cannot keep the pace sends
		 * fewer frames rather than taking longer. The sender wakes
		 * once a quantum and writes what is due: this VM cannot wake
		 * a process every 125 us, real buses need no such help.
		 * Flood: at most max_ns, the clock read every 1024th frame.
		 */
		end = t0 + ph->max_ns;
		if (ph->rate > 0)
			i = paced_send(ph, fd, &cf, t0, end);
		else
			i = flood_send(ph, fd, &cf, end);
		ph->sent_k[arg] = i;
		if (arg == 0)
			ph->sent = i;
	}
	if (arg == 0) {
		ph->send_t1 = now_ns();
		ph->sender_cpu_ns = self_cpu_ns() - cpu0;
	}
	__atomic_fetch_add(&ph->sender_done, 1, __ATOMIC_ACQ_REL);
	close(fd);
}
