/*
 * Bus-off: every one is logged with how the bus will recover, and every
 * recovery with how long it took; and the recovery cand.conf asks for:
 *
 *   kernel  the kernel restarts the controller restart-ms after bus-off;
 *           cand sets restart-ms when it first sees the interface
 *   cand    cand restarts it restart-delay-ms after bus-off, at most
 *           max-restarts-per-minute times a minute, so a shorted bus is not
 *           hammered; restart-ms is set to 0 so the kernel stays out
 *   none    restart-ms 0; it stays bus-off until someone restarts it
 *
 * Without a policy the kernel's restart-ms is left as it is.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "ops/ops.h"

#define BUSOFF_WINDOW_MS 60000u

struct busoff_run {
	struct canif *ci;
	const struct busoff_policy *policy; /* NULL: none configured */
	struct event *ev_restart;
	uint64_t busoff_at_ms;
	/* Times of the last restarts, oldest first; only max matter. */
	uint64_t stamps[BUSOFF_MAX_PER_MINUTE];
	unsigned n_stamps;
};

static uint64_t busoff_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t busoff_next_allowed(const uint64_t *stamps, unsigned n, unsigned max,
			     uint64_t now)
{
	uint64_t free_at;

	if (max == 0 || n < max)
		return now;
	/* max restarts are in the list; the window holds them until then. */
	free_at = stamps[n - max] + BUSOFF_WINDOW_MS;
	return free_at > now ? free_at : now;
}

static void busoff_record(struct busoff_run *run, uint64_t now)
{
	unsigned max = run->policy->max_per_minute;

	if (max == 0)
		return;
	if (run->n_stamps == max) {
		memmove(run->stamps, run->stamps + 1,
			(max - 1) * sizeof(run->stamps[0]));
		run->n_stamps--;
	}
	run->stamps[run->n_stamps++] = now;
}

static unsigned busoff_recent(const struct busoff_run *run, uint64_t now)
{
	unsigned i, n = 0;

	for (i = 0; i < run->n_stamps; i++)
		if (now - run->stamps[i] < BUSOFF_WINDOW_MS)
			n++;
	return n;
}

static void busoff_arm(struct busoff_run *run, uint64_t ms)
{
	struct timeval tv = {(time_t)(ms / 1000),
			     (suseconds_t)(ms % 1000 * 1000)};

	evtimer_add(run->ev_restart, &tv);
}

static void busoff_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct busoff_run *run = arg;
	struct canif *ci = run->ci;
	const struct busoff_policy *p = run->policy;
	uint64_t now = busoff_now_ms(), next;
	char detail[256];

	(void)fd;
	(void)what;
	if (ci->state != BUS_STATE_BUS_OFF)
		return;
	next = busoff_next_allowed(run->stamps, run->n_stamps,
				   p->max_per_minute, now);
	if (next > now) {
		log_warn("%s: still bus-off; not restarting for %llu ms: %u "
			 "restarts in the last minute (max-restarts-per-minute "
			 "%u)",
			 ci->link.name, (unsigned long long)(next - now),
			 busoff_recent(run, now), p->max_per_minute);
		busoff_arm(run, next - now);
		return;
	}
	busoff_record(run, now);
	if (canlink_restart(&ci->link, detail, sizeof(detail)) < 0)
		log_err("%s: cand's restart after bus-off failed: %s",
			ci->link.name, detail);
	else
		log_info("%s: restarted by cand %u ms after bus-off (%u in the "
			 "last minute)",
			 ci->link.name, p->delay_ms, busoff_recent(run, now));
}

void busoff_describe(const struct canif *ci, char *buf, size_t size)
{
	const struct busoff_policy *p =
		ci->busoff != NULL ? ci->busoff->policy : NULL;

	buf[0] = '\0';
	if (!ci->link.controller)
		return;
	if (p == NULL) {
		if (ci->link.cfg.restart_ms)
			snprintf(buf, size,
				 "kernel restarts after restart-ms %u",
				 ci->link.cfg.restart_ms);
		else
			snprintf(buf, size,
				 "none: stays bus-off until restarted");
		return;
	}
	switch (p->mode) {
	case BUSOFF_KERNEL:
		snprintf(buf, size,
			 "kernel restarts after restart-ms %u (cand.conf)",
			 p->restart_ms);
		break;
	case BUSOFF_CAND:
		if (p->max_per_minute)
			snprintf(buf, size,
				 "cand restarts after %u ms, at most %u a "
				 "minute (cand.conf)",
				 p->delay_ms, p->max_per_minute);
		else
			snprintf(buf, size,
				 "cand restarts after %u ms (cand.conf)",
				 p->delay_ms);
		break;
	case BUSOFF_NONE:
		snprintf(buf, size,
			 "none: stays bus-off until restarted (cand.conf)");
		break;
	}
}

/* Makes the kernel's restart-ms what the policy needs. */
static void busoff_apply(struct busoff_run *run)
{
	struct canif *ci = run->ci;
	const struct busoff_policy *p = run->policy;
	struct canlink_change chg;
	char detail[256];
	int cycled;

	memset(&chg, 0, sizeof(chg));
	chg.set_restart_ms = 1;
	chg.restart_ms = p->mode == BUSOFF_KERNEL ? p->restart_ms : 0;
	if (ci->link.cfg.restart_ms == chg.restart_ms)
		return;
	if (canlink_configure(&ci->link, &chg, &cycled, detail,
			      sizeof(detail)) < 0)
		log_err("%s: cannot set restart-ms %u for cand.conf: %s",
			ci->link.name, chg.restart_ms, detail);
	else
		log_info("%s: restart-ms %u -> %u for cand.conf%s",
			 ci->link.name, ci->link.cfg.restart_ms, chg.restart_ms,
			 cycled ? " (taken down and up again)" : "");
}

void busoff_attach(struct canif *ci)
{
	struct busoff_run *run;
	char how[160];

	run = calloc(1, sizeof(*run));
	if (run == NULL) {
		log_err("%s: out of memory for its bus-off policy",
			ci->link.name);
		return;
	}
	run->ci = ci;
	run->policy = config_busoff(&ci->ctx->config, ci->link.name);
	ci->busoff = run;
	if (run->policy == NULL)
		return;
	if (!ci->link.controller) {
		log_warn("%s: cand.conf's bus-off recovery ignored: it has no "
			 "controller (%s)",
			 ci->link.name, ci->link.kind);
		run->policy = NULL;
		return;
	}
	run->ev_restart = evtimer_new(ci->ctx->base, busoff_on_timer, run);
	if (run->ev_restart == NULL) {
		log_err("%s: out of memory for its bus-off policy",
			ci->link.name);
		run->policy = NULL;
		return;
	}
	busoff_describe(ci, how, sizeof(how));
	log_info("%s: bus-off recovery: %s", ci->link.name, how);
	busoff_apply(run);
	if (ci->state == BUS_STATE_BUS_OFF &&
	    run->policy->mode == BUSOFF_CAND) {
		run->busoff_at_ms = busoff_now_ms();
		busoff_arm(run, run->policy->delay_ms);
	}
}

static int busoff_same(const struct busoff_policy *a,
		       const struct busoff_policy *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return a->mode == b->mode && a->restart_ms == b->restart_ms &&
	       a->delay_ms == b->delay_ms &&
	       a->max_per_minute == b->max_per_minute;
}

/*
 * SIGHUP: ci's policy from the new cand.conf, read while the old one is
 * still in memory. The restart history stays, so a reload cannot reset
 * the count that max-restarts-per-minute limits.
 */
void busoff_reload(struct canif *ci)
{
	struct busoff_run *run = ci->busoff;
	const struct busoff_policy *p;
	unsigned max;
	char how[160];

	if (run == NULL)
		return;
	p = config_busoff(&ci->ctx->config, ci->link.name);
	if (!ci->link.controller)
		p = NULL; /* said once, when the interface came */
	if (busoff_same(p, run->policy)) {
		run->policy = p;
		return;
	}
	if (run->ev_restart != NULL)
		evtimer_del(run->ev_restart);
	run->policy = p;
	if (p != NULL && run->ev_restart == NULL &&
	    (run->ev_restart = evtimer_new(ci->ctx->base, busoff_on_timer,
					   run)) == NULL) {
		log_err("%s: out of memory for its bus-off policy",
			ci->link.name);
		run->policy = NULL;
		return;
	}
	max = p != NULL ? p->max_per_minute : 0;
	if (max > 0 && run->n_stamps > max) {
		memmove(run->stamps, run->stamps + (run->n_stamps - max),
			max * sizeof(run->stamps[0]));
		run->n_stamps = max;
	}
	busoff_describe(ci, how, sizeof(how));
	log_info("%s: bus-off recovery now: %s", ci->link.name,
		 p != NULL ? how : "as the kernel has it (no policy)");
	if (p == NULL)
		return;
	busoff_apply(run);
	if (ci->state == BUS_STATE_BUS_OFF && p->mode == BUSOFF_CAND)
		busoff_arm(run, p->delay_ms);
}

void busoff_detach(struct canif *ci)
{
	struct busoff_run *run = ci->busoff;

	if (run == NULL)
		return;
	if (run->ev_restart != NULL)
		event_free(run->ev_restart);
	free(run);
	ci->busoff = NULL;
}

void busoff_on_state(struct canif *ci, int prev, int state)
{
	struct busoff_run *run = ci->busoff;
	const struct busoff_policy *p = run != NULL ? run->policy : NULL;
	uint64_t now = busoff_now_ms();
	char how[160];

	if (state == BUS_STATE_BUS_OFF) {
		if (run != NULL)
			run->busoff_at_ms = now;
		busoff_describe(ci, how, sizeof(how));
		log_warn("%s: BUS-OFF (tx errors %u, rx errors %u)%s%s",
			 ci->link.name, ci->txerr, ci->rxerr,
			 how[0] ? "; recovery: " : "", how);
		if (p != NULL && p->mode == BUSOFF_CAND)
			busoff_arm(run, p->delay_ms);
		return;
	}
	if (prev != BUS_STATE_BUS_OFF)
		return;
	if (run != NULL && run->busoff_at_ms != 0)
		log_info("%s: recovered from bus-off: %s after %llu ms",
			 ci->link.name, canlink_state_name(state),
			 (unsigned long long)(now - run->busoff_at_ms));
	else
		log_info("%s: recovered from bus-off: %s", ci->link.name,
			 canlink_state_name(state));
	if (run != NULL) {
		run->busoff_at_ms = 0;
		if (run->ev_restart != NULL)
			evtimer_del(run->ev_restart);
	}
}
