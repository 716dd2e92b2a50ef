/*
 * churn SOCKET IFACE SEED: clients that come and go until SIGTERM, one at
 * a time, each a child process that connects, opens IFACE with filters,
 * changes them, starts, changes and stops a periodic task and a monitor,
 * sends, reads the bus state, and then leaves one of three ways, by the
 * dice: cleanly, vanishing mid-request (exiting from a timer while its
 * calls are in flight), or killed with SIGKILL at any moment. Their
 * frames use ids 0x600-0x6FF and their filters pass only those, so the
 * steady clients' stream is not theirs to read. Prints
 *
 *   churn: clients N clean C vanished V killed K failed F
 *
 * failed: a child that met an error it should not have (on stderr).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "soak.h"

enum churn_fate { CHURN_CLEAN, CHURN_VANISH, CHURN_KILL };

static int churn_fail(cand_t *h, int rc, const char *what)
{
	fprintf(stderr, "soak_can churn[%ld]: %s: %s (%s)\n", (long)getpid(),
		what, cand_strerror(rc), cand_last_detail(h));
	return -1;
}

/* 1 to 3 filters somewhere in 0x600-0x6FF. */
static size_t churn_filters(struct cand_filter *f, uint32_t *rnd)
{
	size_t i, n = 1 + soak_rand(rnd) % 3;

	for (i = 0; i < n; i++) {
		memset(&f[i], 0, sizeof(f[i]));
		f[i].id = 0x600 | (soak_rand(rnd) & 0xf0);
		f[i].mask = 0x7f0;
	}
	return n;
}

/* One round of everything a client does; 0, or -1 said on stderr. */
static int churn_round(cand_t *h, const char *iface, uint32_t *rnd)
{
	struct cand_filter flt[3];
	struct cand_frame fr[4];
	struct cand_monitor_opts mo;
	struct cand_event ev;
	struct cand_bus_state *st = NULL;
	cand_monitor_t *m = NULL;
	cand_task_t *t = NULL;
	size_t i, n;
	int rc;

	n = churn_filters(flt, rnd);
	if ((rc = cand_set_filters(h, flt, n)) < 0)
		return churn_fail(h, rc, "set filters");
	soak_put_seq(&fr[0], 0x600 | (soak_rand(rnd) & 0x7f), soak_rand(rnd));
	rc = cand_task_start(h, fr, 1, 1000 * (1 + soak_rand(rnd) % 50), 0, 0,
			     &t);
	if (rc < 0)
		return churn_fail(h, rc, "task start");
	soak_put_seq(&fr[0], fr[0].id, soak_rand(rnd));
	if ((rc = cand_task_modify(t, fr, 1)) < 0)
		return churn_fail(h, rc, "task modify");
	cand_monitor_opts_init(&mo);
	mo.id = 0x680 | (soak_rand(rnd) & 0x3f);
	mo.timeout_us = 50000;
	if ((rc = cand_monitor_start(h, &mo, &m)) < 0)
		return churn_fail(h, rc, "monitor start");
	n = 1 + soak_rand(rnd) % 4;
	for (i = 0; i < n; i++)
		soak_put_seq(&fr[i], 0x6f0, soak_rand(rnd));
	if ((rc = cand_send(h, fr, n, 100)) != (int)n)
		return churn_fail(h, rc, "send");
	if ((rc = cand_bus_state(h, iface, &st)) < 0)
		return churn_fail(h, rc, "bus state");
	free(st);
	while (cand_recv_event(h, &ev, 0) == 1)
		;
	if ((rc = cand_task_stop(t)) < 0)
		return churn_fail(h, rc, "task stop");
	/* Half of them are left to the daemon to clean up. */
	if (soak_rand(rnd) % 2) {
		cand_task_free(t);
		cand_monitor_free(m);
	}
	return 0;
}

static void churn_on_alarm(int sig)
{
	(void)sig;
	_exit(0);
}

/* The child: never returns. */
static void churn_client(const char *sock, const char *iface, uint32_t rnd,
			 enum churn_fate fate)
{
	struct cand_connect_options co;
	struct cand_options o;
	struct itimerval it;
	struct cand_filter flt[3];
	cand_t *h;
	int rc;

	signal(SIGTERM, SIG_DFL);
	if (fate == CHURN_VANISH) {
		memset(&it, 0, sizeof(it));
		it.it_value.tv_usec = 1000 * (1 + soak_rand(&rnd) % 30);
		signal(SIGALRM, churn_on_alarm);
		setitimer(ITIMER_REAL, &it, NULL);
	}
	cand_connect_options_init(&co);
	co.path = sock;
	co.reconnect_ms = 0;
	if ((rc = cand_connect_opts(&h, &co)) < 0) {
		fprintf(stderr, "soak_can churn: connect: %s\n",
			cand_strerror(rc));
		_exit(1);
	}
	cand_options_init(&o);
	o.channel = iface;
	o.filters = flt;
	o.n_filters = churn_filters(flt, &rnd);
	if ((rc = cand_open(h, &o)) < 0)
		_exit(churn_fail(h, rc, "open") < 0);
	do
		if (churn_round(h, iface, &rnd) < 0)
			_exit(1);
	while (fate != CHURN_CLEAN);
	cand_close(h);
	_exit(0);
}

int soak_churn(int argc, char **argv)
{
	uint64_t n = 0, clean = 0, vanished = 0, killed = 0, failed = 0;
	struct timespec ts;
	enum churn_fate fate;
	uint32_t rnd;
	pid_t pid;
	int st;

	if (argc != 4) {
		fprintf(stderr, "usage: soak_can churn SOCKET IFACE SEED\n");
		return 2;
	}
	rnd = (uint32_t)soak_arg("seed", argv[3]);
	while (!soak_stopped()) {
		fate = (enum churn_fate)(soak_rand(&rnd) % 3);
		fflush(NULL);
		if ((pid = fork()) < 0) {
			perror("soak_can churn: fork");
			return 1;
		}
		if (pid == 0)
			churn_client(argv[1], argv[2], soak_rand(&rnd), fate);
		n++;
		if (fate == CHURN_KILL) {
			ts.tv_sec = 0;
			ts.tv_nsec = 1000000L * (1 + soak_rand(&rnd) % 40);
			nanosleep(&ts, NULL);
			kill(pid, SIGKILL);
		}
		while (waitpid(pid, &st, 0) < 0)
			;
		if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)
			killed++;
		else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			failed++;
		else if (fate == CHURN_VANISH)
			vanished++;
		else
			clean++;
	}
	printf("churn: clients %llu clean %llu vanished %llu killed %llu "
	       "failed %llu\n",
	       (unsigned long long)n, (unsigned long long)clean,
	       (unsigned long long)vanished, (unsigned long long)killed,
	       (unsigned long long)failed);
	return failed ? 1 : 0;
}
