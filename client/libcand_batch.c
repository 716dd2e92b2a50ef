/*
 * The frame batch, the one message that comes by the thousand, read by
 * hand: ServerMsg{event: Event{frames: FrameBatch}} is a few varints, the
 * interface names and one bytes field of packed records, which is all the
 * daemon writes (daemon/pb/encode.c writes it by hand too). Reading it
 * here spares protobuf-c's descriptor walk and its copy of the records
 * into the arena; anything else in the message (a field this library
 * does not know, another kind of message) goes to protobuf-c as before.
 */
#include <stdint.h>
#include <string.h>

#include "libcand_int.h"

/* A varint at *p (below end): 0, or -1 when it is cut off or too long. */
static int libcand_batch_varint(const uint8_t **p, const uint8_t *end,
				uint64_t *v)
{
	unsigned shift;

	*v = 0;
	for (shift = 0; shift < 64 && *p < end; shift += 7) {
		uint8_t b = *(*p)++;

		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return 0;
	}
	return -1;
}

/* One length-delimited field of tag, exactly filling what is left. */
static int libcand_batch_only(const uint8_t **p, const uint8_t *end,
			      uint8_t tag)
{
	uint64_t len;

	if (*p >= end || *(*p)++ != tag ||
	    libcand_batch_varint(p, end, &len) < 0 ||
	    len != (uint64_t)(end - *p))
		return -1;
	return 0;
}

int libcand_batch_parse(const uint8_t *msg, size_t len, struct libcand_batch *b)
{
	const uint8_t *p = msg, *end = msg + len;
	uint64_t v = 0, n = 0;
	uint8_t tag;

	/* The name table is filled as far as n_names says, no further. */
	b->kernel_drops = 0;
	b->format = b->count = 0;
	b->packed = NULL;
	b->packed_len = 0;
	b->n_names = 0;
	/* ServerMsg.event (2), then Event.frames (1), nothing beside. */
	if (libcand_batch_only(&p, end, 2 << 3 | 2) < 0 ||
	    libcand_batch_only(&p, end, 1 << 3 | 2) < 0)
		return 0;
	while (p < end) {
		tag = *p++;
		if ((tag & 7) == 2) {
			if (libcand_batch_varint(&p, end, &n) < 0 ||
			    n > (uint64_t)(end - p))
				return 0;
		} else if ((tag & 7) != 0 ||
			   libcand_batch_varint(&p, end, &v) < 0) {
			return 0;
		}
		switch (tag) {
		case 2 << 3: /* kernel_drops */
			b->kernel_drops = v;
			break;
		case 3 << 3: /* format */
			b->format = (uint32_t)v;
			break;
		case 4 << 3: /* count */
			b->count = (uint32_t)v;
			break;
		case 5 << 3 | 2: /* ifnames */
			if (b->n_names == LIBCAND_BATCH_NAMES)
				return 0;
			b->name[b->n_names] = (const char *)p;
			b->name_len[b->n_names++] = (size_t)n;
			p += n;
			break;
		case 6 << 3 | 2: /* packed */
			b->packed = p;
			b->packed_len = (size_t)n;
			p += n;
			break;
		default:
			return 0;
		}
	}
	return 1;
}

void libcand_batch_from_pb(struct libcand_batch *b, const Cand__FrameBatch *pb)
{
	size_t i;

	b->kernel_drops = pb->kernel_drops;
	b->format = pb->format;
	b->count = pb->count;
	b->packed = pb->packed.data;
	b->packed_len = pb->packed.len;
	for (i = 0; i < pb->n_ifnames && i < LIBCAND_BATCH_NAMES; i++) {
		b->name[i] = pb->ifnames[i];
		b->name_len[i] = strlen(pb->ifnames[i]);
	}
	b->n_names = i;
}
