/*
 * pace [-c SOCKET] IFACE ID RATE SECONDS: frames ID numbered 0, 1, ...
 * at RATE a second for SECONDS (0: until SIGTERM), on a raw CAN socket,
 * or with -c through cand on one handle, which carries on across a
 * restart of the daemon. It wakes every 500 us and writes what is due
 * (this VM cannot wake a process every 125 us); a full TX queue is
 * waited out, never dropped. The raw sender stays on one CPU: a vcan
 * hands each frame to the backlog of the CPU that sent it, so a sender
 * that moves between CPUs can have its own frames overtake each other.
 * Through cand, behind by more than 100 ms (the daemon was away), it
 * takes up the schedule from now rather than burst. Prints
 *
 *   pace: sent N last L in S ms, reconnected R, unsure U
 *
 * U: frames whose send was in flight when the daemon went.
 */
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/can.h>
#include <linux/can/raw.h>

#include "soak.h"

#define PACE_TICK_US 500
#define PACE_BATCH   64

struct pace {
	int raw;   /* the raw socket, or -1 */
	cand_t *h; /* or the handle */
	uint64_t sent, unsure, reconnected;
};

static int pace_raw_open(const char *ifname)
{
	struct sockaddr_can addr = {.can_family = AF_CAN};
	int s = socket(PF_CAN, SOCK_RAW | SOCK_CLOEXEC, CAN_RAW);
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(sched_getcpu() > 0 ? sched_getcpu() : 0, &one);
	if (sched_setaffinity(0, sizeof(one), &one) < 0)
		perror("soak_can pace: sched_setaffinity");
	if (s < 0 || (addr.can_ifindex = (int)if_nametoindex(ifname)) == 0 ||
	    setsockopt(s, SOL_CAN_RAW, CAN_RAW_FILTER, NULL, 0) < 0 ||
	    bind(s, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		perror("soak_can pace: raw socket");
		return -1;
	}
	return s;
}

/* n frames in one sendmmsg() while the socket takes them all at once. */
static int pace_raw_send(struct pace *p, const struct cand_frame *f, int n)
{
	struct can_frame cf[PACE_BATCH];
	struct iovec iov[PACE_BATCH];
	struct mmsghdr mh[PACE_BATCH];
	struct pollfd pfd = {.fd = p->raw, .events = POLLOUT};
	int i, done = 0, rc;

	memset(cf, 0, sizeof(cf));
	memset(mh, 0, sizeof(mh));
	for (i = 0; i < n; i++) {
		cf[i].can_id = f[i].id;
		cf[i].len = f[i].len;
		memcpy(cf[i].data, f[i].data, f[i].len);
		iov[i].iov_base = &cf[i];
		iov[i].iov_len = sizeof(cf[i]);
		mh[i].msg_hdr.msg_iov = &iov[i];
		mh[i].msg_hdr.msg_iovlen = 1;
	}
	while (done < n) {
		rc = sendmmsg(p->raw, mh + done, (unsigned)(n - done), 0);
		if (rc > 0) {
			done += rc;
			continue;
		}
		if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR) {
			perror("soak_can pace: sendmmsg");
			return -1;
		}
		/* A full TX queue: wait it out, never drop. */
		poll(&pfd, 1, 1);
	}
	p->sent += (uint64_t)n;
	return 0;
}

/* n frames through cand; a send cut by a restart goes on with the rest. */
static int pace_cand_send(struct pace *p, const struct cand_frame *f, int n)
{
	int rc;

	while (n > 0) {
		rc = cand_send(p->h, f, (size_t)n, 1000);
		if (rc == CAND_ERECONNECTED) {
			p->reconnected++;
			p->unsure += (uint64_t)n;
			return 0;
		}
		if (rc <= 0) {
			fprintf(stderr, "soak_can pace: send: %s (%s)\n",
				cand_strerror(rc), cand_last_detail(p->h));
			return -1;
		}
		p->sent += (uint64_t)rc;
		f += rc;
		n -= rc;
	}
	return 0;
}

int soak_pace(int argc, char **argv)
{
	struct cand_filter none = {.id = 0, .mask = 0, .invert = 1};
	struct cand_frame batch[PACE_BATCH];
	struct pace p = {.raw = -1};
	struct timespec next;
	const char *sock = NULL;
	uint64_t seq = 0, due;
	int64_t start, t0, now, secs;
	long id, rate;
	int n, rc = 0;

	if (argc > 2 && strcmp(argv[1], "-c") == 0) {
		sock = argv[2];
		argc -= 2;
		argv += 2;
	}
	if (argc != 5) {
		fprintf(stderr, "usage: soak_can pace [-c SOCKET] IFACE ID "
				"RATE SECONDS\n");
		return 2;
	}
	id = soak_arg("id", argv[2]);
	rate = soak_arg("rate", argv[3]);
	secs = soak_arg("seconds", argv[4]);
	/* Through cand it only sends: a filter that passes nothing. */
	if (sock != NULL
		    ? (p.h = soak_open("pace", sock, argv[1], &none)) == NULL
		    : (p.raw = pace_raw_open(argv[1])) < 0)
		return 1;
	start = t0 = soak_now_ms();
	clock_gettime(CLOCK_MONOTONIC, &next);
	while (!soak_stopped() &&
	       (secs == 0 || soak_now_ms() - start < secs * 1000)) {
		now = soak_now_ms() - t0;
		due = (uint64_t)now * (uint64_t)rate / 1000u;
		if (p.h != NULL && due > seq + (uint64_t)rate / 10) {
			/* Back from a gap: on from here, numbers unbroken. */
			t0 = soak_now_ms() -
			     (int64_t)(seq * 1000u / (uint64_t)rate);
			due = seq;
		}
		for (n = 0; seq < due && n < PACE_BATCH; n++)
			soak_put_seq(&batch[n], (uint32_t)id, (uint32_t)seq++);
		if (n > 0)
			rc = p.h != NULL ? pace_cand_send(&p, batch, n)
					 : pace_raw_send(&p, batch, n);
		if (rc < 0)
			break;
		next.tv_nsec += PACE_TICK_US * 1000;
		if (next.tv_nsec >= 1000000000) {
			next.tv_sec++;
			next.tv_nsec -= 1000000000;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
	}
	printf("pace: sent %llu last %lld in %lld ms, reconnected %llu, "
	       "unsure %llu\n",
	       (unsigned long long)p.sent, (long long)seq - 1,
	       (long long)(soak_now_ms() - start),
	       (unsigned long long)p.reconnected, (unsigned long long)p.unsure);
	cand_close(p.h);
	if (p.raw >= 0)
		close(p.raw);
	return rc < 0 ? 1 : 0;
}
