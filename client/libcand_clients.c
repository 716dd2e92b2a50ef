/*
 * The clients of the daemon, for root and admins: who is connected and
 * what each one does (canctl clients).
 */
#include <stdlib.h>

#include "libcand_int.h"

static void libcand_clients_one(struct cand_client *v,
				const Cand__ClientInfo *p)
{
	v->id = p->id;
	v->pid = (long)p->pid;
	v->uid = p->uid;
	v->gid = p->gid;
	libcand_pb_get_str(v->comm, sizeof(v->comm), p->comm);
	v->open = p->open ? 1 : 0;
	libcand_pb_get_str(v->channel, sizeof(v->channel), p->channel);
	v->n_filters = p->n_filters;
	libcand_pb_get_str(v->filters, sizeof(v->filters), p->filters);
	v->tasks = p->tasks;
	v->monitors = p->monitors;
	v->rx_frames = p->rx_frames;
	v->tx_frames = p->tx_frames;
	v->kernel_drops = p->kernel_drops;
	v->backlog_bytes = p->backlog_bytes;
	v->refused = p->refused;
	v->delayed = p->delayed;
	v->tasks_refused = p->tasks_refused;
	libcand_pb_get_str(v->budgets, sizeof(v->budgets), p->budgets);
	v->send_pending = p->send_pending ? 1 : 0;
}

static int libcand_clients_take(struct cand_result *res, const Cand__Reply *r)
{
	struct cand_array *out = res->take_arg;
	const Cand__ClientsReply *l =
		r->result_case == CAND__REPLY__RESULT_CLIENTS ? r->clients
							      : NULL;
	struct cand_client *v;
	size_t i, n = l != NULL ? l->n_clients : 0;

	if ((v = calloc(n ? n : 1, sizeof(*v))) == NULL)
		return CAND_ENOMEM;
	for (i = 0; i < n; i++)
		libcand_clients_one(&v[i], l->clients[i]);
	out->v = v;
	out->n = n;
	return 0;
}

CAND_EXPORT int cand_clients(cand_t *h, struct cand_client **out)
{
	Cand__Request req = CAND__REQUEST__INIT;
	Cand__ClientsRequest clients = CAND__CLIENTS_REQUEST__INIT;
	void *v;
	int rc;

	if (h == NULL || out == NULL)
		return CAND_EINVAL;
	req.op_case = CAND__REQUEST__OP_CLIENTS;
	req.clients = &clients;
	rc = libcand_rpc_list(h, &req, libcand_clients_take, sizeof(**out), &v);
	*out = v;
	return rc;
}
