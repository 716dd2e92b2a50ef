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
struct budget;

/* ---- sess.c: one client, whatever front-end it came through ---- */

/* What a client did, for `canctl clients`. */
struct sess_stats {
	uint64_t rx_frames;	/* frames delivered to it from the buses */
	uint64_t tx_frames;	/* frames of its sends handed to the kernel */
	uint64_t refused;	/* frames of its sends over its send budget */
	uint64_t delayed;	/* frames of its sends that waited for it */
	uint64_t tasks_refused; /* periodic tasks over its send budget */
};

struct sess {
	TAILQ_ENTRY(sess) entry;
	struct cand_ctx *ctx;
	unsigned id; /* for logs */
	struct ident ident;
	char who[IDENT_WHO_MAX]; /* "uid 1000", "peer 10.0.0.1": for logs */
	char comm[16];		 /* /proc/PID/comm at connect: who it was */
	unsigned rights;	 /* on the open channel, as last checked */
	struct outq q;
	struct chan *chan;     /* NULL until open */
	struct send_op *send;  /* a send waiting for TX room */
	struct bcm_set *bcm;   /* tasks and monitors; NULL until the first */
	struct budget *budget; /* budget.c; NULL until the first send */
	struct sess_stats stats;
	int subscribed;		   /* wants the events of sub_ifname */
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

/* ---- tap.c: an interface's shared receiving socket ---- */

struct tap;

/* What one read of a tap brought, offered to every channel on it. */
struct tap_read {
	const struct rx_frame *frames; /* own is 0: see owner */
	size_t n;
	/* Per frame: the channel that sent it (its echo), or NULL. */
	struct chan *const *owner;
	uint64_t id;	      /* unique: an encoder may pack a read once */
	uint64_t drains;      /* reads before it that emptied the socket */
	struct rx_frame *sel; /* scratch for a channel's selection */
};

/*
 * The tap of ifindex (0: every interface, for "" channels), receiving
 * nothing until a channel attaches. 0 or -errno with a detail.
 */
int tap_open(struct cand_ctx *ctx, int ifindex, const char *ifname,
	     struct tap **out, char *detail, size_t dsize);
/* Closing: every attached channel hears chan_tap_gone(). */
void tap_free(struct tap *t);
/* Its interface gone: what it holds to its channels, queued (tap.c). */
void tap_drain(struct tap *t);
/* Where a channel on ifindex receives and sends: NULL when none. */
struct tap *tap_of(struct cand_ctx *ctx, int ifindex);
int tap_attach(struct tap *t, struct chan *c);
/* c's filters changed: where the tap's index has it, too. */
int tap_reindex(struct tap *t, struct chan *c);
/* Reads that emptied the socket so far (see chan_deliver()). */
uint64_t tap_drains(const struct tap *t);
/* Stops delivering to c, and its unechoed frames become nobody's own. */
void tap_detach(struct tap *t, struct chan *c);
/* The kernel's drop count of the tap's socket so far. */
uint64_t tap_drops(const struct tap *t);
/*
 * Sends through the tap, so that the echo tells c's frames as c's; as
 * rawsock_send().
 */
int tap_send(struct tap *t, struct chan *c, const struct raw_tx *tx, size_t n,
	     size_t *sent, char *detail, size_t dsize);
/* The interface ifindex went down, bus-off or restarted: no echo comes. */
void tap_link_reset(struct cand_ctx *ctx, int ifindex);

/* ---- chan.c: the channel, fed by its interface's tap ---- */

struct chan_opts {
	const char *channel; /* an interface, or "" for all of them */
	int receive_own;
	int no_loopback;
	int fd;
	int ignore_errors;
	const struct filter_desc *filters; /* none: receive everything */
	size_t n_filters;
	int quiet; /* no frames until chan_set_quiet(c, 0) */
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
/*
 * The client wants no frames for now (socketcand's BCM mode: only tasks,
 * monitors and sends) or wants them again; like the read right, quiet
 * drops what is queued and keeps the filters.
 */
int chan_set_quiet(struct chan *c, int quiet);
void chan_pause(struct chan *c);
void chan_resume(struct chan *c);
/* The interface the channel is bound to went away; frames stop. */
void chan_link_gone(struct chan *c);
/* Its name is back (ifindex): a new socket with the same options. */
int chan_rebind(struct chan *c, int ifindex);
/* Frames the kernel dropped for the client, through every re-bind. */
uint64_t chan_drops(const struct chan *c);
/* Its kernel filters in candump's ID:MASK words ("all"); how many. */
size_t chan_filters_text(const struct chan *c, char *buf, size_t size);
/*
 * Sends n frames on the channel in order; *sent how many went. 0 when all
 * did, else frame *sent's error: -ENOBUFS when the TX queue is full.
 */
int chan_send(struct chan *c, const struct frame_desc *f, size_t n,
	      size_t *sent, char *detail, size_t dsize);
/*
 * tap.c: a read's frames, the client's own filters applied; once per read
 * however often it is called. 1 when it queued the client's first frames
 * since chan_flush().
 */
int chan_deliver(struct chan *c, const struct tap_read *r);
/* The standard ids that are all the channel can take, or -1 (rxfilter). */
int chan_sff_ids(const struct chan *c, uint16_t *ids, size_t max);
/* tap.c: the tap's drop count grew; 1 as chan_deliver(). */
int chan_tell_drops(struct chan *c);
/* tap.c: what chan_deliver() queued goes out, one write per wakeup. */
void chan_flush(struct chan *c);
/* tap.c: the tap closed (its interface went away). */
void chan_tap_gone(struct chan *c);

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

/* ---- clients.c: who is connected, for root and admins ---- */

struct client_info {
	unsigned id;
	pid_t pid;
	uid_t uid;
	gid_t gid;
	char comm[16];
	int open;
	char channel[IFNAMSIZ];
	size_t n_filters; /* 0: receives everything */
	char filters[256];
	unsigned n_tasks, n_monitors;
	uint64_t drops;
	size_t backlog; /* bytes of output not yet written */
	int send_pending;
	struct sess_stats stats;
	char budgets[160];	  /* "vcan0 100/s burst 10"; "" none */
	char peer[IDENT_WHO_MAX]; /* a network peer's address; "" local */
	unsigned peer_port;
};

/* Every client of every front-end into *out (malloc'd, free()). */
int clients_list(struct cand_ctx *ctx, struct client_info **out, size_t *n);

/* ---- budget.c: send budgets (cand.conf send_rate, send_burst) ---- */

/*
 * How far from first the frames are within the client's send budgets:
 * their tokens are taken. Short of n, detail names the budget.
 */
size_t budget_take(struct sess *s, const struct frame_desc *frames,
		   size_t first, size_t n, char *detail, size_t dsize);
/*
 * After budget_take(): frames first..sent went out (after a wait for the
 * budget: delayed), sent..taken did not and get their tokens back.
 */
void budget_done(struct sess *s, const struct frame_desc *frames, size_t first,
		 size_t sent, size_t taken, int delayed);
/* Microseconds until f's budget has a token (0: now; UINT64_MAX: never). */
uint64_t budget_wait_us(struct sess *s, const struct frame_desc *f);
/* A task every period_us on ifname starts: 0, or -EDQUOT over budget. */
int budget_task_reserve(struct sess *s, const char *ifname, uint64_t period_us,
			char *detail, size_t dsize);
/* It stopped, expired or went away. */
void budget_task_release(struct sess *s, const char *ifname,
			 uint64_t period_us);
/* The policy changed: read every budget again. */
void budget_reload(struct sess *s);
/* "vcan0 100/s burst 10, ...": the budgets met so far; how many. */
size_t budget_describe(struct sess *s, char *buf, size_t size);
void budget_free(struct sess *s);

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
	int budgeted;	/* running, its rate counted by budget.c */
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
/* A task is going away: its share of the send budget goes back. */
void task_release(struct bcm_op *op);
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
	struct tap *tap;	   /* the shared receiving socket (tap.c) */
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
struct canif *busstate_by_index(struct cand_ctx *ctx, int ifindex);
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
