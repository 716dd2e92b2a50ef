/*
 * Inside the cand.conf reader: what config.c's inih driver and the parser
 * of each kind of section (config_limits.c, config_rule.c,
 * config_iface.c) share. Nothing outside conf/config*.c includes this.
 */
#ifndef CAND_DAEMON_CONF_CONFIG_PARSE_H
#define CAND_DAEMON_CONF_CONFIG_PARSE_H

#include <stdio.h>

#include "conf/conf.h"

#define CONFIG_ERR_MAX 256

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
	uint32_t rule_rate, rule_burst;	   /* its send_rate, send_burst */
	struct busoff_policy *iface;	   /* the [interface NAME] being read */
	unsigned *iface_set;		   /* CONFIG_SET_* per busoff entry */
	unsigned *iface_line;		   /* its header line */
	unsigned limits_seen;		   /* bits: [limits] keys given */
	unsigned sc_seen;		   /* bits: [socketcand] keys given */
	unsigned watermark_line;	   /* where a watermark was set */
	unsigned err_line;
	char err[CONFIG_ERR_MAX];
};

/*
 * config.c. Key and section functions return 1 to go on, 0 on an error,
 * which config_error() records (the first, by line) and returns.
 */
int config_error(struct config_parse *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Records a warning "FILE:LINE: ..." in cfg->warnings; returns 1 (go on). */
int config_warn(struct config_parse *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A decimal number with an optional K or M (KiB, MiB) suffix. */
int config_number(const char *s, int sizes, unsigned long long *out);
/* A hexadecimal CAN id, with or without 0x, as can-utils writes them. */
int config_hex(const char *s, uint32_t max, uint32_t *out);
/* Splits a list on blanks and commas; calls fn for each item. */
int config_each(struct config_parse *p, const char *key, const char *value,
		int (*fn)(struct config_parse *, const char *key, char *item));

/* config_limits.c: [limits] */
int config_limits_key(struct config_parse *p, const char *key,
		      const char *value);

/* config_sc.c: [socketcand] */
int config_sc_key(struct config_parse *p, const char *key, const char *value);

/* config_rule.c: [rule NAME] */
int config_rule_begin(struct config_parse *p, const char *name);
int config_rule_key(struct config_parse *p, const char *key, const char *value);

/* config_isolate.c: [isolate] */
int config_isolate_key(struct config_parse *p, const char *key,
		       const char *value);

/* config_iface.c: [interface NAME] */
int config_iface_begin(struct config_parse *p, const char *name);
int config_iface_key(struct config_parse *p, const char *key,
		     const char *value);
/* After the whole file: keys that do not fit the section's mode. */
int config_iface_check(struct config_parse *p, char *err, size_t esize);

#endif
