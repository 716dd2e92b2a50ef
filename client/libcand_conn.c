/*
 * The connection: one Unix stream socket per handle, its lifetime, and
 * the only reads, writes and waits on it. The socket stays blocking:
 * every call that must not block says MSG_DONTWAIT, and a receive call
 * that may wait does so inside recv() itself, which is one syscall per
 * wakeup where poll() then recv() would be two.
 *
 * With reconnection the socket changes, so cand_fileno() hands out an
 * epoll descriptor instead, which holds the socket of the moment or,
 * while the daemon is away, a timerfd that fires at the next try: one
 * descriptor for the handle's life, in any poll set, epoll's included.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "libcand_int.h"

int64_t libcand_conn_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A handle with its buffers and no socket yet; NULL without memory. */
struct cand *libcand_conn_new(void)
{
	struct cand *h;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->fd = h->pollfd = h->timerfd = -1;
	if (libcand_read_init(h) < 0) {
		cand_close(h);
		return NULL;
	}
	return h;
}

/*
 * A socket connected to path into *fd: 0, or -errno. Non-blocking, a
 * full backlog is -EAGAIN rather than a wait; either way the socket is
 * left blocking.
 */
int libcand_conn_dial(const char *path, int nonblock, int *fd)
{
	struct sockaddr_un sa;
	int s, err;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (path[0] == '\0' || strlen(path) >= sizeof(sa.sun_path))
		return path[0] == '\0' ? -EINVAL : -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path));
	s = socket(AF_UNIX,
		   SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0),
		   0);
	if (s < 0)
		return -errno;
	/* A Unix connect either works at once or not (but for the backlog). */
	while (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno == EINTR)
			continue;
		if (errno == EISCONN)
			break;
		err = errno;
		close(s);
		return -err;
	}
	if (nonblock &&
	    fcntl(s, F_SETFL, fcntl(s, F_GETFL) & ~O_NONBLOCK) < 0) {
		err = errno;
		close(s);
		return -err;
	}
	*fd = s;
	return 0;
}

CAND_EXPORT void cand_connect_options_init(struct cand_connect_options *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->reconnect_ms = -1;
}

/* $CAND_RECONNECT_MS, or the default when it is unset or not a number. */
static int64_t libcand_conn_reconnect_env(void)
{
	const char *env = getenv("CAND_RECONNECT_MS");
	char *end;
	long long v;

	if (env == NULL || env[0] == '\0')
		return CAND_RECONNECT_DEFAULT_MS;
	errno = 0;
	v = strtoll(env, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0 || v > INT_MAX)
		return CAND_RECONNECT_DEFAULT_MS;
	return v;
}

CAND_EXPORT int cand_connect_opts(cand_t **out,
				  const struct cand_connect_options *opts)
{
	struct cand_connect_options defaults;
	struct cand *h;
	const char *path, *env;
	int rc;

	if (out == NULL)
		return CAND_EINVAL;
	*out = NULL;
	if (opts == NULL) {
		cand_connect_options_init(&defaults);
		opts = &defaults;
	}
	if ((path = opts->path) == NULL) {
		env = getenv("CAND_SOCKET");
		path = env != NULL && env[0] != '\0' ? env
						     : CAND_DEFAULT_SOCKET;
	}
	if ((h = libcand_conn_new()) == NULL)
		return CAND_ENOMEM;
	if ((rc = libcand_conn_dial(path, 0, &h->fd)) < 0) {
		cand_close(h);
		errno = -rc;
		return rc == -EMFILE || rc == -ENFILE || rc == -ENOBUFS ||
				       rc == -ENOMEM
			       ? CAND_ESYS
			       : CAND_ECONNECT;
	}
	/* It fits: dial() took it. */
	memcpy(h->path, path, strlen(path) + 1);
	h->reconnect_ms = opts->reconnect_ms < 0 ? libcand_conn_reconnect_env()
						 : opts->reconnect_ms;
	*out = h;
	return CAND_OK;
}

CAND_EXPORT int cand_connect(cand_t **out, const char *path)
{
	struct cand_connect_options opts;

	cand_connect_options_init(&opts);
	opts.path = path;
	return cand_connect_opts(out, &opts);
}

CAND_EXPORT void cand_close(cand_t *h)
{
	struct cand_ref *r;

	if (h == NULL)
		return;
	/* Their handles outlive this one; freeing them then just frees. */
	for (r = h->refs; r != NULL; r = r->next)
		r->h = NULL;
	if (h->fd >= 0)
		close(h->fd);
	if (h->timerfd >= 0)
		close(h->timerfd);
	if (h->pollfd >= 0)
		close(h->pollfd);
	libcand_resume_drop(&h->kept_open);
	libcand_resume_drop(&h->kept_filters);
	libcand_resume_drop(&h->kept_sub);
	free(h->replay);
	libcand_read_free(h);
	free(h->q);
	free(h->evs);
	free(h->out);
	free(h->tx);
	free(h->txp);
	free(h->pack);
	free(h);
}

/* Puts fd into the epoll descriptor, if there is one yet; 0 or -1. */
static int libcand_conn_watch(struct cand *h, int fd)
{
	struct epoll_event ev = {.events = EPOLLIN};

	ev.data.fd = fd;
	if (h->pollfd < 0 || fd < 0)
		return 0;
	return epoll_ctl(h->pollfd, EPOLL_CTL_ADD, fd, &ev);
}

/* The timerfd to fire at CLOCK_MONOTONIC ms (<= 0: at once); 0 or -1. */
static int libcand_conn_arm(struct cand *h, int64_t at_ms)
{
	struct itimerspec its;

	if (h->pollfd < 0)
		return 0;
	if (h->timerfd < 0) {
		h->timerfd = timerfd_create(CLOCK_MONOTONIC,
					    TFD_CLOEXEC | TFD_NONBLOCK);
		if (h->timerfd < 0 || libcand_conn_watch(h, h->timerfd) < 0)
			return -1;
	}
	memset(&its, 0, sizeof(its));
	/* A zero time would disarm it: "at once" is any time gone by. */
	if (at_ms <= 0) {
		its.it_value.tv_nsec = 1;
	} else {
		its.it_value.tv_sec = at_ms / 1000;
		its.it_value.tv_nsec = at_ms % 1000 * 1000000;
	}
	return timerfd_settime(h->timerfd, TFD_TIMER_ABSTIME, &its, NULL);
}

CAND_EXPORT int cand_fileno(cand_t *h)
{
	if (h == NULL)
		return CAND_EINVAL;
	if (h->reconnect_ms == 0)
		return h->fd;
	if (h->pollfd >= 0)
		return h->pollfd;
	if ((h->pollfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		return libcand_err_set(h, CAND_ESYS, "epoll_create1: %s",
				       strerror(errno));
	/* Without a socket: the next try, or at once for a dead handle. */
	if ((h->fd >= 0 ? libcand_conn_watch(h, h->fd)
			: libcand_conn_arm(h, h->dead ? 0 : h->retry_ms)) < 0) {
		close(h->pollfd);
		h->pollfd = -1;
		return libcand_err_set(h, CAND_ESYS, "epoll: %s",
				       strerror(errno));
	}
	return h->pollfd;
}

/*
 * fd, a new connection, replaces whatever the handle had; what was left
 * of the old one's input is dropped (a message cut off by the loss), and
 * the drops counted, which were the old channel's (cand.h). 0, or a
 * negative code when the poll descriptor cannot take it.
 */
int libcand_conn_attach(struct cand *h, int fd)
{
	if (h->fd >= 0)
		close(h->fd);
	if (h->timerfd >= 0) {
		close(h->timerfd);
		h->timerfd = -1;
	}
	h->fd = fd;
	h->gen++;
	h->in_off = h->in_len = 0;
	h->kernel_drops = 0;
	h->drained = 0;
	h->rcvtimeo_ms = 0;
	if (libcand_conn_watch(h, fd) < 0)
		return libcand_err_kill(h, CAND_ESYS, "epoll: %s",
					strerror(errno));
	return 0;
}

/*
 * The daemon is away: the socket goes, and the poll descriptor wakes the
 * application at retry_ms for the next try. 0, or a negative code.
 */
int libcand_conn_detach(struct cand *h, int64_t retry_ms)
{
	if (h->fd >= 0) {
		close(h->fd);
		h->fd = -1;
	}
	if (libcand_conn_arm(h, retry_ms) < 0)
		return libcand_err_kill(h, CAND_ESYS, "timerfd: %s",
					strerror(errno));
	return 0;
}

/* A dead handle's poll descriptor stays readable, as a socket at EOF. */
void libcand_conn_wake(struct cand *h)
{
	if (h->fd < 0)
		libcand_conn_arm(h, 0);
}

/* EOF or a reset: 1 when the daemon is only away, else the dead code. */
static int libcand_conn_lost(struct cand *h, const char *why)
{
	int rc = libcand_err_lost(h, CAND_EDISCONNECTED, "%s", why);

	return rc < 0 ? rc : 1;
}

/*
 * Reads what the socket has, or with wait set blocks in recv() until
 * something comes or SO_RCVTIMEO runs out. Returns 1 when something came
 * or the daemon went away (h->lost), 0 when nothing is there, or a
 * negative code when the connection died.
 */
static int libcand_conn_recv(struct cand *h, int wait)
{
	ssize_t n;
	int rc;

	if (h->dead)
		return h->dead;
	if (h->lost)
		return 1;
	if ((rc = libcand_read_room(h, CAND_READ_MIN)) < 0)
		return rc;
	for (;;) {
		n = recv(h->fd, h->in + h->in_len, h->in_cap - h->in_len,
			 wait ? 0 : MSG_DONTWAIT);
		if (n > 0) {
			h->drained = (size_t)n < h->in_cap - h->in_len;
			h->in_len += (size_t)n;
			return 1;
		}
		if (n == 0)
			return libcand_conn_lost(h, "the daemon closed the "
						    "connection");
		/* A signal ends a wait: the caller looks at the clock. */
		if (errno == EINTR && !wait)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
			h->drained = 1;
			return 0;
		}
		if (errno == ECONNRESET)
			return libcand_conn_lost(h, "the daemon reset the "
						    "connection");
		return libcand_err_kill(h, CAND_ESYS, "recv: %s",
					strerror(errno));
	}
}

/* Reads what the socket has without waiting: 1, 0 or a negative code. */
int libcand_conn_fill(struct cand *h)
{
	return libcand_conn_recv(h, 0);
}

/*
 * Waits for the socket until deadline (CLOCK_MONOTONIC ms, < 0 for never).
 * Returns 0 on timeout, else nonzero; a signal counts as a wakeup, the
 * caller tries again and waits anew.
 */
int libcand_conn_wait(struct cand *h, short events, int64_t deadline)
{
	struct pollfd pfd = {.fd = h->fd, .events = events};
	int64_t left = -1;
	int n;

	if (deadline >= 0) {
		left = deadline - libcand_conn_now_ms();
		if (left <= 0)
			return 0;
		if (left > INT_MAX)
			left = INT_MAX;
	}
	n = poll(&pfd, 1, (int)left);
	if (n < 0)
		return 1;
	if (n == 0)
		return deadline >= 0 && libcand_conn_now_ms() < deadline ? 1
									 : 0;
	return pfd.revents ? pfd.revents : 1;
}

/* Sets SO_RCVTIMEO for a wait of ms > 0 (< 0: forever), if it changed. */
static int libcand_conn_rcvtimeo(struct cand *h, int64_t ms)
{
	int want = ms < 0 ? 0 : ms > INT_MAX ? INT_MAX : (int)ms;
	struct timeval tv = {want / 1000, (want % 1000) * 1000};

	if (want == h->rcvtimeo_ms)
		return 0;
	if (setsockopt(h->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		return -1;
	h->rcvtimeo_ms = want;
	return 0;
}

/*
 * More input for a receive call: what the socket has, or else a wait for
 * it until the deadline, which is computed only once a wait is needed:
 * frames are mostly buffered already, and a clock read can be a real
 * syscall. Returns 0 on timeout, else nonzero: look at the buffer again.
 */
int libcand_conn_more(struct cand *h, int timeout_ms, int64_t *deadline)
{
	int64_t left = -1;

	/* An idle reader pays one recv() per wakeup, not three syscalls. */
	if ((!h->drained || timeout_ms == 0) && libcand_conn_fill(h) != 0)
		return 1;
	if (timeout_ms == 0)
		return 0;
	if (timeout_ms > 0 && *deadline < 0) {
		*deadline = libcand_conn_now_ms() + timeout_ms;
		left = timeout_ms;
	} else if (timeout_ms > 0) {
		if ((left = *deadline - libcand_conn_now_ms()) <= 0)
			return 0;
	}
	/*
	 * Wait inside recv(): the wakeup returns with the data, where poll()
	 * then recv() cost a syscall more on every frame at a trickle.
	 */
	if (libcand_conn_rcvtimeo(h, left) == 0 && libcand_conn_recv(h, 1) != 0)
		return 1;
	/*
	 * Nothing: the time is up, a signal came, or the fd was made
	 * non-blocking behind our back; poll() tells them apart.
	 */
	if (libcand_conn_wait(h, POLLIN, *deadline) == 0)
		return 0;
	h->drained = 0;
	return 1;
}

/*
 * Writes a whole request by deadline. While the socket is full it keeps
 * reading, since the daemon may be blocked writing events to us; a reply
 * for res read meanwhile is kept there.
 */
int libcand_conn_write(struct cand *h, const unsigned char *p, size_t len,
		       struct cand_result *res, int64_t deadline)
{
	ssize_t n;
	int rc;

	while (len > 0) {
		/* The rest is for a daemon that is gone: the caller sees why.
		 */
		if (h->lost)
			return 0;
		n = send(h->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			rc = libcand_conn_wait(h, POLLOUT | POLLIN, deadline);
			if (rc == 0)
				return libcand_err_kill(h, CAND_ETIMEOUT,
							"the daemon did not "
							"take a request in "
							"time");
			if (rc & (POLLIN | POLLHUP | POLLERR)) {
				if ((rc = libcand_conn_fill(h)) < 0)
					return rc;
				if ((rc = libcand_read_all(h, res)) < 0)
					return rc;
			}
			continue;
		}
		if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
			/*
			 * The daemon may have said why before it closed (a
			 * limit, shutting down): that answers the request.
			 */
			while (!h->lost && libcand_conn_fill(h) > 0)
				;
			libcand_read_all(h, res);
			if (res != NULL && res->done)
				return 0;
			if (h->dead)
				return libcand_err_dead(h);
			/* Lost: the caller knows what to do about it. */
			return libcand_err_lost(h, CAND_EDISCONNECTED,
						"the daemon closed the "
						"connection");
		}
		return libcand_err_kill(h, CAND_ESYS, "send: %s",
					strerror(errno));
	}
	/* Whole: the daemon may have done it, whatever happens next. */
	if (res != NULL)
		res->written = 1;
	return 0;
}
