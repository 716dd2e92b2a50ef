/*
 * A SendRequest's frames as the send operation takes them, from either of
 * its forms: Frame messages, or packed records (proto/framepack.h), which
 * are read straight into the struct frame_desc array, their data pointing
 * into the request's bytes: no allocation per frame, and the request,
 * which a waiting send keeps (conn.c's pending), keeps them alive.
 *
 * Whatever the codec can tell is wrong with a frame (a record cut short
 * or breaking cand.proto's rules for a send, data longer than the frame's
 * kind carries) fails the whole request before anything is sent, in
 * either form, with the frame's index. What only the send can tell (an
 * id out of range, FD on a classic channel, an interface) is frame.c's
 * and chan.c's, and stops the send at that frame.
 */
#include <errno.h>
#include <stdlib.h>

#include "framepack.h"
#include "pb/pb.h"

#define SENDREQ_FLAGS (FRAMEPACK_FD | FRAMEPACK_BRS | FRAMEPACK_ESI)
/*
 * A connection keeps its array for a flood's next request (canctl gen
 * sends 2048 frames a request), but not the megabytes one send of the
 * 1 MiB message limit's 65,000 records took: idle clients by the hundred
 * would hold them all.
 */
#define SENDREQ_KEEP 4096

/* The CAN FD data lengths: a DLC's, not rounded up. */
static int sendreq_fd_len(unsigned len)
{
	if (len <= 8)
		return 1;
	if (len <= 24)
		return len % 4 == 0;
	return len == 32 || len == 48 || len == 64;
}

/* Why framepack_get() refused the record at off. */
static int sendreq_cut(const uint8_t *buf, size_t size, size_t i, size_t off,
		       char *detail, size_t dsize)
{
	size_t left = size - off;

	if (left < FRAMEPACK_HDR)
		detail_set(detail, dsize,
			   "record %zu is cut short: %zu of its %u header "
			   "bytes",
			   i, left, FRAMEPACK_HDR);
	else if (buf[off + 4] > 64)
		detail_set(detail, dsize, "record %zu: length %u is over 64", i,
			   buf[off + 4]);
	else
		detail_set(detail, dsize,
			   "record %zu is cut short: %u data bytes, %zu left",
			   i, buf[off + 4], left - FRAMEPACK_HDR);
	return -EINVAL;
}

/* What a send may not say in a record that parsed; 0 or -EINVAL. */
static int sendreq_check(const struct framepack_rec *r, unsigned reserved,
			 size_t n_names, size_t i, char *detail, size_t dsize)
{
	int fd = (r->flags & FRAMEPACK_FD) != 0;

	if (r->flags & ~SENDREQ_FLAGS)
		detail_set(detail, dsize,
			   "record %zu: flags 0x%02x; a send takes only FD, "
			   "BRS and ESI (OWN and LOCAL are a received frame's)",
			   i, r->flags);
	else if (!fd && (r->flags & (FRAMEPACK_BRS | FRAMEPACK_ESI)))
		detail_set(detail, dsize, "record %zu: BRS or ESI without FD",
			   i);
	else if (!fd && r->len > 8)
		detail_set(detail, dsize,
			   "record %zu: length %u is over 8 for a classic "
			   "frame%s",
			   i, r->len,
			   (r->can_id & FRAMEPACK_RTR) ? " (a remote request)"
						       : "");
	else if (fd && !sendreq_fd_len(r->len))
		detail_set(detail, dsize,
			   "record %zu: length %u is no CAN FD length (0-8, "
			   "12, 16, 20, 24, 32, 48, 64)",
			   i, r->len);
	else if (n_names == 0 ? r->ifname != 0 : r->ifname >= n_names)
		detail_set(detail, dsize,
			   "record %zu: ifname index %u, but the request names "
			   "%zu interfaces",
			   i, r->ifname, n_names);
	else if (reserved != 0 || r->timestamp_ns != 0)
		detail_set(detail, dsize,
			   "record %zu: the reserved byte and the timestamp "
			   "must be 0 in a send",
			   i);
	else
		return 0;
	return -EINVAL;
}

/* Record i, at *off, into d; advances *off. 0 or -EINVAL with why. */
static int sendreq_record(const Cand__SendRequest *sr, size_t i, size_t *off,
			  struct frame_desc *d, char *detail, size_t dsize)
{
	const uint8_t *buf = sr->packed.data;
	size_t at = *off;
	struct framepack_rec r;
	int rc;

	if (framepack_get(buf, sr->packed.len, off, &r) <= 0)
		return sendreq_cut(buf, sr->packed.len, i, at, detail, dsize);
	if ((rc = sendreq_check(&r, buf[at + 7], sr->n_ifnames, i, detail,
				dsize)) < 0)
		return rc;
	d->id = r.can_id & CAN_EFF_MASK;
	d->extended = (r.can_id & FRAMEPACK_EFF) != 0;
	d->remote = (r.can_id & FRAMEPACK_RTR) != 0;
	d->error = (r.can_id & FRAMEPACK_ERR) != 0;
	d->fd = (r.flags & FRAMEPACK_FD) != 0;
	d->brs = (r.flags & FRAMEPACK_BRS) != 0;
	d->esi = (r.flags & FRAMEPACK_ESI) != 0;
	d->dlc = r.len;
	d->data = r.data;
	d->len = d->remote ? 0 : r.len;
	d->ifname = sr->n_ifnames > 0 ? sr->ifnames[r.ifname] : "";
	return 0;
}

/* The records in packed, up to the end or the first that does not parse. */
static size_t sendreq_count(const ProtobufCBinaryData *packed)
{
	struct framepack_rec r;
	size_t off = 0, n = 0;
	int rc;

	while ((rc = framepack_get(packed->data, packed->len, &off, &r)) > 0)
		n++;
	return rc < 0 ? n + 1 : n;
}

static int sendreq_packed(const Cand__SendRequest *sr, struct frame_desc *d,
			  size_t n, char *detail, size_t dsize)
{
	size_t i, off = 0;
	int rc;

	for (i = 0; i < n; i++)
		if ((rc = sendreq_record(sr, i, &off, &d[i], detail, dsize)) <
		    0)
			return rc;
	return 0;
}

/* The frames form: only what a Frame's encoding can get wrong. */
static int sendreq_lengths(Cand__Frame **frames, size_t n, char *detail,
			   size_t dsize)
{
	size_t i, max;

	for (i = 0; i < n; i++) {
		max = frames[i]->fd ? CANFD_MAX_DLEN : CAN_MAX_DLEN;
		if (frames[i]->data.len <= max)
			continue;
		detail_set(detail, dsize,
			   "frame %zu: %zu data bytes; a %s frame carries at "
			   "most %zu",
			   i, frames[i]->data.len,
			   frames[i]->fd ? "CAN FD" : "classic CAN", max);
		return -EINVAL;
	}
	return 0;
}

/* Room for n in *descs; 0 or -ENOMEM. */
static int sendreq_room(struct frame_desc **descs, size_t *cap, size_t n)
{
	struct frame_desc *d;

	if (n <= *cap)
		return 0;
	if ((d = realloc(*descs, n * sizeof(*d))) == NULL)
		return -ENOMEM;
	*descs = d;
	*cap = n;
	return 0;
}

int sendreq_frames(const Cand__SendRequest *sr, struct frame_desc **descs,
		   size_t *cap, size_t *n, char *detail, size_t dsize)
{
	size_t i, want;
	int rc;

	*n = 0;
	if (sr->n_frames > 0 && (sr->packed.len > 0 || sr->n_ifnames > 0)) {
		detail_set(detail, dsize,
			   "a send has frames or packed records, not both");
		return -EINVAL;
	}
	if (sr->n_frames > 0) {
		if ((rc = sendreq_lengths(sr->frames, sr->n_frames, detail,
					  dsize)) < 0 ||
		    (rc = sendreq_room(descs, cap, sr->n_frames)) < 0)
			return rc;
		for (i = 0; i < sr->n_frames; i++)
			encode_frame_desc(sr->frames[i], &(*descs)[i]);
		*n = sr->n_frames;
		return 0;
	}
	want = sendreq_count(&sr->packed);
	if ((rc = sendreq_room(descs, cap, want)) < 0 ||
	    (rc = sendreq_packed(sr, *descs, want, detail, dsize)) < 0)
		return rc;
	*n = want;
	return 0;
}

void sendreq_done(struct frame_desc **descs, size_t *cap)
{
	if (*cap <= SENDREQ_KEEP)
		return;
	free(*descs);
	*descs = NULL;
	*cap = 0;
}
