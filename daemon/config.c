/*
 * cand.conf, read with inih. This file knows the [interface NAME]
 * sections (bus-off recovery per interface); other sections belong to other
 * parts of cand and are left to them. A missing default file means
 * defaults; a missing file given with -c, or any error in a section of
 * ours, stops the daemon at startup with the file and line, because a
 * policy silently not applied is worse than no daemon.
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
#include <ini.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"

#define CONFIG_SECTION		      "interface "
#define CONFIG_DEFAULT_RESTART_MS     100
#define CONFIG_DEFAULT_DELAY_MS	      100
#define CONFIG_DEFAULT_MAX_PER_MINUTE 10

/* Which keys a section set, to check they fit its mode. */
#define CONFIG_SET_MODE	      0x1u
#define CONFIG_SET_RESTART_MS 0x2u
#define CONFIG_SET_DELAY      0x4u
#define CONFIG_SET_MAX	      0x8u

struct config_parse {
	struct cand_config *cfg;
	unsigned *set; /* per policy */
	char err[256];
	int failed;
};

static int config_fail(struct config_parse *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int config_fail(struct config_parse *p, const char *fmt, ...)
{
	va_list ap;

	/* inih reports the first failing line; keep the first reason too. */
	if (!p->failed) {
		va_start(ap, fmt);
		vsnprintf(p->err, sizeof(p->err), fmt, ap);
		va_end(ap);
		p->failed = 1;
	}
	return 0;
}

static struct busoff_policy *config_policy(struct config_parse *p,
					   const char *ifname, unsigned **set)
{
	struct cand_config *cfg = p->cfg;
	struct busoff_policy *v;
	unsigned *s;
	size_t i;

	for (i = 0; i < cfg->n_busoff; i++) {
		if (strcmp(cfg->busoff[i].ifname, ifname) == 0) {
			*set = &p->set[i];
			return &cfg->busoff[i];
		}
	}
	v = realloc(cfg->busoff, (cfg->n_busoff + 1) * sizeof(*v));
	if (v == NULL)
		return NULL;
	cfg->busoff = v;
	s = realloc(p->set, (cfg->n_busoff + 1) * sizeof(*s));
	if (s == NULL)
		return NULL;
	p->set = s;
	v = &cfg->busoff[cfg->n_busoff];
	memset(v, 0, sizeof(*v));
	snprintf(v->ifname, sizeof(v->ifname), "%s", ifname);
	v->restart_ms = CONFIG_DEFAULT_RESTART_MS;
	v->delay_ms = CONFIG_DEFAULT_DELAY_MS;
	v->max_per_minute = CONFIG_DEFAULT_MAX_PER_MINUTE;
	s[cfg->n_busoff] = 0;
	*set = &s[cfg->n_busoff];
	cfg->n_busoff++;
	return v;
}

static int config_uint(const char *value, unsigned long max, uint32_t *out)
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

static int config_handler(void *user, const char *section, const char *name,
			  const char *value)
{
	struct config_parse *p = user;
	struct busoff_policy *bp;
	const char *ifname;
	unsigned *set;
	uint32_t v;

	/* Not ours: another part of cand reads it. */
	if (strncmp(section, CONFIG_SECTION, strlen(CONFIG_SECTION)) != 0)
		return 1;
	ifname = section + strlen(CONFIG_SECTION);
	while (*ifname == ' ')
		ifname++;
	if (ifname[0] == '\0' || strlen(ifname) >= IFNAMSIZ ||
	    strpbrk(ifname, " /") != NULL)
		return config_fail(p, "[%s]: \"%s\" is not an interface name",
				   section, ifname);
	bp = config_policy(p, ifname, &set);
	if (bp == NULL)
		return config_fail(p, "out of memory");

	if (strcmp(name, "busoff-recovery") == 0) {
		if (strcmp(value, "kernel") == 0)
			bp->mode = BUSOFF_KERNEL;
		else if (strcmp(value, "cand") == 0)
			bp->mode = BUSOFF_CAND;
		else if (strcmp(value, "none") == 0)
			bp->mode = BUSOFF_NONE;
		else
			return config_fail(p,
					   "[%s]: busoff-recovery is kernel, "
					   "cand or none, not \"%s\"",
					   section, value);
		*set |= CONFIG_SET_MODE;
	} else if (strcmp(name, "restart-ms") == 0) {
		if (config_uint(value, UINT32_MAX, &v) < 0 || v == 0)
			return config_fail(p,
					   "[%s]: restart-ms is a number of "
					   "milliseconds above 0, not \"%s\"",
					   section, value);
		bp->restart_ms = v;
		*set |= CONFIG_SET_RESTART_MS;
	} else if (strcmp(name, "restart-delay-ms") == 0) {
		if (config_uint(value, 3600000, &v) < 0)
			return config_fail(p,
					   "[%s]: restart-delay-ms is 0 to "
					   "3600000 milliseconds, not \"%s\"",
					   section, value);
		bp->delay_ms = v;
		*set |= CONFIG_SET_DELAY;
	} else if (strcmp(name, "max-restarts-per-minute") == 0) {
		if (config_uint(value, BUSOFF_MAX_PER_MINUTE, &v) < 0)
			return config_fail(p,
					   "[%s]: max-restarts-per-minute is 0 "
					   "(no limit) to %d, not \"%s\"",
					   section, BUSOFF_MAX_PER_MINUTE,
					   value);
		bp->max_per_minute = v;
		*set |= CONFIG_SET_MAX;
	} else {
		return config_fail(p,
				   "[%s]: unknown key \"%s\" (busoff-recovery, "
				   "restart-ms, restart-delay-ms, "
				   "max-restarts-per-minute)",
				   section, name);
	}
	return 1;
}

/* Keys that do not fit the section's mode are mistakes; say so. */
static int config_check(struct config_parse *p)
{
	size_t i;

	for (i = 0; i < p->cfg->n_busoff; i++) {
		const struct busoff_policy *bp = &p->cfg->busoff[i];
		unsigned set = p->set[i];

		if (!(set & CONFIG_SET_MODE)) {
			snprintf(p->err, sizeof(p->err),
				 "[interface %s]: busoff-recovery is missing "
				 "(kernel, cand or none)",
				 bp->ifname);
			return -EINVAL;
		}
		if ((set & CONFIG_SET_RESTART_MS) &&
		    bp->mode != BUSOFF_KERNEL) {
			snprintf(p->err, sizeof(p->err),
				 "[interface %s]: restart-ms goes with "
				 "busoff-recovery = kernel",
				 bp->ifname);
			return -EINVAL;
		}
		if ((set & (CONFIG_SET_DELAY | CONFIG_SET_MAX)) &&
		    bp->mode != BUSOFF_CAND) {
			snprintf(p->err, sizeof(p->err),
				 "[interface %s]: restart-delay-ms and "
				 "max-restarts-per-minute go with "
				 "busoff-recovery = cand",
				 bp->ifname);
			return -EINVAL;
		}
	}
	return 0;
}

static int config_finish(struct config_parse *p, int rc, char *err,
			 size_t esize)
{
	if (rc == -2) {
		snprintf(err, esize, "out of memory");
		rc = -ENOMEM;
	} else if (rc > 0) {
		snprintf(err, esize, "line %d: %s", rc,
			 p->failed ? p->err : "syntax error");
		rc = -EINVAL;
	} else if (rc == 0 && (rc = config_check(p)) < 0) {
		snprintf(err, esize, "%s", p->err);
	}
	free(p->set);
	if (rc < 0)
		config_free(p->cfg);
	return rc;
}

int config_parse_string(struct cand_config *cfg, const char *text, char *err,
			size_t esize)
{
	struct config_parse p = {.cfg = cfg};

	memset(cfg, 0, sizeof(*cfg));
	return config_finish(&p, ini_parse_string(text, config_handler, &p),
			     err, esize);
}

int config_load(struct cand_ctx *ctx)
{
	struct config_parse p = {.cfg = &ctx->config};
	char err[320];
	FILE *f;
	int rc;

	memset(&ctx->config, 0, sizeof(ctx->config));
	f = fopen(ctx->config_path, "r");
	if (f == NULL) {
		if (errno == ENOENT && !ctx->config_explicit) {
			log_info("no %s: defaults", ctx->config_path);
			return 0;
		}
		rc = -errno;
		log_err("%s: %s", ctx->config_path, strerror(errno));
		return rc;
	}
	rc = config_finish(&p, ini_parse_file(f, config_handler, &p), err,
			   sizeof(err));
	fclose(f);
	if (rc < 0) {
		log_err("%s: %s", ctx->config_path, err);
		return rc;
	}
	log_info("%s: bus-off recovery for %zu interface%s", ctx->config_path,
		 ctx->config.n_busoff, ctx->config.n_busoff == 1 ? "" : "s");
	return 0;
}

void config_free(struct cand_config *cfg)
{
	free(cfg->busoff);
	cfg->busoff = NULL;
	cfg->n_busoff = 0;
}

const struct busoff_policy *config_busoff(const struct cand_config *cfg,
					  const char *ifname)
{
	size_t i;

	for (i = 0; i < cfg->n_busoff; i++)
		if (strcmp(cfg->busoff[i].ifname, ifname) == 0)
			return &cfg->busoff[i];
	return NULL;
}
