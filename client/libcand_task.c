/*
 * Periodic tasks and content monitors: the daemon keeps them, by id, in
 * the kernel's broadcast manager. Both kinds of handle are a struct
 * cand_ref on their cand_t's list, so closing the cand_t can tell them
 * they are orphans, and their events come through cand_recv_event().
 */
#include <stdlib.h>
#include <string.h>

#include "libcand_int.h"

/*
 * A new task or monitor, listed on h. Its id is the daemon's, unless
 * another of its kind already has that one, set up again after a
 * reconnection under its first id: ids must stay the application's.
 */
static void libcand_task_ref_add(struct cand *h, struct cand_ref *r,
				 enum cand_ref_kind kind, uint32_t wire_id,
				 const Cand__Request *req)
{
	struct cand_ref *o;
	uint32_t id = wire_id, max = 0;
	int taken = 0;

	for (o = h->refs; o != NULL; o = o->next) {
		if (o->kind != kind)
			continue;
		taken |= o->id == id;
		if (o->id > max)
			max = o->id;
	}
	r->h = h;
	r->kind = kind;
	r->id = taken ? max + 1 : id;
	r->wire_id = wire_id;
	r->gen = h->gen;
	r->started_ms = libcand_conn_now_ms();
	libcand_resume_keep(h, &r->kept, req);
	r->next = h->refs;
	h->refs = r;
}

/* A request that names one task or monitor. */
static int libcand_task_ref_rpc(struct cand_ref *r, Cand__Request__OpCase op)
{
	Cand__Request req = CAND__REQUEST__INIT;
	Cand__IdRef ref = CAND__ID_REF__INIT;

	req.op_case = op;
	switch (op) {
	case CAND__REQUEST__OP_TASK_STOP:
		req.task_stop = &ref;
		break;
	case CAND__REQUEST__OP_TASK_RESUME:
		req.task_resume = &ref;
		break;
	case CAND__REQUEST__OP_TASK_REMOVE:
		req.task_remove = &ref;
		break;
	case CAND__REQUEST__OP_MONITOR_STOP:
		req.monitor_stop = &ref;
		break;
	default:
		return CAND_EINTERNAL;
	}
	return libcand_rpc_ref(r->h, &req, r, &ref.id);
}

/*
 * Ends what r names in the daemon and takes r off its cand_t's list
 * first, so that no reconnection sets it up again. Best effort: if the
 * daemon is gone, so is what r named.
 */
static void libcand_task_ref_drop(struct cand_ref *r, Cand__Request__OpCase op)
{
	struct cand_ref **pp;

	if (r->h == NULL) {
		libcand_resume_drop(&r->kept);
		return;
	}
	for (pp = &r->h->refs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	libcand_task_ref_rpc(r, op);
	libcand_resume_drop(&r->kept);
}

/*
 * A task's new state, as a replay would set it up: given before the
 * request, so that a reconnection during it already does what it asks.
 */
static int libcand_task_set(struct cand_ref *r, Cand__Request__OpCase op,
			    enum cand_task_state state)
{
	enum cand_task_state was = r->state;
	int64_t started = r->started_ms;
	int rc;

	r->state = state;
	if (state == CAND_TASK_RUNNING && was != CAND_TASK_RUNNING)
		r->started_ms = libcand_conn_now_ms();
	if ((rc = libcand_task_ref_rpc(r, op)) < 0) {
		r->state = was;
		r->started_ms = started;
	}
	return rc;
}

/* Frames for a task request, checked and in the reused arrays. */
static int libcand_task_frames(struct cand *h, const struct cand_frame *frames,
			       size_t n)
{
	int rc;

	if (frames == NULL && n > 0)
		return libcand_err_set(h, CAND_EINVAL,
				       "%zu frames but no array", n);
	/* The daemon takes 1 to 256 and says so; just keep it sane here. */
	if (n > CAND_MAX_ITEMS)
		return libcand_err_set(h, CAND_EINVAL,
				       "%zu frames for one task", n);
	if ((rc = libcand_pb_check_frames(h, frames, n)) < 0)
		return rc;
	return libcand_pb_put_frames(h, frames, n);
}

CAND_EXPORT int cand_task_start(cand_t *h, const struct cand_frame *frames,
				size_t n, uint64_t period_us,
				uint64_t duration_us, unsigned flags,
				cand_task_t **task)
{
	Cand__Request req = CAND__REQUEST__INIT;
	Cand__TaskStartRequest ts = CAND__TASK_START_REQUEST__INIT;
	struct cand_result res;
	struct cand_task *t;
	int rc;

	if (h == NULL || task == NULL)
		return CAND_EINVAL;
	*task = NULL;
	if (flags & ~CAND_TASK_PAUSED)
		return libcand_err_set(h, CAND_EINVAL,
				       "unknown task flags 0x%x",
				       flags & ~CAND_TASK_PAUSED);
	if ((rc = libcand_task_frames(h, frames, n)) < 0)
		return rc;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return libcand_err_set(h, CAND_ENOMEM, "no memory for a task");
	ts.n_frames = n;
	ts.frames = h->txp;
	ts.period_us = period_us;
	ts.duration_us = duration_us;
	ts.paused = (flags & CAND_TASK_PAUSED) ? 1 : 0;
	req.op_case = CAND__REQUEST__OP_TASK_START;
	req.task_start = &ts;
	rc = libcand_rpc_call(h, &req, &res, NULL, NULL);
	if (rc == 0 && !res.has_created)
		rc = libcand_err_set(h, CAND_EPROTO, "no task id in the reply");
	if (rc < 0) {
		free(t);
		return rc;
	}
	/* A replay starts it paused or not as this says, not as kept. */
	t->ref.state = ts.paused ? CAND_TASK_STOPPED : CAND_TASK_RUNNING;
	libcand_task_ref_add(h, &t->ref, CAND_REF_TASK, res.created, &req);
	*task = t;
	return 0;
}

/*
 * r's kept task_start with the n frames now in h->txp instead, into *k:
 * 0, or -1 when it cannot be (the handle then cannot come back).
 */
static int libcand_task_rekeep(struct cand *h, const struct cand_ref *r,
			       size_t n, struct cand_kept *k)
{
	Cand__Request *req;
	Cand__Frame **old;
	size_t n_old;

	req = cand__request__unpack(NULL, r->kept.len, r->kept.buf);
	if (req != NULL && req->op_case == CAND__REQUEST__OP_TASK_START) {
		/* Packing only reads them: ours in place of the old ones. */
		old = req->task_start->frames;
		n_old = req->task_start->n_frames;
		req->task_start->frames = h->txp;
		req->task_start->n_frames = n;
		libcand_resume_keep(h, k, req);
		req->task_start->frames = old;
		req->task_start->n_frames = n_old;
	}
	if (req != NULL)
		cand__request__free_unpacked(req, NULL);
	return k->len > 0 ? 0 : -1;
}

CAND_EXPORT int cand_task_modify(cand_task_t *t,
				 const struct cand_frame *frames, size_t n)
{
	Cand__Request req = CAND__REQUEST__INIT;
	Cand__TaskModifyRequest tm = CAND__TASK_MODIFY_REQUEST__INIT;
	struct cand_kept was, now = {NULL, 0};
	struct cand *h;
	int rc;

	if (t == NULL || (h = t->ref.h) == NULL)
		return CAND_EINVAL;
	if ((rc = libcand_task_frames(h, frames, n)) < 0)
		return rc;
	tm.n_frames = n;
	tm.frames = h->txp;
	req.op_case = CAND__REQUEST__OP_TASK_MODIFY;
	req.task_modify = &tm;
	/* The new data first, as libcand_task_set() does the state. */
	if (libcand_task_rekeep(h, &t->ref, n, &now) < 0)
		h->unkept = 1;
	was = t->ref.kept;
	t->ref.kept = now;
	if ((rc = libcand_rpc_ref(h, &req, &t->ref, &tm.task_id)) < 0) {
		t->ref.kept = was;
		was = now;
	}
	libcand_resume_drop(&was);
	return rc;
}

CAND_EXPORT int cand_task_stop(cand_task_t *t)
{
	if (t == NULL || t->ref.h == NULL)
		return CAND_EINVAL;
	return libcand_task_set(&t->ref, CAND__REQUEST__OP_TASK_STOP,
				t->ref.state == CAND_TASK_EXPIRED
					? CAND_TASK_EXPIRED
					: CAND_TASK_STOPPED);
}

CAND_EXPORT int cand_task_resume(cand_task_t *t)
{
	if (t == NULL || t->ref.h == NULL)
		return CAND_EINVAL;
	return libcand_task_set(&t->ref, CAND__REQUEST__OP_TASK_RESUME,
				CAND_TASK_RUNNING);
}

CAND_EXPORT void cand_task_free(cand_task_t *t)
{
	if (t == NULL)
		return;
	libcand_task_ref_drop(&t->ref, CAND__REQUEST__OP_TASK_REMOVE);
	free(t);
}

CAND_EXPORT uint32_t cand_task_id(const cand_task_t *t)
{
	return t != NULL ? t->ref.id : 0;
}

CAND_EXPORT int cand_task_stop_all(cand_t *h)
{
	Cand__Request req = CAND__REQUEST__INIT;
	Cand__TaskStopAllRequest sa = CAND__TASK_STOP_ALL_REQUEST__INIT;
	struct cand_result res;
	struct cand_ref *r;

	if (h == NULL)
		return CAND_EINVAL;
	req.op_case = CAND__REQUEST__OP_TASK_STOP_ALL;
	req.task_stop_all = &sa;
	/* Stopped before the request, as libcand_task_set() does. */
	for (r = h->refs; r != NULL; r = r->next)
		if (r->kind == CAND_REF_TASK && r->state == CAND_TASK_RUNNING)
			r->state = CAND_TASK_STOPPED;
	return libcand_rpc_call(h, &req, &res, NULL, NULL);
}

/* One block: the infos, then every task's frames, so free() frees all. */
static int libcand_task_take_list(struct cand_result *res, const Cand__Reply *r)
{
	struct cand_array *out = res->take_arg;
	const Cand__TaskListReply *l =
		r->result_case == CAND__REPLY__RESULT_TASKS ? r->tasks : NULL;
	struct cand_task_info *v;
	struct cand_frame *f;
	size_t i, j, n = l != NULL ? l->n_tasks : 0, nf = 0;

	for (i = 0; i < n; i++) {
		if (l->tasks[i]->n_frames > CAND_MAX_ITEMS)
			return CAND_EPROTO;
		nf += l->tasks[i]->n_frames;
	}
	v = calloc(1, (n ? n : 1) * sizeof(*v) + nf * sizeof(*f));
	if (v == NULL)
		return CAND_ENOMEM;
	f = (struct cand_frame *)(v + (n ? n : 1));
	for (i = 0; i < n; i++) {
		const Cand__TaskInfo *p = l->tasks[i];

		v[i].id = p->task_id;
		v[i].state = p->state == CAND__TASK_STATE__TASK_RUNNING
				     ? CAND_TASK_RUNNING
			     : p->state == CAND__TASK_STATE__TASK_EXPIRED
				     ? CAND_TASK_EXPIRED
				     : CAND_TASK_STOPPED;
		v[i].period_us = p->period_us;
		v[i].duration_us = p->duration_us;
		v[i].n_frames = p->n_frames;
		v[i].frames = f;
		for (j = 0; j < p->n_frames; j++)
			libcand_pb_get_frame(f++, p->frames[j]);
	}
	out->v = v;
	out->n = n;
	return 0;
}

CAND_EXPORT int cand_task_list(cand_t *h, struct cand_task_info **out)
{
	Cand__Request req = CAND__REQUEST__INIT;
	Cand__TaskListRequest tl = CAND__TASK_LIST_REQUEST__INIT;
	struct cand_ref *r;
	void *v;
	int i, rc;

	if (h == NULL || out == NULL)
		return CAND_EINVAL;
	req.op_case = CAND__REQUEST__OP_TASK_LIST;
	req.task_list = &tl;
	rc = libcand_rpc_list(h, &req, libcand_task_take_list, sizeof(**out),
			      &v);
	*out = v;
	/* The daemon's ids of this connection, as the application knows them.
	 */
	for (i = 0; i < rc; i++)
		if ((r = libcand_event_ref(h, CAND_REF_TASK, (*out)[i].id)))
			(*out)[i].id = r->id;
	return rc;
}

CAND_EXPORT void cand_monitor_opts_init(struct cand_monitor_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
}

/* What the daemon cannot judge for itself, or only after copying. */
static int libcand_task_check_monitor(struct cand *h,
				      const struct cand_monitor_opts *opts)
{
	size_t i;
	int rc;

	if (opts->flags & ~(CAND_MONITOR_EVERY_FRAME | CAND_MONITOR_CHECK_LEN |
			    CAND_MONITOR_RESUME))
		return libcand_err_set(h, CAND_EINVAL,
				       "unknown monitor flags 0x%x",
				       opts->flags);
	if (opts->masks == NULL && opts->n_masks > 0)
		return libcand_err_set(h, CAND_EINVAL, "%zu masks but no array",
				       opts->n_masks);
	if (opts->n_masks > CAND_MAX_ITEMS)
		return libcand_err_set(h, CAND_EINVAL, "%zu masks",
				       opts->n_masks);
	for (i = 0; i < opts->n_masks; i++)
		if (opts->masks[i].len > CAND_MAX_DLEN)
			return libcand_err_set(h, CAND_EINVAL,
					       "mask %zu: length %u is over 64",
					       i, opts->masks[i].len);
	if (opts->rtr_reply != NULL &&
	    (rc = libcand_pb_check_frames(h, opts->rtr_reply, 1)) < 0)
		return rc;
	if (opts->ifname != NULL &&
	    strnlen(opts->ifname, CAND_IFNAMSIZ) == CAND_IFNAMSIZ)
		return libcand_err_set(h, CAND_EINVAL,
				       "interface name too long");
	return 0;
}

CAND_EXPORT int cand_monitor_start(cand_t *h,
				   const struct cand_monitor_opts *opts,
				   cand_monitor_t **mon)
{
	Cand__Request req = CAND__REQUEST__INIT;
	Cand__MonitorStartRequest ms = CAND__MONITOR_START_REQUEST__INIT;
	Cand__Frame reply;
	ProtobufCBinaryData *masks = NULL;
	struct cand_result res;
	struct cand_monitor *m;
	size_t i;
	int rc;

	if (h == NULL || opts == NULL || mon == NULL)
		return CAND_EINVAL;
	*mon = NULL;
	if ((rc = libcand_task_check_monitor(h, opts)) < 0)
		return rc;
	if (opts->n_masks > 0 &&
	    (masks = calloc(opts->n_masks, sizeof(*masks))) == NULL)
		return libcand_err_set(h, CAND_ENOMEM,
				       "no memory for the masks");
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		free(masks);
		return libcand_err_set(h, CAND_ENOMEM,
				       "no memory for a monitor");
	}
	for (i = 0; i < opts->n_masks; i++) {
		/* pack() only reads through these pointers. */
		masks[i].len = opts->masks[i].len;
		masks[i].data = (uint8_t *)opts->masks[i].data;
	}
	ms.id = opts->id;
	ms.extended = (opts->frame_flags & CAND_FRAME_EXTENDED) ? 1 : 0;
	ms.fd = (opts->frame_flags & CAND_FRAME_FD) ? 1 : 0;
	ms.n_masks = opts->n_masks;
	ms.masks = masks;
	ms.timeout_us = opts->timeout_us;
	ms.throttle_us = opts->throttle_us;
	ms.every_frame = (opts->flags & CAND_MONITOR_EVERY_FRAME) ? 1 : 0;
	ms.check_dlc = (opts->flags & CAND_MONITOR_CHECK_LEN) ? 1 : 0;
	ms.announce_resume = (opts->flags & CAND_MONITOR_RESUME) ? 1 : 0;
	if (opts->rtr_reply != NULL) {
		libcand_pb_put_frame(&reply, opts->rtr_reply);
		ms.rtr_reply = &reply;
	}
	ms.ifname = (char *)(opts->ifname != NULL ? opts->ifname : "");
	req.op_case = CAND__REQUEST__OP_MONITOR_START;
	req.monitor_start = &ms;
	rc = libcand_rpc_call(h, &req, &res, NULL, NULL);
	if (rc == 0 && !res.has_created)
		rc = libcand_err_set(h, CAND_EPROTO,
				     "no monitor id in the reply");
	if (rc < 0) {
		free(masks);
		free(m);
		return rc;
	}
	libcand_task_ref_add(h, &m->ref, CAND_REF_MONITOR, res.created, &req);
	free(masks);
	*mon = m;
	return 0;
}

CAND_EXPORT void cand_monitor_free(cand_monitor_t *m)
{
	if (m == NULL)
		return;
	libcand_task_ref_drop(&m->ref, CAND__REQUEST__OP_MONITOR_STOP);
	free(m);
}

CAND_EXPORT uint32_t cand_monitor_id(const cand_monitor_t *m)
{
	return m != NULL ? m->ref.id : 0;
}
