/*
 * canctl periodic: a periodic task (python-can's send_periodic) for as
 * long as canctl runs, or for its duration.
 */
#include <getopt.h>
#include <stdlib.h>

#include "canctl.h"

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
			if (canctl_util_duration("period", optarg, &period) !=
			    0)
				return 2;
			have_period = 1;
			break;
		case 'd':
			if (canctl_util_duration("duration", optarg,
						 &duration) != 0)
				return 2;
			break;
		default:
			return canctl_bad_option(ch, argv);
		}
	}
	argc -= optind;
	argv += optind;
	if (!have_period)
		return canctl_usage_error("periodic needs a period (-p)");
	if ((rc = canctl_util_frames("periodic", argc, argv, &frames, &fd)) !=
	    0)
		return rc;
	iface = argv[0];
	n = argc - 1;

	canctl_util_signals(&waitmask);
	if (canctl_util_open_quiet(sock, iface, fd, &h) != 0) {
		free(frames);
		return 1;
	}
	rc = cand_task_start(h, frames, (size_t)n, period, duration, 0, &t);
	free(frames);
	if (rc < 0) {
		rc = canctl_util_fail(h, rc, "periodic");
	} else {
		rc = canctl_util_events(h, -1, &waitmask, "receive",
					canctl_periodic_event, t);
		/* Stops it at once, rather than when the connection goes. */
		cand_task_free(t);
	}
	cand_close(h);
	return rc;
}

const struct canctl_cmd canctl_periodic_cmd = {
	"periodic",
	"-p period [-d duration] iface frame ...",
	"send the frames in turn, one every period (100ms, 2s, 500us; a\n"
	"bare number is ms), until Ctrl-C or for the duration\n"
	"  -p period    also --period\n"
	"  -d duration  stop after this long (also --duration)\n",
	canctl_periodic,
};
