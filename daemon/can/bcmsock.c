/*
 * CAN_BCM sockets: the kernel's broadcast manager does the timing of
 * periodic tasks and the content compare of monitors, so frames leave on
 * time however busy the daemon is and a monitor wakes us only when the
 * watched content changed or went silent. Here: the sockets, the messages
 * that set ops up and take them down, the kernel's bounds, and reading
 * what the kernel reports.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/can/bcm.h>

#include "can/can.h"

int bcmsock_timing(uint64_t period_us, uint64_t duration_us, uint32_t *count,
		   char *detail, size_t dsize)
{
	uint64_t n;

	*count = 0;
	if (period_us == 0) {
		detail_set(detail, dsize, "the period must be more than 0");
		return -EINVAL;
	}
	if (period_us > BCMSOCK_MAX_US) {
		detail_set(detail, dsize,
			   "a period of %llu us is over the kernel's limit of "
			   "400 days",
			   (unsigned long long)period_us);
		return -EINVAL;
	}
	if (duration_us == 0)
		return 0;
	n = duration_us / period_us;
	if (n == 0) {
		detail_set(detail, dsize,
			   "a duration of %llu us is shorter than the period "
			   "of %llu us",
			   (unsigned long long)duration_us,
			   (unsigned long long)period_us);
		return -EINVAL;
	}
	if (n > UINT32_MAX) {
		detail_set(detail, dsize,
			   "the duration is %llu periods; the kernel counts "
			   "to %u",
			   (unsigned long long)n, UINT32_MAX);
		return -EINVAL;
	}
	*count = (uint32_t)n;
	return 0;
}

static struct bcm_timeval bcmsock_tv(uint64_t us)
{
	struct bcm_timeval tv = {.tv_sec = (long)(us / 1000000),
				 .tv_usec = (long)(us % 1000000)};

	return tv;
}

uint64_t bcmsock_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static const char *bcmsock_where(const char *ifname)
{
	return ifname[0] != '\0' ? ifname : "every interface";
}

int bcmsock_open(int ifindex, const char *ifname, char *detail, size_t dsize)
{
	struct sockaddr_can addr = {.can_family = AF_CAN,
				    .can_ifindex = ifindex};
	int fd, rc, one = 1;

	fd = socket(PF_CAN, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, CAN_BCM);
	if (fd < 0) {
		rc = -errno;
		detail_set(detail, dsize, "CAN_BCM socket: %s%s",
			   strerror(errno),
			   errno == EPROTONOSUPPORT
				   ? " (is the can-bcm module loaded?)"
				   : "");
		return rc;
	}
	/* RX_CHANGED then carries the frame's own receive time. */
	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) < 0 ||
	    connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		rc = -errno;
		detail_set(detail, dsize, "CAN_BCM on %s: %s",
			   bcmsock_where(ifname), strerror(errno));
		close(fd);
		return rc;
	}
	return fd;
}

size_t bcmsock_msg_size(size_t nframes, size_t cfsiz)
{
	return sizeof(struct bcm_msg_head) + nframes * cfsiz;
}

struct canfd_frame *bcmsock_frame_at(void *msg, size_t i, size_t cfsiz)
{
	return (struct canfd_frame *)((unsigned char *)msg +
				      sizeof(struct bcm_msg_head) + i * cfsiz);
}

void bcmsock_tx_setup(void *msg, uint32_t id, size_t nframes, size_t cfsiz,
		      uint32_t count, uint64_t period_us, int start)
{
	struct bcm_msg_head *h = msg;

	h->opcode = TX_SETUP;
	h->flags = (count ? TX_COUNTEVT : 0) |
		   (cfsiz == CANFD_MTU ? CAN_FD_FRAME : 0);
	if (start) {
		/* STARTTIMER sends the first frame at once, as python-can. */
		h->flags |= SETTIMER | STARTTIMER;
		h->count = count;
		/* With a count, ival1 paces it and nothing follows. */
		h->ival1 = bcmsock_tv(count ? period_us : 0);
		h->ival2 = bcmsock_tv(count ? 0 : period_us);
	}
	/* The op's key is the task id; the frames carry their own ids. */
	h->can_id = id;
	h->nframes = (uint32_t)nframes;
}

void bcmsock_rx_setup(void *msg, const struct bcmsock_rx *rx)
{
	struct bcm_msg_head *h = msg;

	h->opcode = RX_SETUP;
	h->flags = (rx->cfsiz == CANFD_MTU ? CAN_FD_FRAME : 0) |
		   (rx->every_frame ? RX_FILTER_ID : 0) |
		   (rx->check_dlc ? RX_CHECK_DLC : 0) |
		   (rx->announce_resume ? RX_ANNOUNCE_RESUME : 0);
	if (rx->timeout_us || rx->throttle_us) {
		/* The timeout runs from now: never seen is silent too. */
		h->flags |= SETTIMER | STARTTIMER;
		h->ival1 = bcmsock_tv(rx->timeout_us);
		h->ival2 = bcmsock_tv(rx->throttle_us);
	}
	h->can_id = rx->can_id;
	h->nframes = (uint32_t)rx->nframes;
	if (rx->rtr_reply) {
		/* The op answers remote frames only, with frames[0]. */
		h->flags |= RX_RTR_FRAME;
		h->can_id |= CAN_RTR_FLAG;
	}
}

int bcmsock_write(int fd, const void *msg, size_t len, const char *what,
		  const char *ifname, char *detail, size_t dsize)
{
	int rc;

	if (write(fd, msg, len) >= 0)
		return 0;
	rc = -errno;
	/* The bound interface was unregistered under the socket. */
	if (rc == -ENOTCONN)
		rc = -ENODEV;
	detail_set(detail, dsize, "%s on %s%s%s: %s", what,
		   ifname[0] ? "\"" : "", bcmsock_where(ifname),
		   ifname[0] ? "\"" : "", strerror(-rc));
	return rc;
}

/* Discards what the socket holds: replies of a run that was just ended. */
static void bcmsock_drain(int fd)
{
	struct bcm_msg_head h;

	while (recv(fd, &h, sizeof(h), MSG_DONTWAIT) >= 0 || errno == EINTR ||
	       errno == ENETDOWN || errno == ENODEV)
		;
}

int bcmsock_tx_delete(int fd, uint32_t id, const char *ifname, char *detail,
		      size_t dsize)
{
	struct bcm_msg_head h;
	int rc;

	memset(&h, 0, sizeof(h));
	h.opcode = TX_DELETE;
	h.can_id = id;
	rc = bcmsock_write(fd, &h, sizeof(h), "TX_DELETE", ifname, detail,
			   dsize);
	bcmsock_drain(fd);
	return rc;
}

/* The kernel would drop each frame of an FD task on a classic interface. */
int bcmsock_check_fd_mtu(int fd, const char *ifname, char *detail, size_t dsize)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFMTU, &ifr) < 0 || ifr.ifr_mtu >= (int)CANFD_MTU)
		return 0;
	detail_set(detail, dsize, "\"%s\" is not CAN FD capable (mtu %d)",
		   ifname, ifr.ifr_mtu);
	return -EOPNOTSUPP;
}

static uint64_t bcmsock_timestamp(struct msghdr *mh)
{
	struct cmsghdr *cm;
	struct timespec ts;

	for (cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level == SOL_SOCKET &&
		    cm->cmsg_type == SO_TIMESTAMPNS) {
			memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
			return (uint64_t)ts.tv_sec * 1000000000u +
			       (uint64_t)ts.tv_nsec;
		}
	}
	return bcmsock_now_ns();
}

int bcmsock_recv(int fd, struct bcmsock_note *note)
{
	union {
		struct bcm_msg_head h;
		unsigned char buf[sizeof(struct bcm_msg_head) + CANFD_MTU];
	} m;
	union {
		char buf[CMSG_SPACE(sizeof(struct timespec))];
		struct cmsghdr align;
	} cmsg;
	struct sockaddr_can addr;
	struct iovec iov = {.iov_base = m.buf, .iov_len = sizeof(m.buf)};
	struct msghdr mh;
	size_t cfsiz;
	ssize_t n;

	memset(&mh, 0, sizeof(mh));
	mh.msg_name = &addr;
	mh.msg_namelen = sizeof(addr);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cmsg.buf;
	mh.msg_controllen = sizeof(cmsg.buf);
	n = recvmsg(fd, &mh, MSG_DONTWAIT);
	if (n < 0)
		/* Down or gone: the raw channel reports links. */
		return errno == EINTR || errno == ENETDOWN || errno == ENODEV
			       ? 0
			       : -errno;
	if ((size_t)n < sizeof(m.h))
		return 0;
	memset(note, 0, sizeof(*note));
	switch (m.h.opcode) {
	case TX_EXPIRED:
		note->kind = BCMSOCK_EXPIRED;
		break;
	case RX_CHANGED:
		note->kind = BCMSOCK_CHANGED;
		cfsiz = (m.h.flags & CAN_FD_FRAME) ? CANFD_MTU : CAN_MTU;
		if (m.h.nframes < 1 || (size_t)n < sizeof(m.h) + cfsiz)
			return 0;
		memcpy(&note->frame, m.buf + sizeof(m.h), cfsiz);
		if (cfsiz == CAN_MTU && note->frame.len > CAN_MAX_DLEN)
			note->frame.len = CAN_MAX_DLEN;
		note->is_fd = cfsiz == CANFD_MTU;
		break;
	case RX_TIMEOUT:
		note->kind = BCMSOCK_TIMEOUT;
		break;
	default:
		note->kind = BCMSOCK_OTHER;
		return 1;
	}
	/* On every interface, the kernel says which one it was (its address
	 * stops after can_ifindex). */
	if (mh.msg_namelen >= offsetof(struct sockaddr_can, can_ifindex) +
				      sizeof(addr.can_ifindex))
		note->ifindex = addr.can_ifindex;
	note->timestamp_ns = bcmsock_timestamp(&mh);
	return 1;
}
