/*
 * Timing judged against a control: how the bcm tests tell a late kernel
 * timer from a late cand. Shared by every file of the suite that measures
 * a period, a duration or a rate.
 */
#ifndef CAND_INTEG_BCM_TIMING_H
#define CAND_INTEG_BCM_TIMING_H

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/can.h>
#include <linux/can/bcm.h>
#include <linux/can/raw.h>
#include <net/if.h>

#include "util.h"

/*
 * Timing runs in a VM that emulates its CPUs on a shared host: when the
 * host stalls a vCPU, the kernel's own timers fire late, whatever cand
 * asked of them. So each timing attempt runs a control beside it: a BCM
 * task the test sets up on the kernel directly (not through cand), every
 * 2 ms on vcan1, whose kernel timestamps show when and how long the
 * kernel's timers stalled. A check that misses its bound says when (a
 * window of kernel time) and by how much; only the control's stalls in
 * that window can excuse it, and then the attempt is inconclusive and
 * tried again. A real error (a modify that restarts the timer, a wrong
 * count, frames too early) fails with a punctual control.
 */
#define TIMING_ATTEMPTS	  5
#define CONTROL_ID	  0x7F0
#define CONTROL_PERIOD_US 2000
#define CONTROL_IFACE	  "vcan1"
#define CONTROL_STALLS	  256

struct verdict {
	int ok;
	uint64_t need_ns; /* the stall that would explain the miss */
	uint64_t from_ns; /* when the miss happened, kernel time */
	uint64_t to_ns;
	char why[256];
};

/* A miss no stall explains: too many frames, or frames far too early. */
#define NEED_NO_STALL UINT64_MAX

static inline void verdict_fail(struct verdict *v, uint64_t need_ns,
				uint64_t from_ns, uint64_t to_ns,
				const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Records a miss; the one that needs the most explaining is kept. */
static inline void verdict_fail(struct verdict *v, uint64_t need_ns,
				uint64_t from_ns, uint64_t to_ns,
				const char *fmt, ...)
{
	va_list ap;

	if (!v->ok && need_ns <= v->need_ns)
		return;
	v->ok = 0;
	v->need_ns = need_ns;
	v->from_ns = from_ns;
	v->to_ns = to_ns;
	va_start(ap, fmt);
	vsnprintf(v->why, sizeof(v->why), fmt, ap);
	va_end(ap);
}

struct control {
	int bcm;
	int raw;
	size_t n_stalls;
	struct {
		uint64_t from, to; /* the frames either side of it */
	} stalls[CONTROL_STALLS];
};

static inline void control_start(struct control *k)
{
	struct {
		struct bcm_msg_head h;
		struct can_frame f;
	} m;
	struct sockaddr_can a = {.can_family = AF_CAN};
	struct can_filter flt = {CONTROL_ID, CAN_SFF_MASK | CAN_EFF_FLAG};
	int one = 1, size = 4 << 20;

	a.can_ifindex = (int)if_nametoindex(CONTROL_IFACE);
	ck_assert_msg(a.can_ifindex > 0, "no %s for the control",
		      CONTROL_IFACE);
	k->raw = socket(PF_CAN, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
			CAN_RAW);
	ck_assert_msg(k->raw >= 0 &&
			      setsockopt(k->raw, SOL_CAN_RAW, CAN_RAW_FILTER,
					 &flt, sizeof(flt)) == 0 &&
			      setsockopt(k->raw, SOL_SOCKET, SO_TIMESTAMPNS,
					 &one, sizeof(one)) == 0 &&
			      setsockopt(k->raw, SOL_SOCKET, SO_RCVBUFFORCE,
					 &size, sizeof(size)) == 0 &&
			      bind(k->raw, (struct sockaddr *)&a, sizeof(a)) ==
				      0,
		      "control observer: %s", strerror(errno));
	k->bcm = socket(PF_CAN, SOCK_DGRAM | SOCK_CLOEXEC, CAN_BCM);
	ck_assert_msg(k->bcm >= 0 && connect(k->bcm, (struct sockaddr *)&a,
					     sizeof(a)) == 0,
		      "control BCM socket: %s", strerror(errno));
	memset(&m, 0, sizeof(m));
	m.h.opcode = TX_SETUP;
	m.h.flags = SETTIMER | STARTTIMER;
	m.h.ival2.tv_usec = CONTROL_PERIOD_US;
	m.h.can_id = CONTROL_ID;
	m.h.nframes = 1;
	m.f.can_id = CONTROL_ID;
	ck_assert_msg(write(k->bcm, &m, sizeof(m)) == (ssize_t)sizeof(m),
		      "control TX_SETUP: %s", strerror(errno));
	k->n_stalls = 0;
}

/* Stops the control and notes its stalls: gaps that missed an expiry. */
static inline void control_stop(struct control *k)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct timespec))];
		struct cmsghdr align;
	} cmsg;
	struct can_frame f;
	struct iovec iov = {.iov_base = &f, .iov_len = sizeof(f)};
	struct msghdr mh;
	struct cmsghdr *cm;
	struct timespec ts;
	uint64_t t, last = 0;

	close(k->bcm); /* deletes the op */
	for (;;) {
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = cmsg.buf;
		mh.msg_controllen = sizeof(cmsg.buf);
		if (recvmsg(k->raw, &mh, 0) < 0)
			break;
		t = 0;
		for (cm = CMSG_FIRSTHDR(&mh); cm != NULL;
		     cm = CMSG_NXTHDR(&mh, cm))
			if (cm->cmsg_level == SOL_SOCKET &&
			    cm->cmsg_type == SO_TIMESTAMPNS) {
				memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
				t = (uint64_t)ts.tv_sec * 1000000000u +
				    (uint64_t)ts.tv_nsec;
			}
		if (last != 0 && t > last + 2 * CONTROL_PERIOD_US * 1000u &&
		    k->n_stalls < CONTROL_STALLS) {
			k->stalls[k->n_stalls].from = last;
			k->stalls[k->n_stalls].to = t;
			k->n_stalls++;
		}
		last = t;
	}
	close(k->raw);
}

/* How long the control stalled within [from, to], widened by margin. */
static inline uint64_t control_stalled(const struct control *k, uint64_t from,
				       uint64_t to, uint64_t margin)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < k->n_stalls; i++)
		if (k->stalls[i].to + margin >= from &&
		    k->stalls[i].from <= to + margin)
			sum += k->stalls[i].to - k->stalls[i].from -
			       CONTROL_PERIOD_US * 1000u;
	return sum;
}

/*
 * Runs attempt() until one passes, or fails where the control did not
 * stall enough to explain the miss. The control sees a stall up to one of
 * its periods short, hence the margin.
 */
static inline void timing_attempts(void (*attempt)(struct verdict *),
				   const char *what)
{
	const uint64_t margin = (CONTROL_PERIOD_US + 1000) * 1000u;
	struct control k;
	struct verdict v;
	uint64_t stall;
	int i;

	for (i = 0; i < TIMING_ATTEMPTS; i++) {
		v.ok = 1;
		v.need_ns = 0;
		v.why[0] = '\0';
		control_start(&k);
		attempt(&v);
		control_stop(&k);
		if (v.ok)
			return;
		stall = control_stalled(&k, v.from_ns, v.to_ns, margin);
		ck_assert_msg(v.need_ns != NEED_NO_STALL &&
				      stall + margin >= v.need_ns,
			      "%s: %s (the kernel's own timers stalled %.1f ms "
			      "meanwhile)",
			      what, v.why, stall / 1e6);
		fprintf(stderr,
			"%s: attempt %d inconclusive: %s; the control stalled "
			"%.1f ms meanwhile\n",
			what, i + 1, v.why, stall / 1e6);
	}
	fprintf(stderr,
		"%s: NOT JUDGED: the host stalled the VM in all %d "
		"attempts\n",
		what, TIMING_ATTEMPTS);
}

#endif
