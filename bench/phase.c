/*
 * One measured phase: N receivers (direct CAN_RAW or libcand) and one
 * sender, each its own process, so the VM's vCPUs are shared as they would
 * be by real programs. They meet in struct phase (MAP_SHARED): receivers
 * count themselves ready, the parent says go, the sender says done.
 *
 * Every frame is 8 bytes: a sequence number (data[0..3], little endian) and
 * the phase's tag (data[4..7]), so a receiver counts distinct frames, loss,
 * duplicates and reordering without a clock read per frame: it reads the
 * clock at its first frame and every 256th (or the last one sent), and its
 * rate is the frames between the first and the last stamp over that time.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/can.h>

#include "bench.h"

void phase_reset(struct bench *b, uint32_t n, double rate, unsigned timeout_s)
{
	struct phase *ph = b->ph;

	ph->tag = (uint32_t)(now_ns() * 2654435761u) ^ (uint32_t)getpid();
	ph->n = n;
	ph->can_id = 0x123;
	ph->rate = rate;
	ph->quantum_ns = (uint64_t)b->quantum_us * 1000u;
	ph->deadline = now_ns() + (uint64_t)timeout_s * 1000000000u;
	ph->max_ns = rate > 0 ? (uint64_t)((double)n * 1e9 / rate) + 1000000u
			      : (uint64_t)timeout_s * 1000000000u;
	ph->capped = 0;
	ph->n_rx = 0;
	memset(ph->kind, 0, sizeof(ph->kind));
	memset(ph->stall, 0, sizeof(ph->stall));
	ph->latency = 0;
	ph->n_lat = 0;
	STORE(&ph->ready, 0);
	STORE(&ph->go, 0);
	STORE(&ph->sender_done, 0);
	ph->n_tx = 1;
	snprintf(ph->ifnames[0], sizeof(ph->ifnames[0]), "%s", b->ifname);
	memset(ph->iface, 0, sizeof(ph->iface));
	memset(ph->sent_k, 0, sizeof(ph->sent_k));
	ph->sent = ph->enobufs = ph->send_t0 = ph->send_t1 = 0;
	ph->sender_cpu_ns = 0;
	ph->send_err = 0;
	ph->send_msg[0] = '\0';
	memset(ph->rx, 0, sizeof(ph->rx));
	memset(ph->lat_t0, 0, sizeof(ph->lat_t0));
	memset(ph->lat, 0, sizeof(ph->lat));
}

int phase_run(struct bench *b, const struct phase_spec *sp,
	      struct phase_out *out)
{
	struct phase *ph = b->ph;
	pid_t pids[BENCH_MAX_RX + BENCH_MAX_TX];
	uint64_t c0 = 0, s0 = 0, c1, s1, t;
	int i, n = sp->n_rx + (sp->witness ? 1 : 0), ack[2] = {-1, -1}, status;
	int n_tx = sp->n_tx > 1 ? sp->n_tx : 1;
	int n_if = sp->latency ? n : n_tx;

	memset(out, 0, sizeof(*out));
	out->rss_start_kib = out->rss_end_kib = out->hwm_kib = -1;
	if (n < 1 || n > BENCH_MAX_RX || n_tx > BENCH_MAX_TX ||
	    (sp->latency &&
	     (n_tx != 1 || n > BENCH_MAX_IF || (n > 1 && sp->kinds == NULL) ||
	      sp->witness || sp->n > BENCH_LAT_MAX))) {
		fmt_msg(out->msg, sizeof(out->msg), "bad phase");
		out->failed = 1;
		return -1;
	}
	phase_reset(b, sp->n, sp->rate, sp->timeout_s);
	if (sp->rate <= 0 && sp->max_s > 0)
		ph->max_ns = (uint64_t)sp->max_s * 1000000000u;
	ph->n_rx = n;
	ph->latency = sp->latency;
	ph->n_lat = sp->latency ? n : 0;
	ph->lat_run = sp->lat_run > 0 ? sp->lat_run : 1;
	ph->n_tx = n_tx;
	for (i = 1; i < n_if; i++)
		snprintf(ph->ifnames[i], sizeof(ph->ifnames[i]), "vcan%d",
			 i + 1);
	for (i = 0; i < sp->n_rx; i++) {
		ph->kind[i] =
			(int)(sp->kinds != NULL ? sp->kinds[i] : sp->kind);
		ph->stall[i] = sp->stall_last && i == sp->n_rx - 1;
		ph->iface[i] = i % n_if;
	}
	if (sp->witness)
		ph->kind[sp->n_rx] = RX_DIRECT;
	if (sp->latency) {
		if (pipe2(ack, O_CLOEXEC) < 0) {
			fmt_msg(out->msg, sizeof(out->msg), "pipe: %s",
				strerror(errno));
			out->failed = 1;
			return -1;
		}
		ph->ack_rd = ack[0];
		ph->ack_wr = ack[1];
	}
	if (sp->use_daemon && daemon_start(b) < 0) {
		fmt_msg(out->msg, sizeof(out->msg), "cand did not start");
		out->failed = 1;
		goto out;
	}
	if (b->daemon_pid > 0)
		out->rss_start_kib = proc_status_kib(b->daemon_pid, "VmRSS");

	for (i = 0; i < n; i++)
		pids[i] = spawn(b, rx_main, i);
	/* Every receiver is bound before the first frame goes out. */
	t = now_ns() + 15000000000u;
	while (LOAD(&ph->ready) < n && now_ns() < t)
		sleep_us(2000);
	if (b->daemon_pid > 0)
		proc_cpu_ns(b->daemon_pid, &c0, &s0);
	for (i = 0; i < n_tx; i++)
		pids[n + i] = spawn(b, sender_main, i);
	STORE(&ph->go, 1);
	out->killed = wait_pids(pids, n + n_tx, ph->deadline + 3000000000u);
	if (b->daemon_pid > 0 &&
	    waitpid(b->daemon_pid, &status, WNOHANG) == b->daemon_pid) {
		fmt_msg(out->msg, sizeof(out->msg),
			"cand exited during the phase (status 0x%x)", status);
		b->daemon_pid = 0;
	}
	if (b->daemon_pid > 0) {
		if (proc_cpu_ns(b->daemon_pid, &c1, &s1) == 0) {
			out->daemon_cpu_ns = c1 - c0;
			out->daemon_stat_ns = s1 - s0;
		}
		out->rss_end_kib = proc_status_kib(b->daemon_pid, "VmRSS");
		out->hwm_kib = proc_status_kib(b->daemon_pid, "VmHWM");
	}
out:
	if (sp->use_daemon)
		daemon_stop(b);
	if (ack[0] >= 0) {
		close(ack[0]);
		close(ack[1]);
	}
	return out->failed ? -1 : 0;
}

int senders_done(struct phase *ph)
{
	return LOAD(&ph->sender_done) >= ph->n_tx;
}

int lat_owner(const struct phase *ph, uint32_t k)
{
	return ph->n_lat > 1 ? (int)(k / ph->lat_run % (unsigned)ph->n_lat) : 0;
}

uint64_t sent_for(const struct phase *ph, int i)
{
	return ph->n_tx > 1 ? ph->sent_k[ph->iface[i]] : ph->sent;
}
