/*
 * clients: every connected client (ops/clients.c) as ClientInfo messages,
 * for root and admins (dispatch_ops[] asks for 'admin').
 */
#include <errno.h>
#include <stdlib.h>

#include "pb/pb.h"

int op_clients_list(struct conn *c, Cand__Request *req,
		    struct dispatch_reply *r)
{
	struct client_info *v;
	Cand__ClientInfo *it;
	size_t n, i;
	int rc;

	(void)req;
	if ((rc = clients_list(c->ctx, &v, &n)) < 0)
		return rc;
	r->alloc[0] = v;
	cand__clients_reply__init(&r->clients);
	if (n > 0 &&
	    (r->alloc[1] = calloc(n, sizeof(*it) + sizeof(it))) == NULL)
		return -ENOMEM;
	it = r->alloc[1];
	r->clients.clients = (Cand__ClientInfo **)(it + n);
	for (i = 0; i < n; i++) {
		cand__client_info__init(&it[i]);
		it[i].id = v[i].id;
		it[i].pid = (uint32_t)v[i].pid;
		it[i].uid = v[i].uid;
		it[i].gid = v[i].gid;
		it[i].comm = v[i].comm;
		it[i].open = v[i].open;
		it[i].channel = v[i].channel;
		it[i].n_filters = (uint32_t)v[i].n_filters;
		it[i].filters = v[i].filters;
		it[i].tasks = v[i].n_tasks;
		it[i].monitors = v[i].n_monitors;
		it[i].rx_frames = v[i].stats.rx_frames;
		it[i].tx_frames = v[i].stats.tx_frames;
		it[i].kernel_drops = v[i].drops;
		it[i].backlog_bytes = v[i].backlog;
		it[i].refused = v[i].stats.refused;
		it[i].delayed = v[i].stats.delayed;
		it[i].tasks_refused = (uint32_t)v[i].stats.tasks_refused;
		it[i].budgets = v[i].budgets;
		it[i].send_pending = v[i].send_pending;
		r->clients.clients[i] = &it[i];
	}
	r->clients.n_clients = n;
	r->rep.result_case = CAND__REPLY__RESULT_CLIENTS;
	r->rep.clients = &r->clients;
	return 0;
}
