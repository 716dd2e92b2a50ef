/*
 * garbage SOCKET SEED: until SIGTERM, every 2 s or so, a client that
 * speaks nonsense: random bytes, a length over the protocol's limit, a
 * length of 0, or a well-framed body that does not decode; it reads for
 * a moment whatever the daemon answers, then goes. Prints
 *
 *   garbage: clients N answered A closed C
 *
 * answered: the daemon replied (BAD_MESSAGE); closed: it hung up on us.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "soak.h"
#include "wire.h"

#define GARBAGE_MAX 4096

/* One bad client's bytes into buf; their count. */
static size_t garbage_bytes(unsigned char *buf, uint32_t *rnd)
{
	size_t i, n = 1 + soak_rand(rnd) % (GARBAGE_MAX - CAND_WIRE_HDR);

	for (i = 0; i < n + CAND_WIRE_HDR; i++)
		buf[i] = (unsigned char)soak_rand(rnd);
	switch (soak_rand(rnd) % 4) {
	case 0: /* random from the first byte */
		break;
	case 1:
		wire_put_len(buf, CAND_MAX_MSG + 1 + soak_rand(rnd) % 1000);
		break;
	case 2:
		wire_put_len(buf, 0);
		break;
	default: /* framed, and not a Request */
		wire_put_len(buf, (uint32_t)n);
		break;
	}
	return n + CAND_WIRE_HDR;
}

/* 1 if the daemon answered, 2 if it hung up, 0 if neither in 200 ms. */
static int garbage_one(const char *path, uint32_t *rnd)
{
	unsigned char buf[GARBAGE_MAX];
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct pollfd pfd;
	size_t len;
	ssize_t n;
	int s, rc = 0;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "soak_can garbage: connect: %s\n",
			strerror(errno));
		close(s);
		return -1;
	}
	len = garbage_bytes(buf, rnd);
	if (send(s, buf, len, MSG_NOSIGNAL) < 0 && errno != EPIPE &&
	    errno != ECONNRESET)
		fprintf(stderr, "soak_can garbage: send: %s\n",
			strerror(errno));
	pfd.fd = s;
	pfd.events = POLLIN;
	while (rc == 0 && poll(&pfd, 1, 200) == 1) {
		n = recv(s, buf, sizeof(buf), 0);
		rc = n > 0 ? 1 : 2;
	}
	close(s);
	return rc;
}

int soak_garbage(int argc, char **argv)
{
	uint64_t n = 0, answered = 0, closed = 0;
	struct timespec ts;
	uint32_t rnd;
	int rc;

	if (argc != 3) {
		fprintf(stderr, "usage: soak_can garbage SOCKET SEED\n");
		return 2;
	}
	rnd = (uint32_t)soak_arg("seed", argv[2]);
	while (!soak_stopped()) {
		rc = garbage_one(argv[1], &rnd);
		n++;
		answered += rc == 1;
		closed += rc == 2;
		ts.tv_sec = 1 + soak_rand(&rnd) % 2;
		ts.tv_nsec = (long)(soak_rand(&rnd) % 1000) * 1000000L;
		nanosleep(&ts, NULL);
	}
	printf("garbage: clients %llu answered %llu closed %llu\n",
	       (unsigned long long)n, (unsigned long long)answered,
	       (unsigned long long)closed);
	return 0;
}
