/*
 * A session's channel. Its frames come from its interface's tap (tap.c),
 * the one socket that receives them for every client there, through the
 * client's own filters applied here exactly as the kernel would apply them
 * to a socket of its own (can/rxfilter.c): its filters, its error mask,
 * CAN FD or not, its own messages only with receive_own_messages, and only
 * frames that came after it opened.
 *
 * Receive path: the tap reads a batch -> chan_deliver() picks the client's
 * frames -> outq_frames() has the codec encode them straight into the
 * client's output -> the tap has every client that got frames written
 * once, when it has read what there was, so batching never holds a frame
 * back. A client whose output is above the high watermark costs nothing
 * and holds up nobody: its frames are dropped here and counted until it
 * has read its output down below the low watermark, and then told in a
 * drop event ahead of the next frames.
 *
 * Each channel still has a CAN_RAW socket of its own, bound like the
 * channel but receiving nothing: a client with local_loopback off sends
 * through it (loopback off: nobody on this machine sees its frames, as
 * with the kernel), and the kernel lists it among the interface's
 * receivers, one per client as ever. Clients with loopback on send
 * through the tap, so that their echoes can be told as theirs.
 *
 * The channel keeps its options and filters, so that when its interface
 * disappears and comes back under the same name (busevent.c notices),
 * chan_rebind() attaches it to the new interface's tap.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/can/error.h>

#include "ops/ops.h"

struct chan {
	struct sess *sess;
	int fd;		 /* its own socket: sends with loopback off */
	struct tap *tap; /* attached: receiving */
	int ifindex;	 /* 0: every interface */
	char channel[IFNAMSIZ];
	int fd_frames;
	int recv_own;
	struct rawsock_opts opts; /* the filters in the kernel's form */
	struct rxfilter filt;
	int gone;     /* the interface disappeared */
	int rx_off;   /* no read right: not attached */
	int quiet;    /* nor while the client wants no frames */
	int dropping; /* the client is too far behind: frames are dropped */
	int dirty;    /* frames queued since the last write */
	uint64_t last_read;	   /* the tap's read it was last offered */
	uint64_t since_ns;	   /* attached at: older frames are not its */
	uint64_t attach_drains;	   /* the tap's drains then */
	uint64_t tap_drops0;	   /* the tap's count when attached */
	uint64_t drops_base;	   /* kernel drops on taps left behind */
	uint64_t backlog_drops;	   /* dropped here: the client was slow */
	uint64_t kernel_reported;  /* what the client was told, of each */
	uint64_t backlog_reported; /* kind */
};

/*
 * Attached to its tap: the right is there, frames are wanted and its
 * filters can pass one. A channel that only sends (canctl gen) costs the
 * tap nothing, as a socket with a filter that matches nothing costs the
 * kernel nothing: its own echoes are neither queued nor matched for it.
 */
static int chan_receiving(const struct chan *c)
{
	return !c->rx_off && !c->quiet && !rxfilter_none(&c->filt);
}

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

static can_err_mask_t chan_err_mask(const struct chan *c)
{
	return c->opts.ignore_errors ? 0 : CAN_ERR_MASK;
}

int chan_sff_ids(const struct chan *c, uint16_t *ids, size_t max)
{
	return rxfilter_sff_ids(&c->filt, ids, max);
}

static uint64_t chan_realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t chan_kernel_drops(const struct chan *c)
{
	uint64_t d = c->drops_base;

	if (c->tap != NULL)
		d += tap_drops(c->tap) - c->tap_drops0;
	return d;
}

static int chan_attach(struct chan *c)
{
	struct tap *t = tap_of(c->sess->ctx, c->ifindex);
	int rc;

	if (t == NULL)
		return -ENODEV;
	if ((rc = tap_attach(t, c)) < 0)
		return rc;
	c->tap = t;
	c->tap_drops0 = tap_drops(t);
	/*
	 * Frames the tap queued before now were not the client's: until a
	 * read has emptied the tap, older ones are left out by their stamp.
	 */
	c->since_ns = chan_realtime_ns();
	c->attach_drains = tap_drains(t);
	return 0;
}

/* Off its tap; what it had queued goes out from the loop. */
static void chan_untap(struct chan *c)
{
	c->drops_base = chan_kernel_drops(c);
	c->tap = NULL;
	if (c->dirty)
		outq_flush_later(&c->sess->q);
	c->dirty = 0;
}

static void chan_detach(struct chan *c)
{
	struct tap *t = c->tap;

	if (t == NULL)
		return;
	chan_untap(c);
	tap_detach(t, c);
}

void chan_tap_gone(struct chan *c)
{
	chan_untap(c);
}

int chan_set_filters(struct chan *c, const struct filter_desc *filters,
		     size_t n, char *detail, size_t dsize)
{
	struct rxfilter filt = {0};
	struct can_filter *kf;
	size_t count;
	int rc, was_on;

	rc = rawsock_filters(filters, n, c->sess->ctx->limits.max_filters, &kf,
			     &count, detail, dsize);
	if (rc < 0)
		return rc;
	if ((rc = rxfilter_compile(&filt, kf, count, chan_err_mask(c),
				   c->fd_frames)) < 0) {
		free(kf);
		return rc;
	}
	/* Off the tap under the old filters, which its index is made of. */
	if (rxfilter_none(&filt))
		chan_detach(c);
	was_on = c->tap != NULL;
	rxfilter_free(&c->filt);
	free(c->opts.filters);
	c->filt = filt;
	c->opts.filters = kf;
	c->opts.n_filters = count;
	/* As chan_rebind(): without its tap it stops receiving. */
	if (!was_on && chan_receiving(c) && !c->gone &&
	    (rc = chan_attach(c)) < 0) {
		c->rx_off = 1;
		detail_set(detail, dsize, "no shared receiving socket: %s",
			   strerror(-rc));
		return rc;
	}
	/* Without memory for the index it is looked at for every read. */
	if (was_on && tap_reindex(c->tap, c) < 0)
		log_warn("client %u: out of memory for the filter index",
			 c->sess->id);
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
	fd = rawsock_open_quiet(&ro, ifindex, o->channel, detail, dsize);
	if (fd < 0) {
		free(ro.filters);
		return fd;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL ||
	    rxfilter_compile(&c->filt, ro.filters, ro.n_filters,
			     o->ignore_errors ? 0 : CAN_ERR_MASK, o->fd) < 0) {
		free(c);
		free(ro.filters);
		close(fd);
		return -ENOMEM;
	}
	c->sess = s;
	c->fd = fd;
	c->ifindex = ifindex;
	c->opts = ro;
	c->fd_frames = o->fd;
	c->recv_own = o->receive_own;
	c->rx_off = 1;
	c->quiet = o->quiet != 0;
	snprintf(c->channel, sizeof(c->channel), "%s", o->channel);
	s->chan = c;
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
	/* Without the read right the channel only sends. */
	s->rights = policy_rights(s->ctx->policy, &s->ident, o->channel);
	if ((s->rights & POLICY_RIGHT_BIT(RIGHT_READ)) &&
	    (rc = chan_set_rx(s->chan, 1)) < 0) {
		detail_set(detail, dsize,
			   "\"%s\" has no shared receiving socket: %s",
			   o->channel, strerror(-rc));
		chan_close(s);
		return rc;
	}
	log_info("client %u: opened \"%s\"%s%s%s", s->id, o->channel,
		 o->fd ? " fd" : "", o->receive_own ? " own" : "",
		 o->no_loopback ? " no-loopback" : "");
	return 0;
}

void chan_close(struct sess *s)
{
	struct chan *c = s->chan;
	struct tap *t;

	if (c == NULL)
		return;
	chan_detach(c);
	/* It may have sent through the tap without receiving. */
	if ((t = tap_of(s->ctx, c->ifindex)) != NULL && !c->gone)
		tap_detach(t, c);
	close(c->fd);
	rxfilter_free(&c->filt);
	free(c->opts.filters);
	free(c);
	s->chan = NULL;
}

/* Attaches or detaches as chan_receiving() now says. */
static int chan_apply_rx(struct chan *c, int was)
{
	int rc;

	if (chan_receiving(c) == was)
		return 0;
	if (!was) {
		/* A gone interface's channel attaches when it is back. */
		if (!c->gone && (rc = chan_attach(c)) < 0)
			return rc;
		return 0;
	}
	/* Frames from now on are no longer the client's to see. */
	chan_detach(c);
	return 0;
}

int chan_set_rx(struct chan *c, int on)
{
	int was = chan_receiving(c), old = c->rx_off, rc;

	c->rx_off = !on;
	if ((rc = chan_apply_rx(c, was)) < 0)
		c->rx_off = old;
	return rc;
}

int chan_set_quiet(struct chan *c, int quiet)
{
	int was = chan_receiving(c), old = c->quiet, rc;

	c->quiet = quiet != 0;
	if ((rc = chan_apply_rx(c, was)) < 0)
		c->quiet = old;
	return rc;
}

void chan_link_gone(struct chan *c)
{
	/* The tap goes with the interface; the kernel unbound our socket. */
	c->gone = 1;
}

int chan_rebind(struct chan *c, int ifindex)
{
	char detail[128];
	int fd, rc;

	fd = rawsock_open_quiet(&c->opts, ifindex, c->channel, detail,
				sizeof(detail));
	if (fd < 0) {
		log_warn("client %u: %s", c->sess->id, detail);
		return fd;
	}
	chan_detach(c);
	close(c->fd);
	c->fd = fd;
	c->ifindex = ifindex;
	c->gone = 0;
	if (chan_receiving(c) && (rc = chan_attach(c)) < 0) {
		c->rx_off = 1;
		return rc;
	}
	return 0;
}

void chan_pause(struct chan *c)
{
	c->dropping = 1;
}

uint64_t chan_drops(const struct chan *c)
{
	return chan_kernel_drops(c) + c->backlog_drops;
}

size_t chan_filters_text(const struct chan *c, char *buf, size_t size)
{
	return rawsock_filters_text(c->opts.filters, c->opts.n_filters, buf,
				    size);
}

/* One drop event of one kind, with the total of both told so far. */
static void chan_drop_event(struct chan *c, int slow, uint64_t now)
{
	struct evt e = {.kind = EVT_DROPS};
	uint64_t *reported = slow ? &c->backlog_reported : &c->kernel_reported;
	char detail[192];

	if (now <= *reported)
		return;
	e.u.drops.dropped = now - *reported;
	e.u.drops.total =
		c->kernel_reported + c->backlog_reported + e.u.drops.dropped;
	e.u.drops.slow_reader = slow;
	if (slow)
		snprintf(detail, sizeof(detail),
			 "cand dropped %llu frames for this client (%llu in "
			 "all): the client did not read its output fast "
			 "enough",
			 (unsigned long long)e.u.drops.dropped,
			 (unsigned long long)e.u.drops.total);
	else
		snprintf(detail, sizeof(detail),
			 "the kernel dropped %llu frames for this client "
			 "(%llu in all): the interface's receive buffer "
			 "overflowed",
			 (unsigned long long)e.u.drops.dropped,
			 (unsigned long long)e.u.drops.total);
	e.detail = detail;
	if (outq_event(&c->sess->q, &e) == 0)
		*reported = now;
}

/* What the client lost since it was last told, ahead of what follows. */
static void chan_drop_events(struct chan *c)
{
	uint64_t kernel = chan_kernel_drops(c);

	/* The frame path asks every time: most times there is nothing. */
	if (kernel == c->kernel_reported &&
	    c->backlog_drops == c->backlog_reported)
		return;
	chan_drop_event(c, 0, kernel);
	chan_drop_event(c, 1, c->backlog_drops);
}

int chan_tell_drops(struct chan *c)
{
	uint64_t before = c->kernel_reported;

	chan_drop_events(c);
	if (c->kernel_reported == before || c->dirty)
		return 0;
	c->dirty = 1;
	return 1;
}

void chan_resume(struct chan *c)
{
	if (!c->dropping)
		return;
	c->dropping = 0;
	/* Tell the client at once what its slowness cost. */
	if (c->backlog_drops > c->backlog_reported) {
		chan_drop_events(c);
		outq_flush_later(&c->sess->q);
	}
}

/* The read's frames this client takes into r->sel; how many. */
static size_t chan_select(struct chan *c, const struct tap_read *r, int *copy)
{
	size_t i, k = 0;

	*copy = 0;
	for (i = 0; i < r->n; i++) {
		const struct rx_frame *rx = &r->frames[i];
		int own = r->owner[i] == c;

		if ((own && !c->recv_own) ||
		    (r->drains == c->attach_drains && rx->timestamp_ns != 0 &&
		     rx->timestamp_ns < c->since_ns) ||
		    !rxfilter_pass(&c->filt, rx->cf->can_id, rx->is_fd)) {
			*copy = 1;
			continue;
		}
		r->sel[k] = *rx;
		r->sel[k].own = (uint8_t)own;
		*copy |= own;
		k++;
	}
	return k;
}

int chan_deliver(struct chan *c, const struct tap_read *r)
{
	struct sess *s = c->sess;
	struct rx_batch b;
	int copy;
	size_t k;

	if (c->last_read == r->id)
		return 0;
	c->last_read = r->id;
	if ((k = chan_select(c, r, &copy)) == 0)
		return 0;
	/*
	 * Slow is what the client had not read when this wakeup began: the
	 * reads of one wakeup are written together, at its end.
	 */
	if (!c->dropping && !c->dirty && outq_full(&s->q))
		c->dropping = 1;
	if (c->dropping) {
		c->backlog_drops += k;
		return 0;
	}
	chan_drop_events(c);
	/* Every frame, none its own: the read's own array will do. */
	b.frames = copy ? r->sel : r->frames;
	b.count = k;
	b.read_id = r->id;
	b.kernel_drops = chan_kernel_drops(c) + c->backlog_drops;
	/* A bound channel's frames all carry its name. */
	b.ifname = c->ifindex ? c->channel : NULL;
	if (outq_frames(&s->q, &b) < 0)
		return 0;
	s->stats.rx_frames += k;
	if (c->dirty)
		return 0;
	c->dirty = 1;
	return 1;
}

void chan_flush(struct chan *c)
{
	if (!c->dirty)
		return;
	c->dirty = 0;
	outq_flush(&c->sess->q);
}

/* Frame f as the kernel takes it, and where it goes; 0 or -errno. */
static int chan_tx(struct chan *c, const struct frame_desc *f,
		   struct raw_tx *tx, char *detail, size_t dsize)
{
	int rc;

	rc = frame_from_desc(f, c->fd_frames, &tx->cf, &tx->is_fd, detail,
			     dsize);
	if (rc < 0)
		return rc;
	if (c->gone) {
		detail_set(detail, dsize,
			   "interface \"%s\" is gone; the channel is bound "
			   "to it again when it comes back",
			   c->channel);
		return -ENODEV;
	}
	tx->ifname = c->channel;
	tx->ifindex = c->ifindex;
	if (c->ifindex != 0) {
		if (f->ifname[0] == '\0' || strcmp(f->ifname, c->channel) == 0)
			return 0;
		detail_set(detail, dsize,
			   "frame names \"%s\" but the channel is \"%s\"",
			   f->ifname, c->channel);
		return -EINVAL;
	}
	tx->ifname = f->ifname;
	if (f->ifname[0] == '\0') {
		detail_set(detail, dsize,
			   "the \"\" channel needs each frame to name its "
			   "interface");
		return -EINVAL;
	}
	if ((tx->ifindex = (int)if_nametoindex(f->ifname)) == 0) {
		detail_set(detail, dsize, "no interface \"%s\"", f->ifname);
		return -ENODEV;
	}
	return 0;
}

int chan_send(struct chan *c, const struct frame_desc *f, size_t n,
	      size_t *sent, char *detail, size_t dsize)
{
	struct raw_tx tx[RAW_BATCH];
	struct tap *t = NULL;
	size_t k, done;
	int bad = 0, rc;

	/* A bad frame ends the send after those before it went out. */
	for (*sent = 0; *sent < n && bad == 0; *sent += done) {
		for (k = 0; k < RAW_BATCH && *sent + k < n; k++)
			if ((bad = chan_tx(c, &f[*sent + k], &tx[k], detail,
					   dsize)) < 0)
				break;
		done = 0;
		/* Loopback on: through the tap, so the echoes are told ours. */
		if (k > 0 && c->opts.loopback && t == NULL &&
		    (t = tap_of(c->sess->ctx, c->ifindex)) == NULL) {
			detail_set(detail, dsize, "\"%s\" has no shared socket",
				   tx[0].ifname);
			return -ENETDOWN;
		}
		rc = k == 0 ? 0
		     : t    ? tap_send(t, c, tx, k, &done, detail, dsize)
			 : rawsock_send(c->fd, c->ifindex, tx, k, &done, detail,
					dsize);
		if (rc < 0) {
			*sent += done;
			return rc;
		}
	}
	return bad;
}
