/*
 * [socketcand]: the TCP front-end that speaks socketcand's protocol
 * (daemon/sc/). Without the section (and without a TCP socket from
 * systemd) it is off. Who may use it is the rules' business, by peer
 * address ([rule NAME] peers = ...); this section says where it listens,
 * which interfaces it offers, how many connections it takes, and whether
 * it announces itself with socketcand's discovery beacon.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include "conf/config_parse.h"

/* Bits of config_parse.sc_seen: a single-valued key given twice. */
enum {
	CONFIG_SC_MAX_CONNS = 1 << 0,
	CONFIG_SC_MAX_PER_PEER = 1 << 1,
	CONFIG_SC_BEACON = 1 << 2,
	CONFIG_SC_BEACON_MS = 1 << 3,
	CONFIG_SC_BEACON_NAME = 1 << 4,
	CONFIG_SC_BEACON_DESC = 1 << 5,
};

int config_sc_offers(const struct sc_conf *c, const char *ifname)
{
	size_t i;

	if (c->n_ifaces == 0)
		return 1;
	for (i = 0; i < c->n_ifaces; i++)
		if (fnmatch(c->ifaces[i], ifname, 0) == 0)
			return 1;
	return 0;
}

void config_sc_free(struct sc_conf *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n_ifaces; i++)
		free(c->ifaces[i]);
	free(c->ifaces);
	free(c->listen);
	free(c);
}

void config_sc_defaults(struct sc_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->max_conns = 64;
	c->max_per_peer = 16;
	c->beacon_ms = 3000;
	snprintf(c->beacon_desc, sizeof(c->beacon_desc),
		 "cand, the CAN bus broker");
}

/* The section's settings, with the defaults, on its first key. */
static struct sc_conf *config_sc_get(struct config_parse *p)
{
	struct sc_conf *c = p->cfg->sc;

	if (c != NULL)
		return c;
	if ((c = malloc(sizeof(*c))) == NULL)
		return NULL;
	config_sc_defaults(c);
	p->cfg->sc = c;
	return c;
}

static int config_sc_listen(struct config_parse *p, const char *key, char *item)
{
	struct sc_conf *c = p->cfg->sc;
	struct sc_endpoint *grown;
	int rc;

	(void)key;
	grown = realloc(c->listen, (c->n_listen + 1) * sizeof(*grown));
	if (grown == NULL)
		return config_error(p, "out of memory");
	c->listen = grown;
	rc = peer_endpoint_parse(item, SC_CONF_PORT, &grown[c->n_listen].ss,
				 &grown[c->n_listen].len);
	if (rc < 0)
		return config_error(p,
				    "listen: '%s' is not ADDRESS, ADDRESS:PORT "
				    "or [IPV6]:PORT (port 1..65535)",
				    item);
	c->n_listen++;
	return 1;
}

static int config_sc_iface(struct config_parse *p, const char *key, char *item)
{
	struct sc_conf *c = p->cfg->sc;
	char **grown;

	(void)key;
	if (strlen(item) >= 64)
		return config_error(p, "interfaces: '%s' is too long", item);
	grown = realloc(c->ifaces, (c->n_ifaces + 1) * sizeof(*grown));
	if (grown == NULL)
		return config_error(p, "out of memory");
	c->ifaces = grown;
	if ((grown[c->n_ifaces] = strdup(item)) == NULL)
		return config_error(p, "out of memory");
	c->n_ifaces++;
	return 1;
}

/* beacon = off, or the IPv4 (broadcast) address it goes to. */
static int config_sc_beacon(struct config_parse *p, struct sc_conf *c,
			    const char *value)
{
	if (strcmp(value, "off") == 0) {
		c->beacon = 0;
		return 1;
	}
	if (peer_endpoint_parse(value, SC_CONF_BEACON_PORT, &c->beacon_to.ss,
				&c->beacon_to.len) < 0 ||
	    c->beacon_to.ss.ss_family != AF_INET)
		return config_error(p,
				    "beacon: '%s' is not off or an IPv4 "
				    "(broadcast) ADDRESS[:PORT]",
				    value);
	c->beacon = 1;
	return 1;
}

static int config_sc_number(struct config_parse *p, const char *key,
			    const char *value, unsigned long long min,
			    unsigned long long max, unsigned *out)
{
	unsigned long long v;

	if (config_number(value, 0, &v) < 0)
		return config_error(p, "%s: '%s' is not a number", key, value);
	if (v < min || v > max)
		return config_error(p, "%s: %llu is outside %llu..%llu", key, v,
				    min, max);
	*out = (unsigned)v;
	return 1;
}

static int config_sc_text(struct config_parse *p, const char *key,
			  const char *value, char *out, size_t size)
{
	if (strlen(value) >= size)
		return config_error(p, "%s: longer than %zu characters", key,
				    size - 1);
	snprintf(out, size, "%s", value);
	return 1;
}

int config_sc_key(struct config_parse *p, const char *key, const char *value)
{
	static const struct {
		const char *key;
		unsigned bit;
	} once[] = {
		{"max_connections", CONFIG_SC_MAX_CONNS},
		{"max_connections_per_peer", CONFIG_SC_MAX_PER_PEER},
		{"beacon", CONFIG_SC_BEACON},
		{"beacon_interval_ms", CONFIG_SC_BEACON_MS},
		{"beacon_name", CONFIG_SC_BEACON_NAME},
		{"beacon_description", CONFIG_SC_BEACON_DESC},
	};
	struct sc_conf *c = config_sc_get(p);
	size_t i;

	if (c == NULL)
		return config_error(p, "out of memory");
	/* Lists add up, as in [rule NAME]. */
	if (strcmp(key, "listen") == 0)
		return config_each(p, key, value, config_sc_listen);
	if (strcmp(key, "interfaces") == 0)
		return config_each(p, key, value, config_sc_iface);
	for (i = 0; i < sizeof(once) / sizeof(once[0]); i++) {
		if (strcmp(key, once[i].key) != 0)
			continue;
		if (p->sc_seen & once[i].bit)
			return config_error(
				p, "[socketcand]: %s is given twice", key);
		p->sc_seen |= once[i].bit;
		switch (once[i].bit) {
		case CONFIG_SC_MAX_CONNS:
			return config_sc_number(p, key, value, 1, 100000,
						&c->max_conns);
		case CONFIG_SC_MAX_PER_PEER:
			return config_sc_number(p, key, value, 1, 100000,
						&c->max_per_peer);
		case CONFIG_SC_BEACON:
			return config_sc_beacon(p, c, value);
		case CONFIG_SC_BEACON_MS:
			/* The protocol wants one at least every 3 seconds. */
			return config_sc_number(p, key, value, 100, 3000,
						&c->beacon_ms);
		case CONFIG_SC_BEACON_NAME:
			return config_sc_text(p, key, value, c->beacon_name,
					      sizeof(c->beacon_name));
		default:
			return config_sc_text(p, key, value, c->beacon_desc,
					      sizeof(c->beacon_desc));
		}
	}
	return config_error(
		p,
		"[socketcand]: unknown key '%s' (known: listen "
		"interfaces max_connections max_connections_per_peer "
		"beacon beacon_interval_ms beacon_name "
		"beacon_description)",
		key);
}
