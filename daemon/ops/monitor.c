/*
 * Content monitors (the kernel's RX_SETUP) on bcmop.c's CAN_BCM sockets:
 * one CAN id watched under masks, reported only when what matters
 * changed or went silent, or an RTR answered by the kernel.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ops/ops.h"

#define MONITOR_DETAIL 160

/* The monitor's interface: the channel's, or one named on the "" channel. */
static int monitor_iface(struct sess *s, const char *name, int *ifindex,
			 char *ifname, char *detail, size_t dsize)
{
	const struct chan *c = s->chan;

	if (chan_ifindex(c) != 0) {
		if (name[0] != '\0' && strcmp(name, chan_name(c)) != 0) {
			detail_set(detail, dsize,
				   "the monitor names \"%s\" but the channel "
				   "is \"%s\"",
				   name, chan_name(c));
			return -EINVAL;
		}
		*ifindex = chan_ifindex(c);
		name = chan_name(c);
	} else if (name[0] == '\0') {
		*ifindex = 0;
	} else if (strlen(name) >= IFNAMSIZ ||
		   (*ifindex = (int)if_nametoindex(name)) == 0) {
		detail_set(detail, dsize, "no interface \"%s\"", name);
		return -ENODEV;
	}
	snprintf(ifname, IFNAMSIZ, "%s", name);
	return 0;
}

static int monitor_check(struct sess *s, const struct monitor_spec *m,
			 char *detail, size_t dsize)
{
	size_t i, max = m->fd ? CANFD_MAX_DLEN : CAN_MAX_DLEN;

	if (m->id > (m->extended ? CAN_EFF_MASK : CAN_SFF_MASK)) {
		detail_set(detail, dsize, "id 0x%x does not fit %s", m->id,
			   m->extended ? "29 bits" : "11 bits (not extended)");
		return -EINVAL;
	}
	if (m->fd && !chan_fd_enabled(s->chan)) {
		detail_set(detail, dsize,
			   "a CAN FD monitor on a channel opened without fd");
		return -EOPNOTSUPP;
	}
	if (m->timeout_us > BCMSOCK_MAX_US || m->throttle_us > BCMSOCK_MAX_US) {
		detail_set(detail, dsize,
			   "timeout and throttle are at most 400 days");
		return -EINVAL;
	}
	if (m->n_masks > BCMSOCK_MAX_FRAMES + 1) {
		detail_set(detail, dsize,
			   "%zu masks; a multiplex monitor takes the "
			   "multiplexer and at most %d values",
			   m->n_masks, BCMSOCK_MAX_FRAMES);
		return -EINVAL;
	}
	for (i = 0; i < m->n_masks; i++) {
		if (m->masks[i].len > max) {
			detail_set(detail, dsize,
				   "mask %zu has %zu bytes; a %s frame has at "
				   "most %zu",
				   i, m->masks[i].len,
				   m->fd ? "CAN FD" : "classic", max);
			return -EINVAL;
		}
	}
	if (m->every_frame && m->n_masks > 0) {
		detail_set(detail, dsize,
			   "a monitor of every frame takes no masks");
		return -EINVAL;
	}
	if (m->rtr_reply != NULL &&
	    (m->n_masks > 0 || m->timeout_us || m->throttle_us ||
	     m->every_frame || m->check_dlc || m->announce_resume || m->fd)) {
		detail_set(detail, dsize,
			   "an RTR reply takes no masks, timers, flags or CAN "
			   "FD");
		return -EINVAL;
	}
	return 0;
}

/* The frame an RTR reply monitor answers with, under its id. */
static int monitor_rtr_reply(const struct monitor_spec *m,
			     struct canfd_frame *cf, char *detail, size_t dsize)
{
	const struct frame_desc *r = m->rtr_reply;
	char why[MONITOR_DETAIL];
	int is_fd, rc;

	rc = frame_from_desc(r, 0, cf, &is_fd, why, sizeof(why));
	if (rc < 0) {
		detail_set(detail, dsize, "RTR reply: %s", why);
		return rc;
	}
	if (r->remote || r->error || r->id != m->id ||
	    (r->extended != 0) != (m->extended != 0)) {
		detail_set(detail, dsize,
			   "the RTR reply is a data frame with the monitored "
			   "id 0x%x",
			   m->id);
		return -EINVAL;
	}
	return 0;
}

/* Where on the "" channel the monitor may be: what the kernel can do. */
static int monitor_where(const struct monitor_spec *m, int ifindex,
			 char *detail, size_t dsize)
{
	/*
	 * The kernel locks an every-interface op with a timer onto the first
	 * interface it hears the id on and ignores the others, changes too.
	 */
	if (ifindex == 0 && (m->timeout_us || m->throttle_us)) {
		detail_set(detail, dsize,
			   "a timeout or throttle needs one interface: name it "
			   "on the \"\" channel");
		return -EINVAL;
	}
	if (m->rtr_reply != NULL && ifindex == 0) {
		detail_set(detail, dsize,
			   "an RTR reply needs one interface: name it on the "
			   "\"\" channel");
		return -EINVAL;
	}
	return 0;
}

/* The frames of the RX_SETUP: what is compared, or what answers. */
static void monitor_fill(struct bcm_op *op, const struct monitor_spec *m,
			 canid_t can_id, const struct canfd_frame *rtr)
{
	struct canfd_frame *cf;
	size_t i;

	for (i = 0; i < op->nframes; i++) {
		cf = bcmsock_frame_at(op->msg, i, op->cfsiz);
		cf->can_id = can_id;
		if (m->rtr_reply != NULL) {
			memcpy(cf, rtr, op->cfsiz);
		} else if (m->n_masks > 0) {
			cf->len = (uint8_t)m->masks[i].len;
			if (m->masks[i].len > 0)
				memcpy(cf->data, m->masks[i].data,
				       m->masks[i].len);
		} else {
			cf->len = (uint8_t)(op->cfsiz == CANFD_MTU
						    ? CANFD_MAX_DLEN
						    : CAN_MAX_DLEN);
			memset(cf->data, 0xff, cf->len);
		}
	}
}

int monitor_start(struct sess *s, const struct monitor_spec *m, uint32_t *id,
		  char *detail, size_t dsize)
{
	struct canfd_frame rtr;
	struct bcmsock_rx rx = {0};
	char ifname[IFNAMSIZ];
	struct bcm_op *op;
	int rc, ifindex;

	if ((rc = monitor_check(s, m, detail, dsize)) < 0 ||
	    (rc = monitor_iface(s, m->ifname, &ifindex, ifname, detail,
				dsize)) < 0 ||
	    (rc = monitor_where(m, ifindex, detail, dsize)) < 0 ||
	    (m->rtr_reply != NULL &&
	     (rc = monitor_rtr_reply(m, &rtr, detail, dsize)) < 0))
		return rc;
	rx.can_id = m->id | (m->extended ? CAN_EFF_FLAG : 0);
	rx.cfsiz = m->fd ? CANFD_MTU : CAN_MTU;
	/* No mask means the whole payload; every_frame means no compare. */
	rx.nframes = m->every_frame ? 0 : m->n_masks ? m->n_masks : 1;
	rx.every_frame = m->every_frame;
	rx.check_dlc = m->check_dlc;
	rx.announce_resume = m->announce_resume;
	rx.rtr_reply = m->rtr_reply != NULL;
	rx.timeout_us = m->timeout_us;
	rx.throttle_us = m->throttle_us;
	rc = bcmop_new(s, BCM_MONITOR, ifindex, ifname, rx.nframes, rx.cfsiz,
		       &op, detail, dsize);
	if (rc < 0)
		return rc;
	bcmsock_rx_setup(op->msg, &rx);
	monitor_fill(op, m, rx.can_id, &rtr);
	rc = bcmsock_write(op->fd, op->msg, op->msg_len, "RX_SETUP", op->ifname,
			   detail, dsize);
	if (rc < 0) {
		bcmop_free(op);
		return rc;
	}
	*id = op->id;
	log_debug("client %u: monitor %u on %s: id 0x%x, %zu masks", s->id,
		  op->id, op->ifname[0] ? op->ifname : "every interface", m->id,
		  m->n_masks);
	return 0;
}

void monitor_on_note(struct bcm_op *op, const struct bcmsock_note *n)
{
	struct evt e = {.kind = EVT_MONITOR};
	char name[IFNAMSIZ] = "";

	e.u.monitor.id = op->id;
	e.u.monitor.timestamp_ns = n->timestamp_ns;
	e.u.monitor.ifname = op->ifname;
	/* On every interface, the kernel says which one it was. */
	if (op->ifindex == 0 && n->ifindex != 0 &&
	    if_indextoname((unsigned)n->ifindex, name) != NULL)
		e.u.monitor.ifname = name;
	if (n->kind == BCMSOCK_CHANGED) {
		e.u.monitor.frame = &n->frame;
		e.u.monitor.is_fd = n->is_fd;
	} else {
		e.u.monitor.timeout = 1;
	}
	outq_event(&op->sess->q, &e);
}
