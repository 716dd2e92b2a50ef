/*
 * canctl's bus health commands: state (in the spirit of ip -details
 * -statistics link show), set, restart and events.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "canctl.h"
#include "cand.h"

/* Set from the signal handler; nothing else can reach it. */
static volatile sig_atomic_t canctl_bus_stop;

static const struct {
	const char *name; /* as canctl set takes it */
	const char *shown;
	uint32_t bit;
} canctl_modes[] = {
	{"loopback", "LOOPBACK", CAND_CTRLMODE_LOOPBACK},
	{"listen-only", "LISTEN-ONLY", CAND_CTRLMODE_LISTEN_ONLY},
	{"triple-sampling", "TRIPLE-SAMPLING", CAND_CTRLMODE_3_SAMPLES},
	{"one-shot", "ONE-SHOT", CAND_CTRLMODE_ONE_SHOT},
	{"berr-reporting", "BERR-REPORTING", CAND_CTRLMODE_BERR_REPORTING},
	{"fd", "FD", CAND_CTRLMODE_FD},
	{"presume-ack", "PRESUME-ACK", CAND_CTRLMODE_PRESUME_ACK},
	{"fd-non-iso", "FD-NON-ISO", CAND_CTRLMODE_FD_NON_ISO},
	{"cc-len8-dlc", "CC-LEN8-DLC", CAND_CTRLMODE_CC_LEN8_DLC},
};
#define CANCTL_N_MODES (sizeof(canctl_modes) / sizeof(canctl_modes[0]))

static void canctl_modes_str(uint32_t bits, char *buf, size_t size)
{
	size_t i, off = 0;

	snprintf(buf, size, "none");
	for (i = 0; i < CANCTL_N_MODES && off < size; i++)
		if (bits & canctl_modes[i].bit)
			off += (size_t)snprintf(buf + off, size - off, "%s%s",
						off ? " " : "",
						canctl_modes[i].shown);
}

/* 875 -> "0.875", as ip prints a sample point. */
static const char *canctl_sp(uint32_t sp, char *buf, size_t size)
{
	snprintf(buf, size, "%u.%03u", sp / 1000, sp % 1000);
	return buf;
}

static void canctl_print_state(const struct cand_bus_state *s)
{
	const struct cand_bus_config *c = &s->config;
	char modes[160], sup[160], sp[16];

	printf("%s: %s%s; %s (%s), ifindex %u, mtu %u%s\n", s->link.name,
	       s->link.up ? "up" : "down",
	       s->link.up && s->running ? ", running" : "",
	       s->link.hardware ? "hardware" : "virtual",
	       s->link.kind[0] ? s->link.kind : "?", s->link.ifindex,
	       s->link.mtu, s->link.mtu == 72 ? " (FD)" : "");
	if (s->state == CAND_STATE_NONE)
		printf("    state not applicable (%s)\n",
		       s->controller ? "unknown" : "no controller");
	else
		printf("    state %s%s", cand_state_name(s->state),
		       s->state_from_error_frames ? " (from error frames)"
						  : "");
	if (s->state != CAND_STATE_NONE && s->has_error_counters)
		printf("  berr-counter tx %u rx %u\n", s->tx_errors,
		       s->rx_errors);
	else if (s->state != CAND_STATE_NONE)
		printf("\n");
	if (s->controller) {
		printf("    bitrate %u sample-point %s", c->bitrate,
		       canctl_sp(c->sample_point, sp, sizeof(sp)));
		if (c->data_bitrate)
			printf("  dbitrate %u dsample-point %s",
			       c->data_bitrate,
			       canctl_sp(c->data_sample_point, sp, sizeof(sp)));
		printf("  restart-ms %u\n", c->restart_ms);
		canctl_modes_str(c->ctrlmode, modes, sizeof(modes));
		canctl_modes_str(c->ctrlmode_supported, sup, sizeof(sup));
		printf("    ctrlmode %s  (supported: %s)  clock %u\n", modes,
		       sup, c->clock_hz);
		if (s->busoff_policy[0] != '\0')
			printf("    bus-off recovery: %s\n", s->busoff_policy);
		printf("    re-started bus-errors arbit-lost error-warn "
		       "error-pass bus-off\n");
		printf("    %-10u %-10u %-10u %-10u %-10u %u\n",
		       s->dev.restarts, s->dev.bus_errors,
		       s->dev.arbitration_lost, s->dev.error_warning,
		       s->dev.error_passive, s->dev.bus_off);
	}
	if (s->has_stats) {
		printf("    RX: bytes      packets    errors     dropped    "
		       "overrun\n");
		printf("        %-10llu %-10llu %-10llu %-10llu %llu\n",
		       (unsigned long long)s->stats.rx_bytes,
		       (unsigned long long)s->stats.rx_packets,
		       (unsigned long long)s->stats.rx_errors,
		       (unsigned long long)s->stats.rx_dropped,
		       (unsigned long long)s->stats.rx_over_errors);
		printf("    TX: bytes      packets    errors     dropped\n");
		printf("        %-10llu %-10llu %-10llu %llu\n",
		       (unsigned long long)s->stats.tx_bytes,
		       (unsigned long long)s->stats.tx_packets,
		       (unsigned long long)s->stats.tx_errors,
		       (unsigned long long)s->stats.tx_dropped);
	}
}

int canctl_state(const char *sock, int argc, char **argv)
{
	struct cand_bus_state *v;
	const char *iface = argc > 1 ? argv[1] : "";
	cand_t *h;
	int i, n;

	if (argc > 2)
		return canctl_usage_error("state takes at most one interface");
	if (strlen(iface) >= CAND_IFNAMSIZ)
		return canctl_usage_error("interface name '%s' is too long",
					  iface);
	if (canctl_connect(sock, &h) != 0)
		return 1;
	if ((n = cand_bus_state(h, iface, &v)) < 0) {
		canctl_fail(h, n, iface[0] ? iface : "state");
		cand_close(h);
		return 1;
	}
	for (i = 0; i < n; i++)
		canctl_print_state(&v[i]);
	free(v);
	cand_close(h);
	return fflush(stdout) == EOF ? 1 : 0;
}

static int canctl_uint(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' ||
	    v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* "0.875" -> 875 tenths of a percent. */
static int canctl_sample_point(const char *s, uint32_t *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v > 0.0) || !(v < 1.0))
		return -1;
	*out = (uint32_t)(v * 1000.0 + 0.5);
	return *out >= 1 && *out <= 999 ? 0 : -1;
}

static int canctl_onoff(const char *s, int *on)
{
	if (strcmp(s, "on") == 0)
		*on = 1;
	else if (strcmp(s, "off") == 0)
		*on = 0;
	else
		return -1;
	return 0;
}

/* Parses canctl set's words into chg; returns 0 or a usage error (2). */
static int canctl_set_parse(int argc, char **argv, struct cand_bus_change *chg)
{
	uint32_t v;
	size_t m;
	int i, on;

	cand_bus_change_init(chg);
	for (i = 0; i < argc; i++) {
		const char *key = argv[i],
			   *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(key, "up") == 0 || strcmp(key, "down") == 0) {
			chg->up = key[0] == 'u';
			continue;
		}
		if (val == NULL)
			return canctl_usage_error("'%s' needs a value", key);
		i++;
		if (strcmp(key, "bitrate") == 0 ||
		    strcmp(key, "dbitrate") == 0) {
			if (canctl_uint(val, &v) < 0 || v == 0)
				return canctl_usage_error("bad %s '%s'", key,
							  val);
			*(key[0] == 'b' ? &chg->bitrate : &chg->data_bitrate) =
				v;
		} else if (strcmp(key, "sample-point") == 0 ||
			   strcmp(key, "dsample-point") == 0) {
			if (canctl_sample_point(val, &v) < 0)
				return canctl_usage_error(
					"bad %s '%s': a fraction such as "
					"0.875",
					key, val);
			*(key[0] == 's' ? &chg->sample_point
					: &chg->data_sample_point) = v;
		} else if (strcmp(key, "restart-ms") == 0) {
			if (canctl_uint(val, &v) < 0)
				return canctl_usage_error("bad restart-ms '%s'",
							  val);
			chg->restart_ms = v;
		} else {
			for (m = 0; m < CANCTL_N_MODES; m++)
				if (strcmp(key, canctl_modes[m].name) == 0)
					break;
			if (m == CANCTL_N_MODES)
				return canctl_usage_error("unknown setting "
							  "'%s'",
							  key);
			if (canctl_onoff(val, &on) < 0)
				return canctl_usage_error("%s is on or off, "
							  "not '%s'",
							  key, val);
			chg->ctrlmode_mask |= canctl_modes[m].bit;
			if (on)
				chg->ctrlmode_flags |= canctl_modes[m].bit;
			else
				chg->ctrlmode_flags &= ~canctl_modes[m].bit;
		}
	}
	return 0;
}

int canctl_set(const char *sock, int argc, char **argv)
{
	struct cand_bus_change chg;
	struct cand_bus_configured res;
	const struct cand_bus_config *c = &res.config;
	char modes[160], sp[16];
	const char *iface;
	cand_t *h;
	int rc;

	if (argc < 3)
		return canctl_usage_error("set needs an interface and a "
					  "setting");
	iface = argv[1];
	if (iface[0] == '\0' || strlen(iface) >= CAND_IFNAMSIZ)
		return canctl_usage_error("bad interface name '%s'", iface);
	if ((rc = canctl_set_parse(argc - 2, argv + 2, &chg)) != 0)
		return rc;
	if (canctl_connect(sock, &h) != 0)
		return 1;
	rc = cand_configure(h, iface, &chg, &res);
	if (rc < 0) {
		canctl_fail(h, rc, iface);
		cand_close(h);
		return 1;
	}
	printf("%s: configured%s; %s\n", iface,
	       res.cycled ? " (it was up: taken down, configured and brought "
			    "back up)"
			  : "",
	       res.up ? "up" : "down");
	if (res.controller) {
		canctl_modes_str(c->ctrlmode, modes, sizeof(modes));
		printf("    bitrate %u sample-point %s", c->bitrate,
		       canctl_sp(c->sample_point, sp, sizeof(sp)));
		if (c->data_bitrate)
			printf("  dbitrate %u dsample-point %s",
			       c->data_bitrate,
			       canctl_sp(c->data_sample_point, sp, sizeof(sp)));
		printf("  restart-ms %u  ctrlmode %s\n", c->restart_ms, modes);
	}
	cand_close(h);
	return fflush(stdout) == EOF ? 1 : 0;
}

int canctl_restart(const char *sock, int argc, char **argv)
{
	cand_t *h;
	int rc;

	if (argc != 2)
		return canctl_usage_error("restart needs one interface");
	if (canctl_connect(sock, &h) != 0)
		return 1;
	rc = cand_restart(h, argv[1]);
	if (rc < 0)
		canctl_fail(h, rc, argv[1]);
	else
		printf("%s: restarted\n", argv[1]);
	cand_close(h);
	return rc < 0 ? 1 : 0;
}

static void canctl_bus_on_signal(int sig)
{
	(void)sig;
	canctl_bus_stop = 1;
}

/* One event as one line; returns -1 when stdout is gone. */
static int canctl_print_event(const struct cand_event *ev)
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

static int canctl_events_loop(cand_t *h, long count, int idle_ms,
			      const sigset_t *waitmask)
{
	struct cand_event ev;
	struct timespec tmo, *tp;
	struct pollfd pfd = {.fd = cand_fileno(h), .events = POLLIN};
	int rc;

	for (;;) {
		while ((rc = cand_recv_event(h, &ev, 0)) == 1) {
			if (canctl_print_event(&ev) < 0)
				return errno == EPIPE ? 0 : 1;
			if (ev.type != CAND_EVENT_FRAME && count > 0 &&
			    --count == 0)
				return fflush(stdout) == EOF && errno != EPIPE;
		}
		if (rc != CAND_ETIMEOUT) {
			fflush(stdout);
			return canctl_fail(h, rc, "events");
		}
		if (fflush(stdout) == EOF)
			return errno == EPIPE ? 0 : 1;
		if (canctl_bus_stop)
			return 0;
		tmo.tv_sec = idle_ms / 1000;
		tmo.tv_nsec = (long)(idle_ms % 1000) * 1000000L;
		tp = idle_ms >= 0 ? &tmo : NULL;
		rc = ppoll(&pfd, 1, tp, waitmask);
		if (rc < 0 && errno != EINTR) {
			perror("canctl: poll");
			return 1;
		}
		if (rc == 0 || canctl_bus_stop)
			return 0;
	}
}

int canctl_events(const char *sock, int argc, char **argv)
{
	struct sigaction sa;
	sigset_t block, waitmask;
	const char *iface = "";
	long count = -1;
	int ch, rc, idle_ms = -1, n;
	cand_t *h;

	optind = 0;
	while ((ch = getopt(argc, argv, ":n:T:")) != -1) {
		switch (ch) {
		case 'n':
			if (canctl_ms(optarg, &n) < 0 || n < 1)
				return canctl_usage_error("bad count '%s'",
							  optarg);
			count = n;
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
	if (argc > 1)
		return canctl_usage_error("events takes at most one interface");
	if (argc == 1)
		iface = argv[0];
	if (strlen(iface) >= CAND_IFNAMSIZ)
		return canctl_usage_error("interface name '%s' is too long",
					  iface);

	/* As dump: signals get through only inside ppoll(). */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = canctl_bus_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	sigdelset(&waitmask, SIGINT);
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGHUP);

	if (canctl_connect(sock, &h) != 0)
		return 1;
	if ((rc = cand_subscribe(h, iface)) < 0)
		rc = canctl_fail(h, rc, iface[0] ? iface : "events");
	else
		rc = canctl_events_loop(h, count, idle_ms, &waitmask);
	cand_close(h);
	return rc;
}
