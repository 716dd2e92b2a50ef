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
 *
 * A handle outlives the daemon: when the daemon stops or restarts (a
 * shutdown event, EOF or a reset; systemctl restart cand, the watchdog,
 * an upgrade), the handle reconnects by itself and sets up again what it
 * had: the channel with the same options and filters, the subscription,
 * and every periodic task and monitor (the same handles, ids and data,
 * their timing started afresh). See "Reconnection" below.
 */
#ifndef CAND_H
#define CAND_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The daemon's default too (proto/wire.h); this header stands alone. */
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
	CAND_ESTATE = -20,    /* not possible in the bus's current state */
	/* Local to the library. */
	CAND_ETIMEOUT = -100,	   /* timed out */
	CAND_ECONNECT = -101,	   /* cannot connect to the daemon */
	CAND_EDISCONNECTED = -102, /* the daemon closed the connection */
	CAND_ENOMEM = -103,	   /* out of memory */
	CAND_ESYS = -104,	   /* system call failed; see errno */
	CAND_EPROTO = -105,	   /* the daemon sent something unexpected */
	CAND_ERECONNECTED = -106,  /* the daemon restarted; see Reconnection */
};

/* Frame flags, python-can's Message attributes. */
#define CAND_FRAME_EXTENDED 0x01u /* 29-bit id */
#define CAND_FRAME_REMOTE   0x02u /* RTR */
#define CAND_FRAME_ERROR    0x04u /* error frame; id holds CAN_ERR_* bits */
#define CAND_FRAME_FD	    0x08u /* CAN FD */
#define CAND_FRAME_BRS	    0x10u /* FD bit rate switch */
#define CAND_FRAME_ESI	    0x20u /* FD error state indicator */
#define CAND_FRAME_OWN	    0x40u /* received: this handle sent it */
/* Received: a socket of this host sent it (python-can's is_rx false). */
#define CAND_FRAME_LOCAL 0x80u

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
 * CAND_DEFAULT_SOCKET. The handle reconnects for $CAND_RECONNECT_MS
 * (milliseconds, 0: never), else CAND_RECONNECT_DEFAULT_MS.
 */
int cand_connect(cand_t **out, const char *path);

/* ---- Reconnection ----
 *
 * Only a daemon that went away is reconnected to: a shutdown event, EOF
 * or a reset. One that refused the handle (a limit, a permission, a
 * malformed request) is not, and neither is one that refuses to set up
 * again what the handle had (its channel, filters, subscription, tasks,
 * monitors: a changed cand.conf, a vanished interface): the handle then
 * fails with that refusal and its detail (a vanished interface as
 * CAND_EDISCONNECTED, since CAND_ENODEV and CAND_ENETDOWN from cand_recv()
 * mean a handle that lives on). Tries back off from 10 ms to
 * 1 s, with jitter, and give up reconnect_ms after the loss; from then on
 * every call fails as without reconnection (CAND_ESHUTDOWN or
 * CAND_EDISCONNECTED, the detail saying it gave up).
 *
 * The application is told once, in order with the frames: cand_recv()
 * returns CAND_ERECONNECTED after the last frame of the old connection
 * (the handle is usable; cand_last_detail() says how long the gap was),
 * and cand_recv_event() yields a CAND_EVENT_RECONNECTED in its place.
 * What the bus carried during the gap is lost: frames, state and link
 * changes, monitor events; the event's reconnect.lost_ns and
 * frame.timestamp_ns bound it in the frames' own clock. A task whose
 * duration ran out in the gap yields its CAND_EVENT_TASK_EXPIRED.
 * cand_kernel_drops() counts from 0 again on the new connection.
 *
 * A call made while the daemon is away waits for it (up to its usual
 * time, and no longer than reconnect_ms from the loss), then goes on;
 * but those on a task or monitor (modify, stop, resume, free) return at
 * once: no daemon has it then, and it comes back as they left it.
 * A call whose request was in flight when the daemon went cannot know
 * whether it was done. It is repeated on the new connection when doing it
 * twice cannot put on a bus what the first may already have: every call
 * but cand_send(), cand_task_start(), cand_configure() and
 * cand_restart(). Those return CAND_ERECONNECTED instead (or cand_send()
 * the count of frames it knows were sent): the handle is connected
 * again, but whether the frames went out or the bus was changed only the
 * caller can judge, so only it may repeat them: a frame commands a
 * machine, and twice may do twice what it says, where a new daemon has
 * none of the old one's tasks, so the rest repeated do nothing twice. A
 * request not wholly written, or a send the daemon answered "shutting
 * down" before sending anything, was not done and is repeated.
 *
 * Under socket activation a reconnecting handle starts a stopped
 * cand.service again; stop cand.socket too to keep it stopped.
 *
 * cand_fileno()'s descriptor stays the same across reconnections (an
 * epoll descriptor with the connection in it), so it can stay in any
 * poll set; it becomes readable when there is something to do, a retry
 * included, and the receive calls with timeout 0 do it.
 */
#define CAND_RECONNECT_DEFAULT_MS 30000

struct cand_connect_options {
	const char *path; /* NULL: $CAND_SOCKET, else CAND_DEFAULT_SOCKET */
	/*
	 * Keep trying to reconnect for this long after losing the daemon; 0
	 * turns reconnection off; < 0 (the default): $CAND_RECONNECT_MS, else
	 * CAND_RECONNECT_DEFAULT_MS.
	 */
	int reconnect_ms;
};

void cand_connect_options_init(struct cand_connect_options *opts);
/* cand_connect() with options; opts NULL: the defaults. */
int cand_connect_opts(cand_t **out, const struct cand_connect_options *opts);
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
 * cand_send() without waiting: the request goes out and the call returns,
 * so the next batch can be made while the daemon sends this one. At most
 * 4 are unanswered at a time (the call waits for the oldest reply when
 * there would be more) and n is at most 4096. The daemon sends them in
 * order, each retrying up to timeout_ms on a full TX queue, and goes on
 * with the next after one fails. Returns 0, or a failure of this call or
 * of an earlier one (each reported once).
 */
int cand_send_async(cand_t *h, const struct cand_frame *frames, size_t n,
		    int timeout_ms);
/*
 * Waits for every cand_send_async() reply. *sent (may be NULL) gets the
 * frames they sent since the last call up to the first failure, so that
 * the frame after them is the one that failed; requests after a failed
 * one may still have sent theirs. Returns 0, or the first failure not
 * reported yet: CAND_ERECONNECTED, once the handle is back, for sends the
 * daemon went away from unanswered (as cand_send(), "Reconnection").
 */
int cand_send_wait(cand_t *h, size_t *sent);

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

/* One connected client, as the daemon sees it (cand_clients()). */
struct cand_client {
	unsigned id; /* the daemon's number for it, as in its log */
	long pid;
	unsigned long uid, gid;
	char comm[16]; /* the command it ran when it connected; "?" unknown */
	int open;
	char channel[CAND_IFNAMSIZ]; /* "" is every interface */
	unsigned n_filters;	     /* 0: it receives everything */
	char filters[256];	     /* candump's ID:MASK and ID~MASK; "all" */
	unsigned tasks, monitors;
	uint64_t rx_frames;	/* delivered to it from the buses */
	uint64_t tx_frames;	/* of its sends, handed to the kernel */
	uint64_t kernel_drops;	/* dropped by the kernel for it */
	uint64_t backlog_bytes; /* its output queued in the daemon */
	uint64_t refused;	/* frames of its sends over its send budget */
	uint64_t delayed;	/* frames of its sends that waited for it */
	unsigned tasks_refused; /* periodic tasks over its send budget */
	char budgets[160];	/* "vcan0 100/s burst 10, ..."; "" none */
	int send_pending;	/* a send is waiting for room or budget */
	/* A network peer (socketcand): pid, uid, gid and comm are not its. */
	char peer[64]; /* its address, "10.0.0.1" or "::1"; "" a local one */
	unsigned peer_port;
};

/*
 * Every connected client (this one too), for root and users with the
 * 'admin' right on every interface; free *out with free(). Returns the
 * count.
 */
int cand_clients(cand_t *h, struct cand_client **out);

/*
 * The descriptor to poll for readability: the socket, or with reconnection
 * on an epoll descriptor that holds it and stays across reconnections.
 * Frames and events may already be buffered in the handle, so drain with
 * cand_recv(h, f, 0) (or cand_recv_event()) until CAND_ETIMEOUT after each
 * wakeup, or check cand_pending() before polling. Read it only through
 * this library.
 */
int cand_fileno(cand_t *h);
size_t cand_pending(cand_t *h);

/*
 * Frames this handle lost so far: the kernel's drops on the interface's
 * receiving socket, and those cand dropped while the handle was too far
 * behind reading (CAND_EVENT_DROPS tells each with slow_reader).
 */
uint64_t cand_kernel_drops(cand_t *h);

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

/* ---- Bus health: state, configuration, recovery, events ---- */

/* The CAN state of a controller. */
enum cand_state {
	CAND_STATE_NONE = 0, /* not applicable: no controller (vcan) */
	CAND_STATE_ERROR_ACTIVE = 1,
	CAND_STATE_ERROR_WARNING = 2,
	CAND_STATE_ERROR_PASSIVE = 3,
	CAND_STATE_BUS_OFF = 4,
	CAND_STATE_STOPPED = 5, /* the interface is down */
	CAND_STATE_SLEEPING = 6,
};

/* Controller modes: the kernel's CAN_CTRLMODE_* bits. */
#define CAND_CTRLMODE_LOOPBACK	     0x01u
#define CAND_CTRLMODE_LISTEN_ONLY    0x02u
#define CAND_CTRLMODE_3_SAMPLES	     0x04u
#define CAND_CTRLMODE_ONE_SHOT	     0x08u
#define CAND_CTRLMODE_BERR_REPORTING 0x10u
#define CAND_CTRLMODE_FD	     0x20u
#define CAND_CTRLMODE_PRESUME_ACK    0x40u
#define CAND_CTRLMODE_FD_NON_ISO     0x80u
#define CAND_CTRLMODE_CC_LEN8_DLC    0x100u

struct cand_bus_config {
	uint32_t bitrate;	    /* bit/s */
	uint32_t sample_point;	    /* tenths of a percent: 875 = 87.5 % */
	uint32_t data_bitrate;	    /* CAN FD data phase; 0: none */
	uint32_t data_sample_point; /* tenths of a percent */
	uint32_t restart_ms;	    /* the kernel's bus-off restart; 0: off */
	uint32_t ctrlmode;	    /* CAND_CTRLMODE_* in effect */
	uint32_t ctrlmode_supported;
	uint32_t clock_hz;
};

/* What ip -details -statistics link show says about one interface. */
struct cand_bus_state {
	struct cand_iface link; /* name, ifindex, up, mtu, hardware, kind */
	int running;		/* carrier: lost while bus-off or down */
	enum cand_state state;
	/* vcan: the state error frames on it reported, not the kernel's. */
	int state_from_error_frames;
	int has_error_counters;
	unsigned tx_errors, rx_errors;
	int controller; /* config and dev are valid */
	struct cand_bus_config config;
	struct {
		uint32_t bus_errors, error_warning, error_passive, bus_off;
		uint32_t arbitration_lost, restarts;
	} dev;
	int has_stats;
	struct {
		uint64_t rx_packets, tx_packets, rx_bytes, tx_bytes;
		uint64_t rx_errors, tx_errors, rx_dropped, tx_dropped;
		uint64_t rx_over_errors;
	} stats;
	char busoff_policy[128]; /* how bus-off recovery works; "" for none */
};

/*
 * The state of ifname, or of every CAN interface when ifname is NULL or
 * "". *out is an array to free(); returns its length or a negative code.
 */
int cand_bus_state(cand_t *h, const char *ifname, struct cand_bus_state **out);
/* A state's name, "ERROR-ACTIVE", ..., "not applicable". */
const char *cand_state_name(enum cand_state state);

/* A change of configuration; cand_bus_config_init() leaves everything. */
struct cand_bus_change {
	uint32_t bitrate;	    /* 0: unchanged */
	uint32_t sample_point;	    /* with bitrate; 0: the kernel's choice */
	uint32_t data_bitrate;	    /* CAN FD; 0: unchanged */
	uint32_t data_sample_point; /* with data_bitrate */
	int64_t restart_ms;	    /* < 0: unchanged */
	uint32_t ctrlmode_mask;	    /* CAND_CTRLMODE_* to change */
	uint32_t ctrlmode_flags;    /* and their new values */
	int up;			    /* < 0: unchanged, 0: down, 1: up */
};
void cand_bus_change_init(struct cand_bus_change *chg);

struct cand_bus_configured {
	int cycled; /* it was up: taken down, changed and brought up again */
	int up;
	int controller;
	struct cand_bus_config config; /* in effect now */
};

/*
 * Changes ifname's configuration (needs the configure right; root for now).
 * Bit timing, restart-ms and modes need the interface down; when it is up
 * the daemon takes it down, applies the change and brings it back up, and
 * says so in res->cycled. res may be NULL.
 */
int cand_configure(cand_t *h, const char *ifname,
		   const struct cand_bus_change *chg,
		   struct cand_bus_configured *res);

/*
 * A manual restart after bus-off. CAND_ESTATE, with the reason in
 * cand_last_detail(), when the bus is not bus-off or restart-ms is set.
 */
int cand_restart(cand_t *h, const char *ifname);

/*
 * Drops what the daemon still holds of this handle's sends (nothing, with
 * this library: cand_send() waits until its frames are sent or failed).
 * Frames the kernel already has are never flushed: its queue is shared by
 * every socket on the interface. Returns the number of frames dropped;
 * note (may be NULL) gets the daemon's words on what was and was not.
 */
int cand_flush_tx(cand_t *h, char *note, size_t note_size);

/*
 * State, link and configuration events of ifname (NULL or "": every CAN
 * interface), for cand_recv_event(); on an open handle too. An open
 * handle gets its own channel's events anyway. cand_unsubscribe() stops.
 */
int cand_subscribe(cand_t *h, const char *ifname);
int cand_unsubscribe(cand_t *h);

/* ---- Events: frames, tasks, monitors and the bus's health, in order ---- */

enum cand_event_type {
	CAND_EVENT_FRAME = 1,		/* ev->frame, as cand_recv() */
	CAND_EVENT_TASK_EXPIRED = 2,	/* ev->id's duration ended: stopped */
	CAND_EVENT_MONITOR_CHANGED = 3, /* ev->frame: first seen, or changed */
	CAND_EVENT_MONITOR_TIMEOUT = 4, /* nothing with the id for timeout */
	CAND_EVENT_STATE = 5,		/* ev->state */
	CAND_EVENT_LINK = 6,		/* ev->link */
	CAND_EVENT_CONFIG = 7,		/* ev->config */
	CAND_EVENT_DROPS = 8,		/* ev->drops */
	CAND_EVENT_RIGHTS = 9,		/* a reload took rights away: detail */
	CAND_EVENT_RECONNECTED = 10,	/* ev->reconnect: see Reconnection */
};

struct cand_event {
	enum cand_event_type type;
	uint32_t id;		    /* a task or monitor: cand_task_id() ... */
	char ifname[CAND_IFNAMSIZ]; /* where it happened, when known */
	char detail[256];	    /* the daemon's words, maybe "" */
	/*
	 * FRAME and MONITOR_CHANGED: the frame. Task and monitor events:
	 * frame.ifname and frame.timestamp_ns, the kernel's time of it.
	 */
	struct cand_frame frame;
	union {
		struct {
			enum cand_state state, previous;
			int has_error_counters;
			unsigned tx_errors, rx_errors;
			int from_error_frames;
		} state;
		struct {
			int up, running;
			int removed;  /* the interface is gone */
			int appeared; /* it was created (again) */
			int rebound;  /* this handle's channel is bound again */
			unsigned ifindex;
		} link;
		struct {
			int controller; /* config and previous are valid */
			struct cand_bus_config config, previous;
			unsigned mtu, previous_mtu;
		} config;
		struct {
			uint64_t kernel_drops; /* in all, cand_kernel_drops() */
			uint64_t dropped;      /* since the last report */
			int slow_reader; /* because the handle read slowly */
		} drops;
		struct {
			/*
			 * From finding the daemon gone (at once for a handle
			 * that is receiving, else at its next call) to the
			 * new daemon's answer.
			 */
			uint64_t gap_ns;
			/* CLOCK_REALTIME then; frame.timestamp_ns at its end */
			uint64_t lost_ns;
			int shutdown; /* it said it was stopping (else EOF) */
		} reconnect;
	};
};

/*
 * Receives the next frame or event, in the order they happened: 1 with
 * *ev, CAND_ETIMEOUT, or a negative code. Link events come as events here,
 * not as CAND_ENETDOWN/CAND_ENODEV. cand_recv() on the same handle returns
 * frames only and skips the events it passes (but reports link events of
 * its channel as documented there), so a handle with monitors, tasks with
 * a duration or a subscription should receive with this call.
 */
int cand_recv_event(cand_t *h, struct cand_event *ev, int timeout_ms);

#ifdef __cplusplus
}
#endif

#endif
