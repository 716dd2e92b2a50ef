/*
 * canctl dump: received frames as candump prints them, or in its log
 * format for canplayer, with candump's interface and filter syntax.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "canctl.h"
#include "filtertext.h"
#include "frametext.h"

#define CANCTL_DUMP_DRAIN 256 /* frames between flushes in a flood */

struct canctl_dump {
	cand_t *h;
	int log;
	long count; /* frames left to print, or -1 */
	struct frametext_view view;
};

/*
 * The filters of "iface,filter,..." and of the words after it into a
 * malloc'd array, the interface into iface. Returns 0 or the exit status.
 */
static int canctl_dump_filters(int argc, char **argv, char iface[CAND_IFNAMSIZ],
			       struct cand_filter **out, size_t *n_out)
{
	struct cand_filter *filters = NULL;
	char *arg, *tok, *save;
	const char *why;
	size_t n = 0, max = (size_t)argc, len;
	int i, rc;

	/* Room for one filter per ',' in the first word and per word after. */
	for (arg = argv[0]; *arg != '\0'; arg++)
		max += *arg == ',';
	if ((filters = calloc(max, sizeof(*filters))) == NULL) {
		fprintf(stderr, "canctl: out of memory\n");
		return 1;
	}
	if ((arg = strdup(argv[0])) == NULL) {
		free(filters);
		fprintf(stderr, "canctl: out of memory\n");
		return 1;
	}
	len = strcspn(arg, ",");
	if (len >= CAND_IFNAMSIZ) {
		free(filters);
		free(arg);
		return canctl_usage_error("interface name '%.*s' is too long",
					  (int)len, argv[0]);
	}
	memcpy(iface, arg, len);
	iface[len] = '\0';
	for (tok = strtok_r(arg + len, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		if (filtertext_parse(tok, &filters[n], &why) < 0) {
			rc = canctl_usage_error("bad filter '%s': %s", tok,
						why);
			free(filters);
			free(arg);
			return rc;
		}
		n++;
	}
	free(arg);
	for (i = 1; i < argc; i++) {
		if (filtertext_parse(argv[i], &filters[n], &why) < 0) {
			free(filters);
			return canctl_usage_error("bad filter '%s': %s",
						  argv[i], why);
		}
		n++;
	}
	*out = filters;
	*n_out = n;
	return 0;
}

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
		for (n = 0; n < CANCTL_DUMP_DRAIN; n++) {
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
			} else if (rc == CAND_ENETDOWN || rc == CAND_ENODEV ||
				   rc == CAND_ERECONNECTED) {
				/* The handle stays usable; so does the dump. */
				canctl_util_note(cand_last_detail(d->h));
			} else if (rc == CAND_ETIMEOUT)
				break;
			else {
				fflush(stdout);
				return canctl_util_fail(d->h, rc, "receive");
			}
		}
		if (fflush(stdout) == EOF)
			return errno == EPIPE ? 0 : 1;
		if (canctl_util_stopped())
			return 0;

		/* After a full drain, only peek so signals get through. */
		tmo.tv_sec = tmo.tv_nsec = 0;
		if (n < CANCTL_DUMP_DRAIN && idle_ms >= 0) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			waited = (now.tv_sec - last.tv_sec) * 1000 +
				 (now.tv_nsec - last.tv_nsec) / 1000000;
			if ((left = idle_ms - waited) <= 0)
				return 0;
			tmo.tv_sec = left / 1000;
			tmo.tv_nsec = left % 1000 * 1000000;
		}
		if (ppoll(&pfd, 1,
			  n < CANCTL_DUMP_DRAIN && idle_ms < 0 ? NULL : &tmo,
			  waitmask) < 0 &&
		    errno != EINTR) {
			perror("canctl: poll");
			return 1;
		}
		if (canctl_util_stopped())
			return 0;
	}
}

static int canctl_dump(const char *sock, int argc, char **argv)
{
	struct cand_filter *filters = NULL;
	struct cand_options opts;
	struct canctl_dump d;
	sigset_t waitmask;
	char iface[CAND_IFNAMSIZ];
	size_t n_filters = 0;
	int ch, rc, idle_ms = -1;

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
			if (canctl_util_count(optarg, &d.count) != 0)
				return 2;
			break;
		case 'T':
			if (canctl_util_timeout(optarg, &idle_ms) != 0)
				return 2;
			break;
		default:
			return canctl_bad_option(ch, argv);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		return canctl_usage_error("dump needs an interface or 'any'");
	if ((rc = canctl_dump_filters(argc, argv, iface, &filters,
				      &n_filters)) != 0)
		return rc;
	opts.channel = strcmp(iface, CANCTL_ANY) == 0 ? "" : iface;
	opts.filters = filters;
	opts.n_filters = n_filters;
	/* candump starts with the width of the name it was given. */
	frametext_view_init(&d.view, (int)strlen(iface));

	canctl_util_signals(&waitmask);
	if (canctl_util_connect(sock, &d.h) != 0) {
		free(filters);
		return 1;
	}
	if ((rc = cand_open(d.h, &opts)) < 0)
		rc = canctl_util_fail(d.h, rc,
				      iface[0] != '\0' ? iface : "any");
	else
		rc = canctl_dump_loop(&d, idle_ms, &waitmask);
	cand_close(d.h);
	free(filters);
	return rc;
}

const struct canctl_cmd canctl_dump_cmd = {
	"dump",
	"[-LEo] [-n count] [-T ms] iface|any[,filter ...] [filter ...]",
	"print received frames like candump; a filter is id:mask\n"
	"(pass when id & mask match) or id~mask (pass when they do not),\n"
	"and an 8-digit id means an extended one\n"
	"  -L        log format (candump -L), for canplayer\n"
	"  -n count  exit after count frames\n"
	"  -T ms     exit after ms without frames\n"
	"  -E        drop error frames (cand delivers them by default)\n"
	"  -o        receive own messages\n",
	canctl_dump,
};
