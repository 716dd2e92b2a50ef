/*
 * libcand's insides, shared by its files and by nothing else: the handle,
 * the reply being awaited, and what each file offers the others. The
 * files are layers; each calls only the ones below it:
 *
 *   libcand_rx.c      open, filters, send, cand_recv, cand_recv_event
 *   libcand_task.c    tasks, monitors and the handle type they share
 *   libcand_bus.c     list, bus state, configure, restart, flush, subscribe
 *   libcand_rpc.c     one request and its reply; one in flight when the
 *                     daemon went, repeated or reported
 *   libcand_resume.c  reconnecting: backoff, giving up, replaying the
 *                     requests that rebuild what the handle had
 *   libcand_conn.c    connect, close, the socket: reads, writes and waits;
 *                     the descriptor that stays across reconnections
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
#include <time.h>

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
/* Interfaces one send's records may name: their index is a byte. */
#define CAND_PACK_NAMES 256
/* cand_send_async(): sends on their way at once, not yet answered. */
#define CAND_SEND_AHEAD 4
/* Frames of one task, masks of one monitor: the daemon's limit is lower. */
#define CAND_MAX_ITEMS 4096
/* Reconnection tries: the first this soon, doubling up to the most. */
#define CAND_RETRY_FIRST_MS 10
#define CAND_RETRY_MAX_MS   1000

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

/*
 * A request that sets up again, on a new connection, what an earlier one
 * did on this one: packed, without an id. len 0: nothing to replay.
 */
struct cand_kept {
	unsigned char *buf;
	size_t len;
};

enum cand_ref_kind {
	CAND_REF_TASK,
	CAND_REF_MONITOR,
};

/* What a task or a monitor handle holds: its id, listed on its cand_t. */
struct cand_ref {
	struct cand *h; /* NULL once the cand_t is closed */
	enum cand_ref_kind kind;
	uint32_t id;	  /* the application's: the same on every connection */
	uint32_t wire_id; /* the daemon's, on connection number gen */
	unsigned gen;
	/* Tasks: as the application last left it, for a replay. */
	enum cand_task_state state;
	int64_t started_ms;    /* CLOCK_MONOTONIC of the last start or resume */
	struct cand_kept kept; /* the task_start or monitor_start */
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
	int written;	  /* all of the request went to the daemon */
	int err;	  /* a local failure while taking the reply apart */
	cand_take_fn take;
	void *take_arg;
};

/* Where a take puts a list for the caller: v is malloc'd. */
struct cand_array {
	void *v;
	size_t n;
};

/* One request of a replay, awaiting its reply. */
struct cand_replay_step {
	uint32_t id;
	Cand__Request__OpCase op;
	struct cand_ref *ref; /* the task or monitor it re-creates, or NULL */
};

struct cand {
	int fd; /* the connection; -1 while there is none */
	uint32_t last_id;

	/* Reconnection (libcand_resume.c); reconnect_ms 0: none. */
	char path[108]; /* sizeof(sun_path) */
	int64_t reconnect_ms;
	int pollfd;   /* cand_fileno()'s epoll descriptor, made on demand */
	int timerfd;  /* in pollfd while the daemon is away: the next try */
	unsigned gen; /* connections so far */
	int lost;     /* CAND_ESHUTDOWN or CAND_EDISCONNECTED: away for now */
	int lost_shutdown;		/* it said so with a shutdown event */
	int64_t lost_ms;		/* CLOCK_MONOTONIC */
	uint64_t lost_mono_ns, lost_ns; /* CLOCK_MONOTONIC, CLOCK_REALTIME */
	int64_t retry_ms;		/* CLOCK_MONOTONIC of the next try */
	int backoff_ms;
	int retry_errno; /* why the last try failed */
	int unkept;	 /* a keep failed: the handle cannot be set up again */
	/* A Reply with id 0 and an error: a refusal if EOF comes next. */
	int refused;
	char lost_detail[CAND_DETAIL_MAX];
	struct cand_kept kept_open, kept_filters, kept_sub;
	struct cand_replay_step *replay; /* the replay awaiting replies */
	size_t n_replay;
	size_t replay_next;

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
	/* A send's packed records, and the names they index. */
	uint8_t *pack;
	size_t pack_cap;
	char *pack_names[CAND_PACK_NAMES];

	char detail[CAND_DETAIL_MAX];
};

/* CLOCK_MONOTONIC or CLOCK_REALTIME in ns, for every layer. */
static inline uint64_t libcand_clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* libcand_rpc.c */
int libcand_rpc_call(struct cand *h, Cand__Request *req,
		     struct cand_result *res, cand_take_fn take,
		     void *take_arg);
int libcand_rpc_until(struct cand *h, Cand__Request *req,
		      struct cand_result *res, int64_t deadline);
int libcand_rpc_list(struct cand *h, Cand__Request *req, cand_take_fn take,
		     size_t size, void **out);
int libcand_rpc_ref(struct cand *h, Cand__Request *req, struct cand_ref *ref,
		    uint32_t *idp);
int libcand_rpc_pack(struct cand *h, Cand__Request *req,
		     struct cand_result *res, size_t *out_len);

/* libcand_ahead.c: cand_send_async()'s sends ahead of their replies */
int libcand_ahead_reply(struct cand *h, const Cand__Reply *r);
void libcand_ahead_lost(struct cand *h);

/* libcand_resume.c */
void libcand_resume_keep(struct cand *h, struct cand_kept *k,
			 const Cand__Request *req);
void libcand_resume_drop(struct cand_kept *k);
int libcand_resume_poll(struct cand *h);
int libcand_resume_sleep(struct cand *h, int64_t deadline);
int libcand_resume_wait(struct cand *h, int64_t deadline);

/* libcand_conn.c */
struct cand *libcand_conn_new(void);
int64_t libcand_conn_now_ms(void);
int libcand_conn_dial(const char *path, int nonblock, int *fd);
int libcand_conn_attach(struct cand *h, int fd);
int libcand_conn_detach(struct cand *h, int64_t retry_ms);
void libcand_conn_wake(struct cand *h);
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
int libcand_event_reconnected(struct cand *h);
int libcand_event_expired(struct cand *h, const struct cand_ref *r);
struct cand_ref *libcand_event_ref(struct cand *h, enum cand_ref_kind kind,
				   uint32_t wire_id);

/* libcand_batch.c: a FrameBatch as plain fields, names not terminated */
#define LIBCAND_BATCH_NAMES 256 /* a record's ifname index is one byte */
struct libcand_batch {
	uint64_t kernel_drops;
	uint32_t format, count;
	const uint8_t *packed;
	size_t packed_len;
	size_t n_names;
	const char *name[LIBCAND_BATCH_NAMES];
	size_t name_len[LIBCAND_BATCH_NAMES];
};
/* 1 when msg (a ServerMsg's bytes) is a frame batch and nothing else. */
int libcand_batch_parse(const uint8_t *msg, size_t len,
			struct libcand_batch *b);
void libcand_batch_from_pb(struct libcand_batch *b, const Cand__FrameBatch *pb);

/* libcand_queue.c */
int libcand_queue_batch(struct cand *h, const struct libcand_batch *b);
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
int libcand_pb_put_packed(struct cand *h, const struct cand_frame *frames,
			  size_t n, Cand__SendRequest *sr);
int libcand_pb_put_frames(struct cand *h, const struct cand_frame *frames,
			  size_t n);
int libcand_pb_put_filters(struct cand *h, const struct cand_filter *src,
			   size_t n, Cand__Filter **pf, Cand__Filter ***pp);

/* libcand_err.c */
int libcand_err_set(struct cand *h, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/*
 * A daemon Status as the library's code: its negative, or CAND_EPROTO for
 * one outside the daemon's block (which would pass for a library code).
 */
int libcand_err_status(int status);
int libcand_err_kill(struct cand *h, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int libcand_err_dead(struct cand *h);
int libcand_err_lost(struct cand *h, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
