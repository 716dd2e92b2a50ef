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
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/can/raw.h>

#include "util.h"

/* Generous: a test is a few seconds of timeouts at most, more under
 * valgrind, where run-all.sh sets CK_TIMEOUT_MULTIPLIER as well. */
#define TEST_TIMEOUT_S 30

TCase *util_tcase(const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_set_timeout(tc, TEST_TIMEOUT_S);
	return tc;
}

void util_msleep(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

uint64_t util_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- libcand ---- */

cand_t *util_connect(void)
{
	cand_t *h = NULL;
	int rc = cand_connect(&h, NULL);

	ck_assert_msg(rc == 0, "cand_connect(%s): %s",
		      getenv("CAND_SOCKET") ? getenv("CAND_SOCKET") : "default",
		      cand_strerror(rc));
	ck_assert_ptr_nonnull(h);
	return h;
}

cand_t *util_open_opts(const struct cand_options *opts)
{
	cand_t *h = util_connect();
	int rc = cand_open(h, opts);

	ck_assert_msg(rc == 0, "cand_open(%s): %s (%s)", opts->channel,
		      cand_strerror(rc), cand_last_detail(h));
	return h;
}

cand_t *util_open(const char *channel)
{
	struct cand_options o;

	cand_options_init(&o);
	o.channel = channel;
	return util_open_opts(&o);
}

cand_t *util_open_fd(const char *channel)
{
	struct cand_options o;

	cand_options_init(&o);
	o.channel = channel;
	o.fd = 1;
	return util_open_opts(&o);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

struct cand_frame util_frame(uint32_t id, uint32_t flags, const char *hex)
{
	struct cand_frame f;
	size_t n = strlen(hex) / 2, i;

	memset(&f, 0, sizeof(f));
	ck_assert_msg(strlen(hex) % 2 == 0 && n <= CAND_MAX_DLEN,
		      "bad test frame data %s", hex);
	f.id = id;
	f.flags = flags;
	f.len = (uint8_t)n;
	for (i = 0; i < n; i++)
		f.data[i] = (uint8_t)(hexval(hex[2 * i]) << 4 |
				      hexval(hex[2 * i + 1]));
	return f;
}

void util_send(cand_t *h, const struct cand_frame *frames, size_t n)
{
	int rc = cand_send(h, frames, n, 1000);

	ck_assert_msg(rc == (int)n, "cand_send of %zu frames: %d %s (%s)", n,
		      rc, rc < 0 ? cand_strerror(rc) : "", cand_last_detail(h));
}

void util_recv_ok(cand_t *h, struct cand_frame *f, const char *what)
{
	int rc = cand_recv(h, f, RX_TIMEOUT_MS);

	ck_assert_msg(rc == 1, "%s: cand_recv: %d %s (%s)", what, rc,
		      cand_strerror(rc), cand_last_detail(h));
}

void util_recv_none(cand_t *h, int settle_ms, const char *what)
{
	struct cand_frame f;
	char buf[192];
	int rc = cand_recv(h, &f, settle_ms);

	ck_assert_msg(rc == CAND_ETIMEOUT, "%s: expected nothing, got %s", what,
		      rc == 1 ? util_frame_str(&f, buf, sizeof(buf))
			      : cand_strerror(rc));
}

size_t util_collect(cand_t *h, struct cand_frame *out, size_t max, size_t want,
		    int settle_ms)
{
	struct cand_frame scratch;
	size_t n = 0;
	int rc;

	while (n < want && n < max) {
		rc = cand_recv(h, &out[n], RX_TIMEOUT_MS);
		if (rc != 1)
			return n;
		n++;
	}
	for (;;) {
		rc = cand_recv(h, n < max ? &out[n] : &scratch, settle_ms);
		if (rc != 1)
			return n;
		if (n < max)
			n++;
	}
}

#define CMP_FLAGS                                                              \
	(CAND_FRAME_EXTENDED | CAND_FRAME_REMOTE | CAND_FRAME_ERROR |          \
	 CAND_FRAME_FD | CAND_FRAME_BRS | CAND_FRAME_ESI)

int util_frame_eq(const struct cand_frame *a, const struct cand_frame *b)
{
	if (a->id != b->id || (a->flags & CMP_FLAGS) != (b->flags & CMP_FLAGS))
		return 0;
	if (a->len != b->len)
		return 0;
	if (a->flags & CAND_FRAME_REMOTE)
		return 1;
	return memcmp(a->data, b->data, a->len) == 0;
}

const char *util_frame_str(const struct cand_frame *f, char *buf, size_t size)
{
	size_t off;
	unsigned i;

	off = (size_t)snprintf(buf, size, "%s%s%X#", f->ifname,
			       f->ifname[0] ? " " : "", (unsigned)f->id);
	for (i = 0;
	     i < f->len && !(f->flags & CAND_FRAME_REMOTE) && off + 3 < size;
	     i++)
		off += (size_t)snprintf(buf + off, size - off, "%02X",
					f->data[i]);
	if (off < size)
		snprintf(buf + off, size - off, " len %u flags%s%s%s%s%s%s%s",
			 f->len, f->flags & CAND_FRAME_EXTENDED ? " ext" : "",
			 f->flags & CAND_FRAME_REMOTE ? " rtr" : "",
			 f->flags & CAND_FRAME_ERROR ? " err" : "",
			 f->flags & CAND_FRAME_FD ? " fd" : "",
			 f->flags & CAND_FRAME_BRS ? " brs" : "",
			 f->flags & CAND_FRAME_ESI ? " esi" : "",
			 f->flags & CAND_FRAME_OWN ? " own" : "");
	return buf;
}

/* ---- raw sockets ---- */

int util_raw_open(const char *ifname, int flags)
{
	struct sockaddr_can addr;
	int s, one = 1, zero = 0;
	can_err_mask_t errs = CAN_ERR_MASK;

	s = socket(PF_CAN, SOCK_RAW, CAN_RAW);
	ck_assert_msg(s >= 0, "socket(PF_CAN): %s", strerror(errno));
	if (flags & RAW_FD)
		ck_assert_msg(setsockopt(s, SOL_CAN_RAW, CAN_RAW_FD_FRAMES,
					 &one, sizeof(one)) == 0,
			      "CAN_RAW_FD_FRAMES: %s", strerror(errno));
	if (flags & RAW_ERR)
		ck_assert_msg(setsockopt(s, SOL_CAN_RAW, CAN_RAW_ERR_FILTER,
					 &errs, sizeof(errs)) == 0,
			      "CAN_RAW_ERR_FILTER: %s", strerror(errno));
	if (flags & RAW_BIGBUF) {
		int size = 16 << 20;

		ck_assert_msg(setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &size,
					 sizeof(size)) == 0,
			      "SO_RCVBUFFORCE: %s", strerror(errno));
	}
	if (flags & RAW_NOLOOP)
		ck_assert_msg(setsockopt(s, SOL_CAN_RAW, CAN_RAW_LOOPBACK,
					 &zero, sizeof(zero)) == 0,
			      "CAN_RAW_LOOPBACK: %s", strerror(errno));
	memset(&addr, 0, sizeof(addr));
	addr.can_family = AF_CAN;
	addr.can_ifindex = (int)if_nametoindex(ifname);
	ck_assert_msg(addr.can_ifindex > 0, "no interface %s", ifname);
	ck_assert_msg(bind(s, (struct sockaddr *)&addr, sizeof(addr)) == 0,
		      "bind %s: %s", ifname, strerror(errno));
	return s;
}

void util_to_raw(const struct cand_frame *f, struct canfd_frame *cf, int *is_fd)
{
	memset(cf, 0, sizeof(*cf));
	cf->can_id = f->id;
	if (f->flags & CAND_FRAME_EXTENDED)
		cf->can_id |= CAN_EFF_FLAG;
	if (f->flags & CAND_FRAME_REMOTE)
		cf->can_id |= CAN_RTR_FLAG;
	if (f->flags & CAND_FRAME_ERROR)
		cf->can_id |= CAN_ERR_FLAG;
	cf->len = f->len;
	memcpy(cf->data, f->data, f->len);
	*is_fd = (f->flags & CAND_FRAME_FD) != 0;
	if (*is_fd) {
		if (f->flags & CAND_FRAME_BRS)
			cf->flags |= CANFD_BRS;
		if (f->flags & CAND_FRAME_ESI)
			cf->flags |= CANFD_ESI;
	}
}

void util_from_raw(const struct canfd_frame *cf, int is_fd,
		   struct cand_frame *f)
{
	memset(f, 0, sizeof(*f));
	if (cf->can_id & CAN_ERR_FLAG) {
		f->flags |= CAND_FRAME_ERROR;
		f->id = cf->can_id & CAN_ERR_MASK;
	} else if (cf->can_id & CAN_EFF_FLAG) {
		f->flags |= CAND_FRAME_EXTENDED;
		f->id = cf->can_id & CAN_EFF_MASK;
	} else {
		f->id = cf->can_id & CAN_SFF_MASK;
	}
	if (cf->can_id & CAN_RTR_FLAG)
		f->flags |= CAND_FRAME_REMOTE;
	if (is_fd) {
		f->flags |= CAND_FRAME_FD;
		if (cf->flags & CANFD_BRS)
			f->flags |= CAND_FRAME_BRS;
		if (cf->flags & CANFD_ESI)
			f->flags |= CAND_FRAME_ESI;
	}
	f->len = cf->len;
	memcpy(f->data, cf->data, cf->len <= CAND_MAX_DLEN ? cf->len : 0);
}

void util_raw_send(int s, const struct cand_frame *f)
{
	struct canfd_frame cf;
	int is_fd;
	size_t size;
	ssize_t n;

	util_to_raw(f, &cf, &is_fd);
	size = is_fd ? CANFD_MTU : CAN_MTU;
	n = write(s, &cf, size);
	ck_assert_msg(n == (ssize_t)size, "raw write: %s",
		      n < 0 ? strerror(errno) : "short");
}

void util_raw_flood(int s, const struct cand_frame *f)
{
	struct canfd_frame cf;
	int is_fd;
	ssize_t n;

	util_to_raw(f, &cf, &is_fd);
	n = write(s, &cf, is_fd ? CANFD_MTU : CAN_MTU);
	if (n < 0 && (errno == ENOBUFS || errno == EAGAIN))
		util_msleep(1);
	else
		ck_assert_msg(n > 0, "raw write: %s", strerror(errno));
}

int util_raw_recv(int s, struct cand_frame *f, int timeout_ms)
{
	struct pollfd pfd = {.fd = s, .events = POLLIN};
	struct canfd_frame cf;
	ssize_t n;
	int rc;

	do {
		rc = poll(&pfd, 1, timeout_ms);
	} while (rc < 0 && errno == EINTR);
	ck_assert_msg(rc >= 0, "poll: %s", strerror(errno));
	if (rc == 0)
		return 0;
	n = read(s, &cf, sizeof(cf));
	ck_assert_msg(n == CAN_MTU || n == CANFD_MTU, "raw read: %zd %s", n,
		      n < 0 ? strerror(errno) : "");
	util_from_raw(&cf, n == CANFD_MTU, f);
	return 1;
}

void util_raw_recv_ok(int s, struct cand_frame *f, const char *what)
{
	ck_assert_msg(util_raw_recv(s, f, RX_TIMEOUT_MS) == 1,
		      "%s: no frame on the raw socket within %d ms", what,
		      RX_TIMEOUT_MS);
}

void util_raw_recv_none(int s, int settle_ms, const char *what)
{
	struct cand_frame f;
	char buf[192];

	if (util_raw_recv(s, &f, settle_ms) == 1)
		ck_abort_msg("%s: expected nothing on the raw socket, got %s",
			     what, util_frame_str(&f, buf, sizeof(buf)));
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

int util_have_iface(const char *ifname)
{
	return if_nametoindex(ifname) > 0;
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

int util_try_connect_as(cand_t **h, const char *path, uid_t uid, gid_t gid)
{
	int rc;

	/* Effective ids are what the kernel records at connect(). */
	ck_assert_int_eq(setegid(gid), 0);
	ck_assert_int_eq(seteuid(uid), 0);
	rc = cand_connect(h, path);
	ck_assert_int_eq(seteuid(0), 0);
	ck_assert_int_eq(setegid(0), 0);
	return rc;
}

cand_t *util_connect_as(const char *path, uid_t uid, gid_t gid)
{
	cand_t *h = NULL;
	int rc = util_try_connect_as(&h, path, uid, gid);

	ck_assert_msg(rc == 0, "connect to %s as %u:%u: %s", path,
		      (unsigned)uid, (unsigned)gid, cand_strerror(rc));
	return h;
}

int util_try_open(cand_t *h, const char *channel)
{
	struct cand_options o;

	cand_options_init(&o);
	o.channel = channel;
	return cand_open(h, &o);
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
