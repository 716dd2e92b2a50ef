/*
 * cand_send_async() and cand_send_wait() against a socketpair standing
 * in for the daemon: requests go out before their replies, at most
 * CAND_SEND_AHEAD of them, and the replies' counts and failures come
 * back in order; those unanswered when the daemon goes are reported
 * once the handle is back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "framepack.h"
#include "libcand_int.h"
#include "unit.h"
#include "wire.h"

/* The next request the handle wrote, unpacked; NULL when there is none. */
static Cand__Request *ah_request(int fd)
{
	uint8_t hdr[CAND_WIRE_HDR], *body;
	Cand__Request *req;
	uint32_t len;

	if (recv(fd, hdr, sizeof(hdr), MSG_DONTWAIT | MSG_WAITALL) !=
	    (ssize_t)sizeof(hdr))
		return NULL;
	len = wire_get_len(hdr);
	body = malloc(len);
	ck_assert_ptr_nonnull(body);
	ck_assert_int_eq(recv(fd, body, len, MSG_WAITALL), (ssize_t)len);
	req = cand__request__unpack(NULL, len, body);
	free(body);
	ck_assert_ptr_nonnull(req);
	return req;
}

/* The daemon's reply to a send: status, and sent when it is not all. */
static void ah_reply(int fd, uint32_t id, Cand__Status status, int sent)
{
	Cand__ServerMsg m = CAND__SERVER_MSG__INIT;
	Cand__Reply r = CAND__REPLY__INIT;
	Cand__SendReply sr = CAND__SEND_REPLY__INIT;
	uint8_t buf[256];
	size_t n;

	r.id = id;
	r.status = status;
	r.detail = (char *)(status == CAND__STATUS__OK ? "" : "refused");
	if (sent >= 0) {
		sr.sent = (uint32_t)sent;
		r.result_case = CAND__REPLY__RESULT_SEND;
		r.send = &sr;
	}
	m.msg_case = CAND__SERVER_MSG__MSG_REPLY;
	m.reply = &r;
	n = cand__server_msg__get_packed_size(&m);
	ck_assert_uint_le(CAND_WIRE_HDR + n, sizeof(buf));
	wire_put_len(buf, (uint32_t)n);
	cand__server_msg__pack(&m, buf + CAND_WIRE_HDR);
	ck_assert_int_eq(write(fd, buf, CAND_WIRE_HDR + n),
			 (ssize_t)(CAND_WIRE_HDR + n));
}

static struct cand *ah_handle(int *peer)
{
	struct cand *h = libcand_conn_new();
	int sv[2];

	ck_assert_ptr_nonnull(h);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	h->fd = sv[0];
	*peer = sv[1];
	return h;
}

static void ah_frames(struct cand_frame *f, size_t n)
{
	size_t i;

	memset(f, 0, n * sizeof(*f));
	for (i = 0; i < n; i++) {
		f[i].id = 0x100 + (uint32_t)i;
		f[i].len = 1;
		f[i].data[0] = (uint8_t)i;
	}
}

START_TEST(test_ahead_without_waiting)
{
	struct cand_frame f[3];
	Cand__Request *req[CAND_SEND_AHEAD];
	struct cand *h;
	size_t sent = 99;
	int peer, i;

	h = ah_handle(&peer);
	ah_frames(f, 3);
	/* Four go out with no reply at all. */
	for (i = 0; i < CAND_SEND_AHEAD; i++) {
		ck_assert_int_eq(cand_send_async(h, f, 3, 100), 0);
		req[i] = ah_request(peer);
		ck_assert_ptr_nonnull(req[i]);
		ck_assert_int_eq(req[i]->op_case, CAND__REQUEST__OP_SEND);
		/* Three packed records of one byte, no Frame messages. */
		ck_assert_uint_eq(req[i]->send->n_frames, 0);
		ck_assert_uint_eq(req[i]->send->packed.len,
				  3 * (FRAMEPACK_HDR + 1));
		ck_assert_uint_eq(req[i]->send->timeout_ms, 100);
	}
	ck_assert_uint_eq(h->n_ahead, CAND_SEND_AHEAD);
	/* A fifth waits for the oldest reply: it is there already. */
	ah_reply(peer, req[0]->id, CAND__STATUS__OK, -1);
	ck_assert_int_eq(cand_send_async(h, f, 2, 100), 0);
	cand__request__free_unpacked(req[0], NULL);
	req[0] = ah_request(peer);
	ck_assert_uint_eq(req[0]->send->packed.len, 2 * (FRAMEPACK_HDR + 1));
	for (i = 1; i < CAND_SEND_AHEAD; i++)
		ah_reply(peer, req[i]->id, CAND__STATUS__OK, 3);
	ah_reply(peer, req[0]->id, CAND__STATUS__OK, -1);
	ck_assert_int_eq(cand_send_wait(h, &sent), 0);
	ck_assert_uint_eq(sent, 3 * CAND_SEND_AHEAD + 2);
	ck_assert_uint_eq(h->n_ahead, 0);
	for (i = 0; i < CAND_SEND_AHEAD; i++)
		cand__request__free_unpacked(req[i], NULL);
	close(peer);
	cand_close(h);
}
END_TEST

/* The count stops at the first failure, reported once with its detail. */
START_TEST(test_ahead_failure)
{
	struct cand_frame f[4];
	Cand__Request *a, *b, *c;
	struct cand *h;
	size_t sent;
	int peer;

	h = ah_handle(&peer);
	ah_frames(f, 4);
	ck_assert_int_eq(cand_send_async(h, f, 4, 0), 0);
	ck_assert_int_eq(cand_send_async(h, f, 4, 0), 0);
	ck_assert_int_eq(cand_send_async(h, f, 4, 0), 0);
	a = ah_request(peer);
	b = ah_request(peer);
	c = ah_request(peer);
	ah_reply(peer, a->id, CAND__STATUS__OK, -1);
	ah_reply(peer, b->id, CAND__STATUS__TX_BUFFER_FULL, 1);
	ah_reply(peer, c->id, CAND__STATUS__OK, -1);
	ck_assert_int_eq(cand_send_wait(h, &sent), CAND_ETXFULL);
	ck_assert_uint_eq(sent, 4 + 1);
	ck_assert_str_eq(cand_last_detail(h), "refused");
	/* Reported once; the handle goes on. */
	ck_assert_int_eq(cand_send_wait(h, &sent), 0);
	ck_assert_uint_eq(sent, 0);
	/* A failure without a count sent nothing of its request. */
	ck_assert_int_eq(cand_send_async(h, f, 2, 0), 0);
	cand__request__free_unpacked(a, NULL);
	a = ah_request(peer);
	ah_reply(peer, a->id, CAND__STATUS__PERMISSION_DENIED, -1);
	ck_assert_int_eq(cand_send_wait(h, &sent), CAND_EPERM);
	ck_assert_uint_eq(sent, 0);
	/* Too many frames for one request is refused before it goes. */
	ck_assert_int_eq(cand_send_async(h, f, CAND_SEND_CHUNK + 1, 0),
			 CAND_EINVAL);
	cand__request__free_unpacked(a, NULL);
	cand__request__free_unpacked(b, NULL);
	cand__request__free_unpacked(c, NULL);
	close(peer);
	cand_close(h);
}
END_TEST

/*
 * The daemon answers one send of two and goes: the other may or may not
 * have been done, so it is not repeated; the caller hears so once the
 * handle is connected again (to a listening socket standing in for the
 * new daemon), with the count of the frames known sent.
 */
START_TEST(test_ahead_lost)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct cand_frame f[3];
	Cand__Request *a, *b;
	struct cand *h;
	size_t sent = 99;
	int peer, lfd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "/tmp/cand-ahead-%d.sock",
		 (int)getpid());
	unlink(sa.sun_path);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_ge(lfd, 0);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(lfd, 4), 0);
	h = ah_handle(&peer);
	h->reconnect_ms = 2000;
	snprintf(h->path, sizeof(h->path), "%s", sa.sun_path);
	ah_frames(f, 3);
	ck_assert_int_eq(cand_send_async(h, f, 3, 0), 0);
	ck_assert_int_eq(cand_send_async(h, f, 2, 0), 0);
	a = ah_request(peer);
	b = ah_request(peer);
	ck_assert_ptr_nonnull(b);
	ah_reply(peer, a->id, CAND__STATUS__OK, -1);
	close(peer);
	ck_assert_int_eq(cand_send_wait(h, &sent), CAND_ERECONNECTED);
	ck_assert_uint_eq(sent, 3);
	ck_assert_ptr_nonnull(strstr(cand_last_detail(h), "1 send"));
	/* Back on the new connection, and nothing more to report. */
	ck_assert_int_eq(h->lost, 0);
	ck_assert_int_eq(cand_send_wait(h, &sent), 0);
	ck_assert_uint_eq(sent, 0);
	cand__request__free_unpacked(a, NULL);
	cand__request__free_unpacked(b, NULL);
	cand_close(h);
	close(lfd);
	unlink(sa.sun_path);
}
END_TEST

Suite *ahead_suite(void)
{
	Suite *s = suite_create("ahead");
	TCase *tc = tcase_create("sends");

	tcase_add_test(tc, test_ahead_without_waiting);
	tcase_add_test(tc, test_ahead_failure);
	tcase_add_test(tc, test_ahead_lost);
	suite_add_tcase(s, tc);
	return s;
}
