/*
 * Each client's own CAN_RAW socket. Giving every client its own socket keeps
 * the kernel's exact semantics for filters, loopback, own messages and drop
 * counting, and puts the filtering in the kernel, where a frame nobody wants
 * costs the daemon nothing.
 *
 * Receive path: readable -> recvmmsg() up to RAW_BATCH frames with their
 * timestamps and drop counts -> packed records (proto/framepack.h) -> one
 * FrameBatch packed straight into the client's output buffer -> write at
 * once when the socket has nothing more, so batching never holds a frame
 * back.
 *
 * The channel keeps its options and kernel filters, so that when its
 * interface disappears and comes back under the same name (busstate.c
 * notices), raw_rebind() gives it an identical socket on the new one.
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
#include <linux/sock_diag.h>

#include <event2/event.h>

#include "daemon.h"
#include "framepack.h"

/* Batches read per wakeup before yielding to other clients. */
#define RAW_ROUNDS 8
#define RAW_CMSG_SPACE                                                         \
	(CMSG_SPACE(sizeof(struct timespec)) + CMSG_SPACE(sizeof(uint32_t)))

/* What a socket is made of, kept for re-binding. */
struct raw_opts {
	int loopback;
	int recv_own;
	int fd_frames;
	int ignore_errors;
	struct can_filter *filters; /* the kernel's form, as last applied */
	size_t n_filters;
};

struct raw_chan {
	struct client *client;
	int fd;
	int ifindex; /* 0: every interface */
	char channel[IFNAMSIZ];
	int fd_frames;
	int paused;
	uint32_t kernel_drops; /* last SO_RXQ_OVFL value of this socket */
	struct event *ev_read;
	struct raw_opts opts;
	int gone;		 /* the interface disappeared */
	uint64_t drops_base;	 /* drops of sockets replaced by re-binds */
	uint64_t drops_reported; /* the total the client was last told */
	int slow_since_report;	 /* paused for the client since then */
	int rx_off; /* no read right: the kernel delivers nothing */
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
	uint8_t packed[RAW_BATCH * FRAMEPACK_MAX];
	char *ifnames[RAW_BATCH]; /* the batch's names, indexed by records */
	int ifindexes[RAW_BATCH];
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

int raw_ifindex(const struct raw_chan *r)
{
	return r->ifindex;
}

int raw_fd_enabled(const struct raw_chan *r)
{
	return r->fd_frames;
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

/* The kernel's filters for these; *out is malloc'd, *count >= 1. */
static int raw_filters_from_pb(Cand__Filter **filters, size_t n, unsigned max,
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
	*count = n ? n : 1;
	kf = calloc(*count, sizeof(*kf));
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
	return 0;
}

static int raw_apply_filters(int fd, const struct can_filter *kf, size_t count,
			     char *detail, size_t dsize)
{
	if (setsockopt(fd, SOL_CAN_RAW, CAN_RAW_FILTER, kf,
		       (socklen_t)(count * sizeof(*kf))) < 0) {
		reply_detail(detail, dsize, "CAN_RAW_FILTER: %s",
			     strerror(errno));
		return -errno;
	}
	return 0;
}

int raw_set_filters(struct raw_chan *r, Cand__Filter **filters, size_t n,
		    char *detail, size_t dsize)
{
	struct can_filter *kf;
	size_t count;
	int rc;

	rc = raw_filters_from_pb(filters, n, r->client->ctx->limits.max_filters,
				 &kf, &count, detail, dsize);
	if (rc < 0)
		return rc;
	/* Without the read right they wait until it is given back. */
	if (!r->rx_off &&
	    (rc = raw_apply_filters(r->fd, kf, count, detail, dsize)) < 0) {
		free(kf);
		return rc;
	}
	free(r->opts.filters);
	r->opts.filters = kf;
	r->opts.n_filters = count;
	return 0;
}

static int raw_socket(struct cand_ctx *ctx, const struct raw_opts *o,
		      int ifindex, const char *channel, char *detail,
		      size_t dsize)
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
	if ((rc = raw_setopt(fd, SOL_CAN_RAW, CAN_RAW_LOOPBACK, o->loopback)) <
		    0 ||
	    (rc = raw_setopt(fd, SOL_CAN_RAW, CAN_RAW_RECV_OWN_MSGS,
			     o->recv_own)) < 0 ||
	    (rc = raw_setopt(fd, SOL_CAN_RAW, CAN_RAW_ERR_FILTER,
			     o->ignore_errors ? 0 : (int)CAN_ERR_MASK)) < 0 ||
	    (rc = raw_setopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, 1)) < 0 ||
	    (rc = raw_setopt(fd, SOL_SOCKET, SO_RXQ_OVFL, 1)) < 0) {
		reply_detail(detail, dsize, "socket options: %s",
			     strerror(-rc));
		goto fail;
	}
	if (o->fd_frames &&
	    (rc = raw_setopt(fd, SOL_CAN_RAW, CAN_RAW_FD_FRAMES, 1)) < 0) {
		reply_detail(detail, dsize, "CAN FD: %s", strerror(-rc));
		goto fail;
	}
	/* FORCE needs CAP_NET_ADMIN; without it we get what rmem_max allows. */
	if (raw_setopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, ctx->limits.rcvbuf) < 0)
		raw_setopt(fd, SOL_SOCKET, SO_RCVBUF, ctx->limits.rcvbuf);
	rc = raw_apply_filters(fd, o->filters, o->n_filters, detail, dsize);
	if (rc < 0)
		goto fail;
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		rc = -errno;
		reply_detail(detail, dsize, "bind to \"%s\": %s", channel,
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
	struct raw_opts o = {
		.loopback = !req->no_local_loopback,
		.recv_own = req->receive_own_messages,
		.fd_frames = req->fd,
		.ignore_errors = req->ignore_rx_error_frames,
	};
	struct raw_chan *r;
	int ifindex = 0;
	int fd, rc;

	if (req->channel[0] != '\0') {
		if (strlen(req->channel) >= IFNAMSIZ ||
		    (ifindex = (int)if_nametoindex(req->channel)) == 0) {
			reply_detail(detail, dsize, "no interface \"%s\"",
				     req->channel);
			return -ENODEV;
		}
	}
	rc = raw_filters_from_pb(req->filters, req->n_filters,
				 c->ctx->limits.max_filters, &o.filters,
				 &o.n_filters, detail, dsize);
	if (rc < 0)
		return rc;
	fd = raw_socket(c->ctx, &o, ifindex, req->channel, detail, dsize);
	if (fd < 0) {
		free(o.filters);
		return fd;
	}

	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		free(o.filters);
		close(fd);
		return -ENOMEM;
	}
	r->client = c;
	r->fd = fd;
	r->ifindex = ifindex;
	r->opts = o;
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
	free(r->opts.filters);
	free(r);
}

int raw_rx_on(const struct raw_chan *r)
{
	return !r->rx_off;
}

/* Read right revoked: an empty filter list, so the kernel queues nothing. */
static int raw_rx_block(int fd)
{
	if (setsockopt(fd, SOL_CAN_RAW, CAN_RAW_FILTER, NULL, 0) < 0 ||
	    raw_setopt(fd, SOL_CAN_RAW, CAN_RAW_ERR_FILTER, 0) < 0)
		return -errno;
	return 0;
}

int raw_set_rx(struct raw_chan *r, int on)
{
	struct canfd_frame cf;
	char detail[128];
	int rc;

	if (on == !r->rx_off)
		return 0;
	if (on) {
		rc = raw_apply_filters(r->fd, r->opts.filters,
				       r->opts.n_filters, detail,
				       sizeof(detail));
		if (rc == 0)
			rc = raw_setopt(
				r->fd, SOL_CAN_RAW, CAN_RAW_ERR_FILTER,
				r->opts.ignore_errors ? 0 : (int)CAN_ERR_MASK);
		if (rc < 0)
			return rc;
		r->rx_off = 0;
		if (!r->paused)
			event_add(r->ev_read, NULL);
		return 0;
	}
	if ((rc = raw_rx_block(r->fd)) < 0)
		return rc;
	r->rx_off = 1;
	event_del(r->ev_read);
	/* Frames queued before are no longer the client's to see. */
	while (recv(r->fd, &cf, sizeof(cf), MSG_DONTWAIT) >= 0)
		;
	return 0;
}

void raw_link_gone(struct raw_chan *r)
{
	/* The kernel has unbound the socket; it receives nothing now. */
	r->gone = 1;
}

int raw_rebind(struct raw_chan *r, int ifindex)
{
	struct event *ev;
	char detail[128];
	int fd;

	fd = raw_socket(r->client->ctx, &r->opts, ifindex, r->channel, detail,
			sizeof(detail));
	if (fd < 0) {
		log_warn("client %u: %s", r->client->id, detail);
		return fd;
	}
	if (r->rx_off && raw_rx_block(fd) < 0) {
		close(fd);
		return -errno;
	}
	ev = event_new(r->client->ctx->base, fd, EV_READ | EV_PERSIST,
		       raw_on_read, r);
	if (ev == NULL ||
	    (!r->paused && !r->rx_off && event_add(ev, NULL) < 0)) {
		if (ev != NULL)
			event_free(ev);
		close(fd);
		return -ENOMEM;
	}
	event_free(r->ev_read);
	close(r->fd);
	r->ev_read = ev;
	r->fd = fd;
	r->ifindex = ifindex;
	r->gone = 0;
	/* A new socket counts its drops from 0; the client's total goes on. */
	r->drops_base += r->kernel_drops;
	r->kernel_drops = 0;
	return 0;
}

void raw_pause(struct raw_chan *r)
{
	if (!r->paused)
		event_del(r->ev_read);
	r->paused = 1;
	r->slow_since_report = 1;
}

static void raw_drop_event(struct raw_chan *r);

/*
 * The socket's drop count now. SO_RXQ_OVFL stamps each frame with the
 * count when it was queued, so the frames waiting in a full buffer all
 * predate the drops, and only a frame queued after them would tell.
 */
static void raw_read_drops(struct raw_chan *r)
{
	uint32_t mem[SK_MEMINFO_VARS];
	socklen_t len = sizeof(mem);

	if (getsockopt(r->fd, SOL_SOCKET, SO_MEMINFO, mem, &len) == 0 &&
	    len > SK_MEMINFO_DROPS * sizeof(mem[0]) &&
	    mem[SK_MEMINFO_DROPS] > r->kernel_drops)
		r->kernel_drops = mem[SK_MEMINFO_DROPS];
}

void raw_resume(struct raw_chan *r)
{
	if (!r->paused)
		return;
	if (!r->rx_off)
		event_add(r->ev_read, NULL);
	r->paused = 0;
	/* Tell the client at once what its slowness cost. */
	raw_read_drops(r);
	if (r->drops_base + r->kernel_drops > r->drops_reported) {
		raw_drop_event(r);
		client_flush_later(r->client);
	}
}

void raw_frame_fill_pb(const struct canfd_frame *cf, int is_fd, Cand__Frame *f)
{
	f->id = cf->can_id & CAN_EFF_MASK;
	f->extended = (cf->can_id & CAN_EFF_FLAG) != 0;
	f->remote = (cf->can_id & CAN_RTR_FLAG) != 0;
	f->error = (cf->can_id & CAN_ERR_FLAG) != 0;
	f->fd = is_fd != 0;
	f->brs = f->fd && (cf->flags & CANFD_BRS);
	f->esi = f->fd && (cf->flags & CANFD_ESI);
	f->dlc = cf->len;
	f->data.data = (uint8_t *)cf->data;
	f->data.len = f->remote ? 0 : cf->len;
}

/* The batch's index of the name of ifindex, adding it on first sight. */
static uint8_t raw_batch_ifname(struct raw_scratch *s, size_t *n, int ifindex)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (s->ifindexes[i] == ifindex)
			return (uint8_t)i;
	s->ifindexes[i] = ifindex;
	s->ifnames[i] = (char *)raw_ifname(s, ifindex);
	(*n)++;
	return (uint8_t)i;
}

/* Appends frame i of the last recvmmsg to the batch; returns its size. */
static size_t raw_pack_frame(struct raw_scratch *s, struct raw_chan *r, int i,
			     uint8_t *p, size_t *n_names)
{
	const struct mmsghdr *m = &s->msgs[i];
	const struct canfd_frame *cf = &s->frames[i];
	struct framepack_rec rec = {
		.can_id = cf->can_id,
		.len = cf->len,
		.data = (cf->can_id & CAN_RTR_FLAG) ? NULL : cf->data,
	};
	struct cmsghdr *cm;
	const struct timespec *ts;
	uint32_t drops;

	if (m->msg_len == CANFD_MTU)
		rec.flags = FRAMEPACK_FD |
			    ((cf->flags & CANFD_BRS) ? FRAMEPACK_BRS : 0) |
			    ((cf->flags & CANFD_ESI) ? FRAMEPACK_ESI : 0);
	if (m->msg_hdr.msg_flags & MSG_CONFIRM)
		rec.flags |= FRAMEPACK_OWN;
	/* A bound channel's batches name only it, at index 0. */
	if (r->ifindex == 0)
		rec.ifname =
			raw_batch_ifname(s, n_names, s->addrs[i].can_ifindex);
	for (cm = CMSG_FIRSTHDR(&m->msg_hdr); cm != NULL;
	     cm = CMSG_NXTHDR((struct msghdr *)&m->msg_hdr, cm)) {
		if (cm->cmsg_level != SOL_SOCKET)
			continue;
		if (cm->cmsg_type == SO_TIMESTAMPNS) {
			ts = (const struct timespec *)CMSG_DATA(cm);
			rec.timestamp_ns = (uint64_t)ts->tv_sec * 1000000000u +
					   (uint64_t)ts->tv_nsec;
		} else if (cm->cmsg_type == SO_RXQ_OVFL) {
			memcpy(&drops, CMSG_DATA(cm), sizeof(drops));
			/* Older frames carry older counts; never go back. */
			if (drops > r->kernel_drops)
				r->kernel_drops = drops;
		}
	}
	return framepack_put(p, &rec);
}

static uint64_t raw_total_drops(const struct raw_chan *r)
{
	return r->drops_base + r->kernel_drops;
}

/*
 * The kernel dropped frames for this client since the last report: say so
 * in an event of its own, ahead of the frames that came after them.
 */
static void raw_drop_event(struct raw_chan *r)
{
	Cand__ServerMsg msg = CAND__SERVER_MSG__INIT;
	Cand__Event ev = CAND__EVENT__INIT;
	Cand__DropEvent de = CAND__DROP_EVENT__INIT;
	uint64_t total = raw_total_drops(r);
	char detail[192];

	if (total <= r->drops_reported)
		return;
	de.kernel_drops = total;
	de.dropped = total - r->drops_reported;
	de.slow_reader = r->slow_since_report;
	snprintf(detail, sizeof(detail),
		 "the kernel dropped %llu frames for this client (%llu in "
		 "all)%s",
		 (unsigned long long)de.dropped, (unsigned long long)total,
		 de.slow_reader
			 ? ": cand had stopped reading them because the client "
			   "did not read its output fast enough"
			 : ": its socket's receive buffer overflowed");
	de.detail = detail;
	ev.ev_case = CAND__EVENT__EV_DROPS;
	ev.drops = &de;
	msg.msg_case = CAND__SERVER_MSG__MSG_EVENT;
	msg.event = &ev;
	if (client_queue_msg(r->client, &msg) < 0)
		return;
	r->drops_reported = total;
	r->slow_since_report = r->paused;
}

static void raw_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct raw_chan *r = arg;
	struct client *c = r->client;
	struct raw_scratch *s = c->ctx->scratch;
	Cand__ServerMsg msg = CAND__SERVER_MSG__INIT;
	Cand__Event ev = CAND__EVENT__INIT;
	Cand__FrameBatch batch = CAND__FRAME_BATCH__INIT;
	size_t size, n_names;
	int i, n, round;

	(void)what;
	batch.format = FRAMEPACK_FORMAT;
	batch.ifnames = s->ifnames;
	batch.packed.data = s->packed;
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
			/* Down or gone: the rtnetlink monitor tells the client.
			 */
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ENETDOWN && errno != ENODEV)
				log_warn("client %u: recvmmsg: %s", c->id,
					 strerror(errno));
			break;
		}
		size = 0;
		n_names = r->ifindex != 0;
		s->ifnames[0] = r->channel;
		for (i = 0; i < n; i++)
			size += raw_pack_frame(s, r, i, s->packed + size,
					       &n_names);
		batch.count = (uint32_t)n;
		batch.packed.len = size;
		batch.n_ifnames = n_names;
		raw_drop_event(r);
		batch.kernel_drops = raw_total_drops(r);
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
	if (r->gone) {
		reply_detail(detail, dsize,
			     "interface \"%s\" is gone; the channel is bound "
			     "to it again when it comes back",
			     r->channel);
		return -ENODEV;
	}
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
