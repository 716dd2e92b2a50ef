/*
 * cand_send_async(): sends that go out before the replies to earlier ones,
 * up to CAND_SEND_AHEAD of them, so that a replay or a flood does not
 * wait a round trip per request. The daemon answers a connection's
 * requests in order, so the oldest send ahead is answered first, ahead of
 * any call's own request. The replies count the frames sent up to the
 * first failure, which is kept for the caller and reported once.
 *
 * When the daemon goes away, the sends ahead that have no reply once all
 * the old connection said is read may or may not have been done: as for
 * a cand_send() in flight (cand.h, "Reconnection"), they are not repeated
 * but reported, CAND_ERECONNECTED once the handle is back, with the count
 * of the frames known to be sent. A request the loss cut off before it
 * was wholly written was not done: it goes again to the new daemon.
 */
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "libcand_int.h"

/* The first failure of the sends ahead is the one the caller hears of. */
static void libcand_ahead_fail(struct cand *h, int err, const char *detail)
{
	if (h->ahead_err != 0)
		return;
	h->ahead_err = err;
	libcand_pb_get_str(h->ahead_detail, sizeof(h->ahead_detail), detail);
}

/*
 * 1 when r answers the oldest send ahead (an id of 0 is an undecodable
 * request: the oldest one sent), which it then settles; else 0.
 */
int libcand_ahead_reply(struct cand *h, const Cand__Reply *r)
{
	int has_sent =
		r->result_case == CAND__REPLY__RESULT_SEND && r->send != NULL;
	int err = r->status != 0 ? libcand_err_status((int)r->status)
				 : CAND_EPROTO;
	uint32_t want, n;

	if (h->n_ahead == 0 || (r->id != h->ahead[0].id && r->id != 0))
		return 0;
	want = n = h->ahead[0].n;
	if (has_sent && r->send->sent < n)
		n = r->send->sent;
	else if (!has_sent && r->status != CAND__STATUS__OK)
		n = 0;
	/* Counted up to the first failure, so the count says where it was. */
	if (h->ahead_err == 0) {
		h->ahead_sent += n;
		if (err == CAND_ESHUTDOWN && n == 0 && h->reconnect_ms != 0)
			libcand_ahead_fail(h, CAND_ERECONNECTED,
					   "the daemon shut down before it "
					   "sent them all");
		else if (r->status != CAND__STATUS__OK)
			libcand_ahead_fail(h, err, r->detail);
		else if (n < want)
			libcand_ahead_fail(h, CAND_ETXFULL, r->detail);
	}
	memmove(&h->ahead[0], &h->ahead[1],
		(h->n_ahead - 1) * sizeof(h->ahead[0]));
	h->n_ahead--;
	return 1;
}

/*
 * The daemon went away and all the old connection said is read: the
 * sends ahead still unanswered never will be.
 */
void libcand_ahead_lost(struct cand *h)
{
	char why[CAND_DETAIL_MAX];

	if (h->n_ahead == 0)
		return;
	snprintf(why, sizeof(why),
		 "the daemon went away before it answered %zu send%s: they "
		 "may or may not have been done",
		 h->n_ahead, h->n_ahead == 1 ? "" : "s");
	libcand_ahead_fail(h, CAND_ERECONNECTED, why);
	h->n_ahead = 0;
}

/*
 * The first failure, reported once, then forgotten; a reconnection's
 * once the handle is back, so that the caller's next call can go on.
 */
static int libcand_ahead_report(struct cand *h, int64_t deadline)
{
	int err = h->ahead_err, rc;

	h->ahead_err = 0;
	if (err == CAND_ERECONNECTED &&
	    (rc = libcand_resume_wait(h, deadline)) < 0)
		return rc;
	return libcand_err_set(h, err, "%s", h->ahead_detail);
}

/* Reads replies until at most max of the sends ahead are unanswered. */
static int libcand_ahead_drain(struct cand *h, size_t max)
{
	int rc;

	while (h->n_ahead > max) {
		if ((rc = libcand_read_msg(h, NULL)) < 0)
			return rc;
		if (rc > 0)
			continue;
		if (h->dead)
			return libcand_err_dead(h);
		/* Every complete message of the old connection is read. */
		if (h->lost) {
			libcand_ahead_lost(h);
			break;
		}
		if (libcand_conn_fill(h) != 0)
			continue;
		if (libcand_conn_wait(h, POLLIN, h->ahead[0].deadline) == 0)
			return libcand_err_kill(h, CAND_ETIMEOUT,
						"no reply to a send in time");
	}
	return 0;
}

/*
 * Writes req, a send of n frames, and puts it ahead; deadline is when its
 * reply is overdue. There must be room ahead.
 */
static int libcand_ahead_write(struct cand *h, Cand__Request *req, uint32_t n,
			       int64_t deadline)
{
	struct cand_result res;
	size_t len;
	int rc;

	for (;;) {
		if ((rc = libcand_resume_wait(h, deadline)) < 0)
			return rc;
		memset(&res, 0, sizeof(res));
		if ((rc = libcand_rpc_pack(h, req, &res, &len)) < 0 ||
		    (rc = libcand_conn_write(h, h->out, len, &res, deadline)) <
			    0)
			return rc;
		if (res.written)
			break;
		/* Cut off, so not done; but those ahead of it may have been. */
		if ((rc = libcand_ahead_drain(h, 0)) < 0)
			return rc;
		if (h->ahead_err != 0)
			return libcand_ahead_report(h, deadline);
	}
	h->ahead[h->n_ahead].id = req->id;
	h->ahead[h->n_ahead].n = n;
	h->ahead[h->n_ahead].deadline = deadline;
	h->n_ahead++;
	return 0;
}

CAND_EXPORT int cand_send_async(cand_t *h, const struct cand_frame *frames,
				size_t n, int timeout_ms)
{
	Cand__Request req = CAND__REQUEST__INIT;
	Cand__SendRequest sr = CAND__SEND_REQUEST__INIT;
	int64_t deadline;
	int rc;

	if (h == NULL || (frames == NULL && n > 0))
		return CAND_EINVAL;
	if (timeout_ms < 0)
		return libcand_err_set(h, CAND_EINVAL, "negative send timeout");
	if (n > CAND_SEND_CHUNK)
		return libcand_err_set(h, CAND_EINVAL,
				       "%zu frames at once; %u at most", n,
				       CAND_SEND_CHUNK);
	if ((rc = libcand_pb_check_frames(h, frames, n)) < 0)
		return rc;
	deadline = libcand_conn_now_ms() + timeout_ms + CAND_RPC_GRACE_MS;
	/* The oldest reply makes room; a failure there stops this one. */
	if ((rc = libcand_ahead_drain(h, CAND_SEND_AHEAD - 1)) < 0)
		return rc;
	if (h->ahead_err != 0)
		return libcand_ahead_report(h, deadline);
	if (n == 0)
		return 0;
	if ((rc = libcand_pb_put_packed(h, frames, n, &sr)) < 0)
		return rc;
	sr.timeout_ms = (uint32_t)timeout_ms;
	req.op_case = CAND__REQUEST__OP_SEND;
	req.send = &sr;
	return libcand_ahead_write(h, &req, (uint32_t)n, deadline);
}

CAND_EXPORT int cand_send_wait(cand_t *h, size_t *sent)
{
	int rc;

	if (h == NULL)
		return CAND_EINVAL;
	rc = libcand_ahead_drain(h, 0);
	if (sent != NULL)
		*sent = (size_t)h->ahead_sent;
	h->ahead_sent = 0;
	if (rc < 0)
		return rc;
	return h->ahead_err != 0
		       ? libcand_ahead_report(h, libcand_conn_now_ms() +
							 CAND_RPC_GRACE_MS)
		       : 0;
}
