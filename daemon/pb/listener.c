/*
 * The control socket: socket activation when systemd passed one, else bind
 * it ourselves, refusing to steal it from a live daemon. systemd may pass
 * TCP sockets too (cand-socketcand.socket): those are sc/'s, which took
 * them before this runs.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>
#include <systemd/sd-daemon.h>

#include "pb/pb.h"

/* How long accept stays off after running out of file descriptors. */
#define LISTENER_BACKOFF_MS 100

static void listener_accept(evutil_socket_t fd, short what, void *arg);

static int listener_bind(struct cand_ctx *ctx)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd, err;

	if (strlen(ctx->sock_path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, ctx->sock_path);

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;

	/*
	 * A socket file that still accepts connections belongs to a running
	 * daemon; one that refuses is left over from a crash.
	 */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0 ||
	    errno == EAGAIN) {
		log_err("%s: another cand is already listening",
			ctx->sock_path);
		close(fd);
		return -EADDRINUSE;
	}
	if (errno == ECONNREFUSED) {
		log_info("%s: removing stale socket", ctx->sock_path);
		unlink(ctx->sock_path);
	}

	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    chmod(ctx->sock_path, ctx->sock_mode) < 0 ||
	    listen(fd, SOMAXCONN) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	ctx->listen_owned = 1;
	return fd;
}

/* The one Unix stream socket systemd passed; -1: none; -EINVAL: bad. */
static int listener_systemd(void)
{
	int n = sd_listen_fds(1), fd, found = -1;

	for (fd = SD_LISTEN_FDS_START; n > 0 && fd < SD_LISTEN_FDS_START + n;
	     fd++) {
		if (sd_is_socket_inet(fd, 0, SOCK_STREAM, 1, 0) > 0)
			continue; /* the socketcand front-end's */
		if (sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) <= 0 ||
		    found >= 0) {
			log_err("systemd passed %d sockets; expected one "
				"listening Unix stream socket (and TCP ones "
				"for "
				"socketcand)",
				n);
			return -EINVAL;
		}
		found = fd;
	}
	return found;
}

int listener_open(struct cand_ctx *ctx)
{
	int fd;

	fd = listener_systemd();
	if (fd == -EINVAL)
		return fd;
	if (fd >= 0) {
		if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
			return -errno;
		log_info("using the socket passed by systemd");
	} else {
		fd = listener_bind(ctx);
		if (fd < 0)
			return fd;
		log_info("listening on %s", ctx->sock_path);
	}

	ctx->listen_fd = fd;
	ctx->ev_listen = event_new(ctx->base, fd, EV_READ | EV_PERSIST,
				   listener_accept, ctx);
	if (ctx->ev_listen == NULL || event_add(ctx->ev_listen, NULL) < 0)
		return -ENOMEM;
	return 0;
}

void listener_close(struct cand_ctx *ctx)
{
	if (ctx->ev_listen != NULL)
		event_free(ctx->ev_listen);
	ctx->ev_listen = NULL;
	if (ctx->listen_fd >= 0) {
		close(ctx->listen_fd);
		if (ctx->listen_owned)
			unlink(ctx->sock_path);
	}
	ctx->listen_fd = -1;
}

static void listener_reenable(evutil_socket_t fd, short what, void *arg)
{
	struct cand_ctx *ctx = arg;

	(void)fd;
	(void)what;
	event_add(ctx->ev_listen, NULL);
}

static void listener_accept(evutil_socket_t fd, short what, void *arg)
{
	struct cand_ctx *ctx = arg;
	struct timeval tv = {0, LISTENER_BACKOFF_MS * 1000};
	int cfd;

	(void)what;
	for (;;) {
		cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0)
			break;
		if (conn_new(ctx, cfd) < 0)
			close(cfd);
	}
	if (errno == EMFILE || errno == ENFILE) {
		/*
		 * The pending connection stays in the backlog and would wake
		 * us in a busy loop; pause until some descriptor is freed.
		 */
		log_warn("accept: %s; pausing new connections",
			 strerror(errno));
		event_del(ctx->ev_listen);
		event_base_once(ctx->base, -1, EV_TIMEOUT, listener_reenable,
				ctx, &tv);
	} else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
		log_warn("accept: %s", strerror(errno));
	}
}
