/*
 * The rtnetlink monitor: an RTMGRP_LINK socket in the event loop, so that
 * every link change of a CAN interface (up, down, created, deleted,
 * reconfigured, bus-off and back, which the kernel reports as a carrier
 * change) reaches busstate.c as it happens, whoever made it.
 *
 * Also the two synchronous requests libsocketcan 0.0.12 lacks: reading an
 * interface's CAN FD data bit timing and supported modes, and setting the
 * data bit timing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <linux/can/netlink.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if_arp.h>

#include <event2/event.h>

#include "daemon.h"

#define NETLINK_BUF 65536
/* A synchronous request that takes longer than this has gone wrong. */
#define NETLINK_TIMEOUT_MS 2000
/* Nests may carry NLA_F_NESTED in their type (nla_nest_start()). */
#define NETLINK_TYPE(rta) ((rta)->rta_type & NLA_TYPE_MASK)

static void netlink_kind(const struct rtattr *linkinfo, struct nl_link *l,
			 const struct rtattr **data)
{
	const struct rtattr *rta = RTA_DATA(linkinfo);
	int len = (int)RTA_PAYLOAD(linkinfo);

	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (NETLINK_TYPE(rta) == IFLA_INFO_KIND)
			snprintf(l->kind, sizeof(l->kind), "%.*s",
				 (int)RTA_PAYLOAD(rta), (char *)RTA_DATA(rta));
		else if (NETLINK_TYPE(rta) == IFLA_INFO_DATA)
			*data = rta;
	}
}

static uint32_t netlink_u32(const struct rtattr *rta)
{
	uint32_t v = 0;

	if (RTA_PAYLOAD(rta) >= sizeof(v))
		memcpy(&v, RTA_DATA(rta), sizeof(v));
	return v;
}

static void netlink_ctrlmode_ext(const struct rtattr *ext, struct nl_link *l)
{
	const struct rtattr *rta = RTA_DATA(ext);
	int len = (int)RTA_PAYLOAD(ext);

	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len))
		if (NETLINK_TYPE(rta) == IFLA_CAN_CTRLMODE_SUPPORTED)
			l->cfg.ctrlmode_supported = netlink_u32(rta);
}

/* The CAN attributes of a controller (drivers/net/can/dev/netlink.c). */
static void netlink_can_data(const struct rtattr *data, struct nl_link *l)
{
	const struct rtattr *rta = RTA_DATA(data);
	int len = (int)RTA_PAYLOAD(data);
	struct can_bittiming bt;
	struct can_ctrlmode cm;
	struct can_berr_counter bc;
	struct can_clock clk;

	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		size_t n = RTA_PAYLOAD(rta);

		switch (NETLINK_TYPE(rta)) {
		case IFLA_CAN_STATE:
			l->controller = 1;
			l->state = (int)netlink_u32(rta);
			break;
		case IFLA_CAN_BITTIMING:
			if (n < sizeof(bt))
				break;
			memcpy(&bt, RTA_DATA(rta), sizeof(bt));
			l->cfg.bitrate = bt.bitrate;
			l->cfg.sample_point = bt.sample_point;
			break;
		case IFLA_CAN_DATA_BITTIMING:
			if (n < sizeof(bt))
				break;
			memcpy(&bt, RTA_DATA(rta), sizeof(bt));
			l->cfg.data_bitrate = bt.bitrate;
			l->cfg.data_sample_point = bt.sample_point;
			break;
		case IFLA_CAN_RESTART_MS:
			l->cfg.restart_ms = netlink_u32(rta);
			break;
		case IFLA_CAN_CTRLMODE:
			if (n < sizeof(cm))
				break;
			memcpy(&cm, RTA_DATA(rta), sizeof(cm));
			l->cfg.ctrlmode = cm.flags;
			break;
		case IFLA_CAN_CLOCK:
			if (n < sizeof(clk))
				break;
			memcpy(&clk, RTA_DATA(rta), sizeof(clk));
			l->cfg.clock_hz = clk.freq;
			break;
		case IFLA_CAN_BERR_COUNTER:
			if (n < sizeof(bc))
				break;
			memcpy(&bc, RTA_DATA(rta), sizeof(bc));
			l->has_berr = 1;
			l->txerr = bc.txerr;
			l->rxerr = bc.rxerr;
			break;
		case IFLA_CAN_CTRLMODE_EXT:
			netlink_ctrlmode_ext(rta, l);
			break;
		case IFLA_CAN_DATA_BITTIMING_CONST:
		case IFLA_CAN_DATA_BITRATE_CONST:
			l->fd_capable = 1;
			break;
		default:
			break;
		}
	}
}

int netlink_parse_link(const struct nlmsghdr *nh, struct nl_link *l)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(nh);
	const struct rtattr *rta, *data = NULL;
	int len;

	memset(l, 0, sizeof(*l));
	if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)) ||
	    ifi->ifi_type != ARPHRD_CAN)
		return 0;
	l->ifindex = ifi->ifi_index;
	l->flags = ifi->ifi_flags;
	len = (int)(nh->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi)));
	for (rta = IFLA_RTA(ifi); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (NETLINK_TYPE(rta) == IFLA_IFNAME)
			snprintf(l->name, sizeof(l->name), "%.*s",
				 (int)RTA_PAYLOAD(rta), (char *)RTA_DATA(rta));
		else if (NETLINK_TYPE(rta) == IFLA_MTU)
			l->mtu = netlink_u32(rta);
		else if (NETLINK_TYPE(rta) == IFLA_LINKINFO)
			netlink_kind(rta, l, &data);
	}
	/* Only "can" links carry CAN attributes; vcan and vxcan have none. */
	if (data != NULL && strcmp(l->kind, "can") == 0)
		netlink_can_data(data, l);
	return l->name[0] != '\0';
}

static int netlink_socket(unsigned groups)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = groups};
	int fd;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	return fd;
}

/* Handles what one recv() brought: notifications or a dump's part. */
static int netlink_dispatch(struct cand_ctx *ctx, const char *buf, size_t n,
			    int initial)
{
	const struct nlmsghdr *nh;
	struct nl_link l;

	for (nh = (const struct nlmsghdr *)buf; NLMSG_OK(nh, n);
	     nh = NLMSG_NEXT(nh, n)) {
		if (nh->nlmsg_type == NLMSG_DONE)
			return 1;
		if (nh->nlmsg_type == NLMSG_ERROR)
			return ((struct nlmsgerr *)NLMSG_DATA(nh))->error;
		if (nh->nlmsg_type != RTM_NEWLINK &&
		    nh->nlmsg_type != RTM_DELLINK)
			continue;
		if (!netlink_parse_link(nh, &l))
			continue;
		if (nh->nlmsg_type == RTM_DELLINK)
			busstate_link_removed(ctx, l.ifindex);
		else
			busstate_link_update(ctx, &l, initial);
	}
	return 0;
}

/*
 * Every CAN interface as it is now, through busstate_link_update; at
 * startup, and again when the monitor lost notifications. Interfaces that
 * are no longer there are removed.
 */
static int netlink_resync(struct cand_ctx *ctx, int initial)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
	} req = {
		.nh = {.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)),
		       .nlmsg_type = RTM_GETLINK,
		       .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		       .nlmsg_seq = 1},
		.ifi = {.ifi_family = AF_UNSPEC},
	};
	struct timeval tv = {NETLINK_TIMEOUT_MS / 1000,
			     NETLINK_TIMEOUT_MS % 1000 * 1000};
	struct canif *ci, *next;
	char *buf;
	ssize_t n;
	int fd, rc = 0;

	fd = netlink_socket(0);
	if (fd < 0)
		return fd;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	buf = malloc(NETLINK_BUF);
	if (buf == NULL) {
		close(fd);
		return -ENOMEM;
	}
	if (send(fd, &req, req.nh.nlmsg_len, 0) < 0)
		rc = -errno;
	/* Interfaces the dump does not mention are gone: mark, then sweep. */
	TAILQ_FOREACH(ci, &ctx->canifs, entry)
		ci->seen = 0;
	while (rc == 0) {
		n = recv(fd, buf, NETLINK_BUF, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			break;
		}
		rc = netlink_dispatch(ctx, buf, (size_t)n, initial);
	}
	for (ci = TAILQ_FIRST(&ctx->canifs); ci != NULL; ci = next) {
		next = TAILQ_NEXT(ci, entry);
		if (!ci->seen && rc >= 0)
			busstate_link_removed(ctx, ci->link.ifindex);
	}
	free(buf);
	close(fd);
	return rc < 0 ? rc : 0;
}

void netlink_drain(struct cand_ctx *ctx)
{
	/* One notification per datagram; a CAN link's is about 1.5 KiB. */
	char buf[32768];
	ssize_t n;
	int rounds;

	if (ctx->nl_fd < 0)
		return;
	for (rounds = 0; rounds < 64; rounds++) {
		n = recv(ctx->nl_fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno == ENOBUFS) {
			/* Notifications were lost: ask for the whole picture.
			 */
			log_warn("rtnetlink monitor overran; resynchronising");
			if (netlink_resync(ctx, 0) < 0)
				log_err("rtnetlink resync failed");
			continue;
		}
		if (n <= 0)
			break;
		netlink_dispatch(ctx, buf, (size_t)n, 0);
	}
}

static void netlink_on_read(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	netlink_drain(arg);
}

int netlink_open(struct cand_ctx *ctx)
{
	int fd, rc, size = 1 << 20;

	fd = netlink_socket(RTMGRP_LINK);
	if (fd < 0) {
		log_err("rtnetlink monitor: %s", strerror(-fd));
		return fd;
	}
	/* Bursts (a bus flapping, many interfaces) must not overrun us. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	ctx->nl_fd = fd;
	/* Subscribed before the dump, so no change falls between the two. */
	if ((rc = netlink_resync(ctx, 1)) < 0) {
		log_err("rtnetlink link dump: %s", strerror(-rc));
		return rc;
	}
	ctx->ev_netlink = event_new(ctx->base, fd, EV_READ | EV_PERSIST,
				    netlink_on_read, ctx);
	if (ctx->ev_netlink == NULL || event_add(ctx->ev_netlink, NULL) < 0)
		return -ENOMEM;
	return 0;
}

void netlink_close(struct cand_ctx *ctx)
{
	if (ctx->ev_netlink != NULL)
		event_free(ctx->ev_netlink);
	ctx->ev_netlink = NULL;
	if (ctx->nl_fd >= 0)
		close(ctx->nl_fd);
	ctx->nl_fd = -1;
}

/* Sends one request and reads until its answer; parses a link into out. */
static int netlink_request(struct nlmsghdr *req, struct nl_link *out)
{
	struct timeval tv = {NETLINK_TIMEOUT_MS / 1000,
			     NETLINK_TIMEOUT_MS % 1000 * 1000};
	const struct nlmsghdr *nh;
	char *buf;
	ssize_t n;
	size_t left;
	int fd, rc = 1;

	fd = netlink_socket(0);
	if (fd < 0)
		return fd;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if ((buf = malloc(NETLINK_BUF)) == NULL) {
		close(fd);
		return -ENOMEM;
	}
	if (send(fd, req, req->nlmsg_len, 0) < 0)
		rc = -errno;
	while (rc > 0) {
		n = recv(fd, buf, NETLINK_BUF, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			/* EAGAIN: the timeout; no answer is an I/O error. */
			rc = errno == EAGAIN ? -ETIMEDOUT : -errno;
			break;
		}
		left = (size_t)n;
		for (nh = (const struct nlmsghdr *)buf; NLMSG_OK(nh, left);
		     nh = NLMSG_NEXT(nh, left)) {
			if (nh->nlmsg_seq != req->nlmsg_seq)
				continue;
			if (nh->nlmsg_type == NLMSG_ERROR) {
				rc = ((struct nlmsgerr *)NLMSG_DATA(nh))->error;
				break;
			}
			if (nh->nlmsg_type == RTM_NEWLINK && out != NULL) {
				rc = netlink_parse_link(nh, out) ? 0 : -ENODEV;
				break;
			}
		}
	}
	free(buf);
	close(fd);
	return rc;
}

int netlink_get_link(const char *ifname, struct nl_link *out)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
	} req = {
		.nh = {.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)),
		       .nlmsg_type = RTM_GETLINK,
		       .nlmsg_flags = NLM_F_REQUEST,
		       .nlmsg_seq = 2},
		.ifi = {.ifi_family = AF_UNSPEC},
	};

	req.ifi.ifi_index = (int)if_nametoindex(ifname);
	if (req.ifi.ifi_index == 0)
		return -ENODEV;
	return netlink_request(&req.nh, out);
}

/* Appends an attribute; returns it so nests can be closed later. */
static struct rtattr *netlink_put(char *buf, size_t max, unsigned short type,
				  const void *data, size_t len)
{
	struct nlmsghdr *nh = (struct nlmsghdr *)buf;
	struct rtattr *rta;

	if (NLMSG_ALIGN(nh->nlmsg_len) + RTA_SPACE(len) > max)
		return NULL;
	rta = (struct rtattr *)(buf + NLMSG_ALIGN(nh->nlmsg_len));
	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	if (len > 0)
		memcpy(RTA_DATA(rta), data, len);
	nh->nlmsg_len = (uint32_t)(NLMSG_ALIGN(nh->nlmsg_len) + RTA_SPACE(len));
	return rta;
}

static void netlink_end_nest(struct nlmsghdr *nh, struct rtattr *nest)
{
	nest->rta_len =
		(unsigned short)((char *)nh + nh->nlmsg_len - (char *)nest);
}

int netlink_set_data_bittiming(const char *ifname, uint32_t bitrate,
			       uint32_t sample_point)
{
	union {
		struct nlmsghdr nh;
		char buf[512];
	} req;
	struct nlmsghdr *nh = (struct nlmsghdr *)req.buf;
	struct ifinfomsg *ifi = NLMSG_DATA(nh);
	struct can_bittiming bt;
	struct rtattr *info, *data;

	memset(&req, 0, sizeof(req));
	nh->nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
	nh->nlmsg_type = RTM_NEWLINK;
	nh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nh->nlmsg_seq = 3;
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = (int)if_nametoindex(ifname);
	if (ifi->ifi_index == 0)
		return -ENODEV;
	memset(&bt, 0, sizeof(bt));
	bt.bitrate = bitrate;
	bt.sample_point = sample_point;
	info = netlink_put(req.buf, sizeof(req), IFLA_LINKINFO, NULL, 0);
	if (info == NULL ||
	    netlink_put(req.buf, sizeof(req), IFLA_INFO_KIND, "can", 3) ==
		    NULL ||
	    (data = netlink_put(req.buf, sizeof(req), IFLA_INFO_DATA, NULL,
				0)) == NULL ||
	    netlink_put(req.buf, sizeof(req), IFLA_CAN_DATA_BITTIMING, &bt,
			sizeof(bt)) == NULL)
		return -EMSGSIZE;
	netlink_end_nest(nh, data);
	netlink_end_nest(nh, info);
	return netlink_request(nh, NULL);
}
