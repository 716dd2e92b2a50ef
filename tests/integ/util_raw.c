/* Raw CAN_RAW sockets: the observers and peers that are not libcand. */
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/can/raw.h>

#include "util.h"

/* ---- raw sockets ---- */

int util_raw_open(const char *ifname, int flags)
{
	struct sockaddr_can addr;
	int s, one = 1, zero = 0;
	can_err_mask_t errs = CAN_ERR_MASK;

	s = socket(PF_CAN, SOCK_RAW, CAN_RAW);
	ck_assert_msg(s >= 0, "socket(PF_CAN): %s", strerror(errno));
	if (flags & RAW_FD)
		ck_assert_msg(setsockopt(s, SOL_CAN_RAW, CAN_RAW_FD_FRAMES,
					 &one, sizeof(one)) == 0,
			      "CAN_RAW_FD_FRAMES: %s", strerror(errno));
	if (flags & RAW_ERR)
		ck_assert_msg(setsockopt(s, SOL_CAN_RAW, CAN_RAW_ERR_FILTER,
					 &errs, sizeof(errs)) == 0,
			      "CAN_RAW_ERR_FILTER: %s", strerror(errno));
	if (flags & RAW_BIGBUF) {
		int size = 16 << 20;

		ck_assert_msg(setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &size,
					 sizeof(size)) == 0,
			      "SO_RCVBUFFORCE: %s", strerror(errno));
	}
	if (flags & RAW_NOLOOP)
		ck_assert_msg(setsockopt(s, SOL_CAN_RAW, CAN_RAW_LOOPBACK,
					 &zero, sizeof(zero)) == 0,
			      "CAN_RAW_LOOPBACK: %s", strerror(errno));
	memset(&addr, 0, sizeof(addr));
	addr.can_family = AF_CAN;
	addr.can_ifindex = (int)if_nametoindex(ifname);
	ck_assert_msg(addr.can_ifindex > 0, "no interface %s", ifname);
	ck_assert_msg(bind(s, (struct sockaddr *)&addr, sizeof(addr)) == 0,
		      "bind %s: %s", ifname, strerror(errno));
	return s;
}

void util_to_raw(const struct cand_frame *f, struct canfd_frame *cf, int *is_fd)
{
	memset(cf, 0, sizeof(*cf));
	cf->can_id = f->id;
	if (f->flags & CAND_FRAME_EXTENDED)
		cf->can_id |= CAN_EFF_FLAG;
	if (f->flags & CAND_FRAME_REMOTE)
		cf->can_id |= CAN_RTR_FLAG;
	if (f->flags & CAND_FRAME_ERROR)
		cf->can_id |= CAN_ERR_FLAG;
	cf->len = f->len;
	memcpy(cf->data, f->data, f->len);
	*is_fd = (f->flags & CAND_FRAME_FD) != 0;
	if (*is_fd) {
		if (f->flags & CAND_FRAME_BRS)
			cf->flags |= CANFD_BRS;
		if (f->flags & CAND_FRAME_ESI)
			cf->flags |= CANFD_ESI;
	}
}

void util_from_raw(const struct canfd_frame *cf, int is_fd,
		   struct cand_frame *f)
{
	memset(f, 0, sizeof(*f));
	if (cf->can_id & CAN_ERR_FLAG) {
		f->flags |= CAND_FRAME_ERROR;
		f->id = cf->can_id & CAN_ERR_MASK;
	} else if (cf->can_id & CAN_EFF_FLAG) {
		f->flags |= CAND_FRAME_EXTENDED;
		f->id = cf->can_id & CAN_EFF_MASK;
	} else {
		f->id = cf->can_id & CAN_SFF_MASK;
	}
	if (cf->can_id & CAN_RTR_FLAG)
		f->flags |= CAND_FRAME_REMOTE;
	if (is_fd) {
		f->flags |= CAND_FRAME_FD;
		if (cf->flags & CANFD_BRS)
			f->flags |= CAND_FRAME_BRS;
		if (cf->flags & CANFD_ESI)
			f->flags |= CAND_FRAME_ESI;
	}
	f->len = cf->len;
	memcpy(f->data, cf->data, cf->len <= CAND_MAX_DLEN ? cf->len : 0);
}

void util_raw_send(int s, const struct cand_frame *f)
{
	struct canfd_frame cf;
	int is_fd;
	size_t size;
	ssize_t n;

	util_to_raw(f, &cf, &is_fd);
	size = is_fd ? CANFD_MTU : CAN_MTU;
	n = write(s, &cf, size);
	ck_assert_msg(n == (ssize_t)size, "raw write: %s",
		      n < 0 ? strerror(errno) : "short");
}

void util_raw_flood(int s, const struct cand_frame *f)
{
	struct canfd_frame cf;
	int is_fd;
	ssize_t n;

	util_to_raw(f, &cf, &is_fd);
	n = write(s, &cf, is_fd ? CANFD_MTU : CAN_MTU);
	if (n < 0 && (errno == ENOBUFS || errno == EAGAIN))
		util_msleep(1);
	else
		ck_assert_msg(n > 0, "raw write: %s", strerror(errno));
}

int util_raw_recv(int s, struct cand_frame *f, int timeout_ms)
{
	struct pollfd pfd = {.fd = s, .events = POLLIN};
	struct canfd_frame cf;
	ssize_t n;
	int rc;

	do {
		rc = poll(&pfd, 1, timeout_ms);
	} while (rc < 0 && errno == EINTR);
	ck_assert_msg(rc >= 0, "poll: %s", strerror(errno));
	if (rc == 0)
		return 0;
	n = read(s, &cf, sizeof(cf));
	ck_assert_msg(n == CAN_MTU || n == CANFD_MTU, "raw read: %zd %s", n,
		      n < 0 ? strerror(errno) : "");
	util_from_raw(&cf, n == CANFD_MTU, f);
	return 1;
}

void util_raw_recv_ok(int s, struct cand_frame *f, const char *what)
{
	ck_assert_msg(util_raw_recv(s, f, RX_TIMEOUT_MS) == 1,
		      "%s: no frame on the raw socket within %d ms", what,
		      RX_TIMEOUT_MS);
}

void util_raw_recv_none(int s, int settle_ms, const char *what)
{
	struct cand_frame f;
	char buf[192];

	if (util_raw_recv(s, &f, settle_ms) == 1)
		ck_abort_msg("%s: expected nothing on the raw socket, got %s",
			     what, util_frame_str(&f, buf, sizeof(buf)));
}

int util_have_iface(const char *ifname)
{
	return if_nametoindex(ifname) > 0;
}
