/*
 * conf/: what cand.conf says and who may do what. The configuration file
 * (config*.c, through inih) and the access policy (policy.c), which
 * decides for a caller's identity, never for a connection: any front-end
 * asks it the same way.
 */
#ifndef CAND_DAEMON_CONF_CONF_H
#define CAND_DAEMON_CONF_CONF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "can/can.h"

/* ---- who is asking ---- */

enum ident_kind {
	IDENT_LOCAL, /* a Unix socket peer: SO_PEERCRED */
	/* A network peer (socketcand over TCP) will add its address. */
};

struct ident {
	enum ident_kind kind;
	uid_t uid;
	gid_t gid;
	pid_t pid;
	gid_t *groups; /* gid and the uid's groups from the system */
	size_t n_groups;
};

/* ---- policy.c ---- */

enum policy_right {
	RIGHT_NONE,	 /* anyone connected */
	RIGHT_READ,	 /* receive frames */
	RIGHT_SEND,	 /* put frames on the bus (maybe only some ids) */
	RIGHT_PERIODIC,	 /* BCM periodic transmit tasks */
	RIGHT_MONITOR,	 /* BCM receive monitors */
	RIGHT_CONFIGURE, /* bitrate, restart */
	RIGHT_ADMIN,	 /* all of the above, send without id limits */
	RIGHT_OPEN,	 /* bind a channel: any of read/send/periodic/monitor */
};
#define POLICY_RIGHT_BIT(r) (1u << (r))

const char *policy_right_name(enum policy_right right);
/* The right called name, or -EINVAL. */
int policy_right_from_name(const char *name);

/* The rules model; config_rule.c builds it, policy.c matches against it. */
struct policy_rule;
struct policy *policy_new(void);
void policy_free(struct policy *p);
size_t policy_n_rules(const struct policy *p);
struct policy_rule *policy_add_rule(struct policy *p, const char *name,
				    unsigned line);
int policy_rule_add_iface(struct policy_rule *r, const char *pattern);
int policy_rule_add_uid(struct policy_rule *r, uid_t uid);
int policy_rule_add_gid(struct policy_rule *r, gid_t gid);
void policy_rule_add_everyone(struct policy_rule *r);
/* A user or group name the system does not know (yet): kept, not matched. */
int policy_rule_add_unknown(struct policy_rule *r, int group, const char *name);
/* send_rate frames a second, send_burst at once (token bucket). */
void policy_rule_set_budget(struct policy_rule *r, uint32_t rate,
			    uint32_t burst);
void policy_rule_add_rights(struct policy_rule *r, unsigned bits);
/* Ids this rule lets its subjects send: lo..hi, or (id & hi) == (lo & hi). */
int policy_rule_add_ids(struct policy_rule *r, int extended, uint32_t lo,
			uint32_t hi, int is_mask);
/* 0, or -EINVAL with why when the rule misses something. */
int policy_rule_validate(const struct policy_rule *r, char *why, size_t size);
const char *policy_rule_name(const struct policy_rule *r);
unsigned policy_rule_line(const struct policy_rule *r);
struct policy_rule *policy_rule_at(struct policy *p, size_t i);

/* The caller's groups from the system (getgrouplist), at connect and reload. */
int policy_load_groups(struct ident *id);
/*
 * The decisions, for rules p (NULL: none, only root may do anything).
 * Every right id has on iface (admin expanded); all of them for root.
 */
unsigned policy_rights(const struct policy *p, const struct ident *id,
		       const char *iface);
/* 1 if id has right on iface ("" is the all-interfaces channel). */
int policy_allows(const struct policy *p, const struct ident *id,
		  const char *iface, enum policy_right right);
/* 0, or -EPERM with a detail naming the missing right. */
int policy_check(const struct policy *p, const struct ident *id,
		 const char *iface, enum policy_right right, char *detail,
		 size_t dsize);
/*
 * Every frame from index first on, before any goes out through right
 * (RIGHT_SEND, or RIGHT_PERIODIC for a task's): 0, or -EPERM naming the
 * frame, its id and the interface (a frame's own on the "" channel).
 */
int policy_check_frames(const struct policy *p, const struct ident *id,
			const char *channel, const struct frame_desc *frames,
			size_t n, size_t first, enum policy_right right,
			char *detail, size_t dsize);

/* A send budget: the token bucket of the rule that gave it. */
struct policy_budget {
	uint32_t rate;	  /* frames a second */
	uint32_t burst;	  /* frames at once: the bucket's size */
	const char *rule; /* its name, valid while the policy is */
};

/*
 * The send budget of id on iface: 1 and *out when one of the rules that
 * apply gives one (the lowest rate of them), 0 when sends are unbounded.
 * Root too: a budget protects the bus, not a right.
 */
int policy_budget(const struct policy *p, const struct ident *id,
		  const char *iface, struct policy_budget *out);

/* ---- config*.c: etc/cand.conf, one file per kind of section ---- */

/* Bus-off recovery of one interface, from cand.conf; ops/busoff.c. */
enum busoff_mode {
	BUSOFF_KERNEL = 1, /* the kernel restarts after restart_ms */
	BUSOFF_CAND,	   /* cand restarts after delay_ms, rate-limited */
	BUSOFF_NONE,	   /* stays bus-off until someone restarts it */
};

/* Restarts a minute cand.conf may allow: about one a second at most. */
#define BUSOFF_MAX_PER_MINUTE 60

struct busoff_policy {
	char ifname[IFNAMSIZ];
	enum busoff_mode mode;
	uint32_t restart_ms;	 /* BUSOFF_KERNEL */
	uint32_t delay_ms;	 /* BUSOFF_CAND */
	unsigned max_per_minute; /* BUSOFF_CAND; 0: no limit */
};

#define CONFIG_DEFAULT_PATH CAND_SYSCONFDIR "/cand.conf"
void config_defaults(struct cand_config *cfg);
/*
 * Reads path into cfg (defaults first). 0, or -errno with err set to
 * "FILE:LINE: reason" (or "FILE: reason"); cfg is then left empty.
 */
int config_load(const char *path, struct cand_config *cfg, char *err,
		size_t esize);
/* Reads a config from a string (tests); name stands for the file. */
int config_load_string(const char *text, const char *name,
		       struct cand_config *cfg, char *err, size_t esize);
void config_free(struct cand_config *cfg);
/* The [interface NAME] bus-off policy of ifname, or NULL. */
const struct busoff_policy *config_busoff(const struct cand_config *cfg,
					  const char *ifname);

#endif
