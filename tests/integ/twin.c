/*
 * A client and its raw twin (twin.h). The twin has a large receive
 * buffer, so that the kernel's answer is never short for lack of room.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/can/raw.h>

#include "twin.h"

static int twin_raw(const struct cand_options *o)
{
	struct can_filter kf[TWIN_MAX_FILTERS];
	can_err_mask_t errs = o->ignore_rx_error_frames ? 0 : CAN_ERR_MASK;
	int s = util_raw_open(o->channel, RAW_BIGBUF | (o->fd ? RAW_FD : 0));
	size_t i;

	for (i = 0; i < o->n_filters; i++) {
		const struct cand_filter *f = &o->filters[i];

		kf[i].can_id = f->id;
		kf[i].can_mask = f->mask;
		if (f->kind != CAND_FILTER_ANY)
			kf[i].can_mask |= CAN_EFF_FLAG;
		if (f->kind == CAND_FILTER_EXTENDED)
			kf[i].can_id |= CAN_EFF_FLAG;
		if (f->invert)
			kf[i].can_id |= CAN_INV_FILTER;
	}
	if (o->n_filters > 0)
		ck_assert_int_eq(
			setsockopt(s, SOL_CAN_RAW, CAN_RAW_FILTER, kf,
				   (socklen_t)(o->n_filters * sizeof(kf[0]))),
			0);
	ck_assert_int_eq(setsockopt(s, SOL_CAN_RAW, CAN_RAW_ERR_FILTER, &errs,
				    sizeof(errs)),
			 0);
	return s;
}

void twin_open(struct twin *c, const char *what, const char *channel, int fd,
	       int ignore_errors, const struct cand_filter *f, size_t n)
{
	ck_assert_uint_le(n, TWIN_MAX_FILTERS);
	c->what = what;
	cand_options_init(&c->o);
	c->o.channel = channel;
	c->o.fd = fd;
	c->o.ignore_rx_error_frames = ignore_errors;
	if (n > 0)
		memcpy(c->f, f, n * sizeof(*f));
	c->o.filters = n ? c->f : NULL;
	c->o.n_filters = n;
	c->h = util_open_opts(&c->o);
	c->raw = twin_raw(&c->o);
}

void twin_check(struct twin *c, size_t max, int settle_ms)
{
	struct cand_frame *want = calloc(max, sizeof(*want));
	struct cand_frame *got = calloc(max, sizeof(*got));
	size_t n = 0, m, i;
	char b1[192];

	ck_assert_ptr_nonnull(want);
	ck_assert_ptr_nonnull(got);
	while (n < max && util_raw_recv(c->raw, &want[n], settle_ms) == 1)
		n++;
	m = util_collect(c->h, got, max, n, settle_ms);
	for (i = 0; i < n && i < m; i++) {
		util_assert_frame(&got[i], &want[i], c->what);
		ck_assert_msg(!(got[i].flags & CAND_FRAME_OWN),
			      "%s: %s marked OWN", c->what,
			      util_frame_str(&got[i], b1, sizeof(b1)));
	}
	ck_assert_msg(m == n, "%s: %zu frames, the kernel's twin %zu", c->what,
		      m, n);
	cand_close(c->h);
	close(c->raw);
	free(want);
	free(got);
}
