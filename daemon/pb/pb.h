/*
 * pb/: the protobuf front-end, the only daemon code that knows
 * proto/cand.proto. The control socket (listener.c), one connection each
 * (conn.c), requests to operations (dispatch.c and the handlers in
 * op_chan.c, op_bcm.c, op_bus.c, op_clients.c), a send's frames in either
 * form (sendreq.c) and the output queue's encoder (encode.c). Adding an
 * operation: a proto field, a dispatch_ops[] line, a handler, a test.
 */
#ifndef CAND_DAEMON_PB_PB_H
#define CAND_DAEMON_PB_PB_H

#include <stddef.h>
#include <stdint.h>

#include "cand.pb-c.h"
#include "ops/ops.h"

struct evbuffer;

/* ---- conn.c: one connection ---- */

struct conn {
	TAILQ_ENTRY(conn) entry;
	struct cand_ctx *ctx;
	struct sess *s;
	int fd;
	struct event *ev_read;
	struct evbuffer *in;
	int requests_paused; /* a request in progress, or output too full */
	int dead;	     /* shut down, to be freed by the read callback */
	int closing;	     /* the daemon is stopping: output only */
	int dispatching;     /* inside dispatch_request() */
	size_t skip;	     /* bytes of an oversized request to discard */
	/* A send whose reply waits for TX room; only a flush_tx overtakes. */
	Cand__Request *pending;
	/* A send's frames, the pending one's until done; kept for the next. */
	struct frame_desc *descs;
	size_t descs_cap;
};

int conn_new(struct cand_ctx *ctx, int fd);
void conn_free(struct conn *c);
/* Logs why and disconnects; safe from any callback. */
void conn_kill(struct conn *c, const char *why);
/* A deferred request was answered: read the next requests. */
void conn_resume_requests(struct conn *c);
/* SIGTERM: answer what is pending, say goodbye, stop reading. */
void conn_shutdown_all(struct cand_ctx *ctx);
void conn_free_all(struct cand_ctx *ctx);

/* ---- listener.c: the control socket ---- */

int listener_open(struct cand_ctx *ctx);
void listener_close(struct cand_ctx *ctx);

/* ---- dispatch.c: unpack, handler table, policy, exactly one reply ---- */

#define DISPATCH_DETAIL 256

/* What a handler fills in; dispatch owns and sends it. */
struct dispatch_reply {
	Cand__Reply rep;
	char detail[DISPATCH_DETAIL];
	Cand__ListReply list;
	Cand__SendReply send;
	Cand__CreatedReply created;
	Cand__TaskListReply tasks;
	Cand__StateReply state;
	Cand__ConfigureReply configure;
	Cand__BusConfig config;
	Cand__FlushTxReply flush;
	Cand__ClientsReply clients;
	char note[DISPATCH_DETAIL];
	void *alloc[2]; /* what the handler allocated for its result */
};

typedef int (*dispatch_fn)(struct conn *, Cand__Request *,
			   struct dispatch_reply *);

void dispatch_request(struct conn *c, const uint8_t *buf, size_t len);
/* May this request be handled while an earlier one is pending? */
int dispatch_may_overtake(const uint8_t *buf, size_t len);
/* Answers a request that was never unpacked: a Reply with id 0. */
void dispatch_reject(struct conn *c, int rc, const char *detail);
void dispatch_reply_init(struct dispatch_reply *r, uint32_t id);
/* Turns a handler's result into the reply's status and sends it. */
void dispatch_finish(struct conn *c, struct dispatch_reply *r, int rc);
Cand__Status dispatch_status_from_errno(int err);

/* ---- the handlers: request -> plain arguments -> operation -> reply ---- */

int op_chan_open(struct conn *, Cand__Request *, struct dispatch_reply *);
int op_chan_send(struct conn *, Cand__Request *, struct dispatch_reply *);
int op_chan_filters(struct conn *, Cand__Request *, struct dispatch_reply *);
int op_chan_flush_tx(struct conn *, Cand__Request *, struct dispatch_reply *);
int op_bcm_task_start(struct conn *, Cand__Request *, struct dispatch_reply *);
int op_bcm_task_modify(struct conn *, Cand__Request *, struct dispatch_reply *);
int op_bcm_task_stop(struct conn *, Cand__Request *, struct dispatch_reply *);
int op_bcm_task_resume(struct conn *, Cand__Request *, struct dispatch_reply *);
int op_bcm_task_remove(struct conn *, Cand__Request *, struct dispatch_reply *);
int op_bcm_task_stop_all(struct conn *, Cand__Request *,
			 struct dispatch_reply *);
int op_bcm_task_list(struct conn *, Cand__Request *, struct dispatch_reply *);
int op_bcm_monitor_start(struct conn *, Cand__Request *,
			 struct dispatch_reply *);
int op_bcm_monitor_stop(struct conn *, Cand__Request *,
			struct dispatch_reply *);
int op_bus_list(struct conn *, Cand__Request *, struct dispatch_reply *);
int op_bus_state(struct conn *, Cand__Request *, struct dispatch_reply *);
int op_bus_configure(struct conn *, Cand__Request *, struct dispatch_reply *);
int op_bus_restart(struct conn *, Cand__Request *, struct dispatch_reply *);
int op_bus_subscribe(struct conn *, Cand__Request *, struct dispatch_reply *);
int op_clients_list(struct conn *, Cand__Request *, struct dispatch_reply *);

/* ---- encode.c: protobuf <-> plain, and the outq encoder ---- */

int encode_init(struct cand_ctx *ctx);
void encode_free(struct cand_ctx *ctx);
/* Appends one length-prefixed ServerMsg to the queue; 0 or -errno. */
int encode_msg(struct outq *q, const Cand__ServerMsg *msg);
/* The outq encoder: a batch of frames, an event. */
int encode_frames(struct outq *q, const struct rx_batch *b);
int encode_event(struct outq *q, const struct evt *e);
void encode_frame_desc(const Cand__Frame *f, struct frame_desc *d);
/* Every frame of a request as plain frames; *out is malloc'd. */
int encode_frame_descs(Cand__Frame **frames, size_t n, struct frame_desc **out);
int encode_filter_descs(Cand__Filter **filters, size_t n,
			struct filter_desc **out);
/* Fills id, flags, dlc and data (pointing into cf); not ifname or time. */
void encode_frame_pb(const struct canfd_frame *cf, int is_fd, Cand__Frame *f);
void encode_bus_config(Cand__BusConfig *pb, const struct bus_config *c);

/* ---- sendreq.c: a SendRequest's frames, Frame messages or packed ---- */

/*
 * sr's frames as *n plain ones in *descs, an array of *cap grown to fit
 * (realloc) and kept by the caller; their data and names point into sr.
 * 0, or -EINVAL with the bad frame's index (nothing to send), -ENOMEM.
 */
int sendreq_frames(const Cand__SendRequest *sr, struct frame_desc **descs,
		   size_t *cap, size_t *n, char *detail, size_t dsize);
/* A send is done with *descs: kept for the next unless it grew too big. */
void sendreq_done(struct frame_desc **descs, size_t *cap);

#endif
