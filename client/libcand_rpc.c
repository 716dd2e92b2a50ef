/*
 * One request and its reply. A call has one request in flight: it gets
 * the next id, goes out whole, and the reader is run until the reply with
 * that id has come. Events that arrive meanwhile are queued on the way,
 * so the receive calls still see every frame in order. Sends may also go
 * ahead (cand_send_async()): a few requests out before their replies,
 * which the daemon answers in order, ahead of any call's.
 */
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "libcand_int.h"
#include "wire.h"

/* Gives req the next id and writes it whole; res keeps a reply meanwhile. */
static int libcand_rpc_write(struct cand *h, Cand__Request *req,
			     struct cand_result *res, int64_t deadline)
{
	unsigned char *out;
	size_t len;

	if (h->dead)
		return libcand_err_dead(h);
	if (++h->last_id == 0)
		h->last_id = 1;
	req->id = h->last_id;
	if (res != NULL)
		res->want = h->last_id;

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
	return libcand_conn_write(h, h->out, CAND_WIRE_HDR + len, res,
				  deadline);
}

/*
 * Sends req and waits for its reply until deadline (< 0: never); take, if
 * not NULL, copies the call's own results out of an OK reply.
 */
static int libcand_rpc(struct cand *h, Cand__Request *req,
		       struct cand_result *res, int64_t deadline,
		       cand_take_fn take, void *take_arg)
{
	int rc;

	memset(res, 0, sizeof(*res));
	res->take = take;
	res->take_arg = take_arg;
	if ((rc = libcand_rpc_write(h, req, res, deadline)) < 0)
		return rc;

	while (!res->done) {
		if ((rc = libcand_read_msg(h, res)) < 0)
			return rc;
		if (rc > 0)
			continue;
		if (h->dead)
			return libcand_err_dead(h);
		if ((rc = libcand_conn_fill(h)) != 0)
			continue;
		if (libcand_conn_wait(h, POLLIN, deadline) == 0)
			return libcand_err_set(h, CAND_ETIMEOUT,
					       "no reply from the daemon in "
					       "time");
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
			   take_arg);
}

/* A request whose work has a deadline of its own (a send's timeout). */
int libcand_rpc_until(struct cand *h, Cand__Request *req,
		      struct cand_result *res, int64_t deadline)
{
	return libcand_rpc(h, req, res, deadline, NULL, NULL);
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

/*
 * Sends req, a send of n frames, without waiting for its reply; deadline
 * is when that reply is overdue. There must be room ahead.
 */
int libcand_rpc_ahead(struct cand *h, Cand__Request *req, uint32_t n,
		      int64_t deadline)
{
	int rc;

	if ((rc = libcand_rpc_write(h, req, NULL, deadline)) < 0)
		return rc;
	h->ahead[h->n_ahead].id = req->id;
	h->ahead[h->n_ahead].n = n;
	h->ahead[h->n_ahead].deadline = deadline;
	h->n_ahead++;
	return 0;
}

/* Reads replies until at most max of the sends ahead are unanswered. */
int libcand_rpc_drain(struct cand *h, size_t max)
{
	int rc;

	while (h->n_ahead > max) {
		if ((rc = libcand_read_msg(h, NULL)) < 0)
			return rc;
		if (rc > 0)
			continue;
		if (h->dead)
			return libcand_err_dead(h);
		if ((rc = libcand_conn_fill(h)) != 0)
			continue;
		if (libcand_conn_wait(h, POLLIN, h->ahead[0].deadline) == 0)
			return libcand_err_kill(h, CAND_ETIMEOUT,
						"no reply to a send in time");
	}
	return 0;
}
