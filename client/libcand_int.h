/*
 * libcand's insides, shared by its files and by nothing else: the handle,
 * the reply being awaited, and what each file offers the others. The
 * files are layers; each calls only the ones below it:
 *
 *   libcand_rx.c      open, filters, send, cand_recv, cand_recv_event
 *   libcand_task.c    tasks, monitors and the handle type they share
 *   libcand_bus.c     list, bus state, configure, restart, flush, subscribe
 *   libcand_rpc.c     one request and its reply
 *   libcand_conn.c    connect, close, the socket: reads, writes and waits
 *   libcand_read.c    the reader: bytes in, decoded messages out
 *   libcand_event.c   each kind of event decoded and queued
 *   libcand_queue.c   the frame queue (batches, packed records), the
 *                     event queue, and taking the next of either
 *   libcand_pb.c      cand.h's types to and from protobuf-c's
 *   libcand_err.c     a failed call's code and detail, a dead connection
 *
 * Internal functions carry their file's prefix (libcand_rpc_*), public
 * ones cand_*; the .so exports only CAND_EXPORT.
 */
#ifndef CAND_LIBCAND_INT_H
#define CAND_LIBCAND_INT_H

#include <stddef.h>
#include <stdint.h>

#include "cand.h"
#include "cand.pb-c.h"

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
/* cand_send_async(): sends on their way at once, not yet answered. */
#define CAND_SEND_AHEAD 4
/* Frames of one task, masks of one monitor: the daemon's limit is lower. */
#define CAND_MAX_ITEMS 4096

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
	int has_created;
	uint32_t created; /* a new task's or monitor's id */
	int err;	  /* a local failure while taking the reply apart */
	cand_take_fn take;
	void *take_arg;
};

/* Where a take puts a list for the caller: v is malloc'd. */
struct cand_array {
	void *v;
	size_t n;
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

	/* cand_send_async()'s requests without a reply, oldest first. */
	struct {
		uint32_t id;
		uint32_t n;	  /* frames in it */
		int64_t deadline; /* its reply is overdue after this */
	} ahead[CAND_SEND_AHEAD];
	size_t n_ahead;
	int ahead_err;	     /* the first of their failures, or 0 */
	uint64_t ahead_sent; /* frames they sent */
	char ahead_detail[CAND_DETAIL_MAX];

	unsigned char *out;
	size_t out_cap;
	Cand__Frame *tx;
	Cand__Frame **txp;
	size_t tx_cap;

	char detail[CAND_DETAIL_MAX];
};

/* libcand_rpc.c */
int libcand_rpc_call(struct cand *h, Cand__Request *req,
		     struct cand_result *res, cand_take_fn take,
		     void *take_arg);
int libcand_rpc_until(struct cand *h, Cand__Request *req,
		      struct cand_result *res, int64_t deadline);
int libcand_rpc_list(struct cand *h, Cand__Request *req, cand_take_fn take,
		     size_t size, void **out);
int libcand_rpc_ahead(struct cand *h, Cand__Request *req, uint32_t n,
		      int64_t deadline);
int libcand_rpc_drain(struct cand *h, size_t max);

/* libcand_conn.c */
struct cand *libcand_conn_new(void);
int64_t libcand_conn_now_ms(void);
int libcand_conn_fill(struct cand *h);
int libcand_conn_wait(struct cand *h, short events, int64_t deadline);
int libcand_conn_more(struct cand *h, int timeout_ms, int64_t *deadline);
int libcand_conn_write(struct cand *h, const unsigned char *p, size_t len,
		       struct cand_result *res, int64_t deadline);

/* libcand_read.c */
int libcand_read_init(struct cand *h);
void libcand_read_free(struct cand *h);
int libcand_read_room(struct cand *h, size_t min);
int libcand_read_msg(struct cand *h, struct cand_result *res);
int libcand_read_all(struct cand *h, struct cand_result *res);
int libcand_read_feed(struct cand *h, const void *buf, size_t len);

/* libcand_event.c */
int libcand_event_take(struct cand *h, const Cand__Event *ev);

/* libcand_queue.c */
int libcand_queue_batch(struct cand *h, const Cand__FrameBatch *b);
int libcand_queue_event(struct cand *h, const struct cand_event *ev, int err);
int libcand_queue_pop_frame(struct cand *h, struct cand_frame *f);
int libcand_queue_pop(struct cand *h, struct cand_event *ev);
size_t libcand_queue_len(const struct cand *h);

/* libcand_pb.c */
void libcand_pb_get_str(char *dst, size_t size, const char *src);
void libcand_pb_get_frame(struct cand_frame *f, const Cand__Frame *p);
void libcand_pb_get_config(struct cand_bus_config *c, const Cand__BusConfig *p);
enum cand_state libcand_pb_get_state(Cand__CanState s);
int libcand_pb_check_frames(struct cand *h, const struct cand_frame *frames,
			    size_t n);
void libcand_pb_put_frame(Cand__Frame *p, const struct cand_frame *f);
int libcand_pb_put_frames(struct cand *h, const struct cand_frame *frames,
			  size_t n);
int libcand_pb_put_filters(struct cand *h, const struct cand_filter *src,
			   size_t n, Cand__Filter **pf, Cand__Filter ***pp);

/* libcand_err.c */
int libcand_err_set(struct cand *h, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int libcand_err_kill(struct cand *h, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int libcand_err_dead(struct cand *h);

#endif
