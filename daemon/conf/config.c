/*
 * etc/cand.conf: an INI file read with inih. Each kind of section has one
 * entry in config_sections[] and a function that takes its keys, so a new
 * kind of section is one line there plus its function. Every value is
 * checked here, at load time, so that `cand -n` finds whatever a reload
 * would trip over; the file is read whole into a fresh struct cand_config
 * and only swapped in when all of it is good.
 *
 *   [limits]          daemon-wide limits (config_limits_key)
 *   [rule NAME]       an access rule (config_rule_key; the model is policy.c)
 *   [interface NAME]  bus-off recovery of one interface (config_iface_key;
 *                     the model is busoff.c), busoff_reload() on SIGHUP
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
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ini.h>
#include <linux/can.h>
#include <linux/can/raw.h>

#include "daemon.h"
#include "wire.h"

#define CONFIG_ERR_MAX		      256
#define CONFIG_DEFAULT_RESTART_MS     100
#define CONFIG_DEFAULT_DELAY_MS	      100
#define CONFIG_DEFAULT_MAX_PER_MINUTE 10

/* Which keys an [interface] section set, to check they fit its mode. */
#define CONFIG_SET_MODE	      0x1u
#define CONFIG_SET_RESTART_MS 0x2u
#define CONFIG_SET_DELAY      0x4u
#define CONFIG_SET_MAX	      0x8u
/* Room for a user or group entry from getpwnam_r/getgrnam_r. */
#define CONFIG_NSS_BUF 16384

struct config_parse;

struct config_section {
	const char *kind; /* first word between the brackets */
	int named;	  /* [kind NAME] rather than [kind] */
	int (*begin)(struct config_parse *p, const char *name);
	int (*key)(struct config_parse *p, const char *key, const char *value);
};

struct config_parse {
	struct cand_config *cfg;
	const char *file; /* for messages */
	FILE *f;
	char *linebuf;
	size_t linecap;
	unsigned line;	       /* the line inih is at: our reader counts */
	unsigned header_line;  /* the last [section] line seen */
	unsigned section_line; /* the header of the section being read */
	char section[128];     /* the section the last key was in */
	const struct config_section *kind; /* NULL: unknown section */
	struct policy_rule *rule;	   /* the [rule NAME] being read */
	struct busoff_policy *iface;	   /* the [interface NAME] being read */
	unsigned *iface_set;		   /* CONFIG_SET_* per busoff entry */
	unsigned *iface_line;		   /* its header line */
	unsigned limits_seen;		   /* bits: [limits] keys given */
	unsigned watermark_line;	   /* where a watermark was set */
	unsigned err_line;
	char err[CONFIG_ERR_MAX];
};

static int config_limits_key(struct config_parse *p, const char *key,
			     const char *value);
static int config_rule_begin(struct config_parse *p, const char *name);
static int config_rule_key(struct config_parse *p, const char *key,
			   const char *value);

static int config_iface_begin(struct config_parse *p, const char *name);
static int config_iface_key(struct config_parse *p, const char *key,
			    const char *value);

static const struct config_section config_sections[] = {
	{"limits", 0, NULL, config_limits_key},
	{"rule", 1, config_rule_begin, config_rule_key},
	{"interface", 1, config_iface_begin, config_iface_key},
};

/* Records the first error (by line) and tells inih to note the line. */
static int config_error(struct config_parse *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int config_error(struct config_parse *p, const char *fmt, ...)
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

void config_defaults(struct cand_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->limits = (struct cand_limits){
		.max_msg = CAND_MAX_MSG,
		.out_high = 4u << 20,
		.out_low = 1u << 20,
		.rcvbuf = 4 << 20,
		.max_clients = 4096,
		.max_filters = CAN_RAW_FILTER_MAX,
		.max_periodic = 64,
		.max_monitors = 64,
	};
}

void config_free(struct cand_config *cfg)
{
	policy_free(cfg->policy);
	cfg->policy = NULL;
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

/* ---- values ---- */

/* A decimal number with an optional K or M (KiB, MiB) suffix. */
static int config_number(const char *s, int sizes, unsigned long long *out)
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

/* A hexadecimal CAN id, with or without 0x, as can-utils writes them. */
static int config_hex(const char *s, uint32_t max, uint32_t *out)
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

/* Splits a list on blanks and commas; calls fn for each item. */
static int
config_each(struct config_parse *p, const char *key, const char *value,
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

/* ---- [limits] ---- */

enum config_type { CONFIG_SIZE_T, CONFIG_UNSIGNED, CONFIG_INT };

static const struct config_limit {
	const char *key;
	size_t off;
	enum config_type type;
	int sizes; /* takes K/M */
	unsigned long long min, max;
} config_limits[] = {
	{"max_clients", offsetof(struct cand_limits, max_clients),
	 CONFIG_UNSIGNED, 0, 1, 1000000},
	{"max_message_size", offsetof(struct cand_limits, max_msg),
	 CONFIG_SIZE_T, 1, 128, CAND_MAX_MSG},
	{"max_filters", offsetof(struct cand_limits, max_filters),
	 CONFIG_UNSIGNED, 0, 0, CAN_RAW_FILTER_MAX},
	{"max_periodic_tasks", offsetof(struct cand_limits, max_periodic),
	 CONFIG_UNSIGNED, 0, 0, 100000},
	{"max_monitors", offsetof(struct cand_limits, max_monitors),
	 CONFIG_UNSIGNED, 0, 0, 100000},
	{"output_high_watermark", offsetof(struct cand_limits, out_high),
	 CONFIG_SIZE_T, 1, 4096, 1ull << 30},
	{"output_low_watermark", offsetof(struct cand_limits, out_low),
	 CONFIG_SIZE_T, 1, 0, 1ull << 30},
	{"can_receive_buffer", offsetof(struct cand_limits, rcvbuf), CONFIG_INT,
	 1, 4096, 256u << 20},
};

static int config_limits_key(struct config_parse *p, const char *key,
			     const char *value)
{
	const struct config_limit *l = NULL;
	unsigned long long v;
	char *field;
	size_t i;

	for (i = 0; i < sizeof(config_limits) / sizeof(config_limits[0]); i++)
		if (strcmp(key, config_limits[i].key) == 0)
			l = &config_limits[i];
	if (l == NULL) {
		config_error(p, "[limits]: unknown key '%s' (known:", key);
		for (i = 0;
		     i < sizeof(config_limits) / sizeof(config_limits[0]); i++)
			snprintf(p->err + strlen(p->err),
				 sizeof(p->err) - strlen(p->err), " %s",
				 config_limits[i].key);
		snprintf(p->err + strlen(p->err),
			 sizeof(p->err) - strlen(p->err), ")");
		return 0;
	}
	i = (size_t)(l - config_limits);
	if (p->limits_seen & (1u << i))
		return config_error(p, "[limits]: %s is given twice", key);
	p->limits_seen |= 1u << i;
	if (config_number(value, l->sizes, &v) < 0)
		return config_error(p, "%s: '%s' is not a number%s", key, value,
				    l->sizes ? " (suffix K or M allowed)" : "");
	if (v < l->min || v > l->max)
		return config_error(p, "%s: %llu is outside %llu..%llu", key, v,
				    l->min, l->max);
	field = (char *)&p->cfg->limits + l->off;
	switch (l->type) {
	case CONFIG_SIZE_T:
		*(size_t *)(void *)field = (size_t)v;
		break;
	case CONFIG_UNSIGNED:
		*(unsigned *)(void *)field = (unsigned)v;
		break;
	case CONFIG_INT:
		*(int *)(void *)field = (int)v;
		break;
	}
	if (l->off == offsetof(struct cand_limits, out_high) ||
	    l->off == offsetof(struct cand_limits, out_low))
		p->watermark_line = p->line;
	return 1;
}

/* ---- [rule NAME] ---- */

static int config_rule_begin(struct config_parse *p, const char *name)
{
	struct policy *pol = p->cfg->policy;
	size_t i;

	for (i = 0; i < policy_n_rules(pol); i++)
		if (strcmp(policy_rule_name(policy_rule_at(pol, i)), name) == 0)
			return config_error(
				p,
				"[rule %s] is defined twice (first "
				"at line %u)",
				name, policy_rule_line(policy_rule_at(pol, i)));
	p->rule = policy_add_rule(pol, name, p->header_line);
	return p->rule != NULL ? 1 : config_error(p, "out of memory");
}

static int config_iface(struct config_parse *p, const char *key, char *item)
{
	(void)key;
	if (strlen(item) >= 64)
		return config_error(p, "interfaces: '%s' is too long", item);
	if (policy_rule_add_iface(p->rule, item) < 0)
		return config_error(p, "out of memory");
	return 1;
}

static int config_all_digits(const char *s)
{
	for (; *s != '\0'; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

static int config_user(struct config_parse *p, const char *key, char *item)
{
	struct passwd pw, *found = NULL;
	char buf[CONFIG_NSS_BUF];
	unsigned long long v;

	(void)key;
	if (strcmp(item, "*") == 0) {
		policy_rule_add_everyone(p->rule);
		return 1;
	}
	if (config_all_digits(item)) {
		if (config_number(item, 0, &v) < 0 || v >= (uid_t)-1)
			return config_error(p, "users: bad uid %s", item);
		return policy_rule_add_uid(p->rule, (uid_t)v) < 0
			       ? config_error(p, "out of memory")
			       : 1;
	}
	if (getpwnam_r(item, &pw, buf, sizeof(buf), &found) != 0 ||
	    found == NULL)
		return config_error(p, "users: no user '%s' on this system",
				    item);
	return policy_rule_add_uid(p->rule, found->pw_uid) < 0
		       ? config_error(p, "out of memory")
		       : 1;
}

static int config_group(struct config_parse *p, const char *key, char *item)
{
	struct group gr, *found = NULL;
	char buf[CONFIG_NSS_BUF];
	unsigned long long v;

	(void)key;
	if (strcmp(item, "*") == 0) {
		policy_rule_add_everyone(p->rule);
		return 1;
	}
	if (config_all_digits(item)) {
		if (config_number(item, 0, &v) < 0 || v >= (gid_t)-1)
			return config_error(p, "groups: bad gid %s", item);
		return policy_rule_add_gid(p->rule, (gid_t)v) < 0
			       ? config_error(p, "out of memory")
			       : 1;
	}
	if (getgrnam_r(item, &gr, buf, sizeof(buf), &found) != 0 ||
	    found == NULL)
		return config_error(p, "groups: no group '%s' on this system",
				    item);
	return policy_rule_add_gid(p->rule, found->gr_gid) < 0
		       ? config_error(p, "out of memory")
		       : 1;
}

static int config_right(struct config_parse *p, const char *key, char *item)
{
	int r = policy_right_from_name(item);

	(void)key;
	if (r < 0)
		return config_error(p,
				    "rights: unknown right '%s' (rights: read "
				    "send periodic monitor configure admin)",
				    item);
	policy_rule_add_rights(p->rule, POLICY_RIGHT_BIT(r));
	return 1;
}

/* ID, LO-HI or ID/MASK, in hex; key says 11- or 29-bit ids. */
static int config_ids(struct config_parse *p, const char *key, char *item)
{
	int ext = strcmp(key, "send_ext_ids") == 0;
	uint32_t max = ext ? CAN_EFF_MASK : CAN_SFF_MASK, a = 0, b = 0;
	char *sep = strpbrk(item, "-/");
	int is_mask = sep != NULL && *sep == '/', rc;

	if (sep != NULL)
		*sep = '\0';
	rc = config_hex(item, max, &a);
	if (rc == 0)
		rc = sep != NULL ? config_hex(sep + 1, max, &b) : 0;
	if (sep == NULL)
		b = a;
	if (sep != NULL)
		*sep = is_mask ? '/' : '-';
	if (rc == -ERANGE)
		return config_error(p, "%s: '%s' exceeds %s ids (max 0x%X)",
				    key, item, ext ? "29-bit" : "11-bit", max);
	if (rc < 0)
		return config_error(p,
				    "%s: '%s' is not ID, LO-HI or ID/MASK in "
				    "hex",
				    key, item);
	if (!is_mask && a > b)
		return config_error(p, "%s: '%s' is an empty range", key, item);
	if (policy_rule_add_ids(p->rule, ext, a, b, is_mask) < 0)
		return config_error(p, "out of memory");
	return 1;
}

static int config_rule_key(struct config_parse *p, const char *key,
			   const char *value)
{
	static const struct {
		const char *key;
		int (*fn)(struct config_parse *, const char *, char *);
	} keys[] = {
		{"interfaces", config_iface}, {"users", config_user},
		{"groups", config_group},     {"rights", config_right},
		{"send_ids", config_ids},     {"send_ext_ids", config_ids},
	};
	size_t i;

	/* Lists: a key given again (or a continuation line) adds to it. */
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(key, keys[i].key) == 0)
			return config_each(p, key, value, keys[i].fn);
	return config_error(p,
			    "[rule %s]: unknown key '%s' (known: interfaces "
			    "users groups rights send_ids send_ext_ids)",
			    policy_rule_name(p->rule), key);
}

/* ---- [interface NAME]: bus-off recovery ---- */

static int config_iface_begin(struct config_parse *p, const char *name)
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

static int config_iface_key(struct config_parse *p, const char *key,
			    const char *value)
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
		if (config_uint(value, UINT32_MAX, &v) < 0 || v == 0)
			return config_error(p,
					    "restart-ms is a number of "
					    "milliseconds above 0, not \"%s\"",
					    value);
		bp->restart_ms = v;
		*set |= CONFIG_SET_RESTART_MS;
	} else if (strcmp(key, "restart-delay-ms") == 0) {
		if (config_uint(value, 3600000, &v) < 0)
			return config_error(p,
					    "restart-delay-ms is 0 to 3600000 "
					    "milliseconds, not \"%s\"",
					    value);
		bp->delay_ms = v;
		*set |= CONFIG_SET_DELAY;
	} else if (strcmp(key, "max-restarts-per-minute") == 0) {
		if (config_uint(value, BUSOFF_MAX_PER_MINUTE, &v) < 0)
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
static int config_iface_check(struct config_parse *p, char *err, size_t esize)
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
				    "[rule NAME], [interface NAME])",
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
