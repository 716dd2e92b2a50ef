/*
 * rtnetlink: parsing RTM_NEWLINK/RTM_DELLINK of CAN interfaces (for the
 * monitor in ops/linkmon.c and for one-off reads), and the two synchronous
 * requests libsocketcan 0.0.12 lacks: reading an interface's CAN FD data
 * bit timing and supported modes, and setting the data bit timing.
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

#include "can/can.h"

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

int netlink_socket(unsigned groups)
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

int netlink_monitor_socket(void)
{
	int fd, size = 1 << 20;

	fd = netlink_socket(RTMGRP_LINK);
	if (fd < 0)
		return fd;
	/* Bursts (a bus flapping, many interfaces) must not overrun us. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	return fd;
}

int netlink_dump_request(int fd)
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

	return send(fd, &req, req.nh.nlmsg_len, 0) < 0 ? -errno : 0;
}

int netlink_next_link(const struct nlmsghdr **nhp, size_t *left,
		      struct nl_link *l, int *removed)
{
	const struct nlmsghdr *nh;

	for (nh = *nhp; NLMSG_OK(nh, *left); nh = NLMSG_NEXT(nh, *left)) {
		if (nh->nlmsg_type == NLMSG_DONE)
			return 2;
		if (nh->nlmsg_type == NLMSG_ERROR)
			return ((struct nlmsgerr *)NLMSG_DATA(nh))->error;
		if (nh->nlmsg_type != RTM_NEWLINK &&
		    nh->nlmsg_type != RTM_DELLINK)
			continue;
		if (!netlink_parse_link(nh, l))
			continue;
		*removed = nh->nlmsg_type == RTM_DELLINK;
		*nhp = NLMSG_NEXT(nh, *left);
		return 1;
	}
	return 0;
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
