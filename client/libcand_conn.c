/*
 * The connection: one Unix stream socket per handle, its lifetime, and
 * the only reads, writes and waits on it. The socket stays blocking:
 * every call that must not block says MSG_DONTWAIT, and a receive call
 * that may wait does so inside recv() itself, which is one syscall per
 * wakeup where poll() then recv() would be two.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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
	h->fd = -1;
	if (libcand_read_init(h) < 0) {
		cand_close(h);
		return NULL;
	}
	return h;
}

CAND_EXPORT int cand_connect(cand_t **out, const char *path)
{
	struct sockaddr_un sa;
	struct cand *h;
	const char *env;
	int fd, saved;

	if (out == NULL)
		return CAND_EINVAL;
	*out = NULL;
	if (path == NULL) {
		env = getenv("CAND_SOCKET");
		path = env != NULL && env[0] != '\0' ? env
						     : CAND_DEFAULT_SOCKET;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (path[0] == '\0' || strlen(path) >= sizeof(sa.sun_path)) {
		errno = path[0] == '\0' ? EINVAL : ENAMETOOLONG;
		return CAND_ECONNECT;
	}
	memcpy(sa.sun_path, path, strlen(path));

	if ((h = libcand_conn_new()) == NULL)
		return CAND_ENOMEM;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		saved = errno;
		cand_close(h);
		errno = saved;
		return CAND_ESYS;
	}
	h->fd = fd;
	/* Connect blocking: a Unix connect either works at once or not. */
	while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno == EINTR)
			continue;
		if (errno == EISCONN)
			break;
		saved = errno;
		cand_close(h);
		errno = saved;
		return CAND_ECONNECT;
	}
	*out = h;
	return CAND_OK;
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
	libcand_read_free(h);
	free(h->q);
	free(h->evs);
	free(h->out);
	free(h->tx);
	free(h->txp);
	free(h);
}

CAND_EXPORT int cand_fileno(cand_t *h)
{
	return h != NULL ? h->fd : CAND_EINVAL;
}

/*
 * Reads what the socket has, or with wait set blocks in recv() until
 * something comes or SO_RCVTIMEO runs out. Returns 1 when something came,
 * 0 when nothing is there, or a negative code when the connection died.
 */
static int libcand_conn_recv(struct cand *h, int wait)
{
	ssize_t n;
	int rc;

	if (h->dead)
		return h->dead;
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
			return libcand_err_kill(h, CAND_EDISCONNECTED,
						"the daemon closed the "
						"connection");
		/* A signal ends a wait: the caller looks at the clock. */
		if (errno == EINTR && !wait)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
			h->drained = 1;
			return 0;
		}
		if (errno == ECONNRESET)
			return libcand_err_kill(h, CAND_EDISCONNECTED,
						"the daemon reset the "
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
			while (libcand_conn_fill(h) > 0)
				;
			libcand_read_all(h, res);
			if (res != NULL && res->done)
				return 0;
			if (h->dead)
				return libcand_err_dead(h);
			return libcand_err_kill(h, CAND_EDISCONNECTED,
						"the daemon closed the "
						"connection");
		}
		return libcand_err_kill(h, CAND_ESYS, "send: %s",
					strerror(errno));
	}
	return 0;
}
