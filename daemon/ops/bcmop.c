/*
 * What periodic tasks (task.c) and content monitors (monitor.c) share:
 * each has its own CAN_BCM socket, an id of the session's own, and its
 * notifications read as they come.
 *
 * One socket each because the BCM keys its ops by (can_id, ifindex) per
 * socket: a socket per client could not hold two tasks with the same CAN
 * id; with one socket each they never meet, the kernel's notifications
 * arrive already sorted by owner, and closing a session's sockets is the
 * kernel's own way to stop all of its work at once.
 *
 * Every socket is read whenever it is readable, so no TX_EXPIRED or
 * RX_CHANGED ever piles up unread in the kernel; only monitors wait while
 * the client's output is above the high watermark.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "ops/ops.h"

/* Notifications read per wakeup before yielding to other clients. */
#define BCMOP_READ_MAX 64

static void bcmop_on_read(evutil_socket_t fd, short what, void *arg);

struct bcm_op *bcmop_find(struct sess *s, uint32_t id, enum bcm_kind kind,
			  char *detail, size_t dsize)
{
	struct bcm_op *op;

	if (s->bcm != NULL)
		TAILQ_FOREACH(op, &s->bcm->ops, entry)
			if (op->id == id && op->kind == kind)
				return op;
	/* Ids are per connection: another client's task is not found. */
	detail_set(detail, dsize, "no %s %u on this connection",
		   kind == BCM_TASK ? "task" : "monitor", id);
	return NULL;
}

void bcmop_free(struct bcm_op *op)
{
	struct bcm_set *set = op->sess->bcm;

	TAILQ_REMOVE(&set->ops, op, entry);
	set->n_ops--;
	if (op->kind == BCM_TASK)
		task_release(op);
	if (op->ev_read != NULL)
		event_free(op->ev_read);
	if (op->ev_expired != NULL)
		event_free(op->ev_expired);
	/* Closing the socket deletes its kernel op: it stops here. */
	if (op->fd >= 0)
		close(op->fd);
	free(op->msg);
	free(op);
}

int bcmop_new(struct sess *s, enum bcm_kind kind, int ifindex,
	      const char *ifname, size_t nframes, size_t cfsiz,
	      struct bcm_op **out, char *detail, size_t dsize)
{
	struct bcm_set *set = s->bcm;
	struct bcm_op *op;
	unsigned n = 0, max;
	int fd;

	if (set == NULL) {
		if ((set = calloc(1, sizeof(*set))) == NULL)
			return -ENOMEM;
		TAILQ_INIT(&set->ops);
		s->bcm = set;
	}
	max = kind == BCM_TASK ? s->ctx->limits.max_periodic
			       : s->ctx->limits.max_monitors;
	TAILQ_FOREACH(op, &set->ops, entry)
		if (op->kind == kind)
			n++;
	if (n >= max) {
		detail_set(detail, dsize,
			   "%u %s is the limit per connection (cand.conf "
			   "[limits])",
			   max,
			   kind == BCM_TASK ? "periodic tasks" : "monitors");
		return -EMFILE;
	}
	if ((op = calloc(1, sizeof(*op))) == NULL)
		return -ENOMEM;
	op->sess = s;
	op->kind = kind;
	op->fd = -1;
	op->ifindex = ifindex;
	snprintf(op->ifname, sizeof(op->ifname), "%s", ifname);
	op->state = TASK_STOPPED;
	op->nframes = nframes;
	op->cfsiz = cfsiz;
	op->msg_len = bcmsock_msg_size(nframes, cfsiz);
	/* Ids only grow; 2^32 of them per connection will not wrap. */
	op->id = ++set->last_id;
	TAILQ_INSERT_TAIL(&set->ops, op, entry);
	set->n_ops++;

	if ((op->msg = calloc(1, op->msg_len)) == NULL) {
		bcmop_free(op);
		return -ENOMEM;
	}
	if ((fd = bcmsock_open(ifindex, ifname, detail, dsize)) < 0) {
		bcmop_free(op);
		return fd;
	}
	op->fd = fd;
	op->ev_read = event_new(s->ctx->base, op->fd, EV_READ | EV_PERSIST,
				bcmop_on_read, op);
	if (op->ev_read == NULL || ((kind == BCM_TASK || !set->paused) &&
				    event_add(op->ev_read, NULL) < 0)) {
		bcmop_free(op);
		return -ENOMEM;
	}
	*out = op;
	return 0;
}

int bcmop_remove(struct sess *s, uint32_t id, enum bcm_kind kind, char *detail,
		 size_t dsize)
{
	struct bcm_op *op = bcmop_find(s, id, kind, detail, dsize);

	if (op == NULL)
		return -EINVAL;
	bcmop_free(op);
	return 0;
}

void bcmop_free_kind(struct sess *s, enum bcm_kind kind)
{
	struct bcm_op *op, *next;

	if (s->bcm == NULL)
		return;
	for (op = TAILQ_FIRST(&s->bcm->ops); op != NULL; op = next) {
		next = TAILQ_NEXT(op, entry);
		if (op->kind == kind)
			bcmop_free(op);
	}
}

void bcmop_free_all(struct sess *s)
{
	struct bcm_op *op;

	if (s->bcm == NULL)
		return;
	while ((op = TAILQ_FIRST(&s->bcm->ops)) != NULL)
		bcmop_free(op);
	free(s->bcm);
	s->bcm = NULL;
}

/* Monitors wait while the output is full; the kernel keeps the rest. */
static void bcmop_pause(struct bcm_set *set)
{
	struct bcm_op *op;

	if (set->paused)
		return;
	set->paused = 1;
	TAILQ_FOREACH(op, &set->ops, entry)
		if (op->kind == BCM_MONITOR)
			event_del(op->ev_read);
}

void bcmop_resume(struct sess *s)
{
	struct bcm_op *op;

	if (s->bcm == NULL || !s->bcm->paused)
		return;
	s->bcm->paused = 0;
	TAILQ_FOREACH(op, &s->bcm->ops, entry)
		if (op->kind == BCM_MONITOR)
			event_add(op->ev_read, NULL);
}

static void bcmop_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct bcm_op *op = arg;
	struct sess *s = op->sess;
	struct bcmsock_note note;
	int i, rc;

	(void)what;
	for (i = 0; i < BCMOP_READ_MAX; i++) {
		if (op->kind == BCM_MONITOR && outq_full(&s->q)) {
			bcmop_pause(s->bcm);
			break;
		}
		rc = bcmsock_recv(fd, &note);
		if (rc < 0) {
			if (rc != -EAGAIN)
				log_warn("client %u: %s %u: recvmsg: %s", s->id,
					 op->kind == BCM_TASK ? "task"
							      : "monitor",
					 op->id, strerror(-rc));
			break;
		}
		if (rc == 0)
			continue;
		if (note.kind == BCMSOCK_EXPIRED && op->kind == BCM_TASK)
			task_on_note(op, &note);
		else if ((note.kind == BCMSOCK_CHANGED ||
			  note.kind == BCMSOCK_TIMEOUT) &&
			 op->kind == BCM_MONITOR)
			monitor_on_note(op, &note);
	}
	outq_flush(&s->q);
}
