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

/* ---- peer.c: network addresses ---- */

struct sockaddr_storage;

/* A peer's address; an IPv4-mapped IPv6 one is held as IPv4. */
struct peer_addr {
	int family;    /* AF_INET or AF_INET6 */
	uint8_t a[16]; /* network order; AF_INET uses the first 4 */
	uint16_t port; /* host order, for the log */
};

/* What a rule names peers by: an address and a prefix length. */
struct peer_prefix {
	int family; /* 0: any address ("*") */
	uint8_t a[16];
	unsigned bits;
};

int peer_from_sockaddr(const struct sockaddr *sa, socklen_t len,
		       struct peer_addr *out);
/* "10.0.0.1", "::1" */
void peer_format(const struct peer_addr *a, char *buf, size_t size);
/* "10.0.0.0/8", "::1", "*"; -EINVAL or -ERANGE. */
int peer_prefix_parse(const char *s, struct peer_prefix *out);
int peer_match(const struct peer_prefix *p, const struct peer_addr *a);
/* "ADDRESS", "ADDRESS:PORT", "[IPV6]:PORT" to listen on. */
int peer_endpoint_parse(const char *s, uint16_t defport,
			struct sockaddr_storage *ss, socklen_t *len);
/* "127.0.0.1:29536", "[::1]:29536" */
void peer_endpoint_format(const struct sockaddr *sa, char *buf, size_t size);

/* ---- who is asking ---- */

enum ident_kind {
	IDENT_LOCAL, /* a Unix socket peer: SO_PEERCRED */
	IDENT_PEER,  /* a network peer (socketcand over TCP): its address */
};

struct ident {
	enum ident_kind kind;
	/* IDENT_LOCAL; a network peer has none (-1) and is never root. */
	uid_t uid;
	gid_t gid;
	pid_t pid;
	gid_t *groups; /* gid and the uid's groups from the system */
	size_t n_groups;
	struct peer_addr peer; /* IDENT_PEER */
};

/* Room for "uid 4294967295" or "peer " and an IPv6 address. */
#define IDENT_WHO_MAX 64

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
/* Network peers the rule applies to ("*": any); users never match them. */
int policy_rule_add_peer(struct policy_rule *r, const struct peer_prefix *p);
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

/*
 * The caller's groups from the system (getgrouplist), at connect and
 * reload; nothing for a network peer.
 */
int policy_load_groups(struct ident *id);
/* "uid 1000" or "peer 10.0.0.1": who, in logs and details. */
void policy_who(const struct ident *id, char *buf, size_t size);
/* 1 if some rule applies to id at all (root: always). */
int policy_admits(const struct policy *p, const struct ident *id);
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

/* ---- config_sc.c: [socketcand], the TCP front-end (sc/) ---- */

#define SC_CONF_PORT	    29536 /* socketcand's */
#define SC_CONF_BEACON_PORT 42000 /* socketcand's discovery beacon */

struct sc_endpoint {
	struct sockaddr_storage ss;
	socklen_t len;
};

struct sc_conf {
	struct sc_endpoint *listen; /* none: only what systemd passes */
	size_t n_listen;
	char **ifaces; /* fnmatch(3) patterns; none: every CAN interface */
	size_t n_ifaces;
	unsigned max_conns;    /* socketcand connections at once */
	unsigned max_per_peer; /* of them from one address */
	int beacon;	       /* the discovery beacon is on */
	struct sc_endpoint beacon_to;
	unsigned beacon_ms;
	char beacon_name[64]; /* "": the host name */
	char beacon_desc[128];
};

/* What the front-end does without a [socketcand] section. */
void config_sc_defaults(struct sc_conf *c);
/* 1 if the front-end offers ifname to its peers. */
int config_sc_offers(const struct sc_conf *c, const char *ifname);
void config_sc_free(struct sc_conf *c);

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
