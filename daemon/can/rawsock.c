/*
 * CAN_RAW sockets: each interface's tap, which receives everything for
 * every client there (ops/tap.c); each client's quiet socket, which
 * receives nothing and sends with loopback off; and one per interface
 * that receives nothing but error frames.
 *
 * The receive path reads up to RAW_BATCH frames with one recvmmsg(), each
 * with SO_TIMESTAMPNS and SO_RXQ_OVFL control messages and MSG_CONFIRM for
 * own frames, into buffers allocated once for the whole daemon (it is
 * single-threaded and a batch is encoded before the next read), and hands
 * them on as struct rx_frame pointing into those buffers: no malloc and no
 * copy of frame data per frame.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/can/error.h>
#include <linux/can/raw.h>
#include <linux/sock_diag.h>

#include "can/can.h"

#define RAWSOCK_CMSG_SPACE                                                     \
	(CMSG_SPACE(sizeof(struct timespec)) + CMSG_SPACE(sizeof(uint32_t)))
#define RAWSOCK_NAMES 16

struct rx_scratch {
	struct mmsghdr msgs[RAW_BATCH];
	struct iovec iov[RAW_BATCH];
	struct canfd_frame frames[RAW_BATCH];
	struct sockaddr_can addrs[RAW_BATCH];
	union {
		char buf[RAWSOCK_CMSG_SPACE];
		struct cmsghdr align;
	} cmsg[RAW_BATCH];
	struct rx_frame rx[RAW_BATCH];
	/* ifindex -> name for the "" channel, refreshed on a miss. */
	struct {
		int ifindex;
		char name[IFNAMSIZ];
	} names[RAWSOCK_NAMES];
	unsigned next_name;
	/* recvmmsg rewrote the lengths of only the messages it filled. */
	int used;
};

int rawsock_scratch_init(struct cand_ctx *ctx)
{
	struct rx_scratch *s;
	int i;

	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	for (i = 0; i < RAW_BATCH; i++) {
		s->iov[i].iov_base = &s->frames[i];
		s->iov[i].iov_len = sizeof(s->frames[i]);
		s->msgs[i].msg_hdr.msg_iov = &s->iov[i];
		s->msgs[i].msg_hdr.msg_iovlen = 1;
		s->msgs[i].msg_hdr.msg_name = &s->addrs[i];
		s->msgs[i].msg_hdr.msg_control = s->cmsg[i].buf;
		s->rx[i].cf = &s->frames[i];
	}
	s->used = RAW_BATCH;
	ctx->scratch = s;
	return 0;
}

void rawsock_scratch_free(struct cand_ctx *ctx)
{
	free(ctx->scratch);
	ctx->scratch = NULL;
}

/* Interface names for frames on the "" channel, without a syscall each. */
static const char *rawsock_ifname(struct rx_scratch *s, int ifindex)
{
	unsigned i, slot;

	for (i = 0; i < RAWSOCK_NAMES; i++)
		if (s->names[i].ifindex == ifindex)
			return s->names[i].name;
	slot = s->next_name++ % RAWSOCK_NAMES;
	if (if_indextoname((unsigned)ifindex, s->names[slot].name) == NULL)
		return "";
	s->names[slot].ifindex = ifindex;
	return s->names[slot].name;
}

static int rawsock_setopt(int fd, int level, int name, int value)
{
	return setsockopt(fd, level, name, &value, sizeof(value)) < 0 ? -errno
								      : 0;
}

int rawsock_filters(const struct filter_desc *filters, size_t n, unsigned max,
		    struct can_filter **out, size_t *count, char *detail,
		    size_t dsize)
{
	struct can_filter *kf;
	size_t i;

	if (n > max) {
		detail_set(detail, dsize, "%zu filters; the limit is %u%s", n,
			   max,
			   max == CAN_RAW_FILTER_MAX ? " (the kernel's)" : "");
		return -EDQUOT;
	}
	*count = n ? n : 1;
	kf = calloc(*count, sizeof(*kf));
	if (kf == NULL)
		return -ENOMEM;
	/* No filters means everything, as python-can's can_filters=None. */
	for (i = 0; i < n; i++) {
		const struct filter_desc *f = &filters[i];

		if (f->id > CAN_EFF_MASK || f->mask > CAN_EFF_MASK) {
			detail_set(detail, dsize,
				   "filter %zu: id/mask 0x%x/0x%x exceed 29 "
				   "bits",
				   i, f->id, f->mask);
			free(kf);
			return -EINVAL;
		}
		/* The wire's enum is open: a number we do not know is no kind.
		 */
		if (f->kind != FILTER_ANY && f->kind != FILTER_STANDARD &&
		    f->kind != FILTER_EXTENDED) {
			detail_set(detail, dsize,
				   "filter %zu has an unknown kind %d", i,
				   (int)f->kind);
			free(kf);
			return -EINVAL;
		}
		kf[i].can_id = f->id;
		kf[i].can_mask = f->mask;
		/* python-can: a kind pins the frame format via CAN_EFF_FLAG. */
		if (f->kind != FILTER_ANY)
			kf[i].can_mask |= CAN_EFF_FLAG;
		if (f->kind == FILTER_EXTENDED)
			kf[i].can_id |= CAN_EFF_FLAG;
		if (f->invert)
			kf[i].can_id |= CAN_INV_FILTER;
	}
	*out = kf;
	return 0;
}

size_t rawsock_filters_text(const struct can_filter *f, size_t n, char *buf,
			    size_t size)
{
	size_t i;

	buf[0] = '\0';
	/* What rawsock_filters() makes of none: one that matches anything. */
	if (n == 1 && f[0].can_id == 0 && f[0].can_mask == 0) {
		detail_set(buf, size, "all");
		return 0;
	}
	/* candump's notation: ID:MASK, ID~MASK inverted. */
	for (i = 0; i < n; i++)
		detail_append(buf, size, "%s%0*X%c%0*X", i ? " " : "",
			      (f[i].can_id & CAN_EFF_FLAG) ? 8 : 3,
			      f[i].can_id & CAN_EFF_MASK,
			      (f[i].can_id & CAN_INV_FILTER) ? '~' : ':',
			      (f[i].can_id & CAN_EFF_FLAG) ? 8 : 3,
			      f[i].can_mask & CAN_EFF_MASK);
	return n;
}

int rawsock_apply_filters(int fd, const struct can_filter *kf, size_t count,
			  char *detail, size_t dsize)
{
	if (setsockopt(fd, SOL_CAN_RAW, CAN_RAW_FILTER, kf,
		       (socklen_t)(count * sizeof(*kf))) < 0) {
		detail_set(detail, dsize, "CAN_RAW_FILTER: %s",
			   strerror(errno));
		return -errno;
	}
	return 0;
}

int rawsock_open(const struct rawsock_opts *o, int rcvbuf, int ifindex,
		 const char *channel, char *detail, size_t dsize)
{
	struct sockaddr_can addr = {.can_family = AF_CAN,
				    .can_ifindex = ifindex};
	int fd, rc;

	fd = socket(PF_CAN, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, CAN_RAW);
	if (fd < 0) {
		rc = -errno;
		detail_set(detail, dsize, "CAN_RAW socket: %s%s",
			   strerror(errno),
			   errno == EAFNOSUPPORT ? " (no CAN in this kernel)"
						 : "");
		return rc;
	}
	if ((rc = rawsock_setopt(fd, SOL_CAN_RAW, CAN_RAW_LOOPBACK,
				 o->loopback)) < 0 ||
	    (rc = rawsock_setopt(fd, SOL_CAN_RAW, CAN_RAW_RECV_OWN_MSGS,
				 o->recv_own)) < 0 ||
	    (rc = rawsock_setopt(fd, SOL_CAN_RAW, CAN_RAW_ERR_FILTER,
				 o->ignore_errors ? 0 : (int)CAN_ERR_MASK)) <
		    0 ||
	    (rc = rawsock_setopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, 1)) < 0 ||
	    (rc = rawsock_setopt(fd, SOL_SOCKET, SO_RXQ_OVFL, 1)) < 0) {
		detail_set(detail, dsize, "socket options: %s", strerror(-rc));
		goto fail;
	}
	if (o->fd_frames &&
	    (rc = rawsock_setopt(fd, SOL_CAN_RAW, CAN_RAW_FD_FRAMES, 1)) < 0) {
		detail_set(detail, dsize, "CAN FD: %s", strerror(-rc));
		goto fail;
	}
	/* FORCE needs CAP_NET_ADMIN; without it we get what rmem_max allows. */
	if (rcvbuf > 0 &&
	    rawsock_setopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, rcvbuf) < 0)
		rawsock_setopt(fd, SOL_SOCKET, SO_RCVBUF, rcvbuf);
	rc = rawsock_apply_filters(fd, o->filters, o->n_filters, detail, dsize);
	if (rc < 0)
		goto fail;
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		rc = -errno;
		detail_set(detail, dsize, "bind to \"%s\": %s", channel,
			   strerror(errno));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return rc;
}

/* An empty filter list, so the kernel queues nothing. */
int rawsock_block(int fd)
{
	if (setsockopt(fd, SOL_CAN_RAW, CAN_RAW_FILTER, NULL, 0) < 0 ||
	    rawsock_setopt(fd, SOL_CAN_RAW, CAN_RAW_ERR_FILTER, 0) < 0)
		return -errno;
	return 0;
}

int rawsock_unblock(int fd, const struct rawsock_opts *o)
{
	char detail[128];
	int rc;

	rc = rawsock_apply_filters(fd, o->filters, o->n_filters, detail,
				   sizeof(detail));
	if (rc == 0)
		rc = rawsock_setopt(fd, SOL_CAN_RAW, CAN_RAW_ERR_FILTER,
				    o->ignore_errors ? 0 : (int)CAN_ERR_MASK);
	return rc;
}

void rawsock_purge(int fd)
{
	struct canfd_frame cf;
	int errors = 0;

	/*
	 * A socket's pending error (its link went down) is told once, ahead
	 * of the frames still queued: read on past it, not past a few.
	 */
	while (recv(fd, &cf, sizeof(cf), MSG_DONTWAIT) >= 0 ||
	       (errno != EAGAIN && errno != EWOULDBLOCK && ++errors < 4))
		;
}

/*
 * SO_RXQ_OVFL stamps each frame with the count when it was queued, so the
 * frames waiting in a full buffer all predate the drops, and only a frame
 * queued after them would tell; SO_MEMINFO tells now.
 */
static int rawsock_meminfo(int fd, uint32_t *drops, int only_empty)
{
	uint32_t mem[SK_MEMINFO_VARS];
	socklen_t len = sizeof(mem);

	if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len) < 0 ||
	    len <= SK_MEMINFO_DROPS * sizeof(mem[0]))
		return 0;
	/* Frames still queued predate the drops: they go first. */
	if (only_empty && mem[SK_MEMINFO_RMEM_ALLOC] != 0)
		return 0;
	if (mem[SK_MEMINFO_DROPS] > *drops)
		*drops = mem[SK_MEMINFO_DROPS];
	return 1;
}

void rawsock_read_drops(int fd, uint32_t *drops)
{
	rawsock_meminfo(fd, drops, 0);
}

int rawsock_read_drops_empty(int fd, uint32_t *drops)
{
	return rawsock_meminfo(fd, drops, 1);
}

/* Frame i of the last recvmmsg as an rx_frame. */
static void rawsock_parse(struct rx_scratch *s, int i, const char *ifname,
			  uint32_t *drops)
{
	const struct mmsghdr *m = &s->msgs[i];
	struct rx_frame *rx = &s->rx[i];
	struct cmsghdr *cm;
	const struct timespec *ts;
	uint32_t d;

	rx->is_fd = m->msg_len == CANFD_MTU;
	/* MSG_CONFIRM: this socket sent it (net/can/raw.c). */
	rx->own = (m->msg_hdr.msg_flags & MSG_CONFIRM) != 0;
	/* MSG_DONTROUTE: a socket of this host sent it, for candump -x. */
	rx->local = (m->msg_hdr.msg_flags & MSG_DONTROUTE) != 0;
	rx->idx = (uint8_t)i;
	rx->ifindex = s->addrs[i].can_ifindex;
	rx->ifname = ifname != NULL ? ifname : rawsock_ifname(s, rx->ifindex);
	rx->timestamp_ns = 0;
	for (cm = CMSG_FIRSTHDR(&m->msg_hdr); cm != NULL;
	     cm = CMSG_NXTHDR((struct msghdr *)&m->msg_hdr, cm)) {
		if (cm->cmsg_level != SOL_SOCKET)
			continue;
		if (cm->cmsg_type == SO_TIMESTAMPNS) {
			ts = (const struct timespec *)CMSG_DATA(cm);
			rx->timestamp_ns = (uint64_t)ts->tv_sec * 1000000000u +
					   (uint64_t)ts->tv_nsec;
		} else if (cm->cmsg_type == SO_RXQ_OVFL) {
			memcpy(&d, CMSG_DATA(cm), sizeof(d));
			/* Older frames carry older counts; never go back. */
			if (d > *drops)
				*drops = d;
		}
	}
}

int rawsock_recv(struct cand_ctx *ctx, int fd, const char *ifname,
		 struct rx_batch *b, uint32_t *drops)
{
	struct rx_scratch *s = ctx->scratch;
	int i, n;

	b->frames = s->rx;
	b->count = 0;
	b->read_id = 0;
	b->kernel_drops = 0;
	b->ifname = ifname;
	for (i = 0; i < s->used; i++) {
		s->msgs[i].msg_hdr.msg_namelen = sizeof(s->addrs[i]);
		s->msgs[i].msg_hdr.msg_controllen = RAWSOCK_CMSG_SPACE;
	}
	n = recvmmsg(fd, s->msgs, RAW_BATCH, MSG_DONTWAIT, NULL);
	s->used = n > 0 ? n : 0;
	if (n < 0)
		return -errno;
	for (i = 0; i < n; i++)
		rawsock_parse(s, i, ifname, drops);
	b->count = (size_t)n;
	return 0;
}

/* Why frame tx could not go, from send's errno. */
static int rawsock_send_error(int err, const struct raw_tx *tx, char *detail,
			      size_t dsize)
{
	switch (err) {
	case ENOBUFS:
	case EAGAIN:
		detail_set(detail, dsize, "TX buffer full");
		return -ENOBUFS;
	case ENETDOWN:
		detail_set(detail, dsize, "interface \"%s\" is down",
			   tx->ifname);
		break;
	case EINVAL:
		detail_set(detail, dsize, "\"%s\" refused the frame%s: %s",
			   tx->ifname,
			   tx->is_fd ? " (is it CAN FD capable, mtu 72?)" : "",
			   strerror(err));
		break;
	default:
		detail_set(detail, dsize, "send on \"%s\": %s", tx->ifname,
			   strerror(err));
	}
	return -err;
}

/*
 * One sendmmsg() a RAW_BATCH, each frame a datagram of its own as with
 * write(): the kernel takes them in order and stops at the first it
 * refuses, whose error the next call, starting there, then gets.
 *
 * A socket keeps one pending error and hands it to its next send, which
 * the kernel then does not even try: ENETDOWN when the socket was bound
 * while its link was down or the link went down since (cand's sockets
 * outlive a link's downs), or what stopped an earlier batch part way,
 * perhaps another client's. A failed call is therefore tried once more
 * at once: the first took the stale error, the second says how things
 * stand now.
 */
int rawsock_send(int fd, int bound, const struct raw_tx *tx, size_t n,
		 size_t *sent, char *detail, size_t dsize)
{
	struct mmsghdr msgs[RAW_BATCH];
	struct iovec iov[RAW_BATCH];
	struct sockaddr_can addr[RAW_BATCH];
	size_t i, k;
	int m;

	*sent = 0;
	while (*sent < n) {
		k = n - *sent < RAW_BATCH ? n - *sent : RAW_BATCH;
		memset(msgs, 0, k * sizeof(msgs[0]));
		for (i = 0; i < k; i++) {
			const struct raw_tx *t = &tx[*sent + i];

			iov[i].iov_base = (void *)&t->cf;
			iov[i].iov_len = t->is_fd ? CANFD_MTU : CAN_MTU;
			/* Bound there: no address for the kernel to copy in. */
			if (t->ifindex != bound) {
				memset(&addr[i], 0, sizeof(addr[i]));
				addr[i].can_family = AF_CAN;
				addr[i].can_ifindex = t->ifindex;
				msgs[i].msg_hdr.msg_name = &addr[i];
				msgs[i].msg_hdr.msg_namelen = sizeof(addr[i]);
			}
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
		}
		m = sendmmsg(fd, msgs, (unsigned)k, MSG_DONTWAIT);
		if (m < 0)
			m = sendmmsg(fd, msgs, (unsigned)k, MSG_DONTWAIT);
		if (m < 0)
			return rawsock_send_error(errno, &tx[*sent], detail,
						  dsize);
		*sent += (size_t)m;
	}
	return 0;
}

int rawsock_open_errors(int ifindex, can_err_mask_t mask)
{
	struct sockaddr_can addr = {.can_family = AF_CAN,
				    .can_ifindex = ifindex};
	int fd, rc, one = 1;

	fd = socket(PF_CAN, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, CAN_RAW);
	if (fd < 0)
		return -errno;
	/*
	 * No filters: not one data frame, only the error frames of mask.
	 * Timestamps, although unused here: the kernel turns arrival time
	 * stamping on only after the first socket asks, from a workqueue, so
	 * the first frames of a lone client would carry the time they were
	 * read instead. With this socket open it is on all along.
	 */
	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_CAN_RAW, CAN_RAW_FILTER, NULL, 0) < 0 ||
	    setsockopt(fd, SOL_CAN_RAW, CAN_RAW_ERR_FILTER, &mask,
		       sizeof(mask)) < 0 ||
	    bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

int rawsock_open_tap(int ifindex, int rcvbuf, char *detail, size_t dsize)
{
	struct rawsock_opts o = {.loopback = 1, .recv_own = 1, .fd_frames = 1};
	struct can_filter all = {0, 0};
	int fd;

	o.filters = &all;
	o.n_filters = 1;
	fd = rawsock_open(&o, rcvbuf, ifindex, ifindex ? "tap" : "", detail,
			  dsize);
	if (fd < 0)
		return fd;
	if (rawsock_block(fd) < 0) {
		detail_set(detail, dsize, "CAN_RAW_FILTER: %s",
			   strerror(errno));
		close(fd);
		return -errno;
	}
	return fd;
}

int rawsock_tap_on(int fd)
{
	struct rawsock_opts o = {0};
	struct can_filter all = {0, 0};

	o.filters = &all;
	o.n_filters = 1;
	return rawsock_unblock(fd, &o);
}

int rawsock_open_quiet(const struct rawsock_opts *o, int ifindex,
		       const char *channel, char *detail, size_t dsize)
{
	/* On the error list with a mask of 0: nothing ever passes it. */
	struct can_filter none = {.can_id = 0, .can_mask = CAN_ERR_FLAG};
	struct rawsock_opts q = *o;
	int fd;

	q.filters = &none;
	q.n_filters = 1;
	q.ignore_errors = 1;
	q.recv_own = 0;
	fd = rawsock_open(&q, 0, ifindex, channel, detail, dsize);
	return fd;
}
