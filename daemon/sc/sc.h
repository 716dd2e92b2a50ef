/*
 * sc/: the socketcand front-end, socketcand's ASCII protocol over TCP for
 * the tools that already speak it (python-can's socketcand interface,
 * SavvyCAN, Kayak). The listeners and who may connect (listen.c), one
 * connection each (conn.c), elements and commands from bytes (parse.c),
 * the commands of each mode as operations (cmd.c, cmd_bcm.c), the output
 * queue's encoder (encode.c), control mode's statistics (stats.c) and the
 * discovery beacon (beacon.c). It calls the operations of ops/ as pb/
 * does, and knows nothing of pb/.
 */
#ifndef CAND_DAEMON_SC_SC_H
#define CAND_DAEMON_SC_SC_H

#include <stddef.h>
#include <stdint.h>

#include "ops/ops.h"

/* ---- parse.c: elements and commands from bytes, without a socket ---- */

/* The longest element taken, '<' to '>': a muxfilter of 257 fits. */
#define SC_ELEMENT_MAX 8192
/* A muxfilter's frames: the multiplexer mask and up to 256 values. */
#define SC_MUX_MAX (BCMSOCK_MAX_FRAMES + 1)

enum sc_split_kind {
	SC_SPLIT_MORE,	   /* no complete element yet: read more */
	SC_SPLIT_ELEMENT,  /* [start, start + len) is one, '<' to '>' */
	SC_SPLIT_GARBAGE,  /* bytes outside any element */
	SC_SPLIT_BROKEN,   /* a '<' with another '<' before its '>' */
	SC_SPLIT_TOO_LONG, /* no '>' within SC_ELEMENT_MAX */
};

struct sc_split {
	enum sc_split_kind kind;
	size_t start, len; /* what it is about */
	size_t used;	   /* bytes of the buffer dealt with */
};

/* The next thing in buf (blanks before it are used up too). */
void sc_parse_split(const char *buf, size_t len, struct sc_split *out);
/*
 * The rest of an over-long element: the bytes to drop, up to its '>'
 * (*done = 1) or up to a '<' that starts the next one (*done = 1).
 */
size_t sc_parse_skip(const char *buf, size_t len, int *done);

enum sc_op {
	SC_OP_OPEN,
	SC_OP_BITTIMING, /* < BUS B ... > */
	SC_OP_CTRLMODE,	 /* < BUS C ... > */
	SC_OP_ECHO,
	SC_OP_BCMMODE,
	SC_OP_RAWMODE,
	SC_OP_CONTROLMODE,
	SC_OP_ISOTPMODE,
	SC_OP_SEND,
	SC_OP_SENDRTR,
	SC_OP_ADD,
	SC_OP_UPDATE,
	SC_OP_DELETE,
	SC_OP_FILTER,
	SC_OP_MUXFILTER,
	SC_OP_SUBSCRIBE,
	SC_OP_UNSUBSCRIBE,
	SC_OP_STATISTICS,
	SC_OP_COUNT
};

/* A command, checked: every number in range, every byte there. */
struct sc_cmd {
	enum sc_op op;
	char bus[IFNAMSIZ]; /* open, B, C */
	uint32_t id;	    /* send .. unsubscribe: the CAN id */
	int extended;	    /* 8 hex digits, over 0x7FF, or bit 31 */
	uint8_t dlc;	    /* send, sendrtr, add, update, filter */
	uint8_t data[CAN_MAX_DLEN];
	uint64_t ival_us; /* add: period; filter ..: throttle */
	size_t n_mux;	  /* muxfilter: the mask, then values */
	uint8_t mux[SC_MUX_MAX][CAN_MAX_DLEN];
	uint32_t ms;   /* statistics: 0 = off */
	int32_t bt[8]; /* B: bitrate sample_point tq .. brp */
	int ctrl[3];   /* C: listen_only loopback three_samples */
};

/* The command's name, for messages. */
const char *sc_op_name(enum sc_op op);
/* Parses one element ('<' to '>'): 0, or -EINVAL with why in detail. */
int sc_parse_cmd(const char *el, size_t len, struct sc_cmd *cmd, char *detail,
		 size_t dsize);

/* What a peer's byte stream carries from one read to the next. */
struct sc_stream {
	int skipping; /* inside an over-long element: dropped to its end */
};

enum sc_item_kind {
	SC_ITEM_MORE,	  /* nothing complete: read more */
	SC_ITEM_CMD,	  /* a command, in cmd */
	SC_ITEM_BAD,	  /* an element that is no command: why in detail */
	SC_ITEM_GARBAGE,  /* text: bytes outside any element */
	SC_ITEM_BROKEN,	  /* text: a '<' with another '<' before its '>' */
	SC_ITEM_TOO_LONG, /* no '>' within SC_ELEMENT_MAX; skipped to its end */
};

struct sc_item {
	enum sc_item_kind kind;
	const char *text; /* in the buffer: the element, garbage, ... */
	size_t len;
	struct sc_cmd cmd;
	char detail[256];
};

/*
 * The next item of what a peer sent, buf[0, len), on stream st: the
 * bytes it used, which the caller drops before the next call. conn.c
 * reads a connection with it, and it is the fuzz target's entry: any
 * bytes in, items out, no socket.
 */
size_t sc_parse_next(struct sc_stream *st, const char *buf, size_t len,
		     struct sc_item *it);

/* ---- conn.c: one TCP connection ---- */

enum sc_mode {
	SC_MODE_NOBUS,
	SC_MODE_BCM,
	SC_MODE_RAW,
	SC_MODE_CONTROL,
};

/* Raw mode's ok on its way (conn.c): */
enum sc_hold {
	SC_HOLD_NONE,
	SC_HOLD_OK,	/* queued: frames wait behind it */
	SC_HOLD_FRAMES, /* gone: frames still wait, for the peer to read it */
};

/* A BCM-mode job: the protocol names it by CAN id, cand by its own id. */
struct sc_job {
	canid_t key; /* the id, with CAN_EFF_FLAG when 29-bit */
	uint32_t id;
};

/* Room for an element being read and the next one. */
#define SC_IN_SIZE (2 * SC_ELEMENT_MAX)

struct sc_conn {
	TAILQ_ENTRY(sc_conn) entry;
	struct cand_ctx *ctx;
	struct sess *s;
	int fd;
	struct event *ev_read;
	struct event *ev_hold;	/* RAW: frames start when it fires */
	struct event *ev_stats; /* CONTROL: the statistics timer */
	enum sc_mode mode;
	int dead;	     /* shut down, to be freed by the read callback */
	int closing;	     /* the daemon is stopping: output only */
	int reading_paused;  /* output too full, or a send waits */
	int close_when_sent; /* refused: goes once the refusal is out */
	int holding;	     /* RAW: enum sc_hold, the ok goes out alone */
	int in_garbage;	     /* this run of garbage was reported */
	int dispatching;     /* inside sc_cmd_run() */
	/* A send waiting for TX room; the next commands wait behind it. */
	int sending;
	struct frame_desc pend;
	uint8_t pend_data[CAN_MAX_DLEN];
	/* BCM mode's cyclic sends and receive filters by CAN id. */
	struct sc_job *tasks, *monitors;
	size_t n_tasks, n_monitors;
	uint32_t stats_ms;
	struct sc_stream stream;
	size_t in_off, in_len; /* unread input: in[in_off, in_len) */
	char in[SC_IN_SIZE];
};

/* A session for an admitted peer on fd; sends "< hi >". */
int sc_conn_new(struct cand_ctx *ctx, int fd, const struct ident *id);
void sc_conn_free(struct sc_conn *c);
/* Logs why and disconnects; safe from any callback. */
void sc_conn_kill(struct sc_conn *c, const char *why);
/* Queues "< text >": hi, ok, echo. */
void sc_conn_say(struct sc_conn *c, const char *text);
/* Queues "< error ... >", the text made safe for the protocol. */
void sc_conn_error(struct sc_conn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The error, then the connection goes once it has been written. */
void sc_conn_refuse(struct sc_conn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* RAW mode: frames wait until "< ok >" was read alone (see conn.c). */
void sc_conn_hold(struct sc_conn *c);
void sc_conn_release(struct sc_conn *c);
/* A send that waited is over: read the next commands. */
void sc_conn_resume(struct sc_conn *c);
/* SIGTERM: answer what is pending, say goodbye, stop reading. */
void sc_conn_shutdown_all(struct cand_ctx *ctx);
void sc_conn_free_all(struct cand_ctx *ctx);

/* ---- cmd.c and cmd_bcm.c: commands to operations ---- */

/* Runs a parsed command in the connection's mode; errors are answered. */
void sc_cmd_run(struct sc_conn *c, const struct sc_cmd *cmd);
/* The mode changes from c->mode to mode: stop what the old one ran. */
int sc_cmd_mode(struct sc_conn *c, enum sc_mode mode, char *detail,
		size_t dsize);
int sc_bcm_run(struct sc_conn *c, const struct sc_cmd *cmd, char *detail,
	       size_t dsize);
/* Leaving BCM mode, as socketcand closes its BCM socket: all jobs end. */
void sc_bcm_clear(struct sc_conn *c);

/* ---- stats.c: control mode's "< stat ... >" lines ---- */

int sc_stats_set(struct sc_conn *c, uint32_t ms, char *detail, size_t dsize);
void sc_stats_stop(struct sc_conn *c);

/* ---- encode.c: the output queue's encoder, text out ---- */

/* Longest "< frame ... >" or "< error ... >" of one frame. */
#define SC_FRAME_TEXT_MAX 80

int sc_encode_frames(struct outq *q, const struct rx_batch *b);
int sc_encode_event(struct outq *q, const struct evt *e);
/* "< text >" as is; "< error text >" with '<', '>' and controls made safe. */
int sc_encode_say(struct outq *q, const char *text);
int sc_encode_error(struct outq *q, const char *text);
/*
 * One frame in socketcand's formats, into buf (SC_FRAME_TEXT_MAX): RAW
 * ("< frame 123 1.000000 1122 >", rtr, error) or BCM ("< frame 123
 * 1.000000 11 22  >"). Returns the length.
 */
size_t sc_encode_raw(char *buf, const struct canfd_frame *cf, uint64_t ns);
size_t sc_encode_bcm(char *buf, const struct canfd_frame *cf, uint64_t ns);

/* ---- listen.c: the TCP listeners and who gets a connection ---- */

struct sc_listener {
	int fd;
	struct event *ev;
	struct sc_endpoint at; /* what it is bound to */
};

/* In ctx->sc: the front-end, when it is on. */
struct sc_front {
	struct sc_listener *ls;
	size_t n_ls;
	TAILQ_HEAD(, sc_conn) conns;
	unsigned n_conns;
	struct sc_conf defaults; /* without [socketcand] (systemd's socket) */
	int beacon_fd;
	struct event *ev_beacon;
};

/*
 * Takes systemd's TCP sockets, or binds [socketcand]'s listen addresses;
 * nothing when there are neither. Call before pb's listener_open(), which
 * takes systemd's sockets away.
 */
int sc_open(struct cand_ctx *ctx);
/* No more connections; those there stay until sc_conn_free_all(). */
void sc_close(struct cand_ctx *ctx);
void sc_free(struct cand_ctx *ctx);
/* After a reload: [socketcand] in force now (listen needs a restart). */
void sc_reload(struct cand_ctx *ctx, const struct sc_conf *before);
/* What is in force: [socketcand], or the defaults. */
const struct sc_conf *sc_conf(const struct cand_ctx *ctx);

/* ---- beacon.c: socketcand's UDP discovery beacon ---- */

int sc_beacon_open(struct cand_ctx *ctx);
void sc_beacon_close(struct cand_ctx *ctx);
/* The CANBeacon XML for now into buf; its length. */
size_t sc_beacon_text(struct cand_ctx *ctx, char *buf, size_t size);

#endif
