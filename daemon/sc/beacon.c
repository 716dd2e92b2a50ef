/*
 * socketcand's discovery beacon, off unless [socketcand] names where it
 * goes (beacon = 192.168.1.255): every beacon_interval_ms one UDP
 * datagram, to port 42000 by default, with the CANBeacon XML that Kayak
 * and SavvyCAN look for:
 *
 *   <CANBeacon name="HOST" type="SocketCAN" description="...">
 *   <URL>can://10.0.0.5:29536</URL><Bus name="can0"/><Bus name="vcan0"/>
 *   </CANBeacon>
 *
 * The buses are the CAN interfaces there now that the front-end offers;
 * the URLs are the IPv4 listeners (socketcand's beacon knows no IPv6),
 * a wildcard one as the address the beacon leaves from.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <netinet/in.h>

#include <event2/event.h>

#include "sc/sc.h"

#define SC_BEACON_MAX 2048

/* Appends s with XML's special characters escaped. */
static size_t sc_beacon_xml(char *buf, size_t size, size_t at, const char *s)
{
	const char *rep;

	for (; *s != '\0' && at + 7 < size; s++) {
		rep = *s == '&'	  ? "&amp;"
		      : *s == '<' ? "&lt;"
		      : *s == '>' ? "&gt;"
		      : *s == '"' ? "&quot;"
				  : NULL;
		if (rep == NULL) {
			buf[at++] = *s;
		} else {
			memcpy(buf + at, rep, strlen(rep));
			at += strlen(rep);
		}
	}
	buf[at] = '\0';
	return at;
}

static size_t sc_beacon_add(char *buf, size_t size, size_t at, const char *fmt,
			    ...) __attribute__((format(printf, 4, 5)));

static size_t sc_beacon_add(char *buf, size_t size, size_t at, const char *fmt,
			    ...)
{
	va_list ap;
	int n;

	if (at >= size)
		return at;
	va_start(ap, fmt);
	n = vsnprintf(buf + at, size - at, fmt, ap);
	va_end(ap);
	return n < 0 ? at : at + (size_t)n < size ? at + (size_t)n : size - 1;
}

/* The IPv4 address a listener is reached at; 0 for none. */
static int sc_beacon_url_addr(const struct sc_front *f,
			      const struct sc_listener *l, struct in_addr *out)
{
	const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)&l->at.ss;
	struct sockaddr_in src;
	socklen_t len = sizeof(src);
	struct peer_addr a;
	int only = 0;

	if (peer_from_sockaddr((const struct sockaddr *)&l->at.ss, l->at.len,
			       &a) < 0)
		return 0;
	if (a.family == AF_INET && memcmp(a.a, "\0\0\0\0", 4) != 0) {
		memcpy(out, a.a, 4);
		return 1;
	}
	if (a.family == AF_INET6) {
		/* Only [::] without IPV6_V6ONLY takes IPv4 too. */
		len = sizeof(only);
		if (!IN6_IS_ADDR_UNSPECIFIED(&v6->sin6_addr) ||
		    getsockopt(l->fd, IPPROTO_IPV6, IPV6_V6ONLY, &only, &len) <
			    0 ||
		    only)
			return 0;
		len = sizeof(src);
	}
	/* A wildcard: where the beacon leaves from is where we are. */
	if (getsockname(f->beacon_fd, (struct sockaddr *)&src, &len) < 0 ||
	    src.sin_family != AF_INET)
		return 0;
	*out = src.sin_addr;
	return 1;
}

size_t sc_beacon_text(struct cand_ctx *ctx, char *buf, size_t size)
{
	const struct sc_conf *conf = sc_conf(ctx);
	const struct sc_front *f = ctx->sc;
	char host[256] = "cand", url[64], ip[INET_ADDRSTRLEN];
	const struct canif *ci;
	struct in_addr addr;
	struct peer_addr a;
	size_t at = 0, i;

	if (conf->beacon_name[0] != '\0')
		snprintf(host, sizeof(host), "%s", conf->beacon_name);
	else if (gethostname(host, sizeof(host) - 1) < 0)
		snprintf(host, sizeof(host), "cand");
	at = sc_beacon_add(buf, size, at, "%s", "<CANBeacon name=\"");
	at = sc_beacon_xml(buf, size, at, host);
	at = sc_beacon_add(buf, size, at, "%s",
			   "\" type=\"SocketCAN\" description=\"");
	at = sc_beacon_xml(buf, size, at, conf->beacon_desc);
	at = sc_beacon_add(buf, size, at, "%s", "\">\n");
	for (i = 0; i < f->n_ls; i++) {
		if (!sc_beacon_url_addr(f, &f->ls[i], &addr))
			continue;
		peer_from_sockaddr((const struct sockaddr *)&f->ls[i].at.ss,
				   f->ls[i].at.len, &a);
		inet_ntop(AF_INET, &addr, ip, sizeof(ip));
		snprintf(url, sizeof(url), "%s:%u", ip, a.port);
		at = sc_beacon_add(buf, size, at, "<URL>can://%s</URL>", url);
	}
	TAILQ_FOREACH(ci, &ctx->canifs, entry) {
		if (!config_sc_offers(conf, ci->link.name))
			continue;
		at = sc_beacon_add(buf, size, at, "%s", "<Bus name=\"");
		at = sc_beacon_xml(buf, size, at, ci->link.name);
		at = sc_beacon_add(buf, size, at, "%s", "\"/>");
	}
	return sc_beacon_add(buf, size, at, "%s", "</CANBeacon>");
}

static void sc_beacon_send(evutil_socket_t fd, short what, void *arg)
{
	struct cand_ctx *ctx = arg;
	char buf[SC_BEACON_MAX];
	size_t n;

	(void)fd;
	(void)what;
	n = sc_beacon_text(ctx, buf, sizeof(buf));
	/* A beacon lost is sent again in a moment; say so only in debug. */
	if (send(ctx->sc->beacon_fd, buf, n, MSG_DONTWAIT) < 0)
		log_debug("socketcand: beacon: %s", strerror(errno));
}

int sc_beacon_open(struct cand_ctx *ctx)
{
	const struct sc_conf *conf = sc_conf(ctx);
	struct sc_front *f = ctx->sc;
	struct timeval tv = {conf->beacon_ms / 1000,
			     (long)(conf->beacon_ms % 1000) * 1000};
	char to[80];
	int one = 1, rc;

	peer_endpoint_format((const struct sockaddr *)&conf->beacon_to.ss, to,
			     sizeof(to));
	f->beacon_fd =
		socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (f->beacon_fd < 0 ||
	    setsockopt(f->beacon_fd, SOL_SOCKET, SO_BROADCAST, &one,
		       sizeof(one)) < 0 ||
	    connect(f->beacon_fd, (const struct sockaddr *)&conf->beacon_to.ss,
		    conf->beacon_to.len) < 0) {
		rc = -errno;
		log_err("socketcand: beacon to %s: %s", to, strerror(-rc));
		sc_beacon_close(ctx);
		return rc;
	}
	f->ev_beacon =
		event_new(ctx->base, -1, EV_PERSIST, sc_beacon_send, ctx);
	if (f->ev_beacon == NULL || event_add(f->ev_beacon, &tv) < 0) {
		sc_beacon_close(ctx);
		return -ENOMEM;
	}
	log_info("socketcand: beacon to %s every %u ms", to, conf->beacon_ms);
	/* The first at once: a client that is looking need not wait. */
	sc_beacon_send(-1, 0, ctx);
	return 0;
}

void sc_beacon_close(struct cand_ctx *ctx)
{
	struct sc_front *f = ctx->sc;

	if (f->ev_beacon != NULL)
		event_free(f->ev_beacon);
	f->ev_beacon = NULL;
	if (f->beacon_fd >= 0)
		close(f->beacon_fd);
	f->beacon_fd = -1;
}
