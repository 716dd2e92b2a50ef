/*
 * canctl busload: canbusload through cand. Once a second, a line per
 * interface with the frames, the bits they took on the bus (framelen.c),
 * their payload bits and the load in percent of the bitrate, and a bar.
 * The bitrate is the controller's, from cand's bus state; a vcan has
 * none, so -b or iface@bitrate gives one.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "canctl.h"
#include "framelen.h"

#define CANCTL_BUSLOAD_MAX	 16 /* interfaces, as canbusload */
#define CANCTL_BUSLOAD_DRAIN	 256
#define CANCTL_BUSLOAD_BAR	 20 /* 5 % a mark */
#define CANCTL_BUSLOAD_MAX_RATE	 1000000u
#define CANCTL_BUSLOAD_MAX_DRATE 16000000u

struct canctl_busload_if {
	char name[CAND_IFNAMSIZ];
	char rate_text[32]; /* as shown after the '@' */
	uint32_t bitrate, dbitrate;
	cand_t *h;
	unsigned long frames, bits_nominal, bits_data, bits_payload;
};

struct canctl_busload {
	struct canctl_busload_if v[CANCTL_BUSLOAD_MAX];
	int n;
	int name_width, rate_width;
	enum framelen_mode mode;
	int stamp, color, redraw;
	long reports; /* left to print, or -1 */
};

/* "500000" or "500000,2000000": 0, or -1 for anything else. */
static int canctl_busload_rates(const char *s, uint32_t *rate, uint32_t *drate)
{
	unsigned long r, d;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	r = strtoul(s, &end, 10);
	d = r;
	if (*end == ',') {
		if (end[1] < '0' || end[1] > '9')
			return -1;
		d = strtoul(end + 1, &end, 10);
	}
	if (*end != '\0' || r == 0 || r > CANCTL_BUSLOAD_MAX_RATE || d == 0 ||
	    d > CANCTL_BUSLOAD_MAX_DRATE || d < r)
		return -1;
	*rate = (uint32_t)r;
	*drate = (uint32_t)d;
	return 0;
}

static int canctl_busload_bad_rate(const char *s)
{
	return canctl_usage_error("bad bitrate '%s' (1 to %u bit/s, and a data "
				  "bitrate up to %u after a ',')",
				  s, CANCTL_BUSLOAD_MAX_RATE,
				  CANCTL_BUSLOAD_MAX_DRATE);
}

/* "iface" or canbusload's "iface@bitrate[,dbitrate]". */
static int canctl_busload_arg(struct canctl_busload *b, const char *arg)
{
	struct canctl_busload_if *bi;
	const char *at = strchr(arg, '@');
	size_t len = at != NULL ? (size_t)(at - arg) : strlen(arg);

	if (b->n == CANCTL_BUSLOAD_MAX)
		return canctl_usage_error("more than %d interfaces",
					  CANCTL_BUSLOAD_MAX);
	if (len == 0 ||
	    (len == strlen(CANCTL_ANY) && strncmp(arg, CANCTL_ANY, len) == 0))
		return canctl_usage_error("busload needs interfaces, not '%s'",
					  arg);
	if (len >= CAND_IFNAMSIZ)
		return canctl_usage_error("interface name '%.*s' is too long",
					  (int)len, arg);
	bi = &b->v[b->n++];
	memcpy(bi->name, arg, len);
	if (at != NULL &&
	    canctl_busload_rates(at + 1, &bi->bitrate, &bi->dbitrate) < 0)
		return canctl_busload_bad_rate(at + 1);
	return 0;
}

/* The controller's bitrate, else -b's; 0 or the exit status. */
static int canctl_busload_bitrate(struct canctl_busload_if *bi, uint32_t rate,
				  uint32_t drate)
{
	struct cand_bus_state *st;
	int n;

	if (bi->bitrate == 0) {
		if ((n = cand_bus_state(bi->h, bi->name, &st)) < 0)
			return canctl_util_fail(bi->h, n, bi->name);
		if (n == 1 && st[0].controller && st[0].config.bitrate > 0) {
			bi->bitrate = st[0].config.bitrate;
			bi->dbitrate = st[0].config.data_bitrate > 0
					       ? st[0].config.data_bitrate
					       : bi->bitrate;
		}
		free(st);
	}
	if (bi->bitrate == 0 && rate == 0) {
		fprintf(stderr,
			"canctl: %s has no bitrate of its own (no "
			"controller): give one with -b BITRATE or %s@BITRATE\n",
			bi->name, bi->name);
		return 2;
	}
	if (bi->bitrate == 0) {
		bi->bitrate = rate;
		bi->dbitrate = drate;
	}
	if (bi->dbitrate != bi->bitrate)
		snprintf(bi->rate_text, sizeof(bi->rate_text), "%u,%u",
			 bi->bitrate, bi->dbitrate);
	else
		snprintf(bi->rate_text, sizeof(bi->rate_text), "%u",
			 bi->bitrate);
	return 0;
}

static int canctl_busload_open(struct canctl_busload *b, const char *sock,
			       uint32_t rate, uint32_t drate)
{
	struct cand_options opts;
	struct canctl_busload_if *bi;
	int i, rc, len;

	cand_options_init(&opts);
	opts.fd = 1;
	/* canbusload counts frames; error frames are not on the bus. */
	opts.ignore_rx_error_frames = 1;
	for (i = 0; i < b->n; i++) {
		bi = &b->v[i];
		if (canctl_util_connect(sock, &bi->h) != 0)
			return 1;
		opts.channel = bi->name;
		if ((rc = cand_open(bi->h, &opts)) < 0)
			return canctl_util_fail(bi->h, rc, bi->name);
		if ((rc = canctl_busload_bitrate(bi, rate, drate)) != 0)
			return rc;
		if ((len = (int)strlen(bi->name)) > b->name_width)
			b->name_width = len;
		if ((len = (int)strlen(bi->rate_text)) > b->rate_width)
			b->rate_width = len;
	}
	return 0;
}

static void canctl_busload_count(struct canctl_busload_if *bi,
				 const struct cand_frame *f,
				 enum framelen_mode mode)
{
	struct framelen_bits bits;

	framelen_count(f, mode, &bits);
	bi->frames++;
	bi->bits_nominal += bits.nominal;
	bi->bits_data += bits.data;
	if (!(f->flags & CAND_FRAME_REMOTE))
		bi->bits_payload += 8u * f->len;
}

/* Drains one handle; 1 with more waiting, 0 drained, -1 on an error. */
static int canctl_busload_read(struct canctl_busload *b,
			       struct canctl_busload_if *bi)
{
	struct cand_frame f;
	int n, rc;

	for (n = 0; n < CANCTL_BUSLOAD_DRAIN; n++) {
		rc = cand_recv(bi->h, &f, 0);
		if (rc == CAND_ETIMEOUT)
			return 0;
		if (rc == CAND_ENETDOWN || rc == CAND_ENODEV ||
		    rc == CAND_ERECONNECTED) {
			/* The handle stays usable; the gap is in the counts. */
			canctl_util_note(cand_last_detail(bi->h));
			continue;
		}
		if (rc < 0) {
			canctl_util_fail(bi->h, rc, "receive");
			return -1;
		}
		canctl_busload_count(bi, &f, b->mode);
	}
	return 1;
}

static void canctl_busload_header(const struct canctl_busload *b)
{
	static const char *const modes[] = {
		[FRAMELEN_NO_STUFFING] = "ignore bitstuffing",
		[FRAMELEN_WORST_CASE] = "worst case bitstuffing",
		[FRAMELEN_EXACT] = "exact bitstuffing",
	};
	struct tm tm;
	time_t now = time(NULL);

	if (localtime_r(&now, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	printf("canctl busload %04d-%02d-%02d %02d:%02d:%02d (%s)\n",
	       tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	       tm.tm_min, tm.tm_sec, modes[b->mode]);
}

/* canbusload's block: a line per interface, then an empty one. */
static int canctl_busload_report(struct canctl_busload *b)
{
	struct canctl_busload_if *bi;
	unsigned long percent;
	int i, j;

	if (b->redraw)
		fputs("\33[H", stdout);
	if (b->stamp)
		canctl_busload_header(b);
	for (i = 0; i < b->n; i++) {
		bi = &b->v[i];
		percent = bi->bits_nominal * 100 / bi->bitrate +
			  bi->bits_data * 100 / bi->dbitrate;
		if (b->color)
			fputs(i % 2 ? "\33[31m" : "\33[34m", stdout);
		printf(" %*s@%-*s %5lu %7lu %6lu %3lu%% |", b->name_width,
		       bi->name, b->rate_width, bi->rate_text, bi->frames,
		       bi->bits_nominal + bi->bits_data, bi->bits_payload,
		       percent);
		for (j = 0; j < CANCTL_BUSLOAD_BAR; j++)
			putchar((unsigned long)j < percent / 5 ? 'X' : '.');
		putchar('|');
		if (b->color)
			fputs("\33[0m", stdout);
		putchar('\n');
		bi->frames = bi->bits_nominal = bi->bits_data = 0;
		bi->bits_payload = 0;
	}
	putchar('\n');
	if (fflush(stdout) == EOF)
		return errno == EPIPE ? 0 : -1;
	return 1;
}

static uint64_t canctl_busload_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int canctl_busload_loop(struct canctl_busload *b,
			       const sigset_t *waitmask)
{
	struct pollfd pfd[CANCTL_BUSLOAD_MAX];
	struct timespec tmo;
	uint64_t next = canctl_busload_now_ns() + 1000000000u, now;
	int i, more, rc;

	for (i = 0; i < b->n; i++) {
		pfd[i].fd = cand_fileno(b->v[i].h);
		pfd[i].events = POLLIN;
	}
	if (b->redraw)
		fputs("\33[2J", stdout);
	for (;;) {
		more = 0;
		for (i = 0; i < b->n; i++) {
			if ((rc = canctl_busload_read(b, &b->v[i])) < 0)
				return 1;
			more |= rc;
		}
		if ((now = canctl_busload_now_ns()) >= next) {
			if ((rc = canctl_busload_report(b)) <= 0)
				return rc < 0 ? 1 : 0;
			if (b->reports > 0 && --b->reports == 0)
				return 0;
			/* Whole seconds from the start, a late one or not. */
			while (next <= now)
				next += 1000000000u;
		}
		if (canctl_util_stopped())
			return 0;
		tmo.tv_sec = 0;
		tmo.tv_nsec = 0;
		if (!more) {
			tmo.tv_sec = (time_t)((next - now) / 1000000000u);
			tmo.tv_nsec = (long)((next - now) % 1000000000u);
		}
		if (ppoll(pfd, (nfds_t)b->n, &tmo, waitmask) < 0 &&
		    errno != EINTR) {
			perror("canctl: poll");
			return 1;
		}
		if (canctl_util_stopped())
			return 0;
	}
}

static int canctl_busload(const char *sock, int argc, char **argv)
{
	struct canctl_busload b;
	sigset_t waitmask;
	uint32_t rate = 0, drate = 0;
	int ch, i, rc;

	memset(&b, 0, sizeof(b));
	b.mode = FRAMELEN_WORST_CASE;
	b.reports = -1;
	optind = 0;
	while ((ch = getopt(argc, argv, ":b:tcrien:")) != -1) {
		switch (ch) {
		case 'b':
			if (canctl_busload_rates(optarg, &rate, &drate) < 0)
				return canctl_busload_bad_rate(optarg);
			break;
		case 't':
			b.stamp = 1;
			break;
		case 'c':
			b.color = 1;
			break;
		case 'r':
			b.redraw = 1;
			break;
		case 'i':
			b.mode = FRAMELEN_NO_STUFFING;
			break;
		case 'e':
			b.mode = FRAMELEN_EXACT;
			break;
		case 'n':
			if (canctl_util_count(optarg, &b.reports) != 0)
				return 2;
			break;
		default:
			return canctl_bad_option(ch, argv);
		}
	}
	if (optind >= argc)
		return canctl_usage_error("busload needs an interface");
	for (i = optind; i < argc; i++)
		if ((rc = canctl_busload_arg(&b, argv[i])) != 0)
			return rc;

	canctl_util_signals(&waitmask);
	if ((rc = canctl_busload_open(&b, sock, rate, drate)) == 0)
		rc = canctl_busload_loop(&b, &waitmask);
	for (i = 0; i < b.n; i++)
		if (b.v[i].h != NULL)
			cand_close(b.v[i].h);
	return rc;
}

const struct canctl_cmd canctl_busload_cmd = {
	"busload",
	"[-tcrie] [-b bitrate[,dbitrate]] [-n count] iface[@bitrate] ...",
	"the bus load of each interface once a second, like canbusload:\n"
	"frames, bits on the bus, payload bits, percent of the bitrate\n"
	"and a bar of 5 % marks; the bitrate is the controller's\n"
	"  -b rate   for interfaces without one (a vcan); ',' and the data\n"
	"            bitrate for CAN FD with BRS\n"
	"  -t        the time and the counting on a first line\n"
	"  -c        colour the lines\n"
	"  -r        redraw in place, like top\n"
	"  -i        count no stuff bits\n"
	"  -e        count the exact stuff bits (default: the worst case)\n"
	"  -n count  exit after count reports\n",
	canctl_busload,
};
