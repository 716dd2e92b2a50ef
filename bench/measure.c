/*
 * Measuring a phase: a throughput phase's receivers into a row (rates,
 * losses, CPU per frame), and a latency phase's probes into percentiles.
 * The scenarios (scen.c) say what to run; report.c keeps the figures.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

/* Summary of a phase's receivers from..to-1. */
struct agg {
	double fps_mean, fps_sum;
	uint64_t received, lost, lost_max;
	uint64_t reorder, dups, errors, timeouts;
	uint64_t cpu_ns, drops;
	int rcvbuf, n;
};

static void aggregate(const struct phase *ph, int from, int to, struct agg *a)
{
	const struct rx_result *r;
	uint64_t lost;
	double fps;
	int i, nf = 0;

	memset(a, 0, sizeof(*a));
	for (i = from; i < to; i++) {
		r = &ph->rx[i];
		lost = sent_for(ph, i) > r->received
			       ? sent_for(ph, i) - r->received
			       : 0;
		a->received += r->received;
		a->lost += lost;
		if (lost > a->lost_max)
			a->lost_max = lost;
		a->reorder += r->reorder;
		a->dups += r->dups;
		a->errors += r->err != 0;
		a->timeouts += r->timed_out != 0;
		a->cpu_ns += r->cpu_ns;
		a->drops += r->kernel_drops;
		a->rcvbuf = r->rcvbuf;
		fps = rx_rate(r);
		if (!isnan(fps)) {
			a->fps_sum += fps;
			nf++;
		}
		a->n++;
	}
	a->fps_mean = nf ? a->fps_sum / nf : NAN;
	if (nf == 0)
		a->fps_sum = NAN;
}

double per_frame_us(uint64_t ns, uint64_t frames)
{
	return frames ? (double)ns / 1000.0 / (double)frames : NAN;
}

/* Problems of a phase (failed setup, errors, timeouts) into the row. */
static void phase_problems(const char *id, const struct phase *ph, int from,
			   int to, const struct phase_out *po)
{
	int i;

	if (po->msg[0] != '\0')
		report_problem(id, "%s", po->msg);
	if (ph->send_err)
		report_problem(id, "sender: %s", ph->send_msg);
	if (po->killed)
		report_problem(id, "%d process(es) killed or failed",
			       po->killed);
	for (i = from; i < to; i++)
		if (ph->rx[i].err)
			report_problem(id, "receiver %d: %s", i, ph->rx[i].msg);
}

/*
 * The common figures of a throughput phase. cand rows charge the daemon's
 * CPU per delivered frame (the clients' in the note), direct rows the
 * readers' own.
 */
void put_rx(struct bench *b, const char *id, int from, int to,
	    const struct phase_out *po, int cand)
{
	const struct phase *ph = b->ph;
	unsigned rep = b->rep;
	struct agg a;
	double span;

	aggregate(ph, from, to, &a);
	phase_problems(id, ph, from, to, po);
	if (po->failed)
		return;
	report_set(id, M_FPS, a.fps_mean, rep);
	report_set(id, M_LOST, (double)a.lost, rep);
	if (to - from > 1) {
		report_set(id, M_LOST_MAX, (double)a.lost_max, rep);
		report_set(id, M_AGG_FPS, a.fps_sum, rep);
	}
	report_set(id, M_SENT, (double)ph->sent, rep);
	span = (double)(ph->send_t1 - ph->send_t0);
	if (span > 0)
		report_set(id, M_SEND_FPS, (double)ph->sent * 1e9 / span, rep);
	report_set(id, M_SENDER_CPU, per_frame_us(ph->sender_cpu_ns, ph->sent),
		   rep);
	report_set(id, M_ENOBUFS, (double)ph->enobufs, rep);
	report_set(id, M_REORDER, (double)a.reorder, rep);
	report_set(id, M_DUPS, (double)a.dups, rep);
	report_set(id, M_TIMEOUTS, (double)a.timeouts, rep);
	report_set(id, M_ERRORS, (double)a.errors, rep);
	if (cand) {
		report_set(id, M_CPU,
			   per_frame_us(po->daemon_cpu_ns, a.received), rep);
		report_set(id, M_CPU_STAT,
			   per_frame_us(po->daemon_stat_ns, a.received), rep);
		report_set(id, M_CPU_CLIENT, per_frame_us(a.cpu_ns, a.received),
			   rep);
		report_set(
			id, M_CPU_TOTAL,
			per_frame_us(po->daemon_cpu_ns + a.cpu_ns, a.received),
			rep);
		report_set(id, M_DROPS, (double)a.drops, rep);
	} else {
		report_set(id, M_CPU, per_frame_us(a.cpu_ns, a.received), rep);
		report_set(id, M_RCVBUF, a.rcvbuf, rep);
	}
}

double ratio(double a, double b)
{
	return isnan(a) || isnan(b) || b == 0 ? NAN : a / b;
}

void progress(const struct bench *b, const char *what)
{
	fprintf(stderr, "bench_can: [%u/%u] %s\n", b->rep + 1, b->repeat, what);
}

/* Runs one throughput phase into row id. */
void throughput(struct bench *b, const char *id, enum rx_kind kind, int n_rx,
		uint32_t n, double rate, int stall_last, struct phase_out *out)
{
	struct phase_spec sp = {
		.what = id,
		.n_rx = n_rx,
		.kind = kind,
		.stall_last = stall_last,
		.n = n,
		.rate = rate,
		.use_daemon = kind != RX_DIRECT,
	};
	struct phase_out po_local, *po = out ? out : &po_local;
	const struct rx_result *w;
	uint64_t t0;

	/* The sender stops on time; the hard limit is well past that. */
	sp.max_s = b->flood_secs;
	sp.witness = b->witness && kind != RX_DIRECT && n_rx < BENCH_MAX_RX;
	sp.timeout_s = (rate > 0 ? (unsigned)(n / rate) : b->flood_secs) + 20;
	progress(b, id);
	t0 = now_ns();
	phase_run(b, &sp, po);
	put_rx(b, id, 0, stall_last ? n_rx - 1 : n_rx, po, kind != RX_DIRECT);
	if (sp.witness && !po->failed) {
		w = &b->ph->rx[n_rx];
		report_set(id, M_W_LOST,
			   (double)(b->ph->sent > w->received
					    ? b->ph->sent - w->received
					    : 0),
			   b->rep);
		report_set(id, M_W_REORDER, (double)w->reorder, b->rep);
	}
	/* A VM too slow for the pace is worth saying. */
	if (rate > 0 && b->ph->send_t1 > b->ph->send_t0 &&
	    (double)b->ph->sent * 1e9 /
			    (double)(b->ph->send_t1 - b->ph->send_t0) <
		    0.95 * rate)
		report_problem(id, "the sender could not keep %.0f/s", rate);
	if (b->verbose)
		fprintf(stderr, "  %.1f s; cand cpu %.3f s (stat %.3f s)\n",
			(double)(now_ns() - t0) / 1e9,
			(double)po->daemon_cpu_ns / 1e9,
			(double)po->daemon_stat_ns / 1e9);
}

/* Nearest rank, of v sorted. */
double percentile(const double *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return NAN;
	i = (size_t)ceil(p * (double)n);
	if (i > 0)
		i--;
	return v[i < n ? i : n - 1];
}

static int via_cand(enum rx_kind kind)
{
	return kind == RX_CAND || kind == RX_CAND_TIMEOUT ||
	       kind == RX_SOCKETCAND;
}

/*
 * Receiver k's probes into row id; cand_probes: what every cand receiver
 * of the phase got, over which the daemon's CPU is spread.
 */
static void latency_row(struct bench *b, const char *id, int k,
			const struct phase_out *po, uint64_t cand_probes)
{
	const struct phase *ph = b->ph;
	enum rx_kind kind = (enum rx_kind)ph->kind[k];
	double *v, sum = 0;
	size_t i, m = 0, sent = 0;
	unsigned rep = b->rep;

	v = calloc(BENCH_LAT_MAX, sizeof(*v));
	if (v == NULL)
		return;
	for (i = 0; i < ph->sent && i < BENCH_LAT_MAX; i++) {
		if (lat_owner(ph, (uint32_t)i) != k)
			continue;
		sent++;
		if (ph->lat[i] == 0)
			continue;
		v[m] = (double)ph->lat[i] / 1000.0;
		sum += v[m++];
	}
	qsort(v, m, sizeof(*v), cmp_double);
	report_set(id, M_P50, percentile(v, m, 0.50), rep);
	report_set(id, M_P99, percentile(v, m, 0.99), rep);
	report_set(id, M_MEAN_US, m ? sum / (double)m : NAN, rep);
	report_set(id, M_MAX_US, m ? v[m - 1] : NAN, rep);
	report_set(id, M_SENT, (double)sent, rep);
	report_set(id, M_PROBES_LOST, (double)(sent - m), rep);
	/* The relay's CPU is its child's: not measured, not shown. */
	if (via_cand(kind)) {
		report_set(id, M_CPU,
			   per_frame_us(po->daemon_cpu_ns, cand_probes), rep);
		report_set(id, M_CPU_CLIENT, per_frame_us(ph->rx[k].cpu_ns, m),
			   rep);
	} else if (kind == RX_DIRECT) {
		report_set(id, M_CPU, per_frame_us(ph->rx[k].cpu_ns, m), rep);
	}
	free(v);
}

void latency_interleaved(struct bench *b, const char *const *ids,
			 const enum rx_kind *kinds, int n, unsigned run)
{
	struct phase_spec sp = {
		.what = ids[0],
		.n_rx = n,
		.kind = kinds[0],
		.kinds = kinds,
		.lat_run = run,
		.n = b->lat_probes * (unsigned)n,
		.latency = 1,
		.timeout_s = 60 * (unsigned)n,
	};
	struct phase *ph = b->ph;
	struct phase_out po;
	uint64_t cand_probes = 0;
	int k;

	for (k = 0; k < n; k++)
		sp.use_daemon |= via_cand(kinds[k]);
	progress(b, ids[0]);
	phase_run(b, &sp, &po);
	phase_problems(ids[0], ph, 0, n, &po);
	if (po.failed)
		return;
	for (k = 0; k < n; k++)
		if (via_cand(kinds[k]))
			cand_probes += ph->rx[k].received;
	for (k = 0; k < n; k++)
		latency_row(b, ids[k], k, &po, cand_probes);
}

void latency(struct bench *b, const char *id, enum rx_kind kind)
{
	latency_interleaved(b, &id, &kind, 1, 1);
}
