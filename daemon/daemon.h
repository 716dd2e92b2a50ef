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
	unsigned max_bcm_ops; /* periodic tasks + monitors per client */
};

struct client;
struct raw_chan;
struct bcm_set;

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
	int foreground;
	int stopping;

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
	struct event *ev_read;
	struct event *ev_write;
	struct evbuffer *in;
	struct evbuffer *out;
	int requests_paused;  /* a request in progress, or output too full */
	int dead;	      /* shut down, to be freed by the read callback */
	struct raw_chan *raw; /* NULL until open */
	struct pending_req *pending; /* no requests are read meanwhile */
	struct bcm_set *bcm; /* tasks and monitors; NULL until the first */
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

/* dispatch.c: unpack, handler table, policy, exactly one reply. */
void dispatch_request(struct client *c, const uint8_t *buf, size_t len);
/* Drops a deferred request of a client that is going away. */
void dispatch_cancel(struct client *c);
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
/* Output above the high watermark: let the kernel queue (and count). */
void raw_pause(struct raw_chan *r);
/* Output drained below the low watermark: read CAN again. */
void raw_resume(struct raw_chan *r);
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

/* policy.c: the one place that decides what a caller may do. */
enum policy_right {
	RIGHT_NONE,	 /* anyone connected */
	RIGHT_READ,	 /* receive frames */
	RIGHT_SEND,	 /* put frames on the bus */
	RIGHT_CONFIGURE, /* bitrate, restart */
	RIGHT_PERIODIC,	 /* periodic tasks (CAN_BCM TX) */
	RIGHT_MONITOR,	 /* content monitors (CAN_BCM RX) */
};
int policy_check(const struct client *c, enum policy_right right, char *detail,
		 size_t dsize);

#endif
