/*
 * One client connection: credentials, the request stream in, replies and
 * frame batches out, and flow control between the two.
 *
 * A client is only ever freed from its own read callback or at shutdown.
 * Everything else that wants it gone calls client_kill(), which shuts the
 * socket down so that the read callback runs next and frees it; that keeps
 * callbacks lower on the stack from touching freed memory.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "daemon.h"
#include "wire.h"

/* Bytes read from a client socket per read(). */
#define CLIENT_READ_CHUNK 65536

static void client_on_read(evutil_socket_t fd, short what, void *arg);
static void client_on_write(evutil_socket_t fd, short what, void *arg);
static void client_process_input(struct client *c);

/*
 * Tells a connection we will not serve why, as the answer to whatever it
 * asks first (a Reply with id 0), before it is closed. The message is
 * small and the socket new, so one write does it or nothing does.
 */
static void client_refuse(int fd, Cand__Status status, const char *detail)
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

int client_new(struct cand_ctx *ctx, int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct client *c;
	char detail[96];

	if (ctx->n_clients >= ctx->limits.max_clients) {
		log_warn("refusing a connection: %u clients is the limit",
			 ctx->limits.max_clients);
		snprintf(detail, sizeof(detail),
			 "cand serves at most %u clients (max_clients)",
			 ctx->limits.max_clients);
		client_refuse(fd, CAND__STATUS__LIMIT_EXCEEDED, detail);
		return -EUSERS;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		log_warn("SO_PEERCRED: %s", strerror(errno));
		return -errno;
	}

	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	c->ctx = ctx;
	c->fd = fd;
	c->id = ++ctx->next_client_id;
	c->pid = cred.pid;
	c->uid = cred.uid;
	c->gid = cred.gid;
	if (policy_load_groups(c) < 0) {
		c->fd = -1;
		client_free(c);
		return -ENOMEM;
	}
	c->in = evbuffer_new();
	c->out = evbuffer_new();
	c->ev_read = event_new(ctx->base, fd, EV_READ | EV_PERSIST,
			       client_on_read, c);
	c->ev_write = event_new(ctx->base, fd, EV_WRITE | EV_PERSIST,
				client_on_write, c);
	if (c->in == NULL || c->out == NULL || c->ev_read == NULL ||
	    c->ev_write == NULL || event_add(c->ev_read, NULL) < 0) {
		c->fd = -1; /* the caller closes it */
		client_free(c);
		return -ENOMEM;
	}
	TAILQ_INSERT_TAIL(&ctx->clients, c, entry);
	ctx->n_clients++;
	log_info("client %u connected: pid %ld uid %lu gid %lu (%zu groups)",
		 c->id, (long)c->pid, (unsigned long)c->uid,
		 (unsigned long)c->gid, c->n_groups);
	notify_status(ctx);
	return 0;
}

void client_free(struct client *c)
{
	if (c->ctx != NULL && c->entry.tqe_prev != NULL) {
		TAILQ_REMOVE(&c->ctx->clients, c, entry);
		c->ctx->n_clients--;
		log_info("client %u disconnected", c->id);
		notify_status(c->ctx);
	}
	dispatch_cancel(c);
	bcm_client_free(c);
	if (c->raw != NULL)
		raw_close(c->raw);
	if (c->ev_read != NULL)
		event_free(c->ev_read);
	if (c->ev_write != NULL)
		event_free(c->ev_write);
	if (c->in != NULL)
		evbuffer_free(c->in);
	if (c->out != NULL)
		evbuffer_free(c->out);
	if (c->fd >= 0)
		close(c->fd);
	free(c->groups);
	free(c);
}

void client_kill(struct client *c, const char *why)
{
	if (c->dead)
		return;
	log_warn("client %u: %s; disconnecting", c->id, why);
	c->dead = 1;
	if (c->raw != NULL)
		raw_pause(c->raw);
	evbuffer_drain(c->out, evbuffer_get_length(c->out));
	event_del(c->ev_write);
	shutdown(c->fd, SHUT_RDWR);
	event_add(c->ev_read, NULL);
}

int client_queue_msg(struct client *c, const Cand__ServerMsg *msg)
{
	size_t len = protobuf_c_message_get_packed_size(&msg->base);
	struct evbuffer_iovec vec;

	if (c->dead)
		return -EPIPE;
	/* Pack straight into the output buffer: no copy, no malloc. */
	if (evbuffer_reserve_space(c->out, CAND_WIRE_HDR + len, &vec, 1) < 1)
		return -ENOMEM;
	wire_put_len(vec.iov_base, (uint32_t)len);
	protobuf_c_message_pack(&msg->base,
				(uint8_t *)vec.iov_base + CAND_WIRE_HDR);
	vec.iov_len = CAND_WIRE_HDR + len;
	if (evbuffer_commit_space(c->out, &vec, 1) < 0)
		return -ENOMEM;
	return 0;
}

size_t client_pending_output(const struct client *c)
{
	return evbuffer_get_length(c->out);
}

int client_out_full(const struct client *c)
{
	return evbuffer_get_length(c->out) >= c->ctx->limits.out_high;
}

/*
 * Requests are read only while the client has room for their replies, and
 * while an earlier request is in progress only up to one more message
 * (which may be a flush_tx for it), which bounds both buffers whatever the
 * client does.
 */
static void client_update_reading(struct client *c)
{
	if (c->dead || c->closing)
		return;
	if ((c->pending != NULL &&
	     evbuffer_get_length(c->in) >=
		     CAND_WIRE_HDR + c->ctx->limits.max_msg) ||
	    client_out_full(c)) {
		if (!c->requests_paused)
			event_del(c->ev_read);
		c->requests_paused = 1;
	} else if (c->requests_paused) {
		c->requests_paused = 0;
		event_add(c->ev_read, NULL);
		client_process_input(c);
	}
}

void client_flush(struct client *c)
{
	size_t left;
	int n;

	if (c->dead)
		return;
	while ((left = evbuffer_get_length(c->out)) > 0) {
		n = evbuffer_write(c->out, c->fd);
		if (n > 0)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		client_kill(c, n < 0 ? strerror(errno) : "short write");
		return;
	}
	if (left > 0)
		event_add(c->ev_write, NULL);
	else
		event_del(c->ev_write);
	/* Resume CAN reads before the buffer is empty, so it never starves. */
	if (left < c->ctx->limits.out_low) {
		if (c->raw != NULL)
			raw_resume(c->raw);
		bcm_resume(c);
		client_update_reading(c);
	}
}

void client_flush_later(struct client *c)
{
	if (!c->dead)
		event_add(c->ev_write, NULL);
}

static void client_on_write(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	client_flush(arg);
}

void client_resume_requests(struct client *c)
{
	/* What arrived meanwhile waited in the buffer: handle it now. */
	client_process_input(c);
	client_flush(c);
}

static void client_process_input(struct client *c)
{
	uint8_t hdr[CAND_WIRE_HDR];
	size_t have;
	uint32_t len;
	uint8_t *msg;
	char why[128];

	while (!c->dead && !client_out_full(c)) {
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
		evbuffer_copyout(c->in, hdr, sizeof(hdr));
		len = wire_get_len(hdr);
		if (len == 0 || len > CAND_MAX_MSG) {
			/* The stream cannot be resynchronised after this. */
			snprintf(why, sizeof(why),
				 "bad message length %u (limit %zu)", len,
				 c->ctx->limits.max_msg);
			client_kill(c, why);
			return;
		}
		if (len > c->ctx->limits.max_msg) {
			/*
			 * Framed, just too big for this daemon's limit: say so
			 * and skip it without ever holding it.
			 */
			snprintf(why, sizeof(why),
				 "request of %u bytes is over the limit of "
				 "%zu (max_message_size)",
				 len, c->ctx->limits.max_msg);
			log_info("client %u: %s", c->id, why);
			dispatch_reject(c, -EFBIG, why);
			evbuffer_drain(c->in, CAND_WIRE_HDR);
			c->skip = len;
			continue;
		}
		if (have < CAND_WIRE_HDR + (size_t)len)
			break;
		msg = evbuffer_pullup(c->in, CAND_WIRE_HDR + (ssize_t)len);
		if (msg == NULL) {
			client_kill(c, "out of memory");
			return;
		}
		/* Behind a pending request, only a flush_tx goes ahead. */
		if (c->pending != NULL &&
		    !dispatch_may_overtake(msg + CAND_WIRE_HDR, len))
			break;
		dispatch_request(c, msg + CAND_WIRE_HDR, len);
		evbuffer_drain(c->in, CAND_WIRE_HDR + (size_t)len);
	}
	client_update_reading(c);
}

static void client_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct client *c = arg;
	int n;

	(void)what;
	if (c->dead) {
		client_free(c);
		return;
	}
	n = evbuffer_read(c->in, fd, CLIENT_READ_CHUNK);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		if (n < 0)
			log_info("client %u: %s", c->id, strerror(errno));
		client_free(c);
		return;
	}
	client_process_input(c);
	client_flush(c);
}

/* One RightsEvent naming what a reload took away. */
static void client_rights_event(struct client *c, unsigned revoked,
				const char *channel)
{
	Cand__ServerMsg msg = CAND__SERVER_MSG__INIT;
	Cand__Event ev = CAND__EVENT__INIT;
	Cand__RightsEvent re = CAND__RIGHTS_EVENT__INIT;
	char *names[RIGHT_OPEN];
	char detail[256];
	size_t off;
	int r;

	off = (size_t)snprintf(detail, sizeof(detail),
			       "configuration reloaded: uid %lu lost",
			       (unsigned long)c->uid);
	for (r = RIGHT_READ; r <= RIGHT_ADMIN; r++) {
		if (!(revoked & POLICY_RIGHT_BIT(r)))
			continue;
		names[re.n_revoked++] = (char *)policy_right_name(r);
		if (off < sizeof(detail))
			off += (size_t)snprintf(detail + off,
						sizeof(detail) - off, " '%s'",
						policy_right_name(r));
	}
	if (off < sizeof(detail))
		snprintf(detail + off, sizeof(detail) - off, " on \"%s\"",
			 channel);
	log_info("client %u: %s", c->id, detail);
	re.status = CAND__STATUS__PERMISSION_DENIED;
	re.detail = detail;
	re.revoked = names;
	ev.ev_case = CAND__EVENT__EV_RIGHTS;
	ev.rights = &re;
	msg.msg_case = CAND__SERVER_MSG__MSG_EVENT;
	msg.event = &ev;
	client_queue_msg(c, &msg);
}

void client_policy_changed(struct client *c)
{
	const char *channel;
	unsigned now, revoked;

	if (policy_load_groups(c) < 0)
		log_warn("client %u: groups not refreshed: out of memory",
			 c->id);
	if (c->dead || c->closing || c->raw == NULL)
		return;
	channel = raw_channel(c->raw);
	now = policy_rights(c, channel);
	revoked = c->rights & ~now;
	c->rights = now;
	/* Sends are checked per request; receiving must be stopped here. */
	if (raw_set_rx(c->raw, (now & POLICY_RIGHT_BIT(RIGHT_READ)) != 0) < 0)
		client_kill(c, "cannot change its CAN filters after a reload");
	/* BCM periodic tasks and monitors: drop those a right no longer covers.
	 */
	if (revoked != 0)
		client_rights_event(c, revoked, channel);
	client_flush(c);
}

void client_shutdown(struct client *c)
{
	Cand__ServerMsg msg = CAND__SERVER_MSG__INIT;
	Cand__Event ev = CAND__EVENT__INIT;
	Cand__ShutdownEvent sd = CAND__SHUTDOWN_EVENT__INIT;

	if (c->dead)
		return;
	c->closing = 1;
	event_del(c->ev_read);
	dispatch_abort(c, -ESHUTDOWN, "cand is shutting down");
	/* Frames stop here; BCM tasks are deleted here too. */
	if (c->raw != NULL) {
		raw_close(c->raw);
		c->raw = NULL;
	}
	sd.detail = "cand is shutting down";
	ev.ev_case = CAND__EVENT__EV_SHUTDOWN;
	ev.shutdown = &sd;
	msg.msg_case = CAND__SERVER_MSG__MSG_EVENT;
	msg.event = &ev;
	client_queue_msg(c, &msg);
	client_flush(c);
}
