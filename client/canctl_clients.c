/*
 * canctl clients: who is connected to the daemon and what each client
 * does, two lines a client. For root and users with the 'admin' right.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "canctl.h"

static void canctl_clients_print(const struct cand_client *c)
{
	printf("client %u: pid %ld (%s) uid %lu gid %lu, ", c->id, c->pid,
	       c->comm, c->uid, c->gid);
	if (c->open)
		printf("channel \"%s\", filters %s", c->channel, c->filters);
	else
		printf("no channel");
	printf(", %u task%s, %u monitor%s%s\n", c->tasks,
	       c->tasks == 1 ? "" : "s", c->monitors,
	       c->monitors == 1 ? "" : "s",
	       c->send_pending ? ", a send waiting" : "");
	printf("    rx %" PRIu64 " tx %" PRIu64 " drops %" PRIu64
	       " backlog %" PRIu64 " refused %" PRIu64 " delayed %" PRIu64
	       " tasks-refused %u budget %s\n",
	       c->rx_frames, c->tx_frames, c->kernel_drops, c->backlog_bytes,
	       c->refused, c->delayed, c->tasks_refused,
	       c->budgets[0] != '\0' ? c->budgets : "none");
}

static int canctl_clients(const char *sock, int argc, char **argv)
{
	struct cand_client *v;
	cand_t *h;
	int i, n;

	(void)argv;
	if (argc > 1)
		return canctl_usage_error("clients takes no arguments");
	if (canctl_util_connect(sock, &h) != 0)
		return 1;
	if ((n = cand_clients(h, &v)) < 0) {
		canctl_util_fail(h, n, "clients");
		cand_close(h);
		return 1;
	}
	for (i = 0; i < n; i++)
		canctl_clients_print(&v[i]);
	free(v);
	cand_close(h);
	return fflush(stdout) == EOF ? 1 : 0;
}

const struct canctl_cmd canctl_clients_cmd = {
	"clients",
	"",
	"show every client of the daemon: pid, command, uid, channel,\n"
	"filters, tasks; frames received (rx) and sent (tx), kernel drops,\n"
	"output backlog in bytes, and frames refused or delayed by its send\n"
	"budget (root, or the 'admin' right on every interface)\n",
	canctl_clients,
};
