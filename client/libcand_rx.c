/*
 * A channel's frames: binding the handle, its filters, sending, and the
 * two receive calls, which hand out what the reader queued and read or
 * wait for more only when nothing is queued.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "libcand_int.h"

CAND_EXPORT void cand_options_init(struct cand_options *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->channel = "";
	opts->local_loopback = 1;
}

CAND_EXPORT int cand_open(cand_t *h, const struct cand_options *opts)
{
	Cand__Request req = CAND__REQUEST__INIT;
	Cand__OpenRequest open = CAND__OPEN_REQUEST__INIT;
	struct cand_options defaults;
	struct cand_result res;
	Cand__Filter *f, **fp;
	int rc;

	if (h == NULL)
		return CAND_EINVAL;
	if (opts == NULL) {
		cand_options_init(&defaults);
		opts = &defaults;
	}
	if ((rc = libcand_pb_put_filters(h, opts->filters, opts->n_filters, &f,
					 &fp)) < 0)
		return rc;
	open.channel = (char *)(opts->channel != NULL ? opts->channel : "");
	open.receive_own_messages = opts->receive_own_messages ? 1 : 0;
	open.no_local_loopback = opts->local_loopback ? 0 : 1;
	open.fd = opts->fd ? 1 : 0;
	open.ignore_rx_error_frames = opts->ignore_rx_error_frames ? 1 : 0;
	open.n_filters = opts->n_filters;
	open.filters = fp;
	req.op_case = CAND__REQUEST__OP_OPEN;
	req.open = &open;

	rc = libcand_rpc_call(h, &req, &res, NULL, NULL);
	if (rc == 0) {
		libcand_pb_get_str(h->channel, sizeof(h->channel),
				   open.channel);
		libcand_resume_keep(h, &h->kept_open, &req);
	}
	free(fp);
	free(f);
	return rc;
}

CAND_EXPORT int cand_set_filters(cand_t *h, const struct cand_filter *filters,
				 size_t n)
{
	Cand__Request req = CAND__REQUEST__INIT;
	Cand__SetFiltersRequest sf = CAND__SET_FILTERS_REQUEST__INIT;
	struct cand_result res;
	Cand__Filter *f, **fp;
	int rc;

	if (h == NULL)
		return CAND_EINVAL;
	if ((rc = libcand_pb_put_filters(h, filters, n, &f, &fp)) < 0)
		return rc;
	sf.n_filters = n;
	sf.filters = fp;
	req.op_case = CAND__REQUEST__OP_SET_FILTERS;
	req.set_filters = &sf;

	rc = libcand_rpc_call(h, &req, &res, NULL, NULL);
	if (rc == 0)
		libcand_resume_keep(h, &h->kept_filters, &req);
	free(fp);
	free(f);
	return rc;
}

CAND_EXPORT int cand_send(cand_t *h, const struct cand_frame *frames, size_t n,
			  int timeout_ms)
{
	Cand__Request req = CAND__REQUEST__INIT;
	Cand__SendRequest sr = CAND__SEND_REQUEST__INIT;
	struct cand_result res;
	size_t off, cnt, total = 0;
	int64_t deadline, left;
	int rc;

	if (h == NULL || (frames == NULL && n > 0))
		return CAND_EINVAL;
	if (timeout_ms < 0)
		return libcand_err_set(h, CAND_EINVAL, "negative send timeout");
	if (n > INT_MAX)
		return libcand_err_set(h, CAND_EINVAL,
				       "too many frames at once");
	if ((rc = libcand_pb_check_frames(h, frames, n)) < 0)
		return rc;
	if (n == 0)
		return 0;
	if (h->dead)
		return libcand_err_dead(h);

	deadline = libcand_conn_now_ms() + timeout_ms;
	req.op_case = CAND__REQUEST__OP_SEND;
	req.send = &sr;
	for (off = 0; off < n; off += cnt) {
		cnt = n - off < CAND_SEND_CHUNK ? n - off : CAND_SEND_CHUNK;
		/* The first chunk is the largest: only it can fail here. */
		if ((rc = libcand_pb_put_packed(h, frames + off, cnt, &sr)) < 0)
			return rc;
		/* Later chunks get what is left of the caller's timeout. */
		left = off == 0 ? timeout_ms : deadline - libcand_conn_now_ms();
		sr.timeout_ms = left > 0 ? (uint32_t)left : 0;
		rc = libcand_rpc_until(h, &req, &res,
				       libcand_conn_now_ms() + sr.timeout_ms +
					       CAND_RPC_GRACE_MS);
		if (rc < 0) {
			/*
			 * Like write(2): once some frames are on the bus, a
			 * short count, so the caller does not send them twice;
			 * cand_last_detail() says what stopped the rest.
			 */
			if (res.has_sent && res.sent < cnt)
				total += res.sent;
			return total > 0 ? (int)total : rc;
		}
		if (!res.has_sent || res.sent >= cnt) {
			total += cnt;
			continue;
		}
		total += res.sent;
		break;
	}
	return (int)total;
}

/*
 * Hands out what pop finds queued, reading and waiting for more until
 * timeout_ms (< 0: forever) when there is nothing.
 */
static int libcand_rx_wait(struct cand *h, int timeout_ms,
			   int (*pop)(struct cand *, void *), void *out)
{
	int64_t deadline = -1;
	int rc;

	for (;;) {
		if ((rc = pop(h, out)) != 0)
			return rc;
		/* What a message queued before it killed us comes first. */
		if (libcand_read_msg(h, NULL) != 0)
			continue;
		if (h->dead)
			return libcand_err_dead(h);
		if (!h->lost) {
			if (libcand_conn_more(h, timeout_ms, &deadline) == 0)
				break;
			continue;
		}
		/* Away: a try when one is due, else wait for it. */
		if ((rc = libcand_resume_poll(h)) < 0)
			return rc;
		if (!h->lost || h->dead)
			continue;
		if (timeout_ms == 0)
			break;
		if (timeout_ms > 0 && deadline < 0)
			deadline = libcand_conn_now_ms() + timeout_ms;
		if (!libcand_resume_sleep(h, deadline))
			break;
	}
	return libcand_err_set(h, CAND_ETIMEOUT, "%s", "");
}

static int libcand_rx_pop_frame(struct cand *h, void *frame)
{
	return libcand_queue_pop_frame(h, frame);
}

static int libcand_rx_pop_event(struct cand *h, void *ev)
{
	return libcand_queue_pop(h, ev);
}

CAND_EXPORT int cand_recv(cand_t *h, struct cand_frame *frame, int timeout_ms)
{
	if (h == NULL || frame == NULL)
		return CAND_EINVAL;
	return libcand_rx_wait(h, timeout_ms, libcand_rx_pop_frame, frame);
}

CAND_EXPORT int cand_recv_event(cand_t *h, struct cand_event *ev,
				int timeout_ms)
{
	if (h == NULL || ev == NULL)
		return CAND_EINVAL;
	return libcand_rx_wait(h, timeout_ms, libcand_rx_pop_event, ev);
}

CAND_EXPORT size_t cand_pending(cand_t *h)
{
	if (h == NULL)
		return 0;
	/* A complete message in the buffer is invisible to poll(). */
	libcand_read_all(h, NULL);
	return libcand_queue_len(h) + (h->dead && !h->dead_reported ? 1 : 0);
}

CAND_EXPORT uint64_t cand_kernel_drops(cand_t *h)
{
	return h != NULL ? h->kernel_drops : 0;
}
