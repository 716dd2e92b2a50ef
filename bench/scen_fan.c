/*
 * The scenarios of many clients on one shared receive path: fan-out (one
 * paced bus, N readers each wanting every frame, cand and direct side by
 * side) and many buses (four vcans, each with its own paced sender and 8
 * readers). The paced rate is a full 500 kbit/s bus of 8-byte frames.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define FAN_RATE 8000

/* The fraction of what was sent that every receiver got, all together. */
static double delivered(const char *id, unsigned n_rx, unsigned rep)
{
	return 1.0 - ratio(report_get(id, M_LOST, rep),
			   (double)n_rx * report_get(id, M_SENT, rep));
}

void scen_fanout(struct bench *b)
{
	static const unsigned counts[] = {1, 8, 32, 64, 128};
	unsigned i, n_counts = b->quick ? 3 : 5, rep = b->rep, n;
	char idd[32], idc[32], label[40];
	struct phase_out po;
	double first = NAN, cpu_rx, got_d, got_c;

	for (i = 0; i < n_counts; i++) {
		snprintf(idd, sizeof(idd), "fan_direct_%u", counts[i]);
		snprintf(idc, sizeof(idc), "fan_cand_%u", counts[i]);
		snprintf(label, sizeof(label), "7 fan-out %u/s: direct x%u",
			 FAN_RATE, counts[i]);
		report_row(idd, label, "ratio = fraction delivered");
		snprintf(label, sizeof(label), "7 fan-out %u/s: cand x%u",
			 FAN_RATE, counts[i]);
		report_row(idc, label,
			   "CPU per delivered; ratio = delivered vs direct's");
	}
	for (i = 0; i < n_counts; i++) {
		n = counts[i];
		snprintf(idd, sizeof(idd), "fan_direct_%u", n);
		snprintf(idc, sizeof(idc), "fan_cand_%u", n);
		throughput(b, idd, RX_DIRECT, (int)n, FAN_RATE * b->bus_secs,
			   FAN_RATE, 0, NULL);
		throughput(b, idc, RX_CAND, (int)n, FAN_RATE * b->bus_secs,
			   FAN_RATE, 0, &po);
		got_d = delivered(idd, n, rep);
		got_c = delivered(idc, n, rep);
		report_set(idd, M_RATIO, 1.0, rep);
		report_set(idc, M_RATIO, ratio(got_c, got_d), rep);
		/* Every frame the bus carried is received by cand once. */
		cpu_rx = per_frame_us(po.daemon_cpu_ns, b->ph->sent);
		report_set(idc, M_CPU_RX, cpu_rx, rep);
		if (n == 1) {
			first = cpu_rx;
			continue;
		}
		/* What each client after the first adds to a frame. */
		report_set(idc, M_MARGINAL, (cpu_rx - first) / (n - 1), rep);
		report_set(idc, M_MARGINAL_RATIO,
			   ratio((cpu_rx - first) / (n - 1), first), rep);
	}
}

static void multibus(struct bench *b, const char *id, enum rx_kind kind)
{
	struct phase_spec sp = {
		.what = id,
		.n_rx = 8 * BENCH_MAX_TX,
		.kind = kind,
		.n = FAN_RATE * b->bus_secs,
		.rate = FAN_RATE,
		.timeout_s = b->bus_secs + 20,
		.max_s = b->flood_secs,
		.use_daemon = kind != RX_DIRECT,
		.n_tx = BENCH_MAX_TX,
	};
	struct phase *ph = b->ph;
	struct phase_out po;
	uint64_t sent = 0;
	int i;

	progress(b, id);
	phase_run(b, &sp, &po);
	put_rx(b, id, 0, sp.n_rx, &po, kind != RX_DIRECT);
	if (po.failed)
		return;
	for (i = 0; i < BENCH_MAX_TX; i++) {
		sent += ph->sent_k[i];
		if ((double)ph->sent_k[i] < 0.95 * FAN_RATE * b->bus_secs)
			report_problem(id, "the sender on %s sent only %llu",
				       ph->ifnames[i],
				       (unsigned long long)ph->sent_k[i]);
	}
	report_set(id, M_SENT, (double)sent, b->rep);
	if (kind != RX_DIRECT)
		report_set(id, M_CPU_RX, per_frame_us(po.daemon_cpu_ns, sent),
			   b->rep);
}

void scen_multibus(struct bench *b)
{
	unsigned rep = b->rep;
	char msg[160];

	report_row("multibus_direct", "8 four buses 8000/s: direct x32",
		   "8 readers per bus; lost = all 32 together");
	report_row("multibus_cand", "8 four buses 8000/s: cand x32",
		   "8 clients per bus; ratio = delivered vs direct's");
	if (make_vcans(BENCH_MAX_TX, msg, sizeof(msg)) < 0) {
		report_problem("multibus_cand", "%s", msg);
		return;
	}
	multibus(b, "multibus_direct", RX_DIRECT);
	multibus(b, "multibus_cand", RX_CAND);
	report_set("multibus_direct", M_RATIO, 1.0, rep);
	report_set("multibus_cand", M_RATIO,
		   ratio(1.0 - ratio(report_get("multibus_cand", M_LOST, rep),
				     8.0 * report_get("multibus_cand", M_SENT,
						      rep)),
			 1.0 - ratio(report_get("multibus_direct", M_LOST, rep),
				     8.0 * report_get("multibus_direct", M_SENT,
						      rep))),
		   rep);
}
