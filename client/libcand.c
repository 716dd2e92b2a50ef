/*
 * libcand: one non-blocking Unix socket per handle, speaking the framing of
 * proto/wire.h.
 *
 * Only one request is ever in flight. Events that arrive while a reply is
 * awaited are queued, so the receive path sees every frame in order; other
 * events (links, tasks, monitors) wait in a second queue, each marked with
 * the number of frames queued before it, so both come out in order. The
 * receive path reads in large chunks and unpacks each FrameBatch into an
 * arena that is reset per message, so a flood costs no malloc per frame
 * and one syscall per chunk rather than per frame.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cand.h"
#include "cand.pb-c.h"
#include "framepack.h"
#include "wire.h"

/* The .so is built with -fvisibility=hidden; this is the public API. */
#define CAND_EXPORT __attribute__((visibility("default")))

#define CAND_INBUF_INIT (256 * 1024)
/* Never offer recv() less room than this: one syscall per many frames. */
#define CAND_READ_MIN	(64 * 1024)
#define CAND_ARENA_INIT (256 * 1024)
/* The arena grows to fit the largest message seen, up to this. */
#define CAND_ARENA_KEEP (16 * 1024 * 1024)
#define CAND_QUEUE_INIT 256
#define CAND_DETAIL_MAX 512
/* Frames per SendRequest: ~430 KiB at worst, well under CAND_MAX_MSG. */
#define CAND_SEND_CHUNK 4096
/* How much longer than its own work a request may take to be answered. */
#define CAND_RPC_GRACE_MS 30000
#define CAND_ALIGN	  _Alignof(max_align_t)

/* Memory for one unpacked message; everything is dropped at once. */
struct cand_arena_big {
	struct cand_arena_big *next;
	max_align_t mem[];
};

struct cand_arena {
	unsigned char *buf;
	size_t cap;
	size_t used;
	struct cand_arena_big *big; /* what did not fit in buf */
	size_t big_bytes;
	int failed;
};

/* An event, held back until the frames queued before it are read. */
struct cand_queued_event {
	uint64_t at; /* frames queued before it */
	int err;     /* what cand_recv() reports for it; 0: skipped there */
	struct cand_event ev;
};

/* What a task or a monitor handle holds: its id, listed on its cand_t. */
struct cand_ref {
	struct cand *h; /* NULL once the cand_t is closed */
	uint32_t id;
	struct cand_ref *next;
};

struct cand_task {
	struct cand_ref ref;
};

struct cand_monitor {
	struct cand_ref ref;
};

struct cand_result;
/* A call's own part of an OK reply, taken before its memory is reused. */
typedef int (*cand_take_fn)(struct cand_result *res, const Cand__Reply *r);

/* What the awaited reply said. */
struct cand_result {
	uint32_t want;
	int done;
	int status;
	int has_sent;
	uint32_t sent;
	struct cand_iface *ifaces;
	size_t n_ifaces;
	int has_created;
	uint32_t created; /* a new task's or monitor's id */
	struct cand_task_info *tasks;
	size_t n_tasks;
	int err; /* a local failure while taking the reply apart */
	cand_take_fn take;
	void *take_arg;
};

struct cand {
	int fd;
	uint32_t last_id;

	/* Once set, every call fails with it (after queued frames). */
	int dead;
	int dead_reported;
	/* The last recv() left the socket empty: wait before reading again. */
	int drained;
	int rcvtimeo_ms; /* the socket's SO_RCVTIMEO, 0: none */
	char dead_detail[CAND_DETAIL_MAX];

	unsigned char *in;
	size_t in_cap;
	size_t in_off; /* first unconsumed byte */
	size_t in_len; /* end of the data */

	struct cand_arena arena;
	ProtobufCAllocator alloc;

	struct cand_frame *q;
	size_t q_cap;
	size_t q_head;
	size_t q_tail;
	uint64_t q_in;	/* frames ever queued */
	uint64_t q_out; /* frames ever handed out */

	struct cand_queued_event *evs;
	size_t n_evs;
	size_t evs_cap;
	char channel[CAND_IFNAMSIZ]; /* open on this; "" for every one */

	struct cand_ref *refs; /* task and monitor handles */

	uint64_t kernel_drops;

	unsigned char *out;
	size_t out_cap;
	Cand__Frame *tx;
	Cand__Frame **txp;
	size_t tx_cap;

	char detail[CAND_DETAIL_MAX];
};

static int64_t cand_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void cand_vdetail(char *buf, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static void cand_vdetail(char *buf, const char *fmt, va_list ap)
{
	vsnprintf(buf, CAND_DETAIL_MAX, fmt, ap);
}

/* Records why a call failed and returns err; errno survives for ESYS. */
static int cand_fail(struct cand *h, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int cand_fail(struct cand *h, int err, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	cand_vdetail(h->detail, fmt, ap);
	va_end(ap);
	errno = saved;
	return err;
}

/* The connection can no longer be trusted: fail everything from now on. */
static int cand_kill(struct cand *h, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int cand_kill(struct cand *h, int err, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	if (h->dead == 0) {
		va_start(ap, fmt);
		cand_vdetail(h->dead_detail, fmt, ap);
		va_end(ap);
		h->dead = err;
	}
	/* After EOF the buffered messages are still good; after junk not. */
	if (err != CAND_EDISCONNECTED)
		h->in_off = h->in_len = 0;
	memcpy(h->detail, h->dead_detail, sizeof(h->detail));
	errno = saved;
	return h->dead;
}

static int cand_dead(struct cand *h)
{
	memcpy(h->detail, h->dead_detail, sizeof(h->detail));
	h->dead_reported = 1;
	return h->dead;
}

static void *cand_arena_alloc(void *data, size_t size)
{
	struct cand_arena *a = data;
	struct cand_arena_big *b;
	void *p;

	if (size > SIZE_MAX / 2)
		goto fail;
	size = (size + CAND_ALIGN - 1) & ~(size_t)(CAND_ALIGN - 1);
	if (size <= a->cap - a->used) {
		p = a->buf + a->used;
		a->used += size;
		return p;
	}
	if ((b = malloc(sizeof(*b) + size)) == NULL)
		goto fail;
	b->next = a->big;
	a->big = b;
	a->big_bytes += size;
	return b->mem;
fail:
	a->failed = 1;
	return NULL;
}

static void cand_arena_free(void *data, void *p)
{
	/* Everything goes at once in cand_arena_reset(). */
	(void)data;
	(void)p;
}

static void cand_arena_reset(struct cand_arena *a)
{
	struct cand_arena_big *b;
	unsigned char *buf;
	size_t want;

	while ((b = a->big) != NULL) {
		a->big = b->next;
		free(b);
	}
	/* Size the arena for what the last message needed, within reason. */
	if (a->big_bytes > 0 && a->cap < CAND_ARENA_KEEP) {
		want = a->cap + a->big_bytes;
		if (want > CAND_ARENA_KEEP)
			want = CAND_ARENA_KEEP;
		if ((buf = malloc(want)) != NULL) {
			free(a->buf);
			a->buf = buf;
			a->cap = want;
		}
	}
	a->big_bytes = 0;
	a->used = 0;
	a->failed = 0;
}

/* Makes room for n more frames at the queue's tail. */
static int cand_queue_reserve(struct cand *h, size_t n)
{
	struct cand_frame *q;
	size_t queued = h->q_tail - h->q_head, cap;

	if (h->q_cap - h->q_tail >= n)
		return 0;
	if (h->q_head > 0) {
		memmove(h->q, h->q + h->q_head, queued * sizeof(*h->q));
		h->q_head = 0;
		h->q_tail = queued;
		if (h->q_cap - h->q_tail >= n)
			return 0;
	}
	cap = h->q_cap ? h->q_cap : CAND_QUEUE_INIT;
	while (cap - queued < n) {
		if (cap > SIZE_MAX / 2 / sizeof(*q))
			return CAND_ENOMEM;
		cap *= 2;
	}
	if ((q = realloc(h->q, cap * sizeof(*q))) == NULL)
		return CAND_ENOMEM;
	h->q = q;
	h->q_cap = cap;
	return 0;
}

static void cand_copy_str(char *dst, size_t size, const char *src)
{
	size_t n = src != NULL ? strnlen(src, size - 1) : 0;

	if (n > 0)
		memcpy(dst, src, n);
	memset(dst + n, 0, size - n);
}

static void cand_frame_from_pb(struct cand_frame *f, const Cand__Frame *p)
{
	size_t n, max;

	f->id = p->id;
	f->flags = (p->extended ? CAND_FRAME_EXTENDED : 0) |
		   (p->remote ? CAND_FRAME_REMOTE : 0) |
		   (p->error ? CAND_FRAME_ERROR : 0) |
		   (p->fd ? CAND_FRAME_FD : 0) | (p->brs ? CAND_FRAME_BRS : 0) |
		   (p->esi ? CAND_FRAME_ESI : 0) |
		   (p->own ? CAND_FRAME_OWN : 0);
	max = p->fd ? CAND_MAX_DLEN : 8;
	if (p->remote) {
		f->len = (uint8_t)(p->dlc > max ? max : p->dlc);
		n = 0;
	} else {
		n = p->data.len > max ? max : p->data.len;
		f->len = (uint8_t)n;
		if (n > 0)
			memcpy(f->data, p->data.data, n);
	}
	memset(f->data + n, 0, sizeof(f->data) - n);

	n = p->ifname != NULL ? strnlen(p->ifname, sizeof(f->ifname) - 1) : 0;
	if (n > 0)
		memcpy(f->ifname, p->ifname, n);
	memset(f->ifname + n, 0, sizeof(f->ifname) - n);
	f->timestamp_ns = p->timestamp_ns;
}

static void cand_frame_from_rec(struct cand_frame *f,
				const struct framepack_rec *r,
				const char *ifname)
{
	size_t n = r->data != NULL ? r->len : 0;
	size_t max = (r->flags & FRAMEPACK_FD) ? CAND_MAX_DLEN : 8;

	f->id = r->can_id & 0x1fffffffu;
	f->flags = ((r->can_id & FRAMEPACK_EFF) ? CAND_FRAME_EXTENDED : 0) |
		   ((r->can_id & FRAMEPACK_RTR) ? CAND_FRAME_REMOTE : 0) |
		   ((r->can_id & FRAMEPACK_ERR) ? CAND_FRAME_ERROR : 0) |
		   ((r->flags & FRAMEPACK_FD) ? CAND_FRAME_FD : 0) |
		   ((r->flags & FRAMEPACK_BRS) ? CAND_FRAME_BRS : 0) |
		   ((r->flags & FRAMEPACK_ESI) ? CAND_FRAME_ESI : 0) |
		   ((r->flags & FRAMEPACK_OWN) ? CAND_FRAME_OWN : 0);
	f->len = r->len > max ? (uint8_t)max : r->len;
	if (n > max)
		n = max;
	if (n > 0)
		memcpy(f->data, r->data, n);
	memset(f->data + n, 0, sizeof(f->data) - n);
	n = strnlen(ifname, sizeof(f->ifname) - 1);
	memcpy(f->ifname, ifname, n);
	memset(f->ifname + n, 0, sizeof(f->ifname) - n);
	f->timestamp_ns = r->timestamp_ns;
}

static int cand_queue_batch(struct cand *h, const Cand__FrameBatch *b)
{
	struct framepack_rec r;
	size_t off = 0, i;
	int rc;

	h->kernel_drops = b->kernel_drops;
	if (b->count == 0)
		return 0;
	if (b->format != FRAMEPACK_FORMAT)
		return cand_kill(h, CAND_EPROTO,
				 "frame batch format %u (this library reads "
				 "%u)",
				 b->format, FRAMEPACK_FORMAT);
	if (cand_queue_reserve(h, b->count) < 0)
		return cand_kill(h, CAND_ENOMEM, "no memory for %u frames",
				 b->count);
	for (i = 0; i < b->count; i++) {
		rc = framepack_get(b->packed.data, b->packed.len, &off, &r);
		if (rc <= 0 || (r.ifname >= b->n_ifnames && b->n_ifnames > 0))
			return cand_kill(h, CAND_EPROTO,
					 "malformed frame batch");
		cand_frame_from_rec(&h->q[h->q_tail++], &r,
				    b->n_ifnames ? b->ifnames[r.ifname] : "");
		h->q_in++;
	}
	return 0;
}

static void cand_copy_str(char *dst, size_t size, const char *src);

/* Appends an event behind the frames queued so far. */
static int cand_queue_event(struct cand *h, const struct cand_event *ev,
			    int err)
{
	struct cand_queued_event *q;

	if (h->n_evs == h->evs_cap) {
		size_t cap = h->evs_cap ? h->evs_cap * 2 : 4;

		if ((q = realloc(h->evs, cap * sizeof(*q))) == NULL)
			return cand_kill(h, CAND_ENOMEM,
					 "no memory for an event");
		h->evs = q;
		h->evs_cap = cap;
	}
	q = &h->evs[h->n_evs++];
	q->at = h->q_in;
	q->err = err;
	q->ev = *ev;
	return 0;
}

static int cand_queue_link(struct cand *h, const Cand__LinkEvent *le)
{
	struct cand_event ev;
	const char *what;
	int err;

	memset(&ev, 0, sizeof(ev));
	ev.type = CAND_EVENT_LINK;
	cand_copy_str(ev.ifname, sizeof(ev.ifname), le->ifname);
	ev.link.up = le->up;
	ev.link.running = le->running;
	ev.link.removed = le->removed;
	ev.link.appeared = le->appeared;
	ev.link.rebound = le->rebound;
	ev.link.ifindex = le->ifindex;

	if (le->status != CAND__STATUS__OK)
		err = (int)le->status > 0 ? -(int)le->status : CAND_EPROTO;
	else if (le->removed)
		err = CAND_ENODEV;
	else if (!le->up)
		err = CAND_ENETDOWN;
	else
		err = 0; /* back up: cand_recv() simply receives again */
	/* cand_recv() reports only what befalls its own channel. */
	if (h->channel[0] == '\0' || strcmp(ev.ifname, h->channel) != 0)
		err = 0;

	if (err == CAND_ENODEV)
		what = "is gone";
	else if (err == CAND_ENETDOWN)
		what = "is down";
	else
		what = le->up ? "is up" : cand_strerror(err);
	if (le->detail != NULL && le->detail[0] != '\0')
		snprintf(ev.detail, sizeof(ev.detail), "%s", le->detail);
	else
		snprintf(ev.detail, sizeof(ev.detail), "%s: interface %s",
			 le->ifname != NULL ? le->ifname : "?", what);
	return cand_queue_event(h, &ev, err);
}

/*
 * A reload took rights away. Receiving is what cand_recv is about, so it
 * reports CAND_EPERM once when "read" went; a lost "send" shows at the
 * next send. cand_recv_event() reports it as a CAND_EVENT_RIGHTS.
 */
static int cand_queue_rights(struct cand *h, const Cand__RightsEvent *re)
{
	struct cand_event ev;
	size_t i;
	int err = 0;

	memset(&ev, 0, sizeof(ev));
	ev.type = CAND_EVENT_RIGHTS;
	for (i = 0; i < re->n_revoked; i++)
		if (re->revoked[i] != NULL &&
		    strcmp(re->revoked[i], "read") == 0)
			err = CAND_EPERM;
	snprintf(ev.detail, sizeof(ev.detail), "%s",
		 re->detail != NULL && re->detail[0] ? re->detail
						     : "rights were revoked");
	return cand_queue_event(h, &ev, err);
}

static void cand_config_from_pb(struct cand_bus_config *c,
				const Cand__BusConfig *p)
{
	memset(c, 0, sizeof(*c));
	if (p == NULL)
		return;
	c->bitrate = p->bitrate;
	c->sample_point = p->sample_point;
	c->data_bitrate = p->data_bitrate;
	c->data_sample_point = p->data_sample_point;
	c->restart_ms = p->restart_ms;
	c->ctrlmode = p->ctrlmode;
	c->ctrlmode_supported = p->ctrlmode_supported;
	c->clock_hz = p->clock_hz;
}

static enum cand_state cand_state_from_pb(Cand__CanState s)
{
	if ((int)s < CAND_STATE_NONE || (int)s > CAND_STATE_SLEEPING)
		return CAND_STATE_NONE; /* from a newer daemon */
	return (enum cand_state)s;
}

static int cand_queue_state(struct cand *h, const Cand__StateEvent *se)
{
	struct cand_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = CAND_EVENT_STATE;
	cand_copy_str(ev.ifname, sizeof(ev.ifname), se->ifname);
	cand_copy_str(ev.detail, sizeof(ev.detail), se->detail);
	ev.state.state = cand_state_from_pb(se->state);
	ev.state.previous = cand_state_from_pb(se->previous);
	ev.state.has_error_counters = se->has_error_counters;
	ev.state.tx_errors = se->tx_errors;
	ev.state.rx_errors = se->rx_errors;
	ev.state.from_error_frames = se->from_error_frames;
	return cand_queue_event(h, &ev, 0);
}

static int cand_queue_config(struct cand *h, const Cand__ConfigEvent *ce)
{
	struct cand_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = CAND_EVENT_CONFIG;
	cand_copy_str(ev.ifname, sizeof(ev.ifname), ce->ifname);
	cand_copy_str(ev.detail, sizeof(ev.detail), ce->detail);
	ev.config.controller = ce->config != NULL;
	cand_config_from_pb(&ev.config.config, ce->config);
	cand_config_from_pb(&ev.config.previous, ce->previous);
	ev.config.mtu = ce->mtu;
	ev.config.previous_mtu = ce->previous_mtu;
	return cand_queue_event(h, &ev, 0);
}

static int cand_queue_drops(struct cand *h, const Cand__DropEvent *de)
{
	struct cand_event ev;

	if (de->kernel_drops > h->kernel_drops)
		h->kernel_drops = de->kernel_drops;
	memset(&ev, 0, sizeof(ev));
	ev.type = CAND_EVENT_DROPS;
	cand_copy_str(ev.detail, sizeof(ev.detail), de->detail);
	ev.drops.kernel_drops = de->kernel_drops;
	ev.drops.dropped = de->dropped;
	ev.drops.slow_reader = de->slow_reader;
	return cand_queue_event(h, &ev, 0);
}

static int cand_queue_task_event(struct cand *h, const Cand__TaskEvent *te)
{
	struct cand_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = CAND_EVENT_TASK_EXPIRED;
	ev.id = te->task_id;
	ev.frame.timestamp_ns = te->timestamp_ns;
	return cand_queue_event(h, &ev, 0);
}

static int cand_queue_monitor_event(struct cand *h,
				    const Cand__MonitorEvent *me)
{
	struct cand_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = me->kind == CAND__MONITOR_EVENT_KIND__MONITOR_TIMEOUT
			  ? CAND_EVENT_MONITOR_TIMEOUT
			  : CAND_EVENT_MONITOR_CHANGED;
	ev.id = me->monitor_id;
	if (me->frame != NULL)
		cand_frame_from_pb(&ev.frame, me->frame);
	cand_copy_str(ev.frame.ifname, sizeof(ev.frame.ifname), me->ifname);
	cand_copy_str(ev.ifname, sizeof(ev.ifname), me->ifname);
	ev.frame.timestamp_ns = me->timestamp_ns;
	return cand_queue_event(h, &ev, 0);
}

static int cand_take_list(struct cand_result *res, const Cand__ListReply *l)
{
	struct cand_iface *v;
	size_t i, n = l != NULL ? l->n_interfaces : 0;

	/* Never NULL on success, so callers may test the pointer. */
	if ((v = calloc(n ? n : 1, sizeof(*v))) == NULL)
		return CAND_ENOMEM;
	for (i = 0; i < n; i++) {
		const Cand__Interface *p = l->interfaces[i];

		cand_copy_str(v[i].name, sizeof(v[i].name), p->name);
		v[i].ifindex = p->ifindex;
		v[i].up = p->up ? 1 : 0;
		v[i].mtu = p->mtu;
		v[i].hardware = p->type == CAND__IFACE_TYPE__HARDWARE;
		cand_copy_str(v[i].kind, sizeof(v[i].kind), p->kind);
	}
	res->ifaces = v;
	res->n_ifaces = n;
	return 0;
}

/* One block: the infos, then every task's frames, so free() frees all. */
static int cand_take_tasks(struct cand_result *res,
			   const Cand__TaskListReply *l)
{
	struct cand_task_info *v;
	struct cand_frame *f;
	size_t i, j, n = l != NULL ? l->n_tasks : 0, nf = 0;

	for (i = 0; i < n; i++) {
		if (l->tasks[i]->n_frames > 4096)
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
			cand_frame_from_pb(f++, p->frames[j]);
	}
	res->tasks = v;
	res->n_tasks = n;
	return 0;
}

static void cand_take_reply(struct cand *h, const Cand__Reply *r,
			    struct cand_result *res)
{
	/*
	 * Replies to requests that timed out are dropped. An id of 0 is the
	 * daemon's answer to a request it could not decode, which can only be
	 * the one in flight.
	 */
	if (res == NULL || res->done || (r->id != res->want && r->id != 0))
		return;
	res->done = 1;
	/* Status N is CAND_E* -N; a negative one would read as success. */
	res->status = (int)r->status >= 0 ? -(int)r->status : CAND_EPROTO;
	if (r->status != CAND__STATUS__OK)
		cand_copy_str(h->detail, sizeof(h->detail), r->detail);
	if (r->result_case == CAND__REPLY__RESULT_SEND && r->send != NULL) {
		res->has_sent = 1;
		res->sent = r->send->sent;
	}
	if (r->status == CAND__STATUS__OK &&
	    r->result_case == CAND__REPLY__RESULT_LIST)
		res->err = cand_take_list(res, r->list);
	if (r->result_case == CAND__REPLY__RESULT_CREATED &&
	    r->created != NULL) {
		res->has_created = 1;
		res->created = r->created->id;
	}
	if (r->status == CAND__STATUS__OK &&
	    r->result_case == CAND__REPLY__RESULT_TASKS)
		res->err = cand_take_tasks(res, r->tasks);
	if (r->status == CAND__STATUS__OK && res->take != NULL)
		res->err = res->take(res, r);
}

static int cand_take_event(struct cand *h, const Cand__Event *ev)
{
	switch (ev->ev_case) {
	case CAND__EVENT__EV_FRAMES:
		return cand_queue_batch(h, ev->frames);
	case CAND__EVENT__EV_LINK:
		return cand_queue_link(h, ev->link);
	case CAND__EVENT__EV_TASK:
		return cand_queue_task_event(h, ev->task);
	case CAND__EVENT__EV_MONITOR:
		return cand_queue_monitor_event(h, ev->monitor);
	case CAND__EVENT__EV_STATE:
		return cand_queue_state(h, ev->state);
	case CAND__EVENT__EV_CONFIG:
		return cand_queue_config(h, ev->config);
	case CAND__EVENT__EV_DROPS:
		return cand_queue_drops(h, ev->drops);
	case CAND__EVENT__EV_RIGHTS:
		return cand_queue_rights(h, ev->rights);
	case CAND__EVENT__EV_SHUTDOWN:
		/* The last message: every call from now on says so. */
		if (h->dead == CAND_EDISCONNECTED)
			h->dead = 0; /* the EOF read ahead is its consequence */
		return cand_kill(h, CAND_ESHUTDOWN, "%s",
				 ev->shutdown->detail != NULL &&
						 ev->shutdown->detail[0]
					 ? ev->shutdown->detail
					 : "the daemon is shutting down");
	default:
		return 0; /* from a newer daemon; nothing to do with it */
	}
}

/*
 * Takes one complete message out of the input buffer. Returns 1 when one
 * was taken, 0 when none is complete yet, or a negative code when the
 * connection died.
 */
static int cand_take_msg(struct cand *h, struct cand_result *res)
{
	Cand__ServerMsg *m;
	unsigned char *in;
	size_t avail = h->in_len - h->in_off, need;
	uint32_t len;
	int rc = 0;

	if (avail < CAND_WIRE_HDR)
		return 0;
	len = wire_get_len(h->in + h->in_off);
	if (len == 0 || len > CAND_MAX_MSG)
		return cand_kill(h, CAND_EPROTO,
				 "the daemon sent a message of %u bytes "
				 "(limit %u)",
				 len, CAND_MAX_MSG);
	need = CAND_WIRE_HDR + (size_t)len;
	if (avail < need) {
		/* Make sure the rest can be read in. */
		if (h->in_cap - h->in_off < need) {
			memmove(h->in, h->in + h->in_off, avail);
			h->in_off = 0;
			h->in_len = avail;
		}
		if (h->in_cap < need + CAND_READ_MIN) {
			if ((in = realloc(h->in, need + CAND_READ_MIN)) == NULL)
				return cand_kill(h, CAND_ENOMEM,
						 "no memory for a message of "
						 "%u bytes",
						 len);
			h->in = in;
			h->in_cap = need + CAND_READ_MIN;
		}
		return 0;
	}

	m = cand__server_msg__unpack(&h->alloc, len,
				     h->in + h->in_off + CAND_WIRE_HDR);
	h->in_off += need;
	if (h->in_off == h->in_len)
		h->in_off = h->in_len = 0;
	if (m == NULL) {
		rc = h->arena.failed
			     ? cand_kill(h, CAND_ENOMEM,
					 "no memory to decode a message")
			     : cand_kill(h, CAND_EPROTO,
					 "the daemon sent a message that does "
					 "not decode");
		cand_arena_reset(&h->arena);
		return rc;
	}
	switch (m->msg_case) {
	case CAND__SERVER_MSG__MSG_REPLY:
		cand_take_reply(h, m->reply, res);
		break;
	case CAND__SERVER_MSG__MSG_EVENT:
		rc = cand_take_event(h, m->event);
		break;
	default:
		break; /* from a newer daemon */
	}
	cand_arena_reset(&h->arena);
	return rc < 0 ? rc : 1;
}

/*
 * Reads what the socket has, or with wait set blocks in recv() until
 * something comes or SO_RCVTIMEO runs out. Returns 1 when something came,
 * 0 when nothing is there, or a negative code when the connection died.
 */
static int cand_recv_some(struct cand *h, int wait)
{
	unsigned char *in;
	ssize_t n;

	if (h->dead)
		return h->dead;
	if (h->in_off == h->in_len)
		h->in_off = h->in_len = 0;
	if (h->in_cap - h->in_len < CAND_READ_MIN && h->in_off > 0) {
		memmove(h->in, h->in + h->in_off, h->in_len - h->in_off);
		h->in_len -= h->in_off;
		h->in_off = 0;
	}
	if (h->in_cap - h->in_len < CAND_READ_MIN) {
		if ((in = realloc(h->in, h->in_cap * 2)) == NULL)
			return cand_kill(h, CAND_ENOMEM,
					 "no memory for the input buffer");
		h->in = in;
		h->in_cap *= 2;
	}
	for (;;) {
		n = recv(h->fd, h->in + h->in_len, h->in_cap - h->in_len,
			 wait ? 0 : MSG_DONTWAIT);
		if (n > 0) {
			h->drained = (size_t)n < h->in_cap - h->in_len;
			h->in_len += (size_t)n;
			return 1;
		}
		if (n == 0)
			return cand_kill(h, CAND_EDISCONNECTED,
					 "the daemon closed the connection");
		/* A signal ends a wait: the caller looks at the clock. */
		if (errno == EINTR && !wait)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
			h->drained = 1;
			return 0;
		}
		if (errno == ECONNRESET)
			return cand_kill(h, CAND_EDISCONNECTED,
					 "the daemon reset the connection");
		return cand_kill(h, CAND_ESYS, "recv: %s", strerror(errno));
	}
}

static int cand_fill(struct cand *h)
{
	return cand_recv_some(h, 0);
}

/*
 * Waits for the socket until deadline (CLOCK_MONOTONIC ms, < 0 for never).
 * Returns 0 on timeout, else nonzero; a signal counts as a wakeup, the
 * caller tries again and waits anew.
 */
static int cand_wait(struct cand *h, short events, int64_t deadline)
{
	struct pollfd pfd = {.fd = h->fd, .events = events};
	int64_t left = -1;
	int n;

	if (deadline >= 0) {
		left = deadline - cand_now_ms();
		if (left <= 0)
			return 0;
		if (left > INT_MAX)
			left = INT_MAX;
	}
	n = poll(&pfd, 1, (int)left);
	if (n < 0)
		return 1;
	if (n == 0)
		return deadline >= 0 && cand_now_ms() < deadline ? 1 : 0;
	return pfd.revents ? pfd.revents : 1;
}

/* Sets SO_RCVTIMEO for a wait of ms > 0 (< 0: forever), if it changed. */
static int cand_rcvtimeo(struct cand *h, int64_t ms)
{
	int want = ms < 0 ? 0 : ms > INT_MAX ? INT_MAX : (int)ms;
	struct timeval tv = {want / 1000, (want % 1000) * 1000};

	if (want == h->rcvtimeo_ms)
		return 0;
	if (setsockopt(h->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		return -1;
	h->rcvtimeo_ms = want;
	return 0;
}

/*
 * More input for a receive call: what the socket has, or else a wait for
 * it until the deadline, which is computed only once a wait is needed:
 * frames are mostly buffered already, and a clock read can be a real
 * syscall. Returns 0 on timeout, else nonzero: look at the buffer again.
 */
static int cand_more(struct cand *h, int timeout_ms, int64_t *deadline)
{
	int64_t left = -1;

	/* An idle reader pays one recv() per wakeup, not three syscalls. */
	if ((!h->drained || timeout_ms == 0) && cand_fill(h) != 0)
		return 1;
	if (timeout_ms == 0)
		return 0;
	if (timeout_ms > 0 && *deadline < 0) {
		*deadline = cand_now_ms() + timeout_ms;
		left = timeout_ms;
	} else if (timeout_ms > 0) {
		if ((left = *deadline - cand_now_ms()) <= 0)
			return 0;
	}
	/*
	 * Wait inside recv(): the wakeup returns with the data, where poll()
	 * then recv() cost a syscall more on every frame at a trickle.
	 */
	if (cand_rcvtimeo(h, left) == 0 && cand_recv_some(h, 1) != 0)
		return 1;
	/*
	 * Nothing: the time is up, a signal came, or the fd was made
	 * non-blocking behind our back; poll() tells them apart.
	 */
	if (cand_wait(h, POLLIN, *deadline) == 0)
		return 0;
	h->drained = 0;
	return 1;
}

/* Takes every complete message out of the input buffer. */
static int cand_take_all(struct cand *h, struct cand_result *res)
{
	int rc;

	while ((rc = cand_take_msg(h, res)) > 0)
		;
	return rc;
}

static int cand_write(struct cand *h, const unsigned char *p, size_t len,
		      struct cand_result *res, int64_t deadline)
{
	ssize_t n;
	int rc;

	while (len > 0) {
		n = send(h->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/*
			 * Keep reading while the daemon is not: it may be
			 * blocked on writing events to us.
			 */
			rc = cand_wait(h, POLLOUT | POLLIN, deadline);
			if (rc == 0)
				return cand_kill(h, CAND_ETIMEOUT,
						 "the daemon did not take a "
						 "request in time");
			if (rc & (POLLIN | POLLHUP | POLLERR)) {
				if ((rc = cand_fill(h)) < 0)
					return rc;
				if ((rc = cand_take_all(h, res)) < 0)
					return rc;
			}
			continue;
		}
		if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
			/*
			 * The daemon may have said why before it closed (a
			 * limit, shutting down): that answers the request.
			 */
			while (cand_fill(h) > 0)
				;
			cand_take_all(h, res);
			if (res != NULL && res->done)
				return 0;
			if (h->dead)
				return cand_dead(h);
			return cand_kill(h, CAND_EDISCONNECTED,
					 "the daemon closed the connection");
		}
		return cand_kill(h, CAND_ESYS, "send: %s", strerror(errno));
	}
	return 0;
}

/*
 * Sends req and waits for its reply until deadline (< 0: never); take, if
 * not NULL, copies the call's own results out of an OK reply.
 */
static int cand_rpc_take(struct cand *h, Cand__Request *req,
			 struct cand_result *res, int64_t deadline,
			 cand_take_fn take, void *take_arg)
{
	unsigned char *out;
	size_t len;
	int rc;

	memset(res, 0, sizeof(*res));
	res->take = take;
	res->take_arg = take_arg;
	if (h->dead)
		return cand_dead(h);
	if (++h->last_id == 0)
		h->last_id = 1;
	req->id = res->want = h->last_id;

	len = cand__request__get_packed_size(req);
	if (len > CAND_MAX_MSG)
		return cand_fail(h, CAND_EINVAL,
				 "request of %zu bytes is over the %u byte "
				 "limit",
				 len, CAND_MAX_MSG);
	if (h->out_cap < CAND_WIRE_HDR + len) {
		if ((out = realloc(h->out, CAND_WIRE_HDR + len)) == NULL)
			return cand_fail(h, CAND_ENOMEM,
					 "no memory for a request");
		h->out = out;
		h->out_cap = CAND_WIRE_HDR + len;
	}
	wire_put_len(h->out, (uint32_t)len);
	cand__request__pack(req, h->out + CAND_WIRE_HDR);
	if ((rc = cand_write(h, h->out, CAND_WIRE_HDR + len, res, deadline)) <
	    0)
		return rc;

	while (!res->done) {
		if ((rc = cand_take_msg(h, res)) < 0)
			return rc;
		if (rc > 0)
			continue;
		if (h->dead)
			return cand_dead(h);
		if ((rc = cand_fill(h)) != 0)
			continue;
		if (cand_wait(h, POLLIN, deadline) == 0)
			return cand_fail(h, CAND_ETIMEOUT,
					 "no reply from the daemon in time");
	}
	if (res->err < 0)
		return cand_fail(h, res->err, "no memory for the reply");
	return res->status;
}

static int cand_rpc(struct cand *h, Cand__Request *req, struct cand_result *res,
		    int64_t deadline)
{
	return cand_rpc_take(h, req, res, deadline, NULL, NULL);
}

CAND_EXPORT void cand_options_init(struct cand_options *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->channel = "";
	opts->local_loopback = 1;
}

CAND_EXPORT int cand_connect(cand_t **out, const char *path)
{
	struct sockaddr_un sa;
	struct cand *h;
	const char *env;
	int fd, saved;

	if (out == NULL)
		return CAND_EINVAL;
	*out = NULL;
	if (path == NULL) {
		env = getenv("CAND_SOCKET");
		path = env != NULL && env[0] != '\0' ? env
						     : CAND_DEFAULT_SOCKET;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (path[0] == '\0' || strlen(path) >= sizeof(sa.sun_path)) {
		errno = path[0] == '\0' ? EINVAL : ENAMETOOLONG;
		return CAND_ECONNECT;
	}
	memcpy(sa.sun_path, path, strlen(path));

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return CAND_ENOMEM;
	h->fd = -1;
	h->in = malloc(CAND_INBUF_INIT);
	h->in_cap = CAND_INBUF_INIT;
	h->arena.buf = malloc(CAND_ARENA_INIT);
	h->arena.cap = CAND_ARENA_INIT;
	if (h->in == NULL || h->arena.buf == NULL) {
		cand_close(h);
		return CAND_ENOMEM;
	}
	h->alloc.alloc = cand_arena_alloc;
	h->alloc.free = cand_arena_free;
	h->alloc.allocator_data = &h->arena;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		saved = errno;
		cand_close(h);
		errno = saved;
		return CAND_ESYS;
	}
	h->fd = fd;
	/* Connect blocking: a Unix connect either works at once or not. */
	while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno == EINTR)
			continue;
		if (errno == EISCONN)
			break;
		saved = errno;
		cand_close(h);
		errno = saved;
		return CAND_ECONNECT;
	}
	/*
	 * The socket stays blocking: every call that must not block says
	 * MSG_DONTWAIT, and cand_recv() can then wait inside recv() itself.
	 */
	*out = h;
	return CAND_OK;
}

CAND_EXPORT void cand_close(cand_t *h)
{
	struct cand_ref *r;

	if (h == NULL)
		return;
	/* Their handles outlive this one; freeing them then just frees. */
	for (r = h->refs; r != NULL; r = r->next)
		r->h = NULL;
	if (h->fd >= 0)
		close(h->fd);
	cand_arena_reset(&h->arena);
	free(h->arena.buf);
	free(h->in);
	free(h->q);
	free(h->evs);
	free(h->out);
	free(h->tx);
	free(h->txp);
	free(h);
}

static int cand_filters_to_pb(struct cand *h, const struct cand_filter *src,
			      size_t n, Cand__Filter **pf, Cand__Filter ***pp)
{
	Cand__Filter *f;
	Cand__Filter **p;
	size_t i;

	*pf = NULL;
	*pp = NULL;
	if (n == 0)
		return 0;
	if (src == NULL)
		return cand_fail(h, CAND_EINVAL, "%zu filters but no array", n);
	for (i = 0; i < n; i++) {
		if (src[i].kind != CAND_FILTER_ANY &&
		    src[i].kind != CAND_FILTER_STANDARD &&
		    src[i].kind != CAND_FILTER_EXTENDED)
			return cand_fail(h, CAND_EINVAL,
					 "filter %zu has an unknown kind %d", i,
					 (int)src[i].kind);
	}
	f = calloc(n, sizeof(*f));
	p = calloc(n, sizeof(*p));
	if (f == NULL || p == NULL) {
		free(f);
		free(p);
		return cand_fail(h, CAND_ENOMEM, "no memory for %zu filters",
				 n);
	}
	for (i = 0; i < n; i++) {
		cand__filter__init(&f[i]);
		f[i].id = src[i].id;
		f[i].mask = src[i].mask;
		f[i].kind = (Cand__FilterKind)src[i].kind;
		f[i].invert = src[i].invert ? 1 : 0;
		p[i] = &f[i];
	}
	*pf = f;
	*pp = p;
	return 0;
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
	if ((rc = cand_filters_to_pb(h, opts->filters, opts->n_filters, &f,
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

	rc = cand_rpc(h, &req, &res, cand_now_ms() + CAND_RPC_GRACE_MS);
	free(fp);
	free(f);
	if (rc == 0)
		cand_copy_str(h->channel, sizeof(h->channel), open.channel);
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
	if ((rc = cand_filters_to_pb(h, filters, n, &f, &fp)) < 0)
		return rc;
	sf.n_filters = n;
	sf.filters = fp;
	req.op_case = CAND__REQUEST__OP_SET_FILTERS;
	req.set_filters = &sf;

	rc = cand_rpc(h, &req, &res, cand_now_ms() + CAND_RPC_GRACE_MS);
	free(fp);
	free(f);
	return rc;
}

/*
 * A list from an OK reply, handed to the caller: one without a list can
 * only mean an empty one, which still gets an array to free. Returns the
 * array with *rc its length, or NULL with *rc an error (list freed).
 */
static void *cand_list_out(struct cand *h, void *list, size_t n, size_t size,
			   int *rc)
{
	if (list == NULL && (list = calloc(1, size)) == NULL) {
		*rc = cand_fail(h, CAND_ENOMEM, "no memory for the list");
		return NULL;
	}
	if (n > INT_MAX) {
		free(list);
		*rc = cand_fail(h, CAND_EPROTO, "a list of %zu items", n);
		return NULL;
	}
	*rc = (int)n;
	return list;
}

CAND_EXPORT int cand_list(cand_t *h, struct cand_iface **out)
{
	Cand__Request req = CAND__REQUEST__INIT;
	Cand__ListRequest list = CAND__LIST_REQUEST__INIT;
	struct cand_result res;
	int rc;

	if (h == NULL || out == NULL)
		return CAND_EINVAL;
	*out = NULL;
	req.op_case = CAND__REQUEST__OP_LIST;
	req.list = &list;
	rc = cand_rpc(h, &req, &res, cand_now_ms() + CAND_RPC_GRACE_MS);
	if (rc < 0) {
		free(res.ifaces);
		return rc;
	}
	*out = cand_list_out(h, res.ifaces, res.n_ifaces, sizeof(*res.ifaces),
			     &rc);
	return rc;
}

/* Checks frames before anything is sent, so a bad one sends nothing. */
static int cand_check_frames(struct cand *h, const struct cand_frame *frames,
			     size_t n)
{
	const struct cand_frame *f;
	size_t i;

	for (i = 0; i < n; i++) {
		f = &frames[i];
		if (f->len > CAND_MAX_DLEN)
			return cand_fail(h, CAND_EINVAL,
					 "frame %zu: length %u is over 64", i,
					 f->len);
		if (!(f->flags & CAND_FRAME_FD) && f->len > 8)
			return cand_fail(h, CAND_EINVAL,
					 "frame %zu: length %u is over 8 for a "
					 "classic frame",
					 i, f->len);
		if (strnlen(f->ifname, sizeof(f->ifname)) == sizeof(f->ifname))
			return cand_fail(h, CAND_EINVAL,
					 "frame %zu: ifname is not terminated",
					 i);
	}
	return 0;
}

static void cand_frame_to_pb(Cand__Frame *p, const struct cand_frame *f)
{
	cand__frame__init(p);
	p->id = f->id;
	p->extended = (f->flags & CAND_FRAME_EXTENDED) ? 1 : 0;
	p->remote = (f->flags & CAND_FRAME_REMOTE) ? 1 : 0;
	p->error = (f->flags & CAND_FRAME_ERROR) ? 1 : 0;
	p->fd = (f->flags & CAND_FRAME_FD) ? 1 : 0;
	p->brs = (f->flags & CAND_FRAME_BRS) ? 1 : 0;
	p->esi = (f->flags & CAND_FRAME_ESI) ? 1 : 0;
	p->dlc = f->len;
	if (!p->remote && f->len > 0) {
		/* pack() only reads through these pointers. */
		p->data.len = f->len;
		p->data.data = (uint8_t *)f->data;
	}
	if (f->ifname[0] != '\0')
		p->ifname = (char *)f->ifname;
}

/* Room for n outgoing protobuf frames in the reused arrays. */
static int cand_tx_reserve(struct cand *h, size_t n)
{
	Cand__Frame *tx;
	Cand__Frame **txp;

	if (h->tx_cap >= n)
		return 0;
	if ((tx = realloc(h->tx, n * sizeof(*tx))) == NULL)
		return cand_fail(h, CAND_ENOMEM, "no memory to send");
	h->tx = tx;
	if ((txp = realloc(h->txp, n * sizeof(*txp))) == NULL)
		return cand_fail(h, CAND_ENOMEM, "no memory to send");
	h->txp = txp;
	h->tx_cap = n;
	return 0;
}

CAND_EXPORT int cand_send(cand_t *h, const struct cand_frame *frames, size_t n,
			  int timeout_ms)
{
	Cand__Request req = CAND__REQUEST__INIT;
	Cand__SendRequest sr = CAND__SEND_REQUEST__INIT;
	struct cand_result res;
	size_t off, cnt, i, total = 0, want;
	int64_t deadline, left;
	int rc;

	if (h == NULL || (frames == NULL && n > 0))
		return CAND_EINVAL;
	if (timeout_ms < 0)
		return cand_fail(h, CAND_EINVAL, "negative send timeout");
	if (n > INT_MAX)
		return cand_fail(h, CAND_EINVAL, "too many frames at once");
	if ((rc = cand_check_frames(h, frames, n)) < 0)
		return rc;
	if (n == 0)
		return 0;
	if (h->dead)
		return cand_dead(h);

	want = n < CAND_SEND_CHUNK ? n : CAND_SEND_CHUNK;
	if ((rc = cand_tx_reserve(h, want)) < 0)
		return rc;

	deadline = cand_now_ms() + timeout_ms;
	req.op_case = CAND__REQUEST__OP_SEND;
	req.send = &sr;
	for (off = 0; off < n; off += cnt) {
		cnt = n - off < CAND_SEND_CHUNK ? n - off : CAND_SEND_CHUNK;
		for (i = 0; i < cnt; i++) {
			cand_frame_to_pb(&h->tx[i], &frames[off + i]);
			h->txp[i] = &h->tx[i];
		}
		/* Later chunks get what is left of the caller's timeout. */
		left = off == 0 ? timeout_ms : deadline - cand_now_ms();
		sr.n_frames = cnt;
		sr.frames = h->txp;
		sr.timeout_ms = left > 0 ? (uint32_t)left : 0;
		rc = cand_rpc(h, &req, &res,
			      cand_now_ms() + sr.timeout_ms +
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

/* Takes the event due now into *q, if there is one. */
static int cand_pop_event(struct cand *h, struct cand_queued_event *q)
{
	if (h->n_evs == 0 || h->evs[0].at != h->q_out)
		return 0;
	*q = h->evs[0];
	h->n_evs--;
	memmove(h->evs, h->evs + 1, h->n_evs * sizeof(*h->evs));
	return 1;
}

static int cand_pop(struct cand *h, struct cand_frame *f)
{
	struct cand_queued_event q;

	/* Frames only: events pass by, but a link event of the channel. */
	while (cand_pop_event(h, &q)) {
		if (q.err != 0) {
			snprintf(h->detail, sizeof(h->detail), "%s",
				 q.ev.detail);
			return q.err;
		}
	}
	if (h->q_head == h->q_tail)
		return 0;
	*f = h->q[h->q_head++];
	h->q_out++;
	if (h->q_head == h->q_tail)
		h->q_head = h->q_tail = 0;
	return 1;
}

CAND_EXPORT int cand_recv(cand_t *h, struct cand_frame *frame, int timeout_ms)
{
	int64_t deadline = -1;
	int rc;

	if (h == NULL || frame == NULL)
		return CAND_EINVAL;
	for (;;) {
		if ((rc = cand_pop(h, frame)) != 0)
			return rc;
		if ((rc = cand_take_msg(h, NULL)) > 0)
			continue;
		if (h->dead)
			return cand_dead(h);
		if (cand_more(h, timeout_ms, &deadline) == 0)
			return cand_fail(h, CAND_ETIMEOUT, "%s", "");
	}
}

static void cand_ref_add(struct cand *h, struct cand_ref *r, uint32_t id)
{
	r->h = h;
	r->id = id;
	r->next = h->refs;
	h->refs = r;
}

/* Frames for a task request, checked and in the reused arrays. */
static int cand_task_frames(struct cand *h, const struct cand_frame *frames,
			    size_t n)
{
	size_t i;
	int rc;

	if (frames == NULL && n > 0)
		return cand_fail(h, CAND_EINVAL, "%zu frames but no array", n);
	/* The daemon takes 1 to 256 and says so; just keep it sane here. */
	if (n > 4096)
		return cand_fail(h, CAND_EINVAL, "%zu frames for one task", n);
	if ((rc = cand_check_frames(h, frames, n)) < 0 ||
	    (rc = cand_tx_reserve(h, n)) < 0)
		return rc;
	for (i = 0; i < n; i++) {
		cand_frame_to_pb(&h->tx[i], &frames[i]);
		h->txp[i] = &h->tx[i];
	}
	return 0;
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
		return cand_fail(h, CAND_EINVAL, "unknown task flags 0x%x",
				 flags & ~CAND_TASK_PAUSED);
	if ((rc = cand_task_frames(h, frames, n)) < 0)
		return rc;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return cand_fail(h, CAND_ENOMEM, "no memory for a task");
	ts.n_frames = n;
	ts.frames = h->txp;
	ts.period_us = period_us;
	ts.duration_us = duration_us;
	ts.paused = (flags & CAND_TASK_PAUSED) ? 1 : 0;
	req.op_case = CAND__REQUEST__OP_TASK_START;
	req.task_start = &ts;
	rc = cand_rpc(h, &req, &res, cand_now_ms() + CAND_RPC_GRACE_MS);
	if (rc == 0 && !res.has_created)
		rc = cand_fail(h, CAND_EPROTO, "no task id in the reply");
	if (rc < 0) {
		free(t);
		return rc;
	}
	cand_ref_add(h, &t->ref, res.created);
	*task = t;
	return 0;
}

CAND_EXPORT int cand_task_modify(cand_task_t *t,
				 const struct cand_frame *frames, size_t n)
{
	Cand__Request req = CAND__REQUEST__INIT;
	Cand__TaskModifyRequest tm = CAND__TASK_MODIFY_REQUEST__INIT;
	struct cand_result res;
	int rc;

	if (t == NULL || t->ref.h == NULL)
		return CAND_EINVAL;
	if ((rc = cand_task_frames(t->ref.h, frames, n)) < 0)
		return rc;
	tm.task_id = t->ref.id;
	tm.n_frames = n;
	tm.frames = t->ref.h->txp;
	req.op_case = CAND__REQUEST__OP_TASK_MODIFY;
	req.task_modify = &tm;
	return cand_rpc(t->ref.h, &req, &res,
			cand_now_ms() + CAND_RPC_GRACE_MS);
}

/* A request that names one task or monitor. */
static int cand_ref_rpc(struct cand *h, Cand__Request__OpCase op, uint32_t id)
{
	Cand__Request req = CAND__REQUEST__INIT;
	Cand__IdRef ref = CAND__ID_REF__INIT;
	struct cand_result res;

	ref.id = id;
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
	return cand_rpc(h, &req, &res, cand_now_ms() + CAND_RPC_GRACE_MS);
}

/*
 * Ends what r names in the daemon and takes r off its cand_t's list. Best
 * effort: if the daemon is gone, so is what r named.
 */
static void cand_ref_drop(struct cand_ref *r, Cand__Request__OpCase op)
{
	struct cand_ref **pp;

	if (r->h == NULL)
		return;
	cand_ref_rpc(r->h, op, r->id);
	for (pp = &r->h->refs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			break;
		}
}

CAND_EXPORT int cand_task_stop(cand_task_t *t)
{
	if (t == NULL || t->ref.h == NULL)
		return CAND_EINVAL;
	return cand_ref_rpc(t->ref.h, CAND__REQUEST__OP_TASK_STOP, t->ref.id);
}

CAND_EXPORT int cand_task_resume(cand_task_t *t)
{
	if (t == NULL || t->ref.h == NULL)
		return CAND_EINVAL;
	return cand_ref_rpc(t->ref.h, CAND__REQUEST__OP_TASK_RESUME, t->ref.id);
}

CAND_EXPORT void cand_task_free(cand_task_t *t)
{
	if (t == NULL)
		return;
	cand_ref_drop(&t->ref, CAND__REQUEST__OP_TASK_REMOVE);
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

	if (h == NULL)
		return CAND_EINVAL;
	req.op_case = CAND__REQUEST__OP_TASK_STOP_ALL;
	req.task_stop_all = &sa;
	return cand_rpc(h, &req, &res, cand_now_ms() + CAND_RPC_GRACE_MS);
}

CAND_EXPORT int cand_task_list(cand_t *h, struct cand_task_info **out)
{
	Cand__Request req = CAND__REQUEST__INIT;
	Cand__TaskListRequest tl = CAND__TASK_LIST_REQUEST__INIT;
	struct cand_result res;
	int rc;

	if (h == NULL || out == NULL)
		return CAND_EINVAL;
	*out = NULL;
	req.op_case = CAND__REQUEST__OP_TASK_LIST;
	req.task_list = &tl;
	rc = cand_rpc(h, &req, &res, cand_now_ms() + CAND_RPC_GRACE_MS);
	if (rc < 0) {
		free(res.tasks);
		return rc;
	}
	if (res.err < 0)
		return cand_fail(h, res.err, "cannot take the task list apart");
	*out = cand_list_out(h, res.tasks, res.n_tasks, sizeof(*res.tasks),
			     &rc);
	return rc;
}

CAND_EXPORT void cand_monitor_opts_init(struct cand_monitor_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
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
	if (opts->flags & ~(CAND_MONITOR_EVERY_FRAME | CAND_MONITOR_CHECK_LEN |
			    CAND_MONITOR_RESUME))
		return cand_fail(h, CAND_EINVAL, "unknown monitor flags 0x%x",
				 opts->flags);
	if (opts->masks == NULL && opts->n_masks > 0)
		return cand_fail(h, CAND_EINVAL, "%zu masks but no array",
				 opts->n_masks);
	if (opts->n_masks > 4096)
		return cand_fail(h, CAND_EINVAL, "%zu masks", opts->n_masks);
	for (i = 0; i < opts->n_masks; i++)
		if (opts->masks[i].len > CAND_MAX_DLEN)
			return cand_fail(h, CAND_EINVAL,
					 "mask %zu: length %u is over 64", i,
					 opts->masks[i].len);
	if (opts->rtr_reply != NULL &&
	    (rc = cand_check_frames(h, opts->rtr_reply, 1)) < 0)
		return rc;
	if (opts->ifname != NULL &&
	    strnlen(opts->ifname, CAND_IFNAMSIZ) == CAND_IFNAMSIZ)
		return cand_fail(h, CAND_EINVAL, "interface name too long");
	if (opts->n_masks > 0 &&
	    (masks = calloc(opts->n_masks, sizeof(*masks))) == NULL)
		return cand_fail(h, CAND_ENOMEM, "no memory for the masks");
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		free(masks);
		return cand_fail(h, CAND_ENOMEM, "no memory for a monitor");
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
		cand_frame_to_pb(&reply, opts->rtr_reply);
		ms.rtr_reply = &reply;
	}
	ms.ifname = (char *)(opts->ifname != NULL ? opts->ifname : "");
	req.op_case = CAND__REQUEST__OP_MONITOR_START;
	req.monitor_start = &ms;
	rc = cand_rpc(h, &req, &res, cand_now_ms() + CAND_RPC_GRACE_MS);
	free(masks);
	if (rc == 0 && !res.has_created)
		rc = cand_fail(h, CAND_EPROTO, "no monitor id in the reply");
	if (rc < 0) {
		free(m);
		return rc;
	}
	cand_ref_add(h, &m->ref, res.created);
	*mon = m;
	return 0;
}

CAND_EXPORT void cand_monitor_free(cand_monitor_t *m)
{
	if (m == NULL)
		return;
	cand_ref_drop(&m->ref, CAND__REQUEST__OP_MONITOR_STOP);
	free(m);
}

CAND_EXPORT uint32_t cand_monitor_id(const cand_monitor_t *m)
{
	return m != NULL ? m->ref.id : 0;
}

CAND_EXPORT int cand_fileno(cand_t *h)
{
	return h != NULL ? h->fd : CAND_EINVAL;
}

CAND_EXPORT size_t cand_pending(cand_t *h)
{
	if (h == NULL)
		return 0;
	/* A complete message in the buffer is invisible to poll(). */
	cand_take_all(h, NULL);
	return (h->q_tail - h->q_head) + h->n_evs +
	       (h->dead && !h->dead_reported ? 1 : 0);
}

CAND_EXPORT uint64_t cand_kernel_drops(cand_t *h)
{
	return h != NULL ? h->kernel_drops : 0;
}

CAND_EXPORT const char *cand_strerror(int err)
{
	switch (err) {
	case CAND_OK:
		return "success";
	case CAND_EINVAL:
		return "invalid argument";
	case CAND_EBADMSG:
		return "malformed message";
	case CAND_ENODEV:
		return "no such CAN interface";
	case CAND_ENETDOWN:
		return "CAN interface is down";
	case CAND_ETXFULL:
		return "TX buffer full";
	case CAND_ENOTOPEN:
		return "channel not open";
	case CAND_EALREADY:
		return "channel already open";
	case CAND_EPERM:
		return "permission denied";
	case CAND_EUNSUPP:
		return "not supported";
	case CAND_ELIMIT:
		return "limit exceeded";
	case CAND_EIO:
		return "CAN I/O error";
	case CAND_EINTERNAL:
		return "internal error in the daemon";
	case CAND_ESHUTDOWN:
		return "the daemon is shutting down";
	case CAND_ESTATE:
		return "not possible in the bus's current state";
	case CAND_ETIMEOUT:
		return "timed out";
	case CAND_ECONNECT:
		return "cannot connect to the daemon";
	case CAND_EDISCONNECTED:
		return "the daemon closed the connection";
	case CAND_ENOMEM:
		return "out of memory";
	case CAND_ESYS:
		return "system call failed";
	case CAND_EPROTO:
		return "protocol error: unexpected data from the daemon";
	default:
		return "unknown error";
	}
}

CAND_EXPORT const char *cand_last_detail(cand_t *h)
{
	return h != NULL ? h->detail : "";
}

/* ---- Bus health: state, configuration, recovery, events ---- */

CAND_EXPORT const char *cand_state_name(enum cand_state state)
{
	switch (state) {
	case CAND_STATE_ERROR_ACTIVE:
		return "ERROR-ACTIVE";
	case CAND_STATE_ERROR_WARNING:
		return "ERROR-WARNING";
	case CAND_STATE_ERROR_PASSIVE:
		return "ERROR-PASSIVE";
	case CAND_STATE_BUS_OFF:
		return "BUS-OFF";
	case CAND_STATE_STOPPED:
		return "STOPPED";
	case CAND_STATE_SLEEPING:
		return "SLEEPING";
	default:
		return "not applicable";
	}
}

/* Where cand_bus_state()'s take puts the array. */
struct cand_states {
	struct cand_bus_state *v;
	size_t n;
};

static void cand_state_one(struct cand_bus_state *o,
			   const Cand__InterfaceState *p)
{
	const Cand__Interface *l = p->link;

	if (l != NULL) {
		cand_copy_str(o->link.name, sizeof(o->link.name), l->name);
		cand_copy_str(o->link.kind, sizeof(o->link.kind), l->kind);
		o->link.ifindex = l->ifindex;
		o->link.up = l->up ? 1 : 0;
		o->link.mtu = l->mtu;
		o->link.hardware = l->type == CAND__IFACE_TYPE__HARDWARE;
	}
	o->running = p->running ? 1 : 0;
	o->state = cand_state_from_pb(p->state);
	o->state_from_error_frames = p->state_from_error_frames ? 1 : 0;
	o->has_error_counters = p->has_error_counters ? 1 : 0;
	o->tx_errors = p->tx_errors;
	o->rx_errors = p->rx_errors;
	o->controller = p->config != NULL;
	cand_config_from_pb(&o->config, p->config);
	if (p->device_stats != NULL) {
		o->dev.bus_errors = p->device_stats->bus_errors;
		o->dev.error_warning = p->device_stats->error_warning;
		o->dev.error_passive = p->device_stats->error_passive;
		o->dev.bus_off = p->device_stats->bus_off;
		o->dev.arbitration_lost = p->device_stats->arbitration_lost;
		o->dev.restarts = p->device_stats->restarts;
	}
	if (p->link_stats != NULL) {
		const Cand__LinkStats *s = p->link_stats;

		o->has_stats = 1;
		o->stats.rx_packets = s->rx_packets;
		o->stats.tx_packets = s->tx_packets;
		o->stats.rx_bytes = s->rx_bytes;
		o->stats.tx_bytes = s->tx_bytes;
		o->stats.rx_errors = s->rx_errors;
		o->stats.tx_errors = s->tx_errors;
		o->stats.rx_dropped = s->rx_dropped;
		o->stats.tx_dropped = s->tx_dropped;
		o->stats.rx_over_errors = s->rx_over_errors;
	}
	cand_copy_str(o->busoff_policy, sizeof(o->busoff_policy),
		      p->busoff_policy);
}

static int cand_take_states(struct cand_result *res, const Cand__Reply *r)
{
	struct cand_states *out = res->take_arg;
	const Cand__StateReply *sr =
		r->result_case == CAND__REPLY__RESULT_STATE ? r->state : NULL;
	size_t i, n = sr != NULL ? sr->n_interfaces : 0;

	/* Never NULL on success, so callers may test the pointer. */
	if ((out->v = calloc(n ? n : 1, sizeof(*out->v))) == NULL)
		return CAND_ENOMEM;
	for (i = 0; i < n; i++)
		cand_state_one(&out->v[i], sr->interfaces[i]);
	out->n = n;
	return 0;
}

CAND_EXPORT int cand_bus_state(cand_t *h, const char *ifname,
			       struct cand_bus_state **out)
{
	Cand__Request req = CAND__REQUEST__INIT;
	Cand__StateRequest sr = CAND__STATE_REQUEST__INIT;
	struct cand_states states = {NULL, 0};
	struct cand_result res;
	int rc;

	if (h == NULL || out == NULL)
		return CAND_EINVAL;
	*out = NULL;
	sr.ifname = (char *)(ifname != NULL ? ifname : "");
	req.op_case = CAND__REQUEST__OP_STATE;
	req.state = &sr;
	rc = cand_rpc_take(h, &req, &res, cand_now_ms() + CAND_RPC_GRACE_MS,
			   cand_take_states, &states);
	if (rc < 0) {
		free(states.v);
		return rc;
	}
	if (states.v == NULL &&
	    (states.v = calloc(1, sizeof(*states.v))) == NULL)
		return cand_fail(h, CAND_ENOMEM, "no memory for the state");
	if (states.n > INT_MAX) {
		free(states.v);
		return cand_fail(h, CAND_EPROTO, "absurdly many interfaces");
	}
	*out = states.v;
	return (int)states.n;
}

CAND_EXPORT void cand_bus_change_init(struct cand_bus_change *chg)
{
	memset(chg, 0, sizeof(*chg));
	chg->restart_ms = -1;
	chg->up = -1;
}

static int cand_take_configured(struct cand_result *res, const Cand__Reply *r)
{
	struct cand_bus_configured *out = res->take_arg;
	const Cand__ConfigureReply *cr =
		r->result_case == CAND__REPLY__RESULT_CONFIGURE ? r->configure
								: NULL;

	if (out == NULL || cr == NULL)
		return 0;
	out->cycled = cr->cycled ? 1 : 0;
	out->up = cr->up ? 1 : 0;
	out->controller = cr->config != NULL;
	cand_config_from_pb(&out->config, cr->config);
	return 0;
}

CAND_EXPORT int cand_configure(cand_t *h, const char *ifname,
			       const struct cand_bus_change *chg,
			       struct cand_bus_configured *res)
{
	Cand__Request req = CAND__REQUEST__INIT;
	Cand__ConfigureRequest cr = CAND__CONFIGURE_REQUEST__INIT;
	struct cand_result r;

	if (h == NULL || ifname == NULL || chg == NULL)
		return CAND_EINVAL;
	if (chg->restart_ms > UINT32_MAX)
		return cand_fail(h, CAND_EINVAL, "restart-ms %lld is too big",
				 (long long)chg->restart_ms);
	if (res != NULL)
		memset(res, 0, sizeof(*res));
	cr.ifname = (char *)ifname;
	cr.bitrate = chg->bitrate;
	cr.sample_point = chg->sample_point;
	cr.data_bitrate = chg->data_bitrate;
	cr.data_sample_point = chg->data_sample_point;
	cr.set_restart_ms = chg->restart_ms >= 0;
	cr.restart_ms = chg->restart_ms >= 0 ? (uint32_t)chg->restart_ms : 0;
	cr.ctrlmode_mask = chg->ctrlmode_mask;
	cr.ctrlmode_flags = chg->ctrlmode_flags;
	cr.link = chg->up < 0	 ? CAND__LINK_CHANGE__LINK_UNCHANGED
		  : chg->up == 0 ? CAND__LINK_CHANGE__LINK_DOWN
				 : CAND__LINK_CHANGE__LINK_UP;
	req.op_case = CAND__REQUEST__OP_CONFIGURE;
	req.configure = &cr;
	return cand_rpc_take(h, &req, &r, cand_now_ms() + CAND_RPC_GRACE_MS,
			     cand_take_configured, res);
}

CAND_EXPORT int cand_restart(cand_t *h, const char *ifname)
{
	Cand__Request req = CAND__REQUEST__INIT;
	Cand__RestartRequest rr = CAND__RESTART_REQUEST__INIT;
	struct cand_result res;

	if (h == NULL || ifname == NULL)
		return CAND_EINVAL;
	rr.ifname = (char *)ifname;
	req.op_case = CAND__REQUEST__OP_RESTART;
	req.restart = &rr;
	return cand_rpc(h, &req, &res, cand_now_ms() + CAND_RPC_GRACE_MS);
}

struct cand_flushed {
	uint32_t dropped;
	char *note;
	size_t note_size;
};

static int cand_take_flushed(struct cand_result *res, const Cand__Reply *r)
{
	struct cand_flushed *out = res->take_arg;

	if (r->result_case != CAND__REPLY__RESULT_FLUSH_TX ||
	    r->flush_tx == NULL)
		return 0;
	out->dropped = r->flush_tx->dropped;
	if (out->note != NULL && out->note_size > 0)
		cand_copy_str(out->note, out->note_size, r->flush_tx->note);
	return 0;
}

CAND_EXPORT int cand_flush_tx(cand_t *h, char *note, size_t note_size)
{
	Cand__Request req = CAND__REQUEST__INIT;
	Cand__FlushTxRequest fr = CAND__FLUSH_TX_REQUEST__INIT;
	struct cand_flushed out = {0, note, note_size};
	struct cand_result res;
	int rc;

	if (h == NULL)
		return CAND_EINVAL;
	if (note != NULL && note_size > 0)
		note[0] = '\0';
	req.op_case = CAND__REQUEST__OP_FLUSH_TX;
	req.flush_tx = &fr;
	rc = cand_rpc_take(h, &req, &res, cand_now_ms() + CAND_RPC_GRACE_MS,
			   cand_take_flushed, &out);
	if (rc < 0)
		return rc;
	return out.dropped > INT_MAX ? INT_MAX : (int)out.dropped;
}

static int cand_subscribe_req(cand_t *h, const char *ifname, int off)
{
	Cand__Request req = CAND__REQUEST__INIT;
	Cand__SubscribeRequest sr = CAND__SUBSCRIBE_REQUEST__INIT;
	struct cand_result res;

	if (h == NULL)
		return CAND_EINVAL;
	sr.ifname = (char *)(ifname != NULL ? ifname : "");
	sr.off = off;
	req.op_case = CAND__REQUEST__OP_SUBSCRIBE;
	req.subscribe = &sr;
	return cand_rpc(h, &req, &res, cand_now_ms() + CAND_RPC_GRACE_MS);
}

CAND_EXPORT int cand_subscribe(cand_t *h, const char *ifname)
{
	return cand_subscribe_req(h, ifname, 0);
}

CAND_EXPORT int cand_unsubscribe(cand_t *h)
{
	return cand_subscribe_req(h, NULL, 1);
}

/* The next frame or event in order into *ev: 1, or 0 if none is here. */
static int cand_pop_any(struct cand *h, struct cand_event *ev)
{
	struct cand_queued_event q;

	if (cand_pop_event(h, &q)) {
		*ev = q.ev;
		return 1;
	}
	if (h->q_head == h->q_tail)
		return 0;
	memset(ev, 0, sizeof(*ev));
	ev->type = CAND_EVENT_FRAME;
	ev->frame = h->q[h->q_head++];
	memcpy(ev->ifname, ev->frame.ifname, sizeof(ev->ifname));
	h->q_out++;
	if (h->q_head == h->q_tail)
		h->q_head = h->q_tail = 0;
	return 1;
}

CAND_EXPORT int cand_recv_event(cand_t *h, struct cand_event *ev,
				int timeout_ms)
{
	int64_t deadline = -1;
	int rc;

	if (h == NULL || ev == NULL)
		return CAND_EINVAL;
	for (;;) {
		if (cand_pop_any(h, ev))
			return 1;
		if ((rc = cand_take_msg(h, NULL)) > 0)
			continue;
		if (h->dead)
			return cand_dead(h);
		if (cand_more(h, timeout_ms, &deadline) == 0)
			return cand_fail(h, CAND_ETIMEOUT, "%s", "");
	}
}
