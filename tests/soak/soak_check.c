/*
 * check SOCKET IFACE ID: a steady client of cand, opened on IFACE with a
 * filter for ID alone, receiving until SIGTERM, that checks every number
 * of pace's frames: each one the last plus one. SOCKET "-" makes it the
 * control instead: a CAN_RAW socket of its own with cand's receive buffer
 * (4 MiB), which tells a VM short of CPU from a daemon that loses frames.
 * Prints "ready" once open, then at the end
 *
 *   check: received N first F last L lost X dup D order O drops K
 *          reconnected R gap G (slow reader S)
 *
 * (one line). lost counts numbers skipped; gap those skipped across a
 * reconnection, which cand.h says are lost; order a number below the
 * last, dup one equal to it, drops the kernel's on cand's socket, S
 * those of them cand's drop events blame on this process reading late.
 */
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/can.h>
#include <linux/can/raw.h>

#include "soak.h"

/* cand's default can_receive_buffer, for a fair control. */
#define CHECK_RCVBUF (4 << 20)

struct check {
	uint64_t received, lost, gap, dup, order, reconnected, slow;
	int have;
	uint32_t first, last;
	int after_gap; /* a reconnection since the last frame */
};

static void check_one(struct check *c, uint32_t seq)
{
	c->received++;
	if (!c->have) {
		c->have = 1;
		c->first = c->last = seq;
		return;
	}
	if (seq == c->last) {
		c->dup++;
	} else if (seq < c->last) {
		c->order++;
	} else {
		if (c->after_gap)
			c->gap += seq - c->last - 1;
		else
			c->lost += seq - c->last - 1;
		c->last = seq;
	}
	c->after_gap = 0;
}

/* The control: a raw socket with cand's buffer, filtered to id. */
static int check_raw(const char *ifname, uint32_t id, struct check *c,
		     uint64_t *drops)
{
	struct can_filter flt = {.can_id = id, .can_mask = CAN_SFF_MASK};
	struct sockaddr_can addr = {.can_family = AF_CAN};
	struct cand_frame f;
	struct can_frame cf;
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(uint32_t))];
	} ctl;
	struct iovec iov = {.iov_base = &cf, .iov_len = sizeof(cf)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	struct pollfd pfd = {.events = POLLIN};
	struct cmsghdr *cm;
	int s, on = 1, size = CHECK_RCVBUF;
	uint32_t seq, ovfl;

	s = socket(PF_CAN, SOCK_RAW | SOCK_CLOEXEC, CAN_RAW);
	if (s < 0 || (addr.can_ifindex = (int)if_nametoindex(ifname)) == 0 ||
	    setsockopt(s, SOL_CAN_RAW, CAN_RAW_FILTER, &flt, sizeof(flt)) < 0 ||
	    setsockopt(s, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof(on)) < 0 ||
	    (setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) <
		     0 &&
	     setsockopt(s, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)) < 0) ||
	    bind(s, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		perror("soak_can check: the control's socket");
		return -1;
	}
	printf("ready\n");
	fflush(stdout);
	pfd.fd = s;
	while (!soak_stopped()) {
		if (poll(&pfd, 1, 200) != 1)
			continue;
		mh.msg_control = &ctl;
		mh.msg_controllen = sizeof(ctl);
		if (recvmsg(s, &mh, 0) != (ssize_t)sizeof(cf))
			continue;
		for (cm = CMSG_FIRSTHDR(&mh); cm != NULL;
		     cm = CMSG_NXTHDR(&mh, cm))
			if (cm->cmsg_level == SOL_SOCKET &&
			    cm->cmsg_type == SO_RXQ_OVFL) {
				memcpy(&ovfl, CMSG_DATA(cm), sizeof(ovfl));
				*drops = ovfl;
			}
		memset(&f, 0, sizeof(f));
		f.id = cf.can_id & CAN_EFF_MASK;
		f.len = cf.len;
		memcpy(f.data, cf.data, sizeof(cf.data));
		if (soak_get_seq(&f, id, &seq))
			check_one(c, seq);
	}
	close(s);
	return 0;
}

/* A cand client on iface with a filter for id alone, until SIGTERM. */
static int check_cand(const char *sock, const char *ifname, uint32_t id,
		      struct check *c, uint64_t *drops)
{
	struct cand_filter flt = {.mask = 0x1fffffff, .kind = CAND_FILTER_ANY};
	struct cand_event ev;
	uint32_t seq;
	cand_t *h;
	int rc = 0;

	flt.id = id;
	if ((h = soak_open("check", sock, ifname, &flt)) == NULL)
		return -1;
	printf("ready\n");
	fflush(stdout);
	while (!soak_stopped()) {
		rc = cand_recv_event(h, &ev, 200);
		if (rc == 1 && ev.type == CAND_EVENT_FRAME &&
		    soak_get_seq(&ev.frame, id, &seq)) {
			check_one(c, seq);
		} else if (rc == 1 && ev.type == CAND_EVENT_RECONNECTED) {
			c->reconnected++;
			c->after_gap = 1;
		} else if (rc == 1 && ev.type == CAND_EVENT_DROPS &&
			   ev.drops.slow_reader) {
			/* cand held off: this process did not read in time. */
			c->slow += ev.drops.dropped;
		} else if (rc != 1 && rc != CAND_ETIMEOUT) {
			fprintf(stderr, "soak_can check: receive: %s (%s)\n",
				cand_strerror(rc), cand_last_detail(h));
			break;
		}
	}
	*drops = cand_kernel_drops(h);
	cand_close(h);
	return rc == 1 || rc == CAND_ETIMEOUT || rc == CAND_ERECONNECTED ? 0
									 : -1;
}

int soak_check(int argc, char **argv)
{
	struct check c;
	uint64_t drops = 0;
	uint32_t id;
	int rc;

	if (argc != 4) {
		fprintf(stderr, "usage: soak_can check SOCKET|- IFACE ID\n");
		return 2;
	}
	id = (uint32_t)soak_arg("id", argv[3]);
	memset(&c, 0, sizeof(c));
	rc = strcmp(argv[1], "-") == 0
		     ? check_raw(argv[2], id, &c, &drops)
		     : check_cand(argv[1], argv[2], id, &c, &drops);
	printf("check: received %llu first %lu last %lu lost %llu dup %llu "
	       "order %llu drops %llu reconnected %llu gap %llu (slow reader "
	       "%llu)\n",
	       (unsigned long long)c.received, (unsigned long)c.first,
	       (unsigned long)c.last, (unsigned long long)c.lost,
	       (unsigned long long)c.dup, (unsigned long long)c.order,
	       (unsigned long long)drops, (unsigned long long)c.reconnected,
	       (unsigned long long)c.gap, (unsigned long long)c.slow);
	return rc < 0 ? 1 : 0;
}
