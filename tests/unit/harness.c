/*
 * The daemon's request path without CAN, for the unit tests: a client on
 * one end of a socketpair, requests fed to dispatch, replies read back off
 * the wire.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "unit.h"
#include "wire.h"

void harness_init(struct harness *h)
{
	int sv[2];

	memset(h, 0, sizeof(*h));
	TAILQ_INIT(&h->ctx.sessions);
	TAILQ_INIT(&h->ctx.conns);
	TAILQ_INIT(&h->ctx.canifs);
	h->ctx.nl_fd = -1;
	h->ctx.base = event_base_new();
	h->ctx.limits.max_msg = CAND_MAX_MSG;
	h->ctx.limits.out_high = 1 << 20;
	h->ctx.limits.out_low = 1 << 18;
	h->ctx.limits.max_clients = 4;
	h->ctx.limits.max_periodic = 4;
	h->ctx.limits.max_monitors = 4;
	ck_assert_ptr_nonnull(h->ctx.base);
	ck_assert_int_eq(rawsock_scratch_init(&h->ctx), 0);
	ck_assert_int_eq(encode_init(&h->ctx), 0);
	ck_assert_int_eq(
		socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	ck_assert_int_eq(conn_new(&h->ctx, sv[0]), 0);
	h->c = TAILQ_FIRST(&h->ctx.conns);
	h->peer = sv[1];
}

void harness_free(struct harness *h)
{
	conn_free(h->c);
	close(h->peer);
	rawsock_scratch_free(&h->ctx);
	encode_free(&h->ctx);
	event_base_free(h->ctx.base);
}

/* Feeds one request body and returns the single reply it produced. */
Cand__ServerMsg *harness_roundtrip(struct harness *h, const void *body,
				   size_t len)
{
	uint8_t buf[4096];
	ssize_t n;
	uint32_t mlen;
	Cand__ServerMsg *msg;

	dispatch_request(h->c, body, len);
	outq_flush(&h->c->s->q);
	n = read(h->peer, buf, sizeof(buf));
	ck_assert_int_gt(n, CAND_WIRE_HDR);
	mlen = wire_get_len(buf);
	ck_assert_uint_eq(mlen + CAND_WIRE_HDR, (size_t)n); /* exactly one */
	msg = cand__server_msg__unpack(NULL, mlen, buf + CAND_WIRE_HDR);
	ck_assert_ptr_nonnull(msg);
	ck_assert_int_eq(msg->msg_case, CAND__SERVER_MSG__MSG_REPLY);
	return msg;
}

Cand__ServerMsg *harness_request(struct harness *h, Cand__Request *req)
{
	uint8_t buf[4096];
	size_t len = cand__request__pack(req, buf);

	return harness_roundtrip(h, buf, len);
}
