/*
 * Processes: commands and listeners the tests start, the daemon under test
 * as /proc shows it (alive, its sockets) and its log, and daemons of a
 * test's own.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- processes ---- */

int util_sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	pid_t pid;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	fflush(NULL);
	pid = fork();
	ck_assert_msg(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execlp("timeout", "timeout", "20", "sh", "-c", cmd,
		       (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (!WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

void util_spawn(struct util_proc *p, char *const argv[])
{
	int fds[2];
	pid_t pid;

	ck_assert_msg(pipe2(fds, O_CLOEXEC) == 0, "pipe: %s", strerror(errno));
	fflush(NULL);
	pid = fork();
	ck_assert_msg(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	p->pid = pid;
	p->out = fds[0];
}

static int count_socket_fds(pid_t pid, int only_can);

int util_can_receivers(const char *ifname)
{
	static const char *const lists[] = {"all", "fil", "inv",
					    "sff", "eff", "err"};
	char path[64], line[512], dev[IFNAMSIZ + 1];
	size_t i;
	FILE *f;
	int n = 0;

	for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		snprintf(path, sizeof(path), "/proc/net/can/rcvlist_%s",
			 lists[i]);
		f = fopen(path, "r");
		if (f == NULL)
			return -1;
		while (fgets(line, sizeof(line), f) != NULL)
			if (sscanf(line, " %16s", dev) == 1 &&
			    strcmp(dev, ifname) == 0)
				n++;
		fclose(f);
	}
	return n;
}

void util_spawn_listener(struct util_proc *p, char *const argv[],
			 const char *ifname)
{
	int before = util_can_receivers(ifname);
	int64_t end = mono_ms() + 2 * RX_TIMEOUT_MS;

	util_spawn(p, argv);
	for (;;) {
		if (before >= 0 && util_can_receivers(ifname) > before)
			break;
		/* Without the proc file: a socket, and time to bind it. */
		if (before < 0 && count_socket_fds(p->pid, 0) > 0) {
			util_msleep(200);
			break;
		}
		ck_assert_msg(mono_ms() < end, "%s did not bind to %s in time",
			      argv[0], ifname);
		ck_assert_msg(waitpid(p->pid, NULL, WNOHANG) == 0,
			      "%s exited early", argv[0]);
		util_msleep(5);
	}
}

char *util_proc_finish(struct util_proc *p, int timeout_ms, int *status)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	int64_t end = mono_ms() + timeout_ms;
	struct pollfd pfd = {.fd = p->out, .events = POLLIN};
	int st = -1, killed = 0;
	ssize_t n;

	ck_assert_ptr_nonnull(buf);
	for (;;) {
		int64_t left = end - mono_ms();

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0) {
			kill(p->pid, SIGKILL);
			killed = 1;
			break;
		}
		if (len + 1024 > cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			ck_assert_ptr_nonnull(buf);
		}
		n = read(p->out, buf + len, cap - len - 1);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	close(p->out);
	while (waitpid(p->pid, &st, 0) < 0 && errno == EINTR)
		;
	if (status != NULL)
		*status = killed ? -1 : st;
	return buf;
}

/* ---- the daemon ---- */

pid_t util_daemon_pid(void)
{
	const char *s = getenv("CAND_PID");

	ck_assert_msg(s != NULL && atol(s) > 0, "CAND_PID is not set");
	return (pid_t)atol(s);
}

int util_daemon_alive(void)
{
	char path[64];
	FILE *f;
	char state = '?';
	int pid = util_daemon_pid();

	if (kill(pid, 0) < 0)
		return 0;
	/* A zombie is not alive. */
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	if (fscanf(f, "%*d (%*[^)]) %c", &state) != 1)
		state = '?';
	fclose(f);
	return state != 'Z' && state != 'X';
}

/* Is this socket inode listed in /proc/net/<table>? Its inode column. */
static int inode_in(const char *table, unsigned long ino)
{
	char path[64], line[512];
	FILE *f;
	int found = 0;

	snprintf(path, sizeof(path), "/proc/net/%s", table);
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		char *tok, *save = NULL;
		int col = 0;

		for (tok = strtok_r(line, " \t\n", &save); tok != NULL;
		     tok = strtok_r(NULL, " \t\n", &save), col++) {
			/* unix: column 6; netlink: column 9. */
			if (((strcmp(table, "unix") == 0 && col == 6) ||
			     (strcmp(table, "netlink") == 0 && col == 9)) &&
			    strtoul(tok, NULL, 10) == ino)
				found = 1;
		}
	}
	fclose(f);
	return found;
}

static int count_socket_fds(pid_t pid, int only_can)
{
	char dir[64], path[320], target[128];
	struct dirent *de;
	DIR *d;
	int n = 0;
	ssize_t len;
	unsigned long ino;

	snprintf(dir, sizeof(dir), "/proc/%ld/fd", (long)pid);
	d = opendir(dir);
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		len = readlink(path, target, sizeof(target) - 1);
		if (len <= 0)
			continue;
		target[len] = '\0';
		if (sscanf(target, "socket:[%lu]", &ino) != 1)
			continue;
		if (only_can &&
		    (inode_in("unix", ino) || inode_in("netlink", ino)))
			continue;
		n++;
	}
	closedir(d);
	return n;
}

int util_daemon_can_sockets(void)
{
	int n = count_socket_fds(util_daemon_pid(), 1);

	ck_assert_msg(n >= 0, "cannot read the daemon's fds: %s",
		      strerror(errno));
	return n;
}

int util_daemon_sockets(void)
{
	int n = count_socket_fds(util_daemon_pid(), 0);

	ck_assert_msg(n >= 0, "cannot read the daemon's fds: %s",
		      strerror(errno));
	return n;
}

long util_log_mark(void)
{
	const char *path = getenv("CAND_LOG");
	struct stat st;

	ck_assert_msg(path != NULL, "CAND_LOG is not set");
	ck_assert_msg(stat(path, &st) == 0, "%s: %s", path, strerror(errno));
	return (long)st.st_size;
}

char *util_log_since(long mark)
{
	const char *path = getenv("CAND_LOG");
	FILE *f;
	char *buf;
	long end;
	size_t n;

	ck_assert_msg(path != NULL, "CAND_LOG is not set");
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	end = ftell(f);
	if (end < mark)
		mark = 0;
	buf = malloc((size_t)(end - mark) + 1);
	ck_assert_ptr_nonnull(buf);
	fseek(f, mark, SEEK_SET);
	n = fread(buf, 1, (size_t)(end - mark), f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* ---- daemons of a test's own ---- */

/* run-all.sh sets it under valgrind: everything takes that much longer. */
static int slow(void)
{
	const char *m = getenv("CK_TIMEOUT_MULTIPLIER");

	return m != NULL && atoi(m) > 1 ? atoi(m) : 1;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	ck_assert_msg(fputs(text, f) >= 0 && fclose(f) == 0, "writing %s: %s",
		      path, strerror(errno));
	ck_assert_int_eq(chmod(path, 0644), 0);
}

void util_daemon_write_conf(struct util_daemon *d, const char *conf_text)
{
	char tmp[160];

	/* Whole or not at all, like an editor saving it. */
	snprintf(tmp, sizeof(tmp), "%s.new", d->conf);
	write_file(tmp, conf_text);
	ck_assert_msg(rename(tmp, d->conf) == 0, "rename %s: %s", tmp,
		      strerror(errno));
}

char *util_daemon_log(const struct util_daemon *d)
{
	FILE *f = fopen(d->log, "r");
	size_t cap = 65536, len = 0, n;
	char *buf = malloc(cap);

	ck_assert_ptr_nonnull(buf);
	ck_assert_msg(f != NULL, "%s: %s", d->log, strerror(errno));
	while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len < 4096) {
			cap *= 2;
			buf = realloc(buf, cap);
			ck_assert_ptr_nonnull(buf);
		}
	}
	buf[len] = '\0';
	fclose(f);
	return buf;
}

static int count_in(const char *text, const char *what)
{
	int n = 0;

	while ((text = strstr(text, what)) != NULL) {
		n++;
		text++;
	}
	return n;
}

void util_daemon_start(struct util_daemon *d, const char *name,
		       const char *conf_text)
{
	const char *build = getenv("BUILDDIR");
	char buildpath[512], script[600];
	int64_t end;
	cand_t *h;
	pid_t pid;
	int fd, rc;

	ck_assert_msg(build != NULL, "BUILDDIR is not set");
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", name);
	snprintf(d->sock, sizeof(d->sock), "/run/cand-t/%s.sock", name);
	snprintf(d->conf, sizeof(d->conf), "/tmp/cand-t/%s.conf", name);
	snprintf(d->log, sizeof(d->log), "/tmp/cand-t/%s.log", name);
	mkdir("/tmp/cand-t", 0755);
	write_file(d->conf, conf_text);
	snprintf(buildpath, sizeof(buildpath), "%s", build);
	snprintf(script, sizeof(script), "tests/integ/start-daemon.sh");

	fd = open(d->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ck_assert_msg(fd >= 0, "%s: %s", d->log, strerror(errno));
	fflush(NULL);
	pid = fork();
	ck_assert_msg(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(fd, 2);
		dup2(fd, 1);
		execl(script, script, buildpath, d->sock, d->conf,
		      (char *)NULL);
		_exit(127);
	}
	close(fd);
	d->pid = pid;

	/* Up when it answers a request, not merely when the file exists. */
	end = mono_ms() + 20000 * slow();
	for (;;) {
		ck_assert_msg(waitpid(pid, &rc, WNOHANG) == 0,
			      "daemon %s exited early: %s", name,
			      util_daemon_log(d));
		if (cand_connect(&h, d->sock) == 0) {
			struct cand_iface *l = NULL;

			rc = cand_list(h, &l);
			free(l);
			cand_close(h);
			if (rc >= 0)
				break;
		}
		ck_assert_msg(mono_ms() < end, "daemon %s did not come up: %s",
			      name, util_daemon_log(d));
		util_msleep(20);
	}
}

void util_daemon_reload(struct util_daemon *d, int want_ok)
{
	char *log = util_daemon_log(d);
	int ok0 = count_in(log, "reloaded "),
	    bad0 = count_in(log, "reload failed");
	int64_t end = mono_ms() + 20000 * slow();
	int ok, bad;

	free(log);
	ck_assert_int_eq(kill(d->pid, SIGHUP), 0);
	for (;;) {
		log = util_daemon_log(d);
		ok = count_in(log, "reloaded ");
		bad = count_in(log, "reload failed");
		if (ok > ok0 || bad > bad0)
			break;
		ck_assert_msg(mono_ms() < end, "no reload in the log: %s", log);
		free(log);
		util_msleep(20);
	}
	ck_assert_msg(want_ok ? ok > ok0 : bad > bad0,
		      "reload %s, want it %s: %s",
		      ok > ok0 ? "done" : "refused",
		      want_ok ? "done" : "refused", log);
	free(log);
}

void util_daemon_stop(struct util_daemon *d)
{
	if (d->pid <= 0)
		return;
	ck_assert_int_eq(kill(d->pid, SIGTERM), 0);
	util_daemon_wait(d);
}

void util_daemon_wait(struct util_daemon *d)
{
	int64_t end = mono_ms() + 30000 * slow();
	int st;

	/* One SIGTERM only: a second during teardown would be fatal. */
	while (waitpid(d->pid, &st, WNOHANG) == 0) {
		if (mono_ms() > end) {
			kill(d->pid, SIGKILL);
			waitpid(d->pid, &st, 0);
			ck_abort_msg("daemon %s ignored SIGTERM", d->name);
		}
		util_msleep(20);
	}
	d->pid = 0;
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "daemon %s: wait status 0x%x: %s", d->name, st,
		      util_daemon_log(d));
	ck_assert_msg(access(d->sock, F_OK) < 0, "%s left behind", d->sock);
}

long util_rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

int util_daemon_slowed(void)
{
	const char *w = getenv("CAND_DAEMON_WRAPPER");
	const char *b = getenv("BUILDDIR");

	return (w != NULL && w[0] != '\0') || (b != NULL && strstr(b, "asan"));
}

long util_rss_slack_kib(long kib)
{
	return util_daemon_slowed() ? 1L << 20 : kib;
}
