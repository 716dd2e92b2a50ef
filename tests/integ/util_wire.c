/*
 * A client that speaks the wire protocol by hand, for the tests that send
 * what libcand never would: broken framing, undecodable requests, a send's
 * frames in the form libcand no longer uses.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "util.h"
#include "util_wire.h"
#include "wire.h"

int util_wire_connect(void)
{
	struct sockaddr_un sa;
	const char *path = getenv("CAND_SOCKET");
	int fd;

	ck_assert_ptr_nonnull(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_msg(fd >= 0, "socket: %s", strerror(errno));
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ck_assert_msg(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0,
		      "connect %s: %s", path, strerror(errno));
	return fd;
}

/* Writes what it can; the daemon may close on us halfway. */
ssize_t util_wire_write(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		struct pollfd pfd = {.fd = fd, .events = POLLOUT};

		if (poll(&pfd, 1, RX_TIMEOUT_MS) <= 0)
			break;
		n = send(fd, p + done, len - done, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

void util_wire_send_raw(int fd, uint32_t len, const void *body, size_t body_len)
{
	uint8_t hdr[CAND_WIRE_HDR];

	wire_put_len(hdr, len);
	ck_assert_int_eq(util_wire_write(fd, hdr, sizeof(hdr)), sizeof(hdr));
	if (body_len > 0)
		ck_assert_int_eq(util_wire_write(fd, body, body_len),
				 (ssize_t)body_len);
}

void util_wire_send_req(int fd, const Cand__Request *req)
{
	size_t len = cand__request__get_packed_size(req);
	uint8_t *buf = malloc(len + 1);

	ck_assert_ptr_nonnull(buf);
	cand__request__pack(req, buf);
	util_wire_send_raw(fd, (uint32_t)len, buf, len);
	free(buf);
}

/* Reads exactly len bytes: 1, 0 on EOF/reset, -1 on timeout. */
static int util_wire_read_full(int fd, uint8_t *buf, size_t len, int timeout_ms)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int rc = poll(&pfd, 1, timeout_ms);

		if (rc == 0)
			return -1;
		ck_assert_msg(rc > 0, "poll: %s", strerror(errno));
		n = read(fd, buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		got += (size_t)n;
	}
	return 1;
}

/* The next ServerMsg, or NULL when the daemon closed the connection. */
Cand__ServerMsg *util_wire_read_msg(int fd)
{
	uint8_t hdr[CAND_WIRE_HDR], *body;
	uint32_t len;
	Cand__ServerMsg *m;
	int rc;

	rc = util_wire_read_full(fd, hdr, sizeof(hdr), RX_TIMEOUT_MS);
	ck_assert_msg(rc >= 0, "no message from the daemon in %d ms",
		      RX_TIMEOUT_MS);
	if (rc == 0)
		return NULL;
	len = wire_get_len(hdr);
	ck_assert_msg(len > 0 && len <= CAND_MAX_MSG, "daemon sent length %u",
		      len);
	body = malloc(len);
	ck_assert_ptr_nonnull(body);
	rc = util_wire_read_full(fd, body, len, RX_TIMEOUT_MS);
	ck_assert_msg(rc == 1, "short message from the daemon");
	m = cand__server_msg__unpack(NULL, len, body);
	free(body);
	ck_assert_msg(m != NULL, "the daemon sent an undecodable ServerMsg");
	return m;
}

/* The next Reply, skipping events. NULL if the connection closed. */
Cand__ServerMsg *util_wire_read_reply(int fd)
{
	Cand__ServerMsg *m;

	while ((m = util_wire_read_msg(fd)) != NULL) {
		if (m->msg_case == CAND__SERVER_MSG__MSG_REPLY)
			return m;
		cand__server_msg__free_unpacked(m, NULL);
	}
	return NULL;
}
