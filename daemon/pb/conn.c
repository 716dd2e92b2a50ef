/*
 * One protobuf connection: credentials into an identity and a session,
 * the request stream in (length-prefixed messages), and flow control:
 * requests are read only while the output has room for their replies.
 *
 * A connection is only ever freed from its own read callback or at
 * shutdown. Everything else that wants it gone calls conn_kill() (the
 * output queue's fail), which shuts the socket down so that the read
 * callback runs next and frees it; that keeps callbacks lower on the
 * stack from touching freed memory.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "pb/pb.h"
#include "wire.h"

/* Bytes read from a client socket per read(). */
#define CONN_READ_CHUNK 65536

static void conn_on_read(evutil_socket_t fd, short what, void *arg);
static void conn_process_input(struct conn *c);
static void conn_on_low(void *owner);
static void conn_fail(void *owner, const char *why);

static const struct outq_codec conn_codec = {
	.frames = encode_frames,
	.event = encode_event,
	.on_low = conn_on_low,
	.fail = conn_fail,
};

/*
 * Tells a connection we will not serve why, as the answer to whatever it
 * asks first (a Reply with id 0), before it is closed. The message is
 * small and the socket new, so one write does it or nothing does.
 */
static void conn_refuse(int fd, Cand__Status status, const char *detail)
{
	Cand__ServerMsg msg = CAND__SERVER_MSG__INIT;
	Cand__Reply rep = CAND__REPLY__INIT;
	uint8_t buf[512];
	size_t len;

	rep.status = status;
	rep.detail = (char *)detail;
	msg.msg_case = CAND__SERVER_MSG__MSG_REPLY;
	msg.reply = &rep;
	len = protobuf_c_message_get_packed_size(&msg.base);
	if (len + CAND_WIRE_HDR > sizeof(buf))
		return;
	wire_put_len(buf, (uint32_t)len);
	protobuf_c_message_pack(&msg.base, buf + CAND_WIRE_HDR);
	if (send(fd, buf, CAND_WIRE_HDR + len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		log_debug("refusal not sent: %s", strerror(errno));
}

int conn_new(struct cand_ctx *ctx, int fd)
{
	struct ident id = {.kind = IDENT_LOCAL};
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct conn *c;
	char detail[96];

	if (ctx->n_sessions >= ctx->limits.max_clients) {
		log_warn("refusing a connection: %u clients is the limit",
			 ctx->limits.max_clients);
		snprintf(detail, sizeof(detail),
			 "cand serves at most %u clients (max_clients)",
			 ctx->limits.max_clients);
		conn_refuse(fd, CAND__STATUS__LIMIT_EXCEEDED, detail);
		return -EUSERS;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		log_warn("SO_PEERCRED: %s", strerror(errno));
		return -errno;
	}
	id.pid = cred.pid;
	id.uid = cred.uid;
	id.gid = cred.gid;
	if (policy_load_groups(&id) < 0)
		return -ENOMEM;
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		free(id.groups);
		return -ENOMEM;
	}
	c->ctx = ctx;
	c->fd = fd;
	c->in = evbuffer_new();
	c->ev_read =
		event_new(ctx->base, fd, EV_READ | EV_PERSIST, conn_on_read, c);
	if (c->in == NULL || c->ev_read == NULL ||
	    event_add(c->ev_read, NULL) < 0 ||
	    (c->s = sess_new(ctx, &id, fd, &conn_codec, c)) == NULL) {
		free(id.groups);
		c->fd = -1; /* the caller closes it */
		conn_free(c);
		return -ENOMEM;
	}
	TAILQ_INSERT_TAIL(&ctx->conns, c, entry);
	return 0;
}

void conn_free(struct conn *c)
{
	if (c->s != NULL) {
		TAILQ_REMOVE(&c->ctx->conns, c, entry);
		/* Cancels a pending send before its request goes below. */
		sess_free(c->s);
	}
	if (c->pending != NULL)
		cand__request__free_unpacked(c->pending, NULL);
	free(c->descs);
	if (c->ev_read != NULL)
		event_free(c->ev_read);
	if (c->in != NULL)
		evbuffer_free(c->in);
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

void conn_kill(struct conn *c, const char *why)
{
	if (c->dead)
		return;
	log_warn("client %u: %s; disconnecting", c->s->id, why);
	c->dead = 1;
	sess_pause(c->s);
	outq_stop(&c->s->q);
	shutdown(c->fd, SHUT_RDWR);
	event_add(c->ev_read, NULL);
}

static void conn_fail(void *owner, const char *why)
{
	conn_kill(owner, why);
}

/*
 * Requests are read only while the client has room for their replies, and
 * while an earlier request is in progress only up to one more message
 * (which may be a flush_tx for it), which bounds both buffers whatever the
 * client does.
 */
static void conn_update_reading(struct conn *c)
{
	if (c->dead || c->closing)
		return;
	if ((c->pending != NULL &&
	     evbuffer_get_length(c->in) >=
		     CAND_WIRE_HDR + c->ctx->limits.max_msg) ||
	    outq_full(&c->s->q)) {
		if (!c->requests_paused)
			event_del(c->ev_read);
		c->requests_paused = 1;
	} else if (c->requests_paused) {
		c->requests_paused = 0;
		event_add(c->ev_read, NULL);
		conn_process_input(c);
	}
}

static void conn_on_low(void *owner)
{
	struct conn *c = owner;

	sess_resume(c->s);
	conn_update_reading(c);
}

void conn_resume_requests(struct conn *c)
{
	/* What arrived meanwhile waited in the buffer: handle it now. */
	conn_process_input(c);
	outq_flush(&c->s->q);
}

/* The next request's length, or 0 when the connection must go. */
static int conn_frame(struct conn *c, uint32_t *len)
{
	uint8_t hdr[CAND_WIRE_HDR];
	char why[128];

	evbuffer_copyout(c->in, hdr, sizeof(hdr));
	*len = wire_get_len(hdr);
	if (*len == 0 || *len > CAND_MAX_MSG) {
		/* The stream cannot be resynchronised after this. */
		snprintf(why, sizeof(why), "bad message length %u (limit %zu)",
			 *len, c->ctx->limits.max_msg);
		conn_kill(c, why);
		return 0;
	}
	if (*len > c->ctx->limits.max_msg) {
		/*
		 * Framed, just too big for this daemon's limit: say so and
		 * skip it without ever holding it.
		 */
		snprintf(why, sizeof(why),
			 "request of %u bytes is over the limit of %zu "
			 "(max_message_size)",
			 *len, c->ctx->limits.max_msg);
		log_info("client %u: %s", c->s->id, why);
		dispatch_reject(c, -EFBIG, why);
		evbuffer_drain(c->in, CAND_WIRE_HDR);
		c->skip = *len;
		*len = 0;
	}
	return 1;
}

static void conn_process_input(struct conn *c)
{
	size_t have;
	uint32_t len;
	uint8_t *msg;

	while (!c->dead && !outq_full(&c->s->q)) {
		have = evbuffer_get_length(c->in);
		if (c->skip > 0) {
			/* The rest of a request over the limit goes unread. */
			len = (uint32_t)(have < c->skip ? have : c->skip);
			evbuffer_drain(c->in, len);
			c->skip -= len;
			if (c->skip > 0)
				break;
			continue;
		}
		if (have < CAND_WIRE_HDR)
			break;
		if (!conn_frame(c, &len))
			return;
		if (len == 0)
			continue;
		if (have < CAND_WIRE_HDR + (size_t)len)
			break;
		msg = evbuffer_pullup(c->in, CAND_WIRE_HDR + (ssize_t)len);
		if (msg == NULL) {
			conn_kill(c, "out of memory");
			return;
		}
		/* Behind a pending request, only a flush_tx goes ahead. */
		if (c->pending != NULL &&
		    !dispatch_may_overtake(msg + CAND_WIRE_HDR, len))
			break;
		dispatch_request(c, msg + CAND_WIRE_HDR, len);
		evbuffer_drain(c->in, CAND_WIRE_HDR + (size_t)len);
	}
	conn_update_reading(c);
}

static void conn_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	int n;

	(void)what;
	if (c->dead) {
		conn_free(c);
		return;
	}
	n = evbuffer_read(c->in, fd, CONN_READ_CHUNK);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		if (n < 0)
			log_info("client %u: %s", c->s->id, strerror(errno));
		conn_free(c);
		return;
	}
	conn_process_input(c);
	outq_flush(&c->s->q);
}

void conn_shutdown_all(struct cand_ctx *ctx)
{
	struct conn *c, *next;

	for (c = TAILQ_FIRST(&ctx->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (c->dead)
			continue;
		c->closing = 1;
		event_del(c->ev_read);
		sess_shutdown(c->s);
	}
}

void conn_free_all(struct cand_ctx *ctx)
{
	struct conn *c;

	while ((c = TAILQ_FIRST(&ctx->conns)) != NULL)
		conn_free(c);
}
