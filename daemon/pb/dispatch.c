/*
 * Requests: unpack, look the operation up in the handler table, ask the
 * policy, run the handler, and answer with exactly one Reply carrying the
 * request's id. To add an operation: a field in Request's oneof, a line in
 * dispatch_ops[], a handler (op_chan.c, op_bcm.c, op_bus.c), a test.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pb/pb.h"

static const struct dispatch_op {
	Cand__Request__OpCase op;
	const char *name;
	enum policy_right right;
	int needs_open;
	dispatch_fn fn;
} dispatch_ops[] = {
	{CAND__REQUEST__OP_OPEN, "open", RIGHT_OPEN, 0, op_chan_open},
	{CAND__REQUEST__OP_SEND, "send", RIGHT_SEND, 1, op_chan_send},
	{CAND__REQUEST__OP_SET_FILTERS, "set_filters", RIGHT_READ, 1,
	 op_chan_filters},
	{CAND__REQUEST__OP_LIST, "list", RIGHT_NONE, 0, op_bus_list},
	{CAND__REQUEST__OP_CLIENTS, "clients", RIGHT_ADMIN, 0, op_clients_list},
	/* Tasks and monitors exist only on an open channel; ids name them. */
	{CAND__REQUEST__OP_TASK_START, "task_start", RIGHT_PERIODIC, 1,
	 op_bcm_task_start},
	{CAND__REQUEST__OP_TASK_MODIFY, "task_modify", RIGHT_PERIODIC, 0,
	 op_bcm_task_modify},
	{CAND__REQUEST__OP_TASK_STOP, "task_stop", RIGHT_PERIODIC, 0,
	 op_bcm_task_stop},
	{CAND__REQUEST__OP_TASK_RESUME, "task_resume", RIGHT_PERIODIC, 0,
	 op_bcm_task_resume},
	{CAND__REQUEST__OP_TASK_REMOVE, "task_remove", RIGHT_PERIODIC, 0,
	 op_bcm_task_remove},
	{CAND__REQUEST__OP_TASK_STOP_ALL, "task_stop_all", RIGHT_PERIODIC, 0,
	 op_bcm_task_stop_all},
	{CAND__REQUEST__OP_TASK_LIST, "task_list", RIGHT_PERIODIC, 0,
	 op_bcm_task_list},
	{CAND__REQUEST__OP_MONITOR_START, "monitor_start", RIGHT_MONITOR, 1,
	 op_bcm_monitor_start},
	{CAND__REQUEST__OP_MONITOR_STOP, "monitor_stop", RIGHT_MONITOR, 0,
	 op_bcm_monitor_stop},
	{CAND__REQUEST__OP_STATE, "state", RIGHT_READ, 0, op_bus_state},
	{CAND__REQUEST__OP_CONFIGURE, "configure", RIGHT_CONFIGURE, 0,
	 op_bus_configure},
	{CAND__REQUEST__OP_RESTART, "restart", RIGHT_CONFIGURE, 0,
	 op_bus_restart},
	{CAND__REQUEST__OP_FLUSH_TX, "flush_tx", RIGHT_SEND, 1,
	 op_chan_flush_tx},
	{CAND__REQUEST__OP_SUBSCRIBE, "subscribe", RIGHT_READ, 0,
	 op_bus_subscribe},
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

void dispatch_reply_init(struct dispatch_reply *r, uint32_t id)
{
	cand__reply__init(&r->rep);
	r->rep.id = id;
	r->detail[0] = '\0';
	r->alloc[0] = r->alloc[1] = NULL;
}

void dispatch_finish(struct conn *c, struct dispatch_reply *r, int rc)
{
	Cand__ServerMsg msg = CAND__SERVER_MSG__INIT;

	r->rep.status = dispatch_status_from_errno(rc);
	if (rc < 0 && r->detail[0] == '\0')
		snprintf(r->detail, sizeof(r->detail), "%s", strerror(-rc));
	r->rep.detail = r->detail;
	msg.msg_case = CAND__SERVER_MSG__MSG_REPLY;
	msg.reply = &r->rep;
	if (c->s->q.dead || encode_msg(&c->s->q, &msg) < 0)
		conn_kill(c, "cannot queue a reply");
}

/* The interface an operation acts on, for the policy. */
static const char *dispatch_iface(const struct conn *c,
				  const Cand__Request *req)
{
	if (req->op_case == CAND__REQUEST__OP_OPEN)
		return req->open->channel;
	/* It shows the clients of every interface. */
	if (req->op_case == CAND__REQUEST__OP_CLIENTS)
		return "";
	return c->s->chan != NULL ? chan_name(c->s->chan) : NULL;
}

void dispatch_reject(struct conn *c, int rc, const char *detail)
{
	struct dispatch_reply r;

	dispatch_reply_init(&r, 0);
	detail_set(r.detail, sizeof(r.detail), "%s", detail);
	dispatch_finish(c, &r, rc);
}

static const struct dispatch_op *dispatch_find(Cand__Request__OpCase op)
{
	size_t i;

	for (i = 0; i < sizeof(dispatch_ops) / sizeof(dispatch_ops[0]); i++)
		if (dispatch_ops[i].op == op)
			return &dispatch_ops[i];
	return NULL;
}

/* Checks and runs the request's operation; -EINPROGRESS: answered later. */
static int dispatch_run(struct conn *c, Cand__Request *req,
			struct dispatch_reply *r)
{
	const struct dispatch_op *op = dispatch_find(req->op_case);
	const struct sess *s = c->s;
	int rc;

	if (op == NULL) {
		detail_set(r->detail, sizeof(r->detail),
			   "request has no operation this daemon knows");
		return -EBADMSG;
	}
	if (op->needs_open && s->chan == NULL) {
		detail_set(r->detail, sizeof(r->detail),
			   "%s needs an open channel", op->name);
		return -ENOTCONN;
	}
	rc = policy_check(c->ctx->policy, &s->ident, dispatch_iface(c, req),
			  op->right, r->detail, sizeof(r->detail));
	if (rc < 0) {
		log_info("client %u (%s): %s denied: %s", s->id, s->who,
			 op->name, r->detail);
		return rc;
	}
	return op->fn(c, req, r);
}

void dispatch_request(struct conn *c, const uint8_t *buf, size_t len)
{
	struct dispatch_reply r;
	Cand__Request *req;
	int rc;

	req = cand__request__unpack(NULL, len, buf);
	if (req == NULL) {
		/* The length prefix held, so the stream is still in sync. */
		log_warn("client %u: undecodable request of %zu bytes",
			 c->s->id, len);
		dispatch_reject(c, -EBADMSG,
				"request does not decode as protobuf");
		return;
	}
	dispatch_reply_init(&r, req->id);
	c->dispatching = 1;
	rc = dispatch_run(c, req, &r);
	c->dispatching = 0;
	if (rc == -EINPROGRESS)
		return; /* the handler kept req and answers later */
	dispatch_finish(c, &r, rc);
	free(r.alloc[0]);
	free(r.alloc[1]);
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
