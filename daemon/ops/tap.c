/*
 * An interface's tap: the one CAN_RAW socket through which cand receives
 * that interface's frames for every channel bound to it (and one more,
 * bound to every interface, for the "" channels). Receiving each frame
 * once, however many clients want it, is what lets a frame cost the same
 * for the 64th client as for the first but its copy and its write.
 *
 * The socket exists as long as its interface (it costs nothing while no
 * channel is attached: it then has no filter at all, so the kernel never
 * queues a frame for it) and receives everything while one is: CAN FD,
 * every error frame, its own echoes. Each read (up to RAW_BATCH frames by
 * recvmmsg, up to TAP_ROUNDS per wakeup) is offered to every attached
 * channel, which applies its client's own filters (chan_deliver), and
 * then each client that got frames is written once.
 *
 * Own messages: channels with local_loopback on send through the tap, so
 * their echo comes back here flagged MSG_CONFIRM; the echo table
 * (can/echo.c) tells whose frame it was. A frame from any other socket
 * comes without MSG_CONFIRM and is nobody's own.
 *
 * Clients that take only some standard ids (exact filters) are indexed
 * by id, so a read is offered to them only when it has one of theirs.
 *
 * Offering a read calls nothing that could come back here; writing the
 * clients at the end may (a callback closes a client, or removes this
 * interface): a closed client's place in the write list is cleared, and
 * "busy" defers freeing the tap until the loop is done with it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "ops/ops.h"

/* Reads per wakeup before yielding to the rest of the loop. */
#define TAP_ROUNDS 8
/*
 * A wakeup that emptied the socket of this many frames means they come
 * faster than cand wakes: the tap rests (receive_rest_us, 1 ms unless
 * cand.conf says otherwise) before reading again, so the next wakeup takes
 * several times as many frames for the same fixed cost (epoll_wait, the
 * switch, each client's writev and wakeup), as a NIC coalesces interrupts.
 * A trickle (a frame a wakeup) never waits, nor does a tap that is behind.
 */
#define TAP_REST_MIN 16
/*
 * Reads of a removed interface's tap, at most (32768 frames, several times
 * what the default 4 MiB receive buffer holds): a bound on the time the
 * loop spends there; a buffer made larger in cand.conf may lose the rest.
 */
#define TAP_DRAIN_READS 64
/* Standard ids, for the index of channels that take only some. */
#define TAP_SFF_IDS (CAN_SFF_MASK + 1)

struct tap_list {
	struct chan **v;
	size_t n, cap;
};

struct tap {
	struct cand_ctx *ctx;
	int ifindex;
	char ifname[IFNAMSIZ];
	int fd;
	struct event *ev_read;
	struct event *ev_rest;	 /* resting: ev_read is off meanwhile */
	struct tap_list all;	 /* every attached channel */
	struct tap_list general; /* those the index cannot pick out */
	struct tap_list *sff;	 /* by standard id; NULL until needed */
	size_t n_indexed;
	struct tap_list dirty; /* got frames this wakeup; NULL: detached */
	uint32_t drops;	       /* SO_RXQ_OVFL / SO_MEMINFO */
	int overran;	       /* a full read since SO_MEMINFO was asked */
	uint64_t drains;
	struct echo_table echo;
	int busy;
	int dead;      /* freed while busy */
	int unwatched; /* event_add failed: read on the rest timer */
	struct chan *owner[RAW_BATCH];
	struct rx_frame sel[RAW_BATCH];
	uint16_t ids[CAN_RAW_FILTER_MAX];
};

static void tap_on_read(evutil_socket_t fd, short what, void *arg);
static void tap_on_rested(evutil_socket_t fd, short what, void *arg);

static uint64_t tap_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int tap_list_add(struct tap_list *l, struct chan *c)
{
	struct chan **v;
	size_t cap;

	if (l->n == l->cap) {
		cap = l->cap ? l->cap * 2 : 4;
		if ((v = realloc(l->v, cap * sizeof(*v))) == NULL)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = c;
	return 0;
}

/* Order does not matter in any list: the last takes the hole. */
static int tap_list_del(struct tap_list *l, const struct chan *c)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		if (l->v[i] != c)
			continue;
		l->v[i] = l->v[--l->n];
		return 1;
	}
	return 0;
}

int tap_open(struct cand_ctx *ctx, int ifindex, const char *ifname,
	     struct tap **out, char *detail, size_t dsize)
{
	struct tap *t = calloc(1, sizeof(*t));
	int fd;

	if (t == NULL)
		return -ENOMEM;
	fd = rawsock_open_tap(ifindex, ctx->limits.rcvbuf, detail, dsize);
	if (fd < 0) {
		free(t);
		return fd;
	}
	t->ctx = ctx;
	t->ifindex = ifindex;
	snprintf(t->ifname, sizeof(t->ifname), "%s", ifname);
	t->fd = fd;
	echo_init(&t->echo);
	t->ev_read =
		event_new(ctx->base, fd, EV_READ | EV_PERSIST, tap_on_read, t);
	t->ev_rest = evtimer_new(ctx->base, tap_on_rested, t);
	if (t->ev_read == NULL || t->ev_rest == NULL) {
		if (t->ev_read != NULL)
			event_free(t->ev_read);
		close(fd);
		free(t);
		return -ENOMEM;
	}
	*out = t;
	return 0;
}

static void tap_destroy(struct tap *t)
{
	size_t i;

	event_free(t->ev_read);
	event_free(t->ev_rest);
	close(t->fd);
	echo_free(&t->echo);
	if (t->sff != NULL)
		for (i = 0; i < TAP_SFF_IDS; i++)
			free(t->sff[i].v);
	free(t->sff);
	free(t->all.v);
	free(t->general.v);
	free(t->dirty.v);
	free(t);
}

void tap_free(struct tap *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->all.n; i++)
		chan_tap_gone(t->all.v[i]);
	t->all.n = t->general.n = t->dirty.n = 0;
	if (t->sff != NULL)
		for (i = 0; i < TAP_SFF_IDS; i++)
			t->sff[i].n = 0;
	t->n_indexed = 0;
	event_del(t->ev_read);
	event_del(t->ev_rest);
	if (t->busy)
		t->dead = 1;
	else
		tap_destroy(t);
}

struct tap *tap_of(struct cand_ctx *ctx, int ifindex)
{
	struct canif *ci;

	if (ifindex == 0)
		return ctx->tap_any;
	ci = busstate_by_index(ctx, ifindex);
	return ci != NULL ? ci->tap : NULL;
}

uint64_t tap_drops(const struct tap *t)
{
	return t->drops;
}

uint64_t tap_drains(const struct tap *t)
{
	return t->drains;
}

/* Receiving starts with the first channel and stops with the last. */
static int tap_set_on(struct tap *t, int on)
{
	int rc;

	if (on) {
		if ((rc = rawsock_tap_on(t->fd)) < 0)
			return rc;
		return event_add(t->ev_read, NULL) < 0 ? -ENOMEM : 0;
	}
	event_del(t->ev_read);
	event_del(t->ev_rest);
	t->unwatched = 0;
	rc = rawsock_block(t->fd);
	rawsock_purge(t->fd);
	/* Nobody reads the echoes of what was sent until now. */
	echo_purge(&t->echo, 0);
	return rc;
}

/* Takes c out of the general list or the index, wherever it is. */
static void tap_unindex(struct tap *t, struct chan *c)
{
	size_t i;
	int n;

	if (tap_list_del(&t->general, c))
		return;
	n = chan_sff_ids(c, t->ids, CAN_RAW_FILTER_MAX);
	for (i = 0; t->sff != NULL && n > 0 && i < (size_t)n; i++)
		tap_list_del(&t->sff[t->ids[i]], c);
	if (n >= 0 && t->n_indexed > 0)
		t->n_indexed--;
}

/*
 * A client that takes only some standard ids (python-can's usual exact
 * filters) is listed under each, so that a read of other ids passes it
 * by without a look: a frame for 1 client of 1000 costs as one of 10.
 */
static int tap_index(struct tap *t, struct chan *c)
{
	int n = chan_sff_ids(c, t->ids, CAN_RAW_FILTER_MAX), i;

	if (n < 0 || (t->sff == NULL &&
		      (t->sff = calloc(TAP_SFF_IDS, sizeof(*t->sff))) == NULL))
		return tap_list_add(&t->general, c);
	for (i = 0; i < n; i++) {
		if (tap_list_add(&t->sff[t->ids[i]], c) < 0) {
			while (i-- > 0)
				tap_list_del(&t->sff[t->ids[i]], c);
			return tap_list_add(&t->general, c);
		}
	}
	t->n_indexed++;
	return 0;
}

int tap_attach(struct tap *t, struct chan *c)
{
	int rc;

	if ((rc = tap_list_add(&t->all, c)) < 0)
		return rc;
	/* Drops from before it came are not the new client's (SO_MEMINFO). */
	rawsock_read_drops(t->fd, &t->drops);
	if ((rc = tap_index(t, c)) < 0 ||
	    (t->all.n == 1 && (rc = tap_set_on(t, 1)) < 0)) {
		tap_unindex(t, c);
		tap_list_del(&t->all, c);
		if (t->all.n == 0)
			tap_set_on(t, 0);
		return rc;
	}
	return 0;
}

int tap_reindex(struct tap *t, struct chan *c)
{
	tap_list_del(&t->general, c);
	if (t->sff != NULL) {
		size_t i, n = 0;

		/* Its old ids are gone with its old filters: look at all. */
		for (i = 0; i < TAP_SFF_IDS; i++)
			if (tap_list_del(&t->sff[i], c))
				n = 1;
		if (n && t->n_indexed > 0)
			t->n_indexed--;
	}
	return tap_index(t, c);
}

void tap_detach(struct tap *t, struct chan *c)
{
	size_t i;

	echo_forget_owner(&t->echo, c);
	if (!tap_list_del(&t->all, c))
		return;
	tap_unindex(t, c);
	/* Detached while its write was due (a callback of another's). */
	for (i = 0; i < t->dirty.n; i++)
		if (t->dirty.v[i] == c)
			t->dirty.v[i] = NULL;
	if (t->all.n == 0)
		tap_set_on(t, 0);
}

int tap_send(struct tap *t, struct chan *c, const struct raw_tx *tx, size_t n,
	     size_t *sent, char *detail, size_t dsize)
{
	uint64_t now;
	size_t i;
	int rc;

	rc = rawsock_send(t->fd, t->ifindex, tx, n, sent, detail, dsize);
	/* Without a channel attached the tap does not read its echo. */
	if (*sent == 0 || t->all.n == 0)
		return rc;
	now = tap_now_ns();
	for (i = 0; i < *sent; i++)
		if (echo_add(&t->echo, c, tx[i].ifindex, &tx[i].cf, tx[i].is_fd,
			     now) < 0) {
			log_warn("%s: out of memory: an echo will not be told "
				 "as its sender's own",
				 t->ifindex ? t->ifname : "\"\"");
			break;
		}
	return rc;
}

void tap_link_reset(struct cand_ctx *ctx, int ifindex)
{
	struct tap *t = tap_of(ctx, ifindex);

	if (t != NULL)
		echo_purge(&t->echo, ifindex);
	if (ctx->tap_any != NULL)
		echo_purge(&ctx->tap_any->echo, ifindex);
}

/*
 * Whose echo each frame is; the frames themselves are nobody's own. 1
 * when every frame is a standard data or remote frame (the index works).
 */
static int tap_attribute(struct tap *t, struct rx_batch *b)
{
	struct rx_frame *rx = (struct rx_frame *)b->frames;
	uint64_t now = 0;
	int all_sff = 1;
	void *owner;
	size_t i;

	for (i = 0; i < b->count; i++) {
		t->owner[i] = NULL;
		if (rx[i].cf->can_id & (CAN_EFF_FLAG | CAN_ERR_FLAG))
			all_sff = 0;
		if (!rx[i].own)
			continue;
		rx[i].own = 0;
		if (now == 0)
			now = tap_now_ns();
		if (echo_match(&t->echo, rx[i].ifindex, rx[i].cf, rx[i].is_fd,
			       now, &owner))
			t->owner[i] = owner;
	}
	return all_sff;
}

static void tap_deliver(struct tap *t, struct chan *c, const struct tap_read *r)
{
	/* Out of memory for the list: it is written at the next wakeup. */
	if (chan_deliver(c, r) == 1 && tap_list_add(&t->dirty, c) < 0)
		log_warn("%s: out of memory; a client's frames wait",
			 t->ifname);
}

/* The read to every channel that may want it, each once. */
static void tap_offer(struct tap *t, const struct tap_read *r, int all_sff)
{
	const struct tap_list *l;
	size_t i, j;

	if (!all_sff || t->n_indexed == 0) {
		for (i = 0; i < t->all.n; i++)
			tap_deliver(t, t->all.v[i], r);
		return;
	}
	for (i = 0; i < t->general.n; i++)
		tap_deliver(t, t->general.v[i], r);
	for (i = 0; i < r->n; i++) {
		l = &t->sff[r->frames[i].cf->can_id & CAN_SFF_MASK];
		for (j = 0; j < l->n; j++)
			tap_deliver(t, l->v[j], r);
	}
}

/* The read event off for receive_rest_us; tap_on_rested reads again. */
static void tap_rest(struct tap *t)
{
	unsigned us = t->ctx->limits.rest_us;
	struct timeval rest = {(time_t)(us / 1000000),
			       (suseconds_t)(us % 1000000)};

	event_del(t->ev_read);
	if (evtimer_add(t->ev_rest, &rest) < 0)
		event_add(t->ev_read, NULL);
}

/* Up to TAP_ROUNDS reads, each offered; TAP_ROUNDS: frames were left. */
static int tap_read(struct tap *t, size_t *taken)
{
	struct tap_read r = {.owner = t->owner, .sel = t->sel};
	struct rx_batch b;
	int round, rc, all_sff;

	for (round = 0; round < TAP_ROUNDS; round++) {
		rc = rawsock_recv(t->ctx, t->fd, t->ifindex ? t->ifname : NULL,
				  &b, &t->drops);
		if (rc < 0) {
			/* Down or gone: the rtnetlink monitor tells clients. */
			if (rc != -EAGAIN && rc != -EINTR && rc != -ENETDOWN &&
			    rc != -ENODEV)
				log_warn("%s: recvmmsg: %s",
					 t->ifindex ? t->ifname : "\"\"",
					 strerror(-rc));
			break;
		}
		all_sff = tap_attribute(t, &b);
		r.frames = b.frames;
		r.n = b.count;
		r.id = ++t->ctx->tap_reads;
		r.drains = t->drains;
		/* Nothing below calls back into the tap's lists. */
		tap_offer(t, &r, all_sff);
		*taken += b.count;
		if (b.count < RAW_BATCH) {
			t->drains++;
			break;
		}
		t->overran = 1;
	}
	return round;
}

/*
 * A removed interface's tap would be freed with what it holds (up to
 * receive_rest_us of frames, if it rests), which sockets of their own
 * would still give its clients. Only queued: this may run inside a
 * request's handler (linkmon_drain), and tap_free has them written from
 * the loop. The socket's error (gone) comes before its frames, so a
 * first read that brings none is not the end.
 */
void tap_drain(struct tap *t)
{
	size_t n;
	int i;

	if (t == NULL || t->busy || t->all.n == 0)
		return;
	for (i = 0; i < TAP_DRAIN_READS; i++) {
		n = 0;
		tap_read(t, &n);
		if (n == 0 && i > 0)
			break;
	}
}

static void tap_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct tap *t = arg;
	uint32_t drops;
	size_t i, taken = 0;
	int round, rest;

	(void)what;
	t->busy++;
	drops = t->drops;
	round = tap_read(t, &taken);
	/* Behind (stopped at TAP_ROUNDS with frames left): read on at once. */
	rest = taken >= TAP_REST_MIN && round < TAP_ROUNDS &&
	       t->ctx->limits.rest_us > 0;
	/*
	 * A socket that was this full may have dropped frames after the
	 * last one it kept, which no frame's count tells: ask once it is
	 * empty again, whichever wakeup empties it (the one that read full
	 * may have stopped at TAP_ROUNDS, or after exactly the last frame,
	 * and then no wakeup follows). New drops go to every client now,
	 * not only to those that got frames.
	 */
	if (t->overran && round < TAP_ROUNDS) {
		rawsock_read_drops(fd, &t->drops);
		t->overran = 0;
	} else if (t->overran && rawsock_read_drops_empty(fd, &t->drops)) {
		t->overran = 0;
	}
	for (i = 0; t->drops > drops && i < t->all.n; i++)
		if (chan_tell_drops(t->all.v[i]) == 1 &&
		    tap_list_add(&t->dirty, t->all.v[i]) < 0)
			log_warn("%s: out of memory; a drop event waits",
				 t->ifname);
	/* Writing may call back (and close a client, or this tap). */
	for (i = 0; i < t->dirty.n && !t->dead; i++)
		if (t->dirty.v[i] != NULL)
			chan_flush(t->dirty.v[i]);
	t->dirty.n = 0;
	if (--t->busy == 0 && t->dead) {
		tap_destroy(t);
		return;
	}
	/* Not when a callback above detached the last channel (tap off). */
	if (rest && t->all.n > 0)
		tap_rest(t);
}

static void tap_on_rested(evutil_socket_t fd, short what, void *arg)
{
	struct tap *t = arg;

	(void)fd;
	if (event_add(t->ev_read, NULL) == 0) {
		if (t->unwatched)
			log_info("%s: the socket is watched again",
				 t->ifindex ? t->ifname : "\"\"");
		t->unwatched = 0;
	} else {
		if (!t->unwatched)
			log_warn("%s: cannot watch the socket again; it is "
				 "read on a timer until it can be",
				 t->ifindex ? t->ifname : "\"\"");
		t->unwatched = 1;
		/*
		 * Unwatched, only this timer reads it again: armed before
		 * the read, which may free the tap.
		 */
		tap_rest(t);
	}
	tap_on_read(t->fd, what, t);
}
