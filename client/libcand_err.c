/*
 * libcand's failures: the code and the detail text of the last failed
 * call, and the connection that can no longer be trusted. Every layer
 * reports through here, so this file calls no other.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "libcand_int.h"

/* Records why a call failed and returns err; errno survives for ESYS. */
int libcand_err_set(struct cand *h, int err, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(h->detail, sizeof(h->detail), fmt, ap);
	va_end(ap);
	errno = saved;
	return err;
}

int libcand_err_status(int status)
{
	/* The library's own codes start at -100 (cand.h). */
	return status >= 0 && status < 100 ? -status : CAND_EPROTO;
}

/* The connection can no longer be trusted: fail everything from now on. */
int libcand_err_kill(struct cand *h, int err, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	/*
	 * cand_recv() returns a link code once, on a handle that lives on:
	 * a dead one answering with it forever would keep its caller in a
	 * loop (a daemon that came back without the interface says ENODEV).
	 * The daemon's word stays in the detail.
	 */
	if (h->dead == 0) {
		va_start(ap, fmt);
		vsnprintf(h->dead_detail, sizeof(h->dead_detail), fmt, ap);
		va_end(ap);
		h->dead = err == CAND_ENODEV || err == CAND_ENETDOWN
				  ? CAND_EDISCONNECTED
				  : err;
	}
	/* After EOF the buffered messages are still good; after junk not. */
	if (err != CAND_EDISCONNECTED)
		h->in_off = h->in_len = 0;
	memcpy(h->detail, h->dead_detail, sizeof(h->detail));
	errno = saved;
	return h->dead;
}

/*
 * The daemon went away (err: CAND_ESHUTDOWN or CAND_EDISCONNECTED). With
 * reconnection on, the handle is only away (h->lost, 0 returned) and the
 * callers reconnect; without it, or when the daemon had just refused us,
 * or the handle could not keep what it would have to set up again, it is
 * dead as libcand_err_kill() makes it.
 */
int libcand_err_lost(struct cand *h, int err, const char *fmt, ...)
{
	char why[CAND_DETAIL_MAX];
	int saved = errno;
	uint64_t now;
	va_list ap;

	if (h->dead != 0)
		return h->dead;
	/* Its reason, in lost_detail, is the daemon's own. */
	if (h->refused != 0)
		return libcand_err_kill(h, h->refused, "%s", h->lost_detail);
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (h->reconnect_ms == 0 || h->unkept)
		return libcand_err_kill(h, err, "%s%s", why,
					h->unkept ? " (no memory to reconnect)"
						  : "");
	/* The first word of a gap, or the shutdown event, says why. */
	if (h->lost_mono_ns == 0 ||
	    (err == CAND_ESHUTDOWN && !h->lost_shutdown))
		memcpy(h->lost_detail, why, sizeof(why));
	now = libcand_clock_ns(CLOCK_MONOTONIC);
	/* A gap lasts until a replay is complete, however often it drops. */
	if (h->lost_mono_ns == 0) {
		h->lost_mono_ns = now;
		h->lost_ns = libcand_clock_ns(CLOCK_REALTIME);
		h->lost_ms = (int64_t)(now / 1000000u);
		h->backoff_ms = 0;
		h->lost_shutdown = 0;
	}
	/* The first try at once: a restart may be over already. */
	h->retry_ms = (int64_t)(now / 1000000u) + h->backoff_ms;
	/* The EOF read after a shutdown event is its consequence. */
	if (h->lost != CAND_ESHUTDOWN)
		h->lost = err;
	h->lost_shutdown |= err == CAND_ESHUTDOWN;
	errno = saved;
	return 0;
}

/* What a call on a dead connection returns, reported at most once more. */
int libcand_err_dead(struct cand *h)
{
	memcpy(h->detail, h->dead_detail, sizeof(h->detail));
	h->dead_reported = 1;
	return h->dead;
}

CAND_EXPORT const char *cand_strerror(int err)
{
	switch (err) {
	case CAND_OK:
		return "success";
	case CAND_EINVAL:
		return "invalid argument";
	case CAND_EBADMSG:
		return "malformed message";
	case CAND_ENODEV:
		return "no such CAN interface";
	case CAND_ENETDOWN:
		return "CAN interface is down";
	case CAND_ETXFULL:
		return "TX buffer full";
	case CAND_ENOTOPEN:
		return "channel not open";
	case CAND_EALREADY:
		return "channel already open";
	case CAND_EPERM:
		return "permission denied";
	case CAND_EUNSUPP:
		return "not supported";
	case CAND_ELIMIT:
		return "limit exceeded";
	case CAND_EIO:
		return "CAN I/O error";
	case CAND_EINTERNAL:
		return "internal error in the daemon";
	case CAND_ESHUTDOWN:
		return "the daemon is shutting down";
	case CAND_ESTATE:
		return "not possible in the bus's current state";
	case CAND_ETIMEOUT:
		return "timed out";
	case CAND_ECONNECT:
		return "cannot connect to the daemon";
	case CAND_EDISCONNECTED:
		return "the daemon closed the connection";
	case CAND_ENOMEM:
		return "out of memory";
	case CAND_ESYS:
		return "system call failed";
	case CAND_EPROTO:
		return "protocol error: unexpected data from the daemon";
	case CAND_ERECONNECTED:
		return "reconnected after the daemon stopped or restarted";
	default:
		return "unknown error";
	}
}

CAND_EXPORT const char *cand_last_detail(cand_t *h)
{
	return h != NULL ? h->detail : "";
}
