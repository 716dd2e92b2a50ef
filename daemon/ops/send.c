/*
 * Sending frames. Every frame of a send is checked against the policy
 * before the first goes out, so a refused send puts nothing on the bus.
 * A full TX queue gives no poll() wakeup (the qdisc takes the frame or
 * refuses it), so a send with a timeout that meets one retries on a
 * timer, backing off, until the deadline; the caller hears how it ended
 * through its callback, and only a flush_tx may overtake it. A send over
 * the client's send budget (budget.c) waits the same way, for its tokens,
 * and fails with -EDQUOT when they would come after the deadline.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "ops/ops.h"

/* First retry delay for a full TX queue, doubled up to the maximum. */
#define SEND_BACKOFF_MIN_MS 1
#define SEND_BACKOFF_MAX_MS 16
#define SEND_DETAIL	    256

struct send_op {
	struct sess *sess;
	const struct frame_desc *frames; /* the caller's, until done */
	size_t n;
	size_t next; /* first frame not yet sent */
	uint32_t timeout_ms;
	uint64_t deadline_ms;
	unsigned backoff_ms;
	int budget_wait; /* waited for the send budget: frames are delayed */
	struct event *ev_retry;
	send_done_fn done;
	void *arg;
	char detail[SEND_DETAIL];
};

static uint64_t send_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * Sends from frames[*next] on; -ENOBUFS when the TX queue is full, -EDQUOT
 * at the first frame over the send budget.
 */
static int send_frames(struct sess *s, const struct frame_desc *frames,
		       size_t n, size_t *next, int delayed, char *detail,
		       size_t dsize)
{
	size_t first = *next, end, sent = 0;
	int rc = 0;

	end = budget_take(s, frames, first, n, detail, dsize);
	if (end > first)
		rc = chan_send(s->chan, &frames[first], end - first, &sent,
			       detail, dsize);
	*next = first + sent;
	budget_done(s, frames, first, *next, end, delayed);
	return rc == 0 && end < n ? -EDQUOT : rc;
}

static void send_retry(evutil_socket_t fd, short what, void *arg);

/*
 * The next try: after the backoff for a full TX queue, when the next token
 * comes for the budget. 0, or -ETIME when that is past the deadline.
 */
static int send_arm(struct send_op *op, int rc)
{
	uint64_t wait_ms = op->backoff_ms, now = send_now_ms();
	struct timeval tv;

	if (rc == -EDQUOT) {
		wait_ms = budget_wait_us(op->sess, &op->frames[op->next]);
		if (wait_ms == UINT64_MAX ||
		    now + wait_ms / 1000 >= op->deadline_ms)
			return -ETIME;
		wait_ms = wait_ms / 1000 + 1;
		op->budget_wait = 1;
	} else if (op->backoff_ms < SEND_BACKOFF_MAX_MS) {
		op->backoff_ms *= 2;
	}
	tv.tv_sec = (time_t)(wait_ms / 1000);
	tv.tv_usec = (suseconds_t)(wait_ms % 1000) * 1000;
	evtimer_add(op->ev_retry, &tv);
	return 0;
}

/* Over budget to the end: what was not sent is the budget's refusal. */
static int send_refused(struct sess *s, size_t sent, size_t n, char *detail,
			size_t dsize)
{
	s->stats.refused += n - sent;
	detail_append(detail, dsize, "; %zu of %zu frames sent", sent, n);
	log_info("client %u (%s): send over budget: %s", s->id, s->who, detail);
	return -EDQUOT;
}

/* The send is over: the caller hears, then it is forgotten. */
static void send_finish(struct send_op *op, int rc)
{
	op->sess->send = NULL;
	op->done(op->arg, rc, op->next, op->detail);
	event_free(op->ev_retry);
	free(op);
}

int send_start(struct sess *s, const struct frame_desc *frames, size_t n,
	       uint32_t timeout_ms, send_done_fn done, void *arg, size_t *sent,
	       char *detail, size_t dsize)
{
	struct send_op *op;
	int rc;

	*sent = 0;
	rc = policy_check_frames(s->ctx->policy, &s->ident, chan_name(s->chan),
				 frames, n, 0, RIGHT_SEND, detail, dsize);
	if (rc < 0) {
		log_info("client %u (%s): send denied: %s", s->id, s->who,
			 detail);
		return rc;
	}
	rc = send_frames(s, frames, n, sent, 0, detail, dsize);
	if (rc != -ENOBUFS && rc != -EDQUOT)
		return rc;
	if (timeout_ms == 0 && rc == -EDQUOT)
		return send_refused(s, *sent, n, detail, dsize);
	if (timeout_ms == 0) {
		detail_set(detail, dsize,
			   "TX buffer full after %zu of %zu frames", *sent, n);
		return rc;
	}

	op = calloc(1, sizeof(*op));
	if (op == NULL)
		return -ENOMEM;
	op->sess = s;
	op->frames = frames;
	op->n = n;
	op->next = *sent;
	op->timeout_ms = timeout_ms;
	op->deadline_ms = send_now_ms() + timeout_ms;
	op->backoff_ms = SEND_BACKOFF_MIN_MS;
	op->done = done;
	op->arg = arg;
	op->ev_retry = evtimer_new(s->ctx->base, send_retry, op);
	if (op->ev_retry == NULL) {
		free(op);
		return -ENOMEM;
	}
	if (send_arm(op, rc) < 0) {
		event_free(op->ev_retry);
		free(op);
		return send_refused(s, *sent, n, detail, dsize);
	}
	s->send = op;
	return -EINPROGRESS;
}

static void send_retry(evutil_socket_t fd, short what, void *arg)
{
	struct send_op *op = arg;
	struct sess *s = op->sess;
	int rc;

	(void)fd;
	(void)what;
	/* A reload may have taken the right away meanwhile. */
	rc = policy_check_frames(s->ctx->policy, &s->ident, chan_name(s->chan),
				 op->frames, op->n, op->next, RIGHT_SEND,
				 op->detail, sizeof(op->detail));
	if (rc == 0)
		rc = send_frames(s, op->frames, op->n, &op->next,
				 op->budget_wait, op->detail,
				 sizeof(op->detail));
	if (rc == -ENOBUFS && send_now_ms() < op->deadline_ms) {
		send_arm(op, rc);
		return;
	}
	/* Over budget: wait for the next token if it comes in time. */
	if (rc == -EDQUOT && send_arm(op, rc) == 0)
		return;
	if (rc == -EDQUOT)
		rc = send_refused(s, op->next, op->n, op->detail,
				  sizeof(op->detail));
	else if (rc == -ENOBUFS)
		detail_set(op->detail, sizeof(op->detail),
			   "TX buffer full for %u ms; %zu of %zu frames sent",
			   op->timeout_ms, op->next, op->n);
	send_finish(op, rc);
}

size_t send_flush(struct sess *s)
{
	struct send_op *op = s->send;
	size_t dropped;

	if (op == NULL)
		return 0;
	dropped = op->n - op->next;
	detail_set(op->detail, sizeof(op->detail),
		   "cancelled by flush_tx after %zu of %zu frames; %zu not "
		   "sent",
		   op->next, op->n, dropped);
	send_finish(op, -ECANCELED);
	return dropped;
}

void send_abort(struct sess *s, int rc, const char *why)
{
	struct send_op *op = s->send;

	if (op == NULL)
		return;
	detail_set(op->detail, sizeof(op->detail), "%s; %zu of %zu frames sent",
		   why, op->next, op->n);
	send_finish(op, rc);
}

void send_cancel(struct sess *s)
{
	struct send_op *op = s->send;

	if (op == NULL)
		return;
	event_free(op->ev_retry);
	free(op);
	s->send = NULL;
}
