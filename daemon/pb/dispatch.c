/*
 * Requests: unpack, look the operation up in the handler table, ask the
 * policy, run the handler, and answer with exactly one Reply carrying the
 * request's id. To add an operation: a field in Request's oneof, a line in
 * dispatch_ops[], a handler below, a test.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "daemon.h"

#define DETAIL_MAX 256
/* First retry delay for a full TX queue, doubled up to the maximum. */
#define SEND_BACKOFF_MIN_MS 1
#define SEND_BACKOFF_MAX_MS 16

/* What a handler fills in; dispatch owns and sends it. */
struct dispatch_reply {
	Cand__Reply rep;
	char detail[DETAIL_MAX];
	Cand__ListReply list;
	Cand__SendReply send;
	Cand__CreatedReply created;
	Cand__TaskListReply tasks;
	/* Bus health. */
	Cand__StateReply state;
	Cand__ConfigureReply configure;
	Cand__BusConfig config;
	Cand__FlushTxReply flush;
	char note[DETAIL_MAX];
};

struct pending_req {
	struct client *client;
	Cand__Request *req;
	size_t next; /* first frame not yet sent */
	uint64_t deadline_ms;
	unsigned backoff_ms;
	struct event *ev_retry;
	struct dispatch_reply r;
};

typedef int (*dispatch_fn)(struct client *, Cand__Request *,
			   struct dispatch_reply *);

static int dispatch_open(struct client *, Cand__Request *,
			 struct dispatch_reply *);
static int dispatch_send(struct client *, Cand__Request *,
			 struct dispatch_reply *);
static int dispatch_set_filters(struct client *, Cand__Request *,
				struct dispatch_reply *);
static int dispatch_list(struct client *, Cand__Request *,
			 struct dispatch_reply *);
static int dispatch_task_start(struct client *, Cand__Request *,
			       struct dispatch_reply *);
static int dispatch_task_modify(struct client *, Cand__Request *,
				struct dispatch_reply *);
static int dispatch_task_stop(struct client *, Cand__Request *,
			      struct dispatch_reply *);
static int dispatch_task_resume(struct client *, Cand__Request *,
				struct dispatch_reply *);
static int dispatch_task_remove(struct client *, Cand__Request *,
				struct dispatch_reply *);
static int dispatch_task_stop_all(struct client *, Cand__Request *,
				  struct dispatch_reply *);
static int dispatch_task_list(struct client *, Cand__Request *,
			      struct dispatch_reply *);
static int dispatch_monitor_start(struct client *, Cand__Request *,
				  struct dispatch_reply *);
static int dispatch_monitor_stop(struct client *, Cand__Request *,
				 struct dispatch_reply *);
static int dispatch_state(struct client *, Cand__Request *,
			  struct dispatch_reply *);
static int dispatch_configure(struct client *, Cand__Request *,
			      struct dispatch_reply *);
static int dispatch_restart(struct client *, Cand__Request *,
			    struct dispatch_reply *);
static int dispatch_flush_tx(struct client *, Cand__Request *,
			     struct dispatch_reply *);
static int dispatch_subscribe(struct client *, Cand__Request *,
			      struct dispatch_reply *);

static const struct dispatch_op {
	Cand__Request__OpCase op;
	const char *name;
	enum policy_right right;
	int needs_open;
	dispatch_fn fn;
} dispatch_ops[] = {
	{CAND__REQUEST__OP_OPEN, "open", RIGHT_OPEN, 0, dispatch_open},
	{CAND__REQUEST__OP_SEND, "send", RIGHT_SEND, 1, dispatch_send},
	{CAND__REQUEST__OP_SET_FILTERS, "set_filters", RIGHT_READ, 1,
	 dispatch_set_filters},
	{CAND__REQUEST__OP_LIST, "list", RIGHT_NONE, 0, dispatch_list},
	/* Tasks and monitors exist only on an open channel; ids name them. */
	{CAND__REQUEST__OP_TASK_START, "task_start", RIGHT_PERIODIC, 1,
	 dispatch_task_start},
	{CAND__REQUEST__OP_TASK_MODIFY, "task_modify", RIGHT_PERIODIC, 0,
	 dispatch_task_modify},
	{CAND__REQUEST__OP_TASK_STOP, "task_stop", RIGHT_PERIODIC, 0,
	 dispatch_task_stop},
	{CAND__REQUEST__OP_TASK_RESUME, "task_resume", RIGHT_PERIODIC, 0,
	 dispatch_task_resume},
	{CAND__REQUEST__OP_TASK_REMOVE, "task_remove", RIGHT_PERIODIC, 0,
	 dispatch_task_remove},
	{CAND__REQUEST__OP_TASK_STOP_ALL, "task_stop_all", RIGHT_PERIODIC, 0,
	 dispatch_task_stop_all},
	{CAND__REQUEST__OP_TASK_LIST, "task_list", RIGHT_PERIODIC, 0,
	 dispatch_task_list},
	{CAND__REQUEST__OP_MONITOR_START, "monitor_start", RIGHT_MONITOR, 1,
	 dispatch_monitor_start},
	{CAND__REQUEST__OP_MONITOR_STOP, "monitor_stop", RIGHT_MONITOR, 0,
	 dispatch_monitor_stop},
	{CAND__REQUEST__OP_STATE, "state", RIGHT_READ, 0, dispatch_state},
	{CAND__REQUEST__OP_CONFIGURE, "configure", RIGHT_CONFIGURE, 0,
	 dispatch_configure},
	{CAND__REQUEST__OP_RESTART, "restart", RIGHT_CONFIGURE, 0,
	 dispatch_restart},
	{CAND__REQUEST__OP_FLUSH_TX, "flush_tx", RIGHT_SEND, 1,
	 dispatch_flush_tx},
	{CAND__REQUEST__OP_SUBSCRIBE, "subscribe", RIGHT_READ, 0,
	 dispatch_subscribe},
};

Cand__Status dispatch_status_from_errno(int err)
{
	switch (err < 0 ? -err : err) {
	case 0:
		return CAND__STATUS__OK;
	case EINVAL:
	case ERANGE:
	case EMSGSIZE:
	case E2BIG:
		return CAND__STATUS__INVALID_ARGUMENT;
	case EBADMSG:
	case EPROTO:
		return CAND__STATUS__BAD_MESSAGE;
	case ENODEV:
	case ENXIO:
		return CAND__STATUS__NO_SUCH_DEVICE;
	case ENETDOWN:
		return CAND__STATUS__NETWORK_DOWN;
	case ENOBUFS:
	case EAGAIN:
		return CAND__STATUS__TX_BUFFER_FULL;
	case ENOTCONN:
		return CAND__STATUS__NOT_OPEN;
	case EISCONN:
	case EALREADY:
		return CAND__STATUS__ALREADY_OPEN;
	case EPERM:
	case EACCES:
		return CAND__STATUS__PERMISSION_DENIED;
	case EOPNOTSUPP:
	case EAFNOSUPPORT:
	case EPROTONOSUPPORT:
		return CAND__STATUS__UNSUPPORTED;
	case EMFILE:
	case ENFILE:
	case EUSERS:
	case EDQUOT:
	case EFBIG:
		return CAND__STATUS__LIMIT_EXCEEDED;
	case ESHUTDOWN:
		return CAND__STATUS__SHUTTING_DOWN;
	case EBUSY:
		return CAND__STATUS__WRONG_STATE;
	case ENOMEM:
		return CAND__STATUS__INTERNAL;
	default:
		return CAND__STATUS__IO_ERROR;
	}
}

void reply_detail(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

static uint64_t dispatch_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void dispatch_reply_init(struct dispatch_reply *r, uint32_t id)
{
	cand__reply__init(&r->rep);
	r->rep.id = id;
	r->detail[0] = '\0';
}

/* Turns a handler's result into the reply's status and sends it. */
static void dispatch_finish(struct client *c, struct dispatch_reply *r, int rc)
{
	Cand__ServerMsg msg = CAND__SERVER_MSG__INIT;

	r->rep.status = dispatch_status_from_errno(rc);
	if (rc < 0 && r->detail[0] == '\0')
		snprintf(r->detail, sizeof(r->detail), "%s", strerror(-rc));
	r->rep.detail = r->detail;
	msg.msg_case = CAND__SERVER_MSG__MSG_REPLY;
	msg.reply = &r->rep;
	if (client_queue_msg(c, &msg) < 0)
		client_kill(c, "cannot queue a reply");
}

/* The interface an operation acts on, for the policy. */
static const char *dispatch_iface(const struct client *c,
				  const Cand__Request *req)
{
	if (req->op_case == CAND__REQUEST__OP_OPEN)
		return req->open->channel;
	return c->raw != NULL ? raw_channel(c->raw) : NULL;
}

void dispatch_reject(struct client *c, int rc, const char *detail)
{
	struct dispatch_reply r;

	dispatch_reply_init(&r, 0);
	reply_detail(r.detail, sizeof(r.detail), "%s", detail);
	dispatch_finish(c, &r, rc);
}

void dispatch_request(struct client *c, const uint8_t *buf, size_t len)
{
	struct dispatch_reply r;
	const struct dispatch_op *op = NULL;
	Cand__Request *req;
	size_t i;
	int rc;

	req = cand__request__unpack(NULL, len, buf);
	if (req == NULL) {
		/* The length prefix held, so the stream is still in sync. */
		log_warn("client %u: undecodable request of %zu bytes", c->id,
			 len);
		dispatch_reject(c, -EBADMSG,
				"request does not decode as protobuf");
		return;
	}
	dispatch_reply_init(&r, req->id);

	for (i = 0; i < sizeof(dispatch_ops) / sizeof(dispatch_ops[0]); i++)
		if (dispatch_ops[i].op == req->op_case)
			op = &dispatch_ops[i];
	if (op == NULL) {
		reply_detail(r.detail, sizeof(r.detail),
			     "request has no operation this daemon knows");
		rc = -EBADMSG;
	} else if (op->needs_open && c->raw == NULL) {
		reply_detail(r.detail, sizeof(r.detail),
			     "%s needs an open channel", op->name);
		rc = -ENOTCONN;
	} else if ((rc = policy_check(c, dispatch_iface(c, req), op->right,
				      r.detail, sizeof(r.detail))) < 0) {
		log_info("client %u (uid %lu): %s denied: %s", c->id,
			 (unsigned long)c->uid, op->name, r.detail);
	} else {
		rc = op->fn(c, req, &r);
		if (rc == -EINPROGRESS)
			return; /* the handler kept req and answers later */
	}
	dispatch_finish(c, &r, rc);
	if (r.rep.result_case == CAND__REPLY__RESULT_LIST)
		link_list_free(&r.list);
	else if (r.rep.result_case == CAND__REPLY__RESULT_TASKS)
		bcm_task_list_free(&r.tasks);
	else if (r.rep.result_case == CAND__REPLY__RESULT_STATE)
		busstate_reply_free(&r.state);
	cand__request__free_unpacked(req, NULL);
}

int dispatch_may_overtake(const uint8_t *buf, size_t len)
{
	Cand__Request *req;
	int yes;

	/* A flush_tx is a dozen bytes; a big send is not unpacked twice. */
	if (len > 64)
		return 0;
	req = cand__request__unpack(NULL, len, buf);
	if (req == NULL)
		return 0;
	yes = req->op_case == CAND__REQUEST__OP_FLUSH_TX;
	cand__request__free_unpacked(req, NULL);
	return yes;
}

static int dispatch_open(struct client *c, Cand__Request *req,
			 struct dispatch_reply *r)
{
	int rc;

	if (c->raw != NULL) {
		reply_detail(r->detail, sizeof(r->detail),
			     "already open on \"%s\"", raw_channel(c->raw));
		return -EISCONN;
	}
	/* Link changes from before the open are not news to the client. */
	netlink_drain(c->ctx);
	rc = raw_open(c, req->open, r->detail, sizeof(r->detail));
	if (rc < 0)
		return rc;
	/* Without the read right the channel only sends. */
	c->rights = policy_rights(c, req->open->channel);
	if (!(c->rights & POLICY_RIGHT_BIT(RIGHT_READ)))
		raw_set_rx(c->raw, 0);
	return 0;
}

static int dispatch_set_filters(struct client *c, Cand__Request *req,
				struct dispatch_reply *r)
{
	return raw_set_filters(c->raw, req->set_filters->filters,
			       req->set_filters->n_filters, r->detail,
			       sizeof(r->detail));
}

static int dispatch_list(struct client *c, Cand__Request *req,
			 struct dispatch_reply *r)
{
	int rc;

	(void)c;
	(void)req;
	cand__list_reply__init(&r->list);
	rc = link_list(&r->list);
	if (rc < 0) {
		reply_detail(r->detail, sizeof(r->detail),
			     "cannot list interfaces: %s", strerror(-rc));
		return rc;
	}
	r->rep.result_case = CAND__REPLY__RESULT_LIST;
	r->rep.list = &r->list;
	return 0;
}

static void dispatch_created(struct dispatch_reply *r, uint32_t id)
{
	cand__created_reply__init(&r->created);
	r->created.id = id;
	r->rep.result_case = CAND__REPLY__RESULT_CREATED;
	r->rep.created = &r->created;
}

static int dispatch_task_start(struct client *c, Cand__Request *req,
			       struct dispatch_reply *r)
{
	uint32_t id;
	int rc;

	rc = bcm_task_start(c, req->task_start, &id, r->detail,
			    sizeof(r->detail));
	if (rc == 0)
		dispatch_created(r, id);
	return rc;
}

static int dispatch_task_modify(struct client *c, Cand__Request *req,
				struct dispatch_reply *r)
{
	return bcm_task_modify(c, req->task_modify, r->detail,
			       sizeof(r->detail));
}

static int dispatch_task_stop(struct client *c, Cand__Request *req,
			      struct dispatch_reply *r)
{
	return bcm_task_stop(c, req->task_stop->id, r->detail,
			     sizeof(r->detail));
}

static int dispatch_task_resume(struct client *c, Cand__Request *req,
				struct dispatch_reply *r)
{
	return bcm_task_resume(c, req->task_resume->id, r->detail,
			       sizeof(r->detail));
}

static int dispatch_task_remove(struct client *c, Cand__Request *req,
				struct dispatch_reply *r)
{
	return bcm_remove(c, req->task_remove->id, 0, r->detail,
			  sizeof(r->detail));
}

static int dispatch_task_stop_all(struct client *c, Cand__Request *req,
				  struct dispatch_reply *r)
{
	(void)req;
	return bcm_task_stop_all(c, r->detail, sizeof(r->detail));
}

static int dispatch_task_list(struct client *c, Cand__Request *req,
			      struct dispatch_reply *r)
{
	int rc;

	(void)req;
	cand__task_list_reply__init(&r->tasks);
	rc = bcm_task_list(c, &r->tasks);
	if (rc < 0)
		return rc;
	r->rep.result_case = CAND__REPLY__RESULT_TASKS;
	r->rep.tasks = &r->tasks;
	return 0;
}

static int dispatch_monitor_start(struct client *c, Cand__Request *req,
				  struct dispatch_reply *r)
{
	uint32_t id;
	int rc;

	rc = bcm_monitor_start(c, req->monitor_start, &id, r->detail,
			       sizeof(r->detail));
	if (rc == 0)
		dispatch_created(r, id);
	return rc;
}

static int dispatch_monitor_stop(struct client *c, Cand__Request *req,
				 struct dispatch_reply *r)
{
	return bcm_remove(c, req->monitor_stop->id, 1, r->detail,
			  sizeof(r->detail));
}

static void dispatch_send_result(struct dispatch_reply *r, size_t sent)
{
	cand__send_reply__init(&r->send);
	r->send.sent = (uint32_t)sent;
	r->rep.result_case = CAND__REPLY__RESULT_SEND;
	r->rep.send = &r->send;
}

static void dispatch_send_retry(evutil_socket_t fd, short what, void *arg);

static void dispatch_send_arm(struct pending_req *p)
{
	struct timeval tv = {0, (long)p->backoff_ms * 1000};

	if (p->backoff_ms < SEND_BACKOFF_MAX_MS)
		p->backoff_ms *= 2;
	evtimer_add(p->ev_retry, &tv);
}

static int dispatch_send(struct client *c, Cand__Request *req,
			 struct dispatch_reply *r)
{
	struct pending_req *p;
	size_t next = 0;
	int rc;

	/* Every frame is checked before the first goes out. */
	rc = policy_check_frames(c, raw_channel(c->raw), req->send, 0,
				 r->detail, sizeof(r->detail));
	if (rc < 0) {
		log_info("client %u (uid %lu): send denied: %s", c->id,
			 (unsigned long)c->uid, r->detail);
		dispatch_send_result(r, 0);
		return rc;
	}
	rc = raw_send(c->raw, req->send, &next, r->detail, sizeof(r->detail));
	dispatch_send_result(r, next);
	if (rc != -ENOBUFS)
		return rc;
	if (req->send->timeout_ms == 0) {
		reply_detail(r->detail, sizeof(r->detail),
			     "TX buffer full after %zu of %zu frames", next,
			     req->send->n_frames);
		return rc;
	}

	/*
	 * The queue is full: keep the request and retry on a timer until the
	 * deadline. A full qdisc gives no poll() wakeup, so a timer it is.
	 */
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return -ENOMEM;
	p->client = c;
	p->req = req;
	p->next = next;
	p->deadline_ms = dispatch_now_ms() + req->send->timeout_ms;
	p->backoff_ms = SEND_BACKOFF_MIN_MS;
	p->ev_retry = evtimer_new(c->ctx->base, dispatch_send_retry, p);
	if (p->ev_retry == NULL) {
		free(p);
		return -ENOMEM;
	}
	dispatch_reply_init(&p->r, req->id);
	c->pending = p;
	dispatch_send_arm(p);
	return -EINPROGRESS;
}

static void dispatch_pending_free(struct pending_req *p)
{
	event_free(p->ev_retry);
	cand__request__free_unpacked(p->req, NULL);
	free(p);
}

static void dispatch_send_retry(evutil_socket_t fd, short what, void *arg)
{
	struct pending_req *p = arg;
	struct client *c = p->client;
	Cand__SendRequest *send = p->req->send;
	int rc;

	(void)fd;
	(void)what;
	/* A reload may have taken the right away meanwhile. */
	rc = policy_check_frames(c, raw_channel(c->raw), send, p->next,
				 p->r.detail, sizeof(p->r.detail));
	if (rc == 0)
		rc = raw_send(c->raw, send, &p->next, p->r.detail,
			      sizeof(p->r.detail));
	if (rc == -ENOBUFS && dispatch_now_ms() < p->deadline_ms) {
		dispatch_send_arm(p);
		return;
	}
	if (rc == -ENOBUFS)
		reply_detail(p->r.detail, sizeof(p->r.detail),
			     "TX buffer full for %u ms; %zu of %zu frames sent",
			     send->timeout_ms, p->next, send->n_frames);
	dispatch_send_result(&p->r, p->next);
	dispatch_finish(c, &p->r, rc);
	c->pending = NULL;
	dispatch_pending_free(p);
	client_resume_requests(c);
}

void dispatch_abort(struct client *c, int rc, const char *why)
{
	struct pending_req *p = c->pending;

	if (p == NULL)
		return;
	reply_detail(p->r.detail, sizeof(p->r.detail),
		     "%s; %zu of %zu frames sent", why, p->next,
		     p->req->send->n_frames);
	dispatch_send_result(&p->r, p->next);
	dispatch_finish(c, &p->r, rc);
	c->pending = NULL;
	dispatch_pending_free(p);
}

void dispatch_cancel(struct client *c)
{
	if (c->pending == NULL)
		return;
	dispatch_pending_free(c->pending);
	c->pending = NULL;
}

/* ---- Bus health ---- */

/* The interface a request names: tracked and CAN, or a clear no. */
static struct canif *dispatch_canif(struct client *c, const char *ifname,
				    struct dispatch_reply *r)
{
	struct canif *ci;

	if (ifname[0] == '\0') {
		reply_detail(r->detail, sizeof(r->detail),
			     "no interface named");
		return NULL;
	}
	ci = busstate_find(c->ctx, ifname);
	if (ci == NULL)
		reply_detail(r->detail, sizeof(r->detail),
			     "no CAN interface \"%s\"", ifname);
	return ci;
}

static int dispatch_state(struct client *c, Cand__Request *req,
			  struct dispatch_reply *r)
{
	int rc;

	cand__state_reply__init(&r->state);
	rc = busstate_query(c->ctx, req->state->ifname, &r->state, r->detail,
			    sizeof(r->detail));
	if (rc < 0)
		return rc;
	r->rep.result_case = CAND__REPLY__RESULT_STATE;
	r->rep.state = &r->state;
	return 0;
}

static int dispatch_configure(struct client *c, Cand__Request *req,
			      struct dispatch_reply *r)
{
	const Cand__ConfigureRequest *cr = req->configure;
	struct canlink_change chg = {
		.bitrate = cr->bitrate,
		.sample_point = cr->sample_point,
		.data_bitrate = cr->data_bitrate,
		.data_sample_point = cr->data_sample_point,
		.set_restart_ms = cr->set_restart_ms,
		.restart_ms = cr->restart_ms,
		.ctrlmode_mask = cr->ctrlmode_mask,
		.ctrlmode_flags = cr->ctrlmode_flags,
		.link = cr->link,
	};
	struct canif *ci = dispatch_canif(c, cr->ifname, r);
	struct canlink_info info;
	int rc, cycled = 0;

	if (ci == NULL)
		return -ENODEV;
	log_info("client %u (uid %lu): configure %s", c->id,
		 (unsigned long)c->uid, ci->link.name);
	rc = canlink_configure(&ci->link, &chg, &cycled, r->detail,
			       sizeof(r->detail));
	/* Its events before its reply; the interface may be gone by now. */
	netlink_drain(c->ctx);
	if ((ci = busstate_find(c->ctx, cr->ifname)) != NULL)
		busstate_sync(ci);
	if (rc < 0)
		return rc;
	if (ci == NULL) {
		reply_detail(r->detail, sizeof(r->detail),
			     "\"%s\" disappeared meanwhile", cr->ifname);
		return -ENODEV;
	}
	cand__configure_reply__init(&r->configure);
	r->configure.cycled = cycled;
	/* What is in effect now, not what was asked for. */
	if (canlink_read(ci->link.name, ci->link.controller, &info) == 0 &&
	    info.controller) {
		busstate_config_pb(&r->config, &info.cfg);
		r->configure.config = &r->config;
	}
	r->configure.up = chg.link == CAND__LINK_CHANGE__LINK_UP ||
			  (chg.link == CAND__LINK_CHANGE__LINK_UNCHANGED &&
			   (ci->link.flags & IFF_UP));
	r->rep.result_case = CAND__REPLY__RESULT_CONFIGURE;
	r->rep.configure = &r->configure;
	return 0;
}

static int dispatch_restart(struct client *c, Cand__Request *req,
			    struct dispatch_reply *r)
{
	struct canif *ci = dispatch_canif(c, req->restart->ifname, r);
	int rc;

	if (ci == NULL)
		return -ENODEV;
	rc = canlink_restart(&ci->link, r->detail, sizeof(r->detail));
	if (rc == 0)
		log_info("%s: restarted after bus-off by client %u (uid %lu)",
			 ci->link.name, c->id, (unsigned long)c->uid);
	return rc;
}

/*
 * Only what cand holds can be flushed: the rest of a send waiting for room
 * in the TX queue. Frames the kernel has are in the interface's qdisc and
 * driver queue, shared by every socket, with no way to take out one
 * socket's frames.
 */
static int dispatch_flush_tx(struct client *c, Cand__Request *req,
			     struct dispatch_reply *r)
{
	struct pending_req *p = c->pending;
	size_t dropped = 0;

	(void)req;
	if (p != NULL) {
		dropped = p->req->send->n_frames - p->next;
		reply_detail(p->r.detail, sizeof(p->r.detail),
			     "cancelled by flush_tx after %zu of %zu frames; "
			     "%zu not sent",
			     p->next, p->req->send->n_frames, dropped);
		dispatch_send_result(&p->r, p->next);
		dispatch_finish(c, &p->r, -ECANCELED);
		c->pending = NULL;
		dispatch_pending_free(p);
	}
	snprintf(r->note, sizeof(r->note),
		 "%zu frames of a pending send dropped; frames already handed "
		 "to the kernel (qdisc, driver) are not flushed: that queue is "
		 "shared by every socket on the interface",
		 dropped);
	cand__flush_tx_reply__init(&r->flush);
	r->flush.dropped = (uint32_t)dropped;
	r->flush.kernel_queue_flushed = 0;
	r->flush.note = r->note;
	r->rep.result_case = CAND__REPLY__RESULT_FLUSH_TX;
	r->rep.flush_tx = &r->flush;
	return 0;
}

static int dispatch_subscribe(struct client *c, Cand__Request *req,
			      struct dispatch_reply *r)
{
	const Cand__SubscribeRequest *sr = req->subscribe;

	if (sr->off) {
		c->subscribed = 0;
		log_info("client %u: unsubscribed from events", c->id);
		return 0;
	}
	if (strlen(sr->ifname) >= IFNAMSIZ) {
		reply_detail(r->detail, sizeof(r->detail),
			     "interface name \"%s\" is too long", sr->ifname);
		return -EINVAL;
	}
	/* Changes made before the subscription are not news to it. */
	netlink_drain(c->ctx);
	/* An interface that is not there (yet) is fine: it may appear. */
	snprintf(c->sub_ifname, sizeof(c->sub_ifname), "%s", sr->ifname);
	c->subscribed = 1;
	log_info("client %u: subscribed to events of %s", c->id,
		 sr->ifname[0] ? sr->ifname : "every interface");
	return 0;
}
