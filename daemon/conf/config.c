/*
 * etc/cand.conf: an INI file read with inih. Each kind of section has one
 * entry in config_sections[] and a function that takes its keys, so a new
 * kind of section is one line there plus its function. Every value is
 * checked here, at load time, so that `cand -n` finds whatever a reload
 * would trip over; the file is read whole into a fresh struct cand_config
 * and only swapped in when all of it is good.
 *
 *   [limits]          daemon-wide limits (config_limits.c)
 *   [rule NAME]       an access rule (config_rule.c; the model is policy.c)
 *   [interface NAME]  bus-off recovery of one interface (config_iface.c;
 *                     the model is ops/busoff.c), busoff_reload() on SIGHUP
 *   [socketcand]      the TCP front-end (config_sc.c; the model is sc/)
 *   [isolate]         the interfaces in cand's own network namespace
 *                     (config_isolate.c; the units do the moving)
 *
 * This file is the driver: inih, the section table, numbers and lists.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ini.h>
#include <linux/can.h>
#include <linux/can/raw.h>

#include "conf/config_parse.h"
#include "wire.h"

static const struct config_section config_sections[] = {
	{"limits", 0, NULL, config_limits_key},
	{"rule", 1, config_rule_begin, config_rule_key},
	{"interface", 1, config_iface_begin, config_iface_key},
	{"socketcand", 0, NULL, config_sc_key},
	{"isolate", 0, NULL, config_isolate_key},
};

/* Records the first error (by line) and tells inih to note the line. */
int config_error(struct config_parse *p, const char *fmt, ...)
{
	va_list ap;

	if (p->err_line == 0) {
		p->err_line = p->line;
		va_start(ap, fmt);
		vsnprintf(p->err, sizeof(p->err), fmt, ap);
		va_end(ap);
	}
	return 0;
}

int config_warn(struct config_parse *p, const char *fmt, ...)
{
	struct cand_config *cfg = p->cfg;
	char msg[CONFIG_ERR_MAX], **w;
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	w = realloc(cfg->warnings, (cfg->n_warnings + 1) * sizeof(*w));
	if (w == NULL)
		return config_error(p, "out of memory");
	cfg->warnings = w;
	n = asprintf(&w[cfg->n_warnings], "%s:%u: %s", p->file, p->line, msg);
	if (n < 0)
		return config_error(p, "out of memory");
	cfg->n_warnings++;
	return 1;
}

void config_defaults(struct cand_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->limits = (struct cand_limits){
		.max_msg = CAND_MAX_MSG,
		.out_high = 4u << 20,
		.out_low = 1u << 20,
		.rcvbuf = 4 << 20,
		.rest_us = 1000,
		.max_clients = 4096,
		.max_filters = CAN_RAW_FILTER_MAX,
		.max_periodic = 64,
		.max_monitors = 64,
	};
}

void config_free(struct cand_config *cfg)
{
	size_t i;

	policy_free(cfg->policy);
	cfg->policy = NULL;
	free(cfg->busoff);
	cfg->busoff = NULL;
	cfg->n_busoff = 0;
	config_sc_free(cfg->sc);
	cfg->sc = NULL;
	for (i = 0; i < cfg->isolate.n_patterns; i++)
		free(cfg->isolate.patterns[i]);
	free(cfg->isolate.patterns);
	memset(&cfg->isolate, 0, sizeof(cfg->isolate));
	for (i = 0; i < cfg->n_warnings; i++)
		free(cfg->warnings[i]);
	free(cfg->warnings);
	cfg->warnings = NULL;
	cfg->n_warnings = 0;
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

/* ---- values ---- */

int config_number(const char *s, int sizes, unsigned long long *out)
{
	unsigned long long v, mul = 1;
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return -ERANGE;
	if (sizes && (*end == 'K' || *end == 'k'))
		mul = 1024, end++;
	else if (sizes && (*end == 'M' || *end == 'm'))
		mul = 1024 * 1024, end++;
	if (*end != '\0')
		return -EINVAL;
	if (v > ULLONG_MAX / mul)
		return -ERANGE;
	*out = v * mul;
	return 0;
}

int config_hex(const char *s, uint32_t max, uint32_t *out)
{
	unsigned long v;
	char *end;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	if (!isxdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 16);
	if (errno != 0 || *end != '\0')
		return -EINVAL;
	if (v > max)
		return -ERANGE;
	*out = (uint32_t)v;
	return 0;
}

int config_each(struct config_parse *p, const char *key, const char *value,
		int (*fn)(struct config_parse *, const char *key, char *item))
{
	char *copy = strdup(value), *item, *save = NULL;
	int n = 0, ok = 1;

	if (copy == NULL)
		return config_error(p, "out of memory");
	for (item = strtok_r(copy, " \t,", &save); item != NULL && ok;
	     item = strtok_r(NULL, " \t,", &save), n++)
		ok = fn(p, key, item);
	free(copy);
	if (ok && n == 0)
		return config_error(p, "%s: empty list", key);
	return ok;
}

/* ---- inih glue ---- */

static int config_begin_section_at(struct config_parse *p, const char *section,
				   char *kind, size_t ksize)
{
	const char *name;
	size_t i, len;

	snprintf(p->section, sizeof(p->section), "%s", section);
	p->kind = NULL;
	p->rule = NULL;
	p->iface = NULL;
	len = strcspn(section, " \t");
	snprintf(kind, ksize, "%.*s", (int)len, section);
	name = section + len;
	name += strspn(name, " \t");
	for (i = 0; i < sizeof(config_sections) / sizeof(config_sections[0]);
	     i++)
		if (strcmp(kind, config_sections[i].kind) == 0)
			p->kind = &config_sections[i];
	if (p->kind == NULL)
		return config_error(p,
				    "unknown section [%s] (known: [limits], "
				    "[rule NAME], [interface NAME], "
				    "[socketcand], [isolate])",
				    section);
	if (p->kind->named && name[0] == '\0')
		return config_error(p, "[%s] needs a name: [%s NAME]", kind,
				    kind);
	if (!p->kind->named && name[0] != '\0')
		return config_error(p, "[%s] takes no name", kind);
	if (p->kind->named && strpbrk(name, " \t") != NULL)
		return config_error(p, "[%s %s]: the name has blanks", kind,
				    name);
	return p->kind->begin != NULL ? p->kind->begin(p, name) : 1;
}

static int config_begin_section(struct config_parse *p, const char *section)
{
	char kind[sizeof(p->section)];
	unsigned key_line = p->line;
	int ok;

	/* Errors about the section itself are the header's. */
	p->section_line = p->header_line;
	p->line = p->header_line;
	ok = config_begin_section_at(p, section, kind, sizeof(kind));
	p->line = key_line;
	return ok;
}

static int config_handler(void *user, const char *section, const char *key,
			  const char *value)
{
	struct config_parse *p = user;

	if (section[0] == '\0')
		return config_error(p, "'%s' before any [section]", key);
	/* A new header, even one repeating the last name, is a new section. */
	if ((strcmp(section, p->section) != 0 ||
	     p->header_line != p->section_line) &&
	    !config_begin_section(p, section)) {
		/* Keys of a bad section are not errors of their own. */
		p->kind = NULL;
		return 0;
	}
	if (p->kind == NULL)
		return 0;
	if (p->kind->begin != NULL && p->rule == NULL && p->iface == NULL)
		return 0;
	return p->kind->key(p, key, value);
}

/* inih's reader, counting lines so that errors can name theirs. */
static char *config_reader(char *str, int num, void *stream)
{
	struct config_parse *p = stream;
	const char *s;
	ssize_t n;

	n = getline(&p->linebuf, &p->linecap, p->f);
	if (n < 0)
		return NULL;
	p->line++;
	if (n >= num) {
		config_error(p, "line longer than %d characters", num - 2);
		n = num - 1;
	}
	memcpy(str, p->linebuf, (size_t)n);
	str[n] = '\0';
	s = str + strspn(str, " \t");
	if (*s == '[')
		p->header_line = p->line;
	return str;
}

static int config_parse_file(FILE *f, const char *file, struct cand_config *cfg,
			     char *err, size_t esize)
{
	struct config_parse p;
	char why[CONFIG_ERR_MAX];
	unsigned line;
	size_t i;
	int rc;

	memset(&p, 0, sizeof(p));
	config_defaults(cfg);
	cfg->policy = policy_new();
	if (cfg->policy == NULL) {
		snprintf(err, esize, "%s: out of memory", file);
		return -ENOMEM;
	}
	p.cfg = cfg;
	p.file = file;
	p.f = f;
	rc = ini_parse_stream(config_reader, &p, config_handler, &p);
	free(p.linebuf);
	if (rc == 0 && p.err_line == 0)
		rc = config_iface_check(&p, err, esize) < 0 ? -3 : 0;
	free(p.iface_set);
	free(p.iface_line);
	if (rc == -3) {
		config_free(cfg);
		return -EINVAL;
	}
	if (rc == -2) {
		snprintf(err, esize, "%s: out of memory", file);
		config_free(cfg);
		return -ENOMEM;
	}
	if (rc > 0 || p.err_line > 0) {
		/* inih flags our errors too; a line only it flags is syntax. */
		line = p.err_line > 0 && (rc <= 0 || p.err_line <= (unsigned)rc)
			       ? p.err_line
			       : (unsigned)rc;
		snprintf(err, esize, "%s:%u: %s", file, line,
			 line == p.err_line
				 ? p.err
				 : "syntax error (expected [section], "
				   "name = value, or a comment)");
		config_free(cfg);
		return -EINVAL;
	}
	if (cfg->limits.out_low >= cfg->limits.out_high) {
		snprintf(err, esize,
			 "%s:%u: output_low_watermark (%zu) must be below "
			 "output_high_watermark (%zu)",
			 file, p.watermark_line, cfg->limits.out_low,
			 cfg->limits.out_high);
		config_free(cfg);
		return -EINVAL;
	}
	for (i = 0; i < policy_n_rules(cfg->policy); i++) {
		struct policy_rule *r = policy_rule_at(cfg->policy, i);

		if (policy_rule_validate(r, why, sizeof(why)) < 0) {
			snprintf(err, esize, "%s:%u: %s", file,
				 policy_rule_line(r), why);
			config_free(cfg);
			return -EINVAL;
		}
	}
	return 0;
}

int config_load(const char *path, struct cand_config *cfg, char *err,
		size_t esize)
{
	FILE *f = fopen(path, "re");
	int rc;

	if (f == NULL) {
		rc = -errno;
		snprintf(err, esize, "%s: %s", path, strerror(errno));
		memset(cfg, 0, sizeof(*cfg));
		return rc;
	}
	rc = config_parse_file(f, path, cfg, err, esize);
	fclose(f);
	return rc;
}

int config_load_string(const char *text, const char *name,
		       struct cand_config *cfg, char *err, size_t esize)
{
	FILE *f;
	int rc;

	/* fmemopen() refuses a zero size. */
	if (text[0] == '\0')
		text = "\n";
	f = fmemopen((void *)text, strlen(text), "r");
	if (f == NULL) {
		snprintf(err, esize, "%s: %s", name, strerror(errno));
		memset(cfg, 0, sizeof(*cfg));
		return -ENOMEM;
	}
	rc = config_parse_file(f, name, cfg, err, esize);
	fclose(f);
	return rc;
}
