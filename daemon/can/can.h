/*
 * can/: the kernel's CAN interfaces and sockets, no clients, no policy,
 * no protocol. CAN_RAW (rawsock.c) and CAN_BCM (bcmsock.c) sockets, frames
 * as clients describe them (frame.c), error frames (errframe.c),
 * rtnetlink (netlink.c, link.c) and libsocketcan (canlink.c). Every call
 * returns 0 (or a descriptor) or -errno, with a detail where it can fail.
 */
#ifndef CAND_DAEMON_CAN_CAN_H
#define CAND_DAEMON_CAN_CAN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <linux/can.h>
#include <linux/netlink.h>
#include <net/if.h>

#include "base/base.h"

/* ---- frame.c: a frame as a client describes it ---- */

struct frame_desc {
	uint32_t id; /* 11 or 29 bits; error frames: the CAN_ERR_* class */
	int extended, remote, error, fd, brs, esi;
	uint32_t dlc; /* for remote frames the requested length */
	const uint8_t *data;
	size_t len;
	const char *ifname; /* to send on, for the "" channel; "" for none */
};

/*
 * Checks f and gives its kernel frame; fd_enabled: the channel takes CAN
 * FD. 0, or -EINVAL/-EOPNOTSUPP with a detail.
 */
int frame_from_desc(const struct frame_desc *f, int fd_enabled,
		    struct canfd_frame *cf, int *is_fd, char *detail,
		    size_t dsize);
/* The other way; data points into cf, ifname is left to the caller. */
void frame_to_desc(const struct canfd_frame *cf, int is_fd,
		   struct frame_desc *f);

/* ---- rawsock.c: CAN_RAW sockets ---- */

/* python-can's filter kinds (proto FilterKind). */
enum filter_kind {
	FILTER_ANY = 0,
	FILTER_STANDARD = 1,
	FILTER_EXTENDED = 2,
};

struct filter_desc {
	uint32_t id, mask;
	enum filter_kind kind;
	int invert;
};

/* What a channel's socket is made of, kept for re-binding. */
struct rawsock_opts {
	int loopback;
	int recv_own;
	int fd_frames;
	int ignore_errors;
	struct can_filter *filters; /* the kernel's form, as last applied */
	size_t n_filters;
};

int rawsock_scratch_init(struct cand_ctx *ctx);
void rawsock_scratch_free(struct cand_ctx *ctx);
/* The kernel's filters for these; *out is malloc'd, *count >= 1. */
int rawsock_filters(const struct filter_desc *filters, size_t n, unsigned max,
		    struct can_filter **out, size_t *count, char *detail,
		    size_t dsize);
/* Kernel filters in candump's ID:MASK words ("all"); how many. */
size_t rawsock_filters_text(const struct can_filter *f, size_t n, char *buf,
			    size_t size);
int rawsock_apply_filters(int fd, const struct can_filter *kf, size_t count,
			  char *detail, size_t dsize);
/* A socket with o, bound to ifindex (0: every interface); fd or -errno. */
int rawsock_open(const struct rawsock_opts *o, int rcvbuf, int ifindex,
		 const char *channel, char *detail, size_t dsize);
/* Receiving off: the kernel queues nothing for fd; and on again with o. */
int rawsock_block(int fd);
int rawsock_unblock(int fd, const struct rawsock_opts *o);
/* Discards what fd has queued. */
void rawsock_purge(int fd);
/* The socket's drop count now (SO_MEMINFO), if above *drops. */
void rawsock_read_drops(int fd, uint32_t *drops);
/* The same only when nothing is queued: 1 then, else 0. */
int rawsock_read_drops_empty(int fd, uint32_t *drops);
/*
 * One recvmmsg() of up to RAW_BATCH frames into the context's scratch, as
 * b (count 0 and -errno when there was nothing or an error). *drops takes
 * the highest SO_RXQ_OVFL count seen. ifname names every frame; NULL: each
 * frame's own interface.
 */
int rawsock_recv(struct cand_ctx *ctx, int fd, const char *ifname,
		 struct rx_batch *b, uint32_t *drops);
/* A frame to send: its interface (ifname for the details). */
struct raw_tx {
	struct canfd_frame cf;
	int is_fd;
	int ifindex;
	const char *ifname;
};
/*
 * Sends n frames in order, a sendmmsg() for each RAW_BATCH of them, on fd
 * bound to ifindex bound (0: every interface); *sent how many went. 0 when
 * all did, else frame *sent's error (-ENOBUFS: the TX queue is full) with
 * a detail.
 */
int rawsock_send(int fd, int bound, const struct raw_tx *tx, size_t n,
		 size_t *sent, char *detail, size_t dsize);
/* A socket that receives nothing but these error frames; fd or -errno. */
int rawsock_open_errors(int ifindex, can_err_mask_t mask);
/*
 * An interface's shared receiving socket (ifindex 0: every interface): CAN
 * FD, loopback and own messages on, every error frame, no filter, rcvbuf
 * bytes of buffer; it starts receiving nothing (rawsock_block) until
 * rawsock_tap_on(). fd or -errno.
 */
int rawsock_open_tap(int ifindex, int rcvbuf, char *detail, size_t dsize);
int rawsock_tap_on(int fd);
/*
 * A client's own socket, bound like its channel: it sends with o's
 * loopback off and receives nothing, yet the kernel lists it among the
 * interface's receivers (a filter on the error list that no frame passes),
 * as it listed every client's socket before receiving was shared.
 */
int rawsock_open_quiet(const struct rawsock_opts *o, int ifindex,
		       const char *channel, char *detail, size_t dsize);

/* ---- rxfilter.c: the kernel's CAN_RAW filters, in userspace ---- */

struct rxfilter_one {
	canid_t id, mask; /* as the kernel keeps them: id & mask */
	int inv;
};

struct rxfilter {
	struct rxfilter_one *f;
	size_t n;
	int all;		 /* a filter passes every non-error frame */
	can_err_mask_t err_mask; /* CAN_RAW_ERR_FILTER */
	int fd_frames;		 /* CAN_RAW_FD_FRAMES */
};

/* Replaces r with kf (rawsock_filters()' form); 0 or -ENOMEM. */
int rxfilter_compile(struct rxfilter *r, const struct can_filter *kf, size_t n,
		     can_err_mask_t err_mask, int fd_frames);
void rxfilter_free(struct rxfilter *r);
/* Would a CAN_RAW socket with these settings receive the frame? */
int rxfilter_pass(const struct rxfilter *r, canid_t can_id, int is_fd);
/*
 * 1 when no frame can pass: the error mask is 0 and every filter is an
 * inverted one with mask 0, SocketCAN's way to a socket that only sends
 * (as an empty CAN_RAW_FILTER, which the protocol's "no filters" is not).
 */
int rxfilter_none(const struct rxfilter *r);
/*
 * When every filter passes only standard frames of one id: those ids in
 * ids (at most max), and how many; else -1. Frames of other standard ids
 * can then not pass: an index by id may skip the client for them.
 */
int rxfilter_sff_ids(const struct rxfilter *r, uint16_t *ids, size_t max);

/* ---- echo.c: frames sent and not yet echoed, with their senders ---- */

/* An entry older than this will not be echoed any more. */
#define ECHO_MAX_AGE_NS 1000000000ull

struct echo_entry {
	void *owner;
	int ifindex;
	uint8_t is_fd;
	uint8_t gone;	  /* matched or purged: a hole until it is the oldest */
	uint64_t sent_ns; /* CLOCK_MONOTONIC */
	struct canfd_frame cf;
};

struct echo_table {
	struct echo_entry *e;	  /* a ring of cap (a power of two) entries */
	size_t head;		  /* the oldest */
	size_t n, cap;		  /* n: from head on, holes included */
	uint64_t expired, purged; /* for the logs */
};

void echo_init(struct echo_table *t);
void echo_free(struct echo_table *t);
/* A frame owner sent; 0 or -ENOMEM (then its echo is nobody's own). */
int echo_add(struct echo_table *t, void *owner, int ifindex,
	     const struct canfd_frame *cf, int is_fd, uint64_t now_ns);
/*
 * An echo came: 1 and *owner the sender of the oldest identical entry
 * (NULL: one that went away), which is removed; 0 when none is left.
 */
int echo_match(struct echo_table *t, int ifindex, const struct canfd_frame *cf,
	       int is_fd, uint64_t now_ns, void **owner);
/* Entries older than ECHO_MAX_AGE_NS go. */
void echo_expire(struct echo_table *t, uint64_t now_ns);
/* The echoes of ifindex (0: all) will not come: forget them. */
void echo_purge(struct echo_table *t, int ifindex);
/* owner is going away: its entries stay, their echoes nobody's own. */
void echo_forget_owner(struct echo_table *t, const void *owner);

/* ---- errframe.c ---- */

/* The state an error frame reports, or -1; counters when it has them. */
int errframe_state(const struct can_frame *cf, int *has_counters, unsigned *tx,
		   unsigned *rx);

/* ---- bcmsock.c: CAN_BCM sockets ---- */

/* MAX_NFRAMES in net/can/bcm.c; RX takes one more for the mux mask. */
#define BCMSOCK_MAX_FRAMES 256
/* BCM_TIMER_SEC_MAX in net/can/bcm.c: 400 days. */
#define BCMSOCK_MAX_US (400ull * 24 * 60 * 60 * 1000000)

/*
 * Checks a period and duration (microseconds) against the kernel's bounds
 * and gives the frame count for the duration (0: forever).
 */
int bcmsock_timing(uint64_t period_us, uint64_t duration_us, uint32_t *count,
		   char *detail, size_t dsize);
/* A socket connected to ifindex (0: every interface); fd or -errno. */
int bcmsock_open(int ifindex, const char *ifname, char *detail, size_t dsize);

/*
 * A TX_SETUP or RX_SETUP message: a header and nframes kernel frames of
 * cfsiz (CAN_MTU or CANFD_MTU) bytes each, built in a buffer of the size
 * bcmsock_msg_size() gives.
 */
size_t bcmsock_msg_size(size_t nframes, size_t cfsiz);
struct canfd_frame *bcmsock_frame_at(void *msg, size_t i, size_t cfsiz);
/*
 * TX_SETUP of task id: start sets the timers and sends the first frame at
 * once (count frames, one every period_us; count 0: forever); without it
 * the frames change and the cycle goes on.
 */
void bcmsock_tx_setup(void *msg, uint32_t id, size_t nframes, size_t cfsiz,
		      uint32_t count, uint64_t period_us, int start);

struct bcmsock_rx {
	canid_t can_id;
	size_t nframes;
	size_t cfsiz;
	int every_frame;     /* report every frame, no compare */
	int check_dlc;	     /* a length change is a change */
	int announce_resume; /* after a timeout, report the next frame */
	int rtr_reply;	     /* answer remote frames with frame 0 */
	uint64_t timeout_us, throttle_us;
};
void bcmsock_rx_setup(void *msg, const struct bcmsock_rx *rx);
/* Writes a message; what and ifname ("": every interface) for the detail. */
int bcmsock_write(int fd, const void *msg, size_t len, const char *what,
		  const char *ifname, char *detail, size_t dsize);
/* TX_DELETE of op id, then discards what the socket holds of its run. */
int bcmsock_tx_delete(int fd, uint32_t id, const char *ifname, char *detail,
		      size_t dsize);
/* -EOPNOTSUPP when ifname cannot carry CAN FD frames. */
int bcmsock_check_fd_mtu(int fd, const char *ifname, char *detail,
			 size_t dsize);

enum bcmsock_kind {
	BCMSOCK_OTHER,	 /* TX_STATUS, RX_STATUS: never asked for */
	BCMSOCK_EXPIRED, /* a task's count ran out */
	BCMSOCK_CHANGED, /* a monitor's content changed, with the frame */
	BCMSOCK_TIMEOUT, /* a monitor's id went silent */
};

/* A notification the kernel sent. */
struct bcmsock_note {
	enum bcmsock_kind kind;
	struct canfd_frame frame; /* BCMSOCK_CHANGED */
	int is_fd;
	int ifindex; /* where, when the kernel says; else 0 */
	uint64_t timestamp_ns;
};
/*
 * Reads one: 1 with n, 0 for nothing usable this time (read again),
 * -errno to stop (-EAGAIN: none left).
 */
int bcmsock_recv(int fd, struct bcmsock_note *n);
uint64_t bcmsock_now_ns(void);

/* ---- netlink.c: rtnetlink ---- */

/* One CAN interface as an RTM_NEWLINK describes it. */
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
	struct bus_config cfg;
};

/* Parses an RTM_NEWLINK/RTM_DELLINK: 1 for a CAN interface, else 0. */
int netlink_parse_link(const struct nlmsghdr *nh, struct nl_link *out);
/* A NETLINK_ROUTE socket bound to groups (0: requests only). */
int netlink_socket(unsigned groups);
/* One that hears every link change, with room for bursts. */
int netlink_monitor_socket(void);
int netlink_dump_request(int fd);
/*
 * The next link message of what one recv() brought (buf, *left): 1 with
 * *l and *removed, 0 at the end of buf, 2 at the end of a dump, or the
 * kernel's -errno.
 */
int netlink_next_link(const struct nlmsghdr **nh, size_t *left,
		      struct nl_link *l, int *removed);
/* One interface now, by a synchronous RTM_GETLINK; 0 or -errno. */
int netlink_get_link(const char *ifname, struct nl_link *out);
/* libsocketcan 0.0.12 cannot set the CAN FD data bit timing; this can. */
int netlink_set_data_bittiming(const char *ifname, uint32_t bitrate,
			       uint32_t sample_point);

/* ---- link.c: listing ---- */

/* proto IfaceType */
enum iface_type {
	IFACE_OTHER = 0,
	IFACE_VIRTUAL = 1, /* vcan, vxcan */
	IFACE_HARDWARE = 2,
};

struct link_info {
	char name[IFNAMSIZ];
	char kind[16];
	uint32_t ifindex;
	int up;
	uint32_t mtu;
	enum iface_type type;
};

/* Every CAN interface now; *out is malloc'd (free()). */
int link_list(struct link_info **out, size_t *n);
enum iface_type link_type(const char *kind);

/* ---- canlink.c: libsocketcan ---- */

/* proto LinkChange */
enum link_change {
	LINK_UNCHANGED = 0,
	LINK_UP = 1,
	LINK_DOWN = 2,
};

/* What a configure changes; zero fields stay as they are. */
struct canlink_change {
	uint32_t bitrate;
	uint32_t sample_point;
	uint32_t data_bitrate;
	uint32_t data_sample_point;
	int set_restart_ms;
	uint32_t restart_ms;
	uint32_t ctrlmode_mask;
	uint32_t ctrlmode_flags;
	int link; /* enum link_change */
};

/* The controller's own counters (can_device_stats). */
struct canlink_devstats {
	uint32_t bus_errors, error_warning, error_passive, bus_off;
	uint32_t arbitration_lost, restarts;
};

/* The interface's packet counters (rtnl_link_stats64). */
struct canlink_stats {
	uint64_t rx_packets, tx_packets, rx_bytes, tx_bytes;
	uint64_t rx_errors, tx_errors, rx_dropped, tx_dropped;
	uint64_t rx_over_errors;
};

struct canlink_info {
	int controller;
	int state; /* kernel CAN_STATE_*, with controller */
	int has_berr;
	unsigned txerr, rxerr;
	struct bus_config cfg;
	int has_xstats;
	struct canlink_devstats xstats;
	int has_stats;
	struct canlink_stats stats;
};

int canlink_read(const char *ifname, int controller, struct canlink_info *out);
int canlink_configure(const struct nl_link *l, const struct canlink_change *c,
		      int *cycled, char *detail, size_t dsize);
int canlink_restart(const struct nl_link *l, char *detail, size_t dsize);
const char *canlink_state_name(int state);
/* "LISTEN-ONLY ONE-SHOT" for CtrlMode bits; "" for none. */
void canlink_ctrlmode_str(uint32_t bits, char *buf, size_t size);

#endif
