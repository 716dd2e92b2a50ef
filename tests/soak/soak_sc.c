/*
 * sc ADDRESS PORT IFACE SEED: socketcand's clients beside libcand's, one
 * TCP connection every 200 ms or so until SIGTERM, each by the dice: a
 * clean one (hi, open, a BCM job added and deleted, a subscription, raw
 * mode, a send, then a close), one that vanishes halfway through an
 * element, one reset (RST) with a job running, or garbage (random bytes,
 * an element with no end). Their ids are 0x6A0-0x6AF, away from the
 * steady clients' stream. Prints
 *
 *   sc: clients N clean C vanished V reset R garbage G failed F
 *
 * failed: a client the daemon did not greet, open or switch (on stderr).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "soak.h"

enum sc_fate { SC_CLEAN, SC_VANISH, SC_RESET, SC_GARBAGE, SC_FATES };

/* Past the daemon's longest element (SC_ELEMENT_MAX, 8 KiB). */
#define SC_GARBAGE_MAX (12 * 1024)

struct sc_peer {
	int fd;
	char in[4096];
	size_t len;
};

static int sc_dial(struct sc_peer *p, const char *addr, int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};

	sa.sin_port = htons((uint16_t)port);
	p->len = 0;
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1 ||
	    (p->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(p->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(p->fd);
		return -1;
	}
	return 0;
}

static int sc_put(struct sc_peer *p, const char *s, size_t n)
{
	return send(p->fd, s, n, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -1;
}

static int sc_say(struct sc_peer *p, const char *s)
{
	return sc_put(p, s, strlen(s));
}

/*
 * Reads until what arrives holds want, within 5 s (a VM short of CPU is
 * slow, not wrong); frames a subscription sends meanwhile are passed
 * over. 0, 1 when the run was stopped meanwhile, or -1 said on stderr.
 */
static int sc_await(struct sc_peer *p, const char *want)
{
	struct pollfd pfd = {.fd = p->fd, .events = POLLIN};
	int64_t until = soak_now_ms() + 5000;
	const char *why = "5 s passed";
	struct sockaddr_in sa = {.sin_port = 0};
	socklen_t len = sizeof(sa);
	ssize_t n;
	char *at;

	for (;;) {
		p->in[p->len] = '\0';
		if ((at = strstr(p->in, want)) != NULL) {
			at += strlen(want);
			p->len -= (size_t)(at - p->in);
			memmove(p->in, at, p->len + 1);
			return 0;
		}
		/* Keep the tail, where want may have begun. */
		if (p->len > sizeof(p->in) / 2) {
			memmove(p->in, p->in + p->len - 64, 64);
			p->len = 64;
		}
		if (soak_now_ms() >= until)
			break;
		n = poll(&pfd, 1, (int)(until - soak_now_ms()));
		/* SIGTERM ends the run, not this client's chances. */
		if (n < 0 && errno == EINTR && soak_stopped())
			return 1;
		if (n < 0 && errno == EINTR)
			continue;
		if (n != 1) {
			why = n < 0 ? strerror(errno) : why;
			break;
		}
		n = recv(p->fd, p->in + p->len, sizeof(p->in) - 1 - p->len, 0);
		if (n <= 0) {
			why = n == 0 ? "the daemon closed" : strerror(errno);
			break;
		}
		p->len += (size_t)n;
	}
	/* Why, and the port the daemon's log names the peer by. */
	if (getsockname(p->fd, (struct sockaddr *)&sa, &len) < 0)
		sa.sin_port = 0;
	fprintf(stderr, "soak_can sc: port %u: no '%s' (%s; had '%.200s')\n",
		ntohs(sa.sin_port), want, why, p->in);
	return -1;
}

/* Greeted and opened on iface, in BCM mode: 0 or -1. */
static int sc_open(struct sc_peer *p, const char *iface)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "< open %s >", iface);
	if (sc_await(p, "< hi >") < 0 || sc_say(p, cmd) < 0 ||
	    sc_await(p, "< ok >") < 0)
		return -1;
	return 0;
}

/* Random bytes, or an element that never ends. */
static void sc_garbage(struct sc_peer *p, uint32_t *rnd)
{
	static char buf[SC_GARBAGE_MAX];
	size_t i, n = 1 + soak_rand(rnd) % sizeof(buf);
	int endless = soak_rand(rnd) % 2;

	for (i = 0; i < n; i++) {
		buf[i] = (char)soak_rand(rnd);
		if (endless && buf[i] == '>')
			buf[i] = 'x';
	}
	if (endless)
		buf[0] = '<';
	sc_put(p, buf, n);
}

/* One client; 0, or -1 when the daemon did not do its part. */
static int sc_client(const char *addr, int port, const char *iface,
		     enum sc_fate fate, uint32_t *rnd)
{
	struct linger rst = {.l_onoff = 1, .l_linger = 0};
	struct sc_peer p;
	char cmd[96];
	unsigned id = 0x6a0 | (soak_rand(rnd) & 0xf);
	int rc = 0;

	if (sc_dial(&p, addr, port) < 0) {
		fprintf(stderr, "soak_can sc: connect: %s\n", strerror(errno));
		return -1;
	}
	if (fate == SC_GARBAGE) {
		sc_garbage(&p, rnd);
		close(p.fd);
		return 0;
	}
	if (sc_open(&p, iface) < 0) {
		close(p.fd);
		return -1;
	}
	snprintf(cmd, sizeof(cmd), "< add 0 %u %X 2 %02X %02X >",
		 10000 + soak_rand(rnd) % 90000, id, soak_rand(rnd) & 0xff,
		 soak_rand(rnd) & 0xff);
	rc = sc_say(&p, cmd);
	if (fate == SC_VANISH) {
		sc_say(&p, "< subscribe 0 0 6A");
	} else if (fate == SC_RESET) {
		setsockopt(p.fd, SOL_SOCKET, SO_LINGER, &rst, sizeof(rst));
	} else if (rc == 0) {
		snprintf(cmd, sizeof(cmd),
			 "< subscribe 0 0 %X >< delete %X >< rawmode >", id,
			 id);
		if (sc_say(&p, cmd) < 0 || sc_await(&p, "< ok >") < 0 ||
		    sc_say(&p, "< send 6AF 2 C0 DE >") < 0)
			rc = -1;
	}
	close(p.fd);
	return rc;
}

int soak_sc(int argc, char **argv)
{
	uint64_t n = 0, by[SC_FATES] = {0}, failed = 0;
	struct timespec ts = {0, 0};
	enum sc_fate fate;
	uint32_t rnd;
	int port;

	if (argc != 5)
		return soak_usage("sc");
	port = (int)soak_arg("port", argv[2]);
	rnd = (uint32_t)soak_arg("seed", argv[4]);
	while (!soak_stopped()) {
		fate = (enum sc_fate)(soak_rand(&rnd) % SC_FATES);
		n++;
		if (sc_client(argv[1], port, argv[3], fate, &rnd) < 0)
			failed++;
		else
			by[fate]++;
		ts.tv_nsec =
			100000000L + (long)(soak_rand(&rnd) % 200) * 1000000L;
		nanosleep(&ts, NULL);
	}
	printf("sc: clients %llu clean %llu vanished %llu reset %llu garbage "
	       "%llu failed %llu\n",
	       (unsigned long long)n, (unsigned long long)by[SC_CLEAN],
	       (unsigned long long)by[SC_VANISH],
	       (unsigned long long)by[SC_RESET],
	       (unsigned long long)by[SC_GARBAGE], (unsigned long long)failed);
	return failed ? 1 : 0;
}
