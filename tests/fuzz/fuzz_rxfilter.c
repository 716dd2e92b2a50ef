/*
 * can/rxfilter.c, the kernel's CAN_RAW filters applied in userspace for
 * the shared receiving socket, against the kernel itself: a model of
 * Linux 6.1's net/can/af_can.c written the kernel's way, with its
 * receive lists (can_rcv_list_find() sorts each filter into one at
 * registration, can_rcv_filter() walks them per frame) and raw.c's error
 * mask and FD check. A host without CAN cannot ask the kernel; the VM's
 * integration tests compare a few cases with real sockets.
 *
 * The input: byte 0 bit 0 CAN_RAW_FD_FRAMES, byte 1 the number of
 * filters (mod 17), 4 bytes of error mask, 8 bytes per filter (id,
 * mask), then 5 bytes per frame (can_id, bit 0: FD). Each filter's id
 * and its neighbours are tried as frames too, which random ids would
 * rarely hit. Masks never carry CAN_ERR_FLAG: rawsock_filters(), the
 * only source of filters, never sets it (the kernel would make such a
 * filter an error-frame subscription).
 */
#include <string.h>

#include "can/can.h"
#include "fuzz.h"

#define FUZZ_RXF_MAX	 16
#define FUZZ_RXF_EFF_RTR (CAN_EFF_FLAG | CAN_RTR_FLAG)

enum fuzz_rxf_list { RX_ERR, RX_ALL, RX_FIL, RX_INV, RX_EFF, RX_SFF };

struct fuzz_rxf_rcv {
	enum fuzz_rxf_list list;
	canid_t can_id, mask;
};

struct fuzz_rxf_kernel {
	struct fuzz_rxf_rcv r[FUZZ_RXF_MAX + 1];
	size_t n;
	int fd_frames;
};

/* af_can.c's can_rcv_list_find(), which also rewrites id and mask. */
static enum fuzz_rxf_list fuzz_rxf_find(canid_t *can_id, canid_t *mask)
{
	canid_t inv = *can_id & CAN_INV_FILTER;

	if (*mask & CAN_ERR_FLAG) {
		*mask &= CAN_ERR_MASK;
		return RX_ERR;
	}
	if ((*mask & CAN_EFF_FLAG) && !(*can_id & CAN_EFF_FLAG))
		*mask &= (CAN_SFF_MASK | FUZZ_RXF_EFF_RTR);
	*can_id &= *mask;
	if (inv)
		return RX_INV;
	if (!(*mask))
		return RX_ALL;
	if (((*mask & FUZZ_RXF_EFF_RTR) == FUZZ_RXF_EFF_RTR) &&
	    !(*can_id & CAN_RTR_FLAG)) {
		if (*can_id & CAN_EFF_FLAG) {
			if (*mask == (CAN_EFF_MASK | FUZZ_RXF_EFF_RTR))
				return RX_EFF;
		} else {
			if (*mask == (CAN_SFF_MASK | FUZZ_RXF_EFF_RTR))
				return RX_SFF;
		}
	}
	return RX_FIL;
}

static void fuzz_rxf_register(struct fuzz_rxf_kernel *k, canid_t can_id,
			      canid_t mask)
{
	struct fuzz_rxf_rcv *r = &k->r[k->n++];

	r->list = fuzz_rxf_find(&can_id, &mask);
	r->can_id = can_id;
	r->mask = mask;
}

/* raw.c's raw_enable_filters() and raw_enable_errfilter(). */
static void fuzz_rxf_kernel_setup(struct fuzz_rxf_kernel *k,
				  const struct can_filter *f, size_t n,
				  can_err_mask_t err_mask, int fd_frames)
{
	size_t i;

	k->n = 0;
	k->fd_frames = fd_frames;
	for (i = 0; i < n; i++)
		fuzz_rxf_register(k, f[i].can_id, f[i].can_mask);
	err_mask &= CAN_ERR_MASK;
	if (err_mask)
		fuzz_rxf_register(k, 0, err_mask | CAN_ERR_FLAG);
}

/* can_rcv_filter()'s matches for this socket, then raw_rcv()'s checks. */
static int fuzz_rxf_kernel_pass(const struct fuzz_rxf_kernel *k, canid_t can_id,
				int is_fd)
{
	int matches = 0;
	size_t i;

	for (i = 0; i < k->n; i++) {
		const struct fuzz_rxf_rcv *r = &k->r[i];

		if (can_id & CAN_ERR_FLAG) {
			matches += r->list == RX_ERR && (can_id & r->mask);
			continue;
		}
		switch (r->list) {
		case RX_ALL:
			matches++;
			break;
		case RX_FIL:
			matches += (can_id & r->mask) == r->can_id;
			break;
		case RX_INV:
			matches += (can_id & r->mask) != r->can_id;
			break;
		case RX_EFF:
			matches += !(can_id & CAN_RTR_FLAG) &&
				   (can_id & CAN_EFF_FLAG) &&
				   r->can_id == can_id;
			break;
		case RX_SFF:
			matches += !(can_id & CAN_RTR_FLAG) &&
				   !(can_id & CAN_EFF_FLAG) &&
				   r->can_id == (can_id & CAN_SFF_MASK);
			break;
		default:
			break;
		}
	}
	/* raw_rcv(): delivered once however many matched; FD only if asked. */
	return matches > 0 && (!is_fd || k->fd_frames);
}

static uint32_t fuzz_rxf_u32(const uint8_t **p, const uint8_t *end)
{
	uint32_t v = 0;
	int i;

	for (i = 0; i < 4; i++)
		v = v << 8 | (*p < end ? *(*p)++ : 0);
	return v;
}

/* Replaced by every input, as a channel's filters are. */
static struct rxfilter fuzz_rxf;

static void fuzz_rxf_try(const struct fuzz_rxf_kernel *k, canid_t can_id,
			 int is_fd, const uint16_t *ids, int n_ids)
{
	int pass = rxfilter_pass(&fuzz_rxf, can_id, is_fd), i, listed = 0;

	FUZZ_CHECK(pass == fuzz_rxf_kernel_pass(k, can_id, is_fd));
	/* An index by id may skip the client for standard ids not listed. */
	if (n_ids < 0 || (can_id & (CAN_EFF_FLAG | CAN_ERR_FLAG)))
		return;
	for (i = 0; i < n_ids; i++)
		listed |= ids[i] == (can_id & CAN_SFF_MASK);
	FUZZ_CHECK(listed || !pass);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	struct can_filter f[FUZZ_RXF_MAX];
	struct fuzz_rxf_kernel k;
	uint16_t ids[FUZZ_RXF_MAX];
	can_err_mask_t err_mask;
	size_t n, i;
	int fd_frames, n_ids;
	canid_t id;

	if (size < 2)
		return 0;
	fd_frames = *p++ & 1;
	n = *p++ % (FUZZ_RXF_MAX + 1);
	err_mask = fuzz_rxf_u32(&p, end);
	for (i = 0; i < n; i++) {
		f[i].can_id = fuzz_rxf_u32(&p, end);
		f[i].can_mask = fuzz_rxf_u32(&p, end) & ~CAN_ERR_FLAG;
	}
	if (rxfilter_compile(&fuzz_rxf, f, n, err_mask, fd_frames) < 0)
		fuzz_die("rxfilter_compile");
	fuzz_rxf_kernel_setup(&k, f, n, err_mask, fd_frames);
	n_ids = rxfilter_sff_ids(&fuzz_rxf, ids, FUZZ_RXF_MAX);
	FUZZ_CHECK(n_ids <= (int)n);
	for (i = 0; i < n; i++) {
		id = f[i].can_id & ~CAN_INV_FILTER;
		fuzz_rxf_try(&k, id, 0, ids, n_ids);
		fuzz_rxf_try(&k, id ^ 1, 0, ids, n_ids);
		fuzz_rxf_try(&k, id | CAN_RTR_FLAG, 0, ids, n_ids);
		fuzz_rxf_try(&k, id ^ CAN_EFF_FLAG, 1, ids, n_ids);
		fuzz_rxf_try(&k, id & CAN_SFF_MASK, 0, ids, n_ids);
		fuzz_rxf_try(&k, (id & CAN_SFF_MASK) | CAN_EFF_FLAG, 0, ids,
			     n_ids);
	}
	while (p < end) {
		id = fuzz_rxf_u32(&p, end);
		fuzz_rxf_try(&k, id, p < end ? *p++ & 1 : 0, ids, n_ids);
	}
	return 0;
}
