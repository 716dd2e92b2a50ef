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

/* The connection can no longer be trusted: fail everything from now on. */
int libcand_err_kill(struct cand *h, int err, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	if (h->dead == 0) {
		va_start(ap, fmt);
		vsnprintf(h->dead_detail, sizeof(h->dead_detail), fmt, ap);
		va_end(ap);
		h->dead = err;
	}
	/* After EOF the buffered messages are still good; after junk not. */
	if (err != CAND_EDISCONNECTED)
		h->in_off = h->in_len = 0;
	memcpy(h->detail, h->dead_detail, sizeof(h->detail));
	errno = saved;
	return h->dead;
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
	default:
		return "unknown error";
	}
}

CAND_EXPORT const char *cand_last_detail(cand_t *h)
{
	return h != NULL ? h->detail : "";
}
