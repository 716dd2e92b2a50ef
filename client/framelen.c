/*
 * Bits on the bus; see framelen.h. The exact count lays the frame out
 * bit by bit, as the controller sends it, and counts the stuff bits it
 * would insert.
 */
#include <string.h>

#include "framelen.h"

/* SOF to the end of the data (FD) or CRC (classic): at most 36 + 4 + 512. */
#define FL_MAX_BITS 600

#define FL_CRC15_POLY 0x4599u

/* CRC delimiter, ACK slot, ACK delimiter, end of frame, inter-frame space. */
#define FL_TRAILER 13

struct framelen_seq {
	uint8_t bit[FL_MAX_BITS];
	unsigned n;
	unsigned data_from; /* the first bit at the data bitrate, or n */
};

static void framelen_put(struct framelen_seq *s, uint32_t v, unsigned width)
{
	while (width-- > 0)
		s->bit[s->n++] = (uint8_t)((v >> width) & 1u);
}

static void framelen_put_data(struct framelen_seq *s,
			      const struct cand_frame *f, unsigned len)
{
	unsigned i;

	for (i = 0; i < len; i++)
		framelen_put(s, i < f->len ? f->data[i] : 0, 8);
}

/* The classic CRC over everything so far, SOF included. */
static uint32_t framelen_crc15(const struct framelen_seq *s)
{
	uint32_t crc = 0;
	unsigned i;

	for (i = 0; i < s->n; i++) {
		crc = (crc << 1) ^
		      ((s->bit[i] ^ (crc >> 14)) & 1u ? FL_CRC15_POLY : 0);
		crc &= 0x7fffu;
	}
	return crc;
}

/* The identifier fields up to RTR/RRS, which both formats share. */
static void framelen_put_id(struct framelen_seq *s, const struct cand_frame *f,
			    unsigned rtr)
{
	framelen_put(s, 0, 1); /* SOF */
	if (f->flags & CAND_FRAME_EXTENDED) {
		framelen_put(s, (f->id >> 18) & 0x7ffu, 11);
		framelen_put(s, 3, 2); /* SRR, IDE */
		framelen_put(s, f->id & 0x3ffffu, 18);
		framelen_put(s, rtr, 1);
	} else {
		framelen_put(s, f->id & 0x7ffu, 11);
		framelen_put(s, rtr, 1);
		framelen_put(s, 0, 1); /* IDE */
	}
}

/*
 * Dynamic stuff bits: one after every five equal bits, itself the first
 * of the next run. The last bit of an FD frame's dynamic part gets none:
 * the fixed stuff bit that follows takes its place. *in_data counts those
 * sent at the data bitrate.
 */
static unsigned framelen_stuffed(const struct framelen_seq *s, int fd,
				 unsigned *in_data)
{
	unsigned i, run = 0, count = 0;
	int last = -1;

	*in_data = 0;
	for (i = 0; i < s->n; i++) {
		if (s->bit[i] == last) {
			run++;
		} else {
			last = s->bit[i];
			run = 1;
		}
		if (run < 5 || (fd && i + 1 == s->n))
			continue;
		count++;
		if (i + 1 >= s->data_from)
			(*in_data)++;
		last = !last;
		run = 1;
	}
	return count;
}

/* The most stuff bits n dynamic bits can need: one per four after the first. */
static unsigned framelen_worst(unsigned n)
{
	return n > 0 ? (n - 1) / 4 : 0;
}

static unsigned framelen_classic(const struct cand_frame *f,
				 enum framelen_mode mode,
				 struct framelen_bits *bits)
{
	struct framelen_seq s;
	unsigned rtr = (f->flags & CAND_FRAME_REMOTE) != 0, dlc, in_data;
	unsigned stuff = 0;

	s.n = 0;
	dlc = f->len > 8 ? 8 : f->len;
	framelen_put_id(&s, f, rtr);
	framelen_put(&s, 0, (f->flags & CAND_FRAME_EXTENDED) ? 2 : 1); /* r */
	framelen_put(&s, dlc, 4);
	if (!rtr)
		framelen_put_data(&s, f, dlc);
	framelen_put(&s, framelen_crc15(&s), 15);
	s.data_from = s.n;
	if (mode == FRAMELEN_WORST_CASE)
		stuff = framelen_worst(s.n);
	else if (mode == FRAMELEN_EXACT)
		stuff = framelen_stuffed(&s, 0, &in_data);
	bits->nominal = s.n + stuff + FL_TRAILER;
	bits->data = 0;
	return bits->nominal;
}

/* The smallest FD data length code for len bytes. */
static unsigned framelen_fd_dlc(unsigned len, unsigned *padded)
{
	static const unsigned char lens[16] = {0, 1,  2,  3,  4,  5,  6,  7,
					       8, 12, 16, 20, 24, 32, 48, 64};
	unsigned dlc;

	for (dlc = 0; dlc < 15 && lens[dlc] < len; dlc++)
		;
	*padded = lens[dlc];
	return dlc;
}

static unsigned framelen_fd(const struct cand_frame *f, enum framelen_mode mode,
			    struct framelen_bits *bits)
{
	struct framelen_seq s;
	unsigned brs = (f->flags & CAND_FRAME_BRS) != 0, len, dlc, crc, fsb;
	unsigned stuff = 0, stuff_data = 0, data_fixed, arb;

	s.n = 0;
	dlc = framelen_fd_dlc(f->len, &len);
	framelen_put_id(&s, f, 0); /* RRS */
	framelen_put(&s, 2, 2);	   /* FDF, res */
	framelen_put(&s, brs, 1);
	arb = s.n;
	framelen_put(&s, (f->flags & CAND_FRAME_ESI) != 0, 1);
	framelen_put(&s, dlc, 4);
	framelen_put_data(&s, f, len);
	s.data_from = brs ? arb : s.n;

	/* Stuff count, CRC (17 bits up to 16 bytes), fixed stuff bits. */
	crc = len > 16 ? 21 : 17;
	fsb = len > 16 ? 7 : 6;
	data_fixed = 4 + crc + 1; /* and the CRC delimiter */
	if (mode == FRAMELEN_WORST_CASE) {
		stuff = framelen_worst(s.n);
		stuff_data = brs ? stuff - framelen_worst(arb) : 0;
	} else if (mode == FRAMELEN_EXACT) {
		stuff = framelen_stuffed(&s, 1, &stuff_data);
	}
	if (mode != FRAMELEN_NO_STUFFING)
		data_fixed += fsb;
	if (brs) {
		bits->nominal = arb + (stuff - stuff_data) + FL_TRAILER - 1;
		bits->data = s.n - arb + stuff_data + data_fixed;
	} else {
		bits->nominal = s.n + stuff + data_fixed + FL_TRAILER - 1;
		bits->data = 0;
	}
	return bits->nominal + bits->data;
}

unsigned framelen_count(const struct cand_frame *f, enum framelen_mode mode,
			struct framelen_bits *bits)
{
	struct framelen_bits unused;

	if (bits == NULL)
		bits = &unused;
	memset(bits, 0, sizeof(*bits));
	if (f->flags & CAND_FRAME_FD)
		return framelen_fd(f, mode, bits);
	return framelen_classic(f, mode, bits);
}
