/*
 * canctl gen: cangen through cand. Frames with random, incrementing or
 * fixed ids, lengths and data, a burst and then a gap, or as fast as
 * cand takes them (-g 0): then in batches, one request each, sent ahead
 * of the replies so the next is made while cand sends this one. A full
 * TX queue is waited out: for -p's timeout and again, as cangen polls;
 * for the daemon's retry without it.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "canctl.h"
#include "filtertext.h"
#include "frametext.h"

#define CANCTL_GEN_BATCH      2048 /* frames per cand_send() in a flood */
#define CANCTL_GEN_TIMEOUT_MS 1000 /* the daemon's retries without -p */
#define CANCTL_GEN_MAX_GAP_MS 3600000.0

enum canctl_gen_mode { CANCTL_GEN_RANDOM, CANCTL_GEN_INC, CANCTL_GEN_FIX };

struct canctl_gen {
	const char *iface;
	enum canctl_gen_mode id_mode, len_mode, data_mode;
	uint32_t fix_id;
	unsigned fix_len;
	uint8_t fix_data[CAND_MAX_DLEN];
	int extended, fd, brs, esi, rtr, mix;
	int ignore_full, loopback, verbose;
	long poll_ms; /* -p, or -1 */
	unsigned long burst;
	uint64_t gap_ns;
	long count; /* frames left, or -1 */
	/* The state of the increment modes. */
	uint32_t id;
	unsigned len_step;
	uint64_t data_step;
	unsigned short rng[3]; /* jrand48's: no lock, 32 bits a call */
	unsigned long long enobufs;
	cand_t *h;
	int timer;
	const sigset_t *waitmask;
};

static const uint8_t canctl_gen_fd_lens[16] = {0, 1,  2,  3,  4,  5,  6,  7,
					       8, 12, 16, 20, 24, 32, 48, 64};

/* The length an FD frame can have at or above len, as cangen rounds. */
static unsigned canctl_gen_fd_len(unsigned len)
{
	unsigned dlc;

	for (dlc = 0; dlc < 15 && canctl_gen_fd_lens[dlc] < len; dlc++)
		;
	return canctl_gen_fd_lens[dlc];
}

/* The next frame, as cangen makes it. */
static void canctl_gen_frame(struct canctl_gen *g, struct cand_frame *f)
{
	unsigned i, max = g->fd ? CAND_MAX_DLEN : 8;
	uint32_t r = 0;

	/* No ifname: the channel is bound to the interface, so it is that. */
	memset(f, 0, sizeof(*f));
	if (g->id_mode == CANCTL_GEN_RANDOM)
		g->id = (uint32_t)jrand48(g->rng);
	f->id = g->id & (g->extended ? 0x1fffffffu : 0x7ffu);
	f->flags = g->extended ? CAND_FRAME_EXTENDED : 0;
	if (g->fd)
		f->flags |= CAND_FRAME_FD | (g->brs ? CAND_FRAME_BRS : 0) |
			    (g->esi ? CAND_FRAME_ESI : 0);
	else if (g->rtr)
		f->flags |= CAND_FRAME_REMOTE;

	if (g->len_mode == CANCTL_GEN_RANDOM) {
		r = (uint32_t)jrand48(g->rng);
		f->len = g->fd ? canctl_gen_fd_lens[r & 0xf]
			       : (uint8_t)((r & 8) ? 8 : r & 0xf);
	} else if (g->len_mode == CANCTL_GEN_INC)
		f->len = g->fd && !g->mix
				 ? canctl_gen_fd_lens[g->len_step & 0xf]
				 : (uint8_t)(g->len_step % 9);
	else
		f->len = (uint8_t)(g->fd ? canctl_gen_fd_len(g->fix_len)
					 : (g->fix_len > 8 ? 8 : g->fix_len));
	if (f->len > max)
		f->len = (uint8_t)max;
	if (g->data_mode == CANCTL_GEN_INC && f->len == 0)
		f->len = 1;

	if (f->flags & CAND_FRAME_REMOTE)
		return;
	for (i = 0; i < f->len; i++) {
		if (g->data_mode == CANCTL_GEN_FIX)
			f->data[i] = g->fix_data[i];
		else if (g->data_mode == CANCTL_GEN_INC)
			f->data[i] =
				i < 8 ? (uint8_t)(g->data_step >> (8 * i)) : 0;
		else {
			if (i % 4 == 0)
				r = (uint32_t)jrand48(g->rng);
			f->data[i] = (uint8_t)(r >> (8 * (i % 4)));
		}
	}
}

/* After each frame: the increment modes move on, -m draws the kind. */
static void canctl_gen_step(struct canctl_gen *g)
{
	long r;

	if (g->id_mode == CANCTL_GEN_INC)
		g->id++;
	if (g->len_mode == CANCTL_GEN_INC)
		g->len_step++;
	if (g->data_mode == CANCTL_GEN_INC)
		g->data_step++;
	if (g->mix) {
		r = jrand48(g->rng);
		g->extended = r & 1;
		g->fd = (r & 2) != 0;
		g->brs = g->fd && (r & 4);
		g->esi = g->fd && (r & 8);
		g->rtr = (r & 24) == 24;
	}
}

static void canctl_gen_print(const struct canctl_gen *g,
			     const struct cand_frame *f)
{
	char text[FRAMETEXT_MAX];

	if (g->verbose > 1)
		frametext_format_long(text, sizeof(text), f,
				      g->verbose > 2 ? FRAMETEXT_ASCII : 0);
	else
		frametext_format_dotted(text, sizeof(text), f);
	printf("  %s  %s\n", g->iface, text);
}

/*
 * Sends n frames. A full queue is waited out (-p: its timeout, again and
 * again, as cangen polls), or with -i its frame dropped and counted.
 */
static int canctl_gen_send(struct canctl_gen *g, const struct cand_frame *f,
			   size_t n)
{
	size_t done = 0;
	int rc, timeout = g->ignore_full    ? 0
			  : g->poll_ms >= 0 ? (int)g->poll_ms
					    : CANCTL_GEN_TIMEOUT_MS;

	/* Without -p or -i nothing is resent: the next batch can go ahead. */
	if (!g->ignore_full && g->poll_ms < 0) {
		if ((rc = cand_send_async(g->h, f, n, timeout)) < 0)
			return canctl_util_fail(g->h, rc, "send");
		return 0;
	}
	while (done < n) {
		rc = cand_send(g->h, f + done, n - done, timeout);
		if (rc >= 0)
			done += (size_t)rc;
		if (done == n)
			break;
		if (rc < 0 && rc != CAND_ETXFULL)
			return canctl_util_fail(g->h, rc, "send");
		if (g->ignore_full) {
			g->enobufs++;
			done++; /* lost, as cangen -i loses it */
		} else if (g->poll_ms < 0) {
			return canctl_util_fail(g->h, CAND_ETXFULL, "send");
		}
		if (canctl_util_stopped())
			return 0;
	}
	return 0;
}

/* Waits until the timer expires or a stop signal comes. */
static int canctl_gen_wait(struct canctl_gen *g)
{
	struct pollfd pfd = {.fd = g->timer, .events = POLLIN};
	uint64_t expirations;

	while (!canctl_util_stopped()) {
		if (ppoll(&pfd, 1, NULL, g->waitmask) > 0)
			return read(g->timer, &expirations,
				    sizeof(expirations)) < 0 &&
					       errno != EAGAIN
				       ? 1
				       : 0;
		if (errno != EINTR) {
			perror("canctl: poll");
			return 1;
		}
	}
	return 0;
}

/* Arms the timer for one gap from now, as cangen sleeps after a write. */
static int canctl_gen_arm(struct canctl_gen *g)
{
	struct itimerspec its = {{0, 0}, {0, 0}};

	its.it_value.tv_sec = (time_t)(g->gap_ns / 1000000000u);
	its.it_value.tv_nsec = (long)(g->gap_ns % 1000000000u);
	if (timerfd_settime(g->timer, 0, &its, NULL) < 0) {
		perror("canctl: timerfd");
		return 1;
	}
	return 0;
}

static int canctl_gen_run(struct canctl_gen *g, struct cand_frame *batch)
{
	unsigned long left = g->burst; /* frames of this burst still to go */
	size_t n, max;
	int rc;

	while (g->count != 0 && !canctl_util_stopped()) {
		max = CANCTL_GEN_BATCH;
		if (g->gap_ns > 0 && left < max)
			max = left;
		for (n = 0; n < max && g->count != 0; n++) {
			canctl_gen_frame(g, &batch[n]);
			if (g->verbose)
				canctl_gen_print(g, &batch[n]);
			canctl_gen_step(g);
			if (g->count > 0)
				g->count--;
		}
		if (g->verbose && fflush(stdout) == EOF)
			return errno == EPIPE ? 0 : 1;
		if ((rc = canctl_gen_send(g, batch, n)) != 0)
			return rc;
		if (g->gap_ns == 0 || (left -= n) > 0)
			continue;
		left = g->burst;
		if (g->count != 0 && ((rc = canctl_gen_arm(g)) != 0 ||
				      (rc = canctl_gen_wait(g)) != 0))
			return rc;
	}
	if ((rc = cand_send_wait(g->h, NULL)) < 0)
		return canctl_util_fail(g->h, rc, "send");
	if (g->enobufs > 0)
		printf("\nCounted %llu ENOBUFS return values on write().\n\n",
		       g->enobufs);
	return 0;
}

static int canctl_gen_mode(const char *opt, const char *s,
			   enum canctl_gen_mode *mode)
{
	if (strcmp(s, "r") == 0)
		*mode = CANCTL_GEN_RANDOM;
	else if (strcmp(s, "i") == 0)
		*mode = CANCTL_GEN_INC;
	else if (*s == '\0')
		return canctl_usage_error("empty %s mode", opt);
	else
		*mode = CANCTL_GEN_FIX;
	return 0;
}

/* The fixed value of -I, -L or -D; 0 or the exit status. */
static int canctl_gen_fixed(struct canctl_gen *g, int opt, const char *s)
{
	const char *why;
	char text[8 + 2 * CAND_MAX_DLEN + 1];
	struct cand_frame f;
	char *end;
	unsigned long v;

	if (opt == 'I') {
		if (filtertext_hex32(s, s + strlen(s), &g->fix_id) < 0 ||
		    g->fix_id > 0x1fffffffu)
			return canctl_usage_error("bad CAN id '%s' (hex, at "
						  "most 1FFFFFFF)",
						  s);
		g->id = g->fix_id;
		return 0;
	}
	if (opt == 'L') {
		errno = 0;
		v = strtoul(s, &end, 10);
		if (errno != 0 || end == s || *end != '\0' || v > 64)
			return canctl_usage_error("bad length '%s' (0 to 8, "
						  "or 64 for CAN FD)",
						  s);
		g->fix_len = (unsigned)v;
		return 0;
	}
	/* Hex bytes, parsed as an FD frame's data would be. */
	snprintf(text, sizeof(text), "000##0%s", s);
	if (strlen(s) > 2 * CAND_MAX_DLEN || strchr(s, '.') != NULL ||
	    frametext_parse(text, &f, &why) < 0)
		return canctl_usage_error("bad data '%s' (hex bytes, up to "
					  "64)",
					  s);
	memcpy(g->fix_data, f.data, sizeof(g->fix_data));
	return 0;
}

static int canctl_gen_options(struct canctl_gen *g, int argc, char **argv)
{
	enum canctl_gen_mode *mode;
	char *end;
	double gap;
	long v;
	int ch, rc;

	optind = 0;
	while ((ch = getopt(argc, argv, ":g:ebEfmRI:L:D:p:n:ixc:v")) != -1) {
		switch (ch) {
		case 'g':
			errno = 0;
			gap = strtod(optarg, &end);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    !(gap >= 0 && gap <= CANCTL_GEN_MAX_GAP_MS))
				return canctl_usage_error(
					"gap '%s' out of range (0 to an hour, "
					"in ms)",
					optarg);
			g->gap_ns = (uint64_t)(gap * 1000000.0 + 0.5);
			break;
		case 'e':
			g->extended = 1;
			break;
		case 'b':
			g->brs = g->fd = 1;
			break;
		case 'E':
			g->esi = g->fd = 1;
			break;
		case 'f':
			g->fd = 1;
			break;
		case 'm':
			g->mix = g->fd = 1;
			break;
		case 'R':
			g->rtr = 1;
			break;
		case 'I':
		case 'L':
		case 'D':
			mode = ch == 'I'   ? &g->id_mode
			       : ch == 'L' ? &g->len_mode
					   : &g->data_mode;
			if ((rc = canctl_gen_mode(optarg, optarg, mode)) != 0)
				return rc;
			if (*mode == CANCTL_GEN_FIX &&
			    (rc = canctl_gen_fixed(g, ch, optarg)) != 0)
				return rc;
			break;
		case 'p':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    v < 1 || v > INT_MAX)
				return canctl_usage_error(
					"bad poll timeout '%s' "
					"(ms, 1 or more)",
					optarg);
			g->poll_ms = v;
			break;
		case 'n':
			if (canctl_util_count(optarg, &g->count) != 0)
				return 2;
			break;
		case 'i':
			g->ignore_full = 1;
			break;
		case 'x':
			g->loopback = 0;
			break;
		case 'c':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    v < 1 || v > INT_MAX)
				return canctl_usage_error(
					"bad burst '%s' (1 or "
					"more)",
					optarg);
			g->burst = (unsigned long)v;
			break;
		case 'v':
			g->verbose++;
			break;
		default:
			return canctl_bad_option(ch, argv);
		}
	}
	if (optind != argc - 1)
		return canctl_usage_error("gen needs one interface");
	g->iface = argv[optind];
	if (canctl_util_iface("gen", g->iface) != 0)
		return 2;
	if (g->id_mode == CANCTL_GEN_FIX && g->fix_id > 0x7ff && !g->extended)
		return canctl_usage_error("CAN id %X is over 7FF: extended "
					  "ones need -e",
					  g->fix_id);
	return 0;
}

/* An FD frame needs an FD interface: said before anything goes out. */
static int canctl_gen_check_fd(struct canctl_gen *g)
{
	struct cand_iface *v;
	int i, n;

	if (!g->fd)
		return 0;
	if ((n = cand_list(g->h, &v)) < 0)
		return canctl_util_fail(g->h, n, "list");
	for (i = 0; i < n && strcmp(v[i].name, g->iface) != 0; i++)
		;
	if (i < n && v[i].mtu != 72) {
		fprintf(stderr,
			"canctl: %s is not CAN FD capable (mtu %u), so no "
			"-f, -b, -E or -m\n",
			g->iface, v[i].mtu);
		free(v);
		return 1;
	}
	free(v);
	return 0;
}

static int canctl_gen_open(struct canctl_gen *g, const char *sock)
{
	struct cand_filter none = {.id = 0, .mask = 0, .invert = 1};
	struct cand_options opts;
	int rc;

	if (canctl_util_connect(sock, &g->h) != 0)
		return 1;
	if ((rc = canctl_gen_check_fd(g)) != 0)
		return rc;
	cand_options_init(&opts);
	opts.channel = g->iface;
	opts.fd = g->fd;
	opts.local_loopback = g->loopback;
	/* A generator reads nothing: the bus would only cost it time. */
	opts.ignore_rx_error_frames = 1;
	opts.filters = &none;
	opts.n_filters = 1;
	if ((rc = cand_open(g->h, &opts)) < 0)
		return canctl_util_fail(g->h, rc, g->iface);
	return 0;
}

static int canctl_gen(const char *sock, int argc, char **argv)
{
	struct canctl_gen g;
	struct cand_frame *batch;
	struct timespec ts;
	sigset_t waitmask;
	int rc;

	memset(&g, 0, sizeof(g));
	g.gap_ns = 200000000u;
	g.burst = 1;
	g.count = -1;
	g.poll_ms = -1;
	g.loopback = 1;
	g.timer = -1;
	if ((rc = canctl_gen_options(&g, argc, argv)) != 0)
		return rc;
	clock_gettime(CLOCK_REALTIME, &ts);
	g.rng[0] = (unsigned short)ts.tv_nsec;
	g.rng[1] = (unsigned short)(ts.tv_sec ^ (ts.tv_nsec >> 16));
	g.rng[2] = (unsigned short)getpid();
	canctl_util_signals(&waitmask);
	g.waitmask = &waitmask;
	if ((g.timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC)) < 0) {
		perror("canctl: timerfd");
		return 1;
	}
	if ((batch = calloc(CANCTL_GEN_BATCH, sizeof(*batch))) == NULL) {
		fprintf(stderr, "canctl: out of memory\n");
		rc = 1;
	} else if ((rc = canctl_gen_open(&g, sock)) == 0)
		rc = canctl_gen_run(&g, batch);
	free(batch);
	if (g.h != NULL)
		cand_close(g.h);
	close(g.timer);
	return rc;
}

const struct canctl_cmd canctl_gen_cmd = {
	"gen",
	"[-ebEfmRixv] [-g ms] [-I mode] [-L mode] [-D mode] [-p ms]\n"
	"      [-n count] [-c burst] iface",
	"generate frames like cangen; a mode is r (random, the default),\n"
	"i (incrementing) or a fixed hex value (-L: a decimal length)\n"
	"  -g ms     gap between bursts (default 200, fractions too;\n"
	"            0: as fast as cand takes them)\n"
	"  -e        extended ids\n"
	"  -f        CAN FD; -b with BRS, -E with ESI\n"
	"  -R        remote frames\n"
	"  -m        a mix of all these\n"
	"  -I mode   ids, -L mode lengths, -D mode data\n"
	"  -p ms     on a full TX queue wait up to ms, and again (else the\n"
	"            daemon retries for 1 s, then gen stops)\n"
	"  -i        drop the frame a full TX queue refused, and count\n"
	"  -n count  stop after count frames\n"
	"  -c burst  frames per gap (default 1)\n"
	"  -x        no local loopback\n"
	"  -v        print each frame (-v -v the candump way, -v -v -v\n"
	"            with ASCII)\n",
	canctl_gen,
};
