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
 * A channel may be closed, or the tap itself freed (its interface went
 * away), by what a write's callbacks run while the tap is going through
 * its channels; "busy" defers both until it is done.
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

struct tap {
	struct cand_ctx *ctx;
	int ifindex;
	char ifname[IFNAMSIZ];
	int fd;
	struct event *ev_read;
	struct chan **chans; /* NULL slots while busy */
	size_t n_slots, cap, n_attached;
	uint32_t drops; /* SO_RXQ_OVFL / SO_MEMINFO */
	struct echo_table echo;
	int busy;
	int dead; /* freed while busy */
	struct chan *owner[RAW_BATCH];
	struct rx_frame sel[RAW_BATCH];
};

static void tap_on_read(evutil_socket_t fd, short what, void *arg);

static uint64_t tap_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
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
	if (t->ev_read == NULL) {
		close(fd);
		free(t);
		return -ENOMEM;
	}
	*out = t;
	return 0;
}

static void tap_destroy(struct tap *t)
{
	event_free(t->ev_read);
	close(t->fd);
	echo_free(&t->echo);
	free(t->chans);
	free(t);
}

void tap_free(struct tap *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n_slots; i++) {
		if (t->chans[i] == NULL)
			continue;
		chan_tap_gone(t->chans[i]);
		t->chans[i] = NULL;
	}
	t->n_attached = 0;
	event_del(t->ev_read);
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

/* Receiving starts with the first channel and stops with the last. */
static int tap_set_on(struct tap *t, int on)
{
	int rc;

	if (on) {
		if ((rc = rawsock_tap_on(t->fd)) < 0)
			return rc;
		rawsock_read_drops(t->fd, &t->drops);
		return event_add(t->ev_read, NULL) < 0 ? -ENOMEM : 0;
	}
	event_del(t->ev_read);
	rc = rawsock_block(t->fd);
	rawsock_purge(t->fd);
	/* Nobody reads the echoes of what was sent until now. */
	echo_purge(&t->echo, 0);
	return rc;
}

int tap_attach(struct tap *t, struct chan *c)
{
	struct chan **n;
	size_t cap;
	int rc;

	if (t->n_slots == t->cap) {
		cap = t->cap ? t->cap * 2 : 8;
		n = realloc(t->chans, cap * sizeof(*n));
		if (n == NULL)
			return -ENOMEM;
		t->chans = n;
		t->cap = cap;
	}
	if (t->n_attached == 0 && (rc = tap_set_on(t, 1)) < 0) {
		tap_set_on(t, 0);
		return rc;
	}
	t->chans[t->n_slots++] = c;
	t->n_attached++;
	return 0;
}

/* Closes the holes that detaching while busy left. */
static void tap_compact(struct tap *t)
{
	size_t i, j = 0;

	for (i = 0; i < t->n_slots; i++)
		if (t->chans[i] != NULL)
			t->chans[j++] = t->chans[i];
	t->n_slots = j;
}

void tap_detach(struct tap *t, struct chan *c)
{
	size_t i;

	echo_forget_owner(&t->echo, c);
	for (i = 0; i < t->n_slots; i++)
		if (t->chans[i] == c)
			break;
	if (i == t->n_slots)
		return;
	if (t->busy) {
		t->chans[i] = NULL;
	} else {
		t->chans[i] = t->chans[--t->n_slots];
	}
	if (--t->n_attached == 0)
		tap_set_on(t, 0);
}

int tap_send(struct tap *t, struct chan *c, const struct canfd_frame *cf,
	     int is_fd, int ifindex, const char *ifname, char *detail,
	     size_t dsize)
{
	int rc;

	rc = rawsock_send(t->fd, cf, is_fd, ifindex, ifname, detail, dsize);
	/* Without a channel attached the tap does not read its echo. */
	if (rc == 0 && t->n_attached > 0 &&
	    echo_add(&t->echo, c, ifindex, cf, is_fd, tap_now_ns()) < 0)
		log_warn("%s: out of memory: an echo will not be told as its "
			 "sender's own",
			 t->ifindex ? t->ifname : "\"\"");
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

/* Whose echo each frame is; the frames themselves are nobody's own. */
static void tap_attribute(struct tap *t, struct rx_batch *b)
{
	struct rx_frame *rx = (struct rx_frame *)b->frames;
	uint64_t now = 0;
	void *owner;
	size_t i;

	for (i = 0; i < b->count; i++) {
		t->owner[i] = NULL;
		if (!rx[i].own)
			continue;
		rx[i].own = 0;
		if (now == 0)
			now = tap_now_ns();
		if (echo_match(&t->echo, rx[i].ifindex, rx[i].cf, rx[i].is_fd,
			       now, &owner))
			t->owner[i] = owner;
	}
}

static void tap_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct tap *t = arg;
	struct tap_read r = {.owner = t->owner, .sel = t->sel};
	struct rx_batch b;
	int round, rc;
	size_t i;

	(void)what;
	t->busy++;
	for (round = 0; round < TAP_ROUNDS && !t->dead; round++) {
		rc = rawsock_recv(t->ctx, fd, t->ifindex ? t->ifname : NULL, &b,
				  &t->drops);
		if (rc < 0) {
			/* Down or gone: the rtnetlink monitor tells clients. */
			if (rc != -EAGAIN && rc != -EINTR && rc != -ENETDOWN &&
			    rc != -ENODEV)
				log_warn("%s: recvmmsg: %s",
					 t->ifindex ? t->ifname : "\"\"",
					 strerror(-rc));
			break;
		}
		tap_attribute(t, &b);
		r.frames = b.frames;
		r.n = b.count;
		r.id = ++t->ctx->tap_reads;
		r.drained = b.count < RAW_BATCH;
		for (i = 0; i < t->n_slots && !t->dead; i++)
			if (t->chans[i] != NULL)
				chan_deliver(t->chans[i], &r);
		if (r.drained)
			break;
	}
	for (i = 0; i < t->n_slots && !t->dead; i++)
		if (t->chans[i] != NULL)
			chan_flush(t->chans[i]);
	if (--t->busy > 0)
		return;
	if (t->dead)
		tap_destroy(t);
	else
		tap_compact(t);
}
