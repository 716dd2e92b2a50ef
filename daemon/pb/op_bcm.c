/*
 * Periodic tasks' and monitors' requests: protobuf to the plain specs of
 * ops/task.c and ops/monitor.c, and their results (ids, the task list)
 * back.
 */
#include <errno.h>
#include <stdlib.h>

#include "pb/pb.h"

static void op_bcm_created(struct dispatch_reply *r, uint32_t id)
{
	cand__created_reply__init(&r->created);
	r->created.id = id;
	r->rep.result_case = CAND__REPLY__RESULT_CREATED;
	r->rep.created = &r->created;
}

int op_bcm_task_start(struct conn *c, Cand__Request *req,
		      struct dispatch_reply *r)
{
	const Cand__TaskStartRequest *ts = req->task_start;
	struct task_spec t = {
		.n_frames = ts->n_frames,
		.period_us = ts->period_us,
		.duration_us = ts->duration_us,
		.paused = ts->paused,
	};
	struct frame_desc *frames;
	uint32_t id;
	int rc;

	if ((rc = encode_frame_descs(ts->frames, ts->n_frames, &frames)) < 0)
		return rc;
	t.frames = frames;
	rc = task_start(c->s, &t, &id, r->detail, sizeof(r->detail));
	free(frames);
	if (rc == 0)
		op_bcm_created(r, id);
	return rc;
}

int op_bcm_task_modify(struct conn *c, Cand__Request *req,
		       struct dispatch_reply *r)
{
	const Cand__TaskModifyRequest *tm = req->task_modify;
	struct frame_desc *frames;
	int rc;

	if ((rc = encode_frame_descs(tm->frames, tm->n_frames, &frames)) < 0)
		return rc;
	rc = task_modify(c->s, tm->task_id, frames, tm->n_frames, r->detail,
			 sizeof(r->detail));
	free(frames);
	return rc;
}

int op_bcm_task_stop(struct conn *c, Cand__Request *req,
		     struct dispatch_reply *r)
{
	return task_stop(c->s, req->task_stop->id, r->detail,
			 sizeof(r->detail));
}

int op_bcm_task_resume(struct conn *c, Cand__Request *req,
		       struct dispatch_reply *r)
{
	return task_resume(c->s, req->task_resume->id, r->detail,
			   sizeof(r->detail));
}

int op_bcm_task_remove(struct conn *c, Cand__Request *req,
		       struct dispatch_reply *r)
{
	return bcmop_remove(c->s, req->task_remove->id, BCM_TASK, r->detail,
			    sizeof(r->detail));
}

int op_bcm_task_stop_all(struct conn *c, Cand__Request *req,
			 struct dispatch_reply *r)
{
	(void)req;
	return task_stop_all(c->s, r->detail, sizeof(r->detail));
}

/* The frames of every task, each pointing into the task's own message. */
static int op_bcm_list_frames(struct dispatch_reply *r,
			      const struct task_info *info, size_t n)
{
	Cand__Frame *frames, **ptrs;
	size_t i, j, total = 0, k = 0;

	for (i = 0; i < n; i++)
		total += info[i].n_frames;
	r->alloc[1] = calloc(total, sizeof(*frames) + sizeof(*ptrs));
	if (r->alloc[1] == NULL)
		return -ENOMEM;
	frames = r->alloc[1];
	ptrs = (Cand__Frame **)(frames + total);
	for (i = 0; i < n; i++) {
		r->tasks.tasks[i]->frames = ptrs + k;
		r->tasks.tasks[i]->n_frames = info[i].n_frames;
		for (j = 0; j < info[i].n_frames; j++, k++) {
			cand__frame__init(&frames[k]);
			encode_frame_pb(task_frame(&info[i], j), info[i].is_fd,
					&frames[k]);
			frames[k].ifname = (char *)info[i].ifname;
			ptrs[k] = &frames[k];
		}
	}
	return 0;
}

/* The task list itself, for n tasks. */
static int op_bcm_list(struct conn *c, struct dispatch_reply *r, size_t n)
{
	struct task_info *info;
	Cand__TaskInfo *ti;
	size_t i;

	r->alloc[0] = calloc(n, sizeof(*info) + sizeof(*ti) + sizeof(ti));
	if (r->alloc[0] == NULL)
		return -ENOMEM;
	info = r->alloc[0];
	ti = (Cand__TaskInfo *)(info + n);
	r->tasks.tasks = (Cand__TaskInfo **)(ti + n);
	r->tasks.n_tasks = task_list(c->s, info, n);
	for (i = 0; i < n; i++) {
		cand__task_info__init(&ti[i]);
		ti[i].task_id = info[i].id;
		ti[i].state = (Cand__TaskState)info[i].state;
		ti[i].period_us = info[i].period_us;
		ti[i].duration_us = info[i].duration_us;
		r->tasks.tasks[i] = &ti[i];
	}
	if (op_bcm_list_frames(r, info, n) < 0) {
		r->tasks.n_tasks = 0;
		return -ENOMEM;
	}
	return 0;
}

int op_bcm_task_list(struct conn *c, Cand__Request *req,
		     struct dispatch_reply *r)
{
	size_t n;
	int rc;

	(void)req;
	cand__task_list_reply__init(&r->tasks);
	n = task_list(c->s, NULL, 0);
	if (n > 0 && (rc = op_bcm_list(c, r, n)) < 0)
		return rc;
	r->rep.result_case = CAND__REPLY__RESULT_TASKS;
	r->rep.tasks = &r->tasks;
	return 0;
}

int op_bcm_monitor_start(struct conn *c, Cand__Request *req,
			 struct dispatch_reply *r)
{
	const Cand__MonitorStartRequest *ms = req->monitor_start;
	struct monitor_spec m = {
		.id = ms->id,
		.extended = ms->extended,
		.fd = ms->fd,
		.n_masks = ms->n_masks,
		.timeout_us = ms->timeout_us,
		.throttle_us = ms->throttle_us,
		.every_frame = ms->every_frame,
		.check_dlc = ms->check_dlc,
		.announce_resume = ms->announce_resume,
		.ifname = ms->ifname,
	};
	struct monitor_mask *masks;
	struct frame_desc rtr;
	uint32_t id;
	size_t i;
	int rc;

	masks = calloc(ms->n_masks ? ms->n_masks : 1, sizeof(*masks));
	if (masks == NULL)
		return -ENOMEM;
	for (i = 0; i < ms->n_masks; i++) {
		masks[i].data = ms->masks[i].data;
		masks[i].len = ms->masks[i].len;
	}
	m.masks = masks;
	if (ms->rtr_reply != NULL) {
		encode_frame_desc(ms->rtr_reply, &rtr);
		m.rtr_reply = &rtr;
	}
	rc = monitor_start(c->s, &m, &id, r->detail, sizeof(r->detail));
	free(masks);
	if (rc == 0)
		op_bcm_created(r, id);
	return rc;
}

int op_bcm_monitor_stop(struct conn *c, Cand__Request *req,
			struct dispatch_reply *r)
{
	return bcmop_remove(c->s, req->monitor_stop->id, BCM_MONITOR, r->detail,
			    sizeof(r->detail));
}
