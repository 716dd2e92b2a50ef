/*
 * What canctl's commands share: reporting failures, connecting, parsing
 * numbers, interfaces and frames, and waiting for events until a signal.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "canctl.h"
#include "frametext.h"
#include "timetext.h"

/* Set from the signal handler; nothing else can reach it. */
static volatile sig_atomic_t canctl_util_stop;

int canctl_util_fail(cand_t *h, int err, const char *what)
{
	const char *detail = cand_last_detail(h);

	if (detail[0] != '\0' && strcmp(detail, cand_strerror(err)) != 0)
		fprintf(stderr, "canctl: %s: %s: %s\n", what,
			cand_strerror(err), detail);
	else
		fprintf(stderr, "canctl: %s: %s\n", what, cand_strerror(err));
	return 1;
}

int canctl_util_connect(const char *sock, cand_t **h)
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

/*
 * For tasks and monitors only: a filter that passes nothing (inverted,
 * mask 0) and no error frames, so the bus traffic never reaches us.
 */
int canctl_util_open_quiet(const char *sock, const char *iface, int fd,
			   cand_t **h)
{
	struct cand_filter none = {.id = 0, .mask = 0, .invert = 1};
	struct cand_options opts;
	int rc;

	if (canctl_util_connect(sock, h) != 0)
		return 1;
	cand_options_init(&opts);
	opts.channel = iface;
	opts.fd = fd;
	opts.ignore_rx_error_frames = 1;
	opts.filters = &none;
	opts.n_filters = 1;
	if ((rc = cand_open(*h, &opts)) < 0) {
		canctl_util_fail(*h, rc, iface);
		cand_close(*h);
		*h = NULL;
		return 1;
	}
	return 0;
}

/* A non-negative int; 0 or -1. */
static int canctl_util_ms(const char *s, int *out)
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

int canctl_util_timeout(const char *s, int *ms)
{
	if (canctl_util_ms(s, ms) < 0)
		return canctl_usage_error("bad timeout '%s'", s);
	return 0;
}

int canctl_util_count(const char *s, long *count)
{
	int n;

	if (canctl_util_ms(s, &n) < 0 || n < 1)
		return canctl_usage_error("bad count '%s'", s);
	*count = n;
	return 0;
}

int canctl_util_duration(const char *opt, const char *s, uint64_t *us)
{
	const char *why;

	if (timetext_parse_us(s, us, &why) < 0)
		return canctl_usage_error("bad %s '%s': %s", opt, s, why);
	return 0;
}

int canctl_util_iface(const char *cmd, const char *iface)
{
	if (iface[0] == '\0' || strcmp(iface, CANCTL_ANY) == 0)
		return canctl_usage_error("%s needs one interface, not '%s'",
					  cmd, iface);
	if (strlen(iface) >= CAND_IFNAMSIZ)
		return canctl_usage_error("interface name '%s' is too long",
					  iface);
	return 0;
}

/* *fd is set when any frame is CAN FD. */
int canctl_util_frames(const char *cmd, int argc, char **argv,
		       struct cand_frame **out, int *fd)
{
	struct cand_frame *frames;
	char **args = argv + 1;
	const char *why;
	int i, n = argc - 1;

	if (argc < 2)
		return canctl_usage_error("%s needs an interface and at least "
					  "one frame",
					  cmd);
	if (canctl_util_iface(cmd, argv[0]) != 0)
		return 2;
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

static void canctl_util_on_signal(int sig)
{
	(void)sig;
	canctl_util_stop = 1;
}

/*
 * Signals stay blocked except inside ppoll() with *waitmask, so a stop
 * request can neither be lost between the check and the wait nor cut a
 * line.
 */
void canctl_util_signals(sigset_t *waitmask)
{
	struct sigaction sa;
	sigset_t block;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = canctl_util_on_signal;
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

int canctl_util_stopped(void)
{
	return canctl_util_stop != 0;
}

/* What cand_recv() or an event said, between the lines of stdout. */
void canctl_util_note(const char *what)
{
	fflush(stdout);
	fprintf(stderr, "canctl: %s\n", what);
}

/*
 * cand_recv_event() reports link changes and reconnections as events,
 * never as error codes, so any error here ends the command.
 */
int canctl_util_events(cand_t *h, int idle_ms, const sigset_t *waitmask,
		       const char *what,
		       int (*handle)(void *, const struct cand_event *),
		       void *arg)
{
	struct cand_event ev;
	struct pollfd pfd = {.fd = cand_fileno(h), .events = POLLIN};
	struct timespec tmo;
	int rc;

	tmo.tv_sec = idle_ms / 1000;
	tmo.tv_nsec = (long)(idle_ms % 1000) * 1000000L;
	for (;;) {
		while ((rc = cand_recv_event(h, &ev, 0)) == 1) {
			/* The daemon came back: on we go, and say so. */
			if (ev.type == CAND_EVENT_RECONNECTED)
				canctl_util_note(ev.detail);
			if ((rc = handle(arg, &ev)) != 0)
				return rc - 1;
		}
		if (rc != CAND_ETIMEOUT) {
			fflush(stdout);
			return canctl_util_fail(h, rc, what);
		}
		if (fflush(stdout) == EOF)
			return errno == EPIPE ? 0 : 1;
		if (canctl_util_stop)
			return 0;
		rc = ppoll(&pfd, 1, idle_ms >= 0 ? &tmo : NULL, waitmask);
		if (rc < 0 && errno != EINTR) {
			perror("canctl: poll");
			return 1;
		}
		if (rc == 0 || canctl_util_stop)
			return 0;
	}
}
