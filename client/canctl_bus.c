/*
 * canctl's commands on the controllers themselves: state (in the spirit
 * of ip -details -statistics link show), set and restart.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "canctl.h"

static const struct {
	const char *name; /* as canctl set takes it */
	const char *shown;
	uint32_t bit;
} canctl_bus_modes[] = {
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
#define CANCTL_BUS_N_MODES                                                     \
	(sizeof(canctl_bus_modes) / sizeof(canctl_bus_modes[0]))

static void canctl_bus_modes_str(uint32_t bits, char *buf, size_t size)
{
	size_t i, off = 0;

	snprintf(buf, size, "none");
	for (i = 0; i < CANCTL_BUS_N_MODES && off < size; i++)
		if (bits & canctl_bus_modes[i].bit)
			off += (size_t)snprintf(buf + off, size - off, "%s%s",
						off ? " " : "",
						canctl_bus_modes[i].shown);
}

/* The bit timing as ip prints it (sample point 875 -> "0.875"), no '\n'. */
static void canctl_bus_print_timing(const struct cand_bus_config *c)
{
	printf("    bitrate %u sample-point %u.%03u", c->bitrate,
	       c->sample_point / 1000, c->sample_point % 1000);
	if (c->data_bitrate)
		printf("  dbitrate %u dsample-point %u.%03u", c->data_bitrate,
		       c->data_sample_point / 1000,
		       c->data_sample_point % 1000);
	printf("  restart-ms %u", c->restart_ms);
}

static void canctl_bus_print_state(const struct cand_bus_state *s)
{
	const struct cand_bus_config *c = &s->config;
	char modes[160], sup[160];

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
		canctl_bus_print_timing(c);
		printf("\n");
		canctl_bus_modes_str(c->ctrlmode, modes, sizeof(modes));
		canctl_bus_modes_str(c->ctrlmode_supported, sup, sizeof(sup));
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

static int canctl_bus_state(const char *sock, int argc, char **argv)
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
	if (canctl_util_connect(sock, &h) != 0)
		return 1;
	if ((n = cand_bus_state(h, iface, &v)) < 0) {
		canctl_util_fail(h, n, iface[0] ? iface : "state");
		cand_close(h);
		return 1;
	}
	for (i = 0; i < n; i++)
		canctl_bus_print_state(&v[i]);
	free(v);
	cand_close(h);
	return fflush(stdout) == EOF ? 1 : 0;
}

static int canctl_bus_uint(const char *s, uint32_t *out)
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
static int canctl_bus_sample_point(const char *s, uint32_t *out)
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

static int canctl_bus_onoff(const char *s, int *on)
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
static int canctl_bus_set_parse(int argc, char **argv,
				struct cand_bus_change *chg)
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
			if (canctl_bus_uint(val, &v) < 0 || v == 0)
				return canctl_usage_error("bad %s '%s'", key,
							  val);
			*(key[0] == 'b' ? &chg->bitrate : &chg->data_bitrate) =
				v;
		} else if (strcmp(key, "sample-point") == 0 ||
			   strcmp(key, "dsample-point") == 0) {
			if (canctl_bus_sample_point(val, &v) < 0)
				return canctl_usage_error(
					"bad %s '%s': a fraction such as "
					"0.875",
					key, val);
			*(key[0] == 's' ? &chg->sample_point
					: &chg->data_sample_point) = v;
		} else if (strcmp(key, "restart-ms") == 0) {
			if (canctl_bus_uint(val, &v) < 0)
				return canctl_usage_error("bad restart-ms '%s'",
							  val);
			chg->restart_ms = v;
		} else {
			for (m = 0; m < CANCTL_BUS_N_MODES; m++)
				if (strcmp(key, canctl_bus_modes[m].name) == 0)
					break;
			if (m == CANCTL_BUS_N_MODES)
				return canctl_usage_error("unknown setting "
							  "'%s'",
							  key);
			if (canctl_bus_onoff(val, &on) < 0)
				return canctl_usage_error("%s is on or off, "
							  "not '%s'",
							  key, val);
			chg->ctrlmode_mask |= canctl_bus_modes[m].bit;
			if (on)
				chg->ctrlmode_flags |= canctl_bus_modes[m].bit;
			else
				chg->ctrlmode_flags &= ~canctl_bus_modes[m].bit;
		}
	}
	return 0;
}

static int canctl_bus_set(const char *sock, int argc, char **argv)
{
	struct cand_bus_change chg;
	struct cand_bus_configured res;
	const struct cand_bus_config *c = &res.config;
	char modes[160];
	const char *iface;
	cand_t *h;
	int rc;

	if (argc < 3)
		return canctl_usage_error("set needs an interface and a "
					  "setting");
	iface = argv[1];
	if (iface[0] == '\0' || strlen(iface) >= CAND_IFNAMSIZ)
		return canctl_usage_error("bad interface name '%s'", iface);
	if ((rc = canctl_bus_set_parse(argc - 2, argv + 2, &chg)) != 0)
		return rc;
	if (canctl_util_connect(sock, &h) != 0)
		return 1;
	rc = cand_configure(h, iface, &chg, &res);
	if (rc < 0) {
		canctl_util_fail(h, rc, iface);
		cand_close(h);
		return 1;
	}
	printf("%s: configured%s; %s\n", iface,
	       res.cycled ? " (it was up: taken down, configured and brought "
			    "back up)"
			  : "",
	       res.up ? "up" : "down");
	if (res.controller) {
		canctl_bus_modes_str(c->ctrlmode, modes, sizeof(modes));
		canctl_bus_print_timing(c);
		printf("  ctrlmode %s\n", modes);
	}
	cand_close(h);
	return fflush(stdout) == EOF ? 1 : 0;
}

static int canctl_bus_restart(const char *sock, int argc, char **argv)
{
	cand_t *h;
	int rc;

	if (argc != 2)
		return canctl_usage_error("restart needs one interface");
	if (canctl_util_connect(sock, &h) != 0)
		return 1;
	rc = cand_restart(h, argv[1]);
	if (rc < 0)
		canctl_util_fail(h, rc, argv[1]);
	else
		printf("%s: restarted\n", argv[1]);
	cand_close(h);
	return rc < 0 ? 1 : 0;
}

const struct canctl_cmd canctl_bus_state_cmd = {
	"state",
	"[iface]",
	"bus state, error counters, bit timing, controller mode and\n"
	"statistics of one or every CAN interface\n",
	canctl_bus_state,
};

const struct canctl_cmd canctl_bus_set_cmd = {
	"set",
	"iface setting ...",
	"change the configuration (root): bitrate N [sample-point 0.875]\n"
	"dbitrate N [dsample-point 0.8] restart-ms N, on|off for loopback\n"
	"listen-only triple-sampling one-shot berr-reporting fd presume-ack\n"
	"fd-non-iso cc-len8-dlc, and up or down; an interface that is up is\n"
	"taken down for bit timing and modes and brought back up\n",
	canctl_bus_set,
};

const struct canctl_cmd canctl_bus_restart_cmd = {
	"restart",
	"iface",
	"restart a controller after bus-off (root)\n",
	canctl_bus_restart,
};
