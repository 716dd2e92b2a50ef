/*
 * A CAN interface's state, statistics and configuration through
 * libsocketcan, the one place that changes a controller's settings.
 *
 * The kernel takes bit timing, restart-ms and controller modes only while
 * the interface is down, so a change to an interface that is up takes it
 * down, applies the change and brings it back up, and says so.
 *
 * libsocketcan talks rtnetlink synchronously, one short request per call;
 * that blocks the loop for well under a millisecond per call. (Its get
 * calls wait for the kernel's answer without a timeout; the kernel always
 * answers a well-formed RTM_GETLINK.)
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libsocketcan.h>
#include <linux/can/netlink.h>
#include <linux/if_link.h>

#include "can/can.h"

#define CANLINK_CTRLMODE_ALL                                                   \
	(CAN_CTRLMODE_LOOPBACK | CAN_CTRLMODE_LISTENONLY |                     \
	 CAN_CTRLMODE_3_SAMPLES | CAN_CTRLMODE_ONE_SHOT |                      \
	 CAN_CTRLMODE_BERR_REPORTING | CAN_CTRLMODE_FD |                       \
	 CAN_CTRLMODE_PRESUME_ACK | CAN_CTRLMODE_FD_NON_ISO |                  \
	 CAN_CTRLMODE_CC_LEN8_DLC)

const char *canlink_state_name(int state)
{
	switch (state) {
	case BUS_STATE_ERROR_ACTIVE:
		return "ERROR-ACTIVE";
	case BUS_STATE_ERROR_WARNING:
		return "ERROR-WARNING";
	case BUS_STATE_ERROR_PASSIVE:
		return "ERROR-PASSIVE";
	case BUS_STATE_BUS_OFF:
		return "BUS-OFF";
	case BUS_STATE_STOPPED:
		return "STOPPED";
	case BUS_STATE_SLEEPING:
		return "SLEEPING";
	default:
		return "not applicable";
	}
}

void canlink_ctrlmode_str(uint32_t bits, char *buf, size_t size)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} names[] = {
		{CAN_CTRLMODE_LOOPBACK, "LOOPBACK"},
		{CAN_CTRLMODE_LISTENONLY, "LISTEN-ONLY"},
		{CAN_CTRLMODE_3_SAMPLES, "TRIPLE-SAMPLING"},
		{CAN_CTRLMODE_ONE_SHOT, "ONE-SHOT"},
		{CAN_CTRLMODE_BERR_REPORTING, "BERR-REPORTING"},
		{CAN_CTRLMODE_FD, "FD"},
		{CAN_CTRLMODE_PRESUME_ACK, "PRESUME-ACK"},
		{CAN_CTRLMODE_FD_NON_ISO, "FD-NON-ISO"},
		{CAN_CTRLMODE_CC_LEN8_DLC, "CC-LEN8-DLC"},
	};
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(bits & names[i].bit) || off >= size)
			continue;
		off += (size_t)snprintf(buf + off, size - off, "%s%s",
					off ? " " : "", names[i].name);
	}
}

int canlink_read(const char *ifname, int controller, struct canlink_info *out)
{
	struct rtnl_link_stats64 st;
	struct can_berr_counter bc;
	struct can_bittiming bt;
	struct can_ctrlmode cm;
	struct can_clock clk;
	struct can_device_stats ds;
	struct nl_link l;
	uint32_t ms;
	int state;

	memset(out, 0, sizeof(*out));
	if (can_get_link_stats(ifname, &st) == 0) {
		out->has_stats = 1;
		out->stats.rx_packets = st.rx_packets;
		out->stats.tx_packets = st.tx_packets;
		out->stats.rx_bytes = st.rx_bytes;
		out->stats.tx_bytes = st.tx_bytes;
		out->stats.rx_errors = st.rx_errors;
		out->stats.tx_errors = st.tx_errors;
		out->stats.rx_dropped = st.rx_dropped;
		out->stats.tx_dropped = st.tx_dropped;
		out->stats.rx_over_errors = st.rx_over_errors;
	}
	/* vcan and vxcan have no controller: libsocketcan would only fail. */
	if (!controller)
		return 0;
	if (can_get_state(ifname, &state) < 0)
		return -ENODEV;
	out->controller = 1;
	out->state = state;
	if (can_get_berr_counter(ifname, &bc) == 0) {
		out->has_berr = 1;
		out->txerr = bc.txerr;
		out->rxerr = bc.rxerr;
	}
	if (can_get_bittiming(ifname, &bt) == 0) {
		out->cfg.bitrate = bt.bitrate;
		out->cfg.sample_point = bt.sample_point;
	}
	if (can_get_restart_ms(ifname, &ms) == 0)
		out->cfg.restart_ms = ms;
	if (can_get_ctrlmode(ifname, &cm) == 0)
		out->cfg.ctrlmode = cm.flags;
	if (can_get_clock(ifname, &clk) == 0)
		out->cfg.clock_hz = clk.freq;
	if (can_get_device_stats(ifname, &ds) == 0) {
		out->has_xstats = 1;
		out->xstats.bus_errors = ds.bus_error;
		out->xstats.error_warning = ds.error_warning;
		out->xstats.error_passive = ds.error_passive;
		out->xstats.bus_off = ds.bus_off;
		out->xstats.arbitration_lost = ds.arbitration_lost;
		out->xstats.restarts = ds.restarts;
	}
	/* What libsocketcan 0.0.12 cannot read: the CAN FD data phase. */
	if (netlink_get_link(ifname, &l) == 0) {
		out->cfg.data_bitrate = l.cfg.data_bitrate;
		out->cfg.data_sample_point = l.cfg.data_sample_point;
		out->cfg.ctrlmode_supported = l.cfg.ctrlmode_supported;
	}
	return 0;
}

/* libsocketcan returns -1 with errno from the kernel's answer. */
static int canlink_errno(void)
{
	int err = errno;

	if (err == 0)
		err = EIO;
	/* The bit timing calculation's "cannot do that bitrate". */
	if (err == EDOM || err == ERANGE)
		err = EINVAL;
	return -err;
}

static int canlink_check(const struct nl_link *l,
			 const struct canlink_change *c, char *detail,
			 size_t dsize)
{
	char m1[128], m2[128];
	int timing = c->bitrate || c->data_bitrate || c->set_restart_ms ||
		     c->ctrlmode_mask;

	if (timing && !l->controller) {
		detail_set(detail, dsize,
			   "%s is %s (%s): it has no bit timing, restart-ms or "
			   "controller mode",
			   l->name, l->kind[0] ? "virtual" : "not a controller",
			   l->kind[0] ? l->kind : "?");
		return -EOPNOTSUPP;
	}
	if (c->sample_point > 999 || c->data_sample_point > 999) {
		detail_set(detail, dsize,
			   "a sample point is in tenths of a percent, "
			   "1 to 999 (875 is 87.5 %%)");
		return -EINVAL;
	}
	if (c->sample_point && !c->bitrate) {
		detail_set(detail, dsize, "a sample point needs a bitrate");
		return -EINVAL;
	}
	if (c->data_sample_point && !c->data_bitrate) {
		detail_set(detail, dsize,
			   "a data sample point needs a data bitrate");
		return -EINVAL;
	}
	if (c->ctrlmode_flags & ~c->ctrlmode_mask) {
		detail_set(detail, dsize,
			   "controller mode flags 0x%x outside the mask 0x%x",
			   c->ctrlmode_flags, c->ctrlmode_mask);
		return -EINVAL;
	}
	if (c->ctrlmode_mask & ~(uint32_t)CANLINK_CTRLMODE_ALL) {
		detail_set(detail, dsize, "unknown controller mode bits 0x%x",
			   c->ctrlmode_mask & ~(uint32_t)CANLINK_CTRLMODE_ALL);
		return -EINVAL;
	}
	/*
	 * What the controller cannot do is refused before it is taken down
	 * for nothing. (A kernel that does not say what it supports: ask.)
	 */
	if (l->cfg.ctrlmode_supported != 0 &&
	    (c->ctrlmode_flags & ~l->cfg.ctrlmode_supported)) {
		canlink_ctrlmode_str(c->ctrlmode_flags &
					     ~l->cfg.ctrlmode_supported,
				     m1, sizeof(m1));
		canlink_ctrlmode_str(l->cfg.ctrlmode_supported, m2, sizeof(m2));
		detail_set(detail, dsize, "%s cannot do %s (it supports %s)",
			   l->name, m1, m2);
		return -EOPNOTSUPP;
	}
	if (c->data_bitrate && !l->fd_capable) {
		detail_set(detail, dsize,
			   "%s has no CAN FD data phase to set a data "
			   "bitrate for",
			   l->name);
		return -EOPNOTSUPP;
	}
	if (c->link != LINK_UNCHANGED && c->link != LINK_UP &&
	    c->link != LINK_DOWN) {
		detail_set(detail, dsize, "unknown link change %d", c->link);
		return -EINVAL;
	}
	return 0;
}

/* Applies the settings to a down interface, in the order the kernel needs. */
static int canlink_apply(const char *name, const struct canlink_change *c,
			 char *detail, size_t dsize)
{
	struct can_ctrlmode cm = {.mask = c->ctrlmode_mask,
				  .flags = c->ctrlmode_flags};
	char modes[128];
	int rc;

	/* FD mode first: the data bit timing needs it. */
	if (c->ctrlmode_mask && can_set_ctrlmode(name, &cm) < 0) {
		rc = canlink_errno();
		canlink_ctrlmode_str(c->ctrlmode_mask, modes, sizeof(modes));
		detail_set(detail, dsize, "controller mode %s: %s%s", modes,
			   strerror(-rc),
			   rc == -EOPNOTSUPP ? " by this controller" : "");
		return rc;
	}
	if (c->bitrate &&
	    (c->sample_point ? can_set_bitrate_samplepoint(name, c->bitrate,
							   c->sample_point)
			     : can_set_bitrate(name, c->bitrate)) < 0) {
		rc = canlink_errno();
		detail_set(detail, dsize, "bitrate %u%s: %s", c->bitrate,
			   c->sample_point ? " with that sample point" : "",
			   rc == -EINVAL ? "the controller cannot do it"
					 : strerror(-rc));
		return rc;
	}
	if (c->data_bitrate &&
	    (rc = netlink_set_data_bittiming(name, c->data_bitrate,
					     c->data_sample_point)) < 0) {
		if (rc == -EDOM || rc == -ERANGE)
			rc = -EINVAL;
		detail_set(detail, dsize, "data bitrate %u: %s",
			   c->data_bitrate,
			   rc == -EOPNOTSUPP ? "this controller has no CAN FD"
					     : strerror(-rc));
		return rc;
	}
	if (c->set_restart_ms && can_set_restart_ms(name, c->restart_ms) < 0) {
		rc = canlink_errno();
		detail_set(detail, dsize, "restart-ms %u: %s", c->restart_ms,
			   strerror(-rc));
		return rc;
	}
	return 0;
}

int canlink_configure(const struct nl_link *l, const struct canlink_change *c,
		      int *cycled, char *detail, size_t dsize)
{
	int timing = c->bitrate || c->data_bitrate || c->set_restart_ms ||
		     c->ctrlmode_mask;
	int up = (l->flags & IFF_UP) != 0, want_up, rc, rc2;
	size_t len;

	*cycled = 0;
	if ((rc = canlink_check(l, c, detail, dsize)) < 0)
		return rc;
	want_up = c->link == LINK_UP || (c->link == LINK_UNCHANGED && up);
	if (timing && up) {
		if (can_do_stop(l->name) < 0) {
			rc = canlink_errno();
			detail_set(detail, dsize, "taking %s down: %s", l->name,
				   strerror(-rc));
			return rc;
		}
		*cycled = 1;
		up = 0;
		log_info("%s: down to change its bit timing or modes", l->name);
	}
	rc = timing ? canlink_apply(l->name, c, detail, dsize) : 0;
	/* Up again even after a failure: the bus must not stay down. */
	if (want_up && !up && can_do_start(l->name) < 0) {
		rc2 = canlink_errno();
		if (rc == 0) {
			detail_set(detail, dsize, "bringing %s up: %s%s",
				   l->name, strerror(-rc2),
				   rc2 == -EINVAL ? " (is the configuration "
						    "complete?)"
						  : "");
			rc = rc2;
		}
	} else if (!want_up && up && can_do_stop(l->name) < 0 && rc == 0) {
		rc = canlink_errno();
		detail_set(detail, dsize, "taking %s down: %s", l->name,
			   strerror(-rc));
	}
	if (rc < 0 && *cycled && want_up) {
		len = strlen(detail);
		snprintf(detail + len, dsize - len,
			 "; %s was taken down for the change and is up again",
			 l->name);
	}
	return rc;
}

int canlink_restart(const struct nl_link *l, char *detail, size_t dsize)
{
	uint32_t restart_ms = 0;
	int state, rc;

	if (!l->controller) {
		detail_set(detail, dsize,
			   "%s is virtual (%s): there is no controller to "
			   "restart",
			   l->name, l->kind);
		return -EOPNOTSUPP;
	}
	if (!(l->flags & IFF_UP)) {
		detail_set(detail, dsize, "%s is down", l->name);
		return -ENETDOWN;
	}
	if (can_get_state(l->name, &state) < 0 ||
	    can_get_restart_ms(l->name, &restart_ms) < 0) {
		detail_set(detail, dsize, "cannot read the state of %s",
			   l->name);
		return -EIO;
	}
	/* The kernel's own refusals, in words rather than EINVAL/EBUSY. */
	if (restart_ms != 0) {
		detail_set(detail, dsize,
			   "%s restarts by itself: restart-ms is %u (set it "
			   "to 0 for manual restarts)",
			   l->name, restart_ms);
		return -EBUSY;
	}
	if (state != CAN_STATE_BUS_OFF) {
		detail_set(detail, dsize,
			   "%s is %s, not BUS-OFF: there is nothing to restart",
			   l->name, canlink_state_name(state + 1));
		return -EBUSY;
	}
	if (can_do_restart(l->name) < 0) {
		rc = canlink_errno();
		detail_set(detail, dsize, "restarting %s: %s", l->name,
			   strerror(-rc));
		return rc;
	}
	return 0;
}
