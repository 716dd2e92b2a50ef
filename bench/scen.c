/*
 * The scenarios, one function each (bench_can.c lists them): what phases
 * to run, with which receivers, senders and paces, into which rows.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "bench.h"

void scen_flood(struct bench *b)
{
	unsigned rep = b->rep;
	double direct;

	report_row("flood_direct_1", "1 flood: direct x1",
		   "one read() per frame");
	report_row("flood_cand_1", "1 flood: cand x1", "cand_recv(h,f,0)+poll");
	report_row("flood_cand_1_tmo", "1 flood: cand x1, recv(100ms)",
		   "cand_recv(h,f,100) per frame");
	report_row("flood_cand_8", "1 flood: cand x8",
		   "per-client mean; ratio vs direct x1");
	report_row("flood_direct_8", "1 flood: direct x8",
		   "per-reader mean; ratio vs direct x1");

	throughput(b, "flood_direct_1", RX_DIRECT, 1, b->flood_n, 0, 0, NULL);
	throughput(b, "flood_cand_1", RX_CAND, 1, b->flood_n, 0, 0, NULL);
	throughput(b, "flood_cand_1_tmo", RX_CAND_TIMEOUT, 1, b->flood_n, 0, 0,
		   NULL);
	throughput(b, "flood_cand_8", RX_CAND, 8, b->flood_n, 0, 0, NULL);
	throughput(b, "flood_direct_8", RX_DIRECT, 8, b->flood_n, 0, 0, NULL);

	direct = report_get("flood_direct_1", M_FPS, rep);
	report_set("flood_cand_8", M_VS_CAND1,
		   ratio(report_get("flood_cand_8", M_FPS, rep),
			 report_get("flood_cand_1", M_FPS, rep)),
		   rep);
	report_set("flood_direct_1", M_RATIO, 1.0, rep);
	report_set("flood_cand_1", M_RATIO,
		   ratio(report_get("flood_cand_1", M_FPS, rep), direct), rep);
	report_set("flood_cand_1_tmo", M_RATIO,
		   ratio(report_get("flood_cand_1_tmo", M_FPS, rep), direct),
		   rep);
	report_set("flood_cand_8", M_RATIO,
		   ratio(report_get("flood_cand_8", M_FPS, rep), direct), rep);
	report_set("flood_direct_8", M_RATIO,
		   ratio(report_get("flood_direct_8", M_FPS, rep), direct),
		   rep);

	/* Scenario 4 restates the 1-client flood's CPU columns. */
	report_row("cpu_direct", "4 CPU/frame: direct reader",
		   "its getrusage over the 1-client flood");
	report_row("cpu_cand", "4 CPU/frame: cand daemon",
		   "cand utime+stime / delivered; ratio vs direct");
	report_row("cpu_cand_total", "4 CPU/frame: cand + client",
		   "daemon + libcand client; ratio vs direct");
	direct = report_get("flood_direct_1", M_CPU, rep);
	report_set("cpu_direct", M_CPU, direct, rep);
	report_set("cpu_direct", M_RATIO, 1.0, rep);
	report_set("cpu_cand", M_CPU, report_get("flood_cand_1", M_CPU, rep),
		   rep);
	report_set("cpu_cand", M_CPU_STAT,
		   report_get("flood_cand_1", M_CPU_STAT, rep), rep);
	report_set("cpu_cand", M_RATIO,
		   ratio(report_get("flood_cand_1", M_CPU, rep), direct), rep);
	report_set("cpu_cand_total", M_CPU,
		   report_get("flood_cand_1", M_CPU_TOTAL, rep), rep);
	report_set("cpu_cand_total", M_RATIO,
		   ratio(report_get("flood_cand_1", M_CPU_TOTAL, rep), direct),
		   rep);
}

void scen_bus(struct bench *b)
{
	static const unsigned rates[] = {8000, 2000};
	char idd[32], idc[32], label[40], note[64];
	unsigned i, rep = b->rep;
	uint32_t n;
	double got_d, got_c;

	/* Readers of the table must know the frames came in bursts. */
	snprintf(note, sizeof(note), "sender wakes every %u us", b->quantum_us);
	for (i = 0; i < 2; i++) {
		snprintf(idd, sizeof(idd), "bus%u_direct_8", rates[i]);
		snprintf(idc, sizeof(idc), "bus%u_cand_8", rates[i]);
		snprintf(label, sizeof(label), "2 bus %u/s: direct x8",
			 rates[i]);
		report_row(idd, label, note);
		snprintf(label, sizeof(label), "2 bus %u/s: cand x8", rates[i]);
		report_row(idc, label,
			   "ratio = fraction delivered vs direct's");
	}
	for (i = 0; i < 2; i++) {
		n = rates[i] * b->bus_secs;
		snprintf(idd, sizeof(idd), "bus%u_direct_8", rates[i]);
		snprintf(idc, sizeof(idc), "bus%u_cand_8", rates[i]);
		throughput(b, idd, RX_DIRECT, 8, n, rates[i], 0, NULL);
		throughput(b, idc, RX_CAND, 8, n, rates[i], 0, NULL);
		/* Fractions delivered: each sender sent what it could. */
		got_d = 1.0 - ratio(report_get(idd, M_LOST, rep),
				    8.0 * report_get(idd, M_SENT, rep));
		got_c = 1.0 - ratio(report_get(idc, M_LOST, rep),
				    8.0 * report_get(idc, M_SENT, rep));
		report_set(idd, M_RATIO, 1.0, rep);
		report_set(idc, M_RATIO, ratio(got_c, got_d), rep);
	}
}

/* Row id's p50 and p99 over row base's, into metrics m50 and m99. */
static void lat_ratios(struct bench *b, const char *id, const char *base,
		       enum metric m50, enum metric m99)
{
	unsigned rep = b->rep;

	report_set(
		id, m50,
		ratio(report_get(id, M_P50, rep), report_get(base, M_P50, rep)),
		rep);
	report_set(
		id, m99,
		ratio(report_get(id, M_P99, rep), report_get(base, M_P99, rep)),
		rep);
}

/*
 * One latency phase of every receiver (warm: BENCH_LAT_RUN probes in a row to
 * each; cold: one by one, so that five others' probes come between two of
 * a receiver's), rows "lat_" or "lat_cold_" and the kind's name.
 */
static void lat_phase(struct bench *b, int cold)
{
	static const struct {
		const char *name, *label, *note;
		enum rx_kind kind;
	} rx[] = {
		{"direct", "direct",
		 "write() to read() returning, another process", RX_DIRECT},
		{"relay", "minimal relay",
		 "the floor of any broker: a process read()s and write()s each "
		 "frame",
		 RX_RELAY},
		{"relay_poll", "minimal relay, polled",
		 "the relay read as cand's poll pattern and python-can's "
		 "recv(): "
		 "poll(), then read()",
		 RX_RELAY_POLL},
		{"loop_relay", "event-loop relay",
		 "the relay with cand's syscalls: epoll_wait, recvmmsg with "
		 "timestamps, write",
		 RX_LOOP_RELAY},
		{"cand", "cand",
		 "write() to cand_recv(h,f,0) returning, poll() when empty",
		 RX_CAND},
		{"cand_tmo", "cand, recv(100ms)",
		 "cand_recv(h,f,100), as python-can's recv(timeout)",
		 RX_CAND_TIMEOUT},
	};
	enum { N = sizeof(rx) / sizeof(rx[0]) };
	char idv[N][32], label[40];
	const char *ids[N];
	enum rx_kind kinds[N];
	int i;

	for (i = 0; i < N; i++) {
		snprintf(idv[i], sizeof(idv[i]), "lat_%s%s",
			 cold ? "cold_" : "", rx[i].name);
		snprintf(label, sizeof(label), "3 latency%s: %s",
			 cold ? " cold" : "", rx[i].label);
		report_row(idv[i], label, rx[i].note);
		ids[i] = idv[i];
		kinds[i] = rx[i].kind;
	}
	latency_interleaved(b, ids, kinds, N, cold ? 1 : BENCH_LAT_RUN);
	/*
	 * p50 and p99 against the direct reader's (row 0), and (issue 14's
	 * target) those past the relay against the minimal relay's (row 1).
	 */
	report_set(ids[0], M_RATIO, 1.0, b->rep);
	for (i = 1; i < N; i++) {
		lat_ratios(b, ids[i], ids[0], M_RATIO, M_P99_RATIO);
		if (i > 1)
			lat_ratios(b, ids[i], ids[1], M_VS_RELAY,
				   M_P99_VS_RELAY);
	}
}

void scen_latency(struct bench *b)
{
	char msg[160];

	/* Each receiver on a bus of its own: vcan0, vcan2..vcan6. */
	if (make_vcans(6, msg, sizeof(msg)) < 0) {
		report_problem("lat_direct", "%s", msg);
		return;
	}
	lat_phase(b, 0);
	lat_phase(b, 1);
}

/* Tells the holder to do cmd (0: nothing) and waits for it to finish. */
static int holder_cmd(struct bench *b, char cmd, uint64_t deadline)
{
	struct phase *ph = b->ph;
	struct pollfd pfd = {.fd = ph->done_rd, .events = POLLIN};
	uint64_t t;
	char c;

	if (cmd != 0 && write(ph->cmd_wr, &cmd, 1) != 1)
		return -1;
	while ((t = now_ns()) < deadline) {
		if (poll(&pfd, 1, (int)((deadline - t) / 1000000u) + 1) <= 0)
			continue;
		return read(ph->done_rd, &c, 1) == 1 ? 0 : -1;
	}
	return -1;
}

/* A flood of frames that only the holder's client 0 accepts. */
static void match(struct bench *b, const char *id)
{
	struct phase *ph = b->ph;
	struct phase_out po;
	uint64_t c0 = 0, s0 = 0, c1 = 0, s1 = 0;
	unsigned rep = b->rep, held = ph->held;
	pid_t sender;

	progress(b, id);
	memset(&po, 0, sizeof(po));
	/*
	 * Paced, not a flood: the kernel's filter scan slows a flooding
	 * sender, smaller batches then cost cand more per frame, and the
	 * ratio would measure the batch size rather than the clients.
	 */
	phase_reset(b, BENCH_MATCH_RATE * b->bus_secs, BENCH_MATCH_RATE,
		    b->bus_secs + 20);
	ph->can_id = 0x100;
	proc_cpu_ns(b->daemon_pid, &c0, &s0);
	if (write(ph->cmd_wr, "m", 1) != 1) {
		report_problem(id, "holder gone");
		return;
	}
	sender = spawn(b, sender_main, 0);
	__atomic_store_n(&ph->go, 1, __ATOMIC_RELEASE);
	po.killed = wait_pids(&sender, 1, ph->deadline);
	if (holder_cmd(b, 0, ph->deadline + 5000000000u) < 0)
		fmt_msg(po.msg, sizeof(po.msg), "the receiving client hangs");
	if (proc_cpu_ns(b->daemon_pid, &c1, &s1) == 0) {
		po.daemon_cpu_ns = c1 - c0;
		po.daemon_stat_ns = s1 - s0;
	}
	put_rx(b, id, 0, 1, &po, 1);
	report_set(id, M_CLIENTS, held, rep);
}

void scen_scale(struct bench *b)
{
	struct phase *ph = b->ph;
	char id_n[32] = "scale_n", label[40];
	int cmd[2] = {-1, -1}, done[2] = {-1, -1};
	long rss0, rss1, slab0, slab1;
	unsigned rep = b->rep, n = b->scale_clients;
	pid_t holder = -1;
	double c10, cn;

	report_row("scale_idle", "5 scale: cand, 0 clients", "VmRSS");
	snprintf(label, sizeof(label), "5 scale: cand, %u clients", n);
	report_row(id_n, label, "opened, each with its own filter");
	report_row("match_10", "5 match 1 of 10 clients",
		   "frames for one client at " BENCH_MATCH_RATE_S
		   "/s; CPU = cand's");
	snprintf(label, sizeof(label), "5 match 1 of %u clients", n);
	report_row("match_n", label, "ratio = CPU vs 10 clients");

	progress(b, "scale");
	if (daemon_start(b) < 0) {
		report_problem(id_n, "cand did not start");
		return;
	}
	sleep_us(200000);
	rss0 = proc_status_kib(b->daemon_pid, "VmRSS");
	slab0 = meminfo_kib("Slab");
	report_set("scale_idle", M_RSS_KIB, (double)rss0, rep);
	report_set("scale_idle", M_CLIENTS, 0, rep);

	if (pipe2(cmd, O_CLOEXEC) < 0 || pipe2(done, O_CLOEXEC) < 0) {
		report_problem(id_n, "pipe: %s", strerror(errno));
		goto out;
	}
	ph->cmd_rd = cmd[0];
	ph->cmd_wr = cmd[1];
	ph->done_rd = done[0];
	ph->done_wr = done[1];
	ph->hold = n;
	ph->held = 0;
	ph->hold_msg[0] = '\0';
	phase_reset(b, 1, 0, 120);
	holder = spawn(b, holder_main, 0);
	if (holder_cmd(b, 0, now_ns() + 120000000000u) < 0) {
		report_problem(id_n, "the client process hangs");
		goto out;
	}
	if (ph->held < n)
		report_problem(id_n, "only %u of %u clients opened: %s",
			       ph->held, n, ph->hold_msg);
	/* Let the daemon settle (log writes, epoll). */
	sleep_us(300000);
	rss1 = proc_status_kib(b->daemon_pid, "VmRSS");
	slab1 = meminfo_kib("Slab");
	report_set(id_n, M_CLIENTS, ph->held, rep);
	report_set(id_n, M_RSS_KIB, (double)rss1, rep);
	if (ph->held > 0 && rss0 > 0 && rss1 > 0) {
		report_set(id_n, M_RSS_GROWTH_KIB, (double)(rss1 - rss0), rep);
		report_set(id_n, M_PER_CLIENT_KIB,
			   (double)(rss1 - rss0) / ph->held, rep);
	}
	/* Both ends of every socket, and the CAN sockets: the kernel's. */
	if (ph->held > 0 && slab0 > 0 && slab1 > 0)
		report_set(id_n, M_SLAB_PER_CLIENT,
			   (double)(slab1 - slab0) / ph->held, rep);
	if (b->verbose)
		fprintf(stderr, "  cand has %d fds\n",
			proc_nfds(b->daemon_pid));

	if (ph->held > 0) {
		match(b, "match_n");
		if (holder_cmd(b, 's', now_ns() + 30000000000u) < 0)
			report_problem("match_10", "the client process hangs");
		sleep_us(300000);
		match(b, "match_10");
		c10 = report_get("match_10", M_CPU, rep);
		cn = report_get("match_n", M_CPU, rep);
		report_set("match_10", M_RATIO, 1.0, rep);
		report_set("match_n", M_RATIO, ratio(cn, c10), rep);
	}
out:
	if (holder > 0) {
		if (write(ph->cmd_wr, "q", 1) < 0)
			kill(holder, SIGKILL);
		wait_pids(&holder, 1, now_ns() + 10000000000u);
	}
	daemon_stop(b);
	if (cmd[0] >= 0) {
		close(cmd[0]);
		close(cmd[1]);
	}
	if (done[0] >= 0) {
		close(done[0]);
		close(done[1]);
	}
}

static void slow(struct bench *b, const char *id, int n_rx, uint32_t n,
		 double rate)
{
	const struct rx_result *r = &b->ph->rx[n_rx - 1];
	struct phase_out po;
	unsigned rep = b->rep;
	uint64_t all = 0;
	int i;

	throughput(b, id, RX_CAND, n_rx, n, rate, 1, &po);
	if (po.failed)
		return;
	for (i = 0; i < n_rx; i++)
		all += b->ph->rx[i].received;
	/* The daemon delivered the stalled client's frames too. */
	report_set(id, M_CPU, per_frame_us(po.daemon_cpu_ns, all), rep);
	report_set(id, M_CPU_STAT, per_frame_us(po.daemon_stat_ns, all), rep);
	report_set(id, M_CPU_TOTAL, NAN, rep);
	report_set(id, M_CPU_CLIENT, NAN, rep);
	report_set(id, M_STALL_GOT, (double)r->received, rep);
	report_set(id, M_STALL_DROPS, (double)r->kernel_drops, rep);
	/* SO_RXQ_OVFL rides on delivered frames: drops after the last
	 * delivered one are never reported. */
	report_set(
		id, M_STALL_UNSEEN,
		b->ph->sent > r->received + r->kernel_drops
			? (double)(b->ph->sent - r->received - r->kernel_drops)
			: 0,
		rep);
	report_set(id, M_HWM_KIB, (double)po.hwm_kib, rep);
	if (po.hwm_kib > 0 && po.rss_start_kib > 0)
		report_set(id, M_RSS_GROWTH_KIB,
			   (double)(po.hwm_kib - po.rss_start_kib), rep);
	if (r->err)
		report_problem(id, "stalled client: %s", r->msg);
}

void scen_slow(struct bench *b)
{
	report_row("slow_8000", "6 slow: cand x8 8000/s, 1 stalls",
		   "lost/f/s = the 7 others'; peak RSS growth");
	report_row("slow_flood", "6 slow: cand x2 flood, 1 stalls",
		   "lost/f/s = the other's; peak RSS growth");
	slow(b, "slow_8000", 8, 8000 * b->bus_secs, 8000);
	slow(b, "slow_flood", 2, b->flood_n, 0);
}

/*
 * What this machine charges for the things the frame path is made of: a
 * syscall, a clock read, and a wakeup of a blocked process (a pipe
 * ping-pong between two processes, with idle gaps as in the latency test).
 * In a TCG VM the wakeup dwarfs everything else; see docs/performance.md.
 */
void scen_env(struct bench *b)
{
	enum { LOOPS = 20000, PINGS = 500 };
	int ab[2] = {-1, -1}, ba[2] = {-1, -1};
	struct pollfd pfd;
	double *rtt = NULL, sum_cpu;
	uint64_t t0, cpu0;
	unsigned rep = b->rep, seed = 1;
	pid_t pid = -1;
	char c = 'x';
	int i, n = 0;

	report_row("env_syscall", "0 env: syscall, clock read",
		   "cost of one, this machine");
	report_row("env_wakeup", "0 env: wakeup round trip",
		   "pipe ping-pong, 2 processes; CPU = both, per trip");
	progress(b, "env");
	t0 = now_ns();
	for (i = 0; i < LOOPS; i++)
		getppid();
	report_set("env_syscall", M_SYSCALL_US,
		   (double)(now_ns() - t0) / 1000.0 / LOOPS, rep);
	t0 = now_ns();
	for (i = 0; i < LOOPS; i++)
		now_ns();
	report_set("env_syscall", M_CLOCK_US,
		   (double)(now_ns() - t0) / 1000.0 / (LOOPS + 1), rep);

	rtt = calloc(PINGS, sizeof(*rtt));
	if (rtt == NULL || pipe2(ab, O_CLOEXEC) < 0 ||
	    pipe2(ba, O_CLOEXEC) < 0) {
		report_problem("env_wakeup", "no memory or pipes");
		goto out;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		/* Echo until the parent closes its end; report CPU. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(ab[1]);
		close(ba[0]);
		cpu0 = self_cpu_ns();
		while (read(ab[0], &c, 1) == 1)
			if (write(ba[1], &c, 1) != 1)
				break;
		cpu0 = self_cpu_ns() - cpu0;
		if (write(ba[1], &cpu0, sizeof(cpu0)) < 0)
			_exit(1);
		_exit(0);
	}
	if (pid < 0) {
		report_problem("env_wakeup", "fork: %s", strerror(errno));
		goto out;
	}
	close(ab[0]);
	close(ba[1]);
	ab[0] = ba[1] = -1;
	pfd.fd = ba[0];
	pfd.events = POLLIN;
	cpu0 = self_cpu_ns();
	for (i = 0; i < PINGS; i++) {
		t0 = now_ns();
		if (write(ab[1], &c, 1) != 1 || read(ba[0], &c, 1) != 1)
			break;
		rtt[n++] = (double)(now_ns() - t0) / 1000.0;
		sleep_us(200 + (unsigned)rand_r(&seed) % 500);
	}
	sum_cpu = (double)(self_cpu_ns() - cpu0);
	close(ab[1]);
	ab[1] = -1;
	t0 = 0;
	if (poll(&pfd, 1, 5000) == 1 &&
	    read(ba[0], &t0, sizeof(t0)) == (ssize_t)sizeof(t0))
		sum_cpu += (double)t0;
	wait_pids(&pid, 1, now_ns() + 5000000000u);
	qsort(rtt, (size_t)n, sizeof(*rtt), cmp_double);
	report_set("env_wakeup", M_P50, percentile(rtt, (size_t)n, 0.5), rep);
	report_set("env_wakeup", M_P99, percentile(rtt, (size_t)n, 0.99), rep);
	if (n > 0)
		report_set("env_wakeup", M_CPU, sum_cpu / 1000.0 / n, rep);
out:
	for (i = 0; i < 2; i++) {
		if (ab[i] >= 0)
			close(ab[i]);
		if (ba[i] >= 0)
			close(ba[i]);
	}
	free(rtt);
}
