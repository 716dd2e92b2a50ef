/*
 * canctl sniff: cansniffer through cand. A live screen of one line per
 * id, its period and its data, changed bits in colour for the hold time,
 * ids gone after the timeout; cansniffer's commands typed as lines on
 * stdin (q, b, 8, B, c, #, *, a, n, A, N, +id, -id, rNAME, wNAME). When
 * stdout is no terminal, plain lines instead of a screen.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "canctl.h"
#include "canctl_sniff.h"

#define CANCTL_SNIFF_DRAIN    256
#define CANCTL_SNIFF_LINE     256     /* a command typed */
#define CANCTL_SNIFF_MAX_TIME 100000u /* x10 ms: over 16 minutes */

/* The terminal's size; a change means a fresh screen. */
static void canctl_sniff_size(struct canctl_sniff *s)
{
	struct winsize ws;
	int rows = 24, cols = 80;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0) {
		rows = ws.ws_row;
		cols = ws.ws_col;
	}
	if (rows != s->rows || cols != s->cols)
		s->clear = 1;
	s->rows = rows;
	s->cols = cols;
}

/* A command line; 1 to quit, 0 to go on. */
static int canctl_sniff_command(struct canctl_sniff *s, char *cmd)
{
	int on;

	switch (cmd[0]) {
	case 'q':
		return 1;
	case 'b':
	case '8':
	case 'B':
		on = !(s->binary && s->binary8 == (cmd[0] == '8') &&
		       s->binary_gap == (cmd[0] == 'B'));
		s->binary = on;
		s->binary8 = on && cmd[0] == '8';
		s->binary_gap = on && cmd[0] == 'B';
		break;
	case 'c':
		s->color = !s->color;
		break;
	case '#':
	case '*':
		canctl_snifftab_notch(s, cmd[0] == '*');
		break;
	case 'a':
	case 'n':
	case 'A':
	case 'N':
		canctl_snifftab_all(s, cmd[0] == 'A' || cmd[0] == 'N',
				    cmd[0] == 'a' || cmd[0] == 'A');
		break;
	case '+':
	case '-':
		canctl_snifftab_filter(s, cmd);
		break;
	case 'r':
	case 'w':
		if ((cmd[0] == 'r' ? canctl_snifftab_read(s, cmd + 1)
				   : canctl_snifftab_write(s, cmd + 1)) < 0)
			fprintf(stderr, "canctl: sniffset.%s: %s\n", cmd + 1,
				strerror(errno));
		break;
	default:
		break; /* as cansniffer: a space, or nothing known, redraws */
	}
	s->clear = 1;
	return 0;
}

/* What stdin has: whole lines are commands. 1 to quit, -1 at its end. */
static int canctl_sniff_keys(struct canctl_sniff *s, char *buf, size_t *len)
{
	char *nl;
	ssize_t n;
	int quit = 0;

	n = read(STDIN_FILENO, buf + *len, CANCTL_SNIFF_LINE - 1 - *len);
	if (n <= 0)
		return n < 0 && errno == EINTR ? 0 : -1;
	*len += (size_t)n;
	buf[*len] = '\0';
	while (!quit && (nl = strchr(buf, '\n')) != NULL) {
		*nl = '\0';
		quit = canctl_sniff_command(s, buf);
		*len -= (size_t)(nl + 1 - buf);
		memmove(buf, nl + 1, *len + 1);
	}
	/* A line longer than any command: dropped. */
	if (*len == CANCTL_SNIFF_LINE - 1)
		*len = 0;
	return quit;
}

/* The frames cand has; 0, or the exit status. */
static int canctl_sniff_frames(struct canctl_sniff *s, cand_t *h)
{
	struct cand_frame f;
	int n, rc;

	for (n = 0; n < CANCTL_SNIFF_DRAIN; n++) {
		rc = cand_recv(h, &f, 0);
		if (rc == CAND_ETIMEOUT)
			return 0;
		/* The handle stays usable; the screen shows the gap. */
		if (rc == CAND_ENETDOWN || rc == CAND_ENODEV ||
		    rc == CAND_ERECONNECTED)
			continue;
		if (rc < 0) {
			canctl_sniffdraw_end(s);
			return canctl_util_fail(h, rc, "receive");
		}
		if (canctl_snifftab_frame(s, &f, canctl_snifftab_now_ms()) <
		    0) {
			canctl_sniffdraw_end(s);
			fprintf(stderr, "canctl: more than %d CAN ids\n",
				CANCTL_SNIFF_MAX_SLOTS);
			return 1;
		}
	}
	return 0;
}

static int canctl_sniff_loop(struct canctl_sniff *s, cand_t *h,
			     const sigset_t *waitmask)
{
	struct pollfd pfd[2] = {{.fd = cand_fileno(h), .events = POLLIN},
				{.fd = STDIN_FILENO, .events = POLLIN}};
	char line[CANCTL_SNIFF_LINE];
	uint64_t next = canctl_snifftab_now_ms(), now;
	struct timespec tmo;
	size_t len = 0;
	int rc, keys = 1;

	for (;;) {
		if ((rc = canctl_sniff_frames(s, h)) != 0)
			return rc;
		if ((now = canctl_snifftab_now_ms()) >= next) {
			if (s->tty)
				canctl_sniff_size(s);
			if (canctl_sniffdraw_refresh(s, now) < 0)
				return 0; /* stdout is gone */
			next = now - next < s->loop_ms ? next + s->loop_ms
						       : now + s->loop_ms;
		}
		if (canctl_util_stopped())
			return 0;
		tmo.tv_sec = (time_t)((next - now) / 1000u);
		tmo.tv_nsec = (long)((next - now) % 1000u * 1000000u);
		if (ppoll(pfd, keys ? 2 : 1, &tmo, waitmask) < 0 &&
		    errno != EINTR) {
			perror("canctl: poll");
			return 1;
		}
		if (canctl_util_stopped())
			return 0;
		if (keys && (pfd[1].revents & (POLLIN | POLLHUP))) {
			rc = canctl_sniff_keys(s, line, &len);
			if (rc > 0)
				return 0;
			keys = rc == 0; /* at stdin's end, the screen goes on */
		}
	}
}

/* cansniffer's times are in tens of ms. */
static int canctl_sniff_time(const char *opt, const char *s, unsigned min,
			     unsigned *ms)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || *s == '-' || v < min ||
	    v > CANCTL_SNIFF_MAX_TIME)
		return canctl_usage_error("bad %s '%s' (%u to %u, in tens of "
					  "ms)",
					  opt, s, min, CANCTL_SNIFF_MAX_TIME);
	*ms = (unsigned)v * 10u;
	return 0;
}

static int canctl_sniff_options(struct canctl_sniff *s, const char **settings,
				int argc, char **argv)
{
	int ch;

	optind = 0;
	while ((ch = getopt(argc, argv, ":qr:eb8Bct:h:l:")) != -1) {
		switch (ch) {
		case 'q':
			s->enable_sff = s->enable_eff = 0;
			break;
		case 'r':
			*settings = optarg;
			break;
		case 'e':
			s->fix_eff = 1;
			break;
		case 'b':
		case '8':
		case 'B':
			s->binary = 1;
			s->binary8 = ch == '8';
			s->binary_gap = ch == 'B';
			break;
		case 'c':
			s->color = 1;
			break;
		case 't':
			if (canctl_sniff_time("timeout", optarg, 0,
					      &s->timeout_ms) != 0)
				return 2;
			break;
		case 'h':
			if (canctl_sniff_time("hold", optarg, 0, &s->hold_ms) !=
			    0)
				return 2;
			break;
		case 'l':
			if (canctl_sniff_time("loop", optarg, 1, &s->loop_ms) !=
			    0)
				return 2;
			break;
		default:
			return canctl_bad_option(ch, argv);
		}
	}
	if (optind != argc - 1)
		return canctl_usage_error("sniff needs one interface or 'any'");
	s->iface = argv[optind];
	if (strlen(s->iface) >= CAND_IFNAMSIZ)
		return canctl_usage_error("interface name '%s' is too long",
					  s->iface);
	return 0;
}

static int canctl_sniff(const char *sock, int argc, char **argv)
{
	struct canctl_sniff s;
	struct cand_options opts;
	const char *settings = NULL;
	sigset_t waitmask;
	cand_t *h;
	int rc;

	memset(&s, 0, sizeof(s));
	s.loop_ms = 200;
	s.hold_ms = 1000;
	s.timeout_ms = 5000;
	s.enable_sff = s.enable_eff = 1;
	s.color = 1; /* the changes are the point */
	s.clear = 1;
	if ((rc = canctl_sniff_options(&s, &settings, argc, argv)) != 0)
		return rc;
	if (settings != NULL && canctl_snifftab_read(&s, settings) < 0) {
		fprintf(stderr, "canctl: sniffset.%s: %s\n", settings,
			strerror(errno));
		canctl_snifftab_free(&s);
		return 1;
	}
	s.tty = isatty(STDOUT_FILENO);
	canctl_util_signals(&waitmask);
	if (canctl_util_connect(sock, &h) != 0) {
		canctl_snifftab_free(&s);
		return 1;
	}
	cand_options_init(&opts);
	opts.channel = strcmp(s.iface, CANCTL_ANY) == 0 ? "" : s.iface;
	opts.ignore_rx_error_frames = 1; /* as cansniffer's socket */
	if ((rc = cand_open(h, &opts)) < 0) {
		rc = canctl_util_fail(h, rc, s.iface);
	} else {
		/* A screen goes out whole, not a line at a time. */
		if (s.tty && setvbuf(stdout, NULL, _IOFBF, 1 << 16) == 0)
			fputs("\33[?25l", stdout); /* no cursor on the lines */
		rc = canctl_sniff_loop(&s, h, &waitmask);
		canctl_sniffdraw_end(&s);
	}
	cand_close(h);
	canctl_snifftab_free(&s);
	return rc;
}

const struct canctl_cmd canctl_sniff_cmd = {
	"sniff",
	"[-qeb8Bc] [-r name] [-t time] [-h time] [-l time] iface|any",
	"a line per CAN id with its period and data, changed bits in\n"
	"colour, like cansniffer; plain lines when stdout is no terminal.\n"
	"Commands, each a line on stdin: q quit, b 8 B binary views,\n"
	"c colour, # notch the marked bits, * clear the notches, a n A N\n"
	"all SFF or EFF ids on or off, +id -id (or id and mask: +400600)\n"
	"switch ids, rNAME wNAME read or write sniffset.NAME\n"
	"  -q        start with every id off\n"
	"  -r name   read sniffset.name first\n"
	"  -e        extended id columns from the start\n"
	"  -b -8 -B  start in binary (-8: fits EFF in 80, -B: gaps)\n"
	"  -c        colour the changes (the default; c turns it off)\n"
	"  -t time   drop ids quiet this long (x10 ms, 500; 0: never)\n"
	"  -h time   mark changes this long (x10 ms, 100)\n"
	"  -l time   redraw every time (x10 ms, 20)\n",
	canctl_sniff,
};
