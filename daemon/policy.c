/*
 * Access policy. Until the configurable policy lands, everyone connected
 * may read and send, and only root may change the bus configuration; this
 * function is the single place that decision is made.
 */
#include <errno.h>

#include "daemon.h"

static const char *policy_right_name(enum policy_right right)
{
	switch (right) {
	case RIGHT_NONE:
		return "none";
	case RIGHT_READ:
		return "read";
	case RIGHT_SEND:
		return "send";
	case RIGHT_CONFIGURE:
		return "configure";
	case RIGHT_PERIODIC:
		return "periodic";
	case RIGHT_MONITOR:
		return "monitor";
	}
	return "?";
}

int policy_check(const struct client *c, enum policy_right right, char *detail,
		 size_t dsize)
{
	if (right != RIGHT_CONFIGURE || c->uid == 0)
		return 0;
	reply_detail(detail, dsize, "uid %lu lacks the '%s' right",
		     (unsigned long)c->uid, policy_right_name(right));
	return -EPERM;
}
