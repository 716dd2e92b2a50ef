/*
 * Configure and restart, as operations on a tracked interface: what the
 * kernel then announces reaches every client as events (busstate.c)
 * before the one that asked gets its answer.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ops/ops.h"

/* The interface a request names: tracked and CAN, or a clear no. */
static struct canif *configure_canif(struct cand_ctx *ctx, const char *ifname,
				     char *detail, size_t dsize)
{
	struct canif *ci;

	if (ifname[0] == '\0') {
		detail_set(detail, dsize, "no interface named");
		return NULL;
	}
	ci = busstate_find(ctx, ifname);
	if (ci == NULL)
		detail_set(detail, dsize, "no CAN interface \"%s\"", ifname);
	return ci;
}

int configure_apply(struct sess *s, const char *ifname,
		    const struct canlink_change *chg,
		    struct configure_result *res, char *detail, size_t dsize)
{
	struct canif *ci = configure_canif(s->ctx, ifname, detail, dsize);
	struct canlink_info info;
	int rc, cycled = 0;

	memset(res, 0, sizeof(*res));
	if (ci == NULL)
		return -ENODEV;
	log_info("client %u (%s): configure %s", s->id, s->who, ci->link.name);
	rc = canlink_configure(&ci->link, chg, &cycled, detail, dsize);
	/* Its events before its reply; the interface may be gone by now. */
	linkmon_drain(s->ctx);
	if ((ci = busstate_find(s->ctx, ifname)) != NULL)
		busstate_sync(ci);
	if (rc < 0)
		return rc;
	if (ci == NULL) {
		detail_set(detail, dsize, "\"%s\" disappeared meanwhile",
			   ifname);
		return -ENODEV;
	}
	res->cycled = cycled;
	/* What is in effect now, not what was asked for. */
	if (canlink_read(ci->link.name, ci->link.controller, &info) == 0 &&
	    info.controller) {
		res->has_config = 1;
		res->config = info.cfg;
	}
	res->up = chg->link == LINK_UP ||
		  (chg->link == LINK_UNCHANGED && (ci->link.flags & IFF_UP));
	return 0;
}

int configure_restart(struct sess *s, const char *ifname, char *detail,
		      size_t dsize)
{
	struct canif *ci = configure_canif(s->ctx, ifname, detail, dsize);
	int rc;

	if (ci == NULL)
		return -ENODEV;
	rc = canlink_restart(&ci->link, detail, dsize);
	if (rc == 0)
		log_info("%s: restarted after bus-off by client %u (%s)",
			 ci->link.name, s->id, s->who);
	return rc;
}
