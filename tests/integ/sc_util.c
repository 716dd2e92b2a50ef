/*
 * A raw TCP client of the socketcand front-end, for the tests. It reads
 * elements the way socketcand's clients do ('<' to the first '>') and
 * fails the test on anything else between them, so the tests also prove
 * the stream has nothing but elements.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sc_util.h"

static int64_t sc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int sc_addr(const char *host, int port, struct sockaddr_storage *ss,
		   socklen_t *len)
{
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		*len = sizeof(*v4);
		return 0;
	}
	ck_assert_msg(inet_pton(AF_INET6, host, &v6->sin6_addr) == 1,
		      "bad address %s", host);
	v6->sin6_family = AF_INET6;
	v6->sin6_port = htons((uint16_t)port);
	*len = sizeof(*v6);
	return 0;
}

struct sc_peer *sc_try_connect(const char *src, const char *dst, int port)
{
	return sc_try_connect_buf(src, dst, port, 0);
}

struct sc_peer *sc_try_connect_buf(const char *src, const char *dst, int port,
				   int rcvbuf)
{
	struct sockaddr_storage to, from;
	socklen_t tolen, fromlen;
	struct sc_peer *p = calloc(1, sizeof(*p));
	int one = 1;

	ck_assert_ptr_nonnull(p);
	sc_addr(dst, port, &to, &tolen);
	p->fd = socket(to.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_msg(p->fd >= 0, "socket: %s", strerror(errno));
	setsockopt(p->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* Before connect, so the window is agreed on with it. */
	if (rcvbuf > 0)
		setsockopt(p->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
			   sizeof(rcvbuf));
	if (src != NULL) {
		sc_addr(src, 0, &from, &fromlen);
		ck_assert_msg(bind(p->fd, (struct sockaddr *)&from, fromlen) ==
				      0,
			      "bind %s: %s", src, strerror(errno));
	}
	if (connect(p->fd, (struct sockaddr *)&to, tolen) < 0) {
		close(p->fd);
		free(p);
		return NULL;
	}
	return p;
}

struct sc_peer *sc_connect(const char *src)
{
	struct sc_peer *p = sc_try_connect(src, "127.0.0.1", SC_PORT);

	ck_assert_msg(p != NULL, "connect to 127.0.0.1:%d: %s", SC_PORT,
		      strerror(errno));
	return p;
}

void sc_close(struct sc_peer *p)
{
	if (p == NULL)
		return;
	close(p->fd);
	free(p);
}

void sc_write(struct sc_peer *p, const char *s)
{
	size_t len = strlen(s), off = 0;
	ssize_t n;

	while (off < len) {
		n = send(p->fd, s + off, len - off, MSG_NOSIGNAL);
		ck_assert_msg(n > 0, "send '%s': %s", s, strerror(errno));
		off += (size_t)n;
	}
}

/* Reads what is there within ms into the buffer: >0, 0 timeout, -1 EOF. */
static int sc_fill(struct sc_peer *p, int ms)
{
	struct pollfd pfd = {.fd = p->fd, .events = POLLIN};
	ssize_t n;

	if (poll(&pfd, 1, ms) <= 0)
		return 0;
	ck_assert_msg(p->len < sizeof(p->buf), "input buffer full");
	n = recv(p->fd, p->buf + p->len, sizeof(p->buf) - p->len, 0);
	if (n <= 0)
		return -1;
	p->len += (size_t)n;
	return 1;
}

int sc_next(struct sc_peer *p, char *out, size_t size, int timeout_ms)
{
	int64_t end = sc_now_ms() + timeout_ms;
	char *gt;
	size_t n;
	int rc;

	for (;;) {
		if (p->len > 0) {
			ck_assert_msg(p->buf[0] == '<',
				      "bytes outside an element: '%.*s'",
				      (int)(p->len < 40 ? p->len : 40), p->buf);
			gt = memchr(p->buf, '>', p->len);
			if (gt != NULL) {
				n = (size_t)(gt - p->buf) + 1;
				ck_assert_msg(n < size, "element too long");
				memcpy(out, p->buf, n);
				out[n] = '\0';
				memmove(p->buf, p->buf + n, p->len - n);
				p->len -= n;
				return 1;
			}
		}
		rc = sc_fill(p, (int)(end - sc_now_ms() > 0 ? end - sc_now_ms()
							    : 0));
		if (rc <= 0)
			return rc;
	}
}

void sc_expect(struct sc_peer *p, const char *want, const char *what)
{
	char got[512];
	int rc = sc_next(p, got, sizeof(got), RX_TIMEOUT_MS);

	ck_assert_msg(rc == 1, "%s: no element (%s), want '%s'", what,
		      rc == 0 ? "timeout" : "connection closed", want);
	ck_assert_msg(strcmp(got, want) == 0, "%s: got '%s', want '%s'", what,
		      got, want);
}

void sc_expect_prefix(struct sc_peer *p, const char *prefix, char *out,
		      size_t size, const char *what)
{
	int rc = sc_next(p, out, size, RX_TIMEOUT_MS);

	ck_assert_msg(rc == 1, "%s: no element (%s), want '%s...'", what,
		      rc == 0 ? "timeout" : "connection closed", prefix);
	ck_assert_msg(strncmp(out, prefix, strlen(prefix)) == 0,
		      "%s: got '%s', want '%s...'", what, out, prefix);
}

void sc_expect_none(struct sc_peer *p, int ms, const char *what)
{
	char got[512];
	int rc = sc_next(p, got, sizeof(got), ms);

	ck_assert_msg(rc == 0, "%s: got %s", what,
		      rc == 1 ? got : "the connection closed");
}

void sc_expect_eof(struct sc_peer *p, const char *what)
{
	char got[512];
	int rc;

	while ((rc = sc_next(p, got, sizeof(got), RX_TIMEOUT_MS)) == 1)
		ck_abort_msg("%s: got '%s', want the connection closed", what,
			     got);
	ck_assert_msg(rc == -1, "%s: still open after %d ms", what,
		      RX_TIMEOUT_MS);
}

void sc_expect_frame(struct sc_peer *p, const char *head, const char *tail,
		     const char *what)
{
	char got[512];
	const char *t;
	char *end;
	double ts, now = (double)util_now_ns() / 1e9;
	size_t i;

	sc_expect_prefix(p, head, got, sizeof(got), what);
	t = got + strlen(head);
	for (i = 0; t[i] >= '0' && t[i] <= '9'; i++)
		;
	ck_assert_msg(i > 0 && t[i] == '.', "%s: '%s': no SEC. after '%s'",
		      what, got, head);
	for (i++; t[i] >= '0' && t[i] <= '9'; i++)
		;
	ck_assert_msg(strchr(t, '.') + 7 == t + i,
		      "%s: '%s': the time has not 6 digits of usec", what, got);
	ts = strtod(t, &end);
	ck_assert_msg(ts > now - 10 && ts < now + 10,
		      "%s: '%s': time %.6f is not now (%.6f)", what, got, ts,
		      now);
	ck_assert_msg(strcmp(t + i, tail) == 0, "%s: got '%s', want '%s%s'",
		      what, got, head, tail);
}

void sc_sync(struct sc_peer *p)
{
	sc_write(p, "< echo >");
	sc_expect(p, "< echo >", "echo");
}

struct sc_peer *sc_open_bus(const char *src, const char *bus, const char *mode)
{
	struct sc_peer *p = sc_connect(src);
	char cmd[64];

	sc_expect(p, "< hi >", "greeting");
	snprintf(cmd, sizeof(cmd), "< open %s >", bus);
	sc_write(p, cmd);
	sc_expect(p, "< ok >", cmd);
	if (mode != NULL) {
		snprintf(cmd, sizeof(cmd), "< %s >", mode);
		sc_write(p, cmd);
		sc_expect(p, "< ok >", cmd);
	}
	sc_sync(p);
	return p;
}

size_t sc_read_raw(struct sc_peer *p, char *out, size_t size, int timeout_ms)
{
	struct pollfd pfd = {.fd = p->fd, .events = POLLIN};
	ssize_t n = 0;

	if (poll(&pfd, 1, timeout_ms) > 0)
		n = recv(p->fd, out, size - 1, 0);
	if (n < 0)
		n = 0;
	out[n] = '\0';
	return (size_t)n;
}
