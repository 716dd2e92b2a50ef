/*
 * bench_can helpers: clocks, /proc readings, CAN_RAW sockets, the daemon
 * under test and child processes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/can.h>
#include <linux/can/raw.h>

#include "bench.h"

void fmt_msg(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void sleep_us(unsigned us)
{
	struct timespec ts = {us / 1000000, (long)(us % 1000000) * 1000};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

void sleep_until_ns(uint64_t t)
{
	struct timespec ts = {(time_t)(t / 1000000000u),
			      (long)(t % 1000000000u)};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	       EINTR)
		;
}

uint64_t self_cpu_ns(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) < 0)
		return 0;
	return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) *
		       1000000000u +
	       ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) *
		       1000u;
}

static int read_file(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

int proc_cpu_ns(pid_t pid, uint64_t *ns, uint64_t *stat_ns)
{
	char path[64], buf[1024], *p;
	unsigned long long run = 0, ut = 0, st = 0;
	long tck = sysconf(_SC_CLK_TCK);
	int have_sched;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if (read_file(path, buf, sizeof(buf)) < 0)
		return -1;
	/* Fields after the comm, which may hold spaces: state is field 3. */
	p = strrchr(buf, ')');
	if (p == NULL || sscanf(p + 2,
				"%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
				"%llu %llu",
				&ut, &st) != 2)
		return -1;
	if (tck <= 0)
		tck = 100;
	*stat_ns = (uint64_t)(ut + st) * (1000000000u / (uint64_t)tck);

	snprintf(path, sizeof(path), "/proc/%ld/schedstat", (long)pid);
	have_sched = read_file(path, buf, sizeof(buf)) == 0 &&
		     sscanf(buf, "%llu", &run) == 1;
	*ns = have_sched ? (uint64_t)run : *stat_ns;
	return 0;
}

static long kib_line(const char *text, const char *key)
{
	size_t klen = strlen(key);
	const char *p = text;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, key, klen) == 0 && p[klen] == ':')
			return strtol(p + klen + 1, NULL, 10);
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return -1;
}

long proc_status_kib(pid_t pid, const char *key)
{
	char path[64], buf[4096];

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if (read_file(path, buf, sizeof(buf)) < 0)
		return -1;
	return kib_line(buf, key);
}

long meminfo_kib(const char *key)
{
	char buf[8192];

	if (read_file("/proc/meminfo", buf, sizeof(buf)) < 0)
		return -1;
	return kib_line(buf, key);
}

int proc_nfds(pid_t pid)
{
	char path[64];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%ld/fd", (long)pid);
	d = opendir(path);
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

int iface_check(const char *ifname, char *msg, size_t msize)
{
	struct ifreq ifr;
	int fd, rc = -1;

	if (strlen(ifname) >= IFNAMSIZ || if_nametoindex(ifname) == 0) {
		fmt_msg(msg, msize, "no interface %s", ifname);
		return -1;
	}
	fd = socket(PF_CAN, SOCK_RAW | SOCK_CLOEXEC, CAN_RAW);
	if (fd < 0) {
		fmt_msg(msg, msize, "CAN_RAW socket: %s", strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		fmt_msg(msg, msize, "%s: SIOCGIFFLAGS: %s", ifname,
			strerror(errno));
	else if (!(ifr.ifr_flags & IFF_UP))
		fmt_msg(msg, msize, "%s is down", ifname);
	else
		rc = 0;
	close(fd);
	return rc;
}

int make_vcans(int upto, char *msg, size_t msize)
{
	char cmd[160], name[16];
	int i;

	for (i = 2; i <= upto; i++) {
		snprintf(cmd, sizeof(cmd),
			 "ip link show vcan%d >/dev/null 2>&1 || "
			 "ip link add vcan%d type vcan; ip link set vcan%d up",
			 i, i, i);
		snprintf(name, sizeof(name), "vcan%d", i);
		if (system(cmd) != 0 || iface_check(name, msg, msize) < 0) {
			fmt_msg(msg, msize, "cannot make %s", name);
			return -1;
		}
	}
	return 0;
}

int raw_socket(const char *ifname, int rcvbuf, int *got, int no_rx, char *msg,
	       size_t msize)
{
	struct sockaddr_can addr = {.can_family = AF_CAN};
	socklen_t len = sizeof(*got);
	int fd;

	addr.can_ifindex = (int)if_nametoindex(ifname);
	if (addr.can_ifindex == 0) {
		fmt_msg(msg, msize, "no interface %s", ifname);
		return -1;
	}
	fd = socket(PF_CAN, SOCK_RAW | SOCK_CLOEXEC, CAN_RAW);
	if (fd < 0) {
		fmt_msg(msg, msize, "CAN_RAW socket: %s", strerror(errno));
		return -1;
	}
	if (no_rx && setsockopt(fd, SOL_CAN_RAW, CAN_RAW_FILTER, NULL, 0) < 0) {
		fmt_msg(msg, msize, "CAN_RAW_FILTER: %s", strerror(errno));
		goto fail;
	}
	if (rcvbuf > 0) {
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
			       sizeof(rcvbuf)) < 0)
			setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
				   sizeof(rcvbuf));
		if (got != NULL &&
		    getsockopt(fd, SOL_SOCKET, SO_RCVBUF, got, &len) < 0)
			*got = -1;
	}
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		fmt_msg(msg, msize, "bind %s: %s", ifname, strerror(errno));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

void raise_nofile(unsigned want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want) {
		struct rlimit hi = {want, want};

		if (setrlimit(RLIMIT_NOFILE, &hi) == 0)
			return;
	}
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
}

/* The daemon's log: its last lines explain why it did not start. */
static void daemon_log_tail(const struct bench *b)
{
	char cmd[PATH_MAX + 32];

	snprintf(cmd, sizeof(cmd), "tail -n 5 '%s' >&2", b->log_path);
	if (system(cmd) != 0)
		fprintf(stderr, "bench_can: no daemon log at %s\n",
			b->log_path);
}

int daemon_start(struct bench *b)
{
	const char *wrap = getenv("BENCH_DAEMON_WRAPPER");
	/* A wrapper (perf) may take long to start in the VM. */
	uint64_t deadline =
		now_ns() + (wrap != NULL ? 30000000000u : 5000000000u);
	cand_t *h;
	pid_t pid;
	int fd, status;

	/* Clients must reach our daemon, never one left over. */
	if (cand_connect(&h, b->sock_path) == 0) {
		cand_close(h);
		fprintf(stderr, "bench_can: something already serves %s\n",
			b->sock_path);
		return -1;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "bench_can: fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		fd = open(b->log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
			close(fd);
		}
		fd = open("/dev/null", O_RDONLY);
		if (fd >= 0) {
			dup2(fd, STDIN_FILENO);
			close(fd);
		}
		/* A diagnostic wrapper (strace, perf record); its figures
		 * then include the wrapper's own CPU and memory. */
		if (wrap != NULL && wrap[0] != '\0')
			execl("/bin/sh", "sh", "-c", "exec $0 \"$@\"", wrap,
			      b->cand_path, "-f", "-s", b->sock_path,
			      b->conf_path ? "-c" : (char *)NULL, b->conf_path,
			      (char *)NULL);
		execl(b->cand_path, "cand", "-f", "-s", b->sock_path,
		      b->conf_path ? "-c" : (char *)NULL, b->conf_path,
		      (char *)NULL);
		fprintf(stderr, "bench_can: exec %s: %s\n", b->cand_path,
			strerror(errno));
		_exit(127);
	}
	b->daemon_pid = pid;
	while (now_ns() < deadline) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			fprintf(stderr,
				"bench_can: %s exited at startup (status "
				"0x%x); its log:\n",
				b->cand_path, status);
			daemon_log_tail(b);
			b->daemon_pid = 0;
			return -1;
		}
		if (cand_connect(&h, b->sock_path) == 0) {
			cand_close(h);
			return 0;
		}
		sleep_us(10000);
	}
	fprintf(stderr, "bench_can: %s does not accept on %s\n", b->cand_path,
		b->sock_path);
	daemon_log_tail(b);
	daemon_stop(b);
	return -1;
}

void daemon_stop(struct bench *b)
{
	const char *wrap = getenv("BENCH_DAEMON_WRAPPER");
	/* A wrapper writes its profile as cand exits: killed, none. */
	uint64_t grace =
		wrap != NULL && wrap[0] != '\0' ? 60000000000u : 3000000000u;
	pid_t pid = b->daemon_pid;

	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	if (wait_pids(&pid, 1, now_ns() + grace) > 0)
		fprintf(stderr, "bench_can: cand did not stop cleanly\n");
	b->daemon_pid = 0;
}

pid_t spawn(struct bench *b, void (*fn)(struct bench *, int), int arg)
{
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "bench_can: fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() == 1)
			_exit(1);
		b->daemon_pid = 0; /* not ours to stop */
		fn(b, arg);
		_exit(0);
	}
	return pid;
}

int wait_pids(pid_t *pids, int n, uint64_t deadline)
{
	int left, i, status, bad = 0;
	pid_t r;

	for (;;) {
		left = 0;
		for (i = 0; i < n; i++) {
			if (pids[i] <= 0)
				continue;
			r = waitpid(pids[i], &status, WNOHANG);
			if (r == pids[i] || (r < 0 && errno == ECHILD)) {
				if (r < 0 || !WIFEXITED(status) ||
				    WEXITSTATUS(status) != 0)
					bad++;
				pids[i] = 0;
				continue;
			}
			left++;
		}
		if (left == 0)
			return bad;
		if (now_ns() >= deadline)
			break;
		sleep_us(5000);
	}
	for (i = 0; i < n; i++) {
		if (pids[i] <= 0)
			continue;
		kill(pids[i], SIGKILL);
		waitpid(pids[i], &status, 0);
		pids[i] = 0;
		bad++;
	}
	return bad;
}

int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}
