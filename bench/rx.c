/*
 * The receivers of a phase: a direct CAN_RAW socket, a libcand client, or
 * a minimal relay in between, each counting what arrives by the frames'
 * sequence numbers (phase.c says how); and the scale holder, one process
 * keeping many clients open.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/can.h>

#include "bench.h"

/* Where a receiver gets its frames. */
struct rx_src {
	enum rx_kind kind;
	int fd;
	cand_t *h;
	pid_t relay;	 /* RX_RELAY: the child between CAN and fd */
	struct scrx *sc; /* RX_SOCKETCAND */
};

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static int payload(const uint8_t *data, unsigned len, uint32_t *seq,
		   uint32_t *tag)
{
	if (len != 8) {
		*seq = 0;
		*tag = 0;
		return 1;
	}
	*seq = get_u32(data);
	*tag = get_u32(data + 4);
	return 1;
}

/* Connects and opens the bench interface, with one filter or none. */
static int cand_handle(struct bench *b, const char *ifname, cand_t **out,
		       const struct cand_filter *flt, char *msg, size_t msize)
{
	struct cand_options o;
	cand_t *h = NULL;
	int rc;

	rc = cand_connect(&h, b->sock_path);
	if (rc < 0) {
		fmt_msg(msg, msize, "cand_connect: %s", cand_strerror(rc));
		return -1;
	}
	cand_options_init(&o);
	o.channel = ifname;
	if (flt != NULL) {
		o.filters = flt;
		o.n_filters = 1;
	}
	rc = cand_open(h, &o);
	if (rc < 0) {
		fmt_msg(msg, msize, "cand_open %s: %s (%s)", ifname,
			cand_strerror(rc), cand_last_detail(h));
		cand_close(h);
		return -1;
	}
	*out = h;
	return 0;
}

/*
 * The least any broker can do: one process that read()s each frame and
 * write()s it on, blocking both ways. Its latency is the floor for every
 * design that puts a process between the bus and the application.
 */
static void relay_main(int can_fd, int out_fd)
{
	struct can_frame cf;
	ssize_t n;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (;;) {
		n = read(can_fd, &cf, sizeof(cf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof(cf) ||
		    write(out_fd, &cf, sizeof(cf)) != (ssize_t)sizeof(cf))
			_exit(0);
	}
}

/*
 * The same relay with the syscalls cand cannot do without: an event loop
 * (epoll_wait, then a non-blocking read) and recvmmsg with each frame's
 * timestamp and drop count, the interface's index and MSG_CONFIRM. cand
 * less this is what cand's own code costs: libevent, the tap, packing,
 * libcand.
 */
static void relay_loop_main(int can_fd, int out_fd)
{
	enum { N = 64 };
	static struct can_frame cf[N];
	static struct sockaddr_can addr[N];
	static char cmsg[N][CMSG_SPACE(sizeof(struct timespec)) +
			    CMSG_SPACE(sizeof(uint32_t))];
	static struct iovec iov[N];
	static struct mmsghdr m[N];
	struct epoll_event ev = {.events = EPOLLIN};
	int ep, one = 1, i, n;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	ep = epoll_create1(0);
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, can_fd, &ev) < 0 ||
	    setsockopt(can_fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) <
		    0 ||
	    setsockopt(can_fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one)) < 0)
		_exit(1);
	for (i = 0; i < N; i++) {
		iov[i].iov_base = &cf[i];
		iov[i].iov_len = sizeof(cf[i]);
		m[i].msg_hdr.msg_iov = &iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
		m[i].msg_hdr.msg_name = &addr[i];
		m[i].msg_hdr.msg_control = cmsg[i];
	}
	for (;;) {
		if (epoll_wait(ep, &ev, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		for (i = 0; i < N; i++) {
			m[i].msg_hdr.msg_namelen = sizeof(addr[i]);
			m[i].msg_hdr.msg_controllen = sizeof(cmsg[i]);
		}
		n = recvmmsg(can_fd, m, N, MSG_DONTWAIT, NULL);
		for (i = 0; i < n; i++)
			if (write(out_fd, &cf[i], sizeof(cf[i])) !=
			    (ssize_t)sizeof(cf[i]))
				_exit(0);
	}
}

/* tcp: through loopback TCP, the floor of a network front-end. */
static int relay_open(const char *ifname, struct rx_src *s, struct rx_result *r,
		      int tcp, int loop)
{
	int sv[2], can_fd;

	can_fd = raw_socket(ifname, BENCH_RCVBUF, &r->rcvbuf, 0, r->msg,
			    sizeof(r->msg));
	if (can_fd < 0)
		return -1;
	if (tcp && scrx_tcp_pair(sv, r->msg, sizeof(r->msg)) < 0) {
		close(can_fd);
		return -1;
	}
	if (!tcp &&
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		fmt_msg(r->msg, sizeof(r->msg), "socketpair: %s",
			strerror(errno));
		close(can_fd);
		return -1;
	}
	s->relay = fork();
	if (s->relay == 0) {
		close(sv[0]);
		if (loop)
			relay_loop_main(can_fd, sv[1]);
		relay_main(can_fd, sv[1]);
	}
	close(can_fd);
	close(sv[1]);
	if (s->relay < 0) {
		fmt_msg(r->msg, sizeof(r->msg), "fork: %s", strerror(errno));
		close(sv[0]);
		return -1;
	}
	s->fd = sv[0];
	return 0;
}

static int src_open(struct bench *b, const char *ifname, struct rx_src *s,
		    enum rx_kind kind, struct rx_result *r)
{
	struct timeval tv = {0, RX_POLL_MS * 1000};

	s->kind = kind;
	s->fd = -1;
	s->h = NULL;
	s->relay = -1;
	s->sc = NULL;
	if (kind == RX_SOCKETCAND) {
		s->sc = scrx_open(ifname, r->msg, sizeof(r->msg));
		return s->sc != NULL ? 0 : -1;
	} else if (kind == RX_RELAY || kind == RX_TCP_RELAY ||
		   kind == RX_LOOP_RELAY || kind == RX_RELAY_POLL) {
		if (relay_open(ifname, s, r, kind == RX_TCP_RELAY,
			       kind == RX_LOOP_RELAY) < 0)
			return -1;
	} else if (kind != RX_DIRECT) {
		return cand_handle(b, ifname, &s->h, NULL, r->msg,
				   sizeof(r->msg));
	} else {
		s->fd = raw_socket(ifname, BENCH_RCVBUF, &r->rcvbuf, 0, r->msg,
				   sizeof(r->msg));
		if (s->fd < 0)
			return -1;
	}
	/* Blocking reads that give up now and then to look at the clock. */
	if (setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		fmt_msg(r->msg, sizeof(r->msg), "SO_RCVTIMEO: %s",
			strerror(errno));
		close(s->fd);
		return -1;
	}
	return 0;
}

static void src_close(struct rx_src *s)
{
	if (s->fd >= 0)
		close(s->fd);
	if (s->h != NULL)
		cand_close(s->h);
	scrx_close(s->sc);
	s->sc = NULL;
	if (s->relay > 0) {
		kill(s->relay, SIGKILL);
		waitpid(s->relay, NULL, 0);
	}
	s->fd = -1;
	s->h = NULL;
	s->relay = -1;
}

/*
 * One frame: 1 with its seq and tag; 0 when none came for RX_POLL_MS; -1 on
 * an error (msg says which).
 */
static int rx_one(struct rx_src *s, uint32_t *seq, uint32_t *tag, char *msg,
		  size_t msize)
{
	struct can_frame cf;
	struct cand_frame f;
	struct pollfd pfd;
	unsigned len;
	ssize_t n;
	int rc;

	switch (s->kind) {
	case RX_SOCKETCAND:
		rc = scrx_next(s->sc, cf.data, &len, msg, msize);
		return rc > 0 ? payload(cf.data, len, seq, tag) : rc;
	case RX_RELAY_POLL:
		/* As python-can's SocketcanBus.recv(): select, then recv. */
		pfd.fd = s->fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, RX_POLL_MS) == 0)
			return 0;
		/* fall through */
	case RX_DIRECT:
	case RX_RELAY:
	case RX_TCP_RELAY:
	case RX_LOOP_RELAY:
		n = read(s->fd, &cf, sizeof(cf));
		if (n == (ssize_t)sizeof(cf))
			return payload(cf.data, cf.len, seq, tag);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		fmt_msg(msg, msize, "read: %s",
			n < 0 ? strerror(errno) : "short read");
		return -1;
	case RX_CAND_TIMEOUT:
		rc = cand_recv(s->h, &f, RX_POLL_MS);
		if (rc == CAND_ETIMEOUT)
			return 0;
		break;
	case RX_CAND:
	default:
		/* The pattern cand.h suggests: drain, then poll the fd. */
		while ((rc = cand_recv(s->h, &f, 0)) == CAND_ETIMEOUT) {
			pfd.fd = cand_fileno(s->h);
			pfd.events = POLLIN;
			if (poll(&pfd, 1, RX_POLL_MS) == 0)
				return 0;
		}
		break;
	}
	if (rc == 1)
		return payload(f.data, f.len, seq, tag);
	fmt_msg(msg, msize, "cand_recv: %s (%s)", cand_strerror(rc),
		cand_last_detail(s->h));
	return -1;
}

int wait_flag(int *flag, uint64_t deadline)
{
	while (!LOAD(flag)) {
		if (now_ns() > deadline)
			return -1;
		sleep_us(1000);
	}
	return 0;
}

/* Counts this phase's frames until all came, or the bus fell silent. */
static void rx_loop(struct phase *ph, int idx, struct rx_src *s, int stall)
{
	struct rx_result *r = &ph->rx[idx];
	uint8_t *seen = calloc(ph->n / 8 + 1, 1);
	uint32_t seq, tag, last = 0;
	uint64_t cpu0, t;
	unsigned idle = 0;
	int rc, all;

	if (seen == NULL) {
		fmt_msg(r->msg, sizeof(r->msg), "out of memory");
		r->err = 1;
		return;
	}
	if (wait_flag(&ph->go, ph->deadline) < 0 ||
	    (stall && wait_flag(&ph->sender_done, ph->deadline) < 0)) {
		r->timed_out = 1;
		free(seen);
		return;
	}
	cpu0 = self_cpu_ns();
	for (;;) {
		rc = rx_one(s, &seq, &tag, r->msg, sizeof(r->msg));
		if (rc > 0) {
			idle = 0;
			if (tag != ph->tag || seq >= ph->n) {
				r->foreign++;
				continue;
			}
			if (seen[seq >> 3] & (1u << (seq & 7))) {
				r->dups++;
				continue;
			}
			seen[seq >> 3] |= (uint8_t)(1u << (seq & 7));
			if (r->received > 0 && seq < last)
				r->reorder++;
			last = seq;
			if (++r->received == 1)
				r->t_first = now_ns();
			/* All there is: all, or all the sender got out. */
			all = r->received == ph->n ||
			      (senders_done(ph) &&
			       r->received >= sent_for(ph, idx));
			if ((r->received & 255) == 0 || seq == ph->n - 1 ||
			    all) {
				t = now_ns();
				r->t_stamp = t;
				r->n_stamp = r->received;
				if (all)
					break;
				if (t > ph->deadline) {
					r->timed_out = 1;
					break;
				}
			}
			continue;
		}
		if (rc < 0) {
			r->err = 1;
			break;
		}
		if (senders_done(ph)) {
			if (r->received >= sent_for(ph, idx))
				break;
			idle += RX_POLL_MS;
			if (idle >= RX_IDLE_MS)
				break;
		}
		if (now_ns() > ph->deadline) {
			r->timed_out = 1;
			break;
		}
	}
	r->cpu_ns = self_cpu_ns() - cpu0;
	if (s->h != NULL)
		r->kernel_drops = cand_kernel_drops(s->h);
	if (s->sc != NULL)
		r->kernel_drops = scrx_drops(s->sc);
	free(seen);
}

/* Latency: stamps each probe on arrival and tells the sender. */
static void lat_rx_loop(struct phase *ph, int idx, struct rx_src *s)
{
	struct rx_result *r = &ph->rx[idx];
	uint32_t seq, tag, want = 0;
	uint64_t t1, t0, cpu0;
	unsigned idle = 0;
	int rc;

	if (wait_flag(&ph->go, ph->deadline) < 0) {
		r->timed_out = 1;
		return;
	}
	for (seq = 0; seq < ph->n; seq++)
		want += lat_owner(ph, seq) == idx;
	cpu0 = self_cpu_ns();
	for (;;) {
		rc = rx_one(s, &seq, &tag, r->msg, sizeof(r->msg));
		if (rc > 0) {
			t1 = now_ns();
			idle = 0;
			if (tag != ph->tag || seq >= ph->n || ph->lat[seq]) {
				r->foreign++;
				continue;
			}
			t0 = LOAD(&ph->lat_t0[seq]);
			ph->lat[seq] = t1 > t0 ? t1 - t0 : 1;
			r->received++;
			if (write(ph->ack_wr, &seq, sizeof(seq)) < 0)
				break;
			if (r->received == want)
				break;
			continue;
		}
		if (rc < 0) {
			r->err = 1;
			break;
		}
		if (LOAD(&ph->sender_done)) {
			idle += RX_POLL_MS;
			if (idle >= RX_IDLE_MS)
				break;
		}
		if (now_ns() > ph->deadline) {
			r->timed_out = 1;
			break;
		}
	}
	r->cpu_ns = self_cpu_ns() - cpu0;
}

void rx_main(struct bench *b, int idx)
{
	struct phase *ph = b->ph;
	struct rx_result *r = &ph->rx[idx];
	struct rx_src s;

	if (src_open(b, ph->ifnames[ph->iface[idx]], &s,
		     (enum rx_kind)ph->kind[idx], r) < 0) {
		r->err = 1;
		__atomic_fetch_add(&ph->ready, 1, __ATOMIC_ACQ_REL);
		return;
	}
	__atomic_fetch_add(&ph->ready, 1, __ATOMIC_ACQ_REL);
	if (ph->latency)
		lat_rx_loop(ph, idx, &s);
	else
		rx_loop(ph, idx, &s, ph->stall[idx]);
	src_close(&s);
}

static void holder_ack(struct phase *ph)
{
	char c = 'k';

	if (write(ph->done_wr, &c, 1) < 0)
		_exit(1);
}

/*
 * The scale scenario's client process: opens ph->hold clients, each with a
 * filter of its own (id 0x100 + i), then obeys the parent: 'm' receive the
 * phase's frames on client 0, 's' shrink to 10 clients, 'q' quit.
 */
void holder_main(struct bench *b, int arg)
{
	struct phase *ph = b->ph;
	struct cand_filter flt = {.mask = 0x7ff, .kind = CAND_FILTER_STANDARD};
	struct rx_src s = {.kind = RX_CAND, .fd = -1};
	cand_t **h;
	unsigned i, n = ph->hold;
	uint64_t drops;
	char cmd;

	(void)arg;
	raise_nofile(n + 64);
	h = calloc(n ? n : 1, sizeof(*h));
	if (h == NULL)
		_exit(1);
	for (i = 0; i < n; i++) {
		flt.id = 0x100 + i;
		if (cand_handle(b, b->ifname, &h[i], &flt, ph->hold_msg,
				sizeof(ph->hold_msg)) < 0)
			break;
	}
	ph->held = i;
	holder_ack(ph);
	while (read(ph->cmd_rd, &cmd, 1) == 1 && cmd != 'q') {
		if (cmd == 'm' && ph->held > 0) {
			/* Drops are counted since open: this phase's only. */
			drops = cand_kernel_drops(h[0]);
			s.h = h[0];
			rx_loop(ph, 0, &s, 0);
			ph->rx[0].kernel_drops -= drops;
		} else if (cmd == 's') {
			for (i = 10; i < ph->held; i++) {
				cand_close(h[i]);
				h[i] = NULL;
			}
			if (ph->held > 10)
				ph->held = 10;
		}
		holder_ack(ph);
	}
	for (i = 0; i < n; i++)
		if (h[i] != NULL)
			cand_close(h[i]);
	free(h);
}

double rx_rate(const struct rx_result *r)
{
	if (r->n_stamp < 2 || r->t_stamp <= r->t_first)
		return NAN;
	return (double)(r->n_stamp - 1) * 1e9 /
	       (double)(r->t_stamp - r->t_first);
}
