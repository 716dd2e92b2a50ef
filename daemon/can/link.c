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

#include "daemon.h"

#define LINK_BUF 32768

static int link_dump_request(int fd)
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

static Cand__IfaceType link_type(const char *kind)
{
	if (strcmp(kind, "can") == 0)
		return CAND__IFACE_TYPE__HARDWARE;
	if (strcmp(kind, "vcan") == 0 || strcmp(kind, "vxcan") == 0)
		return CAND__IFACE_TYPE__VIRTUAL;
	return CAND__IFACE_TYPE__OTHER;
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

/* Appends one RTM_NEWLINK to rep if it is a CAN interface. */
static int link_add(Cand__ListReply *rep, struct nlmsghdr *nh)
{
	struct ifinfomsg *ifi = NLMSG_DATA(nh);
	struct rtattr *rta = IFLA_RTA(ifi);
	int len = IFLA_PAYLOAD(nh);
	char name[IFNAMSIZ] = "", kind[16] = "";
	uint32_t mtu = 0;
	Cand__Interface *it, **grown;

	if (ifi->ifi_type != ARPHRD_CAN)
		return 0;
	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (rta->rta_type == IFLA_IFNAME)
			snprintf(name, sizeof(name), "%s",
				 (char *)RTA_DATA(rta));
		else if (rta->rta_type == IFLA_MTU)
			memcpy(&mtu, RTA_DATA(rta), sizeof(mtu));
		else if (rta->rta_type == IFLA_LINKINFO)
			link_kind(rta, kind, sizeof(kind));
	}

	grown = realloc(rep->interfaces,
			(rep->n_interfaces + 1) * sizeof(*grown));
	if (grown == NULL)
		return -ENOMEM;
	rep->interfaces = grown;
	it = malloc(sizeof(*it) + sizeof(name) + sizeof(kind));
	if (it == NULL)
		return -ENOMEM;
	cand__interface__init(it);
	/* Both strings live in the same allocation, after the struct. */
	it->name = (char *)(it + 1);
	it->kind = it->name + sizeof(name);
	memcpy(it->name, name, sizeof(name));
	memcpy(it->kind, kind, sizeof(kind));
	it->ifindex = (uint32_t)ifi->ifi_index;
	it->up = (ifi->ifi_flags & IFF_UP) != 0;
	it->mtu = mtu;
	it->type = link_type(kind);
	rep->interfaces[rep->n_interfaces++] = it;
	return 0;
}

int link_list(Cand__ListReply *rep)
{
	struct nlmsghdr *nh;
	char *buf;
	ssize_t n;
	int fd, rc, done = 0;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	buf = malloc(LINK_BUF);
	rc = buf == NULL ? -ENOMEM : link_dump_request(fd);
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
			    (rc = link_add(rep, nh)) < 0)
				break;
		}
	}
	free(buf);
	close(fd);
	if (rc < 0)
		link_list_free(rep);
	return rc;
}

void link_list_free(Cand__ListReply *rep)
{
	size_t i;

	for (i = 0; i < rep->n_interfaces; i++)
		free(rep->interfaces[i]);
	free(rep->interfaces);
	rep->interfaces = NULL;
	rep->n_interfaces = 0;
}

int link_count(void)
{
	Cand__ListReply rep = CAND__LIST_REPLY__INIT;
	int rc = link_list(&rep);

	if (rc < 0)
		return rc;
	rc = (int)rep.n_interfaces;
	link_list_free(&rep);
	return rc;
}
