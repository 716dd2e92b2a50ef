/*
 * The bits a frame takes on the bus, as canbusload counts them (its
 * canframelen.c): without stuff bits, with the worst case of them, or
 * with the exact ones this frame's content and CRC give. Classic frames
 * count what canbusload counts, but a remote frame carries no data
 * field. CAN FD frames (ISO 11898-1:2015) count their fixed stuff bits
 * too, and the bits from ESI to the CRC delimiter go at the data
 * bitrate when BRS is set.
 */
#ifndef CAND_FRAMELEN_H
#define CAND_FRAMELEN_H

#include "cand.h"

enum framelen_mode {
	FRAMELEN_NO_STUFFING, /* canbusload -i */
	FRAMELEN_WORST_CASE,  /* its default */
	FRAMELEN_EXACT,	      /* -e */
};

struct framelen_bits {
	unsigned nominal; /* at the bitrate, with the inter-frame space */
	unsigned data;	  /* at the data bitrate: FD frames with BRS */
};

/* Fills *bits for f (not an error frame); returns their sum. */
unsigned framelen_count(const struct cand_frame *f, enum framelen_mode mode,
			struct framelen_bits *bits);

#endif
