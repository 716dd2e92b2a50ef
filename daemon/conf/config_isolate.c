/*
 * [isolate]: the CAN interfaces that live in a network namespace only
 * cand uses, where nobody else can open a socket on them:
 *
 *   [isolate]
 *   interfaces = can0 can1 vcan*    # fnmatch(3) patterns
 *   on-stop = return                # return (default) | stay
 *
 * cand does not move them itself, which would take CAP_SYS_ADMIN: the
 * units do (systemd/cand-netns, reading this section through `cand -I`),
 * and the daemon runs inside the namespace. So the section takes effect
 * when cand.service starts, not on a reload.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/config_parse.h"

static int config_isolate_iface(struct config_parse *p, const char *key,
				char *item)
{
	struct cand_isolate *iso = &p->cfg->isolate;
	char **v;

	(void)key;
	if (strlen(item) >= IFNAMSIZ || strchr(item, '/') != NULL)
		return config_error(p,
				    "[isolate] interfaces: '%s' is not an "
				    "interface name or pattern",
				    item);
	v = realloc(iso->patterns, (iso->n_patterns + 1) * sizeof(*v));
	if (v == NULL)
		return config_error(p, "out of memory");
	iso->patterns = v;
	if ((v[iso->n_patterns] = strdup(item)) == NULL)
		return config_error(p, "out of memory");
	iso->n_patterns++;
	return 1;
}

int config_isolate_key(struct config_parse *p, const char *key,
		       const char *value)
{
	if (strcmp(key, "interfaces") == 0)
		return config_each(p, key, value, config_isolate_iface);
	if (strcmp(key, "on-stop") == 0) {
		if (strcmp(value, "return") == 0)
			p->cfg->isolate.stay = 0;
		else if (strcmp(value, "stay") == 0)
			p->cfg->isolate.stay = 1;
		else
			return config_error(p,
					    "[isolate] on-stop is return or "
					    "stay, not \"%s\"",
					    value);
		return 1;
	}
	return config_error(p,
			    "[isolate]: unknown key '%s' (known: interfaces "
			    "on-stop)",
			    key);
}
