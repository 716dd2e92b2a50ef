/*
 * bench_can: cand against a direct CAN_RAW reader on the same vcan, in the
 * same run. See docs/performance.md for what is measured and how.
 *
 * Layout: bench_can.c has the options and the list of scenarios, scen.c
 * the scenarios, measure.c turns a phase's results into figures; phase.c
 * runs one measured phase (forked sender and receivers sharing a struct
 * phase in MAP_SHARED memory), with the receivers in rx.c and the senders
 * in sender.c; util.c has the daemon, /proc and socket helpers, report.c
 * keeps every figure per repetition and prints the medians as a table and
 * JSON.
 */
#ifndef CAND_BENCH_H
#define CAND_BENCH_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "cand.h"

#define BENCH_MAX_RX  160   /* receivers in one phase */
#define BENCH_MAX_TX  4	    /* senders in one phase, each on its bus */
#define BENCH_MAX_IF  8	    /* buses in one phase: vcan0, vcan2.. */
#define BENCH_LAT_MAX 16384 /* latency probes in one phase */
/* Warm latency: probes in a row to one receiver, its path as warm as it gets.
 */
#define BENCH_LAT_RUN	 50
#define BENCH_MAX_REPEAT 20
#define BENCH_RCVBUF	 (4 << 20) /* as the daemon's limits.rcvbuf */
/* The scale scenario's pace: what the VM holds with 1000 clients. */
#define BENCH_MATCH_RATE   20000
#define BENCH_MATCH_RATE_S "20000"

/* The socketcand front-end's port in scenario 9 (scen_sc.c). */
#define BENCH_SC_PORT 29536

/* Receivers poll this often, and stop this long after the sender ends. */
#define RX_POLL_MS 100
#define RX_IDLE_MS 1000

struct phase;

/* The settings of this run, and the daemon it started. */
struct bench {
	const char *ifname;
	char builddir[PATH_MAX];
	char cand_path[PATH_MAX + 8];
	const char *sock_path;
	const char *json_path;
	const char *log_path;
	const char *only;      /* scenario digits to run, NULL: all */
	const char *conf_path; /* the daemon's -c FILE; NULL: none */
	unsigned repeat;
	unsigned rep; /* the repetition being run, from 0 */
	unsigned flood_n;
	unsigned flood_secs; /* the flood sender stops after this */
	unsigned bus_secs;
	unsigned quantum_us; /* paced senders wake this often, 0: per frame */
	unsigned lat_probes;
	unsigned scale_clients;
	int quick;
	int verbose;
	int witness;	  /* -W: a direct reader beside the cand clients */
	pid_t daemon_pid; /* 0: none running */
	struct phase *ph; /* MAP_SHARED, shared with every child */
};

/* ---- util.c ---- */

uint64_t now_ns(void); /* CLOCK_MONOTONIC */
void sleep_us(unsigned us);
void sleep_until_ns(uint64_t t); /* CLOCK_MONOTONIC, absolute */
/* CPU time (user + system) of the calling process, ns. */
uint64_t self_cpu_ns(void);
/*
 * CPU time of another (single-threaded) process, ns: the runtime from
 * /proc/PID/schedstat, the same quantity as utime+stime at ns resolution;
 * *stat_ns gets utime+stime from /proc/PID/stat (tick resolution).
 * Returns 0, or -1 when the process is gone.
 */
int proc_cpu_ns(pid_t pid, uint64_t *ns, uint64_t *stat_ns);
/* "VmRSS", "VmHWM", ... from /proc/PID/status in KiB, or -1. */
long proc_status_kib(pid_t pid, const char *key);
/* A /proc/meminfo line ("Slab") in KiB, or -1. */
long meminfo_kib(const char *key);
/* Number of open descriptors of PID, or -1. */
int proc_nfds(pid_t pid);
/* qsort(3) order of doubles. */
int cmp_double(const void *a, const void *b);

/*
 * A CAN_RAW socket bound to ifname. rcvbuf > 0: SO_RCVBUFFORCE (else
 * SO_RCVBUF) of that size, *got = what getsockopt reports. no_rx: the socket
 * only sends (an empty filter list). Returns the fd or -1 with msg set.
 */
int raw_socket(const char *ifname, int rcvbuf, int *got, int no_rx, char *msg,
	       size_t msize);
/* 0 when ifname exists and is up, else -1 with msg set. */
int iface_check(const char *ifname, char *msg, size_t msize);
/* vcan2..vcanN beside the bench's interface, made and up; 0 or -1. */
int make_vcans(int upto, char *msg, size_t msize);
/* Raises RLIMIT_NOFILE to at least want (root may raise the hard limit). */
void raise_nofile(unsigned want);

/* Starts BUILDDIR/cand -f -s SOCK, waits until it accepts; 0 or -1. */
int daemon_start(struct bench *b);
void daemon_stop(struct bench *b);

/* Forks; the child runs fn(b, arg) and exits. Returns the pid or -1. */
pid_t spawn(struct bench *b, void (*fn)(struct bench *, int), int arg);
/*
 * Reaps the pids (those <= 0 are skipped) until deadline (CLOCK_MONOTONIC
 * ns), then SIGKILLs and reaps the rest. Returns how many had to be killed
 * or did not exit 0.
 */
int wait_pids(pid_t *pids, int n, uint64_t deadline);

/* Writes a formatted message into a fixed buffer. */
void fmt_msg(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- phase.c ---- */

enum rx_kind {
	RX_DIRECT,	 /* CAN_RAW socket, one read() per frame */
	RX_CAND,	 /* libcand: cand_recv(h, f, 0), poll() when empty */
	RX_CAND_TIMEOUT, /* libcand: cand_recv(h, f, RX_POLL_MS) per frame */
	RX_RELAY, /* a child read()s CAN_RAW and write()s each frame to us */
	RX_SOCKETCAND, /* socketcand's protocol over TCP (sc_rx.c) */
	RX_TCP_RELAY,  /* RX_RELAY through loopback TCP (sc_rx.c) */
	RX_LOOP_RELAY, /* RX_RELAY with cand's syscalls: epoll, recvmmsg */
	RX_RELAY_POLL, /* RX_RELAY read as cand's poll pattern: poll, read */
};

struct rx_result {
	uint64_t received; /* distinct frames of this phase */
	uint64_t dups, reorder, foreign;
	uint64_t t_first, t_stamp, n_stamp; /* rate = n_stamp-1 frames */
	uint64_t cpu_ns;		    /* its own, while receiving */
	uint64_t kernel_drops;		    /* cand_kernel_drops() */
	int rcvbuf;			    /* direct: SO_RCVBUF read back */
	int timed_out;
	int err;
	char msg[160];
};

struct phase {
	/* Set by the parent before forking. */
	uint32_t tag; /* data[4..7]: frames of another phase are ignored */
	int n_tx;     /* senders, sender k on ifnames[k] */
	char ifnames[BENCH_MAX_IF][16];
	int iface[BENCH_MAX_RX]; /* the bus of each receiver */
	uint32_t n;		 /* frames to send */
	uint32_t can_id;
	double rate;	     /* frames/s, 0: as fast as possible */
	uint64_t quantum_ns; /* paced: sends what is due this often */
	uint64_t max_ns;     /* the sender stops after this long */
	uint64_t deadline;   /* everyone gives up */
	int n_rx;
	int kind[BENCH_MAX_RX];
	int stall[BENCH_MAX_RX]; /* 1: read nothing until the sender ends */
	int latency;
	/*
	 * Latency: receiver i on ifnames[i]; the probes go to them in turn,
	 * lat_run in a row to each (lat_owner() says whose probe k is).
	 */
	int n_lat;
	unsigned lat_run;
	int ack_rd, ack_wr;   /* latency: receiver -> sender */
	int cmd_rd, cmd_wr;   /* scale: parent -> holder */
	int done_rd, done_wr; /* scale: holder -> parent */
	unsigned hold;	      /* scale: clients the holder opens */

	/* Handshake, accessed with __atomic builtins. */
	int ready;
	int go;
	int sender_done; /* senders that finished */

	/* Sender results (sender 0's; sent_k: each sender's count). */
	uint64_t sent, enobufs, send_t0, send_t1, sender_cpu_ns;
	uint64_t sent_k[BENCH_MAX_TX];
	int capped; /* stopped by max_ns before n frames */
	int send_err;
	char send_msg[160];

	struct rx_result rx[BENCH_MAX_RX];

	/* Latency: write time per probe, and receive - write (0: lost). */
	uint64_t lat_t0[BENCH_LAT_MAX];
	uint64_t lat[BENCH_LAT_MAX];

	/* Scale holder. */
	unsigned held;
	char hold_msg[160];
};

struct phase_spec {
	const char *what;
	int n_rx;
	enum rx_kind kind;
	int stall_last; /* the last receiver stalls */
	uint32_t n;
	double rate;
	unsigned timeout_s;
	unsigned max_s; /* flood: the sender stops after this (0: n only) */
	int witness;	/* one more receiver, direct, after the others */
	int latency;
	/*
	 * Latency with n_rx receivers of these kinds, each on its own bus,
	 * the probes dealt out to them in turn (NULL: one receiver of kind).
	 */
	const enum rx_kind *kinds;
	unsigned lat_run; /* probes in a row to one of them (0: 1) */
	int use_daemon;
	int n_tx; /* 0 or 1: one sender on the bench interface; more: each
		     on its bus, receivers dealt out round robin */
};

struct phase_out {
	uint64_t daemon_cpu_ns; /* over the phase (schedstat) */
	uint64_t daemon_stat_ns;
	long rss_start_kib, rss_end_kib, hwm_kib;
	int failed; /* the phase could not run at all */
	int killed; /* children that hit the hard timeout or failed */
	char msg[200];
};

#define LOAD(p)	    __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)

/* Runs one phase; fills b->ph results and out. Returns 0 or -1. */
int phase_run(struct bench *b, const struct phase_spec *sp,
	      struct phase_out *out);
/* Resets the per-phase parts of b->ph for a new phase. */
void phase_reset(struct bench *b, uint32_t n, double rate, unsigned timeout_s);
/* Waits for *flag to be set, until deadline (now_ns()); 0 or -1. */
int wait_flag(int *flag, uint64_t deadline);
/* Every sender is done. */
int senders_done(struct phase *ph);
/* The latency receiver probe k goes to. */
int lat_owner(const struct phase *ph, uint32_t k);
/* What the sender of receiver i's bus sent. */
uint64_t sent_for(const struct phase *ph, int i);
/* Children: a receiver, the flood or paced sender, the scale holder. */
void rx_main(struct bench *b, int idx);
void sender_main(struct bench *b, int arg);
void holder_main(struct bench *b, int arg);
/* Frames/s of one receiver from its first to its last stamped frame. */
double rx_rate(const struct rx_result *r);

/* ---- sc_rx.c: a client of the socketcand front-end ---- */

struct scrx;
/* Connected, bus ifname open in raw mode; NULL with msg set. */
struct scrx *scrx_open(const char *ifname, char *msg, size_t msize);
void scrx_close(struct scrx *s);
/* One frame's data: 1; 0 when none came for RX_POLL_MS; -1 on an error. */
int scrx_next(struct scrx *s, uint8_t *data, unsigned *len, char *msg,
	      size_t msize);
/* The frames cand said it lost for this client ("< error ... >"). */
uint64_t scrx_drops(const struct scrx *s);
/* Two ends of a loopback TCP connection, TCP_NODELAY: 0, or -1. */
int scrx_tcp_pair(int sv[2], char *msg, size_t msize);

/* ---- measure.c ---- */

double ratio(double a, double b);
double per_frame_us(uint64_t ns, uint64_t frames);
/* Nearest rank, of v sorted. */
double percentile(const double *v, size_t n, double p);
void progress(const struct bench *b, const char *what);
/*
 * The common figures of a throughput phase's receivers from..to-1 into
 * row id; cand: charge the daemon's CPU per delivered frame.
 */
void put_rx(struct bench *b, const char *id, int from, int to,
	    const struct phase_out *po, int cand);
/* Runs one throughput phase into row id. */
void throughput(struct bench *b, const char *id, enum rx_kind kind, int n_rx,
		uint32_t n, double rate, int stall_last, struct phase_out *out);
/* Runs one latency phase into row id. */
void latency(struct bench *b, const char *id, enum rx_kind kind);
/*
 * One latency phase for n receivers, one of each kind on a bus of its own,
 * the probes dealt out to them in turn, run at a time, into rows
 * ids[0..n-1]: every row sees the same moments of the machine, so their
 * ratios hold when its speed drifts. The cand rows share one daemon, whose
 * CPU is charged per probe of theirs.
 */
void latency_interleaved(struct bench *b, const char *const *ids,
			 const enum rx_kind *kinds, int n, unsigned run);

/* ---- scen.c: one function per scenario ---- */

void scen_env(struct bench *b);
void scen_flood(struct bench *b);
void scen_bus(struct bench *b);
void scen_latency(struct bench *b);
void scen_scale(struct bench *b);
void scen_slow(struct bench *b);
void scen_socketcand(struct bench *b); /* scen_sc.c */
/* scen_fan.c */
void scen_fanout(struct bench *b);
void scen_multibus(struct bench *b);
void scen_gen(struct bench *b); /* scen_gen.c */

/* ---- report.c ---- */

enum metric {
	/* The table's columns. */
	M_FPS,
	M_LOST,
	M_P50,
	M_P99,
	M_CPU,
	M_RATIO,
	/* Shown in the note. */
	M_LOST_MAX,
	M_AGG_FPS,
	M_CPU_CLIENT,
	M_CPU_TOTAL,
	M_SENDER_CPU,
	M_SENT,
	M_SEND_FPS,
	M_ENOBUFS,
	M_REORDER,
	M_DUPS,
	M_TIMEOUTS,
	M_ERRORS,
	M_RCVBUF,
	M_P99_RATIO,
	M_MEAN_US,
	M_MAX_US,
	M_PROBES_LOST,
	M_CLIENTS,
	M_RSS_KIB,
	M_HWM_KIB,
	M_RSS_GROWTH_KIB,
	M_PER_CLIENT_KIB,
	M_SLAB_PER_CLIENT,
	M_STALL_GOT,
	M_STALL_DROPS,
	M_STALL_UNSEEN,
	M_DROPS,
	M_CPU_STAT,
	M_SYSCALL_US,
	M_CLOCK_US,
	M_W_LOST,
	M_W_REORDER,
	M_VS_CAND1,
	M_CPU_RX,
	M_MARGINAL,
	M_MARGINAL_RATIO,
	M_VS_RELAY,
	M_P99_VS_RELAY,
	M_COUNT
};

/* Declares a row (first use fixes the order) with its fixed note text. */
void report_row(const char *id, const char *label, const char *note);
/* A figure of the current repetition. */
void report_set(const char *id, enum metric m, double v, unsigned rep);
/* A problem worth a word in the note (deduplicated). */
void report_problem(const char *id, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The median of a figure over the repetitions so far (NAN: none). */
double report_median(const char *id, enum metric m);
/* The figure of one repetition (NAN: none). */
double report_get(const char *id, enum metric m, unsigned rep);
void report_print(FILE *f);
int report_json(const struct bench *b, const char *path);

#endif
