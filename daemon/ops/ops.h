/*
 * ops/: the operations, in plain C and knowing nothing of any codec. A
 * front-end turns its requests into these calls and their results into
 * its replies; everything that happens unasked reaches the client through
 * its session's output queue (base/outq.h). Every operation returns 0 or
 * -errno with a detail string saying why.
 */
#ifndef CAND_DAEMON_OPS_OPS_H
#define CAND_DAEMON_OPS_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"

struct chan;
struct send_op;
struct bcm_set;

/* ---- sess.c: one client, whatever front-end it came through ---- */

struct sess {
	TAILQ_ENTRY(sess) entry;
	struct cand_ctx *ctx;
	unsigned id; /* for logs */
	struct ident ident;
	unsigned rights; /* on the open channel, as last checked */
	struct outq q;
	struct chan *chan;    /* NULL until open */
	struct send_op *send; /* a send waiting for TX room */
	struct bcm_set *bcm;  /* tasks and monitors; NULL until the first */
	int subscribed;	      /* wants the events of sub_ifname */
	char sub_ifname[IFNAMSIZ]; /* "" = every interface */
	int closing;		   /* the daemon is stopping: output only */
};

/*
 * A session for a client whose identity id is (its groups are taken
 * over), writing to fd through codec. NULL when out of memory.
 */
struct sess *sess_new(struct cand_ctx *ctx, const struct ident *id, int fd,
		      const struct outq_codec *codec, void *owner);
/* Stops everything of the session at once and frees it. */
void sess_free(struct sess *s);
/* The client's output is too far behind: stop reading CAN for it. */
void sess_pause(struct sess *s);
/* Drained below the low watermark: read CAN and monitors again. */
void sess_resume(struct sess *s);
/* After a reload: drop what its rights no longer cover, and say so. */
void sess_reload(struct sess *s);
/* SIGTERM: end a pending send, close the channel, say goodbye. */
void sess_shutdown(struct sess *s);
/* Events of ifname ("" = every interface) for a client, open or not. */
int sess_subscribe(struct sess *s, const char *ifname, int off, char *detail,
		   size_t dsize);

/* ---- chan.c: the channel, a CAN_RAW socket of the session's own ---- */

struct chan_opts {
	const char *channel; /* an interface, or "" for all of them */
	int receive_own;
	int no_loopback;
	int fd;
	int ignore_errors;
	const struct filter_desc *filters; /* none: receive everything */
	size_t n_filters;
};

/* Binds the session to a channel, receiving only with the read right. */
int chan_open(struct sess *s, const struct chan_opts *o, char *detail,
	      size_t dsize);
void chan_close(struct sess *s);
/* The channel name: an interface or "". */
const char *chan_name(const struct chan *c);
/* Its interface index, 0 for "" (every interface). */
int chan_ifindex(const struct chan *c);
int chan_fd_enabled(const struct chan *c);
int chan_set_filters(struct chan *c, const struct filter_desc *filters,
		     size_t n, char *detail, size_t dsize);
/*
 * Receiving on or off (the read right); off drops what is queued and keeps
 * the filters for when it is on again.
 */
int chan_set_rx(struct chan *c, int on);
void chan_pause(struct chan *c);
void chan_resume(struct chan *c);
/* The interface the channel is bound to went away; frames stop. */
void chan_link_gone(struct chan *c);
/* Its name is back (ifindex): a new socket with the same options. */
int chan_rebind(struct chan *c, int ifindex);
/* Sends one frame on the channel; -ENOBUFS when the TX queue is full. */
int chan_send(struct chan *c, const struct frame_desc *f, char *detail,
	      size_t dsize);

/* ---- send.c: sending, with the wait for TX room ---- */

/* A send that waited finished: rc, frames sent, and why. */
typedef void (*send_done_fn)(void *arg, int rc, size_t sent,
			     const char *detail);

/*
 * Checks every frame against the policy, then sends them in order. Done
 * at once: 0 or -errno with *sent. A full TX queue with a timeout_ms:
 * -EINPROGRESS, and done(arg, ...) is called when the send ends (the
 * frames must stay valid until then).
 */
int send_start(struct sess *s, const struct frame_desc *frames, size_t n,
	       uint32_t timeout_ms, send_done_fn done, void *arg, size_t *sent,
	       char *detail, size_t dsize);
/* flush_tx: the waiting send ends (done, -ECANCELED); frames not sent. */
size_t send_flush(struct sess *s);
/* Ends the waiting send with rc (done is called). */
void send_abort(struct sess *s, int rc, const char *why);
/* Forgets the waiting send without a word: the client is going away. */
void send_cancel(struct sess *s);

/* ---- task.c and monitor.c, on bcmop.c's CAN_BCM sockets ---- */

/* proto TaskState */
enum task_state {
	TASK_RUNNING = 0,
	TASK_STOPPED = 1,
	TASK_EXPIRED = 2,
};

struct task_spec {
	const struct frame_desc *frames; /* 1 to 256, one id, one format */
	size_t n_frames;
	uint64_t period_us;
	uint64_t duration_us; /* 0: until stopped */
	int paused;	      /* created stopped */
};

struct task_info {
	uint32_t id;
	enum task_state state;
	uint64_t period_us, duration_us;
	const char *ifname;
	size_t n_frames;
	int is_fd;
	/* What it sends now, in the kernel's form: read with task_frame(). */
	const void *frames;
};

int task_start(struct sess *s, const struct task_spec *t, uint32_t *id,
	       char *detail, size_t dsize);
/* New data: the same number of frames, id, format and interface. */
int task_modify(struct sess *s, uint32_t id, const struct frame_desc *frames,
		size_t n, char *detail, size_t dsize);
int task_stop(struct sess *s, uint32_t id, char *detail, size_t dsize);
int task_resume(struct sess *s, uint32_t id, char *detail, size_t dsize);
int task_stop_all(struct sess *s, char *detail, size_t dsize);
/* The session's tasks into out (at most max); returns how many it has. */
size_t task_list(struct sess *s, struct task_info *out, size_t max);
/* Frame i of a task_info. */
const struct canfd_frame *task_frame(const struct task_info *t, size_t i);

struct monitor_mask {
	const uint8_t *data;
	size_t len;
};

struct monitor_spec {
	uint32_t id;
	int extended;
	int fd;
	/*
	 * None: the whole payload; one: a mask; several: masks[0] the
	 * multiplexer bits, each other one its value plus its own mask.
	 */
	const struct monitor_mask *masks;
	size_t n_masks;
	uint64_t timeout_us, throttle_us;
	int every_frame, check_dlc, announce_resume;
	const struct frame_desc *rtr_reply; /* NULL: a monitor */
	const char *ifname; /* on the "" channel: one interface, or "" */
};

int monitor_start(struct sess *s, const struct monitor_spec *m, uint32_t *id,
		  char *detail, size_t dsize);

/* ---- bcmop.c: what tasks and monitors share ---- */

enum bcm_kind {
	BCM_TASK,
	BCM_MONITOR,
};

struct bcm_op {
	TAILQ_ENTRY(bcm_op) entry;
	struct sess *sess;
	uint32_t id;
	enum bcm_kind kind;
	int fd;
	int ifindex; /* 0: a monitor on every interface */
	char ifname[IFNAMSIZ];
	struct event *ev_read;
	struct event *ev_expired; /* tasks: a count of 1, see task.c */
	enum task_state state;
	uint64_t period_us;
	uint64_t duration_us;
	uint32_t count; /* frames for the duration; 0: forever */
	/* The TX_SETUP/RX_SETUP message with its frames, kept ready. */
	void *msg;
	size_t msg_len;
	size_t nframes;
	size_t cfsiz; /* CAN_MTU or CANFD_MTU: the kernel's frame size */
};

struct bcm_set {
	TAILQ_HEAD(, bcm_op) ops;
	unsigned n_ops;
	uint32_t last_id;
	int paused; /* monitors left unread: the client's output is full */
};

/* A new task or monitor with room for nframes, not yet known to the kernel. */
int bcmop_new(struct sess *s, enum bcm_kind kind, int ifindex,
	      const char *ifname, size_t nframes, size_t cfsiz,
	      struct bcm_op **out, char *detail, size_t dsize);
/* Closing its socket deletes its kernel op: it stops at once. */
void bcmop_free(struct bcm_op *op);
struct bcm_op *bcmop_find(struct sess *s, uint32_t id, enum bcm_kind kind,
			  char *detail, size_t dsize);
/* Stops and forgets a task or a monitor of the session. */
int bcmop_remove(struct sess *s, uint32_t id, enum bcm_kind kind, char *detail,
		 size_t dsize);
/* Stops and forgets every task or every monitor of the session. */
void bcmop_free_kind(struct sess *s, enum bcm_kind kind);
void bcmop_free_all(struct sess *s);
void bcmop_resume(struct sess *s);
/* task.c and monitor.c hear of their notifications here. */
void task_on_note(struct bcm_op *op, const struct bcmsock_note *n);
void monitor_on_note(struct bcm_op *op, const struct bcmsock_note *n);

/* ---- busstate.c: tracked CAN interfaces and their state ---- */

struct canif {
	TAILQ_ENTRY(canif) entry;
	struct cand_ctx *ctx;
	struct nl_link link; /* as last seen */
	enum bus_state state;
	int state_from_frames;
	int has_counters;
	unsigned txerr, rxerr;
	int errmon_fd; /* error frames only: state changes as they happen */
	struct event *ev_errmon;
	struct busoff_run *busoff; /* busoff.c */
	int seen;		   /* in the current resync's dump */
};

/* One interface's state, for a state request. */
struct bus_info {
	struct link_info link;
	int running;
	enum bus_state state;
	int from_error_frames;
	int has_counters;
	unsigned tx_errors, rx_errors;
	int controller;
	struct bus_config config;
	int has_xstats;
	struct canlink_devstats xstats;
	int has_stats;
	struct canlink_stats stats;
	char busoff_policy[128];
};

/* From rtnetlink: an interface appeared or changed (initial: at startup). */
void busstate_link_update(struct cand_ctx *ctx, const struct nl_link *l,
			  int initial);
void busstate_link_removed(struct cand_ctx *ctx, int ifindex);
/*
 * Reads the interface now and reports what changed unannounced; call
 * linkmon_drain() first (which may free any canif).
 */
void busstate_sync(struct canif *ci);
struct canif *busstate_find(struct cand_ctx *ctx, const char *ifname);
void busstate_free_all(struct cand_ctx *ctx);
/* The state of ifname ("" = all) in *out (malloc'd, free()). */
int busstate_query(struct cand_ctx *ctx, const char *ifname,
		   struct bus_info **out, size_t *n, char *detail,
		   size_t dsize);

/* ---- busevent.c: events of an interface to the sessions that want them */

enum busevent_link {
	BUSEVENT_UPDOWN,
	BUSEVENT_APPEARED,
	BUSEVENT_REMOVED,
};

void busevent_link(struct canif *ci, enum busevent_link what);
void busevent_state(struct canif *ci, enum bus_state prev, const char *why);
void busevent_config(struct canif *ci, const struct nl_link *old,
		     const char *what);
/* Sessions bound to ci's name whose interface went away get it back. */
void busevent_rebind(struct canif *ci);
/* "bitrate 500000 -> 250000, restart-ms 100 -> 0": how many differ. */
int busevent_config_diff(const struct nl_link *a, const struct nl_link *b,
			 char *buf, size_t size);

/* ---- linkmon.c: the rtnetlink monitor in the event loop ---- */

int linkmon_open(struct cand_ctx *ctx);
void linkmon_close(struct cand_ctx *ctx);
/*
 * Handles the notifications already queued, so that what a request did
 * (or what happened before it) is reported before its reply.
 */
void linkmon_drain(struct cand_ctx *ctx);

/* ---- busoff.c: bus-off logging and recovery policy ---- */

void busoff_attach(struct canif *ci);
void busoff_detach(struct canif *ci);
void busoff_reload(struct canif *ci);
void busoff_on_state(struct canif *ci, int prev, int state);
/* How the policy reads, for the state reply; buf gets "" for none. */
void busoff_describe(const struct canif *ci, char *buf, size_t size);
/*
 * When a restart is allowed, given the times (ms) of the last restarts,
 * oldest first: now, or when the oldest leaves the one-minute window.
 */
uint64_t busoff_next_allowed(const uint64_t *stamps, unsigned n, unsigned max,
			     uint64_t now);

/* ---- configure.c: configure and restart ---- */

struct configure_result {
	int cycled; /* it was up: taken down, changed, brought back up */
	int up;	    /* up now */
	int has_config;
	struct bus_config config; /* in effect now (controllers only) */
};

int configure_apply(struct sess *s, const char *ifname,
		    const struct canlink_change *chg,
		    struct configure_result *res, char *detail, size_t dsize);
int configure_restart(struct sess *s, const char *ifname, char *detail,
		      size_t dsize);

#endif
