/*
 * A session's channel: its own CAN_RAW socket. Giving every client its own
 * socket keeps the kernel's exact semantics for filters, loopback, own
 * messages and drop counting, and puts the filtering in the kernel, where
 * a frame nobody wants costs the daemon nothing.
 *
 * Receive path: readable -> rawsock_recv() reads up to RAW_BATCH frames
 * with their timestamps and drop counts -> outq_frames() has the codec
 * encode the batch straight into the client's output -> written at once
 * when the socket has nothing more, so batching never holds a frame back.
 * Above the high watermark the socket is left unread, so the kernel queues
 * and then counts drops; reading resumes below the low watermark.
 *
 * The channel keeps its options and kernel filters, so that when its
 * interface disappears and comes back under the same name (busevent.c
 * notices), chan_rebind() gives it an identical socket on the new one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "ops/ops.h"

/* Batches read per wakeup before yielding to other clients. */
#define CHAN_ROUNDS 8

struct chan {
	struct sess *sess;
	int fd;
	int ifindex; /* 0: every interface */
	char channel[IFNAMSIZ];
	int fd_frames;
	int paused;
	uint32_t kernel_drops; /* last SO_RXQ_OVFL value of this socket */
	struct event *ev_read;
	struct rawsock_opts opts;
	int gone;		 /* the interface disappeared */
	uint64_t drops_base;	 /* drops of sockets replaced by re-binds */
	uint64_t drops_reported; /* the total the client was last told */
	int slow_since_report;	 /* paused for the client since then */
	int rx_off; /* no read right: the kernel delivers nothing */
};

static void chan_on_read(evutil_socket_t fd, short what, void *arg);

const char *chan_name(const struct chan *c)
{
	return c->channel;
}

int chan_ifindex(const struct chan *c)
{
	return c->ifindex;
}

int chan_fd_enabled(const struct chan *c)
{
	return c->fd_frames;
}

int chan_set_filters(struct chan *c, const struct filter_desc *filters,
		     size_t n, char *detail, size_t dsize)
{
	struct can_filter *kf;
	size_t count;
	int rc;

	rc = rawsock_filters(filters, n, c->sess->ctx->limits.max_filters, &kf,
			     &count, detail, dsize);
	if (rc < 0)
		return rc;
	/* Without the read right they wait until it is given back. */
	if (!c->rx_off &&
	    (rc = rawsock_apply_filters(c->fd, kf, count, detail, dsize)) < 0) {
		free(kf);
		return rc;
	}
	free(c->opts.filters);
	c->opts.filters = kf;
	c->opts.n_filters = count;
	return 0;
}

static int chan_new(struct sess *s, const struct chan_opts *o, int ifindex,
		    char *detail, size_t dsize)
{
	struct rawsock_opts ro = {
		.loopback = !o->no_loopback,
		.recv_own = o->receive_own,
		.fd_frames = o->fd,
		.ignore_errors = o->ignore_errors,
	};
	struct cand_ctx *ctx = s->ctx;
	struct chan *c;
	int fd, rc;

	rc = rawsock_filters(o->filters, o->n_filters, ctx->limits.max_filters,
			     &ro.filters, &ro.n_filters, detail, dsize);
	if (rc < 0)
		return rc;
	fd = rawsock_open(&ro, ctx->limits.rcvbuf, ifindex, o->channel, detail,
			  dsize);
	if (fd < 0) {
		free(ro.filters);
		return fd;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		free(ro.filters);
		close(fd);
		return -ENOMEM;
	}
	c->sess = s;
	c->fd = fd;
	c->ifindex = ifindex;
	c->opts = ro;
	c->fd_frames = o->fd;
	snprintf(c->channel, sizeof(c->channel), "%s", o->channel);
	s->chan = c;
	c->ev_read =
		event_new(ctx->base, fd, EV_READ | EV_PERSIST, chan_on_read, c);
	if (c->ev_read == NULL || event_add(c->ev_read, NULL) < 0) {
		chan_close(s);
		return -ENOMEM;
	}
	return 0;
}

int chan_open(struct sess *s, const struct chan_opts *o, char *detail,
	      size_t dsize)
{
	int ifindex = 0, rc;

	if (s->chan != NULL) {
		detail_set(detail, dsize, "already open on \"%s\"",
			   s->chan->channel);
		return -EISCONN;
	}
	/* Link changes from before the open are not news to the client. */
	linkmon_drain(s->ctx);
	if (o->channel[0] != '\0') {
		if (strlen(o->channel) >= IFNAMSIZ ||
		    (ifindex = (int)if_nametoindex(o->channel)) == 0) {
			detail_set(detail, dsize, "no interface \"%s\"",
				   o->channel);
			return -ENODEV;
		}
	}
	if ((rc = chan_new(s, o, ifindex, detail, dsize)) < 0)
		return rc;
	log_info("client %u: opened \"%s\"%s%s%s", s->id, o->channel,
		 o->fd ? " fd" : "", o->receive_own ? " own" : "",
		 o->no_loopback ? " no-loopback" : "");
	/* Without the read right the channel only sends. */
	s->rights = policy_rights(s->ctx->policy, &s->ident, o->channel);
	if (!(s->rights & POLICY_RIGHT_BIT(RIGHT_READ)))
		chan_set_rx(s->chan, 0);
	return 0;
}

void chan_close(struct sess *s)
{
	struct chan *c = s->chan;

	if (c == NULL)
		return;
	if (c->ev_read != NULL)
		event_free(c->ev_read);
	close(c->fd);
	free(c->opts.filters);
	free(c);
	s->chan = NULL;
}

int chan_set_rx(struct chan *c, int on)
{
	int rc;

	if (on == !c->rx_off)
		return 0;
	if (on) {
		if ((rc = rawsock_unblock(c->fd, &c->opts)) < 0)
			return rc;
		c->rx_off = 0;
		if (!c->paused)
			event_add(c->ev_read, NULL);
		return 0;
	}
	if ((rc = rawsock_block(c->fd)) < 0)
		return rc;
	c->rx_off = 1;
	event_del(c->ev_read);
	/* Frames queued before are no longer the client's to see. */
	rawsock_purge(c->fd);
	return 0;
}

void chan_link_gone(struct chan *c)
{
	/* The kernel has unbound the socket; it receives nothing now. */
	c->gone = 1;
}

int chan_rebind(struct chan *c, int ifindex)
{
	struct cand_ctx *ctx = c->sess->ctx;
	struct event *ev;
	char detail[128];
	int fd;

	fd = rawsock_open(&c->opts, ctx->limits.rcvbuf, ifindex, c->channel,
			  detail, sizeof(detail));
	if (fd < 0) {
		log_warn("client %u: %s", c->sess->id, detail);
		return fd;
	}
	if (c->rx_off && rawsock_block(fd) < 0) {
		close(fd);
		return -errno;
	}
	ev = event_new(ctx->base, fd, EV_READ | EV_PERSIST, chan_on_read, c);
	if (ev == NULL ||
	    (!c->paused && !c->rx_off && event_add(ev, NULL) < 0)) {
		if (ev != NULL)
			event_free(ev);
		close(fd);
		return -ENOMEM;
	}
	event_free(c->ev_read);
	close(c->fd);
	c->ev_read = ev;
	c->fd = fd;
	c->ifindex = ifindex;
	c->gone = 0;
	/* A new socket counts its drops from 0; the client's total goes on. */
	c->drops_base += c->kernel_drops;
	c->kernel_drops = 0;
	return 0;
}

void chan_pause(struct chan *c)
{
	if (!c->paused)
		event_del(c->ev_read);
	c->paused = 1;
	c->slow_since_report = 1;
}

static uint64_t chan_total_drops(const struct chan *c)
{
	return c->drops_base + c->kernel_drops;
}

uint64_t chan_drops(const struct chan *c)
{
	return chan_total_drops(c);
}

size_t chan_filters_text(const struct chan *c, char *buf, size_t size)
{
	const struct can_filter *f = c->opts.filters;
	size_t i, n = c->opts.n_filters;

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

/*
 * The kernel dropped frames for this client since the last report: say so
 * in an event of its own, ahead of the frames that came after them.
 */
static void chan_drop_event(struct chan *c)
{
	struct evt e = {.kind = EVT_DROPS};
	uint64_t total = chan_total_drops(c);
	char detail[192];

	if (total <= c->drops_reported)
		return;
	e.u.drops.total = total;
	e.u.drops.dropped = total - c->drops_reported;
	e.u.drops.slow_reader = c->slow_since_report;
	snprintf(detail, sizeof(detail),
		 "the kernel dropped %llu frames for this client (%llu in "
		 "all)%s",
		 (unsigned long long)e.u.drops.dropped,
		 (unsigned long long)total,
		 e.u.drops.slow_reader
			 ? ": cand had stopped reading them because the client "
			   "did not read its output fast enough"
			 : ": its socket's receive buffer overflowed");
	e.detail = detail;
	if (outq_event(&c->sess->q, &e) < 0)
		return;
	c->drops_reported = total;
	c->slow_since_report = c->paused;
}

void chan_resume(struct chan *c)
{
	if (!c->paused)
		return;
	if (!c->rx_off)
		event_add(c->ev_read, NULL);
	c->paused = 0;
	/* Tell the client at once what its slowness cost. */
	rawsock_read_drops(c->fd, &c->kernel_drops);
	if (chan_total_drops(c) > c->drops_reported) {
		chan_drop_event(c);
		outq_flush_later(&c->sess->q);
	}
}

static void chan_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct chan *c = arg;
	struct sess *s = c->sess;
	struct rx_batch b;
	int round, rc;

	(void)what;
	for (round = 0; round < CHAN_ROUNDS; round++) {
		if (outq_full(&s->q)) {
			/* Let the kernel hold (and count) what it cannot. */
			chan_pause(c);
			break;
		}
		/* A bound channel's frames all carry its name. */
		rc = rawsock_recv(s->ctx, fd, c->ifindex ? c->channel : NULL,
				  &b, &c->kernel_drops);
		if (rc < 0) {
			/* Down or gone: the rtnetlink monitor tells the client.
			 */
			if (rc != -EAGAIN && rc != -EINTR && rc != -ENETDOWN &&
			    rc != -ENODEV)
				log_warn("client %u: recvmmsg: %s", s->id,
					 strerror(-rc));
			break;
		}
		chan_drop_event(c);
		b.kernel_drops = chan_total_drops(c);
		if (outq_frames(&s->q, &b) < 0)
			break;
		s->stats.rx_frames += b.count;
		if (b.count < RAW_BATCH)
			break;
	}
	outq_flush(&s->q);
}

int chan_send(struct chan *c, const struct frame_desc *f, char *detail,
	      size_t dsize)
{
	struct canfd_frame cf;
	const char *ifname = c->channel;
	int is_fd, ifindex, rc;

	rc = frame_from_desc(f, c->fd_frames, &cf, &is_fd, detail, dsize);
	if (rc < 0)
		return rc;
	if (c->gone) {
		detail_set(detail, dsize,
			   "interface \"%s\" is gone; the channel is bound "
			   "to it again when it comes back",
			   c->channel);
		return -ENODEV;
	}
	if (c->ifindex != 0) {
		if (f->ifname[0] != '\0' && strcmp(f->ifname, c->channel)) {
			detail_set(detail, dsize,
				   "frame names \"%s\" but the channel is "
				   "\"%s\"",
				   f->ifname, c->channel);
			return -EINVAL;
		}
		ifindex = c->ifindex;
	} else {
		ifname = f->ifname;
		if (ifname[0] == '\0') {
			detail_set(detail, dsize,
				   "the \"\" channel needs each frame to "
				   "name its interface");
			return -EINVAL;
		}
		ifindex = (int)if_nametoindex(ifname);
		if (ifindex == 0) {
			detail_set(detail, dsize, "no interface \"%s\"",
				   ifname);
			return -ENODEV;
		}
	}
	return rawsock_send(c->fd, &cf, is_fd, ifindex, ifname, detail, dsize);
}
