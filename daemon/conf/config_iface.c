/*
 * [interface NAME]: the bus-off recovery of one interface (the model is
 * ops/busoff.c, which applies it, again on SIGHUP):
 *
 *   [interface can0]
 *   busoff-recovery = kernel        # kernel | cand | none
 *   restart-ms = 100                # kernel: the kernel's restart-ms
 *
 *   [interface can1]
 *   busoff-recovery = cand
 *   restart-delay-ms = 200          # cand: restart this long after bus-off
 *   max-restarts-per-minute = 6     # cand: then wait; 0 = no limit
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/config_parse.h"

#define CONFIG_DEFAULT_RESTART_MS     100
#define CONFIG_DEFAULT_DELAY_MS	      100
#define CONFIG_DEFAULT_MAX_PER_MINUTE 10

/* Which keys an [interface] section set, to check they fit its mode. */
#define CONFIG_SET_MODE	      0x1u
#define CONFIG_SET_RESTART_MS 0x2u
#define CONFIG_SET_DELAY      0x4u
#define CONFIG_SET_MAX	      0x8u

int config_iface_begin(struct config_parse *p, const char *name)
{
	struct cand_config *cfg = p->cfg;
	struct busoff_policy *v;
	unsigned *set, *line;
	size_t i;

	if (strlen(name) >= IFNAMSIZ || strchr(name, '/') != NULL)
		return config_error(p, "[interface %s]: not an interface name",
				    name);
	for (i = 0; i < cfg->n_busoff; i++)
		if (strcmp(cfg->busoff[i].ifname, name) == 0)
			return config_error(p, "[interface %s] again", name);
	v = realloc(cfg->busoff, (cfg->n_busoff + 1) * sizeof(*v));
	if (v != NULL)
		cfg->busoff = v;
	set = realloc(p->iface_set, (cfg->n_busoff + 1) * sizeof(*set));
	if (set != NULL)
		p->iface_set = set;
	line = realloc(p->iface_line, (cfg->n_busoff + 1) * sizeof(*line));
	if (line != NULL)
		p->iface_line = line;
	if (v == NULL || set == NULL || line == NULL)
		return config_error(p, "out of memory");
	v = &cfg->busoff[cfg->n_busoff];
	memset(v, 0, sizeof(*v));
	snprintf(v->ifname, sizeof(v->ifname), "%s", name);
	v->restart_ms = CONFIG_DEFAULT_RESTART_MS;
	v->delay_ms = CONFIG_DEFAULT_DELAY_MS;
	v->max_per_minute = CONFIG_DEFAULT_MAX_PER_MINUTE;
	set[cfg->n_busoff] = 0;
	line[cfg->n_busoff] = p->line;
	p->iface = v;
	cfg->n_busoff++;
	return 1;
}

static int config_iface_uint(const char *value, unsigned long max,
			     uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(value, &end, 10);
	if (errno != 0 || end == value || *end != '\0' || value[0] == '-' ||
	    v > max)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int config_iface_key(struct config_parse *p, const char *key, const char *value)
{
	struct busoff_policy *bp = p->iface;
	unsigned *set = &p->iface_set[bp - p->cfg->busoff];
	uint32_t v;

	if (strcmp(key, "busoff-recovery") == 0) {
		if (strcmp(value, "kernel") == 0)
			bp->mode = BUSOFF_KERNEL;
		else if (strcmp(value, "cand") == 0)
			bp->mode = BUSOFF_CAND;
		else if (strcmp(value, "none") == 0)
			bp->mode = BUSOFF_NONE;
		else
			return config_error(
				p,
				"busoff-recovery is kernel, cand or "
				"none, not \"%s\"",
				value);
		*set |= CONFIG_SET_MODE;
	} else if (strcmp(key, "restart-ms") == 0) {
		if (config_iface_uint(value, UINT32_MAX, &v) < 0 || v == 0)
			return config_error(p,
					    "restart-ms is a number of "
					    "milliseconds above 0, not \"%s\"",
					    value);
		bp->restart_ms = v;
		*set |= CONFIG_SET_RESTART_MS;
	} else if (strcmp(key, "restart-delay-ms") == 0) {
		if (config_iface_uint(value, 3600000, &v) < 0)
			return config_error(p,
					    "restart-delay-ms is 0 to 3600000 "
					    "milliseconds, not \"%s\"",
					    value);
		bp->delay_ms = v;
		*set |= CONFIG_SET_DELAY;
	} else if (strcmp(key, "max-restarts-per-minute") == 0) {
		if (config_iface_uint(value, BUSOFF_MAX_PER_MINUTE, &v) < 0)
			return config_error(p,
					    "max-restarts-per-minute is 0 (no "
					    "limit) to %d, not \"%s\"",
					    BUSOFF_MAX_PER_MINUTE, value);
		bp->max_per_minute = v;
		*set |= CONFIG_SET_MAX;
	} else {
		return config_error(p,
				    "unknown key \"%s\" (busoff-recovery, "
				    "restart-ms, restart-delay-ms, "
				    "max-restarts-per-minute)",
				    key);
	}
	return 1;
}

/* Keys that do not fit the section's mode are mistakes; say so. */
int config_iface_check(struct config_parse *p, char *err, size_t esize)
{
	size_t i;

	for (i = 0; i < p->cfg->n_busoff; i++) {
		const struct busoff_policy *bp = &p->cfg->busoff[i];
		unsigned set = p->iface_set[i];
		const char *why = NULL;

		if (!(set & CONFIG_SET_MODE))
			why = "busoff-recovery is missing (kernel, cand or "
			      "none)";
		else if ((set & CONFIG_SET_RESTART_MS) &&
			 bp->mode != BUSOFF_KERNEL)
			why = "restart-ms goes with busoff-recovery = kernel";
		else if ((set & (CONFIG_SET_DELAY | CONFIG_SET_MAX)) &&
			 bp->mode != BUSOFF_CAND)
			why = "restart-delay-ms and max-restarts-per-minute go "
			      "with busoff-recovery = cand";
		if (why != NULL) {
			snprintf(err, esize, "%s:%u: [interface %s]: %s",
				 p->file, p->iface_line[i], bp->ifname, why);
			return -EINVAL;
		}
	}
	return 0;
}
