/*
 * One request and its reply. Only one request is ever in flight: it gets
 * the next id, goes out whole, and the reader is run until the reply with
 * that id has come. Events that arrive meanwhile are queued on the way,
 * so the receive calls still see every frame in order. A request waits
 * for a daemon that is away, and one in flight when the daemon goes is
 * sent again or reported (libcand_rpc_repeatable()). Sends may also go
 * ahead of their replies (libcand_ahead.c).
 */
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "libcand_int.h"
#include "wire.h"

/*
 * Whether a request in flight when the daemon went may be sent again: not
 * when the first may already have put frames on a bus or changed it, and
 * doing it twice could do that twice (cand.h, "Reconnection").
 */
static int libcand_rpc_repeatable(Cand__Request__OpCase op)
{
	switch (op) {
	case CAND__REQUEST__OP_SEND:
	case CAND__REQUEST__OP_TASK_START:
	case CAND__REQUEST__OP_CONFIGURE:
	case CAND__REQUEST__OP_RESTART:
		return 0;
	default:
		return 1;
	}
}

/* Packs req with the next id into h->out; its length, or a negative code. */
int libcand_rpc_pack(struct cand *h, Cand__Request *req,
		     struct cand_result *res, size_t *out_len)
{
	unsigned char *out;
	size_t len;

	if (++h->last_id == 0)
		h->last_id = 1;
	req->id = res->want = h->last_id;
	len = cand__request__get_packed_size(req);
	if (len > CAND_MAX_MSG)
		return libcand_err_set(h, CAND_EINVAL,
				       "request of %zu bytes is over the %u "
				       "byte limit",
				       len, CAND_MAX_MSG);
	if (h->out_cap < CAND_WIRE_HDR + len) {
		if ((out = realloc(h->out, CAND_WIRE_HDR + len)) == NULL)
			return libcand_err_set(h, CAND_ENOMEM,
					       "no memory for a request");
		h->out = out;
		h->out_cap = CAND_WIRE_HDR + len;
	}
	wire_put_len(h->out, (uint32_t)len);
	cand__request__pack(req, h->out + CAND_WIRE_HDR);
	*out_len = CAND_WIRE_HDR + len;
	return 0;
}

/*
 * Reads until res is answered (NULL: never): 1, 0 when the daemon went
 * away first, or a negative code.
 */
static int libcand_rpc_await(struct cand *h, struct cand_result *res,
			     int64_t deadline)
{
	int rc;

	while (res == NULL || !res->done) {
		if ((rc = libcand_read_msg(h, res)) < 0)
			return rc;
		if (rc > 0)
			continue;
		if (h->dead)
			return libcand_err_dead(h);
		if (h->lost)
			return 0;
		if ((rc = libcand_conn_fill(h)) != 0)
			continue;
		if (libcand_conn_wait(h, POLLIN, deadline) == 0)
			return libcand_err_set(h, CAND_ETIMEOUT,
					       "no reply from the daemon in "
					       "time");
	}
	return 1;
}

/*
 * A send answered "shutting down" before it sent a frame was not done:
 * once the daemon is gone it goes again, to the next one.
 */
static int libcand_rpc_undone(struct cand *h, const struct cand_result *res)
{
	return h->reconnect_ms != 0 && res->status == CAND_ESHUTDOWN &&
	       !(res->has_sent && res->sent > 0);
}

/*
 * Sends req and waits for its reply until deadline (< 0: never); take, if
 * not NULL, copies the call's own results out of an OK reply. With ref,
 * the request names that task or monitor: its id for the daemon of the
 * moment goes into *idp just before it is packed.
 */
static int libcand_rpc(struct cand *h, Cand__Request *req,
		       struct cand_result *res, int64_t deadline,
		       cand_take_fn take, void *take_arg, struct cand_ref *ref,
		       uint32_t *idp)
{
	size_t len = 0;
	int rc;

	for (;;) {
		memset(res, 0, sizeof(*res));
		res->take = take;
		res->take_arg = take_arg;
		/*
		 * What ref names is in no daemon while it is away: the replay
		 * sets it up as its handle now says (the caller said it
		 * first), or not at all once dropped. Nothing to wait for.
		 */
		if (ref != NULL && h->lost)
			return 0;
		/* While the daemon is away, wait for it to be back. */
		if ((rc = libcand_resume_wait(h, deadline)) < 0)
			return rc;
		/* Dropped before a replay could set it up again: done. */
		if (ref != NULL && ref->gen != h->gen)
			return 0;
		if (ref != NULL)
			*idp = ref->wire_id;
		if ((rc = libcand_rpc_pack(h, req, res, &len)) < 0)
			return rc;
		if ((rc = libcand_conn_write(h, h->out, len, res, deadline)) <
			    0 ||
		    (rc = libcand_rpc_await(h, res, deadline)) < 0)
			return rc;
		if (rc > 0 && libcand_rpc_undone(h, res)) {
			/* Its shutdown event is on the way: then go again. */
			if ((rc = libcand_rpc_await(h, NULL, deadline)) < 0)
				return rc;
			continue;
		}
		if (rc > 0)
			break;
		/* In flight when the daemon went: done or not, who knows. */
		if (res->written && !libcand_rpc_repeatable(req->op_case)) {
			if ((rc = libcand_resume_wait(h, deadline)) < 0)
				return rc;
			return libcand_err_set(h, CAND_ERECONNECTED,
					       "the daemon went away before it "
					       "answered: it may or may not "
					       "have done it");
		}
	}
	if (res->err < 0)
		return libcand_err_set(h, res->err, "%s",
				       res->err == CAND_ENOMEM
					       ? "no memory for the reply"
					       : "a reply this library cannot "
						 "take apart");
	return res->status;
}

/* A request that is answered as soon as the daemon has done it. */
int libcand_rpc_call(struct cand *h, Cand__Request *req,
		     struct cand_result *res, cand_take_fn take, void *take_arg)
{
	return libcand_rpc(h, req, res,
			   libcand_conn_now_ms() + CAND_RPC_GRACE_MS, take,
			   take_arg, NULL, NULL);
}

/* A request that names ref: *idp, in req, gets its id for the daemon. */
int libcand_rpc_ref(struct cand *h, Cand__Request *req, struct cand_ref *ref,
		    uint32_t *idp)
{
	struct cand_result res;

	return libcand_rpc(h, req, &res,
			   libcand_conn_now_ms() + CAND_RPC_GRACE_MS, NULL,
			   NULL, ref, idp);
}

/* A request whose work has a deadline of its own (a send's timeout). */
int libcand_rpc_until(struct cand *h, Cand__Request *req,
		      struct cand_result *res, int64_t deadline)
{
	return libcand_rpc(h, req, res, deadline, NULL, NULL, NULL, NULL);
}

/*
 * A request whose OK reply holds a list, which take puts into the struct
 * cand_array it is handed. *out gets the array for the caller to free(),
 * never NULL on success, since a reply without a list means an empty one.
 * Returns its length or a negative code.
 */
int libcand_rpc_list(struct cand *h, Cand__Request *req, cand_take_fn take,
		     size_t size, void **out)
{
	struct cand_array list = {NULL, 0};
	struct cand_result res;
	int rc;

	*out = NULL;
	if ((rc = libcand_rpc_call(h, req, &res, take, &list)) < 0) {
		free(list.v);
		return rc;
	}
	if (list.v == NULL && (list.v = calloc(1, size)) == NULL)
		return libcand_err_set(h, CAND_ENOMEM,
				       "no memory for the list");
	if (list.n > INT_MAX) {
		free(list.v);
		return libcand_err_set(h, CAND_EPROTO, "a list of %zu items",
				       list.n);
	}
	*out = list.v;
	return (int)list.n;
}
