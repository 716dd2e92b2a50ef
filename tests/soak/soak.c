/*
 * soak_can MODE ARGS: see soak.h and each mode's file for its arguments.
 * What the modes share: signals, the clock, numbers and numbered frames.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "soak.h"

/* Set from the signal handler; nothing else can reach it. */
static volatile sig_atomic_t soak_stop;

static void soak_on_signal(int sig)
{
	(void)sig;
	soak_stop = 1;
}

int soak_stopped(void)
{
	return soak_stop != 0;
}

void soak_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = soak_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int64_t soak_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const struct {
	const char *name;
	int (*run)(int, char **);
	const char *usage;
} soak_modes[] = {
	{"pace", soak_pace,
	 "pace [-c SOCKET] IFACE ID RATE SECONDS  numbered frames, raw or "
	 "through cand"},
	{"check", soak_check,
	 "check SOCKET|- IFACE ID  a steady client (-: a raw control): every "
	 "number, in order"},
	{"churn", soak_churn,
	 "churn SOCKET IFACE SEED  clients that come, work and go, until "
	 "SIGTERM"},
	{"garbage", soak_garbage,
	 "garbage SOCKET SEED  a bad client every 2 s, until SIGTERM"},
	{"sc", soak_sc,
	 "sc ADDRESS PORT IFACE SEED  socketcand clients that come, work, "
	 "err and go, until SIGTERM"},
};

#define SOAK_MODES (sizeof(soak_modes) / sizeof(soak_modes[0]))

int soak_usage(const char *mode)
{
	size_t i;

	for (i = 0; i < SOAK_MODES; i++)
		if (strcmp(soak_modes[i].name, mode) == 0)
			fprintf(stderr, "usage: soak_can %s\n",
				soak_modes[i].usage);
	return 2;
}

long soak_arg(const char *what, const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 0);
	if (errno != 0 || end == s || *end != '\0' || v < 0) {
		fprintf(stderr, "soak_can: bad %s '%s'\n", what, s);
		exit(2);
	}
	return v;
}

uint32_t soak_rand(uint32_t *state)
{
	uint32_t x = *state ? *state : 0x9e3779b9u;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *state = x;
}

cand_t *soak_open(const char *mode, const char *sock, const char *ifname,
		  const struct cand_filter *filter)
{
	struct cand_options o;
	cand_t *h;
	int rc;

	if ((rc = cand_connect(&h, sock)) < 0) {
		fprintf(stderr, "soak_can %s: %s: %s\n", mode, sock,
			cand_strerror(rc));
		return NULL;
	}
	cand_options_init(&o);
	o.channel = ifname;
	o.ignore_rx_error_frames = 1;
	o.filters = filter;
	o.n_filters = 1;
	if ((rc = cand_open(h, &o)) < 0) {
		fprintf(stderr, "soak_can %s: open %s: %s (%s)\n", mode, ifname,
			cand_strerror(rc), cand_last_detail(h));
		cand_close(h);
		return NULL;
	}
	return h;
}

void soak_put_seq(struct cand_frame *f, uint32_t id, uint32_t seq)
{
	uint32_t inv = ~seq;
	int i;

	memset(f, 0, sizeof(*f));
	f->id = id;
	f->len = SOAK_DLEN;
	for (i = 0; i < 4; i++) {
		f->data[i] = (uint8_t)(seq >> (24 - 8 * i));
		f->data[4 + i] = (uint8_t)(inv >> (24 - 8 * i));
	}
}

int soak_get_seq(const struct cand_frame *f, uint32_t id, uint32_t *seq)
{
	uint32_t a = 0, b = 0;
	int i;

	if (f->id != id || f->len != SOAK_DLEN ||
	    (f->flags & ~(CAND_FRAME_OWN | CAND_FRAME_LOCAL)))
		return 0;
	for (i = 0; i < 4; i++) {
		a = a << 8 | f->data[i];
		b = b << 8 | f->data[4 + i];
	}
	if (a != ~b)
		return 0;
	*seq = a;
	return 1;
}

int main(int argc, char **argv)
{
	size_t i;

	for (i = 0; argc > 1 && i < SOAK_MODES; i++)
		if (strcmp(argv[1], soak_modes[i].name) == 0) {
			soak_signals();
			return soak_modes[i].run(argc - 1, argv + 1);
		}
	fprintf(stderr, "usage: soak_can MODE ...\n");
	for (i = 0; i < SOAK_MODES; i++)
		fprintf(stderr, "  soak_can %s\n", soak_modes[i].usage);
	return 2;
}
