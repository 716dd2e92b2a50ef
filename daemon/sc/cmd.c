/*
 * socketcand's commands as operations. Each command has a line in
 * sc_cmd_defs[]: the modes it works in, the right it needs (checked with
 * policy_check() on the bus, as pb/dispatch.c does for a request) and its
 * handler, which turns it into the plain arguments of ops/ and answers as
 * socketcand does: "< ok >" for open, the mode switches and the bus
 * configuration, nothing for a send, "< error ... >" for anything refused.
 * BCM mode's jobs are in cmd_bcm.c.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <linux/can/netlink.h>

#include "sc/sc.h"

/* How long a send may wait for room in a full TX queue. */
#define SC_SEND_TIMEOUT_MS 1000

#define SC_M(m) (1u << (m))
#define SC_ON_BUS                                                              \
	(SC_M(SC_MODE_BCM) | SC_M(SC_MODE_RAW) | SC_M(SC_MODE_CONTROL))
#define SC_ANY_MODE  (SC_M(SC_MODE_NOBUS) | SC_ON_BUS)
#define SC_SEND_MODE (SC_M(SC_MODE_BCM) | SC_M(SC_MODE_RAW))

typedef int (*sc_cmd_fn)(struct sc_conn *c, const struct sc_cmd *cmd,
			 char *detail, size_t dsize);

static int sc_cmd_open(struct sc_conn *c, const struct sc_cmd *cmd,
		       char *detail, size_t dsize);
static int sc_cmd_bittiming(struct sc_conn *c, const struct sc_cmd *cmd,
			    char *detail, size_t dsize);
static int sc_cmd_ctrlmode(struct sc_conn *c, const struct sc_cmd *cmd,
			   char *detail, size_t dsize);
static int sc_cmd_echo(struct sc_conn *c, const struct sc_cmd *cmd,
		       char *detail, size_t dsize);
static int sc_cmd_switch(struct sc_conn *c, const struct sc_cmd *cmd,
			 char *detail, size_t dsize);
static int sc_cmd_send(struct sc_conn *c, const struct sc_cmd *cmd,
		       char *detail, size_t dsize);
static int sc_cmd_statistics(struct sc_conn *c, const struct sc_cmd *cmd,
			     char *detail, size_t dsize);

static const struct sc_cmd_def {
	unsigned modes; /* SC_M() of the modes it works in */
	enum policy_right right;
	sc_cmd_fn fn;
} sc_cmd_defs[SC_OP_COUNT] = {
	[SC_OP_OPEN] = {SC_M(SC_MODE_NOBUS), RIGHT_OPEN, sc_cmd_open},
	[SC_OP_BITTIMING] = {SC_M(SC_MODE_NOBUS), RIGHT_CONFIGURE,
			     sc_cmd_bittiming},
	[SC_OP_CTRLMODE] = {SC_M(SC_MODE_NOBUS), RIGHT_CONFIGURE,
			    sc_cmd_ctrlmode},
	[SC_OP_ECHO] = {SC_ANY_MODE, RIGHT_NONE, sc_cmd_echo},
	[SC_OP_BCMMODE] = {SC_ON_BUS, RIGHT_NONE, sc_cmd_switch},
	[SC_OP_RAWMODE] = {SC_ON_BUS, RIGHT_NONE, sc_cmd_switch},
	[SC_OP_CONTROLMODE] = {SC_ON_BUS, RIGHT_NONE, sc_cmd_switch},
	[SC_OP_ISOTPMODE] = {SC_ON_BUS, RIGHT_NONE, sc_cmd_switch},
	[SC_OP_SEND] = {SC_SEND_MODE, RIGHT_SEND, sc_cmd_send},
	[SC_OP_SENDRTR] = {SC_SEND_MODE, RIGHT_SEND, sc_cmd_send},
	[SC_OP_ADD] = {SC_M(SC_MODE_BCM), RIGHT_PERIODIC, sc_bcm_run},
	[SC_OP_UPDATE] = {SC_M(SC_MODE_BCM), RIGHT_PERIODIC, sc_bcm_run},
	[SC_OP_DELETE] = {SC_M(SC_MODE_BCM), RIGHT_PERIODIC, sc_bcm_run},
	[SC_OP_FILTER] = {SC_M(SC_MODE_BCM), RIGHT_MONITOR, sc_bcm_run},
	[SC_OP_MUXFILTER] = {SC_M(SC_MODE_BCM), RIGHT_MONITOR, sc_bcm_run},
	[SC_OP_SUBSCRIBE] = {SC_M(SC_MODE_BCM), RIGHT_MONITOR, sc_bcm_run},
	[SC_OP_UNSUBSCRIBE] = {SC_M(SC_MODE_BCM), RIGHT_MONITOR, sc_bcm_run},
	[SC_OP_STATISTICS] = {SC_M(SC_MODE_CONTROL), RIGHT_READ,
			      sc_cmd_statistics},
};

static const char *const sc_mode_names[] = {
	[SC_MODE_NOBUS] = "NO_BUS",
	[SC_MODE_BCM] = "BCM",
	[SC_MODE_RAW] = "RAW",
	[SC_MODE_CONTROL] = "CONTROL",
};

/* Why cmd is not for this mode, in the protocol's words. */
static void sc_cmd_wrong_mode(const struct sc_conn *c, const struct sc_cmd *cmd,
			      const struct sc_cmd_def *d, char *detail,
			      size_t dsize)
{
	const char *name = sc_op_name(cmd->op);

	if (c->mode == SC_MODE_NOBUS)
		detail_set(detail, dsize,
			   "'%s' needs an open bus (open BUS first)", name);
	else if (d->modes == SC_M(SC_MODE_NOBUS))
		detail_set(detail, dsize,
			   "'%s' comes before open BUS; this connection "
			   "has bus \"%s\" open",
			   name, chan_name(c->s->chan));
	else
		detail_set(detail, dsize,
			   "'%s' is not a command of %s mode (%s%s)", name,
			   sc_mode_names[c->mode],
			   d->modes & SC_M(SC_MODE_BCM) ? "BCM" : "CONTROL",
			   d->modes & SC_M(SC_MODE_RAW) ? " or RAW mode"
							: " mode");
}

void sc_cmd_run(struct sc_conn *c, const struct sc_cmd *cmd)
{
	const struct sc_cmd_def *d = &sc_cmd_defs[cmd->op];
	struct sess *s = c->s;
	int on_bus = cmd->op == SC_OP_OPEN || cmd->op == SC_OP_BITTIMING ||
		     cmd->op == SC_OP_CTRLMODE;
	const char *iface = on_bus ? cmd->bus : NULL;
	char detail[256] = "";
	int rc;

	if (!(d->modes & SC_M(c->mode))) {
		sc_cmd_wrong_mode(c, cmd, d, detail, sizeof(detail));
		sc_conn_error(c, "%s", detail);
		return;
	}
	if (iface == NULL && s->chan != NULL)
		iface = chan_name(s->chan);
	if (on_bus && !config_sc_offers(sc_conf(c->ctx), cmd->bus)) {
		detail_set(detail, sizeof(detail),
			   "bus \"%s\" is not offered here ([socketcand] "
			   "interfaces)",
			   cmd->bus);
		rc = -ENODEV;
	} else {
		rc = policy_check(c->ctx->policy, &s->ident, iface, d->right,
				  detail, sizeof(detail));
	}
	if (rc < 0)
		log_info("client %u (%s): %s %s refused: %s", s->id, s->who,
			 sc_op_name(cmd->op), iface != NULL ? iface : "",
			 detail);
	else
		rc = d->fn(c, cmd, detail, sizeof(detail));
	if (rc == -EINPROGRESS || rc >= 0)
		return;
	if (detail[0] == '\0')
		detail_set(detail, sizeof(detail), "%s", strerror(-rc));
	/* A bus socketcand cannot open ends the connection there too. */
	if (cmd->op == SC_OP_OPEN)
		sc_conn_refuse(c, "%s", detail);
	else
		sc_conn_error(c, "%s", detail);
}

static int sc_cmd_open(struct sc_conn *c, const struct sc_cmd *cmd,
		       char *detail, size_t dsize)
{
	/* BCM mode is the default: no frames but those its jobs ask for. */
	struct chan_opts o = {.channel = cmd->bus, .quiet = 1};
	int rc;

	if ((rc = chan_open(c->s, &o, detail, dsize)) < 0)
		return rc;
	c->mode = SC_MODE_BCM;
	sc_conn_say(c, "ok");
	return 0;
}

static int sc_cmd_bittiming(struct sc_conn *c, const struct sc_cmd *cmd,
			    char *detail, size_t dsize)
{
	struct canlink_change chg = {0};
	struct configure_result res;
	int i, rc;

	for (i = 2; i < 8; i++) {
		if (cmd->bt[i] > 0) {
			detail_set(detail, dsize,
				   "cand sets the bit timing from bitrate and "
				   "sample point: give tq, prop_seg, "
				   "phase_seg1, phase_seg2, sjw and brp as 0");
			return -EOPNOTSUPP;
		}
	}
	if (cmd->bt[0] <= 0) {
		detail_set(detail, dsize, "the bitrate must be above 0");
		return -EINVAL;
	}
	chg.bitrate = (uint32_t)cmd->bt[0];
	chg.sample_point = cmd->bt[1] > 0 ? (uint32_t)cmd->bt[1] : 0;
	if ((rc = configure_apply(c->s, cmd->bus, &chg, &res, detail, dsize)) <
	    0)
		return rc;
	sc_conn_say(c, "ok");
	return 0;
}

static int sc_cmd_ctrlmode(struct sc_conn *c, const struct sc_cmd *cmd,
			   char *detail, size_t dsize)
{
	struct canlink_change chg = {
		.ctrlmode_mask = CAN_CTRLMODE_LISTENONLY |
				 CAN_CTRLMODE_LOOPBACK | CAN_CTRLMODE_3_SAMPLES,
	};
	struct configure_result res;
	int rc;

	if (cmd->ctrl[0])
		chg.ctrlmode_flags |= CAN_CTRLMODE_LISTENONLY;
	if (cmd->ctrl[1])
		chg.ctrlmode_flags |= CAN_CTRLMODE_LOOPBACK;
	if (cmd->ctrl[2])
		chg.ctrlmode_flags |= CAN_CTRLMODE_3_SAMPLES;
	if ((rc = configure_apply(c->s, cmd->bus, &chg, &res, detail, dsize)) <
	    0)
		return rc;
	sc_conn_say(c, "ok");
	return 0;
}

static int sc_cmd_echo(struct sc_conn *c, const struct sc_cmd *cmd,
		       char *detail, size_t dsize)
{
	(void)cmd;
	(void)detail;
	(void)dsize;
	sc_conn_say(c, "echo");
	return 0;
}

int sc_cmd_mode(struct sc_conn *c, enum sc_mode mode, char *detail,
		size_t dsize)
{
	int rc;

	if (mode == c->mode)
		return 0;
	/* Frames raw mode still holds go out ahead of the next ok. */
	if (c->mode == SC_MODE_RAW)
		sc_conn_release(c);
	/* Raw mode receives once its ok is queued (sc_conn_hold). */
	if (mode != SC_MODE_RAW && (rc = chan_set_quiet(c->s->chan, 1)) < 0) {
		detail_set(detail, dsize, "cannot switch its CAN socket: %s",
			   strerror(-rc));
		return rc;
	}
	/* What the old mode ran ends, as socketcand closes its socket. */
	if (c->mode == SC_MODE_BCM)
		sc_bcm_clear(c);
	else if (c->mode == SC_MODE_CONTROL)
		sc_stats_stop(c);
	c->mode = mode;
	return 0;
}

static int sc_cmd_switch(struct sc_conn *c, const struct sc_cmd *cmd,
			 char *detail, size_t dsize)
{
	enum sc_mode was = c->mode, to;
	int rc;

	switch (cmd->op) {
	case SC_OP_RAWMODE:
		to = SC_MODE_RAW;
		break;
	case SC_OP_CONTROLMODE:
		to = SC_MODE_CONTROL;
		break;
	case SC_OP_BCMMODE:
		to = SC_MODE_BCM;
		break;
	default:
		detail_set(detail, dsize,
			   "ISO-TP mode is not supported by cand");
		return -EOPNOTSUPP;
	}
	if ((rc = sc_cmd_mode(c, to, detail, dsize)) < 0)
		return rc;
	sc_conn_say(c, "ok");
	if (to == SC_MODE_RAW && was != SC_MODE_RAW)
		sc_conn_hold(c);
	return 0;
}

/* A send that waited for TX room ended; the next commands follow. */
static void sc_cmd_sent(void *arg, int rc, size_t sent, const char *detail)
{
	struct sc_conn *c = arg;

	(void)sent;
	c->sending = 0;
	if (rc < 0)
		sc_conn_error(c, "%s", detail);
	if (!c->dispatching && !c->closing)
		sc_conn_resume(c);
}

static int sc_cmd_send(struct sc_conn *c, const struct sc_cmd *cmd,
		       char *detail, size_t dsize)
{
	struct frame_desc *f = &c->pend;
	size_t sent;
	int rc;

	/* Kept in the connection: a send that waits still points at it. */
	memset(f, 0, sizeof(*f));
	memcpy(c->pend_data, cmd->data, sizeof(c->pend_data));
	f->id = cmd->id;
	f->extended = cmd->extended;
	f->remote = cmd->op == SC_OP_SENDRTR;
	f->dlc = cmd->dlc;
	f->data = c->pend_data;
	f->len = f->remote ? 0 : cmd->dlc;
	f->ifname = "";
	rc = send_start(c->s, f, 1, SC_SEND_TIMEOUT_MS, sc_cmd_sent, c, &sent,
			detail, dsize);
	if (rc == -EINPROGRESS)
		c->sending = 1;
	return rc;
}

static int sc_cmd_statistics(struct sc_conn *c, const struct sc_cmd *cmd,
			     char *detail, size_t dsize)
{
	return sc_stats_set(c, cmd->ms, detail, dsize);
}
