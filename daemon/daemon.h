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
};

struct client;
struct raw_chan;

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
	struct pending_req *pending; /* no requests are read meanwhile */
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
/* Kernel frame <-> protobuf frame; exposed for unit tests. */
int raw_frame_from_pb(const Cand__Frame *f, int fd_enabled,
		      struct canfd_frame *cf, int *is_fd, char *detail,
		      size_t dsize);

/* link.c: interface listing and names. */
int link_list(Cand__ListReply *rep);
void link_list_free(Cand__ListReply *rep);

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
