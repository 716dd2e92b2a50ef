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
	cand__request__free_unpacked(req, NULL);
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
