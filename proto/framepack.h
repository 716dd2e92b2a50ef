/*
 * FrameBatch.packed, format 1: received frames back to back, so a batch
 * costs one protobuf field instead of a dozen per frame; SendRequest.packed
 * carries frames to send the same way (cand.proto says what a send may
 * set). Each record is a 16-byte little-endian header followed by its
 * data:
 *
 *   0  u32 can_id        Linux can_id: the id | CAN_EFF_FLAG | CAN_RTR_FLAG
 *                        | CAN_ERR_FLAG
 *   4  u8  len           data bytes; for a remote frame the requested
 *                        length, and no data follows
 *   5  u8  flags         FRAMEPACK_FD, _BRS, _ESI, _OWN, _LOCAL
 *   6  u8  ifname        index into FrameBatch.ifnames
 *   7  u8  reserved      0
 *   8  u64 timestamp_ns  kernel receive time, ns since the epoch
 *  16  data[len]
 */
#ifndef CAND_FRAMEPACK_H
#define CAND_FRAMEPACK_H

#include <endian.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define FRAMEPACK_FORMAT 1
#define FRAMEPACK_HDR	 16
/* The largest record: a header and 64 bytes of CAN FD data. */
#define FRAMEPACK_MAX (FRAMEPACK_HDR + 64)

#define FRAMEPACK_FD  0x01u
#define FRAMEPACK_BRS 0x02u
#define FRAMEPACK_ESI 0x04u
#define FRAMEPACK_OWN 0x08u
/* Sent from this host, by any socket: candump -x's TX. */
#define FRAMEPACK_LOCAL 0x10u

/* Linux can_id flag bits, repeated so clients need no kernel headers. */
#define FRAMEPACK_EFF 0x80000000u
#define FRAMEPACK_RTR 0x40000000u
#define FRAMEPACK_ERR 0x20000000u

struct framepack_rec {
	uint32_t can_id;
	uint8_t len;
	uint8_t flags;
	uint8_t ifname;
	uint64_t timestamp_ns;
	const uint8_t *data; /* len bytes, or NULL for a remote frame */
};

/* Writes one record at p (FRAMEPACK_MAX bytes of room); returns its size. */
static inline size_t framepack_put(uint8_t *p, const struct framepack_rec *r)
{
	uint32_t id = htole32(r->can_id);
	uint64_t ts = htole64(r->timestamp_ns);
	size_t n = r->data != NULL ? r->len : 0;

	memcpy(p, &id, 4);
	p[4] = r->len;
	p[5] = r->flags;
	p[6] = r->ifname;
	p[7] = 0;
	memcpy(p + 8, &ts, 8);
	if (n > 0)
		memcpy(p + FRAMEPACK_HDR, r->data, n);
	return FRAMEPACK_HDR + n;
}

/*
 * Reads the record at *off in buf; advances *off. Returns 1 with a record,
 * 0 at the end, -1 when the buffer is malformed.
 */
static inline int framepack_get(const uint8_t *buf, size_t size, size_t *off,
				struct framepack_rec *r)
{
	size_t n;

	if (*off == size)
		return 0;
	if (size - *off < FRAMEPACK_HDR)
		return -1;
	buf += *off;
	memcpy(&r->can_id, buf, 4);
	r->can_id = le32toh(r->can_id);
	r->len = buf[4];
	r->flags = buf[5];
	r->ifname = buf[6];
	memcpy(&r->timestamp_ns, buf + 8, 8);
	r->timestamp_ns = le64toh(r->timestamp_ns);
	n = (r->can_id & FRAMEPACK_RTR) ? 0 : r->len;
	if (n > 64 || size - *off - FRAMEPACK_HDR < n)
		return -1;
	r->data = n > 0 ? buf + FRAMEPACK_HDR : NULL;
	*off += FRAMEPACK_HDR + n;
	return 1;
}

#endif
