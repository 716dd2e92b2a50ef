/*
 * The rtnetlink monitor: an RTMGRP_LINK socket in the event loop, so that
 * every link change of a CAN interface (up, down, created, deleted,
 * reconfigured, bus-off and back, which the kernel reports as a carrier
 * change) reaches busstate.c as it happens, whoever made it. Requests
 * that change or read links drain it first, so their events precede
 * their reply.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <event2/event.h>

#include "ops/ops.h"

#define LINKMON_BUF 65536
/* A dump that takes longer than this has gone wrong. */
#define LINKMON_TIMEOUT_MS 2000

/* Handles what one recv() brought: notifications or a dump's part. */
static int linkmon_dispatch(struct cand_ctx *ctx, const char *buf, size_t n,
			    int initial)
{
	const struct nlmsghdr *nh = (const struct nlmsghdr *)buf;
	struct nl_link l;
	int rc, removed;

	while ((rc = netlink_next_link(&nh, &n, &l, &removed)) == 1) {
		if (removed)
			busstate_link_removed(ctx, l.ifindex);
		else
			busstate_link_update(ctx, &l, initial);
	}
	return rc == 2 ? 1 : rc;
}

/*
 * Every CAN interface as it is now, through busstate_link_update; at
 * startup, and again when the monitor lost notifications. Interfaces that
 * are no longer there are removed.
 */
static int linkmon_resync(struct cand_ctx *ctx, int initial)
{
	struct timeval tv = {LINKMON_TIMEOUT_MS / 1000,
			     LINKMON_TIMEOUT_MS % 1000 * 1000};
	struct canif *ci, *next;
	char *buf;
	ssize_t n;
	int fd, rc;

	fd = netlink_socket(0);
	if (fd < 0)
		return fd;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	buf = malloc(LINKMON_BUF);
	if (buf == NULL) {
		close(fd);
		return -ENOMEM;
	}
	rc = netlink_dump_request(fd);
	/* Interfaces the dump does not mention are gone: mark, then sweep. */
	TAILQ_FOREACH(ci, &ctx->canifs, entry)
		ci->seen = 0;
	while (rc == 0) {
		n = recv(fd, buf, LINKMON_BUF, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			break;
		}
		rc = linkmon_dispatch(ctx, buf, (size_t)n, initial);
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

void linkmon_drain(struct cand_ctx *ctx)
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
			if (linkmon_resync(ctx, 0) < 0)
				log_err("rtnetlink resync failed");
			continue;
		}
		if (n <= 0)
			break;
		linkmon_dispatch(ctx, buf, (size_t)n, 0);
	}
}

static void linkmon_on_read(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	linkmon_drain(arg);
}

int linkmon_open(struct cand_ctx *ctx)
{
	char detail[128];
	int fd, rc;

	/* Every interface's frames for "" channels (each has its own too). */
	if ((rc = tap_open(ctx, 0, "", &ctx->tap_any, detail, sizeof(detail))) <
	    0)
		log_warn("no socket for the \"\" channel: %s", detail);
	fd = netlink_monitor_socket();
	if (fd < 0) {
		log_err("rtnetlink monitor: %s", strerror(-fd));
		return fd;
	}
	ctx->nl_fd = fd;
	/* Subscribed before the dump, so no change falls between the two. */
	if ((rc = linkmon_resync(ctx, 1)) < 0) {
		log_err("rtnetlink link dump: %s", strerror(-rc));
		return rc;
	}
	ctx->ev_netlink = event_new(ctx->base, fd, EV_READ | EV_PERSIST,
				    linkmon_on_read, ctx);
	if (ctx->ev_netlink == NULL || event_add(ctx->ev_netlink, NULL) < 0)
		return -ENOMEM;
	return 0;
}

void linkmon_close(struct cand_ctx *ctx)
{
	if (ctx->ev_netlink != NULL)
		event_free(ctx->ev_netlink);
	ctx->ev_netlink = NULL;
	if (ctx->nl_fd >= 0)
		close(ctx->nl_fd);
	ctx->nl_fd = -1;
	tap_free(ctx->tap_any);
	ctx->tap_any = NULL;
}
