/*
 * canctl monitor: a content monitor (the kernel's RX_SETUP) on one id,
 * printed a line per change and per timeout in candump's time format.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "canctl.h"
#include "filtertext.h"
#include "frametext.h"

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
static int canctl_monitor_mask(const char *s, struct cand_mask *m)
{
	uint32_t v;

	memset(m, 0, sizeof(*m));
	while (*s != '\0') {
		if (*s == '.') {
			s++;
			continue;
		}
		if (m->len == CAND_MAX_DLEN || s[1] == '\0' ||
		    filtertext_hex32(s, s + 2, &v) < 0)
			return -1;
		m->data[m->len++] = (uint8_t)v;
		s += 2;
	}
	return m->len > 0 ? 0 : -1;
}

/* The options into opts (masks, reply) and m; 0 or the exit status. */
static int canctl_monitor_options(int argc, char **argv,
				  struct cand_monitor_opts *opts,
				  struct cand_mask *masks,
				  struct cand_frame *reply,
				  struct canctl_monitor *m)
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
	const char *why;
	int ch, rc;

	optind = 0;
	while ((ch = getopt_long(argc, argv, ":m:t:r:n:alRFx:", longopts,
				 NULL)) != -1) {
		rc = 0;
		switch (ch) {
		case 'm':
			if (canctl_monitor_mask(optarg,
						&masks[opts->n_masks++]) < 0)
				rc = canctl_usage_error(
					"bad mask '%s': 1 to 64 hex bytes",
					optarg);
			break;
		case 't':
			rc = canctl_util_duration("timeout", optarg,
						  &opts->timeout_us);
			break;
		case 'r':
			rc = canctl_util_duration("throttle", optarg,
						  &opts->throttle_us);
			break;
		case 'n':
			rc = canctl_util_count(optarg, &m->count);
			break;
		case 'a':
			opts->flags |= CAND_MONITOR_EVERY_FRAME;
			break;
		case 'l':
			opts->flags |= CAND_MONITOR_CHECK_LEN;
			break;
		case 'R':
			opts->flags |= CAND_MONITOR_RESUME;
			break;
		case 'F':
			opts->frame_flags |= CAND_FRAME_FD;
			break;
		case 'x':
			if (frametext_parse(optarg, reply, &why) < 0)
				rc = canctl_usage_error("bad frame '%s': %s",
							optarg, why);
			opts->rtr_reply = reply;
			break;
		default:
			rc = canctl_bad_option(ch, argv);
		}
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int canctl_monitor(const char *sock, int argc, char **argv)
{
	struct cand_monitor_opts opts;
	struct cand_mask *masks;
	struct cand_frame reply;
	struct canctl_monitor m = {.count = -1};
	const char *idtext;
	sigset_t waitmask;
	cand_monitor_t *mon;
	cand_t *h;
	uint32_t id;
	int rc;

	cand_monitor_opts_init(&opts);
	/* No more masks than words. */
	if ((masks = calloc((size_t)argc, sizeof(*masks))) == NULL) {
		fprintf(stderr, "canctl: out of memory\n");
		return 1;
	}
	opts.masks = masks;
	if ((rc = canctl_monitor_options(argc, argv, &opts, masks, &reply,
					 &m)) != 0)
		goto out;
	argc -= optind;
	argv += optind;
	rc = 2;
	if (argc != 2) {
		rc = canctl_usage_error("monitor needs an interface and an "
					"id");
		goto out;
	}
	m.iface = argv[0];
	idtext = argv[1];
	if (canctl_util_iface("monitor", m.iface) != 0)
		goto out;
	if (filtertext_hex32(idtext, idtext + strlen(idtext), &id) < 0) {
		rc = canctl_usage_error("bad id '%s': 1 to 8 hex digits",
					idtext);
		goto out;
	}
	/* As cansend: 8 digits make an extended id. */
	if (strlen(idtext) == 8)
		opts.frame_flags |= CAND_FRAME_EXTENDED;
	snprintf(m.id, sizeof(m.id), strlen(idtext) == 8 ? "%08X" : "%03X", id);
	opts.id = id;

	canctl_util_signals(&waitmask);
	rc = 1;
	if (canctl_util_open_quiet(sock, m.iface,
				   (opts.frame_flags & CAND_FRAME_FD) != 0,
				   &h) != 0)
		goto out;
	rc = cand_monitor_start(h, &opts, &mon);
	if (rc < 0) {
		rc = canctl_util_fail(h, rc, "monitor");
	} else {
		rc = canctl_util_events(h, -1, &waitmask, "receive",
					canctl_monitor_event, &m);
		cand_monitor_free(mon);
	}
	cand_close(h);
out:
	free(masks);
	return rc;
}

const struct canctl_cmd canctl_monitor_cmd = {
	"monitor",
	"[-alR] [-m mask ...] [-t timeout] [-r throttle] [-n count]\n"
	"          [-F] [-x frame] iface id",
	"print a line when id's data changes under the masks and when it\n"
	"stays away for the timeout (an 8-digit id is extended):\n"
	"  (1436509052.249713) vcan0 123#11223344 changed\n"
	"  (1436509052.749821) vcan0 123 timeout\n"
	"  -m mask     hex data bits that count (FF00000000000000); more than\n"
	"              one: the first selects the multiplexer, each other\n"
	"              holds a multiplexer value and its bits (--mask)\n"
	"  -t timeout  report silence this long (--timeout)\n"
	"  -r throttle at most one change per throttle (--throttle)\n"
	"  -a          every frame, not just changes (--all)\n"
	"  -l          a length change is a change (--check-len)\n"
	"  -R          after a timeout, report the next frame (--resume)\n"
	"  -F          CAN FD frames (--fd)\n"
	"  -n count    exit after count lines (--count)\n"
	"  -x frame    answer remote frames for id with frame instead\n"
	"              (--rtr-reply)\n",
	canctl_monitor,
};
