/*
 * Access policy. Rules from the config (config_rule.c builds them) grant
 * rights on interfaces to users and groups, and to network peers by
 * address; a caller is a struct ident (for a local client, who
 * SO_PEERCRED says it is, with its groups read from the system; for a
 * network peer, its address). Nothing is granted by default except to
 * local root; a network peer is never root and no user rule matches it.
 * policy_check() and policy_check_frames() are the only places that
 * decide, so a new right or rule kind is a change to this file alone.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"

struct policy_ids {
	uint32_t lo, hi; /* lo..hi, or (id & hi) == (lo & hi) */
	int is_mask;
};

struct policy_rule {
	char *name;
	unsigned line;
	char **ifaces; /* fnmatch(3) patterns; "*" also matches channel "" */
	size_t n_ifaces;
	uid_t *uids;
	size_t n_uids;
	gid_t *gids;
	size_t n_gids;
	int everyone;
	struct peer_prefix *peers;
	size_t n_peers;
	/*
	 * Users [0] and groups [1] not on the system when the file was read:
	 * kept so that the rule stands, resolved at the next reload.
	 */
	char **unknown[2];
	size_t n_unknown[2];
	unsigned rights;		/* POLICY_RIGHT_BIT()s */
	uint32_t send_rate, send_burst; /* frames/s and bucket size; 0: none */
	/* Without any id list, send covers every id (and error frames). */
	int id_limited;
	struct policy_ids *ids[2]; /* [0] 11-bit ids, [1] 29-bit ids */
	size_t n_ids[2];
};

struct policy {
	struct policy_rule **rules;
	size_t n_rules;
};

static const char *const policy_names[] = {
	[RIGHT_NONE] = "none",	     [RIGHT_READ] = "read",
	[RIGHT_SEND] = "send",	     [RIGHT_PERIODIC] = "periodic",
	[RIGHT_MONITOR] = "monitor", [RIGHT_CONFIGURE] = "configure",
	[RIGHT_ADMIN] = "admin",     [RIGHT_OPEN] = "open",
};

/* What binding a channel needs: a right that uses one. */
#define POLICY_OPEN_BITS                                                       \
	(POLICY_RIGHT_BIT(RIGHT_READ) | POLICY_RIGHT_BIT(RIGHT_SEND) |         \
	 POLICY_RIGHT_BIT(RIGHT_PERIODIC) | POLICY_RIGHT_BIT(RIGHT_MONITOR))

const char *policy_right_name(enum policy_right right)
{
	if ((size_t)right < sizeof(policy_names) / sizeof(policy_names[0]))
		return policy_names[right];
	return "?";
}

int policy_right_from_name(const char *name)
{
	int r;

	/* Only the rights a rule can grant; "none" and "open" are not. */
	for (r = RIGHT_READ; r <= RIGHT_ADMIN; r++)
		if (strcmp(name, policy_names[r]) == 0)
			return r;
	return -EINVAL;
}

/* ---- the model ---- */

static int policy_grow(void *arrayp, size_t n, size_t size)
{
	void **array = arrayp;
	void *p = realloc(*array, (n + 1) * size);

	if (p == NULL)
		return -ENOMEM;
	*array = p;
	return 0;
}

struct policy *policy_new(void)
{
	return calloc(1, sizeof(struct policy));
}

static void policy_rule_free(struct policy_rule *r)
{
	size_t i;

	for (i = 0; i < r->n_ifaces; i++)
		free(r->ifaces[i]);
	free(r->ifaces);
	free(r->uids);
	free(r->gids);
	free(r->peers);
	for (i = 0; i < r->n_unknown[0]; i++)
		free(r->unknown[0][i]);
	for (i = 0; i < r->n_unknown[1]; i++)
		free(r->unknown[1][i]);
	free(r->unknown[0]);
	free(r->unknown[1]);
	free(r->ids[0]);
	free(r->ids[1]);
	free(r->name);
	free(r);
}

void policy_free(struct policy *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n_rules; i++)
		policy_rule_free(p->rules[i]);
	free(p->rules);
	free(p);
}

size_t policy_n_rules(const struct policy *p)
{
	return p != NULL ? p->n_rules : 0;
}

struct policy_rule *policy_rule_at(struct policy *p, size_t i)
{
	return i < policy_n_rules(p) ? p->rules[i] : NULL;
}

const char *policy_rule_name(const struct policy_rule *r)
{
	return r->name;
}

unsigned policy_rule_line(const struct policy_rule *r)
{
	return r->line;
}

struct policy_rule *policy_add_rule(struct policy *p, const char *name,
				    unsigned line)
{
	struct policy_rule *r;

	if (policy_grow(&p->rules, p->n_rules, sizeof(*p->rules)) < 0)
		return NULL;
	r = calloc(1, sizeof(*r));
	if (r == NULL || (r->name = strdup(name)) == NULL) {
		free(r);
		return NULL;
	}
	r->line = line;
	p->rules[p->n_rules++] = r;
	return r;
}

int policy_rule_add_iface(struct policy_rule *r, const char *pattern)
{
	char *s;

	if (policy_grow(&r->ifaces, r->n_ifaces, sizeof(*r->ifaces)) < 0 ||
	    (s = strdup(pattern)) == NULL)
		return -ENOMEM;
	r->ifaces[r->n_ifaces++] = s;
	return 0;
}

int policy_rule_add_uid(struct policy_rule *r, uid_t uid)
{
	if (policy_grow(&r->uids, r->n_uids, sizeof(*r->uids)) < 0)
		return -ENOMEM;
	r->uids[r->n_uids++] = uid;
	return 0;
}

int policy_rule_add_gid(struct policy_rule *r, gid_t gid)
{
	if (policy_grow(&r->gids, r->n_gids, sizeof(*r->gids)) < 0)
		return -ENOMEM;
	r->gids[r->n_gids++] = gid;
	return 0;
}

int policy_rule_add_unknown(struct policy_rule *r, int group, const char *name)
{
	int k = group ? 1 : 0;
	char *s;

	if (policy_grow(&r->unknown[k], r->n_unknown[k],
			sizeof(*r->unknown[k])) < 0 ||
	    (s = strdup(name)) == NULL)
		return -ENOMEM;
	r->unknown[k][r->n_unknown[k]++] = s;
	return 0;
}

void policy_rule_set_budget(struct policy_rule *r, uint32_t rate,
			    uint32_t burst)
{
	r->send_rate = rate;
	r->send_burst = burst;
}

void policy_rule_add_everyone(struct policy_rule *r)
{
	r->everyone = 1;
}

int policy_rule_add_peer(struct policy_rule *r, const struct peer_prefix *p)
{
	if (policy_grow(&r->peers, r->n_peers, sizeof(*r->peers)) < 0)
		return -ENOMEM;
	r->peers[r->n_peers++] = *p;
	return 0;
}

void policy_rule_add_rights(struct policy_rule *r, unsigned bits)
{
	r->rights |= bits;
}

int policy_rule_add_ids(struct policy_rule *r, int extended, uint32_t lo,
			uint32_t hi, int is_mask)
{
	int k = extended ? 1 : 0;

	if (policy_grow(&r->ids[k], r->n_ids[k], sizeof(*r->ids[k])) < 0)
		return -ENOMEM;
	r->ids[k][r->n_ids[k]++] =
		(struct policy_ids){.lo = lo, .hi = hi, .is_mask = is_mask};
	r->id_limited = 1;
	return 0;
}

int policy_rule_validate(const struct policy_rule *r, char *why, size_t size)
{
	const char *missing = NULL;

	if (r->n_ifaces == 0)
		missing = "interfaces";
	else if (r->n_uids == 0 && r->n_gids == 0 && !r->everyone &&
		 r->n_peers == 0 && r->n_unknown[0] == 0 &&
		 r->n_unknown[1] == 0)
		missing = "users, groups or peers";
	else if (r->rights == 0)
		missing = "rights";
	if (missing != NULL) {
		snprintf(why, size, "[rule %s] has no %s", r->name, missing);
		return -EINVAL;
	}
	if (r->id_limited && !(r->rights & POLICY_RIGHT_BIT(RIGHT_SEND))) {
		snprintf(why, size,
			 "[rule %s] limits send ids but does not grant 'send'",
			 r->name);
		return -EINVAL;
	}
	if (r->send_burst != 0 && r->send_rate == 0) {
		snprintf(why, size,
			 "[rule %s] gives send_burst without send_rate",
			 r->name);
		return -EINVAL;
	}
	if (r->send_rate != 0 &&
	    !(r->rights &
	      (POLICY_RIGHT_BIT(RIGHT_SEND) | POLICY_RIGHT_BIT(RIGHT_PERIODIC) |
	       POLICY_RIGHT_BIT(RIGHT_ADMIN)))) {
		snprintf(why, size,
			 "[rule %s] gives a send_rate but grants neither "
			 "'send' nor 'periodic'",
			 r->name);
		return -EINVAL;
	}
	return 0;
}

/* Only a local uid 0: a peer's uid means nothing. */
static int policy_root(const struct ident *c)
{
	return c->kind == IDENT_LOCAL && c->uid == 0;
}

static int policy_subject(const struct policy_rule *r, const struct ident *c)
{
	size_t i, j;

	if (c->kind == IDENT_PEER) {
		for (i = 0; i < r->n_peers; i++)
			if (peer_match(&r->peers[i], &c->peer))
				return 1;
		return 0;
	}
	if (r->everyone)
		return 1;
	for (i = 0; i < r->n_uids; i++)
		if (r->uids[i] == c->uid)
			return 1;
	for (i = 0; i < r->n_gids; i++) {
		if (r->gids[i] == c->gid)
			return 1;
		for (j = 0; j < c->n_groups; j++)
			if (r->gids[i] == c->groups[j])
				return 1;
	}
	return 0;
}

static int policy_iface(const struct policy_rule *r, const char *iface)
{
	size_t i;

	for (i = 0; i < r->n_ifaces; i++)
		if (fnmatch(r->ifaces[i], iface, 0) == 0)
			return 1;
	return 0;
}

static int policy_applies(const struct policy_rule *r, const struct ident *c,
			  const char *iface)
{
	return policy_subject(r, c) &&
	       policy_iface(r, iface != NULL ? iface : "");
}

/* ---- decisions ---- */

int policy_admits(const struct policy *p, const struct ident *c)
{
	size_t i;

	if (policy_root(c))
		return 1;
	for (i = 0; i < policy_n_rules(p); i++)
		if (policy_subject(p->rules[i], c))
			return 1;
	return 0;
}

int policy_allows(const struct policy *p, const struct ident *c,
		  const char *iface, enum policy_right right)
{
	unsigned want, have = 0;
	size_t i;

	if (right == RIGHT_NONE || policy_root(c))
		return 1;
	if (right == RIGHT_OPEN)
		want = POLICY_OPEN_BITS;
	else
		want = POLICY_RIGHT_BIT(right);
	want |= POLICY_RIGHT_BIT(RIGHT_ADMIN);
	for (i = 0; i < policy_n_rules(p); i++)
		if (policy_applies(p->rules[i], c, iface))
			have |= p->rules[i]->rights;
	return (have & want) != 0;
}

unsigned policy_rights(const struct policy *p, const struct ident *c,
		       const char *iface)
{
	const unsigned all = POLICY_RIGHT_BIT(RIGHT_ADMIN + 1) - 1 -
			     POLICY_RIGHT_BIT(RIGHT_NONE);
	unsigned have = 0;
	size_t i;

	if (policy_root(c))
		return all;
	for (i = 0; i < policy_n_rules(p); i++)
		if (policy_applies(p->rules[i], c, iface))
			have |= p->rules[i]->rights;
	return (have & POLICY_RIGHT_BIT(RIGHT_ADMIN)) ? all : have;
}

int policy_budget(const struct policy *p, const struct ident *c,
		  const char *iface, struct policy_budget *out)
{
	const struct policy_rule *r, *best = NULL;
	size_t i;

	/* The strictest budget of the rules that apply: budgets are limits. */
	for (i = 0; i < policy_n_rules(p); i++) {
		r = p->rules[i];
		if (r->send_rate == 0 || !policy_applies(r, c, iface))
			continue;
		if (best == NULL || r->send_rate < best->send_rate)
			best = r;
	}
	if (best == NULL)
		return 0;
	out->rate = best->send_rate;
	/* Unsaid: a tenth of a second's worth, so a short batch goes at once.
	 */
	out->burst = best->send_burst != 0 ? best->send_burst
					   : (best->send_rate + 9) / 10;
	out->rule = best->name;
	return 1;
}

/* "on "vcan0"", or "on every interface" for channel "". */
static void policy_where(char *buf, size_t size, const char *iface)
{
	if (iface == NULL)
		buf[0] = '\0';
	else if (iface[0] == '\0')
		snprintf(buf, size, " on every interface (channel \"\")");
	else
		snprintf(buf, size, " on \"%s\"", iface);
}

int policy_check(const struct policy *p, const struct ident *c,
		 const char *iface, enum policy_right right, char *detail,
		 size_t dsize)
{
	char where[64], who[IDENT_WHO_MAX];

	if (policy_allows(p, c, iface, right))
		return 0;
	policy_where(where, sizeof(where), iface);
	policy_who(c, who, sizeof(who));
	if (right == RIGHT_OPEN)
		detail_set(detail, dsize,
			   "%s has no right%s (opening a channel needs "
			   "'read', 'send', 'periodic' or 'monitor')",
			   who, where);
	else
		detail_set(detail, dsize, "%s lacks the '%s' right%s", who,
			   policy_right_name(right), where);
	return -EPERM;
}

static int policy_id_in(const struct policy_rule *r, int ext, uint32_t id)
{
	const struct policy_ids *v = r->ids[ext];
	size_t i;

	for (i = 0; i < r->n_ids[ext]; i++) {
		if (v[i].is_mask ? (id & v[i].hi) == (v[i].lo & v[i].hi)
				 : id >= v[i].lo && id <= v[i].hi)
			return 1;
	}
	return 0;
}

/*
 * 1 if some rule lets c put f on iface with right (send, or periodic for
 * a task's frames); *may: some rule grants the right at all. A rule's id
 * limits bound every way it lets frames out.
 */
static int policy_frame_ok(const struct policy *p, const struct ident *c,
			   const char *iface, const struct frame_desc *f,
			   enum policy_right right, int *may)
{
	const struct policy_rule *r;
	size_t i;

	for (i = 0; i < policy_n_rules(p); i++) {
		r = p->rules[i];
		if (!policy_applies(r, c, iface))
			continue;
		if (r->rights & POLICY_RIGHT_BIT(RIGHT_ADMIN))
			return 1;
		if (!(r->rights & POLICY_RIGHT_BIT(right)))
			continue;
		*may = 1;
		if (!r->id_limited)
			return 1;
		/* Error frames are not ids; only an unlimited rule covers them.
		 */
		if (!f->error && policy_id_in(r, f->extended ? 1 : 0, f->id))
			return 1;
	}
	return 0;
}

int policy_check_frames(const struct policy *p, const struct ident *c,
			const char *channel, const struct frame_desc *frames,
			size_t n, size_t first, enum policy_right right,
			char *detail, size_t dsize)
{
	const char *name = policy_right_name(right);
	const struct frame_desc *f;
	const char *iface;
	char where[64], who[IDENT_WHO_MAX];
	size_t i;
	int may;

	if (policy_root(c))
		return 0;
	for (i = first; i < n; i++) {
		f = &frames[i];
		iface = channel[0] != '\0' ? channel : f->ifname;
		/* No interface: the send refuses it before the bus anyway. */
		if (iface == NULL || iface[0] == '\0')
			continue;
		may = 0;
		if (policy_frame_ok(p, c, iface, f, right, &may))
			continue;
		policy_where(where, sizeof(where), iface);
		policy_who(c, who, sizeof(who));
		if (!may)
			detail_set(detail, dsize, "%s lacks the '%s' right%s",
				   who, name, where);
		else if (f->error)
			detail_set(detail, dsize,
				   "frame %zu: %s lacks the '%s' right for "
				   "error frames%s (its send is limited to "
				   "some ids)",
				   i, who, name, where);
		else
			detail_set(detail, dsize,
				   "frame %zu: %s lacks the '%s' right for "
				   "%s id 0x%X%s",
				   i, who, name,
				   f->extended ? "extended" : "standard",
				   (unsigned)f->id, where);
		return -EPERM;
	}
	return 0;
}
