/*
 * The socketcand bench client: one TCP connection to cand's socketcand
 * front-end in raw mode, reading frames as python-can's socketcand
 * interface does: cut an element from '<' to the first '>', take
 * "< frame ID SEC.USEC DATA >" apart at its blanks, the id and the data
 * from hex, the time as a float. Unlike python-can 4.1 it keeps an
 * element a read cut in two (python-can drops one character too many and
 * with it that frame), so what it counts is what cand delivered. And the
 * loopback TCP pair for the minimal relay over TCP, the floor of any
 * network front-end in this VM.
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
#include <unistd.h>

#include "bench.h"

/* How long the greeting, open and mode switch may take. */
#define SCRX_SETUP_MS 5000

struct scrx {
	int fd;
	uint64_t drops; /* what cand's error elements said was lost */
	size_t off, len;
	char buf[1 << 16];
};

/* Reads more within ms: 1, 0 on timeout, -1 at EOF or error. */
static int scrx_fill(struct scrx *s, int ms)
{
	struct pollfd pfd = {.fd = s->fd, .events = POLLIN};
	ssize_t n;

	if (s->off > 0) {
		memmove(s->buf, s->buf + s->off, s->len - s->off);
		s->len -= s->off;
		s->off = 0;
	}
	if (s->len == sizeof(s->buf))
		return -1; /* an element longer than any frame */
	if (poll(&pfd, 1, ms) <= 0)
		return 0;
	n = recv(s->fd, s->buf + s->len, sizeof(s->buf) - s->len, 0);
	if (n <= 0)
		return -1;
	s->len += (size_t)n;
	return 1;
}

/* The next element, NUL-terminated in place: 1, 0 timeout, -1 EOF. */
static int scrx_element(struct scrx *s, char **el, size_t *len, int ms)
{
	char *lt, *gt;
	int rc;

	for (;;) {
		lt = memchr(s->buf + s->off, '<', s->len - s->off);
		gt = lt != NULL
			     ? memchr(lt, '>', s->len - (size_t)(lt - s->buf))
			     : NULL;
		if (gt != NULL) {
			*el = lt;
			*len = (size_t)(gt - lt) + 1;
			s->off = (size_t)(gt - s->buf) + 1;
			return 1;
		}
		if (lt == NULL)
			s->off = s->len; /* nothing but blanks */
		if ((rc = scrx_fill(s, ms)) <= 0)
			return rc;
	}
}

/* Elements until want; frames before it are dropped. 0 or -1. */
static int scrx_until(struct scrx *s, const char *want, char *msg, size_t msize)
{
	size_t len, n = strlen(want);
	char *el;

	for (;;) {
		if (scrx_element(s, &el, &len, SCRX_SETUP_MS) <= 0) {
			fmt_msg(msg, msize, "socketcand: no '%s'", want);
			return -1;
		}
		if (len == n && memcmp(el, want, n) == 0)
			return 0;
		if (len > 8 && memcmp(el, "< error ", 8) == 0) {
			fmt_msg(msg, msize, "socketcand: %.*s", (int)len, el);
			return -1;
		}
	}
}

static int scrx_say(struct scrx *s, const char *cmd)
{
	size_t n = strlen(cmd);

	return send(s->fd, cmd, n, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -1;
}

struct scrx *scrx_open(const char *ifname, char *msg, size_t msize)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons(BENCH_SC_PORT),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct scrx *s = calloc(1, sizeof(*s));
	char cmd[64];
	int one = 1;

	if (s == NULL) {
		fmt_msg(msg, msize, "out of memory");
		return NULL;
	}
	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->fd < 0 || connect(s->fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		fmt_msg(msg, msize, "socketcand connect: %s", strerror(errno));
		scrx_close(s);
		return NULL;
	}
	setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	snprintf(cmd, sizeof(cmd), "< open %s >", ifname);
	/*
	 * As python-can: hi, open, rawmode, each answer awaited. The echo
	 * then tells cand the ok was read, so frames start at once.
	 */
	if (scrx_until(s, "< hi >", msg, msize) < 0 || scrx_say(s, cmd) < 0 ||
	    scrx_until(s, "< ok >", msg, msize) < 0 ||
	    scrx_say(s, "< rawmode >") < 0 ||
	    scrx_until(s, "< ok >", msg, msize) < 0 ||
	    scrx_say(s, "< echo >") < 0 ||
	    scrx_until(s, "< echo >", msg, msize) < 0) {
		scrx_close(s);
		return NULL;
	}
	return s;
}

void scrx_close(struct scrx *s)
{
	if (s == NULL)
		return;
	if (s->fd >= 0)
		close(s->fd);
	free(s);
}

static int scrx_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * "< frame ID SEC.USEC DATA >" as python-can takes it: the text between
 * "< frame " and " >", split at the first two blanks. 0, or -1.
 */
static int scrx_frame(char *el, size_t len, uint8_t *data, unsigned *dlen)
{
	char *p, *end, *ts, *hex;
	unsigned long id;
	double t;
	size_t n, i;
	int hi, lo;

	if (len < 10 || memcmp(el, "< frame ", 8) != 0 ||
	    memcmp(el + len - 2, " >", 2) != 0)
		return -1;
	el[len - 2] = '\0';
	p = el + 8;
	id = strtoul(p, &end, 16);
	if (*end != ' ')
		return -1;
	ts = end + 1;
	t = strtod(ts, &end);
	if (*end != ' ' || t <= 0 || id > 0x1fffffff)
		return -1;
	hex = end + 1;
	n = strlen(hex) / 2;
	if (n > 8 || strlen(hex) % 2 != 0)
		return -1;
	for (i = 0; i < n; i++) {
		if ((hi = scrx_hex(hex[2 * i])) < 0 ||
		    (lo = scrx_hex(hex[2 * i + 1])) < 0)
			return -1;
		data[i] = (uint8_t)(hi << 4 | lo);
	}
	*dlen = (unsigned)n;
	return 0;
}

uint64_t scrx_drops(const struct scrx *s)
{
	return s->drops;
}

int scrx_next(struct scrx *s, uint8_t *data, unsigned *len, char *msg,
	      size_t msize)
{
	unsigned long long drops;
	size_t n;
	char *el;
	int rc;

	for (;;) {
		rc = scrx_element(s, &el, &n, RX_POLL_MS);
		if (rc == 0)
			return 0;
		if (rc < 0) {
			fmt_msg(msg, msize, "socketcand: connection ended");
			return -1;
		}
		if (scrx_frame(el, n, data, len) == 0)
			return 1;
		/* Not a frame: an error element, which may count a loss. */
		el[n - 1] = '\0';
		if (sscanf(el, "< error the kernel dropped %llu frames",
			   &drops) == 1)
			s->drops += drops;
	}
}

int scrx_tcp_pair(int sv[2], char *msg, size_t msize)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int l, one = 1;

	sv[0] = sv[1] = -1;
	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(l, 1) < 0 ||
	    getsockname(l, (struct sockaddr *)&a, &len) < 0 ||
	    (sv[0] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(sv[0], (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    (sv[1] = accept4(l, NULL, NULL, SOCK_CLOEXEC)) < 0) {
		fmt_msg(msg, msize, "loopback TCP pair: %s", strerror(errno));
		if (sv[0] >= 0)
			close(sv[0]);
		if (l >= 0)
			close(l);
		return -1;
	}
	close(l);
	setsockopt(sv[0], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(sv[1], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return 0;
}
