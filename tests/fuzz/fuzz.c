/* What the fuzz targets share; see fuzz.h. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <event2/event.h>

#include "fuzz.h"

/*
 * The daemon's configuration in the conn and frames targets: some rights
 * on some interfaces and not others, and limits low enough that small
 * inputs reach them.
 */
const char fuzz_conf[] = "[limits]\n"
			 "max_clients = 4\n"
			 "max_message_size = 4K\n"
			 "max_filters = 16\n"
			 "max_periodic_tasks = 4\n"
			 "max_monitors = 4\n"
			 "output_high_watermark = 64K\n"
			 "output_low_watermark = 16K\n"
			 "[rule read]\n"
			 "interfaces = *\n"
			 "users = *\n"
			 "rights = read\n"
			 "[rule send]\n"
			 "interfaces = vcan0 can* lo\n"
			 "users = *\n"
			 "rights = send periodic monitor\n"
			 "send_ids = 100-1FF 700/700\n"
			 "send_ext_ids = 18DA00F1/1FFF00FF\n"
			 "[rule configure]\n"
			 "interfaces = can1\n"
			 "users = *\n"
			 "rights = configure\n";

/* To fd 2, not stderr: that may be a fuzz_log just now. */
void fuzz_fail(const char *what, const char *file, int line)
{
	dprintf(STDERR_FILENO, "%s:%d: check failed: %s\n", file, line, what);
	abort();
}

void fuzz_die(const char *why)
{
	dprintf(STDERR_FILENO, "fuzz: %s: %s\n", why, strerror(errno));
	abort();
}

void *fuzz_alloc(size_t size)
{
	void *p = malloc(size > 0 ? size : 1);

	if (p == NULL)
		fuzz_die("malloc");
	return p;
}

void *fuzz_realloc(void *p, size_t size)
{
	if ((p = realloc(p, size > 0 ? size : 1)) == NULL)
		fuzz_die("realloc");
	return p;
}

char *fuzz_string(const uint8_t *data, size_t size)
{
	char *s = fuzz_alloc(size + 1);

	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/*
 * Users, groups and hosts from /etc alone. nss-systemd, after "files" on
 * Debian, walks five userdb directories for every name files lacks: a
 * dozen syscalls a lookup, several lookups a cand.conf, which made the
 * config target spend more time in the kernel than in cand.
 */
static const char fuzz_nsswitch[] = "passwd: files\n"
				    "group: files\n"
				    "shadow: files\n"
				    "gshadow: files\n"
				    "hosts: files\n";

/*
 * Whether /etc/nsswitch.conf is ours already: in the children libFuzzer
 * starts for -merge=1 it is, and a file unlinked cannot be mounted on.
 */
static int fuzz_isolate_nss_done(void)
{
	char buf[sizeof(fuzz_nsswitch) + 1];
	ssize_t n;
	int fd;

	if ((fd = open("/etc/nsswitch.conf", O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	return n == (ssize_t)sizeof(fuzz_nsswitch) - 1 &&
	       memcmp(buf, fuzz_nsswitch, (size_t)n) == 0;
}

/* A private /etc/nsswitch.conf, in a mount namespace of our own. */
static void fuzz_isolate_nss(void)
{
	char path[] = "/tmp/cand-fuzz-nss-XXXXXX";
	size_t len = sizeof(fuzz_nsswitch) - 1;
	int fd;

	if (fuzz_isolate_nss_done())
		return;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		fuzz_die("mount --make-rprivate /");
	if ((fd = mkstemp(path)) < 0)
		fuzz_die("mkstemp");
	if (write(fd, fuzz_nsswitch, len) != (ssize_t)len)
		fuzz_die("write nsswitch.conf");
	close(fd);
	/* The mount holds the file: nothing is left in /tmp. */
	if (mount(path, "/etc/nsswitch.conf", NULL, MS_BIND, NULL) < 0)
		fuzz_die("mount --bind nsswitch.conf");
	unlink(path);
}

void fuzz_isolate(void)
{
	if (geteuid() != 0)
		return;
	if (unshare(CLONE_NEWNET | CLONE_NEWNS) < 0)
		fuzz_die("unshare(CLONE_NEWNET | CLONE_NEWNS)");
	fuzz_isolate_nss();
}

void fuzz_log_begin(struct fuzz_log *l)
{
	l->text = NULL;
	l->len = 0;
	if ((l->f = open_memstream(&l->text, &l->len)) == NULL)
		fuzz_die("open_memstream");
	/* glibc's stderr is a variable like any other (its manual says so). */
	l->saved = stderr;
	stderr = l->f;
}

void fuzz_log_end(struct fuzz_log *l)
{
	stderr = l->saved;
	if (fclose(l->f) != 0)
		fuzz_die("open_memstream");
	/* To see what the daemon said while reproducing a crash. */
	if (getenv("FUZZ_LOG") != NULL)
		dprintf(STDERR_FILENO, "%s", l->text);
}

void fuzz_log_free(struct fuzz_log *l)
{
	free(l->text);
	l->text = NULL;
}

/* Reads what the daemon wrote; returns whether anything (or EOF) came. */
static int fuzz_pump_drain(int fd, struct fuzz_seen *s)
{
	ssize_t n;
	int got = 0;

	while (!s->eof) {
		/* Small first: most inputs get a few replies back. */
		if (s->len == s->cap) {
			s->cap = s->cap ? 2 * s->cap : 4096;
			s->buf = fuzz_realloc(s->buf, s->cap);
		}
		n = read(fd, s->buf + s->len, s->cap - s->len);
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0 && errno != ECONNRESET)
			fuzz_die("read from the daemon failed");
		if (n <= 0)
			s->eof = 1;
		else
			s->len += (size_t)n;
		got = 1;
	}
	return got;
}

/* Bytes the daemon has not read yet, or 0 once it closed its end. */
static int fuzz_pump_unread(int fd)
{
	int n = 0;

	return ioctl(fd, FIONREAD, &n) < 0 ? 0 : n;
}

void fuzz_pump(struct event_base *base, int peer, int daemon_fd,
	       const uint8_t *data, size_t size, struct fuzz_seen *s, int idle,
	       int max_rounds)
{
	size_t off = 0;
	int quiet = 0, rounds = 0, left = -1, now;
	ssize_t n;

	while (quiet < idle && !s->eof) {
		int busy = 0;

		if (++rounds > max_rounds)
			fuzz_die("the daemon never went idle");
		if (off < size) {
			n = write(peer, data + off, size - off);
			if (n < 0 && errno != EAGAIN && errno != EPIPE)
				fuzz_die("write to the daemon failed");
			if (n > 0) {
				off += (size_t)n;
				busy = 1;
			}
		}
		event_base_loop(base, EVLOOP_NONBLOCK);
		busy |= fuzz_pump_drain(peer, s);
		now = fuzz_pump_unread(daemon_fd);
		busy |= now != left;
		left = now;
		quiet = busy ? 0 : quiet + 1;
	}
}
