/*
 * Scenario 9, the socketcand front-end: clients of socketcand's protocol
 * over loopback TCP (sc_rx.c, parsing as python-can does) against the
 * direct CAN_RAW reader and cand's own protobuf path, in the same run:
 *
 *   8 clients on a paced 8000 frames/s bus    none may lose a frame
 *   1 client in a flood                       frames/s vs the direct reader
 *   latency, one probe at a time              p50 vs cand's protobuf path,
 *                                             and the floor of any TCP
 *                                             server: a relay over TCP
 *
 * Its daemon has a cand.conf of its own: [socketcand] on 127.0.0.1 and a
 * rule for that peer. The direct flood of scenario 1 is reused when it
 * ran in this repetition; the three latency rows are interleaved (the
 * probes dealt out to them in turn), as the VM's wakeup cost drifts with
 * whatever else runs.
 */
#include <math.h>
#include <stdio.h>

#include "bench.h"

#define SCEN_SC_CONF "/tmp/cand-bench-socketcand.conf"

static int scen_sc_conf(void)
{
	FILE *f = fopen(SCEN_SC_CONF, "w");

	if (f == NULL)
		return -1;
	fprintf(f,
		"[rule bench-peer]\n"
		"interfaces = *\n"
		"peers = 127.0.0.1\n"
		"rights = read\n"
		"[socketcand]\n"
		"listen = 127.0.0.1:%d\n",
		BENCH_SC_PORT);
	return fclose(f) == 0 ? 0 : -1;
}

/* The figure of row id this repetition, measuring it first if need be. */
static double scen_sc_base(struct bench *b, const char *id, enum metric m,
			   void (*measure)(struct bench *, const char *))
{
	double v = report_get(id, m, b->rep);

	if (isnan(v)) {
		measure(b, id);
		v = report_get(id, m, b->rep);
	}
	return v;
}

static void scen_sc_direct_flood(struct bench *b, const char *id)
{
	report_row(id, "1 flood: direct x1", "one read() per frame");
	throughput(b, id, RX_DIRECT, 1, b->flood_n, 0, 0, NULL);
}

void scen_socketcand(struct bench *b)
{
	static const char *const lat_ids[] = {"sc_lat_pb", "sc_lat",
					      "sc_lat_relay"};
	static const enum rx_kind lat_kinds[] = {RX_CAND, RX_SOCKETCAND,
						 RX_TCP_RELAY};
	unsigned rep = b->rep;
	double direct, pb;
	char msg[160];

	report_row("sc_bus8000_8", "9 socketcand bus 8000/s x8",
		   "TCP clients parsing as python-can; lost must be 0");
	report_row("sc_flood_1", "9 socketcand flood x1",
		   "ratio vs direct x1 (want >= 0.5)");
	report_row("sc_lat_relay", "9 latency: minimal TCP relay",
		   "3's relay through loopback TCP; ratio vs cand protobuf");
	report_row("sc_lat_pb", "9 latency: cand protobuf",
		   "the same as 3, interleaved with socketcand's");
	report_row("sc_lat", "9 socketcand latency",
		   "ratio = p50 vs cand protobuf (want <= 1.5)");
	direct = scen_sc_base(b, "flood_direct_1", M_FPS, scen_sc_direct_flood);
	if (scen_sc_conf() < 0) {
		report_problem("sc_flood_1", "cannot write " SCEN_SC_CONF);
		return;
	}
	b->conf_path = SCEN_SC_CONF;
	throughput(b, "sc_bus8000_8", RX_SOCKETCAND, 8, 8000 * b->bus_secs,
		   8000, 0, NULL);
	throughput(b, "sc_flood_1", RX_SOCKETCAND, 1, b->flood_n, 0, 0, NULL);
	report_set("sc_flood_1", M_RATIO,
		   ratio(report_get("sc_flood_1", M_FPS, rep), direct), rep);
	/* Interleaved, each on a bus of its own (vcan0, vcan2, vcan3). */
	if (make_vcans(3, msg, sizeof(msg)) < 0) {
		report_problem("sc_lat", "%s", msg);
	} else {
		latency_interleaved(b, lat_ids, lat_kinds, 3, BENCH_LAT_RUN);
	}
	pb = report_get("sc_lat_pb", M_P50, rep);
	report_set("sc_lat_relay", M_RATIO,
		   ratio(report_get("sc_lat_relay", M_P50, rep), pb), rep);
	report_set("sc_lat", M_RATIO,
		   ratio(report_get("sc_lat", M_P50, rep), pb), rep);
	b->conf_path = NULL;
}
