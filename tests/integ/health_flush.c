/*
 * flush_tx: what it says with nothing pending, and how it cancels a send
 * waiting behind a slow qdisc, seen by a client that speaks the wire
 * protocol by hand to have both requests in flight at once.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cand.pb-c.h"
#include "health.h"
#include "wire.h"

START_TEST(test_flush_with_nothing_pending)
{
	cand_t *h = util_open("vcan0");
	char note[256];
	int rc;

	rc = cand_flush_tx(h, note, sizeof(note));
	ck_assert_msg(rc == 0, "flush: %d %s", rc, cand_strerror(rc));
	/* It says what is not flushed. */
	ck_assert_msg(strstr(note, "not flushed") != NULL &&
			      strstr(note, "shared") != NULL,
		      "note: %s", note);
	cand_close(h);

	h = util_connect();
	rc = cand_flush_tx(h, NULL, 0);
	ck_assert_msg(rc == CAND_ENOTOPEN, "flush before open: %s",
		      cand_strerror(rc));
	cand_close(h);
}
END_TEST

static int wire_connect(void)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", getenv("CAND_SOCKET"));
	ck_assert_msg(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0,
		      "connect: %s", strerror(errno));
	return fd;
}

static void wire_send(int fd, const Cand__Request *req)
{
	size_t len = cand__request__get_packed_size(req);
	uint8_t *buf = malloc(CAND_WIRE_HDR + len);

	ck_assert_ptr_nonnull(buf);
	wire_put_len(buf, (uint32_t)len);
	cand__request__pack(req, buf + CAND_WIRE_HDR);
	ck_assert_int_eq(send(fd, buf, CAND_WIRE_HDR + len, MSG_NOSIGNAL),
			 (ssize_t)(CAND_WIRE_HDR + len));
	free(buf);
}

static int wire_read(int fd, uint8_t *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};

		if (poll(&pfd, 1, EV_WAIT_MS) <= 0)
			return -1;
		n = read(fd, buf + got, len - got);
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

/* The next Reply, skipping events. */
static Cand__Reply *wire_reply(int fd, Cand__ServerMsg **keep)
{
	uint8_t hdr[CAND_WIRE_HDR], *body;
	Cand__ServerMsg *m;
	uint32_t len;

	for (;;) {
		ck_assert_msg(wire_read(fd, hdr, sizeof(hdr)) == 0,
			      "no reply within %d ms", EV_WAIT_MS);
		len = wire_get_len(hdr);
		body = malloc(len);
		ck_assert_ptr_nonnull(body);
		ck_assert_int_eq(wire_read(fd, body, len), 0);
		m = cand__server_msg__unpack(NULL, len, body);
		free(body);
		ck_assert_ptr_nonnull(m);
		if (m->msg_case == CAND__SERVER_MSG__MSG_REPLY) {
			*keep = m;
			return m->reply;
		}
		cand__server_msg__free_unpacked(m, NULL);
	}
}

/*
 * A send waits for room behind a slow qdisc; a flush_tx sent right after
 * it goes ahead, cancels it and says how many frames were dropped.
 */
START_TEST(test_flush_cancels_a_pending_send)
{
	enum { N = 200 };
	Cand__Request req = CAND__REQUEST__INIT;
	Cand__OpenRequest open = CAND__OPEN_REQUEST__INIT;
	Cand__SendRequest sr = CAND__SEND_REQUEST__INIT;
	Cand__FlushTxRequest fr = CAND__FLUSH_TX_REQUEST__INIT;
	Cand__Frame frames[N], *fp[N];
	Cand__ServerMsg *m1, *m2;
	Cand__Reply *r;
	uint8_t data[1] = {0x55};
	uint32_t sent;
	int64_t t0;
	int fd, i;

	ck_assert_int_eq(util_sh("modprobe sch_tbf 2>/dev/null; "
				 "ip link add dev %s type vcan && "
				 "ip link set %s up && "
				 "tc qdisc add dev %s root tbf rate 1kbit "
				 "burst 100 limit 100",
				 FL_IFACE, FL_IFACE, FL_IFACE),
			 0);
	fd = wire_connect();
	open.channel = FL_IFACE;
	req.id = 1;
	req.op_case = CAND__REQUEST__OP_OPEN;
	req.open = &open;
	wire_send(fd, &req);
	r = wire_reply(fd, &m1);
	ck_assert_int_eq(r->status, CAND__STATUS__OK);
	cand__server_msg__free_unpacked(m1, NULL);

	for (i = 0; i < N; i++) {
		cand__frame__init(&frames[i]);
		frames[i].id = 0x200 + (uint32_t)i;
		frames[i].data.data = data;
		frames[i].data.len = 1;
		fp[i] = &frames[i];
	}
	sr.frames = fp;
	sr.n_frames = N;
	sr.timeout_ms = 20000;
	req.id = 2;
	req.op_case = CAND__REQUEST__OP_SEND;
	req.send = &sr;
	wire_send(fd, &req);
	util_msleep(300); /* the send is now waiting for room */
	req.id = 3;
	req.op_case = CAND__REQUEST__OP_FLUSH_TX;
	req.flush_tx = &fr;
	t0 = now_ms();
	wire_send(fd, &req);

	/* The send is answered first, cancelled, long before its timeout. */
	r = wire_reply(fd, &m1);
	ck_assert_uint_eq(r->id, 2);
	ck_assert_msg(r->status != CAND__STATUS__OK, "the send succeeded");
	ck_assert_msg(strstr(r->detail, "flush") != NULL, "send detail: %s",
		      r->detail);
	ck_assert_int_eq(r->result_case, CAND__REPLY__RESULT_SEND);
	sent = r->send->sent;
	ck_assert_msg(sent > 0 && sent < N, "sent %u of %d", sent, N);
	r = wire_reply(fd, &m2);
	ck_assert_uint_eq(r->id, 3);
	ck_assert_int_eq(r->status, CAND__STATUS__OK);
	ck_assert_int_eq(r->result_case, CAND__REPLY__RESULT_FLUSH_TX);
	ck_assert_uint_eq(r->flush_tx->dropped, N - sent);
	ck_assert_int_eq(r->flush_tx->kernel_queue_flushed, 0);
	ck_assert_msg(now_ms() - t0 < 10000, "the flush took %lld ms",
		      (long long)(now_ms() - t0));
	cand__server_msg__free_unpacked(m1, NULL);
	cand__server_msg__free_unpacked(m2, NULL);
	close(fd);
	ck_assert_int_eq(util_sh("ip link del %s", FL_IFACE), 0);
}
END_TEST

void health_flush_tests(TCase *tc)
{
	tcase_add_test(tc, test_flush_with_nothing_pending);
	tcase_add_test(tc, test_flush_cancels_a_pending_send);
}
