/*
 * canctl events: the state, link and configuration events of one or
 * every CAN interface, one line each.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "canctl.h"

/* One event as one line; returns -1 when stdout is gone. */
static int canctl_events_print(const struct cand_event *ev)
{
	int n = 0;

	switch (ev->type) {
	case CAND_EVENT_STATE:
		n = printf("%s state %s -> %s", ev->ifname,
			   cand_state_name(ev->state.previous),
			   cand_state_name(ev->state.state));
		if (ev->state.has_error_counters)
			printf(" tx %u rx %u", ev->state.tx_errors,
			       ev->state.rx_errors);
		if (ev->state.from_error_frames)
			printf(" (from error frames)");
		break;
	case CAND_EVENT_LINK:
		if (ev->link.removed)
			n = printf("%s link removed", ev->ifname);
		else
			n = printf("%s link %s%s%s", ev->ifname,
				   ev->link.appeared ? "appeared " : "",
				   ev->link.up ? "up" : "down",
				   ev->link.rebound ? " rebound" : "");
		break;
	case CAND_EVENT_CONFIG:
		n = printf("%s config %s", ev->ifname, ev->detail);
		break;
	case CAND_EVENT_RIGHTS:
		n = printf("rights %s", ev->detail);
		break;
	case CAND_EVENT_DROPS:
		n = printf("drops %llu (%llu in all)%s",
			   (unsigned long long)ev->drops.dropped,
			   (unsigned long long)ev->drops.kernel_drops,
			   ev->drops.slow_reader ? " slow reader" : "");
		break;
	case CAND_EVENT_RECONNECTED: /* canctl_util_events() says it */
	case CAND_EVENT_FRAME:
	case CAND_EVENT_TASK_EXPIRED:
	case CAND_EVENT_MONITOR_CHANGED:
	case CAND_EVENT_MONITOR_TIMEOUT:
		return 0; /* neither subscribed to frames nor owning any */
	}
	if (n < 0 || putchar('\n') == EOF)
		return -1;
	return 0;
}

/* For canctl_util_events(): nonzero is the exit status plus one. */
static int canctl_events_one(void *arg, const struct cand_event *ev)
{
	long *count = arg; /* events left to print, or -1 */

	if (canctl_events_print(ev) < 0)
		return (errno == EPIPE ? 0 : 1) + 1;
	if (ev->type != CAND_EVENT_FRAME && *count > 0 && --*count == 0)
		return (fflush(stdout) == EOF && errno != EPIPE) + 1;
	return 0;
}

static int canctl_events(const char *sock, int argc, char **argv)
{
	sigset_t waitmask;
	const char *iface = "";
	long count = -1;
	int ch, rc, idle_ms = -1;
	cand_t *h;

	optind = 0;
	while ((ch = getopt(argc, argv, ":n:T:")) != -1) {
		switch (ch) {
		case 'n':
			if (canctl_util_count(optarg, &count) != 0)
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
	if (argc > 1)
		return canctl_usage_error("events takes at most one interface");
	if (argc == 1)
		iface = argv[0];
	if (strlen(iface) >= CAND_IFNAMSIZ)
		return canctl_usage_error("interface name '%s' is too long",
					  iface);

	canctl_util_signals(&waitmask);
	if (canctl_util_connect(sock, &h) != 0)
		return 1;
	if ((rc = cand_subscribe(h, iface)) < 0)
		rc = canctl_util_fail(h, rc, iface[0] ? iface : "events");
	else
		rc = canctl_util_events(h, idle_ms, &waitmask, "events",
					canctl_events_one, &count);
	cand_close(h);
	return rc;
}

const struct canctl_cmd canctl_events_cmd = {
	"events",
	"[-n count] [-T ms] [iface]",
	"print state, link and configuration events of one or every CAN\n"
	"interface as lines, until interrupted\n",
	canctl_events,
};
