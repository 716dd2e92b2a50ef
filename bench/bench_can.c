/*
 * bench_can: cand against a direct CAN_RAW reader, scenario by scenario, on
 * the same vcan in the same run. Run as root in the VM (make bench):
 *
 *   1 flood      N frames as fast as a raw socket can write them: a direct
 *                reader (one read() per frame), 1 cand client, 8 of each
 *   2 full bus   8 readers at a steady 8000 and 2000 frames/s (the sender
 *                writes what is due every 500 us, -p)
 *   3 latency    one probe at a time, write() to the receiver's return
 *   4 CPU        per delivered frame in the 1-client flood: cand (and its
 *                client) against the direct reader
 *   5 scale      cand's RSS idle and with 1000 opened clients; the cost of a
 *                frame that matches one client of 10 or of 1000, at the
 *                same pace
 *   6 slow       a client that stops reading must cost the others nothing
 *   7 fan-out    a paced 8000 frames/s and 1, 8, 32, 64, 128 readers, cand
 *                and direct: loss, cand's CPU per frame received and
 *                delivered, and what one more client costs
 *   8 many buses four vcans, each with a paced 8000/s sender and 8 readers
 *   9 socketcand clients of the socketcand front-end over TCP: 8 on the
 *                8000/s bus, 1 in a flood, latency (scen_sc.c)
 *
 * Prints one row per scenario and variant (medians over BENCH_REPEAT runs)
 * and writes them to bench/results.json. Exits 0 whatever the figures; 1
 * only when the bench cannot run at all (no interface, no daemon).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
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

static int wanted(const struct bench *b, char scenario)
{
	return b->only == NULL || strchr(b->only, scenario) != NULL;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bench_can [-qvW] [-b BUILDDIR] [-i IFACE] "
		"[-s SOCKET] [-o JSON] [-p US] [-r REPEAT] [-t SCENARIOS]\n"
		"  -b DIR     where cand is (default: the directory of "
		"bench_can)\n"
		"  -i IFACE   the vcan to use (default vcan0)\n"
		"  -s SOCKET  cand's socket (default /run/cand-bench.sock)\n"
		"  -o FILE    results (default bench/results.json)\n"
		"  -r N       repetitions, medians reported (default "
		"$BENCH_REPEAT or 1)\n"
		"  -p US      paced senders write what is due every US "
		"microseconds\n"
		"             (default 500; 0: wake for every frame)\n"
		"  -t LIST    only these scenarios, e.g. 13 (0 environment, "
		"1 flood and\n"
		"             4 CPU, 2 full bus, 3 latency, 5 scale, 6 slow "
		"client,\n"
		"             7 fan-out, 8 four buses, 9 socketcand, a canctl "
		"gen vs cangen)\n"
		"  -q         quick: smaller counts, for a smoke test\n"
		"  -v         verbose: time and cand CPU per phase\n"
		"  -W         add a direct reader beside the cand clients, "
		"a witness of\n"
		"             what the kernel delivered (changes the load)\n"
		"environment: BENCH_REPEAT, BENCH_ONLY (as -t), "
		"BENCH_DAEMON_WRAPPER (runs cand "
		"under it,\n"
		"             e.g. a perf record script; skews the figures)\n");
}

int main(int argc, char **argv)
{
	struct bench b = {
		.ifname = "vcan0",
		.sock_path = "/run/cand-bench.sock",
		.json_path = "bench/results.json",
		.log_path = "/tmp/cand-bench.log",
		.repeat = 1,
		.flood_n = 200000,
		.flood_secs = 5,
		.bus_secs = 5,
		.quantum_us = 500,
		.lat_probes = 2000,
		.scale_clients = 1000,
	};
	const char *env = getenv("BENCH_REPEAT");
	char msg[160], self[PATH_MAX];
	const char *bdir = NULL;
	ssize_t len;
	int opt, fd;

	if (env != NULL && atoi(env) > 0)
		b.repeat = (unsigned)atoi(env);
	/* make bench has no arguments to pass: -t from the environment. */
	env = getenv("BENCH_ONLY");
	if (env != NULL && *env != '\0')
		b.only = env;
	while ((opt = getopt(argc, argv, "b:i:s:o:p:r:t:qvWh")) != -1) {
		switch (opt) {
		case 'b':
			bdir = optarg;
			break;
		case 'i':
			b.ifname = optarg;
			break;
		case 's':
			b.sock_path = optarg;
			break;
		case 'o':
			b.json_path = optarg;
			break;
		case 'p':
			b.quantum_us = (unsigned)atoi(optarg);
			break;
		case 'r':
			b.repeat = (unsigned)atoi(optarg);
			break;
		case 't':
			b.only = optarg;
			break;
		case 'q':
			b.quick = 1;
			break;
		case 'v':
			b.verbose = 1;
			break;
		case 'W':
			b.witness = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || b.repeat < 1) {
		usage(stderr);
		return 2;
	}
	if (b.repeat > BENCH_MAX_REPEAT)
		b.repeat = BENCH_MAX_REPEAT;
	if (b.quick) {
		b.flood_n = 50000;
		b.flood_secs = 3;
		b.bus_secs = 2;
		b.lat_probes = 500;
		b.scale_clients = 200;
	}

	/* BUILDDIR: -b, else where this program is. */
	if (bdir != NULL) {
		snprintf(b.builddir, sizeof(b.builddir), "%s", bdir);
	} else if (strchr(argv[0], '/') != NULL) {
		snprintf(self, sizeof(self), "%s", argv[0]);
		snprintf(b.builddir, sizeof(b.builddir), "%s", dirname(self));
	} else if ((len = readlink("/proc/self/exe", self, sizeof(self) - 1)) >
		   0) {
		self[len] = '\0';
		snprintf(b.builddir, sizeof(b.builddir), "%s", dirname(self));
	} else {
		snprintf(b.builddir, sizeof(b.builddir), ".");
	}
	snprintf(b.cand_path, sizeof(b.cand_path), "%s/cand", b.builddir);
	if (access(b.cand_path, X_OK) < 0) {
		fprintf(stderr, "bench_can: %s: %s\n", b.cand_path,
			strerror(errno));
		return 1;
	}
	if (iface_check(b.ifname, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "bench_can: cannot run: %s\n", msg);
		return 1;
	}
	if (geteuid() != 0)
		fprintf(stderr, "bench_can: not root: SO_RCVBUFFORCE will "
				"fail, receive buffers stay at rmem_max\n");
	signal(SIGPIPE, SIG_IGN);
	fd = open(b.log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0)
		close(fd);
	b.ph = mmap(NULL, sizeof(*b.ph), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (b.ph == MAP_FAILED) {
		fprintf(stderr, "bench_can: mmap: %s\n", strerror(errno));
		return 1;
	}
	memset(b.ph, 0, sizeof(*b.ph));
	if (daemon_start(&b) < 0) {
		fprintf(stderr, "bench_can: cannot run: cand does not start\n");
		return 1;
	}
	daemon_stop(&b);
	/* Everything below is bounded; this catches what is not. */
	alarm(b.repeat * 1200 + 60);

	fprintf(stderr,
		"bench_can: cand %s, %s, %u repetition(s), flood %u frames\n",
		b.cand_path, b.ifname, b.repeat, b.flood_n);
	for (b.rep = 0; b.rep < b.repeat; b.rep++) {
		if (wanted(&b, '0'))
			scen_env(&b);
		if (wanted(&b, '1') || wanted(&b, '4'))
			scen_flood(&b);
		if (wanted(&b, '2'))
			scen_bus(&b);
		if (wanted(&b, '3'))
			scen_latency(&b);
		if (wanted(&b, '5'))
			scen_scale(&b);
		if (wanted(&b, '6'))
			scen_slow(&b);
		if (wanted(&b, '7'))
			scen_fanout(&b);
		if (wanted(&b, '8'))
			scen_multibus(&b);
		if (wanted(&b, '9'))
			scen_socketcand(&b);
		if (wanted(&b, 'a'))
			scen_gen(&b);
	}

	printf("\ncand vs direct CAN_RAW on %s, median of %u run(s)\n",
	       b.ifname, b.repeat);
	report_print(stdout);
	if (report_json(&b, b.json_path) < 0)
		fprintf(stderr, "bench_can: cannot write %s: %s\n", b.json_path,
			strerror(errno));
	else
		printf("\nwritten to %s\n", b.json_path);
	return 0;
}
