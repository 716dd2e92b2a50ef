/*
 * The kernel's CAN_RAW receive filters, applied in userspace to the frames
 * an interface's shared socket (ops/tap.c) reads for many clients, so that
 * each client sees exactly what a socket of its own with these filters
 * would: net/can/af_can.c (can_rcv_list_find, can_rcv_filter) and
 * net/can/raw.c (raw_rcv) are the reference, line by line:
 *
 *  - error frames are matched against the error mask only, never against
 *    the id filters;
 *  - a filter with CAN_EFF_FLAG in its mask but not in its id keeps only
 *    the 11-bit id and the EFF/RTR flags of its mask ("SFF only"), and its
 *    id is reduced to id & mask when it is set;
 *  - a frame passes when (can_id & mask) == id, or != id for an inverted
 *    filter; the kernel's per-id lists (rx_sff, rx_eff) are this same test
 *    for masks that cover every id bit and both flags;
 *  - a frame that several filters pass is delivered once (raw_rcv's uniq
 *    check), so "any filter passes" is the whole rule.
 */
#include <errno.h>
#include <stdlib.h>

#include "can/can.h"

#define RXFILTER_EFF_RTR (CAN_EFF_FLAG | CAN_RTR_FLAG)

void rxfilter_free(struct rxfilter *f)
{
	free(f->f);
	f->f = NULL;
	f->n = 0;
}

int rxfilter_compile(struct rxfilter *out, const struct can_filter *kf,
		     size_t n, can_err_mask_t err_mask, int fd_frames)
{
	struct rxfilter_one *f = NULL;
	size_t i;

	if (n > 0 && (f = calloc(n, sizeof(*f))) == NULL)
		return -ENOMEM;
	rxfilter_free(out);
	out->f = f;
	out->n = n;
	out->all = 0;
	out->err_mask = err_mask & CAN_ERR_MASK;
	out->fd_frames = fd_frames;
	for (i = 0; i < n; i++) {
		canid_t id = kf[i].can_id, mask = kf[i].can_mask;

		f[i].inv = (id & CAN_INV_FILTER) != 0;
		/* rawsock_filters() never sets CAN_ERR_FLAG in a mask. */
		mask &= ~CAN_ERR_FLAG;
		if ((mask & CAN_EFF_FLAG) && !(id & CAN_EFF_FLAG))
			mask &= CAN_SFF_MASK | RXFILTER_EFF_RTR;
		f[i].mask = mask;
		f[i].id = id & mask;
		/* RX_ALL: every frame, nothing to test at receive time. */
		if (!f[i].inv && mask == 0)
			out->all = 1;
	}
	return 0;
}

int rxfilter_pass(const struct rxfilter *r, canid_t can_id, int is_fd)
{
	size_t i;

	if (is_fd && !r->fd_frames)
		return 0;
	if (can_id & CAN_ERR_FLAG)
		return (can_id & r->err_mask) != 0;
	if (r->all)
		return 1;
	for (i = 0; i < r->n; i++) {
		const struct rxfilter_one *f = &r->f[i];

		if (((can_id & f->mask) == f->id) != f->inv)
			return 1;
	}
	return 0;
}

int rxfilter_none(const struct rxfilter *r)
{
	size_t i;

	if (r->err_mask != 0 || r->all)
		return 0;
	/* An inverted filter with mask 0 tests 0 != 0: it never passes. */
	for (i = 0; i < r->n; i++)
		if (!r->f[i].inv || r->f[i].mask != 0)
			return 0;
	return 1;
}

int rxfilter_sff_ids(const struct rxfilter *r, uint16_t *ids, size_t max)
{
	const canid_t exact = CAN_SFF_MASK | CAN_EFF_FLAG;
	size_t i;

	if (r->all || r->n > max)
		return -1;
	for (i = 0; i < r->n; i++) {
		const struct rxfilter_one *f = &r->f[i];

		/* Passes standard frames of one id (RTR as its mask says). */
		if (f->inv || (f->mask & exact) != exact ||
		    (f->id & CAN_EFF_FLAG))
			return -1;
		ids[i] = (uint16_t)(f->id & CAN_SFF_MASK);
	}
	return (int)r->n;
}
