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

int client_new(struct cand_ctx *ctx, int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct client *c;

	if (ctx->n_clients >= ctx->limits.max_clients) {
		log_warn("refusing a connection: %u clients is the limit",
			 ctx->limits.max_clients);
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
	log_info("client %u connected: pid %ld uid %lu gid %lu", c->id,
		 (long)c->pid, (unsigned long)c->uid, (unsigned long)c->gid);
	return 0;
}

void client_free(struct client *c)
{
	if (c->ctx != NULL && c->entry.tqe_prev != NULL) {
		TAILQ_REMOVE(&c->ctx->clients, c, entry);
		c->ctx->n_clients--;
		log_info("client %u disconnected", c->id);
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
	if (c->dead)
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
	char why[64];

	while (!c->dead && !client_out_full(c)) {
		have = evbuffer_get_length(c->in);
		if (have < CAND_WIRE_HDR)
			break;
		evbuffer_copyout(c->in, hdr, sizeof(hdr));
		len = wire_get_len(hdr);
		if (len == 0 || len > c->ctx->limits.max_msg) {
			/* The stream cannot be resynchronised after this. */
			snprintf(why, sizeof(why),
				 "bad message length %u (limit %zu)", len,
				 c->ctx->limits.max_msg);
			client_kill(c, why);
			return;
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
