/*
 * Each client's own CAN_RAW socket. Giving every client its own socket keeps
 * the kernel's exact semantics for filters, loopback, own messages and drop
 * counting, and puts the filtering in the kernel, where a frame nobody wants
 * costs the daemon nothing.
 *
 * Receive path: readable -> recvmmsg() up to RAW_BATCH frames with their
 * timestamps and drop counts -> one FrameBatch packed straight into the
 * client's output buffer -> write at once when the socket has nothing more,
 * so batching never holds a frame back.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/can/error.h>
#include <linux/can/raw.h>

#include <event2/event.h>

#include "daemon.h"

/* Batches read per wakeup before yielding to other clients. */
#define RAW_ROUNDS 8
#define RAW_CMSG_SPACE                                                         \
	(CMSG_SPACE(sizeof(struct timespec)) + CMSG_SPACE(sizeof(uint32_t)))

struct raw_chan {
	struct client *client;
	int fd;
	int ifindex; /* 0: every interface */
	char channel[IFNAMSIZ];
	int fd_frames;
	int paused;
	int rx_off; /* no read right: the kernel delivers nothing */
	/* The client's filters, kept to restore them when rx is on again. */
	struct can_filter *filters;
	size_t n_filters;
	can_err_mask_t err_mask;
	uint32_t kernel_drops; /* last SO_RXQ_OVFL value */
	struct event *ev_read;
};

/* Reused across every read so the frame path never allocates. */
struct raw_scratch {
	struct mmsghdr msgs[RAW_BATCH];
	struct iovec iov[RAW_BATCH];
	struct canfd_frame frames[RAW_BATCH];
	struct sockaddr_can addrs[RAW_BATCH];
	union {
		char buf[RAW_CMSG_SPACE];
		struct cmsghdr align;
	} cmsg[RAW_BATCH];
	Cand__Frame pb[RAW_BATCH];
	Cand__Frame *pbp[RAW_BATCH];
	/* ifindex -> name for the "" channel, refreshed on a miss. */
	struct {
		int ifindex;
		char name[IFNAMSIZ];
	} names[16];
	unsigned next_name;
};

static void raw_on_read(evutil_socket_t fd, short what, void *arg);

int raw_scratch_init(struct cand_ctx *ctx)
{
	struct raw_scratch *s;
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
		cand__frame__init(&s->pb[i]);
		s->pbp[i] = &s->pb[i];
	}
	ctx->scratch = s;
	return 0;
}

void raw_scratch_free(struct cand_ctx *ctx)
{
	free(ctx->scratch);
	ctx->scratch = NULL;
}

const char *raw_channel(const struct raw_chan *r)
{
	return r->channel;
}

/* Interface names for frames on the "" channel, without a syscall each. */
static const char *raw_ifname(struct raw_scratch *s, int ifindex)
{
	unsigned i, slot;

	for (i = 0; i < sizeof(s->names) / sizeof(s->names[0]); i++)
		if (s->names[i].ifindex == ifindex)
			return s->names[i].name;
	slot = s->next_name++ % (sizeof(s->names) / sizeof(s->names[0]));
	if (if_indextoname((unsigned)ifindex, s->names[slot].name) == NULL)
		return "";
	s->names[slot].ifindex = ifindex;
	return s->names[slot].name;
}

static int raw_setopt(int fd, int level, int name, int value)
{
	return setsockopt(fd, level, name, &value, sizeof(value)) < 0 ? -errno
								      : 0;
}

/*
 * The kernel's form of the client's filters, checked against the limit;
 * *out (malloc'd, *count >= 1) is what CAN_RAW_FILTER gets.
 */
static int raw_build_filters(Cand__Filter **filters, size_t n, unsigned max,
			     struct can_filter **out, size_t *count,
			     char *detail, size_t dsize)
{
	struct can_filter *kf;
	size_t i;

	if (n > max) {
		reply_detail(
			detail, dsize, "%zu filters; the limit is %u%s", n, max,
			max == CAN_RAW_FILTER_MAX ? " (the kernel's)" : "");
		return -EDQUOT;
	}
	kf = calloc(n ? n : 1, sizeof(*kf));
	if (kf == NULL)
		return -ENOMEM;
	/* No filters means everything, as python-can's can_filters=None. */
	for (i = 0; i < n; i++) {
		const Cand__Filter *f = filters[i];

		if (f->id > CAN_EFF_MASK || f->mask > CAN_EFF_MASK) {
			reply_detail(detail, dsize,
				     "filter %zu: id/mask 0x%x/0x%x exceed 29 "
				     "bits",
				     i, f->id, f->mask);
			free(kf);
			return -EINVAL;
		}
		kf[i].can_id = f->id;
		kf[i].can_mask = f->mask;
		/* python-can: a kind pins the frame format via CAN_EFF_FLAG. */
		if (f->kind != CAND__FILTER_KIND__ANY)
			kf[i].can_mask |= CAN_EFF_FLAG;
		if (f->kind == CAND__FILTER_KIND__EXTENDED)
			kf[i].can_id |= CAN_EFF_FLAG;
		if (f->invert)
			kf[i].can_id |= CAN_INV_FILTER;
	}
	*out = kf;
	*count = n ? n : 1;
	return 0;
}

static int raw_kernel_filters(int fd, const struct can_filter *kf, size_t count,
			      char *detail, size_t dsize)
{
	if (setsockopt(fd, SOL_CAN_RAW, CAN_RAW_FILTER, kf,
		       (socklen_t)(count * sizeof(*kf))) == 0)
		return 0;
	reply_detail(detail, dsize, "CAN_RAW_FILTER: %s", strerror(errno));
	return -errno;
}

int raw_set_filters(struct raw_chan *r, Cand__Filter **filters, size_t n,
		    char *detail, size_t dsize)
{
	struct can_filter *kf;
	size_t count;
	int rc;

	rc = raw_build_filters(filters, n, r->client->ctx->limits.max_filters,
			       &kf, &count, detail, dsize);
	if (rc < 0)
		return rc;
	if (!r->rx_off &&
	    (rc = raw_kernel_filters(r->fd, kf, count, detail, dsize)) < 0) {
		free(kf);
		return rc;
	}
	free(r->filters);
	r->filters = kf;
	r->n_filters = count;
	return 0;
}

static int raw_socket(struct cand_ctx *ctx, const Cand__OpenRequest *req,
		      int ifindex, const struct can_filter *kf, size_t nkf,
		      char *detail, size_t dsize)
{
	struct sockaddr_can addr = {.can_family = AF_CAN,
				    .can_ifindex = ifindex};
	int fd, rc;

	fd = socket(PF_CAN, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, CAN_RAW);
	if (fd < 0) {
		rc = -errno;
		reply_detail(detail, dsize, "CAN_RAW socket: %s%s",
			     strerror(errno),
			     errno == EAFNOSUPPORT ? " (no CAN in this kernel)"
						   : "");
		return rc;
	}
	if ((rc = raw_setopt(fd, SOL_CAN_RAW, CAN_RAW_LOOPBACK,
			     !req->no_local_loopback)) < 0 ||
	    (rc = raw_setopt(fd, SOL_CAN_RAW, CAN_RAW_RECV_OWN_MSGS,
			     req->receive_own_messages)) < 0 ||
	    (rc = raw_setopt(fd, SOL_CAN_RAW, CAN_RAW_ERR_FILTER,
			     req->ignore_rx_error_frames ? 0
							 : (int)CAN_ERR_MASK)) <
		    0 ||
	    (rc = raw_setopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, 1)) < 0 ||
	    (rc = raw_setopt(fd, SOL_SOCKET, SO_RXQ_OVFL, 1)) < 0) {
		reply_detail(detail, dsize, "socket options: %s",
			     strerror(-rc));
		goto fail;
	}
	if (req->fd &&
	    (rc = raw_setopt(fd, SOL_CAN_RAW, CAN_RAW_FD_FRAMES, 1)) < 0) {
		reply_detail(detail, dsize, "CAN FD: %s", strerror(-rc));
		goto fail;
	}
	/* FORCE needs CAP_NET_ADMIN; without it we get what rmem_max allows. */
	if (raw_setopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, ctx->limits.rcvbuf) < 0)
		raw_setopt(fd, SOL_SOCKET, SO_RCVBUF, ctx->limits.rcvbuf);
	rc = raw_kernel_filters(fd, kf, nkf, detail, dsize);
	if (rc < 0)
		goto fail;
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		rc = -errno;
		reply_detail(detail, dsize, "bind to \"%s\": %s", req->channel,
			     strerror(errno));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return rc;
}

int raw_open(struct client *c, const Cand__OpenRequest *req, char *detail,
	     size_t dsize)
{
	struct raw_chan *r;
	struct can_filter *kf;
	size_t nkf;
	int ifindex = 0;
	int fd;

	if (req->channel[0] != '\0') {
		if (strlen(req->channel) >= IFNAMSIZ ||
		    (ifindex = (int)if_nametoindex(req->channel)) == 0) {
			reply_detail(detail, dsize, "no interface \"%s\"",
				     req->channel);
			return -ENODEV;
		}
	}
	fd = raw_build_filters(req->filters, req->n_filters,
			       c->ctx->limits.max_filters, &kf, &nkf, detail,
			       dsize);
	if (fd < 0)
		return fd;
	fd = raw_socket(c->ctx, req, ifindex, kf, nkf, detail, dsize);
	if (fd < 0) {
		free(kf);
		return fd;
	}

	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		free(kf);
		close(fd);
		return -ENOMEM;
	}
	r->client = c;
	r->fd = fd;
	r->filters = kf;
	r->n_filters = nkf;
	r->err_mask = req->ignore_rx_error_frames ? 0 : CAN_ERR_MASK;
	r->ifindex = ifindex;
	r->fd_frames = req->fd;
	snprintf(r->channel, sizeof(r->channel), "%s", req->channel);
	r->ev_read = event_new(c->ctx->base, fd, EV_READ | EV_PERSIST,
			       raw_on_read, r);
	if (r->ev_read == NULL || event_add(r->ev_read, NULL) < 0) {
		raw_close(r);
		return -ENOMEM;
	}
	c->raw = r;
	log_info("client %u: opened \"%s\"%s%s%s", c->id, r->channel,
		 req->fd ? " fd" : "", req->receive_own_messages ? " own" : "",
		 req->no_local_loopback ? " no-loopback" : "");
	return 0;
}

void raw_close(struct raw_chan *r)
{
	if (r->ev_read != NULL)
		event_free(r->ev_read);
	close(r->fd);
	free(r->filters);
	free(r);
}

int raw_rx_on(const struct raw_chan *r)
{
	return !r->rx_off;
}

int raw_set_rx(struct raw_chan *r, int on)
{
	struct canfd_frame cf;
	char detail[128];
	int rc;

	if (on == !r->rx_off)
		return 0;
	if (on) {
		rc = raw_kernel_filters(r->fd, r->filters, r->n_filters, detail,
					sizeof(detail));
		if (rc == 0)
			rc = raw_setopt(r->fd, SOL_CAN_RAW, CAN_RAW_ERR_FILTER,
					(int)r->err_mask);
		if (rc < 0)
			return rc;
		r->rx_off = 0;
		if (!r->paused)
			event_add(r->ev_read, NULL);
		return 0;
	}
	/* An empty filter list: the kernel queues nothing for this socket. */
	if (setsockopt(r->fd, SOL_CAN_RAW, CAN_RAW_FILTER, NULL, 0) < 0 ||
	    raw_setopt(r->fd, SOL_CAN_RAW, CAN_RAW_ERR_FILTER, 0) < 0)
		return -errno;
	r->rx_off = 1;
	event_del(r->ev_read);
	/* Frames queued before are no longer the client's to see. */
	while (recv(r->fd, &cf, sizeof(cf), MSG_DONTWAIT) >= 0)
		;
	return 0;
}

void raw_pause(struct raw_chan *r)
{
	if (!r->paused)
		event_del(r->ev_read);
	r->paused = 1;
}

void raw_resume(struct raw_chan *r)
{
	if (r->paused && !r->rx_off)
		event_add(r->ev_read, NULL);
	r->paused = 0;
}

static void raw_frame_to_pb(struct raw_scratch *s, struct raw_chan *r, int i)
{
	const struct mmsghdr *m = &s->msgs[i];
	const struct canfd_frame *cf = &s->frames[i];
	Cand__Frame *f = &s->pb[i];
	struct cmsghdr *cm;
	const struct timespec *ts;
	uint32_t drops;

	f->id = cf->can_id & CAN_EFF_MASK;
	f->extended = (cf->can_id & CAN_EFF_FLAG) != 0;
	f->remote = (cf->can_id & CAN_RTR_FLAG) != 0;
	f->error = (cf->can_id & CAN_ERR_FLAG) != 0;
	f->fd = m->msg_len == CANFD_MTU;
	f->brs = f->fd && (cf->flags & CANFD_BRS);
	f->esi = f->fd && (cf->flags & CANFD_ESI);
	f->dlc = cf->len;
	f->data.data = (uint8_t *)cf->data;
	f->data.len = f->remote ? 0 : cf->len;
	f->own = (m->msg_hdr.msg_flags & MSG_CONFIRM) != 0;
	f->ifname =
		(char *)(r->ifindex ? r->channel
				    : raw_ifname(s, s->addrs[i].can_ifindex));
	f->timestamp_ns = 0;
	for (cm = CMSG_FIRSTHDR(&m->msg_hdr); cm != NULL;
	     cm = CMSG_NXTHDR((struct msghdr *)&m->msg_hdr, cm)) {
		if (cm->cmsg_level != SOL_SOCKET)
			continue;
		if (cm->cmsg_type == SO_TIMESTAMPNS) {
			ts = (const struct timespec *)CMSG_DATA(cm);
			f->timestamp_ns = (uint64_t)ts->tv_sec * 1000000000u +
					  (uint64_t)ts->tv_nsec;
		} else if (cm->cmsg_type == SO_RXQ_OVFL) {
			memcpy(&drops, CMSG_DATA(cm), sizeof(drops));
			r->kernel_drops = drops;
		}
	}
}

/* Tells the client its interface went away or down; it stays connected. */
static void raw_link_event(struct raw_chan *r, int err)
{
	Cand__ServerMsg msg = CAND__SERVER_MSG__INIT;
	Cand__Event ev = CAND__EVENT__INIT;
	Cand__LinkEvent link = CAND__LINK_EVENT__INIT;
	char detail[96];

	snprintf(detail, sizeof(detail), "interface \"%s\" %s", r->channel,
		 err == ENODEV ? "disappeared" : "is down");
	log_info("client %u: %s", r->client->id, detail);
	link.ifname = r->channel;
	link.removed = err == ENODEV;
	link.status = dispatch_status_from_errno(err);
	link.detail = detail;
	ev.ev_case = CAND__EVENT__EV_LINK;
	ev.link = &link;
	msg.msg_case = CAND__SERVER_MSG__MSG_EVENT;
	msg.event = &ev;
	client_queue_msg(r->client, &msg);
}

static void raw_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct raw_chan *r = arg;
	struct client *c = r->client;
	struct raw_scratch *s = c->ctx->scratch;
	Cand__ServerMsg msg = CAND__SERVER_MSG__INIT;
	Cand__Event ev = CAND__EVENT__INIT;
	Cand__FrameBatch batch = CAND__FRAME_BATCH__INIT;
	int i, n, round;

	(void)what;
	batch.frames = s->pbp;
	ev.ev_case = CAND__EVENT__EV_FRAMES;
	ev.frames = &batch;
	msg.msg_case = CAND__SERVER_MSG__MSG_EVENT;
	msg.event = &ev;

	for (round = 0; round < RAW_ROUNDS; round++) {
		if (client_out_full(c)) {
			/* Let the kernel hold (and count) what it cannot. */
			raw_pause(r);
			break;
		}
		for (i = 0; i < RAW_BATCH; i++) {
			s->msgs[i].msg_hdr.msg_namelen = sizeof(s->addrs[i]);
			s->msgs[i].msg_hdr.msg_controllen = RAW_CMSG_SPACE;
		}
		n = recvmmsg(fd, s->msgs, RAW_BATCH, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == ENETDOWN || errno == ENODEV)
				raw_link_event(r, errno);
			else if (errno != EAGAIN && errno != EINTR)
				log_warn("client %u: recvmmsg: %s", c->id,
					 strerror(errno));
			break;
		}
		for (i = 0; i < n; i++)
			raw_frame_to_pb(s, r, i);
		batch.n_frames = (size_t)n;
		batch.kernel_drops = r->kernel_drops;
		if (client_queue_msg(c, &msg) < 0)
			break;
		if (n < RAW_BATCH)
			break;
	}
	client_flush(c);
}

/* The valid CAN FD payload sizes; others round up to the next one. */
static size_t raw_fd_len(size_t len)
{
	static const uint8_t sizes[] = {12, 16, 20, 24, 32, 48, 64};
	size_t i;

	if (len <= 8)
		return len;
	for (i = 0; i < sizeof(sizes); i++)
		if (len <= sizes[i])
			return sizes[i];
	return len;
}

int raw_frame_from_pb(const Cand__Frame *f, int fd_enabled,
		      struct canfd_frame *cf, int *is_fd, char *detail,
		      size_t dsize)
{
	size_t max = f->fd ? CANFD_MAX_DLEN : CAN_MAX_DLEN;
	size_t len = f->data.len;

	memset(cf, 0, sizeof(*cf));
	if (f->fd && !fd_enabled) {
		reply_detail(detail, dsize,
			     "CAN FD frame on a channel opened without fd");
		return -EOPNOTSUPP;
	}
	if (f->error) {
		if (f->id > CAN_ERR_MASK) {
			reply_detail(detail, dsize,
				     "error class 0x%x exceeds CAN_ERR_MASK",
				     f->id);
			return -EINVAL;
		}
	} else if (f->id > (f->extended ? CAN_EFF_MASK : CAN_SFF_MASK)) {
		reply_detail(detail, dsize, "id 0x%x does not fit %s", f->id,
			     f->extended ? "29 bits"
					 : "11 bits (not extended)");
		return -EINVAL;
	}
	if (f->remote) {
		if (f->fd) {
			reply_detail(detail, dsize,
				     "CAN FD has no remote frames");
			return -EINVAL;
		}
		if (len != 0 || f->dlc > CAN_MAX_DLEN) {
			reply_detail(detail, dsize,
				     "a remote frame has no data and dlc <= 8");
			return -EINVAL;
		}
		len = f->dlc;
	} else if (len > max) {
		reply_detail(detail, dsize,
			     "%zu data bytes; a %s frame carries at most %zu",
			     len, f->fd ? "CAN FD" : "classic CAN", max);
		return -EINVAL;
	} else if (f->dlc != 0 && f->dlc != len) {
		reply_detail(detail, dsize, "dlc %u but %zu data bytes", f->dlc,
			     len);
		return -EINVAL;
	} else if (len > 0) {
		/* protobuf-c leaves an empty data NULL: no memcpy from it. */
		memcpy(cf->data, f->data.data, len);
	}

	cf->can_id = f->id;
	if (f->extended)
		cf->can_id |= CAN_EFF_FLAG;
	if (f->remote)
		cf->can_id |= CAN_RTR_FLAG;
	if (f->error)
		cf->can_id |= CAN_ERR_FLAG;
	cf->len = (uint8_t)(f->fd ? raw_fd_len(len) : len);
	if (f->brs)
		cf->flags |= CANFD_BRS;
	if (f->esi)
		cf->flags |= CANFD_ESI;
	*is_fd = f->fd;
	return 0;
}

static int raw_send_one(struct raw_chan *r, const Cand__Frame *f, char *detail,
			size_t dsize)
{
	struct sockaddr_can addr = {.can_family = AF_CAN};
	struct canfd_frame cf;
	const char *ifname = r->channel;
	int is_fd, rc;
	ssize_t n;

	rc = raw_frame_from_pb(f, r->fd_frames, &cf, &is_fd, detail, dsize);
	if (rc < 0)
		return rc;
	if (r->ifindex != 0) {
		if (f->ifname[0] != '\0' && strcmp(f->ifname, r->channel)) {
			reply_detail(detail, dsize,
				     "frame names \"%s\" but the channel is "
				     "\"%s\"",
				     f->ifname, r->channel);
			return -EINVAL;
		}
		addr.can_ifindex = r->ifindex;
	} else {
		ifname = f->ifname;
		if (ifname[0] == '\0') {
			reply_detail(detail, dsize,
				     "the \"\" channel needs each frame to "
				     "name its interface");
			return -EINVAL;
		}
		addr.can_ifindex = (int)if_nametoindex(ifname);
		if (addr.can_ifindex == 0) {
			reply_detail(detail, dsize, "no interface \"%s\"",
				     ifname);
			return -ENODEV;
		}
	}
	n = sendto(r->fd, &cf, is_fd ? CANFD_MTU : CAN_MTU, MSG_DONTWAIT,
		   (struct sockaddr *)&addr, sizeof(addr));
	if (n >= 0)
		return 0;
	rc = -errno;
	switch (errno) {
	case ENOBUFS:
	case EAGAIN:
		reply_detail(detail, dsize, "TX buffer full");
		return -ENOBUFS;
	case ENETDOWN:
		reply_detail(detail, dsize, "interface \"%s\" is down", ifname);
		break;
	case EINVAL:
		reply_detail(detail, dsize, "\"%s\" refused the frame%s: %s",
			     ifname,
			     is_fd ? " (is it CAN FD capable, mtu 72?)" : "",
			     strerror(errno));
		break;
	default:
		reply_detail(detail, dsize, "send on \"%s\": %s", ifname,
			     strerror(errno));
	}
	return rc;
}

int raw_send(struct raw_chan *r, const Cand__SendRequest *req, size_t *next,
	     char *detail, size_t dsize)
{
	int rc;

	for (; *next < req->n_frames; (*next)++) {
		rc = raw_send_one(r, req->frames[*next], detail, dsize);
		if (rc < 0)
			return rc;
	}
	return 0;
}
