/*
 * cand.h's types to and from the protobuf-c ones: get_* decode what the
 * daemon sent, put_* encode a request. The daemon's values are clamped to
 * what the C types can hold, never trusted to fit.
 */
#include <stdlib.h>
#include <string.h>

#include "framepack.h"
#include "libcand_int.h"

/* A string of the daemon's, NULL or too long, into a zero-padded array. */
void libcand_pb_get_str(char *dst, size_t size, const char *src)
{
	size_t n = src != NULL ? strnlen(src, size - 1) : 0;

	if (n > 0)
		memcpy(dst, src, n);
	memset(dst + n, 0, size - n);
}

void libcand_pb_get_frame(struct cand_frame *f, const Cand__Frame *p)
{
	size_t n, max;

	/* As the batch reader does: cand.h promises an id within 29 bits. */
	f->id = p->id & 0x1fffffffu;
	f->flags = (p->extended ? CAND_FRAME_EXTENDED : 0) |
		   (p->remote ? CAND_FRAME_REMOTE : 0) |
		   (p->error ? CAND_FRAME_ERROR : 0) |
		   (p->fd ? CAND_FRAME_FD : 0) | (p->brs ? CAND_FRAME_BRS : 0) |
		   (p->esi ? CAND_FRAME_ESI : 0) |
		   (p->own ? CAND_FRAME_OWN : 0);
	max = p->fd ? CAND_MAX_DLEN : 8;
	if (p->remote) {
		f->len = (uint8_t)(p->dlc > max ? max : p->dlc);
		n = 0;
	} else {
		n = p->data.len > max ? max : p->data.len;
		f->len = (uint8_t)n;
		if (n > 0)
			memcpy(f->data, p->data.data, n);
	}
	memset(f->data + n, 0, sizeof(f->data) - n);
	libcand_pb_get_str(f->ifname, sizeof(f->ifname), p->ifname);
	f->timestamp_ns = p->timestamp_ns;
}

void libcand_pb_get_config(struct cand_bus_config *c, const Cand__BusConfig *p)
{
	memset(c, 0, sizeof(*c));
	if (p == NULL)
		return;
	c->bitrate = p->bitrate;
	c->sample_point = p->sample_point;
	c->data_bitrate = p->data_bitrate;
	c->data_sample_point = p->data_sample_point;
	c->restart_ms = p->restart_ms;
	c->ctrlmode = p->ctrlmode;
	c->ctrlmode_supported = p->ctrlmode_supported;
	c->clock_hz = p->clock_hz;
}

enum cand_state libcand_pb_get_state(Cand__CanState s)
{
	if ((int)s < CAND_STATE_NONE || (int)s > CAND_STATE_SLEEPING)
		return CAND_STATE_NONE; /* from a newer daemon */
	return (enum cand_state)s;
}

/* Checks frames before anything is sent, so a bad one sends nothing. */
int libcand_pb_check_frames(struct cand *h, const struct cand_frame *frames,
			    size_t n)
{
	const struct cand_frame *f;
	size_t i;

	for (i = 0; i < n; i++) {
		f = &frames[i];
		if (f->len > CAND_MAX_DLEN)
			return libcand_err_set(
				h, CAND_EINVAL,
				"frame %zu: length %u is over 64", i, f->len);
		if (!(f->flags & CAND_FRAME_FD) && f->len > 8)
			return libcand_err_set(h, CAND_EINVAL,
					       "frame %zu: length %u is over 8 "
					       "for a classic frame",
					       i, f->len);
		/* Sends pack the id with the kernel's flag bits above it. */
		if (f->id > 0x1fffffffu)
			return libcand_err_set(h, CAND_EINVAL,
					       "frame %zu: id 0x%x is over 29 "
					       "bits",
					       i, f->id);
		if (strnlen(f->ifname, sizeof(f->ifname)) == sizeof(f->ifname))
			return libcand_err_set(h, CAND_EINVAL,
					       "frame %zu: ifname is not "
					       "terminated",
					       i);
	}
	return 0;
}

/* p points into f: pack() only reads through its pointers. */
void libcand_pb_put_frame(Cand__Frame *p, const struct cand_frame *f)
{
	cand__frame__init(p);
	p->id = f->id;
	p->extended = (f->flags & CAND_FRAME_EXTENDED) ? 1 : 0;
	p->remote = (f->flags & CAND_FRAME_REMOTE) ? 1 : 0;
	p->error = (f->flags & CAND_FRAME_ERROR) ? 1 : 0;
	p->fd = (f->flags & CAND_FRAME_FD) ? 1 : 0;
	p->brs = (f->flags & CAND_FRAME_BRS) ? 1 : 0;
	p->esi = (f->flags & CAND_FRAME_ESI) ? 1 : 0;
	p->dlc = f->len;
	if (!p->remote && f->len > 0) {
		p->data.len = f->len;
		p->data.data = (uint8_t *)f->data;
	}
	if (f->ifname[0] != '\0')
		p->ifname = (char *)f->ifname;
}

/* A CAN FD length as a DLC gives it: the daemon takes no other. */
static uint8_t libcand_pb_fd_len(uint8_t len)
{
	static const uint8_t lens[] = {12, 16, 20, 24, 32, 48, 64};
	size_t i;

	for (i = 0; len > 8 && i < sizeof(lens); i++)
		if (len <= lens[i])
			return lens[i];
	return len;
}

/* The index of name among the send's names, added on first sight. */
static int libcand_pb_put_name(struct cand *h, const char *name, size_t i,
			       size_t *n_names, uint8_t *idx)
{
	size_t k;

	*idx = 0;
	if (*n_names == 0) {
		if (name[0] == '\0')
			return 0;
		/* The frames before named none: "" is their index 0. */
		if (i > 0)
			h->pack_names[(*n_names)++] = "";
	}
	for (k = 0; k < *n_names; k++)
		if (strcmp(h->pack_names[k], name) == 0)
			break;
	if (k == CAND_PACK_NAMES)
		return libcand_err_set(h, CAND_EINVAL,
				       "frame %zu: more than %u interfaces in "
				       "one send",
				       i, CAND_PACK_NAMES);
	if (k == *n_names)
		h->pack_names[(*n_names)++] = (char *)name;
	*idx = (uint8_t)k;
	return 0;
}

/* One checked frame as a send's record at p; its size. */
static size_t libcand_pb_put_record(uint8_t *p, const struct cand_frame *f,
				    uint8_t idx)
{
	struct framepack_rec r = {.ifname = idx};
	uint8_t padded[CAND_MAX_DLEN];

	r.can_id = f->id |
		   ((f->flags & CAND_FRAME_EXTENDED) ? FRAMEPACK_EFF : 0) |
		   ((f->flags & CAND_FRAME_REMOTE) ? FRAMEPACK_RTR : 0) |
		   ((f->flags & CAND_FRAME_ERROR) ? FRAMEPACK_ERR : 0);
	r.len = f->len;
	if (f->flags & CAND_FRAME_FD)
		r.flags = FRAMEPACK_FD |
			  ((f->flags & CAND_FRAME_BRS) ? FRAMEPACK_BRS : 0) |
			  ((f->flags & CAND_FRAME_ESI) ? FRAMEPACK_ESI : 0);
	if (f->flags & CAND_FRAME_REMOTE)
		return framepack_put(p, &r);
	r.data = f->data;
	/* As the kernel would: the bytes past the caller's are zeros. */
	if ((f->flags & CAND_FRAME_FD) &&
	    (r.len = libcand_pb_fd_len(f->len)) != f->len) {
		memcpy(padded, f->data, f->len);
		memset(padded + f->len, 0, r.len - f->len);
		r.data = padded;
	}
	return framepack_put(p, &r);
}

/*
 * n checked frames as packed records into sr, in the handle's reused
 * buffer and names; they stay valid until the next call.
 */
int libcand_pb_put_packed(struct cand *h, const struct cand_frame *frames,
			  size_t n, Cand__SendRequest *sr)
{
	size_t i, off = 0, n_names = 0;
	uint8_t idx, *p;
	int rc;

	if (h->pack_cap < n * FRAMEPACK_MAX) {
		if ((p = realloc(h->pack, n * FRAMEPACK_MAX)) == NULL)
			return libcand_err_set(h, CAND_ENOMEM,
					       "no memory to send");
		h->pack = p;
		h->pack_cap = n * FRAMEPACK_MAX;
	}
	for (i = 0; i < n; i++) {
		if ((rc = libcand_pb_put_name(h, frames[i].ifname, i, &n_names,
					      &idx)) < 0)
			return rc;
		off += libcand_pb_put_record(h->pack + off, &frames[i], idx);
	}
	sr->packed.data = h->pack;
	sr->packed.len = off;
	sr->ifnames = h->pack_names;
	sr->n_ifnames = n_names;
	return 0;
}

/*
 * n checked frames into the handle's reused arrays, h->txp for a request;
 * they stay valid until the next call.
 */
int libcand_pb_put_frames(struct cand *h, const struct cand_frame *frames,
			  size_t n)
{
	Cand__Frame *tx;
	Cand__Frame **txp;
	size_t i;

	if (h->tx_cap < n) {
		if ((tx = realloc(h->tx, n * sizeof(*tx))) == NULL)
			return libcand_err_set(h, CAND_ENOMEM,
					       "no memory to send");
		h->tx = tx;
		if ((txp = realloc(h->txp, n * sizeof(*txp))) == NULL)
			return libcand_err_set(h, CAND_ENOMEM,
					       "no memory to send");
		h->txp = txp;
		h->tx_cap = n;
	}
	for (i = 0; i < n; i++) {
		libcand_pb_put_frame(&h->tx[i], &frames[i]);
		h->txp[i] = &h->tx[i];
	}
	return 0;
}

/* Filters into two malloc'd arrays for a request; free both after it. */
int libcand_pb_put_filters(struct cand *h, const struct cand_filter *src,
			   size_t n, Cand__Filter **pf, Cand__Filter ***pp)
{
	Cand__Filter *f;
	Cand__Filter **p;
	size_t i;

	*pf = NULL;
	*pp = NULL;
	if (n == 0)
		return 0;
	if (src == NULL)
		return libcand_err_set(h, CAND_EINVAL,
				       "%zu filters but no array", n);
	for (i = 0; i < n; i++) {
		if (src[i].kind != CAND_FILTER_ANY &&
		    src[i].kind != CAND_FILTER_STANDARD &&
		    src[i].kind != CAND_FILTER_EXTENDED)
			return libcand_err_set(h, CAND_EINVAL,
					       "filter %zu has an unknown kind "
					       "%d",
					       i, (int)src[i].kind);
	}
	f = calloc(n, sizeof(*f));
	p = calloc(n, sizeof(*p));
	if (f == NULL || p == NULL) {
		free(f);
		free(p);
		return libcand_err_set(h, CAND_ENOMEM,
				       "no memory for %zu filters", n);
	}
	for (i = 0; i < n; i++) {
		cand__filter__init(&f[i]);
		f[i].id = src[i].id;
		f[i].mask = src[i].mask;
		f[i].kind = (Cand__FilterKind)src[i].kind;
		f[i].invert = src[i].invert ? 1 : 0;
		p[i] = &f[i];
	}
	*pf = f;
	*pp = p;
	return 0;
}
