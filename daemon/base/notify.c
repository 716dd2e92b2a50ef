/*
 * systemd's notify protocol: READY=1 once we listen and know the
 * interfaces, STATUS= with the client and interface counts, RELOADING=1
 * around a SIGHUP, STOPPING=1, and WATCHDOG=1 from a timer of the event
 * loop itself, so that a stalled loop (not just a dead process) trips
 * WatchdogSec=. Outside systemd (no $NOTIFY_SOCKET) all of it is a no-op.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <systemd/sd-daemon.h>

#include "base/base.h"

/* STATUS= at most this often: a connect storm must not become a notify one. */
#define NOTIFY_STATUS_DELAY_MS 500

static void notify_on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	sd_notify(0, "WATCHDOG=1");
}

static void notify_send_status(struct cand_ctx *ctx)
{
	/* ops/busstate.c counts the interfaces as they come and go. */
	sd_notifyf(0, "STATUS=%u client%s, %u CAN interface%s", ctx->n_sessions,
		   ctx->n_sessions == 1 ? "" : "s", ctx->n_ifaces,
		   ctx->n_ifaces == 1 ? "" : "s");
}

static void notify_on_status(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	notify_send_status(arg);
}

int notify_init(struct cand_ctx *ctx)
{
	uint64_t usec = 0;
	struct timeval tv;
	int rc;

	if (getenv("NOTIFY_SOCKET") == NULL)
		return 0;
	ctx->ev_status = evtimer_new(ctx->base, notify_on_status, ctx);
	if (ctx->ev_status == NULL)
		return -ENOMEM;
	rc = sd_watchdog_enabled(0, &usec);
	if (rc < 0)
		log_warn("watchdog settings: %s", strerror(-rc));
	if (rc <= 0)
		return 0;
	/* Half the timeout, as sd_watchdog_enabled(3) recommends. */
	usec /= 2;
	tv.tv_sec = (time_t)(usec / 1000000);
	tv.tv_usec = (suseconds_t)(usec % 1000000);
	ctx->ev_watchdog =
		event_new(ctx->base, -1, EV_PERSIST, notify_on_watchdog, ctx);
	if (ctx->ev_watchdog == NULL || event_add(ctx->ev_watchdog, &tv) < 0)
		return -ENOMEM;
	log_info("watchdog: pinging systemd every %llu ms",
		 (unsigned long long)(usec / 1000));
	return 0;
}

void notify_free(struct cand_ctx *ctx)
{
	if (ctx->ev_watchdog != NULL)
		event_free(ctx->ev_watchdog);
	if (ctx->ev_status != NULL)
		event_free(ctx->ev_status);
	ctx->ev_watchdog = ctx->ev_status = NULL;
}

void notify_ready(struct cand_ctx *ctx)
{
	sd_notifyf(0,
		   "READY=1\n"
		   "STATUS=%u client%s, %u CAN interface%s",
		   ctx->n_sessions, ctx->n_sessions == 1 ? "" : "s",
		   ctx->n_ifaces, ctx->n_ifaces == 1 ? "" : "s");
}

void notify_reloading(struct cand_ctx *ctx)
{
	(void)ctx;
	sd_notify(0, "RELOADING=1\nSTATUS=reloading the configuration");
}

void notify_stopping(struct cand_ctx *ctx)
{
	/* The watchdog goes on pinging: stopping may take a moment too. */
	sd_notifyf(0, "STOPPING=1\nSTATUS=stopping, %u client%s",
		   ctx->n_sessions, ctx->n_sessions == 1 ? "" : "s");
}

void notify_status(struct cand_ctx *ctx)
{
	struct timeval tv = {0, NOTIFY_STATUS_DELAY_MS * 1000};

	if (ctx->ev_status == NULL || ctx->stopping ||
	    evtimer_pending(ctx->ev_status, NULL))
		return;
	evtimer_add(ctx->ev_status, &tv);
}
