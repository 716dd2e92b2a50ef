/*
 * What the reader took in and the receive calls have not handed out yet:
 * frames in one queue, decoded straight from each batch's packed records;
 * other events in a second, each marked with the number of frames queued
 * before it, so both come out in the order they happened.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "framepack.h"
#include "libcand_int.h"

/* Makes room for n more frames at the queue's tail. */
static int libcand_queue_reserve(struct cand *h, size_t n)
{
	struct cand_frame *q;
	size_t queued = h->q_tail - h->q_head, cap;

	if (h->q_cap - h->q_tail >= n)
		return 0;
	if (h->q_head > 0) {
		memmove(h->q, h->q + h->q_head, queued * sizeof(*h->q));
		h->q_head = 0;
		h->q_tail = queued;
		if (h->q_cap - h->q_tail >= n)
			return 0;
	}
	cap = h->q_cap ? h->q_cap : CAND_QUEUE_INIT;
	while (cap - queued < n) {
		if (cap > SIZE_MAX / 2 / sizeof(*q))
			return CAND_ENOMEM;
		cap *= 2;
	}
	if ((q = realloc(h->q, cap * sizeof(*q))) == NULL)
		return CAND_ENOMEM;
	h->q = q;
	h->q_cap = cap;
	return 0;
}

/* ifname is the record's interface, already zero-padded. */
static void libcand_queue_rec(struct cand_frame *f,
			      const struct framepack_rec *r,
			      const char ifname[CAND_IFNAMSIZ])
{
	size_t n = r->data != NULL ? r->len : 0;
	size_t max = (r->flags & FRAMEPACK_FD) ? CAND_MAX_DLEN : 8;

	f->id = r->can_id & 0x1fffffffu;
	f->flags = ((r->can_id & FRAMEPACK_EFF) ? CAND_FRAME_EXTENDED : 0) |
		   ((r->can_id & FRAMEPACK_RTR) ? CAND_FRAME_REMOTE : 0) |
		   ((r->can_id & FRAMEPACK_ERR) ? CAND_FRAME_ERROR : 0) |
		   ((r->flags & FRAMEPACK_FD) ? CAND_FRAME_FD : 0) |
		   ((r->flags & FRAMEPACK_BRS) ? CAND_FRAME_BRS : 0) |
		   ((r->flags & FRAMEPACK_ESI) ? CAND_FRAME_ESI : 0) |
		   ((r->flags & FRAMEPACK_OWN) ? CAND_FRAME_OWN : 0) |
		   ((r->flags & FRAMEPACK_LOCAL) ? CAND_FRAME_LOCAL : 0);
	f->len = r->len > max ? (uint8_t)max : r->len;
	if (n > max)
		n = max;
	if (n > 0)
		memcpy(f->data, r->data, n);
	memset(f->data + n, 0, sizeof(f->data) - n);
	memcpy(f->ifname, ifname, sizeof(f->ifname));
	f->timestamp_ns = r->timestamp_ns;
}

/* A FrameBatch's records onto the frame queue. */
int libcand_queue_batch(struct cand *h, const struct libcand_batch *b)
{
	struct framepack_rec r;
	char name[CAND_IFNAMSIZ];
	size_t off = 0, i, named = SIZE_MAX;
	int rc;

	h->kernel_drops = b->kernel_drops;
	if (b->count == 0)
		return 0;
	if (b->format != FRAMEPACK_FORMAT)
		return libcand_err_kill(h, CAND_EPROTO,
					"frame batch format %u (this library "
					"reads %u)",
					b->format, FRAMEPACK_FORMAT);
	/* Every record has a header: a bigger count would only eat memory. */
	if (b->count > b->packed_len / FRAMEPACK_HDR)
		return libcand_err_kill(h, CAND_EPROTO,
					"malformed frame batch: %u frames in "
					"%zu bytes",
					b->count, b->packed_len);
	if (libcand_queue_reserve(h, b->count) < 0)
		return libcand_err_kill(h, CAND_ENOMEM,
					"no memory for %u frames", b->count);
	for (i = 0; i < b->count; i++) {
		rc = framepack_get(b->packed, b->packed_len, &off, &r);
		if (rc <= 0 || (r.ifname >= b->n_names && b->n_names > 0))
			return libcand_err_kill(h, CAND_EPROTO,
						"malformed frame batch");
		/* A batch mostly has one interface: copy its name once. */
		if (r.ifname != named) {
			size_t n = b->n_names ? b->name_len[r.ifname] : 0;

			if (n > sizeof(name) - 1)
				n = sizeof(name) - 1;
			memset(name, 0, sizeof(name));
			if (n > 0)
				memcpy(name, b->name[r.ifname], n);
			named = r.ifname;
		}
		libcand_queue_rec(&h->q[h->q_tail++], &r, name);
		h->q_in++;
	}
	return 0;
}

/* Appends an event behind the frames queued so far. */
int libcand_queue_event(struct cand *h, const struct cand_event *ev, int err)
{
	struct cand_queued_event *q;

	if (h->n_evs == h->evs_cap) {
		size_t cap = h->evs_cap ? h->evs_cap * 2 : 4;

		if ((q = realloc(h->evs, cap * sizeof(*q))) == NULL)
			return libcand_err_kill(h, CAND_ENOMEM,
						"no memory for an event");
		h->evs = q;
		h->evs_cap = cap;
	}
	q = &h->evs[h->n_evs++];
	q->at = h->q_in;
	q->err = err;
	q->ev = *ev;
	return 0;
}

/* Takes the event due now into *q, if there is one. */
static int libcand_queue_pop_event(struct cand *h, struct cand_queued_event *q)
{
	if (h->n_evs == 0 || h->evs[0].at != h->q_out)
		return 0;
	*q = h->evs[0];
	h->n_evs--;
	memmove(h->evs, h->evs + 1, h->n_evs * sizeof(*h->evs));
	return 1;
}

static void libcand_queue_shift(struct cand *h, struct cand_frame *f)
{
	*f = h->q[h->q_head++];
	h->q_out++;
	if (h->q_head == h->q_tail)
		h->q_head = h->q_tail = 0;
}

/*
 * cand_recv()'s next frame: 1, 0 when none is queued, or the error of a
 * link event of the channel (with its detail); other events pass by.
 */
int libcand_queue_pop_frame(struct cand *h, struct cand_frame *f)
{
	struct cand_queued_event q;

	while (libcand_queue_pop_event(h, &q)) {
		if (q.err != 0) {
			snprintf(h->detail, sizeof(h->detail), "%s",
				 q.ev.detail);
			return q.err;
		}
	}
	if (h->q_head == h->q_tail)
		return 0;
	libcand_queue_shift(h, f);
	return 1;
}

/* cand_recv_event()'s next frame or event: 1, or 0 if none is queued. */
int libcand_queue_pop(struct cand *h, struct cand_event *ev)
{
	struct cand_queued_event q;

	if (libcand_queue_pop_event(h, &q)) {
		*ev = q.ev;
		return 1;
	}
	if (h->q_head == h->q_tail)
		return 0;
	memset(ev, 0, sizeof(*ev));
	ev->type = CAND_EVENT_FRAME;
	libcand_queue_shift(h, &ev->frame);
	memcpy(ev->ifname, ev->frame.ifname, sizeof(ev->ifname));
	return 1;
}

size_t libcand_queue_len(const struct cand *h)
{
	return (h->q_tail - h->q_head) + h->n_evs;
}
