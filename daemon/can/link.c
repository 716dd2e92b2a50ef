/*
 * CAN interfaces as rtnetlink sees them: type ARPHRD_CAN, with the link kind
 * ("can" for a real controller, "vcan", "vxcan") from IFLA_LINKINFO.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if_arp.h>

#include "can/can.h"

#define LINK_BUF 32768

enum iface_type link_type(const char *kind)
{
	if (strcmp(kind, "can") == 0)
		return IFACE_HARDWARE;
	if (strcmp(kind, "vcan") == 0 || strcmp(kind, "vxcan") == 0)
		return IFACE_VIRTUAL;
	return IFACE_OTHER;
}

static void link_kind(struct rtattr *linkinfo, char *kind, size_t size)
{
	struct rtattr *rta = RTA_DATA(linkinfo);
	int len = RTA_PAYLOAD(linkinfo);

	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len))
		if (rta->rta_type == IFLA_INFO_KIND)
			snprintf(kind, size, "%.*s", (int)RTA_PAYLOAD(rta),
				 (char *)RTA_DATA(rta));
}

/* Appends one RTM_NEWLINK to the list if it is a CAN interface. */
static int link_add(struct link_info **list, size_t *n, struct nlmsghdr *nh)
{
	struct ifinfomsg *ifi = NLMSG_DATA(nh);
	struct rtattr *rta = IFLA_RTA(ifi);
	int len = IFLA_PAYLOAD(nh);
	struct link_info *it, *grown;

	if (ifi->ifi_type != ARPHRD_CAN)
		return 0;
	grown = realloc(*list, (*n + 1) * sizeof(*grown));
	if (grown == NULL)
		return -ENOMEM;
	*list = grown;
	it = &grown[*n];
	memset(it, 0, sizeof(*it));
	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (rta->rta_type == IFLA_IFNAME)
			snprintf(it->name, sizeof(it->name), "%s",
				 (char *)RTA_DATA(rta));
		else if (rta->rta_type == IFLA_MTU)
			memcpy(&it->mtu, RTA_DATA(rta), sizeof(it->mtu));
		else if (rta->rta_type == IFLA_LINKINFO)
			link_kind(rta, it->kind, sizeof(it->kind));
	}
	it->ifindex = (uint32_t)ifi->ifi_index;
	it->up = (ifi->ifi_flags & IFF_UP) != 0;
	it->type = link_type(it->kind);
	(*n)++;
	return 0;
}

int link_list(struct link_info **out, size_t *count)
{
	struct nlmsghdr *nh;
	char *buf;
	ssize_t n;
	int fd, rc, done = 0;

	*out = NULL;
	*count = 0;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	buf = malloc(LINK_BUF);
	rc = buf == NULL ? -ENOMEM : netlink_dump_request(fd);
	while (rc == 0 && !done) {
		n = recv(fd, buf, LINK_BUF, 0);
		if (n < 0) {
			rc = errno == EINTR ? 0 : -errno;
			continue;
		}
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)n);
		     nh = NLMSG_NEXT(nh, n)) {
			if (nh->nlmsg_type == NLMSG_DONE) {
				done = 1;
				break;
			}
			if (nh->nlmsg_type == NLMSG_ERROR) {
				rc = ((struct nlmsgerr *)NLMSG_DATA(nh))->error;
				break;
			}
			if (nh->nlmsg_type == RTM_NEWLINK &&
			    (rc = link_add(out, count, nh)) < 0)
				break;
		}
	}
	free(buf);
	close(fd);
	if (rc < 0) {
		free(*out);
		*out = NULL;
		*count = 0;
	}
	return rc;
}
