/*
 * Network addresses, for the TCP front-end's peers and listeners: a
 * peer's address from accept(), the prefixes rules name it by
 * ("10.0.0.0/8", "::1", "*"), and "ADDRESS:PORT" endpoints to listen on.
 * An IPv4-mapped IPv6 address (::ffff:10.0.0.1, what a dual-stack socket
 * reports for an IPv4 peer) is its IPv4 address everywhere here, so a
 * rule written for 10.0.0.1 matches it however the socket was bound.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"

static const uint8_t peer_v4mapped[12] = {0, 0, 0, 0, 0,    0,
					  0, 0, 0, 0, 0xff, 0xff};

/* An IPv6 address that is an IPv4 one in disguise, as that. */
static void peer_unmap(int *family, uint8_t a[16])
{
	if (*family == AF_INET6 &&
	    memcmp(a, peer_v4mapped, sizeof(peer_v4mapped)) == 0) {
		memmove(a, a + 12, 4);
		memset(a + 4, 0, 12);
		*family = AF_INET;
	}
}

int peer_from_sockaddr(const struct sockaddr *sa, socklen_t len,
		       struct peer_addr *out)
{
	const struct sockaddr_in *v4 = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)sa;

	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET && len >= sizeof(*v4)) {
		out->family = AF_INET;
		memcpy(out->a, &v4->sin_addr, 4);
		out->port = ntohs(v4->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6 && len >= sizeof(*v6)) {
		out->family = AF_INET6;
		memcpy(out->a, &v6->sin6_addr, 16);
		out->port = ntohs(v6->sin6_port);
		peer_unmap(&out->family, out->a);
		return 0;
	}
	return -EAFNOSUPPORT;
}

void peer_format(const struct peer_addr *a, char *buf, size_t size)
{
	char text[INET6_ADDRSTRLEN];

	if (inet_ntop(a->family, a->a, text, sizeof(text)) == NULL)
		snprintf(text, sizeof(text), "?");
	snprintf(buf, size, "%s", text);
}

int peer_prefix_parse(const char *s, struct peer_prefix *out)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t len = slash != NULL ? (size_t)(slash - s) : strlen(s);
	unsigned long bits;
	unsigned max;
	char *end;

	memset(out, 0, sizeof(*out));
	if (strcmp(s, "*") == 0)
		return 0; /* family 0: any address */
	if (len == 0 || len >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, s, len);
	addr[len] = '\0';
	if (inet_pton(AF_INET, addr, out->a) == 1)
		out->family = AF_INET;
	else if (inet_pton(AF_INET6, addr, out->a) == 1)
		out->family = AF_INET6;
	else
		return -EINVAL;
	max = out->family == AF_INET ? 32 : 128;
	out->bits = max;
	if (slash != NULL) {
		if (slash[1] < '0' || slash[1] > '9')
			return -EINVAL;
		errno = 0;
		bits = strtoul(slash + 1, &end, 10);
		if (errno != 0 || *end != '\0' || bits > max)
			return -ERANGE;
		out->bits = (unsigned)bits;
	}
	/* ::ffff:10.0.0.0/104 is 10.0.0.0/8, as its addresses are. */
	if (out->family == AF_INET6 && out->bits >= 96 &&
	    memcmp(out->a, peer_v4mapped, sizeof(peer_v4mapped)) == 0) {
		peer_unmap(&out->family, out->a);
		out->bits -= 96;
	}
	return 0;
}

int peer_match(const struct peer_prefix *p, const struct peer_addr *a)
{
	unsigned full, rest;

	if (p->family == 0)
		return 1;
	if (p->family != a->family)
		return 0;
	full = p->bits / 8;
	rest = p->bits % 8;
	if (memcmp(p->a, a->a, full) != 0)
		return 0;
	return rest == 0 ||
	       ((p->a[full] ^ a->a[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

int peer_endpoint_parse(const char *s, uint16_t defport,
			struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
	char host[INET6_ADDRSTRLEN + 1];
	const char *port = NULL, *close;
	unsigned long p = defport;
	size_t hlen;
	char *end;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		/* [IPV6] or [IPV6]:PORT */
		close = strchr(s, ']');
		if (close == NULL || (close[1] != '\0' && close[1] != ':'))
			return -EINVAL;
		hlen = (size_t)(close - s - 1);
		s++;
		port = close[1] == ':' ? close + 2 : NULL;
	} else {
		/* IPV4, IPV4:PORT, or a bare IPv6 address (no port). */
		close = strrchr(s, ':');
		if (close != NULL && strchr(s, ':') == close) {
			hlen = (size_t)(close - s);
			port = close + 1;
		} else {
			hlen = strlen(s);
		}
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (port != NULL) {
		if (port[0] < '0' || port[0] > '9')
			return -EINVAL;
		errno = 0;
		p = strtoul(port, &end, 10);
		if (errno != 0 || *end != '\0' || p == 0 || p > 65535)
			return -ERANGE;
	}
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)p);
		*len = sizeof(*v4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)p);
		*len = sizeof(*v6);
		return 0;
	}
	return -EINVAL;
}

void peer_endpoint_format(const struct sockaddr *sa, char *buf, size_t size)
{
	struct peer_addr a;
	char host[INET6_ADDRSTRLEN];

	if (peer_from_sockaddr(sa, sizeof(struct sockaddr_storage), &a) < 0) {
		snprintf(buf, size, "?");
		return;
	}
	/* A listener's own family, not the unmapped one: [::] stays [::]. */
	if (sa->sa_family == AF_INET6) {
		inet_ntop(AF_INET6,
			  &((const struct sockaddr_in6 *)sa)->sin6_addr, host,
			  sizeof(host));
		snprintf(buf, size, "[%s]:%u", host, a.port);
	} else {
		peer_format(&a, host, sizeof(host));
		snprintf(buf, size, "%s:%u", host, a.port);
	}
}
