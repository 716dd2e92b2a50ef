/*
 * What every layer of the daemon shares: the one struct cand_ctx (the
 * daemon's only global state, made in main()) and the limits. The layers
 * are folders, bottom to top: base/ (log, output queue), can/ (kernel
 * sockets and links), conf/ (cand.conf, policy), ops/ (the operations),
 * pb/ and sc/ (the protobuf and socketcand front-ends), then main.c. A file
 * uses only its own layer and lower ones; docs/architecture.md draws it.
 */
#ifndef CAND_DAEMON_DAEMON_H
#define CAND_DAEMON_DAEMON_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#ifndef CAND_SYSCONFDIR
#define CAND_SYSCONFDIR "/etc"
#endif

struct event;
struct event_base;

/* Frames per recvmmsg() and so at most per batch of received frames. */
#define RAW_BATCH 64

struct cand_limits {
	size_t max_msg;	 /* largest request accepted */
	size_t out_high; /* drop a client's frames above this output */
	size_t out_low;	 /* until it is below this */
	int rcvbuf; /* SO_RCVBUF(FORCE) of each interface's shared socket */
	unsigned rest_us; /* a busy tap's rest between reads; 0: none */
	unsigned max_clients;
	unsigned max_filters;  /* per client; the kernel takes 512 */
	unsigned max_periodic; /* BCM periodic tasks per client */
	unsigned max_monitors; /* BCM receive monitors per client */
};

struct policy;	      /* conf/policy.c */
struct busoff_policy; /* conf/conf.h */
struct sc_conf;	      /* conf/conf.h: [socketcand] */

/*
 * [isolate]: the interfaces that live in cand's own network namespace.
 * The units move them (systemd/cand-netns); cand only reports it.
 */
struct cand_isolate {
	char **patterns; /* fnmatch(3); none: isolation is off */
	size_t n_patterns;
	int stay; /* on-stop = stay: left in the namespace at a clean stop */
};

/* What etc/cand.conf says (conf/config.c); replaced whole on SIGHUP. */
struct cand_config {
	struct cand_limits limits;
	struct policy *policy;
	/* Bus-off recovery per interface; ops/busoff.c points into it. */
	struct busoff_policy *busoff;
	size_t n_busoff;
	/* The TCP front-end's settings; NULL without [socketcand]. */
	struct sc_conf *sc;
	struct cand_isolate isolate;
	/* Not errors: what `cand -n` and the log say (unknown users...). */
	char **warnings;
	size_t n_warnings;
};

/* State of the upper layers, declared where it is defined. */
struct sess;	   /* ops/sess.c: one client, whatever its codec */
struct canif;	   /* ops/busstate.c: one tracked CAN interface */
struct rx_scratch; /* can/rawsock.c: the receive path's buffers */
struct tap;	   /* ops/tap.c: an interface's shared receiving socket */
struct conn;	   /* pb/conn.c: one protobuf connection */
struct pb_scratch; /* pb/encode.c: the frame batch encoder's buffer */
struct sc_front;   /* sc/sc.h: the socketcand front-end */

struct cand_ctx {
	struct event_base *base;
	struct event *ev_signals[4];
	const char *config_path; /* NULL: built-in defaults */
	int foreground;
	int stopping;

	/* In force: cand.conf's limits and rules (NULL: only root). */
	struct cand_limits limits;
	struct policy *policy;

	/* ops/sess.c: every client of every front-end. */
	TAILQ_HEAD(, sess) sessions;
	unsigned n_sessions;
	unsigned next_sess_id;

	/* base/notify.c: systemd's watchdog and STATUS= line. */
	struct event *ev_watchdog;
	struct event *ev_status;
	unsigned n_ifaces; /* kept by ops/busstate.c */

	/* Scratch for the frame path, reused so it never mallocs per frame. */
	struct rx_scratch *scratch;
	/* ops/tap.c: "" channels' shared socket; the reads so far. */
	struct tap *tap_any;
	uint64_t tap_reads;

	/*
	 * Bus health: cand.conf's bus-off part (its limits and policy live
	 * above, as a reload replaces them), the rtnetlink monitor, the
	 * interfaces.
	 */
	struct cand_config config;
	int nl_fd;
	struct event *ev_netlink;
	TAILQ_HEAD(, canif) canifs;

	/* pb/: the control socket and its connections. */
	const char *sock_path;
	mode_t sock_mode;
	int listen_fd;
	int listen_owned; /* we bound it, so we unlink it on exit */
	struct event *ev_listen;
	TAILQ_HEAD(, conn) conns;
	struct pb_scratch *pb_scratch;

	/* sc/: the socketcand front-end; NULL while it is off. */
	struct sc_front *sc;
};

#endif
