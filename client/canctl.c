/*
 * canctl: the cand command line. "send" and "dump" speak can-utils' cansend
 * and candump text so existing scripts and canplayer keep working.
 *
 * Exit status: 0 success, 1 an operation failed, 2 bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "canctl.h"
#include "cand.h"
#include "frametext.h"
#include "timetext.h"

#define CANCTL_SEND_TIMEOUT_MS 1000
#define CANCTL_DRAIN_MAX       256   /* frames between flushes in a flood */
#define CANCTL_ANY	       "any" /* candump's name for every interface */

#define CANCTL_EFF_FLAG 0x80000000u
#define CANCTL_ERR_FLAG 0x20000000u
#define CANCTL_EFF_MASK 0x1fffffffu

/* Set from the signal handler; nothing else can reach it. */
static volatile sig_atomic_t canctl_stop;

static void canctl_usage(FILE *fp)
{
	fputs("usage: canctl [-s socket] command [argument ...]\n"
	      "\n"
	      "commands:\n"
	      "  list\n"
	      "      show the CAN interfaces\n"
	      "  send [-t ms] iface frame ...\n"
	      "      send frames in cansend syntax (123#DEADBEEF, "
	      "12345678#11.22,\n"
	      "      123#R4, 123##1AABB for CAN FD with BRS), waiting up to "
	      "ms\n"
	      "      (default 1000) for room in the TX queue\n"
	      "  dump [-LEo] [-n count] [-T ms] iface|any[,filter ...] "
	      "[filter ...]\n"
	      "      print received frames like candump; a filter is "
	      "id:mask\n"
	      "      (pass when id & mask match) or id~mask (pass when they "
	      "do not),\n"
	      "      and an 8-digit id means an extended one\n"
	      "        -L        log format (candump -L), for canplayer\n"
	      "        -n count  exit after count frames\n"
	      "        -T ms     exit after ms without frames\n"
	      "        -E        drop error frames (cand delivers them by "
	      "default)\n"
	      "        -o        receive own messages\n"
	      "  periodic -p period [-d duration] iface frame ...\n"
	      "      send the frames in turn, one every period (100ms, 2s, "
	      "500us; a\n"
	      "      bare number is ms), until Ctrl-C or for the duration\n"
	      "  monitor [-alR] [-m mask ...] [-t timeout] [-r throttle] "
	      "[-n count]\n"
	      "          [-F] [-x frame] iface id\n"
	      "      print a line when id's data changes under the masks and "
	      "when it\n"
	      "      stays away for the timeout (an 8-digit id is "
	      "extended):\n"
	      "        (1436509052.249713) vcan0 123#11223344 changed\n"
	      "        (1436509052.749821) vcan0 123 timeout\n"
	      "        -m mask     hex data bits that count "
	      "(FF00000000000000); "
	      "more than\n"
	      "                    one: the first selects the multiplexer, "
	      "each "
	      "other\n"
	      "                    holds a multiplexer value and its bits\n"
	      "        -t timeout  report silence this long (also "
	      "--timeout)\n"
	      "        -r throttle at most one change per throttle (also "
	      "--throttle)\n"
	      "        -a          every frame, not just changes\n"
	      "        -l          a length change is a change\n"
	      "        -R          after a timeout, report the next frame\n"
	      "        -F          CAN FD frames\n"
	      "        -n count    exit after count lines\n"
	      "        -x frame    answer remote frames for id with frame "
	      "instead\n" CANCTL_BUS_USAGE "  help\n"
	      "      show this text\n"
	      "\n"
	      "The socket is -s, else $CAND_SOCKET, else " CAND_DEFAULT_SOCKET
	      ".\n",
	      fp);
}

int canctl_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("canctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n\n", stderr);
	canctl_usage(stderr);
	return 2;
}

/* getopt() told about a bad option; opterr is off so this is the message. */
int canctl_bad_option(int ch)
{
	if (ch == ':')
		return canctl_usage_error("option -%c needs a value", optopt);
	return canctl_usage_error("unknown option -%c", optopt);
}

int canctl_fail(cand_t *h, int err, const char *what)
{
	const char *detail = cand_last_detail(h);

	if (detail[0] != '\0' && strcmp(detail, cand_strerror(err)) != 0)
		fprintf(stderr, "canctl: %s: %s: %s\n", what,
			cand_strerror(err), detail);
	else
		fprintf(stderr, "canctl: %s: %s\n", what, cand_strerror(err));
	return 1;
}

int canctl_connect(const char *sock, cand_t **h)
{
	const char *shown = sock;
	int rc;

	if ((rc = cand_connect(h, sock)) == CAND_OK)
		return 0;
	if (shown == NULL) {
		shown = getenv("CAND_SOCKET");
		if (shown == NULL || shown[0] == '\0')
			shown = CAND_DEFAULT_SOCKET;
	}
	if (rc == CAND_ECONNECT || rc == CAND_ESYS)
		fprintf(stderr, "canctl: %s at %s: %s\n", cand_strerror(rc),
			shown, strerror(errno));
	else
		fprintf(stderr, "canctl: %s at %s\n", cand_strerror(rc), shown);
	return 1;
}

/* Parses a non-empty run of at most 8 hex digits ending at end. */
static int canctl_hex32(const char *s, const char *end, uint32_t *out)
{
	uint32_t v = 0;
	const char *p;
	int n;

	if (end == s || end - s > 8)
		return -1;
	for (p = s; p < end; p++) {
		if (*p >= '0' && *p <= '9')
			n = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			n = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F')
			n = *p - 'A' + 10;
		else
			return -1;
		v = v << 4 | (uint32_t)n;
	}
	*out = v;
	return 0;
}

/*
 * candump's filter rules: the id and mask are raw SocketCAN values, an
 * 8-digit id gets CAN_EFF_FLAG, and only a mask holding CAN_EFF_FLAG makes
 * the frame format matter. The RTR bit of a mask has no cand equivalent.
 */
static int canctl_parse_filter(const char *s, struct cand_filter *f,
			       const char **why)
{
	const char *sep;
	uint32_t id, mask;

	memset(f, 0, sizeof(*f));
	if (s[0] == '#') {
		*why = "error mask filters (#mask) are not supported; error "
		       "frames come unless -E";
		return -1;
	}
	if ((s[0] == 'j' || s[0] == 'J') && s[1] == '\0') {
		*why = "joined filters (j) are not supported";
		return -1;
	}
	sep = s + strcspn(s, ":~");
	if (*sep == '\0') {
		*why = "a filter is id:mask or id~mask";
		return -1;
	}
	if (canctl_hex32(s, sep, &id) < 0 ||
	    canctl_hex32(sep + 1, sep + 1 + strlen(sep + 1), &mask) < 0) {
		*why = "id and mask are 1 to 8 hex digits";
		return -1;
	}
	mask &= ~CANCTL_ERR_FLAG;
	if (sep - s == 8)
		id |= CANCTL_EFF_FLAG;
	f->id = id & CANCTL_EFF_MASK;
	f->mask = mask & CANCTL_EFF_MASK;
	if (mask & CANCTL_EFF_FLAG)
		f->kind = (id & CANCTL_EFF_FLAG) ? CAND_FILTER_EXTENDED
						 : CAND_FILTER_STANDARD;
	else
		f->kind = CAND_FILTER_ANY;
	f->invert = *sep == '~';
	return 0;
}

static const char *canctl_iface_type(const struct cand_iface *i)
{
	if (i->hardware)
		return "hardware";
	if (strcmp(i->kind, "vcan") == 0 || strcmp(i->kind, "vxcan") == 0)
		return "virtual";
	return "other";
}

static int canctl_list(const char *sock, int argc, char **argv)
{
	struct cand_iface *v;
	cand_t *h;
	char mtu[32];
	int i, n, width = 0;

	(void)argv;
	if (argc > 1)
		return canctl_usage_error("list takes no arguments");
	if (canctl_connect(sock, &h) != 0)
		return 1;
	if ((n = cand_list(h, &v)) < 0) {
		canctl_fail(h, n, "list");
		cand_close(h);
		return 1;
	}
	for (i = 0; i < n; i++) {
		if ((int)strlen(v[i].name) > width)
			width = (int)strlen(v[i].name);
	}
	for (i = 0; i < n; i++) {
		snprintf(mtu, sizeof(mtu), "mtu %u%s", v[i].mtu,
			 v[i].mtu == 72 ? " (FD)" : "");
		printf("%-*s  %-4s  %-11s  %s%s%s\n", width, v[i].name,
		       v[i].up ? "up" : "down", mtu, canctl_iface_type(&v[i]),
		       v[i].kind[0] != '\0' ? " " : "", v[i].kind);
	}
	free(v);
	cand_close(h);
	if (fflush(stdout) == EOF)
		return 1;
	return 0;
}

int canctl_ms(const char *s, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 0 || v > INT_MAX)
		return -1;
	*out = (int)v;
	return 0;
}

/*
 * The cansend-syntax frames of a command line into a malloc'd array; *fd
 * is set when any is CAN FD. Returns 0, or the exit status on failure.
 */
static int canctl_parse_frames(char **args, int n, struct cand_frame **out,
			       int *fd)
{
	struct cand_frame *frames;
	const char *why;
	int i;

	if ((frames = calloc((size_t)n, sizeof(*frames))) == NULL) {
		fprintf(stderr, "canctl: out of memory\n");
		return 1;
	}
	for (i = 0; i < n; i++) {
		if (frametext_parse(args[i], &frames[i], &why) < 0) {
			free(frames);
			return canctl_usage_error("bad frame '%s': %s", args[i],
						  why);
		}
		if (frames[i].flags & CAND_FRAME_FD)
			*fd = 1;
	}
	*out = frames;
	return 0;
}

static int canctl_send(const char *sock, int argc, char **argv)
{
	struct cand_options opts;
	struct cand_frame *frames;
	const char *iface;
	cand_t *h;
	int ch, n, rc, timeout = CANCTL_SEND_TIMEOUT_MS, fd = 0;

	optind = 0;
	while ((ch = getopt(argc, argv, ":t:")) != -1) {
		switch (ch) {
		case 't':
			if (canctl_ms(optarg, &timeout) < 0)
				return canctl_usage_error("bad timeout '%s'",
							  optarg);
			break;
		default:
			return canctl_bad_option(ch);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 2)
		return canctl_usage_error("send needs an interface and at "
					  "least one frame");
	iface = argv[0];
	if (iface[0] == '\0' || strcmp(iface, CANCTL_ANY) == 0)
		return canctl_usage_error("send needs one interface, not "
					  "'%s'",
					  iface);
	if (strlen(iface) >= CAND_IFNAMSIZ)
		return canctl_usage_error("interface name '%s' is too long",
					  iface);

	n = argc - 1;
	if ((rc = canctl_parse_frames(argv + 1, n, &frames, &fd)) != 0)
		return rc;

	if (canctl_connect(sock, &h) != 0) {
		free(frames);
		return 1;
	}
	cand_options_init(&opts);
	opts.channel = iface;
	opts.fd = fd;
	if ((rc = cand_open(h, &opts)) < 0) {
		canctl_fail(h, rc, iface);
		rc = 1;
	} else if ((rc = cand_send(h, frames, (size_t)n, timeout)) < 0) {
		canctl_fail(h, rc, "send");
		rc = 1;
	} else if (rc < n) {
		fprintf(stderr, "canctl: send: only %d of %d frames sent%s%s\n",
			rc, n, cand_last_detail(h)[0] != '\0' ? ": " : "",
			cand_last_detail(h));
		rc = 1;
	} else
		rc = 0;
	cand_close(h);
	free(frames);
	return rc;
}

static void canctl_on_signal(int sig)
{
	(void)sig;
	canctl_stop = 1;
}

/*
 * Signals stay blocked except inside ppoll() with *waitmask, so a stop
 * request can neither be lost between the check and the wait nor cut a
 * line.
 */
static void canctl_block_signals(sigset_t *waitmask)
{
	struct sigaction sa;
	sigset_t block;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = canctl_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, waitmask);
	sigdelset(waitmask, SIGINT);
	sigdelset(waitmask, SIGTERM);
	sigdelset(waitmask, SIGHUP);
}

struct canctl_dump {
	cand_t *h;
	int log;
	long count; /* frames left to print, or -1 */
	struct frametext_view view;
};

/* Prints one frame; returns -1 when stdout is gone. */
static int canctl_dump_frame(struct canctl_dump *d, struct cand_frame *f)
{
	char line[FRAMETEXT_MAX];
	struct timespec ts;
	int n;

	if (d->log) {
		/* Every frame needs a time in a log canplayer will read. */
		if (f->timestamp_ns == 0 &&
		    clock_gettime(CLOCK_REALTIME, &ts) == 0)
			f->timestamp_ns = (uint64_t)ts.tv_sec * 1000000000u +
					  (uint64_t)ts.tv_nsec;
		n = frametext_format_log(line, sizeof(line), f, &d->view);
	} else
		n = frametext_format_candump(line, sizeof(line), f, &d->view);
	if (n >= (int)sizeof(line))
		n = (int)sizeof(line) - 1;
	line[n++] = '\n';
	if (fwrite(line, 1, (size_t)n, stdout) != (size_t)n)
		return -1;
	return 0;
}

static int canctl_dump_loop(struct canctl_dump *d, int idle_ms,
			    const sigset_t *waitmask)
{
	struct cand_frame f;
	struct timespec now, last, tmo;
	struct pollfd pfd;
	long waited, left;
	int rc, n;

	clock_gettime(CLOCK_MONOTONIC, &last);
	pfd.fd = cand_fileno(d->h);
	pfd.events = POLLIN;
	for (;;) {
		for (n = 0; n < CANCTL_DRAIN_MAX; n++) {
			rc = cand_recv(d->h, &f, 0);
			if (rc == 1) {
				clock_gettime(CLOCK_MONOTONIC, &last);
				if (canctl_dump_frame(d, &f) < 0)
					return errno == EPIPE ? 0 : 1;
				if (d->count > 0 && --d->count == 0)
					return fflush(stdout) == EOF &&
							       errno != EPIPE
						       ? 1
						       : 0;
			} else if (rc == CAND_ENETDOWN || rc == CAND_ENODEV) {
				/* The handle stays usable; so does the dump. */
				fflush(stdout);
				fprintf(stderr, "canctl: %s\n",
					cand_last_detail(d->h));
			} else if (rc == CAND_ETIMEOUT)
				break;
			else {
				fflush(stdout);
				return canctl_fail(d->h, rc, "receive");
			}
		}
		if (fflush(stdout) == EOF)
			return errno == EPIPE ? 0 : 1;
		if (canctl_stop)
			return 0;

		/* After a full drain, only peek so signals get through. */
		tmo.tv_sec = tmo.tv_nsec = 0;
		if (n < CANCTL_DRAIN_MAX && idle_ms >= 0) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			waited = (now.tv_sec - last.tv_sec) * 1000 +
				 (now.tv_nsec - last.tv_nsec) / 1000000;
			if ((left = idle_ms - waited) <= 0)
				return 0;
			tmo.tv_sec = left / 1000;
			tmo.tv_nsec = left % 1000 * 1000000;
		}
		if (ppoll(&pfd, 1,
			  n < CANCTL_DRAIN_MAX && idle_ms < 0 ? NULL : &tmo,
			  waitmask) < 0 &&
		    errno != EINTR) {
			perror("canctl: poll");
			return 1;
		}
		if (canctl_stop)
			return 0;
	}
}

static int canctl_dump(const char *sock, int argc, char **argv)
{
	struct cand_filter *filters;
	struct cand_options opts;
	struct canctl_dump d;
	sigset_t waitmask;
	char iface[CAND_IFNAMSIZ], *arg, *tok, *save;
	const char *why;
	size_t n_filters = 0, max_filters;
	int ch, i, rc, idle_ms = -1, ms;
	size_t len;

	memset(&d, 0, sizeof(d));
	d.count = -1;
	cand_options_init(&opts);
	opts.fd = 1;

	optind = 0;
	while ((ch = getopt(argc, argv, ":LEon:T:")) != -1) {
		switch (ch) {
		case 'L':
			d.log = 1;
			break;
		case 'E':
			opts.ignore_rx_error_frames = 1;
			break;
		case 'o':
			opts.receive_own_messages = 1;
			break;
		case 'n':
			if (canctl_ms(optarg, &ms) < 0 || ms < 1)
				return canctl_usage_error("bad count '%s'",
							  optarg);
			d.count = ms;
			break;
		case 'T':
			if (canctl_ms(optarg, &idle_ms) < 0)
				return canctl_usage_error("bad timeout '%s'",
							  optarg);
			break;
		default:
			return canctl_bad_option(ch);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		return canctl_usage_error("dump needs an interface or 'any'");

	/* Room for every filter: one per ',' in the first word, one each after.
	 */
	max_filters = (size_t)argc;
	for (arg = argv[0]; *arg != '\0'; arg++)
		max_filters += *arg == ',';
	if ((filters = calloc(max_filters, sizeof(*filters))) == NULL) {
		fprintf(stderr, "canctl: out of memory\n");
		return 1;
	}
	if ((arg = strdup(argv[0])) == NULL) {
		free(filters);
		fprintf(stderr, "canctl: out of memory\n");
		return 1;
	}
	len = strcspn(arg, ",");
	if (len >= sizeof(iface)) {
		free(filters);
		free(arg);
		return canctl_usage_error("interface name '%.*s' is too long",
					  (int)len, argv[0]);
	}
	memcpy(iface, arg, len);
	iface[len] = '\0';
	for (tok = strtok_r(arg + len, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		if (canctl_parse_filter(tok, &filters[n_filters], &why) < 0) {
			rc = canctl_usage_error("bad filter '%s': %s", tok,
						why);
			free(filters);
			free(arg);
			return rc;
		}
		n_filters++;
	}
	free(arg);
	for (i = 1; i < argc; i++) {
		if (canctl_parse_filter(argv[i], &filters[n_filters], &why) <
		    0) {
			free(filters);
			return canctl_usage_error("bad filter '%s': %s",
						  argv[i], why);
		}
		n_filters++;
	}
	opts.channel = strcmp(iface, CANCTL_ANY) == 0 ? "" : iface;
	opts.filters = filters;
	opts.n_filters = n_filters;
	/* candump starts with the width of the name it was given. */
	frametext_view_init(&d.view, (int)strlen(iface));

	canctl_block_signals(&waitmask);
	if (canctl_connect(sock, &d.h) != 0) {
		free(filters);
		return 1;
	}
	if ((rc = cand_open(d.h, &opts)) < 0)
		rc = canctl_fail(d.h, rc, iface[0] != '\0' ? iface : "any");
	else
		rc = canctl_dump_loop(&d, idle_ms, &waitmask);
	cand_close(d.h);
	free(filters);
	return rc;
}

/* A duration option; a usage error when it does not parse. */
static int canctl_duration(const char *opt, const char *s, uint64_t *us)
{
	const char *why;

	if (timetext_parse_us(s, us, &why) < 0)
		return canctl_usage_error("bad %s '%s': %s", opt, s, why);
	return 0;
}

/* One interface for a task or monitor: not "" and not "any". */
static int canctl_one_iface(const char *cmd, const char *iface)
{
	if (iface[0] == '\0' || strcmp(iface, CANCTL_ANY) == 0)
		return canctl_usage_error("%s needs one interface, not '%s'",
					  cmd, iface);
	if (strlen(iface) >= CAND_IFNAMSIZ)
		return canctl_usage_error("interface name '%s' is too long",
					  iface);
	return 0;
}

/*
 * Connects and opens iface for tasks and monitors only: a filter that
 * passes nothing (inverted, mask 0) and no error frames, so the bus
 * traffic never reaches us.
 */
static int canctl_open_quiet(const char *sock, const char *iface, int fd,
			     cand_t **h)
{
	struct cand_filter none = {.id = 0, .mask = 0, .invert = 1};
	struct cand_options opts;
	int rc;

	if (canctl_connect(sock, h) != 0)
		return 1;
	cand_options_init(&opts);
	opts.channel = iface;
	opts.fd = fd;
	opts.ignore_rx_error_frames = 1;
	opts.filters = &none;
	opts.n_filters = 1;
	if ((rc = cand_open(*h, &opts)) < 0) {
		canctl_fail(*h, rc, iface);
		cand_close(*h);
		*h = NULL;
		return 1;
	}
	return 0;
}

/*
 * Waits for events until a signal, until handle() returns nonzero (its
 * value minus one is the exit status), or until the connection fails.
 */
static int canctl_event_loop(cand_t *h, const sigset_t *waitmask,
			     int (*handle)(void *, const struct cand_event *),
			     void *arg)
{
	struct cand_event ev;
	struct pollfd pfd = {.fd = cand_fileno(h), .events = POLLIN};
	int rc;

	for (;;) {
		while ((rc = cand_recv_event(h, &ev, 0)) != CAND_ETIMEOUT) {
			if (rc == CAND_ENETDOWN || rc == CAND_ENODEV) {
				fflush(stdout);
				fprintf(stderr, "canctl: %s\n",
					cand_last_detail(h));
			} else if (rc < 0) {
				fflush(stdout);
				return canctl_fail(h, rc, "receive");
			} else if ((rc = handle(arg, &ev)) != 0) {
				return rc - 1;
			}
		}
		if (fflush(stdout) == EOF)
			return errno == EPIPE ? 0 : 1;
		if (canctl_stop)
			return 0;
		if (ppoll(&pfd, 1, NULL, waitmask) < 0 && errno != EINTR) {
			perror("canctl: poll");
			return 1;
		}
		if (canctl_stop)
			return 0;
	}
}

static int canctl_periodic_event(void *arg, const struct cand_event *ev)
{
	const cand_task_t *t = arg;

	/* The duration ended: done, exit 0. */
	return ev->type == CAND_EVENT_TASK_EXPIRED && ev->id == cand_task_id(t)
		       ? 1
		       : 0;
}

static int canctl_periodic(const char *sock, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"period", required_argument, NULL, 'p'},
		{"duration", required_argument, NULL, 'd'},
		{NULL, 0, NULL, 0},
	};
	struct cand_frame *frames;
	uint64_t period = 0, duration = 0;
	const char *iface;
	sigset_t waitmask;
	cand_task_t *t;
	cand_t *h;
	int ch, n, rc, fd = 0, have_period = 0;

	optind = 0;
	while ((ch = getopt_long(argc, argv, ":p:d:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			if (canctl_duration("period", optarg, &period) != 0)
				return 2;
			have_period = 1;
			break;
		case 'd':
			if (canctl_duration("duration", optarg, &duration) != 0)
				return 2;
			break;
		default:
			return canctl_bad_option(ch);
		}
	}
	argc -= optind;
	argv += optind;
	if (!have_period)
		return canctl_usage_error("periodic needs a period (-p)");
	if (argc < 2)
		return canctl_usage_error("periodic needs an interface and at "
					  "least one frame");
	iface = argv[0];
	if (canctl_one_iface("periodic", iface) != 0)
		return 2;
	n = argc - 1;
	if ((rc = canctl_parse_frames(argv + 1, n, &frames, &fd)) != 0)
		return rc;

	canctl_block_signals(&waitmask);
	if (canctl_open_quiet(sock, iface, fd, &h) != 0) {
		free(frames);
		return 1;
	}
	rc = cand_task_start(h, frames, (size_t)n, period, duration, 0, &t);
	free(frames);
	if (rc < 0) {
		rc = canctl_fail(h, rc, "periodic");
	} else {
		rc = canctl_event_loop(h, &waitmask, canctl_periodic_event, t);
		/* Stops it at once, rather than when the connection goes. */
		cand_task_free(t);
	}
	cand_close(h);
	return rc;
}

struct canctl_monitor {
	const char *iface;
	char id[16]; /* as candump prints it: 3 or 8 hex digits */
	long count;  /* lines left to print, or -1 */
};

static int canctl_monitor_event(void *arg, const struct cand_event *ev)
{
	struct canctl_monitor *m = arg;
	char text[FRAMETEXT_MAX];
	const char *ifname = ev->frame.ifname[0] ? ev->frame.ifname : m->iface;
	uint64_t ts = ev->frame.timestamp_ns;

	if (ev->type == CAND_EVENT_MONITOR_CHANGED) {
		frametext_format_frame(text, sizeof(text), &ev->frame);
		printf("(%llu.%06llu) %s %s changed\n",
		       (unsigned long long)(ts / 1000000000u),
		       (unsigned long long)(ts % 1000000000u / 1000), ifname,
		       text);
	} else if (ev->type == CAND_EVENT_MONITOR_TIMEOUT) {
		printf("(%llu.%06llu) %s %s timeout\n",
		       (unsigned long long)(ts / 1000000000u),
		       (unsigned long long)(ts % 1000000000u / 1000), ifname,
		       m->id);
	} else {
		return 0;
	}
	if (m->count > 0 && --m->count == 0)
		return 1;
	return 0;
}

/* Hex bytes, "FF00" or "FF.00" as cansend's data, into a mask. */
static int canctl_parse_mask(const char *s, struct cand_mask *m)
{
	unsigned v;

	memset(m, 0, sizeof(*m));
	while (*s != '\0') {
		if (*s == '.') {
			s++;
			continue;
		}
		if (m->len == CAND_MAX_DLEN || sscanf(s, "%2x", &v) != 1 ||
		    !((s[0] >= '0' && s[0] <= '9') ||
		      (s[0] >= 'a' && s[0] <= 'f') ||
		      (s[0] >= 'A' && s[0] <= 'F')) ||
		    !((s[1] >= '0' && s[1] <= '9') ||
		      (s[1] >= 'a' && s[1] <= 'f') ||
		      (s[1] >= 'A' && s[1] <= 'F')))
			return -1;
		m->data[m->len++] = (uint8_t)v;
		s += 2;
	}
	return m->len > 0 ? 0 : -1;
}

static int canctl_monitor(const char *sock, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"mask", required_argument, NULL, 'm'},
		{"timeout", required_argument, NULL, 't'},
		{"throttle", required_argument, NULL, 'r'},
		{"count", required_argument, NULL, 'n'},
		{"all", no_argument, NULL, 'a'},
		{"check-len", no_argument, NULL, 'l'},
		{"resume", no_argument, NULL, 'R'},
		{"fd", no_argument, NULL, 'F'},
		{"rtr-reply", required_argument, NULL, 'x'},
		{NULL, 0, NULL, 0},
	};
	struct cand_monitor_opts opts;
	struct cand_mask *masks = NULL;
	struct cand_frame reply;
	struct canctl_monitor m = {.count = -1};
	const char *why, *idtext;
	size_t n_masks = 0;
	sigset_t waitmask;
	cand_monitor_t *mon;
	cand_t *h;
	uint32_t id;
	int ch, rc, count;

	cand_monitor_opts_init(&opts);
	if ((masks = calloc((size_t)argc, sizeof(*masks))) == NULL) {
		fprintf(stderr, "canctl: out of memory\n");
		return 1;
	}
	optind = 0;
	while ((ch = getopt_long(argc, argv, ":m:t:r:n:alRFx:", longopts,
				 NULL)) != -1) {
		rc = 0;
		switch (ch) {
		case 'm':
			if (canctl_parse_mask(optarg, &masks[n_masks++]) < 0)
				rc = canctl_usage_error(
					"bad mask '%s': 1 to 64 hex bytes",
					optarg);
			break;
		case 't':
			rc = canctl_duration("timeout", optarg,
					     &opts.timeout_us);
			break;
		case 'r':
			rc = canctl_duration("throttle", optarg,
					     &opts.throttle_us);
			break;
		case 'n':
			if (canctl_ms(optarg, &count) < 0 || count < 1)
				rc = canctl_usage_error("bad count '%s'",
							optarg);
			m.count = count;
			break;
		case 'a':
			opts.flags |= CAND_MONITOR_EVERY_FRAME;
			break;
		case 'l':
			opts.flags |= CAND_MONITOR_CHECK_LEN;
			break;
		case 'R':
			opts.flags |= CAND_MONITOR_RESUME;
			break;
		case 'F':
			opts.frame_flags |= CAND_FRAME_FD;
			break;
		case 'x':
			if (frametext_parse(optarg, &reply, &why) < 0)
				rc = canctl_usage_error("bad frame '%s': %s",
							optarg, why);
			opts.rtr_reply = &reply;
			break;
		default:
			rc = canctl_bad_option(ch);
		}
		if (rc != 0) {
			free(masks);
			return rc;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 2) {
		free(masks);
		return canctl_usage_error("monitor needs an interface and an "
					  "id");
	}
	m.iface = argv[0];
	idtext = argv[1];
	if (canctl_one_iface("monitor", m.iface) != 0) {
		free(masks);
		return 2;
	}
	if (canctl_hex32(idtext, idtext + strlen(idtext), &id) < 0) {
		free(masks);
		return canctl_usage_error("bad id '%s': 1 to 8 hex digits",
					  idtext);
	}
	/* As cansend: 8 digits make an extended id. */
	if (strlen(idtext) == 8)
		opts.frame_flags |= CAND_FRAME_EXTENDED;
	snprintf(m.id, sizeof(m.id), strlen(idtext) == 8 ? "%08X" : "%03X", id);
	opts.id = id;
	opts.masks = masks;
	opts.n_masks = n_masks;

	canctl_block_signals(&waitmask);
	if (canctl_open_quiet(sock, m.iface,
			      (opts.frame_flags & CAND_FRAME_FD) != 0,
			      &h) != 0) {
		free(masks);
		return 1;
	}
	rc = cand_monitor_start(h, &opts, &mon);
	free(masks);
	if (rc < 0) {
		rc = canctl_fail(h, rc, "monitor");
	} else {
		rc = canctl_event_loop(h, &waitmask, canctl_monitor_event, &m);
		cand_monitor_free(mon);
	}
	cand_close(h);
	return rc;
}

int main(int argc, char **argv)
{
	const char *sock = NULL, *cmd;
	int ch;

	if (argc > 1 && strcmp(argv[1], "--help") == 0) {
		canctl_usage(stdout);
		return 0;
	}
	opterr = 0;
	/* '+': options after the command belong to the command. */
	while ((ch = getopt(argc, argv, "+:hs:")) != -1) {
		switch (ch) {
		case 'h':
			canctl_usage(stdout);
			return 0;
		case 's':
			sock = optarg;
			break;
		default:
			return canctl_bad_option(ch);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		return canctl_usage_error("no command given");
	cmd = argv[0];
	if (strcmp(cmd, "help") == 0) {
		canctl_usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "list") == 0)
		return canctl_list(sock, argc, argv);
	if (strcmp(cmd, "send") == 0)
		return canctl_send(sock, argc, argv);
	if (strcmp(cmd, "dump") == 0)
		return canctl_dump(sock, argc, argv);
	if (strcmp(cmd, "periodic") == 0)
		return canctl_periodic(sock, argc, argv);
	if (strcmp(cmd, "monitor") == 0)
		return canctl_monitor(sock, argc, argv);
	if (strcmp(cmd, "state") == 0)
		return canctl_state(sock, argc, argv);
	if (strcmp(cmd, "set") == 0)
		return canctl_set(sock, argc, argv);
	if (strcmp(cmd, "restart") == 0)
		return canctl_restart(sock, argc, argv);
	if (strcmp(cmd, "events") == 0)
		return canctl_events(sock, argc, argv);
	return canctl_usage_error("unknown command '%s'", cmd);
}
