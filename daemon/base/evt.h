/*
 * What goes out to a client unasked, in no codec's terms: received frames
 * in batches, and events. The operations fill these; a codec's encoder
 * (struct outq_codec) turns them into its wire format. Enums whose values
 * a protocol also has keep the numbers of proto/cand.proto, and the codec
 * maps them with a static assertion.
 */
#ifndef CAND_DAEMON_BASE_EVT_H
#define CAND_DAEMON_BASE_EVT_H

#include <stddef.h>
#include <stdint.h>

#include <linux/can.h>

/* One frame as the kernel gave it; points into the reader's scratch. */
struct rx_frame {
	const struct canfd_frame *cf;
	uint8_t is_fd;
	uint8_t own;   /* the client sent it (its receive_own_messages) */
	uint8_t local; /* a socket of this host sent it (MSG_DONTROUTE) */
	uint8_t idx;   /* its place in the read it came from */
	int ifindex;
	const char *ifname;
	uint64_t timestamp_ns;
};

/*
 * A client's frames of one read of its interface. Every client on the
 * interface gets its batch of the same read, one after the other, before
 * the next read: an encoder may encode a read's frames once (by read_id
 * and each frame's idx) and copy them into each client's output.
 */
struct rx_batch {
	const struct rx_frame *frames;
	size_t count;
	uint64_t read_id;      /* unique per read; 0: do not reuse */
	uint64_t kernel_drops; /* frames the client lost so far, all causes */
	/* Every frame's interface: NULL on the "" channel (each names its). */
	const char *ifname;
};

/* A bus's CAN state (proto CanState). */
enum bus_state {
	BUS_STATE_NONE = 0, /* no controller, no error frame said otherwise */
	BUS_STATE_ERROR_ACTIVE = 1,
	BUS_STATE_ERROR_WARNING = 2,
	BUS_STATE_ERROR_PASSIVE = 3,
	BUS_STATE_BUS_OFF = 4,
	BUS_STATE_STOPPED = 5,
	BUS_STATE_SLEEPING = 6,
};

/* A controller's configuration as the kernel reports it (proto BusConfig). */
struct bus_config {
	uint32_t bitrate;
	uint32_t sample_point; /* tenths of a percent */
	uint32_t data_bitrate;
	uint32_t data_sample_point;
	uint32_t restart_ms;
	uint32_t ctrlmode;
	uint32_t ctrlmode_supported;
	uint32_t clock_hz;
};

enum evt_kind {
	EVT_DROPS,
	EVT_TASK,
	EVT_MONITOR,
	EVT_LINK,
	EVT_STATE,
	EVT_CONFIG,
	EVT_RIGHTS,
	EVT_SHUTDOWN,
};

struct evt {
	enum evt_kind kind;
	const char *detail;
	union {
		struct {
			uint64_t total;	  /* since open */
			uint64_t dropped; /* since the last report */
			int slow_reader;
		} drops;
		struct {
			uint32_t id;
			uint64_t timestamp_ns;
		} task; /* expired */
		struct {
			uint32_t id;
			int timeout; /* else changed, with frame */
			const struct canfd_frame *frame;
			int is_fd;
			const char *ifname;
			uint64_t timestamp_ns;
		} monitor;
		struct {
			const char *ifname;
			uint32_t ifindex;
			int up, running, removed, appeared, rebound;
			int err; /* 0, ENETDOWN or ENODEV */
		} link;
		struct {
			const char *ifname;
			enum bus_state state, previous;
			int has_counters;
			unsigned tx_errors, rx_errors;
			int from_error_frames;
		} state;
		struct {
			const char *ifname;
			uint32_t mtu, previous_mtu;
			/* Both NULL without a controller. */
			const struct bus_config *now, *before;
		} config;
		struct {
			unsigned revoked; /* POLICY_RIGHT_BIT()s, conf/conf.h */
		} rights;		  /* status: EPERM */
	} u;
};

#endif
