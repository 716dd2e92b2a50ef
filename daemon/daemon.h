/*
 * cand daemon internals. One struct cand_ctx is the daemon's only global
 * state; every module takes it (or a client that points at it).
 */
#ifndef CAND_DAEMON_DAEMON_H
#define CAND_DAEMON_DAEMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <linux/can.h>
#include <linux/netlink.h>
#include <net/if.h>

#include "cand.pb-c.h"

#ifndef CAND_SYSCONFDIR
#define CAND_SYSCONFDIR "/etc"
#endif

struct event;
struct event_base;
struct evbuffer;

/* Frames per recvmmsg() and so at most per FrameBatch event. */
#define RAW_BATCH 64

struct cand_limits {
	size_t max_msg;	 /* largest request accepted */
	size_t out_high; /* pause a client's CAN reads above this output */
	size_t out_low;	 /* and resume below this */
	int rcvbuf;	 /* SO_RCVBUF(FORCE) of each client's CAN socket */
	unsigned max_clients;
	unsigned max_filters;  /* per client; the kernel takes 512 */
	unsigned max_periodic; /* BCM periodic tasks per client */
	unsigned max_monitors; /* BCM receive monitors per client */
};

struct policy;

/* What etc/cand.conf says (config.c); replaced whole on SIGHUP. */
struct cand_config {
	struct cand_limits limits;
	struct policy *policy;
	/* Bus-off recovery per interface; busoff.c points into it. */
	struct busoff_policy *busoff;
	size_t n_busoff;
};

struct client;
struct raw_chan;
struct bcm_set;
struct canif;

/* Bus-off recovery of one interface, from cand.conf; config.c, busoff.c. */
enum busoff_mode {
	BUSOFF_KERNEL = 1, /* the kernel restarts after restart_ms */
	BUSOFF_CAND,	   /* cand restarts after delay_ms, rate-limited */
	BUSOFF_NONE,	   /* stays bus-off until someone restarts it */
};

/* Restarts a minute cand.conf may allow: about one a second at most. */
#define BUSOFF_MAX_PER_MINUTE 60

struct busoff_policy {
	char ifname[IFNAMSIZ];
	enum busoff_mode mode;
	uint32_t restart_ms;	 /* BUSOFF_KERNEL */
	uint32_t delay_ms;	 /* BUSOFF_CAND */
	unsigned max_per_minute; /* BUSOFF_CAND; 0: no limit */
};

struct cand_ctx {
	struct event_base *base;
	const char *sock_path;
	mode_t sock_mode;
	int listen_fd;
	int listen_owned; /* we bound it, so we unlink it on exit */
	struct event *ev_listen;
	struct event *ev_signals[4];
	TAILQ_HEAD(, client) clients;
	unsigned n_clients;
	unsigned next_client_id;
	struct cand_limits limits;
	struct policy *policy;	 /* NULL: no rules, only root may do anything */
	const char *config_path; /* NULL: built-in defaults */
	int foreground;
	int stopping;

	/* notify.c: systemd's watchdog and STATUS= line. */
	struct event *ev_watchdog;
	struct event *ev_status;
	unsigned n_ifaces;

	/* Scratch for the frame path, reused so it never mallocs per frame. */
	struct raw_scratch *scratch;

	/*
	 * Bus health: cand.conf's bus-off part (its limits and policy live
	 * above, as a reload replaces them), the rtnetlink monitor, the
	 * interfaces.
	 */
	struct cand_config config;
	int nl_fd;
	struct event *ev_netlink;
	TAILQ_HEAD(, canif) canifs;
};

/* A request whose reply waits (a send retrying for TX room); dispatch.c. */
struct pending_req;

struct client {
	TAILQ_ENTRY(client) entry;
	struct cand_ctx *ctx;
	unsigned id; /* for logs */
	int fd;
	uid_t uid;
	gid_t gid;
	pid_t pid;
	gid_t *groups; /* gid and the uid's groups from the system */
	size_t n_groups;
	unsigned rights; /* on the open channel, as last checked */
	struct event *ev_read;
	struct event *ev_write;
	struct evbuffer *in;
	struct evbuffer *out;
	int requests_paused;  /* a request in progress, or output too full */
	int dead;	      /* shut down, to be freed by the read callback */
	int closing;	      /* the daemon is stopping: output only */
	size_t skip;	      /* bytes of an oversized request to discard */
	struct raw_chan *raw; /* NULL until open */
	struct pending_req *pending; /* only a flush_tx may overtake it */
	struct bcm_set *bcm; /* tasks and monitors; NULL until the first */
	int subscribed;	     /* wants the events of sub_ifname */
	char sub_ifname[IFNAMSIZ]; /* "" = every interface */
};

/* log.c: journald-style "<N>" prefixes on stderr. */
void log_init(void);
void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* listener.c */
int listener_open(struct cand_ctx *ctx);
void listener_close(struct cand_ctx *ctx);

/* client.c: one connection, its buffers and its lifetime. */
int client_new(struct cand_ctx *ctx, int fd);
void client_free(struct client *c);
/* Logs why and disconnects; safe from any callback. */
void client_kill(struct client *c, const char *why);
/* Appends one length-prefixed ServerMsg to the output; 0 or -errno. */
int client_queue_msg(struct client *c, const Cand__ServerMsg *msg);
/* Writes what can be written now, arms EV_WRITE for the rest. */
void client_flush(struct client *c);
/* The same from the event loop's next round; safe inside a handler. */
void client_flush_later(struct client *c);
/* Called when a deferred request finished, to read the next requests. */
void client_resume_requests(struct client *c);
int client_out_full(const struct client *c);
size_t client_pending_output(const struct client *c);
/* After a reload: drop what the client's rights no longer cover. */
void client_policy_changed(struct client *c);
/* SIGTERM: answer what is pending, say goodbye, stop reading. */
void client_shutdown(struct client *c);

/* dispatch.c: unpack, handler table, policy, exactly one reply. */
void dispatch_request(struct client *c, const uint8_t *buf, size_t len);
/* Drops a deferred request of a client that is going away. */
void dispatch_cancel(struct client *c);
/* May this request be handled while an earlier one is pending? */
int dispatch_may_overtake(const uint8_t *buf, size_t len);
/* Answers a request that was never unpacked: a Reply with id 0. */
void dispatch_reject(struct client *c, int rc, const char *detail);
/* Answers a deferred request now with rc (e.g. -ESHUTDOWN). */
void dispatch_abort(struct client *c, int rc, const char *why);
Cand__Status dispatch_status_from_errno(int err);
void reply_detail(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* raw.c: each client's CAN_RAW socket, the frame path in both directions. */
int raw_scratch_init(struct cand_ctx *ctx);
void raw_scratch_free(struct cand_ctx *ctx);
int raw_open(struct client *c, const Cand__OpenRequest *req, char *detail,
	     size_t dsize);
void raw_close(struct raw_chan *r);
/* The channel name the client opened: an interface or "". */
const char *raw_channel(const struct raw_chan *r);
/* Its interface index, 0 for "" (every interface). */
int raw_ifindex(const struct raw_chan *r);
/* Whether it was opened with fd. */
int raw_fd_enabled(const struct raw_chan *r);
int raw_set_filters(struct raw_chan *r, Cand__Filter **filters, size_t n,
		    char *detail, size_t dsize);
/*
 * Sends frames from req->frames[*next] on; advances *next. -ENOBUFS when the
 * TX queue is full (the caller retries), other -errno with detail on failure.
 */
int raw_send(struct raw_chan *r, const Cand__SendRequest *req, size_t *next,
	     char *detail, size_t dsize);
/*
 * Receiving on or off (the read right); off drops what is queued and keeps
 * the client's filters for when it is on again.
 */
int raw_set_rx(struct raw_chan *r, int on);
int raw_rx_on(const struct raw_chan *r);
/* Output above the high watermark: let the kernel queue (and count). */
void raw_pause(struct raw_chan *r);
/* Output drained below the low watermark: read CAN again. */
void raw_resume(struct raw_chan *r);
/* The interface the channel is bound to went away; frames stop. */
void raw_link_gone(struct raw_chan *r);
/* Its name is back (ifindex): a new socket with the same options. */
int raw_rebind(struct raw_chan *r, int ifindex);
/* Kernel frame <-> protobuf frame; exposed for unit tests. */
int raw_frame_from_pb(const Cand__Frame *f, int fd_enabled,
		      struct canfd_frame *cf, int *is_fd, char *detail,
		      size_t dsize);
/* Fills id, flags, dlc and data (pointing into cf); not ifname or time. */
void raw_frame_fill_pb(const struct canfd_frame *cf, int is_fd, Cand__Frame *f);

/*
 * bcm.c: periodic tasks and content monitors through the kernel's broadcast
 * manager, one CAN_BCM socket each. Ids are per client. Every call takes a
 * client with an open channel and returns 0 or -errno with a detail.
 */
int bcm_task_start(struct client *c, const Cand__TaskStartRequest *req,
		   uint32_t *id, char *detail, size_t dsize);
int bcm_task_modify(struct client *c, const Cand__TaskModifyRequest *req,
		    char *detail, size_t dsize);
int bcm_task_stop(struct client *c, uint32_t id, char *detail, size_t dsize);
int bcm_task_resume(struct client *c, uint32_t id, char *detail, size_t dsize);
int bcm_task_stop_all(struct client *c, char *detail, size_t dsize);
int bcm_task_list(struct client *c, Cand__TaskListReply *rep);
void bcm_task_list_free(Cand__TaskListReply *rep);
int bcm_monitor_start(struct client *c, const Cand__MonitorStartRequest *req,
		      uint32_t *id, char *detail, size_t dsize);
/* Stops and forgets a task (monitor 0) or a monitor (monitor 1). */
int bcm_remove(struct client *c, uint32_t id, int monitor, char *detail,
	       size_t dsize);
/* Closes every task and monitor of the client: they stop at once. */
void bcm_client_free(struct client *c);
/* Output drained below the low watermark: read monitor events again. */
void bcm_resume(struct client *c);
/*
 * Checks a period and duration (microseconds) against the kernel's bounds
 * and gives the frame count for the duration (0: forever); for unit tests.
 */
int bcm_timing(uint64_t period_us, uint64_t duration_us, uint32_t *count,
	       char *detail, size_t dsize);

/* link.c: interface listing and names. */
int link_list(Cand__ListReply *rep);
void link_list_free(Cand__ListReply *rep);

/* ---- Bus health ---- */

/* A controller's configuration as the kernel reports it. */
struct canlink_config {
	uint32_t bitrate;
	uint32_t sample_point; /* tenths of a percent */
	uint32_t data_bitrate;
	uint32_t data_sample_point;
	uint32_t restart_ms;
	uint32_t ctrlmode;
	uint32_t ctrlmode_supported;
	uint32_t clock_hz;
};

/* One CAN interface as an RTM_NEWLINK describes it; netlink.c. */
struct nl_link {
	int ifindex;
	char name[IFNAMSIZ];
	char kind[16];
	unsigned flags; /* IFF_* */
	unsigned mtu;
	int controller; /* CAN attributes present: a real controller */
	int state;	/* the kernel's CAN_STATE_*, with controller */
	int has_berr;
	unsigned txerr, rxerr;
	int fd_capable; /* has a CAN FD data phase bit timing */
	struct canlink_config cfg;
};

/* What a configure changes; zero fields stay as they are. canlink.c. */
struct canlink_change {
	uint32_t bitrate;
	uint32_t sample_point;
	uint32_t data_bitrate;
	uint32_t data_sample_point;
	int set_restart_ms;
	uint32_t restart_ms;
	uint32_t ctrlmode_mask;
	uint32_t ctrlmode_flags;
	int link; /* Cand__LinkChange */
};

/* netlink.c: the rtnetlink monitor in the event loop. */
int netlink_open(struct cand_ctx *ctx);
void netlink_close(struct cand_ctx *ctx);
/*
 * Handles the notifications already queued, so that what a request did
 * (or what happened before it) is reported before its reply.
 */
void netlink_drain(struct cand_ctx *ctx);
/* Parses an RTM_NEWLINK/RTM_DELLINK: 1 for a CAN interface, else 0. */
int netlink_parse_link(const struct nlmsghdr *nh, struct nl_link *out);
/* One interface now, by a synchronous RTM_GETLINK; 0 or -errno. */
int netlink_get_link(const char *ifname, struct nl_link *out);
/* libsocketcan 0.0.12 cannot set the CAN FD data bit timing; this can. */
int netlink_set_data_bittiming(const char *ifname, uint32_t bitrate,
			       uint32_t sample_point);

/* canlink.c: libsocketcan, for state, statistics and configuration. */
struct canlink_info {
	int controller;
	int state; /* kernel CAN_STATE_*, with controller */
	int has_berr;
	unsigned txerr, rxerr;
	struct canlink_config cfg;
	int has_xstats;
	Cand__DeviceStats xstats;
	int has_stats;
	Cand__LinkStats stats;
};
int canlink_read(const char *ifname, int controller, struct canlink_info *out);
int canlink_configure(const struct nl_link *l, const struct canlink_change *c,
		      int *cycled, char *detail, size_t dsize);
int canlink_restart(const struct nl_link *l, char *detail, size_t dsize);
const char *canlink_state_name(int pb_state);
/* "LISTEN-ONLY ONE-SHOT" for CtrlMode bits; "" for none. */
void canlink_ctrlmode_str(uint32_t bits, char *buf, size_t size);

/* busstate.c: tracked CAN interfaces, their state, events to clients. */
struct canif {
	TAILQ_ENTRY(canif) entry;
	struct cand_ctx *ctx;
	struct nl_link link; /* as last seen */
	int state;	     /* Cand__CanState */
	int state_from_frames;
	int has_counters;
	unsigned txerr, rxerr;
	int errmon_fd; /* error frames only: state changes as they happen */
	struct event *ev_errmon;
	struct busoff_run *busoff; /* busoff.c */
	int seen;		   /* in the current resync's dump */
};
/* From netlink: an interface appeared or changed (initial: at startup). */
void busstate_link_update(struct cand_ctx *ctx, const struct nl_link *l,
			  int initial);
void busstate_link_removed(struct cand_ctx *ctx, int ifindex);
/*
 * Reads the interface now and reports what changed unannounced; call
 * netlink_drain() first (which may free any canif).
 */
void busstate_sync(struct canif *ci);
struct canif *busstate_find(struct cand_ctx *ctx, const char *ifname);
void busstate_free_all(struct cand_ctx *ctx);
/* The state reply for ifname ("" = all); free with busstate_reply_free. */
int busstate_query(struct cand_ctx *ctx, const char *ifname,
		   Cand__StateReply *rep, char *detail, size_t dsize);
void busstate_reply_free(Cand__StateReply *rep);
/* Fills a BusConfig from the kernel's numbers. */
void busstate_config_pb(Cand__BusConfig *pb, const struct canlink_config *c);
/* The CanState an error frame reports, or -1; counters when it has them. */
int busstate_from_error_frame(const struct can_frame *cf, int *has_counters,
			      unsigned *tx, unsigned *rx);
/* Queues ev for every client that wants events of ifname. */
void busstate_broadcast(struct cand_ctx *ctx, const char *ifname,
			Cand__Event *ev);

/* busoff.c: bus-off logging and recovery policy. */
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

/* config.c (also): the [interface NAME] bus-off policy of ifname. */
const struct busoff_policy *config_busoff(const struct cand_config *cfg,
					  const char *ifname);

/* link.c: the number of CAN interfaces, or -errno. */
int link_count(void);

/*
 * policy.c: the one place that decides what a caller may do. Rules from
 * the config grant rights per interface to users and groups; everything
 * else is denied, except to root.
 */
enum policy_right {
	RIGHT_NONE,	 /* anyone connected */
	RIGHT_READ,	 /* receive frames */
	RIGHT_SEND,	 /* put frames on the bus (maybe only some ids) */
	RIGHT_PERIODIC,	 /* BCM periodic transmit tasks */
	RIGHT_MONITOR,	 /* BCM receive monitors */
	RIGHT_CONFIGURE, /* bitrate, restart */
	RIGHT_ADMIN,	 /* all of the above, send without id limits */
	RIGHT_OPEN,	 /* bind a channel: any of read/send/periodic/monitor */
};
#define POLICY_RIGHT_BIT(r) (1u << (r))

const char *policy_right_name(enum policy_right right);
/* The right called name, or -EINVAL. */
int policy_right_from_name(const char *name);

/* The rules model; config.c builds it, policy.c matches against it. */
struct policy_rule;
struct policy *policy_new(void);
void policy_free(struct policy *p);
size_t policy_n_rules(const struct policy *p);
struct policy_rule *policy_add_rule(struct policy *p, const char *name,
				    unsigned line);
int policy_rule_add_iface(struct policy_rule *r, const char *pattern);
int policy_rule_add_uid(struct policy_rule *r, uid_t uid);
int policy_rule_add_gid(struct policy_rule *r, gid_t gid);
void policy_rule_add_everyone(struct policy_rule *r);
void policy_rule_add_rights(struct policy_rule *r, unsigned bits);
/* Ids this rule lets its subjects send: lo..hi, or (id & hi) == (lo & hi). */
int policy_rule_add_ids(struct policy_rule *r, int extended, uint32_t lo,
			uint32_t hi, int is_mask);
/* 0, or -EINVAL with why when the rule misses something. */
int policy_rule_validate(const struct policy_rule *r, char *why, size_t size);
const char *policy_rule_name(const struct policy_rule *r);
unsigned policy_rule_line(const struct policy_rule *r);
struct policy_rule *policy_rule_at(struct policy *p, size_t i);

/* The client's groups from the system (getgrouplist), at connect and reload. */
int policy_load_groups(struct client *c);
/* Every right c has on iface (admin expanded); all of them for root. */
unsigned policy_rights(const struct client *c, const char *iface);
/* 1 if c has right on iface ("" is the all-interfaces channel). */
int policy_allows(const struct client *c, const char *iface,
		  enum policy_right right);
/* 0, or -EPERM with a detail naming the missing right. */
int policy_check(const struct client *c, const char *iface,
		 enum policy_right right, char *detail, size_t dsize);
/*
 * Every frame of a send request from index first on, before any is sent:
 * 0, or -EPERM naming the frame, its id and the interface.
 */
int policy_check_frames(const struct client *c, const char *channel,
			const Cand__SendRequest *req, size_t first,
			char *detail, size_t dsize);

/* config.c: etc/cand.conf, INI (inih), one parser per kind of section. */
#define CONFIG_DEFAULT_PATH CAND_SYSCONFDIR "/cand.conf"
void config_defaults(struct cand_config *cfg);
/*
 * Reads path into cfg (defaults first). 0, or -errno with err set to
 * "FILE:LINE: reason" (or "FILE: reason"); cfg is then left empty.
 */
int config_load(const char *path, struct cand_config *cfg, char *err,
		size_t esize);
/* Reads a config from a string (tests); name stands for the file. */
int config_load_string(const char *text, const char *name,
		       struct cand_config *cfg, char *err, size_t esize);
void config_free(struct cand_config *cfg);

/* notify.c: systemd's notify protocol (no-ops outside systemd). */
int notify_init(struct cand_ctx *ctx);
void notify_free(struct cand_ctx *ctx);
void notify_ready(struct cand_ctx *ctx);
void notify_reloading(struct cand_ctx *ctx);
void notify_stopping(struct cand_ctx *ctx);
/* The client or interface count changed: STATUS= soon, rate-limited. */
void notify_status(struct cand_ctx *ctx);

#endif
