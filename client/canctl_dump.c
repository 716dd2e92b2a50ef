/*
 * canctl dump: received frames as candump prints them, with candump's
 * options, interfaces and filters: its default line (-t, -c, -a, -x), its
 * log format (-L, for canplayer), a log file (-l) and silence (-s).
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "canctl.h"
#include "canctl_dump.h"
#include "frametext.h"
#include "timetext.h"

#define CANCTL_DUMP_DRAIN 256 /* frames per interface between flushes */

/* candump -s. */
#define CANCTL_DUMP_LOUD      0
#define CANCTL_DUMP_ANIMATION 1
#define CANCTL_DUMP_SILENT    2
#define CANCTL_DUMP_UNSET     (-1)

struct canctl_dump {
	struct canctl_dump_ifs ifs;
	int log;    /* -L */
	int silent; /* -s */
	unsigned spin;
	long count; /* frames left, or -1 */
	FILE *logfile;
	struct frametext_view view;
};

/* The log line in the file, then stdout's line; -1 when stdout is gone. */
static int canctl_dump_frame(struct canctl_dump *d, struct cand_frame *f)
{
	static const char spinner[] = {'|', '/', '-', '\\'};
	char line[FRAMETEXT_MAX];
	struct timespec ts;
	int n;

	/* Every frame needs a time in a log canplayer will read. */
	if (f->timestamp_ns == 0 && clock_gettime(CLOCK_REALTIME, &ts) == 0)
		f->timestamp_ns = (uint64_t)ts.tv_sec * 1000000000u +
				  (uint64_t)ts.tv_nsec;
	if (d->logfile != NULL) {
		frametext_format_log(line, sizeof(line), f, &d->view);
		fprintf(d->logfile, "%s\n", line);
	}
	if (d->silent == CANCTL_DUMP_ANIMATION)
		return printf("%c\b", spinner[d->spin++ % 4]) < 0 ? -1 : 0;
	if (d->silent == CANCTL_DUMP_SILENT)
		return 0;
	if (d->log)
		n = frametext_format_log(line, sizeof(line), f, &d->view);
	else
		n = frametext_format_candump(line, sizeof(line), f, &d->view);
	if (n >= (int)sizeof(line))
		n = (int)sizeof(line) - 1;
	line[n++] = '\n';
	if (fwrite(line, 1, (size_t)n, stdout) != (size_t)n)
		return -1;
	return 0;
}

/*
 * Up to CANCTL_DUMP_DRAIN frames of one interface. Returns 1 when it
 * has more, 0 when drained, -1 to stop with *rc the exit status.
 */
static int canctl_dump_drain(struct canctl_dump *d, struct canctl_dump_if *di,
			     int *got, int *rc)
{
	struct cand_frame f;
	int n, r;

	for (n = 0; n < CANCTL_DUMP_DRAIN; n++) {
		r = cand_recv(di->h, &f, 0);
		if (r == CAND_ETIMEOUT)
			return 0;
		if (r == CAND_ENETDOWN || r == CAND_ENODEV ||
		    r == CAND_ERECONNECTED) {
			/* The handle stays usable; so does the dump. */
			canctl_util_note(cand_last_detail(di->h));
			continue;
		}
		if (r < 0) {
			fflush(stdout);
			*rc = canctl_util_fail(di->h, r, "receive");
			return -1;
		}
		*got = 1;
		if (canctl_dump_frame(d, &f) < 0) {
			*rc = errno == EPIPE ? 0 : 1;
			return -1;
		}
		if (d->count > 0 && --d->count == 0) {
			*rc = fflush(stdout) == EOF && errno != EPIPE ? 1 : 0;
			return -1;
		}
	}
	return 1;
}

static long canctl_dump_ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t->tv_sec) * 1000 +
	       (now.tv_nsec - t->tv_nsec) / 1000000;
}

static int canctl_dump_loop(struct canctl_dump *d, int idle_ms,
			    const sigset_t *waitmask)
{
	struct pollfd pfd[CANCTL_DUMP_MAX_IFS];
	struct timespec last, tmo;
	int i, rc = 0, got, more;
	long left;

	clock_gettime(CLOCK_MONOTONIC, &last);
	for (i = 0; i < d->ifs.n; i++) {
		pfd[i].fd = cand_fileno(d->ifs.v[i].h);
		pfd[i].events = POLLIN;
	}
	for (;;) {
		got = more = 0;
		for (i = 0; i < d->ifs.n; i++) {
			switch (canctl_dump_drain(d, &d->ifs.v[i], &got, &rc)) {
			case -1:
				return rc;
			case 1:
				more = 1;
			}
		}
		if (got)
			clock_gettime(CLOCK_MONOTONIC, &last);
		if (fflush(stdout) == EOF)
			return errno == EPIPE ? 0 : 1;
		if (d->logfile != NULL && fflush(d->logfile) == EOF) {
			perror("canctl: log file");
			return 1;
		}
		if (canctl_util_stopped())
			return 0;

		/* With more to read, only peek so signals get through. */
		tmo.tv_sec = tmo.tv_nsec = 0;
		if (!more && idle_ms >= 0) {
			if ((left = idle_ms - canctl_dump_ms_since(&last)) <= 0)
				return 0;
			tmo.tv_sec = left / 1000;
			tmo.tv_nsec = left % 1000 * 1000000;
		}
		if (ppoll(pfd, (nfds_t)d->ifs.n,
			  !more && idle_ms < 0 ? NULL : &tmo, waitmask) < 0 &&
		    errno != EINTR) {
			perror("canctl: poll");
			return 1;
		}
		if (canctl_util_stopped())
			return 0;
	}
}

/* candump -l: candump-YYYY-MM-DD_HHMMSS.log in the current directory. */
static int canctl_dump_logfile(struct canctl_dump *d)
{
	char name[64];
	struct tm tm;
	time_t now = time(NULL);

	if (localtime_r(&now, &tm) == NULL)
		return canctl_usage_error("no local time for the log's name");
	snprintf(name, sizeof(name), "candump-%04d-%02d-%02d_%02d%02d%02d.log",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec);
	if (d->silent != CANCTL_DUMP_SILENT)
		fprintf(stderr, "Warning: Console output active while "
				"logging!\n");
	fprintf(stderr, "Enabling Logfile '%s'\n", name);
	if ((d->logfile = fopen(name, "w")) == NULL) {
		fprintf(stderr, "canctl: %s: %s\n", name, strerror(errno));
		return 1;
	}
	return 0;
}

static int canctl_dump_open(struct canctl_dump *d, const char *sock,
			    const struct cand_options *base)
{
	struct cand_options opts = *base;
	struct canctl_dump_if *di;
	int i, rc;

	for (i = 0; i < d->ifs.n; i++) {
		di = &d->ifs.v[i];
		if (canctl_util_connect(sock, &di->h) != 0)
			return 1;
		opts.channel =
			strcmp(di->name, CANCTL_ANY) == 0 ? "" : di->name;
		opts.filters = di->filters;
		opts.n_filters = di->n_filters;
		if ((rc = cand_open(di->h, &opts)) < 0)
			return canctl_util_fail(di->h, rc, di->name);
	}
	return 0;
}

static int canctl_dump_options(struct canctl_dump *d, struct cand_options *o,
			       int *idle_ms, int *logfile, int argc,
			       char **argv)
{
	char *end;
	int ch;

	optind = 0;
	while ((ch = getopt(argc, argv, ":t:caxlLs:Eon:T:")) != -1) {
		switch (ch) {
		case 't':
			if (!timetext_mode_valid(optarg[0]) || optarg[1] != 0)
				return canctl_usage_error(
					"bad timestamp mode '%s' (a, A, d "
					"or z)",
					optarg);
			d->view.stamp = optarg[0];
			break;
		case 'c':
			d->view.color++;
			break;
		case 'a':
			d->view.flags |= FRAMETEXT_ASCII;
			break;
		case 'x':
			d->view.flags |= FRAMETEXT_EXTRA;
			break;
		case 'l':
			*logfile = 1;
			break;
		case 'L':
			d->log = 1;
			break;
		case 's':
			d->silent = (int)strtol(optarg, &end, 10);
			if (end == optarg || *end != '\0' ||
			    d->silent < CANCTL_DUMP_LOUD ||
			    d->silent > CANCTL_DUMP_SILENT)
				return canctl_usage_error(
					"bad silent level '%s' (0, 1 or 2)",
					optarg);
			break;
		case 'E':
			o->ignore_rx_error_frames = 1;
			break;
		case 'o':
			o->receive_own_messages = 1;
			break;
		case 'n':
			if (canctl_util_count(optarg, &d->count) != 0)
				return 2;
			break;
		case 'T':
			if (canctl_util_timeout(optarg, idle_ms) != 0)
				return 2;
			break;
		default:
			return canctl_bad_option(ch, argv);
		}
	}
	if (d->log && (d->view.flags & FRAMETEXT_ASCII))
		return canctl_usage_error("Log file format selected: Please "
					  "disable ASCII/BINARY/SWAP "
					  "options!");
	return 0;
}

static int canctl_dump(const char *sock, int argc, char **argv)
{
	struct cand_options opts;
	struct canctl_dump d;
	sigset_t waitmask;
	int rc, idle_ms = -1, logfile = 0;

	memset(&d, 0, sizeof(d));
	d.count = -1;
	d.silent = CANCTL_DUMP_UNSET;
	frametext_view_init(&d.view, 0);
	cand_options_init(&opts);
	opts.fd = 1;
	if ((rc = canctl_dump_options(&d, &opts, &idle_ms, &logfile, argc,
				      argv)) != 0)
		return rc;
	if ((rc = canctl_dumpargs_parse(&d.ifs, argc - optind,
					argv + optind)) != 0)
		return rc;
	/* candump starts with the width of the names it was given. */
	d.view.ifwidth = d.ifs.width;
	if (d.silent == CANCTL_DUMP_UNSET) {
		d.silent = CANCTL_DUMP_LOUD;
		if (logfile) {
			fprintf(stderr, "Disabled standard output while "
					"logging.\n");
			d.silent = CANCTL_DUMP_SILENT;
		}
	}

	canctl_util_signals(&waitmask);
	if ((rc = canctl_dump_open(&d, sock, &opts)) == 0 &&
	    (!logfile || (rc = canctl_dump_logfile(&d)) == 0))
		rc = canctl_dump_loop(&d, idle_ms, &waitmask);
	if (d.logfile != NULL && fclose(d.logfile) == EOF && rc == 0) {
		perror("canctl: log file");
		rc = 1;
	}
	canctl_dumpargs_free(&d.ifs);
	return rc;
}

const struct canctl_cmd canctl_dump_cmd = {
	"dump",
	"[-caxlLEo] [-t a|A|d|z] [-s 0|1|2] [-n count] [-T ms]\n"
	"      iface|any[,filter ...] [filter ...] [iface ...]",
	"print received frames like candump; a filter is id:mask\n"
	"(pass when id & mask match) or id~mask (pass when they do not),\n"
	"and an 8-digit id means an extended one; up to 16 interfaces\n"
	"  -t mode   timestamps: a absolute, A with the date, d delta,\n"
	"            z from zero\n"
	"  -c        colour per interface (again: more of the line)\n"
	"  -a        the data as ASCII too\n"
	"  -x        RX or TX (sent from this host) and the FD flags\n"
	"  -L        log format (candump -L), for canplayer and play\n"
	"  -l        log to candump-YYYY-MM-DD_HHMMSS.log (and -s 2)\n"
	"  -s level  silent: 0 print, 1 a spinner, 2 nothing\n"
	"  -n count  exit after count frames\n"
	"  -T ms     exit after ms without frames\n"
	"  -E        drop error frames (cand delivers them by default)\n"
	"  -o        receive own messages\n",
	canctl_dump,
};
