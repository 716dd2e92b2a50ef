/*
 * Control mode's statistics: "< statistics MS >" asks for a
 * "< stat rbytes rpackets tbytes tpackets >" line every MS milliseconds,
 * the interface's counters from the state query (ops/busstate.c), as
 * socketcand reads them from /proc/net/dev. A client that does not read
 * them skips lines rather than piling them up.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "sc/sc.h"

/* socketcand looks every 10 ms; a shorter interval means nothing more. */
#define SC_STATS_MIN_MS 10

static void sc_stats_fire(evutil_socket_t fd, short what, void *arg)
{
	struct sc_conn *c = arg;
	struct bus_info *info = NULL;
	char detail[160], line[128];
	size_t n = 0;
	int rc;

	(void)fd;
	(void)what;
	if (c->dead || c->s->chan == NULL || outq_full(&c->s->q))
		return;
	rc = busstate_query(c->ctx, chan_name(c->s->chan), &info, &n, detail,
			    sizeof(detail));
	if (rc < 0 || n != 1 || !info[0].has_stats) {
		if (rc >= 0)
			detail_set(detail, sizeof(detail),
				   "no statistics for \"%s\"",
				   chan_name(c->s->chan));
		sc_conn_error(c, "statistics stopped: %s", detail);
		sc_stats_stop(c);
	} else {
		snprintf(line, sizeof(line), "stat %llu %llu %llu %llu",
			 (unsigned long long)info[0].stats.rx_bytes,
			 (unsigned long long)info[0].stats.rx_packets,
			 (unsigned long long)info[0].stats.tx_bytes,
			 (unsigned long long)info[0].stats.tx_packets);
		sc_conn_say(c, line);
	}
	free(info);
	outq_flush(&c->s->q);
}

int sc_stats_set(struct sc_conn *c, uint32_t ms, char *detail, size_t dsize)
{
	struct timeval tv = {ms / 1000, (long)(ms % 1000) * 1000};

	if (ms == 0) {
		sc_stats_stop(c);
		return 0;
	}
	if (ms < SC_STATS_MIN_MS) {
		detail_set(detail, dsize,
			   "a statistics interval of %u ms is under the %d ms "
			   "minimum (0 turns them off)",
			   ms, SC_STATS_MIN_MS);
		return -EINVAL;
	}
	if (c->ev_stats == NULL &&
	    (c->ev_stats = event_new(c->ctx->base, -1, EV_PERSIST,
				     sc_stats_fire, c)) == NULL)
		return -ENOMEM;
	c->stats_ms = ms;
	event_add(c->ev_stats, &tv);
	return 0;
}

void sc_stats_stop(struct sc_conn *c)
{
	if (c->ev_stats != NULL)
		event_free(c->ev_stats);
	c->ev_stats = NULL;
	c->stats_ms = 0;
}
