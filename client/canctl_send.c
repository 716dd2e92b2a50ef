/*
 * canctl send: frames in cansend syntax, in one request, so the daemon
 * checks them all before any goes out.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "canctl.h"

#define CANCTL_SEND_TIMEOUT_MS 1000

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
			if (canctl_util_timeout(optarg, &timeout) != 0)
				return 2;
			break;
		default:
			return canctl_bad_option(ch, argv);
		}
	}
	argc -= optind;
	argv += optind;
	if ((rc = canctl_util_frames("send", argc, argv, &frames, &fd)) != 0)
		return rc;
	iface = argv[0];
	n = argc - 1;

	if (canctl_util_connect(sock, &h) != 0) {
		free(frames);
		return 1;
	}
	cand_options_init(&opts);
	opts.channel = iface;
	opts.fd = fd;
	if ((rc = cand_open(h, &opts)) < 0) {
		canctl_util_fail(h, rc, iface);
		rc = 1;
	} else if ((rc = cand_send(h, frames, (size_t)n, timeout)) < 0) {
		canctl_util_fail(h, rc, "send");
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

const struct canctl_cmd canctl_send_cmd = {
	"send",
	"[-t ms] iface frame ...",
	"send frames in cansend syntax (123#DEADBEEF, 12345678#11.22,\n"
	"123#R4, 123##1AABB for CAN FD with BRS), waiting up to ms\n"
	"(default 1000) for room in the TX queue\n",
	canctl_send,
};
