/*
 * libcand: the client library of the cand CAN bus daemon.
 *
 * A handle is one connection to the daemon. Bind it to a channel with
 * cand_open() (python-can's SocketcanBus()), then cand_send()/cand_recv().
 * cand_list() works on a handle that is connected but not open. On an open
 * handle, cand_task_start() sends frames periodically and
 * cand_monitor_start() watches an id for changes and silence; their events
 * come from cand_recv_event().
 *
 * Every call returns 0 (or a count) on success and a negative CAND_E* code
 * on failure; cand_strerror() turns any of them into a message, and
 * cand_last_detail() gives the daemon's own words for the last failure.
 * A handle is not thread-safe.
 */
#ifndef CAND_H
#define CAND_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CAND_DEFAULT_SOCKET "/run/cand.sock"
#define CAND_IFNAMSIZ	    16
#define CAND_MAX_DLEN	    64

/* Error codes. The first block mirrors the daemon's Status enum. */
enum cand_error {
	CAND_OK = 0,
	CAND_EINVAL = -1,     /* invalid argument */
	CAND_EBADMSG = -2,    /* malformed message */
	CAND_ENODEV = -3,     /* no such CAN interface */
	CAND_ENETDOWN = -4,   /* interface is down */
	CAND_ETXFULL = -5,    /* TX buffer full */
	CAND_ENOTOPEN = -6,   /* channel not open */
	CAND_EALREADY = -7,   /* channel already open */
	CAND_EPERM = -8,      /* permission denied */
	CAND_EUNSUPP = -9,    /* not supported */
	CAND_ELIMIT = -10,    /* limit exceeded */
	CAND_EIO = -11,	      /* kernel I/O error */
	CAND_EINTERNAL = -12, /* daemon internal error */
	CAND_ESHUTDOWN = -13, /* daemon shutting down */
	/* Local to the library. */
	CAND_ETIMEOUT = -100,	   /* timed out */
	CAND_ECONNECT = -101,	   /* cannot connect to the daemon */
	CAND_EDISCONNECTED = -102, /* the daemon closed the connection */
	CAND_ENOMEM = -103,	   /* out of memory */
	CAND_ESYS = -104,	   /* system call failed; see errno */
	CAND_EPROTO = -105,	   /* the daemon sent something unexpected */
};

/* Frame flags, python-can's Message attributes. */
#define CAND_FRAME_EXTENDED 0x01u /* 29-bit id */
#define CAND_FRAME_REMOTE   0x02u /* RTR */
#define CAND_FRAME_ERROR    0x04u /* error frame; id holds CAN_ERR_* bits */
#define CAND_FRAME_FD	    0x08u /* CAN FD */
#define CAND_FRAME_BRS	    0x10u /* FD bit rate switch */
#define CAND_FRAME_ESI	    0x20u /* FD error state indicator */
#define CAND_FRAME_OWN	    0x40u /* received: this handle sent it */

struct cand_frame {
	uint32_t id;
	uint32_t flags; /* CAND_FRAME_* */
	uint8_t len;	/* data bytes; for RTR the requested length */
	uint8_t data[CAND_MAX_DLEN];
	char ifname[CAND_IFNAMSIZ]; /* received on; to send on for channel "" */
	uint64_t timestamp_ns; /* kernel receive time, ns since the epoch */
};

enum cand_filter_kind {
	CAND_FILTER_ANY = 0,	  /* 11- and 29-bit ids */
	CAND_FILTER_STANDARD = 1, /* 11-bit only */
	CAND_FILTER_EXTENDED = 2, /* 29-bit only */
};

/* Passes a frame when (frame.id & mask) == (id & mask), as python-can. */
struct cand_filter {
	uint32_t id;
	uint32_t mask;
	enum cand_filter_kind kind;
	int invert; /* pass what does NOT match (candump's ID~MASK) */
};

struct cand_options {
	const char *channel;	    /* interface, or "" for all of them */
	int receive_own_messages;   /* default 0 */
	int local_loopback;	    /* default 1 */
	int fd;			    /* default 0 */
	int ignore_rx_error_frames; /* default 0 */
	const struct cand_filter *filters; /* NULL/0: receive everything */
	size_t n_filters;
};

struct cand_iface {
	char name[CAND_IFNAMSIZ];
	unsigned ifindex;
	int up;
	unsigned mtu; /* 16 classic, 72 FD */
	int hardware; /* a real controller rather than vcan/vxcan */
	char kind[16];
};

typedef struct cand cand_t;

/* Fills in python-can's defaults. */
void cand_options_init(struct cand_options *opts);

/*
 * Connects to the daemon. path NULL means $CAND_SOCKET, else
 * CAND_DEFAULT_SOCKET.
 */
int cand_connect(cand_t **out, const char *path);
/* Binds a connected handle to a channel. */
int cand_open(cand_t *h, const struct cand_options *opts);
void cand_close(cand_t *h);

/*
 * Sends n frames in order. While the TX queue is full the daemon retries for
 * up to timeout_ms; 0 means try once. Returns the number sent, or a negative
 * code (CAND_ETXFULL when the queue stayed full).
 */
int cand_send(cand_t *h, const struct cand_frame *frames, size_t n,
	      int timeout_ms);

/*
 * Receives one frame. timeout_ms < 0 blocks, 0 polls, > 0 waits that long.
 * Returns 1 with a frame, CAND_ETIMEOUT when none came in time, or another
 * negative code. When the bound interface goes down or disappears, one call
 * returns CAND_ENETDOWN or CAND_ENODEV (see cand_last_detail()); the handle
 * stays usable and later calls go on receiving.
 */
int cand_recv(cand_t *h, struct cand_frame *frame, int timeout_ms);

/* Replaces the kernel filters at once. NULL/0: receive everything. */
int cand_set_filters(cand_t *h, const struct cand_filter *filters, size_t n);

/* All CAN interfaces; free *out with free(). Returns the count. */
int cand_list(cand_t *h, struct cand_iface **out);

/*
 * The socket to poll for readability. Frames and events may already be
 * buffered in the handle, so drain with cand_recv(h, f, 0) (or
 * cand_recv_event()) until CAND_ETIMEOUT after each wakeup, or check
 * cand_pending() before polling.
 */
int cand_fileno(cand_t *h);
size_t cand_pending(cand_t *h);

/* Frames the kernel dropped for this handle's socket so far. */
uint64_t cand_kernel_drops(cand_t *h);

/* ---- Events: frames, task expiry and monitor notifications ---- */

enum cand_event_type {
	CAND_EVENT_FRAME = 1,		/* a received frame, as cand_recv() */
	CAND_EVENT_TASK_EXPIRED = 2,	/* a task's duration ended: stopped */
	CAND_EVENT_MONITOR_CHANGED = 3, /* first seen, or changed under mask */
	CAND_EVENT_MONITOR_TIMEOUT = 4, /* nothing with the id for timeout */
};

struct cand_event {
	enum cand_event_type type;
	uint32_t
		id; /* the task or monitor: cand_task_id(), cand_monitor_id() */
	/*
	 * FRAME and MONITOR_CHANGED: the frame. Every type: frame.ifname where
	 * it happened when known, frame.timestamp_ns the kernel's time of it.
	 */
	struct cand_frame frame;
};

/*
 * Receives the next event, in the order they arrived: frames and the task
 * and monitor events among them. Returns 1 with an event; timeouts and link
 * errors as cand_recv(). cand_recv() returns frames only and discards the
 * task and monitor events it passes, so a handle with monitors or tasks
 * with a duration should receive with this call instead.
 */
int cand_recv_event(cand_t *h, struct cand_event *ev, int timeout_ms);

/* ---- Periodic transmission (python-can's send_periodic) ---- */

typedef struct cand_task cand_task_t;

#define CAND_TASK_PAUSED 0x01u /* create it stopped (autostart=False) */

/*
 * Sends frames[0], ..., frames[n-1], frames[0], ... on the open channel,
 * one every period_us (> 0, at most 400 days), timed by the kernel's
 * broadcast manager. 1 to 256 frames with one id and one format (classic
 * or FD); on the "" channel they name one interface. duration_us 0 sends
 * until stopped; otherwise duration/period frames, the first at once, then
 * a CAND_EVENT_TASK_EXPIRED and the task is stopped. Several tasks may send
 * the same id. Tasks belong to the handle: nobody else can touch them, and
 * they all stop when it is closed. Free *task with cand_task_free().
 */
int cand_task_start(cand_t *h, const struct cand_frame *frames, size_t n,
		    uint64_t period_us, uint64_t duration_us, unsigned flags,
		    cand_task_t **task);
/*
 * New data for the task: the same number of frames with the same id and
 * format, else CAND_EINVAL. The timing and the place in the cycle are kept.
 */
int cand_task_modify(cand_task_t *t, const struct cand_frame *frames, size_t n);
/* Stops sending; cand_task_resume() starts it again. */
int cand_task_stop(cand_task_t *t);
/* Starts a stopped or expired task afresh; a running one is left alone. */
int cand_task_resume(cand_task_t *t);
/* Stops the task for good and frees the handle; NULL is fine. */
void cand_task_free(cand_task_t *t);
uint32_t cand_task_id(const cand_task_t *t);
/* Stops every task of the handle; each can be resumed. */
int cand_task_stop_all(cand_t *h);

enum cand_task_state {
	CAND_TASK_RUNNING = 0,
	CAND_TASK_STOPPED = 1, /* stopped, or created paused */
	CAND_TASK_EXPIRED = 2, /* stopped because its duration ended */
};

struct cand_task_info {
	uint32_t id;
	enum cand_task_state state;
	uint64_t period_us;
	uint64_t duration_us; /* 0: until stopped */
	size_t n_frames;
	struct cand_frame *frames; /* what it sends, with ifname */
};

/* The handle's tasks; free *out with free(). Returns the count. */
int cand_task_list(cand_t *h, struct cand_task_info **out);

/* ---- Content monitoring (kernel RX_SETUP) ---- */

typedef struct cand_monitor cand_monitor_t;

#define CAND_MONITOR_EVERY_FRAME 0x01u /* report every frame, not changes */
#define CAND_MONITOR_CHECK_LEN	 0x02u /* a length change is a change */
#define CAND_MONITOR_RESUME	 0x04u /* after a timeout, report the next */

/* The data bits that count for a change: data[i] masks byte i. */
struct cand_mask {
	uint8_t len;
	uint8_t data[CAND_MAX_DLEN];
};

struct cand_monitor_opts {
	uint32_t id;
	uint32_t frame_flags; /* CAND_FRAME_EXTENDED, CAND_FRAME_FD */
	uint32_t flags;	      /* CAND_MONITOR_* */
	/*
	 * None: any change in the payload counts. One: a mask. Several:
	 * multiplexed frames; masks[0] selects the multiplexer bits, and each
	 * other mask holds one multiplexer value in those bits plus the bits
	 * that count for frames carrying that value.
	 */
	const struct cand_mask *masks;
	size_t n_masks;
	uint64_t timeout_us;  /* 0, or a TIMEOUT after this without the id */
	uint64_t throttle_us; /* 0, or at most one CHANGED per this */
	/*
	 * Set: answer remote (RTR) frames for id with this data frame, in the
	 * kernel; no masks, timers or events then.
	 */
	const struct cand_frame *rtr_reply;
	/*
	 * On the "" channel: one interface, or NULL for all of them; then no
	 * timeout or throttle (the kernel would follow only the first
	 * interface the id shows up on).
	 */
	const char *ifname;
};

void cand_monitor_opts_init(struct cand_monitor_opts *opts);
/*
 * Watches opts->id on the open channel and reports through
 * cand_recv_event(): MONITOR_CHANGED for the first frame and whenever the
 * masked data changes, MONITOR_TIMEOUT once when the id stays away for
 * timeout_us (counted from the start too). Each monitor is its own handle;
 * they all end when the handle is closed.
 */
int cand_monitor_start(cand_t *h, const struct cand_monitor_opts *opts,
		       cand_monitor_t **mon);
/* Stops the monitor and frees the handle; NULL is fine. */
void cand_monitor_free(cand_monitor_t *m);
uint32_t cand_monitor_id(const cand_monitor_t *m);

const char *cand_strerror(int err);
/* The daemon's detail text for the last failed call, or "". */
const char *cand_last_detail(cand_t *h);

#ifdef __cplusplus
}
#endif

#endif
