/*
 * The channel's requests: open, send, set_filters, flush_tx. Each turns
 * the protobuf request into the operation's plain arguments and its
 * result into the reply.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "pb/pb.h"

int op_chan_open(struct conn *c, Cand__Request *req, struct dispatch_reply *r)
{
	const Cand__OpenRequest *o = req->open;
	struct chan_opts opts = {
		.channel = o->channel,
		.receive_own = o->receive_own_messages,
		.no_loopback = o->no_local_loopback,
		.fd = o->fd,
		.ignore_errors = o->ignore_rx_error_frames,
		.n_filters = o->n_filters,
	};
	struct filter_desc *filters;
	int rc;

	if ((rc = encode_filter_descs(o->filters, o->n_filters, &filters)) < 0)
		return rc;
	opts.filters = filters;
	rc = chan_open(c->s, &opts, r->detail, sizeof(r->detail));
	free(filters);
	return rc;
}

int op_chan_filters(struct conn *c, Cand__Request *req,
		    struct dispatch_reply *r)
{
	const Cand__SetFiltersRequest *f = req->set_filters;
	struct filter_desc *filters;
	int rc;

	if ((rc = encode_filter_descs(f->filters, f->n_filters, &filters)) < 0)
		return rc;
	rc = chan_set_filters(c->s->chan, filters, f->n_filters, r->detail,
			      sizeof(r->detail));
	free(filters);
	return rc;
}

static void op_chan_sent(struct dispatch_reply *r, size_t sent)
{
	cand__send_reply__init(&r->send);
	r->send.sent = (uint32_t)sent;
	r->rep.result_case = CAND__REPLY__RESULT_SEND;
	r->rep.send = &r->send;
}

/* A send that waited for TX room ended: its reply, then the next ones. */
static void op_chan_send_done(void *arg, int rc, size_t sent,
			      const char *detail)
{
	struct conn *c = arg;
	struct dispatch_reply r;

	dispatch_reply_init(&r, c->pending->id);
	detail_set(r.detail, sizeof(r.detail), "%s", detail);
	op_chan_sent(&r, sent);
	dispatch_finish(c, &r, rc);
	cand__request__free_unpacked(c->pending, NULL);
	c->pending = NULL;
	sendreq_done(&c->descs, &c->descs_cap);
	/* Inside a request (flush_tx) or at shutdown the caller goes on. */
	if (!c->dispatching && !c->closing)
		conn_resume_requests(c);
}

int op_chan_send(struct conn *c, Cand__Request *req, struct dispatch_reply *r)
{
	const Cand__SendRequest *sr = req->send;
	size_t n, sent = 0;
	int rc;

	/* Reused: no request is read while a send is pending but flush_tx. */
	if ((rc = sendreq_frames(sr, &c->descs, &c->descs_cap, &n, r->detail,
				 sizeof(r->detail))) < 0) {
		sendreq_done(&c->descs, &c->descs_cap);
		return rc;
	}
	rc = send_start(c->s, c->descs, n, sr->timeout_ms, op_chan_send_done, c,
			&sent, r->detail, sizeof(r->detail));
	if (rc == -EINPROGRESS) {
		/* The frames point into req: it stays until they are sent. */
		c->pending = req;
		return rc;
	}
	sendreq_done(&c->descs, &c->descs_cap);
	op_chan_sent(r, sent);
	return rc;
}

/*
 * Only what cand holds can be flushed: the rest of a send waiting for room
 * in the TX queue. Frames the kernel has are in the interface's qdisc and
 * driver queue, shared by every socket, with no way to take out one
 * socket's frames.
 */
int op_chan_flush_tx(struct conn *c, Cand__Request *req,
		     struct dispatch_reply *r)
{
	size_t dropped;

	(void)req;
	dropped = send_flush(c->s);
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
