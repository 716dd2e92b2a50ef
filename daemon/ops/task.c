/*
 * Periodic tasks (python-can's send_periodic) on bcmop.c's CAN_BCM
 * sockets. As in python-can, the kernel op's key is the task id, not the
 * CAN id (the frames carry their own ids), and a task on the "" channel is
 * bound to the interface its frames name rather than to ifindex 0, where
 * TX_SETUP fails. The kernel holds a TX op exactly while the task is
 * RUNNING: an expired one is deleted as soon as its TX_EXPIRED is read, so
 * starting a task always sets up afresh.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "ops/ops.h"

/* What identifies a task's frames: id, format and error bit, not RTR. */
#define TASK_ID_BITS (CAN_EFF_FLAG | CAN_ERR_FLAG | CAN_EFF_MASK)
#define TASK_DETAIL  160

static void task_on_expired(evutil_socket_t fd, short what, void *arg);

static void task_event(struct bcm_op *op, uint64_t ts)
{
	struct evt e = {.kind = EVT_TASK};

	e.u.task.id = op->id;
	e.u.task.timestamp_ns = ts;
	outq_event(&op->sess->q, &e);
}

void task_on_note(struct bcm_op *op, const struct bcmsock_note *n)
{
	char detail[TASK_DETAIL];

	/* Unless stopped meanwhile (then it was drained). */
	if (op->state != TASK_RUNNING)
		return;
	if (bcmsock_tx_delete(op->fd, op->id, op->ifname, detail,
			      sizeof(detail)) < 0)
		log_warn("client %u: task %u: %s", op->sess->id, op->id,
			 detail);
	op->state = TASK_EXPIRED;
	task_release(op);
	task_event(op, n->timestamp_ns);
}

/* The deferred expiry of a task with a count of 1. */
static void task_on_expired(evutil_socket_t fd, short what, void *arg)
{
	struct bcm_op *op = arg;

	(void)fd;
	(void)what;
	task_event(op, bcmsock_now_ns());
	outq_flush(&op->sess->q);
}

/* The task no longer sends: its share of the send budget is free. */
void task_release(struct bcm_op *op)
{
	if (!op->budgeted)
		return;
	budget_task_release(op->sess, op->ifname, op->period_us);
	op->budgeted = 0;
}

/*
 * A task counts against the send budget while it runs, at the rate of its
 * period; a single-shot one (count 1) sends one frame, a token like a
 * send's.
 */
static int task_budget(struct bcm_op *op, char *detail, size_t dsize)
{
	struct frame_desc f = {.ifname = op->ifname};
	int rc;

	if (op->count == 1) {
		if (budget_take(op->sess, &f, 0, 1, detail, dsize) == 1)
			return 0;
		op->sess->stats.tasks_refused++;
		return -EDQUOT;
	}
	rc = budget_task_reserve(op->sess, op->ifname, op->period_us, detail,
				 dsize);
	if (rc == 0)
		op->budgeted = 1;
	return rc;
}

static int task_run(struct bcm_op *op, char *detail, size_t dsize)
{
	static const struct timeval now = {0, 0};
	int rc;

	if ((rc = task_budget(op, detail, dsize)) < 0) {
		log_info("client %u (uid %lu): periodic task refused: %s",
			 op->sess->id, (unsigned long)op->sess->ident.uid,
			 detail);
		return rc;
	}
	bcmsock_tx_setup(op->msg, op->id, op->nframes, op->cfsiz, op->count,
			 op->period_us, 1);
	rc = bcmsock_write(op->fd, op->msg, op->msg_len, "TX_SETUP", op->ifname,
			   detail, dsize);
	if (rc < 0) {
		task_release(op);
		return rc;
	}
	op->state = TASK_RUNNING;
	if (op->count == 1) {
		/*
		 * The one frame went out with the setup and the kernel sends
		 * no TX_EXPIRED for it; say so ourselves, after the reply.
		 */
		bcmsock_tx_delete(op->fd, op->id, op->ifname, detail, dsize);
		op->state = TASK_EXPIRED;
		detail[0] = '\0';
		evtimer_add(op->ev_expired, &now);
	}
	return 0;
}

/* Every frame of a task must fit one interface on the channel. */
static int task_frame_iface(struct sess *s, const struct frame_desc *frames,
			    size_t i, char *detail, size_t dsize)
{
	const struct chan *c = s->chan;
	const char *name = frames[i].ifname;

	if (chan_ifindex(c) != 0) {
		if (name[0] != '\0' && strcmp(name, chan_name(c))) {
			detail_set(detail, dsize,
				   "frame %zu names \"%s\" but the channel is "
				   "\"%s\"",
				   i, name, chan_name(c));
			return -EINVAL;
		}
	} else if (name[0] == '\0') {
		detail_set(detail, dsize,
			   "the \"\" channel needs each frame to name its "
			   "interface");
		return -EINVAL;
	} else if (strcmp(name, frames[0].ifname) != 0) {
		detail_set(detail, dsize,
			   "frame %zu names \"%s\" but frame 0 \"%s\": a task "
			   "sends on one interface",
			   i, name, frames[0].ifname);
		return -EINVAL;
	}
	return 0;
}

/*
 * Checks a task's frames and turns them into kernel frames: 1 to 256, one
 * id, one format, one interface (the channel's, or on the "" channel the
 * one they all name), each one the policy lets this client send. Gives
 * that interface and the format.
 */
static int task_frames(struct sess *s, const struct frame_desc *frames,
		       size_t n, struct canfd_frame *cf, int *is_fd,
		       int *ifindex, char *ifname, char *detail, size_t dsize)
{
	const struct chan *c = s->chan;
	const char *name;
	char why[TASK_DETAIL];
	size_t i;
	int fd_i, rc;

	if (n < 1 || n > BCMSOCK_MAX_FRAMES) {
		detail_set(detail, dsize,
			   "a task sends 1 to %d frames, not %zu",
			   BCMSOCK_MAX_FRAMES, n);
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		rc = frame_from_desc(&frames[i], chan_fd_enabled(c), &cf[i],
				     &fd_i, why, sizeof(why));
		if (rc < 0) {
			detail_set(detail, dsize, "frame %zu: %s", i, why);
			return rc;
		}
		if (i == 0)
			*is_fd = fd_i;
		else if ((cf[i].can_id & TASK_ID_BITS) !=
			 (cf[0].can_id & TASK_ID_BITS)) {
			detail_set(detail, dsize,
				   "frame %zu has id 0x%x but frame 0 0x%x: a "
				   "task's frames share one id",
				   i, cf[i].can_id & CAN_EFF_MASK,
				   cf[0].can_id & CAN_EFF_MASK);
			return -EINVAL;
		} else if (fd_i != *is_fd) {
			detail_set(detail, dsize,
				   "frame %zu: a task's frames are all CAN FD "
				   "or all classic",
				   i);
			return -EINVAL;
		}
		if ((rc = task_frame_iface(s, frames, i, detail, dsize)) < 0)
			return rc;
	}
	name = chan_ifindex(c) != 0 ? chan_name(c) : frames[0].ifname;
	*ifindex = chan_ifindex(c);
	if (*ifindex == 0 && (strlen(name) >= IFNAMSIZ ||
			      (*ifindex = (int)if_nametoindex(name)) == 0)) {
		detail_set(detail, dsize, "no interface \"%s\"", name);
		return -ENODEV;
	}
	snprintf(ifname, IFNAMSIZ, "%s", name);
	/* The send_ids of the rules bound a task's frames as a send's. */
	rc = policy_check_frames(s->ctx->policy, &s->ident, chan_name(c),
				 frames, n, 0, RIGHT_PERIODIC, detail, dsize);
	if (rc < 0)
		log_info("client %u (%s): periodic task denied: %s", s->id,
			 s->who, detail);
	return rc;
}

int task_start(struct sess *s, const struct task_spec *t, uint32_t *id,
	       char *detail, size_t dsize)
{
	struct canfd_frame cf[BCMSOCK_MAX_FRAMES];
	char ifname[IFNAMSIZ];
	struct bcm_op *op;
	uint32_t count;
	size_t i;
	int rc, is_fd, ifindex;

	if ((rc = bcmsock_timing(t->period_us, t->duration_us, &count, detail,
				 dsize)) < 0 ||
	    (rc = task_frames(s, t->frames, t->n_frames, cf, &is_fd, &ifindex,
			      ifname, detail, dsize)) < 0)
		return rc;
	rc = bcmop_new(s, BCM_TASK, ifindex, ifname, t->n_frames,
		       is_fd ? CANFD_MTU : CAN_MTU, &op, detail, dsize);
	if (rc < 0)
		return rc;
	op->period_us = t->period_us;
	op->duration_us = t->duration_us;
	op->count = count;
	for (i = 0; i < op->nframes; i++)
		memcpy(bcmsock_frame_at(op->msg, i, op->cfsiz), &cf[i],
		       op->cfsiz);
	op->ev_expired = evtimer_new(s->ctx->base, task_on_expired, op);
	if (op->ev_expired == NULL)
		rc = -ENOMEM;
	if (rc < 0 ||
	    (is_fd && (rc = bcmsock_check_fd_mtu(op->fd, op->ifname, detail,
						 dsize)) < 0) ||
	    (!t->paused && (rc = task_run(op, detail, dsize)) < 0)) {
		bcmop_free(op);
		return rc;
	}
	*id = op->id;
	log_debug("client %u: task %u on %s: %zu frames every %llu us%s", s->id,
		  op->id, op->ifname, op->nframes,
		  (unsigned long long)op->period_us,
		  t->paused ? ", paused" : "");
	return 0;
}

/* What a modification may not change, with the words why not. */
static int task_same_shape(const struct bcm_op *op, size_t n,
			   const struct canfd_frame *cf, int is_fd, int ifindex,
			   char *detail, size_t dsize)
{
	const struct canfd_frame *old = bcmsock_frame_at(op->msg, 0, op->cfsiz);

	if (n != op->nframes) {
		detail_set(detail, dsize,
			   "task %u sends %zu frames; a modification gives "
			   "the same number, not %zu",
			   op->id, op->nframes, n);
		return -EINVAL;
	}
	if ((cf[0].can_id & TASK_ID_BITS) != (old->can_id & TASK_ID_BITS)) {
		detail_set(detail, dsize,
			   "task %u sends id 0x%x; a modification cannot "
			   "change it to 0x%x",
			   op->id, old->can_id & CAN_EFF_MASK,
			   cf[0].can_id & CAN_EFF_MASK);
		return -EINVAL;
	}
	if ((is_fd ? CANFD_MTU : CAN_MTU) != op->cfsiz ||
	    ifindex != op->ifindex) {
		detail_set(detail, dsize,
			   "task %u sends %s frames on \"%s\"; a "
			   "modification cannot change that",
			   op->id,
			   op->cfsiz == CANFD_MTU ? "CAN FD" : "classic",
			   op->ifname);
		return -EINVAL;
	}
	return 0;
}

int task_modify(struct sess *s, uint32_t id, const struct frame_desc *frames,
		size_t n, char *detail, size_t dsize)
{
	struct canfd_frame cf[BCMSOCK_MAX_FRAMES];
	char ifname[IFNAMSIZ];
	struct bcm_op *op;
	void *msg;
	size_t i;
	int rc, is_fd, ifindex;

	if ((op = bcmop_find(s, id, BCM_TASK, detail, dsize)) == NULL)
		return -EINVAL;
	/* Tasks outlive the channel only at shutdown. */
	if (s->chan == NULL) {
		detail_set(detail, dsize, "task_modify needs an open channel");
		return -ENOTCONN;
	}
	if ((rc = task_frames(s, frames, n, cf, &is_fd, &ifindex, ifname,
			      detail, dsize)) < 0 ||
	    (rc = task_same_shape(op, n, cf, is_fd, ifindex, detail, dsize)) <
		    0)
		return rc;

	/* A new message, so a refused update leaves the task as it was. */
	if ((msg = malloc(op->msg_len)) == NULL)
		return -ENOMEM;
	memcpy(msg, op->msg, op->msg_len);
	for (i = 0; i < op->nframes; i++)
		memcpy(bcmsock_frame_at(msg, i, op->cfsiz), &cf[i], op->cfsiz);
	if (op->state == TASK_RUNNING) {
		/* No timers set: the timing and the cycle go on. */
		bcmsock_tx_setup(msg, op->id, op->nframes, op->cfsiz, op->count,
				 op->period_us, 0);
		rc = bcmsock_write(op->fd, msg, op->msg_len, "TX_SETUP",
				   op->ifname, detail, dsize);
		if (rc < 0) {
			free(msg);
			return rc;
		}
	}
	free(op->msg);
	op->msg = msg;
	return 0;
}

int task_stop(struct sess *s, uint32_t id, char *detail, size_t dsize)
{
	struct bcm_op *op;
	int rc;

	if ((op = bcmop_find(s, id, BCM_TASK, detail, dsize)) == NULL)
		return -EINVAL;
	if (op->state != TASK_RUNNING)
		return 0;
	rc = bcmsock_tx_delete(op->fd, op->id, op->ifname, detail, dsize);
	if (rc < 0)
		return rc;
	op->state = TASK_STOPPED;
	task_release(op);
	return 0;
}

int task_resume(struct sess *s, uint32_t id, char *detail, size_t dsize)
{
	struct bcm_op *op;

	if ((op = bcmop_find(s, id, BCM_TASK, detail, dsize)) == NULL)
		return -EINVAL;
	if (op->state == TASK_RUNNING)
		return 0; /* keep its timing rather than restart the cycle */
	return task_run(op, detail, dsize);
}

int task_stop_all(struct sess *s, char *detail, size_t dsize)
{
	struct bcm_op *op;
	int rc, first = 0;

	if (s->bcm == NULL)
		return 0;
	TAILQ_FOREACH(op, &s->bcm->ops, entry) {
		if (op->kind != BCM_TASK || op->state != TASK_RUNNING)
			continue;
		/* Stop every task even if one refuses; report the first. */
		rc = bcmsock_tx_delete(op->fd, op->id, op->ifname,
				       first < 0 ? NULL : detail,
				       first < 0 ? 0 : dsize);
		if (rc < 0 && first == 0) {
			first = rc;
		} else if (rc == 0) {
			op->state = TASK_STOPPED;
			task_release(op);
		}
	}
	return first;
}

size_t task_list(struct sess *s, struct task_info *out, size_t max)
{
	struct bcm_op *op;
	size_t n = 0;

	if (s->bcm == NULL)
		return 0;
	TAILQ_FOREACH(op, &s->bcm->ops, entry) {
		if (op->kind != BCM_TASK)
			continue;
		if (n < max)
			out[n] = (struct task_info){
				.id = op->id,
				.state = op->state,
				.period_us = op->period_us,
				.duration_us = op->duration_us,
				.ifname = op->ifname,
				.n_frames = op->nframes,
				.is_fd = op->cfsiz == CANFD_MTU,
				.frames = op->msg,
			};
		n++;
	}
	return n;
}

const struct canfd_frame *task_frame(const struct task_info *t, size_t i)
{
	return bcmsock_frame_at((void *)t->frames, i,
				t->is_fd ? CANFD_MTU : CAN_MTU);
}
