/*
 * Periodic tasks and content monitors through the kernel's broadcast
 * manager (CAN_BCM). The kernel does the timing, so a task's frames leave on
 * time however busy the daemon is, and a monitor wakes us only when the
 * watched content changed or went silent.
 *
 * Every task and every monitor has its own BCM socket. The BCM keys its ops
 * by (can_id, ifindex) per socket, so a socket per client could not hold
 * two tasks with the same CAN id; with one socket each they never meet, the
 * kernel's notifications arrive already sorted by owner, and closing a
 * client's sockets is the kernel's own way to stop all of its work at once.
 * As in python-can, the op's key is our task id, not the CAN id (the frames
 * carry their own ids), and a task on the "" channel is bound to the
 * interface its frames name rather than to ifindex 0, where TX_SETUP fails.
 *
 * Every socket is read whenever it is readable, so no TX_EXPIRED or
 * RX_CHANGED ever piles up unread in the kernel. For tasks the kernel holds
 * a TX op exactly while the task is RUNNING: an expired one is deleted as
 * soon as its TX_EXPIRED is read, so starting a task always sets up afresh.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/can/bcm.h>

#include <event2/event.h>

#include "daemon.h"

/* MAX_NFRAMES in net/can/bcm.c; RX takes one more for the mux mask. */
#define BCM_MAX_FRAMES 256
/* BCM_TIMER_SEC_MAX in net/can/bcm.c: 400 days. */
#define BCM_MAX_US (400ull * 24 * 60 * 60 * 1000000)
/* Notifications read per wakeup before yielding to other clients. */
#define BCM_READ_MAX 64
/* What identifies a task's frames: id, format and error bit, not RTR. */
#define BCM_ID_BITS (CAN_EFF_FLAG | CAN_ERR_FLAG | CAN_EFF_MASK)
#define BCM_DETAIL  160

enum bcm_kind {
	BCM_TASK,
	BCM_MONITOR,
};

struct bcm_op {
	TAILQ_ENTRY(bcm_op) entry;
	struct client *client;
	uint32_t id;
	enum bcm_kind kind;
	int fd;
	int ifindex; /* 0: a monitor on every interface */
	char ifname[IFNAMSIZ];
	struct event *ev_read;
	struct event *ev_expired; /* tasks: a count of 1, see bcm_task_run */
	Cand__TaskState state;
	uint64_t period_us;
	uint64_t duration_us;
	uint32_t count; /* frames for the duration; 0: forever */
	/* The TX_SETUP/RX_SETUP message with its frames, kept ready. */
	struct bcm_msg_head *msg;
	size_t msg_len;
	size_t nframes;
	size_t cfsiz; /* CAN_MTU or CANFD_MTU: the kernel's frame size */
};

struct bcm_set {
	TAILQ_HEAD(, bcm_op) ops;
	unsigned n_ops;
	uint32_t last_id;
	int paused; /* monitors left unread: the client's output is full */
};

static void bcm_on_read(evutil_socket_t fd, short what, void *arg);
static void bcm_on_expired(evutil_socket_t fd, short what, void *arg);

int bcm_timing(uint64_t period_us, uint64_t duration_us, uint32_t *count,
	       char *detail, size_t dsize)
{
	uint64_t n;

	*count = 0;
	if (period_us == 0) {
		reply_detail(detail, dsize, "the period must be more than 0");
		return -EINVAL;
	}
	if (period_us > BCM_MAX_US) {
		reply_detail(
			detail, dsize,
			"a period of %llu us is over the kernel's limit of "
			"400 days",
			(unsigned long long)period_us);
		return -EINVAL;
	}
	if (duration_us == 0)
		return 0;
	n = duration_us / period_us;
	if (n == 0) {
		reply_detail(detail, dsize,
			     "a duration of %llu us is shorter than the period "
			     "of %llu us",
			     (unsigned long long)duration_us,
			     (unsigned long long)period_us);
		return -EINVAL;
	}
	if (n > UINT32_MAX) {
		reply_detail(detail, dsize,
			     "the duration is %llu periods; the kernel counts "
			     "to %u",
			     (unsigned long long)n, UINT32_MAX);
		return -EINVAL;
	}
	*count = (uint32_t)n;
	return 0;
}

static struct bcm_timeval bcm_tv(uint64_t us)
{
	struct bcm_timeval tv = {.tv_sec = (long)(us / 1000000),
				 .tv_usec = (long)(us % 1000000)};

	return tv;
}

static unsigned char *bcm_frame_at(const struct bcm_op *op, size_t i)
{
	return (unsigned char *)op->msg + sizeof(*op->msg) + i * op->cfsiz;
}

static const char *bcm_where(const struct bcm_op *op)
{
	return op->ifname[0] != '\0' ? op->ifname : "every interface";
}

static uint64_t bcm_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static struct bcm_op *bcm_find(struct client *c, uint32_t id,
			       enum bcm_kind kind, char *detail, size_t dsize)
{
	struct bcm_op *op;

	if (c->bcm != NULL)
		for (op = TAILQ_FIRST(&c->bcm->ops); op != NULL;
		     op = TAILQ_NEXT(op, entry))
			if (op->id == id && op->kind == kind)
				return op;
	/* Ids are per connection: another client's task is not found. */
	reply_detail(detail, dsize, "no %s %u on this connection",
		     kind == BCM_TASK ? "task" : "monitor", id);
	return NULL;
}

static int bcm_write(struct bcm_op *op, const void *msg, size_t len,
		     const char *what, char *detail, size_t dsize)
{
	int rc;

	if (write(op->fd, msg, len) >= 0)
		return 0;
	rc = -errno;
	/* The bound interface was unregistered under the socket. */
	if (rc == -ENOTCONN)
		rc = -ENODEV;
	reply_detail(detail, dsize, "%s on %s%s%s: %s", what,
		     op->ifname[0] ? "\"" : "", bcm_where(op),
		     op->ifname[0] ? "\"" : "", strerror(-rc));
	return rc;
}

static void bcm_op_free(struct bcm_op *op)
{
	struct bcm_set *s = op->client->bcm;

	TAILQ_REMOVE(&s->ops, op, entry);
	s->n_ops--;
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

static int bcm_socket(int ifindex, const char *ifname, char *detail,
		      size_t dsize)
{
	struct sockaddr_can addr = {.can_family = AF_CAN,
				    .can_ifindex = ifindex};
	int fd, rc, one = 1;

	fd = socket(PF_CAN, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, CAN_BCM);
	if (fd < 0) {
		rc = -errno;
		reply_detail(detail, dsize, "CAN_BCM socket: %s%s",
			     strerror(errno),
			     errno == EPROTONOSUPPORT
				     ? " (is the can-bcm module loaded?)"
				     : "");
		return rc;
	}
	/* RX_CHANGED then carries the frame's own receive time. */
	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) < 0 ||
	    connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		rc = -errno;
		reply_detail(detail, dsize, "CAN_BCM on %s: %s",
			     ifname[0] ? ifname : "every interface",
			     strerror(errno));
		close(fd);
		return rc;
	}
	return fd;
}

/* A new task or monitor with room for nframes, not yet known to the kernel. */
static int bcm_op_new(struct client *c, enum bcm_kind kind, int ifindex,
		      const char *ifname, size_t nframes, size_t cfsiz,
		      struct bcm_op **out, char *detail, size_t dsize)
{
	struct event_base *base = c->ctx->base;
	struct bcm_set *s = c->bcm;
	struct bcm_op *op;
	unsigned n = 0, max;

	if (s == NULL) {
		if ((s = calloc(1, sizeof(*s))) == NULL)
			return -ENOMEM;
		TAILQ_INIT(&s->ops);
		c->bcm = s;
	}
	max = kind == BCM_TASK ? c->ctx->limits.max_periodic
			       : c->ctx->limits.max_monitors;
	TAILQ_FOREACH(op, &s->ops, entry)
		if (op->kind == kind)
			n++;
	if (n >= max) {
		reply_detail(detail, dsize,
			     "%u %s is the limit per connection (cand.conf "
			     "[limits])",
			     max,
			     kind == BCM_TASK ? "periodic tasks" : "monitors");
		return -EMFILE;
	}
	if ((op = calloc(1, sizeof(*op))) == NULL)
		return -ENOMEM;
	op->client = c;
	op->kind = kind;
	op->fd = -1;
	op->ifindex = ifindex;
	snprintf(op->ifname, sizeof(op->ifname), "%s", ifname);
	op->state = CAND__TASK_STATE__TASK_STOPPED;
	op->nframes = nframes;
	op->cfsiz = cfsiz;
	op->msg_len = sizeof(*op->msg) + nframes * cfsiz;
	/* Ids only grow; 2^32 of them per connection will not wrap. */
	op->id = ++s->last_id;
	TAILQ_INSERT_TAIL(&s->ops, op, entry);
	s->n_ops++;

	if ((op->msg = calloc(1, op->msg_len)) == NULL) {
		bcm_op_free(op);
		return -ENOMEM;
	}
	if ((op->fd = bcm_socket(ifindex, ifname, detail, dsize)) < 0) {
		int rc = op->fd;

		op->fd = -1;
		bcm_op_free(op);
		return rc;
	}
	op->ev_read =
		event_new(base, op->fd, EV_READ | EV_PERSIST, bcm_on_read, op);
	if (kind == BCM_TASK)
		op->ev_expired = evtimer_new(base, bcm_on_expired, op);
	if (op->ev_read == NULL || (kind == BCM_TASK && !op->ev_expired) ||
	    ((kind == BCM_TASK || !s->paused) &&
	     event_add(op->ev_read, NULL) < 0)) {
		bcm_op_free(op);
		return -ENOMEM;
	}
	*out = op;
	return 0;
}

/* Discards what the socket holds: replies of a run that was just ended. */
static void bcm_drain(struct bcm_op *op)
{
	struct bcm_msg_head h;

	while (recv(op->fd, &h, sizeof(h), MSG_DONTWAIT) >= 0 ||
	       errno == EINTR || errno == ENETDOWN || errno == ENODEV)
		;
}

static int bcm_task_delete(struct bcm_op *op, char *detail, size_t dsize)
{
	struct bcm_msg_head h;
	int rc;

	memset(&h, 0, sizeof(h));
	h.opcode = TX_DELETE;
	h.can_id = op->id;
	rc = bcm_write(op, &h, sizeof(h), "TX_DELETE", detail, dsize);
	bcm_drain(op);
	return rc;
}

static int bcm_queue_event(struct client *c, Cand__Event *ev)
{
	Cand__ServerMsg msg = CAND__SERVER_MSG__INIT;

	msg.msg_case = CAND__SERVER_MSG__MSG_EVENT;
	msg.event = ev;
	return client_queue_msg(c, &msg);
}

static void bcm_task_expired(struct bcm_op *op, uint64_t ts)
{
	Cand__Event ev = CAND__EVENT__INIT;
	Cand__TaskEvent te = CAND__TASK_EVENT__INIT;
	char detail[BCM_DETAIL];

	if (bcm_task_delete(op, detail, sizeof(detail)) < 0)
		log_warn("client %u: task %u: %s", op->client->id, op->id,
			 detail);
	op->state = CAND__TASK_STATE__TASK_EXPIRED;
	te.task_id = op->id;
	te.timestamp_ns = ts;
	ev.ev_case = CAND__EVENT__EV_TASK;
	ev.task = &te;
	bcm_queue_event(op->client, &ev);
}

/* The deferred expiry of a task with a count of 1. */
static void bcm_on_expired(evutil_socket_t fd, short what, void *arg)
{
	struct bcm_op *op = arg;
	Cand__Event ev = CAND__EVENT__INIT;
	Cand__TaskEvent te = CAND__TASK_EVENT__INIT;

	(void)fd;
	(void)what;
	te.task_id = op->id;
	te.timestamp_ns = bcm_now_ns();
	ev.ev_case = CAND__EVENT__EV_TASK;
	ev.task = &te;
	bcm_queue_event(op->client, &ev);
	client_flush(op->client);
}

static int bcm_task_run(struct bcm_op *op, char *detail, size_t dsize)
{
	static const struct timeval now = {0, 0};
	struct bcm_msg_head *h = op->msg;
	int rc;

	h->opcode = TX_SETUP;
	/* STARTTIMER sends the first frame at once, as python-can's start. */
	h->flags = SETTIMER | STARTTIMER | (op->count ? TX_COUNTEVT : 0) |
		   (op->cfsiz == CANFD_MTU ? CAN_FD_FRAME : 0);
	h->count = op->count;
	/* With a count, ival1 paces it and nothing follows (ival2 0). */
	h->ival1 = bcm_tv(op->count ? op->period_us : 0);
	h->ival2 = bcm_tv(op->count ? 0 : op->period_us);
	h->can_id = op->id;
	h->nframes = (uint32_t)op->nframes;
	rc = bcm_write(op, h, op->msg_len, "TX_SETUP", detail, dsize);
	if (rc < 0)
		return rc;
	op->state = CAND__TASK_STATE__TASK_RUNNING;
	if (op->count == 1) {
		/*
		 * The one frame went out with the setup and the kernel sends
		 * no TX_EXPIRED for it; say so ourselves, after the reply.
		 */
		bcm_task_delete(op, detail, dsize);
		op->state = CAND__TASK_STATE__TASK_EXPIRED;
		detail[0] = '\0';
		evtimer_add(op->ev_expired, &now);
	}
	return 0;
}

/*
 * Checks a task's frames and turns them into kernel frames: 1 to 256, one
 * id, one format, one interface (the channel's, or on the "" channel the
 * one they all name). Gives that interface and the format.
 */
static int bcm_task_frames(struct client *c, Cand__Frame **frames, size_t n,
			   struct canfd_frame *cf, int *is_fd, int *ifindex,
			   char *ifname, char *detail, size_t dsize)
{
	const struct raw_chan *r = c->raw;
	const char *name;
	char why[BCM_DETAIL];
	size_t i;
	int fd_i, rc;

	if (n < 1 || n > BCM_MAX_FRAMES) {
		reply_detail(detail, dsize,
			     "a task sends 1 to %d frames, not %zu",
			     BCM_MAX_FRAMES, n);
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		rc = raw_frame_from_pb(frames[i], raw_fd_enabled(r), &cf[i],
				       &fd_i, why, sizeof(why));
		if (rc < 0) {
			reply_detail(detail, dsize, "frame %zu: %s", i, why);
			return rc;
		}
		if (i == 0)
			*is_fd = fd_i;
		else if ((cf[i].can_id & BCM_ID_BITS) !=
			 (cf[0].can_id & BCM_ID_BITS)) {
			reply_detail(detail, dsize,
				     "frame %zu has id 0x%x but frame 0 0x%x: "
				     "a task's frames share one id",
				     i, cf[i].can_id & CAN_EFF_MASK,
				     cf[0].can_id & CAN_EFF_MASK);
			return -EINVAL;
		} else if (fd_i != *is_fd) {
			reply_detail(detail, dsize,
				     "frame %zu: a task's frames are all CAN "
				     "FD or all classic",
				     i);
			return -EINVAL;
		}
		name = frames[i]->ifname;
		if (raw_ifindex(r) != 0) {
			if (name[0] != '\0' && strcmp(name, raw_channel(r))) {
				reply_detail(detail, dsize,
					     "frame %zu names \"%s\" but the "
					     "channel is \"%s\"",
					     i, name, raw_channel(r));
				return -EINVAL;
			}
		} else if (name[0] == '\0') {
			reply_detail(
				detail, dsize,
				"the \"\" channel needs each frame to name "
				"its interface");
			return -EINVAL;
		} else if (strcmp(name, frames[0]->ifname) != 0) {
			reply_detail(detail, dsize,
				     "frame %zu names \"%s\" but frame 0 "
				     "\"%s\": a task sends on one interface",
				     i, name, frames[0]->ifname);
			return -EINVAL;
		}
	}
	name = raw_ifindex(r) != 0 ? raw_channel(r) : frames[0]->ifname;
	*ifindex = raw_ifindex(r);
	if (*ifindex == 0 && (strlen(name) >= IFNAMSIZ ||
			      (*ifindex = (int)if_nametoindex(name)) == 0)) {
		reply_detail(detail, dsize, "no interface \"%s\"", name);
		return -ENODEV;
	}
	snprintf(ifname, IFNAMSIZ, "%s", name);
	return 0;
}

/* The kernel would drop each frame of an FD task on a classic interface. */
static int bcm_check_fd_mtu(const struct bcm_op *op, char *detail, size_t dsize)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", op->ifname);
	if (ioctl(op->fd, SIOCGIFMTU, &ifr) < 0 ||
	    ifr.ifr_mtu >= (int)CANFD_MTU)
		return 0;
	reply_detail(detail, dsize, "\"%s\" is not CAN FD capable (mtu %d)",
		     op->ifname, ifr.ifr_mtu);
	return -EOPNOTSUPP;
}

int bcm_task_start(struct client *c, const Cand__TaskStartRequest *req,
		   uint32_t *id, char *detail, size_t dsize)
{
	struct canfd_frame cf[BCM_MAX_FRAMES];
	char ifname[IFNAMSIZ];
	struct bcm_op *op;
	uint32_t count;
	size_t i;
	int rc, is_fd, ifindex;

	if ((rc = bcm_timing(req->period_us, req->duration_us, &count, detail,
			     dsize)) < 0 ||
	    (rc = bcm_task_frames(c, req->frames, req->n_frames, cf, &is_fd,
				  &ifindex, ifname, detail, dsize)) < 0)
		return rc;
	rc = bcm_op_new(c, BCM_TASK, ifindex, ifname, req->n_frames,
			is_fd ? CANFD_MTU : CAN_MTU, &op, detail, dsize);
	if (rc < 0)
		return rc;
	op->period_us = req->period_us;
	op->duration_us = req->duration_us;
	op->count = count;
	for (i = 0; i < op->nframes; i++)
		memcpy(bcm_frame_at(op, i), &cf[i], op->cfsiz);
	if ((is_fd && (rc = bcm_check_fd_mtu(op, detail, dsize)) < 0) ||
	    (!req->paused && (rc = bcm_task_run(op, detail, dsize)) < 0)) {
		bcm_op_free(op);
		return rc;
	}
	*id = op->id;
	log_debug("client %u: task %u on %s: %zu frames every %llu us%s", c->id,
		  op->id, op->ifname, op->nframes,
		  (unsigned long long)op->period_us,
		  req->paused ? ", paused" : "");
	return 0;
}

int bcm_task_modify(struct client *c, const Cand__TaskModifyRequest *req,
		    char *detail, size_t dsize)
{
	struct canfd_frame cf[BCM_MAX_FRAMES];
	const struct canfd_frame *old;
	struct bcm_msg_head *msg;
	char ifname[IFNAMSIZ];
	struct bcm_op *op;
	size_t i;
	int rc, is_fd, ifindex;

	if ((op = bcm_find(c, req->task_id, BCM_TASK, detail, dsize)) == NULL)
		return -EINVAL;
	rc = bcm_task_frames(c, req->frames, req->n_frames, cf, &is_fd,
			     &ifindex, ifname, detail, dsize);
	if (rc < 0)
		return rc;
	old = (const struct canfd_frame *)bcm_frame_at(op, 0);
	if (req->n_frames != op->nframes) {
		reply_detail(detail, dsize,
			     "task %u sends %zu frames; a modification gives "
			     "the same number, not %zu",
			     op->id, op->nframes, req->n_frames);
		return -EINVAL;
	}
	if ((cf[0].can_id & BCM_ID_BITS) != (old->can_id & BCM_ID_BITS)) {
		reply_detail(detail, dsize,
			     "task %u sends id 0x%x; a modification cannot "
			     "change it to 0x%x",
			     op->id, old->can_id & CAN_EFF_MASK,
			     cf[0].can_id & CAN_EFF_MASK);
		return -EINVAL;
	}
	if ((is_fd ? CANFD_MTU : CAN_MTU) != op->cfsiz ||
	    ifindex != op->ifindex) {
		reply_detail(detail, dsize,
			     "task %u sends %s frames on \"%s\"; a "
			     "modification cannot change that",
			     op->id,
			     op->cfsiz == CANFD_MTU ? "CAN FD" : "classic",
			     op->ifname);
		return -EINVAL;
	}

	/* A new message, so a refused update leaves the task as it was. */
	if ((msg = malloc(op->msg_len)) == NULL)
		return -ENOMEM;
	memcpy(msg, op->msg, sizeof(*msg));
	for (i = 0; i < op->nframes; i++)
		memcpy((unsigned char *)msg + sizeof(*msg) + i * op->cfsiz,
		       &cf[i], op->cfsiz);
	if (op->state == CAND__TASK_STATE__TASK_RUNNING) {
		/* No SETTIMER/STARTTIMER: the timing and the cycle go on. */
		msg->opcode = TX_SETUP;
		msg->flags = (op->count ? TX_COUNTEVT : 0) |
			     (op->cfsiz == CANFD_MTU ? CAN_FD_FRAME : 0);
		msg->can_id = op->id;
		msg->nframes = (uint32_t)op->nframes;
		rc = bcm_write(op, msg, op->msg_len, "TX_SETUP", detail, dsize);
		if (rc < 0) {
			free(msg);
			return rc;
		}
	}
	free(op->msg);
	op->msg = msg;
	return 0;
}

int bcm_task_stop(struct client *c, uint32_t id, char *detail, size_t dsize)
{
	struct bcm_op *op;
	int rc;

	if ((op = bcm_find(c, id, BCM_TASK, detail, dsize)) == NULL)
		return -EINVAL;
	if (op->state != CAND__TASK_STATE__TASK_RUNNING)
		return 0;
	rc = bcm_task_delete(op, detail, dsize);
	if (rc < 0)
		return rc;
	op->state = CAND__TASK_STATE__TASK_STOPPED;
	return 0;
}

int bcm_task_resume(struct client *c, uint32_t id, char *detail, size_t dsize)
{
	struct bcm_op *op;

	if ((op = bcm_find(c, id, BCM_TASK, detail, dsize)) == NULL)
		return -EINVAL;
	if (op->state == CAND__TASK_STATE__TASK_RUNNING)
		return 0; /* keep its timing rather than restart the cycle */
	return bcm_task_run(op, detail, dsize);
}

int bcm_task_stop_all(struct client *c, char *detail, size_t dsize)
{
	struct bcm_op *op;
	int rc, first = 0;

	if (c->bcm == NULL)
		return 0;
	for (op = TAILQ_FIRST(&c->bcm->ops); op != NULL;
	     op = TAILQ_NEXT(op, entry)) {
		if (op->kind != BCM_TASK ||
		    op->state != CAND__TASK_STATE__TASK_RUNNING)
			continue;
		/* Stop every task even if one refuses; report the first. */
		rc = bcm_task_delete(op, first < 0 ? NULL : detail,
				     first < 0 ? 0 : dsize);
		if (rc < 0 && first == 0)
			first = rc;
		else if (rc == 0)
			op->state = CAND__TASK_STATE__TASK_STOPPED;
	}
	return first;
}

int bcm_task_list(struct client *c, Cand__TaskListReply *rep)
{
	struct bcm_op *op;
	Cand__TaskInfo *info;
	size_t n = 0, i;

	rep->n_tasks = 0;
	rep->tasks = NULL;
	if (c->bcm == NULL)
		return 0;
	for (op = TAILQ_FIRST(&c->bcm->ops); op != NULL;
	     op = TAILQ_NEXT(op, entry))
		n += op->kind == BCM_TASK;
	if (n == 0)
		return 0;
	if ((rep->tasks = calloc(n, sizeof(*rep->tasks))) == NULL)
		return -ENOMEM;
	for (op = TAILQ_FIRST(&c->bcm->ops); op != NULL;
	     op = TAILQ_NEXT(op, entry)) {
		if (op->kind != BCM_TASK)
			continue;
		if ((info = calloc(1, sizeof(*info))) == NULL)
			goto nomem;
		cand__task_info__init(info);
		rep->tasks[rep->n_tasks++] = info;
		info->task_id = op->id;
		info->state = op->state;
		info->period_us = op->period_us;
		info->duration_us = op->duration_us;
		info->frames = calloc(op->nframes, sizeof(*info->frames));
		if (info->frames == NULL)
			goto nomem;
		for (i = 0; i < op->nframes; i++) {
			Cand__Frame *f = calloc(1, sizeof(*f));

			if (f == NULL)
				goto nomem;
			cand__frame__init(f);
			info->frames[info->n_frames++] = f;
			/* Points into op->msg, which outlives the reply. */
			raw_frame_fill_pb(
				(const struct canfd_frame *)bcm_frame_at(op, i),
				op->cfsiz == CANFD_MTU, f);
			f->ifname = op->ifname;
		}
	}
	return 0;
nomem:
	bcm_task_list_free(rep);
	return -ENOMEM;
}

void bcm_task_list_free(Cand__TaskListReply *rep)
{
	size_t i, j;

	for (i = 0; i < rep->n_tasks; i++) {
		for (j = 0; j < rep->tasks[i]->n_frames; j++)
			free(rep->tasks[i]->frames[j]);
		free(rep->tasks[i]->frames);
		free(rep->tasks[i]);
	}
	free(rep->tasks);
	rep->tasks = NULL;
	rep->n_tasks = 0;
}

/* The monitor's interface: the channel's, or one named on the "" channel. */
static int bcm_monitor_iface(struct client *c, const char *name, int *ifindex,
			     char *ifname, char *detail, size_t dsize)
{
	const struct raw_chan *r = c->raw;

	if (raw_ifindex(r) != 0) {
		if (name[0] != '\0' && strcmp(name, raw_channel(r)) != 0) {
			reply_detail(detail, dsize,
				     "the monitor names \"%s\" but the channel "
				     "is \"%s\"",
				     name, raw_channel(r));
			return -EINVAL;
		}
		*ifindex = raw_ifindex(r);
		name = raw_channel(r);
	} else if (name[0] == '\0') {
		*ifindex = 0;
	} else if (strlen(name) >= IFNAMSIZ ||
		   (*ifindex = (int)if_nametoindex(name)) == 0) {
		reply_detail(detail, dsize, "no interface \"%s\"", name);
		return -ENODEV;
	}
	snprintf(ifname, IFNAMSIZ, "%s", name);
	return 0;
}

static int bcm_monitor_check(struct client *c,
			     const Cand__MonitorStartRequest *req, char *detail,
			     size_t dsize)
{
	size_t i, max = req->fd ? CANFD_MAX_DLEN : CAN_MAX_DLEN;

	if (req->id > (req->extended ? CAN_EFF_MASK : CAN_SFF_MASK)) {
		reply_detail(detail, dsize, "id 0x%x does not fit %s", req->id,
			     req->extended ? "29 bits"
					   : "11 bits (not extended)");
		return -EINVAL;
	}
	if (req->fd && !raw_fd_enabled(c->raw)) {
		reply_detail(detail, dsize,
			     "a CAN FD monitor on a channel opened without fd");
		return -EOPNOTSUPP;
	}
	if (req->timeout_us > BCM_MAX_US || req->throttle_us > BCM_MAX_US) {
		reply_detail(detail, dsize,
			     "timeout and throttle are at most 400 days");
		return -EINVAL;
	}
	if (req->n_masks > BCM_MAX_FRAMES + 1) {
		reply_detail(detail, dsize,
			     "%zu masks; a multiplex monitor takes the "
			     "multiplexer and at most %d values",
			     req->n_masks, BCM_MAX_FRAMES);
		return -EINVAL;
	}
	for (i = 0; i < req->n_masks; i++) {
		if (req->masks[i].len > max) {
			reply_detail(detail, dsize,
				     "mask %zu has %zu bytes; a %s frame has "
				     "at most %zu",
				     i, req->masks[i].len,
				     req->fd ? "CAN FD" : "classic", max);
			return -EINVAL;
		}
	}
	if (req->every_frame && req->n_masks > 0) {
		reply_detail(detail, dsize,
			     "a monitor of every frame takes no masks");
		return -EINVAL;
	}
	if (req->rtr_reply != NULL &&
	    (req->n_masks > 0 || req->timeout_us || req->throttle_us ||
	     req->every_frame || req->check_dlc || req->announce_resume ||
	     req->fd)) {
		reply_detail(detail, dsize,
			     "an RTR reply takes no masks, timers, flags or "
			     "CAN FD");
		return -EINVAL;
	}
	return 0;
}

/* The frame an RTR reply monitor answers with, under its id. */
static int bcm_rtr_reply(const Cand__MonitorStartRequest *req,
			 struct canfd_frame *cf, char *detail, size_t dsize)
{
	char why[BCM_DETAIL];
	int is_fd, rc;

	rc = raw_frame_from_pb(req->rtr_reply, 0, cf, &is_fd, why, sizeof(why));
	if (rc < 0) {
		reply_detail(detail, dsize, "RTR reply: %s", why);
		return rc;
	}
	if (req->rtr_reply->remote || req->rtr_reply->error ||
	    req->rtr_reply->id != req->id ||
	    req->rtr_reply->extended != req->extended) {
		reply_detail(detail, dsize,
			     "the RTR reply is a data frame with the "
			     "monitored id 0x%x",
			     req->id);
		return -EINVAL;
	}
	return 0;
}

int bcm_monitor_start(struct client *c, const Cand__MonitorStartRequest *req,
		      uint32_t *id, char *detail, size_t dsize)
{
	struct canfd_frame rtr;
	struct canfd_frame *cf;
	struct bcm_msg_head *h;
	char ifname[IFNAMSIZ];
	struct bcm_op *op;
	size_t i, n, cfsiz = req->fd ? CANFD_MTU : CAN_MTU;
	canid_t can_id;
	int rc, ifindex;

	if ((rc = bcm_monitor_check(c, req, detail, dsize)) < 0 ||
	    (rc = bcm_monitor_iface(c, req->ifname, &ifindex, ifname, detail,
				    dsize)) < 0)
		return rc;
	/*
	 * The kernel locks an every-interface op with a timer onto the first
	 * interface it hears the id on and ignores the others, changes too.
	 */
	if (ifindex == 0 && (req->timeout_us || req->throttle_us)) {
		reply_detail(detail, dsize,
			     "a timeout or throttle needs one interface: name "
			     "it on the \"\" channel");
		return -EINVAL;
	}
	if (req->rtr_reply != NULL) {
		if (ifindex == 0) {
			reply_detail(detail, dsize,
				     "an RTR reply needs one interface: name "
				     "it on the \"\" channel");
			return -EINVAL;
		}
		if ((rc = bcm_rtr_reply(req, &rtr, detail, dsize)) < 0)
			return rc;
	}
	can_id = req->id | (req->extended ? CAN_EFF_FLAG : 0);
	/* No mask means the whole payload; every_frame means no compare. */
	n = req->every_frame ? 0 : req->n_masks ? req->n_masks : 1;
	rc = bcm_op_new(c, BCM_MONITOR, ifindex, ifname, n, cfsiz, &op, detail,
			dsize);
	if (rc < 0)
		return rc;

	h = op->msg;
	h->opcode = RX_SETUP;
	h->flags = (req->fd ? CAN_FD_FRAME : 0) |
		   (req->every_frame ? RX_FILTER_ID : 0) |
		   (req->check_dlc ? RX_CHECK_DLC : 0) |
		   (req->announce_resume ? RX_ANNOUNCE_RESUME : 0);
	if (req->timeout_us || req->throttle_us) {
		/* The timeout runs from now: never seen is silent too. */
		h->flags |= SETTIMER | STARTTIMER;
		h->ival1 = bcm_tv(req->timeout_us);
		h->ival2 = bcm_tv(req->throttle_us);
	}
	h->can_id = can_id;
	h->nframes = (uint32_t)n;
	for (i = 0; i < n; i++) {
		cf = (struct canfd_frame *)bcm_frame_at(op, i);
		cf->can_id = can_id;
		if (req->rtr_reply != NULL) {
			memcpy(cf, &rtr, cfsiz);
		} else if (req->n_masks > 0) {
			cf->len = (uint8_t)req->masks[i].len;
			memcpy(cf->data, req->masks[i].data, req->masks[i].len);
		} else {
			cf->len = (uint8_t)(cfsiz == CANFD_MTU ? CANFD_MAX_DLEN
							       : CAN_MAX_DLEN);
			memset(cf->data, 0xff, cf->len);
		}
	}
	if (req->rtr_reply != NULL) {
		/* The op answers remote frames only, with frames[0]. */
		h->flags |= RX_RTR_FRAME;
		h->can_id |= CAN_RTR_FLAG;
	}
	rc = bcm_write(op, h, op->msg_len, "RX_SETUP", detail, dsize);
	if (rc < 0) {
		bcm_op_free(op);
		return rc;
	}
	*id = op->id;
	log_debug("client %u: monitor %u on %s: id 0x%x, %zu masks", c->id,
		  op->id, bcm_where(op), req->id, req->n_masks);
	return 0;
}

int bcm_remove(struct client *c, uint32_t id, int monitor, char *detail,
	       size_t dsize)
{
	struct bcm_op *op;

	op = bcm_find(c, id, monitor ? BCM_MONITOR : BCM_TASK, detail, dsize);
	if (op == NULL)
		return -EINVAL;
	bcm_op_free(op);
	return 0;
}

void bcm_client_free(struct client *c)
{
	struct bcm_op *op;

	if (c->bcm == NULL)
		return;
	while ((op = TAILQ_FIRST(&c->bcm->ops)) != NULL)
		bcm_op_free(op);
	free(c->bcm);
	c->bcm = NULL;
}

/* Monitors wait while the client's output is full; the kernel keeps the rest.
 */
static void bcm_pause(struct bcm_set *s)
{
	struct bcm_op *op;

	if (s->paused)
		return;
	s->paused = 1;
	for (op = TAILQ_FIRST(&s->ops); op != NULL; op = TAILQ_NEXT(op, entry))
		if (op->kind == BCM_MONITOR)
			event_del(op->ev_read);
}

void bcm_resume(struct client *c)
{
	struct bcm_op *op;

	if (c->bcm == NULL || !c->bcm->paused)
		return;
	c->bcm->paused = 0;
	for (op = TAILQ_FIRST(&c->bcm->ops); op != NULL;
	     op = TAILQ_NEXT(op, entry))
		if (op->kind == BCM_MONITOR)
			event_add(op->ev_read, NULL);
}

static void bcm_monitor_event(struct bcm_op *op, const struct msghdr *mh,
			      const struct bcm_msg_head *h, size_t len,
			      uint64_t ts)
{
	const struct sockaddr_can *addr = mh->msg_name;
	Cand__Event ev = CAND__EVENT__INIT;
	Cand__MonitorEvent me = CAND__MONITOR_EVENT__INIT;
	Cand__Frame f = CAND__FRAME__INIT;
	struct canfd_frame cf;
	size_t cfsiz = (h->flags & CAN_FD_FRAME) ? CANFD_MTU : CAN_MTU;
	char name[IFNAMSIZ] = "";

	me.monitor_id = op->id;
	me.timestamp_ns = ts;
	me.ifname = op->ifname;
	/* On every interface, the kernel says which one it was (its address
	 * stops after can_ifindex). */
	if (op->ifindex == 0 &&
	    mh->msg_namelen >= offsetof(struct sockaddr_can, can_ifindex) +
				       sizeof(addr->can_ifindex) &&
	    addr->can_ifindex != 0 &&
	    if_indextoname((unsigned)addr->can_ifindex, name) != NULL)
		me.ifname = name;
	if (h->opcode == RX_CHANGED) {
		if (h->nframes < 1 || len < sizeof(*h) + cfsiz)
			return;
		memset(&cf, 0, sizeof(cf));
		memcpy(&cf, (const unsigned char *)h + sizeof(*h), cfsiz);
		if (cfsiz == CAN_MTU && cf.len > CAN_MAX_DLEN)
			cf.len = CAN_MAX_DLEN;
		raw_frame_fill_pb(&cf, cfsiz == CANFD_MTU, &f);
		f.ifname = me.ifname;
		f.timestamp_ns = ts;
		me.kind = CAND__MONITOR_EVENT_KIND__MONITOR_CHANGED;
		me.frame = &f;
	} else {
		me.kind = CAND__MONITOR_EVENT_KIND__MONITOR_TIMEOUT;
	}
	ev.ev_case = CAND__EVENT__EV_MONITOR;
	ev.monitor = &me;
	bcm_queue_event(op->client, &ev);
}

static uint64_t bcm_timestamp(struct msghdr *mh)
{
	struct cmsghdr *cm;
	struct timespec ts;

	for (cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level == SOL_SOCKET &&
		    cm->cmsg_type == SO_TIMESTAMPNS) {
			memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
			return (uint64_t)ts.tv_sec * 1000000000u +
			       (uint64_t)ts.tv_nsec;
		}
	}
	return bcm_now_ns();
}

static void bcm_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct bcm_op *op = arg;
	struct client *c = op->client;
	union {
		struct bcm_msg_head h;
		unsigned char buf[sizeof(struct bcm_msg_head) + CANFD_MTU];
	} m;
	union {
		char buf[CMSG_SPACE(sizeof(struct timespec))];
		struct cmsghdr align;
	} cmsg;
	struct sockaddr_can addr;
	struct iovec iov = {.iov_base = m.buf, .iov_len = sizeof(m.buf)};
	struct msghdr mh;
	ssize_t n;
	int i;

	(void)what;
	for (i = 0; i < BCM_READ_MAX; i++) {
		if (op->kind == BCM_MONITOR && client_out_full(c)) {
			bcm_pause(c->bcm);
			break;
		}
		memset(&mh, 0, sizeof(mh));
		mh.msg_name = &addr;
		mh.msg_namelen = sizeof(addr);
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = cmsg.buf;
		mh.msg_controllen = sizeof(cmsg.buf);
		n = recvmsg(fd, &mh, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR || errno == ENETDOWN ||
			    errno == ENODEV)
				continue; /* the raw channel reports links */
			if (errno != EAGAIN)
				log_warn("client %u: %s %u: recvmsg: %s", c->id,
					 op->kind == BCM_TASK ? "task"
							      : "monitor",
					 op->id, strerror(errno));
			break;
		}
		if ((size_t)n < sizeof(m.h))
			continue;
		switch (m.h.opcode) {
		case TX_EXPIRED:
			/* Unless stopped meanwhile (then it was drained). */
			if (op->kind == BCM_TASK &&
			    op->state == CAND__TASK_STATE__TASK_RUNNING)
				bcm_task_expired(op, bcm_timestamp(&mh));
			break;
		case RX_CHANGED:
		case RX_TIMEOUT:
			if (op->kind == BCM_MONITOR)
				bcm_monitor_event(op, &mh, &m.h, (size_t)n,
						  bcm_timestamp(&mh));
			break;
		default:
			break; /* TX_STATUS/RX_STATUS: never asked for */
		}
	}
	client_flush(c);
}
