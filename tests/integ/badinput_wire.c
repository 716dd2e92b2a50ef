/*
 * Broken framing and undecodable requests from a client that speaks the
 * wire protocol by hand: bad lengths, garbage, pipelined and dribbled
 * requests, the size limit. The clients around it must not notice.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "badinput.h"
#include "util.h"
#include "util_wire.h"
#include "wire.h"

/* Asserts that the daemon closes fd soon, whatever it sends first. */
static void wire_expect_closed(int fd, const char *what)
{
	uint8_t buf[4096];
	int64_t deadline;
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	deadline = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 +
		   RX_TIMEOUT_MS;
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int64_t now;
		ssize_t n;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
		ck_assert_msg(now < deadline,
			      "%s: the daemon kept the connection open", what);
		if (poll(&pfd, 1, (int)(deadline - now)) <= 0)
			continue;
		n = read(fd, buf, sizeof(buf));
		if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
			return;
	}
}

/* ---- the clients that must not notice ---- */

struct bystanders {
	cand_t *before;
	long log_mark;
};

static void bystanders_start(struct bystanders *b)
{
	b->before = util_open("vcan0");
	b->log_mark = util_log_mark();
}

/*
 * The daemon is alive, the client connected before still works, and one
 * connected after works with it in both directions.
 */
static void bystanders_check(struct bystanders *b)
{
	cand_t *after;
	struct cand_frame f1 = util_frame(0x7A1, 0, "01"), got;
	struct cand_frame f2 = util_frame(0x7A2, 0, "02");

	ck_assert_msg(util_daemon_alive(), "the daemon died");
	after = util_open("vcan0");
	util_send(b->before, &f1, 1);
	util_recv_ok(after, &got, "client connected after, from before");
	util_assert_frame(&got, &f1, "client connected after");
	util_send(after, &f2, 1);
	util_recv_ok(b->before, &got, "client connected before, from after");
	util_assert_frame(&got, &f2, "client connected before");
	cand_close(after);
	cand_close(b->before);
}

static int contains_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay != '\0'; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return 1;
	return 0;
}

/* The daemon says why it dropped the connection: "... length ...". */
static void expect_log_mentions_length(long mark)
{
	char *log = NULL;
	int i;

	for (i = 0; i < 20; i++) {
		free(log);
		log = util_log_since(mark);
		if (contains_ci(log, "length"))
			break;
		util_msleep(50);
	}
	ck_assert_msg(contains_ci(log, "length"),
		      "the daemon log does not mention the bad length; it "
		      "says:\n%s",
		      log);
	free(log);
}

START_TEST(test_garbage_length_prefix)
{
	struct bystanders b;
	static const uint8_t junk[] = {0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x02,
				       0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
	int fd;

	bystanders_start(&b);
	fd = util_wire_connect();
	ck_assert_int_eq(util_wire_write(fd, junk, sizeof(junk)), sizeof(junk));
	wire_expect_closed(fd, "length 0xFFFFFFFF");
	close(fd);
	expect_log_mentions_length(b.log_mark);
	bystanders_check(&b);
}
END_TEST

START_TEST(test_oversized_message)
{
	struct bystanders b;
	size_t body_len = CAND_MAX_MSG + 1;
	uint8_t *body = calloc(1, body_len);
	int fd;

	ck_assert_ptr_nonnull(body);
	bystanders_start(&b);
	fd = util_wire_connect();
	util_wire_send_raw(fd, (uint32_t)body_len, NULL, 0);
	/* Try to push the whole 1 MiB body; the daemon may hang up first. */
	(void)util_wire_write(fd, body, body_len);
	wire_expect_closed(fd, "a message over CAND_MAX_MSG");
	close(fd);
	free(body);
	expect_log_mentions_length(b.log_mark);
	bystanders_check(&b);
}
END_TEST

START_TEST(test_zero_length)
{
	struct bystanders b;
	int fd;

	bystanders_start(&b);
	fd = util_wire_connect();
	util_wire_send_raw(fd, 0, NULL, 0);
	wire_expect_closed(fd, "length 0");
	close(fd);
	expect_log_mentions_length(b.log_mark);
	bystanders_check(&b);
}
END_TEST

START_TEST(test_garbage_protobuf)
{
	struct bystanders b;
	/* Field 1 as a varint longer than ten bytes: undecodable. */
	static const uint8_t junk[] = {0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
				       0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
	Cand__Request req = CAND__REQUEST__INIT;
	Cand__ListRequest list = CAND__LIST_REQUEST__INIT;
	Cand__ServerMsg *m;
	int fd;

	bystanders_start(&b);
	fd = util_wire_connect();
	util_wire_send_raw(fd, sizeof(junk), junk, sizeof(junk));
	m = util_wire_read_reply(fd);
	ck_assert_msg(m != NULL,
		      "the daemon closed the connection without a reply");
	ck_assert_int_eq(m->reply->status, CAND__STATUS__BAD_MESSAGE);
	cand__server_msg__free_unpacked(m, NULL);

	/* If the connection stays, it still answers. */
	req.id = 77;
	req.op_case = CAND__REQUEST__OP_LIST;
	req.list = &list;
	util_wire_send_req(fd, &req);
	m = util_wire_read_reply(fd);
	if (m != NULL) {
		ck_assert_uint_eq(m->reply->id, 77);
		ck_assert_int_eq(m->reply->status, CAND__STATUS__OK);
		ck_assert_int_eq(m->reply->result_case,
				 CAND__REPLY__RESULT_LIST);
		cand__server_msg__free_unpacked(m, NULL);
	}
	close(fd);
	bystanders_check(&b);
}
END_TEST

START_TEST(test_request_without_op)
{
	Cand__Request req = CAND__REQUEST__INIT;
	Cand__ServerMsg *m;
	int fd = util_wire_connect();

	req.id = 4242;
	util_wire_send_req(fd, &req);
	m = util_wire_read_reply(fd);
	ck_assert_msg(m != NULL, "no reply to a request without an op");
	ck_assert_uint_eq(m->reply->id, 4242);
	ck_assert_int_eq(m->reply->status, CAND__STATUS__BAD_MESSAGE);
	cand__server_msg__free_unpacked(m, NULL);
	close(fd);
}
END_TEST

/* Two requests in one write get two replies, in order. */
START_TEST(test_pipelined_requests)
{
	Cand__Request req = CAND__REQUEST__INIT;
	Cand__ListRequest list = CAND__LIST_REQUEST__INIT;
	Cand__ServerMsg *m;
	uint8_t buf[256];
	size_t len, off = 0;
	int fd = util_wire_connect(), i;

	req.op_case = CAND__REQUEST__OP_LIST;
	req.list = &list;
	for (i = 1; i <= 2; i++) {
		req.id = (uint32_t)i;
		len = cand__request__get_packed_size(&req);
		wire_put_len(buf + off, (uint32_t)len);
		cand__request__pack(&req, buf + off + CAND_WIRE_HDR);
		off += CAND_WIRE_HDR + len;
	}
	ck_assert_int_eq(util_wire_write(fd, buf, off), (ssize_t)off);
	for (i = 1; i <= 2; i++) {
		m = util_wire_read_reply(fd);
		ck_assert_msg(m != NULL, "reply %d missing", i);
		ck_assert_uint_eq(m->reply->id, (unsigned)i);
		ck_assert_int_eq(m->reply->status, CAND__STATUS__OK);
		cand__server_msg__free_unpacked(m, NULL);
	}
	close(fd);
}
END_TEST

/* A request that arrives a byte at a time is still one request. */
START_TEST(test_request_dribbled)
{
	Cand__Request req = CAND__REQUEST__INIT;
	Cand__ListRequest list = CAND__LIST_REQUEST__INIT;
	Cand__ServerMsg *m;
	uint8_t buf[64];
	size_t len, i;
	int fd = util_wire_connect();

	req.id = 9;
	req.op_case = CAND__REQUEST__OP_LIST;
	req.list = &list;
	len = cand__request__get_packed_size(&req);
	wire_put_len(buf, (uint32_t)len);
	cand__request__pack(&req, buf + CAND_WIRE_HDR);
	for (i = 0; i < CAND_WIRE_HDR + len; i++) {
		ck_assert_int_eq(util_wire_write(fd, buf + i, 1), 1);
		util_msleep(20);
	}
	m = util_wire_read_reply(fd);
	ck_assert_msg(m != NULL, "no reply to a dribbled request");
	ck_assert_uint_eq(m->reply->id, 9);
	ck_assert_int_eq(m->reply->status, CAND__STATUS__OK);
	cand__server_msg__free_unpacked(m, NULL);
	close(fd);
}
END_TEST

/*
 * The limit is inclusive: a request of exactly CAND_MAX_MSG bytes (a
 * ListRequest padded with an unknown field, which proto3 ignores) works.
 */
START_TEST(test_max_size_message_accepted)
{
	size_t total = CAND_MAX_MSG, pad = total - 9, off = 0;
	uint8_t *buf = calloc(1, CAND_WIRE_HDR + total);
	Cand__ServerMsg *m;
	int fd;

	ck_assert_ptr_nonnull(buf);
	wire_put_len(buf, (uint32_t)total);
	off = CAND_WIRE_HDR;
	buf[off++] = 0x08; /* id = 5 */
	buf[off++] = 0x05;
	buf[off++] = 0x6A; /* list = {} (field 13) */
	buf[off++] = 0x00;
	buf[off++] = 0x9A; /* field 99, length-delimited */
	buf[off++] = 0x06;
	buf[off++] = (uint8_t)(0x80 | (pad & 0x7F)); /* 3-byte varint */
	buf[off++] = (uint8_t)(0x80 | ((pad >> 7) & 0x7F));
	buf[off++] = (uint8_t)(pad >> 14);
	ck_assert_uint_eq(off - CAND_WIRE_HDR + pad, total);
	fd = util_wire_connect();
	ck_assert_int_eq(util_wire_write(fd, buf, CAND_WIRE_HDR + total),
			 (ssize_t)(CAND_WIRE_HDR + total));
	m = util_wire_read_reply(fd);
	ck_assert_msg(m != NULL, "the daemon closed on a %zu-byte request",
		      total);
	ck_assert_uint_eq(m->reply->id, 5);
	ck_assert_int_eq(m->reply->status, CAND__STATUS__OK);
	cand__server_msg__free_unpacked(m, NULL);
	close(fd);
	free(buf);
}
END_TEST

void badinput_wire_tests(TCase *tc)
{
	tcase_add_test(tc, test_garbage_length_prefix);
	tcase_add_test(tc, test_oversized_message);
	tcase_add_test(tc, test_zero_length);
	tcase_add_test(tc, test_garbage_protobuf);
	tcase_add_test(tc, test_request_without_op);
	tcase_add_test(tc, test_pipelined_requests);
	tcase_add_test(tc, test_request_dribbled);
	tcase_add_test(tc, test_max_size_message_accepted);
}
