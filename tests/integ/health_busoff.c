/*
 * cand.conf and the bus-off policy: applied at startup and on SIGHUP by a
 * second daemon with its own socket and config, and a bad config stopping
 * it with the file and line.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "health.h"

#define ALT_SOCK "/run/cand-health.sock"
#define ALT_CONF "/tmp/cand-health.conf"
#define ALT_LOG	 "/tmp/cand-health.log"

struct alt_daemon {
	pid_t pid;
};

/* A second daemon with its own socket and config file; 0 once it serves. */
static int alt_start(struct alt_daemon *d, const char *conf_text)
{
	const char *builddir = getenv("BUILDDIR");
	char path[512];
	FILE *f;
	int i;

	ck_assert_ptr_nonnull(builddir);
	if (conf_text != NULL) {
		f = fopen(ALT_CONF, "w");
		ck_assert_ptr_nonnull(f);
		fputs(conf_text, f);
		fclose(f);
	}
	unlink(ALT_SOCK);
	snprintf(path, sizeof(path), "%s/cand", builddir);
	fflush(NULL);
	d->pid = fork();
	ck_assert_int_ge(d->pid, 0);
	if (d->pid == 0) {
		if (freopen(ALT_LOG, "w", stderr) == NULL)
			_exit(126);
		execl(path, "cand", "-f", "-s", ALT_SOCK, "-c", ALT_CONF,
		      (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 200; i++) {
		struct stat st;

		if (waitpid(d->pid, NULL, WNOHANG) == d->pid)
			return -1;
		if (stat(ALT_SOCK, &st) == 0)
			return 0;
		util_msleep(50);
	}
	return -1;
}

static void alt_stop(struct alt_daemon *d)
{
	int st;

	kill(d->pid, SIGTERM);
	waitpid(d->pid, &st, 0);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "the second daemon did not exit cleanly (%d)", st);
}

static char *alt_log(void)
{
	static char buf[16384];
	size_t n;
	FILE *f = fopen(ALT_LOG, "r");

	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void alt_up(struct alt_daemon *d, const char *conf_text)
{
	ck_assert_msg(alt_start(d, conf_text) == 0,
		      "the second daemon did not start:\n%s", alt_log());
}

static void alt_logged(const char *what)
{
	ck_assert_msg(strstr(alt_log(), what) != NULL,
		      "no '%s' in the log:\n%s", what, alt_log());
}

/* can1's state, whose bus-off policy says want. */
static struct cand_bus_state alt_policy(cand_t *h, const char *want)
{
	struct cand_bus_state s = one_state(h, "can1");

	ck_assert_msg(strstr(s.busoff_policy, want) != NULL,
		      "policy: %s, want %s", s.busoff_policy, want);
	return s;
}

START_TEST(test_policy_kernel_restart_ms_at_startup)
{
	struct alt_daemon d;
	struct cand_bus_state s;
	cand_t *h = NULL;

	alt_up(&d, "# bus-off recovery\n"
		   "[interface can1]\n"
		   "busoff-recovery = kernel\n"
		   "restart-ms = 250\n");
	assert_ip_says("can1", "restart-ms 250");
	ck_assert_int_eq(cand_connect(&h, ALT_SOCK), 0);
	s = alt_policy(h, "restart-ms 250 (cand.conf)");
	ck_assert_uint_eq(s.config.restart_ms, 250);
	cand_close(h);
	alt_stop(&d);
	alt_logged("can1: restart-ms 100 -> 250");
}
END_TEST

START_TEST(test_policy_cand_driven)
{
	struct alt_daemon d;
	cand_t *h = NULL;

	alt_up(&d, "[interface can1]\n"
		   "busoff-recovery = cand\n"
		   "restart-delay-ms = 200\n"
		   "max-restarts-per-minute = 3\n"
		   "[interface vcan0]\n"
		   "busoff-recovery = none\n");
	/* cand restarts, so the kernel must not. */
	assert_ip_says("can1", "restart-ms 0");
	ck_assert_int_eq(cand_connect(&h, ALT_SOCK), 0);
	alt_policy(h, "cand restarts after 200 ms, at most 3 a minute");
	cand_close(h);
	alt_stop(&d);
	alt_logged("vcan0: cand.conf's bus-off recovery ignored");
}
END_TEST

/* How many times the second daemon's log says what. */
static int alt_count(const char *what)
{
	const char *p;
	int n = 0;

	for (p = alt_log(); (p = strstr(p, what)) != NULL; p++)
		n++;
	return n;
}

/* Rewrites the second daemon's config and waits for its reload. */
static void alt_reload(struct alt_daemon *d, const char *conf_text)
{
	FILE *f = fopen(ALT_CONF, "w");
	int i, n = alt_count("reloaded ");

	ck_assert_ptr_nonnull(f);
	fputs(conf_text, f);
	fclose(f);
	kill(d->pid, SIGHUP);
	for (i = 0; i < 200 && alt_count("reloaded ") == n; i++)
		util_msleep(50);
	ck_assert_msg(alt_count("reloaded ") > n, "no reload in the log:\n%s",
		      alt_log());
}

/* SIGHUP brings a changed bus-off policy to the live interfaces. */
START_TEST(test_policy_reloaded_on_sighup)
{
	struct alt_daemon d;
	cand_t *h = NULL;

	alt_up(&d, "[interface can1]\n"
		   "busoff-recovery = kernel\n"
		   "restart-ms = 250\n");
	assert_ip_says("can1", "restart-ms 250");

	alt_reload(&d, "[interface can1]\n"
		       "busoff-recovery = cand\n"
		       "restart-delay-ms = 200\n"
		       "max-restarts-per-minute = 3\n");
	assert_ip_says("can1", "restart-ms 0");
	ck_assert_int_eq(cand_connect(&h, ALT_SOCK), 0);
	alt_policy(h, "cand restarts after 200 ms, at most 3 a minute");
	alt_logged("can1: bus-off recovery now: cand restarts after 200 ms");

	/* The same policy again: nothing to do, nothing logged. */
	alt_reload(&d, "[interface can1]\n"
		       "busoff-recovery = cand\n"
		       "restart-delay-ms = 200\n"
		       "max-restarts-per-minute = 3\n");
	ck_assert_msg(alt_count("bus-off recovery now") == 1,
		      "an unchanged policy was applied again:\n%s", alt_log());

	/* No section: restart-ms stays as it is, the policy goes. */
	alt_reload(&d, "# nothing for can1\n");
	assert_ip_says("can1", "restart-ms 0");
	alt_policy(h, "none: stays bus-off");
	cand_close(h);
	alt_stop(&d);
}
END_TEST

START_TEST(test_policy_bad_config_stops_startup)
{
	static const char *const bad[] = {
		"[interface can1]\nbusoff-recovery = sometimes\n",
		"[interface can1]\nbusoff-recovery = cand\nrestart-ms = 5\n",
		"[interface can1]\nrestart-delay-ms = 5\n",
		"[interface can1]\nbusoff-recovery = cand\ncolour = blue\n",
		"[interface can1]\nbusoff-recovery = cand\n"
		"max-restarts-per-minute = 1000\n",
	};
	struct alt_daemon d;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(alt_start(&d, bad[i]) < 0,
			      "started with a bad config:\n%s", bad[i]);
		ck_assert_msg(strstr(alt_log(), ALT_CONF) != NULL,
			      "no file name in the error:\n%s", alt_log());
	}
	ck_assert_msg(strstr(alt_log(), ALT_CONF ":3:") != NULL, "no line:\n%s",
		      alt_log());
	/* -c with a file that is not there is an error too. */
	unlink(ALT_CONF);
	ck_assert_msg(alt_start(&d, NULL) < 0,
		      "started with a missing -c file");
	assert_ip_says("can1", "restart-ms 100");
}
END_TEST

void health_busoff_tests(TCase *tc)
{
	tcase_add_test(tc, test_policy_kernel_restart_ms_at_startup);
	tcase_add_test(tc, test_policy_cand_driven);
	tcase_add_test(tc, test_policy_reloaded_on_sighup);
	tcase_add_test(tc, test_policy_bad_config_stops_startup);
}
