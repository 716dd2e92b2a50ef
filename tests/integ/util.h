/*
 * Integration test helpers: libcand handles, raw CAN_RAW observers, child
 * processes (can-utils) and the daemon's log and file descriptors.
 *
 * The tests run as root inside the VM against a daemon that run-all.sh
 * started; it exports CAND_SOCKET, CAND_LOG, CAND_PID and BUILDDIR.
 * Every helper that can fail fails the current Check test itself, so the
 * tests read as a list of steps and assertions.
 */
#ifndef CAND_INTEG_UTIL_H
#define CAND_INTEG_UTIL_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/can.h>

#include "cand.h"

/* How long an expected frame may take, and how long absence is watched. */
#define RX_TIMEOUT_MS 2000
#define SETTLE_MS     200

/* The suites, one per file. */
Suite *relay_suite(void);
Suite *filter_suite(void);
Suite *loopback_suite(void);
Suite *channel_suite(void);
Suite *badinput_suite(void);
Suite *lifecycle_suite(void);
Suite *bcm_suite(void);
Suite *health_suite(void);
Suite *policy_suite(void);
Suite *reload_suite(void);
Suite *limits_suite(void);
Suite *policy_tasks_suite(void);
Suite *reload_bcm_suite(void);
Suite *sc_proto_suite(void); /* sc_*.c: the socketcand front-end */
Suite *sc_bcm_suite(void);
Suite *sc_access_suite(void);
Suite *sc_flow_suite(void);
Suite *sc_clients_suite(void);
Suite *sc_budget_suite(void);
Suite *shared_suite(void);
Suite *sharedlink_suite(void);
Suite *sharedmany_suite(void);
Suite *restgone_suite(void);
Suite *echo_suite(void);
Suite *faults_suite(void);
Suite *restart_suite(void);
Suite *budget_suite(void);
Suite *sendbatch_suite(void);
Suite *sendform_suite(void); /* a send's two forms, by hand */

/* A test case with the timeout every integration test gets. */
TCase *util_tcase(const char *name);

/* ---- libcand ---- */

/* Connects to $CAND_SOCKET; fails the test on error. */
cand_t *util_connect(void);
/* Connects and opens with these options (NULL: defaults on channel). */
cand_t *util_open_opts(const struct cand_options *opts);
/* Connects and opens channel with python-can's defaults. */
cand_t *util_open(const char *channel);
/* The same with fd=1. */
cand_t *util_open_fd(const char *channel);

/* A frame: data from hex ("DEADBEEF", "" for none), len from its length. */
struct cand_frame util_frame(uint32_t id, uint32_t flags, const char *hex);
/* Sends frames and asserts that all n were sent. */
void util_send(cand_t *h, const struct cand_frame *frames, size_t n);
/* Receives one frame within RX_TIMEOUT_MS or fails the test. */
void util_recv_ok(cand_t *h, struct cand_frame *f, const char *what);
/* Fails the test if a frame arrives within settle_ms. */
void util_recv_none(cand_t *h, int settle_ms, const char *what);
/*
 * Receives frames until `want` have arrived (each within RX_TIMEOUT_MS),
 * then goes on for settle_ms to catch extras. Returns how many arrived, at
 * most max.
 */
size_t util_collect(cand_t *h, struct cand_frame *out, size_t max, size_t want,
		    int settle_ms);

/*
 * Frames compare equal on id, the EXTENDED/REMOTE/ERROR/FD/BRS/ESI flags,
 * len and (except for RTR) data; not on ifname, timestamp or OWN.
 */
int util_frame_eq(const struct cand_frame *a, const struct cand_frame *b);
/* "vcan0 123#DEADBEEF [ext,fd]" for messages; returns buf. */
const char *util_frame_str(const struct cand_frame *f, char *buf, size_t size);
/* Asserts util_frame_eq with both frames in the message. */
#define util_assert_frame(got, want, what)                                     \
	do {                                                                   \
		char b1_[192], b2_[192];                                       \
		ck_assert_msg(util_frame_eq((got), (want)),                    \
			      "%s: got %s, want %s", (what),                   \
			      util_frame_str((got), b1_, sizeof(b1_)),         \
			      util_frame_str((want), b2_, sizeof(b2_)));       \
	} while (0)

/* ---- raw CAN_RAW sockets, the independent observers and peers ---- */

#define RAW_FD	   0x01 /* CAN_RAW_FD_FRAMES */
#define RAW_ERR	   0x02 /* receive all error frames */
#define RAW_NOLOOP 0x04 /* CAN_RAW_LOOPBACK 0 */
#define RAW_BIGBUF 0x08 /* a receive buffer for thousands of frames */

/* A CAN_RAW socket bound to ifname; fails the test on error. */
int util_raw_open(const char *ifname, int flags);
/* Kernel frame <-> library frame. */
void util_to_raw(const struct cand_frame *f, struct canfd_frame *cf,
		 int *is_fd);
void util_from_raw(const struct canfd_frame *cf, int is_fd,
		   struct cand_frame *f);
/* Writes one frame (classic or FD by its flags); fails the test on error. */
void util_raw_send(int s, const struct cand_frame *f);
/* Writes one frame for a flood: a full TX queue just waits a moment. */
void util_raw_flood(int s, const struct cand_frame *f);
/* Reads one frame: 1, or 0 after timeout_ms without one. */
int util_raw_recv(int s, struct cand_frame *f, int timeout_ms);
void util_raw_recv_ok(int s, struct cand_frame *f, const char *what);
void util_raw_recv_none(int s, int settle_ms, const char *what);

/* ---- util_tbf.c: the send tests' full TX queue ---- */

/* A vcan ifname, up, behind a tbf qdisc so small a send soon fills it. */
void util_tbf_iface(const char *ifname);
/* Deletes ifname, if it is there. */
void util_iface_del(const char *ifname);
/* n one-byte frames, ids from id on, data byte 0 their number. */
void util_frames_run(struct cand_frame *f, size_t n, uint32_t id);

/* ---- processes ---- */

/* Runs `sh -c CMD` under `timeout 20`; returns its exit status, or -1. */
int util_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A child process with its stdout (and stderr) on a pipe. */
struct util_proc {
	pid_t pid;
	int out;
};
/*
 * Starts argv[0] with argv directly (so pid is the program itself, which
 * matters for reaping and killing it). The child dies with the test.
 */
void util_spawn(struct util_proc *p, char *const argv[]);
/*
 * Receivers the kernel has registered on ifname ("any" for the sockets
 * bound to every interface): lines of /proc/net/can/rcvlist_*, or -1.
 */
int util_can_receivers(const char *ifname);
/*
 * Starts a listener (candump, ...) like util_spawn and waits until it has
 * bound a CAN socket to ifname, so no frame sent afterwards is missed.
 */
void util_spawn_listener(struct util_proc *p, char *const argv[],
			 const char *ifname);
/*
 * Reads the child's output until EOF or timeout_ms, then kills it if still
 * running and reaps it. Returns the output (malloc'd, NUL-terminated);
 * *status gets the wait status, or -1 if it had to be killed.
 */
char *util_proc_finish(struct util_proc *p, int timeout_ms, int *status);

/* ---- the daemon ---- */

pid_t util_daemon_pid(void);
int util_daemon_alive(void);
/* Sockets of the daemon that are neither Unix nor netlink: CAN sockets. */
int util_daemon_can_sockets(void);
/* All sockets the daemon has open. */
int util_daemon_sockets(void);
/* Size of $CAND_LOG now, and what was written to it after that. */
long util_log_mark(void);
char *util_log_since(long mark);

/* ---- daemons of a test's own (policy, reload, limits) ---- */

/*
 * One cand with its own config, socket and log under /tmp/cand-t and
 * /run/cand-t, started as the user "cand" with only CAP_NET_ADMIN
 * (start-daemon.sh), as cand.service runs it.
 */
struct util_daemon {
	pid_t pid;
	char name[32];
	char sock[108];
	char conf[128];
	char log[128];
};

/* Writes conf_text, starts the daemon, waits until it answers. */
void util_daemon_start(struct util_daemon *d, const char *name,
		       const char *conf_text);
/* Replaces its config file (mode 0644, readable by "cand"). */
void util_daemon_write_conf(struct util_daemon *d, const char *conf_text);
/* SIGHUP; waits for the log to say it reloaded (want_ok) or refused. */
void util_daemon_reload(struct util_daemon *d, int want_ok);
/* SIGTERM; asserts a clean exit 0 and that the socket is gone. */
void util_daemon_stop(struct util_daemon *d);
/* The same after the test sent the signal itself. */
void util_daemon_wait(struct util_daemon *d);
/* Everything in its log so far (malloc'd). */
char *util_daemon_log(const struct util_daemon *d);
/* Connects to path as uid:gid (SO_PEERCRED reports the effective ids). */
cand_t *util_connect_as(const char *path, uid_t uid, gid_t gid);
/* The same, returning the libcand status instead of failing the test. */
int util_try_connect_as(cand_t **h, const char *path, uid_t uid, gid_t gid);
/* Opens channel on h with python-can's defaults; returns the status. */
int util_try_open(cand_t *h, const char *channel);
/* Resident memory of a process in KiB (VmRSS). */
long util_rss_kib(pid_t pid);
/* The daemon runs under a wrapper (valgrind) or is built with ASan. */
int util_daemon_slowed(void);
/*
 * The growth of a daemon's RSS a test allows where it would allow kib:
 * under valgrind or ASan, which keep freed memory on purpose, a bound only
 * against runaway growth (1 GiB).
 */
long util_rss_slack_kib(long kib);

/* The VM's test users (tests/vm/README.md) and those users.sh adds. */
#define UID_CANDTEST  4242 /* groups candtest, can (4240) */
#define UID_CANDTEST2 4243 /* groups candtest2, diag (4250) */
#define UID_CANDTEST3 4244 /* group candtest3 only */
#define GID_CAN	      4240

/* softnet.c: frames the kernel's backlog queues dropped, all CPUs. */
uint64_t softnet_drops(void);

/* 1 if the interface exists. */
int util_have_iface(const char *ifname);
/* Milliseconds of sleep. */
void util_msleep(int ms);
uint64_t util_now_ns(void); /* CLOCK_REALTIME */

#endif
