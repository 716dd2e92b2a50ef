/*
 * A frame as a client describes it (id, flags, dlc, data) and the kernel's
 * struct canfd_frame. Every check of a frame to send is here, so a send,
 * a periodic task and an RTR reply refuse the same frames with the same
 * words.
 */
#include <errno.h>
#include <string.h>

#include "can/can.h"

/* The valid CAN FD payload sizes; others round up to the next one. */
static size_t frame_fd_len(size_t len)
{
	static const uint8_t sizes[] = {12, 16, 20, 24, 32, 48, 64};
	size_t i;

	if (len <= 8)
		return len;
	for (i = 0; i < sizeof(sizes); i++)
		if (len <= sizes[i])
			return sizes[i];
	return len;
}

int frame_from_desc(const struct frame_desc *f, int fd_enabled,
		    struct canfd_frame *cf, int *is_fd, char *detail,
		    size_t dsize)
{
	size_t max = f->fd ? CANFD_MAX_DLEN : CAN_MAX_DLEN;
	size_t len = f->len;

	memset(cf, 0, sizeof(*cf));
	if (f->fd && !fd_enabled) {
		detail_set(detail, dsize,
			   "CAN FD frame on a channel opened without fd");
		return -EOPNOTSUPP;
	}
	if (f->error) {
		if (f->id > CAN_ERR_MASK) {
			detail_set(detail, dsize,
				   "error class 0x%x exceeds CAN_ERR_MASK",
				   f->id);
			return -EINVAL;
		}
	} else if (f->id > (f->extended ? CAN_EFF_MASK : CAN_SFF_MASK)) {
		detail_set(detail, dsize, "id 0x%x does not fit %s", f->id,
			   f->extended ? "29 bits" : "11 bits (not extended)");
		return -EINVAL;
	}
	if (f->remote) {
		if (f->fd) {
			detail_set(detail, dsize,
				   "CAN FD has no remote frames");
			return -EINVAL;
		}
		if (len != 0 || f->dlc > CAN_MAX_DLEN) {
			detail_set(detail, dsize,
				   "a remote frame has no data and dlc <= 8");
			return -EINVAL;
		}
		len = f->dlc;
	} else if (len > max) {
		detail_set(detail, dsize,
			   "%zu data bytes; a %s frame carries at most %zu",
			   len, f->fd ? "CAN FD" : "classic CAN", max);
		return -EINVAL;
	} else if (f->dlc != 0 && f->dlc != len) {
		detail_set(detail, dsize, "dlc %u but %zu data bytes", f->dlc,
			   len);
		return -EINVAL;
	} else if (len > 0) {
		/* An empty data field may be NULL: no memcpy from it. */
		memcpy(cf->data, f->data, len);
	}

	cf->can_id = f->id;
	if (f->extended)
		cf->can_id |= CAN_EFF_FLAG;
	if (f->remote)
		cf->can_id |= CAN_RTR_FLAG;
	if (f->error)
		cf->can_id |= CAN_ERR_FLAG;
	cf->len = (uint8_t)(f->fd ? frame_fd_len(len) : len);
	if (f->brs)
		cf->flags |= CANFD_BRS;
	if (f->esi)
		cf->flags |= CANFD_ESI;
	*is_fd = f->fd;
	return 0;
}

void frame_to_desc(const struct canfd_frame *cf, int is_fd,
		   struct frame_desc *f)
{
	memset(f, 0, sizeof(*f));
	f->id = cf->can_id & CAN_EFF_MASK;
	f->extended = (cf->can_id & CAN_EFF_FLAG) != 0;
	f->remote = (cf->can_id & CAN_RTR_FLAG) != 0;
	f->error = (cf->can_id & CAN_ERR_FLAG) != 0;
	f->fd = is_fd != 0;
	f->brs = f->fd && (cf->flags & CANFD_BRS);
	f->esi = f->fd && (cf->flags & CANFD_ESI);
	f->dlc = cf->len;
	f->data = cf->data;
	f->len = f->remote ? 0 : cf->len;
	f->ifname = "";
}
