/*
 * BCM mode's jobs on cand's kernel BCM tasks and monitors (ops/task.c,
 * ops/monitor.c). socketcand keeps them on one BCM socket, keyed by CAN
 * id: a second add or filter for an id replaces the first, and update,
 * delete and unsubscribe name the id. cand keys its tasks and monitors by
 * ids of its own, so each connection maps CAN ids to them here; the new
 * job is set up before the old one goes, so a refused replacement leaves
 * the old one running.
 *
 *   add SECS USECS ID DLC DATA     a task sending the frame every period
 *   update ID DLC DATA             new data, the cycle goes on
 *   delete ID                      the task ends
 *   filter SECS USECS ID DLC MASK  a monitor: frames whose masked bytes
 *                                  changed, throttled to one per period
 *   muxfilter SECS USECS ID N ...  the same per multiplexer value
 *   subscribe SECS USECS ID        every frame of the id, throttled
 *   unsubscribe ID                 the filter or subscription ends
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sc/sc.h"

static canid_t sc_bcm_key(const struct sc_cmd *cmd)
{
	return cmd->id | (cmd->extended ? CAN_EFF_FLAG : 0);
}

static struct sc_job *sc_bcm_find(struct sc_job *jobs, size_t n, canid_t key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (jobs[i].key == key)
			return &jobs[i];
	return NULL;
}

/*
 * Records op id under key, replacing (and stopping) what was there: the
 * kernel op of a replaced job is removed only now, after the new one runs.
 */
static int sc_bcm_keep(struct sc_conn *c, struct sc_job **jobs, size_t *n,
		       enum bcm_kind kind, canid_t key, uint32_t id)
{
	struct sc_job *j = sc_bcm_find(*jobs, *n, key), *grown;

	if (j != NULL) {
		bcmop_remove(c->s, j->id, kind, NULL, 0);
		j->id = id;
		return 0;
	}
	grown = realloc(*jobs, (*n + 1) * sizeof(*grown));
	if (grown == NULL) {
		bcmop_remove(c->s, id, kind, NULL, 0);
		return -ENOMEM;
	}
	*jobs = grown;
	grown[*n].key = key;
	grown[*n].id = id;
	(*n)++;
	return 0;
}

static void sc_bcm_forget(struct sc_job *jobs, size_t *n, struct sc_job *j)
{
	*j = jobs[--(*n)];
}

/* The command's frame, for a task: data as it says, on the channel. */
static void sc_bcm_frame(const struct sc_cmd *cmd, struct frame_desc *f)
{
	memset(f, 0, sizeof(*f));
	f->id = cmd->id;
	f->extended = cmd->extended;
	f->dlc = cmd->dlc;
	f->data = cmd->data;
	f->len = cmd->dlc;
	f->ifname = "";
}

static int sc_bcm_add(struct sc_conn *c, const struct sc_cmd *cmd, char *detail,
		      size_t dsize)
{
	struct frame_desc f;
	struct task_spec t = {.frames = &f, .n_frames = 1};
	uint32_t id;
	int rc;

	/* socketcand's "add 0 0" sends once and keeps nothing running. */
	if (cmd->ival_us == 0) {
		detail_set(detail, dsize,
			   "add needs an interval above 0 (send sends one "
			   "frame)");
		return -EINVAL;
	}
	sc_bcm_frame(cmd, &f);
	t.period_us = cmd->ival_us;
	if ((rc = task_start(c->s, &t, &id, detail, dsize)) < 0)
		return rc;
	return sc_bcm_keep(c, &c->tasks, &c->n_tasks, BCM_TASK, sc_bcm_key(cmd),
			   id);
}

static int sc_bcm_update(struct sc_conn *c, const struct sc_cmd *cmd,
			 char *detail, size_t dsize)
{
	struct sc_job *j = sc_bcm_find(c->tasks, c->n_tasks, sc_bcm_key(cmd));
	struct frame_desc f;

	if (j == NULL) {
		detail_set(detail, dsize, "no job sends id %X (add one first)",
			   cmd->id);
		return -ENOENT;
	}
	sc_bcm_frame(cmd, &f);
	return task_modify(c->s, j->id, &f, 1, detail, dsize);
}

/* Deletes the task (or, for monitors, the filter) of the command's id. */
static int sc_bcm_delete(struct sc_conn *c, const struct sc_cmd *cmd,
			 enum bcm_kind kind, char *detail, size_t dsize)
{
	struct sc_job **jobs = kind == BCM_TASK ? &c->tasks : &c->monitors;
	size_t *n = kind == BCM_TASK ? &c->n_tasks : &c->n_monitors;
	struct sc_job *j = sc_bcm_find(*jobs, *n, sc_bcm_key(cmd));
	int rc;

	if (j == NULL) {
		if (kind == BCM_TASK)
			detail_set(detail, dsize, "no job sends id %X",
				   cmd->id);
		else
			detail_set(detail, dsize,
				   "no filter or subscription for id %X",
				   cmd->id);
		return -ENOENT;
	}
	rc = bcmop_remove(c->s, j->id, kind, detail, dsize);
	sc_bcm_forget(*jobs, n, j);
	return rc;
}

static int sc_bcm_monitor(struct sc_conn *c, const struct sc_cmd *cmd,
			  char *detail, size_t dsize)
{
	struct monitor_mask masks[SC_MUX_MAX];
	struct monitor_spec m = {
		.id = cmd->id,
		.extended = cmd->extended,
		.masks = masks,
		.throttle_us = cmd->ival_us,
		.ifname = "",
	};
	uint32_t id;
	size_t i;
	int rc;

	switch (cmd->op) {
	case SC_OP_FILTER:
		/* The dlc bytes given are the mask; the rest are not compared.
		 */
		masks[0].data = cmd->data;
		masks[0].len = cmd->dlc;
		m.n_masks = 1;
		break;
	case SC_OP_MUXFILTER:
		for (i = 0; i < cmd->n_mux; i++) {
			masks[i].data = cmd->mux[i];
			masks[i].len = CAN_MAX_DLEN;
		}
		m.n_masks = cmd->n_mux;
		break;
	default:
		m.every_frame = 1; /* subscribe */
		break;
	}
	if ((rc = monitor_start(c->s, &m, &id, detail, dsize)) < 0)
		return rc;
	return sc_bcm_keep(c, &c->monitors, &c->n_monitors, BCM_MONITOR,
			   sc_bcm_key(cmd), id);
}

int sc_bcm_run(struct sc_conn *c, const struct sc_cmd *cmd, char *detail,
	       size_t dsize)
{
	switch (cmd->op) {
	case SC_OP_ADD:
		return sc_bcm_add(c, cmd, detail, dsize);
	case SC_OP_UPDATE:
		return sc_bcm_update(c, cmd, detail, dsize);
	case SC_OP_DELETE:
		return sc_bcm_delete(c, cmd, BCM_TASK, detail, dsize);
	case SC_OP_UNSUBSCRIBE:
		return sc_bcm_delete(c, cmd, BCM_MONITOR, detail, dsize);
	default:
		return sc_bcm_monitor(c, cmd, detail, dsize);
	}
}

void sc_bcm_clear(struct sc_conn *c)
{
	bcmop_free_all(c->s);
	free(c->tasks);
	free(c->monitors);
	c->tasks = c->monitors = NULL;
	c->n_tasks = c->n_monitors = 0;
}
