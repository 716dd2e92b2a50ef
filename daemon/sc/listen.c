/*
 * The socketcand front-end's TCP listeners and who gets a connection.
 * systemd's TCP sockets (cand-socketcand.socket) when it passed any, else
 * [socketcand]'s listen addresses; neither, and the front-end is off.
 *
 * A peer is its address: a connection from one that no rule of cand.conf
 * names is told so in an error element and closed before it can open a
 * bus, and so is one over the limits (the daemon's max_clients,
 * [socketcand]'s max_connections and max_connections_per_peer). The log
 * names the peer and why, every time.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <event2/event.h>
#include <systemd/sd-daemon.h>

#include "sc/sc.h"

/* How long accept stays off after running out of file descriptors. */
#define SC_LISTEN_BACKOFF_MS 100
/*
 * A connection's kernel send buffer, fixed: autotuning would let a peer
 * that stops reading hold megabytes of kernel memory beyond the output
 * queue's watermarks. This much carries 2.5 MB/s (50000 frames/s) over a
 * 100 ms round trip.
 */
#define SC_LISTEN_SNDBUF (256 << 10)

static void sc_listen_accept(evutil_socket_t fd, short what, void *arg);

const struct sc_conf *sc_conf(const struct cand_ctx *ctx)
{
	return ctx->config.sc != NULL ? ctx->config.sc : &ctx->sc->defaults;
}

static int sc_listen_add(struct cand_ctx *ctx, int fd)
{
	struct sc_front *f = ctx->sc;
	struct sc_listener *grown, *l;
	char name[80];

	grown = realloc(f->ls, (f->n_ls + 1) * sizeof(*grown));
	if (grown == NULL)
		return -ENOMEM;
	f->ls = grown;
	l = &grown[f->n_ls];
	memset(l, 0, sizeof(*l));
	l->fd = fd;
	l->at.len = sizeof(l->at.ss);
	getsockname(fd, (struct sockaddr *)&l->at.ss, &l->at.len);
	l->ev = event_new(ctx->base, fd, EV_READ | EV_PERSIST, sc_listen_accept,
			  ctx);
	if (l->ev == NULL || event_add(l->ev, NULL) < 0) {
		if (l->ev != NULL)
			event_free(l->ev);
		return -ENOMEM;
	}
	f->n_ls++;
	peer_endpoint_format((struct sockaddr *)&l->at.ss, name, sizeof(name));
	log_info("socketcand: listening on %s", name);
	return 0;
}

static int sc_listen_bind(const struct sc_endpoint *at)
{
	int fd, one = 1, err;
	char name[80];

	fd = socket(at->ss.ss_family,
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	/* [::] and 0.0.0.0 can both be listed: each takes its own family. */
	if ((at->ss.ss_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) <
		     0) ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (const struct sockaddr *)&at->ss, at->len) < 0 ||
	    listen(fd, SOMAXCONN) < 0)
		goto fail;
	return fd;
fail:
	err = -errno;
	peer_endpoint_format((const struct sockaddr *)&at->ss, name,
			     sizeof(name));
	log_err("socketcand: cannot listen on %s: %s", name, strerror(-err));
	if (fd >= 0)
		close(fd);
	return err;
}

/* systemd's TCP sockets; the Unix one is pb's (listener.c). */
static int sc_listen_systemd(struct cand_ctx *ctx)
{
	int n = sd_listen_fds(0), fd, rc, taken = 0;

	for (fd = SD_LISTEN_FDS_START; n > 0 && fd < SD_LISTEN_FDS_START + n;
	     fd++) {
		if (sd_is_socket_inet(fd, 0, SOCK_STREAM, 1, 0) <= 0)
			continue;
		if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0 ||
		    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
			return -errno;
		if ((rc = sc_listen_add(ctx, fd)) < 0)
			return rc;
		taken++;
	}
	return taken;
}

int sc_open(struct cand_ctx *ctx)
{
	const struct sc_conf *conf = ctx->config.sc;
	size_t i;
	int rc, fd;

	if ((ctx->sc = calloc(1, sizeof(*ctx->sc))) == NULL)
		return -ENOMEM;
	TAILQ_INIT(&ctx->sc->conns);
	config_sc_defaults(&ctx->sc->defaults);
	ctx->sc->beacon_fd = -1;
	if ((rc = sc_listen_systemd(ctx)) < 0)
		return rc;
	if (rc > 0 && conf != NULL && conf->n_listen > 0)
		log_warn("socketcand: using the sockets systemd passed, not "
			 "[socketcand]'s listen addresses");
	for (i = 0; rc == 0 && conf != NULL && i < conf->n_listen; i++) {
		if ((fd = sc_listen_bind(&conf->listen[i])) < 0)
			return fd;
		if (sc_listen_add(ctx, fd) < 0) {
			close(fd);
			return -ENOMEM;
		}
	}
	if (ctx->sc->n_ls == 0) {
		/* Nothing to listen on: the front-end is off. */
		sc_free(ctx);
		return 0;
	}
	return sc_conf(ctx)->beacon ? sc_beacon_open(ctx) : 0;
}

void sc_close(struct cand_ctx *ctx)
{
	size_t i;

	if (ctx->sc == NULL)
		return;
	sc_beacon_close(ctx);
	for (i = 0; i < ctx->sc->n_ls; i++) {
		event_free(ctx->sc->ls[i].ev);
		close(ctx->sc->ls[i].fd);
	}
	free(ctx->sc->ls);
	ctx->sc->ls = NULL;
	ctx->sc->n_ls = 0;
}

void sc_free(struct cand_ctx *ctx)
{
	if (ctx->sc == NULL)
		return;
	sc_close(ctx);
	sc_conn_free_all(ctx);
	free(ctx->sc);
	ctx->sc = NULL;
}

static int sc_endpoints_equal(const struct sc_conf *a, const struct sc_conf *b)
{
	size_t na = a != NULL ? a->n_listen : 0,
	       nb = b != NULL ? b->n_listen : 0;
	size_t i;

	if (na != nb)
		return 0;
	for (i = 0; i < na; i++)
		if (a->listen[i].len != b->listen[i].len ||
		    memcmp(&a->listen[i].ss, &b->listen[i].ss,
			   a->listen[i].len) != 0)
			return 0;
	return 1;
}

void sc_reload(struct cand_ctx *ctx, const struct sc_conf *before)
{
	const struct sc_conf *now = ctx->config.sc;

	if (!sc_endpoints_equal(before, now))
		log_warn("socketcand: the listen addresses changed; they take "
			 "effect when cand restarts");
	if (ctx->sc == NULL)
		return;
	/* The beacon follows at once: it is only a timer and a socket. */
	sc_beacon_close(ctx);
	if (sc_conf(ctx)->beacon && sc_beacon_open(ctx) < 0)
		log_warn("socketcand: the beacon is off after the reload");
}

static void sc_listen_refuse(int fd, const struct peer_addr *a, const char *fmt,
			     ...) __attribute__((format(printf, 3, 4)));

/* Says why, without waiting, and closes: the peer gets no session. */
static void sc_listen_refuse(int fd, const struct peer_addr *a, const char *fmt,
			     ...)
{
	char why[200], msg[256], who[IDENT_WHO_MAX], junk[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	peer_format(a, who, sizeof(who));
	log_warn("socketcand: refused peer %s port %u: %s", who, a->port, why);
	n = snprintf(msg, sizeof(msg), "< error %s >", why);
	if (send(fd, msg, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		log_debug("socketcand: refusal not sent: %s", strerror(errno));
	/* Unread input would turn the close into a reset, losing the error. */
	while (recv(fd, junk, sizeof(junk), MSG_DONTWAIT) > 0)
		;
	close(fd);
}

static unsigned sc_listen_from(const struct sc_front *f,
			       const struct peer_addr *a)
{
	const struct sc_conn *c;
	unsigned n = 0;

	TAILQ_FOREACH(c, &f->conns, entry)
		if (!c->dead && c->s->ident.peer.family == a->family &&
		    memcmp(c->s->ident.peer.a, a->a, sizeof(a->a)) == 0)
			n++;
	return n;
}

static void sc_listen_one(struct cand_ctx *ctx, int fd,
			  const struct sockaddr_storage *ss, socklen_t len)
{
	const struct sc_conf *conf = sc_conf(ctx);
	struct ident id = {
		.kind = IDENT_PEER, .uid = (uid_t)-1, .gid = (gid_t)-1};
	char who[IDENT_WHO_MAX];
	int one = 1, sndbuf = SC_LISTEN_SNDBUF;

	if (peer_from_sockaddr((const struct sockaddr *)ss, len, &id.peer) <
	    0) {
		close(fd);
		return;
	}
	peer_format(&id.peer, who, sizeof(who));
	if (!policy_admits(ctx->policy, &id))
		sc_listen_refuse(
			fd, &id.peer,
			"peer %s is not admitted: no rule of cand.conf "
			"names it",
			who);
	else if (ctx->n_sessions >= ctx->limits.max_clients)
		sc_listen_refuse(fd, &id.peer,
				 "cand serves at most %u clients (max_clients)",
				 ctx->limits.max_clients);
	else if (ctx->sc->n_conns >= conf->max_conns)
		sc_listen_refuse(fd, &id.peer,
				 "at most %u socketcand connections "
				 "(max_connections)",
				 conf->max_conns);
	else if (sc_listen_from(ctx->sc, &id.peer) >= conf->max_per_peer)
		sc_listen_refuse(fd, &id.peer,
				 "at most %u connections from %s "
				 "(max_connections_per_peer)",
				 conf->max_per_peer, who);
	else {
		/* Frames go out as they come, not when Nagle allows. */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
		if (sc_conn_new(ctx, fd, &id) < 0)
			sc_listen_refuse(fd, &id.peer, "out of memory");
	}
}

static void sc_listen_reenable(evutil_socket_t fd, short what, void *arg)
{
	struct cand_ctx *ctx = arg;
	size_t i;

	(void)fd;
	(void)what;
	if (ctx->sc == NULL)
		return;
	for (i = 0; i < ctx->sc->n_ls; i++)
		event_add(ctx->sc->ls[i].ev, NULL);
}

static void sc_listen_accept(evutil_socket_t fd, short what, void *arg)
{
	struct cand_ctx *ctx = arg;
	struct timeval tv = {0, SC_LISTEN_BACKOFF_MS * 1000};
	struct sockaddr_storage ss;
	socklen_t len;
	size_t i;
	int cfd;

	(void)what;
	for (;;) {
		len = sizeof(ss);
		cfd = accept4(fd, (struct sockaddr *)&ss, &len,
			      SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0)
			break;
		sc_listen_one(ctx, cfd, &ss, len);
	}
	if (errno == EMFILE || errno == ENFILE) {
		/* As pb's listener: the backlog would wake us in a loop. */
		log_warn("socketcand: accept: %s; pausing new connections",
			 strerror(errno));
		for (i = 0; i < ctx->sc->n_ls; i++)
			event_del(ctx->sc->ls[i].ev);
		event_base_once(ctx->base, -1, EV_TIMEOUT, sc_listen_reenable,
				ctx, &tv);
	} else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
		log_warn("socketcand: accept: %s", strerror(errno));
	}
}
