/*
 * [rule NAME]: an access rule, the model of which is policy.c. Users and
 * groups are looked up by name here, at load time. One the system does not
 * know is a warning with its line, not an error: the group "can" is made
 * when the package is installed, maybe after the file was written, and a
 * rule for it must not stop cand. The name is kept and looked up again at
 * every reload, so the rule matches once the user or group exists.
 */
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/config_parse.h"

/* Room for a user or group entry from getpwnam_r/getgrnam_r. */
#define CONFIG_RULE_NSS_BUF 16384
/* Frames a second: far above what any CAN bus carries (~20k at 1 Mbit/s). */
#define CONFIG_RULE_MAX_RATE 1000000

int config_rule_begin(struct config_parse *p, const char *name)
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
	p->rule_rate = p->rule_burst = 0;
	return p->rule != NULL ? 1 : config_error(p, "out of memory");
}

static int config_rule_iface(struct config_parse *p, const char *key,
			     char *item)
{
	(void)key;
	if (strlen(item) >= 64)
		return config_error(p, "interfaces: '%s' is too long", item);
	if (policy_rule_add_iface(p->rule, item) < 0)
		return config_error(p, "out of memory");
	return 1;
}

static int config_rule_digits(const char *s)
{
	for (; *s != '\0'; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

/* The uid or gid of a name, as the system knows it now; 0 or -ENOENT. */
static int config_rule_lookup(const char *name, int group, unsigned *id)
{
	char buf[CONFIG_RULE_NSS_BUF];
	struct passwd pw, *pwp = NULL;
	struct group gr, *grp = NULL;

	if (group) {
		if (getgrnam_r(name, &gr, buf, sizeof(buf), &grp) != 0 ||
		    grp == NULL)
			return -ENOENT;
		*id = grp->gr_gid;
	} else {
		if (getpwnam_r(name, &pw, buf, sizeof(buf), &pwp) != 0 ||
		    pwp == NULL)
			return -ENOENT;
		*id = pwp->pw_uid;
	}
	return 0;
}

/* One item of users or groups: "*", a number, or a name. */
static int config_rule_who(struct config_parse *p, const char *key, char *item,
			   int group)
{
	const char *what = group ? "group" : "user";
	unsigned long long v;
	unsigned id;
	int rc;

	if (strcmp(item, "*") == 0) {
		policy_rule_add_everyone(p->rule);
		return 1;
	}
	if (config_rule_digits(item)) {
		/* (uid_t)-1 and (gid_t)-1 mean "no change" to the kernel. */
		if (config_number(item, 0, &v) < 0 || v >= (uid_t)-1)
			return config_error(p, "%s: bad %cid %s", key, what[0],
					    item);
		id = (unsigned)v;
	} else if (config_rule_lookup(item, group, &id) < 0) {
		if (policy_rule_add_unknown(p->rule, group, item) < 0)
			return config_error(p, "out of memory");
		return config_warn(p,
				   "%s: no %s '%s' on this system (yet): "
				   "[rule %s] keeps the name and matches it "
				   "once it exists and cand is reloaded",
				   key, what, item, policy_rule_name(p->rule));
	}
	rc = group ? policy_rule_add_gid(p->rule, (gid_t)id)
		   : policy_rule_add_uid(p->rule, (uid_t)id);
	return rc < 0 ? config_error(p, "out of memory") : 1;
}

static int config_rule_user(struct config_parse *p, const char *key, char *item)
{
	return config_rule_who(p, key, item, 0);
}

static int config_rule_group(struct config_parse *p, const char *key,
			     char *item)
{
	return config_rule_who(p, key, item, 1);
}

/* ADDRESS or ADDRESS/PREFIX, IPv4 or IPv6, or "*" for any peer. */
static int config_rule_peer(struct config_parse *p, const char *key, char *item)
{
	struct peer_prefix pp;
	int rc = peer_prefix_parse(item, &pp);

	(void)key;
	if (rc == -ERANGE)
		return config_error(p,
				    "peers: '%s': the prefix length is too "
				    "long for the address",
				    item);
	if (rc < 0)
		return config_error(
			p,
			"peers: '%s' is not an IPv4 or IPv6 address "
			"or ADDRESS/PREFIX",
			item);
	return policy_rule_add_peer(p->rule, &pp) < 0
		       ? config_error(p, "out of memory")
		       : 1;
}

static int config_rule_right(struct config_parse *p, const char *key,
			     char *item)
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
static int config_rule_ids(struct config_parse *p, const char *key, char *item)
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

/* send_rate = N/s (or N), send_burst = N: the rule's token bucket. */
static int config_rule_budget(struct config_parse *p, const char *key,
			      const char *value)
{
	int is_rate = strcmp(key, "send_rate") == 0;
	char num[32];
	unsigned long long v;
	size_t len = strlen(value);

	if (is_rate && len > 2 && strcmp(value + len - 2, "/s") == 0)
		len -= 2;
	if (len >= sizeof(num))
		len = sizeof(num) - 1;
	memcpy(num, value, len);
	num[len] = '\0';
	if (config_number(num, 0, &v) < 0 || v < 1 || v > CONFIG_RULE_MAX_RATE)
		return config_error(
			p, "%s: '%s' is not %s from 1 to %u", key, value,
			is_rate ? "a number of frames a second (N/s)"
				: "a number of frames",
			CONFIG_RULE_MAX_RATE);
	if ((is_rate ? p->rule_rate : p->rule_burst) != 0)
		return config_error(p, "[rule %s]: %s is given twice",
				    policy_rule_name(p->rule), key);
	if (is_rate)
		p->rule_rate = (uint32_t)v;
	else
		p->rule_burst = (uint32_t)v;
	policy_rule_set_budget(p->rule, p->rule_rate, p->rule_burst);
	return 1;
}

int config_rule_key(struct config_parse *p, const char *key, const char *value)
{
	static const struct {
		const char *key;
		int (*fn)(struct config_parse *, const char *, char *);
	} keys[] = {
		{"interfaces", config_rule_iface},
		{"users", config_rule_user},
		{"groups", config_rule_group},
		{"peers", config_rule_peer},
		{"rights", config_rule_right},
		{"send_ids", config_rule_ids},
		{"send_ext_ids", config_rule_ids},
	};
	size_t i;

	if (strcmp(key, "send_rate") == 0 || strcmp(key, "send_burst") == 0)
		return config_rule_budget(p, key, value);
	/* Lists: a key given again (or a continuation line) adds to it. */
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(key, keys[i].key) == 0)
			return config_each(p, key, value, keys[i].fn);
	return config_error(p,
			    "[rule %s]: unknown key '%s' (known: interfaces "
			    "users groups peers rights send_ids send_ext_ids "
			    "send_rate send_burst)",
			    policy_rule_name(p->rule), key);
}
