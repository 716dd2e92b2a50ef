/*
 * Scenario a: canctl gen against cangen, each flooding the vcan with the
 * flood's count of frames (-g 0: as fast as it goes). The
 * rate is what the interface's TX counter gained over the sender's whole
 * life, connecting included; the CPU is the sender's, plus the daemon's
 * for canctl gen. The bar: canctl gen at least cangen's rate.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

/* The interface's TX packet counter, or -1. */
static long long gen_tx_packets(const char *ifname)
{
	char path[128];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/tx_packets",
		 ifname);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	if (fscanf(f, "%lld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/* Runs argv to its end; *cpu_ns its CPU time. 0, or -1 with a problem. */
static int gen_run(const char *id, char *const argv[], uint64_t *cpu_ns)
{
	struct rusage ru;
	pid_t pid;
	int status, fd;

	if ((pid = fork()) < 0) {
		report_problem(id, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		if ((fd = open("/dev/null", O_WRONLY)) >= 0)
			dup2(fd, STDOUT_FILENO);
		execv(argv[0], argv);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) < 0) {
		report_problem(id, "wait4: %s", strerror(errno));
		return -1;
	}
	*cpu_ns =
		((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) *
			1000000000u +
		((uint64_t)ru.ru_utime.tv_usec +
		 (uint64_t)ru.ru_stime.tv_usec) *
			1000u;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		report_problem(id, "%s exited with status %d", argv[0],
			       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		return -1;
	}
	return 0;
}

/* One flood by argv into row id; returns its frames/s or NAN. */
static double gen_flood(struct bench *b, const char *id, char *const argv[])
{
	uint64_t t0, t1, cpu = 0, d0 = 0, d1 = 0, stat;
	long long tx0, tx1;
	double secs, fps;
	int daemon = b->daemon_pid > 0 && strstr(argv[0], "canctl") != NULL;

	tx0 = gen_tx_packets(b->ifname);
	if (daemon)
		proc_cpu_ns(b->daemon_pid, &d0, &stat);
	t0 = now_ns();
	if (gen_run(id, argv, &cpu) < 0)
		return NAN;
	t1 = now_ns();
	if (daemon)
		proc_cpu_ns(b->daemon_pid, &d1, &stat);
	tx1 = gen_tx_packets(b->ifname);
	if (tx0 < 0 || tx1 < tx0) {
		report_problem(id, "no TX counter for %s", b->ifname);
		return NAN;
	}
	if ((uint64_t)(tx1 - tx0) < b->flood_n)
		report_problem(id, "only %lld of %u frames went out", tx1 - tx0,
			       b->flood_n);
	secs = (double)(t1 - t0) / 1e9;
	fps = (double)(tx1 - tx0) / secs;
	report_set(id, M_FPS, fps, b->rep);
	report_set(id, M_SENT, (double)(tx1 - tx0), b->rep);
	report_set(id, M_SENDER_CPU, per_frame_us(cpu, (uint64_t)(tx1 - tx0)),
		   b->rep);
	report_set(id, M_CPU,
		   per_frame_us(cpu + (d1 - d0), (uint64_t)(tx1 - tx0)),
		   b->rep);
	return fps;
}

void scen_gen(struct bench *b)
{
	char canctl[PATH_MAX + 8], count[16];
	char *cangen_argv[] = {"/usr/bin/cangen",
			       (char *)b->ifname,
			       "-g",
			       "0",
			       "-n",
			       count,
			       NULL};
	char *canctl_argv[] = {
		canctl, "-s",  (char *)b->sock_path, "gen", "-g", "0",
		"-n",	count, (char *)b->ifname,    NULL};
	double theirs, ours;

	report_row("gen_cangen", "a gen flood: cangen",
		   "cangen -g 0, a write() per frame");
	report_row("gen_canctl", "a gen flood: canctl gen",
		   "through cand, 2048 frames a request, 4 ahead; ratio vs "
		   "cangen; CPU with cand's");
	snprintf(canctl, sizeof(canctl), "%s/canctl", b->builddir);
	snprintf(count, sizeof(count), "%u", b->flood_n);
	progress(b, "gen flood");
	if (daemon_start(b) < 0) {
		report_problem("gen_canctl", "cand did not start");
		return;
	}
	theirs = gen_flood(b, "gen_cangen", cangen_argv);
	ours = gen_flood(b, "gen_canctl", canctl_argv);
	daemon_stop(b);
	report_set("gen_cangen", M_RATIO, 1.0, b->rep);
	report_set("gen_canctl", M_RATIO, ratio(ours, theirs), b->rep);
}
