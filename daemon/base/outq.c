/*
 * The output queue of one client. Everything for the client is encoded
 * straight into one evbuffer and written from the loop at once, so a
 * frame is never held back waiting for more; above the high watermark
 * the callers stop reading what feeds it, and below the low one the owner
 * hears so it can read again.
 */
#include <errno.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "base/base.h"

static void outq_on_write(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	outq_flush(arg);
}

int outq_init(struct outq *q, struct cand_ctx *ctx, int fd,
	      const struct outq_codec *codec, void *owner)
{
	memset(q, 0, sizeof(*q));
	q->fd = fd;
	q->ctx = ctx;
	q->limits = &ctx->limits;
	q->codec = codec;
	q->owner = owner;
	q->buf = evbuffer_new();
	q->ev_write = event_new(ctx->base, fd, EV_WRITE | EV_PERSIST,
				outq_on_write, q);
	if (q->buf == NULL || q->ev_write == NULL) {
		outq_free(q);
		return -ENOMEM;
	}
	return 0;
}

void outq_free(struct outq *q)
{
	if (q->ev_write != NULL)
		event_free(q->ev_write);
	if (q->buf != NULL)
		evbuffer_free(q->buf);
	q->ev_write = NULL;
	q->buf = NULL;
}

int outq_full(const struct outq *q)
{
	return evbuffer_get_length(q->buf) >= q->limits->out_high;
}

size_t outq_backlog(const struct outq *q)
{
	return evbuffer_get_length(q->buf);
}

int outq_frames(struct outq *q, const struct rx_batch *b)
{
	if (q->dead)
		return -EPIPE;
	return q->codec->frames(q, b);
}

int outq_event(struct outq *q, const struct evt *e)
{
	if (q->dead)
		return -EPIPE;
	return q->codec->event(q, e);
}

/* What may be written now: all of it, or while held what precedes the mark. */
static size_t outq_writable(const struct outq *q)
{
	return q->held ? q->head : evbuffer_get_length(q->buf);
}

void outq_flush(struct outq *q)
{
	size_t left;
	int n;

	if (q->dead)
		return;
	while ((left = outq_writable(q)) > 0) {
		n = q->held ? evbuffer_write_atmost(q->buf, q->fd,
						    (ev_ssize_t)left)
			    : evbuffer_write(q->buf, q->fd);
		if (n > 0) {
			if (q->held)
				q->head -= (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		outq_fail(q, n < 0 ? strerror(errno) : "short write");
		return;
	}
	/* Deleting an event libevent does not have costs a call each time. */
	if (left > 0 && !q->armed)
		q->armed = event_add(q->ev_write, NULL) == 0;
	else if (left == 0 && q->armed) {
		event_del(q->ev_write);
		q->armed = 0;
	}
	/* Resume reads before the buffer is empty, so it never starves. */
	if (evbuffer_get_length(q->buf) < q->limits->out_low)
		q->codec->on_low(q->owner);
}

void outq_flush_later(struct outq *q)
{
	if (!q->dead && !q->armed && outq_writable(q) > 0)
		q->armed = event_add(q->ev_write, NULL) == 0;
}

void outq_hold(struct outq *q, int on)
{
	q->held = on != 0;
	q->head = q->held ? evbuffer_get_length(q->buf) : 0;
	if (!q->held)
		outq_flush_later(q);
}

size_t outq_unheld(const struct outq *q)
{
	return q->held ? q->head : 0;
}

void outq_fail(struct outq *q, const char *why)
{
	if (!q->dead)
		q->codec->fail(q->owner, why);
}

void outq_stop(struct outq *q)
{
	q->dead = 1;
	q->head = 0;
	evbuffer_drain(q->buf, evbuffer_get_length(q->buf));
	event_del(q->ev_write);
	q->armed = 0;
}
